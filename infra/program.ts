import * as keyvault from "@pulumi/azure-native/keyvault";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type ApiAccess, AppRegistration } from "../components/appRegistration";
import { ClientCertificate } from "../components/clientCertificate";
import { ClientSecret } from "../components/clientSecret";
import { FederatedCredentials } from "../components/federatedCredentials";
import { type KeyVaultSecretSpec, KeyVaultSecrets } from "../components/keyVaultSecrets";
import { appTag, certificateKeyId, stackTag } from "../rotation/identifiers";
import { entraProbe, type CredentialProbe, type ProbeTarget, type VerifyOptions, verifyCredential } from "../azure/probe";
import type { ApiRef } from "./model/catalog";
import type { AppModel, StackModel } from "./model/model";
import type { PermissionModel } from "./model/permissions";

/** What a stack exports per app: identifiers and dates only, never a credential value. */
export interface AppExports {
    readonly clientId: pulumi.Output<string>;
    readonly objectId: pulumi.Output<string>;
    readonly servicePrincipalObjectId: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;
    /** Per rotating credential: what Key Vault serves (slot, generation, keyId, expiry) and when it rotates next. */
    readonly credentials: Record<string, CredentialExports>;
}

export interface CredentialExports {
    readonly type: "secret" | "certificate";
    readonly servedSlot: 0 | 1;
    readonly servedGeneration: number;
    readonly servedKeyId: pulumi.Output<string>;
    readonly expires: string;
    readonly nextRotation: string;
}

/** The live service principal of an API, looked up once per stack. */
interface ApiServicePrincipal {
    readonly objectId: pulumi.Output<string>;
    readonly appRoleIds: pulumi.Output<Record<string, string>>;
    readonly scopeIds: pulumi.Output<Record<string, string>>;
}

/** How the program proves a new credential before Key Vault serves it; injectable so tests drive it. */
export interface StackOptions {
    readonly probe?: CredentialProbe;
    readonly verify?: VerifyOptions;
}

/**
 * Registers the model's resources: one AppRegistration per app, with permission ids resolved from each
 * API's live service principal (one lookup per API per stack, however many apps use it), its credentials,
 * and the Key Vault secrets that serve them.
 */
export function defineStack(
    model: StackModel,
    options: StackOptions = {},
): {
    apps: Record<string, AppRegistration>;
    secrets: Record<string, ClientSecret | ClientCertificate>;
    exports: Record<string, AppExports>;
} {
    const probe = options.probe ?? entraProbe();
    const vault = model.keyVault ? defineVault(model) : undefined;
    const servicePrincipals = new Map<string, ApiServicePrincipal>();
    for (const api of model.apis) servicePrincipals.set(api.appId, lookupServicePrincipal(api));

    const apps: Record<string, AppRegistration> = {};
    const secrets: Record<string, ClientSecret | ClientCertificate> = {};
    const exports: Record<string, AppExports> = {};
    for (const app of model.apps) {
        const registration = new AppRegistration(app.name, {
            displayName: app.displayName,
            description: app.description,
            notes: app.notes,
            signInAudience: app.signInAudience,
            redirectUris: app.redirectUris,
            owners: app.owners,
            apiAccess: apiAccessFor(app, servicePrincipals),
            tags: [stackTag(model.project, model.stack), appTag(model.project, model.stack, app.name)],
            ...(app.adopt ? { adopt: app.adopt } : {}),
        });
        apps[app.name] = registration;
        const credentials: Record<string, CredentialExports> = {};
        const vaultSecrets: KeyVaultSecretSpec[] = [];
        for (const credential of app.credentials) {
            const { served, previous, nextRotation } = credential.schedule;
            const slots = [served, previous];
            const label = `${app.name}/${credential.name}`;
            const componentOptions = { parent: registration };
            let secret: ClientSecret | ClientCertificate;
            let value: pulumi.Output<string>;
            let pkcs12: KeyVaultSecretSpec[] = [];
            if (credential.type === "certificate") {
                const certificate = new ClientCertificate(
                    `${app.name}-${credential.name}`,
                    {
                        applicationId: registration.applicationId,
                        slots,
                        credentialName: credential.name,
                        keySize: credential.keySize,
                        pfx: credential.pfx !== undefined,
                        keyIdOf: (generation) => certificateKeyId(model.project, model.stack, app.name, credential.name, generation),
                    },
                    componentOptions,
                );
                secret = certificate;
                value = proven(certificate.served.pemBundle, registration, label, "certificate", probe, options.verify);
                const pfx = certificate.served.pkcs12;
                if (credential.pfx && pfx) {
                    // The same key as the PEM bundle: served only once the bundle has been proven.
                    const dates = { expires: served.end, notBefore: served.start };
                    pkcs12 = [
                        { secretName: credential.pfx.secretName, value: after(value, pfx.value), contentType: "application/x-pkcs12", ...dates },
                        { secretName: credential.pfx.passwordSecretName, value: after(value, pfx.password), contentType: "text/plain", ...dates },
                    ];
                }
            } else {
                const password = new ClientSecret(`${app.name}-${credential.name}`, { applicationId: registration.applicationId, slots, credentialName: credential.name }, componentOptions);
                secret = password;
                value = proven(password.served.value, registration, label, "secret", probe, options.verify);
            }
            secrets[label] = secret;
            vaultSecrets.push({
                secretName: credential.keyVaultSecretName,
                value,
                contentType: credential.type === "certificate" ? "application/x-pem-file" : "text/plain",
                expires: served.end,
                notBefore: served.start,
                tags: {
                    "managed-by": "entra-rotor",
                    app: app.name,
                    credential: credential.name,
                    clientId: registration.clientId,
                    tenantId: registration.tenantId,
                    keyId: secret.served.keyId,
                    slot: String(secret.served.slot),
                    generation: String(secret.served.generation),
                    nextRotation: credential.schedule.nextRotation,
                },
            });
            const tags = vaultSecrets[vaultSecrets.length - 1]!.tags;
            vaultSecrets.push(...pkcs12.map((spec) => ({ ...spec, tags })));
            credentials[credential.name] = {
                type: credential.type,
                servedSlot: served.slot,
                servedGeneration: served.generation,
                servedKeyId: secret.served.keyId,
                expires: served.end,
                nextRotation,
            };
        }
        for (const certificate of app.certificateFiles) {
            // The owner's certificate, public part only, exactly as given: dates come from the certificate.
            new azuread.ApplicationCertificate(
                `${app.name}-${certificate.name}`,
                {
                    applicationId: registration.applicationId,
                    type: "AsymmetricX509Cert",
                    encoding: "pem",
                    value: certificate.info.pem,
                    startDate: certificate.info.notBefore,
                    endDate: certificate.info.notAfter,
                },
                { parent: registration },
            );
        }
        if (vault && vaultSecrets.length > 0) {
            const ids = app.identitySecrets;
            const identity: KeyVaultSecretSpec[] = ids.json
                ? [
                      {
                          secretName: ids.json,
                          value: pulumi.jsonStringify({ clientId: registration.clientId, tenantId: registration.tenantId }),
                          contentType: "application/json",
                          tags: { "managed-by": "entra-rotor", app: app.name },
                      },
                  ]
                : [
                      { secretName: ids.clientId!, value: registration.clientId, contentType: "text/plain", tags: { "managed-by": "entra-rotor", app: app.name } },
                      { secretName: ids.tenantId!, value: registration.tenantId, contentType: "text/plain", tags: { "managed-by": "entra-rotor", app: app.name } },
                  ];
            new KeyVaultSecrets(
                `${app.name}-keyvault`,
                { resourceGroupName: vault.resourceGroupName, vaultName: vault.vaultName, secrets: [...vaultSecrets, ...identity] },
                { parent: registration, dependsOn: vault.dependsOn },
            );
        }
        if (app.federatedCredentials.length > 0) {
            new FederatedCredentials(
                `${app.name}-federated`,
                {
                    applicationId: registration.applicationId,
                    credentials: app.federatedCredentials.map(({ name, issuer, subject, audience, description }) => ({
                        name,
                        issuer,
                        subject,
                        audience,
                        ...(description !== undefined ? { description } : {}),
                    })),
                },
                { parent: registration },
            );
        }
        exports[app.name] = {
            clientId: registration.clientId,
            objectId: registration.objectId,
            servicePrincipalObjectId: registration.servicePrincipalObjectId,
            tenantId: registration.tenantId,
            credentials,
        };
    }
    return { apps, secrets, exports };
}

/**
 * The served value, released to Key Vault only once a token has been acquired with it. Never during a
 * preview: a preview must not touch the tenant. The result stays a Pulumi secret.
 */
function proven(
    value: pulumi.Output<string>,
    app: AppRegistration,
    label: string,
    kind: ProbeTarget["kind"],
    probe: CredentialProbe,
    verify: VerifyOptions | undefined,
): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.all([value, app.clientId, app.tenantId]).apply(async ([secret, clientId, tenantId]) => {
            await proveUnlessPreview(pulumi.runtime.isDryRun(), probe, { label, tenantId, clientId, kind, secret }, verify);
            return secret;
        }),
    );
}

/** `value` once `gate` has resolved: ties a derived secret to the proof of the credential it derives from. */
function after(gate: pulumi.Output<string>, value: pulumi.Output<string>): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([gate, value]).apply(([, v]) => v));
}

/** The gate itself: no probe in a preview; otherwise the probe must succeed within the bound. Returns the attempts made. */
export async function proveUnlessPreview(preview: boolean, probe: CredentialProbe, target: ProbeTarget, verify?: VerifyOptions): Promise<number> {
    if (preview) return 0;
    return verifyCredential(probe, target, verify);
}

/** The vault that serves the stack's credentials: an existing one, or one created with RBAC and purge protection. */
function defineVault(model: StackModel): { resourceGroupName: string; vaultName: pulumi.Input<string>; dependsOn: pulumi.Resource[] } {
    const kv = model.keyVault!;
    if (!kv.create) return { resourceGroupName: kv.resourceGroup, vaultName: kv.name, dependsOn: [] };
    const vault = new keyvault.Vault("key-vault", {
        resourceGroupName: kv.resourceGroup,
        vaultName: kv.name,
        ...(kv.create.location ? { location: kv.create.location } : {}),
        properties: {
            tenantId: azuread.getClientConfigOutput().tenantId,
            sku: { family: "A", name: "standard" },
            // Access by Azure RBAC roles (Key Vault Secrets User for consumers), not by legacy access policies.
            enableRbacAuthorization: true,
            // Key Vault refuses false once purge protection is on; leaving it out is how "off" is said.
            ...(kv.create.purgeProtection ? { enablePurgeProtection: true } : {}),
            softDeleteRetentionInDays: kv.create.softDeleteRetentionDays,
        },
    });
    return { resourceGroupName: kv.resourceGroup, vaultName: vault.name, dependsOn: [vault] };
}

function lookupServicePrincipal(api: ApiRef): ApiServicePrincipal {
    const sp = azuread.getServicePrincipalOutput({ clientId: api.appId });
    return { objectId: sp.objectId, appRoleIds: sp.appRoleIds, scopeIds: sp.oauth2PermissionScopeIds };
}

/** Groups an app's permissions by API, in declaration order, with ids from the live service principal. */
export function apiAccessFor(app: AppModel, servicePrincipals: ReadonlyMap<string, ApiServicePrincipal>): ApiAccess[] {
    const byApi = new Map<string, { api: ApiRef; application: PermissionModel[]; delegated: PermissionModel[] }>();
    for (const permission of app.permissions) {
        let group = byApi.get(permission.api.appId);
        if (!group) byApi.set(permission.api.appId, (group = { api: permission.api, application: [], delegated: [] }));
        group[permission.kind].push(permission);
    }
    return [...byApi.values()].map(({ api, application, delegated }) => {
        const sp = servicePrincipals.get(api.appId);
        if (!sp) throw new Error(`internal: no service principal lookup for ${api.displayName}`);
        return {
            resourceAppId: api.appId,
            slug: api.slug,
            resourceObjectId: sp.objectId,
            appRoles: application.map((p) => ({ value: p.name, id: liveId(sp.appRoleIds, p) })),
            scopes: delegated.map((p) => ({ value: p.name, id: liveId(sp.scopeIds, p) })),
        };
    });
}

function liveId(ids: pulumi.Output<Record<string, string>>, permission: PermissionModel): pulumi.Output<string> {
    return ids.apply((live) => {
        const resolved = resolveLiveId(live, permission);
        if (resolved.warning) void pulumi.log.warn(resolved.warning);
        return resolved.id;
    });
}

/**
 * A permission's id on the API's live service principal. Throws, naming the config path, when the tenant's
 * API has no such permission. Published ids never change, so one that differs from the offline catalog
 * means the shipped catalog is wrong: the tenant's id wins, with a warning.
 */
export function resolveLiveId(live: Readonly<Record<string, string>> | undefined, permission: PermissionModel): { id: string; warning?: string } {
    const id = live?.[permission.name];
    if (!id) {
        throw new Error(
            `${permission.path}: ${permission.api.displayName} in this tenant has no ${permission.kind} permission "${permission.name}"; ` +
                `check the name against the API's service principal (names are case-sensitive)`,
        );
    }
    if (permission.catalogId && permission.catalogId !== id) {
        return { id, warning: `${permission.path}: the tenant's id for ${permission.name} (${id}) differs from the offline catalog's (${permission.catalogId}); using the tenant's` };
    }
    return { id };
}
