import type { Handoff } from "../../infra/model/handoffs";
import type { StackModel } from "../../infra/model/model";
import { GraphClient } from "../../azure/graph";
import { certificateKeyId, parsePasswordDisplayName } from "../../rotation/identifiers";
import { collectLiveState } from "./collect";
import { type LiveFlags, type LiveIo, liveContext } from "./context";
import { silentProgress } from "./progress";
import { describeServiceFailure } from "./serviceErrors";
import type { LiveState } from "./status";
import type { UsageEvidence } from "./usage";
import { readUsageEvidence, usageTargets } from "./usageEvidence";

/**
 * Whether a hand-off's value is in use, from Entra's sign-in evidence (`--usage`): picked up once a sign-in with
 * the generation's key id is on record since the generation was served. The evidence is per credential, not per
 * consumer: a consumer that reads Key Vault and signs in with the new value counts too, so with several consumers
 * "picked up" means someone uses the new value (docs/rotation.md#hand-offs says so). Pure.
 *
 * - `picked-up`: a sign-in with the generation's key id at or after it was served;
 * - `waiting`: evidence was read and shows none (yet);
 * - `no-evidence`: nothing could be read (no licence, no permission), or the generation is not on the application.
 */
export type HandoffPickup = "picked-up" | "waiting" | "no-evidence";

export interface HandoffUsage {
    readonly state: HandoffPickup;
    /** The key id of the hand-off's generation on the application, lower case; null when it is not there. */
    readonly keyId: string | null;
    /** The last sign-in with it on record; null when none is. */
    readonly lastSignIn: string | null;
}

/** The key id the application holds for a credential's generation: a secret by its display name, a certificate by its derived key id. */
export function generationKeyId(handoff: Handoff, live: LiveState): string | null {
    const application = live.apps.get(handoff.app)?.application;
    if (!application) return null;
    if (handoff.kind === "secret") {
        const password = application.passwordCredentials.find((p) => {
            const parsed = parsePasswordDisplayName(p.displayName);
            return parsed?.credential === handoff.credential && parsed.generation === handoff.generation;
        });
        return password ? password.keyId.toLowerCase() : null;
    }
    const keyId = certificateKeyId(handoff.project, handoff.stack, handoff.app, handoff.credential, handoff.generation);
    return application.keyCredentials.some((k) => k.keyId.toLowerCase() === keyId) ? keyId : null;
}

export function handoffUsage(handoff: Handoff, live: LiveState, evidence: UsageEvidence | null): HandoffUsage {
    const keyId = generationKeyId(handoff, live);
    const appId = live.apps.get(handoff.app)?.application.appId.toLowerCase();
    if (!evidence || evidence.source === null || keyId === null || appId === undefined) return { state: "no-evidence", keyId, lastSignIn: null };
    const lastSignIn = evidence.lastSignIns.get(appId)?.get(keyId) ?? null;
    const picked = lastSignIn !== null && Date.parse(lastSignIn) >= Date.parse(handoff.servedFrom);
    return { state: picked ? "picked-up" : "waiting", keyId, lastSignIn };
}

/**
 * `rotor handoff-issues --usage`: the live state and sign-in evidence `rotor status --usage` reads (the same
 * sign-in, collectLiveState and readUsageEvidence), for the applications with an open hand-off and only them, as
 * `rotor retire` reads its own; Key Vault is not read. The evidence goes back to the oldest hand-off's start (at
 * least a day, at most Entra's 30 days of sign-ins). A failed sign-in or Graph read throws, named as the live
 * commands name it; evidence that cannot be read (no licence, no permission) is `no-evidence`, never an error.
 */
export async function readHandoffUsage(
    model: StackModel,
    handoffs: readonly Handoff[],
    flags: LiveFlags,
    io: LiveIo,
    now: Date,
): Promise<{ readonly usage: ReadonlyMap<string, HandoffUsage>; readonly evidence: UsageEvidence | null }> {
    if (handoffs.length === 0) return { usage: new Map(), evidence: null };
    const context = await liveContext(model, flags, io);
    const graph = new GraphClient(context.endpoints.graph, context.credential, context.endpoints.graphScope, { onRequest: () => io.onRequest?.("graph") });
    let live: LiveState;
    try {
        live = await collectLiveState(model, graph, undefined, { progress: io.progress?.() ?? silentProgress });
    } catch (error) {
        throw (
            describeServiceFailure(error, {
                graph: context.endpoints.graph,
                authorityHost: context.endpoints.authorityHost,
                ...(context.tenantId ? { tenantId: context.tenantId } : {}),
                signInAnswer: context.signInAnswer,
            }) ?? error
        );
    }
    const apps = new Set(handoffs.flatMap((h) => (live.apps.get(h.app) ? [live.apps.get(h.app)!.application.appId] : [])));
    const targets = usageTargets(live).filter((t) => apps.has(t.appId));
    const oldest = Math.min(...handoffs.map((h) => Date.parse(h.servedFrom)));
    const usedWithinDays = Math.min(30, Math.max(1, Math.ceil((now.getTime() - oldest) / 86_400_000)));
    const evidence = await readUsageEvidence(graph, targets, { cloud: context.endpoints.cloud, now, usedWithinDays, progress: io.progress?.() ?? silentProgress });
    return { usage: new Map(handoffs.map((h) => [h.id, handoffUsage(h, live, evidence)])), evidence };
}
