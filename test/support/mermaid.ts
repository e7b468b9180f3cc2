import { Window } from "happy-dom";

/**
 * Mermaid's own gantt parser, run in Node: `mermaid.parse()` (the lexer and grammar GitHub's renderer runs,
 * which throws on a syntax error) and then the gantt database its renderer draws from, with the dates Mermaid
 * computed. Mermaid passes every label through DOMPurify, which needs a DOM: happy-dom's window, set as the
 * global `window` before Mermaid (and so DOMPurify) is first imported. No browser, nothing drawn.
 */

export interface GanttTask {
    readonly section: string;
    /** As Mermaid reads it, trimmed. */
    readonly name: string;
    /** Mermaid's dates, as wall-clock time (`YYYY-MM-DD HH:mm:ss`): the chart's dates are UTC written without a zone. */
    readonly start: string;
    readonly end: string;
    readonly milestone: boolean;
    readonly active: boolean;
    readonly crit: boolean;
}

export interface ParsedGantt {
    readonly title: string;
    readonly dateFormat: string;
    readonly axisFormat: string;
    readonly sections: readonly string[];
    readonly tasks: readonly GanttTask[];
    /** What directives in the text configured: empty unless something injected one. */
    readonly config: object;
}

interface GanttDb {
    getDiagramTitle(): string;
    getDateFormat(): string;
    getAxisFormat(): string;
    getSections(): string[];
    getTasks(): { section: string; task: string; startTime: Date; endTime: Date; milestone?: boolean; active?: boolean; crit?: boolean }[];
}

let loading: Promise<typeof import("mermaid").default> | undefined;

function mermaid(): Promise<typeof import("mermaid").default> {
    if (!loading) {
        const global = globalThis as { window?: unknown };
        global.window ??= new Window();
        loading = import("mermaid").then((m) => m.default);
    }
    return loading;
}

const two = (n: number) => String(n).padStart(2, "0");
/** Mermaid reads a zone-less date as local time: its wall clock is the UTC time the chart wrote. */
const wallClock = (d: Date) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;

/** Parses a gantt chart as Mermaid does; throws what Mermaid throws on a syntax error or an invalid date. */
export async function parseGantt(text: string): Promise<ParsedGantt> {
    const m = await mermaid();
    const result = await m.parse(text);
    if (!result || result.diagramType !== "gantt") throw new Error(`not a gantt chart: ${JSON.stringify(result)}`);
    const diagram = await m.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db as unknown as GanttDb;
    return {
        title: db.getDiagramTitle(),
        dateFormat: db.getDateFormat(),
        axisFormat: db.getAxisFormat(),
        sections: db.getSections(),
        tasks: db.getTasks().map((t) => ({
            section: t.section,
            name: t.task.trim(),
            start: wallClock(t.startTime),
            end: wallClock(t.endTime),
            milestone: Boolean(t.milestone),
            active: Boolean(t.active),
            crit: Boolean(t.crit),
        })),
        config: result.config,
    };
}

/** The ```mermaid blocks of a markdown document. */
export function mermaidBlocks(markdown: string): string[] {
    return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}
