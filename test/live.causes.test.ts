import * as fs from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliIo } from "../cli/io";
import type { StatusReport } from "../cli/live/status";
import type { StacksStatus } from "../cli/live/statusStacks";
import { SignInError, signIn, signInCause, signInFailure, signInObserver } from "../cli/live/signIn";
import { main } from "../cli/main";
import type { StackModel } from "../infra/model/model";
import { stackTag } from "../rotation/identifiers";
import { projectDir } from "./support/cli";
import { type Deployment, emulatorIo } from "./support/deployedStack";
import type { Emulator, FaultSettings } from "./support/emulator";
import { repoRoot } from "./support/program";
import { deploySample } from "./support/sampleTenant";

/**
 * The live commands name the real cause when the sign-in service or Graph answers unusually, against the
 * emulator with the real @azure/identity (and the MSAL Node it bundles) and our Graph client: a sign-in
 * service that answers 503 (said as unavailable, with no configuration advice), a tenant that does not exist
 * (named), and Graph refusing or ignoring `$expand=federatedIdentityCredentials` (read per application).
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
/** A tenant id no emulated tenant has. */
const ghostTenant = "7c8d3a5e-1111-4222-8333-944455556666";
const smallRetries = { retryOptions: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 } };

let emulator: Emulator;
let model: StackModel;
let deployment: Deployment;
let reader: { appId: string; secret: string };

beforeEach(async () => {
    ({ emulator, model, deployment } = await deploySample(deployedAt));
    const app = emulator.state.addApplication({ displayName: "rotor-operator-observed", graphPermissions: ["Application.Read.All", "Policy.Read.All"] });
    reader = { appId: app.appId, secret: emulator.state.addPassword(app, { lifetimeDays: 365 }).secretText };
});
afterEach(async () => {
    await emulator.close();
});

type Factory = NonNullable<CliIo["credential"]>;

/** The operator's credential as the CLI asks for it: in the tenant asked, with the options that let rotor see the sign-in service's answers. */
const observed: Factory = (endpoints, tenantId, options) =>
    new ClientSecretCredential(tenantId ?? emulator.tenantId, reader.appId, reader.secret, { ...emulator.credentialOptions, ...(endpoints ? { authorityHost: endpoints.authorityHost } : {}), ...options, ...smallRetries });
/** One that ignores those options, as a credential made elsewhere would: only the SDK's error is known. */
const unobserved: Factory = (_endpoints, tenantId) => new ClientSecretCredential(tenantId ?? emulator.tenantId, reader.appId, reader.secret, { ...emulator.credentialOptions, ...smallRetries });

async function rotor(args: readonly string[], credential: Factory, options: { cwd?: string; env?: Record<string, string> } = {}) {
    const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
    emulator.clock.set(deployedAt);
    const io = emulatorIo(emulator, deployment, null as unknown as TokenCredential, deployedAt, out);
    const code = await main([...args, ...(options.cwd ? [] : ["--dir", repoRoot])], { ...io, credential, ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...io.env, ...options.env } });
    return { code, ...out };
}

const configurationAdvice = /AZURE_AUTHORITY_HOST|--cloud|az login|Status code: 400/;

describe("the sign-in service answers 503 temporarily_unavailable (AADSTS90033)", () => {
    const unavailable = /^rotor: cannot sign in to Azure: the sign-in service \(https:\/\/127\.0\.0\.1:\d+\) answered 503/;

    it.each<[string, FaultSettings["signInOutage"], RegExp]>([
        ["with Entra's JSON and a Retry-After", { retryAfterSeconds: 0 }, / answered 503 temporarily_unavailable \(AADSTS90033: A transient error has occurred\.\): it is unavailable for now, not misconfigured; try again later \(it asked to retry after 0 s\)/],
        ["with Entra's JSON and no Retry-After", {}, / answered 503 temporarily_unavailable \(AADSTS90033: A transient error has occurred\.\): it is unavailable for now, not misconfigured; try again later, and check https:\/\/azure\.status\.microsoft$/m],
        ["in plain text, which MSAL reports as network_error", { body: "text" }, / answered 503: it is unavailable for now, not misconfigured; try again later/],
        ["for the tenant's metadata too, which MSAL reports as endpoints_resolution_error", { metadata: true }, / answered 503 temporarily_unavailable \(AADSTS90033: A transient error has occurred\.\): it is unavailable/],
    ])("rotor status says the service answered 503 and to retry later, %s, without configuration advice", async (_case, outage, said) => {
        emulator.setFaults({ signInOutage: outage });
        const run = await rotor(["status", "--stack", "dev"], observed);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toMatch(unavailable);
        expect(run.stderr).toMatch(said);
        expect(run.stderr).not.toMatch(configurationAdvice);
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(emulator.requests.filter({ service: "login", status: 503 }).length).toBeGreaterThan(0);
    });

    it("says so through the default chain, whose EnvironmentCredential reports every failure as status 400", async () => {
        emulator.setFaults({ signInOutage: { retryAfterSeconds: 0 } });
        const env = { AZURE_TENANT_ID: emulator.tenantId, AZURE_CLIENT_ID: reader.appId, AZURE_CLIENT_SECRET: reader.secret, AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9" };
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        // EnvironmentCredential reads process.env; the managed identity endpoint is a closed port here, never 169.254.169.254.
        Object.assign(process.env, env);
        try {
            const run = await rotor(["status", "--stack", "dev"], undefined as unknown as Factory, { env });
            expect(run.code).toBe(1);
            expect(run.stderr).toMatch(unavailable);
            expect(run.stderr).toContain("answered 503 temporarily_unavailable (AADSTS90033: A transient error has occurred.)");
            expect(run.stderr).not.toMatch(configurationAdvice);
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    });

    it("says it from the SDK's error alone when the credential was not observed", async () => {
        emulator.setFaults({ signInOutage: {} });
        const run = await rotor(["status", "--stack", "dev"], unobserved);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: cannot sign in to Azure: the sign-in service \(https:\/\/127\.0\.0\.1:\d+\) answered temporarily_unavailable \(AADSTS90033: A transient error has occurred\.\): it is unavailable for now, not misconfigured; try again later/);
        expect(run.stderr).not.toMatch(configurationAdvice);
    });

    it("says it when the outage begins after the first token, at Key Vault's", async () => {
        const once: Factory = (endpoints, tenantId, options) => {
            const credential = observed(endpoints, tenantId, options);
            return {
                getToken: async (scopes, getOptions) => {
                    const token = await credential.getToken(scopes, getOptions);
                    emulator.setFaults({ signInOutage: {} });
                    return token;
                },
            };
        };
        const run = await rotor(["status", "--stack", "dev"], once);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(unavailable);
        expect(run.stderr).toContain("answered 503 temporarily_unavailable (AADSTS90033: A transient error has occurred.)");
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    });
});

describe("configuration advice for configuration errors only", () => {
    it("says the sign-in service could not be reached, and to check AZURE_AUTHORITY_HOST, when nothing answers there", async () => {
        const run = await rotor(["status", "--stack", "dev"], observed, { env: { AZURE_AUTHORITY_HOST: "https://127.0.0.1:9" } });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: cannot sign in to Azure: the sign-in service \(https:\/\/127\.0\.0\.1:9\) could not be reached \(ECONNREFUSED\); check AZURE_AUTHORITY_HOST and --cloud/);
        expect(run.stderr).not.toMatch(/AADSTS90002|was not found/);
    });
});

describe("a sign-in that outlasts the deadline while the SDK waits out a 503's Retry-After", () => {
    it("says the service answered 503 and asked to wait, not how to sign in", async () => {
        emulator.setFaults({ signInOutage: { retryAfterSeconds: 2 } });
        const observer = signInObserver();
        // One retry: the SDK honours Retry-After on a 503, so this attempt is still waiting when the deadline passes.
        const credential = new ClientSecretCredential(emulator.tenantId, reader.appId, reader.secret, { ...emulator.credentialOptions, ...observer.credentialOptions, retryOptions: { maxRetries: 1 } });
        const failure = await signIn(credential, "https://graph.microsoft.com/.default", 400, { authorityHost: emulator.authorityHost, answer: observer.last }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(SignInError);
        expect((failure as Error).message).toMatch(/^cannot sign in to Azure: the sign-in service \(https:\/\/127\.0\.0\.1:\d+\) answered 503 temporarily_unavailable \(AADSTS90033: A transient error has occurred\.\): it is unavailable for now, not misconfigured; try again later \(it asked to retry after 2 s\)/);
        expect((failure as Error).message).not.toMatch(configurationAdvice);
    });
});

describe("the cause from the SDK's words alone, as each credential words it", () => {
    const target = { authorityHost: "https://login.microsoftonline.com", tenantId: ghostTenant };
    it.each<[string, string, string]>([
        ["MSAL's replay of a throttled answer, which keeps only the code", "90033: AADSTS90033: A transient error has occurred. Please try again.\r\nTrace ID: 1", "unavailable"],
        ["IdentityClient's own status (managed identity, refresh)", "temporarily_unavailable Status code: 503\nMore details:\nAADSTS90006: The service is temporarily unavailable.", "unavailable"],
        ["EnvironmentCredential's 400 around an unreadable answer", "EnvironmentCredential authentication failed. Status code: 400\nMore details:\nnetwork_error: See https://aka.ms/msal.js.errors#network_error for details,", "unreachable"],
        ["a refused connection", "connect ECONNREFUSED 127.0.0.1:443", "unreachable"],
        ["the Azure CLI's text for an unknown tenant", "ERROR: AADSTS90002: Tenant 'contoso.onmicrosoft.example' not found. Check to make sure you have the correct tenant ID.", "tenantNotFound"],
        ["MSAL's endpoints_resolution_error", "endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details", "tenantNotFound"],
        ["an invalid secret", "invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided.", "refused"],
        ["a chain whose every credential was unavailable", "ChainedTokenCredential authentication failed.\nCredentialUnavailableError: EnvironmentCredential is unavailable. ManagedIdentityCredential: network_error ECONNREFUSED, unavailable", "noCredential"],
    ])("%s", (_case, message, kind) => {
        expect(signInCause(new Error(message), target).kind).toBe(kind);
        expect(signInFailure(new Error(message), target)).not.toMatch(/[\r\n]/);
    });

    it("trusts the observed answer over EnvironmentCredential's status 400", () => {
        const cause = signInCause(new Error("EnvironmentCredential authentication failed. Status code: 400\nMore details:\nnetwork_error: See https://aka.ms/msal.js.errors#network_error"), { ...target, answer: () => ({ status: 503, retryAfterSeconds: 30 }) });
        expect(cause).toEqual({ kind: "unavailable", status: 503, retryAfterSeconds: 30 });
    });

    it("shows what a service said through the terminal escaping", () => {
        const said = signInFailure(new Error("temporarily_unavailable: Description: AADSTS90033: A transient\u001b[31m error."), target);
        expect(said).toContain("AADSTS90033: A transient\\e[31m error.");
        expect(said).not.toContain("\u001b");
    });
});

describe("a stack whose tenant does not exist (AADSTS90002)", () => {
    const notFound = (tenant: string) => new RegExp(`the tenant ${tenant} was not found by the sign-in service \\(https://127\\.0\\.0\\.1:\\d+\\) \\(AADSTS90002\\): check the tenant id`);

    it("is its own row in rotor status --all-stacks, naming the tenant; the other stack is read", async () => {
        const app = { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }], credentials: [{ name: "main", type: "secret" }] };
        const dir = projectDir({
            ghost: { config: { "azuread:tenantId": ghostTenant, "entra-rotor:keyVault": { name: "kv-ghost-id", resourceGroup: "rg-identity" }, "entra-rotor:apps": [app] } },
            home: { config: { "azuread:tenantId": emulator.tenantId, "entra-rotor:keyVault": { name: model.keyVault!.name, resourceGroup: "rg-identity" }, "entra-rotor:apps": [app] } },
        });
        try {
            const run = await rotor(["status", "--all-stacks", "--format", "json"], observed, { cwd: dir });
            expect(run.code).toBe(1);
            const doc = JSON.parse(run.stdout) as StacksStatus;
            const ghost = doc.stacks.find((s) => s.stack === "ghost")!;
            expect(ghost.tenantId).toBe(ghostTenant);
            expect(ghost.error).toMatch(notFound(ghostTenant));
            expect(ghost.error).not.toMatch(/az login|no credential is available/);
            expect(doc.stacks.find((s) => s.stack === "home")!.error).toBeNull();
            const table = await rotor(["status", "--all-stacks"], observed, { cwd: dir });
            expect(table.stdout).toMatch(new RegExp(`ghost +ERROR .*the tenant ${ghostTenant} was not found`));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it.each<[string, FaultSettings["unknownTenant"]]>([
        ["its metadata answers 400 invalid_tenant", undefined],
        ["the token endpoint answers 400 invalid_request, as after MSAL's built-in metadata of login.microsoftonline.com", { metadata: "served" }],
        ["the token endpoint answers 400 invalid_tenant", { metadata: "served", tokenError: "invalid_tenant" }],
    ])("names the tenant when %s", async (_case, answers) => {
        emulator.setFaults({ unknownTenant: answers });
        const run = await rotor(["status", "--stack", "dev", "--tenant", ghostTenant], observed);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(new RegExp(`^rotor: cannot sign in to Azure: ${notFound(ghostTenant).source}`));
        expect(run.stderr).not.toMatch(/az login|no credential is available/);
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    });

    it("names the tenant, as a probable cause, when MSAL only says it could not resolve the tenant's endpoints", async () => {
        const run = await rotor(["status", "--stack", "dev", "--tenant", ghostTenant], unobserved);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(new RegExp(`gave no sign-in endpoints for the tenant ${ghostTenant}: the tenant may not exist in this cloud \\(AADSTS90002\\)`));
        expect(run.stderr).not.toMatch(/az login|no credential is available/);
    });
});

describe("Graph and $expand=federatedIdentityCredentials on the application list", () => {
    const listRoute = "GET /v1.0/applications";
    const perAppRoute = "GET /v1.0/applications/{id}/federatedIdentityCredentials";
    const report = async () => {
        emulator.requests.clear();
        const run = await rotor(["status", "--stack", "dev", "--format", "json"], observed);
        return { run, rows: (JSON.parse(run.stdout) as StatusReport).rows };
    };

    it("reads federated credentials the same whether Graph honours, ignores or refuses the expansion; per application only when it must, deciding once", async () => {
        // One credential added by hand: status must see it however it is read.
        emulator.state.addFederatedCredential(deployment.apps.get("mail-sender")!, { name: "by-hand", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/mail:environment:prod" });
        const honoured = await report();
        expect(honoured.run.stderr).toBe("");
        expect(honoured.rows.filter((r) => r.kind === "federated").map((r) => `${r.app}/${r.credential}: ${r.status}`)).toEqual(
            expect.arrayContaining(["ci-deployer/github-production: ok", "mail-sender/by-hand: unmanaged"]),
        );
        expect(emulator.requests.count({ route: perAppRoute })).toBe(0);
        expect(emulator.requests.count({ route: listRoute })).toBe(1);

        emulator.setFaults({ federatedExpansion: { mode: "ignored" } });
        const ignored = await report();
        expect(ignored.run.code).toBe(honoured.run.code);
        expect(ignored.rows).toEqual(honoured.rows);
        expect(emulator.requests.count({ route: perAppRoute })).toBe(model.apps.length);

        for (const code of ["ExpandNotSupported", "Request_UnsupportedQuery"]) {
            emulator.setFaults({ federatedExpansion: { mode: "refused", code } });
            const refused = await report();
            expect(refused.run.stderr).toBe("");
            expect(refused.run.code).toBe(honoured.run.code);
            expect(refused.rows).toEqual(honoured.rows);
            // One refusal, one plain list, then each application on its own.
            expect(emulator.requests.filter({ service: "graph", status: 400 }).length).toBe(1);
            expect(emulator.requests.count({ route: listRoute })).toBe(2);
            expect(emulator.requests.count({ route: perAppRoute })).toBe(model.apps.length);
        }
    });

    it("asks for the expansion once a run, not on every page, when the stack's applications fill several pages", async () => {
        // 250 more applications with the stack's tag (no app tag): three pages of 100 when expanded.
        for (let i = 0; i < 250; i++) emulator.state.addApplication({ displayName: `tagged-${i}`, tags: [stackTag(model.project, model.stack)] });
        const honoured = await report();
        expect(honoured.run.code).toBe(0);
        expect(emulator.requests.count({ route: listRoute })).toBe(3);
        emulator.setFaults({ federatedExpansion: { mode: "refused" } });
        const refused = await report();
        expect(refused.run.code).toBe(0);
        expect(refused.rows).toEqual(honoured.rows);
        expect(emulator.requests.filter({ service: "graph", status: 400 }).length).toBe(1);
        // The plain list takes up to 999 a page: one request after the refusal.
        expect(emulator.requests.count({ route: listRoute })).toBe(2);
    });

    it("names Graph's failure of the per-application reads it falls back to", async () => {
        emulator.setFaults({ federatedExpansion: { mode: "refused" }, serverError: { status: 503, next: 1_000, retryAfterSeconds: 0, services: ["graph"], routes: [perAppRoute] } });
        const run = await rotor(["status", "--stack", "dev"], observed);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Microsoft Graph \(https:\/\/127\.0\.0\.1:\d+\) answered 503 serviceNotAvailable: the service is failing/);
    }, 30_000);
});

describe("the emulator's switches answer as Entra and Graph do", () => {
    it("signInOutage: 503 temporarily_unavailable with AADSTS90033, Retry-After when asked; metadata only with metadata", async () => {
        emulator.setFaults({ signInOutage: { retryAfterSeconds: 7 } });
        const token = await fetch(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials", client_id: reader.appId, client_secret: reader.secret, scope: "https://graph.microsoft.com/.default" }) });
        expect(token.status).toBe(503);
        expect(token.headers.get("retry-after")).toBe("7");
        const body = (await token.json()) as { error: string; error_description: string; error_codes: number[] };
        expect(body).toMatchObject({ error: "temporarily_unavailable", error_codes: [90033] });
        expect(body.error_description).toMatch(/^AADSTS90033: A transient error has occurred\. Please try again\.\r\nTrace ID: /);
        expect((await fetch(`${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
        emulator.setFaults({ signInOutage: { metadata: true, body: "text" } });
        const metadata = await fetch(`${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);
        expect([metadata.status, await metadata.text()]).toEqual([503, "Service Unavailable"]);
    });

    it("unknownTenant: metadata 400 invalid_tenant, token endpoint 400 invalid_request, both AADSTS90002 naming the tenant", async () => {
        const metadata = await fetch(`${emulator.authorityHost}/${ghostTenant}/v2.0/.well-known/openid-configuration`);
        expect(metadata.status).toBe(400);
        expect(await metadata.json()).toMatchObject({ error: "invalid_tenant", error_codes: [90002], error_description: expect.stringContaining(`AADSTS90002: Tenant '${ghostTenant}' not found.`) });
        const token = await fetch(`${emulator.authorityHost}/${ghostTenant}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials" }) });
        expect([token.status, ((await token.json()) as { error: string }).error]).toEqual([400, "invalid_request"]);
        emulator.setFaults({ unknownTenant: { metadata: "served", tokenError: "invalid_tenant" } });
        const served = await fetch(`${emulator.authorityHost}/${ghostTenant}/v2.0/.well-known/openid-configuration`);
        expect(((await served.json()) as { issuer: string }).issuer).toBe(`${emulator.authorityHost}/${ghostTenant}/v2.0`);
        const again = await fetch(`${emulator.authorityHost}/${ghostTenant}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials" }) });
        expect(((await again.json()) as { error: string }).error).toBe("invalid_tenant");
    });

    it("federatedExpansion: the relationship left out, or Graph's 400 with the code asked for", async () => {
        const { token } = (await observed(undefined as never, undefined, undefined).getToken("https://graph.microsoft.com/.default"))!;
        const list = () => fetch(`${emulator.graphEndpoint}/v1.0/applications?$select=id,displayName&$expand=federatedIdentityCredentials`, { headers: { authorization: `Bearer ${token}` } });
        const honoured = (await (await list()).json()) as { value: Record<string, unknown>[] };
        expect(honoured.value.every((a) => Array.isArray(a["federatedIdentityCredentials"]))).toBe(true);
        emulator.setFaults({ federatedExpansion: { mode: "ignored" } });
        const ignored = await list();
        expect(ignored.status).toBe(200);
        expect(((await ignored.json()) as { value: Record<string, unknown>[] }).value.some((a) => "federatedIdentityCredentials" in a)).toBe(false);
        emulator.setFaults({ federatedExpansion: { mode: "refused" } });
        const refused = await list();
        expect(refused.status).toBe(400);
        expect(await refused.json()).toMatchObject({ error: { code: "ExpandNotSupported", message: "Expand is not allowed for property 'FederatedIdentityCredentials' according to the entity schema.", innerError: { "request-id": expect.any(String) } } });
        emulator.setFaults({ federatedExpansion: { mode: "refused", code: "Request_UnsupportedQuery", message: "Unsupported Query." } });
        expect(await (await list()).json()).toMatchObject({ error: { code: "Request_UnsupportedQuery", message: "Unsupported Query." } });
    });
});
