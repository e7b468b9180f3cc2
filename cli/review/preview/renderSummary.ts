import { markdownTable, plural, textTable } from "../../output/table";
import type { CredentialChange, FederatedCredentialChange, FederatedIdentity, KeyVaultSecretChange, PermissionChange, ServedSlot, SlotVersion, Summary } from "./summaryTypes";

/**
 * The summary as a pull-request comment (markdown) or as JSON. Renders only what the summary holds, which
 * is value-free by construction: this module never sees the preview.
 */

export type SummaryFormat = "markdown" | "table" | "json";

/** How emphasis and identifiers look: markdown for a comment, plain for a terminal. */
interface Style {
    readonly code: (text: string) => string;
    readonly strong: (text: string) => string;
}

/** Inline code, for ids and URLs: a backtick inside would end it, so there are none. */
const markdownStyle: Style = { code: (text) => `\`${text.replace(/`/g, "'")}\``, strong: (text) => `**${text}**` };
const plainStyle: Style = { code: (text) => text, strong: (text) => text };

const none = "-";

function heading(summary: Summary): string {
    const where = summary.project && summary.stack ? `${summary.project} / ${summary.stack}` : summary.source;
    return `## Identity changes: ${where}`;
}

/** GitHub renders `> [!CAUTION]` as a red alert box: breaking changes must not be scrolled past. */
function breakingBlock(summary: Summary): string[] {
    if (summary.breaking.length === 0) return [];
    return ["> [!CAUTION]", "> **Breaking for consumers.** Applying this preview:", ...summary.breaking.map((b) => `> - ${b.message}`), ""];
}

function escalationBlock(summary: Summary): string[] {
    const escalations = summary.permissions.filter((p) => p.escalation);
    if (escalations.length === 0) return [];
    return [
        "> [!WARNING]",
        `> **${plural(escalations.length, "privileged permission")} added:**`,
        ...escalations.map((p) => `> - ${p.app ?? "an app"} gains ${p.api} ${permissionLabel(p, markdownStyle)}: ${tierLabel(p, markdownStyle)}`),
        "",
    ];
}

function diagnosticsBlock(summary: Summary): string[] {
    const { errors, warnings } = summary.diagnostics;
    if (errors === 0) return [];
    return ["> [!WARNING]", `> The preview reported ${plural(errors, "error")}${warnings ? ` and ${plural(warnings, "warning")}` : ""}: this summary may be incomplete; see the pipeline log.`, ""];
}

/** One line of totals, so that the comment says what it is about before the tables. */
function totalsLine(summary: Summary): string {
    const slots = summary.credentials.flatMap((c) => c.slots);
    const count = (action: string) => slots.filter((s) => s.action === action).length;
    const rotated = slots.filter((s) => s.action === "rotated");
    const causes = (["scheduled", "change", "unknown"] as const)
        .map((cause) => [cause, rotated.filter((s) => s.cause === cause).length] as const)
        .filter(([, n]) => n > 0)
        .map(([cause, n]) => `${n} ${cause === "change" ? "by a change" : cause === "unknown" ? "cause unknown" : "scheduled"}`);
    const parts: string[] = [];
    if (rotated.length) parts.push(`${plural(rotated.length, "credential slot")} rotated (${causes.join(", ")})`);
    if (count("created")) parts.push(`${plural(count("created"), "credential slot")} created`);
    if (count("retired")) parts.push(`${plural(count("retired"), "credential slot")} retired`);
    const added = summary.permissions.filter((p) => p.change === "added").length;
    const removed = summary.permissions.length - added;
    if (added) parts.push(`${plural(added, "permission")} added`);
    if (removed) parts.push(`${plural(removed, "permission")} removed`);
    if (summary.federatedCredentials.length) parts.push(`${plural(summary.federatedCredentials.length, "federated credential")} changed`);
    if (summary.keyVaultSecrets.length) parts.push(`${plural(summary.keyVaultSecrets.length, "Key Vault secret")} changed`);
    if (summary.apps.length) parts.push(`${plural(summary.apps.length, "app registration")} changed`);
    return parts.join(" · ");
}

function countsLine(summary: Summary): string {
    const words: Record<string, string> = { create: "to create", update: "to update", replace: "to replace", delete: "to delete", same: "unchanged" };
    const parts = Object.entries(summary.counts).map(([op, n]) => `${n} ${words[op] ?? op}`);
    return parts.length > 0 ? `Pulumi resources: ${parts.join(", ")}.` : "Pulumi reported no resource counts.";
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "?");

function versionLabel(v: SlotVersion | null, slotted: boolean, style: Style): string {
    if (!v) return none;
    const parts: string[] = [];
    if (v.generation !== null || slotted) parts.push(v.generation !== null ? `g${v.generation}` : "g?");
    // A new certificate's start is only known once it is created; its end is the slot's.
    if (v.start) parts.push(`${day(v.start)} → ${day(v.end)}`);
    else if (v.end) parts.push(`until ${day(v.end)}`);
    if (v.keyId) parts.push(`key ${style.code(v.keyId)}`);
    return parts.join(", ");
}

function credentialRows(credentials: readonly CredentialChange[], style: Style): string[][] {
    return credentials.flatMap((c) =>
        c.slots.map((s) => [
            c.app ?? none,
            c.credential,
            c.type,
            s.slot === null ? none : String(s.slot),
            s.cause ? `${s.action} (${s.cause})` : s.action,
            versionLabel(s.before, s.slot !== null, style),
            versionLabel(s.after, s.slot !== null, style),
            s.explanation ?? (s.replaceReasons.length ? `replaced: ${s.replaceReasons.join(", ")}` : none),
        ]),
    );
}

function permissionLabel(p: PermissionChange, style: Style): string {
    if (p.inCatalog) return p.permission!;
    const id = p.id ? `${style.code(p.id)} ` : "";
    return `${p.permission ? `${p.permission} ` : ""}${id}(not in the Microsoft Graph catalog)`;
}

function tierLabel(p: PermissionChange, style: Style): string {
    if (p.kind === "delegated" || p.tier === null) return none;
    if (p.tier === 0) return `${style.strong("0")} (a known path to Global Administrator)`;
    if (p.tier === 1) return `${style.strong("1")} (high impact)`;
    return String(p.tier);
}

function consentLabel(p: PermissionChange): string {
    if (p.consent === "appRoleAssignment") return "app role assignment";
    if (p.consent === "delegatedGrant") return "delegated grant, all users";
    return none;
}

function permissionRows(permissions: readonly PermissionChange[], style: Style): string[][] {
    return permissions.map((p) => [p.escalation ? style.strong(p.change) : p.change, p.app ?? none, p.kind, p.api, permissionLabel(p, style), tierLabel(p, style), p.requested ? "yes" : none, consentLabel(p)]);
}

function identityCell(field: keyof FederatedIdentity, c: FederatedCredentialChange, style: Style): string {
    const show = (identity: FederatedIdentity | null) => {
        const value = identity?.[field];
        if (value === null || value === undefined) return "?";
        return Array.isArray(value) ? value.map(style.code).join(", ") : style.code(value as string);
    };
    if (c.before && c.after && c.changed.includes(field)) return `${show(c.before)} → ${show(c.after)}`;
    return show(c.after ?? c.before);
}

function federatedRows(changes: readonly FederatedCredentialChange[], style: Style): string[][] {
    return changes.map((c) => [c.app ?? none, c.name, c.action, identityCell("issuer", c, style), identityCell("subject", c, style), identityCell("audiences", c, style)]);
}

const servedLabel = (s: ServedSlot | null) => (s ? `slot ${s.slot ?? "?"} g${s.generation ?? "?"}` : none);

function keyVaultRows(secrets: readonly KeyVaultSecretChange[]): string[][] {
    const valueWords: Record<KeyVaultSecretChange["value"], string> = {
        new: "new value",
        changes: "value changes",
        unchanged: "value unchanged",
        unknown: "value may change",
        removed: "removed",
    };
    return secrets.map((s) => {
        const serves =
            s.servedBefore && s.servedAfter && JSON.stringify(s.servedBefore) !== JSON.stringify(s.servedAfter)
                ? `${servedLabel(s.servedBefore)} → ${servedLabel(s.servedAfter)}`
                : servedLabel(s.servedAfter ?? s.servedBefore);
        return [s.app ?? none, s.secretName, s.vault ?? "(new vault)", s.action, valueWords[s.value], s.credential ?? "(identity)", serves];
    });
}

function appRows(summary: Summary, style: Style): string[][] {
    return summary.apps.map((a) => [
        a.app,
        a.displayName ?? none,
        a.application ?? none,
        a.servicePrincipal ?? none,
        a.clientId ? style.code(a.clientId) : "(new)",
        a.changedProperties.length ? a.changedProperties.join(", ") : none,
    ]);
}

function section(title: string, header: readonly string[], rows: readonly (readonly string[])[]): string[] {
    return rows.length === 0 ? [] : [`### ${title}`, "", markdownTable(header, rows), ""];
}

/** The tables of a summary, each with its title and header; the same rows in every format. */
function tables(summary: Summary, style: Style): { title: string; header: string[]; rows: string[][] }[] {
    return [
        { title: "Credentials", header: ["App", "Credential", "Type", "Slot", "Change", "Before", "After", "Why"], rows: credentialRows(summary.credentials, style) },
        { title: "Permissions", header: ["Change", "App", "Type", "API", "Permission", "Tier", "Requested", "Admin consent"], rows: permissionRows(summary.permissions, style) },
        { title: "Federated credentials", header: ["App", "Name", "Change", "Issuer", "Subject", "Audiences"], rows: federatedRows(summary.federatedCredentials, style) },
        { title: "Key Vault secrets", header: ["App", "Secret", "Vault", "Change", "Value", "Credential", "Serves"], rows: keyVaultRows(summary.keyVaultSecrets) },
        { title: "App registrations", header: ["App", "Display name", "Application", "Service principal", "Client id", "Changed"], rows: appRows(summary, style) },
    ];
}

const noChanges = "No identity changes: no app registration, credential, permission, federated credential or Key Vault secret changes.";

function renderMarkdown(summary: Summary): string {
    const out: string[] = [heading(summary), ""];
    out.push(...breakingBlock(summary), ...diagnosticsBlock(summary));
    if (!summary.hasIdentityChanges) {
        out.push(noChanges, "", countsLine(summary), "");
        return out.join("\n");
    }
    out.push(totalsLine(summary), "", ...escalationBlock(summary));
    for (const table of tables(summary, markdownStyle)) out.push(...section(table.title, table.header, table.rows));
    out.push(countsLine(summary), "");
    return out.join("\n");
}

/** For a terminal: the same content, breaking changes and escalations first, tables in columns. */
function renderText(summary: Summary): string {
    const out: string[] = [heading(summary).replace(/^## /, ""), ""];
    if (summary.breaking.length) out.push("BREAKING FOR CONSUMERS:", ...summary.breaking.map((b) => `  ${b.message}`), "");
    const { errors, warnings } = summary.diagnostics;
    if (errors) out.push(`The preview reported ${plural(errors, "error")}${warnings ? ` and ${plural(warnings, "warning")}` : ""}: this summary may be incomplete.`, "");
    if (!summary.hasIdentityChanges) {
        out.push(noChanges, "", countsLine(summary), "");
        return out.join("\n");
    }
    out.push(totalsLine(summary), "");
    const escalations = summary.permissions.filter((p) => p.escalation);
    if (escalations.length) {
        out.push(`PRIVILEGED PERMISSIONS ADDED (${escalations.length}):`, ...escalations.map((p) => `  ${p.app ?? "an app"} gains ${p.api} ${permissionLabel(p, plainStyle)}: ${tierLabel(p, plainStyle)}`), "");
    }
    for (const table of tables(summary, plainStyle)) if (table.rows.length) out.push(`${table.title}:`, textTable(table.header.map((h) => h.toUpperCase()), table.rows), "");
    out.push(countsLine(summary), "");
    return out.join("\n");
}

/** The summary as a pull-request comment (`markdown`), for a terminal (`table`) or as the documented JSON (`json`). */
export function renderSummary(summary: Summary, format: SummaryFormat): string {
    if (format === "json") return JSON.stringify(summary, null, 2) + "\n";
    return format === "table" ? renderText(summary) : renderMarkdown(summary);
}
