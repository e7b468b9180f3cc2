import type { ApiRef } from "./catalog";
import {
    certificateCredentialSchema,
    checkCertificateFile,
    type CredentialModel,
    credentialType,
    credentialTypes,
    type FileCertificateModel,
    resolveCertificateFile,
    resolveRotating,
    resolveRotationSettings,
    type RotationSettings,
    secretCredentialSchema,
} from "./credentials";
import { type EntraCloud, type FederatedContext, type FederatedCredentialConfig, federatedCredentialSchema, type FederatedModel, resolveFederated } from "./federated";
import { ConfigError, type ConfigIssue, IssueList } from "./issues";
import { identitySecretNames, keyVaultSecretNameProblem, type KeyVaultModel, resolveKeyVault } from "./keyVault";
import { type PermissionModel, resolvePermissions } from "./permissions";
import { appSchema, describe, parseEntries, parseWith, permissionEntrySchema, privilegedEntrySchema } from "./schema";
import { checkRawInput } from "./rawInput";
import { type ExistingCredentialModel, resolveExisting } from "./existing";
import { type AdoptModel, resolveAdopt } from "./adopt";
import { projectNameProblem } from "./names";
import { didYouMean } from "./suggest";
import { dateToIsoSeconds } from "../../rotation/instants";

export type SignInAudience = "AzureADMyOrg" | "AzureADMultipleOrgs";

/** One app registration, validated, with permissions resolved against the offline catalog. */
export interface AppModel {
    /** Stable key from config; names resources, never changes for the life of the app. */
    readonly name: string;
    readonly displayName: string;
    readonly description?: string;
    readonly notes?: string;
    readonly signInAudience: SignInAudience;
    /** Redirect URIs of the web platform. */
    readonly redirectUris: readonly string[];
    /** Redirect URIs of the single-page application platform. */
    readonly spaRedirectUris: readonly string[];
    /** Redirect URIs of the mobile and desktop platform (public client). */
    readonly publicClientRedirectUris: readonly string[];
    /** The application's own tags, besides the stack's (which the program adds, except while the app is adopted). */
    readonly tags: readonly string[];
    readonly owners: readonly string[];
    /** Object ids of an existing registration and service principal to import instead of creating them. */
    readonly adopt?: AdoptModel;
    readonly permissions: readonly PermissionModel[];
    /** Rotating credentials (client secrets and generated certificates), in declaration order. */
    readonly credentials: readonly CredentialModel[];
    /** Certificates brought as files: uploaded as they are, never rotated by the stack. */
    readonly certificateFiles: readonly FileCertificateModel[];
    /** Credentials the application had before the stack (made in the portal): never touched by the program. */
    readonly existing: readonly ExistingCredentialModel[];
    /** Federated identity credentials, in declaration order. */
    readonly federatedCredentials: readonly FederatedModel[];
    /** Key Vault secrets that publish the app's client and tenant ids, when the app has rotating credentials. */
    readonly identitySecrets: { readonly clientId?: string; readonly tenantId?: string; readonly json?: string };
    /** Where the app is declared, e.g. `apps[2]`. */
    readonly path: string;
}

/** Everything the stack declares, computed without the Pulumi runtime. */
export interface StackModel {
    readonly project: string;
    readonly stack: string;
    /** The instant the model was computed for, ISO-8601 to the second. */
    readonly at: string;
    readonly apps: readonly AppModel[];
    /** The distinct APIs the stack requests permissions on: one service principal lookup each per deployment. */
    readonly apis: readonly ApiRef[];
    /** Where rotating credentials are served; required when there are any. */
    readonly keyVault?: KeyVaultModel;
    /** The stack's tenant, from `azuread:tenantId` (lowercase), when set. */
    readonly tenantId?: string;
    /** The Entra cloud, from `azuread:environment` (default `global`). */
    readonly cloud: EntraCloud;
    readonly warnings: readonly ConfigIssue[];
    /**
     * Errors of single credentials that arose with time (a brought certificate that has expired): unlike a
     * mistake in the stack file they stop nothing else. The plan shows them and exits 1; the program leaves
     * what is deployed for the credential as it is, deploys the rest, and fails the run at the end.
     */
    readonly credentialErrors: readonly ConfigIssue[];
    /** The Pulumi ESC environments the stack imports (empty when none): their values are not reviewed. */
    readonly escEnvironments: readonly string[];
}

/** The stack's config values in the project's namespace, keys without the `project:` prefix. */
export interface StackConfigInput {
    readonly project: string;
    readonly stack: string;
    readonly values: Readonly<Record<string, unknown>>;
    /** Names the config's origin in error messages, e.g. `Pulumi.dev.yaml`. */
    readonly source: string;
    /** The project directory: certificate files are read relative to it. Default: the working directory. */
    readonly baseDir?: string;
    /**
     * Keys set with `secure:` in the stack file, left out of `values` by the offline CLI (it never decrypts);
     * named so that an unknown or misplaced one is still reported.
     */
    readonly secureKeys?: readonly string[];
    /**
     * The azuread provider's own config for the stack (`azuread:tenantId`, `azuread:environment`): the tenant a
     * managed identity's issuer names and the live commands sign in to, and the cloud.
     */
    readonly provider?: { readonly tenantId?: unknown; readonly environment?: unknown };
    /**
     * The Pulumi ESC environments the stack file imports (its `environment:`), in order: config from outside
     * the repository, which no offline review can see.
     */
    readonly escEnvironments?: readonly string[];
}

/** Config keys in the project's namespace that the program reads. */
export const knownConfigKeys = ["apps", "rotation", "keyVault"] as const;

export interface ModelResult {
    /** Present when there is no error. */
    readonly model?: StackModel;
    readonly issues: readonly ConfigIssue[];
}

/** Builds the model at `now`, collecting every problem rather than stopping at the first. Pure. */
export function buildModel(input: StackConfigInput, now: Date): ModelResult {
    const issues = new IssueList();
    const projectProblem = projectNameProblem(input.project);
    if (projectProblem) issues.error("", `the project name ${projectProblem}`);
    // Bounded, null-prototype and free of control characters before anything else reads it.
    const raw = checkRawInput(input.values);
    issues.add(raw.issues);
    const values = raw.values;
    const known = knownConfigKeys.map((k) => `${input.project}:${k}`);
    for (const key of Object.keys(values)) {
        if (!(knownConfigKeys as readonly string[]).includes(key)) {
            issues.error(key, `unknown config key "${input.project}:${key}"${didYouMean(`${input.project}:${key}`, known)}; known keys: ${known.join(", ")}`);
        }
    }
    for (const key of input.secureKeys ?? []) {
        if ((knownConfigKeys as readonly string[]).includes(key)) {
            issues.error(key, `is encrypted (secure:), but entra-rotor's settings hold no secret and the offline plan cannot read it: set "${input.project}:${key}" in plain text`);
        } else {
            issues.error(key, `unknown config key "${input.project}:${key}" (encrypted)${didYouMean(`${input.project}:${key}`, known)}; known keys: ${known.join(", ")}`);
        }
    }

    const provider = resolveProvider(input.provider ?? {}, issues);
    const settings = resolveRotationSettings(values["rotation"], issues, now);
    const keyVault = resolveKeyVault(values["keyVault"], issues);
    const rawApps = values["apps"];
    const apps: AppModel[] = [];
    if (rawApps === undefined) {
        issues.error("apps", `required: list the app registrations under "${input.project}:apps" in the stack config`);
    } else if (!Array.isArray(rawApps)) {
        issues.error("apps", `must be a list of app registrations, got ${describe(rawApps)}`);
    } else {
        const firstByName = new Map<string, number>();
        rawApps.forEach((rawApp: unknown, i) => {
            const path = `apps[${i}]`;
            // Duplicates are checked on the raw name so they are reported even when the app has other errors.
            const rawName = typeof rawApp === "object" && rawApp !== null ? (rawApp as Record<string, unknown>)["name"] : undefined;
            if (typeof rawName === "string") {
                const first = firstByName.get(rawName);
                if (first !== undefined) {
                    issues.error(`${path}.name`, `duplicate app name "${rawName}" (first at apps[${first}]); app names are unique in a stack`);
                } else {
                    firstByName.set(rawName, i);
                }
            }
            const parsed = parseWith(appSchema, rawApp, ["apps", i]);
            issues.add(parsed.issues);
            // The checks of meaning also run on the valid parts of an invalid app, so one run shows everything.
            const raw = typeof rawApp === "object" && rawApp !== null ? (rawApp as Record<string, unknown>) : {};
            checkUnique(raw["redirectUris"], `${path}.redirectUris`, "redirect URI", (uri) => uri, issues);
            checkUnique(raw["spaRedirectUris"], `${path}.spaRedirectUris`, "redirect URI", (uri) => uri, issues);
            checkUnique(raw["publicClientRedirectUris"], `${path}.publicClientRedirectUris`, "redirect URI", (uri) => uri, issues);
            checkUnique(raw["tags"], `${path}.tags`, "tag", (tag) => tag, issues);
            const existing = resolveExisting(raw["existing"], path, issues);
            checkUnique(raw["owners"], `${path}.owners`, "owner", (owner) => owner.toLowerCase(), issues);
            const resolved = resolvePermissions(
                {
                    ...(parsed.value ?? {
                        permissions: parseEntries(permissionEntrySchema, raw["permissions"]),
                        allowPrivileged: parseEntries(privilegedEntrySchema, raw["allowPrivileged"]),
                    }),
                    allowPrivilegedNames: rawNames(raw["allowPrivileged"], "permission"),
                },
                path,
            );
            issues.add(resolved.issues);
            const { credentials, federatedCredentials, certificateFiles } = resolveCredentials(
                raw["credentials"],
                path,
                { stack: input.stack, app: typeof rawName === "string" ? rawName : `#${i}`, now, settings, baseDir: input.baseDir ?? process.cwd(), provider },
                issues,
            );
            if (!parsed.value) return;
            const app = parsed.value;
            apps.push({
                name: app.name,
                displayName: app.displayName ?? app.name,
                ...(app.description !== undefined ? { description: app.description } : {}),
                ...(app.notes !== undefined ? { notes: app.notes } : {}),
                signInAudience: app.signInAudience ?? "AzureADMyOrg",
                redirectUris: app.redirectUris ?? [],
                spaRedirectUris: app.spaRedirectUris ?? [],
                publicClientRedirectUris: app.publicClientRedirectUris ?? [],
                tags: app.tags ?? [],
                owners: app.owners ?? [],
                ...(app.adopt ? { adopt: resolveAdopt(app.adopt, resolved.permissions, path, issues, federatedCredentials.map((f) => f.name)) } : {}),
                permissions: resolved.permissions,
                credentials,
                certificateFiles,
                existing,
                federatedCredentials,
                identitySecrets: credentials.length > 0 ? identitySecretNames(app.name, keyVault?.identity ?? "secrets") : {},
                path,
            });
        });
        if (rawApps.length === 0) issues.warning("apps", "the stack declares no app registration");
        checkKeyVaultNames(apps, keyVault, input.project, issues, countRawRotating(rawApps));
    }

    if (issues.errors.length > 0) return { issues: withoutRepeats(issues.items, raw.issues) };
    return {
        model: {
            project: input.project,
            stack: input.stack,
            at: toIsoSeconds(now),
            apps,
            apis: distinctApis(apps),
            ...(keyVault ? { keyVault } : {}),
            ...(provider.tenantId !== undefined ? { tenantId: provider.tenantId } : {}),
            cloud: provider.cloud,
            warnings: issues.warnings,
            escEnvironments: [...(input.escEnvironments ?? [])],
            credentialErrors: apps.flatMap((app) => app.certificateFiles.flatMap((file) => (file.error ? [{ path: `${file.path}.file`, message: file.error, severity: "error" as const }] : []))),
        },
        issues: issues.items,
    };
}

/**
 * A value the first look refused (an over-long string, cut to the bound for the later checks) may fail its
 * field's own rule too; its first report says what to fix, so later ones at the same path are left out.
 */
function withoutRepeats(all: readonly ConfigIssue[], first: readonly ConfigIssue[]): ConfigIssue[] {
    if (first.length === 0) return [...all];
    const firstSet = new Set(first);
    const refused = new Set(first.map((issue) => issue.path));
    return all.filter((issue) => firstSet.has(issue) || !refused.has(issue.path));
}

/** buildModel, throwing a ConfigError with every error when the config is invalid. */
export function buildModelOrThrow(input: StackConfigInput, now: Date): StackModel {
    const result = buildModel(input, now);
    if (!result.model) throw new ConfigError(result.issues, input.source);
    return result.model;
}

/** An instant as the model writes it: ISO-8601 UTC to the second. */
export function toIsoSeconds(date: Date): string {
    return dateToIsoSeconds(date);
}

/** Parses each credential by its type and resolves it; names are unique among an app's credentials. */
function resolveCredentials(
    raw: unknown,
    appPath: string,
    context: { stack: string; app: string; now: Date; settings: RotationSettings; baseDir: string; provider: FederatedContext },
    issues: IssueList,
): { credentials: CredentialModel[]; federatedCredentials: FederatedModel[]; certificateFiles: FileCertificateModel[] } {
    if (!Array.isArray(raw)) return { credentials: [], federatedCredentials: [], certificateFiles: [] };
    const credentials: CredentialModel[] = [];
    const certificateFiles: FileCertificateModel[] = [];
    const federated: { index: number; entry: FederatedCredentialConfig }[] = [];
    const firstByName = new Map<string, string>();
    raw.forEach((entry: unknown, j) => {
        const path = `${appPath}.credentials[${j}]`;
        const name = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)["name"] : undefined;
        if (typeof name === "string") {
            const first = firstByName.get(name);
            if (first) issues.error(`${path}.name`, `duplicate credential name "${name}" (first at ${first}); names are unique among an app's credentials`);
            else firstByName.set(name, path);
        }
        const { type, issue } = credentialType(entry, [path], credentialTypes);
        if (issue) {
            issues.add([issue]);
            return;
        }
        if (type === "secret") {
            const parsed = parseWith(secretCredentialSchema, entry, [path]);
            issues.add(parsed.issues);
            if (!parsed.value) return;
            const credential = resolveRotating(parsed.value, path, context, issues);
            if (credential) credentials.push(credential);
        } else if (type === "certificate") {
            const parsed = parseWith(certificateCredentialSchema, entry, [path]);
            issues.add(parsed.issues);
            if (!parsed.value) {
                // The file is checked whatever else is wrong with the entry, so one run shows every mistake.
                const file = (entry as Record<string, unknown>)["file"];
                if (typeof file === "string" && !parsed.issues.some((i) => i.path === `${path}.file`)) checkCertificateFile(file, path, context, issues);
                return;
            }
            const { file } = parsed.value;
            if (file !== undefined) {
                const certificate = resolveCertificateFile({ ...parsed.value, file }, path, context, issues);
                if (certificate) certificateFiles.push(certificate);
            } else {
                const credential = resolveRotating(parsed.value, path, context, issues);
                if (credential) credentials.push(credential);
            }
        } else if (type === "federated") {
            const parsed = parseWith(federatedCredentialSchema, entry, [path]);
            issues.add(parsed.issues);
            if (parsed.value) federated.push({ index: j, entry: parsed.value });
        }
    });
    const resolved = resolveFederated(federated, appPath, context.provider);
    issues.add(resolved.issues);
    if (resolved.credentials.length > 0) {
        // A workload that can present a federated token needs no secret: nothing to rotate or leak.
        const platforms = [...new Set(resolved.credentials.map((f) => platformNames[f.preset]))].join(", ");
        const names = resolved.credentials.map((f) => f.name).join(", ");
        for (const secret of credentials.filter((c) => c.type === "secret")) {
            issues.warning(
                secret.path,
                `this app already signs in from ${platforms} without a secret (${names}); if this secret's consumer runs there, ` +
                    `it can use a federated credential too and the secret can go: remove it once the consumer has switched`,
            );
        }
    }
    return { credentials, federatedCredentials: resolved.credentials, certificateFiles };
}

const platformNames: Readonly<Record<FederatedModel["preset"], string>> = {
    github: "GitHub Actions",
    kubernetes: "Kubernetes",
    azureDevOps: "Azure DevOps",
    gitlab: "GitLab",
    terraformCloud: "HCP Terraform",
    managedIdentity: "an Azure managed identity",
    custom: "another identity provider",
};

/** The azuread provider's `environment` values (its config docs), by the cloud they name. */
const environments: Readonly<Record<string, EntraCloud>> = {
    global: "global",
    public: "global",
    usgovernment: "usgovernment",
    usgovernmentl4: "usgovernment",
    usgovernmentl5: "usgovernment",
    dod: "usgovernment",
    china: "china",
};

function resolveProvider(raw: { readonly tenantId?: unknown; readonly environment?: unknown }, issues: IssueList): { tenantId?: string; cloud: EntraCloud } {
    let tenantId: string | undefined;
    if (raw.tenantId !== undefined) {
        if (typeof raw.tenantId === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw.tenantId)) tenantId = raw.tenantId.toLowerCase();
        else issues.error("azuread:tenantId", `must be the tenant's id, a GUID (az account show --query tenantId), got ${describe(raw.tenantId)}`);
    }
    let cloud: EntraCloud = "global";
    if (raw.environment !== undefined) {
        const found = typeof raw.environment === "string" ? environments[raw.environment.toLowerCase()] : undefined;
        if (found) cloud = found;
        else issues.error("azuread:environment", `must be one of ${Object.keys(environments).join(", ")} (the azuread provider's values), got ${describe(raw.environment)}`);
    }
    return { ...(tenantId !== undefined ? { tenantId } : {}), cloud };
}

/** Every served secret needs a vault, a valid name, and a name of its own: one vault serves the whole stack. */
function checkKeyVaultNames(apps: readonly AppModel[], keyVault: KeyVaultModel | undefined, project: string, issues: IssueList, rawRotating: number): void {
    // Counted in the raw config: apps with errors of their own still need a vault, and saying so now saves a run.
    const rotating = Math.max(rawRotating, apps.reduce((n, app) => n + app.credentials.length, 0));
    if (rotating > 0 && !keyVault && !issues.items.some((i) => i.path.startsWith("keyVault"))) {
        issues.error("keyVault", `required: ${rotating} credential${rotating === 1 ? " is" : "s are"} served from Key Vault; set ${project}:keyVault with the vault's name and resourceGroup (and create: true to create it)`);
    }
    const firstByName = new Map<string, string>();
    const claim = (name: string, path: string, what: string) => {
        const problem = keyVaultSecretNameProblem(name);
        if (problem) {
            issues.error(path, `${problem}; set keyVaultSecretName to a valid name`);
            return;
        }
        // Key Vault names are case-insensitive.
        const first = firstByName.get(name.toLowerCase());
        if (first) issues.error(path, `the Key Vault secret "${name}" (${what}) is already used by ${first}; set keyVaultSecretName to another name`);
        else firstByName.set(name.toLowerCase(), `${path} (${what})`);
    };
    for (const app of apps) {
        for (const [kind, name] of Object.entries(app.identitySecrets)) if (name) claim(name, app.path, `the app's ${kind === "json" ? "identity" : kind}`);
        for (const credential of app.credentials) {
            claim(credential.keyVaultSecretName, credential.path, "the served credential");
            if (credential.type === "certificate" && credential.pfx) {
                claim(credential.pfx.secretName, credential.path, "the served credential's PFX");
                claim(credential.pfx.passwordSecretName, credential.path, "the served credential's PFX password");
            }
        }
    }
}

/** Secrets and generated certificates declared in the raw config, valid or not. */
function countRawRotating(rawApps: readonly unknown[]): number {
    let count = 0;
    for (const app of rawApps) {
        const credentials = typeof app === "object" && app !== null ? (app as Record<string, unknown>)["credentials"] : undefined;
        if (!Array.isArray(credentials)) continue;
        for (const entry of credentials) {
            if (typeof entry !== "object" || entry === null) continue;
            const { type, file } = entry as Record<string, unknown>;
            if (type === "secret" || (type === "certificate" && file === undefined)) count++;
        }
    }
    return count;
}

/** The string at `key` of each entry of a raw list (undefined where there is none). */
function rawNames(list: unknown, key: string): (string | undefined)[] {
    if (!Array.isArray(list)) return [];
    return list.map((entry: unknown) => {
        const value = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)[key] : undefined;
        return typeof value === "string" ? value : undefined;
    });
}

/** Reports repeated strings in a raw list (other items have their own structural errors). */
function checkUnique(list: unknown, path: string, what: string, key: (value: string) => string, issues: IssueList): void {
    if (!Array.isArray(list)) return;
    const first = new Map<string, number>();
    list.forEach((value: unknown, i) => {
        if (typeof value !== "string") return;
        const earlier = first.get(key(value));
        if (earlier !== undefined) issues.error(`${path}[${i}]`, `${what} "${value}" is listed twice (first at ${path}[${earlier}]); remove one`);
        else first.set(key(value), i);
    });
}

function distinctApis(apps: readonly AppModel[]): ApiRef[] {
    const byAppId = new Map<string, ApiRef>();
    for (const app of apps) for (const permission of app.permissions) byAppId.set(permission.api.appId, permission.api);
    return [...byAppId.values()].sort((a, b) => a.appId.localeCompare(b.appId));
}
