import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { expectExit, median, note, repoRoot, runNode, tsxLoader, writePreload } from "./measure";
import { emulatorTrust } from "./status";
import { count, markdownTable, megabytes, met, ratio, seconds } from "./table";

/**
 * `rotor import` of a portal-shaped tenant of thousands of applications, against its floor: the same Graph
 * requests through the same client (application pages of 999, the per-application reads in JSON batches of six
 * applications, eight batches in flight, the APIs' service principals once each), with every answer dropped.
 * What import adds to reading the tenant (compacting each page, mapping each application to config, checking
 * every entry with the model, rendering the stack file and the report) should stay within `target` times that.
 *
 * Two sources of the same answers: the emulator itself (the target's row), and the same answers replayed from
 * memory (a reference row): the emulator answers on the benchmark's event loop and does real work per request
 * (a token check per inner request of a batch, a filter over every grant of the tenant), which both sides pay;
 * from memory, the floor is the client's own work and the ratio shows all of import's.
 *
 * Standalone: `npx tsx bench/import.ts [--runs N] [--apps N] [--latency-ms N] [--skip-replay]` prints the rows;
 * `npm run bench` (bench/run.ts) adds them to the performance table. The measures run in a child process
 * (bench/importChild.ts) that trusts the emulator's CA from start-up.
 */

export const target = 2;

export interface ImportChildOptions {
    readonly applications: number;
    /** Client secrets per application, besides what the portal shape adds. */
    readonly secrets: number;
    /** Batches in flight: cli/adopt/read.ts's default. */
    readonly concurrency: number;
    /** Added to every answer of the emulator; 0 (the default) leaves only the machine's own work to compare. */
    readonly latencyMs: number;
    /** Rounds counted, after one warm-up round (per source). */
    readonly runs: number;
    /** Also measure both against Graph's answers replayed from memory. */
    readonly replay: boolean;
}

export interface ImportTiming {
    readonly importMs: number;
    readonly floorMs: number;
    readonly ratio: number;
    /** Per run, the same for both: requests on the wire (and, from the emulator, inside JSON batches). */
    readonly requests: number;
    readonly byRoute: Record<string, number>;
    /** Medians of the largest heap growth seen in each run. */
    readonly importHeapGrowthBytes: number;
    readonly floorHeapGrowthBytes: number;
    /** The warm-up round (loading the command's modules and the Azure SDKs; for the replay, recording). */
    readonly first: { readonly importMs: number; readonly floorMs: number };
}

export interface ImportFigures {
    readonly options: ImportChildOptions;
    readonly tenantApplications: number;
    readonly emulator: ImportTiming & { readonly batched: number };
    readonly replay?: ImportTiming & { readonly recordedBytes: number };
    readonly imported: number;
    readonly leftOut: number;
    readonly stackBytes: number;
    readonly reportBytes: number;
    /** The child's peak RSS: the emulator and its tenant (and the replay's answers) included. */
    readonly maxRssBytes: number | undefined;
}

interface Round {
    readonly mode: "emulator" | "replay";
    readonly round: number;
    readonly importMs: number;
    readonly floorMs: number;
    readonly importHeapGrowthBytes: number;
    readonly floorHeapGrowthBytes: number;
    readonly requests: number;
    readonly batched: number;
    readonly byRoute: Record<string, number>;
    readonly totals: { readonly listed: number; readonly read: number; readonly imported: number; readonly leftOut: number };
    readonly stackBytes: number;
    readonly reportBytes: number;
}

export const defaultImportOptions: ImportChildOptions = { applications: 5_000, secrets: 2, concurrency: 8, latencyMs: 0, runs: 5, replay: true };

function timing(all: readonly Round[], mode: Round["mode"], runs: number): ImportTiming & { readonly last: Round } {
    const mine = all.filter((r) => r.mode === mode);
    const rounds = mine.filter((r) => r.round > 0);
    const warmUp = mine.find((r) => r.round === 0);
    if (!warmUp || rounds.length !== runs) throw new Error(`the import benchmark reported ${rounds.length} ${mode} rounds of ${runs}`);
    const importMs = median(rounds.map((r) => r.importMs));
    const floorMs = median(rounds.map((r) => r.floorMs));
    const last = rounds[rounds.length - 1]!;
    return {
        importMs,
        floorMs,
        ratio: importMs / floorMs,
        requests: last.requests,
        byRoute: last.byRoute,
        importHeapGrowthBytes: median(rounds.map((r) => r.importHeapGrowthBytes)),
        floorHeapGrowthBytes: median(rounds.map((r) => r.floorHeapGrowthBytes)),
        first: { importMs: warmUp.importMs, floorMs: warmUp.floorMs },
        last,
    };
}

export async function measureImport(dir: string, preload: string, options: Partial<ImportChildOptions> = {}): Promise<ImportFigures> {
    const full: ImportChildOptions = { ...defaultImportOptions, ...options };
    note(
        `import: a portal-shaped tenant of ${count(full.applications)} applications, ${full.runs} rounds (import and its floor) after a warm-up${full.latencyMs ? ` at ${full.latencyMs} ms per request` : ""}${full.replay ? ", from the emulator then from memory" : ""}`,
    );
    const child = expectExit(
        await runNode([...tsxLoader, "--expose-gc", path.join(repoRoot, "bench", "importChild.ts"), JSON.stringify(full)], { preload, env: emulatorTrust(dir), keepStdout: false }),
        [0],
        "the import benchmark",
    );
    const seeded = child.reports.find((r) => r["kind"] === "seeded");
    if (!seeded) throw new Error(`the import benchmark reported nothing:\n${child.stderr}`);
    const rounds = child.reports.filter((r) => r["kind"] === "round") as unknown as Round[];
    const { last, ...emulator } = timing(rounds, "emulator", full.runs);
    const replayed = child.reports.find((r) => r["kind"] === "replayed");
    let replay: ImportFigures["replay"];
    if (full.replay) {
        if (!replayed) throw new Error(`the import benchmark did not replay:\n${child.stderr}`);
        const { last: _last, ...fromMemory } = timing(rounds, "replay", full.runs);
        replay = { ...fromMemory, recordedBytes: replayed["bytes"] as number };
    }
    return {
        options: full,
        tenantApplications: seeded["tenantApplications"] as number,
        emulator: { ...emulator, batched: last.batched },
        ...(replay ? { replay } : {}),
        imported: last.totals.imported,
        leftOut: last.totals.leftOut,
        stackBytes: last.stackBytes,
        reportBytes: last.reportBytes,
        maxRssBytes: child.maxRssBytes,
    };
}

/** Rows for the performance table: what, measure, result, target, status. */
export function importRows(f: ImportFigures): string[][] {
    const e = f.emulator;
    const sum = (prefix: string) => Object.entries(e.byRoute).reduce((n, [route, k]) => (route.startsWith(prefix) ? n + k : n), 0);
    const batches = e.byRoute["graph POST /v1.0/$batch"] ?? 0;
    // byRoute counts a batch's inner requests under their own routes, besides the batch itself.
    const otherGraph = sum("graph") - batches - e.batched;
    const rows = [
        [
            `\`rotor import\`, ${count(f.options.applications)} portal-made apps, from the emulator${f.options.latencyMs ? ` at ${f.options.latencyMs} ms per request` : ""}`,
            "wall time (read, map, check with the model, write the stack file, print the JSON report) vs the floor: the same Graph requests through the same client, answers dropped; heap growth",
            `**${seconds(e.importMs)}** vs ${seconds(e.floorMs)}: **${ratio(e.ratio)}**; ${count(e.requests)} requests each (${count(batches)} JSON batches of ${count(e.batched)} reads, ${count(otherGraph)} other Graph, ${sum("login")} sign-in); ${count(f.imported)} imported, ${count(f.leftOut)} left out; heap growth **${megabytes(e.importHeapGrowthBytes)}** (floor ${megabytes(e.floorHeapGrowthBytes)})`,
            `<= ${target}x`,
            met(e.ratio <= target),
        ],
    ];
    if (f.replay) {
        const r = f.replay;
        rows.push([
            "the same, Graph's answers replayed from memory",
            `wall time vs the same floor, neither paying the emulator's work (${megabytes(r.recordedBytes)} of answers, sign-in still from the emulator); rotor's own time`,
            `${seconds(r.importMs)} vs ${seconds(r.floorMs)}: ${ratio(r.ratio)}; import's own work ${seconds(r.importMs - r.floorMs)} (from the emulator: ${seconds(e.importMs - e.floorMs)})`,
            "reference",
            "-",
        ]);
    }
    return rows;
}

/** The note under the table: how the rows were measured. */
export function importNote(f: ImportFigures): string {
    const rounds = `${f.options.runs} ${f.options.runs === 1 ? "round" : "rounds"}`;
    return [
        `\`rotor import\`: a tenant as the portal leaves one (test/support/emulator/portalTenant.ts: redirect URIs, Microsoft Graph permissions with tier-0 ones, consent for some, owners, federated credentials, ${f.options.secrets} client secrets each and certificates), ${count(f.tenantApplications)} applications with the operator's; the writing form with \`--format json\` (stack file ${megabytes(f.stackBytes)}, report ${megabytes(f.reportBytes)}).`,
        `The floor makes the same requests with the same paths, batch size and batches in flight, keeping only what the next request's path needs; the emulator (or the replay) counts both runs' requests by route and they must be equal every round.`,
        `Medians of ${rounds} after a warm-up per source (from the emulator: ${seconds(f.emulator.first.importMs)} vs ${seconds(f.emulator.first.floorMs)}, loading the command and the SDKs), in one process with the emulator, import and floor alternated, each run signing in anew.`,
        `From the emulator, both pay its work on the same event loop; from memory, the answers recorded in a first round are served with no token check or filtering, and a request not recorded fails the round.`,
        `Heap growth: the largest heap in use, sampled every 10 ms, less the heap after a full collection at the start; the process's peak RSS, the emulator and its tenant included: ${f.maxRssBytes === undefined ? "not reported" : megabytes(f.maxRssBytes)}.`,
    ].join(" ");
}

function whole(value: string | undefined, name: string, min: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: a whole number of at least ${min}`);
    return n;
}

async function standalone(): Promise<void> {
    const { values } = parseArgs({ options: { runs: { type: "string" }, apps: { type: "string" }, "latency-ms": { type: "string" }, "skip-replay": { type: "boolean", default: false } } });
    const runs = whole(values.runs, "--runs", 1);
    const applications = whole(values.apps, "--apps", 1);
    const latencyMs = whole(values["latency-ms"], "--latency-ms", 0);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-bench-import-"));
    try {
        const figures = await measureImport(scratch, writePreload(scratch), {
            ...(runs !== undefined ? { runs } : {}),
            ...(applications !== undefined ? { applications } : {}),
            ...(latencyMs !== undefined ? { latencyMs } : {}),
            replay: !values["skip-replay"],
        });
        process.stdout.write(`${markdownTable(["what", "measure", "result", "target", "status"], importRows(figures))}\n\n- ${importNote(figures)}\n`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

if (require.main === module) {
    standalone().catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
