import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { GraphApplicationRecord, GraphServicePrincipalRecord } from "../azure/graph";
import type { ApiDirectory, ResourceApi, TenantApp } from "../cli/adopt/facts";
import { inexpressible } from "../cli/adopt/faithful";
import { NameAllocator, slugOf } from "../cli/adopt/names";
import { assembleReport, type ImportReport } from "../cli/adopt/report";
import { renderStackYaml } from "../cli/adopt/renderYaml";
import { appIdsPerFilter, filterProblem, maxFilterLength, selectionOf } from "../cli/adopt/selection";
import { stackTarget, writeStack } from "../cli/adopt/stackTarget";
import { mapApplication, type MappedApp } from "../cli/adopt/toConfig";
import { main } from "../cli/main";
import { graphCatalog } from "../infra/model/catalog";
import {
    DEFAULT_AUDIENCE,
    type EntraCloud,
    type FederatedContext,
    federatedEntryOf,
    GITHUB_ISSUER,
    managedIdentityClouds,
    resolveFederated,
} from "../infra/model/federated";
import { buildModel } from "../infra/model/model";
import { delegatedTier } from "../infra/model/privilege";
import { appNamePattern } from "../infra/model/schema";
import { unsafeCharacters } from "../rotation/text";
import { projectDir } from "./support/cli";

// --- fixtures -----------------------------------------------------------------------------------------------

const graphAppId = graphCatalog.resourceAppId;
const graphSp = "8b44c67b-91cc-4488-af9b-94a248357254";
const hrAppId = "6f2c1a0e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
const hrSp = "7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d";
const ghostAppId = "9e8d7c6b-5a49-4837-8261-504f3e2d1c0b";
const hrReportsRole = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9";
const hrImpersonation = "1b2c3d4e-5f60-4172-8384-a5b6c7d8e9f0";
const nothing = "deadbeef-dead-4eef-8ead-beefdeadbeef";
const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const owner = "3c2b1a09-8f7e-4d6c-9b5a-493827160504";

const role = (name: string) => graphCatalog.application[name]!.id;
const scope = (name: string) => graphCatalog.delegated[name]!.id;

const graphApi: ResourceApi = {
    appId: graphAppId,
    objectId: graphSp,
    displayName: "Microsoft Graph",
    roles: new Map(Object.entries(graphCatalog.application).map(([name, entry]) => [entry.id.toLowerCase(), name])),
    scopes: new Map(Object.entries(graphCatalog.delegated).map(([name, entry]) => [entry.id.toLowerCase(), name])),
};
const hrApi: ResourceApi = {
    appId: hrAppId,
    objectId: hrSp,
    displayName: "Contoso HR API",
    roles: new Map([[hrReportsRole, "Reports.Read"]]),
    scopes: new Map([[hrImpersonation, "user_impersonation"]]),
};

/** The tenant's APIs as read.ts's cache answers: Graph by object id only (its ids are named from the catalog), the ghost API has no service principal. */
const directory: ApiDirectory = {
    byAppId: (appId) => (appId === hrAppId ? hrApi : appId === ghostAppId ? null : undefined),
    byObjectId: (objectId) => (objectId === graphSp ? graphApi : objectId === hrSp ? hrApi : undefined),
};

let counter = 0;
function guid(prefix: string): string {
    counter++;
    return `${prefix}-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
}

function tenantApp(application: Partial<GraphApplicationRecord> = {}, more: Partial<Omit<TenantApp, "application">> = {}): TenantApp {
    const id = guid("0a0a0a0a");
    const appId = guid("1b1b1b1b");
    const servicePrincipal: GraphServicePrincipalRecord = { id: guid("2c2c2c2c"), appId, displayName: application.displayName ?? "HR Export" };
    return {
        application: { id, appId, displayName: "HR Export", ...application },
        owners: [owner],
        federated: [],
        servicePrincipal,
        servicePrincipalOwners: [owner],
        assignments: [],
        grants: [],
        ...more,
    };
}

function assignment(resourceId: string, appRoleId: string, sp = "2c2c2c2c-0000-4000-8000-000000000000") {
    return { id: `assign${guid("aaaaaaaa").replace(/-/g, "")}`, appRoleId, principalId: sp, resourceId };
}

function grant(resourceId: string, scopeText: string, consentType = "AllPrincipals") {
    return { id: `grant${guid("bbbbbbbb").replace(/-/g, "")}`, clientId: "2c2c2c2c-0000-4000-8000-000000000000", consentType, resourceId, scope: scopeText };
}

const context = { cloud: "global" as const, tenantId };
const at = new Date("2027-03-01T06:00:00Z");

function report(mapped: readonly MappedApp[]): ImportReport {
    return assembleReport(mapped, { project: "entra-rotor", stack: "adopted", at, tenantId, cloud: "global", listed: mapped.length });
}

// --- names ----------------------------------------------------------------------------------------------------

describe("slugOf and NameAllocator", () => {
    it("makes a slug of the config's name rule from any display name", () => {
        expect(slugOf("HR Export")).toBe("hr-export");
        expect(slugOf("  Payroll -- Sync!!  ")).toBe("payroll-sync");
        expect(slugOf("Café Münster")).toBe("cafe-munster");
        expect(slugOf("")).toBe("app");
        expect(slugOf("!!!---???")).toBe("app");
        expect(slugOf("Личный кабинет")).toBe("app");
        expect(slugOf("経費精算")).toBe("app");
        expect(slugOf("365 Mailer")).toBe("app-365-mailer");
        expect(slugOf("X")).toBe("x-app");
        const long = "Quarterly Financial Reporting Export Service ".repeat(5).slice(0, 200);
        const slug = slugOf(long);
        expect(slug.length).toBeLessThanOrEqual(40);
        expect(slug).toMatch(appNamePattern);
        for (const name of ["", "!!!", "Личный", "1", "a", "ab", "-a-", "9".repeat(200), "a-".repeat(100), "Z".repeat(41), `${"a".repeat(39)}-b`, "\u202Eevil\n"]) {
            expect(slugOf(name), JSON.stringify(name)).toMatch(appNamePattern);
        }
    });

    it("hands out unique names in the order asked, each satisfying the rule", () => {
        const names = new NameAllocator();
        expect(names.allocate("HR Export")).toBe("hr-export");
        expect(names.allocate("HR Export")).toBe("hr-export-2");
        expect(names.allocate("hr export")).toBe("hr-export-3");
        expect(names.allocate("")).toBe("app");
        expect(names.allocate("???")).toBe("app-2");
        expect(names.allocate("Личный кабинет")).toBe("app-3");
        // A 40-character slug makes room for its suffix, never breaking the rule.
        const long = "a".repeat(200);
        expect(names.allocate(long)).toBe("a".repeat(40));
        expect(names.allocate(long)).toBe(`${"a".repeat(38)}-2`);
        for (let i = 3; i <= 12; i++) expect(names.allocate(long)).toMatch(appNamePattern);
        expect(names.allocate(long)).toBe(`${"a".repeat(37)}-13`);
    });

    it("never repeats a name and never breaks the rule (property)", () => {
        fc.assert(
            fc.property(fc.array(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "grapheme", maxLength: 200 }), fc.constantFrom("HR Export", "hr-export", "hr-export-2", "")), { maxLength: 40 }), (displayNames) => {
                const names = new NameAllocator();
                const given = displayNames.map((d) => names.allocate(d));
                expect(new Set(given).size).toBe(given.length);
                for (const name of given) expect(name).toMatch(appNamePattern);
            }),
        );
    });
});

// --- selection ------------------------------------------------------------------------------------------------

describe("selectionOf and filterProblem", () => {
    const ids = Array.from({ length: 31 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`);

    it("reads every application when nothing is selected", () => {
        expect(selectionOf({})).toEqual({ selection: {} });
    });

    it("turns --app-id lists into `appId in (...)` filters of at most 15 ids, lowercased and without repeats", () => {
        const upper = ids.map((id, i) => (i % 2 === 0 ? id.toUpperCase() : id));
        const result = selectionOf({ appId: [upper.slice(0, 10).join(","), ...upper.slice(10), ids[3]!.toUpperCase()] });
        expect("selection" in result).toBe(true);
        const filters = (result as { selection: { filters: string[] } }).selection.filters;
        expect(filters).toHaveLength(3);
        expect(filters[0]).toBe(`appId in (${ids.slice(0, 15).map((id) => `'${id}'`).join(",")})`);
        expect(filters[1]).toBe(`appId in (${ids.slice(15, 30).map((id) => `'${id}'`).join(",")})`);
        expect(filters[2]).toBe(`appId in ('${ids[30]}')`);
        for (const filter of filters) expect(filter.match(/'/g)!.length / 2).toBeLessThanOrEqual(appIdsPerFilter);
    });

    it("refuses ids that are not GUIDs, without printing control characters", () => {
        const result = selectionOf({ appId: [ids[0]!, "not-a-guid", "evil\u001b[2J\u202e"] });
        expect("problems" in result).toBe(true);
        const text = (result as { problems: string[] }).problems.join("\n");
        expect(text).toContain("2 are not");
        expect(text).toContain("not-a-guid");
        expect(text).not.toMatch(unsafeCharacters);
        expect(selectionOf({ appId: [" , "] })).toEqual({ problems: ["--app-id names no client id"] });
    });

    it("refuses --app-id and --filter together", () => {
        const result = selectionOf({ appId: [ids[0]!], filter: "startswith(displayName,'HR')" });
        expect((result as { problems: string[] }).problems.join("\n")).toMatch(/--app-id and --filter/);
    });

    it("refuses filters with control or invisible characters, or too long, without echoing them", () => {
        const hostile = ["startswith(displayName,'HR')\n\u001b[31mOK", "displayName eq 'x\u202e'", "displayName eq '\u0000'", `startswith(displayName,'${"a".repeat(maxFilterLength)}')`, "   "];
        for (const filter of hostile) {
            const problem = filterProblem(filter);
            expect(problem, JSON.stringify(filter)).toBeDefined();
            expect(problem).not.toMatch(unsafeCharacters);
            expect(problem).not.toMatch(/\\u|OK|'x/);
            if (filter.trim() !== "") expect(problem).not.toContain("displayName");
            const result = selectionOf({ filter });
            expect((result as { problems: string[] }).problems).toEqual([problem]);
        }
        expect(filterProblem(`${"a".repeat(maxFilterLength)}`)).toBeUndefined();
        expect(filterProblem(`${"a".repeat(maxFilterLength + 1)}`)).toMatch(/1025 characters; at most 1024/);
        expect(selectionOf({ filter: "startswith(displayName,'HR')" })).toEqual({ selection: { filters: ["startswith(displayName,'HR')"] } });
    });

    it("takes --owned-by as a GUID only, lowercased", () => {
        expect(selectionOf({ ownedBy: owner.toUpperCase() })).toEqual({ selection: { ownedBy: owner } });
        expect((selectionOf({ ownedBy: "alice@contoso.com" }) as { problems: string[] }).problems).toEqual([expect.stringMatching(/--owned-by takes the object id/)]);
    });

    it("refuses a hostile --filter on the command line before reading anything, and never prints it", async () => {
        const out = { stdout: "", stderr: "" };
        const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), cwd: projectDir({}), now: () => at, env: {} };
        const code = await main(["import", "--stack", "adopted", "--filter", "x eq 'y'\u001b]0;pwned\u0007\u202e"], io);
        expect(code).toBe(1);
        expect(out.stderr).toMatch(/--filter contains the control or invisible character U\+001B/);
        expect(out.stderr + out.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
        expect(out.stderr).not.toContain("pwned");
        expect(fs.readdirSync(io.cwd)).toEqual(["Pulumi.yaml"]);
    });
});

// --- federated credentials back to their entries ----------------------------------------------------------------

describe("federatedEntryOf is the reverse of resolveFederated", () => {
    const aks = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5d3a3b4c-1e2f-4a5b-8c9d-0e1f2a3b4c5d/";
    const adoOrg = "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11";
    const principal = "5d3a3b4c-1e2f-4a5b-8c9d-0e1f2a3b4c5d";
    const cases: { what: string; issuer: string; subject: string; audience?: string; context?: FederatedContext; preset: string; entry?: Record<string, unknown> }[] = [
        { what: "GitHub environment", issuer: GITHUB_ISSUER, subject: "repo:contoso/payments-api:environment:production", preset: "github", entry: { github: { repo: "contoso/payments-api", environment: "production", immutableSubject: false } } },
        { what: "GitHub branch", issuer: GITHUB_ISSUER, subject: "repo:contoso/payments-api:ref:refs/heads/release/v2", preset: "github", entry: { github: { repo: "contoso/payments-api", branch: "release/v2", immutableSubject: false } } },
        { what: "GitHub tag", issuer: GITHUB_ISSUER, subject: "repo:contoso/payments-api:ref:refs/tags/v1.2.0", preset: "github", entry: { github: { repo: "contoso/payments-api", tag: "v1.2.0", immutableSubject: false } } },
        { what: "GitHub pull request", issuer: GITHUB_ISSUER, subject: "repo:contoso/payments-api:pull_request", preset: "github", entry: { github: { repo: "contoso/payments-api", pullRequest: true, immutableSubject: false } } },
        {
            what: "GitHub immutable subject",
            issuer: GITHUB_ISSUER,
            subject: "repo:contoso@123/payments-api@456:environment:production",
            preset: "github",
            entry: { github: { repo: "contoso/payments-api", ownerId: 123, repoId: 456, environment: "production" } },
        },
        { what: "GitHub with one id only", issuer: GITHUB_ISSUER, subject: "repo:contoso@123/payments-api:environment:production", preset: "custom" },
        { what: "GitHub job_workflow_ref subject", issuer: GITHUB_ISSUER, subject: "repo:contoso/x:job_workflow_ref:contoso/x/.github/workflows/a.yml@refs/heads/main", preset: "custom" },
        { what: "GitHub with another audience", issuer: GITHUB_ISSUER, subject: "repo:contoso/x:environment:prod", audience: "api://contoso-exchange", preset: "github" },
        { what: "Kubernetes", issuer: aks, subject: "system:serviceaccount:payments:api-runner", preset: "kubernetes", entry: { kubernetes: { issuer: aks, namespace: "payments", serviceAccount: "api-runner" } } },
        { what: "Kubernetes, not a DNS label", issuer: aks, subject: "system:serviceaccount:Payments:api", preset: "custom" },
        { what: "Azure DevOps (Entra issuer)", issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`, subject: `/eid1/c/pub/t/abc/a/def/sc/${adoOrg}/${principal}`, preset: "azureDevOps" },
        { what: "Azure DevOps (vstoken issuer)", issuer: `https://vstoken.dev.azure.com/${adoOrg}`, subject: "sc://contoso/payments/azure-prod", preset: "azureDevOps" },
        {
            what: "managed identity",
            issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`,
            subject: principal,
            context: { cloud: "global", tenantId },
            preset: "managedIdentity",
            entry: { managedIdentity: { principalId: principal, tenantId } },
        },
        { what: "managed identity (US Government)", issuer: `https://login.microsoftonline.us/${tenantId}/v2.0`, subject: principal, audience: managedIdentityClouds.usgovernment.audience, context: { cloud: "usgovernment", tenantId }, preset: "managedIdentity" },
        { what: "managed identity (China)", issuer: `https://login.partner.microsoftonline.cn/${tenantId}/v2.0`, subject: principal, audience: managedIdentityClouds.china.audience, context: { cloud: "china" }, preset: "managedIdentity" },
        { what: "managed identity of another tenant", issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`, subject: principal, context: { cloud: "global", tenantId: "11111111-2222-4333-8444-555555555555" }, preset: "custom" },
        { what: "managed identity with the wrong cloud's audience", issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`, subject: principal, audience: "api://AzureADTokenExchangeUSGov", preset: "custom" },
        { what: "GitLab", issuer: "https://gitlab.com", subject: "project_path:group/sub/project:ref_type:branch:ref:main", preset: "gitlab", entry: { gitlab: { project: "group/sub/project", branch: "main" } } },
        { what: "GitLab self-managed tag", issuer: "https://gitlab.example.com", subject: "project_path:group/project:ref_type:tag:ref:v1.0", preset: "gitlab", entry: { gitlab: { project: "group/project", tag: "v1.0", host: "https://gitlab.example.com" } } },
        {
            what: "Terraform Cloud",
            issuer: "https://app.terraform.io",
            subject: "organization:contoso:project:Default Project:workspace:prod:run_phase:apply",
            preset: "terraformCloud",
            entry: { terraformCloud: { organization: "contoso", project: "Default Project", workspace: "prod", runPhase: "apply" } },
        },
        { what: "Terraform Enterprise", issuer: "https://tfe.example.com", subject: "organization:o:project:p:workspace:w:run_phase:plan", preset: "terraformCloud" },
        { what: "a generic issuer", issuer: "https://issuer.example.com/tenant/42", subject: "anything:goes/here", audience: "api://custom", preset: "custom", entry: { issuer: "https://issuer.example.com/tenant/42", subject: "anything:goes/here", audience: "api://custom" } },
    ];

    for (const c of cases) {
        it(`${c.what}: ${c.preset}`, () => {
            const audience = c.audience ?? DEFAULT_AUDIENCE;
            const ctx = c.context ?? { cloud: "global" };
            const entry = federatedEntryOf({ name: "adopted-cred", issuer: c.issuer, subject: c.subject, audience, description: "from the portal" }, ctx);
            const resolved = resolveFederated([{ index: 0, entry }], "apps[0]", ctx);
            expect(resolved.issues.filter((i) => i.severity === "error")).toEqual([]);
            expect(resolved.credentials).toHaveLength(1);
            const model = resolved.credentials[0]!;
            expect({ issuer: model.issuer, subject: model.subject, audience: model.audience, preset: model.preset, description: model.description }).toEqual({
                issuer: c.issuer,
                subject: c.subject,
                audience,
                preset: c.preset,
                description: "from the portal",
            });
            // A name-only GitHub subject says so: no warning that ids are missing.
            expect(resolved.issues.filter((i) => i.path.endsWith(".repo"))).toEqual([]);
            if (c.entry) expect(entry).toEqual({ type: "federated", name: "adopted-cred", description: "from the portal", ...c.entry });
        });
    }

    it("holds for generated issuers, subjects and audiences (property)", () => {
        const part = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/), fc.string({ maxLength: 10 }), fc.constantFrom("main", "prod", "v1.0", "a:b", "x/y", "Default Project", "*", " x", "refs/heads/main"));
        const id = fc.oneof(fc.integer({ min: 1, max: 2 ** 53 }).map(String), fc.constantFrom("0", "007", "99999999999999999999"));
        const guidArb = fc.uuid().map((u) => u.toLowerCase());
        const subject = fc.oneof(
            fc.tuple(part, part, fc.constantFrom("environment:", "ref:refs/heads/", "ref:refs/tags/"), part).map(([o, r, k, t]) => `repo:${o}/${r}:${k}${t}`),
            fc.tuple(part, id, part, id, part).map(([o, oi, r, ri, t]) => `repo:${o}@${oi}/${r}@${ri}:environment:${t}`),
            fc.tuple(part, part).map(([o, r]) => `repo:${o}/${r}:pull_request`),
            fc.tuple(part, part).map(([n, s]) => `system:serviceaccount:${n}:${s}`),
            fc.tuple(part, part, fc.constantFrom("branch", "tag"), part).map(([g, p, k, r]) => `project_path:${g}/${p}:ref_type:${k}:ref:${r}`),
            fc.tuple(part, part, part, fc.constantFrom("plan", "apply")).map(([o, p, w, r]) => `organization:${o}:project:${p}:workspace:${w}:run_phase:${r}`),
            fc.tuple(part, part, part).map(([o, p, c]) => `sc://${o}/${p}/${c}`),
            fc.tuple(part, part, guidArb, guidArb).map(([t, a, x, y]) => `/eid1/c/pub/t/${t}/a/${a}/sc/${x}/${y}`),
            guidArb,
            fc.string({ minLength: 1, maxLength: 40 }),
        );
        const issuer = fc.oneof(
            fc.constantFrom(GITHUB_ISSUER, "https://gitlab.com", "https://app.terraform.io", "https://gitlab.example.com", "https://tfe.example.com/", "http://insecure.example.com"),
            guidArb.map((t) => `https://login.microsoftonline.com/${t}/v2.0`),
            guidArb.map((t) => `https://login.microsoftonline.us/${t}/v2.0`),
            guidArb.map((t) => `https://vstoken.dev.azure.com/${t}`),
            fc.tuple(part, part).map(([h, p]) => `https://${h}.example.com/${p}/`),
            fc.webUrl(),
        );
        const audience = fc.oneof(fc.constantFrom(DEFAULT_AUDIENCE, managedIdentityClouds.usgovernment.audience, managedIdentityClouds.china.audience), fc.string({ minLength: 1, maxLength: 20 }));
        const cloud = fc.constantFrom<EntraCloud>("global", "usgovernment", "china");
        const ctx = fc.record({ cloud, tenantId: fc.option(guidArb, { nil: undefined }) }).map((c): FederatedContext => (c.tenantId ? { cloud: c.cloud, tenantId: c.tenantId } : { cloud: c.cloud }));
        let expressible = 0;
        fc.assert(
            fc.property(issuer, subject, audience, ctx, (iss, sub, aud, context) => {
                const facts = { name: "adopted", issuer: iss, subject: sub, audience: aud };
                const entry = federatedEntryOf(facts, context);
                const resolved = resolveFederated([{ index: 0, entry }], "apps[0]", context);
                const failed = resolved.issues.some((i) => i.severity === "error");
                const custom = resolveFederated([{ index: 0, entry: { type: "federated", name: "adopted", issuer: iss, subject: sub, audience: aud } }], "apps[0]", context);
                const customFails = custom.issues.some((i) => i.severity === "error");
                // Whatever Entra holds that the stack can say at all, the entry says exactly.
                if (!customFails) {
                    expressible++;
                    expect(failed).toBe(false);
                }
                // And never something else: an entry either resolves to the same three values or is refused.
                if (!failed) {
                    const model = resolved.credentials[0]!;
                    expect([model.issuer, model.subject, model.audience]).toEqual([iss, sub, aud]);
                }
            }),
            { numRuns: 400 },
        );
        expect(expressible).toBeGreaterThan(100);
    });
});

// --- mapping an application ---------------------------------------------------------------------------------------

describe("mapApplication", () => {
    function richApp(): TenantApp {
        return tenantApp(
            {
                displayName: "HR Export",
                requiredResourceAccess: [
                    {
                        resourceAppId: graphAppId.toUpperCase(),
                        resourceAccess: [
                            { id: role("Mail.Send"), type: "Role" },
                            { id: role("Application.ReadWrite.All"), type: "Role" },
                            { id: scope("User.Read"), type: "Scope" },
                            { id: scope("Directory.AccessAsUser.All"), type: "Scope" },
                            { id: nothing, type: "Role" },
                        ],
                    },
                    {
                        resourceAppId: hrAppId,
                        resourceAccess: [
                            { id: hrReportsRole, type: "Role" },
                            { id: hrImpersonation, type: "Scope" },
                            { id: nothing, type: "Scope" },
                        ],
                    },
                    { resourceAppId: ghostAppId, resourceAccess: [{ id: nothing, type: "Role" }] },
                ],
            },
            {
                assignments: [
                    { ...assignment(graphSp, role("Mail.Send")), id: "mailSendAssignment01" },
                    { ...assignment(hrSp, hrReportsRole), id: "hrReportsAssignment1" },
                    { ...assignment(graphSp, role("AuditLog.Read.All")), id: "auditLogAssignment01" },
                ],
                grants: [
                    { ...grant(graphSp, "User.Read Directory.AccessAsUser.All"), id: "graphDelegatedGrant1" },
                    { ...grant(hrSp, ""), id: "hrDelegatedGrant0001" },
                    { ...grant(graphSp, "Mail.Read", "Principal"), id: "oneUsersGrant000001" },
                ],
            },
        );
    }

    it("names permissions from the catalog and the APIs' service principals, and takes consent as it is", () => {
        const mapped = mapApplication(richApp(), directory, context);
        expect(mapped.reasons).toEqual([]);
        const entry = mapped.entry!;
        expect(entry["permissions"]).toEqual([
            { api: "Microsoft Graph", application: ["Mail.Send", "Application.ReadWrite.All"], delegated: ["User.Read", "Directory.AccessAsUser.All"] },
            { api: hrAppId, application: ["Reports.Read"], delegated: ["user_impersonation"] },
        ]);
        expect(entry["adopt"]).toMatchObject({
            appRoleAssignments: [
                { api: "Microsoft Graph", permission: "Mail.Send", id: "mailSendAssignment01", resource: graphSp },
                { api: hrAppId, permission: "Reports.Read", id: "hrReportsAssignment1", resource: hrSp },
            ],
            delegatedGrants: [
                { api: "Microsoft Graph", id: "graphDelegatedGrant1" },
                { api: hrAppId, id: "hrDelegatedGrant0001" },
            ],
        });
        const acts = mapped.findings.filter((f) => f.level === "act").map((f) => f.message);
        const notes = mapped.findings.filter((f) => f.level === "note").map((f) => f.message);
        expect(acts.filter((m) => m.startsWith("NOT GRANTED"))).toEqual([
            expect.stringMatching(/^NOT GRANTED in the tenant: application permission Application\.ReadWrite\.All \(Microsoft Graph\): the first pulumi up grants admin consent/),
            expect.stringMatching(new RegExp(`^NOT GRANTED in the tenant: delegated permission user_impersonation \\(${hrAppId}\\): the first pulumi up adds it`)),
        ]);
        expect(notes).toContainEqual(expect.stringMatching(/^has AuditLog\.Read\.All on Microsoft Graph granted without requesting it/));
        expect(notes).toContainEqual(expect.stringMatching(/^has 1 consent of single users/));
    });

    it("keeps ids that name nothing out of the entry, as an ACT finding and a comment beside the entry", () => {
        const mapped = mapApplication(richApp(), directory, context);
        const acts = mapped.findings.filter((f) => f.level === "act").map((f) => f.message);
        expect(acts.filter((m) => m.includes(nothing))).toEqual([
            expect.stringMatching(new RegExp(`^requests a permission of Microsoft Graph that name nothing .*application permission ${nothing} \\(no such permission`)),
            expect.stringMatching(new RegExp(`^requests a permission of ${hrAppId} that name nothing .*delegated permission ${nothing} \\(no such permission on the API's service principal\\)`)),
            expect.stringMatching(new RegExp(`^requests a permission of ${ghostAppId} that name nothing .*the tenant has no service principal for this API`)),
        ]);
        expect(JSON.stringify(mapped.entry)).not.toContain(nothing);
        expect(JSON.stringify(mapped.entry)).not.toContain(ghostAppId);
        expect(mapped.comments.permissions.get(0)).toEqual([expect.stringContaining(`not named: application permission ${nothing}`)]);
        expect(mapped.comments.permissions.get(1)).toEqual([expect.stringContaining(`not named: delegated permission ${nothing}`)]);
        expect(mapped.comments.permissionsAfter).toEqual([expect.stringMatching(new RegExp(`^${ghostAppId}: not named: application permission ${nothing}`))]);
        expect(mapped.comments.app.filter((line) => line.startsWith("ACT: requests a permission"))).toHaveLength(3);

        const yaml = renderStackYaml(report([mapped]));
        const comments = yaml.split("\n").filter((line) => line.trim().startsWith("#"));
        expect(comments.filter((line) => line.includes(`not named: application permission ${nothing}`))).toHaveLength(2);
        expect(comments.filter((line) => line.includes(`not named: delegated permission ${nothing}`))).toHaveLength(1);
    });

    it("gives every tier-0 permission, application and delegated, an allowPrivileged entry with an empty justification", () => {
        const mapped = mapApplication(richApp(), directory, context);
        const expected = ["Application.ReadWrite.All", "Directory.AccessAsUser.All"];
        // The expectation comes from the catalog and the privilege rules, not from the code under test.
        expect(graphCatalog.application["Application.ReadWrite.All"]!.tier).toBe(0);
        expect(delegatedTier("Directory.AccessAsUser.All")).toBe(0);
        expect(graphCatalog.application["Mail.Send"]!.tier).not.toBe(0);
        expect(delegatedTier("User.Read")).not.toBe(0);
        expect(mapped.tier0).toEqual(expected);
        expect(mapped.entry!["allowPrivileged"]).toEqual(expected.map((permission) => ({ permission, justification: "" })));
        expect(mapped.findings).toContainEqual({ level: "act", message: expect.stringMatching(/^requests tier-0 permissions .*Application\.ReadWrite\.All, Directory\.AccessAsUser\.All/) });

        // A tier-0 delegated permission that is also a tier-0 application permission is allowed once, by name.
        const both = mapApplication(
            tenantApp({ requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: role("RoleManagement.ReadWrite.Directory"), type: "Role" }, { id: scope("RoleManagement.ReadWrite.Directory"), type: "Scope" }] }] }),
            directory,
            context,
        );
        expect(both.entry!["allowPrivileged"]).toEqual([{ permission: "RoleManagement.ReadWrite.Directory", justification: "" }]);

        // The entry plans once a person writes each justification, and not before.
        for (const app of [mapped, both]) {
            const apps: Record<string, unknown>[] = [{ name: "hr-export", ...app.entry }];
            const unjustified = buildModel({ project: "entra-rotor", stack: "adopted", values: { apps }, provider: { tenantId }, source: "Pulumi.adopted.yaml" }, at);
            expect(unjustified.issues.filter((i) => i.severity === "error").map((i) => i.path)).toEqual(
                (app.entry!["allowPrivileged"] as unknown[]).map((_, j) => `apps[0].allowPrivileged[${j}].justification`),
            );
            const justified = apps.map((a) => ({ ...a, allowPrivileged: (a["allowPrivileged"] as { permission: string }[]).map((p) => ({ permission: p.permission, justification: "Reads and writes what its runbook says, nothing else." })) }));
            const ok = buildModel({ project: "entra-rotor", stack: "adopted", values: { apps: justified }, provider: { tenantId }, source: "Pulumi.adopted.yaml" }, at);
            expect(ok.issues.filter((i) => i.severity === "error")).toEqual([]);
        }
    });

    it("says NOT GRANTED for requested delegated permissions without consent, and notes consent nobody requested", () => {
        const mapped = mapApplication(
            tenantApp(
                { requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: scope("User.Read"), type: "Scope" }, { id: scope("Mail.Read"), type: "Scope" }] }] },
                { assignments: [{ ...assignment(graphSp, role("Mail.Send")), id: "unrequestedMailSend" }], grants: [{ ...grant(hrSp, "user_impersonation"), id: "unrequestedHrGrant01" }] },
            ),
            directory,
            context,
        );
        expect(mapped.entry).toBeDefined();
        expect(mapped.findings).toEqual(
            expect.arrayContaining([
                { level: "note", message: expect.stringMatching(/^has Mail\.Send on Microsoft Graph granted without requesting it/) },
                { level: "note", message: expect.stringMatching(/^has delegated consent for all users on Contoso HR API \(6f2c1a0e.*\) \(user_impersonation\) without requesting/) },
                { level: "act", message: "NOT GRANTED in the tenant: delegated permissions User.Read, Mail.Read (Microsoft Graph): the first pulumi up grants them for all users of the tenant" },
            ]),
        );
        expect(mapped.entry!["adopt"]).toEqual({ application: expect.any(String), servicePrincipal: expect.any(String) });
        expect(mapped.comments.app).toContain("ACT: NOT GRANTED in the tenant: delegated permissions User.Read, Mail.Read (Microsoft Graph): the first pulumi up grants them for all users of the tenant");
    });

    it("leaves out an app whose delegated consent grants more than it requests, saying why", () => {
        const mapped = mapApplication(
            tenantApp({ requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: scope("User.Read"), type: "Scope" }] }] }, { grants: [grant(graphSp, "User.Read Mail.ReadWrite")] }),
            directory,
            context,
        );
        expect(mapped.entry).toBeUndefined();
        expect(mapped.reasons).toEqual([expect.stringMatching(/delegated consent for all users on Microsoft Graph also grants Mail\.ReadWrite, which it does not request.*pulumi up would revoke it/)]);
        const assembled = report([mapped]);
        expect(assembled.imported).toEqual([]);
        expect(assembled.leftOut.map((a) => a.reasons)).toEqual([mapped.reasons]);
    });

    it("reads a delegated consent's scopes without regard to case, as Entra does", () => {
        const mapped = mapApplication(
            tenantApp(
                { requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: scope("User.Read"), type: "Scope" }, { id: scope("Mail.Read"), type: "Scope" }] }] },
                { grants: [{ ...grant(graphSp, "user.read MAIL.READ"), id: "lowerCaseGrant000001" }] },
            ),
            directory,
            context,
        );
        expect(mapped.reasons).toEqual([]);
        expect(mapped.findings.filter((f) => f.level === "act")).toEqual([]);
        expect(mapped.findings).toContainEqual({ level: "note", message: expect.stringMatching(/writes user\.read, MAIL\.READ in another case/) });
        expect(mapped.entry!["adopt"]).toMatchObject({ delegatedGrants: [{ api: "Microsoft Graph", id: "lowerCaseGrant000001" }] });
    });

    const inexpressibleCases: { what: string; app: () => TenantApp; reason: RegExp }[] = [
        { what: "identifier URIs", app: () => tenantApp({ identifierUris: ["api://hr-export"] }), reason: /^identifier URIs \(1, e\.g\. api:\/\/hr-export\)/ },
        { what: "app roles", app: () => tenantApp({ appRoles: [{ id: "x", value: "Admin" }] }), reason: /^1 app role\(s\) it defines/ },
        { what: "optional claims", app: () => tenantApp({ optionalClaims: { idToken: [{ name: "email" }], accessToken: [], saml2Token: null } }), reason: /^optional claims/ },
        { what: "an exposed API", app: () => tenantApp({ api: { oauth2PermissionScopes: [{ id: "x" }] } }), reason: /^an exposed API with 1 delegated scope/ },
        { what: "personal accounts", app: () => tenantApp({ signInAudience: "AzureADandPersonalMicrosoftAccount" }), reason: /^sign-in audience AzureADandPersonalMicrosoftAccount/ },
        { what: "a gallery template", app: () => tenantApp({ applicationTemplateId: "8adf8e6e-67b2-4cf2-a259-e3dc5476c621" }), reason: /gallery template/ },
        { what: "implicit grant", app: () => tenantApp({ web: { implicitGrantSettings: { enableIdTokenIssuance: true } } }), reason: /^implicit grant/ },
        { what: "the stack's own tag", app: () => tenantApp({ tags: ["entra-rotor:stack=prod"] }), reason: /already managed by an entra-rotor stack/ },
        { what: "one API in two entries", app: () => tenantApp({ requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: scope("User.Read"), type: "Scope" }] }, { resourceAppId: graphAppId, resourceAccess: [{ id: role("Mail.Send"), type: "Role" }] }] }), reason: /in two entries/ },
        { what: "a flexible federated credential", app: () => tenantApp({}, { federated: [{ id: "f1", name: "flex", issuer: GITHUB_ISSUER, subject: null as never, audiences: [DEFAULT_AUDIENCE] }] }), reason: /flexible federated credential/ },
        { what: "two audiences", app: () => tenantApp({}, { federated: [{ id: "f2", name: "two", issuer: GITHUB_ISSUER, subject: "repo:a/b:pull_request", audiences: ["a", "b"] }] }), reason: /has 2 audiences/ },
        { what: "assignment required on the service principal", app: () => tenantApp({}, { servicePrincipal: { id: guid("2c2c2c2c"), appId: "x", appRoleAssignmentRequired: true } }), reason: /^its service principal has assignment required/ },
        { what: "a disabled service principal", app: () => tenantApp({}, { servicePrincipal: { id: guid("2c2c2c2c"), appId: "x", accountEnabled: false } }), reason: /sign-in disabled/ },
        { what: "service principal owners the app lacks", app: () => tenantApp({}, { servicePrincipalOwners: [owner, "99999999-9999-4999-8999-999999999999"] }), reason: /owners the application does not have \(99999999/ },
        { what: "no service principal", app: () => ({ ...tenantApp(), servicePrincipal: undefined as never }), reason: /^no service principal \(enterprise application\)/ },
        { what: "a display name with outer spaces", app: () => tenantApp({ displayName: " HR Export" }), reason: /display name with spaces at its start or end/ },
        { what: "no display name", app: () => tenantApp({ displayName: null }), reason: /^no display name$/ },
    ];
    for (const c of inexpressibleCases) {
        it(`leaves out an app with ${c.what}`, () => {
            const app = c.app();
            expect(inexpressible(app)).toEqual([expect.stringMatching(c.reason)]);
            const mapped = mapApplication(app, directory, context);
            expect(mapped.entry).toBeUndefined();
            expect(mapped.reasons).toEqual([expect.stringMatching(c.reason)]);
            const assembled = report([mapped, mapApplication(tenantApp({ displayName: "Fine" }), directory, context)]);
            expect(assembled.leftOut.map((a) => a.appId)).toEqual([app.application.appId.toLowerCase()]);
            expect(assembled.imported.map((a) => a.name)).toEqual(["fine"]);
            const yaml = renderStackYaml(assembled);
            expect(yaml).toContain(`(client id ${app.application.appId.toLowerCase()}, object id`);
            expect((parse(yaml) as { config: Record<string, unknown[]> }).config["entra-rotor:apps"]).toHaveLength(1);
        });
    }

    it("lists existing secrets and certificates by key id and date, never a value", () => {
        const mapped = mapApplication(
            tenantApp({
                passwordCredentials: [{ keyId: "4CB1C27C-5BCF-493A-9F5E-72BAD08D6BBC", displayName: "prod\u202e", startDateTime: null, endDateTime: "2027-08-28T06:00:00Z", hint: "abc", secretText: "never-this" } as never],
                keyCredentials: [{ keyId: "528eebba-92bd-4b22-bd18-904b51a380c6", displayName: "CN=hr", type: "AsymmetricX509Cert", usage: "Verify", endDateTime: null, key: "TUlJQ..." } as never],
            }),
            directory,
            context,
        );
        expect(mapped.entry!["existing"]).toEqual([{ keyId: "4cb1c27c-5bcf-493a-9f5e-72bad08d6bbc", kind: "secret", displayName: "prod\\u202e", expires: "2027-08-28T06:00:00Z" }]);
        expect(mapped.findings).toContainEqual({ level: "note", message: expect.stringMatching(/certificate 528eebba-92bd-4b22-bd18-904b51a380c6 has no end date/) });
        expect(JSON.stringify(mapped)).not.toMatch(/never-this|TUlJQ|"abc"/);
    });
});

// --- the stack file -------------------------------------------------------------------------------------------

/** Lines as YAML 1.1 readers (go-yaml among them) break them: NEL, LS and PS too. */
const yamlLines = (text: string) => text.split(/\r\n|\r|\n|\u0085|\u2028|\u2029/);
const quoted = String.raw`"(?:[^"\\]|\\.)*"`;
const scalar = `(?:${quoted}|true|false|-?\\d+|\\[(?:${quoted}(?:, ${quoted})*)?\\])`;
/** Every line that is not a comment: an indented key (the stack's own words), a list item, a quoted string; then perhaps a comment. */
const structural = new RegExp(`^ *(?:- )*(?:(?:[A-Za-z][A-Za-z0-9_-]*(?::[A-Za-z][A-Za-z0-9_-]*)?):(?: ${scalar})?|${scalar})(?: #.*)?$`);

function checkLines(yaml: string): void {
    for (const line of yamlLines(yaml)) {
        if (line === "" || /^ *#/.test(line)) continue;
        expect(line, JSON.stringify(line)).toMatch(structural);
    }
    expect(yaml.replace(/\n/g, "")).not.toMatch(unsafeCharacters);
}

describe("renderStackYaml", () => {
    const hostile = ["yes", "null", "0x1F", "1e3", "# comment", 'say "hi"', "--- x", "- item", "key: value", "~", "&anchor", "!tag", "'single'", "@at", "`tick`", "%percent", "{a: 1}", "[1]", "|", ">", "a #b", "no", "on", ".inf", "2027-03-01", "é ü 経費", "\\"];

    it("writes hostile display names, descriptions, tags and redirect URIs so that they parse back to exactly the entries", () => {
        const mapped = hostile.map((text) =>
            mapApplication(
                tenantApp({ displayName: text, description: text, notes: text, tags: [text, `${text}-2`], web: { redirectUris: [`https://hr.example.com/${encodeURIComponent(text)}?q=${text.replace(/[#\s]/g, "")}`] } }),
                directory,
                context,
            ),
        );
        const assembled = report(mapped);
        expect(assembled.leftOut.map((a) => `${a.displayName}: ${a.reasons.join("; ")}`)).toEqual([]);
        const yaml = renderStackYaml(assembled);
        const doc = parse(yaml) as { config: Record<string, unknown> };
        expect(doc.config["entra-rotor:apps"]).toEqual(assembled.imported.map((app) => app.entry));
        expect(doc.config["azuread:tenantId"]).toBe(tenantId);
        expect((doc.config["entra-rotor:apps"] as { displayName: string }[]).map((a) => a.displayName)).toEqual(hostile);
        checkLines(yaml);
    });

    it("keeps control and invisible characters inert in values and comments, even past the model's check", () => {
        const texts = ["line\nbreak", "# comment\nconfig: {}", "evil\u202eexe", "nel\u0085next", "ls\u2028- injected: true", "ps\u2029x", "bom\ufeff", "zw\u200bj", "esc\u001b[2J", "del\u007f", "tab\there", "cr\rx", '"quote"\n--- ', "--- "];
        // The model refuses these, so the report is built by hand: the renderer must hold on its own.
        const imported = texts.map((text, i) => ({
            name: `app-${i + 10}`,
            displayName: text,
            appId: `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            objectId: `20000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            servicePrincipal: `30000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            entry: { name: `app-${i + 10}`, displayName: text, tags: [text], redirectUris: [`https://x.example/${text}`], allowPrivileged: [{ permission: text, justification: "" }] },
            findings: [{ level: "act" as const, message: `ACT on ${text}` }],
            comments: { app: [`${text} (client id x), as the tenant holds it`, `ACT: ${text}`], permissions: new Map(), permissionsAfter: [`after ${text}`] },
            credentials: [],
            tier0: [text],
        }));
        const leftOut = texts.map((text, i) => ({
            displayName: text,
            appId: `40000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            objectId: `50000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
            reasons: [`because ${text}`],
            findings: [],
            credentials: [],
            tier0: [],
        }));
        const hand: ImportReport = { project: "entra-rotor", stack: "adopted", at: "2027-03-01T06:00:00Z", tenantId, cloud: "global", listed: 2 * texts.length, imported, leftOut };
        const yaml = renderStackYaml(hand);
        const doc = parse(yaml) as { config: Record<string, unknown> };
        expect(doc.config["entra-rotor:apps"]).toEqual(imported.map((app) => app.entry));
        expect(Object.keys(doc.config)).toEqual(["azuread:tenantId", "entra-rotor:apps"]);
        checkLines(yaml);
        // The comments show the characters as escapes.
        expect(yaml).toContain("# - evil\\u202eexe (client id 40000000-0000-4000-8000-000000000002");
        expect(yaml).toContain("# line\\nbreak (client id x), as the tenant holds it");
        expect(yaml).toContain("# ls\\u2028- injected: true (client id x)");
    });

    it("says where the tier-0 justifications go, and lists what was left out", () => {
        const mapped = mapApplication(
            tenantApp({ displayName: "Directory Admin", requiredResourceAccess: [{ resourceAppId: graphAppId, resourceAccess: [{ id: role("RoleManagement.ReadWrite.Directory"), type: "Role" }] }] }),
            directory,
            context,
        );
        const out = mapApplication(tenantApp({ displayName: "Exposes API", identifierUris: ["api://x"] }), directory, context);
        const yaml = renderStackYaml(report([mapped, out]));
        expect(yaml).toMatch(/justification: "" # tier 0: write why the app needs RoleManagement\.ReadWrite\.Directory/);
        expect(yaml).toMatch(/# Left out: 1 application the stack cannot declare/);
        expect(yaml).toMatch(/# - Exposes API \(client id [0-9a-f-]+, object id [0-9a-f-]+\): identifier URIs/);
        checkLines(yaml);
    });
});

// --- where the stack goes -------------------------------------------------------------------------------------

describe("stackTarget and writeStack", () => {
    it("targets Pulumi.<stack>.yaml of a new stack and writes it once", () => {
        const dir = projectDir({ dev: { config: {} } });
        const target = stackTarget(dir, "adopted", dir, false);
        expect(target).toEqual({ project: "entra-rotor", file: path.join(dir, "Pulumi.adopted.yaml") });
        expect(writeStack(target, "config: {}\n", dir, "adopted")).toBe("Pulumi.adopted.yaml");
        expect(fs.readFileSync(target.file, "utf8")).toBe("config: {}\n");
        expect(() => writeStack(target, "other", dir, "adopted")).toThrow(/appeared while rotor import ran/);
        expect(fs.readFileSync(target.file, "utf8")).toBe("config: {}\n");
    });

    for (const ext of ["yaml", "yml", "json"]) {
        it(`refuses an existing Pulumi.<stack>.${ext}, and a dangling link of that name; a dry run allows it`, () => {
            const dir = projectDir({});
            fs.writeFileSync(path.join(dir, `Pulumi.adopted.${ext}`), ext === "json" ? "{}" : "config: {}\n");
            expect(() => stackTarget(dir, "adopted", dir, false)).toThrow(new RegExp(`Pulumi\\.adopted\\.${ext} exists: stack adopted is already configured`));
            expect(stackTarget(dir, "adopted", dir, true).project).toBe("entra-rotor");

            const linked = projectDir({});
            fs.symlinkSync(path.join(os.tmpdir(), `rotor-nowhere-${process.pid}-${ext}`), path.join(linked, `Pulumi.adopted.${ext}`));
            expect(() => stackTarget(linked, "adopted", linked, false)).toThrow(new RegExp(`Pulumi\\.adopted\\.${ext} exists`));
            expect(fs.readdirSync(linked).sort()).toEqual([`Pulumi.adopted.${ext}`, "Pulumi.yaml"]);
        });
    }

    it("refuses a dangling link that appears after the checks", () => {
        const dir = projectDir({});
        const target = stackTarget(dir, "adopted", dir, false);
        const elsewhere = path.join(os.tmpdir(), `rotor-elsewhere-${process.pid}`);
        fs.symlinkSync(elsewhere, target.file);
        expect(() => writeStack(target, "config: {}\n", dir, "adopted")).toThrow(/appeared while rotor import ran/);
        expect(fs.existsSync(elsewhere)).toBe(false);
    });

    it("refuses a Pulumi.json project (its stacks are JSON), but a dry run serves it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-json-"));
        fs.writeFileSync(path.join(dir, "Pulumi.json"), JSON.stringify({ name: "entra-rotor", runtime: "nodejs" }));
        expect(() => stackTarget(dir, "adopted", dir, false)).toThrow(/this project's file is Pulumi\.json.*import with --dry-run/);
        expect(stackTarget(dir, "adopted", dir, true).project).toBe("entra-rotor");
    });

    it("writes beside a Pulumi.yml project as Pulumi.<stack>.yml, and refuses a directory without a project", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-yml-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yml"), "name: entra-rotor\nruntime: nodejs\n");
        expect(stackTarget(dir, "adopted", dir, false).file).toBe(path.join(dir, "Pulumi.adopted.yml"));
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-empty-"));
        expect(() => stackTarget(empty, "adopted", empty, false)).toThrow(/no Pulumi\.yaml/);
    });
});
