import type { Service } from "./http";
import { seededRandom } from "./random";
import type { ReplicationDelay } from "./state";

/**
 * Switches for the ways Azure misbehaves that the product must survive: latency, throttling (429 with
 * Retry-After), server errors, and Entra's replication delay for new credentials. All deterministic: counts,
 * or a rate drawn from a seeded PRNG.
 */

/** Which requests a fault applies to; everything when empty. */
export interface RequestScope {
    readonly services?: readonly Service[];
    /** Route names as in the request log, e.g. `GET /secrets/{name}`. */
    readonly routes?: readonly string[];
}

export interface ThrottleFault extends RequestScope {
    /** Throttle every Nth matching request (N, 2N, ...). */
    readonly every?: number;
    /** Throttle the next K matching requests. */
    readonly next?: number;
    /** Retry-After header, in seconds (default 0: tests should not sleep). */
    readonly retryAfterSeconds?: number;
}

export interface ServerErrorFault extends RequestScope {
    /** Default 503. */
    readonly status?: 500 | 503;
    /** Fail the next K matching requests. */
    readonly next?: number;
    /** Fail this fraction (0-1) of matching requests, drawn from a PRNG seeded with `seed` (default 1). */
    readonly rate?: number;
    readonly seed?: number;
    /** Sent as Retry-After on 503 when given. */
    readonly retryAfterSeconds?: number;
}

export interface FaultSettings {
    /** Added before every answer, in ms; per service when an object. */
    readonly latencyMs?: number | Partial<Record<Service, number>>;
    readonly throttle?: ThrottleFault;
    readonly serverError?: ServerErrorFault;
    /**
     * Credentials added after this is set are rejected by the token endpoint (AADSTS7000215 for secrets,
     * AADSTS700027 for certificates) for a while, as Entra does while a new credential replicates.
     */
    readonly replication?: ReplicationDelay;
}

export type FaultDecision = { readonly kind: "throttle"; readonly retryAfterSeconds: number } | { readonly kind: "serverError"; readonly status: 500 | 503; readonly retryAfterSeconds?: number };

function inScope(scope: RequestScope, service: Service, route: string): boolean {
    return (!scope.services || scope.services.includes(service)) && (!scope.routes || scope.routes.includes(route));
}

export class FaultController {
    private settings: FaultSettings = {};
    private throttleSeen = 0;
    private throttleLeft = 0;
    private errorLeft = 0;
    private random: () => number = seededRandom(1);
    private replicationAfter = Number.POSITIVE_INFINITY;

    /**
     * Replaces the switches named in `changes` (an explicit undefined turns one off) and restarts their
     * counters. `lastCredentialSequence` marks which credentials a replication delay applies to.
     */
    set(changes: FaultSettings, lastCredentialSequence: number): void {
        this.settings = { ...this.settings, ...changes };
        if ("throttle" in changes) {
            this.throttleSeen = 0;
            this.throttleLeft = changes.throttle?.next ?? 0;
        }
        if ("serverError" in changes) {
            this.errorLeft = changes.serverError?.next ?? 0;
            this.random = seededRandom(changes.serverError?.seed ?? 1);
        }
        if ("replication" in changes) this.replicationAfter = changes.replication ? lastCredentialSequence : Number.POSITIVE_INFINITY;
    }

    clear(): void {
        this.set({ latencyMs: undefined, throttle: undefined, serverError: undefined, replication: undefined }, 0);
    }

    get current(): FaultSettings {
        return this.settings;
    }

    latency(service: Service): number {
        const latency = this.settings.latencyMs;
        if (latency === undefined) return 0;
        return typeof latency === "number" ? latency : (latency[service] ?? 0);
    }

    /** Whether this request gets an injected fault instead of the service's answer. */
    decide(service: Service, route: string): FaultDecision | undefined {
        const throttle = this.settings.throttle;
        if (throttle && inScope(throttle, service, route)) {
            this.throttleSeen++;
            const byCount = this.throttleLeft > 0;
            if (byCount) this.throttleLeft--;
            const byPeriod = throttle.every !== undefined && throttle.every > 0 && this.throttleSeen % throttle.every === 0;
            if (byCount || byPeriod) return { kind: "throttle", retryAfterSeconds: throttle.retryAfterSeconds ?? 0 };
        }
        const error = this.settings.serverError;
        if (error && inScope(error, service, route)) {
            const byCount = this.errorLeft > 0;
            if (byCount) this.errorLeft--;
            const byRate = error.rate !== undefined && this.random() < error.rate;
            if (byCount || byRate) {
                return { kind: "serverError", status: error.status ?? 503, ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}) };
            }
        }
        return undefined;
    }

    /** The replication delay that applies to a credential: its own, else the switch's if it is newer than the switch. */
    replicationFor(credential: { readonly sequence: number; readonly replication?: ReplicationDelay }): ReplicationDelay | undefined {
        if (credential.replication) return credential.replication;
        if (this.settings.replication && credential.sequence > this.replicationAfter) return this.settings.replication;
        return undefined;
    }
}

/**
 * Whether a credential still replicates. Each call is one token attempt presenting it (counted by the
 * caller); a credential is rejected while younger than delayMs or within its first `attempts` attempts.
 */
export function stillReplicating(delay: ReplicationDelay | undefined, credential: { readonly addedAtMs: number; readonly attemptsSeen: number }): boolean {
    if (!delay) return false;
    if (delay.delayMs !== undefined && Date.now() - credential.addedAtMs < delay.delayMs) return true;
    if (delay.attempts !== undefined && credential.attemptsSeen <= delay.attempts) return true;
    return false;
}
