import * as path from "node:path";
import { buildModel, type StackModel } from "../infra/model/model";
import { ConfigError } from "../infra/model/issues";
import { dateToIsoSeconds } from "../rotation/instants";
import { readStackConfig, StackNotFoundError } from "../infra/model/stackFiles";
import { type CliIo, exitCodes, UsageError, writeChunks } from "./io";
import { defaultCommentBudget } from "./output/commentBudget";
import { type OutputFormat, plural } from "./output/table";
import { withProjectAt } from "./review/gitBase";
import { streamPlan } from "./review/plan";
import { diffModels } from "./review/planDiff";
import { renderPlan } from "./review/renderPlan";
import { renderPlanDiff } from "./review/renderPlanDiff";
import { planStacks } from "./review/planStacks";
import { renderPlanStacks } from "./review/renderPlanStacks";
import { loadStackModel } from "./stackModel";
import { loadStackOutcomes, type StackSelection, selectedStacks } from "./stacks";

export interface PlanOptions extends StackSelection {
    readonly at?: Date;
    readonly since?: Date | "never";
    readonly base?: string;
    readonly format: OutputFormat;
    /** Markdown: the comment's budget of characters (default 60,000; 0: no limit). */
    readonly maxChars?: number;
    readonly dir: string;
}

/** The budget of a markdown comment: `--max-chars`, which only markdown takes, or the default. */
export function commentBudget(options: { readonly format: OutputFormat; readonly maxChars?: number }): number {
    if (options.maxChars !== undefined && options.format !== "markdown") throw new UsageError("--max-chars limits a markdown comment: use it with --format markdown");
    return options.maxChars ?? defaultCommentBudget;
}

/** `rotor plan`: what the stack declares at an instant, or with `--base` what changed since a git ref. Offline. */
export async function runPlan(options: PlanOptions, io: CliIo): Promise<number> {
    const at = options.at ?? io.now();
    if (options.since instanceof Date && options.since.getTime() > at.getTime()) throw new UsageError(`--since (${options.since.toISOString()}) must not be after --at (${at.toISOString()})`);
    if (options.base && options.since) throw new UsageError("--base and --since answer different questions: use one");
    const maxChars = commentBudget(options);
    const projectDir = path.resolve(io.cwd, options.dir);
    const stacks = selectedStacks(options, projectDir, io.cwd);
    if (options.stack === undefined) {
        if (options.base) throw new UsageError("--base compares one stack's config with the base's: give --stack <name> (run it once per stack)");
        return planSeveral(stacks, projectDir, at, { ...options, maxChars }, io);
    }
    const stack = options.stack;
    const model = loadStackModel(projectDir, stack, at, io.cwd);
    if (options.base) {
        const ref = options.base;
        const base = withProjectAt(projectDir, ref, (baseDir) => baseModel(baseDir, stack, at, ref, io));
        io.stdout(renderPlanDiff(diffModels(base.model, model, ref, base.problem), options.format, { maxChars }));
        return model.credentialErrors.length > 0 ? exitCodes.error : exitCodes.ok;
    }
    await writeChunks(io, renderPlan(streamPlan(model, options.since ? { since: options.since } : {}), options.format, { maxChars }));
    // A credential in error is planned as an ERROR row, everything else as usual; the exit code says it.
    return model.credentialErrors.length > 0 ? exitCodes.error : exitCodes.ok;
}

/** `--stacks` / `--all-stacks`: every stack at the same instant; an invalid one is reported and the others shown. Exit 1 if any is invalid. */
function planSeveral(stacks: readonly string[], projectDir: string, at: Date, options: PlanOptions, io: CliIo): number {
    const outcomes = loadStackOutcomes(stacks, projectDir, at, io);
    io.stdout(renderPlanStacks(planStacks(outcomes, dateToIsoSeconds(at), options.since ? { since: options.since } : {}), options.format, { maxChars: options.maxChars ?? 0 }));
    return outcomes.some((outcome) => "issues" in outcome || outcome.model.credentialErrors.length > 0) ? exitCodes.error : exitCodes.ok;
}

/**
 * The stack's model at the base ref. A stack file that is not there is a new stack (everything is added);
 * one that is there but unreadable or invalid is said so, on stderr and in the output, rather than shown
 * silently as "everything added".
 */
function baseModel(baseDir: string, stack: string, at: Date, ref: string, io: CliIo): { model?: StackModel; problem?: string } {
    let input;
    try {
        input = readStackConfig(baseDir, stack, { cwd: io.cwd });
    } catch (error) {
        if (error instanceof StackNotFoundError) return {};
        const problem = error instanceof ConfigError ? `cannot be read (${plural(error.issues.length, "error")})` : "cannot be read";
        io.stderr(`rotor: note: the config at ${ref} ${problem}; everything is shown as added (run rotor plan on ${ref} to see why)\n`);
        return { problem };
    }
    const result = buildModel(input, at);
    if (result.model) return { model: result.model };
    const problem = `is invalid (${plural(result.issues.filter((issue) => issue.severity === "error").length, "error")})`;
    io.stderr(`rotor: note: the config at ${ref} ${problem}; everything is shown as added (run rotor plan on ${ref} to see why)\n`);
    return { problem };
}
