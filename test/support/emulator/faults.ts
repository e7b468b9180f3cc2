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

/**
 * Entra's sign-in service out of order: token requests answered 503 `temporarily_unavailable` with
 * AADSTS90033, as Entra sends it (body in Azure/azure-sdk-for-python#14241: "AADSTS90033: A transient error
 * has occurred. Please try again."). Entra may add Retry-After to a 503 when it is too busy
 * (AzureAD/microsoft-authentication-library-for-dotnet#3907) or send none (MSAL.NET's "Client throttling"
 * page: "a 5xx with no Retry-After"): both are switchable.
 */
export interface SignInOutage {
    /** Retry-After in seconds; none when undefined (keep it 0 in tests: the SDKs wait for it). */
    readonly retryAfterSeconds?: number;
    /** Also the OpenID metadata and keys (a whole-service outage), not only the token endpoint. Default false. */
    readonly metadata?: boolean;
    /**
     * `json` (default): Entra's error body. `text`: a plain-text body ("Service Unavailable"), as a front end
     * answers and as Entra has answered 429s (MSAL.NET#2855); MSAL cannot parse it and reports network_error.
     */
    readonly body?: "json" | "text";
}

/**
 * How the authority answers a tenant it does not know (AADSTS90002). Its OpenID metadata answers 400
 * `invalid_tenant` (bodies in microsoftgraph/windowsupdates-webapplication-sample#6 and
 * james-gould/azure-keyvault-emulator#324); the token endpoint 400 `invalid_request`
 * (microsoft/azure-tools-for-java#3900, microsoftarchive/BatchAI#31). MSAL Node reads the metadata of
 * login.microsoftonline.com and the national clouds from values built in (EndpointMetadata in
 * @azure/msal-common), so there the token endpoint is the first to answer: `metadata: "served"` reproduces that.
 */
export interface UnknownTenantAnswers {
    /** `refused` (default): 400 invalid_tenant; `served`: metadata as for a known tenant, so the token endpoint answers. */
    readonly metadata?: "refused" | "served";
    /** The token endpoint's OAuth error: `invalid_request` (default, as observed) or `invalid_tenant`. */
    readonly tokenError?: "invalid_request" | "invalid_tenant";
}

/**
 * How Graph answers `$expand=federatedIdentityCredentials` on the list of applications: by default as the
 * application resource documents it (expanded); `ignored`: a 200 without the relationship; `refused`: a 400
 * with Graph's error body. Microsoft's "Use query parameters" page shows a refused expansion as 400
 * `ExpandNotSupported` "Expand is not allowed for property 'Photo' according to the entity schema."; other
 * refusals of $expand carry `Request_UnsupportedQuery`, `BadRequest` or `Request_BadRequest`: `code` picks one.
 */
export type FederatedExpansion = { readonly mode: "ignored" } | { readonly mode: "refused"; readonly code?: string; readonly message?: string };

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
    /** Every token request (and with `metadata`, every metadata request) answered 503 temporarily_unavailable. */
    readonly signInOutage?: SignInOutage;
    /** How tenants the state does not hold are answered. */
    readonly unknownTenant?: UnknownTenantAnswers;
    /** How Graph answers `$expand=federatedIdentityCredentials` on the application list. */
    readonly federatedExpansion?: FederatedExpansion;
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
        this.set({ latencyMs: undefined, throttle: undefined, serverError: undefined, replication: undefined, signInOutage: undefined, unknownTenant: undefined, federatedExpansion: undefined }, 0);
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
