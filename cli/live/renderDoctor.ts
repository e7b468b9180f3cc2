import type { DoctorReport } from "./doctor";
import { markdownTable, type OutputFormat, textTable } from "../output/table";

export function renderDoctor(report: DoctorReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = report.checks.map((c) => [c.result, c.check, c.detail]);
    const failed = report.checks.filter((c) => c.result === "fail").length;
    const title = `${report.project} / ${report.stack}: ${report.checks.length} checks, ${failed ? `${failed} failing` : "ready for pulumi up"}`;
    if (format === "markdown") return [`## Preflight: ${report.project} / ${report.stack}`, "", title, "", markdownTable(["Result", "Check", "Detail"], rows), ""].join("\n");
    return [title, "", textTable(["RESULT", "CHECK", "DETAIL"], rows), ""].join("\n");
}
