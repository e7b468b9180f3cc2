import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { expectExit, median, note, repoRoot, runNode, tsxLoader } from "./measure";
import type { GeneratedProject } from "./stacks";

/**
 * The Pulumi program under Pulumi's mock runtime (test/support/pulumiMocks.ts), one process per
 * evaluation: bench/programChild.ts builds the model and registers the stack, then waits until the mock
 * monitor has answered every registration and invoke. The floors (bench/floorChild.ts) register as many
 * resources under the same mocks, with none of the program. Every child runs with the Node arguments the
 * project gives the program (Pulumi.yaml, runtime.options.nodeargs), as `pulumi up` runs it.
 */

/** The instant the program is evaluated at. */
export const programAt = "2027-03-01T00:00:00Z";

/** `runtime.options.nodeargs` of the project's Pulumi.yaml, split as the Node.js language host does. */
export function projectNodeArgs(): string[] {
    const project = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as { runtime?: { options?: { nodeargs?: string } } };
    const args = project.runtime?.options?.nodeargs;
    return typeof args === "string" ? args.split(/\s+/).filter((arg) => arg !== "") : [];
}

export interface ProgramFigures {
    readonly apps: number;
    /** Model, registrations and every mock answer; median of `runs`. */
    readonly evaluationMs: number;
    readonly modelMs: number;
    /** The whole child process, start-up and module loading included. */
    readonly processMs: number;
    readonly maxRssBytes: number;
    readonly resources: number;
    readonly resourcesPerApp: number;
    readonly resourcesByType: Record<string, number>;
    readonly invokes: number;
    readonly invokesByToken: Record<string, number>;
    readonly runs: number;
}

export interface FloorFigures {
    readonly mode: "typed" | "plain";
    readonly apps: number;
    readonly evaluationMs: number;
    readonly maxRssBytes: number;
    readonly resources: number;
    readonly runs: number;
}

interface ChildReport {
    readonly apps: number;
    readonly modelMs: number;
    readonly evaluationMs: number;
    readonly resources: number;
    readonly stackLevelResources: number;
    readonly invokes: number;
    readonly invokesByToken: Record<string, number>;
    readonly resourcesByType: Record<string, number>;
    readonly rejections: readonly string[];
}

export async function measureProgram(project: GeneratedProject, preload: string, runs: number): Promise<ProgramFigures> {
    const reports: ChildReport[] = [];
    const processMs: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
        note(`program: ${project.apps} apps, run ${i + 1} of ${runs}`);
        const run = expectExit(
            await runNode([...projectNodeArgs(), ...tsxLoader, path.join(repoRoot, "bench", "programChild.ts"), project.dir, programAt], { preload }),
            [0],
            "the program under mocks",
        );
        const report = run.reports[0] as unknown as ChildReport | undefined;
        if (!report) throw new Error(`the program under mocks reported nothing:\n${run.stderr}`);
        if (report.rejections.length > 0) throw new Error(`registrations failed under mocks: ${report.rejections.slice(0, 3).join("; ")}`);
        if (report.apps !== project.apps) throw new Error(`the program registered ${report.apps} apps, expected ${project.apps}`);
        reports.push(report);
        processMs.push(run.wallMs);
        rss.push(run.maxRssBytes ?? Number.NaN);
    }
    const last = reports[reports.length - 1]!;
    return {
        apps: project.apps,
        evaluationMs: median(reports.map((r) => r.evaluationMs)),
        modelMs: median(reports.map((r) => r.modelMs)),
        processMs: median(processMs),
        maxRssBytes: median(rss),
        resources: last.resources,
        resourcesPerApp: (last.resources - last.stackLevelResources) / project.apps,
        resourcesByType: last.resourcesByType,
        invokes: last.invokes,
        invokesByToken: last.invokesByToken,
        runs,
    };
}

/** A floor at the program's size: per app, the resources the program registered per app (stack-level ones aside). */
export async function measureFloor(program: ProgramFigures, mode: FloorFigures["mode"], preload: string, runs: number): Promise<FloorFigures> {
    const perApp: Record<string, number> = {};
    for (const [type, count] of Object.entries(program.resourcesByType)) {
        const each = Math.round(count / program.apps);
        if (each > 0) perApp[type] = each;
    }
    const times: number[] = [];
    const rss: number[] = [];
    let resources = 0;
    for (let i = 0; i < runs; i++) {
        note(`floor (${mode}): ${program.apps} apps, run ${i + 1} of ${runs}`);
        const run = expectExit(
            await runNode([...projectNodeArgs(), ...tsxLoader, path.join(repoRoot, "bench", "floorChild.ts"), mode, String(program.apps), JSON.stringify(perApp)], { preload }),
            [0],
            `the ${mode} floor`,
        );
        const report = run.reports[0] as { evaluationMs: number; resources: number } | undefined;
        if (!report) throw new Error(`the ${mode} floor reported nothing:\n${run.stderr}`);
        times.push(report.evaluationMs);
        rss.push(run.maxRssBytes ?? Number.NaN);
        resources = report.resources;
    }
    // Within one resource per app of the program: the stack-level vault is the program's alone.
    if (Math.abs(resources - program.resources) > program.apps) throw new Error(`the ${mode} floor registered ${resources} resources, the program ${program.resources}`);
    return { mode, apps: program.apps, evaluationMs: median(times), maxRssBytes: median(rss), resources, runs };
}
