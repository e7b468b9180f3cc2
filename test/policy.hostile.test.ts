import * as fs from "node:fs";
import * as path from "node:path";
import {
    type PolicyResource,
    type ResourceValidationArgs,
    type ResourceValidationPolicy,
    type StackValidationArgs,
    type StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { graphCatalog } from "../infra/model/catalog";
import { PolicyConfigError, readKeyVaultConfig, readKeyVaultSourcesConfig, readLifetimeConfig, readPermissionsConfig } from "../policy/config";
import {
    applicationCertificateType,
    applicationPasswordType,
    certificateNotAfter,
    servicePrincipalCertificateType,
    servicePrincipalPasswordType,
    validateApplicationPasswordBlock,
    validateCertificateLifetime,
    validatePasswordLifetime,
} from "../policy/credentialLifetime";
import {
    builtInRoleById,
    builtInRoleByName,
    builtInRoleNames,
    directoryRoleAssignmentType,
    directoryRoleEligibilityType,
    directoryRoleMemberType,
    isRefusedRole,
    noRolesAllowed,
    validateDirectoryRole,
} from "../policy/directoryRoles";
import { builtInRoles } from "../policy/entraRoles";
import {
    federatedCredentialType,
    flexibleFederatedCredentialType,
    isFederatedCredentialType,
    parseClaimsExpression,
    pinnedSubject,
    pullRequestWarning,
    validateClaimsExpression,
    validateFederatedCredential,
    validateFederatedResource,
} from "../policy/federatedCredentials";
import { applicationType, delegatedGrantType, tier0DelegatedScope, tier0DelegatedScopes, validateApplicationPermissions, validateDelegatedGrant } from "../policy/graphPermissions";
import { asciiOnly, describeValue, show } from "../policy/inputs";
import {
    azureClassicSecretType,
    credentialEvidence,
    defaultCredentialContentTypes,
    mediaType,
    normaliseMarker,
    validateClassicSecretExpiry,
    validateNativeSecretExpiry,
} from "../policy/keyVaultSecrets";
import { credentialSources, type StackResource, validateCredentialSources } from "../policy/keyVaultSources";
import {
    credentialLifetimePolicy,
    federatedCredentialsPolicy,
    federatedPullRequestPolicy,
    graphPermissionsPolicy,
    keyVaultExpiryPolicy,
    keyVaultSourcesPolicy,
} from "../policy/names";
import { createPolicies } from "../policy/policies";
import { policyEscapes as escapes, rawControl, refusalOf } from "./support/hostile";
import { repoRoot } from "./support/program";

/**
 * The holes the pack used to have, as unit tests of its pure validators and of each policy's validateResource /
 * validateStack. test/policy.test.ts sends the same stacks (test/fixtures/policy/escapes.json) to the pack running
 * under Pulumi's own policy runner.
 */

const now = new Date("2026-11-23T06:00:00Z");
const nowSeconds = Math.floor(now.getTime() / 1000);
const day = 86_400;
const policies = createPolicies(() => now);
const options = { maxLifetimeDays: 730, now };

const graph = graphCatalog.resourceAppId;
const appRole = (name: string): string => graphCatalog.application[name]!.id;
const sp = "2f1d3c4b-0000-4000-a000-00000000c0de";
const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const certificatePem = fs.readFileSync(path.join(repoRoot, "test/fixtures/certificates/rsa2048.pem"), "utf8");
const certificateDer = fs.readFileSync(path.join(repoRoot, "test/fixtures/certificates/rsa2048.cer"));
const goodJustification = "The mail-archive app runs Exchange Online PowerShell app-only; reviewed every quarter.";

function resourceArgs(type: string, props: Record<string, unknown>, config: object = {}): ResourceValidationArgs {
    return {
        type,
        props,
        urn: `urn:pulumi:dev::entra-rotor::${type}::under-test`,
        name: "under-test",
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`notApplicable: ${reason ?? ""}`);
        },
    };
}

/** What every resource policy reports for a resource, by policy, with the given config per policy. */
async function judge(type: string, props: Record<string, unknown>, configs: Record<string, object> = {}): Promise<{ policy: string; message: string }[]> {
    const found: { policy: string; message: string }[] = [];
    for (const policy of policies as ResourceValidationPolicy[]) {
        if (!policy.validateResource) continue;
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const validate of validations) await validate(resourceArgs(type, props, configs[policy.name] ?? {}), (message) => found.push({ policy: policy.name, message }));
    }
    return found;
}

function policyNamed(name: string): ResourceValidationPolicy & StackValidationPolicy {
    const policy = policies.find((p) => p.name === name);
    if (!policy) throw new Error(`no policy ${name}`);
    return policy as ResourceValidationPolicy & StackValidationPolicy;
}

describe("every escape of escapes.json is reported by its policy's validateResource", () => {
    it("has a case for every attack", () => {
        expect(escapes.length).toBeGreaterThanOrEqual(40);
        const policiesCovered = new Set(escapes.map((c) => c.policy));
        for (const name of [credentialLifetimePolicy, graphPermissionsPolicy, federatedCredentialsPolicy, federatedPullRequestPolicy, keyVaultExpiryPolicy]) {
            expect(policiesCovered.has(name), name).toBe(true);
        }
    });

    it.each(escapes.map((c) => [c.name, c] as const))("%s", async (_, escape) => {
        const found = await judge(escape.type, escape.props, escape.config ? { [escape.policy]: escape.config } : {});
        expect(found.map((f) => f.policy)).toEqual([escape.policy]);
        const message = found[0]!.message;
        for (const text of escape.contains) expect(message).toContain(text);
        for (const text of escape.absent ?? []) expect(message).not.toContain(text);
        expect(message).not.toMatch(rawControl);
    });
});

describe("entra-credential-lifetime on every way to put a credential on an app", () => {
    it("judges ServicePrincipalPassword like ApplicationPassword, naming it", async () => {
        const [message] = validatePasswordLifetime({ startDate: "2026-01-01T00:00:00Z", endDate: "2099-01-01T00:00:00Z" }, options, "service principal client secret");
        expect(message).toMatch(/^service principal client secret is valid for 26663 days \(from 2026-01-01T00:00:00Z to 2099-01-01T00:00:00Z\)/);
        expect(message).toContain("set endDate to at most 2028-01-01T00:00:00Z");
        expect(await judge(servicePrincipalPasswordType, { servicePrincipalId: sp, endDate: "2027-06-01T00:00:00Z" })).toEqual([]);
        expect(await judge(servicePrincipalPasswordType, { servicePrincipalId: sp, endDateRelative: "876000h" })).toEqual([
            { policy: credentialLifetimePolicy, message: expect.stringContaining('set endDateRelative to at most "17520h"') },
        ]);
    });

    it("judges ServicePrincipalCertificate like ApplicationCertificate, its own expiry included", async () => {
        const value = certificatePem;
        expect(await judge(servicePrincipalCertificateType, { servicePrincipalId: sp, type: "AsymmetricX509Cert", value, endDate: "2027-06-01T00:00:00Z" })).toEqual([]);
        // No endDate: Entra takes the certificate's notAfter, 2035.
        const [found] = await judge(servicePrincipalCertificateType, { servicePrincipalId: sp, type: "AsymmetricX509Cert", encoding: "pem", value });
        expect(found?.message).toMatch(/^service principal certificate credential has no endDate, so Entra makes it valid until the certificate expires \(notAfter 2035-01-01T00:00:00Z\)/);
        expect(validateCertificateLifetime({ value: "garbage" }, options, "service principal certificate credential")).toEqual([
            expect.stringMatching(/^service principal certificate credential has no endDate and its value cannot be read/),
        ]);
        // The provider's encodings in any case: read, not mistaken for PEM and refused as unreadable.
        expect(certificateNotAfter(certificateDer.toString("base64"), "BASE64")).toBe(Date.parse("2035-01-01T00:00:00Z"));
        expect(certificateNotAfter(certificateDer.toString("hex"), " Hex ")).toBe(Date.parse("2035-01-01T00:00:00Z"));
        expect(await judge(applicationCertificateType, { applicationId: "/applications/x", value, endDate: "2099-01-01T00:00:00Z" })).toHaveLength(1);
    });

    it("judges an Application's password block, naming password.endDate, and passes one within the cap", () => {
        expect(validateApplicationPasswordBlock({ displayName: "no password" } as object, options)).toEqual([]);
        expect(validateApplicationPasswordBlock({ password: { displayName: "initial", endDate: "2027-06-01T00:00:00Z" } }, options)).toEqual([]);
        expect(validateApplicationPasswordBlock({ password: { displayName: "initial" } }, options)).toEqual([]);
        const [late] = validateApplicationPasswordBlock({ password: { displayName: "initial", startDate: "2026-12-01T00:00:00Z", endDate: "2099-01-01T00:00:00Z" } }, options);
        expect(late).toContain("client secret (the Application's password block) is valid for");
        expect(late).toContain("set password.endDate to at most 2028-11-30T00:00:00Z");
        expect(validateApplicationPasswordBlock({ password: { endDate: "soon" } }, options)).toEqual([expect.stringMatching(/^password\.endDate "soon" is not an RFC 3339 date-time/)]);
        expect(validateApplicationPasswordBlock({ password: { startDate: "2027-02-01T00:00:00Z", endDate: "2027-01-01T00:00:00Z" } }, options)).toEqual([
            expect.stringContaining("set password.endDate after password.startDate"),
        ]);
        // A list, as older SDKs wrote it, is judged entry by entry.
        expect(validateApplicationPasswordBlock({ password: [{ endDate: "2027-01-01T00:00:00Z" }, { endDate: "2099-01-01T00:00:00Z" }] }, options)).toEqual([
            expect.stringContaining("set password[1].endDate to at most"),
        ]);
    });

    it("in preview, reads an unknown password start as now and leaves an unknown end to the advisory", () => {
        expect(validateApplicationPasswordBlock(unknownCheckingProxy({ password: { displayName: "initial", startDate: unknownString, endDate: "2099-01-01T00:00:00Z" } }), options)).toEqual([
            expect.stringContaining("from now (startDate is known only once the resources it comes from exist)"),
        ]);
        expect(() => validateApplicationPasswordBlock(unknownCheckingProxy({ password: { displayName: "initial", endDate: unknownString } }), options)).toThrow(/can't be known during preview/);
    });

    it("refuses a client secret without endDate under a lower cap, with the endDate that would do", async () => {
        expect(validatePasswordLifetime({}, options)).toEqual([]);
        const [message] = validatePasswordLifetime({}, { ...options, maxLifetimeDays: 729 });
        expect(message).toContain("has no endDate, so Entra makes it valid for its default of two years (counted as 730 days)");
        expect(message).toContain("more than the 729-day cap");
        expect(message).toContain("set endDate to at most 2028-11-21T06:00:00Z (729 days after its start)");
        expect(await judge(applicationPasswordType, { applicationId: "/applications/x" }, { [credentialLifetimePolicy]: { maxLifetimeDays: 90 } })).toEqual([
            { policy: credentialLifetimePolicy, message: expect.stringContaining("set endDate to at most 2027-02-21T06:00:00Z") },
        ]);
        expect(await judge(servicePrincipalPasswordType, { servicePrincipalId: sp }, { [credentialLifetimePolicy]: { maxLifetimeDays: 90 } })).toHaveLength(1);
    });

    it("escapes and cuts what it echoes", () => {
        const [message] = validatePasswordLifetime({ endDate: `2099\n\u001b[2K${"9".repeat(500)}` }, options);
        expect(message).toContain('endDate "2099\\n\\e[2K999');
        expect(message).toContain("... (");
        expect(message).not.toMatch(rawControl);
        expect(message!.length).toBeLessThan(400);
    });

    it("refuses a misspelled or unknown setting instead of falling back to the default", () => {
        expect(() => readLifetimeConfig({ maxLifetimeDay: 180 } as object)).toThrow(/unknown setting "maxLifetimeDay" \(did you mean "maxLifetimeDays"\?\)/);
    });
});

describe("entra-graph-tier0-permissions: directory roles", () => {
    it("knows Microsoft's built-in roles by template id, with the privileged ones from Microsoft and azure-tiering", () => {
        const ids = builtInRoles.map(([, id]) => id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(builtInRoleNames()).size).toBe(ids.length);
        for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(builtInRoles.filter(([, , flags]) => flags.includes("P"))).toHaveLength(29);
        expect(builtInRoles.filter(([, , flags]) => flags.includes("0"))).toHaveLength(30);
        expect(builtInRoleNames().filter((name) => isRefusedRole(builtInRoleByName(name)!))).toHaveLength(40);
        // The well-known ones, by the template ids Microsoft publishes.
        const known: Record<string, string> = {
            "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
            "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
            "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
            "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
            "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
            "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        };
        for (const [name, id] of Object.entries(known)) expect(builtInRoleById(id)?.name, name).toBe(name);
        expect(isRefusedRole(builtInRoleByName("Directory Readers")!)).toBe(false);
        expect(isRefusedRole(builtInRoleByName("Exchange Administrator")!)).toBe(true);
        expect(builtInRoleById(" 62E90394-69F5-4237-9190-012177145E10 ")?.name).toBe("Global Administrator");
    });

    it("passes roles that are not privileged and roles the organisation allows", () => {
        const readers = { principalObjectId: sp, roleId: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" };
        expect(validateDirectoryRole(directoryRoleAssignmentType, readers, noRolesAllowed)).toEqual([]);
        const exchange = { principalObjectId: sp, roleId: "29232cdf-9323-42fd-ade2-1d097af3e4de" };
        expect(validateDirectoryRole(directoryRoleAssignmentType, exchange, noRolesAllowed)).toEqual([expect.stringContaining("which is tier 0: a known path to Global Administrator")]);
        expect(validateDirectoryRole(directoryRoleAssignmentType, exchange, readPermissionsConfig({ allowDirectoryRoles: [{ role: "Exchange Administrator", justification: goodJustification }] }).roles)).toEqual([]);
        const reader = { principalObjectId: sp, roleId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451" };
        expect(validateDirectoryRole(directoryRoleAssignmentType, reader, noRolesAllowed)).toEqual([expect.stringContaining('"Global Reader" (template id f2ef992c-3afb-46b9-b7cf-a126ee74c451), which is labelled PRIVILEGED by Microsoft')]);

        const custom = "5b1f2a40-7c1d-4e8e-9c55-0123456789ab";
        const allowed = readPermissionsConfig({ allowDirectoryRoles: [{ role: custom.toUpperCase(), justification: "Custom role: reads sign-in logs for the SOC export, nothing else." }] }).roles;
        expect(validateDirectoryRole(directoryRoleAssignmentType, { principalObjectId: sp, roleId: custom }, allowed)).toEqual([]);
        expect(validateDirectoryRole(directoryRoleMemberType, { memberObjectId: sp, roleObjectId: custom }, allowed)).toEqual([]);
        expect(validateDirectoryRole(directoryRoleEligibilityType, { principalId: sp, roleDefinitionId: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" }, noRolesAllowed)).toEqual([]);
    });

    it("never echoes an unreadable role id raw", () => {
        const [message] = validateDirectoryRole(directoryRoleAssignmentType, { principalObjectId: sp, roleId: `not-a-guid\u202e${"x".repeat(400)}` }, noRolesAllowed);
        expect(message).toContain('the directory role "not-a-guid\\u202exxx');
        expect(message).toContain('allowDirectoryRoles: [{"role": "<the role\'s id>"');
        expect(message).not.toMatch(rawControl);
    });

    it("in preview, leaves a role id that is not known yet (a new DirectoryRole's templateId) to the advisory", async () => {
        const preview = unknownCheckingProxy({ principalObjectId: sp, roleId: unknownString });
        await expect(judge(directoryRoleAssignmentType, preview)).rejects.toThrow(/can't be known during preview/);
    });

    it("checks allowDirectoryRoles strictly: known names, GUIDs for the rest, nothing that would do nothing", () => {
        const problems = (allowDirectoryRoles: unknown): string => refusalOf(() => readPermissionsConfig({ allowDirectoryRoles }), PolicyConfigError);
        expect(problems([{ role: "Global Admin", justification: goodJustification }])).toContain(
            'allowDirectoryRoles[0].role: "Global Admin" is neither a built-in Microsoft Entra role nor a role id (a GUID) (did you mean "Global Administrator"?)',
        );
        expect(problems([{ role: "Directory Readers", justification: goodJustification }])).toContain('"Directory Readers" is not a privileged role, so the pack never refuses it: remove the entry');
        expect(problems([{ role: "62e90394-69f5-4237-9190-012177145e10", justification: goodJustification }])).toContain('is the template id of the built-in role "Global Administrator"; write its name instead');
        expect(problems([{ role: "Exchange Administrator", justification: goodJustification }, { role: "Exchange Administrator", justification: goodJustification }])).toContain("is listed twice");
        expect(problems([{ role: "Exchange Administrator", justification: "TODO: explain this one later" }])).toContain("is a placeholder");
        expect(problems([{ role: "Exchange Administrator", justification: "short" }])).toContain("write a justification of at least 20 characters");
        expect(problems([{ role: "Exchange Administrator", justification: goodJustification, scope: "/" }])).toContain('unknown key "scope"');
        expect(problems("Global Administrator")).toContain("a list of {role, justification} entries");
    });
});

describe("entra-graph-tier0-permissions: delegated grants and case", () => {
    it("tiers delegated permissions by their application twins, plus Directory.AccessAsUser.All", () => {
        expect(tier0DelegatedScope("Directory.AccessAsUser.All")).toBe("Directory.AccessAsUser.All");
        expect(tier0DelegatedScope(" roleManagement.readWrite.directory ")).toBe("RoleManagement.ReadWrite.Directory");
        expect(tier0DelegatedScope("User.Read")).toBeUndefined();
        expect(tier0DelegatedScope("Calendars.ReadWrite")).toBeUndefined();
        expect(tier0DelegatedScopes()).toContain("Directory.AccessAsUser.All");
        expect(tier0DelegatedScopes().length).toBeGreaterThan(1);
        for (const name of tier0DelegatedScopes()) {
            expect(Object.hasOwn(graphCatalog.delegated, name), name).toBe(true);
            if (name !== "Directory.AccessAsUser.All") expect(graphCatalog.application[name]?.tier, name).toBe(0);
        }
    });

    it("judges only tenant-wide grants, and lets the organisation allow one", async () => {
        const grant = { servicePrincipalObjectId: sp, resourceServicePrincipalObjectId: "7d1c2a0e-0000-4000-a000-00000000a11a", claimValues: ["openid", "Directory.AccessAsUser.All"] };
        expect(validateDelegatedGrant(grant, new Map())).toHaveLength(1);
        expect(validateDelegatedGrant({ ...grant, userObjectId: "3c7e0000-0000-4000-a000-000000000001" }, new Map())).toEqual([]);
        expect(validateDelegatedGrant({ ...grant, claimValues: ["openid", "offline_access", "Calendars.ReadWrite"] }, new Map())).toEqual([]);
        expect(validateDelegatedGrant({ ...grant, claimValues: ["Directory.AccessAsUser.All", "directory.accessasuser.all"] }, new Map())).toHaveLength(1);
        const allowDelegated = [{ permission: "Directory.AccessAsUser.All", justification: "The admin portal acts for administrators only; CA requires compliant devices." }];
        expect(await judge(delegatedGrantType, grant, { [graphPermissionsPolicy]: { allowDelegated } })).toEqual([]);
        expect(await judge(delegatedGrantType, grant)).toEqual([{ policy: graphPermissionsPolicy, message: expect.stringContaining('allowDelegated: [{"permission": "Directory.AccessAsUser.All"') }]);
    });

    it("checks allowDelegated strictly", () => {
        const problems = (allowDelegated: unknown): string => refusalOf(() => readPermissionsConfig({ allowDelegated }), PolicyConfigError);
        expect(problems([{ permission: "User.Read", justification: goodJustification }])).toContain('"User.Read" is not a tier-0 delegated permission, so the pack never refuses it');
        expect(problems([{ permission: "directory.accessasuser.all", justification: goodJustification }])).toContain('"directory.accessasuser.all" is written "Directory.AccessAsUser.All"');
        expect(problems([{ permission: "Directory.AccessAsUser.Al", justification: goodJustification }])).toContain('(did you mean "Directory.AccessAsUser.All"?)');
    });

    it("reads requiredResourceAccesses' type without regard to case; a Scope stays a request for a delegated permission", () => {
        const app = (type: unknown) => ({ requiredResourceAccesses: [{ resourceAppId: graph, resourceAccesses: [{ id: appRole("RoleManagement.ReadWrite.Directory"), type }] }] });
        for (const type of ["Role", "role", "ROLE", " Role ", undefined, 1]) expect(validateApplicationPermissions(app(type), new Map()), String(type)).toHaveLength(1);
        for (const type of ["Scope", "scope", " SCOPE "]) expect(validateApplicationPermissions(app(type), new Map()), type).toEqual([]);
        expect(validateApplicationPermissions({ requiredResourceAccesses: [{ resourceAppId: ` ${graph.toUpperCase()} `, resourceAccesses: [{ id: appRole("Directory.ReadWrite.All"), type: "role" }] }] }, new Map())).toHaveLength(1);
    });

    it("refuses a broken allow-list whatever the resource, and settings the policy does not have", async () => {
        await expect(judge(directoryRoleAssignmentType, { roleId: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" }, { [graphPermissionsPolicy]: { allowDirectoryRoles: [{ role: "Global Admin", justification: goodJustification }] } })).rejects.toThrow(
            /policy pack config of "entra-graph-tier0-permissions" is invalid/,
        );
        expect(() => readPermissionsConfig({ allowPrivilegedRoles: [] } as object)).toThrow(/unknown setting "allowPrivilegedRoles"/);
        expect(readPermissionsConfig({})).toEqual({ applications: new Map(), delegated: new Map(), roles: { names: new Map(), ids: new Map() } });
    });

    it("does not judge other types with the role rule", () => {
        expect(validateDirectoryRole(applicationType, { roleId: "62e90394-69f5-4237-9190-012177145e10" }, noRolesAllowed)).toEqual([]);
    });
});

describe("entra-federated-credentials and entra-federated-pull-request", () => {
    const github = {
        applicationId: "/applications/x",
        displayName: "github-production",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/identity:environment:production",
        audiences: ["api://AzureADTokenExchange"],
    };

    it("names the unsafe character and never echoes the text around it", () => {
        for (const character of ["\n", "\r", "\u0000", "\u001b", "\u202e", "\u2066", "\u200b", "\ufeff", "\u0085"]) {
            const problems = validateFederatedCredential({ ...github, subject: `repo:contoso/identity:environment:prod${character}SECRET-LOOKING` });
            expect(problems, JSON.stringify(character)).toHaveLength(1);
            expect(problems[0]).toMatch(/^subject contains the control or invisible character U\+[0-9A-F]{4} /);
            expect(problems[0]).not.toContain("SECRET-LOOKING");
        }
        expect(validateFederatedCredential({ ...github, issuer: "https://token.actions.githubusercontent.com\r\n", audiences: ["api://AzureADTokenExchange\u0000"] })).toEqual([
            expect.stringMatching(/^issuer contains the control or invisible character U\+000D/),
            expect.stringMatching(/^audience contains the control or invisible character U\+0000/),
        ]);
    });

    it("refuses look-alike issuer hosts, showing the foreign letter escaped", () => {
        const [cyrillic] = validateFederatedCredential({ ...github, issuer: "https://token.actions.githubuserc\u043entent.com" });
        expect(cyrillic).toBe(
            'issuer "https://token.actions.githubuserc\\u043entent.com" has a host with the non-ASCII character U+043E, which can imitate a trusted issuer (a look-alike letter); write the host in ASCII exactly as the token\'s iss claim has it',
        );
        expect(validateFederatedCredential({ ...github, issuer: "https://token.actions.xn--githubusercntent-wkn.com" })).toEqual([expect.stringContaining("punycode xn--")]);
        expect(validateFederatedCredential({ ...github, issuer: "https://\u0430pp.terraform.io" })).toEqual([expect.stringContaining("\\u0430pp.terraform.io")]);
        // An over-long issuer is refused for its length, not echoed.
        const [long] = validateFederatedCredential({ ...github, issuer: `https://\u0430${"a".repeat(700)}.com` });
        expect(long).toMatch(/^issuer is 713 characters; Entra allows at most 600$/);
        expect(asciiOnly("a\u043eb\u{1f600}")).toBe("a\\u043eb\\u{1f600}");
    });

    it("warns, separately and without refusing, about subjects that trust pull requests", async () => {
        const pullRequest = { ...github, subject: "repo:contoso/identity:pull_request" };
        expect(validateFederatedCredential(pullRequest)).toEqual([]);
        expect(pullRequestWarning(pullRequest)).toMatch(/^subject "repo:contoso\/identity:pull_request" trusts pull request runs: every pull request that GitHub Actions runs the workflow for/);
        expect(pullRequestWarning({ ...github, issuer: "https://gitlab.example.com", subject: "project:pull_request" })).toMatch(/every pull request that runs the workflow/);
        expect(pullRequestWarning(github)).toBeUndefined();
        expect(pullRequestWarning({ ...github, subject: "repo:contoso/pull_request-tools:ref:refs/heads/main" })).toBeUndefined();
        expect(pullRequestWarning({ ...github, subject: undefined })).toBeUndefined();
        expect(await judge(federatedCredentialType, pullRequest)).toEqual([{ policy: federatedPullRequestPolicy, message: expect.stringContaining("trusts pull request runs") }]);
        expect(policyNamed(federatedPullRequestPolicy).enforcementLevel).toBe("advisory");
        // Both at once: the unsafe character is refused, and the warning shows it escaped.
        const both = await judge(federatedCredentialType, { ...github, subject: "repo:contoso/identity:pull_request\u001b[2K" });
        expect(both.map((f) => f.policy)).toEqual([federatedCredentialsPolicy]);
        expect(pullRequestWarning({ ...github, subject: "repo:contoso/identity:pull_request:\u001b[2K" })).toContain('"repo:contoso/identity:pull_request:\\e[2K"');
    });
});

describe("entra-federated-credentials: flexible federated identity credentials", () => {
    const flexible = (claimsMatchingExpression: unknown, more: Record<string, unknown> = {}) => ({
        applicationId: "/applications/x",
        displayName: "github-deploy",
        issuer: "https://token.actions.githubusercontent.com",
        audience: "api://AzureADTokenExchange",
        claimsMatchingExpression,
        ...more,
    });
    const production = "repo:contoso/identity:environment:production";
    const managedIdentityType = "azure-native:managedidentity/v20250131preview:FederatedIdentityCredential";

    it("judges every resource type that can carry a claims-matching expression", () => {
        expect(isFederatedCredentialType(federatedCredentialType)).toBe(true);
        expect(isFederatedCredentialType(flexibleFederatedCredentialType)).toBe(true);
        for (const type of ["azure-native:managedidentity:FederatedIdentityCredential", managedIdentityType, "azure-native:managedidentity/v20230131:FederatedIdentityCredential"]) {
            expect(isFederatedCredentialType(type), type).toBe(true);
        }
        expect(isFederatedCredentialType("azure-native:managedidentity:UserAssignedIdentity")).toBe(false);
    });

    it("passes an expression that pins the exact subject, other exact claims only narrowing it", async () => {
        const exact = `claims['sub'] eq '${production}' and claims['job_workflow_ref'] eq 'contoso/shared/.github/workflows/deploy.yml@refs/heads/main'`;
        expect(validateClaimsExpression(exact)).toEqual([]);
        expect(validateClaimsExpression({ value: `claims['sub'] eq '${production}'`, languageVersion: 1 })).toEqual([]);
        expect(await judge(flexibleFederatedCredentialType, flexible(exact))).toEqual([]);
        // A managed identity's credential without an expression is not this rule's (the app rules are for apps).
        expect(await judge(managedIdentityType, { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/*", audiences: ["x", "y"] })).toEqual([]);
        expect(validateFederatedResource(managedIdentityType, { claimsMatchingExpression: { value: `claims['sub'] eq '${production}'`, languageVersion: 1 } })).toEqual([]);
    });

    it("refuses every wildcard, whatever the operator, claim or spelling", () => {
        for (const expression of [
            "claims['sub'] matches 'repo:contoso/*'",
            "claims['sub'] matches 'repo:contoso/identity:environment:production'",
            `claims['sub'] eq '${production}' and claims['job_workflow_ref'] matches 'contoso/shared/*'`,
            "claims['sub'] eq 'repo:contoso/*'",
            "claims['sub'] eq 'repo:contoso/identity:ref:refs/heads/\uff0a'",
            "claims['sub'] eq 'repo:contoso/identity:ref:refs/heads/v?'",
            "claims['sub'] eq 'repo:contoso/identity:ref:refs/heads/[ab]'",
            "claims['sub']  MATCHES  'repo:contoso/*'",
        ]) {
            const problems = validateClaimsExpression(expression);
            expect(problems, expression).toHaveLength(1);
            expect(problems[0], expression).toMatch(/no wildcards|does not know/);
        }
    });

    it("refuses what it cannot read rather than guess how Entra reads it", () => {
        expect(parseClaimsExpression(`claims['sub'] eq '${production}'`)).toEqual([{ claim: "sub", operator: "eq", comparand: production }]);
        expect(parseClaimsExpression(`  claims['sub'] eq 'a' and claims['ref'] eq 'b'  `)).toHaveLength(2);
        for (const unread of [
            `claims['sub'] eq '${production}' or claims['sub'] eq 'repo:contoso/identity:pull_request'`,
            `(claims['sub'] eq '${production}')`,
            `claims["sub"] eq "${production}"`,
            `claims['sub'] eq 'it''s'`,
            `claims['sub'] eq '${production}' and`,
            `claims['sub'] eq '${production}' AND claims['x'] eq 'y'`,
            "true",
        ]) {
            expect(parseClaimsExpression(unread), unread).toBeUndefined();
            expect(validateClaimsExpression(unread), unread).toEqual([expect.stringContaining("is not comparisons of the form claims['<claim>'] eq '<value>' joined by and")]);
        }
        expect(validateClaimsExpression(undefined)).toEqual([expect.stringMatching(/^claimsMatchingExpression must be the expression/)]);
        expect(validateClaimsExpression({ languageVersion: 1 })).toEqual([expect.stringMatching(/^claimsMatchingExpression\.value must be the expression/)]);
        expect(validateClaimsExpression(`claims['sub'] eq ' ${production}'`)).toEqual([expect.stringContaining("has leading or trailing spaces")]);
    });

    it("reads a long or hostile expression in linear time, and echoes it escaped and cut", () => {
        const long = `claims['sub'] eq '${"a".repeat(500)}' and `.repeat(2_000);
        const started = performance.now();
        expect(parseClaimsExpression(long)).toBeUndefined();
        expect(parseClaimsExpression(`claims['${"'".repeat(50_000)}`)).toBeUndefined();
        expect(performance.now() - started).toBeLessThan(1_000);
        expect(validateClaimsExpression(long)).toEqual([expect.stringMatching(/^claimsMatchingExpression is \d+ characters: more than any exact comparison needs/)]);
        const [cut] = validateClaimsExpression(`claims['sub'] matches '${"x".repeat(300)}*'`);
        expect(cut).toContain("... (");
        expect(cut!.length).toBeLessThan(1_000);
        const [hidden] = validateClaimsExpression(`claims['sub'] eq '${production}\u2066'`);
        expect(hidden).toMatch(/^claimsMatchingExpression contains the control or invisible character U\+2066/);
        expect(hidden).not.toContain(production);
    });

    it("judges the flexible credential's issuer and one audience as any federated credential's", () => {
        const exact = `claims['sub'] eq '${production}'`;
        expect(validateFederatedResource(flexibleFederatedCredentialType, flexible(exact, { issuer: "http://token.actions.githubusercontent.com" }))).toEqual([
            expect.stringMatching(/^issuer "http:\/\/token\.actions\.githubusercontent\.com" must use https/),
        ]);
        expect(validateFederatedResource(flexibleFederatedCredentialType, flexible(exact, { audience: ["a", "b"] }))).toEqual([expect.stringMatching(/^audience must be the one audience/)]);
        expect(validateFederatedResource(flexibleFederatedCredentialType, flexible(exact, { audience: "api://*" }))).toEqual([expect.stringContaining("contains a wildcard (*)")]);
        // Microsoft Graph's shape on the ordinary resource: an expression instead of a subject, judged as such.
        const graphShape = { issuer: "https://token.actions.githubusercontent.com", audiences: ["api://AzureADTokenExchange"], claimsMatchingExpression: { value: exact, languageVersion: 1 } };
        expect(validateFederatedCredential(graphShape)).toEqual([]);
        expect(validateFederatedCredential({ ...graphShape, claimsMatchingExpression: { value: "claims['sub'] matches '*'", languageVersion: 1 } })).toHaveLength(1);
    });

    it("warns about a pinned subject that trusts pull requests, as for any federated credential", async () => {
        const pullRequest = "claims['sub'] eq 'repo:contoso/identity:pull_request'";
        expect(pinnedSubject(pullRequest)).toBe("repo:contoso/identity:pull_request");
        expect(pinnedSubject({ value: pullRequest, languageVersion: 1 })).toBe("repo:contoso/identity:pull_request");
        expect(await judge(flexibleFederatedCredentialType, flexible(pullRequest))).toEqual([{ policy: federatedPullRequestPolicy, message: expect.stringContaining("trusts pull request runs") }]);
    });
});

describe("keyvault-credential-expiry: tags, expiry cap, messages", () => {
    const rule = readKeyVaultConfig({});
    const served = (tags: Record<string, unknown>, attributes: Record<string, unknown>) => ({
        properties: { value: "MOCKSECRET-value", contentType: "text/plain", attributes },
        tags,
    });

    it("normalises tag names and content types: spaces, case, invisible characters, compatibility forms", () => {
        expect(normaliseMarker("  Cred\u200bential\u202e ")).toBe("credential");
        expect(normaliseMarker("\uff23\uff52\uff45\uff44\uff45\uff4e\uff54\uff49\uff41\uff4c")).toBe("credential");
        for (const key of [" credential", "Credential", "CREDENTIAL ", "\tcredential\n", "cred\u00adential".replace("\u00ad", "")]) {
            expect(credentialEvidence({ [key]: "main" }, undefined, rule), JSON.stringify(key)).toMatch(/^tag "/);
        }
        expect(credentialEvidence({ credentials: "main" }, undefined, rule)).toBeUndefined();
        expect(credentialEvidence({}, " Application/X-PEM-File\u200b ; charset=utf-8", rule)).toMatch(/^content type /);
        // Certificates with their key and private keys, by every name they go by, however written.
        for (const type of defaultCredentialContentTypes) {
            for (const written of [type, type.toUpperCase(), ` ${type} ; charset=utf-8`, type.replace("/", " / "), `${type};foo="a;b"`]) {
                expect(credentialEvidence({}, written, rule), written).toMatch(/^content type /);
            }
        }
        expect(mediaType("Application / PEM-Certificate-Chain ; charset=utf-8")).toBe("application/pem-certificate-chain");
        for (const other of ["application/json", "text/plain", "application/x-pem", "application/pkix-cert", ""]) expect(credentialEvidence({}, other, rule), other).toBeUndefined();
        // The organisation's own names are normalised the same way.
        const custom = readKeyVaultConfig({ credentialTags: [" Secret-Kind "] });
        expect(custom.credentialTags).toEqual(["secret-kind"]);
        expect(credentialEvidence({ "SECRET-KIND": "client-secret" }, undefined, custom)).toBe('tag "SECRET-KIND": "client-secret"');
        expect(() => readKeyVaultConfig({ credentialTags: ["\u200b"] })).toThrow(/credentialTags must be a list of non-empty strings/);
    });

    it("caps the expiry at now plus the lifetime cap, saying the latest allowed", () => {
        const latest = nowSeconds + 730 * day;
        expect(validateNativeSecretExpiry(served({ credential: "main" }, { expires: latest }), rule, now)).toEqual([]);
        const [late] = validateNativeSecretExpiry(served({ credential: "main" }, { expires: latest + 1 }), rule, now);
        expect(late).toContain(`properties.attributes.expires is ${latest + 1} (2028-11-22T06:00:01Z), later than any credential may live`);
        expect(late).toContain(`the latest allowed expiry is 2028-11-22T06:00:00Z (${latest}), now plus the 730-day lifetime cap (policy config maxLifetimeDays)`);
        const short = readKeyVaultConfig({ maxLifetimeDays: 180 });
        expect(validateNativeSecretExpiry(served({ credential: "main" }, { expires: nowSeconds + 181 * day }), short, now)).toEqual([expect.stringContaining("now plus the 180-day lifetime cap")]);
        // Milliseconds are still called milliseconds.
        expect(validateNativeSecretExpiry(served({ credential: "main" }, { expires: latest * 1000 }), rule, now)).toEqual([expect.stringContaining("it looks like milliseconds")]);
        // And a missing expiry says the latest allowed too.
        expect(validateNativeSecretExpiry(served({ credential: "main" }, {}), rule, now)).toEqual([expect.stringContaining(`at most 2028-11-22T06:00:00Z (${latest})`)]);

        const classic = { name: "s", keyVaultId: "/subscriptions/x", value: "MOCKSECRET-value", tags: { credential: "main" } };
        expect(validateClassicSecretExpiry({ ...classic, expirationDate: "2028-11-22T06:00:00Z" }, rule, now)).toEqual([]);
        expect(validateClassicSecretExpiry({ ...classic, expirationDate: "2028-11-22T06:00:01Z" }, rule, now)).toEqual([
            expect.stringContaining("expirationDate is 2028-11-22T06:00:01Z, later than any credential may live: the latest allowed expiry is 2028-11-22T06:00:00Z"),
        ]);
    });

    it("says what kind of value it found, never the value", () => {
        for (const expires of ["MOCKSECRET-in-the-expiry", { value: "MOCKSECRET" }, ["MOCKSECRET"], true]) {
            const [message] = validateNativeSecretExpiry(served({ credential: "main" }, { expires }), rule, now);
            expect(message).toMatch(/properties\.attributes\.expires is a (string of \d+ characters|object|list of 1|boolean), not a number/);
            expect(message).not.toContain("MOCKSECRET");
        }
        const [classic] = validateClassicSecretExpiry({ tags: { credential: "x" }, expirationDate: "MOCKSECRET-as-a-date" }, rule, now);
        expect(classic).toContain("expirationDate is a string of 20 characters, not an RFC 3339 date-time");
        expect(classic).not.toContain("MOCKSECRET");
        expect(describeValue(undefined)).toBe("nothing");
        expect(show("a\nb")).toBe('"a\\nb"');
    });

    it("checks its settings, the cap included", () => {
        expect(readKeyVaultConfig({}).maxLifetimeDays).toBe(730);
        expect(() => readKeyVaultConfig({ maxLifetimeDays: 731 })).toThrow(/maxLifetimeDays must be a whole number of days from 1 to 730/);
        expect(() => readKeyVaultConfig({ credentialTag: ["x"] } as object)).toThrow(/unknown setting "credentialTag" \(did you mean "credentialTags"\?\)/);
        expect(readKeyVaultSourcesConfig({})).toEqual({ maxLifetimeDays: 730 });
        expect(() => readKeyVaultSourcesConfig({ maxLifetimeDays: "730" })).toThrow(/policy pack config of "keyvault-credential-source-expiry" is invalid/);
    });
});

describe("keyvault-credential-source-expiry: secrets found by what they are computed from", () => {
    const resource = (type: string, name: string, props: Record<string, unknown> = {}, propertyDependencies: Record<string, StackResource[]> = {}): StackResource => ({
        type,
        name,
        urn: `urn:pulumi:dev::legacy::${type}::${name}`,
        props,
        propertyDependencies,
    });
    const app = resource(applicationType, "legacy-app", { displayName: "Legacy" });
    const password = resource(applicationPasswordType, "legacy-password", { applicationId: "/applications/x" });
    const spPassword = resource(servicePrincipalPasswordType, "legacy-sp-password", { servicePrincipalId: sp });
    const key = resource("tls:index/privateKey:PrivateKey", "legacy-key", { algorithm: "RSA" });
    const cert = resource("tls:index/selfSignedCert:SelfSignedCert", "legacy-cert", {});
    const nativeSecret = (name: string, attributes: Record<string, unknown>, sources: StackResource[], tags: Record<string, unknown> = {}) =>
        resource("azure-native:keyvault:Secret", name, { secretName: name, properties: { value: "MOCKSECRET-value", contentType: "text/plain", attributes }, tags }, { properties: sources });
    const limit = { maxLifetimeDays: 730, now };

    it("finds a secret computed from a client secret, untagged, and holds it to the expiry rules", () => {
        const untagged = nativeSecret("legacy-client-secret", {}, [app, password]);
        expect(credentialSources(untagged).map((s) => s.name)).toEqual(["legacy-password"]);
        const { findings, unknown } = validateCredentialSources([app, password, untagged], limit);
        expect(unknown).toBeUndefined();
        expect(findings).toEqual([
            {
                urn: untagged.urn,
                message: expect.stringMatching(/^holds a credential \(its properties are computed from the client secret \(azuread ApplicationPassword\) "legacy-password"\) but has no expiry/),
            },
        ]);
        expect(findings[0]!.message).not.toContain("MOCKSECRET");
        expect(validateCredentialSources([nativeSecret("ok", { expires: nowSeconds + 90 * day }, [password])], limit).findings).toEqual([]);
        expect(validateCredentialSources([nativeSecret("forever", { expires: 253_402_300_799 }, [spPassword])], limit).findings).toEqual([
            { urn: expect.any(String), message: expect.stringContaining("the latest allowed expiry is 2028-11-22T06:00:00Z") },
        ]);
    });

    it("leaves alone secrets computed from the app alone (its client id), and resources that are not secrets", () => {
        const clientId = nativeSecret("legacy-client-id", {}, [app]);
        expect(validateCredentialSources([app, clientId], limit).findings).toEqual([]);
        const notASecret = resource("azure-native:keyvault:Key", "k", {}, { properties: [password] });
        expect(validateCredentialSources([notASecret], limit).findings).toEqual([]);
    });

    it("covers certificates with their keys and the classic azure provider's value", () => {
        const pem = resource(azureClassicSecretType, "legacy-pem", { name: "legacy-pem", value: "MOCKSECRET-pem", tags: {} }, { value: [cert, key, key] });
        const [finding] = validateCredentialSources([pem], limit).findings;
        expect(finding?.message).toMatch(
            /^holds a credential \(its value is computed from the certificate with its key \(tls SelfSignedCert\) "legacy-cert", the private key \(tls PrivateKey\) "legacy-key"\) but has no expiry: set expirationDate/,
        );
        const spCert = resource(servicePrincipalCertificateType, "sp-cert\u001b[2K");
        const [escaped] = validateCredentialSources([nativeSecret("with-cert", {}, [spCert])], limit).findings;
        expect(escaped?.message).toContain('"sp-cert\\e[2K"');
    });

    it("reports what it can judge in preview and hands back the first unknown, for the advisory", () => {
        const known = nativeSecret("known", {}, [password]);
        const pending = resource("azure-native:keyvault:Secret", "pending", unknownCheckingProxy({ properties: { value: unknownString, attributes: { expires: unknownString } } }), { properties: [password] });
        const judgement = validateCredentialSources([pending, known], limit);
        expect(judgement.findings.map((f) => f.urn)).toEqual([known.urn]);
        expect(judgement.unknown?.message).toMatch(/can't be known during preview/);
    });

    it("runs as a stack policy: reports against the secret's URN, then rethrows an unknown", async () => {
        const policy = policyNamed(keyVaultSourcesPolicy);
        expect(policy.validateResource).toBeUndefined();
        const stack = (resources: StackResource[], config: object = {}): StackValidationArgs => ({
            resources: resources as unknown as PolicyResource[],
            stackTags: new Map(),
            getConfig: <T extends object>() => config as T,
            notApplicable: (): never => {
                throw new Error("notApplicable");
            },
        });
        const reported: [string, string | undefined][] = [];
        const untagged = nativeSecret("legacy-client-secret\n", { expires: nowSeconds + 200 * day }, [password]);
        await policy.validateStack(stack([password, untagged], { maxLifetimeDays: 180 }), (message, urn) => reported.push([message, urn]));
        expect(reported).toEqual([[expect.stringContaining("now plus the 180-day lifetime cap"), untagged.urn]]);
        expect(reported[0]![0]).not.toMatch(rawControl);

        const pending = resource("azure-native:keyvault:Secret", "pending", unknownCheckingProxy({ properties: { attributes: { expires: unknownString } } }), { properties: [password] });
        reported.length = 0;
        await expect((async () => policy.validateStack(stack([pending, untagged], { maxLifetimeDays: 180 }), (message, urn) => reported.push([message, urn])))()).rejects.toThrow(/can't be known during preview/);
        // What could be judged was reported first: the engine keeps it beside the advisory.
        expect(reported.map(([, urn]) => urn)).toEqual([untagged.urn]);
        await expect((async () => policy.validateStack(stack([], { maxLifetimeDays: 0 }), () => undefined))()).rejects.toThrow(PolicyConfigError);
    });
});

/** A stack of test/fixtures/policy/stack-escapes.json: resources, what each input is computed from, the findings due. */
interface StackEscapeCase {
    readonly name: string;
    readonly config?: Record<string, unknown>;
    readonly resources: readonly {
        readonly type: string;
        readonly name: string;
        readonly props: Record<string, unknown>;
        readonly dependencies?: Record<string, readonly string[]>;
        readonly expiresInDays?: number;
    }[];
    readonly findings: readonly { readonly resource: string; readonly contains: readonly string[] }[];
}

const stackEscapes = (JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/policy/stack-escapes.json"), "utf8")) as { cases: StackEscapeCase[] }).cases;

describe("every stack of stack-escapes.json is judged by keyvault-credential-source-expiry's validateStack", () => {
    const urnOf = (type: string, name: string) => `urn:pulumi:dev::legacy::${type}::${name}`;

    /** The case's resources as @pulumi/policy hands them to a stack policy: dependencies as the resources themselves. */
    const stackOf = (escape: StackEscapeCase): StackResource[] => {
        const resources = escape.resources.map((r) => {
            const props = structuredClone(r.props);
            if (r.expiresInDays !== undefined) {
                const expires = nowSeconds + r.expiresInDays * day;
                if (r.type === azureClassicSecretType) props["expirationDate"] = new Date(expires * 1000).toISOString();
                else (props["properties"] as { attributes: Record<string, unknown> }).attributes["expires"] = expires;
            }
            return { type: r.type, name: r.name, urn: urnOf(r.type, r.name), props, propertyDependencies: {} as Record<string, StackResource[]> };
        });
        const byName = new Map(resources.map((r) => [r.name, r]));
        escape.resources.forEach((r, i) => {
            for (const [input, names] of Object.entries(r.dependencies ?? {})) {
                resources[i]!.propertyDependencies[input] = names.map((name) => {
                    const source = byName.get(name);
                    if (!source) throw new Error(`${escape.name}: ${r.name} depends on ${name}, which the case does not hold`);
                    return source;
                });
            }
        });
        return resources;
    };

    it("has violations and stacks that pass, across the provider's secret types", () => {
        expect(stackEscapes.filter((c) => c.findings.length > 0).length).toBeGreaterThanOrEqual(4);
        expect(stackEscapes.some((c) => c.findings.length === 0)).toBe(true);
        const types = new Set(stackEscapes.flatMap((c) => c.resources.map((r) => r.type)));
        for (const type of ["azure-native:keyvault:Secret", "azure-native:keyvault/v20230701:Secret", azureClassicSecretType]) expect(types.has(type), type).toBe(true);
    });

    it.each(stackEscapes.map((c) => [c.name, c] as const))("%s", async (_, escape) => {
        const policy = policyNamed(keyVaultSourcesPolicy);
        const reported: { message: string; urn: string | undefined }[] = [];
        const args: StackValidationArgs = {
            resources: stackOf(escape) as unknown as PolicyResource[],
            stackTags: new Map(),
            getConfig: <T extends object>() => (escape.config ?? {}) as T,
            notApplicable: (): never => {
                throw new Error("notApplicable");
            },
        };
        await policy.validateStack(args, (message, urn) => reported.push({ message, urn }));
        const urns = new Map(escape.resources.map((r) => [urnOf(r.type, r.name), r.name]));
        expect(reported.map((r) => urns.get(r.urn ?? ""))).toEqual(escape.findings.map((f) => f.resource));
        escape.findings.forEach((finding, i) => {
            for (const text of finding.contains) expect(reported[i]!.message).toContain(text);
            expect(reported[i]!.message).not.toContain("MOCKSECRET");
            expect(reported[i]!.message).not.toMatch(rawControl);
        });
    });
});
