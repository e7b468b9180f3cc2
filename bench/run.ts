import * as fs from "node:fs";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type BudgetFigures, budgetRows, measureBudgets } from "./budgets";
import { type ImportFigures, importNote, importRows, measureImport } from "./import";
import { note, writePreload } from "./measure";
import { type MemoryFigures, measureOffline, measurePlan, measurePlanMemory, measureStartup, type OfflineFigures, type PlanTiming, type StartupFigures } from "./plan";
import { type FloorFigures, measureFloor, measureProgram, type ProgramFigures, projectNodeArgs } from "./program";
import { benchTempDir, writeProject } from "./stacks";
import { measureStatus, type StatusFigures } from "./status";
import { measureStatusStacks, type StatusStacksFigures } from "./statusStacks";
import { measureSummarize, type SummarizeFigures, summarizeRows } from "./summarize";
import { count, duration, kilobytes, markdownTable, megabytes, met, ratio, seconds } from "./table";

/**
 * `npm run bench`: the performance figures on this machine, as markdown tables for docs/performance.md
 * (progress goes to stderr, the tables to stdout). Not part of `npm test`: it takes several minutes, most of
 * them in the 1,000-app program under mocks, its floors, and the naive peer's 5,000 requests. Timings are
 * compared as ratios measured in the same run, since absolute times on a shared machine drift.
 *
 * Options: --runs N (plan, calendar and start-up rounds, default 7), --program-runs N (default 1 at 1,000
 * apps, 3 below), --status-runs N (default 6: the first, which loads the Azure SDKs, then the ones the
 * median is taken of), --skip-naive (leave out the two-minute naive peer), --summarize-runs N (rounds of
 * `rotor summarize` against `JSON.parse`, default 7 at 10,000 steps and 3 at 100,000), --stacks-runs N (rounds of
 * `rotor status --all-stacks` against the stacks one after another, default 3), --import-runs N (rounds of
 * `rotor import` of 5,000 apps against its floor, from the emulator and from memory, default --runs up to 5;
 * `npx tsx bench/import.ts` runs only those). --runs also sets the rounds of the time budgets that were once
 * test assertions (bench/budgets.ts; `npx tsx bench/budgets.ts` runs only those).
 */

const targets = {
    versionRatio: 2,
    planRatio: 1.5,
    planRssRatio: 1.3,
    calendarRatio: 2,
    programRatio: 3,
    programRssBytes: 1.5 * 1024 ** 3,
    statusRatio: 1.5,
    naiveSpeedup: 20,
    statusStacksRatio: 0.3,
} as const;
const sizes = [10, 100, 1_000] as const;
const memorySizes = [1_000, 5_000] as const;
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

interface Figures {
    readonly startup: StartupFigures;
    readonly offline: OfflineFigures;
    readonly smaller: readonly PlanTiming[];
    readonly memory: readonly MemoryFigures[];
    readonly programs: readonly ProgramFigures[];
    readonly floors: { readonly typed: FloorFigures; readonly plain: FloorFigures };
    readonly status: StatusFigures;
    readonly statusStacks: StatusStacksFigures;
    readonly imports: ImportFigures;
    readonly summarize: readonly SummarizeFigures[];
    readonly budgets: BudgetFigures;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string" },
            "program-runs": { type: "string" },
            "status-runs": { type: "string" },
            "skip-naive": { type: "boolean", default: false },
            "summarize-runs": { type: "string" },
            "stacks-runs": { type: "string" },
            "import-runs": { type: "string" },
        },
    });
    const runs = positive(values.runs, 7, "--runs");
    const programRuns = values["program-runs"] === undefined ? undefined : positive(values["program-runs"], 1, "--program-runs");
    const statusRuns = Math.max(2, positive(values["status-runs"], 6, "--status-runs"));
    const summarizeRuns = values["summarize-runs"] === undefined ? undefined : positive(values["summarize-runs"], 3, "--summarize-runs");
    const stacksRuns = positive(values["stacks-runs"], 3, "--stacks-runs");
    const importRuns = positive(values["import-runs"], Math.min(runs, 5), "--import-runs");
    const started = performance.now();
    const scratch = benchTempDir();
    try {
        const preload = writePreload(scratch);
        const projects = sizes.map((n) => writeProject(scratch, n));
        const largest = projects[projects.length - 1]!;

        const startup = await measureStartup(preload, runs);
        const offline = await measureOffline(largest, preload, runs);
        const smaller: PlanTiming[] = [];
        for (const project of projects.slice(0, -1)) smaller.push(await measurePlan(project, preload, runs));
        const memory: MemoryFigures[] = [];
        for (const n of memorySizes) memory.push(await measurePlanMemory(n === largest.apps ? largest : writeProject(scratch, n), preload, Math.min(runs, 5)));

        const programs: ProgramFigures[] = [];
        for (const project of projects) programs.push(await measureProgram(project, preload, programRuns ?? (project.apps >= 1_000 ? 1 : 3)));
        const program = programs[programs.length - 1]!;
        const floorRuns = programRuns ?? 1;
        const floors = { typed: await measureFloor(program, "typed", preload, floorRuns), plain: await measureFloor(program, "plain", preload, floorRuns) };

        const status = await measureStatus(scratch, preload, { applications: 5_000, secrets: 5_000, latencyMs, runs: statusRuns, naive: !values["skip-naive"] });

        const statusStacks = await measureStatusStacks(scratch, preload, { tenants: 10, appsPerTenant: 500, latencyMs, runs: stacksRuns });

        const imports = await measureImport(scratch, preload, { runs: importRuns });

        const summarize = await measureSummarize(preload, summarizeRuns === undefined ? {} : { runs: summarizeRuns });

        const budgets = await measureBudgets(preload, { runs });

        process.stdout.write(`${render({ startup, offline, smaller, memory, programs, floors, status, statusStacks, imports, summarize, budgets }, performance.now() - started)}\n`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function render(f: Figures, elapsedMs: number): string {
    const { startup, offline, smaller, memory, programs, floors, status, statusStacks, imports, summarize, budgets } = f;
    const cpus = os.cpus();
    const machine = `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${Math.round(os.totalmem() / 1024 ** 3)} GB`;
    const versionRatio = startup.versionMs / startup.nodeMs;
    const planRatio = offline.planMs / offline.yamlOnlyMs;
    const calendarRatio = offline.calendarMs / offline.planMs;
    const memoryRatios = memory.map((m) => m.planRssBytes / m.yamlOnlyRssBytes);
    const program = programs[programs.length - 1]!;
    const typedRatio = program.evaluationMs / floors.typed.evaluationMs;
    const plainRatio = program.evaluationMs / floors.plain.evaluationMs;
    const invokesFlat = programs.every((p) => p.invokes === programs[0]!.invokes);
    const naiveSpeedup = status.naive ? status.naive.ms / status.medianMs : undefined;
    const warmRuns = status.warm.length;
    const routes = status.warm[0]!.byRoute;
    const sum = (prefix: string) => Object.entries(routes).reduce((n, [route, k]) => (route.startsWith(prefix) ? n + k : n), 0);
    const requests = status.warm[0]!.requests;
    const nodeArgs = projectNodeArgs().join(" ") || "none";

    const rows: string[][] = [
        [
            "`rotor --version`",
            "wall time vs `node -e 0`, alternated",
            `${seconds(startup.versionMs)} vs ${seconds(startup.nodeMs)}: **${ratio(versionRatio)}**`,
            `<= ${targets.versionRatio}x`,
            met(versionRatio <= targets.versionRatio),
        ],
        [
            "`rotor plan`, 1,000 apps",
            `wall time vs a bare Node process parsing the same YAML (${kilobytes(offline.yamlBytes)})`,
            `${seconds(offline.planMs)} vs ${seconds(offline.yamlOnlyMs)}: **${ratio(planRatio)}**`,
            `<= ${targets.planRatio}x`,
            met(planRatio <= targets.planRatio),
        ],
        ...memory.map((m, i) => [
            `\`rotor plan\`, ${count(m.apps)} apps`,
            "peak RSS vs the same YAML-only process",
            `${megabytes(m.planRssBytes)} vs ${megabytes(m.yamlOnlyRssBytes)}: **${ratio(memoryRatios[i]!)}**`,
            `<= ${targets.planRssRatio}x`,
            met(memoryRatios[i]! <= targets.planRssRatio),
        ]),
        [
            "`rotor calendar`, 5 years, 1,000 apps",
            `wall time (${count(offline.calendarEvents)} rotations); peak RSS`,
            `${seconds(offline.calendarMs)}: **${ratio(calendarRatio)}** \`rotor plan\`; ${megabytes(offline.calendarRssBytes)}`,
            `<= ${targets.calendarRatio}x plan`,
            met(calendarRatio <= targets.calendarRatio),
        ],
        [
            "Pulumi program under mocks, 1,000 apps",
            "wall time (model, registrations, every mock answer) vs the floor: the same resources of the same provider types under the same mocks, none of the program; peak RSS",
            `**${seconds(program.evaluationMs)}** vs ${seconds(floors.typed.evaluationMs)}: **${ratio(typedRatio)}**; peak RSS **${megabytes(program.maxRssBytes)}** (floor ${megabytes(floors.typed.maxRssBytes)})`,
            `<= ${targets.programRatio}x, < ${megabytes(targets.programRssBytes)}`,
            met(typedRatio <= targets.programRatio && program.maxRssBytes < targets.programRssBytes),
        ],
        [
            "the same, against plain resources",
            "wall time vs as many `pulumi.CustomResource`s with one input (no declared outputs) under the same mocks; peak RSS",
            `${seconds(program.evaluationMs)} vs ${seconds(floors.plain.evaluationMs)}: ${ratio(plainRatio)}; floor ${megabytes(floors.plain.maxRssBytes)}`,
            "reference",
            "-",
        ],
        [
            "provider invokes per stack",
            "at 10 / 100 / 1,000 apps",
            `**${programs.map((p) => p.invokes).join(" / ")}**; ${count(program.resourcesPerApp)} resources per app (${count(program.resources)} in all)`,
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
        [
            `\`rotor status --all-stacks\`, ${statusStacks.options.tenants} tenants x ${count(statusStacks.options.appsPerTenant)} apps, ${latencyMs} ms per request`,
            `wall time vs \`rotor status --stack\` for each stack one after another (${count(statusStacks.secrets)} Key Vault secrets in ${statusStacks.options.tenants} vaults)`,
            `${seconds(statusStacks.allMs)} vs ${seconds(statusStacks.sequentialMs)}: **${ratio(statusStacks.ratio)}**; ${count(statusStacks.requests)} requests`,
            `<= ${targets.statusStacksRatio}x`,
            met(statusStacks.ratio <= targets.statusStacksRatio),
        ],
        ...importRows(imports),
        ...summarizeRows(summarize),
        ...budgetRows(budgets),
    ];
    const main = markdownTable(["what", "measure", "result", "target", "status"], rows);

    const planBySize = new Map<number, number>([...smaller.map((p): [number, number] => [p.apps, p.planMs]), [offline.apps, offline.planMs]]);
    const scale = markdownTable(
        ["apps", "`rotor plan`", "program under mocks", "resources", "invokes", "program peak RSS"],
        programs.map((p) => [count(p.apps), seconds(planBySize.get(p.apps) ?? Number.NaN), seconds(p.evaluationMs), count(p.resources), String(p.invokes), megabytes(p.maxRssBytes)]),
    );

    const notes = [
        `Medians: start-up, plan, calendar and the YAML-only peer of ${times(offline.runs, "interleaved round")} (fresh processes); peak memory of ${times(memory[0]!.runs, "round")}; the program and its floors of ${times(program.runs, "run")} at 1,000 apps, each a fresh process with the project's Node arguments (${nodeArgs}) and Node's default heap limit; status of ${times(warmRuns, "run")} after the first, in one process with the emulator (each run signs in anew); the naive peer ran once.`,
        `The program registers at most 32 apps at a time (infra/program.ts); the floors register in the same window. Against plain resources the ratio is the Node SDK's own cost of the provider classes: it makes an output, four promises and four captured stack traces per declared property, and an azuread Application declares 70.`,
        `The page chains of \`rotor status --all-apps\` run side by side: all ${count(status.tenantApplications)} applications in ${status.chains.graphApplications} Graph pages of 999, the stack's tagged applications with their federated credentials expanded in 1 page, and ${count(status.vaultSecrets)} Key Vault secrets in ${status.chains.keyVaultSecrets} pages of 25, each page needing the previous one's nextLink. The unavoidable time is the longest chain's pages x latency = ${status.chains.keyVaultSecrets} x ${latencyMs} ms; sign-in and the vault's 401 challenge add 2-3 more round trips that the ratio does not subtract. Key Vault chain as observed by the emulator (first request to last answer), in the second run: ${seconds(status.warm[0]!.keyVaultChainMs)}.`,
        `\`rotor status --all-stacks\`: one stack per tenant, each with its own vault and an operator consented in its tenant; each stack's apps have a client secret, so its vault holds three secrets per app (value, client id, tenant id) in ${Math.ceil((statusStacks.secrets / statusStacks.options.tenants) / 25)} pages of 25, the longest chain; the stacks' federated credentials come expanded with the applications (100 a page). Medians of ${times(statusStacks.options.runs, "round")} after a warm-up, sequential and all-stacks alternated, in one process with the emulator, each run signing in anew; tenants read at once: the CLI's default.`,
        importNote(imports),
        `\`rotor summarize\`: a preview deleting Key Vault secrets, three per app, each naming its app's Application; "values unmasked" previews also carry every secret's value in plain text, so the redaction guard holds one credential per step. Medians of ${times(summarize[summarize.length - 1]?.runs ?? 0, "round")} at the largest size, in one process per size, \`JSON.parse\` and the summary alternated.`,
        `The last ${budgetRows(budgets).length} rows are time budgets that were once test assertions (bench/budgets.ts): absolute, far above what each takes, to catch a change of kind (quadratic work, a catalog search, a retry loop) rather than drift. Medians of ${times(budgets.runs, "round")} in one process (a fresh emulator each round), and of ${budgets.noCredentialRuns} fresh ${budgets.noCredentialRuns === 1 ? "process" : "processes"} for \`rotor status\`.`,
        `Generated stacks: each app has a client secret, a generated certificate, two GitHub federated credentials and one application and one delegated Microsoft Graph permission; the vault is created by the stack.`,
    ];
    return [`Measured ${machine}; the bench took ${duration(elapsedMs)}.`, "", main, "", scale, "", ...notes.map((n) => `- ${n}`)].join("\n");
}

main().catch((error: unknown) => {
    note(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
});
