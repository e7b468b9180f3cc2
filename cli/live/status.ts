import type { ExistingCredentialModel } from "../../infra/model/existing";
import { openHandoffs } from "../../infra/model/handoffs";
import type { AppModel, StackModel } from "../../infra/model/model";
import { certificateKeyId, parsePasswordDisplayName } from "../../rotation/identifiers";
import type { GraphApplication, GraphFederatedCredential, GraphKeyCredential, GraphPasswordCredential } from "../../azure/graph";
import { generationAt, generationWindow } from "../../rotation/schedule";
import { dateToIsoSeconds } from "../../rotation/instants";
import { handoffUsage } from "./handoffEvidence";
import type { RowUsage, UsageEvidence, UsageSummary } from "./usage";

/**
 * `rotor status`: the live tenant and vault held against the stack's model at `now`. Pure: the live
 * commands collect the data (live/collect.ts), this decides what is wrong, so every rule is tested on plain
 * data and the same report comes out of the emulator and of a real tenant.
 */

/** Key Vault's view of one secret: properties and tags, never the value. */
export type { VaultSecretProperties } from "../../azure/keyVault";
import type { VaultSecretProperties } from "../../azure/keyVault";

export interface LiveApp {
    readonly application: GraphApplication;
    readonly federated: readonly GraphFederatedCredential[];
}

export interface LiveState {
    /** The stack's applications found in the tenant, by app name (from their tags). */
    readonly apps: ReadonlyMap<string, LiveApp>;
    /** The vault's secrets by lower-case name; undefined when the stack has no vault. */
    readonly vaultSecrets?: ReadonlyMap<string, VaultSecretProperties>;
    /** Every application of the tenant, with `--all-apps`. */
    readonly tenantApps?: readonly GraphApplication[];
}

/**
 * - `ok`;
 * - `expiring`: inside the threshold;
 * - `expired`;
 * - `overdue`: Key Vault still serves a generation the schedule has replaced: the pipeline has not run;
 * - `stale`: Key Vault serves a key id the app no longer has, or its secret is missing or disabled;
 * - `missing`: declared in the stack but absent from the tenant;
 * - `unmanaged`: on a stack's app but not the stack's (added in the portal), still valid beyond the threshold;
 * - `existing`: on a stack's app and in its `existing` list (made before the stack), still valid beyond the
 *   threshold: left as it is until a reviewed `retire: true`;
 * - with `--usage` (live/usage.ts): `still-used`, a value the next rotation replaces soon that consumers
 *   still sign in with; `not-picked-up`, a served value nobody uses while the previous one is still used;
 *   `retire`, a suggestion: an existing credential nobody signed in with lately, while Key Vault serves the
 *   app's own (never alerts).
 */
export type RowStatus = "ok" | "expiring" | "expired" | "overdue" | "stale" | "missing" | "unmanaged" | "existing" | "still-used" | "not-picked-up" | "retire";

export const rowStatuses: readonly RowStatus[] = ["ok", "expiring", "expired", "overdue", "stale", "missing", "unmanaged", "existing", "still-used", "not-picked-up", "retire"];

/** Statuses that make `rotor status` exit 2, so a scheduled pipeline alerts. */
export const alertingStatuses: readonly RowStatus[] = ["expiring", "expired", "overdue", "stale", "missing", "still-used", "not-picked-up"];

export interface StatusRow {
    /** The stack's app name; for other applications of the tenant (`--all-apps`), their display name. */
    readonly app: string;
    readonly appId: string | null;
    /** The credential's name in the stack, or its display name in Entra (or key id) for others. */
    readonly credential: string;
    readonly kind: "secret" | "certificate" | "federated";
    /**
     * `stack`: rotated by the stack; `file`: a certificate brought as a file; `existing`: on a stack's app, made
     * before the stack and listed in its `existing`; `unmanaged`: on a stack's app, not the stack's; `tenant`:
     * on another application.
     */
    readonly owner: "stack" | "file" | "existing" | "unmanaged" | "tenant";
    readonly keyId: string | null;
    readonly slot: 0 | 1 | null;
    readonly generation: number | null;
    /** Whether Key Vault serves this value. */
    readonly served: boolean;
    readonly expires: string | null;
    readonly daysLeft: number | null;
    readonly status: RowStatus;
    /** What is wrong and what to do; empty when ok. */
    readonly message: string;
    /** With `--usage`, on secrets and certificates of the stack's applications: the last sign-in with it, and when its slot is replaced. */
    readonly usage?: RowUsage;
}

/**
 * A hand-off to a manual consumer (infra/model/handoffs.ts), from the schedule at the report's instant:
 * - `open`: the consumer has until the deadline to copy the served value;
 * - `due`: the deadline is within `--within` days and the new value is not known to be in use: exit 2;
 * - `picked-up`: with `--usage`, a sign-in with the generation's key id is on record since it was served.
 */
export type HandoffState = "open" | "due" | "picked-up";

export interface StatusHandoff {
    /** As `rotor handoffs` and the hand-off issues name it: `<project>/<stack>/<app>/<credential>/g<generation>/<consumer>`. */
    readonly id: string;
    readonly app: string;
    readonly credential: string;
    readonly generation: number;
    readonly consumer: string;
    readonly owner: string;
    /** When the value the consumer held until this generation stops working: the next generation's start. */
    readonly deadline: string;
    readonly daysLeft: number;
    readonly state: HandoffState;
    /** With `--usage`: the last sign-in with the generation's key id on record; null otherwise. */
    readonly lastSignIn: string | null;
}

export interface StatusOptions {
    /** Days before expiry from which a credential is reported; default 30. */
    readonly withinDays?: number;
    /** How long after a rotation was due the pipeline may still run before it is overdue; default 1 day. */
    readonly graceHours?: number;
}

export interface StatusReport {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    /** Expiry thresholds in days, widest first: inside the first, a credential is `expiring`; the others grade urgency. */
    readonly thresholds: readonly number[];
    readonly rows: readonly StatusRow[];
    readonly counts: Readonly<Record<RowStatus, number>>;
    /** Applications read, with `--all-apps` every one in the tenant. */
    readonly applicationsScanned: number;
    /** 0 when nothing alerts, 2 otherwise. */
    readonly exitCode: 0 | 2;
    /** With `--usage`: where the evidence came from, or why there is none. */
    readonly usage?: UsageSummary;
    /** Only when a credential of the stack has a manual consumer: each open hand-off, by deadline. */
    readonly handoffs?: readonly StatusHandoff[];
}

const dayMs = 86_400_000;

export function daysLeft(end: string | null, now: Date): number | null {
    if (!end) return null;
    return Math.floor((Date.parse(end) - now.getTime()) / dayMs);
}

/** The thresholds: 30/14/7 by default; `--within N` replaces the widest. */
export function thresholdsFor(withinDays = 30): number[] {
    return [withinDays, ...[14, 7].filter((d) => d < withinDays)];
}

function expiryStatus(expires: string | null, now: Date, within: number): { status: RowStatus; message: string } | undefined {
    if (!expires) return undefined;
    const left = Date.parse(expires) - now.getTime();
    if (left <= 0) return { status: "expired", message: `expired on ${expires.slice(0, 10)}` };
    if (left < within * dayMs) return { status: "expiring", message: `expires in ${Math.floor(left / dayMs)} days (${expires.slice(0, 10)})` };
    return undefined;
}

/** Hex SHA-1 thumbprint of a key credential, from its customKeyIdentifier (base64 of the thumbprint bytes). */
export function thumbprintOf(key: GraphKeyCredential): string | undefined {
    if (!key.customKeyIdentifier) return undefined;
    const bytes = Buffer.from(key.customKeyIdentifier, "base64");
    return bytes.length === 20 ? bytes.toString("hex").toUpperCase() : undefined;
}

interface RowBase {
    app: string;
    appId: string | null;
}

function credentialRow(base: RowBase, fields: Omit<StatusRow, "app" | "appId" | "daysLeft" | "status" | "message"> & Partial<Pick<StatusRow, "status" | "message">>, now: Date, within: number): StatusRow {
    const expiry = expiryStatus(fields.expires, now, within);
    // An explicit problem (stale, overdue, missing) outranks the expiry, except an expiry that has happened.
    const explicit = fields.status && fields.status !== "ok" && fields.status !== "unmanaged" && fields.status !== "existing" ? { status: fields.status, message: fields.message ?? "" } : undefined;
    const chosen = expiry?.status === "expired" ? expiry : explicit ?? expiry ?? { status: fields.status ?? "ok", message: fields.message ?? "" };
    return { ...base, ...fields, daysLeft: daysLeft(fields.expires, now), status: chosen.status, message: chosen.message };
}

/** Rows for credentials found on an application that no declaration claims: unmanaged ones, or another application's. */
function foundRows(
    base: RowBase,
    kind: "secret" | "certificate",
    credentials: readonly (GraphPasswordCredential | GraphKeyCredential)[],
    owner: "unmanaged" | "tenant",
    now: Date,
    within: number,
    message: string,
): StatusRow[] {
    return credentials.map((c) =>
        credentialRow(
            base,
            { credential: c.displayName || c.keyId, kind, owner, keyId: c.keyId, slot: null, generation: null, served: false, expires: c.endDateTime, status: owner === "unmanaged" ? "unmanaged" : "ok", message },
            now,
            within,
        ),
    );
}

/**
 * The row of the value Key Vault serves for one of the app's rotating credentials, when one is served and
 * valid (not expired, not stale): what consumers of an existing credential move to. Undefined otherwise.
 */
export function servedManaged(rows: readonly StatusRow[], app: string): StatusRow | undefined {
    return rows.find((r) => r.app === app && r.owner === "stack" && r.served && r.slot !== null && r.status !== "expired" && r.status !== "stale");
}

/**
 * A credential of the app's `existing` list found on the application: valid, it is `existing` (no alert, as
 * for unmanaged ones); expiring or expired, it alerts, and says whether the stack serves what replaces it.
 */
function existingRow(base: RowBase, app: AppModel, entry: ExistingCredentialModel, found: GraphPasswordCredential | GraphKeyCredential, kind: "secret" | "certificate", served: StatusRow | undefined, now: Date, within: number): StatusRow {
    const secret = served ? app.credentials.find((c) => c.name === served.credential)?.keyVaultSecretName : undefined;
    const replacement = served ? `Key Vault serves ${served.credential} (${secret ?? "its secret"}) for this app` : undefined;
    const message = entry.retire
        ? "marked retire: true in the stack: rotor retire removes it once no sign-in with it is on record"
        : replacement
          ? `made before the stack (its existing list): ${replacement}; move its consumers there, then mark it retire: true`
          : app.credentials.length > 0
            ? "made before the stack (its existing list); the stack's own credential is not served yet: run pulumi up, then move its consumers to Key Vault's value"
            : "made before the stack (its existing list); the stack declares no rotating credential for this app, so nothing it serves replaces this one";
    const row = credentialRow(
        base,
        { credential: found.displayName || entry.displayName || found.keyId, kind, owner: "existing", keyId: found.keyId, slot: null, generation: null, served: false, expires: found.endDateTime, status: "existing", message },
        now,
        within,
    );
    if (row.status !== "expiring" && row.status !== "expired") return row;
    // What the expiry means here: consumers of it must have moved to the stack's value by then.
    const why = entry.retire
        ? "; it is marked retire: true, and rotor retire removes it"
        : replacement
          ? `; ${replacement}: move its consumers there`
          : app.credentials.length > 0
            ? ", before the stack's own credential is served: run pulumi up and move its consumers to Key Vault's value, or extend it in the Entra admin center"
            : "; the stack declares no rotating credential for this app, so nothing it serves replaces this one";
    return { ...row, message: `${row.message}${why}` };
}

/** 2 when a row alerts or a hand-off is due, else 0. */
export function statusExitCode(rows: readonly StatusRow[], handoffs: readonly StatusHandoff[] | undefined): 0 | 2 {
    return rows.some((r) => alertingStatuses.includes(r.status)) || (handoffs ?? []).some((h) => h.state === "due") ? 2 : 0;
}

/**
 * The open hand-offs at `now`, each `due` within `withinDays` of its deadline, or `picked-up` when the evidence
 * (`--usage`, read by live/handoffEvidence.ts) shows the new value in use; undefined when the stack has no manual
 * consumer, so its report is as before.
 */
export function statusHandoffs(model: StackModel, live: LiveState, evidence: UsageEvidence | null, now: Date, withinDays: number, quietDays = 7): StatusHandoff[] | undefined {
    if (!model.apps.some((app) => app.credentials.some((c) => c.consumers.some((consumer) => consumer.reads === "manual")))) return undefined;
    return openHandoffs(model, now).map((h) => {
        const usage = evidence ? handoffUsage(h, live, evidence, { now, quietDays }) : undefined;
        const left = Date.parse(h.deadline) - now.getTime();
        const state: HandoffState = usage?.state === "picked-up" ? "picked-up" : left < withinDays * dayMs ? "due" : "open";
        return { id: h.id, app: h.app, credential: h.credential, generation: h.generation, consumer: h.consumer, owner: h.owner, deadline: h.deadline, daysLeft: Math.floor(left / dayMs), state, lastSignIn: usage?.lastSignIn ?? null };
    });
}

/** The report's hand-offs again with the usage evidence (`--usage`), after applyUsage; the exit code with them. */
export function applyHandoffEvidence(model: StackModel, report: StatusReport, live: LiveState, evidence: UsageEvidence, now: Date, quietDays: number): StatusReport {
    if (!report.handoffs) return report;
    const handoffs = statusHandoffs(model, live, evidence, now, report.thresholds[0] ?? 30, quietDays)!;
    return { ...report, handoffs, exitCode: statusExitCode(report.rows, handoffs) };
}

/** Holds the live state against the model: one row per credential, declared or found. */
export function assessStatus(model: StackModel, live: LiveState, now: Date, options: StatusOptions = {}): StatusReport {
    const within = options.withinDays ?? 30;
    const graceMs = (options.graceHours ?? 24) * 3_600_000;
    const rows: StatusRow[] = [];
    const unmanagedMessage = "not the stack's: added outside it (e.g. in the portal); remove it once nothing uses it";

    for (const app of model.apps) {
        const found = live.apps.get(app.name);
        const base: RowBase = { app: app.name, appId: found?.application.appId ?? null };
        if (!found) {
            rows.push({ ...base, credential: "(application)", kind: "secret", owner: "stack", keyId: null, slot: null, generation: null, served: false, expires: null, daysLeft: null, status: "missing", message: `no application tagged for this stack: run pulumi up (or check --stack)` });
            continue;
        }
        const application = found.application;
        const appRows = rows.length;
        const claimedPasswords = new Set<string>();
        const claimedKeys = new Set<string>();

        for (const credential of app.credentials) {
            const expected = generationAt(now, credential.policy, credential.phase);
            const vault = live.vaultSecrets?.get(credential.keyVaultSecretName.toLowerCase());
            const servedKeyId = vault?.tags["keyId"];
            const servedGeneration = vault?.tags["generation"] !== undefined ? Number(vault.tags["generation"]) : undefined;
            const present: { keyId: string; slot: 0 | 1; generation: number; expires: string | null }[] = [];
            if (credential.type === "secret") {
                for (const p of application.passwordCredentials) {
                    const parsed = parsePasswordDisplayName(p.displayName);
                    if (parsed?.credential !== credential.name) continue;
                    claimedPasswords.add(p.keyId);
                    present.push({ keyId: p.keyId, slot: parsed.slot, generation: parsed.generation, expires: p.endDateTime });
                }
            } else {
                // Key ids are derived from the generation: look a few generations back, far enough for any outage that still leaves a valid slot.
                const byKeyId = new Map(application.keyCredentials.map((k) => [k.keyId.toLowerCase(), k]));
                for (let g = expected + 1; g >= expected - 12; g--) {
                    const key = byKeyId.get(certificateKeyId(model.project, model.stack, app.name, credential.name, g));
                    if (!key) continue;
                    claimedKeys.add(key.keyId);
                    present.push({ keyId: key.keyId, slot: (((g % 2) + 2) % 2) as 0 | 1, generation: g, expires: key.endDateTime });
                }
            }
            present.sort((a, b) => b.generation - a.generation);

            // Overdue is measured from when the served generation's successor was due, not from the newest
            // generation's start: after an outage longer than a rotation period, the newest may have started
            // only today while the served value should have been replaced a whole period ago.
            const successor = servedGeneration !== undefined && Number.isSafeInteger(servedGeneration) ? generationWindow(servedGeneration + 1, credential.policy, credential.phase).start : undefined;
            const overdue = servedGeneration !== undefined && successor !== undefined && servedGeneration < expected && now.getTime() - Date.parse(successor) > graceMs;
            const newest = present.length > 0 ? present[0]! : undefined;
            for (const p of present) {
                const served = servedKeyId !== undefined && p.keyId.toLowerCase() === servedKeyId.toLowerCase();
                let status: RowStatus = "ok";
                let message = "";
                if (served && overdue) {
                    status = "overdue";
                    message =
                        newest && newest.generation > p.generation
                            ? `the application already has generation ${newest.generation}, but Key Vault still serves ${p.generation} (generation ${p.generation + 1} was due ${successor!.slice(0, 10)}): a run created it and stopped before serving it, usually because its sign-in proof failed; run rotor verify, then pulumi up, and read the run's log`
                            : `generation ${p.generation + 1} was due ${successor!.slice(0, 10)} and Key Vault still serves ${p.generation}: the pipeline has not run since; run pulumi up`;
                }
                rows.push(credentialRow(base, { credential: credential.name, kind: credential.type, owner: "stack", keyId: p.keyId, slot: p.slot, generation: p.generation, served, expires: p.expires, status, message }, now, within));
            }
            if (present.length === 0) {
                rows.push(credentialRow(base, { credential: credential.name, kind: credential.type, owner: "stack", keyId: null, slot: null, generation: null, served: false, expires: null, status: "missing", message: "not on the application: run pulumi up" }, now, within));
            }
            if (live.vaultSecrets) {
                const problem = !vault
                    ? `Key Vault has no secret ${credential.keyVaultSecretName}: run pulumi up`
                    : !vault.enabled
                      ? `Key Vault secret ${credential.keyVaultSecretName} is disabled: consumers cannot read it`
                      : servedKeyId === undefined
                        ? `Key Vault secret ${credential.keyVaultSecretName} has no keyId tag: it was not written by entra-rotor`
                        : !present.some((p) => p.keyId.toLowerCase() === servedKeyId.toLowerCase())
                          ? `Key Vault serves key ${servedKeyId}, which the application no longer has: consumers fail to sign in; run pulumi up`
                          : undefined;
                if (problem) {
                    rows.push({ ...base, credential: credential.name, kind: credential.type, owner: "stack", keyId: servedKeyId ?? null, slot: null, generation: servedGeneration ?? null, served: true, expires: vault?.expires ?? null, daysLeft: daysLeft(vault?.expires ?? null, now), status: "stale", message: problem });
                }
            }
        }

        for (const file of app.certificateFiles) {
            const key = application.keyCredentials.find((k) => thumbprintOf(k) === file.info.thumbprint || (!claimedKeys.has(k.keyId) && k.endDateTime !== null && Date.parse(k.endDateTime) === Date.parse(file.info.notAfter)));
            if (key) claimedKeys.add(key.keyId);
            rows.push(
                credentialRow(
                    base,
                    {
                        credential: file.name,
                        kind: "certificate",
                        owner: "file",
                        keyId: key?.keyId ?? null,
                        slot: null,
                        generation: null,
                        served: false,
                        expires: key?.endDateTime ?? file.info.notAfter,
                        status: key ? "ok" : "missing",
                        message: key ? "" : `${file.file} is not on the application: run pulumi up`,
                    },
                    now,
                    within,
                ),
            );
            const last = rows[rows.length - 1]!;
            if (last.status === "expiring" || last.status === "expired") rows[rows.length - 1] = { ...last, message: `${last.message}: replace ${file.file} and run pulumi up` };
        }

        const liveFederated = new Map(found.federated.map((f) => [f.name, f]));
        for (const declared of app.federatedCredentials) {
            const match = liveFederated.get(declared.name);
            liveFederated.delete(declared.name);
            const differs = match && (match.issuer !== declared.issuer || match.subject !== declared.subject || match.audiences.join(",") !== declared.audience);
            rows.push({
                ...base,
                credential: declared.name,
                kind: "federated",
                owner: "stack",
                keyId: match?.id ?? null,
                slot: null,
                generation: null,
                served: false,
                expires: null,
                daysLeft: null,
                status: !match || differs ? "missing" : "ok",
                message: !match ? "not on the application: run pulumi up" : differs ? `on the application with other issuer, subject or audience than declared: run pulumi up` : "",
            });
        }
        for (const other of liveFederated.values()) {
            rows.push({ ...base, credential: other.name, kind: "federated", owner: "unmanaged", keyId: other.id, slot: null, generation: null, served: false, expires: null, daysLeft: null, status: "unmanaged", message: `${unmanagedMessage} (issuer ${other.issuer}, subject ${other.subject})` });
        }
        // Credentials the stack lists as existing (made before it) are not unmanaged: it knows them, and leaves them be.
        const existing = new Map(app.existing.map((e) => [e.keyId, e]));
        const listed = (c: GraphPasswordCredential | GraphKeyCredential) => existing.get(c.keyId.toLowerCase());
        const passwords = application.passwordCredentials.filter((p) => !claimedPasswords.has(p.keyId));
        const keys = application.keyCredentials.filter((k) => !claimedKeys.has(k.keyId));
        rows.push(...foundRows(base, "secret", passwords.filter((p) => !listed(p)), "unmanaged", now, within, unmanagedMessage));
        rows.push(...foundRows(base, "certificate", keys.filter((k) => !listed(k)), "unmanaged", now, within, unmanagedMessage));
        const served = servedManaged(rows.slice(appRows), app.name);
        for (const p of passwords) if (listed(p)) rows.push(existingRow(base, app, listed(p)!, p, "secret", served, now, within));
        for (const k of keys) if (listed(k)) rows.push(existingRow(base, app, listed(k)!, k, "certificate", served, now, within));
    }

    let applicationsScanned = live.apps.size;
    if (live.tenantApps) {
        const stackAppIds = new Set([...live.apps.values()].map((a) => a.application.appId));
        const others = live.tenantApps.filter((a) => !stackAppIds.has(a.appId));
        applicationsScanned = live.apps.size + others.length;
        for (const application of others) {
            const base: RowBase = { app: application.displayName ?? application.appId, appId: application.appId };
            // The tenant inventory lists what needs attention only: thousands of healthy rows help nobody.
            const attention = (r: StatusRow) => r.status !== "ok";
            rows.push(...foundRows(base, "secret", application.passwordCredentials, "tenant", now, within, "").filter(attention));
            rows.push(...foundRows(base, "certificate", application.keyCredentials, "tenant", now, within, "").filter(attention));
        }
    }

    const counts = Object.fromEntries(rowStatuses.map((s) => [s, rows.filter((r) => r.status === s).length])) as Record<RowStatus, number>;
    const handoffs = statusHandoffs(model, live, null, now, within);
    return {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: dateToIsoSeconds(now),
        thresholds: thresholdsFor(within),
        rows,
        counts,
        applicationsScanned,
        exitCode: statusExitCode(rows, handoffs),
        ...(handoffs ? { handoffs } : {}),
    };
}
