import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { bearerTokenAuthenticationPolicy, createDefaultHttpClient, createHttpHeaders, createPipelineFromOptions, createPipelineRequest } from "@azure/core-rest-pipeline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AccessTokenClaims, type Application, type Emulator, startEmulator } from "./support/emulator";
import { testRetryOptions as retryOptions } from "./support/graphReader";

/**
 * Azure Resource Manager in the emulator, proven with the real @azure/identity (tokens for
 * https://management.azure.com), @azure/core-rest-pipeline and fetch over HTTPS, next to the real
 * @azure/keyvault-secrets on the data plane: the two planes share one vault and one set of role assignments,
 * but ARM judges roles by their Actions and the data plane by their DataActions.
 */

const start = "2026-11-23T06:00:00Z";
const armScope = "https://management.azure.com/.default";
const apiVersion = "2024-11-01";

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

interface Principal {
    readonly app: Application;
    readonly objectId: string;
    readonly credential: ClientSecretCredential;
}

function principal(displayName: string, tenantId?: string): Principal {
    const app = emulator.state.addApplication({ displayName, ...(tenantId ? { tenantId } : {}) });
    const { secretText } = emulator.state.addPassword(app);
    return {
        app,
        objectId: emulator.state.servicePrincipalIdOf(app),
        credential: new ClientSecretCredential(tenantId ?? emulator.tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions }),
    };
}

async function armToken(who: Principal): Promise<string> {
    return (await who.credential.getToken(armScope)).token;
}

function decodeClaims(token: string): AccessTokenClaims {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as AccessTokenClaims;
}

interface ArmReply {
    readonly status: number;
    readonly headers: Headers;
    readonly body: Record<string, unknown>;
}

async function arm(method: string, path: string, token?: string, body?: unknown): Promise<ArmReply> {
    const response = await fetch(`${emulator.managementEndpoint}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

function secretPath(vault: string, name: string, resourceGroup = "rg-identity"): string {
    return `/subscriptions/${emulator.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault}/secrets/${name}`;
}

function permissionsPath(vault?: string, resourceGroup = "rg-identity"): string {
    const group = `/subscriptions/${emulator.subscriptionId}/resourceGroups/${resourceGroup}`;
    return `${group}${vault ? `/providers/Microsoft.KeyVault/vaults/${vault}` : ""}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`;
}

function secretClient(vault: string, who: Principal): SecretClient {
    return new SecretClient(emulator.keyVaultUrl(vault), who.credential, { ...emulator.secretClientOptions, retryOptions });
}

async function rejection(promise: Promise<unknown>): Promise<Error & { statusCode?: number; code?: string; details?: { error?: { code?: string; innerError?: { code?: string } } } }> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    throw new Error("expected the promise to reject");
}

const putBody = (value: string) => ({
    properties: { value, contentType: "text/plain", attributes: { enabled: true, nbf: Date.parse("2026-11-23T06:00:00Z") / 1000, exp: Date.parse("2027-06-21T06:00:00Z") / 1000 } },
    tags: { "rotor-slot": "0" },
});

describe("the management endpoint", () => {
    it("gets tokens for https://management.azure.com and is named by environment(), with the subscription", async () => {
        const who = principal("arm-caller");
        expect(decodeClaims(await armToken(who))).toMatchObject({ aud: "https://management.azure.com", appid: who.app.appId, oid: who.objectId, tid: emulator.tenantId });
        expect(emulator.subscriptionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(emulator.managementEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect(emulator.managementEndpoint).not.toBe(emulator.graphEndpoint);

        const env = emulator.environment();
        expect(env.ROTOR_MANAGEMENT_ENDPOINT).toBe(emulator.managementEndpoint);
        expect(JSON.parse(env.ENTRA_ROTOR_EMULATOR ?? "{}")).toMatchObject({ managementEndpoint: emulator.managementEndpoint, subscriptionId: emulator.subscriptionId });

        const fixed = await startEmulator({ subscriptionId: "11111111-2222-3333-4444-555555555555" });
        try {
            expect(fixed.subscriptionId).toBe("11111111-2222-3333-4444-555555555555");
        } finally {
            await fixed.close();
        }
    });

    it("authenticates as ARM does: missing, invalid, wrong-audience and wrong-tenant tokens are 401s with ARM's codes", async () => {
        await emulator.addVault("kv-arm-auth");
        const path = `${secretPath("kv-arm-auth", "s")}?api-version=${apiVersion}`;
        const missing = await arm("GET", path);
        expect(missing.status).toBe(401);
        expect(missing.body).toEqual({ error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." } });
        expect((await arm("GET", path, "not.a.token")).body).toEqual({ error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } });

        const who = principal("arm-wrong-audience");
        const graphToken = (await who.credential.getToken("https://graph.microsoft.com/.default")).token;
        expect((await arm("GET", path, graphToken)).body).toEqual({
            error: {
                code: "InvalidAuthenticationTokenAudience",
                message:
                    "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
            },
        });

        const other = emulator.state.addTenant({ displayName: "Fabrikam" });
        const stranger = principal("arm-stranger", other.id);
        const wrongTenant = await arm("GET", path, await armToken(stranger));
        expect(wrongTenant.status).toBe(401);
        expect(wrongTenant.body.error).toMatchObject({
            code: "InvalidAuthenticationTokenTenant",
            message: expect.stringMatching(new RegExp(`^The access token is from the wrong issuer 'https://sts.windows.net/${other.id}/'. It must match the tenant 'https://sts.windows.net/${emulator.tenantId}/' associated with this subscription.`)),
        });
    });

    it("answers an expired token with ExpiredAuthenticationToken and ARM's US-format times", async () => {
        // An emulator whose tokens expire as they are issued (lifetime 0); the raw token request skips MSAL's cache.
        const short = await startEmulator({ tokenLifetimeSeconds: 0 });
        try {
            const app = short.state.addApplication();
            const { secretText } = short.state.addPassword(app);
            const response = await fetch(`${short.authorityHost}/${short.tenantId}/oauth2/v2.0/token`, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({ grant_type: "client_credentials", client_id: app.appId, client_secret: secretText, scope: armScope }),
            });
            const { access_token: token } = (await response.json()) as { access_token: string };
            const reply = await fetch(`${short.managementEndpoint}/subscriptions/${short.subscriptionId}/resourceGroups/rg-identity/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, {
                headers: { authorization: `Bearer ${token}` },
            });
            expect(reply.status).toBe(401);
            const time = "\\d{1,2}/\\d{1,2}/\\d{4} \\d{1,2}:\\d\\d:\\d\\d [AP]M";
            expect(await reply.json()).toEqual({
                error: { code: "ExpiredAuthenticationToken", message: expect.stringMatching(new RegExp(`^The access token expiry UTC time '${time}' is earlier than current UTC time '${time}'\\.$`)) },
            });
        } finally {
            await short.close();
        }
    });

    it("requires api-version, and answers unknown subscriptions, resource groups, vaults, secrets and paths with ARM's 404s", async () => {
        await emulator.addVault("kv-arm-404");
        const who = principal("arm-404");
        emulator.state.assignRole(who.objectId, "Reader");
        const token = await armToken(who);
        expect((await arm("GET", secretPath("kv-arm-404", "s"), token)).body).toEqual({
            error: { code: "MissingApiVersionParameter", message: "The api-version query parameter (?api-version=) is required for all requests." },
        });
        const otherSubscription = await arm("GET", `/subscriptions/99999999-8888-7777-6666-555555555555/resourceGroups/rg-identity/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, token);
        expect(otherSubscription.body).toEqual({ error: { code: "SubscriptionNotFound", message: "The subscription '99999999-8888-7777-6666-555555555555' could not be found." } });
        expect((await arm("GET", `${secretPath("kv-arm-404", "s", "rg-nowhere")}?api-version=${apiVersion}`, token)).body).toEqual({
            error: { code: "ResourceGroupNotFound", message: "Resource group 'rg-nowhere' could not be found." },
        });
        expect((await arm("GET", `${secretPath("kv-nowhere", "s")}?api-version=${apiVersion}`, token)).body).toEqual({
            error: { code: "ResourceNotFound", message: "The Resource 'Microsoft.KeyVault/vaults/kv-nowhere' under resource group 'rg-identity' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix" },
        });
        const missingSecret = await arm("GET", `${secretPath("kv-arm-404", "mail-sender-main")}?api-version=${apiVersion}`, token);
        expect(missingSecret.status).toBe(404);
        expect(missingSecret.body).toEqual({
            error: {
                code: "ResourceNotFound",
                message: "The Resource 'Microsoft.KeyVault/vaults/kv-arm-404/secrets/mail-sender-main' under resource group 'rg-identity' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            },
        });
        expect((await arm("GET", `/subscriptions/${emulator.subscriptionId}/resourceGroups?api-version=2021-04-01`, token)).status).toBe(404);
    });
});

describe("effective permissions (Microsoft.Authorization/permissions)", () => {
    it("lists one block per role the caller holds over the vault, from the vault and the resource group, case-insensitively", async () => {
        await emulator.addVault("kv-arm-perms");
        const who = principal("arm-perms");
        emulator.state.assignRole(who.objectId, "Reader", { resourceGroup: "rg-identity" });
        emulator.state.assignRole(who.objectId, "Key Vault Secrets Officer", { vault: "kv-arm-perms" });
        const token = await armToken(who);

        const onVault = await arm("GET", permissionsPath("kv-arm-perms"), token);
        expect(onVault.status).toBe(200);
        expect(onVault.body).toEqual({
            value: [
                { actions: ["*/read"], notActions: [], dataActions: [], notDataActions: [] },
                {
                    actions: [
                        "Microsoft.Authorization/*/read",
                        "Microsoft.Insights/alertRules/*",
                        "Microsoft.Resources/deployments/*",
                        "Microsoft.Resources/subscriptions/resourceGroups/read",
                        "Microsoft.Support/*",
                        "Microsoft.KeyVault/checkNameAvailability/read",
                        "Microsoft.KeyVault/deletedVaults/read",
                        "Microsoft.KeyVault/locations/*/read",
                        "Microsoft.KeyVault/vaults/*/read",
                        "Microsoft.KeyVault/operations/read",
                    ],
                    notActions: [],
                    dataActions: ["Microsoft.KeyVault/vaults/secrets/*"],
                    notDataActions: [],
                },
            ],
        });
        const lowerCase = permissionsPath("KV-ARM-PERMS").replace("/resourceGroups/", "/resourcegroups/").replace("Microsoft.KeyVault", "microsoft.keyvault").replace("Microsoft.Authorization", "microsoft.authorization");
        expect((await arm("GET", lowerCase, token)).body).toEqual(onVault.body);

        // The vault-level Officer assignment does not cover the resource group.
        expect((await arm("GET", permissionsPath(), token)).body).toEqual({ value: [{ actions: ["*/read"], notActions: [], dataActions: [], notDataActions: [] }] });
        expect((await arm("GET", permissionsPath("kv-arm-perms"), await armToken(principal("arm-nobody")))).body).toEqual({ value: [] });
        expect(emulator.requests.count({ service: "arm", route: "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.Authorization/permissions", caller: who.app.appId })).toBe(2);
        expect(emulator.requests.count({ service: "arm", route: "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Authorization/permissions", caller: who.app.appId })).toBe(1);
    });
});

describe("vault secrets as ARM resources (what azure-native keyvault.Secret calls)", () => {
    it("refuses a PUT by Key Vault Secrets Officer, a data-plane role, with AuthorizationFailed naming Microsoft.KeyVault/vaults/secrets/write", async () => {
        await emulator.addVault("kv-arm-officer");
        const officer = principal("arm-officer");
        emulator.state.assignRole(officer.objectId, "Key Vault Secrets Officer", { vault: "kv-arm-officer" });
        const path = secretPath("kv-arm-officer", "mail-sender-main");
        const refused = await arm("PUT", `${path}?api-version=${apiVersion}`, await armToken(officer), putBody("s3cret"));
        expect(refused.status).toBe(403);
        expect(refused.headers.get("x-ms-failure-cause")).toBe("gateway");
        expect(refused.body).toEqual({
            error: {
                code: "AuthorizationFailed",
                message: `The client '${officer.app.appId}' with object id '${officer.objectId}' does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/write' over scope '${path}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
            },
        });
        expect(emulator.state.secret("kv-arm-officer", "mail-sender-main")).toBeUndefined();

        // Its Actions include Microsoft.KeyVault/vaults/*/read: the ARM read is allowed; and the data plane writes.
        emulator.state.setSecret("kv-arm-officer", "mail-sender-main", "v1");
        expect((await arm("GET", `${path}?api-version=${apiVersion}`, await armToken(officer))).status).toBe(200);
        await expect(secretClient("kv-arm-officer", officer).setSecret("mail-sender-main", "v2")).resolves.toBeDefined();
        expect(emulator.requests.filter({ service: "arm", caller: officer.app.appId }).map((r) => [r.route, r.status])).toEqual([
            ["PUT /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}", 403],
            ["GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}", 200],
        ]);
    });

    it("lets Key Vault Contributor write (201 new, 200 update) into the vault the data plane serves; GET never returns the value", async () => {
        const vaultUrl = await emulator.addVault("kv-arm-write");
        const contributor = principal("arm-contributor");
        const consumer = principal("arm-consumer");
        emulator.state.assignRole(contributor.objectId, "Key Vault Contributor", { vault: "kv-arm-write" });
        emulator.state.assignRole(consumer.objectId, "Key Vault Secrets User", { vault: "kv-arm-write" });
        const token = await armToken(contributor);
        const path = secretPath("kv-arm-write", "mail-sender-main");

        const created = await arm("PUT", `${path}?api-version=${apiVersion}`, token, putBody("first-value"));
        expect(created.status).toBe(201);
        const current = emulator.state.secret("kv-arm-write", "mail-sender-main")?.versions[0];
        expect(created.body).toEqual({
            id: path,
            name: "mail-sender-main",
            type: "Microsoft.KeyVault/vaults/secrets",
            location: "westeurope",
            tags: { "rotor-slot": "0" },
            properties: {
                contentType: "text/plain",
                attributes: { enabled: true, nbf: Date.parse("2026-11-23T06:00:00Z") / 1000, exp: Date.parse("2027-06-21T06:00:00Z") / 1000, created: Date.parse(start) / 1000, updated: Date.parse(start) / 1000 },
                secretUri: `${vaultUrl}/secrets/mail-sender-main`,
                secretUriWithVersion: `${vaultUrl}/secrets/mail-sender-main/${current?.version}`,
            },
        });

        const read = await secretClient("kv-arm-write", consumer).getSecret("mail-sender-main");
        expect(read.value).toBe("first-value");
        expect(read.properties).toMatchObject({ version: current?.version, contentType: "text/plain", tags: { "rotor-slot": "0" }, expiresOn: new Date("2027-06-21T06:00:00Z") });

        emulator.clock.advance(60_000);
        const updated = await arm("PUT", `${path}?api-version=2023-07-01`, token, putBody("second-value"));
        expect(updated.status).toBe(200);
        expect((await secretClient("kv-arm-write", consumer).getSecret("mail-sender-main")).value).toBe("second-value");
        expect(emulator.state.secret("kv-arm-write", "mail-sender-main")?.versions).toHaveLength(2);

        const got = await arm("GET", `${path}?api-version=${apiVersion}`, token);
        expect(got.status).toBe(200);
        expect(JSON.stringify(got.body)).not.toContain("second-value");
        expect(got.body.properties).not.toHaveProperty("value");
        expect(got.body.properties).toMatchObject({ attributes: { updated: Date.parse(start) / 1000 + 60 } });
    });

    it("lets a custom role with exactly secrets/read and secrets/write PUT and GET, and nothing more", async () => {
        await emulator.addVault("kv-arm-custom", { roleAssignments: [] });
        emulator.state.addRoleDefinition({ roleName: "Rotor Secret Writer", actions: ["Microsoft.KeyVault/vaults/secrets/read", "Microsoft.KeyVault/vaults/secrets/write"] });
        const writer = principal("arm-custom");
        emulator.state.assignRole(writer.objectId, "Rotor Secret Writer", { resourceGroup: "rg-identity" });
        const token = await armToken(writer);
        const path = secretPath("kv-arm-custom", "calendar-sync-main");
        expect((await arm("PUT", `${path}?api-version=${apiVersion}`, token, putBody("v"))).status).toBe(201);
        expect((await arm("GET", `${path}?api-version=${apiVersion}`, token)).status).toBe(200);
        expect((await arm("GET", permissionsPath("kv-arm-custom"), token)).body).toEqual({
            value: [{ actions: ["Microsoft.KeyVault/vaults/secrets/read", "Microsoft.KeyVault/vaults/secrets/write"], notActions: [], dataActions: [], notDataActions: [] }],
        });
        // No dataActions: the value it wrote is not readable to it on the data plane.
        const denied = await rejection(secretClient("kv-arm-custom", writer).getSecret("calendar-sync-main"));
        expect(denied).toMatchObject({ statusCode: 403, code: "Forbidden" });
    });

    it("refuses DELETE whatever the roles: ARM cannot delete vault secrets", async () => {
        await emulator.addVault("kv-arm-delete");
        emulator.state.setSecret("kv-arm-delete", "s", "v");
        const owner = principal("arm-owner");
        emulator.state.assignRole(owner.objectId, "Owner");
        const deleted = await arm("DELETE", `${secretPath("kv-arm-delete", "s")}?api-version=${apiVersion}`, await armToken(owner));
        expect(deleted.status).toBe(400);
        expect(deleted.body).toEqual({ error: { code: "DisallowedResourceOperation", message: "The operation 'delete' on resource type 'vaults/secrets' is disallowed." } });
        expect(emulator.state.secret("kv-arm-delete", "s")).toBeDefined();
    });

    it("refuses a PUT on a name that is deleted but recoverable (409), as the data plane does", async () => {
        await emulator.addVault("kv-arm-deleted");
        emulator.state.setSecret("kv-arm-deleted", "s", "v");
        const contributor = principal("arm-deleted");
        emulator.state.assignRole(contributor.objectId, "Contributor", { resourceGroup: "rg-identity" });
        const admin = principal("arm-deleted-admin");
        emulator.state.assignRole(admin.objectId, "Key Vault Administrator", { vault: "kv-arm-deleted" });
        await (await secretClient("kv-arm-deleted", admin).beginDeleteSecret("s", { intervalInMs: 1 })).pollUntilDone();
        const conflict = await arm("PUT", `${secretPath("kv-arm-deleted", "s")}?api-version=${apiVersion}`, await armToken(contributor), putBody("again"));
        expect(conflict.status).toBe(409);
        expect(conflict.body).toEqual({ error: { code: "Conflict", message: "Secret s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged." } });
    });

    it("is spoken to by @azure/core-rest-pipeline with a bearer policy, and its 429s are faults the pipeline retries", async () => {
        await emulator.addVault("kv-arm-pipeline", { resourceGroup: "rg-pipeline" });
        const deployer = principal("arm-pipeline");
        emulator.state.assignRole(deployer.objectId, "Contributor", { resourceGroup: "rg-pipeline" });
        const pipeline = createPipelineFromOptions({ retryOptions });
        pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: deployer.credential, scopes: armScope }));
        emulator.setFaults({ throttle: { next: 1, retryAfterSeconds: 0, services: ["arm"] } });
        const response = await pipeline.sendRequest(
            createDefaultHttpClient(),
            createPipelineRequest({
                url: `${emulator.managementEndpoint}${secretPath("kv-arm-pipeline", "ci-main", "rg-pipeline")}?api-version=${apiVersion}`,
                method: "PUT",
                headers: createHttpHeaders({ "content-type": "application/json" }),
                body: JSON.stringify(putBody("from-the-pipeline")),
            }),
        );
        expect(response.status).toBe(201);
        expect(JSON.parse(response.bodyAsText ?? "{}")).toMatchObject({ id: `/subscriptions/${emulator.subscriptionId}/resourceGroups/rg-pipeline/providers/Microsoft.KeyVault/vaults/kv-arm-pipeline/secrets/ci-main` });
        expect(emulator.requests.filter({ service: "arm", caller: deployer.app.appId }).map((r) => r.status)).toEqual([201]);
        expect(emulator.requests.filter({ service: "arm", fault: "throttle" }).map((r) => r.status)).toEqual([429]);
        expect(emulator.state.secret("kv-arm-pipeline", "ci-main")?.versions[0]?.value).toBe("from-the-pipeline");
    });
});

describe("the data plane decides by DataActions", () => {
    it("refuses a data-plane set by Key Vault Contributor (no dataActions) with ForbiddenByRbac naming the real subscription and resource group", async () => {
        await emulator.addVault("kv-dp-contributor", { resourceGroup: "rg-secrets" });
        const contributor = principal("dp-contributor");
        emulator.state.assignRole(contributor.objectId, "Key Vault Contributor", { vault: "kv-dp-contributor" });
        const denied = await rejection(secretClient("kv-dp-contributor", contributor).setSecret("mail-sender-main", "v"));
        expect(denied).toMatchObject({ statusCode: 403, code: "Forbidden" });
        // The SDK reads Key Vault's `innererror` into details.error.innerError.
        expect(denied.details?.error?.innerError?.code).toBe("ForbiddenByRbac");
        expect(denied.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'");
        expect(denied.message).toContain(`Resource: '/subscriptions/${emulator.subscriptionId}/resourcegroups/rg-secrets/providers/microsoft.keyvault/vaults/kv-dp-contributor/secrets/mail-sender-main'`);
        expect(denied.message).toContain("Vault: kv-dp-contributor;location=westeurope");
    });

    it("honours custom data roles, NotDataActions, and assignments at the resource group", async () => {
        // An empty list turns RBAC on for the vault; the assignments at its resource group then decide.
        await emulator.addVault("kv-dp-custom", { resourceGroup: "rg-custom", roleAssignments: [] });
        emulator.state.setSecret("kv-dp-custom", "a", "value-a");
        emulator.state.addRoleDefinition({ roleName: "Secret Getter", actions: [], dataActions: ["Microsoft.KeyVault/vaults/secrets/getSecret/action"] });
        emulator.state.addRoleDefinition({ roleName: "All But Delete", actions: [], dataActions: ["microsoft.keyvault/vaults/SECRETS/*"], notDataActions: ["Microsoft.KeyVault/vaults/secrets/delete"] });
        const getter = principal("dp-getter");
        const keeper = principal("dp-keeper");
        emulator.state.assignRole(getter.objectId, "Secret Getter", { resourceGroup: "rg-custom" });
        emulator.state.assignRole(keeper.objectId, "All But Delete", { resourceGroup: "rg-custom" });

        expect((await secretClient("kv-dp-custom", getter).getSecret("a")).value).toBe("value-a");
        const listing = await rejection((async () => {
            for await (const _ of secretClient("kv-dp-custom", getter).listPropertiesOfSecrets()) break;
        })());
        // The SDK's pager drops the body; the log shows the refusal.
        expect(listing).toMatchObject({ statusCode: 403 });
        expect(emulator.requests.filter({ vault: "kv-dp-custom", route: "GET /secrets", caller: getter.app.appId }).map((r) => r.status)).toEqual([403]);

        await expect(secretClient("kv-dp-custom", keeper).setSecret("b", "value-b")).resolves.toBeDefined();
        const deleting = await rejection(secretClient("kv-dp-custom", keeper).beginDeleteSecret("b"));
        expect(deleting.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/delete'");
        expect(() => emulator.state.assignRole(keeper.objectId, "No Such Role")).toThrow(/no role named "No Such Role"/);
    });

    it("keeps a vault without a role assignment list open on the data plane, even with subscription-wide roles, while ARM still checks roles", async () => {
        await emulator.addVault("kv-dp-open");
        emulator.state.assignRole(principal("dp-subscription-reader").objectId, "Key Vault Reader");
        const anyone = principal("dp-anyone");
        await expect(secretClient("kv-dp-open", anyone).setSecret("s", "v")).resolves.toBeDefined();
        const refused = await arm("GET", `${secretPath("kv-dp-open", "s")}?api-version=${apiVersion}`, await armToken(anyone));
        expect(refused.body.error).toMatchObject({ code: "AuthorizationFailed" });
    });
});

describe("Key Vault data plane: soft-deleted names and innererror", () => {
    it("refuses to reuse a deleted-but-recoverable name with 409 ObjectIsDeletedButRecoverable, in Key Vault's body", async () => {
        const url = await emulator.addVault("kv-dp-softdelete");
        const who = principal("dp-softdelete");
        const client = secretClient("kv-dp-softdelete", who);
        await client.setSecret("mail-sender-main", "v1");
        await (await client.beginDeleteSecret("mail-sender-main", { intervalInMs: 1 })).pollUntilDone();

        const token = (await who.credential.getToken("https://vault.azure.net/.default")).token;
        const raw = await fetch(`${url}/secrets/mail-sender-main?api-version=2025-07-01`, {
            method: "PUT",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ value: "v2" }),
        });
        expect(raw.status).toBe(409);
        expect(await raw.json()).toEqual({
            error: {
                code: "Conflict",
                message: "Secret mail-sender-main is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.",
                innererror: { code: "ObjectIsDeletedButRecoverable" },
            },
        });
        const viaSdk = await rejection(client.setSecret("mail-sender-main", "v2"));
        expect(viaSdk).toMatchObject({ statusCode: 409, code: "Conflict" });
        expect(viaSdk.details?.error?.innerError?.code).toBe("ObjectIsDeletedButRecoverable");

        await client.beginRecoverDeletedSecret("mail-sender-main", { intervalInMs: 1 }).then((p) => p.pollUntilDone());
        expect((await client.getSecret("mail-sender-main")).value).toBe("v1");
    });

    it("names a disabled secret's refusal SecretDisabled in innererror, which the SDK surfaces as details.error.innerError", async () => {
        await emulator.addVault("kv-dp-disabled");
        const version = emulator.state.setSecret("kv-dp-disabled", "s", "v");
        version.enabled = false;
        const error = await rejection(secretClient("kv-dp-disabled", principal("dp-disabled")).getSecret("s"));
        expect(error).toMatchObject({ statusCode: 403, code: "Forbidden", message: "Operation get is not allowed on a disabled secret." });
        expect(error.details?.error?.innerError?.code).toBe("SecretDisabled");
    });
});
