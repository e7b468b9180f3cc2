import * as path from "node:path";
import { type CliIo, exitCodes, UsageError, writeChunks } from "./io";
import type { OutputFormat } from "./output/table";
import { buildCalendar, scheduledCredentials } from "./review/calendar";
import { renderCalendar, renderCalendarGantt } from "./review/renderCalendar";
import { loadStackModel } from "./stackModel";

export interface CalendarOptions {
    readonly stack: string;
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
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, from, io.cwd);
    if (options.format === "mermaid") {
        const chart = renderCalendarGantt(model.project, model.stack, from, to, scheduledCredentials(model));
        if (chart.truncated) io.stderr(`rotor: note: the chart is truncated: ${chart.truncated}; narrow --from and --to, or use --format json for every rotation\n`);
        io.stdout(`${chart.lines.join("\n")}\n`);
        return exitCodes.ok;
    }
    await writeChunks(io, renderCalendar(buildCalendar(model, from, to), options.format));
    return exitCodes.ok;
}
