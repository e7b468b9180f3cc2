import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { renderGantt, type GanttCredential } from "../cli/review/renderGantt";
import { buildModel } from "../infra/model/model";
import { phaseDays, rotationEvents } from "../rotation/schedule";
import { startEmulator } from "../test/support/emulator";
import { expectExit, median, note, repoRoot, report, runNode, tsxLoader, writePreload } from "./measure";
import { count, markdownTable, met, seconds } from "./table";

/**
 * Time budgets that were once assertions in the tests ("takes less than X ms"), where a shared, noisy
 * machine made them flaky; the tests keep what the code must do, this measures how long it takes:
 *
 * - the schedule's rotations of 1,000 credentials over five years (`rotation/schedule.ts`, rotationEvents);
 * - a Mermaid chart of 5,000 daily-rotating credentials over 100 years, which must count generations, not
 *   draw them one by one (`cli/review/renderGantt.ts`);
 * - a stack config with a 200,000-character permission name, refused at once rather than searched for in
 *   the catalog (`infra/model`);
 * - the local Azure emulator seeding 5,000 applications and 5,000 secrets (test/support/emulator: what the
 *   tests at tenant scale and this bench's status rows start from);
 * - `rotor status` with no credential at all: one line saying how to sign in, well within the sign-in
 *   deadline (10 s, docs/commands.md), not after the managed identity endpoint's retries.
 *
 * Absolute budgets, each far above what it takes: they catch a change of kind (quadratic, a catalog search,
 * a retry loop), not drift. Standalone: `npx tsx bench/budgets.ts [--runs N]` prints these rows; `npm run
 * bench` (bench/run.ts) adds them to the performance table. The in-process rows run in a child of their own.
 */

export const budgets = { eventsMs: 1_000, ganttMs: 1_000, longNameMs: 1_000, seedingMs: 5_000, noCredentialMs: 10_000 } as const;

export interface BudgetFigures {
    /** Rounds of each in-process measure (medians), and of the no-credential process. */
    readonly runs: number;
    readonly noCredentialRuns: number;
    readonly events: { readonly ms: number; readonly rotations: number };
    readonly gantt: { readonly ms: number; readonly shown: number; readonly total: number };
    readonly longName: { readonly ms: number; readonly plainMs: number };
    readonly seeding: { readonly ms: number };
    readonly noCredential: { readonly ms: number };
}

const now = new Date("2026-11-30T06:00:00Z");

/** Milliseconds to a tenth below 10 ms, where these measures mostly are. */
function ms(value: number): string {
    return value < 10 ? `${value.toFixed(1)} ms` : seconds(value);
}

/** A budget as written: whole seconds. */
function budget(value: number): string {
    return `< ${value / 1_000} s`;
}

function timed<T>(work: () => T): { ms: number; value: T } {
    const started = performance.now();
    const value = work();
    return { ms: performance.now() - started, value };
}

function eventsOnce(): number {
    const from = new Date("2025-01-01T00:00:00Z");
    const to = new Date("2030-01-01T00:00:00Z");
    const policy = { rotateEveryDays: 90, lifetimeDays: 210, epoch: "2024-01-01T00:00:00Z" };
    let total = 0;
    for (let i = 0; i < 1_000; i++) total += rotationEvents(from, to, policy, phaseDays(`prod/app-${i}/secret`, 90)).length;
    return total;
}

const ganttCredentials: GanttCredential[] = Array.from({ length: 5_000 }, (_, i) => ({
    app: `a${String(i).padStart(4, "0")}`.padEnd(40, "x"),
    credential: "c".padEnd(32, "y"),
    label: "before",
    policy: { rotateEveryDays: 1, lifetimeDays: 9, epoch: "2024-01-01T00:00:00Z" },
    phase: 0,
    marks: [{ name: "this change replaces both slots", at: Date.parse("2027-01-01T00:00:00Z"), crit: true }],
}));

function ganttOnce() {
    return renderGantt({ title: "t", from: new Date("2027-01-01T00:00:00Z"), to: new Date("2127-01-01T00:00:00Z"), credentials: ganttCredentials }).generations;
}

/** The config of test/hostile.config.test.ts: one app asking for an application permission named `name`. */
function configWith(name: string) {
    const values = { apps: [{ name: "legacy-app", displayName: "Legacy App", permissions: [{ api: "Microsoft Graph", application: [name] }] }] };
    return buildModel({ project: "entra-rotor", stack: "dev", values, source: "Pulumi.dev.yaml", baseDir: os.tmpdir() }, now);
}

async function seedOnce(): Promise<number> {
    const emulator = await startEmulator({ now });
    try {
        const started = performance.now();
        emulator.state.generateApplications(5_000, { prefix: "bench", graphPermissions: [] });
        await emulator.addVault("kv-bench");
        emulator.state.generateSecrets("kv-bench", 5_000, { tags: (i) => ({ "rotor-app": `bench-${i}` }) });
        return performance.now() - started;
    } finally {
        await emulator.close();
    }
}

/** In the child: one warm-up of each, then `runs` rounds; medians. */
async function measureHere(runs: number): Promise<Omit<BudgetFigures, "noCredential" | "noCredentialRuns">> {
    const longName = `Mail.Send${"x".repeat(200_000)}`;
    const refused = configWith(longName);
    if (refused.model || !refused.issues.some((issue) => issue.message.includes("longer than any entra-rotor setting"))) throw new Error("the long permission name was not refused for its length");
    if (!configWith("Mail.Send").model) throw new Error("the plain config was refused");
    const rotations = eventsOnce();
    const generations = ganttOnce();
    await seedOnce();
    const events: number[] = [];
    const gantt: number[] = [];
    const long: number[] = [];
    const plain: number[] = [];
    const seeding: number[] = [];
    for (let run = 0; run < runs; run++) {
        events.push(timed(eventsOnce).ms);
        gantt.push(timed(ganttOnce).ms);
        long.push(timed(() => configWith(longName)).ms);
        plain.push(timed(() => configWith("Mail.Send")).ms);
        seeding.push(await seedOnce());
    }
    return {
        runs,
        events: { ms: median(events), rotations },
        gantt: { ms: median(gantt), shown: generations.shown, total: generations.total },
        longName: { ms: median(long), plainMs: median(plain) },
        seeding: { ms: median(seeding) },
    };
}

/**
 * `node bin/rotor.js status --stack dev` where no credential is available: no Azure CLI or Developer CLI on
 * PATH, an empty HOME, and the managed identity endpoint a closed port on this machine (as the test does).
 */
async function measureNoCredential(preload: string, runs: number): Promise<number> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-bench-home-"));
    try {
        const env = {
            PATH: path.dirname(process.execPath),
            HOME: home,
            AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9",
            NODE_EXTRA_CA_CERTS: process.env["NODE_EXTRA_CA_CERTS"] ?? "",
        };
        const walls: number[] = [];
        for (let run = 0; run < runs; run++) {
            const child = expectExit(await runNode([path.join(repoRoot, "bin", "rotor.js"), "status", "--stack", "dev", "--dir", repoRoot], { preload, cwd: home, env }), [1], "rotor status without a credential");
            if (!child.stderr.startsWith("rotor: cannot sign in to Azure: no credential is available")) throw new Error(`rotor status without a credential said:\n${child.stderr}`);
            walls.push(child.wallMs);
        }
        return median(walls);
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}

export async function measureBudgets(preload: string, options: { readonly runs?: number } = {}): Promise<BudgetFigures> {
    const runs = options.runs ?? 7;
    const noCredentialRuns = Math.min(runs, 3);
    note(`budgets: schedule, chart, long name and emulator seeding, ${runs} runs; rotor status without a credential, ${noCredentialRuns} runs`);
    const child = expectExit(await runNode([...tsxLoader, __filename, "--child", String(runs)], { preload, keepStdout: false }), [0], "the budgets benchmark");
    const reported = child.reports.find((r) => r["kind"] === "budgets");
    if (!reported) throw new Error(`the budgets benchmark reported nothing:\n${child.stderr}`);
    const inProcess = reported["figures"] as Omit<BudgetFigures, "noCredential" | "noCredentialRuns">;
    return { ...inProcess, noCredentialRuns, noCredential: { ms: await measureNoCredential(preload, noCredentialRuns) } };
}

/** Rows for the performance table: what, measure, result, target, status. */
export function budgetRows(f: BudgetFigures): string[][] {
    return [
        [
            "`rotationEvents`, 1,000 credentials over 5 years",
            `wall time, in process (${count(f.events.rotations)} rotations)`,
            `**${ms(f.events.ms)}**`,
            budget(budgets.eventsMs),
            met(f.events.ms < budgets.eventsMs),
        ],
        [
            "`renderGantt`, 5,000 daily-rotating credentials over 100 years",
            `wall time, in process (${count(f.gantt.shown)} of ${count(f.gantt.total)} generations drawn)`,
            `**${ms(f.gantt.ms)}**`,
            budget(budgets.ganttMs),
            met(f.gantt.ms < budgets.ganttMs),
        ],
        [
            "a stack config with a 200,000-character permission name",
            "wall time of the model to refuse it, in process; the same config with a real name",
            `**${ms(f.longName.ms)}** vs ${ms(f.longName.plainMs)}`,
            budget(budgets.longNameMs),
            met(f.longName.ms < budgets.longNameMs),
        ],
        [
            "the local Azure emulator, seeding 5,000 applications and 5,000 secrets",
            "wall time, in process",
            `**${ms(f.seeding.ms)}**`,
            budget(budgets.seedingMs),
            met(f.seeding.ms < budgets.seedingMs),
        ],
        [
            "`rotor status` with no credential at all",
            "wall time of a fresh process to its one-line error (no Azure CLI, the managed identity endpoint a closed port)",
            `**${ms(f.noCredential.ms)}**`,
            `${budget(budgets.noCredentialMs)} (the sign-in deadline)`,
            met(f.noCredential.ms < budgets.noCredentialMs),
        ],
    ];
}

async function standalone(): Promise<void> {
    const { values } = parseArgs({ options: { runs: { type: "string" } } });
    const runs = values.runs === undefined ? undefined : Number(values.runs);
    if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new Error("--runs: a whole number of at least 1");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-bench-budgets-"));
    try {
        const figures = await measureBudgets(writePreload(scratch), runs === undefined ? {} : { runs });
        process.stdout.write(`${markdownTable(["what", "measure", "result", "target", "status"], budgetRows(figures))}\n`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

async function child(runs: string): Promise<void> {
    report({ kind: "budgets", figures: await measureHere(Number(runs)) });
}

if (require.main === module) {
    const childAt = process.argv.indexOf("--child");
    const done = childAt >= 0 ? child(process.argv[childAt + 1] ?? "7") : standalone();
    done.catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
