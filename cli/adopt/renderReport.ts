import { textTableLines } from "../output/table";
import { firstExpiry, type ImportedApp, type ImportReport, type LeftOutApp, totals } from "./report";
import { said } from "./toConfig";

/**
 * The tenant report (`rotor import --dry-run --format table`): every credential by what expires first, the
 * applications in the same order with their tier-0 permissions and federated credentials, then what was left
 * out and what a person must act on. Also the summary a written import ends with. Text only: every value from
 * the tenant goes through the table's escaping, never raw to the terminal.
 */

const day = 86_400_000;

function daysLeft(expires: string | null, at: string): string {
    if (!expires) return "-";
    const days = Math.floor((Date.parse(expires) - Date.parse(at)) / day);
    return days < 0 ? `expired ${-days}d ago` : `${days}d`;
}

/** Soonest first; what does not expire last; then by name. */
function byExpiry(a: string | null, b: string | null): number {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return Date.parse(a) - Date.parse(b);
}

type AnyApp = (ImportedApp | LeftOutApp) & { readonly name?: string };

function appLabel(app: AnyApp): string {
    return app.name ?? `(left out) ${said(app.displayName, 60)}`;
}

export function renderTenantReport(report: ImportReport): string {
    const all: AnyApp[] = [...report.imported, ...report.leftOut];
    const t = totals(report);
    const lines: string[] = [
        `Tenant ${report.tenantId ?? "(signed-in)"} at ${report.at}: ${t["read"]} application${t["read"] === 1 ? "" : "s"} read, ${t["imported"]} adopted as stack ${report.stack}, ${t["leftOut"]} left out; ${t["tier0"]} tier-0 permission${t["tier0"] === 1 ? "" : "s"} to justify, ${t["toAct"]} finding${t["toAct"] === 1 ? "" : "s"} to act on`,
        "",
        "CREDENTIALS (soonest expiry first)",
    ];
    const credentials = all.flatMap((app) => app.credentials.map((c) => ({ app, c })));
    credentials.sort((x, y) => byExpiry(x.c.expires, y.c.expires) || appLabel(x.app).localeCompare(appLabel(y.app)));
    lines.push(
        ...(credentials.length === 0
            ? ["  none"]
            : textTableLines(
                  ["EXPIRES", "LEFT", "APP", "KIND", "KEY ID / NAME", "DISPLAY NAME / TRUSTS"],
                  credentials.map(({ app, c }) => [c.expires ?? "never", daysLeft(c.expires, report.at), appLabel(app), c.kind, c.id, c.label]),
              )),
    );
    lines.push("", "APPLICATIONS (soonest expiry first)");
    const apps = [...all].sort((x, y) => byExpiry(firstExpiry(x.credentials), firstExpiry(y.credentials)) || appLabel(x).localeCompare(appLabel(y)));
    lines.push(
        ...textTableLines(
            ["APP", "CLIENT ID", "FIRST EXPIRY", "SECRETS", "CERTIFICATES", "FEDERATED", "TIER-0 PERMISSIONS", "STATUS"],
            apps.map((app) => {
                const count = (kind: string) => String(app.credentials.filter((c) => c.kind === kind).length);
                const acts = app.findings.filter((f) => f.level === "act").length;
                const status = "reasons" in app ? "left out" : acts > 0 ? `adopted, ${acts} to act on` : "adopted";
                return [appLabel(app), app.appId, firstExpiry(app.credentials) ?? "-", count("secret"), count("certificate"), count("federated"), app.tier0.join(", ") || "-", status];
            }),
        ),
    );
    lines.push(...findingsLines(report));
    return `${lines.join("\n")}\n`;
}

/** What was left out and what to act on, as the report's last sections. */
export function findingsLines(report: ImportReport): string[] {
    const lines: string[] = [];
    if (report.leftOut.length > 0) {
        lines.push("", "LEFT OUT (the stack cannot declare them as the tenant holds them; pulumi up would change them)");
        for (const app of report.leftOut) lines.push(`  ${said(app.displayName, 80)} (client id ${app.appId}): ${app.reasons.map((r) => said(r, 400)).join("; ")}`);
    }
    const acts = report.imported.flatMap((app) => app.findings.filter((f) => f.level === "act").map((f) => ({ app, f })));
    if (acts.length > 0) {
        lines.push("", "TO ACT ON BEFORE THE FIRST PULUMI UP");
        for (const { app, f } of acts) lines.push(`  ${app.name}: ${said(f.message, 600)}`);
    }
    return lines;
}

/** What a written import prints: where the stack went, the counts, what was left out and what to act on. */
export function renderWritten(report: ImportReport, file: string): string {
    const t = totals(report);
    const lines = [
        `Wrote ${file}: ${t["imported"]} of ${t["read"]} application${t["read"] === 1 ? "" : "s"} adopted, ${t["leftOut"]} left out; ${t["tier0"]} tier-0 permission${t["tier0"] === 1 ? "" : "s"} to justify.`,
        ...findingsLines(report),
        "",
        "Next:",
        `  1. Write each empty justification in ${file} (rotor plan fails naming each until then), and read its ACT comments.`,
        `  2. npx rotor plan --stack ${report.stack}`,
        `  3. pulumi preview --stack ${report.stack}: every application, service principal and consent is imported, none created or changed.`,
    ];
    return `${lines.join("\n")}\n`;
}

/** What a dry run of the stack file says on stderr, beside the file on stdout. */
export function renderDryRunSummary(report: ImportReport): string {
    const t = totals(report);
    const lines = [
        `rotor import --dry-run: ${t["imported"]} of ${t["read"]} application${t["read"] === 1 ? "" : "s"} adopted, ${t["leftOut"]} left out; ${t["tier0"]} tier-0 permission${t["tier0"] === 1 ? "" : "s"} to justify.`,
        ...findingsLines(report),
    ];
    return `${lines.join("\n")}\n`;
}
