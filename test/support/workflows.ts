import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * GitHub workflow files and the Azure Pipelines file as the pipeline tests read them, the rules every
 * shipped pipeline keeps (a step with a pipe runs under pipefail, or `rotor status | tee` would exit with
 * tee's status; see the pipeline tests for the others), and a runner that executes a step's script under
 * bash as the runner would, with stand-ins for the cloud tools, so a test sees what the script does.
 */

export interface WorkflowStep {
    readonly name?: string;
    readonly id?: string;
    readonly if?: string;
    readonly env?: Record<string, string>;
    readonly run?: string;
    readonly shell?: string;
    readonly uses?: string;
    readonly with?: Record<string, unknown>;
    readonly "working-directory"?: string;
    /** true hides the step's failure from the job's result. */
    readonly "continue-on-error"?: boolean | string;
}

export interface WorkflowJob {
    readonly if?: string;
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
    readonly permissions?: Record<string, string> | string;
    readonly env?: Record<string, string>;
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

/** Every step of every job, with its job's name and definition. */
export function allSteps(doc: Workflow): { readonly job: string; readonly definition: WorkflowJob; readonly step: WorkflowStep }[] {
    return Object.entries(doc.jobs).flatMap(([job, definition]) => definition.steps.map((step) => ({ job, definition, step })));
}

/**
 * Whether a job's token can change something: a `write` scope (contents, pull-requests, issues, ...) or
 * `id-token: write`, which mints the token the cloud trusts; the job's permissions, else the workflow's.
 * An action in such a job runs with that power, so it must be pinned to a commit, not a movable tag.
 */
export function jobCanWrite(doc: Workflow, job: WorkflowJob): boolean {
    const permissions = job.permissions ?? doc.permissions;
    if (permissions === undefined) return true; // the repository's default token, which may write
    if (typeof permissions === "string") return permissions === "write-all";
    return Object.values(permissions).includes("write");
}

/** Each `uses:` line of a workflow's text: the action, the ref it is pinned to, and the comment after it. */
export function usesLines(text: string): { readonly action: string; readonly ref: string; readonly comment: string }[] {
    return [...text.matchAll(/uses: ([^\s@#]+)@([^\s#]+)[ \t]*(?:#[ \t]*([^\n]*))?/g)].map((m) => ({ action: m[1]!, ref: m[2]!, comment: (m[3] ?? "").trim() }));
}

/** `${{ ... }}` expressions written into a step's script, where the runner pastes their value into the shell's text. */
export function expressionsInScripts(doc: Workflow): { readonly job: string; readonly step: string; readonly expression: string }[] {
    return allSteps(doc).flatMap(({ job, step }) => [...(step.run ?? "").matchAll(/\$\{\{[\s\S]*?\}\}/g)].map((m) => ({ job, step: step.name ?? step.run!, expression: m[0] })));
}

/**
 * Whether a step's `if` lets it run after an earlier step failed (GitHub: `!cancelled()`, `always()`,
 * `failure()`; Azure Pipelines: `succeededOrFailed()`, `always()`, `failed()`).
 */
export function runsAfterFailure(condition: string | undefined): boolean {
    return condition !== undefined && /(!\s*cancelled\(\)|\balways\(\)|\bfailure\(\)|\bsucceededOrFailed\(\)|\bfailed\(\))/.test(condition);
}

/** The shell lines of a script that run `rotor <command>` (through npx or not), comments left out. */
export function rotorLines(script: string, command: string): string[] {
    const runs = new RegExp(`(^|[;&|(]\\s*|\\s)(npx\\s+)?rotor\\s+${command}(\\s|$)`);
    return script
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .filter((line) => runs.test(line));
}

/**
 * The comment right above the step whose text holds `needle` (a GitHub `- name:`/`- uses:` or an Azure
 * `- task:`/`- script:` line starts a step), without the `#`s, its lines joined with spaces as the prose they
 * are: what a reader copying the step sees about it.
 */
export function commentAbove(text: string, needle: string): string {
    const lines = text.split("\n");
    let i = lines.findIndex((line) => line.includes(needle));
    if (i < 0) return "";
    while (i > 0 && !/^\s*- /.test(lines[i]!)) i--;
    const comments: string[] = [];
    for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j]!); j--) comments.unshift(lines[j]!.replace(/^\s*#\s?/, ""));
    return comments.join(" ");
}

/** The shell lines of a script that run `pulumi up`, comments left out. */
export function pulumiUpLines(script: string): string[] {
    return script
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .filter((line) => /(^|[;&|(]\s*|\s)pulumi up(\s|$)/.test(line));
}

// ---------------------------------------------------------------------------------------------------------
// Azure Pipelines

export interface AzureStep {
    readonly task?: string;
    readonly script?: string;
    readonly checkout?: string;
    readonly displayName?: string;
    readonly condition?: string;
    /** true hides the step's failure from the job's result. */
    readonly continueOnError?: boolean;
    readonly env?: Record<string, string>;
    readonly inputs?: Record<string, unknown>;
}

export interface AzurePipeline {
    readonly variables?: Record<string, string> | ({ name: string; value: string } | { group: string })[];
    readonly stages: { stage: string; condition?: string; variables?: AzurePipeline["variables"]; jobs: { job: string; variables?: AzurePipeline["variables"]; steps: AzureStep[] }[] }[];
}

/** Every step of the pipeline with its stage and job. */
export function azureSteps(doc: AzurePipeline): { readonly stage: string; readonly job: string; readonly step: AzureStep }[] {
    return doc.stages.flatMap((s) => s.jobs.flatMap((j) => j.steps.map((step) => ({ stage: s.stage, job: j.job, step }))));
}

/** A step's shell script: `script:`, or an Azure CLI task's `inlineScript`. */
export function azureScript(step: AzureStep): string | undefined {
    return step.script ?? (typeof step.inputs?.["inlineScript"] === "string" ? step.inputs["inlineScript"] : undefined);
}

/** The variables the pipeline declares with a value, by name (a variable group's are not known here). */
export function declaredVariables(doc: AzurePipeline): Map<string, string> {
    const out = new Map<string, string>();
    const add = (variables: AzurePipeline["variables"]) => {
        if (Array.isArray(variables)) for (const v of variables) if ("name" in v) out.set(v.name, String(v.value));
        if (variables && !Array.isArray(variables)) for (const [name, value] of Object.entries(variables)) out.set(name, String(value));
    };
    add(doc.variables);
    for (const stage of doc.stages) {
        add(stage.variables);
        for (const job of stage.jobs) add(job.variables);
    }
    return out;
}

/** The variable groups the pipeline links. */
export function variableGroups(doc: AzurePipeline): string[] {
    return Array.isArray(doc.variables) ? doc.variables.flatMap((v) => ("group" in v ? [v.group] : [])) : [];
}

/**
 * Azure Pipelines' predefined variables are namespaced (Agent., Build., System., Pipeline., Environment.,
 * Resources., Strategy.): https://learn.microsoft.com/azure/devops/pipelines/build/variables
 */
export const predefinedVariable = /^(Agent|Build|System|Pipeline|Environment|Resources|Strategy)\.[A-Za-z.]+$/;

/** The `$(name)` macros of a script. */
export function macros(script: string): string[] {
    return [...script.matchAll(/\$\(([A-Za-z_][\w.]*)\)/g)].map((m) => m[1]!);
}

/**
 * A script as the agent hands it to bash: each `$(name)` macro replaced by its variable's value, and one
 * whose variable is not defined left as written, as Azure Pipelines does
 * (https://learn.microsoft.com/azure/devops/pipelines/process/variables#macro-syntax-variables); bash then
 * runs it as a command substitution.
 */
export function expandMacros(script: string, values: ReadonlyMap<string, string>): string {
    return script.replace(/\$\(([A-Za-z_][\w.]*)\)/g, (whole, name: string) => values.get(name) ?? whole);
}

// ---------------------------------------------------------------------------------------------------------
// Running a step's script

export interface ScriptRun {
    readonly code: number;
    /** stdout, then stderr. */
    readonly output: string;
    /** The stand-in tools called, in order: `pulumi up --stack dev ...`. */
    readonly calls: readonly string[];
}

export interface ScriptOptions {
    /** GitHub's `shell: bash` (`bash --noprofile --norc -eo pipefail`), or Azure Pipelines' plain bash. */
    readonly shell: "github" | "azure";
    readonly cwd: string;
    readonly env?: Readonly<Record<string, string>>;
    /** Tools replaced by a stand-in that records its arguments and exits with this code. */
    readonly fakes?: Readonly<Record<string, number>>;
    /** What a stand-in of `fakes` prints on stdout before it exits: a document the step reads, as the real tool would print it. */
    readonly fakeOutput?: Readonly<Record<string, string>>;
    /** `npx rotor ...` runs the real CLI (bin/rotor.js); any other npx is a stand-in. */
    readonly rotor?: string;
    /** The instant `npx rotor` sees as now (a preload fixes `new Date()`), so a test does not age. */
    readonly now?: Date;
}

/** Runs a step's script in a fresh bash with only the given environment, the stand-ins first on PATH. */
export function runScript(script: string, options: ScriptOptions): ScriptRun {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-step-"));
    const log = path.join(bin, "calls.log");
    fs.writeFileSync(log, "");
    const fake = (name: string, code: number) => {
        const output = options.fakeOutput?.[name];
        if (output !== undefined) fs.writeFileSync(path.join(bin, `${name}.out`), output);
        const print = output !== undefined ? `cat '${path.join(bin, `${name}.out`)}'\n` : "";
        return `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${log}'\n${print}exit ${code}\n`;
    };
    for (const [name, code] of Object.entries(options.fakes ?? {})) fs.writeFileSync(path.join(bin, name), fake(name, code), { mode: 0o755 });
    if (options.rotor) {
        const preload = path.join(bin, "now.cjs");
        const fixed = (options.now ?? new Date()).getTime();
        fs.writeFileSync(preload, `const Real = Date; const fixed = ${fixed};\nglobalThis.Date = class extends Real { constructor(...a) { if (a.length === 0) super(fixed); else super(...a); } static now() { return fixed; } };\n`);
        const npx = `#!/bin/sh\nif [ "$1" = rotor ]; then shift; exec '${process.execPath}' --require '${preload}' '${options.rotor}' "$@"; fi\nprintf '%s\\n' "npx $*" >> '${log}'\n`;
        fs.writeFileSync(path.join(bin, "npx"), npx, { mode: 0o755 });
    }
    const file = path.join(bin, "step.sh");
    fs.writeFileSync(file, script);
    const args = options.shell === "github" ? ["--noprofile", "--norc", "-eo", "pipefail", file] : ["--noprofile", "--norc", file];
    const run = spawnSync("bash", args, {
        cwd: options.cwd,
        encoding: "utf8",
        env: { PATH: `${bin}${path.delimiter}${process.env["PATH"] ?? ""}`, HOME: bin, ...options.env },
    });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter((line) => line !== "");
    fs.rmSync(bin, { recursive: true, force: true });
    return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}`, calls };
}
