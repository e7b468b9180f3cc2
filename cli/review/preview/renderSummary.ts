import { markdownCode, markdownText, terminalText } from "../../output/escape";
import { CommentBudget, maxShownLength, moreNote, shortened } from "../../output/commentBudget";
import { markdownTable, plural, textTable } from "../../output/table";
import type { DirectoryRoleChange, FederatedCredentialChange, FederatedIdentity, KeyVaultSecretChange, PermissionChange, ServedSlot, SlotVersion, Summary } from "./summaryTypes";
import { type SlotRow, summaryView, type SummaryView } from "./summaryView";

/**
 * The summary as a pull-request comment (markdown), for a terminal (table) or as JSON. Renders only what
 * the summary holds, which is value-free by construction: this module never sees the preview.
 *
 * Every string of the summary came from a pull request (names, types, keys, display names, subjects, and
 * the messages built around them), so each passes through the style's `text` or `code` before it is
 * written, and only the summary's own words are written as they are. The comment leads with what must not
 * be missed, before anything the pull request wrote: the privileged permissions it adds and the privileged
 * directory roles it hands out, then what breaks.
 *
 * A comment fits GitHub's limit (cli/output/escape.ts): names longer than any config allows are shortened with
 * their length, what must not be missed is always whole, and table rows beyond the budget are counted instead.
 */

export type SummaryFormat = "markdown" | "table" | "json";

/** How text from the preview and the summary's own emphasis look: markdown for a comment, plain for a terminal. */
interface Style {
    /** A name or a sentence holding names: shown literally, never as markup. */
    readonly text: (text: string) => string;
    /** Ids, URLs, subjects: literal, in a code span where there is one. */
    readonly code: (text: string) => string;
    /** Emphasis, for the summary's own words only. */
    readonly strong: (text: string) => string;
}

/** Text from the preview, shown literally (markdownText escapes markup, mentions and math). */
function literal(text: string): string {
    return markdownText(text);
}

const markdownStyle: Style = { text: literal, code: markdownCode, strong: (text) => `**${text}**` };
const plainStyle: Style = { text: terminalText, code: terminalText, strong: (text) => text };

const none = "-";

/** Pulumi project and stack names lead the comment only when they are plain names (they come from the pull request's Pulumi.yaml). */
const plainName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

function stackOf(summary: Summary): { project: string; stack: string; plain: boolean } | undefined {
    if (summary.project === null || summary.stack === null) return undefined;
    return { project: summary.project, stack: summary.stack, plain: plainName.test(summary.project) && plainName.test(summary.stack) };
}

function title(summary: Summary, style: Style): string {
    const stack = stackOf(summary);
    if (!stack) return `Identity changes: ${style.text(summary.source)}`;
    return stack.plain ? `Identity changes: ${style.text(stack.project)} / ${style.text(stack.stack)}` : "Identity changes";
}

/** The project and stack, when they were not plain enough for the heading: after the warnings. */
function stackLine(summary: Summary, style: Style): string[] {
    const stack = stackOf(summary);
    return stack && !stack.plain ? [`Pulumi project and stack: ${style.text(stack.project)} / ${style.text(stack.stack)}`, ""] : [];
}

function escalationLine(p: PermissionChange, style: Style): string {
    // The app, the one name here a pull request chooses, comes last.
    const delegated = p.kind === "delegated" ? ", delegated: consented for all users" : "";
    return `${style.text(p.api)} ${permissionLabel(p, style)}: tier ${tierLabel(p, style)}${delegated}, added to ${p.app === null ? "an app" : style.text(p.app)}`;
}

/** The role, from the catalog, and why it matters; an id the catalog does not know is shown as one. */
function roleLabel(r: DirectoryRoleChange, style: Style): string {
    if (r.role !== null) {
        const flags = [r.privileged ? "labelled PRIVILEGED by Microsoft" : "", r.tier0 ? `tier ${style.strong("0")}: a known path to Global Administrator` : ""].filter(Boolean);
        return `${style.text(r.role)}${flags.length ? ` (${flags.join(", ")})` : ""}`;
    }
    const what = r.roleId === null ? "a directory role not known until the update" : `the unrecognised directory role ${style.code(r.roleId)}`;
    return `${what} (${r.kind === "member" ? "an activated role's object id" : "not a built-in role's template id"}: it can stand for any role, Global Administrator's included)`;
}

const roleVerbs: Record<DirectoryRoleChange["kind"], string> = { assignment: "assigned to", eligibility: "made eligible (one activation away) for", member: "given as a member to" };

function roleEscalationLine(r: DirectoryRoleChange, style: Style): string {
    const principal = r.principal === null ? "a principal not known until the update" : style.code(r.principal);
    // The resource's name, chosen by the pull request, comes last.
    return `${roleLabel(r, style)}: ${roleVerbs[r.kind]} ${principal}, by ${style.text(r.resource)}`;
}

function roleEscalationTitle(view: SummaryView): string {
    return `${plural(view.roleEscalations.length, "privileged directory role")} handed out`;
}

/** Directory roles beside the permissions: a tenant's Global Administrator must not be scrolled past either. */
function roleEscalationBlock(view: SummaryView): string[] {
    if (view.roleEscalations.length === 0) return [];
    return ["> [!WARNING]", `> **${roleEscalationTitle(view)}:**`, ...view.roleEscalations.map((r) => `> - ${roleEscalationLine(r, markdownStyle)}`), ""];
}

function escalationTitle(view: SummaryView): string {
    return `${plural(view.escalations.length, "privileged permission")} added`;
}

/** GitHub renders `> [!WARNING]` as an alert box: an escalation must not be scrolled past. */
function escalationBlock(view: SummaryView): string[] {
    if (view.escalations.length === 0) return [];
    return ["> [!WARNING]", `> **${escalationTitle(view)}:**`, ...view.escalations.map((p) => `> - ${escalationLine(p, markdownStyle)}`), ""];
}

/** `> [!CAUTION]` is a red alert box: breaking changes must not be scrolled past either. */
function breakingBlock(view: SummaryView): string[] {
    if (view.breaking.length === 0) return [];
    return ["> [!CAUTION]", "> **Breaking for consumers.** Applying this preview:", ...view.breaking.map((b) => `> - ${literal(b.message)}`), ""];
}

function diagnosticsSentence(summary: Summary): string | undefined {
    const { errors, warnings } = summary.diagnostics;
    if (errors === 0) return undefined;
    return `The preview reported ${plural(errors, "error")}${warnings ? ` and ${plural(warnings, "warning")}` : ""}: this summary may be incomplete; see the pipeline log.`;
}

function diagnosticsBlock(summary: Summary): string[] {
    const sentence = diagnosticsSentence(summary);
    return sentence ? ["> [!WARNING]", `> ${sentence}`, ""] : [];
}

/** One line of totals, so that the comment says what it is about before the tables; counts their rows. */
function totalsLine(view: SummaryView): string {
    return view.headline.map((count) => count.words).join(" · ");
}

/** Operations named in the counts line, and characters of each name: Pulumi's are a word, more is not Pulumi's. */
const maxCounts = 20;
const maxOperationLength = 64;

/** Pulumi's own counts; an operation Pulumi adds later is named as the preview spells it. */
function countsLine(summary: Summary, style: Style): string {
    const words: Record<string, string> = { create: "to create", update: "to update", replace: "to replace", delete: "to delete", same: "unchanged" };
    const entries = Object.entries(summary.counts);
    const parts = entries.slice(0, maxCounts).map(([op, n]) => `${n} ${Object.prototype.hasOwnProperty.call(words, op) ? words[op] : style.text(shortened(op, maxOperationLength))}`);
    if (entries.length > maxCounts) parts.push(`${entries.length - maxCounts} more operations`);
    return parts.length > 0 ? `Pulumi resources: ${parts.join(", ")}.` : "Pulumi reported no resource counts.";
}

/** The date of an ISO-8601 instant; the summary only holds instants (or "[redacted]"), so the first ten characters. */
const day = (iso: string | null, style: Style) => (iso ? style.text(iso.slice(0, 10)) : "?");

function versionLabel(v: SlotVersion | null, slotted: boolean, style: Style): string {
    if (!v) return none;
    const parts: string[] = [];
    if (v.generation !== null || slotted) parts.push(v.generation !== null ? `g${v.generation}` : "g?");
    // A new certificate's start is only known once it is created; its end is the slot's.
    if (v.start) parts.push(`${day(v.start, style)} → ${day(v.end, style)}`);
    else if (v.end) parts.push(`until ${day(v.end, style)}`);
    if (v.keyId) parts.push(`key ${style.code(v.keyId)}`);
    return parts.length > 0 ? parts.join(", ") : none;
}

function credentialRows(slots: readonly SlotRow[], style: Style): string[][] {
    return slots.map(({ credential: c, slot: s }) => [
        c.app === null ? none : style.text(c.app),
        style.text(c.credential),
        c.type,
        s.slot === null ? none : String(s.slot),
        s.cause ? `${s.action} (${s.cause})` : s.action,
        versionLabel(s.before, s.slot !== null, style),
        versionLabel(s.after, s.slot !== null, style),
        s.explanation !== null ? style.text(s.explanation) : s.replaceReasons.length ? `replaced: ${s.replaceReasons.map(style.text).join(", ")}` : none,
    ]);
}

function permissionLabel(p: PermissionChange, style: Style): string {
    if (p.inCatalog && p.permission !== null) return style.text(p.permission);
    const id = p.id ? `${style.code(p.id)} ` : "";
    return `${p.permission ? `${style.text(p.permission)} ` : ""}${id}(not in the Microsoft Graph catalog)`;
}

function tierLabel(p: PermissionChange, style: Style): string {
    if (p.tier === null) return none;
    if (p.tier === 0) return `${style.strong("0")} (a known path to Global Administrator)`;
    if (p.tier === 1) return `${style.strong("1")} (high impact)`;
    return String(p.tier);
}

function consentLabel(p: PermissionChange): string {
    if (p.consent === "appRoleAssignment") return "app role assignment";
    if (p.consent === "delegatedGrant") return p.grantedTo === "oneUser" ? "delegated grant, one user" : "delegated grant, all users";
    return none;
}

function permissionRows(permissions: readonly PermissionChange[], style: Style): string[][] {
    return permissions.map((p) => [
        p.escalation ? style.strong(p.change) : p.change,
        p.app === null ? none : style.text(p.app),
        p.kind,
        style.text(p.api),
        permissionLabel(p, style),
        tierLabel(p, style),
        p.requested ? "yes" : none,
        consentLabel(p),
    ]);
}

const roleKinds: Record<DirectoryRoleChange["kind"], string> = { assignment: "assignment", eligibility: "eligibility", member: "member" };

function roleFlags(r: DirectoryRoleChange): string {
    if (r.role === null) return "unknown";
    const flags = [r.tier0 ? "tier 0" : "", r.privileged ? "PRIVILEGED" : ""].filter(Boolean);
    return flags.length ? flags.join(", ") : "no";
}

function roleRows(roles: readonly DirectoryRoleChange[], style: Style): string[][] {
    return roles.map((r) => [
        r.escalation ? style.strong(r.action) : r.action,
        r.app === null ? none : style.text(r.app),
        style.text(r.resource),
        roleKinds[r.kind],
        r.role !== null ? style.text(r.role) : r.roleId !== null ? `${style.code(r.roleId)} (not a built-in role)` : "(not known until the update)",
        roleFlags(r),
        r.principal === null ? "?" : style.code(r.principal),
    ]);
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
    return changes.map((c) => [
        c.app === null ? none : style.text(c.app),
        style.text(c.name),
        c.action,
        identityCell("issuer", c, style),
        identityCell("subject", c, style),
        identityCell("audiences", c, style),
    ]);
}

const servedLabel = (s: ServedSlot | null) => (s ? `slot ${s.slot ?? "?"} g${s.generation ?? "?"}` : none);

function keyVaultRows(secrets: readonly KeyVaultSecretChange[], style: Style): string[][] {
    const valueWords: Record<KeyVaultSecretChange["value"], string> = {
        new: "new value",
        changes: "value changes",
        unchanged: "value unchanged",
        unknown: "value may change",
        removed: "removed",
    };
    return secrets.map((s) => {
        const serves =
            s.servedBefore && s.servedAfter && (s.servedBefore.slot !== s.servedAfter.slot || s.servedBefore.generation !== s.servedAfter.generation)
                ? `${servedLabel(s.servedBefore)} → ${servedLabel(s.servedAfter)}`
                : servedLabel(s.servedAfter ?? s.servedBefore);
        return [
            s.app === null ? none : style.text(s.app),
            style.text(s.secretName),
            s.vault === null ? "(new vault)" : style.text(s.vault),
            s.action,
            valueWords[s.value],
            s.credential === null ? "(identity)" : style.text(s.credential),
            serves,
        ];
    });
}

function appRows(summary: Summary, style: Style): string[][] {
    return summary.apps.map((a) => [
        style.text(a.app),
        a.displayName === null ? none : style.text(a.displayName),
        a.application ?? none,
        a.servicePrincipal ?? none,
        a.clientId ? style.code(a.clientId) : "(new)",
        a.changedProperties.length ? a.changedProperties.map(style.text).join(", ") : none,
    ]);
}

/** A table of the summary: its title, header and rows, the same rows in every format. */
interface Table {
    readonly title: string;
    readonly header: readonly string[];
    readonly rows: readonly (readonly string[])[];
}

function tables(summary: Summary, view: SummaryView, style: Style): Table[] {
    return [
        { title: "Credentials", header: ["App", "Credential", "Type", "Slot", "Change", "Before", "After", "Why"], rows: credentialRows(view.slots, style) },
        { title: "Permissions", header: ["Change", "App", "Type", "API", "Permission", "Tier", "Requested", "Admin consent"], rows: permissionRows(summary.permissions, style) },
        { title: "Directory roles", header: ["Change", "App", "Resource", "Kind", "Role", "Privileged", "Principal"], rows: roleRows(summary.directoryRoles ?? [], style) },
        { title: "Federated credentials", header: ["App", "Name", "Change", "Issuer", "Subject", "Audiences"], rows: federatedRows(summary.federatedCredentials, style) },
        { title: "Key Vault secrets", header: ["App", "Secret", "Vault", "Change", "Value", "Credential", "Serves"], rows: keyVaultRows(summary.keyVaultSecrets, style) },
        { title: "App registrations", header: ["App", "Display name", "Application", "Service principal", "Client id", "Changed"], rows: appRows(summary, style) },
    ];
}

const noChanges = "No identity changes: no app registration, credential, permission, directory role, federated credential or Key Vault secret changes.";

/** Every string of the summary, objects and lists included, through `cut`. */
function mapStrings<T>(value: T, cut: (text: string) => string): T {
    if (typeof value === "string") return cut(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => mapStrings(item, cut)) as T;
    if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, cut);
        return out as T;
    }
    return value;
}

/**
 * The summary as a comment shows it: every name longer than any config allows shortened with its length (a 1 MB
 * resource name would make the comment too long to post). A breaking change's message holds names: those are
 * shortened inside it, so its own words still say what breaks.
 */
function forComment(summary: Summary): Summary {
    const cut = (text: string) => shortened(text);
    return {
        ...mapStrings({ ...summary, counts: {} }, cut),
        counts: summary.counts,
        breaking: summary.breaking.map((b) => {
            let message = b.message;
            for (const name of [b.subject, b.app]) if (name !== null && name.length > maxShownLength) message = message.split(name).join(shortened(name));
            return { ...mapStrings(b, cut), message: shortened(message, 4 * maxShownLength) };
        }),
    };
}

/** Room kept for the closing lines of a cut comment: a note per table at most. */
const closingRoom = 600;

function renderMarkdown(whole: Summary, maxChars: number): string {
    const summary = forComment(whole);
    const view = summaryView(summary);
    const budget = new CommentBudget(maxChars);
    const head: string[] = [`## ${title(summary, markdownStyle)}`, ""];
    // Escalations first: their lines hold catalog names and config-checked app names only. Then what
    // breaks, whose messages name resources; everything after may hold any name the preview has.
    head.push(...escalationBlock(view), ...roleEscalationBlock(view), ...breakingBlock(view), ...diagnosticsBlock(summary));
    const counts = [countsLine(summary, markdownStyle), ""];
    if (!summary.hasIdentityChanges) return budget.takeAll([...head, ...stackLine(summary, markdownStyle), noChanges, "", ...counts]).join("\n");
    head.push(totalsLine(view), "", ...stackLine(summary, markdownStyle));
    const keep = closingRoom + CommentBudget.size(counts);
    const out = budget.takeAll(head, keep);
    for (const table of tables(summary, view, markdownStyle)) {
        if (table.rows.length === 0) continue;
        // The heading and header go with at least one row; the rows that do not fit are counted.
        const { lines, omitted } = budget.takeRows([`### ${table.title}`, "", ...markdownTable(table.header, table.rows).split("\n")], 4, keep);
        out.push(...lines, ...(lines.length ? [""] : []), ...(omitted ? [`_${table.title}: ${moreNote(omitted, "row")}_`, ""] : []));
    }
    out.push(...counts);
    return out.join("\n");
}

/** For a terminal: the same content in the same order, tables in columns, nothing raw from the preview. */
function renderText(summary: Summary): string {
    const view = summaryView(summary);
    const out: string[] = [title(summary, plainStyle), ""];
    if (view.escalations.length) out.push(`${escalationTitle(view).toUpperCase()}:`, ...view.escalations.map((p) => `  ${escalationLine(p, plainStyle)}`), "");
    if (view.roleEscalations.length) out.push(`${roleEscalationTitle(view).toUpperCase()}:`, ...view.roleEscalations.map((r) => `  ${roleEscalationLine(r, plainStyle)}`), "");
    if (view.breaking.length) out.push("BREAKING FOR CONSUMERS:", ...view.breaking.map((b) => `  ${terminalText(b.message)}`), "");
    const diagnostics = diagnosticsSentence(summary);
    if (diagnostics) out.push(diagnostics, "");
    if (!summary.hasIdentityChanges) {
        out.push(...stackLine(summary, plainStyle), noChanges, "", countsLine(summary, plainStyle), "");
        return out.join("\n");
    }
    out.push(totalsLine(view), "", ...stackLine(summary, plainStyle));
    for (const table of tables(summary, view, plainStyle)) {
        if (table.rows.length) out.push(`${table.title}:`, textTable(table.header.map((h) => h.toUpperCase()), table.rows), "");
    }
    out.push(countsLine(summary, plainStyle), "");
    return out.join("\n");
}

/**
 * Characters JSON.stringify leaves raw that a terminal would act on (C1 controls, bidirectional marks,
 * zero-width characters, line separators), written as `\uXXXX` escapes: the same JSON value, inert on a
 * screen. They can only occur inside strings, where an escape means the same character.
 */
const invisibleInJson = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * The summary as a pull-request comment (`markdown`), for a terminal (`table`) or as the documented JSON (`json`).
 * `maxChars`: markdown only, at most this many characters (0, the default: no limit).
 */
export function renderSummary(summary: Summary, format: SummaryFormat, options: { readonly maxChars?: number } = {}): string {
    if (format === "json") return `${JSON.stringify(summary, null, 2).replace(invisibleInJson, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
    return format === "table" ? renderText(summary) : renderMarkdown(summary, options.maxChars ?? 0);
}
