import type { CloudName } from "../../azure/endpoints";
import { isoSeconds } from "../../rotation/instants";
import { mapConcurrent } from "./concurrency";
import { GraphError, type GraphClient } from "../../azure/graph";
import { type Progress, silentProgress } from "./progress";
import type { LiveState } from "./status";
import { thumbprintOf } from "./status";
import { graphInstant, type UsageEvidence, type UsageSource, type UsageUnavailable } from "./usage";

/**
 * Reads who signs in with which credential, through the Graph client (its retries, its paging), from:
 *
 * 1. `GET /beta/reports/appCredentialSignInActivities?$filter=appId eq '...'`: the last sign-in per
 *    credential (keyId); Graph beta, global cloud only
 *    (https://learn.microsoft.com/en-us/graph/api/reportroot-list-appcredentialsigninactivities?view=graph-rest-beta);
 * 2. when that is not served (400/404, another cloud): `GET /beta/auditLogs/signIns` filtered to the
 *    application's service principal sign-ins since the window's start, newest first, 1,000 per page, each
 *    naming `servicePrincipalCredentialKeyId` or, for certificates, `servicePrincipalCredentialThumbprint`
 *    (https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta).
 *
 * Both need AuditLog.Read.All and a tenant with Entra ID P1/P2; refusals become a note naming what is
 * missing (live/usage.ts), never a failure of `rotor status`.
 */

/** The stack's applications and the credentials on them, as usage is looked up. */
export interface UsageTarget {
    readonly appId: string;
    readonly keys: readonly { readonly keyId: string; readonly thumbprint?: string }[];
}

/** Applications without secrets or certificates (federated only) have nothing to look up. */
export function usageTargets(live: LiveState): UsageTarget[] {
    const targets = [...live.apps.values()].map(({ application }) => ({
        appId: application.appId,
        keys: [
            ...application.passwordCredentials.map((p) => ({ keyId: p.keyId })),
            ...application.keyCredentials.map((k) => {
                const thumbprint = thumbprintOf(k);
                return thumbprint ? { keyId: k.keyId, thumbprint } : { keyId: k.keyId };
            }),
        ],
    }));
    return targets.filter((target) => target.keys.length > 0);
}

export interface UsageReadOptions {
    readonly cloud: CloudName;
    readonly now: Date;
    /** How far back the sign-in log is read. */
    readonly usedWithinDays: number;
    /** Applications read at once; default 8. */
    readonly concurrency?: number;
    readonly progress?: Progress;
}

const nonPremium = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/** What a refusal means: a missing licence or permission, an endpoint not served here (`notServed`), or another failure. */
export function classifyUsageFailure(error: unknown): UsageUnavailable | "notServed" {
    if (error instanceof GraphError) {
        const detail = `${error.status} ${error.code}`;
        if (error.status === 403 && error.code === nonPremium) return { reason: "licence", missing: "Microsoft Entra ID P1 or P2", detail };
        if (error.status === 403) return { reason: "permission", missing: "AuditLog.Read.All", detail };
        if (error.status === 400 || error.status === 404) return "notServed";
        return { reason: "error", missing: null, detail };
    }
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
    return { reason: "error", missing: null, detail: message.length > 200 ? `${message.slice(0, 197)}...` : message };
}

/** Graph's answer in a few words: `400 BadRequest`. */
function answered(error: unknown): string {
    return error instanceof GraphError ? `${error.status} ${error.code}` : String(error);
}

function odataString(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

interface ReportItem {
    readonly appId?: string;
    readonly keyId?: string;
    readonly signInActivity?: { readonly lastSignInDateTime?: string | null } | null;
}

/** Keeps the later of two ISO-8601 instants. */
function later(map: Map<string, string>, keyId: string, instant: string): void {
    const seen = map.get(keyId);
    if (seen === undefined || Date.parse(seen) < Date.parse(instant)) map.set(keyId, instant);
}

async function reportFor(graph: GraphClient, target: UsageTarget, progress: Progress): Promise<Map<string, string>> {
    const filter = encodeURIComponent(`appId eq ${odataString(target.appId)}`);
    const items = await graph.list<ReportItem>(`/reports/appCredentialSignInActivities?$filter=${filter}`, (page) => progress.tick("credential sign-in reports", page.length), "beta");
    const last = new Map<string, string>();
    for (const item of items) {
        if (item.appId && item.appId.toLowerCase() !== target.appId.toLowerCase()) continue;
        const instant = graphInstant(item.signInActivity?.lastSignInDateTime);
        if (item.keyId && instant) later(last, item.keyId.toLowerCase(), instant);
    }
    return last;
}

interface SignInItem {
    readonly createdDateTime?: string;
    readonly servicePrincipalCredentialKeyId?: string | null;
    readonly servicePrincipalCredentialThumbprint?: string | null;
}

/**
 * The application's service principal sign-ins since `since`, newest first, page after page until every
 * credential of the application has been seen (its first entry is its last sign-in) or the log ends.
 */
async function signInsFor(graph: GraphClient, target: UsageTarget, since: string, progress: Progress): Promise<Map<string, string>> {
    const filter = encodeURIComponent(`signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq ${odataString(target.appId)} and createdDateTime ge ${since}`);
    const byThumbprint = new Map(target.keys.filter((k) => k.thumbprint).map((k) => [k.thumbprint!.toUpperCase(), k.keyId.toLowerCase()]));
    const unseen = new Set(target.keys.map((k) => k.keyId.toLowerCase()));
    const last = new Map<string, string>();
    let next: string | undefined = `/auditLogs/signIns?$filter=${filter}&$top=1000`;
    while (next && unseen.size > 0) {
        const page: { value: SignInItem[]; "@odata.nextLink"?: string } = await graph.get(next, {}, "beta");
        progress.tick("sign-in log entries", page.value.length);
        for (const item of page.value) {
            const keyId = item.servicePrincipalCredentialKeyId?.toLowerCase() || byThumbprint.get((item.servicePrincipalCredentialThumbprint ?? "").toUpperCase());
            const instant = graphInstant(item.createdDateTime);
            if (!keyId || !instant) continue;
            later(last, keyId, instant);
            unseen.delete(keyId);
        }
        next = page["@odata.nextLink"];
    }
    return last;
}

/** Reads `work` for every application: the first alone, so a refusal costs one request, then the rest side by side. */
async function forEveryApp(targets: readonly UsageTarget[], concurrency: number, work: (target: UsageTarget) => Promise<Map<string, string>>): Promise<Map<string, Map<string, string>>> {
    const [first, ...rest] = targets;
    const result = new Map<string, Map<string, string>>();
    if (!first) return result;
    result.set(first.appId.toLowerCase(), await work(first));
    const others = await mapConcurrent(rest, concurrency, work);
    rest.forEach((target, i) => result.set(target.appId.toLowerCase(), others[i]!));
    return result;
}

function none(unavailable: UsageUnavailable | null, notes: string[]): UsageEvidence {
    return { source: null, lastSignIns: new Map(), since: null, unavailable, notes };
}

/** The usage evidence for the stack's applications; never throws: what cannot be read is said in `unavailable` and `notes`. */
export async function readUsageEvidence(graph: GraphClient, targets: readonly UsageTarget[], options: UsageReadOptions): Promise<UsageEvidence> {
    const progress = options.progress ?? silentProgress;
    try {
        return await readEvidence(graph, targets, options, progress);
    } finally {
        progress.done();
    }
}

async function readEvidence(graph: GraphClient, targets: readonly UsageTarget[], options: UsageReadOptions, progress: Progress): Promise<UsageEvidence> {
    const concurrency = options.concurrency ?? 8;
    const notes: string[] = [];
    if (targets.length === 0) return none(null, ["none of the stack's applications is in the tenant: there is no usage to read"]);

    if (options.cloud === "AzureCloud") {
        try {
            const lastSignIns = await forEveryApp(targets, concurrency, (target) => reportFor(graph, target, progress));
            return { source: "appCredentialSignInActivities", lastSignIns, since: null, unavailable: null, notes };
        } catch (error) {
            const failure = classifyUsageFailure(error);
            // The sign-in log needs the same licence and permission: asking it would only be refused again.
            if (failure !== "notServed" && failure.reason !== "error") return none(failure, notes);
            const why = failure === "notServed" ? answered(error) : failure.detail;
            notes.push(`Entra's credential sign-in report (Graph beta) could not be read (${why}): the sign-in log was read instead`);
        }
    } else {
        notes.push(`Entra's credential sign-in report is served in the global cloud only, not in ${options.cloud}: the sign-in log was read instead`);
    }

    const since = isoSeconds(options.now.getTime() - options.usedWithinDays * 86_400_000);
    try {
        const lastSignIns = await forEveryApp(targets, concurrency, (target) => signInsFor(graph, target, since, progress));
        if (options.usedWithinDays > 30) notes.push(`Entra keeps sign-ins for 30 days at most: --used-within ${options.usedWithinDays} reads back only that far`);
        return { source: "signIns", lastSignIns, since, unavailable: null, notes };
    } catch (error) {
        const failure = classifyUsageFailure(error);
        if (failure !== "notServed") return none(failure, notes);
        const detail = answered(error);
        return none(options.cloud === "AzureCloud" ? { reason: "error", missing: null, detail } : { reason: "cloud", missing: null, detail }, notes);
    }
}

/** For `rotor doctor`: whether this identity can read usage evidence in the tenant, with one small request per source. */
export async function probeUsageEvidence(graph: GraphClient, cloud: CloudName): Promise<{ readonly source: UsageSource | null; readonly unavailable: UsageUnavailable | null }> {
    if (cloud === "AzureCloud") {
        try {
            await graph.get("/reports/appCredentialSignInActivities?$top=1", {}, "beta");
            return { source: "appCredentialSignInActivities", unavailable: null };
        } catch (error) {
            const failure = classifyUsageFailure(error);
            if (failure !== "notServed" && failure.reason !== "error") return { source: null, unavailable: failure };
        }
    }
    try {
        await graph.get(`/auditLogs/signIns?$top=1&$filter=${encodeURIComponent("signInEventTypes/any(t: t eq 'servicePrincipal')")}`, {}, "beta");
        return { source: "signIns", unavailable: null };
    } catch (error) {
        const failure = classifyUsageFailure(error);
        if (failure !== "notServed") return { source: null, unavailable: failure };
        const detail = answered(error);
        return { source: null, unavailable: cloud === "AzureCloud" ? { reason: "error", missing: null, detail } : { reason: "cloud", missing: null, detail } };
    }
}
