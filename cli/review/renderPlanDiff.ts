import type { PlanDiff } from "./planDiff";
import { markdownTable, type OutputFormat, textTable } from "../output/table";

const tierText = (tier: number | null, type: string) => (type === "delegated" ? "-" : tier === null ? "?" : String(tier));

function permissionRows(diff: PlanDiff): string[][] {
    return diff.permissions.map((p) => [
        p.change === "added" ? (p.escalation ? `added, ESCALATION (tier ${p.tier})` : "added") : "removed",
        p.app,
        p.type,
        p.api,
        p.name,
        tierText(p.tier, p.type),
        p.justification ?? "",
    ]);
}

function credentialRows(diff: PlanDiff): string[][] {
    return diff.credentials.map((c) => [c.breaking ? `${c.change}, BREAKING` : c.change, c.app, c.credential, c.type, String(c.slotsReplaced), c.detail]);
}

const permissionHeader = ["CHANGE", "APP", "TYPE", "API", "PERMISSION", "TIER", "JUSTIFICATION"];
const credentialHeader = ["CHANGE", "APP", "CREDENTIAL", "TYPE", "SLOTS REPLACED", "DETAIL"];

function headline(diff: PlanDiff): string {
    const escalations = diff.permissions.filter((p) => p.escalation).length;
    const parts = [
        diff.appsAdded.length ? `${diff.appsAdded.length} app(s) added` : "",
        diff.appsRemoved.length ? `${diff.appsRemoved.length} app(s) removed` : "",
        diff.permissions.length ? `${diff.permissions.length} permission change(s)${escalations ? `, ${escalations} escalation(s)` : ""}` : "",
        diff.credentials.length ? `${diff.credentials.length} credential change(s)` : "",
        diff.breaking.length ? `${diff.breaking.length} breaking` : "",
    ].filter(Boolean);
    return `${diff.project} / ${diff.stack}, ${diff.base} -> working tree, at ${diff.at}: ${parts.length ? parts.join(", ") : "no identity changes"}`;
}

export function renderPlanDiff(diff: PlanDiff, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(diff, null, 2) + "\n";
    const capital = (h: string) => h.charAt(0) + h.slice(1).toLowerCase();
    if (format === "markdown") {
        const out = [`## Identity plan: ${diff.project} / ${diff.stack}`, "", headline(diff), ""];
        if (diff.breaking.length) out.push("> [!CAUTION]", "> **Breaking for consumers:**", ...diff.breaking.map((b) => `> - ${b}`), "");
        const escalations = diff.permissions.filter((p) => p.escalation);
        if (escalations.length) out.push("> [!WARNING]", "> **Privileged permissions added:** " + escalations.map((p) => `${p.app}: ${p.name} (tier ${p.tier})`).join(", "), "");
        if (diff.appsAdded.length) out.push(`Apps added: ${diff.appsAdded.join(", ")}`, "");
        if (diff.appsRemoved.length) out.push(`Apps removed: ${diff.appsRemoved.join(", ")}`, "");
        if (diff.permissions.length) out.push("### Permissions", "", markdownTable(permissionHeader.map(capital), permissionRows(diff)), "");
        if (diff.credentials.length) out.push("### Credentials", "", markdownTable(credentialHeader.map(capital), credentialRows(diff)), "");
        return out.join("\n");
    }
    const out = [headline(diff), ""];
    if (diff.breaking.length) out.push("BREAKING FOR CONSUMERS:", ...diff.breaking.map((b) => `  ${b}`), "");
    if (diff.appsAdded.length) out.push(`apps added: ${diff.appsAdded.join(", ")}`);
    if (diff.appsRemoved.length) out.push(`apps removed: ${diff.appsRemoved.join(", ")}`);
    if (diff.permissions.length) out.push("", textTable(permissionHeader, permissionRows(diff)));
    if (diff.credentials.length) out.push("", textTable(credentialHeader, credentialRows(diff)));
    out.push("");
    return out.join("\n");
}
