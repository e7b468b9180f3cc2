import { markdownText } from "../output/escape";
import { markdownTable, type OutputFormat, textTable } from "../output/table";
import type { VerifyReport } from "./verify";

const header = ["RESULT", "APP", "CREDENTIAL", "KIND", "KEY VAULT SECRET", "GENERATION", "WHAT IT MEANS", "WHAT TO DO"];

export function renderVerify(report: VerifyReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = report.rows.map((r) => [
        r.result,
        r.app,
        r.credential,
        r.kind,
        r.keyVaultSecretName,
        r.generation === null ? "-" : `g${r.generation}`,
        r.explanation ? `${r.explanation.code}: ${r.explanation.meaning}` : (r.error ?? ""),
        r.explanation?.fix ?? (r.result === "unavailable" ? "run pulumi up, then rotor status" : r.result === "disabled" ? "enable the secret's current version (or run pulumi up, which writes an enabled one)" : ""),
    ]);
    const failed = report.rows.filter((r) => r.result !== "ok").length;
    const title = `${report.project} / ${report.stack} at ${report.at}: ${report.rows.length} served credential${report.rows.length === 1 ? "" : "s"} signed in with, ${failed ? `${failed} failing` : "all ok"}`;
    // Entra's and Key Vault's answers are shown as written, never as markup.
    if (format === "markdown") return [`## Credential verification: ${report.project} / ${report.stack}`, "", markdownText(title), "", rows.length ? markdownTable(header.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), rows.map((row) => row.map(markdownText))) : "_Nothing served._", ""].join("\n");
    return [title, "", rows.length ? textTable(header, rows) : "  nothing served", ""].join("\n");
}
