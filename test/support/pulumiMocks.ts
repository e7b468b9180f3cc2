import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import graphServicePrincipal from "../fixtures/graph-service-principal.json";
import { graphCatalog } from "../../infra/model/catalog";
import { containsMockKey, mockKey, mockSelfSignedCertificate } from "./mockCertificates";
import type { Emulator } from "./emulator";

/**
 * Pulumi mocks that answer like the azuread provider does: ids such as `/applications/<guid>`,
 * `clientId`, `objectId`, `applicationTenantId`. Ids are derived from the resource name so that two
 * evaluations of the same program produce identical values (the idempotence tests compare them).
 */

/** Every secret value the mocks invent starts with this, so tests can search outputs for leaks. */
export const mockSecretMarker = "MOCKSECRET";

/**
 * Whether a text holds secret material the mocks handed out: a marked secret, a private key, or a PKCS#12
 * file (base64 DER without line breaks, which nothing public in this program looks like).
 */
export function containsMockSecret(text: string): boolean {
    return text.includes(mockSecretMarker) || containsMockKey(text) || /MII[A-Za-z0-9+/]{1000,}/.test(text);
}

export const mockTenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

export interface RegisteredResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly id: string;
    readonly state: Record<string, unknown>;
    /** The id the program asked to import (the `import` resource option), if any. */
    readonly importId?: string;
}

export interface InvokeRecord {
    readonly token: string;
    readonly inputs: Record<string, unknown>;
}

/** A service principal of an API as the tenant has it. */
export interface MockApi {
    readonly objectId: string;
    readonly displayName: string;
    readonly appRoleIds: Record<string, string>;
    readonly scopeIds: Record<string, string>;
}

/** A deterministic GUID from a seed. */
export function guidFrom(seed: string): string {
    const h = createHash("sha256").update(seed).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Microsoft Graph as a current tenant has it: the real 2023 service principal response, plus the
 * permissions published since (from the catalog), whose ids never change.
 */
export function graphApi(): MockApi {
    const sp = graphServicePrincipal.value[0]!;
    const appRoleIds: Record<string, string> = {};
    const scopeIds: Record<string, string> = {};
    for (const [name, entry] of Object.entries(graphCatalog.application)) appRoleIds[name] = entry.id;
    for (const [name, entry] of Object.entries(graphCatalog.delegated)) scopeIds[name] = entry.id;
    for (const role of sp.appRoles) appRoleIds[role.value] = role.id;
    for (const scope of sp.oauth2PermissionScopes) scopeIds[scope.value] = scope.id;
    return { objectId: sp.id, displayName: sp.displayName, appRoleIds, scopeIds };
}

export const exchangeAppId = "00000002-0000-0ff1-ce00-000000000000";

export function defaultApis(): Map<string, MockApi> {
    return new Map([
        [graphCatalog.resourceAppId, graphApi()],
        [
            exchangeAppId,
            {
                objectId: guidFrom("exchange-sp"),
                displayName: "Office 365 Exchange Online",
                appRoleIds: { full_access_as_app: "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "Exchange.ManageAsApp": "dc50a0fb-09a3-484d-be87-e023b12c6440" },
                scopeIds: { "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5" },
            },
        ],
    ]);
}

/**
 * The tenant the mocks make Entra's objects in, as the azuread provider makes them in Entra: applications,
 * their service principals, passwords and certificates, so that the program's verify gate signs in with the
 * real @azure/identity over the wire against the local emulator.
 */
export interface MockTenant {
    readonly emulator: Emulator;
    /** Credentials (by resource name) the token endpoint refuses for this many requests, as while Entra replicates them. */
    readonly refuse?: ReadonlyMap<string, number>;
    /** Apps (by name in config) whose service principal is disabled: every sign-in is refused with AADSTS7000112. */
    readonly disabledApps?: readonly string[];
}

export class ProviderMocks implements pulumi.runtime.Mocks {
    readonly resources: RegisteredResource[] = [];
    readonly invokes: InvokeRecord[] = [];

    constructor(
        readonly apis: Map<string, MockApi> = defaultApis(),
        readonly tenant?: MockTenant,
    ) {}

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const inputs = args.inputs as Record<string, unknown>;
        const objectId = guidFrom(`${args.type}/${args.name}`);
        let id: string = objectId;
        let state: Record<string, unknown> = { ...inputs };
        switch (args.type) {
            case "azuread:index/application:Application":
                id = `/applications/${objectId}`;
                state = { ...inputs, objectId, clientId: guidFrom(`client/${args.name}`), publisherDomain: "contoso.onmicrosoft.com" };
                break;
            case "azuread:index/servicePrincipal:ServicePrincipal":
                id = `/servicePrincipals/${objectId}`;
                state = { ...inputs, objectId, applicationTenantId: mockTenantId, type: "Application" };
                break;
            case "azuread:index/appRoleAssignment:AppRoleAssignment":
                id = `/servicePrincipals/${String(inputs["resourceObjectId"])}/appRoleAssignedTo/${objectId}`;
                state = { ...inputs, principalType: "ServicePrincipal" };
                break;
            case "azuread:index/applicationPassword:ApplicationPassword": {
                // Entra returns the value once, at creation; the provider keeps it in state as a secret.
                const keyId = guidFrom(`key/${args.name}/${JSON.stringify(inputs["rotateWhenChanged"] ?? {})}`);
                id = `${String(inputs["applicationId"])}/password/${keyId}`;
                state = { ...inputs, keyId, value: asSecret(`${mockSecretMarker}-${keyId.replace(/-/g, "")}`) };
                break;
            }
            case "tls:index/privateKey:PrivateKey": {
                // A real RSA key (from a small pool): PEM bundles and PKCS#12 files derived from it must parse.
                const key = mockKey(`${args.type}/${args.name}/${JSON.stringify(args.inputs)}`);
                state = { ...inputs, privateKeyPem: asSecret(key.pkcs1), privateKeyPemPkcs8: asSecret(key.pkcs8), publicKeyPem: key.publicPem };
                break;
            }
            case "tls:index/selfSignedCert:SelfSignedCert": {
                // The provider stamps validity from the moment of creation (the run's instant: the tests fix the
                // clock); Entra then starts the key credential there, which the verify gate counts from.
                const start = isoSeconds(new Date(Math.floor(Date.now() / 1000) * 1000));
                const hours = Number(inputs["validityPeriodHours"]);
                state = {
                    ...inputs,
                    certPem: mockSelfSignedCertificate(String(unwrapSecret(inputs["privateKeyPem"])), (inputs["subject"] ?? {}) as { commonName?: string }, start, hours),
                    validityStartTime: start,
                    validityEndTime: new Date(Date.parse(start) + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
                };
                break;
            }
            case "azuread:index/applicationCertificate:ApplicationCertificate": {
                // The provider keeps a key id it is given; otherwise Entra picks one.
                const keyId = typeof inputs["keyId"] === "string" ? inputs["keyId"] : guidFrom(`key/${args.name}/${String(inputs["value"])}`);
                id = `${String(inputs["applicationId"])}/certificate/${keyId}`;
                state = { ...inputs, keyId };
                break;
            }
            case "azure-native:keyvault:Vault":
                id = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${String(inputs["resourceGroupName"])}/providers/Microsoft.KeyVault/vaults/${String(inputs["vaultName"])}`;
                state = { ...inputs, name: inputs["vaultName"] };
                break;
            case "azure-native:keyvault:Secret":
                id = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${String(inputs["resourceGroupName"])}/providers/Microsoft.KeyVault/vaults/${String(inputs["vaultName"])}/secrets/${String(inputs["secretName"])}`;
                // ARM never returns a secret's value; the provider keeps the input in state, as a secret.
                // The program sends `properties` whole as a secret (its value is one): the wire form wraps it.
                const sent = inputs["properties"] as Record<string, unknown>;
                const properties = (sent[secretSig] === secretSigValue ? sent["value"] : sent) as Record<string, unknown>;
                // secretUri and secretUriWithVersion as ARM returns them: the data-plane URL, with the version Key Vault made.
                state = {
                    ...inputs,
                    name: inputs["secretName"],
                    properties: {
                        ...properties,
                        value: asSecret(properties["value"]),
                        secretUri: `https://${String(inputs["vaultName"])}.vault.azure.net/secrets/${String(inputs["secretName"])}`,
                        secretUriWithVersion: `https://${String(inputs["vaultName"])}.vault.azure.net/secrets/${String(inputs["secretName"])}/${objectId.replace(/-/g, "")}`,
                    },
                };
                break;
            case "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
                id = `${String(inputs["applicationId"])}/federatedIdentityCredential/${objectId}`;
                state = { ...inputs, credentialId: objectId };
                break;
            case "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant":
                id = objectId.replace(/-/g, "").slice(0, 27);
                break;
        }
        // An imported resource keeps the id it was imported by, as the engine does.
        if (args.id) id = args.id;
        if (this.tenant) state = { ...state, ...mirror(this.tenant, args.type, args.name, inputs, state) };
        this.resources.push({ type: args.type, name: args.name, inputs, id, state, ...(args.id ? { importId: args.id } : {}) });
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        const inputs = args.inputs as Record<string, unknown>;
        this.invokes.push({ token: args.token, inputs });
        if (args.token === "azuread:index/getServicePrincipal:getServicePrincipal") {
            const api = this.apis.get(String(inputs["clientId"]));
            if (!api) throw new Error(`service principal not found for client ID ${String(inputs["clientId"])}`);
            return {
                id: api.objectId,
                objectId: api.objectId,
                clientId: inputs["clientId"],
                displayName: api.displayName,
                appRoleIds: api.appRoleIds,
                oauth2PermissionScopeIds: api.scopeIds,
            };
        }
        if (args.token === "azuread:index/getClientConfig:getClientConfig") {
            return { id: mockTenantId, tenantId: mockTenantId, clientId: guidFrom("deployer"), objectId: guidFrom("deployer-sp") };
        }
        throw new Error(`unexpected invoke ${args.token}`);
    }

    ofType(type: string): RegisteredResource[] {
        return this.resources.filter((r) => r.type === type);
    }
}

export const types = {
    application: "azuread:index/application:Application",
    servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
    appRoleAssignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
    delegatedGrant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
    appRegistration: "entra-rotor:index:AppRegistration",
    clientSecret: "entra-rotor:index:ClientSecret",
    applicationPassword: "azuread:index/applicationPassword:ApplicationPassword",
    federatedCredentials: "entra-rotor:index:FederatedCredentials",
    federatedIdentityCredential: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    keyVaultSecrets: "entra-rotor:index:KeyVaultSecrets",
    clientCertificate: "entra-rotor:index:ClientCertificate",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    applicationCertificate: "azuread:index/applicationCertificate:ApplicationCertificate",
    keyVaultSecret: "azure-native:keyvault:Secret",
    keyVault: "azure-native:keyvault:Vault",
} as const;

/** Resolves an output's value (under mocks every output is known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Whether an output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(output);
}

/** Waits until every resource registration and invoke in flight has been answered. */
export async function settle(): Promise<void> {
    // Internal to @pulumi/pulumi, but the only way to know the mock monitor has seen everything.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}

/**
 * A value the mock "provider" returns as secret, as the real provider's schema marks it (`value` of
 * ApplicationPassword). Without an engine, `additionalSecretOutputs` is not applied, so the mock says it.
 */
/** A value from its wire form, secret or not. */
export function unwrapSecret(value: unknown): unknown {
    const wire = value as Record<string, unknown> | null;
    return wire && typeof wire === "object" && wire["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" ? wire["value"] : value;
}

/** The wire form of a secret in Pulumi's resource protocol: this key, with this value, beside `value`. */
const secretSig = "4dabf18193072939515e22adb298388d";
const secretSigValue = "1b47061264138c4ac30d75fd1eb44270";

export function asSecret(value: unknown): Record<string, unknown> {
    return { [secretSig]: secretSigValue, value };
}

/** `/applications/<objectId>` or a bare object id, as the provider's `applicationId` inputs hold it. */
function objectIdOf(applicationId: unknown): string {
    return String(applicationId).replace(/^\/applications\//, "");
}

/**
 * Makes in the emulator what the provider makes in Entra, and returns what Entra answered that the state
 * keeps: a credential's start (Entra starts it when it is made: the program sends no start date).
 */
function mirror(tenant: MockTenant, type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown>): Record<string, unknown> {
    const entra = tenant.emulator.state;
    switch (type) {
        case types.application: {
            const id = String(state["objectId"]);
            const existing = entra.application(id);
            const tags = (inputs["tags"] as string[] | undefined) ?? [];
            const app = name.replace(/-app$/, "");
            if (existing) {
                existing.displayName = String(inputs["displayName"]);
                existing.tags = [...tags];
            } else {
                entra.addApplication({ id, appId: String(state["clientId"]), tenantId: mockTenantId, displayName: String(inputs["displayName"]), tags, accountEnabled: !tenant.disabledApps?.includes(app) });
            }
            return {};
        }
        case types.applicationPassword: {
            const refused = tenant.refuse?.get(name);
            const added = entra.addPassword(objectIdOf(inputs["applicationId"]), {
                keyId: String(state["keyId"]),
                secretText: String(unwrapSecret(state["value"])),
                displayName: String(inputs["displayName"]),
                endDateTime: String(inputs["endDate"]),
                ...(refused ? { replication: { attempts: refused } } : {}),
            });
            return { startDate: isoSeconds(added.credential.startDateTime) };
        }
        case types.applicationCertificate: {
            const refused = tenant.refuse?.get(name);
            // The provider's schema marks the value secret, so it arrives wrapped.
            const added = entra.registerCertificate(objectIdOf(inputs["applicationId"]), String(unwrapSecret(inputs["value"])), {
                keyId: String(state["keyId"]),
                endDateTime: String(inputs["endDate"]),
                ...(refused ? { replication: { attempts: refused } } : {}),
            });
            return { startDate: isoSeconds(added.startDateTime) };
        }
        default:
            return {};
    }
}

function isoSeconds(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
