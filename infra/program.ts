import * as keyvault from "@pulumi/azure-native/keyvault";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type ApiAccess, AppRegistration } from "../components/appRegistration";
import { ClientCertificate } from "../components/clientCertificate";
import { ClientSecret } from "../components/clientSecret";
import { FederatedCredentials } from "../components/federatedCredentials";
import { type KeyVaultSecretSpec, KeyVaultSecrets } from "../components/keyVaultSecrets";
import { appTag, certificateKeyId, stackTag } from "../rotation/identifiers";
import { CredentialVerificationError, entraProbe, type CredentialProbe, type ProbeTarget, type VerifyOptions, verifyCredential } from "../azure/probe";
import type { CredentialModel } from "./model/credentials";
import { type Failure, Outcomes, type Tracked } from "./outcomes";
import type { ApiRef } from "./model/catalog";
import type { AppModel, StackModel } from "./model/model";
import type { PermissionModel } from "./model/permissions";
import { handoffOf, portalLink } from "./model/handoffs";

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
    /** For a credential a person copies by hand: this run's hand-off to each manual consumer (value-free). */
    readonly handoffs?: readonly HandoffExport[];
}

/**
 * A hand-off as the run yields it (infra/model/handoffs.ts, plus what only the run knows): the Key Vault secret
 * version that holds the generation, in the portal. Never the value.
 */
export interface HandoffExport {
    readonly id: string;
    readonly consumer: string;
    readonly owner: string;
    readonly instructions: string;
    readonly generation: number;
    readonly servedFrom: string;
    readonly deadline: string;
    /** `https://<vault>.vault.azure.net/secrets/<name>/<version>`: the version Key Vault serves now. */
    readonly secretVersionUrl: pulumi.Output<string> | null;
    /** The same version in the Azure portal. */
    readonly portalUrl: pulumi.Output<string> | null;
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
    readonly vault: { resourceGroupName: string; vaultName: pulumi.Input<string>; dependsOn: pulumi.Resource[]; tracked: Tracked[] } | undefined;
    readonly servicePrincipals: ReadonlyMap<string, ApiServicePrincipal>;
}

/**
 * Registers the model's resources: one AppRegistration per app, with permission ids resolved from each
 * API's live service principal (one lookup per API per stack, however many apps use it), its credentials,
 * and the Key Vault secrets that serve them. Apps are registered in model order, at most `appsInFlight`
 * at a time.
 *
 * A failure is kept as small as it can be: a credential whose proof or create fails, or a brought certificate
 * that expired, leaves what is deployed for that credential as it is (Key Vault keeps serving the previous
 * value), and every other credential and app is still registered. The engine deletes nothing a failed program
 * did not register, and applies everything it did. Once everything is registered, the promise rejects with a
 * RunError naming every failure, so the update exits non-zero and the pipeline alerts; it resolves only when
 * nothing failed.
 */
export async function defineStack(model: StackModel, options: StackOptions = {}): Promise<DefinedStack> {
    const inFlight = options.appsInFlight ?? defaultAppsInFlight;
    if (!Number.isInteger(inFlight) || inFlight < 1) throw new RangeError(`appsInFlight must be a whole number of at least 1, got ${inFlight}`);
    const servicePrincipals = new Map<string, ApiServicePrincipal>();
    for (const api of model.apis) servicePrincipals.set(api.appId, lookupServicePrincipal(api));
    const shared = new Outcomes();
    const context: StackContext = {
        model,
        probe: options.probe ?? entraProbe(),
        verify: options.verify,
        vault: model.keyVault ? defineVault(model, shared) : undefined,
        servicePrincipals,
    };
    const stack: DefinedStack = { apps: {}, secrets: {}, exports: {} };
    const pending = new Set<Promise<void>>();
    const failures: Failure[] = [];
    for (const app of model.apps) {
        while (pending.size >= inFlight) await Promise.race(pending);
        const defined = defineApp(app, context);
        stack.apps[app.name] = defined.registration;
        Object.assign(stack.secrets, defined.secrets);
        stack.exports[app.name] = defined.exports;
        const done: Promise<void> = defined.outcomes.settled().then((found) => {
            failures.push(...found);
            pending.delete(done);
        });
        pending.add(done);
    }
    await Promise.all(pending);
    failures.push(...(await shared.settled()));
    const distinct = [...new Set(failures)];
    if (distinct.length > 0) throw new pulumi.RunError(failureSummary(model, distinct));
    return stack;
}

/**
 * The run's closing error: every failure on a line of its own, then what it means. Each one was also logged
 * where it happened (with its resource); this is what a pipeline log shows last.
 */
export function failureSummary(model: StackModel, failures: readonly Failure[]): string {
    const credentials = new Map<string, CredentialModel>(model.apps.flatMap((app) => app.credentials.map((c) => [`${app.name}/${c.name}`, c] as [string, CredentialModel])));
    const lines = failures.map((failure) => {
        const message = firstLine(failure.error.message);
        const own = message.startsWith(`${failure.unit}:`) ? message : `${failure.unit}: ${failure.what}: ${message}`;
        const credential = credentials.get(failure.unit);
        return `  ${own}${credential && !message.includes("keeps serving") ? ` ${previousValueNote(credential)}` : ""}`;
    });
    const noun = failures.length === 1 ? "failure" : "failures";
    return (
        `${failures.length} ${noun} in stack ${model.stack}; everything else was deployed, and rotated where due:\n${lines.join("\n")}\n` +
        "The run fails so the pipeline alerts. Fix the causes above; the next run catches up (docs/rotation.md#when-something-fails)."
    );
}

/**
 * What a consumer of a credential whose new value was not served still has: the previous generation, in the
 * other slot, which Key Vault keeps serving, and which stays valid until its slot is replaced at the next
 * rotation (or expires, whichever is first).
 */
export function previousValueNote(credential: CredentialModel): string {
    const { previous, nextRotation } = credential.schedule;
    const until = Date.parse(previous.end) < Date.parse(nextRotation) ? previous.end : nextRotation;
    return (
        `Key Vault keeps serving the previous value (generation ${previous.generation}, slot ${previous.slot}), ` +
        `which stays valid until ${until}, when ${until === nextRotation ? "the next rotation replaces its slot" : "it expires"}: fix the cause before then.`
    );
}

/**
 * The first line of an error, without what the SDK wraps around a failed registration ("error serializing
 * property ...: failed to register new resource NAME [TYPE]: "): the service's answer is what tells the fix.
 */
function firstLine(text: string): string {
    let line = (text.split(/\r?\n|\r/).find((l) => l.trim() !== "") ?? "unknown error").trim();
    line = line.replace(/^(error serializing property "[^"]*": )+/, "").replace(/^failed to register new resource \S+ \[[^\]]*\]: /, "");
    return line.length > 400 ? `${line.slice(0, 397)}...` : line;
}

interface DefinedApp {
    readonly registration: AppRegistration;
    readonly secrets: Record<string, ClientSecret | ClientCertificate>;
    readonly exports: AppExports;
    /** Settles once every resource of the app has been registered, or could not be. */
    readonly outcomes: Outcomes;
}

/** One app: its registration, credentials, certificate files, federated credentials and Key Vault secrets. */
function defineApp(app: AppModel, { model, probe, verify, vault, servicePrincipals }: StackContext): DefinedApp {
    const outcomes = new Outcomes();
    const apiAccess = apiAccessFor(app, servicePrincipals);
    // The ids come from each API's service principal in the tenant: one the tenant lacks fails the app.
    const permissions = apiAccess.flatMap((access) => [...access.appRoles, ...access.scopes].map((p) => outcomes.value(pulumi.output(p.id), app.name, `permission ${p.value}`)));
    const registration = new AppRegistration(app.name, {
        displayName: app.displayName,
        description: app.description,
        notes: app.notes,
        signInAudience: app.signInAudience,
        redirectUris: app.redirectUris,
        spaRedirectUris: app.spaRedirectUris,
        publicClientRedirectUris: app.publicClientRedirectUris,
        owners: app.owners,
        apiAccess,
        tags: applicationTags(model, app),
        ...(app.adopt ? { adopt: app.adopt } : {}),
    });
    const application = outcomes.resource(registration.application, app.name, `${app.name}-app`, permissions);
    const servicePrincipal = outcomes.resource(registration.servicePrincipal, app.name, `${app.name}-sp`, [application]);
    const appReady = [application, servicePrincipal];
    for (const [key, assignment] of Object.entries(registration.appRoleAssignments)) outcomes.resource(assignment, app.name, `consent ${key}`, [...appReady, ...permissions]);
    for (const [key, grant] of Object.entries(registration.delegatedGrants)) outcomes.resource(grant, app.name, `consent ${key}`, [...appReady, ...permissions]);

    const secrets: Record<string, ClientSecret | ClientCertificate> = {};
    const credentials: Record<string, CredentialExports> = {};
    const vaultSecrets: { spec: KeyVaultSecretSpec; unit: string; after: Tracked[] }[] = [];
    for (const credential of app.credentials) {
        const { served, previous, nextRotation } = credential.schedule;
        const slots = [served, previous];
        const label = `${app.name}/${credential.name}`;
        const componentOptions = { parent: registration };
        const gate = { label, registration, credential, probe, verify };
        let secret: ClientSecret | ClientCertificate;
        let value: pulumi.Output<string>;
        let proof: Tracked;
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
            const uploaded = ([0, 1] as const).map((i) => {
                const key = outcomes.resource(certificate.keys[i], label, `${app.name}-${credential.name}-slot${i}-key`);
                const cert = outcomes.resource(certificate.certificates[i], label, `${app.name}-${credential.name}-slot${i}-cert`, [key]);
                const upload = outcomes.resource(certificate.credentials[i], label, `${app.name}-${credential.name}-slot${i}`, [cert, application]);
                return [key, cert, upload];
            });
            secret = certificate;
            // Signing in waits for the upload of the served key credential: before it, Entra cannot know the key.
            value = proven(certificate.served.pemBundle, certificate.served, "certificate", gate);
            proof = outcomes.value(value, label, "verify gate", [...uploaded[served.slot]!, ...appReady]);
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
            const created = password.passwords.map((p, i) => outcomes.resource(p, label, `${app.name}-${credential.name}-slot${i}`, [application]));
            secret = password;
            value = proven(password.served.value, password.served, "secret", gate);
            proof = outcomes.value(value, label, "verify gate", [created[served.slot]!, ...appReady]);
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
            spec: {
                secretName: credential.keyVaultSecretName,
                value,
                contentType: credential.type === "certificate" ? "application/x-pem-file" : "text/plain",
                expires: served.end,
                notBefore: served.start,
                tags,
            },
            unit: label,
            after: [proof],
        });
        vaultSecrets.push(...pkcs12.map((spec) => ({ spec: { ...spec, tags }, unit: label, after: [proof] })));
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
        const label = `${app.name}/${certificate.name}`;
        if (certificate.error) {
            // Not registered: the engine leaves what is deployed for it as it is (Entra keeps the registered
            // certificate), and the run fails at the end. Uploading an expired certificate would change nothing
            // a consumer can use, and Entra may refuse it.
            const message = `${label}: ${certificate.error}; what is deployed for it is left as it is, and every other credential is deployed as usual`;
            void pulumi.log.error(message, registration);
            outcomes.failed(label, certificate.file, new Error(message));
            continue;
        }
        // The owner's certificate, public part only, exactly as given; its end is the certificate's.
        const uploaded = new azuread.ApplicationCertificate(
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
        );
        outcomes.resource(uploaded, label, `${app.name}-${certificate.name}`, [application]);
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
        const all = [...vaultSecrets, ...identity.map((spec) => ({ spec, unit: app.name, after: [] as Tracked[] }))];
        const served = new KeyVaultSecrets(
            `${app.name}-keyvault`,
            { resourceGroupName: vault.resourceGroupName, vaultName: vault.vaultName, secrets: all.map((s) => s.spec) },
            { parent: registration, dependsOn: vault.dependsOn },
        );
        for (const { spec, unit, after: waitsOn } of all) {
            outcomes.resource(served.secrets[spec.secretName]!, unit, `${app.name}-keyvault-${spec.secretName}`, [...waitsOn, ...appReady, ...vault.tracked]);
        }
        for (const credential of app.credentials) {
            const manual = credential.consumers.filter((c) => c.reads === "manual");
            const exported = credentials[credential.name];
            if (manual.length === 0 || !exported) continue;
            // The URL of a version names no value, but `properties` holds the (secret) value too, so its outputs
            // come marked secret: the URL alone is unmarked, or the export would read [secret].
            const version = pulumi.unsecret(served.secrets[credential.keyVaultSecretName]!.properties.apply((p) => p.secretUriWithVersion));
            credentials[credential.name] = {
                ...exported,
                handoffs: manual.map((consumer) => {
                    const handoff = handoffOf(model, app, credential, consumer, credential.schedule.generation);
                    return {
                        id: handoff.id,
                        consumer: handoff.consumer,
                        owner: handoff.owner,
                        instructions: handoff.instructions,
                        generation: handoff.generation,
                        servedFrom: handoff.servedFrom,
                        deadline: handoff.deadline,
                        secretVersionUrl: version,
                        portalUrl: version.apply((url) => portalLink(model.cloud, model.tenantId, url)),
                    };
                }),
            };
        }
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
                // An adopted app's credentials are Entra's already: imported by their ids, as its consent is.
                ...(app.adopt?.federatedCredentials ? { imports: app.adopt.federatedCredentials } : {}),
            },
            { parent: registration },
        );
        for (const [name, resource] of Object.entries(federated.credentials)) outcomes.resource(resource, `${app.name}/${name}`, `${app.name}-federated-${name}`, [application]);
    }
    const exports: AppExports = {
        clientId: registration.clientId,
        objectId: registration.objectId,
        servicePrincipalObjectId: registration.servicePrincipalObjectId,
        tenantId: registration.tenantId,
        credentials,
    };
    return { registration, secrets, exports, outcomes };
}

/**
 * The application's tags: its own, then the stack's and the app's, which the live commands find it by. Not
 * while it is adopted: importing a resource whose inputs differ from what Entra holds fails, or on newer
 * engines imports and then updates it ("inputs to import do not match the existing resource", Pulumi's
 * `import` resource option), so an adopted application is registered exactly as it is; removing `adopt`
 * after the first `pulumi up` adds the stack's tags. The live commands find an adopted app by its object id.
 */
export function applicationTags(model: StackModel, app: AppModel): string[] {
    return app.adopt ? [...app.tags] : [...app.tags, stackTag(model.project, model.stack), appTag(model.project, model.stack, app.name)];
}

/** What the verify gate of one credential needs besides its value. */
interface GateContext {
    readonly label: string;
    readonly registration: AppRegistration;
    readonly credential: CredentialModel;
    readonly probe: CredentialProbe;
    readonly verify: VerifyOptions | undefined;
}

/**
 * The served value, released to Key Vault only once a token has been acquired with it. Never during a
 * preview: a preview must not touch the tenant. The result stays a Pulumi secret. `onApp` is the credential
 * as the application has it (its key id and start date): the proof starts once Entra has it, and Entra's
 * replication explains a refusal only for a while after that start. When the proof fails, the error says
 * which credential, why, and what Key Vault keeps serving until when; it is a ResourceError of the app, so
 * the engine logs it there, once, without a stack trace.
 */
function proven(
    value: pulumi.Output<string>,
    onApp: { readonly keyId: pulumi.Output<string>; readonly startDate: pulumi.Output<string> },
    kind: ProbeTarget["kind"],
    gate: GateContext,
): pulumi.Output<string> {
    const { label, registration, credential, probe, verify } = gate;
    return pulumi.secret(
        pulumi.all([value, onApp.keyId, onApp.startDate, registration.clientId, registration.tenantId]).apply(async ([secret, , createdAt, clientId, tenantId]) => {
            try {
                const target = { label, tenantId, clientId, kind, secret, ...(createdAt ? { createdAt } : {}) };
                await proveUnlessPreview(pulumi.runtime.isDryRun(), probe, target, verify);
            } catch (error) {
                if (!(error instanceof CredentialVerificationError)) throw error;
                throw new pulumi.ResourceError(proofFailure(error, credential), registration, true);
            }
            return secret;
        }),
    );
}

/** Which credential failed its proof, why, and what consumers keep meanwhile. */
export function proofFailure(error: CredentialVerificationError, credential: CredentialModel): string {
    const { served } = credential.schedule;
    const attempts = `${error.attempts} attempt${error.attempts === 1 ? "" : "s"}`;
    const outcome = error.permanent ? `cannot authenticate (${error.permanent}; stopped after ${attempts}: waiting cannot fix it)` : `did not authenticate after ${attempts}`;
    return (
        `${error.label}: the new ${credential.type} (generation ${served.generation}, slot ${served.slot}) ${outcome}, so it is not served ` +
        `(last error: ${error.lastError.replace(/\.+$/, "")}). ${previousValueNote(credential)} ` +
        "Every other credential is deployed as usual. Check the app's credentials in Entra (rotor verify), then run pulumi up again."
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
function defineVault(model: StackModel, outcomes: Outcomes): NonNullable<StackContext["vault"]> {
    const kv = model.keyVault!;
    if (!kv.create) return { resourceGroupName: kv.resourceGroup, vaultName: kv.name, dependsOn: [], tracked: [] };
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
    return { resourceGroupName: kv.resourceGroup, vaultName: vault.name, dependsOn: [vault], tracked: [outcomes.resource(vault, "key vault", "key-vault")] };
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
