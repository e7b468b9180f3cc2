import { markdownCode, markdownText, visible } from "../output/escape";
import { markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import type { RetireOutcome, RetireReport, RetireRow } from "./retire";
import { ago, usageLimits } from "./usage";

/**
 * `rotor retire` for a terminal, a pipeline's run summary (markdown) or a program (JSON). Display names come
 * from the tenant and the stack file: shown as written, never as markup or terminal control. What `--force`
 * overrides comes first, loudly.
 */

/** What needs a person first, then what was done, then what had nothing to do. */
const order: readonly RetireOutcome[] = ["failed", "in-use", "no-evidence", "managed", "not-found", "no-proof", "removed", "would-remove", "gone"];

const header = ["RESULT", "APP", "CREDENTIAL", "KIND", "KEY ID", "EXPIRES", "LAST SIGN-IN", "NOTE"];

function lastSignIn(row: RetireRow, report: RetireReport): string {
    if (row.lastSignIn) return ago(row.lastSignIn, new Date(report.at));
    if (!report.usage?.source || row.evidence === null) return "-";
    return report.usage.since ? `none since ${report.usage.since.slice(0, 10)}` : "none";
}

function rowsOf(report: RetireReport): string[][] {
    const sorted = [...report.rows].sort((a, b) => order.indexOf(a.outcome) - order.indexOf(b.outcome));
    return sorted.map((r) => [r.forced && (r.outcome === "removed" || r.outcome === "would-remove") ? `${r.outcome} (FORCED)` : r.outcome, r.app, r.displayName ?? "-", r.kind, r.keyId, r.expires.slice(0, 10), lastSignIn(r, report), r.message]);
}

function headline(report: RetireReport): string {
    const marked = report.rows.length;
    const head = `${report.project} / ${report.stack} at ${report.at}: `;
    if (marked === 0) return `${head}no credential is marked retire: true: nothing to do`;
    const parts = (["removed", "would-remove", "gone", "in-use", "no-evidence", "managed", "not-found", "no-proof", "failed"] as const)
        .filter((o) => report.counts[o] > 0)
        .map((o) => `${report.counts[o]} ${o === "would-remove" ? "to remove" : o}`);
    // --yes is named only with what it would remove: a dry run of credentials kept must not suggest it removes them.
    const removable = report.counts["would-remove"];
    const dry = !report.dryRun ? "" : removable > 0 ? ` (dry run: nothing was removed; --yes removes ${plural(removable, "credential")})` : " (dry run: nothing was removed)";
    return `${head}${plural(marked, "credential")} marked retire: true, ${parts.join(", ")}${dry}`;
}

/** What --force overrode, or would: said before anything else. */
function forcedLines(report: RetireReport): string[] {
    const forced = report.rows.filter((r) => r.forced && (r.outcome === "removed" || r.outcome === "would-remove"));
    if (forced.length === 0) return [];
    const verb = report.dryRun ? "would remove" : "removed";
    return [
        `--force ${verb} ${plural(forced.length, "credential")} with no usage evidence at all: nothing shows that nobody signs in with ${forced.length === 1 ? "it" : "them"}. A consumer still holding ${forced.length === 1 ? "it" : "one"} fails from now on.`,
        ...forced.map((r) => `${r.app}: ${r.displayName ?? r.keyId} (${r.kind}, key ${r.keyId})`),
    ];
}

function usageLines(report: RetireReport): string[] {
    const usage = report.usage;
    if (!usage) return [];
    const lines: string[] = [];
    if (usage.source) {
        const from = usage.source === "appCredentialSignInActivities" ? "Entra's credential sign-in report (Graph beta)" : `the sign-in log (Graph beta), read back to ${usage.since ?? "its start"}`;
        lines.push(`Usage: last sign-ins from ${from}; a sign-in within ${report.usedWithinDays} days keeps a credential.`);
    } else if (report.rows.some((r) => r.evidence === null && r.outcome !== "gone" && r.outcome !== "managed" && r.outcome !== "not-found")) {
        lines.push("Usage: no evidence could be read (grant AuditLog.Read.All; the tenant needs Microsoft Entra ID P1 or P2): nothing is removed without it unless --force.");
    }
    for (const note of usage.notes) lines.push(`Note: ${note}.`);
    lines.push(`Limits: ${usageLimits}.`);
    return lines;
}

export function renderRetire(report: RetireReport, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(report, null, 2) + "\n";
    const rows = rowsOf(report);
    const forced = forcedLines(report);
    const usage = rows.length ? usageLines(report) : [];
    if (format === "markdown") {
        const e = markdownText;
        const cells = rows.map((row) => row.map((cell, i) => (i === 4 ? markdownCode(cell) : e(cell))));
        return [
            `## Credential retirement: ${e(report.project)} / ${e(report.stack)}`,
            "",
            ...(forced.length ? ["> [!CAUTION]", `> **${e(forced[0]!)}**`, ...forced.slice(1).map((line) => `> - ${e(line)}`), ""] : []),
            e(headline(report)),
            "",
            ...(rows.length ? [markdownTable(header.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), cells), ""] : []),
            ...(usage.length ? [usage.map(e).join("\n\n"), ""] : []),
        ].join("\n");
    }
    const v = visible;
    return [
        ...(forced.length ? [`WARNING: ${v(forced[0]!)}`, ...forced.slice(1).map((line) => `  ${v(line)}`), ""] : []),
        v(headline(report)),
        "",
        ...(rows.length ? [textTable(header, rows), ""] : []),
        ...(usage.length ? [...usage.map(v), ""] : []),
    ].join("\n");
}
