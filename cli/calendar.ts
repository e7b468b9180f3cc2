import * as path from "node:path";
import { type CliIo, exitCodes, UsageError, writeChunks } from "./io";
import type { OutputFormat } from "./output/table";
import { buildCalendar, scheduledCredentials } from "./review/calendar";
import { buildStacksCalendar, stacksScheduledCredentials } from "./review/calendarStacks";
import { renderCalendar, renderCalendarGantt, renderStacksCalendar } from "./review/renderCalendar";
import { ganttDay, renderGantt } from "./review/renderGantt";
import { plural } from "./output/table";
import { loadStackOutcomes, type StackSelection, selectedStacks } from "./stacks";
import { loadStackModel } from "./stackModel";

export interface CalendarOptions extends StackSelection {
    readonly from?: Date;
    readonly to?: Date;
    /** `mermaid`: a gantt chart of the same range instead of the list. */
    readonly format: OutputFormat | "mermaid";
    readonly dir: string;
}

const dayMs = 86_400_000;

/** `rotor calendar`: every scheduled rotation in `[from, to)`, offline. */
export async function runCalendar(options: CalendarOptions, io: CliIo): Promise<number> {
    const from = options.from ?? io.now();
    const to = options.to ?? new Date(from.getTime() + 365 * dayMs);
    if (to.getTime() <= from.getTime()) throw new UsageError(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
    if (to.getTime() - from.getTime() > 100 * 365 * dayMs) throw new UsageError("the range is longer than 100 years: narrow --from and --to");
    const projectDir = path.resolve(io.cwd, options.dir);
    const stacks = selectedStacks(options, projectDir, io.cwd);
    if (options.stack === undefined) return calendarSeveral(stacks, projectDir, from, to, options, io);
    const model = loadStackModel(projectDir, options.stack, from, io.cwd);
    if (options.format === "mermaid") {
        const chart = renderCalendarGantt(model.project, model.stack, from, to, scheduledCredentials(model));
        if (chart.truncated) io.stderr(`rotor: note: the chart is truncated: ${chart.truncated}; narrow --from and --to, or use --format json for every rotation\n`);
        io.stdout(`${chart.lines.join("\n")}\n`);
        return exitCodes.ok;
    }
    await writeChunks(io, renderCalendar(buildCalendar(model, from, to), options.format));
    return exitCodes.ok;
}

/** `--stacks` / `--all-stacks`: every stack's rotations, the stack first; an invalid stack is named, the others shown; exit 1 if any is invalid. */
async function calendarSeveral(stacks: readonly string[], projectDir: string, from: Date, to: Date, options: CalendarOptions, io: CliIo): Promise<number> {
    const outcomes = loadStackOutcomes(stacks, projectDir, from, io);
    const invalid = outcomes.some((outcome) => "issues" in outcome);
    if (options.format === "mermaid") {
        const title = `${plural(stacks.length, "stack")}, rotations from ${ganttDay(from.getTime())} to ${ganttDay(to.getTime())}`;
        const chart = renderGantt({ title, from, to, credentials: stacksScheduledCredentials(outcomes) });
        if (chart.truncated) io.stderr(`rotor: note: the chart is truncated: ${chart.truncated}; narrow --from and --to, or use --format json for every rotation\n`);
        io.stdout(`${chart.lines.join("\n")}\n`);
        return invalid ? exitCodes.error : exitCodes.ok;
    }
    await writeChunks(io, renderStacksCalendar(buildStacksCalendar(outcomes, from, to), options.format));
    return invalid ? exitCodes.error : exitCodes.ok;
}
