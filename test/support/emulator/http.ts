import type { IncomingHttpHeaders } from "node:http";

/**
 * The small request/response model the emulated services are written against. Handlers return a response
 * value instead of writing to a socket, so the server can log the status and apply latency uniformly.
 */

/** `arm`: Azure Resource Manager (management.azure.com), see arm.ts. */
export type Service = "login" | "graph" | "keyVault" | "arm";

export interface EmulatorRequest {
    readonly method: string;
    readonly url: URL;
    /** Decoded path without the query. */
    readonly path: string;
    readonly query: URLSearchParams;
    readonly headers: IncomingHttpHeaders;
    readonly body: Buffer;
}

export interface EmulatorResponse {
    readonly status: number;
    readonly headers?: Record<string, string>;
    /** Serialized as JSON unless a string. */
    readonly body?: unknown;
    /** The client id the request acted as, for the request log (never sent). */
    readonly caller?: string;
    /** What the request changed, or why it was refused, for the request log (never sent). */
    readonly log?: ResponseLogDetails;
}

/** A credential a write took away (Graph's removePassword and removeKey). */
export interface CredentialRemoval {
    readonly kind: "password" | "key";
    /** The application's object id. */
    readonly applicationId: string;
    readonly appId: string;
    readonly keyId: string;
}

export interface ResponseLogDetails {
    readonly credentialRemoved?: CredentialRemoval;
    /** Why the emulator refused, when the service's own answer does not say (e.g. which check a removeKey proof failed). */
    readonly reason?: string;
}

export interface MatchedRoute<Context> {
    /** Stable route name for the request log and fault scoping, e.g. `GET /v1.0/applications`. */
    readonly id: string;
    readonly params: Readonly<Record<string, string>>;
    readonly handle: (context: Context) => EmulatorResponse | Promise<EmulatorResponse>;
}

export interface Route<Context> {
    readonly id: string;
    readonly method: string;
    /** Named groups become params; matched against the decoded path. */
    readonly pattern: RegExp;
    readonly handle: (context: Context, params: Readonly<Record<string, string>>) => EmulatorResponse | Promise<EmulatorResponse>;
}

export function matchRoute<Context>(routes: readonly Route<Context>[], request: EmulatorRequest): MatchedRoute<Context> | undefined {
    for (const route of routes) {
        if (route.method !== request.method) continue;
        const match = route.pattern.exec(request.path);
        if (!match) continue;
        const params: Record<string, string> = { ...(match.groups ?? {}) };
        return { id: route.id, params, handle: (context) => route.handle(context, params) };
    }
    return undefined;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse {
    return { status, body, headers };
}

export function bearerToken(request: EmulatorRequest): string | undefined {
    const header = request.headers.authorization;
    if (!header) return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1];
}

export function headerValue(request: EmulatorRequest, name: string): string | undefined {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
}

export function parseJsonBody(request: EmulatorRequest): unknown {
    if (request.body.length === 0) return undefined;
    try {
        return JSON.parse(request.body.toString("utf8")) as unknown;
    } catch {
        return undefined;
    }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Seconds since the epoch, Key Vault's and JWT's unit. */
export function epochSeconds(date: Date): number {
    return Math.floor(date.getTime() / 1000);
}
