import type { CredentialRemoval, Service } from "./http";

/** One request as the emulator answered it. */
export interface LoggedRequest {
    readonly sequence: number;
    readonly service: Service;
    /** Vault name for Key Vault requests. */
    readonly vault?: string;
    readonly method: string;
    readonly path: string;
    /** Route name, e.g. `GET /v1.0/applications` or `POST /{tenant}/oauth2/v2.0/token`; `unmatched` for 404s of unknown paths. */
    readonly route: string;
    readonly status: number;
    /** Set when the response was an injected fault rather than the service's answer. */
    readonly fault?: "throttle" | "serverError";
    /** An inner request of a Graph $batch (the batch itself is logged too, as `POST /v1.0/$batch`). */
    readonly batched?: true;
    /** Client id the request acted as (token requests: client_id; Graph and Key Vault: the token's appid). */
    readonly caller?: string;
    /** The credential a Graph removePassword or removeKey took away. */
    readonly credentialRemoved?: CredentialRemoval;
    /** Why the emulator refused, where the answer itself does not say (a removeKey proof's failed check). */
    readonly reason?: string;
    readonly startedAtMs: number;
    readonly durationMs: number;
}

export interface RequestFilter {
    readonly service?: Service;
    readonly vault?: string;
    readonly route?: string;
    readonly method?: string;
    readonly status?: number;
    readonly caller?: string;
    readonly fault?: "throttle" | "serverError";
    /** true: only inner requests of Graph $batch; false: only requests that came over the wire. */
    readonly batched?: boolean;
    /** true: only requests that removed a credential. */
    readonly removedCredential?: boolean;
}

function matches(entry: LoggedRequest, filter: RequestFilter): boolean {
    return (
        (filter.service === undefined || entry.service === filter.service) &&
        (filter.vault === undefined || entry.vault?.toLowerCase() === filter.vault.toLowerCase()) &&
        (filter.route === undefined || entry.route === filter.route) &&
        (filter.method === undefined || entry.method === filter.method) &&
        (filter.status === undefined || entry.status === filter.status) &&
        (filter.caller === undefined || entry.caller === filter.caller) &&
        (filter.fault === undefined || entry.fault === filter.fault) &&
        (filter.batched === undefined || (entry.batched === true) === filter.batched) &&
        (filter.removedCredential === undefined || (entry.credentialRemoved !== undefined) === filter.removedCredential)
    );
}

/** Every request the emulator answered, for assertions such as "listing 5,000 apps took 6 Graph requests". */
export class RequestLog {
    private readonly list: LoggedRequest[] = [];
    private next = 0;

    get entries(): readonly LoggedRequest[] {
        return this.list;
    }

    /** The credentials Graph writes removed, in order (removePassword, removeKey; $batch ones included). */
    get credentialRemovals(): CredentialRemoval[] {
        return this.list.flatMap((entry) => (entry.credentialRemoved ? [entry.credentialRemoved] : []));
    }

    record(entry: Omit<LoggedRequest, "sequence">): LoggedRequest {
        const logged = { ...entry, sequence: ++this.next };
        this.list.push(logged);
        return logged;
    }

    count(filter: RequestFilter = {}): number {
        let n = 0;
        for (const entry of this.list) if (matches(entry, filter)) n++;
        return n;
    }

    filter(filter: RequestFilter): LoggedRequest[] {
        return this.list.filter((entry) => matches(entry, filter));
    }

    /** Request counts keyed `{service} {route}`, e.g. `graph GET /v1.0/applications`. */
    byRoute(filter: RequestFilter = {}): Record<string, number> {
        const counts: Record<string, number> = {};
        for (const entry of this.list) {
            if (!matches(entry, filter)) continue;
            const key = `${entry.service} ${entry.route}`;
            counts[key] = (counts[key] ?? 0) + 1;
        }
        return counts;
    }

    clear(): void {
        this.list.length = 0;
    }
}
