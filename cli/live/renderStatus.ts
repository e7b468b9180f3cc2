import { markdownText } from "../output/escape";
import { markdownTable, type OutputFormat, textTable } from "../output/table";
import type { RowStatus, StatusHandoff, StatusReport, StatusRow } from "./status";
import { ago, usageLimits } from "./usage";

/** Worst first, so the top of the report is what needs doing. */
const order: readonly RowStatus[] = ["expired", "stale", "overdue", "still-used", "not-picked-up", "missing", "expiring", "retire", "unmanaged", "existing", "ok"];
/** The statuses the headline counts, in that order. */
const problemStatuses: readonly RowStatus[] = ["expired", "stale", "overdue", "still-used", "not-picked-up", "missing", "expiring"];

function urgency(row: StatusRow, thresholds: readonly number[]): string {
    if (row.status !== "expiring" || row.daysLeft === null) return row.status;
    const inner = [...thresholds].reverse().find((t) => row.daysLeft! < t);
    return inner !== undefined ? `expiring (<${inner}d)` : row.status;
}

/** The last sign-in cell: how long ago, `none` (within what was read), or `-` without evidence. */
function lastSignIn(row: StatusRow, report: StatusReport): string {
    const usage = report.usage;
    if (!usage?.source || !row.usage) return "-";
    if (row.usage.lastSignIn) return ago(row.usage.lastSignIn, new Date(report.at));
    return usage.since ? `none since ${usage.since.slice(0, 10)}` : "none";
}

function rowsOf(report: StatusReport): string[][] {
    const sorted = [...report.rows].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || (a.daysLeft ?? Infinity) - (b.daysLeft ?? Infinity));
    return sorted.map((r) => [
        urgency(r, report.thresholds),
        r.app,
        r.credential,
        r.kind,
        r.owner,
        r.slot === null ? "-" : `slot ${r.slot} g${r.generation}${r.served ? " (served)" : ""}`,
        r.expires ? r.expires.slice(0, 10) : "-",
        r.daysLeft === null ? "-" : String(r.daysLeft),
        ...(report.usage ? [lastSignIn(r, report)] : []),
        r.message,
    ]);
}

function header(report: StatusReport): string[] {
    return ["STATUS", "APP", "CREDENTIAL", "KIND", "OWNER", "SLOT", "EXPIRES", "DAYS LEFT", ...(report.usage ? ["LAST SIGN-IN"] : []), "NOTE"];
}

function headline(report: StatusReport): string {
    const c = report.counts;
    const problems = problemStatuses.filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
    const due = (report.handoffs ?? []).filter((h) => h.state === "due").length;
    if (due > 0) problems.push(`${due} hand-off${due === 1 ? "" : "s"} due`);
    return (
        `${report.project} / ${report.stack} at ${report.at}: ${report.applicationsScanned} application${report.applicationsScanned === 1 ? "" : "s"} read, ` +
        `${problems.length ? problems.join(", ") : "nothing needs attention"}` +
        `${c.unmanaged ? `; ${c.unmanaged} unmanaged credential${c.unmanaged === 1 ? "" : "s"}` : ""}` +
        `${(c.existing ?? 0) + (c.retire ?? 0) ? `; ${(c.existing ?? 0) + (c.retire ?? 0)} existing (made before the stack)${c.retire ? `, ${c.retire} to retire` : ""}` : ""} (thresholds ${report.thresholds.join("/")} days)`
    );
}

/** What the usage evidence is, or why there is none, and its limits; empty without `--usage`. */
function usageLines(report: StatusReport): string[] {
    const usage = report.usage;
    if (!usage) return [];
    const lines: string[] = [];
    if (usage.source) {
        const from = usage.source === "appCredentialSignInActivities" ? "Entra's credential sign-in report (Graph beta)" : `the sign-in log (Graph beta), read back to ${usage.since ?? "its start"}`;
        lines.push(`Usage: last sign-ins from ${from}; in use = signed in within ${usage.usedWithinDays} days, retiring = its slot is replaced within ${usage.replacedWithinDays} days.`);
    } else {
        const why = usage.unavailable;
        const what =
            why?.reason === "licence"
                ? `no licence: the tenant has no ${why.missing} (Graph answered ${why.detail})`
                : why?.reason === "permission"
                  ? `missing permission ${why.missing}: grant it to the identity that runs rotor status (Graph answered ${why.detail})`
                  : why?.reason === "cloud"
                    ? `not served in this cloud (Graph answered ${why.detail})`
                    : why
                      ? `could not be read (${why.detail})`
                      : "nothing to read";
        lines.push(`Usage: no evidence, ${what}. The exit code does not depend on it.`);
    }
    for (const note of usage.notes) lines.push(`Note: ${note}.`);
    lines.push(`Limits: ${usageLimits}.`);
    return lines;
}

/** Hand-offs in a report's order: due first, then open, then picked up; by deadline within each. */
const handoffOrder: readonly StatusHandoff["state"][] = ["due", "open", "picked-up"];

/** What a hand-off's state means, in its row's note. */
function handoffNote(h: StatusHandoff, within: number): string {
    if (h.state === "picked-up") return `picked up: a sign-in with generation ${h.generation} is on record${h.lastSignIn ? ` (${h.lastSignIn.slice(0, 10)})` : ""}`;
    return `copy generation ${h.generation} before ${h.deadline.slice(0, 10)}${h.state === "due" ? ` (within ${within} days)` : ""}, when the value ${h.consumer} holds now stops working`;
}

function capitalizeFirst(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The hand-off rows, with the stack's column first when `stack` is given (several stacks). */
export function handoffRows(handoffs: readonly StatusHandoff[], within: number, withUsage: boolean, at: Date, stack?: string): string[][] {
    const sorted = [...handoffs].sort((a, b) => handoffOrder.indexOf(a.state) - handoffOrder.indexOf(b.state) || a.deadline.localeCompare(b.deadline) || a.id.localeCompare(b.id));
    return sorted.map((h) => [
        ...(stack !== undefined ? [stack] : []),
        h.state,
        h.deadline.slice(0, 10),
        String(h.daysLeft),
        h.app,
        h.credential,
        `g${h.generation}`,
        h.consumer,
        h.owner,
        ...(withUsage ? [h.lastSignIn ? ago(h.lastSignIn, at) : "none"] : []),
        handoffNote(h, within),
    ]);
}

export function handoffHeader(withUsage: boolean, withStack: boolean): string[] {
    return [...(withStack ? ["STACK"] : []), "STATE", "DEADLINE", "DAYS LEFT", "APP", "CREDENTIAL", "GENERATION", "CONSUMER", "OWNER", ...(withUsage ? ["LAST SIGN-IN"] : []), "NOTE"];
}

/** What the section says under its heading. */
export const handoffsExplained = "manual consumers copy the served value before the deadline, when the value they hold stops working";

/** The HAND-OFFS section, when the report has hand-offs (a stack with a manual consumer); empty otherwise. */
function handoffLines(report: StatusReport, format: "table" | "markdown"): string[] {
    if (!report.handoffs) return [];
    const rows = handoffRows(report.handoffs, report.thresholds[0] ?? 30, report.usage !== undefined, new Date(report.at));
    const head = handoffHeader(report.usage !== undefined, false);
    if (format === "markdown") {
        const table = rows.length ? markdownTable(head.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), rows.map((row) => row.map(markdownText))) : "_No open hand-off._";
        return ["### Hand-offs", "", `${markdownText(capitalizeFirst(handoffsExplained))}.`, "", table, ""];
    }
    return [`HAND-OFFS: ${handoffsExplained}`, "", rows.length ? textTable(head, rows) : "  no open hand-off", ""];
}

export function renderStatus(report: StatusReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = rowsOf(report);
    const usage = usageLines(report);
    if (format === "markdown") {
        // Names and notes come from the tenant (a secret named in the portal) and Graph's answers: shown as written, never as markup.
        const table = rows.length ? markdownTable(header(report).map((h) => h.charAt(0) + h.slice(1).toLowerCase()), rows.map((row) => row.map(markdownText))) : "_No credentials._";
        return [`## Credential status: ${report.project} / ${report.stack}`, "", markdownText(headline(report)), "", table, "", ...handoffLines(report, "markdown"), ...(usage.length ? [usage.map(markdownText).join("\n\n"), ""] : [])].join("\n");
    }
    return [headline(report), "", rows.length ? textTable(header(report), rows) : "  no credentials", "", ...handoffLines(report, "table"), ...(usage.length ? [...usage, ""] : [])].join("\n");
}
