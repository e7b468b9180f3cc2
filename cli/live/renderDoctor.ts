import type { DoctorReport } from "./doctor";
import { markdownText } from "../output/escape";
import { markdownTable, type OutputFormat, textTable } from "../output/table";

export function renderDoctor(report: DoctorReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = report.checks.map((c) => [c.result, c.check, c.detail]);
    const failed = report.checks.filter((c) => c.result === "fail").length;
    const title = `${report.project} / ${report.stack}: ${report.checks.length} checks, ${failed ? `${failed} failing` : "ready for pulumi up"}`;
    // Details quote the tenant (display names, policy names) and the services' answers: shown as written, never as markup.
    if (format === "markdown") return [`## Preflight: ${report.project} / ${report.stack}`, "", markdownText(title), "", markdownTable(["Result", "Check", "Detail"], rows.map((row) => row.map(markdownText))), ""].join("\n");
    return [title, "", textTable(["RESULT", "CHECK", "DETAIL"], rows), ""].join("\n");
}
