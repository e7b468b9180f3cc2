import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { armFault, armRoutes, armUnmatched } from "./arm";
import type { TlsMaterial } from "./certificates";
import type { EmulatorEnvironment, HandlerContext } from "./environment";
import type { FaultController } from "./faults";
import { graphFault, graphRoutes, graphUnmatched } from "./graph";
import { signInLogRoutes } from "./signInLogs";
import { type EmulatorRequest, type EmulatorResponse, type MatchedRoute, type Service, matchRoute } from "./http";
import { type KeyVaultContext, keyVaultFault, keyVaultRoutes, keyVaultUnmatched } from "./keyVault";
import type { RequestLog } from "./requestLog";
import type { Vault } from "./state";
import { aadErrorResponse, loginFault, loginRoutes } from "./token";

/**
 * The HTTPS listeners: one for the Entra authority, one for Microsoft Graph, one for Azure Resource Manager,
 * one per Key Vault (a vault is its host:port, see keyVault.ts). Each request is routed, delayed, possibly answered with an injected fault,
 * handled, and logged.
 */

interface Listener {
    readonly server: https.Server;
    readonly url: string;
}

async function listen(tls: TlsMaterial, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listener> {
    const server = https.createServer({ key: tls.privateKeyPem, cert: tls.certificatePem }, handler);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    return { server, url: `https://127.0.0.1:${port}` };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
}

function toRequest(req: IncomingMessage, body: Buffer, base: string): EmulatorRequest {
    const url = new URL(req.url ?? "/", base);
    let path = url.pathname;
    try {
        // Graph clients may percent-encode the quotes and parentheses of `(appId='...')`.
        path = decodeURI(url.pathname);
    } catch {
        // keep the raw path; no route will match it
    }
    return { method: (req.method ?? "GET").toUpperCase(), url, path, query: url.searchParams, headers: req.headers, body };
}

function write(res: ServerResponse, response: EmulatorResponse): void {
    const headers: Record<string, string> = { ...(response.headers ?? {}) };
    let payload: string | undefined;
    if (response.body !== undefined) {
        payload = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
            headers["content-type"] = typeof response.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
        }
    }
    res.writeHead(response.status, headers);
    res.end(payload);
}

interface ServiceDefinition<Context extends HandlerContext> {
    match(request: EmulatorRequest): MatchedRoute<Context> | undefined;
    context(request: EmulatorRequest): Context;
    fault(context: Context, status: number, retryAfterSeconds: number | undefined): EmulatorResponse;
    unmatched(context: Context): EmulatorResponse;
}

export interface EmulatorServerOptions {
    readonly tls: TlsMaterial;
    readonly faults: FaultController;
    readonly requests: RequestLog;
    /** Builds the environment once the listeners' URLs are known. */
    readonly environment: (urls: { readonly authorityHost: string; readonly graphEndpoint: string; readonly managementEndpoint: string; keyVaultUrl(name: string): string }) => EmulatorEnvironment;
}

export class EmulatorServer {
    private login?: Listener;
    private graph?: Listener;
    private arm?: Listener;
    private readonly vaults = new Map<string, Listener>();
    private env?: EmulatorEnvironment;

    constructor(private readonly options: EmulatorServerOptions) {}

    get environment(): EmulatorEnvironment {
        if (!this.env) throw new Error("the emulator is not started");
        return this.env;
    }

    async start(): Promise<void> {
        // The listeners exist before the environment that names them; handlers only run after start().
        this.login = await listen(this.options.tls, (req, res) => void this.serve(req, res, "login", this.loginService()));
        this.graph = await listen(this.options.tls, (req, res) => void this.serve(req, res, "graph", this.graphService()));
        this.arm = await listen(this.options.tls, (req, res) => void this.serve(req, res, "arm", this.armService()));
        this.env = this.options.environment({
            authorityHost: this.login.url,
            graphEndpoint: this.graph.url,
            managementEndpoint: this.arm.url,
            keyVaultUrl: (name) => this.keyVaultUrl(name),
        });
        for (const vault of this.env.state.vaults.values()) await this.openVault(vault);
    }

    keyVaultUrl(name: string): string {
        const listener = this.vaults.get(name.toLowerCase());
        if (!listener) {
            throw new Error(`the emulator serves no vault "${name}": add it to the state before startEmulator, or with await emulator.addVault("${name}")`);
        }
        return listener.url;
    }

    async openVault(vault: Vault): Promise<string> {
        const key = vault.name.toLowerCase();
        const existing = this.vaults.get(key);
        if (existing) return existing.url;
        const listener = await listen(this.options.tls, (req, res) => void this.serve(req, res, "keyVault", this.keyVaultService(vault, key), vault.name));
        this.vaults.set(key, listener);
        return listener.url;
    }

    async close(): Promise<void> {
        const listeners = [this.login, this.graph, this.arm, ...this.vaults.values()].filter((l): l is Listener => l !== undefined);
        await Promise.all(
            listeners.map(async ({ server }) => {
                const closed = once(server, "close");
                server.close();
                // The SDKs keep connections alive; without this close() would wait for their idle timeout.
                server.closeAllConnections();
                await closed;
            }),
        );
        this.vaults.clear();
    }

    private loginService(): ServiceDefinition<HandlerContext> {
        return {
            match: (request) => matchRoute(loginRoutes, request),
            context: (request) => ({ env: this.environment, request }),
            fault: (context, status, retryAfter) => loginFault(context, status, retryAfter),
            unmatched: (context) =>
                aadErrorResponse(context, { status: 404, error: "invalid_request", code: 900561, message: `The endpoint ${context.request.method} ${context.request.path} is not emulated by entra-rotor.` }),
        };
    }

    private graphService(): ServiceDefinition<HandlerContext> {
        return {
            match: (request) => matchRoute(graphRoutes, request) ?? matchRoute(signInLogRoutes, request),
            context: (request) => ({ env: this.environment, request }),
            fault: (context, status, retryAfter) => graphFault(context, status, retryAfter),
            unmatched: (context) => graphUnmatched(context),
        };
    }

    private armService(): ServiceDefinition<HandlerContext> {
        return {
            match: (request) => matchRoute(armRoutes, request),
            context: (request) => ({ env: this.environment, request }),
            fault: (context, status, retryAfter) => armFault(context, status, retryAfter),
            unmatched: (context) => armUnmatched(context),
        };
    }

    private keyVaultService(vault: Vault, key: string): ServiceDefinition<KeyVaultContext> {
        return {
            match: (request) => matchRoute(keyVaultRoutes, request),
            context: (request) => ({ env: this.environment, request, vault, vaultUrl: this.vaults.get(key)?.url ?? "" }),
            fault: (_context, status, retryAfter) => keyVaultFault(status, retryAfter),
            unmatched: (context) => keyVaultUnmatched(context),
        };
    }

    private baseUrl(service: Service, vault: string | undefined): string | undefined {
        switch (service) {
            case "login":
                return this.login?.url;
            case "graph":
                return this.graph?.url;
            case "arm":
                return this.arm?.url;
            case "keyVault":
                return this.vaults.get((vault ?? "").toLowerCase())?.url;
        }
    }

    private async serve<Context extends HandlerContext>(req: IncomingMessage, res: ServerResponse, service: Service, definition: ServiceDefinition<Context>, vault?: string): Promise<void> {
        const startedAtMs = Date.now();
        const base = this.baseUrl(service, vault);
        let route = "unmatched";
        let response: EmulatorResponse;
        let fault: "throttle" | "serverError" | undefined;
        try {
            const request = toRequest(req, await readBody(req), base ?? "https://127.0.0.1");
            const matched = definition.match(request);
            route = matched?.id ?? "unmatched";
            const context = definition.context(request);
            const latency = this.options.faults.latency(service);
            if (latency > 0) await sleep(latency);
            const decision = this.options.faults.decide(service, route);
            if (decision) {
                fault = decision.kind;
                response = definition.fault(context, decision.kind === "throttle" ? 429 : decision.status, decision.retryAfterSeconds);
            } else {
                response = matched ? await matched.handle(context) : definition.unmatched(context);
            }
        } catch (error) {
            // A bug in the emulator, not a simulated failure: say so loudly.
            const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
            process.stderr.write(`entra-rotor emulator: ${service} ${req.method} ${req.url} failed: ${message}\n`);
            response = { status: 500, body: { error: { code: "EmulatorError", message } } };
        }
        if (!res.destroyed) write(res, response);
        this.options.requests.record({
            service,
            ...(vault ? { vault } : {}),
            method: (req.method ?? "GET").toUpperCase(),
            path: (req.url ?? "/").split("?")[0] ?? "/",
            route,
            status: response.status,
            ...(fault ? { fault } : {}),
            ...(response.caller ? { caller: response.caller } : {}),
            ...(response.log?.credentialRemoved ? { credentialRemoved: response.log.credentialRemoved } : {}),
            ...(response.log?.reason ? { reason: response.log.reason } : {}),
            startedAtMs,
            durationMs: Date.now() - startedAtMs,
        });
    }
}
