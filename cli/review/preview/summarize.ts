import { type ApiRef, graphCatalog, knownApis, type PermissionCatalog } from "../../../infra/model/catalog";
import type { PreviewDocument, ResourceState } from "./previewDocument";
import { patterns, readMatching, readStringList, readText, type ResourceChange, resourceChanges } from "./previewResources";
import { redactApp, redactCredential, redactDirectoryRole, Redactor, redactFederated, redactKeyVaultSecret, redactPermission } from "./redaction";
import { actionOf, AppIndex, propertyNames, tokens } from "./stackResources";
import { credentialChanges } from "./summaryCredentials";
import { PermissionNames, permissionChanges } from "./summaryPermissions";
import { directoryRoleChanges } from "./summaryRoles";
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
 * Linear in the document: resources are grouped by URN and app with maps, never searched for one by one.
 */

export { parsePreviewDocument, PreviewDocumentError, PreviewLimitError, type PreviewDocument } from "./previewDocument";
export { maxPreviewBytes, maxPreviewDepth } from "./previewLimits";
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

/** A Key Vault secret's change, and whether its replacement serves it under another name (breaking). */
interface KeyVaultEntry {
    readonly secret: KeyVaultSecretChange;
    readonly renamed: boolean;
}

function keyVaultChanges(changes: readonly ResourceChange[], apps: AppIndex): KeyVaultEntry[] {
    return changes
        .filter((c) => c.urn.type === tokens.keyVaultSecret && c.change !== "none")
        .map((change): KeyVaultEntry => {
            const state = change.new ?? change.old;
            const servedBefore = servedSlot(change.old);
            const servedAfter = servedSlot(change.new);
            const secretName = readMatching(state?.inputs, ["secretName"], patterns.name) ?? change.urn.name;
            const renamed = change.change === "replace" && readMatching(change.old?.inputs, ["secretName"], patterns.name) !== readMatching(change.new?.inputs, ["secretName"], patterns.name);
            const secret: KeyVaultSecretChange = {
                app: apps.appOf(change.urn) ?? readMatching(state?.inputs, ["tags", "app"], patterns.name) ?? null,
                secretName,
                vault: readMatching(state?.inputs, ["vaultName"], patterns.name) ?? null,
                action: actionOf(change.change)!,
                value: valueChange(change, servedBefore, servedAfter),
                credential: readMatching(state?.inputs, ["tags", "credential"], patterns.name) ?? null,
                servedBefore,
                servedAfter,
            };
            return { secret, renamed };
        })
        .sort((a, b) => (a.secret.app ?? "").localeCompare(b.secret.app ?? "") || a.secret.secretName.localeCompare(b.secret.secretName));
}

/** What breaks consumers, from the (redacted) lists the summary shows: a message never holds more than they do. */
function breakingChanges(credentials: readonly CredentialChange[], secrets: readonly KeyVaultEntry[], appList: readonly AppChange[]): BreakingChange[] {
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
    for (const { secret: s, renamed } of secrets) {
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

/** The identity summary of a parsed preview. Pure and value-free. */
export function summarizePreview(doc: PreviewDocument, options: SummarizeOptions = {}): Summary {
    const changes = resourceChanges(doc);
    const apps = new AppIndex(changes);
    const names = new PermissionNames(options.catalog ?? graphCatalog, options.apis ?? knownApis);
    // Each list is cleaned before anything is composed from it, so a breaking change's message holds
    // exactly the names its tables show.
    const redactor = Redactor.of(doc);
    const appList = appChanges(changes, apps).map((a) => redactApp(a, redactor));
    const credentials = credentialChanges(changes, apps).map((c) => redactCredential(c, redactor));
    const permissions = permissionChanges(changes, apps, names).map((p) => redactPermission(p, redactor));
    const directoryRoles = directoryRoleChanges(changes, apps).map((d) => redactDirectoryRole(d, redactor));
    const federatedCredentials = federatedChanges(changes, apps).map((f) => redactFederated(f, redactor));
    const vault = keyVaultChanges(changes, apps).map((entry) => ({ ...entry, secret: redactKeyVaultSecret(entry.secret, redactor) }));
    const keyVaultSecrets = vault.map((entry) => entry.secret);
    const first = changes[0]?.urn;
    const severities = (doc.diagnostics ?? []).map((d) => d.severity);
    return {
        schemaVersion: 1,
        source: options.source ?? "preview.json",
        project: first ? redactor.clean(first.project) : null,
        stack: first ? redactor.clean(first.stack) : null,
        hasIdentityChanges: [appList, credentials, permissions, directoryRoles, federatedCredentials, keyVaultSecrets].some((list) => list.length > 0),
        breaking: breakingChanges(credentials, vault, appList),
        apps: appList,
        credentials,
        permissions,
        directoryRoles,
        federatedCredentials,
        keyVaultSecrets,
        counts: counts(doc),
        diagnostics: { errors: severities.filter((s) => s === "error").length, warnings: severities.filter((s) => s === "warning").length },
    };
}
