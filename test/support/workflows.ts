/**
 * GitHub workflow files as the pipeline tests read them, and the rule every shipped workflow keeps: a step
 * with a pipe runs under pipefail, or `rotor status | tee` would exit with tee's status.
 */

export interface WorkflowStep {
    readonly name?: string;
    readonly run?: string;
    readonly shell?: string;
    readonly uses?: string;
    readonly with?: Record<string, unknown>;
    readonly "working-directory"?: string;
}

export interface WorkflowJob {
    readonly needs?: string | string[];
    readonly environment?: string | { name: string };
    readonly permissions?: Record<string, string>;
    readonly defaults?: { run?: { shell?: string } };
    readonly strategy?: { "fail-fast"?: boolean; "max-parallel"?: number; matrix?: Record<string, unknown> };
    readonly concurrency?: { group?: string; "cancel-in-progress"?: boolean };
    readonly env?: Record<string, string>;
    readonly outputs?: Record<string, string>;
    readonly steps: readonly WorkflowStep[];
}

export interface Workflow {
    readonly on: Record<string, unknown>;
    readonly defaults?: { run?: { shell?: string; "working-directory"?: string } };
    readonly jobs: Record<string, WorkflowJob>;
}

/** A pipe in a shell script: `|`, not `||`, outside quotes is close enough for the scripts we ship. */
export const hasPipe = (script: string) => /(^|[^|])\|([^|]|$)/.test(script.replace(/"[^"]*"|'[^']*'/g, ""));

/**
 * The steps that pipe, each with whether it runs under pipefail. GitHub runs `bash -e {0}` when no shell is
 * set (no pipefail); `shell: bash` (on the step, the job's defaults or the workflow's) runs
 * `bash --noprofile --norc -eo pipefail {0}`.
 */
export function pipingSteps(doc: Workflow): { readonly job: string; readonly run: string; readonly pipefail: boolean }[] {
    const found: { job: string; run: string; pipefail: boolean }[] = [];
    for (const [job, definition] of Object.entries(doc.jobs)) {
        for (const step of definition.steps) {
            if (!step.run || !hasPipe(step.run)) continue;
            const shell = step.shell ?? definition.defaults?.run?.shell ?? doc.defaults?.run?.shell;
            found.push({ job, run: step.run, pipefail: shell === "bash" || /^\s*set -[a-z]*o pipefail/m.test(step.run) });
        }
    }
    return found;
}
