import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphClient, type GraphApplicationRecord, type GraphKeyCredential, importApplicationFields, importPaths } from "../azure/graph";
import { removeKeyProof } from "../cli/live/retire";
import { type Application, type Emulator, createClientCertificate, generateRsaKeyPair, startEmulator } from "./support/emulator";
import { operator } from "./support/deployedStack";

/**
 * The emulator's Microsoft Graph, over HTTPS, for what `rotor import` reads (applications with every field it
 * compares, owners, app role assignments, delegated grants, JSON batches of those) and what `rotor retire`
 * writes (removePassword, removeKey), each as the Learn page cited on its describe documents it. Tokens come
 * from the real @azure/identity (operator() in deployedStack.ts); requests go out with fetch.
 */

const start = "2026-11-23T06:00:00Z";
const graphScope = "https://graph.microsoft.com/.default";

let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({ now: start });
});

afterAll(async () => {
    await emulator.close();
});

type Json = Record<string, unknown>;

interface Reply {
    readonly status: number;
    readonly headers: Headers;
    /** The JSON body; null for an empty one (204). */
    readonly body: Json | null;
}

async function call(method: "GET" | "POST", pathOrUrl: string, token: string, body?: unknown): Promise<Reply> {
    const url = pathOrUrl.startsWith("https://") ? pathOrUrl : `${emulator.graphEndpoint}${pathOrUrl}`;
    const response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Json) : null };
}

const get = (pathOrUrl: string, token: string) => call("GET", pathOrUrl, token);
const post = (path: string, token: string, body: unknown) => call("POST", path, token, body);

function errorCode(reply: Reply): string | undefined {
    return (reply.body?.error as { code?: string } | undefined)?.code;
}

function valueOf(reply: Reply): Json[] {
    return (reply.body?.value ?? []) as Json[];
}

/** An operator app holding `permissions` (Graph application permissions), its token and its service principal. */
async function caller(permissions: readonly string[]): Promise<{ token: string; servicePrincipalId: string; op: ReturnType<typeof operator> }> {
    const op = operator(emulator, permissions);
    const token = (await op.credential.getToken(graphScope)).token;
    return { token, servicePrincipalId: op.servicePrincipalId, op };
}

const unknownGuid = "0badf00d-0000-4000-8000-000000000001";

// List applications: https://learn.microsoft.com/graph/api/application-list
// ($select, $top 1-999 and @odata.nextLink paging: https://learn.microsoft.com/graph/paging)
describe("GET /v1.0/applications as rotor import lists them", () => {
    const listPath = `/v1.0/applications?$select=${importApplicationFields.join(",")}&$top=999`;
    let reader: Awaited<ReturnType<typeof caller>>;
    let tenantApplications: number;

    beforeAll(async () => {
        emulator.state.generateApplications(1001, { portal: true, tenantId: emulator.tenantId });
        reader = await caller(["Application.Read.All"]);
        tenantApplications = [...emulator.state.applications.values()].filter((a) => a.tenantId === emulator.tenantId).length;
    });

    it("returns every selected field on every application, in pages of 999 linked by @odata.nextLink", async () => {
        expect(tenantApplications).toBeGreaterThan(1000);
        const first = await get(listPath, reader.token);
        expect(first.status).toBe(200);
        const firstItems = valueOf(first);
        expect(firstItems).toHaveLength(999);
        const nextLink = first.body?.["@odata.nextLink"];
        expect(typeof nextLink).toBe("string");
        const next = new URL(nextLink as string);
        expect(next.origin).toBe(new URL(emulator.graphEndpoint).origin);
        expect(next.pathname).toBe("/v1.0/applications");
        expect(next.searchParams.get("$top")).toBe("999");
        expect(next.searchParams.get("$select")).toBe(importApplicationFields.join(","));
        expect(next.searchParams.get("$skiptoken")).toBeTruthy();

        const second = await get(nextLink as string, reader.token);
        expect(second.status).toBe(200);
        expect(second.body?.["@odata.nextLink"]).toBeUndefined();
        const all = [...firstItems, ...valueOf(second)];
        expect(all).toHaveLength(tenantApplications);
        expect(new Set(all.map((a) => a.id)).size).toBe(tenantApplications);

        const expected = [...importApplicationFields].sort();
        for (const app of all) {
            expect(Object.keys(app).sort()).toEqual(expected);
            expect(app.oauth2RequirePostResponse).toBe(false);
        }
        // keyCredentials carry `key` (the certificate) because keyCredentials is selected.
        const withCertificate = all.find((a) => (a.keyCredentials as unknown[]).length > 0);
        expect(withCertificate).toBeDefined();
        expect((withCertificate!.keyCredentials as Json[])[0]!.key).toMatch(/^[A-Za-z0-9+/]+=*$/);
        const generated = emulator.state.application(all[0]!.id as string)!;
        expect(all[0]).toMatchObject({ appId: generated.appId, displayName: generated.displayName, signInAudience: "AzureADMyOrg" });
    });

    it("is read in two pages by the product's GraphClient.importApplicationPages", async () => {
        const client = new GraphClient(emulator.graphEndpoint, reader.op.credential, graphScope, { maxRetries: 0 });
        const pages: (readonly GraphApplicationRecord[])[] = [];
        for await (const page of client.importApplicationPages()) pages.push(page);
        expect(pages.map((p) => p.length)).toEqual([999, tenantApplications - 999]);
    });

    it("refuses a $select of an unknown property with 400 Request_BadRequest", async () => {
        const reply = await get(`/v1.0/applications?$select=id,appId,notAProperty&$top=999`, reader.token);
        expect(reply.status).toBe(400);
        expect(errorCode(reply)).toBe("Request_BadRequest");
        expect((reply.body?.error as { message: string }).message).toContain("notAProperty");
    });
});

// List owners of an application: https://learn.microsoft.com/graph/api/application-list-owners
// List owners of a servicePrincipal: https://learn.microsoft.com/graph/api/serviceprincipal-list-owners
describe("owners of an application and of its service principal", () => {
    let token: string;
    let app: Application;
    let appOwnerUser: string;
    let ownerPrincipal: string;
    let principalOwnerUser: string;
    let principalId: string;

    beforeAll(async () => {
        token = (await caller(["Application.Read.All"])).token;
        appOwnerUser = emulator.state.addUser({ displayName: "Ada Owner" }).id;
        principalOwnerUser = emulator.state.addUser({ displayName: "Grace Principal-Owner" }).id;
        const deployer = emulator.state.addApplication({ displayName: "pipeline-deployer" });
        ownerPrincipal = emulator.state.servicePrincipalIdOf(deployer);
        app = emulator.state.addApplication({ displayName: "owned-app", owners: [appOwnerUser, ownerPrincipal], servicePrincipalOwners: [principalOwnerUser] });
        principalId = emulator.state.servicePrincipalIdOf(app);
    });

    it("lists an application's owners as directoryObjects typed user or servicePrincipal", async () => {
        const reply = await get(`/v1.0${importPaths.owners("applications", app.id)}`, token);
        expect(reply.status).toBe(200);
        expect(reply.body?.["@odata.context"]).toMatch(/\$metadata#directoryObjects/);
        expect(valueOf(reply)).toEqual([
            { "@odata.type": "#microsoft.graph.user", id: appOwnerUser },
            { "@odata.type": "#microsoft.graph.servicePrincipal", id: ownerPrincipal },
        ]);
    });

    it("lists a service principal's own owners, not its application's", async () => {
        const reply = await get(`/v1.0${importPaths.owners("servicePrincipals", principalId)}`, token);
        expect(reply.status).toBe(200);
        expect(valueOf(reply)).toEqual([{ "@odata.type": "#microsoft.graph.user", id: principalOwnerUser }]);
    });

    it("answers 404 Request_ResourceNotFound for an unknown id and 400 Request_BadRequest for a non-GUID", async () => {
        for (const collection of ["applications", "servicePrincipals"] as const) {
            const missing = await get(`/v1.0/${collection}/${unknownGuid}/owners`, token);
            expect(missing.status, collection).toBe(404);
            expect(errorCode(missing)).toBe("Request_ResourceNotFound");
            const malformed = await get(`/v1.0/${collection}/not-a-guid/owners`, token);
            expect(malformed.status, collection).toBe(400);
            expect(errorCode(malformed)).toBe("Request_BadRequest");
        }
        // An application's object id is not a service principal's.
        expect((await get(`/v1.0/servicePrincipals/${app.id}/owners`, token)).status).toBe(404);
    });
});

// List appRoleAssignments granted to a service principal: https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments
describe("GET /v1.0/servicePrincipals/{id}/appRoleAssignments", () => {
    it("lists the app roles granted to the principal, on any API, with appRoleAssignment's properties", async () => {
        const { token } = await caller(["Application.Read.All"]);
        const api = emulator.state.addApiServicePrincipal({ displayName: "Contoso HR API", appRoles: [{ value: "Employees.Read.All" }] });
        const app = emulator.state.addApplication({ displayName: "hr-sync" });
        const custom = emulator.state.grantAppRole(app, api, "Employees.Read.All");
        const graph = emulator.state.grantAppRole(app, "00000003-0000-0000-c000-000000000000", "User.Read.All");
        const principal = emulator.state.servicePrincipalOf(app)!;

        const reply = await get(`/v1.0${importPaths.appRoleAssignments(principal.id)}`, token);
        expect(reply.status).toBe(200);
        const value = valueOf(reply);
        expect(value).toHaveLength(2);
        expect(value).toContainEqual({
            id: custom.id,
            deletedDateTime: null,
            appRoleId: custom.appRoleId,
            createdDateTime: start.replace("Z", ".000Z"),
            principalDisplayName: "hr-sync",
            principalId: principal.id,
            principalType: "ServicePrincipal",
            resourceDisplayName: "Contoso HR API",
            resourceId: api.id,
        });
        expect(value).toContainEqual(expect.objectContaining({ id: graph.id, appRoleId: graph.appRoleId, resourceId: graph.resourceId, resourceDisplayName: "Microsoft Graph" }));

        const none = emulator.state.addApplication({ displayName: "no-roles" });
        expect(valueOf(await get(`/v1.0${importPaths.appRoleAssignments(emulator.state.servicePrincipalIdOf(none))}`, token))).toEqual([]);
        expect((await get(`/v1.0/servicePrincipals/${unknownGuid}/appRoleAssignments`, token)).status).toBe(404);
    });
});

// List oauth2PermissionGrants: https://learn.microsoft.com/graph/api/oauth2permissiongrant-list
// (the resource: https://learn.microsoft.com/graph/api/resources/oauth2permissiongrant; $filter eq on clientId,
// consentType, principalId, resourceId); a service principal's: https://learn.microsoft.com/graph/api/serviceprincipal-list-oauth2permissiongrants
describe("delegated permission grants", () => {
    let token: string;
    let clientA: string;
    let clientB: string;
    let user: string;
    let apiId: string;

    beforeAll(async () => {
        token = (await caller(["Directory.Read.All"])).token;
        user = emulator.state.addUser({ displayName: "Consenting User" }).id;
        const api = emulator.state.addApiServicePrincipal({ displayName: "Contoso Orders API", oauth2PermissionScopes: [{ value: "Orders.Read", type: "User" }] });
        apiId = api.id;
        const a = emulator.state.addApplication({ displayName: "orders-portal" });
        emulator.state.grantDelegatedGraphPermissions(a, ["User.Read", "Mail.Read"]);
        emulator.state.grantDelegated(a, api, ["Orders.Read"], { consentType: "Principal", principalId: user });
        const b = emulator.state.addApplication({ displayName: "reports-portal", delegatedGraphPermissions: ["User.Read"] });
        clientA = emulator.state.servicePrincipalIdOf(a);
        clientB = emulator.state.servicePrincipalIdOf(b);
    });

    const documented = ["clientId", "consentType", "id", "principalId", "resourceId", "scope"];

    it("answers $filter=clientId eq '…' with exactly that client's grants, in the documented shape", async () => {
        const reply = await get(`/v1.0${importPaths.delegatedGrants(clientA)}`, token);
        expect(reply.status).toBe(200);
        expect(reply.body?.["@odata.context"]).toMatch(/\$metadata#oauth2PermissionGrants$/);
        const value = valueOf(reply);
        expect(value).toHaveLength(2);
        for (const grant of value) {
            expect(Object.keys(grant).sort()).toEqual(documented);
            expect(grant.clientId).toBe(clientA);
        }
        const graphId = emulator.state.resource("00000003-0000-0000-c000-000000000000").id;
        expect(value).toContainEqual(expect.objectContaining({ consentType: "AllPrincipals", principalId: null, resourceId: graphId, scope: "User.Read Mail.Read" }));
        expect(value).toContainEqual(expect.objectContaining({ consentType: "Principal", principalId: user, resourceId: apiId, scope: "Orders.Read" }));

        // GUIDs compare case-insensitively, as Graph's do.
        expect(valueOf(await get(`/v1.0${importPaths.delegatedGrants(clientA.toUpperCase())}`, token))).toHaveLength(2);
        expect(valueOf(await get(`/v1.0${importPaths.delegatedGrants(clientB)}`, token))).toEqual([expect.objectContaining({ clientId: clientB, scope: "User.Read" })]);
        expect(valueOf(await get(`/v1.0${importPaths.delegatedGrants(unknownGuid)}`, token))).toEqual([]);
    });

    it("filters on consentType eq 'AllPrincipals' and refuses a filter on an unsupported property with 400", async () => {
        // The tenant holds the portal apps' grants too: every page, following @odata.nextLink.
        const value: Json[] = [];
        let next: string | undefined = `/v1.0/oauth2PermissionGrants?$filter=${encodeURIComponent("consentType eq 'AllPrincipals'")}&$top=999`;
        while (next) {
            const reply = await get(next, token);
            expect(reply.status).toBe(200);
            value.push(...valueOf(reply));
            next = reply.body?.["@odata.nextLink"] as string | undefined;
        }
        expect(value.length).toBe(emulator.state.oauth2PermissionGrants(emulator.tenantId).filter((g) => g.consentType === "AllPrincipals").length);
        expect(value.every((g) => g.consentType === "AllPrincipals")).toBe(true);
        expect(value.map((g) => g.clientId)).toEqual(expect.arrayContaining([clientA, clientB]));
        expect(value.some((g) => g.resourceId === apiId)).toBe(false);

        const both = await get(`/v1.0/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${clientA}' and consentType eq 'Principal'`)}`, token);
        expect(valueOf(both)).toEqual([expect.objectContaining({ clientId: clientA, principalId: user })]);

        const scope = await get(`/v1.0/oauth2PermissionGrants?$filter=${encodeURIComponent("scope eq 'User.Read'")}`, token);
        expect(scope.status).toBe(400);
        expect(errorCode(scope)).toBe("Request_UnsupportedQuery");
    });

    it("lists a service principal's own grants on /servicePrincipals/{id}/oauth2PermissionGrants", async () => {
        const reply = await get(`/v1.0/servicePrincipals/${clientA}/oauth2PermissionGrants`, token);
        expect(reply.status).toBe(200);
        const value = valueOf(reply);
        expect(value).toHaveLength(2);
        expect(value.every((g) => g.clientId === clientA && Object.keys(g).sort().join() === documented.join())).toBe(true);
        expect(reply.body?.["@odata.context"]).toContain(`servicePrincipals('${clientA}')/oauth2PermissionGrants`);
        expect((await get(`/v1.0/servicePrincipals/${unknownGuid}/oauth2PermissionGrants`, token)).status).toBe(404);
    });

    it("needs Directory.Read.All: 403 Authorization_RequestDenied with only Application.Read.All", async () => {
        const weak = (await caller(["Application.Read.All"])).token;
        for (const path of [`/v1.0${importPaths.delegatedGrants(clientA)}`, `/v1.0/servicePrincipals/${clientA}/oauth2PermissionGrants`]) {
            const refused = await get(path, weak);
            expect(refused.status, path).toBe(403);
            expect(errorCode(refused)).toBe("Authorization_RequestDenied");
            expect((await get(path, token)).status, path).toBe(200);
        }
    });
});

// Combine multiple HTTP requests using JSON batching: https://learn.microsoft.com/graph/json-batching
describe("POST /v1.0/$batch with import's reads", () => {
    it("answers up to 20 GETs in `responses`, correlated by id, each with its own status", async () => {
        const { token, op } = await caller(["Application.Read.All", "Directory.Read.All"]);
        const apps = Array.from({ length: 4 }, (_, i) => emulator.state.addApplication({ displayName: `batched-${i}`, delegatedGraphPermissions: ["User.Read"] }));
        const paths: string[] = [];
        for (const app of apps) {
            const sp = emulator.state.servicePrincipalIdOf(app);
            paths.push(importPaths.owners("applications", app.id), importPaths.owners("servicePrincipals", sp), importPaths.appRoleAssignments(sp), importPaths.delegatedGrants(sp), importPaths.federatedCredentials(app.id));
        }
        paths.splice(19, 1, `/applications/${unknownGuid}/owners`);
        expect(paths).toHaveLength(20);
        const requests = paths.map((url, i) => ({ id: `r${i}`, method: "GET", url }));
        const before = emulator.requests.count({ batched: true });

        const reply = await post("/v1.0/$batch", token, { requests });
        expect(reply.status).toBe(200);
        const responses = reply.body?.responses as { id: string; status: number; headers: Record<string, string>; body: Json }[];
        expect(responses).toHaveLength(20);
        expect(responses.map((r) => r.id).sort()).toEqual(requests.map((r) => r.id).sort());
        const byId = new Map(responses.map((r) => [r.id, r]));
        for (const request of requests.slice(0, 19)) {
            const answer = byId.get(request.id)!;
            expect(answer.status, request.url).toBe(200);
            expect(Array.isArray(answer.body.value), request.url).toBe(true);
        }
        const delegated = byId.get("r3")!;
        expect(delegated.body.value).toEqual([expect.objectContaining({ clientId: emulator.state.servicePrincipalIdOf(apps[0]!), scope: "User.Read" })]);
        const missing = byId.get("r19")!;
        expect(missing.status).toBe(404);
        expect((missing.body.error as { code: string }).code).toBe("Request_ResourceNotFound");
        expect(emulator.requests.count({ batched: true }) - before).toBe(20);

        // The product's batch reader gets the same answers, in the order asked.
        const client = new GraphClient(emulator.graphEndpoint, op.credential, graphScope, { maxRetries: 0 });
        const answers = await client.batchGet(paths);
        expect(answers.map((a) => a.status)).toEqual(responses.sort((x, y) => Number(x.id.slice(1)) - Number(y.id.slice(1))).map((r) => r.status));
    });

    it("refuses 21 requests with 400", async () => {
        const { token } = await caller(["Application.Read.All"]);
        const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: "GET", url: "/applications?$top=1&$select=id" }));
        const before = emulator.requests.count({ batched: true });
        const reply = await post("/v1.0/$batch", token, { requests });
        expect(reply.status).toBe(400);
        expect(errorCode(reply)).toBe("BadRequest");
        expect(emulator.requests.count({ batched: true })).toBe(before);
    });
});

async function passwordKeyIds(app: Application, token: string): Promise<string[]> {
    const reply = await get(`/v1.0/applications/${app.id}?$select=passwordCredentials`, token);
    expect(reply.status).toBe(200);
    return (reply.body?.passwordCredentials as { keyId: string }[]).map((c) => c.keyId);
}

async function keyCredentials(app: Application, token: string): Promise<GraphKeyCredential[]> {
    const reply = await get(`/v1.0/applications/${app.id}?$select=keyCredentials`, token);
    expect(reply.status).toBe(200);
    return reply.body?.keyCredentials as GraphKeyCredential[];
}

// application: removePassword: https://learn.microsoft.com/graph/api/application-removepassword
describe("POST /v1.0/applications/{id}/removePassword", () => {
    const route = "POST /v1.0/applications/{id}/removePassword";

    it("removes the secret (204), which is gone from the next GET and logged as credentialRemoved", async () => {
        const { token, op } = await caller(["Application.ReadWrite.All"]);
        const app = emulator.state.addApplication({ displayName: "retire-secret" });
        // The one removed is not the first: a removal of the wrong entry shows.
        const kept = emulator.state.addPassword(app, { displayName: "kept" }).credential;
        const old = emulator.state.addPassword(app, { displayName: "old" }).credential;

        const reply = await post(`/v1.0/applications/${app.id}/removePassword`, token, { keyId: old.keyId });
        expect(reply.status).toBe(204);
        expect(reply.body).toBeNull();
        expect(await passwordKeyIds(app, token)).toEqual([kept.keyId]);
        const logged = emulator.requests.filter({ route, removedCredential: true });
        expect(logged.at(-1)).toMatchObject({ status: 204, credentialRemoved: { kind: "password", applicationId: app.id, appId: app.appId, keyId: old.keyId } });
        expect(emulator.requests.credentialRemovals).toContainEqual({ kind: "password", applicationId: app.id, appId: app.appId, keyId: old.keyId });
        expect(logged.at(-1)!.caller).toBe(emulator.state.application(op.objectId)!.appId);

        // Again: the key id is gone now.
        const again = await post(`/v1.0/applications/${app.id}/removePassword`, token, { keyId: old.keyId });
        expect(again.status).toBe(400);
    });

    it("refuses an unknown keyId with 400 Request_BadRequest and leaves the secrets alone", async () => {
        const { token } = await caller(["Application.ReadWrite.All"]);
        const app = emulator.state.addApplication({ displayName: "retire-unknown" });
        const kept = emulator.state.addPassword(app).credential;
        const reply = await post(`/v1.0/applications/${app.id}/removePassword`, token, { keyId: unknownGuid });
        expect(reply.status).toBe(400);
        expect(errorCode(reply)).toBe("Request_BadRequest");
        expect(await passwordKeyIds(app, token)).toEqual([kept.keyId]);
        expect((await post(`/v1.0/applications/${unknownGuid}/removePassword`, token, { keyId: kept.keyId })).status).toBe(404);
    });

    it("answers 403 Authorization_RequestDenied with only Application.Read.All", async () => {
        const { token } = await caller(["Application.Read.All"]);
        const app = emulator.state.addApplication({ displayName: "retire-readonly" });
        const kept = emulator.state.addPassword(app).credential;
        const reply = await post(`/v1.0/applications/${app.id}/removePassword`, token, { keyId: kept.keyId });
        expect(reply.status).toBe(403);
        expect(errorCode(reply)).toBe("Authorization_RequestDenied");
        expect(await passwordKeyIds(app, token)).toEqual([kept.keyId]);
    });

    it("with Application.ReadWrite.OwnedBy, removes only from applications the caller's service principal owns", async () => {
        const { token, servicePrincipalId } = await caller(["Application.ReadWrite.OwnedBy"]);
        const reader = (await caller(["Application.Read.All"])).token;
        const owned = emulator.state.addApplication({ displayName: "owned-by-operator", owners: [servicePrincipalId] });
        const notOwned = emulator.state.addApplication({ displayName: "someone-elses" });
        // Owning the service principal is not owning the application.
        const principalOnly = emulator.state.addApplication({ displayName: "principal-owned", owners: [], servicePrincipalOwners: [servicePrincipalId] });
        const secrets = new Map([owned, notOwned, principalOnly].map((app) => [app.id, emulator.state.addPassword(app).credential.keyId]));

        expect((await post(`/v1.0/applications/${owned.id}/removePassword`, token, { keyId: secrets.get(owned.id) })).status).toBe(204);
        expect(await passwordKeyIds(owned, reader)).toEqual([]);
        for (const app of [notOwned, principalOnly]) {
            const refused = await post(`/v1.0/applications/${app.id}/removePassword`, token, { keyId: secrets.get(app.id) });
            expect(refused.status, app.displayName).toBe(403);
            expect(errorCode(refused)).toBe("Authorization_RequestDenied");
            expect(await passwordKeyIds(app, reader)).toEqual([secrets.get(app.id)]);
        }
    });
});

// application: removeKey: https://learn.microsoft.com/graph/api/application-removekey
// (the proof: https://learn.microsoft.com/graph/application-rollkey-prooftoken)
describe("POST /v1.0/applications/{id}/removeKey", () => {
    const route = "POST /v1.0/applications/{id}/removeKey";
    let token: string;
    let app: Application;
    let oldKeyId: string;
    let signerKeyId: string;
    let signerPem: string;
    let signerKeyPem: string;

    beforeAll(async () => {
        token = (await caller(["Application.ReadWrite.All"])).token;
        app = emulator.state.addApplication({ displayName: "retire-certificate" });
        // The signer has a key of its own, so only its certificate can verify the proof; the one removed comes second.
        const signer = emulator.state.addCertificate(app, { subject: "signer", lifetimeDays: 365, keyPair: generateRsaKeyPair() });
        oldKeyId = emulator.state.addCertificate(app, { subject: "old", startDateTime: "2026-01-01T00:00:00Z", endDateTime: "2027-01-01T00:00:00Z" }).credential.keyId;
        signerKeyId = signer.credential.keyId;
        signerPem = signer.pem;
        signerKeyPem = signer.privateKeyPem;
    });

    it("refuses a missing or garbage proof with 401 Authentication_MissingOrMalformed, removing nothing", async () => {
        for (const body of [{ keyId: oldKeyId }, { keyId: oldKeyId, proof: "garbage" }, { keyId: oldKeyId, proof: "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln" }]) {
            const reply = await post(`/v1.0/applications/${app.id}/removeKey`, token, body);
            expect(reply.status, JSON.stringify(body)).toBe(401);
            expect(errorCode(reply)).toBe("Authentication_MissingOrMalformed");
            expect(emulator.requests.filter({ route, status: 401 }).at(-1)?.reason).toBeTruthy();
        }
        // A well-formed proof by a certificate the application does not hold.
        const stranger = createClientCertificate({ subject: "stranger", notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2027-06-01T00:00:00Z"), keyPair: generateRsaKeyPair(1024) });
        const strangerKey: GraphKeyCredential = { keyId: unknownGuid, displayName: null, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: null, endDateTime: null, customKeyIdentifier: null };
        const made = removeKeyProof(app.id, stranger.pem, strangerKey, emulator.clock.now());
        expect("proof" in made).toBe(true);
        const refused = await post(`/v1.0/applications/${app.id}/removeKey`, token, { keyId: oldKeyId, proof: (made as { proof: string }).proof });
        expect(refused.status).toBe(401);
        expect(errorCode(refused)).toBe("Authentication_MissingOrMalformed");
        expect((await keyCredentials(app, token)).map((k) => k.keyId).sort()).toEqual([oldKeyId, signerKeyId].sort());
    });

    it("removes a certificate (204) given removeKeyProof signed with another certificate of the application", async () => {
        const keys = await keyCredentials(app, token);
        const signerDocument = keys.find((k) => k.keyId === signerKeyId)!;
        expect(signerDocument.customKeyIdentifier).toBeTruthy();
        expect(signerPem).toContain(signerKeyPem.trim());
        const made = removeKeyProof(app.id, signerPem, signerDocument, emulator.clock.now());
        if (!("proof" in made)) throw new Error(made.problem);

        // A proof for this application does not remove another's key.
        const other = emulator.state.addApplication({ displayName: "retire-other" });
        const otherKeyId = emulator.state.addCertificate(other).credential.keyId;
        expect((await post(`/v1.0/applications/${other.id}/removeKey`, token, { keyId: otherKeyId, proof: made.proof })).status).toBe(401);

        const reply = await post(`/v1.0/applications/${app.id}/removeKey`, token, { keyId: oldKeyId, proof: made.proof });
        expect(reply.status).toBe(204);
        expect(reply.body).toBeNull();
        expect((await keyCredentials(app, token)).map((k) => k.keyId)).toEqual([signerKeyId]);
        expect(emulator.requests.filter({ route, status: 204 }).at(-1)?.credentialRemoved).toEqual({ kind: "key", applicationId: app.id, appId: app.appId, keyId: oldKeyId });
    });
});
