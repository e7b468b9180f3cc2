import { isoSeconds } from "../../rotation/instants";
import { generationAt, generationWindow, type RotationPolicy, slotOf } from "../../rotation/schedule";

/**
 * Rotation schedules as a Mermaid `gantt` chart, which GitHub and Azure DevOps draw from a ```mermaid block:
 * per credential a section; per generation a bar for the span its slot holds it (from its start until the
 * slot is reused two rotations later and it is deleted; its name gives the end date Entra has for it), an
 * `active` bar for the span Key Vault serves it, and a milestone for the rotation that creates it; for a
 * credential with a manual consumer, a red milestone at each generation's hand-off deadline. `rotor calendar --format mermaid` prints it raw;
 * `rotor plan --base --format markdown` embeds it in a fence.
 *
 * Names come from a stack file, which a pull request writes. In a gantt chart `:` starts a task's data, `#`
 * and `;` end it, `%%` starts a comment (and `%%{...}%%` a directive that reconfigures the chart), a line
 * break starts a statement and keywords such as `section` or `click` are read at the start of a line. So
 * every text goes through mermaidText, which keeps letters, digits and a few inert punctuation marks and
 * replaces the rest, and mermaidTaskName keeps a task's name from starting with a keyword; the names of the
 * generations' bars are built here from numbers and fixed words.
 *
 * Dates are written as UTC wall-clock time without a zone (`YYYY-MM-DD HH:mm:ss`): Mermaid reads a zone-less
 * date as the viewer's local time and draws it as written, so the chart shows the dates the calendar lists.
 * (Mermaid's strict date parsing cannot read `Z`, and an offset would move bars by the viewer's zone.)
 */

/** A rotating credential and what decides its schedule. */
export interface GanttCredential {
    readonly app: string;
    readonly credential: string;
    /** Added to the section's name, e.g. `before` and `after` in a plan diff. */
    readonly label?: string;
    readonly policy: RotationPolicy;
    readonly phase: number;
    /** Milestones of their own at the start of the section, e.g. the instant a change is applied. */
    readonly marks?: readonly GanttMark[];
    /**
     * Its manual consumers (`rotor calendar`): after each generation drawn, a red milestone at its hand-off's
     * deadline (the next generation's start, when the value they held stops working), when the range holds it.
     * One row per generation whatever the number of consumers, so ganttLimits still bound the chart.
     */
    readonly handoffConsumers?: readonly string[];
}

export interface GanttMark {
    /** Written by the caller from fixed words and numbers; still passed through mermaidText. */
    readonly name: string;
    /** Milliseconds since 1970. */
    readonly at: number;
    /** Drawn red: what breaks consumers. */
    readonly crit: boolean;
}

export interface GanttInput {
    /** The chart's title; passed through mermaidText, so it holds no `:` (write dates as YYYY-MM-DD, see ganttDay). */
    readonly title: string;
    readonly from: Date;
    /** Exclusive. */
    readonly to: Date;
    readonly credentials: readonly GanttCredential[];
}

/**
 * Bounds of one chart. Mermaid draws an error instead of a diagram of more than 50,000 characters (its
 * default `maxTextSize`), and a chart of thousands of rows is not read anyway. A generation is three rows
 * (rotation, held span, served span) of about 70 characters, a section one more: 120 generations stay under
 * 40,000 characters with the longest names. Sixteen per credential is a year of monthly rotation.
 */
export const ganttLimits = { generationsPerCredential: 16, generations: 120 } as const;

/** Mermaid's dates have four-digit years: a chart ends at 9999-12-31 whatever the range. */
const lastChartMs = Date.UTC(9999, 11, 31);
const dayMs = 86_400_000;
/** Longer text is cut: a title or section line stays readable beside the bars. */
const maxTextLength = 120;

export interface GanttChart {
    /** The chart's lines, raw (no fence). */
    readonly lines: readonly string[];
    /** Generations held in the range: drawn, and in all. */
    readonly generations: { readonly shown: number; readonly total: number };
    /** Credentials with at least one generation in the range: drawn, and in all. */
    readonly credentials: { readonly shown: number; readonly total: number };
    /** What the limits left out, in words, when they did; it is in the chart too (title and comment). */
    readonly truncated?: string;
}

/**
 * Text for a title, a section or a task name that Mermaid can only show: letters, digits, space and
 * `. _ / ( ) + , -` are kept, every other character (`:`, `#`, `;`, `%`, braces, angle brackets, `&`,
 * backticks, quotes, line breaks, controls, anything outside ASCII) becomes `_`; runs of spaces become
 * one, the text is trimmed and cut to 120 characters, and is never empty.
 */
export function mermaidText(text: string): string {
    const safe = text
        .replace(/[^A-Za-z0-9 ._/()+,-]/g, "_")
        .replace(/ {2,}/g, " ")
        .trim()
        .slice(0, maxTextLength)
        .trim();
    return safe === "" ? "_" : safe;
}

/**
 * What Mermaid's gantt lexer reads as a statement when a line starts with it (case-insensitive), before it
 * would read a task's name: a task named `title x` would retitle the chart, `click x` bind a link.
 */
const statementStart = /^(gantt|dateformat|inclusiveenddates|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title|acctitle|accdescr|section|click|\d{4}-\d{2}-\d{2})/i;

/** A task's name: mermaidText, and never the start of another statement. */
export function mermaidTaskName(text: string): string {
    const safe = mermaidText(text);
    return statementStart.test(safe) ? `_${safe}` : safe;
}

/** `2027-01-05 00:00:00`: UTC wall-clock time in the chart's dateFormat. */
export function ganttDate(ms: number): string {
    return isoSeconds(ms).slice(0, 19).replace("T", " ");
}

/** `2027-01-05`: a day for a title (a time would need `:`, which mermaidText replaces). */
export function ganttDay(ms: number): string {
    return isoSeconds(ms).slice(0, 10);
}

/**
 * How long a generation is held: from its start until its slot is reused two rotations later, when it is
 * deleted from the app (L >= 2R + 7, so that is before its end date; the rest is a late pipeline's margin).
 */
function heldDays(policy: RotationPolicy): number {
    return Math.min(policy.lifetimeDays, 2 * policy.rotateEveryDays);
}

/** The first and last generation whose held span [start, start + heldDays) meets [fromMs, toMs). */
function generationsMeeting(policy: RotationPolicy, phase: number, fromMs: number, toMs: number): { first: number; last: number } {
    const first = generationAt(new Date(fromMs - heldDays(policy) * dayMs), policy, phase) + 1;
    // Instants are whole milliseconds: a start before `to` is a start at or before `to - 1`.
    const last = generationAt(new Date(toMs - 1), policy, phase);
    return { first, last };
}

/** A consumer's name in a deadline's row is cut to this: the row stays short whatever the stack file holds. */
const maxConsumerLength = 32;

/** Who a deadline is for: the one manual consumer's name (cut), or how many; undefined when there is none. */
function handoffLabel(consumers: readonly string[] | undefined): string | undefined {
    if (!consumers || consumers.length === 0) return undefined;
    if (consumers.length > 1) return `${consumers.length} consumers`;
    const name = mermaidText(consumers[0]!);
    return name.length > maxConsumerLength ? `${name.slice(0, maxConsumerLength - 3).trim()}...` : name;
}

/** The chart of the credentials' generations in [from, to), bars cut to the range, within ganttLimits. Pure. */
export function renderGantt(input: GanttInput): GanttChart {
    const fromMs = input.from.getTime();
    const toMs = Math.min(input.to.getTime(), lastChartMs);
    const body: string[] = [];
    let budget: number = ganttLimits.generations;
    const generations = { shown: 0, total: 0 };
    const credentials = { shown: 0, total: 0 };
    const clip = (start: number, end: number) => [Math.max(start, fromMs), Math.min(end, toMs)] as const;
    let anyHandoffs = false;

    for (const c of input.credentials) {
        if (toMs <= fromMs) break;
        const { first, last } = generationsMeeting(c.policy, c.phase, fromMs, toMs);
        const count = Math.max(0, last - first + 1);
        generations.total += count;
        if (count > 0) credentials.total++;
        if (count === 0 || budget === 0) continue;
        const shown = Math.min(count, ganttLimits.generationsPerCredential, budget);
        budget -= shown;
        generations.shown += shown;
        credentials.shown++;
        body.push(`    section ${mermaidText(c.label ? `${c.app}/${c.credential} ${c.label}` : `${c.app}/${c.credential}`)}`);
        for (const mark of c.marks ?? []) {
            if (mark.at < fromMs || mark.at >= toMs) continue;
            body.push(`    ${mermaidTaskName(mark.name)} :${mark.crit ? "crit, " : ""}milestone, ${ganttDate(mark.at)}, 0d`);
        }
        const periodMs = c.policy.rotateEveryDays * dayMs;
        const heldMs = heldDays(c.policy) * dayMs;
        const handoffs = handoffLabel(c.handoffConsumers);
        if (handoffs) anyHandoffs = true;
        for (let g = first; g < first + shown; g++) {
            const window = generationWindow(g, c.policy, c.phase);
            const start = Date.parse(window.start);
            const slot = slotOf(g);
            // The rotation that creates it: its slot held generation g - 2 until then.
            if (start >= fromMs) body.push(`    g${g} replaces g${g - 2} in slot ${slot} :milestone, ${ganttDate(start)}, 0d`);
            const [heldFrom, heldTo] = clip(start, start + heldMs);
            body.push(`    g${g} in slot ${slot}, expires ${window.end.slice(0, 10)} :${ganttDate(heldFrom)}, ${ganttDate(heldTo)}`);
            // Served from its start until the next generation starts.
            const [servedFrom, servedTo] = clip(start, start + periodMs);
            if (servedFrom < servedTo) body.push(`    g${g} served :active, ${ganttDate(servedFrom)}, ${ganttDate(servedTo)}`);
            if (handoffs) {
                const deadline = Date.parse(generationWindow(g + 1, c.policy, c.phase).start);
                if (deadline >= fromMs && deadline < toMs) body.push(`    ${mermaidTaskName(`g${g} hand-off deadline, ${handoffs}`)} :crit, milestone, ${ganttDate(deadline)}, 0d`);
            }
        }
    }

    const truncated =
        generations.shown < generations.total
            ? `${generations.shown} of ${generations.total} generations (${credentials.shown} of ${credentials.total} credentials) are drawn: at most ${ganttLimits.generationsPerCredential} per credential and ${ganttLimits.generations} in all`
            : undefined;
    const stopped = input.to.getTime() > lastChartMs ? "the chart stops at 9999-12-31" : undefined;
    const title = mermaidText(input.title) + (truncated ? ` (truncated, ${generations.shown} of ${generations.total} generations)` : "");
    const lines = [
        "gantt",
        `    title ${title}`,
        "    dateFormat YYYY-MM-DD HH:mm:ss",
        "    axisFormat %Y-%m-%d",
        "    %% Times are UTC. Per generation: the span its slot holds it (until the slot is reused), the span Key Vault serves it (active), the rotation that creates it (milestone).",
        ...(anyHandoffs ? ["    %% Hand-off deadline (crit milestone): a manual consumer copies the served value before then, when the value it holds stops working."] : []),
        ...(truncated ? [`    %% ${mermaidText(truncated)}`] : []),
        ...(stopped ? [`    %% ${stopped}`] : []),
        ...body,
    ];
    return { lines, generations, credentials, ...(truncated ? { truncated } : {}) };
}
