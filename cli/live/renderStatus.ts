import { markdownTable, type OutputFormat, textTable } from "../output/table";
import type { RowStatus, StatusReport, StatusRow } from "./status";

/** Worst first, so the top of the report is what needs doing. */
const order: readonly RowStatus[] = ["expired", "stale", "overdue", "missing", "expiring", "unmanaged", "ok"];

function urgency(row: StatusRow, thresholds: readonly number[]): string {
    if (row.status !== "expiring" || row.daysLeft === null) return row.status;
    const inner = [...thresholds].reverse().find((t) => row.daysLeft! < t);
    return inner !== undefined ? `expiring (<${inner}d)` : row.status;
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
        r.message,
    ]);
}

const header = ["STATUS", "APP", "CREDENTIAL", "KIND", "OWNER", "SLOT", "EXPIRES", "DAYS LEFT", "NOTE"];

function headline(report: StatusReport): string {
    const c = report.counts;
    const problems = (["expired", "stale", "overdue", "missing", "expiring"] as const).filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
    return (
        `${report.project} / ${report.stack} at ${report.at}: ${report.applicationsScanned} application${report.applicationsScanned === 1 ? "" : "s"} read, ` +
        `${problems.length ? problems.join(", ") : "nothing needs attention"}` +
        `${c.unmanaged ? `; ${c.unmanaged} unmanaged credential${c.unmanaged === 1 ? "" : "s"}` : ""} (thresholds ${report.thresholds.join("/")} days)`
    );
}

export function renderStatus(report: StatusReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = rowsOf(report);
    if (format === "markdown") {
        return [`## Credential status: ${report.project} / ${report.stack}`, "", headline(report), "", rows.length ? markdownTable(header.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), rows) : "_No credentials._", ""].join("\n");
    }
    return [headline(report), "", rows.length ? textTable(header, rows) : "  no credentials", ""].join("\n");
}
