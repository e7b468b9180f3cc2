import type { StackModel } from "../../infra/model/model";
import { isoSeconds } from "../../rotation/instants";
import { generationWindow } from "../../rotation/schedule";
import { alertingStatuses, type LiveState, type RowStatus, rowStatuses, servedManaged, type StatusReport, type StatusRow } from "./status";

/**
 * `rotor status --usage`: which credential consumers still sign in with, held against the schedule. Pure:
 * live/usageEvidence.ts reads Entra's evidence, this decides what it means, so every rule is tested with an
 * injected instant. Two things alert (exit 2):
 *
 * - `still-used`: a value whose slot the next rotation replaces within `--within` days was used within the
 *   last `--used-within` days, and after its successor had been served for a day: deleting it breaks
 *   whoever still signs in with it;
 * - `not-picked-up`: nobody has signed in with the served value since it was served, while the previous one
 *   is still used after that day: consumers did not pick up the new value.
 *
 * And one suggestion, which never alerts: `retire`, an existing credential (made before the stack, in its
 * `existing` list) that nobody signed in with within `--used-within` days while Key Vault serves the app's own
 * credential. Without evidence there is no suggestion.
 *
 * The day (a quarter of the rotation period for very short ones) is the switch-over: right after a rotation
 * every consumer still holds the previous value, and a sign-in with it then says nothing.
 *
 * The evidence has limits, which the output and docs/commands.md state: Entra keeps sign-ins 7 days (free)
 * or 30 days (P1/P2) and reads them through Graph only with P1/P2; a consumer signs in once per access token
 * (60-90 minutes by default), not per call; so a sign-in proves use, and no sign-in proves nothing beyond
 * the window read.
 */

/** Where the evidence came from: the credential report (last sign-in per key) or the sign-in log. */
export type UsageSource = "appCredentialSignInActivities" | "signIns";

/** Why there is no evidence; a note, never an error. */
export interface UsageUnavailable {
    /**
     * `licence`: the tenant has no Entra ID P1/P2; `permission`: the identity lacks AuditLog.Read.All; `cloud`:
     * not served in this cloud; `error`: Graph failed otherwise (after its retries).
     */
    readonly reason: "licence" | "permission" | "cloud" | "error";
    /** What to get: `AuditLog.Read.All`, `Microsoft Entra ID P1 or P2`; null when nothing can be granted. */
    readonly missing: string | null;
    /** Graph's answer, e.g. `403 Authentication_RequestFromNonPremiumTenantOrB2CTenant`. */
    readonly detail: string;
}

/** What Entra recorded, as read from Graph. */
export interface UsageEvidence {
    readonly source: UsageSource | null;
    /** The last sign-in per application (appId) and credential (keyId), both lower case; ISO-8601 instants. */
    readonly lastSignIns: ReadonlyMap<string, ReadonlyMap<string, string>>;
    /** The oldest instant the sign-in log was read back to; null for the report, which keeps each credential's last sign-in. */
    readonly since: string | null;
    readonly unavailable: UsageUnavailable | null;
    /** What the reader had to do or could not (a fallback, a cloud without the report). */
    readonly notes: readonly string[];
}

/** Usage of one credential row (`usage` in the status JSON, with `--usage`). */
export interface RowUsage {
    /** The last sign-in Entra recorded with this credential; null when none is in the evidence (or there is no evidence). */
    readonly lastSignIn: string | null;
    /** When a run next replaces this slot (its generation + 2 starts), for the stack's rotating credentials; null otherwise. */
    readonly replacedOn: string | null;
}

/** The report's `usage` (with `--usage`). */
export interface UsageSummary {
    readonly source: UsageSource | null;
    /** A sign-in within this many days counts as in use (`--used-within`). */
    readonly usedWithinDays: number;
    /** A value whose slot is replaced within this many days counts as about to be retired (`--within`). */
    readonly replacedWithinDays: number;
    readonly since: string | null;
    readonly unavailable: UsageUnavailable | null;
    readonly notes: readonly string[];
}

export interface UsageOptions {
    readonly usedWithinDays: number;
    /** `--within`, 30 by default, as for expiry. */
    readonly withinDays: number;
    /** How long after a value is served consumers may still use the previous one unremarked; default 24 hours. */
    readonly pickupGraceHours?: number;
}

const hourMs = 3_600_000;
const dayMs = 86_400_000;

/** `35 min ago`, `2 h ago`, `3 days ago`: how long ago, to the unit that matters. */
export function ago(instant: string, now: Date): string {
    const ms = now.getTime() - Date.parse(instant);
    if (ms < 60_000) return "just now";
    if (ms < hourMs) return `${Math.floor(ms / 60_000)} min ago`;
    if (ms < 48 * hourMs) return `${Math.floor(ms / hourMs)} h ago`;
    return `${Math.floor(ms / dayMs)} days ago`;
}

/**
 * An instant as Graph writes it, normalised to ISO-8601 UTC; undefined when it is none. The report's own
 * examples write offsets such as `-8:00`, which Date.parse refuses.
 */
export function graphInstant(text: unknown): string | undefined {
    if (typeof text !== "string" || text === "") return undefined;
    const fixed = text.replace(/([+-])(\d):(\d{2})$/, "$10$2:$3");
    const ms = Date.parse(fixed);
    return Number.isNaN(ms) ? undefined : isoSeconds(ms);
}

function lastSignInOf(evidence: UsageEvidence, appId: string | null, keyId: string | null): string | null {
    if (!appId || !keyId) return null;
    return evidence.lastSignIns.get(appId.toLowerCase())?.get(keyId.toLowerCase()) ?? null;
}

/**
 * When a generation was served: the later of its window's start and its credential's creation (a late
 * run serves late). Consumers then have a grace to pick it up before the previous value's use means anything.
 */
function servedSince(live: LiveState, app: string, keyId: string | null, windowStart: string): string {
    const application = live.apps.get(app)?.application;
    const key = keyId?.toLowerCase();
    const created = key ? [...(application?.passwordCredentials ?? []), ...(application?.keyCredentials ?? [])].find((c) => c.keyId.toLowerCase() === key)?.startDateTime : undefined;
    const createdMs = created ? Date.parse(created) : NaN;
    return Number.isNaN(createdMs) || createdMs <= Date.parse(windowStart) ? windowStart : isoSeconds(createdMs);
}

/**
 * What the evidence says of one credential, in words: `last sign-in 3 days ago (2027-02-26)`, `none in Entra's
 * credential sign-in report`, `none in the sign-in log since 2027-02-01`. For the suggestions of status and
 * the removals of rotor retire, which print the evidence they went by.
 */
export function signInEvidence(lastSignIn: string | null, evidence: Pick<UsageEvidence, "source" | "since">, now: Date): string {
    if (lastSignIn) return `last sign-in ${ago(lastSignIn, now)} (${lastSignIn.slice(0, 10)})`;
    if (evidence.source === "signIns") return `none in the sign-in log since ${(evidence.since ?? "").slice(0, 10)}`;
    return "none in Entra's credential sign-in report";
}

/**
 * The existing credentials of the stack's apps, with evidence: `retire` (a suggestion) for one nobody signed in
 * with within `--used-within` days while Key Vault serves the app's own credential; a note on the others.
 * An expiring one keeps alerting: a consumer that signs in less often than the window is read would break.
 */
function existingUsage(model: StackModel, rows: StatusRow[], evidence: UsageEvidence, now: Date, options: UsageOptions): void {
    // A suggestion must hold under rotor retire's own check: a sign-in within the wider of the two windows keeps it.
    const windowDays = Math.max(options.usedWithinDays, retireUsedWithinDays);
    const usedWithinMs = windowDays * dayMs;
    // The sign-in log is read back --used-within days only: it cannot show an absence over a longer window.
    const covered = evidence.source !== "signIns" || (evidence.since !== null && Date.parse(evidence.since) <= now.getTime() - usedWithinMs);
    for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        if (row.owner !== "existing" || !row.usage || !row.keyId) continue;
        const app = model.apps.find((a) => a.name === row.app);
        const marked = app?.existing.find((e) => e.keyId === row.keyId!.toLowerCase())?.retire ?? false;
        const last = row.usage.lastSignIn;
        const said = signInEvidence(last, evidence, now);
        if (last !== null && now.getTime() - Date.parse(last) <= usedWithinMs) {
            const use = marked ? `marked retire: true, but consumers still use it (${said}): rotor retire refuses until they move` : `consumers still use it (${said})`;
            rows[i] = { ...row, message: row.status === "existing" ? use : `${row.message}; ${use}` };
            continue;
        }
        const served = servedManaged(rows, row.app);
        if (!covered) {
            rows[i] = { ...row, message: `${row.message}; ${said}, but rotor retire needs ${windowDays} days without one: run status --usage --used-within ${windowDays} to see whether it can go` };
            continue;
        }
        const unused = `no sign-in within ${windowDays} days (${said})`;
        if (row.status !== "existing" || !served) {
            rows[i] = { ...row, message: `${row.message}; ${unused}` };
            continue;
        }
        const secret = app?.credentials.find((c) => c.name === served.credential)?.keyVaultSecretName ?? "its secret";
        rows[i] = {
            ...row,
            status: "retire",
            message: marked
                ? `marked retire: true, ${unused}, and Key Vault serves ${served.credential} (${secret}): rotor retire --yes removes it`
                : `${unused}, and Key Vault serves ${served.credential} (${secret}) for this app: mark it retire: true in the stack; rotor retire checks again before it removes it`,
        };
    }
}

/**
 * The window `rotor retire` holds sign-ins against unless told otherwise: a month, since a consumer that runs
 * weekly or monthly signs in that rarely, and Entra keeps 30 days of sign-ins with P1/P2. status --usage
 * suggests `retire` only under this window too (or a wider --used-within), so its suggestion never meets a
 * refusal.
 */
export const retireUsedWithinDays = 30;

/** Usage statuses take over from `ok` and `expiring` only: expired, stale, overdue and missing say more. */
const yields: readonly RowStatus[] = ["ok", "expiring"];

/**
 * Adds the usage evidence to a status report: per credential row its last sign-in (and for the stack's
 * slots when a run replaces them), and the two usage statuses. Evidence that is missing changes nothing but
 * the notes: the exit code then depends on the other statuses alone.
 */
export function applyUsage(model: StackModel, report: StatusReport, live: LiveState, evidence: UsageEvidence, now: Date, options: UsageOptions): StatusReport {
    const usedWithinMs = options.usedWithinDays * dayMs;
    const nowMs = now.getTime();
    const available = evidence.source !== null;
    const inUse = (instant: string | null): instant is string => instant !== null && nowMs - Date.parse(instant) <= usedWithinMs;

    const declared = new Map(model.apps.flatMap((app) => app.credentials.map((c) => [`${app.name}\u0000${c.name}`, c] as const)));
    const credentialOf = (row: StatusRow) => (row.owner === "stack" && row.generation !== null && row.slot !== null ? declared.get(`${row.app}\u0000${row.credential}`) : undefined);

    const rows: StatusRow[] = report.rows.map((row) => {
        if (row.owner === "tenant" || row.kind === "federated" || !row.keyId) return row;
        const credential = credentialOf(row);
        const replacedOn = credential ? generationWindow(row.generation! + 2, credential.policy, credential.phase).start : null;
        return { ...row, usage: { lastSignIn: lastSignInOf(evidence, row.appId, row.keyId), replacedOn } };
    });

    if (available) {
        // The rows of each credential of the stack, so a stack of thousands is not searched row by row.
        const byCredential = new Map<string, StatusRow[]>();
        for (const r of rows) {
            if (r.owner !== "stack" || r.generation === null) continue;
            const key = `${r.app}\u0000${r.credential}`;
            byCredential.set(key, [...(byCredential.get(key) ?? []), r]);
        }
        for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const credential = credentialOf(row);
            if (!credential || !row.usage || !yields.includes(row.status)) continue;
            const siblings = byCredential.get(`${row.app}\u0000${row.credential}`) ?? [];
            const sibling = (generation: number) => siblings.find((r) => r.generation === generation && r.slot !== null);
            const sinceOf = (generation: number) => servedSince(live, row.app, sibling(generation)?.keyId ?? null, generationWindow(generation, credential.policy, credential.phase).start);
            // A day to pick up a new value (a quarter of the period for very short ones): use of the previous
            // value inside it is the switch-over, not a consumer left behind.
            const graceMs = Math.min((options.pickupGraceHours ?? 24) * hourMs, (credential.policy.rotateEveryDays * dayMs) / 4);
            let flagged: { status: RowStatus; message: string } | undefined;

            if (!row.served && inUse(row.usage.lastSignIn) && row.usage.replacedOn !== null && Date.parse(row.usage.lastSignIn) >= Date.parse(sinceOf(row.generation! + 1)) + graceMs) {
                const due = Date.parse(row.usage.replacedOn);
                if (due - nowMs <= options.withinDays * dayMs) {
                    const served = siblings.find((r) => r.served);
                    const when = due <= nowMs ? `it is replaced by the next run (due ${row.usage.replacedOn.slice(0, 10)})` : `it is replaced on ${row.usage.replacedOn.slice(0, 10)}`;
                    const fix = served ? `: make them read generation ${served.generation} from Key Vault (${credential.keyVaultSecretName}) before then` : "";
                    flagged = { status: "still-used", message: `consumers still use generation ${row.generation} (last sign-in ${ago(row.usage.lastSignIn, now)}); ${when}${fix}` };
                }
            }

            if (row.served) {
                const since = sinceOf(row.generation!);
                const previous = sibling(row.generation! - 1);
                const previousLast = previous?.usage?.lastSignIn ?? null;
                const ownLast = row.usage.lastSignIn;
                const unused = ownLast === null || Date.parse(ownLast) < Date.parse(since);
                if (previous && unused && inUse(previousLast) && Date.parse(previousLast) >= Date.parse(since) + graceMs) {
                    // The sign-in log was read back only so far: say what was looked at.
                    const looked = evidence.since !== null && Date.parse(evidence.since) > Date.parse(since) ? `in the last ${options.usedWithinDays} days (served since ${since.slice(0, 10)})` : `since it was served on ${since.slice(0, 10)}`;
                    const retired = previous.usage?.replacedOn ? `; generation ${previous.generation} is replaced on ${previous.usage.replacedOn.slice(0, 10)}` : "";
                    flagged = {
                        status: "not-picked-up",
                        message: `nobody has signed in with generation ${row.generation} ${looked}, while generation ${previous.generation} was used ${ago(previousLast, now)}: consumers have not picked up the new value from Key Vault (${credential.keyVaultSecretName})${retired}`,
                    };
                }
            }

            if (flagged) rows[i] = { ...row, status: flagged.status, message: row.status === "expiring" ? `${flagged.message}; ${row.message}` : flagged.message };
        }
        existingUsage(model, rows, evidence, now, options);
    }

    const notes = [...evidence.notes];
    if (available && ![...evidence.lastSignIns.values()].some((keys) => keys.size > 0)) notes.push("Entra recorded no sign-in with any credential of the stack's applications");
    const counts = Object.fromEntries(rowStatuses.map((s) => [s, rows.filter((r) => r.status === s).length])) as Record<RowStatus, number>;
    return {
        ...report,
        rows,
        counts,
        exitCode: rows.some((r) => alertingStatuses.includes(r.status)) ? 2 : 0,
        usage: {
            source: evidence.source,
            usedWithinDays: options.usedWithinDays,
            replacedWithinDays: options.withinDays,
            since: evidence.since,
            unavailable: evidence.unavailable,
            notes,
        },
    };
}

/** The standing caveat printed with the evidence: what a sign-in, and its absence, can prove. */
export const usageLimits =
    "a sign-in proves use; no sign-in proves nothing beyond what Entra keeps (7 days free, 30 days with Entra ID P1/P2) and what was read, and a consumer signs in once per access token (60-90 minutes), not per call";

/** Why there is no evidence, in a few words. */
export function unavailableText(unavailable: UsageUnavailable | null): string {
    switch (unavailable?.reason) {
        case "licence":
            return `the tenant has no ${unavailable.missing}; Graph answered ${unavailable.detail}`;
        case "permission":
            return `missing ${unavailable.missing}; Graph answered ${unavailable.detail}`;
        case "cloud":
            return `not served in this cloud; Graph answered ${unavailable.detail}`;
        case "error":
            return `Graph failed: ${unavailable.detail}`;
        default:
            return "nothing could be read";
    }
}
