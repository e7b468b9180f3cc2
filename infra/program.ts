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

/** How the program proves a new credential before Key Vault serves it, and how much it registers at once. */
export interface StackOptions {
    /** Signs in with a new credential; the real one by default, tests inject their own. */
    readonly probe?: CredentialProbe;
    /** Attempts and delays of the proof. */
    readonly verify?: VerifyOptions;
    /** How many apps' registrations are in flight at once (default 32). */
    readonly appsInFlight?: number;
}

/**
 * Apps whose registrations are in flight at once. The Node SDK holds every pending registration's outputs
 * (and a captured stack trace per output promise), so registering a 1,000-app stack in one go held several
 * gigabytes; a window bounds the program's memory by the window, not the stack. The engine runs operations
 * with unbounded parallelism by default (`pulumi up --parallel`), so 32 apps (about 700 operations) keep it
 * busy, and spread the calls Microsoft Graph throttles per app and tenant.
 */
export const defaultAppsInFlight = 32;

/** What the program registered: the components by app and credential, and what the stack exports. */
export interface DefinedStack {
    readonly apps: Record<string, AppRegistration>;
    readonly secrets: Record<string, ClientSecret | ClientCertificate>;
    readonly exports: Record<string, AppExports>;
}

/** Everything the program shares between apps: the vault and each API's service principal. */
interface StackContext {
    readonly model: StackModel;
    readonly probe: CredentialProbe;
    readonly verify: VerifyOptions | undefined;
    readonly vault: { resourceGroupName: string; vaultName: pulumi.Input<string>; dependsOn: pulumi.Resource[] } | undefined;
    readonly servicePrincipals: ReadonlyMap<string, ApiServicePrincipal>;
}

/**
 * Registers the model's resources: one AppRegistration per app, with permission ids resolved from each
 * API's live service principal (one lookup per API per stack, however many apps use it), its credentials,
 * and the Key Vault secrets that serve them. Apps are registered in model order, at most `appsInFlight`
 * at a time; the promise resolves once every app's resources are registered, and rejects (so the
 * deployment fails, and deletes nothing it did not reach) when one fails.
 */
export async function defineStack(model: StackModel, options: StackOptions = {}): Promise<DefinedStack> {
    const inFlight = options.appsInFlight ?? defaultAppsInFlight;
    if (!Number.isInteger(inFlight) || inFlight < 1) throw new RangeError(`appsInFlight must be a whole number of at least 1, got ${inFlight}`);
    const servicePrincipals = new Map<string, ApiServicePrincipal>();
    for (const api of model.apis) servicePrincipals.set(api.appId, lookupServicePrincipal(api));
    const context: StackContext = {
        model,
        probe: options.probe ?? entraProbe(),
        verify: options.verify,
        vault: model.keyVault ? defineVault(model) : undefined,
        servicePrincipals,
    };
    const stack: DefinedStack = { apps: {}, secrets: {}, exports: {} };
    const pending = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for (const app of model.apps) {
        while (pending.size >= inFlight) await Promise.race(pending);
        if (failure) break;
        const defined = defineApp(app, context);
        stack.apps[app.name] = defined.registration;
        Object.assign(stack.secrets, defined.secrets);
        stack.exports[app.name] = defined.exports;
        const done: Promise<void> = registered(defined.resources, defined.gates).then(
            () => void pending.delete(done),
            (error: unknown) => {
                failure ??= { error };
                pending.delete(done);
            },
        );
        pending.add(done);
    }
    await Promise.all(pending);
    if (failure) throw failure.error;
    return stack;
}

/**
 * Resolves when every resource's registration has been answered (its URN is known); rejects when one failed,
 * or when a value the app's resources wait on failed (a proof, a permission id): the SDK then never sends
 * those registrations, and their URNs never resolve. `Output.promise()` is how the SDK itself awaits an
 * output; it is not in the SDK's typings, and `apply` never calls back for a failure.
 */
export function registered(resources: readonly pulumi.Resource[], gates: readonly pulumi.Output<unknown>[] = []): Promise<void> {
    const urns = Promise.all(resources.map((resource) => promiseOf(resource.urn))).then(() => undefined);
    const failed = new Promise<never>((_, reject) => {
        for (const gate of gates) promiseOf(gate).catch(reject);
    });
    return Promise.race([urns, failed]);
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return (output as unknown as { promise(): Promise<T> }).promise();
}

/** One app: its registration, credentials, certificate files, federated credentials and Key Vault secrets. */
function defineApp(
    app: AppModel,
    { model, probe, verify, vault, servicePrincipals }: StackContext,
): { registration: AppRegistration; secrets: Record<string, ClientSecret | ClientCertificate>; exports: AppExports; resources: pulumi.Resource[]; gates: pulumi.Output<unknown>[] } {
    const resources: pulumi.Resource[] = [];
    /** The values computed by the program that resources wait on: when one fails, its resources are never registered. */
    const gates: pulumi.Output<unknown>[] = [];
    const apiAccess = apiAccessFor(app, servicePrincipals);
    for (const access of apiAccess) for (const permission of [...access.appRoles, ...access.scopes]) gates.push(pulumi.output(permission.id));
    const registration = new AppRegistration(app.name, {
        displayName: app.displayName,
        description: app.description,
        notes: app.notes,
        signInAudience: app.signInAudience,
        redirectUris: app.redirectUris,
        owners: app.owners,
        apiAccess,
        tags: [stackTag(model.project, model.stack), appTag(model.project, model.stack, app.name)],
        ...(app.adopt ? { adopt: app.adopt } : {}),
    });
    resources.push(registration.application, registration.servicePrincipal, ...Object.values(registration.appRoleAssignments), ...Object.values(registration.delegatedGrants));
    const secrets: Record<string, ClientSecret | ClientCertificate> = {};
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
            resources.push(...certificate.keys, ...certificate.certificates, ...certificate.credentials);
            secret = certificate;
            value = proven(certificate.served.pemBundle, registration, label, "certificate", probe, verify);
            gates.push(value);
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
            resources.push(...password.passwords);
            secret = password;
            value = proven(password.served.value, registration, label, "secret", probe, verify);
            gates.push(value);
        }
        secrets[label] = secret;
        const tags = {
            "managed-by": "entra-rotor",
            app: app.name,
            credential: credential.name,
            clientId: registration.clientId,
            tenantId: registration.tenantId,
            keyId: secret.served.keyId,
            slot: String(secret.served.slot),
            generation: String(secret.served.generation),
            nextRotation: credential.schedule.nextRotation,
        };
        vaultSecrets.push({
            secretName: credential.keyVaultSecretName,
            value,
            contentType: credential.type === "certificate" ? "application/x-pem-file" : "text/plain",
            expires: served.end,
            notBefore: served.start,
            tags,
        });
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
        // The owner's certificate, public part only, exactly as given; its end is the certificate's.
        resources.push(
            new azuread.ApplicationCertificate(
                `${app.name}-${certificate.name}`,
                {
                    applicationId: registration.applicationId,
                    type: "AsymmetricX509Cert",
                    encoding: "pem",
                    value: certificate.info.pem,
                    // Entra takes the start from the certificate; the program never sends a start date.
                    endDate: certificate.info.notAfter,
                },
                { parent: registration },
            ),
        );
    }
    if (vault && vaultSecrets.length > 0) {
        const ids = app.identitySecrets;
        const identityTags = { "managed-by": "entra-rotor", app: app.name };
        const identity: KeyVaultSecretSpec[] = ids.json
            ? [{ secretName: ids.json, value: pulumi.jsonStringify({ clientId: registration.clientId, tenantId: registration.tenantId }), contentType: "application/json", tags: identityTags }]
            : [
                  { secretName: ids.clientId!, value: registration.clientId, contentType: "text/plain", tags: identityTags },
                  { secretName: ids.tenantId!, value: registration.tenantId, contentType: "text/plain", tags: identityTags },
              ];
        const served = new KeyVaultSecrets(
            `${app.name}-keyvault`,
            { resourceGroupName: vault.resourceGroupName, vaultName: vault.vaultName, secrets: [...vaultSecrets, ...identity] },
            { parent: registration, dependsOn: vault.dependsOn },
        );
        resources.push(...Object.values(served.secrets));
    }
    if (app.federatedCredentials.length > 0) {
        const federated = new FederatedCredentials(
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
        resources.push(...Object.values(federated.credentials));
    }
    const exports: AppExports = {
        clientId: registration.clientId,
        objectId: registration.objectId,
        servicePrincipalObjectId: registration.servicePrincipalObjectId,
        tenantId: registration.tenantId,
        credentials,
    };
    return { registration, secrets, exports, resources, gates };
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
function defineVault(model: StackModel): NonNullable<StackContext["vault"]> {
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
