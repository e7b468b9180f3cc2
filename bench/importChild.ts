import * as fs from "node:fs";
import type * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { resolveEndpoints } from "../azure/endpoints";
import { type BatchAnswer, GraphClient, importPaths } from "../azure/graph";
import { appsPerBatch } from "../cli/adopt/read";
import type { CliIo } from "../cli/io";
import { mapConcurrent } from "../cli/live/concurrency";
import { main } from "../cli/main";
import { graphCatalog } from "../infra/model/catalog";
import { projectDir } from "../test/support/cli";
import { type Emulator, startEmulator } from "../test/support/emulator";
import { readTlsMaterial, type TlsMaterial } from "../test/support/emulator/certificates";
import { tlsDirVariable } from "../test/support/emulator/tls";
import type { ImportChildOptions } from "./import";
import { report } from "./measure";

/**
 * `rotor import` against the local emulator's portal-shaped tenant, against its floor: the same Graph requests
 * through the same GraphClient, with the same paths, batch size and batches in flight as cli/adopt/read.ts,
 * each answer dropped once the next request's path is known. Both run in this process, alternated, after one
 * warm-up of each (the first loads the command's modules and the Azure SDKs); the emulator answers on the same
 * event loop, so its work counts in both alike. Each run signs in anew with a credential of its own, as a
 * fresh `rotor` process would, and the request counts of the two must match, or the floor is not the same reads.
 *
 * The import is the writing form with `--format json`: it maps, checks every entry with the model, renders the
 * stack file and writes it, then prints the report as JSON (the most a run of the command does). The file is
 * removed after each run, outside the timing, since import never overwrites a stack.
 *
 * Then, unless `replay` is off, the same rounds with Graph's answers served from memory (GraphReplay below),
 * recorded in a first round: the emulator's own work per request (a token check per inner request, a filter
 * over the tenant's grants) leaves both sides, and the floor is the client's work alone. Sign-in still goes
 * to the emulator.
 *
 * Memory: the heap in use is sampled every 10 ms during each run (in both, alike); the growth reported is the
 * largest sample less the heap in use at the start, after a full collection (this process runs with
 * --expose-gc). The process's own peak RSS includes the emulator and its tenant, so it is reported as it is.
 *
 * Usage: node --import tsx --expose-gc bench/importChild.ts '<ImportChildOptions as JSON>'
 * (NODE_EXTRA_CA_CERTS set by bench/import.ts, as for bench/statusChild.ts)
 */

const now = new Date("2027-03-01T06:00:00Z");
const stack = "bench";

/** The identity import runs as (Directory.Read.All covers all it reads); a fresh credential, so a fresh token cache, per call. */
function operator(emulator: Emulator): () => TokenCredential {
    const app = emulator.state.addApplication({ displayName: "rotor-operator", graphPermissions: ["Directory.Read.All"] });
    const { secretText } = emulator.state.addPassword(app, { lifetimeDays: 365 });
    return () =>
        new ClientSecretCredential(emulator.tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
}

const graphAppId = graphCatalog.resourceAppId.toLowerCase();
const catalogRoleIds = new Set(Object.values(graphCatalog.application).map((entry) => entry.id.toLowerCase()));
const catalogScopeIds = new Set(Object.values(graphCatalog.delegated).map((entry) => entry.id.toLowerCase()));

interface Items {
    readonly value?: readonly Record<string, unknown>[];
    readonly "@odata.nextLink"?: string;
}

/**
 * The floor: what cli/adopt/read.ts asks Graph for, in the same order and the same windows, keeping nothing
 * but what the next request's path needs (a service principal's id, an API's id, a nextLink). No compaction,
 * no mapping, no model, no rendering. Returns the applications listed, as a check.
 */
async function readOnly(graph: GraphClient, concurrency: number): Promise<number> {
    const seen = new Set<string>();
    const api = (key: string, read: () => Promise<unknown>): Promise<unknown> | undefined => {
        if (seen.has(key)) return undefined;
        seen.add(key);
        return read();
    };
    // The rest of a paged answer, as read.ts's `collection` asks for it; the items themselves are returned for the second batch.
    const rest = async (answer: BatchAnswer): Promise<readonly Record<string, unknown>[]> => {
        if (answer.status !== 200) throw new Error(`the floor's batch answered ${answer.status}`);
        const page = answer.body as Items;
        const next = page["@odata.nextLink"];
        return next ? [...(page.value ?? []), ...(await graph.rest<Record<string, unknown>>(next))] : (page.value ?? []);
    };
    let listed = 0;
    for await (const page of graph.importApplicationPages()) {
        listed += page.length;
        const groups: (typeof page)[number][][] = [];
        for (let i = 0; i < page.length; i += appsPerBatch) groups.push(page.slice(i, i + appsPerBatch));
        await mapConcurrent(groups, concurrency, async (group) => {
            const first = await graph.batchGet(group.flatMap((app) => [importPaths.owners("applications", app.id), importPaths.servicePrincipalOf(app.appId), importPaths.federatedCredentials(app.id)]));
            const principals = (await Promise.all(first.map(rest))).filter((_, i) => i % 3 === 1).map((items) => items[0]?.["id"] as string | undefined);
            const ids = principals.filter((id): id is string => id !== undefined);
            const second = ids.length ? await graph.batchGet(ids.flatMap((id) => [importPaths.owners("servicePrincipals", id), importPaths.appRoleAssignments(id), importPaths.delegatedGrants(id)])) : [];
            const consents = (await Promise.all(second.map(rest))).filter((_, i) => i % 3 !== 0);
            // The APIs named, each read once, as read.ts's ApiCache does (Microsoft Graph's permissions from the catalog).
            const loads: (Promise<unknown> | undefined)[] = [];
            for (const app of group) {
                for (const access of app.requiredResourceAccess ?? []) {
                    const appId = access.resourceAppId.toLowerCase();
                    const needed = appId !== graphAppId || (access.resourceAccess ?? []).some((a) => !(a.type === "Role" ? catalogRoleIds : catalogScopeIds).has(a.id.toLowerCase()));
                    if (needed) loads.push(api(`app:${appId}`, () => graph.servicePrincipalByAppId(appId)));
                }
            }
            for (const items of consents) {
                for (const consent of items) {
                    const objectId = String(consent["resourceId"]).toLowerCase();
                    loads.push(api(`object:${objectId}`, () => graph.servicePrincipalById(objectId)));
                }
            }
            await Promise.all(loads);
        });
    }
    return listed;
}

/** Samples the heap in use while `work` runs; returns its time, its result and the largest growth seen. */
async function measured<T>(work: () => Promise<T>): Promise<{ ms: number; value: T; heapGrowthBytes: number }> {
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 10);
    try {
        const started = performance.now();
        const value = await work();
        const ms = performance.now() - started;
        peak = Math.max(peak, process.memoryUsage().heapUsed);
        return { ms, value, heapGrowthBytes: peak - base };
    } finally {
        clearInterval(sampler);
    }
}

function sorted(counts: Record<string, number>): string {
    return JSON.stringify(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface ImportDocument {
    readonly totals: { readonly listed: number; readonly read: number; readonly imported: number; readonly leftOut: number };
}

interface Recorded {
    readonly status: number;
    readonly contentType: string;
    readonly body: Buffer;
}

/**
 * Graph's answers from memory: an HTTPS listener on 127.0.0.1 (the emulator's certificate, so the same trust)
 * that first forwards each request to the emulator and keeps the answer, keyed by method, URL and body, with
 * the emulator's origin in page links written as its own; once frozen, it answers every request it has seen
 * from memory, with no token check, no filtering and no serialising. Reading a tenant from it costs the
 * client's own work only (TLS, HTTP, JSON.parse): the strictest floor for what import adds. A request it has
 * not seen is still forwarded, and counted as a miss.
 */
class GraphReplay {
    private readonly answers = new Map<string, Recorded>();
    private recording = true;
    private counts: Record<string, number> = {};
    misses = 0;
    bytes = 0;
    origin = "";
    private readonly server: https.Server;

    constructor(
        private readonly upstream: string,
        private readonly tls: TlsMaterial,
    ) {
        this.server = https.createServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, (req, res) => {
            this.serve(req, res).catch((error: unknown) => {
                res.statusCode = 500;
                res.end(JSON.stringify({ error: { code: "ReplayError", message: error instanceof Error ? error.message : String(error) } }));
            });
        });
    }

    async start(): Promise<void> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        this.origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    /** From now on, answers come from memory; a request not recorded is counted in `misses`. */
    freeze(): void {
        this.recording = false;
        this.misses = 0;
    }

    clear(): void {
        this.counts = {};
    }

    requests(): number {
        return Object.values(this.counts).reduce((n, k) => n + k, 0);
    }

    byRoute(): Record<string, number> {
        return { ...this.counts };
    }

    close(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        const method = req.method ?? "GET";
        const url = req.url ?? "/";
        const route = `${method} ${url.split("?")[0]}`;
        this.counts[route] = (this.counts[route] ?? 0) + 1;
        const key = `${method} ${url}\n${body.toString("utf8")}`;
        let answer = this.answers.get(key);
        if (!answer) {
            if (!this.recording) this.misses++;
            answer = await this.forward(method, url, req.headers, body);
            this.answers.set(key, answer);
            this.bytes += answer.body.length;
        }
        res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": answer.body.length });
        res.end(answer.body);
    }

    private forward(method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer): Promise<Recorded> {
        const target = new URL(url, this.upstream);
        const pass: Record<string, string> = {};
        for (const name of ["authorization", "accept", "content-type"]) {
            const value = headers[name];
            if (typeof value === "string") pass[name] = value;
        }
        return new Promise((resolve, reject) => {
            const request = https.request(target, { method, headers: { ...pass, "content-length": String(body.length) }, ca: this.tls.caCertificatePem }, (response) => {
                const parts: Buffer[] = [];
                response.on("data", (chunk: Buffer) => parts.push(chunk));
                response.on("error", reject);
                response.on("end", () => {
                    const text = Buffer.concat(parts).toString("utf8").split(new URL(this.upstream).origin).join(this.origin);
                    resolve({ status: response.statusCode ?? 500, contentType: String(response.headers["content-type"] ?? "application/json"), body: Buffer.from(text, "utf8") });
                });
            });
            request.on("error", reject);
            request.end(body);
        });
    }
}

/** Request counts of one run: what the emulator or the replay saw. */
interface Counted {
    readonly requests: number;
    readonly batched: number;
    readonly byRoute: Record<string, number>;
}

interface Source {
    readonly mode: "emulator" | "replay";
    readonly graphEndpoint: string;
    clear(): void;
    counted(): Counted;
}

async function run(options: ImportChildOptions): Promise<void> {
    const emulator = await startEmulator({ now });
    const dir = projectDir({});
    const tlsDir = process.env[tlsDirVariable];
    const replay = options.replay && tlsDir ? new GraphReplay(emulator.graphEndpoint, readTlsMaterial(tlsDir)) : undefined;
    try {
        if (!emulator.trustedByEnvironment) throw new Error("the emulator's CA is not trusted through NODE_EXTRA_CA_CERTS: start this through bench/import.ts, which sets it up");
        if (options.replay && !replay) throw new Error(`the emulator's TLS directory is not set (${tlsDirVariable}): start this through bench/import.ts`);
        const seedStarted = performance.now();
        emulator.state.generateApplications(options.applications, { portal: true, secrets: options.secrets, tenantId: emulator.tenantId });
        const credential = operator(emulator);
        const seedMs = performance.now() - seedStarted;
        if (options.latencyMs > 0) emulator.setFaults({ latencyMs: options.latencyMs });
        const tenantApplications = [...emulator.state.applications.values()].filter((app) => app.tenantId === emulator.tenantId).length;
        report({ kind: "seeded", tenantApplications, seedMs });

        const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
        const envOf = (graphEndpoint: string) => ({ AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_GRAPH_ENDPOINT: graphEndpoint, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" });

        const importOnce = async (source: Source) => {
            const out = { stdout: "", stderr: "" };
            const fresh = credential();
            const io: CliIo = {
                stdout: (text) => void (out.stdout += text),
                stderr: (text) => void (out.stderr += text),
                cwd: dir,
                now: () => now,
                env: envOf(source.graphEndpoint),
                credential: () => fresh,
            };
            source.clear();
            const { ms, value: code, heapGrowthBytes } = await measured(() => main(["import", "--stack", stack, "--format", "json"], io));
            const counted = source.counted();
            if (code !== 0) throw new Error(`rotor import exited ${code}: ${out.stderr.slice(0, 2000)}`);
            const totals = (JSON.parse(out.stdout) as ImportDocument).totals;
            const stackBytes = fs.statSync(stackFile).size;
            fs.rmSync(stackFile);
            return { ms, heapGrowthBytes, ...counted, totals, stackBytes, reportBytes: Buffer.byteLength(out.stdout) };
        };
        const floorOnce = async (source: Source) => {
            source.clear();
            const { ms, value: listed, heapGrowthBytes } = await measured(async () => {
                // What the command does before it reads: its endpoints, and a first token (rotor's signIn).
                const endpoints = resolveEndpoints({}, envOf(source.graphEndpoint));
                const fresh = credential();
                await fresh.getToken(endpoints.graphScope);
                return readOnly(new GraphClient(endpoints.graph, fresh, endpoints.graphScope), options.concurrency);
            });
            return { ms, heapGrowthBytes, listed, ...source.counted() };
        };
        /** One round: import and floor, alternating which goes first, so a drift within a round hits both alike. */
        const round = async (source: Source, index: number) => {
            const importFirst = index % 2 === 0;
            const first = importFirst ? await importOnce(source) : undefined;
            const floor = await floorOnce(source);
            const imported = first ?? (await importOnce(source));
            // Every route the same number of times, the requests inside JSON batches as well as those on the wire.
            if (imported.requests !== floor.requests || imported.batched !== floor.batched || sorted(imported.byRoute) !== sorted(floor.byRoute)) {
                throw new Error(
                    `${source.mode}: the floor made ${floor.requests} requests (${floor.batched} in batches) and rotor import ${imported.requests} (${imported.batched}): the floor is not the same reads\nimport: ${sorted(imported.byRoute)}\nfloor: ${sorted(floor.byRoute)}`,
                );
            }
            if (floor.listed !== imported.totals.listed || imported.totals.read !== imported.totals.listed) {
                throw new Error(`${source.mode}: the floor listed ${floor.listed} applications; rotor import listed ${imported.totals.listed} and read ${imported.totals.read}`);
            }
            report({
                kind: "round",
                mode: source.mode,
                round: index,
                importMs: imported.ms,
                floorMs: floor.ms,
                importHeapGrowthBytes: imported.heapGrowthBytes,
                floorHeapGrowthBytes: floor.heapGrowthBytes,
                requests: imported.requests,
                batched: imported.batched,
                byRoute: imported.byRoute,
                totals: imported.totals,
                stackBytes: imported.stackBytes,
                reportBytes: imported.reportBytes,
            });
        };

        const direct: Source = {
            mode: "emulator",
            graphEndpoint: emulator.graphEndpoint,
            clear: () => emulator.requests.clear(),
            counted: () => ({ requests: emulator.requests.count({ batched: false }), batched: emulator.requests.count({ batched: true }), byRoute: emulator.requests.byRoute() }),
        };
        // Round 0 warms both up (module loading, the SDKs, the emulator's first answers): reported, not counted.
        for (let i = 0; i <= options.runs; i++) await round(direct, i);

        if (replay) {
            await replay.start();
            // Sign-in still goes to the emulator; only Graph's answers come from memory. Batches are counted on the wire.
            const fromMemory: Source = {
                mode: "replay",
                graphEndpoint: replay.origin,
                clear: () => replay.clear(),
                counted: () => ({ requests: replay.requests(), batched: 0, byRoute: replay.byRoute() }),
            };
            // Round 0 records (through to the emulator); the rounds after it must be answered wholly from memory.
            for (let i = 0; i <= options.runs; i++) {
                if (i === 1) replay.freeze();
                await round(fromMemory, i);
                if (i > 0 && replay.misses > 0) throw new Error(`replay: ${replay.misses} requests of round ${i} were not among those recorded: the runs did not make the same reads`);
            }
            report({ kind: "replayed", bytes: replay.bytes });
        }
    } finally {
        await replay?.close();
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    run(JSON.parse(process.argv[2] ?? "{}") as ImportChildOptions).catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
