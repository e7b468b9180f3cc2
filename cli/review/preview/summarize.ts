import { type ApiRef, graphCatalog, knownApis, type PermissionCatalog } from "../../../infra/model/catalog";
import type { PreviewDocument, ResourceState } from "./previewDocument";
import { isSecretValue, maskedSecret, patterns, readMatching, readStringList, readText, type ResourceChange, resourceChanges, unknownValue } from "./previewResources";
import { actionOf, AppIndex, propertyNames, tokens } from "./stackResources";
import { credentialChanges } from "./summaryCredentials";
import { PermissionNames, permissionChanges } from "./summaryPermissions";
import type {
    AppChange,
    BreakingChange,
    CredentialChange,
    FederatedCredentialChange,
    FederatedIdentity,
    KeyVaultSecretChange,
    ServedSlot,
    Summary,
} from "./summaryTypes";

/**
 * `rotor summarize`: the identity side of a `pulumi preview --json`, for a pull-request comment. Pure:
 * the same document always gives the same summary, and nothing of any credential value gets into it.
 */

export { parsePreviewDocument, PreviewDocumentError, type PreviewDocument } from "./previewDocument";
export { renderSummary, type SummaryFormat } from "./renderSummary";
export type * from "./summaryTypes";

export interface SummarizeOptions {
    /** Where the preview came from, as the comment should name it; default "preview.json". */
    readonly source?: string;
    /** The permission catalog to name ids with; default the shipped Microsoft Graph catalog. */
    readonly catalog?: PermissionCatalog;
    /** APIs known by name (their appId, display name and resource-name slug); default those of the config. */
    readonly apis?: readonly ApiRef[];
}

function appChanges(changes: readonly ResourceChange[], apps: AppIndex): AppChange[] {
    const byApp = new Map<string, { application?: ResourceChange; servicePrincipal?: ResourceChange }>();
    for (const change of changes) {
        const isApp = change.urn.type === tokens.application || change.urn.type === tokens.applicationRegistration;
        if ((!isApp && change.urn.type !== tokens.servicePrincipal) || change.change === "none") continue;
        const app = apps.appOf(change.urn) ?? change.urn.name;
        const entry = byApp.get(app) ?? {};
        if (isApp) entry.application = change;
        else entry.servicePrincipal = change;
        byApp.set(app, entry);
    }
    return [...byApp.entries()]
        .map(([app, { application, servicePrincipal }]): AppChange => {
            const state = application?.new ?? application?.old;
            return {
                app,
                displayName: readText(state?.inputs, ["displayName"], 256) ?? null,
                application: application ? actionOf(application.change) : null,
                servicePrincipal: servicePrincipal ? actionOf(servicePrincipal.change) : null,
                clientId: readMatching(application?.old?.outputs, ["clientId"], patterns.guid) ?? null,
                changedProperties: application?.change === "update" ? propertyNames(application.diffReasons) : [],
            };
        })
        .sort((a, b) => a.app.localeCompare(b.app));
}

function federatedIdentity(state: ResourceState | undefined): FederatedIdentity | null {
    if (!state) return null;
    return {
        issuer: readText(state.inputs, ["issuer"]) ?? null,
        subject: readText(state.inputs, ["subject"]) ?? null,
        audiences: readStringList(state.inputs, ["audiences"], (a) => a.length > 0 && a.length <= 600 && !/[\r\n]/.test(a)) ?? null,
    };
}

function federatedChanges(changes: readonly ResourceChange[], apps: AppIndex): FederatedCredentialChange[] {
    return changes
        .filter((c) => c.urn.type === tokens.federatedIdentityCredential && c.change !== "none")
        .map((change): FederatedCredentialChange => {
            const app = apps.appOf(change.urn);
            const before = federatedIdentity(change.old);
            const after = federatedIdentity(change.new);
            const state = change.new ?? change.old;
            // FederatedCredentials names children `<app>-federated-<name>`; Entra's name is the displayName.
            const name = readMatching(state?.inputs, ["displayName"], patterns.name) ?? AppIndex.strip(app, change.urn.name).replace(/^federated-/, "");
            const changed =
                before && after
                    ? (["issuer", "subject", "audiences"] as const).filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
                    : [];
            return { app, name, action: actionOf(change.change)!, before, after, changed };
        })
        .sort((a, b) => (a.app ?? "").localeCompare(b.app ?? "") || a.name.localeCompare(b.name));
}

function servedSlot(state: ResourceState | undefined): ServedSlot | null {
    if (!state) return null;
    const slot = readMatching(state.inputs, ["tags", "slot"], /^[01]$/);
    const generation = readMatching(state.inputs, ["tags", "generation"], patterns.integer);
    if (slot === undefined && generation === undefined) return null;
    return { slot: slot === undefined ? null : (Number(slot) as 0 | 1), generation: generation === undefined ? null : Number(generation) };
}

/**
 * Whether the secret's value changes, without looking at it: the provider's detailed diff names
 * `properties.value`; failing that, a new served generation means a new value.
 */
function valueChange(change: ResourceChange, before: ServedSlot | null, after: ServedSlot | null): KeyVaultSecretChange["value"] {
    if (change.change === "create") return "new";
    if (change.change === "delete") return "removed";
    if (change.detailedDiff?.some((path) => path === "properties" || path.startsWith("properties.value"))) return "changes";
    if (before && after && (before.generation !== after.generation || before.slot !== after.slot)) return "changes";
    if (change.detailedDiff) return "unchanged";
    return change.diffReasons.includes("properties") ? "unknown" : "unchanged";
}

function keyVaultChanges(changes: readonly ResourceChange[], apps: AppIndex): KeyVaultSecretChange[] {
    return changes
        .filter((c) => c.urn.type === tokens.keyVaultSecret && c.change !== "none")
        .map((change): KeyVaultSecretChange => {
            const state = change.new ?? change.old;
            const servedBefore = servedSlot(change.old);
            const servedAfter = servedSlot(change.new);
            const secretName = readMatching(state?.inputs, ["secretName"], patterns.name) ?? change.urn.name;
            return {
                app: apps.appOf(change.urn) ?? readMatching(state?.inputs, ["tags", "app"], patterns.name) ?? null,
                secretName,
                vault: readMatching(state?.inputs, ["vaultName"], patterns.name) ?? null,
                action: actionOf(change.change)!,
                value: valueChange(change, servedBefore, servedAfter),
                credential: readMatching(state?.inputs, ["tags", "credential"], patterns.name) ?? null,
                servedBefore,
                servedAfter,
            };
        })
        .sort((a, b) => (a.app ?? "").localeCompare(b.app ?? "") || a.secretName.localeCompare(b.secretName));
}

function breakingChanges(changes: readonly ResourceChange[], credentials: readonly CredentialChange[], secrets: readonly KeyVaultSecretChange[], appList: readonly AppChange[]): BreakingChange[] {
    const breaking: BreakingChange[] = [];
    for (const c of credentials) {
        const rotated = c.slots.filter((s) => s.action === "rotated" && s.slot !== null);
        if (rotated.length < 2) continue;
        const label = c.app ? `${c.app}/${c.credential}` : c.credential;
        const why = rotated.map((s) => s.explanation).find((e) => e !== null);
        breaking.push({
            kind: "both-slots-replaced",
            app: c.app,
            subject: c.credential,
            message: `${label}: both slots of the ${c.type === "certificate" ? "certificate" : "client secret"} are replaced in one run${why ? `: ${why}` : ""}. Consumers still using the served value lose access when it is deleted, with no pickup window. Apply in a maintenance window.`,
        });
    }
    for (const s of secrets) {
        const change = changes.find((c) => c.urn.type === tokens.keyVaultSecret && readMatching((c.old ?? c.new)?.inputs, ["secretName"], patterns.name) === s.secretName);
        const renamed = s.action === "replaced" && change && readMatching(change.old?.inputs, ["secretName"], patterns.name) !== readMatching(change.new?.inputs, ["secretName"], patterns.name);
        if (s.action !== "deleted" && !renamed) continue;
        breaking.push({
            kind: "served-secret-deleted",
            app: s.app,
            subject: s.secretName,
            message: `Key Vault secret ${s.secretName}${s.vault ? ` in ${s.vault}` : ""} is ${renamed ? "replaced under another name" : "deleted"}; consumers reading it fail.`,
        });
    }
    for (const a of appList) {
        if (a.application === "deleted") {
            breaking.push({ kind: "app-registration-deleted", app: a.app, subject: a.app, message: `App registration ${a.app}${a.clientId ? ` (client id ${a.clientId})` : ""} is deleted: every sign-in with it fails.` });
        } else if (a.application === "replaced") {
            breaking.push({
                kind: "app-registration-replaced",
                app: a.app,
                subject: a.app,
                message: `App registration ${a.app} is replaced: it gets a new client id${a.clientId ? ` (today ${a.clientId})` : ""}, new credentials and new consent; consumers configured with the old one fail.`,
            });
        }
    }
    const order = ["both-slots-replaced", "app-registration-replaced", "app-registration-deleted", "served-secret-deleted"];
    return breaking.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.app ?? "").localeCompare(b.app ?? "") || a.subject.localeCompare(b.subject));
}

/** changeSummary in a stable order: the usual operations first, then any other Pulumi reports. */
function counts(doc: PreviewDocument): Record<string, number> {
    const usual = ["create", "update", "replace", "delete", "same"];
    const entries = Object.entries(doc.changeSummary ?? {}).filter(([, n]) => Number.isInteger(n) && n >= 0);
    entries.sort(([a], [b]) => {
        const ia = usual.indexOf(a);
        const ib = usual.indexOf(b);
        return (ia < 0 ? usual.length : ia) - (ib < 0 ? usual.length : ib) || a.localeCompare(b);
    });
    return Object.fromEntries(entries);
}

/** Keys under which a provider keeps credential material; what they hold must never reach a summary. */
const sensitiveKey = /^(value|ciphertext|plaintext|secret|password|clientSecret|clientCertificate.*|.*[pP]rivateKey.*|pemBundle|pfx|certPem|.*[tT]oken)$/;

/** Every string in the document that is, or sits under a key for, credential material. */
function sensitiveStrings(value: unknown, underSensitive: boolean, out: Set<string>): void {
    if (typeof value === "string") {
        if (underSensitive && value.length >= 8 && value !== maskedSecret && value !== unknownValue) out.add(value);
        return;
    }
    if (Array.isArray(value)) {
        for (const item of value) sensitiveStrings(item, underSensitive, out);
        return;
    }
    if (typeof value === "object" && value !== null) {
        const secret = underSensitive || isSecretValue(value);
        for (const [key, item] of Object.entries(value)) sensitiveStrings(item, secret || sensitiveKey.test(key), out);
    }
}

/**
 * A last guard: the summary is built from value-free fields only, but should a provider ever put a value
 * where an id is expected, the string is redacted rather than printed.
 */
function redact<T>(summary: T, doc: PreviewDocument): T {
    const secrets = new Set<string>();
    // Only property values: elsewhere property names are keys (propertyDependencies maps `value` to URNs).
    for (const step of doc.steps ?? []) {
        for (const state of [step.oldState, step.newState]) sensitiveStrings([state?.inputs, state?.outputs], false, secrets);
    }
    if (secrets.size === 0) return summary;
    const leaks = (text: string) => [...secrets].some((secret) => text.includes(secret) || (text.length >= 8 && secret.includes(text)));
    const walk = (value: unknown): unknown => {
        if (typeof value === "string") return leaks(value) ? "[redacted]" : value;
        if (Array.isArray(value)) return value.map(walk);
        if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
        return value;
    };
    return walk(summary) as T;
}

/** The identity summary of a parsed preview. Pure and value-free. */
export function summarizePreview(doc: PreviewDocument, options: SummarizeOptions = {}): Summary {
    const changes = resourceChanges(doc);
    const apps = new AppIndex(changes);
    const names = new PermissionNames(options.catalog ?? graphCatalog, options.apis ?? knownApis);
    const appList = appChanges(changes, apps);
    const credentials = credentialChanges(changes, apps);
    const permissions = permissionChanges(changes, apps, names);
    const federatedCredentials = federatedChanges(changes, apps);
    const keyVaultSecrets = keyVaultChanges(changes, apps);
    const first = changes[0]?.urn;
    const severities = (doc.diagnostics ?? []).map((d) => d.severity);
    const summary: Summary = {
        schemaVersion: 1,
        source: options.source ?? "preview.json",
        project: first?.project ?? null,
        stack: first?.stack ?? null,
        hasIdentityChanges: [appList, credentials, permissions, federatedCredentials, keyVaultSecrets].some((list) => list.length > 0),
        breaking: breakingChanges(changes, credentials, keyVaultSecrets, appList),
        apps: appList,
        credentials,
        permissions,
        federatedCredentials,
        keyVaultSecrets,
        counts: counts(doc),
        diagnostics: { errors: severities.filter((s) => s === "error").length, warnings: severities.filter((s) => s === "warning").length },
    };
    return redact(summary, doc);
}

