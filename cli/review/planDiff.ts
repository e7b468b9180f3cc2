import { type ConsumerKind, type ConsumerModel, formatHours } from "../../infra/model/consumers";
import type { CredentialModel } from "../../infra/model/credentials";
import type { AppModel, StackModel } from "../../infra/model/model";
import type { PermissionModel } from "../../infra/model/permissions";
import { dateToIsoSeconds } from "../../rotation/instants";
import { slotsReplacedByPolicyChange } from "../../rotation/schedule";

/**
 * `rotor plan --base <ref>`: what a pull request changes in a stack's identity, computed offline from two
 * configs (the base branch's and the working tree's) at the same instant. Value-free, in the terms of
 * `rotor summarize`, so it works for forks that have no cloud access.
 */

export interface PermissionChange {
    readonly app: string;
    readonly change: "added" | "removed";
    readonly api: string;
    readonly type: PermissionModel["kind"];
    readonly name: string;
    readonly tier: PermissionModel["tier"];
    /**
     * An added tier-0 or tier-1 application permission, or an added tier-0 delegated one (consented for every
     * user of the tenant: as much a path to Global Administrator).
     */
    readonly escalation: boolean;
    readonly justification: string | null;
}

export interface CredentialChangeEntry {
    readonly app: string;
    readonly credential: string;
    readonly type: "secret" | "certificate" | "certificate file" | "federated";
    readonly change: "added" | "removed" | "changed";
    /** What changed, in words: the policy, the subject, the file. */
    readonly detail: string;
    /** Slots replaced when this is applied: 2 is breaking for consumers. */
    readonly slotsReplaced: 0 | 1 | 2;
    readonly breaking: boolean;
    /**
     * A rotating credential whose schedule or values change (its policy, epoch, key size or kind): what
     * decides its schedule before and after, for the timeline chart. Absent for every other change.
     */
    readonly rotation?: RotationChange;
    /**
     * `manualConsumerDefault`: the rotation changes because this change gives the credential its first manual
     * consumer, and a credential with one rotates every 180 days by default (docs/rotation.md) unless it sets
     * `rotateEveryDays`; the detail says how to keep the schedule. Absent otherwise.
     */
    readonly cause?: "manualConsumerDefault";
}

/** A consumer of a rotating credential added, removed or changed (how it reads the value, its refresh, its owner). */
export interface ConsumerChange {
    readonly app: string;
    readonly credential: string;
    readonly consumer: string;
    readonly change: "added" | "removed" | "changed";
    /** How it reads the value after the change (before it, for a removed consumer). */
    readonly reads: ConsumerKind;
    /** Hours within which it uses a new value, after the change (before it, for a removed consumer). */
    readonly refreshHours: number;
    readonly owner: string | null;
    /** What changed, in words. */
    readonly detail: string;
    /**
     * A manual consumer this change adds, or a consumer that becomes manual: from the merge on, a person is handed
     * every new value of the credential, every `rotateEveryDays` days.
     */
    readonly newManual: boolean;
    /** The credential's rotation period after the change: how often a manual consumer is handed a new value. */
    readonly rotateEveryDays: number;
}

/** What decides a rotating credential's schedule, as the plan JSON names it. */
export interface RotationSchedule {
    readonly rotateEveryDays: number;
    readonly lifetimeDays: number;
    readonly epoch: string;
    readonly phaseDays: number;
}

export interface RotationChange {
    readonly before: RotationSchedule;
    readonly after: RotationSchedule;
}

/**
 * A credential made before the stack that this change marks `retire: true` (it was not marked at the base, or
 * not listed): after the merge, `rotor retire` removes it from Entra, once no sign-in with it is on record.
 */
export interface Retirement {
    readonly app: string;
    readonly keyId: string;
    readonly kind: "secret" | "certificate";
    readonly displayName: string | null;
    /** ISO-8601 UTC to the second. */
    readonly expires: string;
    readonly path: string;
}

export interface PlanDiff {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    /** The git ref the working tree is compared with. */
    readonly base: string;
    readonly appsAdded: readonly string[];
    readonly appsRemoved: readonly string[];
    /** Escalations first (tier 0, then tier 1), then other additions, then removals. */
    readonly permissions: readonly PermissionChange[];
    readonly credentials: readonly CredentialChangeEntry[];
    /** Messages about what breaks consumers, for the top of the comment. */
    readonly breaking: readonly string[];
    readonly hasChanges: boolean;
    /**
     * Why the base config could not be compared, e.g. "is invalid (2 errors)"; null when it was read (or the
     * stack is new there). Everything is then shown as added.
     */
    readonly baseProblem: string | null;
    /**
     * Credentials of the working tree's config that cannot be deployed at the plan's instant (a brought
     * certificate that expired): whatever the pull request changes, the stack's deployments fail until they
     * are fixed. Path and message, as in the plan's `errors`.
     */
    readonly errors: readonly { readonly path: string; readonly message: string }[];
    /**
     * The ESC environments the working tree's stack file imports (empty when none): their values are not reviewed.
     * Always written by diffModels; optional for documents made before it was added.
     */
    readonly escEnvironments?: readonly string[];
    /**
     * Credentials made before the stack that this change marks `retire: true`: each is removed from Entra after
     * the merge by `rotor retire`, once no sign-in with it is on record. Always written by diffModels; optional
     * for documents made before it was added.
     */
    readonly retirements?: readonly Retirement[];
    /**
     * Consumers of the working tree's rotating credentials added, removed or changed (those of a credential that
     * is removed are not listed: its removal is). New manual consumers (`newManual`) are called out first. Always
     * written by diffModels; optional for documents made before it was added.
     */
    readonly consumers?: readonly ConsumerChange[];
}

const permissionKey = (p: PermissionModel) => `${p.api.appId}/${p.kind}/${p.name}`;

function permissionChanges(app: string, base: readonly PermissionModel[], head: readonly PermissionModel[]): PermissionChange[] {
    const before = new Map(base.map((p) => [permissionKey(p), p]));
    const after = new Map(head.map((p) => [permissionKey(p), p]));
    const entry = (p: PermissionModel, change: PermissionChange["change"]): PermissionChange => ({
        app,
        change,
        api: p.api.displayName,
        type: p.kind,
        name: p.name,
        tier: p.tier,
        // Delegated permissions are tier 0 or untiered (infra/model/privilege.ts), so tier 1 is an application one.
        escalation: change === "added" && (p.tier === 0 || p.tier === 1),
        justification: p.justification ?? null,
    });
    return [...[...after].filter(([k]) => !before.has(k)).map(([, p]) => entry(p, "added")), ...[...before].filter(([k]) => !after.has(k)).map(([, p]) => entry(p, "removed"))];
}

function rank(p: PermissionChange): number {
    if (p.change === "removed") return 4;
    if (p.escalation) return p.tier === 0 ? 0 : 1;
    return 2;
}

function describePolicy(c: CredentialModel): string {
    return `every ${c.policy.rotateEveryDays} days, valid ${c.policy.lifetimeDays}`;
}

function rotationSchedule(c: CredentialModel): RotationSchedule {
    return { rotateEveryDays: c.policy.rotateEveryDays, lifetimeDays: c.policy.lifetimeDays, epoch: c.policy.epoch, phaseDays: c.phase };
}

function credentialChanges(app: string, base: AppModel, head: AppModel, at: Date): CredentialChangeEntry[] {
    const out: CredentialChangeEntry[] = [];
    const before = new Map(base.credentials.map((c) => [c.name, c]));
    for (const c of head.credentials) {
        const old = before.get(c.name);
        before.delete(c.name);
        if (!old) {
            out.push({ app, credential: c.name, type: c.type, change: "added", detail: `${c.type}, ${describePolicy(c)}, served as ${c.keyVaultSecretName}`, slotsReplaced: 0, breaking: false });
            continue;
        }
        if (old.type !== c.type) {
            out.push({
                app,
                credential: c.name,
                type: c.type,
                change: "changed",
                detail: `${old.type} becomes ${c.type}: both slots are replaced and consumers must read the new kind of value`,
                slotsReplaced: 2,
                breaking: true,
                rotation: { before: rotationSchedule(old), after: rotationSchedule(c) },
            });
            continue;
        }
        const details: string[] = [];
        const policyChanged = old.policy.rotateEveryDays !== c.policy.rotateEveryDays || old.policy.lifetimeDays !== c.policy.lifetimeDays || old.policy.epoch !== c.policy.epoch || old.phase !== c.phase;
        const replaced = policyChanged ? slotsReplacedByPolicyChange(old.policy, c.policy, at, old.phase, c.phase) : 0;
        const manualCause = policyChanged ? manualDefaultCause(old, c) : undefined;
        if (policyChanged) details.push(`rotation ${describePolicy(old)} becomes ${describePolicy(c)}${old.policy.epoch !== c.policy.epoch ? `, epoch ${old.policy.epoch} becomes ${c.policy.epoch}` : ""}`);
        if (manualCause) details.push(manualCause);
        if (old.keyVaultSecretName !== c.keyVaultSecretName) details.push(`served from ${c.keyVaultSecretName} instead of ${old.keyVaultSecretName}: consumers must read the new secret`);
        if (c.type === "certificate" && old.type === "certificate") {
            if (old.keySize !== c.keySize) details.push(`RSA ${old.keySize} becomes ${c.keySize}`);
            if (Boolean(old.pfx) !== Boolean(c.pfx)) details.push(c.pfx ? "also served as PKCS#12" : "no longer served as PKCS#12");
        }
        // A new key size replaces both generated keys at once.
        const keySizeChanged = c.type === "certificate" && old.type === "certificate" && old.keySize !== c.keySize;
        const slotsReplaced = keySizeChanged ? 2 : replaced;
        if (details.length) {
            out.push({
                app,
                credential: c.name,
                type: c.type,
                change: "changed",
                detail: details.join("; "),
                slotsReplaced,
                breaking: slotsReplaced === 2 || old.keyVaultSecretName !== c.keyVaultSecretName,
                ...(policyChanged || keySizeChanged ? { rotation: { before: rotationSchedule(old), after: rotationSchedule(c) } } : {}),
                ...(manualCause ? { cause: "manualConsumerDefault" as const } : {}),
            });
        }
    }
    for (const old of before.values()) {
        out.push({ app, credential: old.name, type: old.type, change: "removed", detail: `both slots deleted and ${old.keyVaultSecretName} removed from Key Vault`, slotsReplaced: 2, breaking: true });
    }

    const files = new Map(base.certificateFiles.map((f) => [f.name, f]));
    for (const f of head.certificateFiles) {
        const old = files.get(f.name);
        files.delete(f.name);
        if (!old) out.push({ app, credential: f.name, type: "certificate file", change: "added", detail: `${f.file} (${f.info.thumbprint}, expires ${f.info.notAfter.slice(0, 10)})`, slotsReplaced: 0, breaking: false });
        else if (old.info.thumbprint !== f.info.thumbprint) {
            out.push({ app, credential: f.name, type: "certificate file", change: "changed", detail: `${old.info.thumbprint} replaced by ${f.info.thumbprint} (expires ${f.info.notAfter.slice(0, 10)}): the owner must sign with the new key`, slotsReplaced: 0, breaking: false });
        }
    }
    for (const old of files.values()) out.push({ app, credential: old.name, type: "certificate file", change: "removed", detail: `${old.file} (${old.info.thumbprint}) no longer accepted`, slotsReplaced: 0, breaking: true });

    const federated = new Map(base.federatedCredentials.map((f) => [f.name, f]));
    for (const f of head.federatedCredentials) {
        const old = federated.get(f.name);
        federated.delete(f.name);
        if (!old) out.push({ app, credential: f.name, type: "federated", change: "added", detail: `${f.issuer} ${f.subject}`, slotsReplaced: 0, breaking: false });
        else if (old.issuer !== f.issuer || old.subject !== f.subject || old.audience !== f.audience) {
            out.push({ app, credential: f.name, type: "federated", change: "changed", detail: `${old.issuer} ${old.subject} becomes ${f.issuer} ${f.subject}${old.audience !== f.audience ? ` (audience ${f.audience})` : ""}`, slotsReplaced: 0, breaking: true });
        }
    }
    for (const old of federated.values()) out.push({ app, credential: old.name, type: "federated", change: "removed", detail: `${old.issuer} ${old.subject} may no longer sign in`, slotsReplaced: 0, breaking: true });
    return out;
}

const isManual = (c: ConsumerModel) => c.reads === "manual";

/**
 * Why a rotation changes, when it is a manual consumer's default: the credential had no manual consumer at the base
 * and has one now, its epoch is the same, and its period grew (the default never shortens it: the stack's own
 * period is at most what the tenant's cap allows, and the default is the longer of it and 180 days). The model does
 * not record whether rotateEveryDays was written, so the words cover a credential that also set it in this change.
 */
function manualDefaultCause(old: CredentialModel, c: CredentialModel): string | undefined {
    // Only when the period is the default the manual consumer brought: one the stack writes is its own choice.
    if (!c.manualDefault || old.consumers.some(isManual) || !c.consumers.some(isManual)) return undefined;
    if (old.policy.epoch !== c.policy.epoch || c.policy.rotateEveryDays <= old.policy.rotateEveryDays) return undefined;
    const manual = c.consumers.filter(isManual);
    const names = manual.map((m) => m.name).join(", ");
    const who = manual.length === 1 ? `${names}, a manual consumer new in this change` : `${names}, manual consumers new in this change`;
    const needed = Math.max(...c.consumers.map((consumer) => consumer.windowDays));
    const keep =
        old.policy.rotateEveryDays >= needed
            ? `set rotateEveryDays: ${old.policy.rotateEveryDays} and lifetimeDays: ${old.policy.lifetimeDays} on the credential explicitly (that pickup window still covers the ${needed} days its consumers need)`
            : `set rotateEveryDays on the credential explicitly; it cannot stay at ${old.policy.rotateEveryDays} days, since its consumers need a pickup window of at least ${needed}`;
    return (
        `the cause is ${who}: a credential with a manual consumer that does not set rotateEveryDays rotates every ${c.policy.rotateEveryDays} days by default ` +
        `(each rotation is a person's work); to add ${manual.length === 1 ? "it" : "them"} without changing the schedule, ${keep}`
    );
}

/** How soon a consumer uses a new value: `refresh 24 hours`, `refresh 2 minutes (the kind's default)`. */
function describeRefresh(c: ConsumerModel): string {
    return `refresh ${formatHours(c.refreshHours)}${c.refreshDeclared ? "" : " (the kind's default)"}`;
}

/** How a consumer reads: `keyVault, refresh 24 hours`. */
function describeConsumer(c: ConsumerModel): string {
    return `${c.reads}, ${describeRefresh(c)}`;
}

/** The consumers of a credential that this change adds, removes or changes; `old` undefined: the credential is new. */
function consumerChanges(app: string, old: CredentialModel | undefined, c: CredentialModel): ConsumerChange[] {
    const out: ConsumerChange[] = [];
    const before = new Map((old?.consumers ?? []).map((consumer) => [consumer.name.toLowerCase(), consumer]));
    const entry = (consumer: ConsumerModel, change: ConsumerChange["change"], detail: string, newManual: boolean): ConsumerChange => ({
        app,
        credential: c.name,
        consumer: consumer.name,
        change,
        reads: consumer.reads,
        refreshHours: consumer.refreshHours,
        owner: consumer.owner ?? null,
        detail,
        newManual,
        rotateEveryDays: c.policy.rotateEveryDays,
    });
    for (const consumer of c.consumers) {
        const was = before.get(consumer.name.toLowerCase());
        before.delete(consumer.name.toLowerCase());
        if (!was) {
            const owner = consumer.owner === undefined ? "" : `, owner ${consumer.owner}`;
            out.push(entry(consumer, "added", `${describeRefresh(consumer)}, so it needs a pickup window of ${consumer.windowDays} days${owner}`, isManual(consumer)));
            continue;
        }
        const details: string[] = [];
        if (was.name !== consumer.name) details.push(`renamed from ${was.name}`);
        if (was.reads !== consumer.reads || was.refreshHours !== consumer.refreshHours) details.push(`${describeConsumer(was)} becomes ${describeConsumer(consumer)}, so it needs a pickup window of ${consumer.windowDays} days`);
        if ((was.owner ?? null) !== (consumer.owner ?? null)) details.push(`owner ${was.owner ?? "(none)"} becomes ${consumer.owner ?? "(none)"}`);
        if ((was.instructions ?? null) !== (consumer.instructions ?? null)) details.push(`instructions ${was.instructions ?? "(none)"} become ${consumer.instructions ?? "(none)"}`);
        if (details.length) out.push(entry(consumer, "changed", details.join("; "), isManual(consumer) && !isManual(was)));
    }
    for (const was of before.values()) {
        out.push(entry(was, "removed", `no longer reads it (was ${describeConsumer(was)})`, false));
    }
    return out;
}

const emptyApp = (app: AppModel): AppModel => ({ ...app, permissions: [], credentials: [], certificateFiles: [], federatedCredentials: [] });

/** The existing credentials `head` marks for retirement that `base` did not (an app or entry new to the stack included). */
function retirements(app: string, base: AppModel | undefined, head: AppModel): Retirement[] {
    const before = new Map((base?.existing ?? []).map((e) => [e.keyId, e]));
    return head.existing
        .filter((e) => e.retire && !before.get(e.keyId)?.retire)
        .map((e) => ({ app, keyId: e.keyId, kind: e.kind, displayName: e.displayName, expires: dateToIsoSeconds(new Date(e.expires)), path: e.path }));
}

/** The differences between the base config's model and the working tree's, both at `at`. `base` undefined: the stack is new. */
export function diffModels(base: StackModel | undefined, head: StackModel, baseRef: string, baseProblem?: string): PlanDiff {
    const at = new Date(head.at);
    const baseApps = new Map((base?.apps ?? []).map((a) => [a.name, a]));
    const headApps = new Map(head.apps.map((a) => [a.name, a]));
    const permissions: PermissionChange[] = [];
    const credentials: CredentialChangeEntry[] = [];
    const retiring: Retirement[] = [];
    const consumers: ConsumerChange[] = [];
    for (const app of head.apps) {
        retiring.push(...retirements(app.name, baseApps.get(app.name), app));
        const baseCredentials = new Map((baseApps.get(app.name)?.credentials ?? []).map((c) => [c.name, c]));
        for (const c of app.credentials) consumers.push(...consumerChanges(app.name, baseCredentials.get(c.name), c));
        const old = baseApps.get(app.name) ?? emptyApp(app);
        permissions.push(...permissionChanges(app.name, old.permissions, app.permissions));
        credentials.push(...credentialChanges(app.name, old, app, at));
    }
    for (const old of baseApps.values()) {
        if (headApps.has(old.name)) continue;
        permissions.push(...permissionChanges(old.name, old.permissions, []));
        credentials.push(...credentialChanges(old.name, old, emptyApp(old), at));
    }
    permissions.sort((a, b) => rank(a) - rank(b) || a.app.localeCompare(b.app) || a.name.localeCompare(b.name));
    const appsAdded = head.apps.filter((a) => !baseApps.has(a.name)).map((a) => a.name);
    const appsRemoved = [...baseApps.keys()].filter((name) => !headApps.has(name));
    const breaking = [
        ...appsRemoved.map((name) => `${name}: the application is deleted; everything that signs in as it stops working`),
        ...credentials
            .filter((c) => c.breaking && !appsRemoved.includes(c.app))
            .map((c) => `${c.app}/${c.credential}: ${c.change === "removed" ? "removed" : c.slotsReplaced === 2 ? "both slots are replaced at once" : "changed"}: ${c.detail}`),
    ];
    return {
        schemaVersion: 1,
        project: head.project,
        stack: head.stack,
        at: head.at,
        base: baseRef,
        appsAdded,
        appsRemoved,
        permissions,
        credentials,
        breaking,
        hasChanges: appsAdded.length + appsRemoved.length + permissions.length + credentials.length + retiring.length + consumers.length > 0,
        baseProblem: baseProblem ?? null,
        errors: head.credentialErrors.map(({ path, message }) => ({ path, message })),
        escEnvironments: [...head.escEnvironments],
        retirements: retiring,
        // New manual consumers first: a person's work at every rotation from the merge on.
        consumers: [...consumers.filter((c) => c.newManual), ...consumers.filter((c) => !c.newManual)],
    };
}
