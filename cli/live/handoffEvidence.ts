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
 * Whether a hand-off is done, from Entra's sign-in evidence (`--usage`). A sign-in with the new value proves
 * nothing on its own: rotor signs in with it too (the deployment's verify gate, `rotor verify`), and Entra logs
 * those like any other. What only the consumers can show is that the previous value has gone quiet: rotor never
 * signs in with a value it no longer serves. So a hand-off is picked up once
 *
 * - a sign-in with the generation's key id is on record since it was served (someone holds it), and
 * - no sign-in with the previous generation's key id is on record for `quietDays` (the consumers moved), the
 *   evidence reaching back that far (the sign-in log is read back a bounded window; the credential report keeps
 *   each key's last sign-in),
 *
 * and the day of switch-over after serving has passed. The evidence is per credential, not per consumer: with
 * other consumers too, "picked up" means none of them uses the previous value any more, which is what its end
 * needs. `quietDays` must outlast how rarely the consumer signs in (docs/rotation.md#hand-offs). Pure.
 *
 * - `picked-up`: as above;
 * - `waiting`: evidence was read, and the previous value is still in use (or the new one not yet);
 * - `no-evidence`: nothing could be read (no licence, no permission), or the generation is not on the application.
 */
export type HandoffPickup = "picked-up" | "waiting" | "no-evidence";

export interface HandoffUsage {
    readonly state: HandoffPickup;
    /** The key id of the hand-off's generation on the application, lower case; null when it is not there. */
    readonly keyId: string | null;
    /** The last sign-in with it on record; null when none is. */
    readonly lastSignIn: string | null;
    /** The previous generation's key id, and its last sign-in on record (null when none, or it is gone). */
    readonly previousKeyId: string | null;
    readonly previousLastSignIn: string | null;
}

export interface HandoffUsageOptions {
    readonly now: Date;
    /** Days without a sign-in with the previous value that show the consumers moved (`--used-within`). */
    readonly quietDays: number;
}

const dayMs = 86_400_000;

/** The key id the application holds for a credential's generation: a secret by its display name, a certificate by its derived key id. */
export function generationKeyId(handoff: Handoff, live: LiveState, generation: number = handoff.generation): string | null {
    const application = live.apps.get(handoff.app)?.application;
    if (!application) return null;
    if (handoff.kind === "secret") {
        const password = application.passwordCredentials.find((p) => {
            const parsed = parsePasswordDisplayName(p.displayName);
            return parsed?.credential === handoff.credential && parsed.generation === generation;
        });
        return password ? password.keyId.toLowerCase() : null;
    }
    const keyId = certificateKeyId(handoff.project, handoff.stack, handoff.app, handoff.credential, generation);
    return application.keyCredentials.some((k) => k.keyId.toLowerCase() === keyId) ? keyId : null;
}

export function handoffUsage(handoff: Handoff, live: LiveState, evidence: UsageEvidence | null, options: HandoffUsageOptions): HandoffUsage {
    const keyId = generationKeyId(handoff, live);
    const previousKeyId = generationKeyId(handoff, live, handoff.generation - 1);
    const appId = live.apps.get(handoff.app)?.application.appId.toLowerCase();
    const none = { keyId, lastSignIn: null, previousKeyId, previousLastSignIn: null };
    if (!evidence || evidence.source === null || keyId === null || appId === undefined) return { state: "no-evidence", ...none };
    const signIns = evidence.lastSignIns.get(appId);
    const lastSignIn = signIns?.get(keyId) ?? null;
    const previousLastSignIn = previousKeyId ? (signIns?.get(previousKeyId) ?? null) : null;
    const now = options.now.getTime();
    const quietSince = now - options.quietDays * dayMs;
    const newInUse = lastSignIn !== null && Date.parse(lastSignIn) >= Date.parse(handoff.servedFrom);
    const switchedOver = now >= Date.parse(handoff.servedFrom) + dayMs;
    // The log read back to `since` shows nothing older: an absence counts only if it reaches back far enough.
    const covered = evidence.since === null || Date.parse(evidence.since) <= quietSince;
    const previousQuiet = previousKeyId === null || (covered && (previousLastSignIn === null || Date.parse(previousLastSignIn) < quietSince));
    const picked = newInUse && switchedOver && previousQuiet;
    return { state: picked ? "picked-up" : "waiting", keyId, lastSignIn, previousKeyId, previousLastSignIn };
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
    quietDays: number,
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
    // Back to the oldest hand-off's start, and at least as far as the previous value must have been quiet.
    const usedWithinDays = Math.min(30, Math.max(1, quietDays, Math.ceil((now.getTime() - oldest) / dayMs)));
    const evidence = await readUsageEvidence(graph, targets, { cloud: context.endpoints.cloud, now, usedWithinDays, progress: io.progress?.() ?? silentProgress });
    return { usage: new Map(handoffs.map((h) => [h.id, handoffUsage(h, live, evidence, { now, quietDays })])), evidence };
}
