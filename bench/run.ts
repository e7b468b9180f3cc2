import * as fs from "node:fs";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { note, writePreload } from "./measure";
import { measureOffline, measurePlan, type OfflineFigures, type PlanTiming } from "./plan";
import { measureProgram, type ProgramFigures } from "./program";
import { benchTempDir, writeProject } from "./stacks";
import { measureStatus, type StatusFigures } from "./status";
import { count, duration, kilobytes, markdownTable, megabytes, met, ratio, seconds } from "./table";

/**
 * `npm run bench`: the figures of issue 6 on this machine, as one markdown table for the README's
 * performance section (progress goes to stderr, the table to stdout). Not part of `npm test`: it takes
 * several minutes, most of them in the 1,000-app program under mocks and the naive peer's 5,000 requests.
 *
 * Options: --runs N (plan and calendar rounds, default 5), --program-runs N (default 3),
 * --status-runs N (default 6: the first, which loads the Azure SDKs, then the ones the median is taken of),
 * --skip-naive (leave out the two-minute naive peer).
 */

const targets = { planRatio: 2, planRssBytes: 256 * 1024 * 1024, calendarRatio: 2, statusRatio: 1.5, naiveSpeedup: 20 } as const;
const sizes = [10, 100, 1_000] as const;
const latencyMs = 20;

function times(n: number, what: string): string {
    return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function positive(value: string | undefined, fallback: number, name: string): number {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a whole number of at least 1`);
    return n;
}

/**
 * The program child's heap limit. A 1,000-app stack peaks far above Node's default limit under mocks (every
 * registration is in flight at once); three quarters of the machine's memory, at most 16 GB, lets it finish.
 */
function programHeapMb(): number {
    return Math.min(16_384, Math.floor((os.totalmem() / 1024 / 1024) * 0.75));
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string" },
            "program-runs": { type: "string" },
            "status-runs": { type: "string" },
            "skip-naive": { type: "boolean", default: false },
        },
    });
    const runs = positive(values.runs, 5, "--runs");
    const programRuns = positive(values["program-runs"], 3, "--program-runs");
    const statusRuns = Math.max(2, positive(values["status-runs"], 6, "--status-runs"));
    const started = performance.now();
    const scratch = benchTempDir();
    try {
        const preload = writePreload(scratch);
        const projects = sizes.map((n) => writeProject(scratch, n));
        const largest = projects[projects.length - 1]!;

        const offline = await measureOffline(largest, preload, scratch, runs);
        const smaller: PlanTiming[] = [];
        for (const project of projects.slice(0, -1)) smaller.push(await measurePlan(project, preload, runs));

        const heapMb = programHeapMb();
        const programs: ProgramFigures[] = [];
        for (const project of projects) programs.push(await measureProgram(project, preload, programRuns, heapMb));

        const status = await measureStatus(scratch, preload, { applications: 5_000, secrets: 5_000, latencyMs, runs: statusRuns, naive: !values["skip-naive"] });

        process.stdout.write(`${render(offline, smaller, programs, status, heapMb, performance.now() - started)}\n`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function render(offline: OfflineFigures, smaller: readonly PlanTiming[], programs: readonly ProgramFigures[], status: StatusFigures, heapMb: number, elapsedMs: number): string {
    const cpus = os.cpus();
    const machine = `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${Math.round(os.totalmem() / 1024 ** 3)} GB`;
    const planRatio = offline.planMs / offline.yamlOnlyMs;
    const calendarRatio = offline.calendarMs / offline.planMs;
    const program = programs[programs.length - 1]!;
    const invokesFlat = programs.every((p) => p.invokes === programs[0]!.invokes);
    const naiveSpeedup = status.naive ? status.naive.ms / status.medianMs : undefined;
    const warmRuns = status.warm.length;
    const routes = status.warm[0]!.byRoute;
    const sum = (prefix: string) => Object.entries(routes).reduce((n, [route, k]) => (route.startsWith(prefix) ? n + k : n), 0);
    const requests = status.warm[0]!.requests;

    const rows: string[][] = [
        [
            "`rotor plan`, 1,000 apps",
            `wall time vs a bare Node process parsing the same YAML (${kilobytes(offline.yamlBytes)}); peak RSS`,
            `${seconds(offline.planMs)} vs ${seconds(offline.yamlOnlyMs)}: **${ratio(planRatio)}**; **${megabytes(offline.planRssBytes)}** (YAML only: ${megabytes(offline.yamlOnlyRssBytes)}); cold, empty tsx cache: ${seconds(offline.planColdMs)}`,
            `<= ${targets.planRatio}x, <= 256 MB`,
            met(planRatio <= targets.planRatio && offline.planRssBytes <= targets.planRssBytes),
        ],
        [
            "`rotor calendar`, 5 years, 1,000 apps",
            `wall time (${count(offline.calendarEvents)} rotations); peak RSS`,
            `${seconds(offline.calendarMs)}: **${ratio(calendarRatio)}** \`rotor plan\`; ${megabytes(offline.calendarRssBytes)}`,
            `<= ${targets.calendarRatio}x plan`,
            met(calendarRatio <= targets.calendarRatio),
        ],
        [
            "Pulumi program under mocks, 1,000 apps",
            "wall time (model, registrations, every mock answer); resources per app; provider invokes per stack at 10 / 100 / 1,000 apps",
            `**${seconds(program.evaluationMs)}** (process ${seconds(program.processMs)}, peak RSS ${megabytes(program.maxRssBytes)}); ${count(program.resourcesPerApp)} resources per app (${count(program.resources)} in all); **${programs.map((p) => p.invokes).join(" / ")}** invokes`,
            "invokes do not grow with apps",
            met(invokesFlat),
        ],
        [
            "`rotor status --all-apps`, 5,000 apps + 5,000 secrets, 20 ms per request",
            `wall time; requests; ratio to the longest sequential page chain (${status.chains.keyVaultSecrets} Key Vault pages x ${latencyMs} ms = ${seconds(status.unavoidableMs)})`,
            `**${seconds(status.medianMs)}**; ${count(requests)} requests (${sum("keyVault")} Key Vault, ${sum("graph")} Graph, ${sum("login")} sign-in); **${ratio(status.ratio)}**; first run, loading the Azure SDKs: ${seconds(status.first.ms)}`,
            `<= ${targets.statusRatio}x`,
            met(status.ratio <= targets.statusRatio),
        ],
        status.naive
            ? [
                  "the same scan the naive way: list ids, then one `GET /applications/{id}` per app, sequentially (1 run)",
                  "wall time; requests",
                  `${seconds(status.naive.ms)}; ${count(status.naive.requests)} requests; ours **${ratio(naiveSpeedup!)}** faster`,
                  `ours >= ${targets.naiveSpeedup}x faster`,
                  met(naiveSpeedup! >= targets.naiveSpeedup),
              ]
            : ["the naive scan", "skipped (--skip-naive)", "-", `ours >= ${targets.naiveSpeedup}x faster`, "-"],
    ];
    const main = markdownTable(["what", "measure", "result", "target", "status"], rows);

    const planBySize = new Map<number, number>([...smaller.map((p): [number, number] => [p.apps, p.planMs]), [offline.apps, offline.planMs]]);
    const scale = markdownTable(
        ["apps", "`rotor plan`", "program under mocks", "resources", "invokes", "program peak RSS"],
        programs.map((p) => [count(p.apps), seconds(planBySize.get(p.apps) ?? Number.NaN), seconds(p.evaluationMs), count(p.resources), String(p.invokes), megabytes(p.maxRssBytes)]),
    );

    // This process runs with Node's default flags, so its limit is the one a plain `node` would have.
    const defaultHeap = getHeapStatistics().heap_size_limit;
    const notes = [
        `Medians: plan, calendar and the YAML-only peer of ${times(offline.runs, "interleaved round")} (fresh processes, warm tsx cache); the program of ${times(program.runs, "run")} per size, each a fresh process, with --max-old-space-size=${heapMb} (Node's default heap limit here is ${megabytes(defaultHeap)}${program.maxRssBytes > defaultHeap ? ", below the 1,000-app peak" : ""}); status of ${times(warmRuns, "run")} after the first, in one process with the emulator (each run signs in anew); the naive peer ran once.`,
        `The page chains of \`rotor status --all-apps\` run side by side: all ${count(status.tenantApplications)} applications in ${status.chains.graphApplications} Graph pages of 999, the stack's tagged applications in 1 page then their federated credentials in parallel (2 in a row), and ${count(status.vaultSecrets)} Key Vault secrets in ${status.chains.keyVaultSecrets} pages of 25, each page needing the previous one's nextLink. The unavoidable time is the longest chain's pages x latency = ${status.chains.keyVaultSecrets} x ${latencyMs} ms; sign-in and the vault's 401 challenge add 2-3 more round trips that the ratio does not subtract. Key Vault chain as observed by the emulator (first request to last answer), in the second run: ${seconds(status.warm[0]!.keyVaultChainMs)}.`,
        `Generated stacks: each app has a client secret, a generated certificate, two GitHub federated credentials and one application and one delegated Microsoft Graph permission; the vault is created by the stack.`,
    ];
    return [`Measured ${machine}; the bench took ${duration(elapsedMs)}.`, "", main, "", scale, "", ...notes.map((n) => `- ${n}`)].join("\n");
}

main().catch((error: unknown) => {
    note(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
});
