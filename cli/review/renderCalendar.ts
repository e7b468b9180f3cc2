import { type Chunks, joinedLines, jsonChunks } from "../output/chunks";
import { capitalize, markdownTable, type OutputFormat, plural, textTableLines } from "../output/table";
import { markdownText, visible } from "../output/escape";
import type { CalendarDocument, ScheduledCredential } from "./calendar";
import type { StacksCalendar } from "./calendarStacks";
import { type GanttChart, ganttDay, renderGantt } from "./renderGantt";

const header = ["DATE", "APP", "CREDENTIAL", "SLOT", "RETIRES", "CREATES"];
/** Lines per chunk of a long calendar. */
const linesPerChunk = 1_000;

/** The calendar as text, markdown or the documented JSON, in chunks. */
export function renderCalendar(calendar: CalendarDocument, format: OutputFormat): Chunks {
    if (format === "json") return jsonChunks(calendar);
    return joinedLines(calendarBlocks(calendar, format));
}

function calendarBlocks(calendar: CalendarDocument, format: "table" | "markdown"): Generator<string[]> {
    // App and credential names passed the model's name rules: nothing in them to escape.
    const rows = calendar.events.map((e) => [e.date, e.app, e.credential, String(e.slot), `g${e.retiredGeneration}`, `g${e.createdGeneration}`]);
    const title = `${calendar.project} / ${calendar.stack}: ${plural(calendar.events.length, "rotation")} from ${calendar.from} to ${calendar.to}`;
    return tableBlocks(`## Rotation calendar: ${calendar.project} / ${calendar.stack}`, title, header, rows, format);
}

/** A calendar's title and table: in markdown one block under `heading`, as text in chunks of lines. */
function* tableBlocks(heading: string, title: string, head: readonly string[], rows: readonly string[][], format: "table" | "markdown"): Generator<string[]> {
    if (format === "markdown") {
        yield [heading, "", title, "", rows.length ? markdownTable(head.map(capitalize), rows) : "_No rotation in this range._", ""];
        return;
    }
    yield [title, ""];
    if (rows.length === 0) {
        yield ["  no rotation in this range", ""];
        return;
    }
    const lines = textTableLines(head, rows);
    for (let i = 0; i < lines.length; i += linesPerChunk) yield lines.slice(i, i + linesPerChunk);
    yield [""];
}

/**
 * `rotor calendar --format mermaid`: the raw Mermaid gantt chart of [from, to) (no ```mermaid fence, so it
 * can be piped to a file or a renderer; a markdown document wraps it in one). Bounded by ganttLimits.
 */
export function renderCalendarGantt(project: string, stack: string, from: Date, to: Date, credentials: readonly ScheduledCredential[]): GanttChart {
    const title = `${project} / ${stack} rotations from ${ganttDay(from.getTime())} to ${ganttDay(to.getTime())}`;
    return renderGantt({ title, from, to, credentials });
}

const stacksHeader = ["STACK", ...header];

/** Several stacks' calendar: the stack in the first column; the JSON as StacksCalendar. */
export function renderStacksCalendar(calendar: StacksCalendar, format: OutputFormat): Chunks {
    if (format === "json") return jsonChunks(calendar);
    const e = format === "markdown" ? markdownText : visible;
    const rows = calendar.events.map((ev) => [e(ev.stack), ev.date, e(ev.app), e(ev.credential), String(ev.slot), `g${ev.retiredGeneration}`, `g${ev.createdGeneration}`]);
    const invalid = calendar.stacks.filter((s) => s.errors !== null).map((s) => e(s.stack));
    const title = `${plural(calendar.stacks.length, "stack")}: ${plural(calendar.events.length, "rotation")} from ${calendar.from} to ${calendar.to}${invalid.length ? `; invalid config, not shown: ${invalid.join(", ")}` : ""}`;
    return joinedLines(tableBlocks("## Rotation calendar: several stacks", title, stacksHeader, rows, format));
}
