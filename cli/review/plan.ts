import type { Tier } from "../../infra/model/catalog";
import { daysUntil } from "../../infra/model/certificateFile";
import type { ConsumerKind, ConsumerModel } from "../../infra/model/consumers";
import type { CredentialModel, FileCertificateModel } from "../../infra/model/credentials";
import type { ExistingCredentialModel } from "../../infra/model/existing";
import { handoffOf } from "../../infra/model/handoffs";
import type { AppModel, StackModel } from "../../infra/model/model";
import type { PermissionKind } from "../../infra/model/permissions";
import { scheduleAt, slotsReplacedAt, slotsReplacedBetween } from "../../rotation/schedule";
import { dateToIsoSeconds } from "../../rotation/instants";
import { LazyList } from "../output/chunks";

/**
 * The offline plan: what a stack declares, value-free. The JSON form is a stable interface (README,
 * "Plan JSON"): fields are only ever added, and `schemaVersion` changes if one is removed or changes meaning.
 */
export interface PlanDocument {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    /** The instant the plan is computed for (`--at`), ISO-8601 UTC to the second. */
    readonly at: string;
    /**
     * The last successful run the statuses are relative to (`--since`; by default a day before `at`, as with a
     * daily pipeline). Equal to `at` for a first deployment.
     */
    readonly since: string;
    /** `--since never`: the plan of the stack's first `pulumi up`, which creates everything (every status `new`). */
    readonly firstDeployment: boolean;
    readonly apps: readonly PlanApp[];
    readonly warnings: readonly PlanWarning[];
    /**
     * Errors of single credentials that arose with time (a brought certificate that expired): everything else
     * is planned, the credential's row says ERROR, and the command exits 1. A deployment leaves what is
     * deployed for such a credential as it is and fails at the end.
     */
    readonly errors: readonly PlanWarning[];
    readonly totals: PlanTotals;
    /**
     * Every tier-0 and tier-1 permission, tier 0 first: what a reviewer must see before anything else. The same
     * permissions the apps list and totals.tier0/tier1 count: application permissions of tier 0 and 1, and
     * tier-0 delegated permissions (consented for every user of the tenant, so as much a path to Global
     * Administrator); each entry says its `type`.
     */
    readonly privileged: readonly PlanPrivileged[];
    /**
     * The Pulumi ESC environments the stack file imports (its `environment:`), in order; empty when none. Pulumi
     * adds their values to the stack's config when it deploys, and this plan cannot see them.
     */
    readonly escEnvironments: readonly string[];
}

/** A tier-0 or tier-1 permission of an app: the summary at the top of the plan. */
export interface PlanPrivileged {
    readonly app: string;
    readonly api: string;
    readonly name: string;
    /** `application`, or `delegated` (tier 0 only: consented for every user of the tenant). */
    readonly type: PermissionKind;
    readonly tier: 0 | 1;
    readonly justification: string | null;
}

export interface PlanApp {
    readonly name: string;
    readonly displayName: string;
    readonly signInAudience: string;
    readonly redirectUris: readonly string[];
    readonly owners: readonly string[];
    readonly permissions: readonly PlanPermission[];
    readonly credentials: readonly PlanCredential[];
    readonly federatedCredentials: readonly PlanFederatedCredential[];
    readonly certificateFiles: readonly PlanCertificateFile[];
    /**
     * The credentials the app had before the stack (its `existing` list): left as they are until `retire: true`.
     * Present only on an app that lists some.
     */
    readonly existing?: readonly PlanExisting[];
}

/**
 * A credential the application had before the stack (made in the portal), as the stack lists it. The program
 * never touches it; `rotor retire` removes it once it is marked `retire: true` and nobody signs in with it.
 */
export interface PlanExisting {
    readonly keyId: string;
    readonly kind: "secret" | "certificate";
    readonly displayName: string | null;
    /** When it expires, ISO-8601 UTC to the second. */
    readonly expires: string;
    /** Whole days until it expires (negative once it has). */
    readonly daysLeft: number;
    /** Marked for `rotor retire`. */
    readonly retire: boolean;
    /**
     * Why it needs attention now, also listed in `warnings`: not marked, and it has expired, or it expires within
     * the pickup window of the app's rotating credentials (or within 30 days when the app has none); null otherwise.
     */
    readonly finding: string | null;
    readonly path: string;
}

/** Days before a brought certificate expires from which the plan asks its owner to act. */
export const certificateFileWarningDays = 30;

/** A certificate brought as a file: it cannot rotate by itself, so the plan says when the owner must act. */
export interface PlanCertificateFile {
    readonly name: string;
    readonly file: string;
    readonly subject: string;
    /** SHA-1, as the Entra admin center shows it. */
    readonly thumbprint: string;
    readonly notBefore: string;
    readonly notAfter: string;
    readonly daysLeft: number;
    /**
     * `expiring`: fewer than 30 days left, replace the file; `error`: it cannot be used at the plan's instant
     * (expired, or not yet valid), see `error`.
     */
    readonly status: "ok" | "expiring" | "error";
    /** Why the certificate cannot be used, with the fix; null when it can. */
    readonly error: string | null;
    readonly path: string;
}

/** A federated identity credential: nothing rotates, nothing expires; what matters is exactly who may sign in. */
export interface PlanFederatedCredential {
    readonly name: string;
    readonly preset: string;
    readonly issuer: string;
    readonly subject: string;
    readonly audience: string;
    readonly path: string;
}

/**
 * What a run at `at` does to a credential last deployed at `since`:
 * - `ok`: nothing;
 * - `rotates`: replaces one slot (the scheduled rotation: the new value is served, the one served until now
 *   stays valid for its pickup window, the one before it is deleted);
 * - `breaking`: replaces both slots, so a consumer still holding the value served until now loses it at
 *   once (the pipeline did not run for more than rotateEveryDays);
 * - `expired`: the value served since the last run has already expired: consumers are failing until this
 *   run serves a new one;
 * - `new`: the stack's first deployment (`--since never`) creates both slots and serves the newest.
 */
export type CredentialStatus = "ok" | "rotates" | "breaking" | "expired" | "new";

export interface PlanSlot {
    readonly slot: 0 | 1;
    readonly generation: number;
    readonly start: string;
    readonly end: string;
    /** Whether Key Vault serves this slot. */
    readonly served: boolean;
    /**
     * When the slot's credential starts, if a run at `at` (after one at `since`) creates it: Entra starts a
     * credential when it is made, never earlier (the program sends no start date), and it ends at `end`.
     * Null for a credential an earlier run made.
     */
    readonly credentialStart: string | null;
}

export interface PlanCredential {
    readonly name: string;
    readonly type: "secret" | "certificate";
    readonly path: string;
    /** The Key Vault secret that serves it. */
    readonly keyVaultSecretName: string;
    /** With `pfx: true`: the secrets of the PKCS#12 file and its password; otherwise null. */
    readonly pfx: { readonly secretName: string; readonly passwordSecretName: string } | null;
    readonly rotateEveryDays: number;
    readonly lifetimeDays: number;
    /** Days after the epoch this credential's cycle is offset by, so credentials do not all rotate together. */
    readonly phaseDays: number;
    /** Slot 0, then slot 1. */
    readonly slots: readonly PlanSlot[];
    readonly servedSlot: 0 | 1;
    /** When the served value expires. */
    readonly expires: string;
    /** When the next generation starts (the run at or after it replaces the other slot). */
    readonly nextRotation: string;
    /** Whole days until the served value expires. */
    readonly daysLeft: number;
    /** Slots a run at `at` replaces, counted from the last run at `since`. */
    readonly slotsReplaced: 0 | 1 | 2;
    readonly status: CredentialStatus;
    /** Who reads the value, as the stack declares them (its `consumers`); empty when none is declared. */
    readonly consumers: readonly PlanConsumer[];
    /**
     * With a `manual` consumer: the hand-off open at the plan's instant (the generation served then, which each
     * manual consumer copies by hand, and the deadline: the start of the next generation, when the slot holding
     * the previous value is replaced). Absent on a credential without a manual consumer.
     */
    readonly handoff?: PlanHandoff;
}

/** A consumer of a rotating credential (infra/model/consumers.ts). */
export interface PlanConsumer {
    readonly name: string;
    /** `keyVault` (reads the secret itself), `appServiceReference`, `csiDriver`, or `manual` (a person copies it). */
    readonly reads: ConsumerKind;
    /** Hours within which it uses a newly served value: declared, or the platform's (see refreshDeclared). */
    readonly refreshHours: number;
    readonly refreshDeclared: boolean;
    /** Days the pickup window (rotateEveryDays) must last for it: its refresh and a day's margin, rounded up. */
    readonly windowDays: number;
    /** Who acts on a hand-off (a GitHub login `@octocat`, a team, an email); null when none is given. */
    readonly owner: string | null;
    /** The link to what the owner does with a new value; null when none is given. */
    readonly instructions: string | null;
}

/** The hand-off open at the plan's instant, for every manual consumer of a credential alike. */
export interface PlanHandoff {
    /** The generation Key Vault serves at the plan's instant: the value to copy. */
    readonly generation: number;
    /** When the previous value stops working (the next generation's start), ISO-8601 UTC to the second. */
    readonly deadline: string;
}

export type ConsentResource = "appRoleAssignment" | "delegatedPermissionGrant";

export interface PlanPermission {
    readonly api: string;
    readonly apiAppId: string;
    readonly type: PermissionKind;
    readonly name: string;
    /** The id from the offline catalog; null for APIs resolved only at deploy time. */
    readonly id: string | null;
    readonly tier: Tier;
    readonly adminConsentRequired: boolean;
    /** The resource that grants admin consent for it. */
    readonly consent: ConsentResource;
    readonly justification: string | null;
    readonly path: string;
}

export interface PlanWarning {
    readonly path: string;
    readonly message: string;
}

export interface PlanTotals {
    readonly apps: number;
    readonly permissions: number;
    readonly application: number;
    readonly delegated: number;
    /** Tier-0 permissions: application ones and tier-0 delegated ones (the entries of `privileged` with tier 0). */
    readonly tier0: number;
    readonly tier1: number;
    readonly credentials: number;
    readonly federatedCredentials: number;
    /** Credentials whose status is `rotates`. */
    readonly rotating: number;
    /** Credentials whose status is `breaking`. */
    readonly breaking: number;
    /** Credentials whose status is `expired`. */
    readonly expired: number;
    /** Credentials whose status is `new` (a first deployment). */
    readonly new: number;
    /** Credentials with an error (`errors`). */
    readonly errors: number;
    /** Credentials the apps had before the stack (`existing`); present only when the stack lists some. */
    readonly existing?: number;
    /** Of those, the ones marked `retire: true`; present with `existing`. */
    readonly retiring?: number;
    /** Consumers declared on the stack's credentials; present only when the stack declares some. */
    readonly consumers?: number;
    /** Of those, the `manual` ones (a person copies each new value); present with `consumers`. */
    readonly manualConsumers?: number;
}

const dayMs = 86_400_000;

/** The status of a credential at `at`, last deployed at `since`. */
export function credentialStatus(c: CredentialModel, since: Date, at: Date): { slotsReplaced: 0 | 1 | 2; status: CredentialStatus } {
    const slotsReplaced = slotsReplacedBetween(since, at, c.policy, c.phase);
    const servedUntilNow = scheduleAt(since, c.policy, c.phase).served;
    if (slotsReplaced > 0 && Date.parse(servedUntilNow.end) <= at.getTime()) return { slotsReplaced, status: "expired" };
    return { slotsReplaced, status: (["ok", "rotates", "breaking"] as const)[slotsReplaced] };
}

/** A day before `at`: what a daily pipeline has last done. */
export function defaultSince(at: Date): Date {
    return new Date(at.getTime() - dayMs);
}

function planCertificateFile(c: FileCertificateModel, at: string): PlanCertificateFile {
    const daysLeft = daysUntil(c.info.notAfter, new Date(at));
    return {
        name: c.name,
        file: c.file,
        subject: c.info.subject,
        thumbprint: c.info.thumbprint,
        notBefore: c.info.notBefore,
        notAfter: c.info.notAfter,
        daysLeft,
        status: c.error ? "error" : daysLeft < certificateFileWarningDays ? "expiring" : "ok",
        error: c.error ?? null,
        path: c.path,
    };
}

/** Days before an existing credential of an app without rotating credentials expires from which the plan warns. */
export const existingWarningDays = 30;

/**
 * Whether an existing credential will lapse before its consumers can move to the stack's own: offline, the plan
 * cannot know whether (or since when) the stack is deployed, so it asks for the time the schedule gives consumers
 * to pick up a value, the pickup window (the app's shortest `rotateEveryDays`): a credential not marked for
 * retirement that has expired, or expires within that window from `at`, leaves its consumers less time to move
 * than a rotation gives them, even if the stack were deployed at `at`. An app with no rotating credential has
 * nothing served to move to: one that expires within 30 days is the finding.
 */
export function existingFinding(app: AppModel, entry: ExistingCredentialModel, at: Date): string | null {
    if (entry.retire) return null;
    const expires = Date.parse(entry.expires);
    const day = dateToIsoSeconds(new Date(expires)).slice(0, 10);
    const what = `existing ${entry.kind} ${entry.displayName === null ? "" : `"${entry.displayName}" `}(key ${entry.keyId})`;
    if (app.credentials.length === 0) {
        if (expires - at.getTime() >= existingWarningDays * dayMs) return null;
        return `${what} ${expires <= at.getTime() ? "expired" : "expires"} on ${day}, and the stack declares no rotating credential for ${app.name}: nothing Key Vault serves replaces it; add one (or a federated credential) and move its consumers`;
    }
    const served = [...app.credentials].sort((a, b) => a.policy.rotateEveryDays - b.policy.rotateEveryDays)[0]!;
    if (expires <= at.getTime()) return `${what} expired on ${day}: its consumers fail until they read ${served.keyVaultSecretName} from Key Vault (the stack's ${served.name})`;
    if (expires - at.getTime() >= served.policy.rotateEveryDays * dayMs) return null;
    return `${what} expires on ${day}, within the ${served.policy.rotateEveryDays}-day pickup window the stack gives consumers: deploy the stack and move its consumers to ${served.keyVaultSecretName} in Key Vault before then, or extend it`;
}

function planExisting(app: AppModel, at: Date): PlanExisting[] {
    return app.existing.map((entry) => ({
        keyId: entry.keyId,
        kind: entry.kind,
        displayName: entry.displayName,
        expires: dateToIsoSeconds(new Date(entry.expires)),
        daysLeft: Math.floor((Date.parse(entry.expires) - at.getTime()) / dayMs),
        retire: entry.retire,
        finding: existingFinding(app, entry, at),
        path: entry.path,
    }));
}

/** On a stack's first deployment every credential is new: both slots are created, the newest served. */
const firstDeploymentStatus = { slotsReplaced: 2, status: "new" } as const;

function planConsumer(c: ConsumerModel): PlanConsumer {
    return { name: c.name, reads: c.reads, refreshHours: c.refreshHours, refreshDeclared: c.refreshDeclared, windowDays: c.windowDays, owner: c.owner ?? null, instructions: c.instructions ?? null };
}

/** The open hand-off of a credential with a manual consumer: the same generation and deadline for each of them. */
function planHandoff(model: StackModel, app: AppModel, c: CredentialModel): PlanHandoff | undefined {
    const manual = c.consumers.find((consumer) => consumer.reads === "manual");
    if (!manual) return undefined;
    const handoff = handoffOf(model, app, c, manual, c.schedule.served.generation);
    return { generation: handoff.generation, deadline: handoff.deadline };
}

function planCredential(model: StackModel, app: AppModel, c: CredentialModel, status: ReturnType<typeof credentialStatus>, since: Date, at: string): PlanCredential {
    const { served, previous, nextRotation, daysLeftServed } = c.schedule;
    const created = status.status === "new" ? [0, 1] : status.slotsReplaced === 0 ? [] : slotsReplacedAt(since, new Date(at), c.policy, c.phase);
    const slots = [served, previous].sort((a, b) => a.slot - b.slot).map((s) => ({ ...s, served: s.slot === served.slot, credentialStart: created.includes(s.slot) ? at : null }));
    const handoff = planHandoff(model, app, c);
    return {
        name: c.name,
        type: c.type,
        path: c.path,
        keyVaultSecretName: c.keyVaultSecretName,
        pfx: c.type === "certificate" && c.pfx ? { ...c.pfx } : null,
        rotateEveryDays: c.policy.rotateEveryDays,
        lifetimeDays: c.policy.lifetimeDays,
        phaseDays: c.phase,
        slots,
        servedSlot: served.slot,
        expires: served.end,
        nextRotation,
        daysLeft: daysLeftServed,
        ...status,
        consumers: c.consumers.map(planConsumer),
        ...(handoff ? { handoff } : {}),
    };
}

/**
 * What the plan's statuses are relative to: the last successful run (default: a day before the model's
 * instant, as with a daily pipeline), or `never` for the stack's first deployment.
 */
export interface PlanOptions {
    readonly since?: Date | "never";
}

/** The plan of a model. */
export function buildPlan(model: StackModel, options: PlanOptions = {}): PlanDocument {
    const stream = streamPlan(model, options);
    return { ...stream, apps: [...stream.apps] };
}

/**
 * The plan with its apps computed one at a time, as they are rendered: the plan of a large stack is never
 * held whole (the JSON is tens of megabytes at thousands of apps). The statuses and totals are computed
 * first, since the headline comes before the apps.
 */
export function streamPlan(model: StackModel, options: PlanOptions = {}): PlanStream {
    const at = new Date(model.at);
    const firstDeployment = options.since === "never";
    const since = options.since === "never" ? at : (options.since ?? defaultSince(at));
    if (since.getTime() > at.getTime()) throw new RangeError(`the last run (${dateToIsoSeconds(since)}) is after the plan's instant (${model.at})`);
    const statuses = model.apps.map((app) => app.credentials.map((c) => (firstDeployment ? firstDeploymentStatus : credentialStatus(c, since, at))));
    const totals = { apps: model.apps.length, permissions: 0, application: 0, delegated: 0, tier0: 0, tier1: 0, credentials: 0, federatedCredentials: 0, rotating: 0, breaking: 0, expired: 0, new: 0, errors: model.credentialErrors.length, existing: 0, retiring: 0, consumers: 0, manualConsumers: 0 };
    const existingWarnings: PlanWarning[] = [];
    const privileged: PlanPrivileged[] = [];
    model.apps.forEach((app, i) => {
        for (const p of app.permissions) {
            totals.permissions++;
            if (p.kind === "delegated") totals.delegated++;
            else totals.application++;
            // Delegated permissions are tier 0 or untiered (infra/model/privilege.ts): a tier-0 one is privileged as an application one is.
            if (p.tier === 0 || p.tier === 1) {
                privileged.push({ app: app.name, api: p.api.displayName, name: p.name, type: p.kind, tier: p.tier, justification: p.justification ?? null });
                if (p.tier === 0) totals.tier0++;
                else totals.tier1++;
            }
        }
        totals.credentials += app.credentials.length;
        for (const c of app.credentials) {
            totals.consumers += c.consumers.length;
            totals.manualConsumers += c.consumers.filter((consumer) => consumer.reads === "manual").length;
        }
        totals.federatedCredentials += app.federatedCredentials.length;
        totals.existing += app.existing.length;
        for (const entry of app.existing) {
            if (entry.retire) totals.retiring++;
            const finding = existingFinding(app, entry, at);
            if (finding) existingWarnings.push({ path: entry.path, message: finding });
        }
        for (const { status } of statuses[i]!) {
            if (status === "rotates") totals.rotating++;
            else if (status === "breaking") totals.breaking++;
            else if (status === "expired") totals.expired++;
            else if (status === "new") totals.new++;
        }
    });
    return {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: model.at,
        since: dateToIsoSeconds(since),
        firstDeployment,
        apps: new LazyList(model.apps.length, (i) => planApp(model, model.apps[i]!, statuses[i]!, since, model.at)),
        warnings: [...model.warnings.map(({ path, message }) => ({ path, message })), ...existingWarnings],
        errors: model.credentialErrors.map(({ path, message }) => ({ path, message })),
        // existing and retiring only for a stack that lists existing credentials, consumers and manualConsumers only
        // for one that declares consumers: the totals of others stay as they were.
        totals: optionalTotals(totals),
        // Stable: tier 0 before tier 1, each in declaration order.
        privileged: [...privileged.filter((p) => p.tier === 0), ...privileged.filter((p) => p.tier === 1)],
        escEnvironments: [...model.escEnvironments],
    };
}

function optionalTotals(totals: Required<PlanTotals>): PlanTotals {
    const { existing, retiring, consumers, manualConsumers, ...rest } = totals;
    return { ...rest, ...(existing > 0 ? { existing, retiring } : {}), ...(consumers > 0 ? { consumers, manualConsumers } : {}) };
}

/** A plan whose apps are made as they are read. */
export interface PlanStream extends Omit<PlanDocument, "apps"> {
    readonly apps: LazyList<PlanApp>;
}

function planApp(model: StackModel, app: AppModel, statuses: readonly ReturnType<typeof credentialStatus>[], since: Date, at: string): PlanApp {
    return {
        name: app.name,
        displayName: app.displayName,
        signInAudience: app.signInAudience,
        redirectUris: [...app.redirectUris],
        owners: [...app.owners],
        permissions: app.permissions.map((p) => ({
            api: p.api.displayName,
            apiAppId: p.api.appId,
            type: p.kind,
            name: p.name,
            id: p.catalogId ?? null,
            tier: p.tier,
            adminConsentRequired: p.adminConsentRequired,
            consent: p.kind === "application" ? "appRoleAssignment" : "delegatedPermissionGrant",
            justification: p.justification ?? null,
            path: p.path,
        })),
        credentials: app.credentials.map((c, j) => planCredential(model, app, c, statuses[j]!, since, at)),
        certificateFiles: app.certificateFiles.map((c) => planCertificateFile(c, at)),
        federatedCredentials: app.federatedCredentials.map(({ name, preset, issuer, subject, audience, path }) => ({ name, preset, issuer, subject, audience, path })),
        ...(app.existing.length > 0 ? { existing: planExisting(app, new Date(at)) } : {}),
    };
}
