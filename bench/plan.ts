import * as path from "node:path";
import { type ChildRun, expectExit, median, note, repoRoot, runNode } from "./measure";
import { benchStack, type GeneratedProject } from "./stacks";

/**
 * The offline commands as a user runs them: `node bin/rotor.js ...` in a fresh process, running the bundles
 * `npm ci` built. The peer is a bare Node process that reads and parses the same YAML files with the same
 * `yaml` package: the floor for any tool that reads this config, so the ratio says what rotor adds on top
 * (commander, validation, the schedule, rendering).
 */

const rotorBin = path.join(repoRoot, "bin", "rotor.js");

/** The plan instant: fixed, so every run computes the same plan. */
export const planAt = "2027-03-01";
/** Five years of rotations from the plan instant. */
export const calendarTo = "2032-03-01";

/**
 * The peer, as `node -e`: require the project's own `yaml` by absolute path (so it does not depend on the
 * working directory), then read and parse each file named on the command line.
 */
const yamlOnlySource = `const { parse } = require(${JSON.stringify(require.resolve("yaml"))});
const fs = require("node:fs");
for (const file of process.argv.slice(1)) parse(fs.readFileSync(file, "utf8"));`;

function planArgs(project: GeneratedProject): string[] {
    return [rotorBin, "plan", "--stack", benchStack, "--dir", project.dir, "--at", planAt, "--format", "json"];
}

function calendarArgs(project: GeneratedProject): string[] {
    return [rotorBin, "calendar", "--stack", benchStack, "--dir", project.dir, "--from", planAt, "--to", calendarTo, "--format", "json"];
}

export interface OfflineFigures {
    readonly apps: number;
    readonly yamlBytes: number;
    readonly planMs: number;
    readonly planRssBytes: number;
    readonly yamlOnlyMs: number;
    readonly yamlOnlyRssBytes: number;
    readonly calendarMs: number;
    readonly calendarRssBytes: number;
    readonly calendarEvents: number;
    readonly runs: number;
}

export interface PlanTiming {
    readonly apps: number;
    readonly planMs: number;
    readonly runs: number;
}

/** Checks what a plan run printed (once per size: parsing megabytes of JSON is not part of the timing). */
function checkPlan(run: ChildRun, apps: number): void {
    const plan = JSON.parse(run.stdout) as { apps: unknown[]; totals: { apps: number } };
    if (plan.apps.length !== apps || plan.totals.apps !== apps) throw new Error(`rotor plan listed ${plan.apps.length} apps, expected ${apps}`);
}

/**
 * The full comparison on one stack: `runs` rounds of YAML-only, plan and calendar, interleaved so that
 * drift on a shared machine hits all three alike; medians of each.
 */
export async function measureOffline(project: GeneratedProject, preload: string, runs: number): Promise<OfflineFigures> {
    checkPlan(expectExit(await runNode(planArgs(project), { preload }), [0], "rotor plan"), project.apps);

    const yamlOnly: ChildRun[] = [];
    const plan: ChildRun[] = [];
    const calendar: ChildRun[] = [];
    let calendarEvents = 0;
    for (let i = 0; i < runs; i++) {
        note(`plan: ${project.apps} apps, round ${i + 1} of ${runs}`);
        yamlOnly.push(expectExit(await runNode(["-e", yamlOnlySource, ...project.files], { preload }), [0], "the YAML-only peer"));
        plan.push(expectExit(await runNode(planArgs(project), { preload, keepStdout: false }), [0], "rotor plan"));
        const cal = expectExit(await runNode(calendarArgs(project), { preload, keepStdout: i === 0 }), [0], "rotor calendar");
        if (i === 0) calendarEvents = (JSON.parse(cal.stdout) as { events: unknown[] }).events.length;
        calendar.push(cal);
    }
    const ms = (list: ChildRun[]) => median(list.map((r) => r.wallMs));
    const rss = (list: ChildRun[]) => median(list.map((r) => r.maxRssBytes ?? Number.NaN));
    return {
        apps: project.apps,
        yamlBytes: project.bytes,
        planMs: ms(plan),
        planRssBytes: rss(plan),
        yamlOnlyMs: ms(yamlOnly),
        yamlOnlyRssBytes: rss(yamlOnly),
        calendarMs: ms(calendar),
        calendarRssBytes: rss(calendar),
        calendarEvents,
        runs,
    };
}

/** Plan time alone, for the smaller stacks. */
export async function measurePlan(project: GeneratedProject, preload: string, runs: number): Promise<PlanTiming> {
    note(`plan: ${project.apps} apps, ${runs} runs`);
    const first = expectExit(await runNode(planArgs(project), { preload }), [0], "rotor plan");
    checkPlan(first, project.apps);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(expectExit(await runNode(planArgs(project), { preload, keepStdout: false }), [0], "rotor plan").wallMs);
    return { apps: project.apps, planMs: median(times), runs };
}

export interface MemoryFigures {
    readonly apps: number;
    readonly planRssBytes: number;
    readonly yamlOnlyRssBytes: number;
    readonly runs: number;
}

/** Peak memory of plan against the YAML-only peer, interleaved; medians. */
export async function measurePlanMemory(project: GeneratedProject, preload: string, runs: number): Promise<MemoryFigures> {
    const plan: number[] = [];
    const yamlOnly: number[] = [];
    for (let i = 0; i < runs; i++) {
        note(`plan memory: ${project.apps} apps, round ${i + 1} of ${runs}`);
        yamlOnly.push(expectExit(await runNode(["-e", yamlOnlySource, ...project.files], { preload }), [0], "the YAML-only peer").maxRssBytes ?? Number.NaN);
        plan.push(expectExit(await runNode(planArgs(project), { preload, keepStdout: false }), [0], "rotor plan").maxRssBytes ?? Number.NaN);
    }
    return { apps: project.apps, planRssBytes: median(plan), yamlOnlyRssBytes: median(yamlOnly), runs };
}

export interface StartupFigures {
    readonly versionMs: number;
    readonly nodeMs: number;
    readonly runs: number;
}

/** `node bin/rotor.js --version` against `node -e 0`, alternated; medians. */
export async function measureStartup(preload: string, runs: number): Promise<StartupFigures> {
    note(`start-up: ${runs} rounds`);
    const version: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
        bare.push(expectExit(await runNode(["-e", "0"], { preload }), [0], "node -e 0").wallMs);
        const run = expectExit(await runNode([rotorBin, "--version"], { preload }), [0], "rotor --version");
        if (!/^\d+\.\d+\.\d+/.test(run.stdout)) throw new Error(`rotor --version printed ${JSON.stringify(run.stdout)}`);
        version.push(run.wallMs);
    }
    return { versionMs: median(version), nodeMs: median(bare), runs };
}
