import { execFile } from "node:child_process";
import { constants, createHash, sign } from "node:crypto";
import * as https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ClientCertificateCredential, type ClientSecretCredentialOptions, ClientSecretCredential } from "@azure/identity";
import { SecretClient, type SecretProperties } from "@azure/keyvault-secrets";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AccessTokenClaims, type Application, type Emulator, createCertificateAuthority, startEmulator } from "./support/emulator";
import { type GraphReply, graphGet as get, testRetryOptions as retryOptions } from "./support/graphReader";
import { applicationProperties } from "./support/emulator/graph";

/**
 * The local Azure emulator, proven with the real SDKs over HTTPS: @azure/identity against the token
 * endpoint, @azure/keyvault-secrets against Key Vault, fetch against Graph. TLS verification stays on; the
 * workers trust the emulator's CA through NODE_EXTRA_CA_CERTS from the globalSetup.
 */

const start = "2026-11-23T06:00:00Z";
const graphScope = "https://graph.microsoft.com/.default";

let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({ now: start });
});

afterEach(() => {
    emulator.clearFaults();
    emulator.clock.set(start);
});

afterAll(async () => {
    await emulator.close();
});

function credentialOptions(extra: ClientSecretCredentialOptions = {}): ClientSecretCredentialOptions {
    return { ...emulator.credentialOptions, retryOptions, ...extra };
}

function secretCredential(app: Application, secret: string, extra: ClientSecretCredentialOptions = {}): ClientSecretCredential {
    return new ClientSecretCredential(emulator.tenantId, app.appId, secret, credentialOptions(extra));
}

function decodeClaims(token: string): AccessTokenClaims {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as AccessTokenClaims;
}

/** An app allowed to read Graph, and a token for it. */
async function graphReader(permissions: readonly string[] = ["Application.Read.All", "Policy.Read.All", "Organization.Read.All"], tenantId?: string) {
    const app = emulator.state.addApplication({ displayName: "rotor-reader", graphPermissions: permissions, ...(tenantId ? { tenantId } : {}) });
    const { secretText } = emulator.state.addPassword(app);
    const credential = new ClientSecretCredential(tenantId ?? emulator.tenantId, app.appId, secretText, credentialOptions());
    const token = await credential.getToken(graphScope);
    return { app, token: token.token };
}

const graphGet = (pathOrUrl: string, token?: string, headers: Record<string, string> = {}) => get(emulator, pathOrUrl, token, headers);

function errorOf(reply: GraphReply): { code: string; message: string } {
    return reply.body.error as { code: string; message: string };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    throw new Error("expected the promise to reject");
}

describe("TLS trust", () => {
    it("is trusted by the test workers through NODE_EXTRA_CA_CERTS from the globalSetup, with verification on", async () => {
        expect(emulator.trustedByEnvironment).toBe(true);
        expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
        const response = await fetch(`${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);
        expect(response.status).toBe(200);
    });

    it("is refused by a client that trusts another CA, so verification really happens", async () => {
        const other = createCertificateAuthority("some other CA");
        const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
            https
                .get(`${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`, { ca: other.certificatePem }, () => reject(new Error("connected")))
                .on("error", resolve);
        });
        expect(error.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);

        const app = emulator.state.addApplication();
        const { secretText } = emulator.state.addPassword(app);
        // The SDKs' tlsOptions replace the trusted CAs: the fallback for processes without NODE_EXTRA_CA_CERTS.
        await expect(secretCredential(app, secretText, { tlsOptions: { ca: other.certificatePem }, retryOptions: { maxRetries: 0 } }).getToken(graphScope)).rejects.toThrow();
        await expect(secretCredential(app, secretText, { tlsOptions: emulator.tlsOptions }).getToken(graphScope)).resolves.toMatchObject({ token: expect.any(String) });
    });

    it("is trusted by a spawned process given emulator.environment(), and only then", async () => {
        const run = promisify(execFile);
        const url = `${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
        const script = `fetch(${JSON.stringify(url)}).then(r => console.log(r.status), e => console.log(e.cause?.code ?? e.message))`;
        const trusted = await run(process.execPath, ["-e", script], { env: { ...process.env, ...emulator.environment() } });
        expect(trusted.stdout.trim()).toBe("200");
        const { NODE_EXTRA_CA_CERTS: _dropped, ...withoutCa } = process.env;
        const untrusted = await run(process.execPath, ["-e", script], { env: withoutCa });
        expect(untrusted.stdout.trim()).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);
    });
});

describe("token endpoint with @azure/identity", () => {
    it("issues a client-credentials token for a client secret, with the caller's identity in the claims", async () => {
        const app = emulator.state.addApplication({ displayName: "mail-sender", graphPermissions: ["Application.Read.All"] });
        const { secretText } = emulator.state.addPassword(app);
        const token = await secretCredential(app, secretText).getToken(graphScope);
        const claims = decodeClaims(token.token);
        expect(claims).toMatchObject({
            aud: "https://graph.microsoft.com",
            appid: app.appId,
            appidacr: "1",
            tid: emulator.tenantId,
            oid: emulator.state.servicePrincipalOf(app)?.id,
            roles: ["Application.Read.All"],
            idtyp: "app",
        });
        expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3000_000);
        expect(emulator.requests.count({ route: "POST /{tenant}/oauth2/v2.0/token", caller: app.appId, status: 200 })).toBe(1);
    });

    it("rejects an expired secret with AADSTS7000222, judged by the emulator clock", async () => {
        const app = emulator.state.addApplication();
        const { secretText } = emulator.state.addPassword(app, { endDateTime: "2027-01-01T00:00:00Z" });
        await expect(secretCredential(app, secretText).getToken(graphScope)).resolves.toBeDefined();
        emulator.clock.set("2027-01-01T00:00:01Z");
        const error = await rejection(secretCredential(app, secretText).getToken(graphScope));
        const firstLine = error.message.split("\n")[0];
        expect(firstLine).toContain(`AADSTS7000222: The provided client secret keys for app '${app.appId}' are expired.`);
        expect(firstLine).toMatch(/^invalid_client: /);
    });

    it("rejects a wrong secret with AADSTS7000215 and an unknown app with AADSTS700016", async () => {
        const app = emulator.state.addApplication();
        emulator.state.addPassword(app);
        await expect(secretCredential(app, "not-the-secret").getToken(graphScope)).rejects.toThrow(/AADSTS7000215: Invalid client secret provided/);
        const unknown = new ClientSecretCredential(emulator.tenantId, "11111111-2222-3333-4444-555555555555", "whatever", credentialOptions());
        await expect(unknown.getToken(graphScope)).rejects.toThrow(/AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory/);
    });

    it("answers an unknown tenant's metadata with AADSTS90002, which MSAL reports as endpoints_resolution_error", async () => {
        const tenant = "99999999-8888-7777-6666-555555555555";
        const metadata = await fetch(`${emulator.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`);
        expect(metadata.status).toBe(400);
        expect(await metadata.json()).toMatchObject({ error: "invalid_tenant", error_codes: [90002] });
        const app = emulator.state.addApplication();
        const { secretText } = emulator.state.addPassword(app);
        const credential = new ClientSecretCredential(tenant, app.appId, secretText, credentialOptions());
        const error = await rejection(credential.getToken(graphScope));
        expect(error.name).toBe("CredentialUnavailableError");
        expect(error.message).toMatch(/endpoints_resolution_error/);
    });

    it("rejects a disabled service principal with AADSTS7000112", async () => {
        const app = emulator.state.addApplication({ displayName: "legacy-sync", accountEnabled: false });
        const { secretText } = emulator.state.addPassword(app);
        await expect(secretCredential(app, secretText).getToken(graphScope)).rejects.toThrow(`AADSTS7000112: Application '${app.appId}'(legacy-sync) is disabled.`);
    });

    it("returns Entra's error body: error, AADSTS description with trace and correlation ids, error_codes, timestamp", async () => {
        const app = emulator.state.addApplication();
        const response = await fetch(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", "client-request-id": "0f0f0f0f-1111-2222-3333-444444444444" },
            body: new URLSearchParams({ grant_type: "client_credentials", client_id: app.appId, client_secret: "wrong", scope: graphScope }),
        });
        expect(response.status).toBe(401);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toMatchObject({ error: "invalid_client", error_codes: [7000215], correlation_id: "0f0f0f0f-1111-2222-3333-444444444444" });
        expect(body.error_description).toMatch(/^AADSTS7000215: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: 0f0f0f0f-1111-2222-3333-444444444444\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s);
        expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
        expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);

        const badScope = await fetch(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "client_credentials", client_id: app.appId, client_secret: "wrong", scope: "https://graph.microsoft.com/Application.Read.All" }),
        });
        expect(await badScope.json()).toMatchObject({ error: "invalid_scope", error_codes: [1002012] });
    });

    it("issues a token for a certificate (PEM with key and certificate) through a PS256 client assertion", async () => {
        const app = emulator.state.addApplication({ displayName: "intune-importer" });
        const certificate = emulator.state.addCertificate(app, { lifetimeDays: 180 });
        const credential = new ClientCertificateCredential(emulator.tenantId, app.appId, { certificate: certificate.pem }, credentialOptions());
        const token = await credential.getToken("https://vault.azure.net/.default");
        expect(decodeClaims(token.token)).toMatchObject({ aud: "https://vault.azure.net", appid: app.appId, appidacr: "2" });
    });

    it("rejects an expired certificate with AADSTS700027, and one never registered as not found", async () => {
        const app = emulator.state.addApplication();
        const certificate = emulator.state.addCertificate(app, { endDateTime: "2027-01-01T00:00:00Z" });
        emulator.clock.set("2027-02-01T00:00:00Z");
        const credential = new ClientCertificateCredential(emulator.tenantId, app.appId, { certificate: certificate.pem }, credentialOptions());
        const thumbprint = certificate.credential.certificate.thumbprintSha256;
        await expect(credential.getToken(graphScope)).rejects.toThrow(
            `AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprint}', Found key 'Start=11/23/2026 06:00:00, End=01/01/2027 00:00:00'`,
        );

        emulator.clock.set(start);
        const stranger = emulator.state.addCertificate(emulator.state.addApplication(), {});
        const wrong = new ClientCertificateCredential(emulator.tenantId, app.appId, { certificate: stranger.pem }, credentialOptions());
        await expect(wrong.getToken(graphScope)).rejects.toThrow(/AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. \[Reason - The key was not found\./);
    });

    it("accepts an RS256 assertion with an x5t (SHA-1) header, as older clients send", async () => {
        const app = emulator.state.addApplication();
        const certificate = emulator.state.addCertificate(app);
        const tokenEndpoint = `${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`;
        const now = Math.floor(Date.now() / 1000);
        const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT", x5t: Buffer.from(certificate.credential.certificate.thumbprintSha1, "hex").toString("base64url") })).toString("base64url");
        const payload = Buffer.from(JSON.stringify({ aud: tokenEndpoint, iss: app.appId, sub: app.appId, jti: "1", nbf: now, exp: now + 600 })).toString("base64url");
        const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key: certificate.privateKeyPem, padding: constants.RSA_PKCS1_PADDING }).toString("base64url");
        const response = await fetch(tokenEndpoint, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "client_credentials",
                client_id: app.appId,
                scope: graphScope,
                client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                client_assertion: `${header}.${payload}.${signature}`,
            }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ token_type: "Bearer", expires_in: 3599, access_token: expect.any(String) });
    });
});

describe("Microsoft Graph", () => {
    it("requires an emulator-issued bearer token (401) and a permission (403), in Graph's error shape", async () => {
        const anonymous = await graphGet("/v1.0/applications");
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.error).toMatchObject({ code: "InvalidAuthenticationToken", message: "Access token is empty.", innerError: { "request-id": expect.any(String) } });
        expect((await graphGet("/v1.0/applications", "not.a.token")).status).toBe(401);

        const { token } = await graphReader([]);
        const denied = await graphGet("/v1.0/applications", token);
        expect(denied.status).toBe(403);
        expect(errorOf(denied)).toMatchObject({ code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." });
    });

    it("pages applications with @odata.nextLink (absolute, opaque $skiptoken) and honours $select", async () => {
        const tenant = emulator.state.addTenant({ displayName: "Paging Inc" });
        emulator.state.generateApplications(250, { tenantId: tenant.id, prefix: "integration" });
        const { token, app: reader } = await graphReader(["Application.Read.All"], tenant.id);
        const seen: Record<string, unknown>[] = [];
        let next: string | undefined = "/v1.0/applications?$select=id,appId,displayName,passwordCredentials&$top=100";
        let pages = 0;
        while (next) {
            const reply = await graphGet(next, token);
            expect(reply.status).toBe(200);
            pages++;
            seen.push(...(reply.body.value as Record<string, unknown>[]));
            next = reply.body["@odata.nextLink"] as string | undefined;
            if (next) {
                expect(next).toMatch(new RegExp(`^${emulator.graphEndpoint}/v1\\.0/applications\\?.*\\$skiptoken=`));
                expect(next).toContain("$select=id,appId,displayName,passwordCredentials");
            }
            if (pages === 1) expect(reply.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials)`);
        }
        expect(pages).toBe(3);
        expect(seen).toHaveLength(251);
        expect(new Set(seen.map((a) => a.id)).size).toBe(251);
        expect(Object.keys(seen[0] ?? {}).sort()).toEqual(["appId", "displayName", "id", "passwordCredentials"]);
        const first = (seen[0]?.passwordCredentials as Record<string, unknown>[])[0];
        expect(first).toEqual({
            customKeyIdentifier: null,
            displayName: "slot-0",
            endDateTime: "2027-06-21T06:00:00.000Z",
            hint: expect.stringMatching(/^.{3}$/),
            keyId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            secretText: null,
            startDateTime: "2026-11-23T06:00:00.000Z",
        });
        expect(emulator.requests.count({ service: "graph", route: "GET /v1.0/applications", caller: reader.appId })).toBe(3);
    });

    it("filters by appId (eq and in), refuses more than 15 ORed values, and rejects unknown $select properties", async () => {
        const { token } = await graphReader();
        const apps = emulator.state.generateApplications(3, { prefix: "filter" }).map((g) => g.application);
        const [a, b, c] = apps as [Application, Application, Application];
        const one = await graphGet(`/v1.0/applications?$filter=appId eq '${a.appId}'&$select=appId`, token);
        expect(one.body.value).toEqual([{ id: a.id, appId: a.appId }]);
        const two = await graphGet(`/v1.0/applications?$filter=appId in ('${b.appId}', '${c.appId.toUpperCase()}')&$select=displayName`, token);
        expect((two.body.value as { displayName: string }[]).map((x) => x.displayName)).toEqual([b.displayName, c.displayName]);

        const many = Array.from({ length: 16 }, (_, i) => `'00000000-0000-0000-0000-${String(i).padStart(12, "0")}'`).join(",");
        const tooMany = await graphGet(`/v1.0/applications?$filter=appId in (${many})`, token);
        expect(tooMany.status).toBe(400);
        expect(errorOf(tooMany)).toEqual({ code: "Request_UnsupportedQuery", message: "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.", innerError: expect.any(Object) });
        expect((await graphGet(`/v1.0/applications?$filter=appId in (${many})`, token, { ConsistencyLevel: "eventual" })).status).toBe(200);

        const typo = await graphGet("/v1.0/applications?$select=id,passwordCredential", token);
        expect(typo.status).toBe(400);
        expect(errorOf(typo).message).toBe("Could not find a property named 'passwordCredential' on type 'microsoft.graph.application'.");
        expect((await graphGet("/v1.0/applications?$top=1000", token)).status).toBe(400);
    });

    it("returns one application by id or by appId, with keyCredentials' key only when selected", async () => {
        const { token } = await graphReader();
        const app = emulator.state.addApplication({ displayName: "calendar-sync" });
        const certificate = emulator.state.addCertificate(app, { displayName: "CN=calendar-sync" });
        emulator.state.addFederatedCredential(app, { name: "github-main", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/calendar:ref:refs/heads/main" });

        const full = await graphGet(`/v1.0/applications/${app.id}`, token);
        expect(full.status).toBe(200);
        expect(full.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/v1.0/$metadata#applications/$entity`);
        expect(Object.keys(full.body).filter((k) => k !== "@odata.context")).toEqual([...applicationProperties]);
        expect(full.body.keyCredentials).toEqual([
            {
                customKeyIdentifier: Buffer.from(certificate.credential.certificate.thumbprintSha1, "hex").toString("base64"),
                displayName: "CN=calendar-sync",
                endDateTime: "2027-11-23T06:00:00.000Z",
                key: null,
                keyId: certificate.credential.keyId,
                startDateTime: "2026-11-23T06:00:00.000Z",
                type: "AsymmetricX509Cert",
                usage: "Verify",
            },
        ]);

        const byAppId = await graphGet(`/v1.0/applications(appId='${app.appId}')?$select=id,keyCredentials`, token);
        expect(byAppId.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/v1.0/$metadata#applications(id,keyCredentials)/$entity`);
        const key = (byAppId.body.keyCredentials as { key: string }[])[0]?.key ?? "";
        expect(createHash("sha1").update(Buffer.from(key, "base64")).digest("hex").toUpperCase()).toBe(certificate.credential.certificate.thumbprintSha1);

        const federated = await graphGet(`/v1.0/applications/${app.id}/federatedIdentityCredentials`, token);
        expect(federated.body.value).toEqual([
            { id: expect.any(String), name: "github-main", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/calendar:ref:refs/heads/main", description: null, audiences: ["api://AzureADTokenExchange"] },
        ]);

        const missing = await graphGet("/v1.0/applications/00000000-0000-0000-0000-000000000001", token);
        expect(missing.status).toBe(404);
        expect(errorOf(missing).code).toBe("Request_ResourceNotFound");
    });

    it("answers JSON $batch, each inner request authorized, faulted and logged on its own; refuses $expand", async () => {
        const { token } = await graphReader();
        const apps = emulator.state.generateApplications(3, { prefix: "batch", federatedCredentials: 1 }).map((g) => g.application);
        const route = "GET /v1.0/applications/{id}/federatedIdentityCredentials";
        emulator.setFaults({ throttle: { next: 1, retryAfterSeconds: 2, routes: [route] } });
        const response = await fetch(`${emulator.graphEndpoint}/v1.0/$batch`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ requests: apps.map((app, i) => ({ id: String(i), method: "GET", url: `/applications/${app.id}/federatedIdentityCredentials` })) }),
        });
        expect(response.status).toBe(200);
        const { responses } = (await response.json()) as { responses: { id: string; status: number; headers: Record<string, string>; body: { value?: unknown[] } }[] };
        expect(responses.map((r) => [r.id, r.status])).toEqual([["0", 429], ["1", 200], ["2", 200]]);
        expect(responses[0]?.headers["Retry-After"]).toBe("2");
        expect(responses[2]?.body.value).toEqual([expect.objectContaining({ name: "github-0", subject: `repo:contoso/${apps[2]?.displayName}:environment:env-0` })]);
        expect(emulator.requests.filter({ route, batched: true }).map((r) => r.status)).toEqual([429, 200, 200]);

        const expand = await graphGet(`/v1.0/applications/${apps[0]!.id}?$expand=federatedIdentityCredentials`, token);
        expect(expand.status).toBe(400);
        expect(errorOf(expand).message).toBe("$expand is not supported by the entra-rotor emulator.");
    });

    it("expands federatedIdentityCredentials on the list of applications as Graph does: 100 a page whatever $top says, at most 20 each, nothing nested", async () => {
        const { token } = await graphReader();
        const generated = emulator.state.generateApplications(130, { prefix: "expand", federatedCredentials: 2 }).map((g) => g.application);
        const full = generated[0]!;
        for (let i = 2; i < 20; i++) emulator.state.addFederatedCredential(full, { name: `extra-${i}`, issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/x:environment:e${i}` });
        expect(() => emulator.state.addFederatedCredential(full, { name: "one-too-many", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/x:environment:late" })).toThrow(/20 federated identity credentials/);
        const first = await graphGet("/v1.0/applications?$select=id,displayName&$expand=federatedIdentityCredentials&$top=999", token);
        expect(first.status).toBe(200);
        const value = first.body.value as { id: string; federatedIdentityCredentials: { name: string }[] }[];
        expect(value).toHaveLength(100);
        expect(first.body["@odata.nextLink"]).toContain("$expand=federatedIdentityCredentials");
        expect(value.find((a) => a.id === full.id)?.federatedIdentityCredentials).toHaveLength(20);
        expect(value.find((a) => a.id === generated[1]!.id)?.federatedIdentityCredentials.map((f) => f.name)).toEqual(["github-0", "github-1"]);
        const nested = await graphGet("/v1.0/applications?$expand=federatedIdentityCredentials($select=name)", token);
        expect(nested.status).toBe(400);
        const owners = await graphGet("/v1.0/applications?$expand=owners", token);
        expect(owners.status).toBe(400);
        expect(errorOf(owners).message).toContain("only federatedIdentityCredentials on applications");
    });

    it("serves what `rotor doctor` reads: the caller's service principal and grants, organization, app management policies; /me is for users", async () => {
        const { token, app } = await graphReader();
        const claims = decodeClaims(token);
        emulator.state.setCredentialLifetimePolicy({ passwordLifetime: "P180D", asymmetricKeyLifetime: "P365D" });
        emulator.state.addAppManagementPolicy({
            displayName: "short secrets",
            restrictions: { passwordCredentials: [{ restrictionType: "passwordLifetime", maxLifetime: "P90D", restrictForAppsCreatedAfterDateTime: null }], keyCredentials: [] },
            appliesTo: [app],
        });

        const principal = await graphGet(`/v1.0/servicePrincipals(appId='${claims.appid}')`, token);
        expect(principal.body).toMatchObject({ id: claims.oid, appId: app.appId, accountEnabled: true, servicePrincipalType: "Application" });
        const grants = await graphGet(`/v1.0/servicePrincipals/${claims.oid}/appRoleAssignments`, token);
        const graphPrincipal = await graphGet("/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id,appRoles", token);
        const roleNames = (grants.body.value as { appRoleId: string; resourceId: string }[]).map((g) => {
            expect(g.resourceId).toBe(graphPrincipal.body.id);
            return (graphPrincipal.body.appRoles as { id: string; value: string }[]).find((r) => r.id === g.appRoleId)?.value;
        });
        expect(roleNames).toEqual(["Application.Read.All", "Policy.Read.All", "Organization.Read.All"]);

        const organization = await graphGet("/v1.0/organization", token);
        expect(organization.body.value).toEqual([expect.objectContaining({ id: emulator.tenantId, tenantType: "AAD" })]);

        const defaultPolicy = await graphGet("/v1.0/policies/defaultAppManagementPolicy", token);
        expect(defaultPolicy.body).toMatchObject({
            id: "00000000-0000-0000-0000-000000000000",
            isEnabled: true,
            applicationRestrictions: {
                passwordCredentials: [{ restrictionType: "passwordLifetime", maxLifetime: "P180D", restrictForAppsCreatedAfterDateTime: null }],
                keyCredentials: [{ restrictionType: "asymmetricKeyLifetime", maxLifetime: "P365D", restrictForAppsCreatedAfterDateTime: null }],
            },
        });
        const policies = await graphGet("/v1.0/policies/appManagementPolicies", token);
        expect(policies.body.value).toEqual([expect.objectContaining({ displayName: "short secrets", isEnabled: true })]);
        const applied = await graphGet(`/v1.0/applications/${app.id}/appManagementPolicies`, token);
        expect((applied.body.value as unknown[]).length).toBe(1);

        const me = await graphGet("/v1.0/me", token);
        expect(me.status).toBe(400);
        expect(errorOf(me).message).toBe("/me request is only valid with delegated authentication flow.");
    });
});

describe("Key Vault with @azure/keyvault-secrets", () => {
    async function vaultWithReader(name: string) {
        const url = await emulator.addVault(name);
        const app = emulator.state.addApplication({ displayName: `${name}-reader` });
        const { secretText } = emulator.state.addPassword(app);
        const credential = secretCredential(app, secretText);
        const client = new SecretClient(url, credential, { ...emulator.secretClientOptions, retryOptions });
        return { url, app, credential, client };
    }

    it("answers an anonymous request with Key Vault's 401 challenge, which the SDK follows", async () => {
        const { url, client, app } = await vaultWithReader("kv-challenge");
        emulator.state.setSecret("kv-challenge", "mail-sender-main", "s3cret");
        const anonymous = await fetch(`${url}/secrets/mail-sender-main?api-version=2025-07-01`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get("www-authenticate")).toBe(`Bearer authorization="${emulator.authorityHost}/${emulator.tenantId}", resource="https://vault.azure.net"`);
        expect(await anonymous.json()).toEqual({ error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } });

        expect((await client.getSecret("mail-sender-main")).value).toBe("s3cret");
        expect(emulator.requests.filter({ vault: "kv-challenge", route: "GET /secrets/{name}" }).map((r) => r.status)).toEqual([401, 401, 200]);
        expect(emulator.requests.count({ service: "login", route: "POST /{tenant}/oauth2/v2.0/token", caller: app.appId })).toBe(1);
    });

    it("needs disableChallengeResourceVerification: the challenge resource cannot match an IP address", async () => {
        const { url, credential } = await vaultWithReader("kv-verify");
        const strict = new SecretClient(url, credential, { retryOptions });
        await expect(strict.getSecret("anything")).rejects.toThrow(/The challenge resource 'vault.azure.net' does not match the requested domain/);
    });

    it("lists secret properties across pages of 25 (and of maxPageSize), with tags and dates", async () => {
        const { client, app } = await vaultWithReader("kv-list");
        emulator.state.generateSecrets("kv-list", 60, {
            prefix: "app",
            tags: (i) => ({ "rotor-app": `app-${i}`, "rotor-slot": String(i % 2) }),
            expiresOn: (i) => new Date(Date.parse(start) + (i + 1) * 86_400_000),
        });
        const listed: SecretProperties[] = [];
        for await (const properties of client.listPropertiesOfSecrets()) listed.push(properties);
        expect(listed.map((p) => p.name)).toEqual(Array.from({ length: 60 }, (_, i) => `app-${String(i).padStart(2, "0")}`));
        expect(listed[7]).toMatchObject({ tags: { "rotor-app": "app-7", "rotor-slot": "1" }, expiresOn: new Date("2026-12-01T06:00:00Z"), enabled: true, vaultUrl: emulator.keyVaultUrl("kv-list") });
        expect(emulator.requests.count({ vault: "kv-list", route: "GET /secrets", status: 200, caller: app.appId })).toBe(3);

        let pages = 0;
        for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 10 })) {
            pages++;
            expect(page.length).toBe(10);
        }
        expect(pages).toBe(6);
    });

    it("gets a secret's value with tags, expiry and content type; versions; 404 and disabled in Key Vault's shape", async () => {
        const { client } = await vaultWithReader("kv-get");
        const first = emulator.state.setSecret("kv-get", "mail-sender-main", "old-value");
        emulator.clock.advance(60_000);
        emulator.state.setSecret("kv-get", "mail-sender-main", "new-value", {
            tags: { "rotor-generation": "7" },
            contentType: "text/plain",
            notBefore: "2026-11-23T06:00:00Z",
            expiresOn: "2027-06-21T06:00:00Z",
        });
        const current = await client.getSecret("Mail-Sender-Main");
        expect(current.value).toBe("new-value");
        expect(current.properties).toMatchObject({
            name: "mail-sender-main",
            tags: { "rotor-generation": "7" },
            contentType: "text/plain",
            notBefore: new Date("2026-11-23T06:00:00Z"),
            expiresOn: new Date("2027-06-21T06:00:00Z"),
            createdOn: new Date("2026-11-23T06:01:00Z"),
            recoveryLevel: "Recoverable+Purgeable",
        });
        expect((await client.getSecret("mail-sender-main", { version: first.version })).value).toBe("old-value");
        const versions: string[] = [];
        for await (const v of client.listPropertiesOfSecretVersions("mail-sender-main")) versions.push(v.version ?? "");
        expect(versions).toHaveLength(2);

        const missing = await rejection(client.getSecret("nope"));
        expect(missing).toMatchObject({ statusCode: 404, code: "SecretNotFound" });
        first.enabled = false;
        const disabled = await rejection(client.getSecret("mail-sender-main", { version: first.version }));
        expect(disabled).toMatchObject({ statusCode: 403, code: "Forbidden", message: "Operation get is not allowed on a disabled secret." });
    });

    it("writes, updates and deletes secrets through the SDK", async () => {
        const { client } = await vaultWithReader("kv-write");
        const written = await client.setSecret("calendar-sync-main", "v1", { tags: { "rotor-slot": "0" }, expiresOn: new Date("2027-01-01T00:00:00Z") });
        expect(written.properties.version).toMatch(/^[0-9a-f]{32}$/);
        expect(emulator.state.secret("kv-write", "calendar-sync-main")?.versions[0]).toMatchObject({ value: "v1", tags: { "rotor-slot": "0" }, expiresOn: new Date("2027-01-01T00:00:00Z") });
        await client.updateSecretProperties("calendar-sync-main", written.properties.version ?? "", { enabled: false });
        expect(emulator.state.secret("kv-write", "calendar-sync-main")?.versions[0]?.enabled).toBe(false);
        const poller = await client.beginDeleteSecret("calendar-sync-main", { intervalInMs: 1 });
        await poller.pollUntilDone();
        expect(emulator.state.secret("kv-write", "calendar-sync-main")).toBeUndefined();
        await expect(client.setSecret("calendar-sync-main", "v2")).rejects.toMatchObject({ statusCode: 409 });
        await client.purgeDeletedSecret("calendar-sync-main");
        await expect(client.setSecret("calendar-sync-main", "v2")).resolves.toBeDefined();
    });

    it("enforces Azure RBAC when the vault has role assignments: 403 ForbiddenByRbac", async () => {
        const url = await emulator.addVault("kv-rbac", { roleAssignments: [] });
        emulator.state.setSecret("kv-rbac", "s", "v");
        const user = emulator.state.addApplication({ displayName: "consumer" });
        const reader = emulator.state.addApplication({ displayName: "auditor" });
        const vault = emulator.state.vault("kv-rbac");
        vault?.roleAssignments?.push(
            { principalId: emulator.state.servicePrincipalOf(user)?.id ?? "", role: "Key Vault Secrets User" },
            { principalId: emulator.state.servicePrincipalOf(reader)?.id ?? "", role: "Key Vault Reader" },
        );
        const clientFor = (app: Application) => new SecretClient(url, secretCredential(app, emulator.state.addPassword(app).secretText), { ...emulator.secretClientOptions, retryOptions });
        const asUser = clientFor(user);
        expect((await asUser.getSecret("s")).value).toBe("v");
        await expect(asUser.setSecret("s", "x")).rejects.toMatchObject({ statusCode: 403, code: "Forbidden" });
        const asReader = clientFor(reader);
        const names: string[] = [];
        for await (const p of asReader.listPropertiesOfSecrets()) names.push(p.name);
        expect(names).toEqual(["s"]);
        const denied = await rejection(asReader.getSecret("s"));
        expect(denied.message).toMatch(/^Caller is not authorized to perform action on resource\./);
        expect(denied.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    });
});

describe("faults", () => {
    it("throttles with 429 + Retry-After, which the Key Vault SDK's retry policy survives (and the log counts)", async () => {
        const url = await emulator.addVault("kv-throttle");
        emulator.state.setSecret("kv-throttle", "s", "v");
        const app = emulator.state.addApplication();
        const client = new SecretClient(url, secretCredential(app, emulator.state.addPassword(app).secretText), { ...emulator.secretClientOptions, retryOptions });
        emulator.setFaults({ throttle: { next: 2, retryAfterSeconds: 0, services: ["keyVault"] } });
        expect((await client.getSecret("s")).value).toBe("v");
        const throttled = emulator.requests.filter({ vault: "kv-throttle", fault: "throttle" });
        expect(throttled.map((r) => r.status)).toEqual([429, 429]);

        emulator.setFaults({ throttle: { next: 1, retryAfterSeconds: 3, services: ["keyVault"] } });
        const raw = await fetch(`${url}/secrets/s?api-version=2025-07-01`);
        expect(raw.status).toBe(429);
        expect(raw.headers.get("retry-after")).toBe("3");
        expect(await raw.json()).toEqual({ error: { code: "Throttled", message: "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached" } });
    });

    it("throttles every Nth Graph request, in Graph's 429 shape", async () => {
        const { token } = await graphReader();
        emulator.setFaults({ throttle: { every: 3, retryAfterSeconds: 1, services: ["graph"] } });
        const statuses: number[] = [];
        let throttled: GraphReply | undefined;
        for (let i = 0; i < 7; i++) {
            const reply = await graphGet("/v1.0/organization", token);
            statuses.push(reply.status);
            if (reply.status === 429) throttled = reply;
        }
        expect(statuses).toEqual([200, 200, 429, 200, 200, 429, 200]);
        expect(throttled?.headers.get("retry-after")).toBe("1");
        expect(errorOf(throttled as GraphReply).code).toBe("TooManyRequests");
    });

    it("fails with 503 for the next K requests, or at a seeded rate that replays identically", async () => {
        const { token } = await graphReader();
        emulator.setFaults({ serverError: { next: 1, services: ["graph"] } });
        const failed = await graphGet("/v1.0/organization", token);
        expect(failed.status).toBe(503);
        expect(errorOf(failed).code).toBe("serviceNotAvailable");
        expect((await graphGet("/v1.0/organization", token)).status).toBe(200);

        const pattern = async () => {
            emulator.setFaults({ serverError: { rate: 0.3, seed: 7, status: 500, routes: ["GET /v1.0/organization"] } });
            const statuses: number[] = [];
            for (let i = 0; i < 20; i++) statuses.push((await graphGet("/v1.0/organization", token)).status);
            return statuses;
        };
        const once = await pattern();
        expect(once).toContain(500);
        expect(once).toContain(200);
        expect(await pattern()).toEqual(once);
    });

    it("survives a 503 from the token endpoint through @azure/identity's retry policy", async () => {
        const app = emulator.state.addApplication();
        const { secretText } = emulator.state.addPassword(app);
        emulator.setFaults({ serverError: { next: 1, services: ["login"], routes: ["POST /{tenant}/oauth2/v2.0/token"] } });
        await expect(secretCredential(app, secretText).getToken(graphScope)).resolves.toBeDefined();
        expect(emulator.requests.count({ route: "POST /{tenant}/oauth2/v2.0/token", fault: "serverError" })).toBe(1);
    });

    it("rejects new credentials while they replicate: for K attempts, or for a time, like Entra", async () => {
        const app = emulator.state.addApplication();
        const settled = emulator.state.addPassword(app).secretText;
        emulator.setFaults({ replication: { attempts: 2 } });
        const fresh = emulator.state.addPassword(app).secretText;
        await expect(secretCredential(app, fresh).getToken(graphScope)).rejects.toThrow(/AADSTS7000215/);
        await expect(secretCredential(app, fresh).getToken(graphScope)).rejects.toThrow(/AADSTS7000215/);
        await expect(secretCredential(app, fresh).getToken(graphScope)).resolves.toBeDefined();
        // Credentials that existed before the switch are not affected.
        await expect(secretCredential(app, settled).getToken(graphScope)).resolves.toBeDefined();

        const added = Date.now();
        const certificate = emulator.state.addCertificate(app, { replication: { delayMs: 500 } });
        const credential = () => new ClientCertificateCredential(emulator.tenantId, app.appId, { certificate: certificate.pem }, credentialOptions());
        await expect(credential().getToken(graphScope)).rejects.toThrow(/AADSTS700027: .*The key was not found/);
        // Asks again until it is accepted (at most 10 s, far beyond the delay), then checks it was not before 500 ms.
        let accepted: number | undefined;
        while (accepted === undefined && Date.now() - added < 10_000) {
            try {
                await credential().getToken(graphScope);
                accepted = Date.now();
            } catch (error) {
                expect(String(error)).toMatch(/AADSTS700027/);
                await sleep(50);
            }
        }
        expect(accepted, "accepted once replicated").toBeDefined();
        expect(accepted! - added).toBeGreaterThanOrEqual(500);
    });

    it("adds latency per service", async () => {
        const { token } = await graphReader();
        emulator.setFaults({ latencyMs: { graph: 40 } });
        await graphGet("/v1.0/organization", token);
        const [last] = emulator.requests.filter({ service: "graph" }).slice(-1);
        expect(last?.durationMs).toBeGreaterThanOrEqual(39);
    });
});

describe("scale", () => {
    it("seeds 5,000 applications and 5,000 secrets and serves them in few pages (seeding's time: npm run bench)", async () => {
        const big = await startEmulator({ now: start });
        try {
            big.state.generateApplications(5000, { prefix: "bench", graphPermissions: [] });
            await big.addVault("kv-bench");
            big.state.generateSecrets("kv-bench", 5000, { tags: (i) => ({ "rotor-app": `bench-${i}` }) });

            const reader = big.state.addApplication({ graphPermissions: ["Application.Read.All"] });
            const { secretText } = big.state.addPassword(reader);
            const credential = new ClientSecretCredential(big.tenantId, reader.appId, secretText, { ...big.credentialOptions, retryOptions });
            const token = (await credential.getToken(graphScope)).token;
            let next: string | undefined = `${big.graphEndpoint}/v1.0/applications?$select=id,appId,passwordCredentials,keyCredentials&$top=999`;
            let apps = 0;
            while (next) {
                const response = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
                const body = (await response.json()) as { value: unknown[]; "@odata.nextLink"?: string };
                apps += body.value.length;
                next = body["@odata.nextLink"];
            }
            expect(apps).toBe(5001);
            expect(big.requests.count({ route: "GET /v1.0/applications" })).toBe(6);

            const client = new SecretClient(big.keyVaultUrl("kv-bench"), credential, { ...big.secretClientOptions, retryOptions });
            let secrets = 0;
            for await (const _ of client.listPropertiesOfSecrets()) secrets++;
            expect(secrets).toBe(5000);
            expect(big.requests.count({ route: "GET /secrets", status: 200 })).toBe(200);
        } finally {
            await big.close();
        }
    });
});
