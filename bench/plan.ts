import * as fs from "node:fs";
import * as path from "node:path";
import { type ChildRun, expectExit, median, note, repoRoot, runNode } from "./measure";
import { benchStack, type GeneratedProject } from "./stacks";

/**
 * The offline commands as a user runs them: `node bin/rotor.js ...` in a fresh process, transpiling the
 * TypeScript sources through tsx on the way. The peer is a bare Node process that reads and parses the same
 * YAML files with the same `yaml` package: the floor for any tool that reads this config, so the ratio says
 * what rotor adds on top (tsx, commander, validation, the schedule, rendering).
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
    /** bin/rotor.js plan with an empty tsx cache: everything transpiled on the way. */
    readonly planColdMs: number;
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
 * The full comparison on one stack: a cold plan first (its own TMPDIR, so tsx finds no cached transpile),
 * then `runs` rounds of YAML-only, plan and calendar, interleaved so that drift on a shared machine hits all
 * three alike; medians of each.
 */
export async function measureOffline(project: GeneratedProject, preload: string, scratch: string, runs: number): Promise<OfflineFigures> {
    const coldTmp = fs.mkdtempSync(path.join(scratch, "tsx-cold-"));
    note(`plan: ${project.apps} apps, cold (empty tsx cache)`);
    const cold = expectExit(await runNode(planArgs(project), { preload, env: { ...process.env, TMPDIR: coldTmp } }), [0], "rotor plan (cold)");
    checkPlan(cold, project.apps);
    // Warm the shared tsx cache the following runs use, whatever state it was in.
    expectExit(await runNode(calendarArgs(project), { preload, keepStdout: false }), [0], "rotor calendar");

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
        planColdMs: cold.wallMs,
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
