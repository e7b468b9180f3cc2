import * as path from "node:path";
import { expectExit, median, note, repoRoot, runNode, tsxRequire } from "./measure";
import type { GeneratedProject } from "./stacks";

/**
 * The Pulumi program under Pulumi's mock runtime (test/support/pulumiMocks.ts), one process per
 * evaluation: bench/programChild.ts builds the model and registers the stack, then waits until the mock
 * monitor has answered every registration and invoke.
 */

/** The instant the program is evaluated at. */
export const programAt = "2027-03-01T00:00:00Z";

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
    readonly invokes: number;
    readonly invokesByToken: Record<string, number>;
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
    readonly rejections: readonly string[];
}

/**
 * `heapMb`: the child's old-space limit. Under mocks every registration of the stack is in flight at once,
 * and @pulumi/pulumi keeps a captured stack trace per output property promise; a 1,000-app stack outgrows
 * Node's default heap limit (see the report), so the benchmark raises it rather than not measuring.
 */
export async function measureProgram(project: GeneratedProject, preload: string, runs: number, heapMb: number): Promise<ProgramFigures> {
    const reports: ChildReport[] = [];
    const processMs: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
        note(`program: ${project.apps} apps, run ${i + 1} of ${runs}`);
        const run = expectExit(
            await runNode([`--max-old-space-size=${heapMb}`, "--require", tsxRequire, path.join(repoRoot, "bench", "programChild.ts"), project.dir, programAt], { preload }),
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
        invokes: last.invokes,
        invokesByToken: last.invokesByToken,
        runs,
    };
}
