import { ConfigError, formatIssue } from "../infra/model/issues";
import { buildModel } from "../infra/model/model";
import { projectStacks, readStackConfig, stackNameProblem } from "../infra/model/stackFiles";
import { type CliIo, UsageError } from "./io";
import { plural } from "./output/table";
import type { StackOutcome } from "./review/planStacks";

/**
 * Which stacks a command runs for: `--stack <name>`, `--stacks a,b,c` or `--all-stacks` (every
 * `Pulumi.<stack>.yaml` of the project). Platform teams and service providers keep one stack per tenant or
 * environment; one run over all of them gives one table and one JSON document with the stack first.
 */
export interface StackSelection {
    readonly stack?: string;
    readonly stacks?: string;
    readonly allStacks?: boolean;
}

/** More than this is not a project's stacks but a mistake (or a pull request that adds thousands of files). */
export const maxStacks = 200;

/** The stacks selected, in the order given (or sorted for --all-stacks); a UsageError when the selection is not one of the three. */
export function selectedStacks(options: StackSelection, projectDir: string, cwd: string): string[] {
    const given = [options.stack !== undefined, options.stacks !== undefined, options.allStacks === true].filter(Boolean).length;
    if (given !== 1) {
        throw new UsageError(given === 0 ? "say which stack: --stack <name>, --stacks <a,b,c> or --all-stacks" : "give one of --stack, --stacks and --all-stacks");
    }
    let stacks: string[];
    if (options.stack !== undefined) stacks = [options.stack];
    else if (options.stacks !== undefined) stacks = [...new Set(options.stacks.split(",").map((name) => name.trim()))].filter((name) => name !== "");
    else stacks = projectStacks(projectDir, { cwd });
    if (stacks.length === 0) throw new UsageError(options.allStacks ? "no stacks here: the project has no Pulumi.<stack>.yaml (nor .yml or .json)" : "--stacks names no stack: list them separated by commas, e.g. --stacks dev,prod");
    if (stacks.length > maxStacks) throw new UsageError(`${stacks.length} stacks: at most ${maxStacks} in one run; name them with --stacks`);
    for (const stack of stacks) {
        const problem = stackNameProblem(stack);
        if (problem) throw new UsageError(`${options.stack !== undefined ? "--stack" : "--stacks"} ${problem}`);
    }
    return stacks;
}

/**
 * Each stack's model at `at`, or its config errors (also written to stderr, one block per stack): an
 * invalid stack never stops the others.
 */
export function loadStackOutcomes(stacks: readonly string[], projectDir: string, at: Date, io: CliIo): StackOutcome[] {
    const outcomes = stacks.map((stack): StackOutcome => {
        try {
            const input = readStackConfig(projectDir, stack, { cwd: io.cwd });
            const result = buildModel(input, at);
            return result.model ? { stack, model: result.model } : { stack, issues: result.issues, source: input.source };
        } catch (error) {
            if (error instanceof ConfigError) return { stack, issues: error.issues, source: error.source };
            throw error;
        }
    });
    for (const outcome of outcomes) {
        if ("issues" in outcome) {
            const errors = outcome.issues.filter((issue) => issue.severity === "error");
            io.stderr(`rotor: ${outcome.stack}: ${outcome.source}: ${plural(errors.length, "config error")}:\n${errors.map((issue) => `  ${formatIssue(issue)}`).join("\n")}\n`);
        }
    }
    return outcomes;
}
