import { type Chunks, joinedLines, jsonChunks } from "../output/chunks";
import { capitalize, markdownTable, type OutputFormat, plural, textTableLines } from "../output/table";
import { markdownText, visible } from "../output/escape";
import type { CalendarDocument, CalendarHandoff, ScheduledCredential } from "./calendar";
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
    const blocks = tableBlocks(`## Rotation calendar: ${calendar.project} / ${calendar.stack}`, title, header, rows, format);
    return calendar.handoffs ? concat(blocks, handoffBlocks(calendar.handoffs, format)) : blocks;
}

function* concat<T>(...parts: Iterable<T>[]): Generator<T> {
    for (const part of parts) yield* part;
}

const handoffHeader = ["DEADLINE", "APP", "CREDENTIAL", "GENERATION", "CONSUMER", "OWNER", "SERVED FROM"];

/**
 * The hand-offs open in the range, after the rotations: by deadline, when the value a manual consumer holds stops
 * working. Consumer names and owners are free text from the stack file: escaped in markdown, made visible as text.
 */
function* handoffBlocks(handoffs: readonly (CalendarHandoff & { readonly stack?: string })[], format: "table" | "markdown"): Generator<string[]> {
    const several = handoffs.some((h) => h.stack !== undefined);
    const e = format === "markdown" ? markdownText : visible;
    const rows = handoffs.map((h) => [...(several ? [e(h.stack ?? "")] : []), h.deadline, e(h.app), e(h.credential), `g${h.generation}`, e(h.consumer), e(h.owner), h.servedFrom]);
    const head = [...(several ? ["STACK"] : []), ...handoffHeader];
    const title = `${plural(handoffs.length, "hand-off")} open in this range: a manual consumer copies the served value before the deadline, when the value it holds stops working`;
    if (format === "markdown") {
        yield ["### Hand-offs", "", title, "", rows.length ? markdownTable(head.map(capitalize), rows) : "_No hand-off in this range._", ""];
        return;
    }
    yield [`HAND-OFFS: ${title}`, ""];
    if (rows.length === 0) {
        yield ["  no hand-off in this range", ""];
        return;
    }
    const lines = textTableLines(head, rows);
    for (let i = 0; i < lines.length; i += linesPerChunk) yield lines.slice(i, i + linesPerChunk);
    yield [""];
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
    const blocks = tableBlocks("## Rotation calendar: several stacks", title, stacksHeader, rows, format);
    return joinedLines(calendar.handoffs ? concat(blocks, handoffBlocks(calendar.handoffs, format)) : blocks);
}
