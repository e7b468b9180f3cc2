import { markdownText, visible } from "../output/escape";
import { markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import { handoffHeader, handoffRows, handoffsExplained } from "./renderStatus";
import type { RowStatus, StatusReport } from "./status";

/**
 * `rotor status --stacks a,b` / `--all-stacks`: every stack's tenant and vault read in one run, one table and
 * one JSON document with the stack first. A stack that could not be read (its config, its sign-in, a
 * service) is its own row and does not hide the others.
 */
export interface StacksStatus {
    readonly schemaVersion: 1;
    readonly at: string;
    readonly stacks: readonly StackStatusEntry[];
    /** 1 when a stack could not be read, else 2 when something needs attention in any stack, else 0. */
    readonly exitCode: 0 | 1 | 2;
}

export type StackStatusEntry =
    | { readonly stack: string; readonly tenantId: string | null; readonly report: StatusReport; readonly error: null }
    | { readonly stack: string; readonly tenantId: string | null; readonly report: null; readonly error: string };

/** Worst first across stacks, as in one stack's report. */
const order: readonly RowStatus[] = ["expired", "stale", "overdue", "still-used", "not-picked-up", "missing", "expiring", "retire", "unmanaged", "existing", "ok"];
const problemStatuses: readonly RowStatus[] = ["expired", "stale", "overdue", "still-used", "not-picked-up", "missing", "expiring"];

export function stacksStatus(entries: readonly StackStatusEntry[], at: string): StacksStatus {
    const failed = entries.some((entry) => entry.error !== null);
    const attention = entries.some((entry) => entry.report?.exitCode === 2);
    return { schemaVersion: 1, at, stacks: entries, exitCode: failed ? 1 : attention ? 2 : 0 };
}

type Escape = (text: string) => string;

const header = ["STACK", "STATUS", "APP", "CREDENTIAL", "KIND", "SLOT", "EXPIRES", "DAYS LEFT", "NOTE"];

function rows(doc: StacksStatus, e: Escape): string[][] {
    const all: { rank: number; days: number; cells: string[] }[] = [];
    for (const entry of doc.stacks) {
        if (entry.report === null) {
            all.push({ rank: -1, days: -Infinity, cells: [e(entry.stack), "ERROR", "-", "-", "-", "-", "-", "-", e(entry.error)] });
            continue;
        }
        for (const r of entry.report.rows) {
            all.push({
                rank: order.indexOf(r.status),
                days: r.daysLeft ?? Infinity,
                cells: [
                    e(entry.stack),
                    r.status,
                    e(r.app),
                    e(r.credential),
                    r.kind,
                    r.slot === null ? "-" : `slot ${r.slot} g${r.generation}${r.served ? " (served)" : ""}`,
                    r.expires ? r.expires.slice(0, 10) : "-",
                    r.daysLeft === null ? "-" : String(r.daysLeft),
                    e(r.message),
                ],
            });
        }
    }
    // Stable: within a rank, the stacks keep their order.
    return all.sort((a, b) => a.rank - b.rank || a.days - b.days).map((row) => row.cells);
}

function headline(doc: StacksStatus): string {
    const read = doc.stacks.filter((entry) => entry.report !== null);
    const counts = new Map<RowStatus, number>();
    for (const entry of read) for (const status of problemStatuses) counts.set(status, (counts.get(status) ?? 0) + entry.report!.counts[status]);
    const problems = problemStatuses.filter((s) => (counts.get(s) ?? 0) > 0).map((s) => `${counts.get(s)} ${s}`);
    const due = read.reduce((n, entry) => n + (entry.report!.handoffs ?? []).filter((h) => h.state === "due").length, 0);
    if (due > 0) problems.push(`${plural(due, "hand-off")} due`);
    const apps = read.reduce((n, entry) => n + entry.report!.applicationsScanned, 0);
    const failed = doc.stacks.length - read.length;
    return (
        `${plural(doc.stacks.length, "stack")} at ${doc.at}: ${plural(apps, "application")} read, ${problems.length ? problems.join(", ") : "nothing needs attention"}` +
        `${failed ? `; ${failed} could not be read` : ""}`
    );
}

/**
 * The hand-offs of every stack that has a manual consumer, the stack first (due first across stacks, then by
 * deadline); null when no stack has one, so the output is as before.
 */
function handoffTable(doc: StacksStatus, e: Escape): { head: string[]; rows: string[][] } | null {
    const reports = doc.stacks.filter((entry) => entry.report?.handoffs !== undefined);
    if (reports.length === 0) return null;
    const withUsage = reports.some((entry) => entry.report!.usage !== undefined);
    const at = new Date(doc.at);
    const rows = reports.flatMap((entry) =>
        handoffRows(entry.report!.handoffs!, entry.report!.thresholds[0] ?? 30, withUsage, at, entry.stack).map((cells) => cells.map(e)),
    );
    const rank = (state: string) => ["due", "open", "picked-up"].indexOf(state);
    rows.sort((a, b) => rank(a[1]!) - rank(b[1]!) || a[2]!.localeCompare(b[2]!));
    return { head: handoffHeader(withUsage, true), rows };
}

export function renderStacksStatus(doc: StacksStatus, format: OutputFormat): string {
    if (format === "json") return `${JSON.stringify(doc, null, 2)}\n`;
    if (format === "markdown") {
        const e = markdownText;
        const table = rows(doc, e);
        const handoffs = handoffTable(doc, e);
        return [
            "## Credential status: several stacks",
            "",
            headline(doc),
            "",
            table.length ? markdownTable(header.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), table) : "_No credentials._",
            "",
            ...(handoffs
                ? ["### Hand-offs", "", `${e(handoffsExplained.charAt(0).toUpperCase() + handoffsExplained.slice(1))}.`, "", handoffs.rows.length ? markdownTable(handoffs.head.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), handoffs.rows) : "_No open hand-off._", ""]
                : []),
        ].join("\n");
    }
    const table = rows(doc, visible);
    const handoffs = handoffTable(doc, visible);
    return [
        headline(doc),
        "",
        table.length ? textTable(header, table) : "  no credentials",
        "",
        ...(handoffs ? [`HAND-OFFS: ${handoffsExplained}`, "", handoffs.rows.length ? textTable(handoffs.head, handoffs.rows) : "  no open hand-off", ""] : []),
    ].join("\n");
}
