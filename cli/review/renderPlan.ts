import { type Chunks, joinedLines, jsonChunks } from "../output/chunks";
import { markdownCode, markdownText, visible } from "../output/escape";
import { CommentBudget, moreNote, shortened } from "../output/commentBudget";
import { capitalize, markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import { formatHours } from "../../infra/model/consumers";
import type { PlanApp, PlanCertificateFile, PlanConsumer, PlanCredential, PlanDocument, PlanExisting, PlanFederatedCredential, PlanPermission, PlanPrivileged, PlanStream } from "./plan";

/**
 * The plan for a terminal or a pull request comment. Everything in it that a stack file wrote (display
 * names, API and permission names, justifications, subjects, issuers, file paths, warnings) may come from a
 * fork: in markdown it is escaped so it shows as written and never as markup, in text its control
 * characters are shown as escapes. Privileged permissions and breaking changes come first, before any of it,
 * then the ESC environments the stack imports (config no review can see). In markdown, a comment fits a budget
 * of characters (GitHub refuses a longer one): what comes first is always whole, apps and warnings beyond the
 * budget are counted, not shown.
 */

/** How a cell's text is made safe: markdown escapes for a comment, visible escapes for a terminal. */
type Escape = (text: string) => string;

/** A plan held whole, or made app by app as it is written. */
type Plan = PlanDocument | PlanStream;

function tierLabel(p: PlanPermission): string {
    // A delegated permission is tier 0 or untiered (infra/model/privilege.ts): untiered is "-", not unknown.
    if (p.type === "delegated" && p.tier === null) return "-";
    const tier = p.tier === null ? "?" : String(p.tier);
    return p.justification ? `${tier} (justified)` : tier;
}

function consentLabel(p: PlanPermission): string {
    if (p.type === "application") return "admin: app role assignment";
    return `admin, all users: delegated grant${p.adminConsentRequired ? "" : " (user-consentable)"}`;
}

const permissionHeader = ["TYPE", "API", "PERMISSION", "TIER", "CONSENT"];

function permissionRows(permissions: readonly PlanPermission[], e: Escape): string[][] {
    return permissions.map((p) => [p.type, e(p.api), e(p.name), tierLabel(p), consentLabel(p)]);
}

const credentialHeader = ["CREDENTIAL", "TYPE", "SLOT 0", "SLOT 1", "SERVED", "NEXT ROTATION", "DAYS LEFT", "STATUS", "KEY VAULT SECRET"];

/** `g12 2026-10-01 -> 2027-04-29`: dates only, the times are in the JSON; a slot this run creates says so. */
function slotLabel(c: PlanCredential, slot: 0 | 1): string {
    const s = c.slots.find((x) => x.slot === slot)!;
    const label = `g${s.generation} ${s.start.slice(0, 10)} -> ${s.end.slice(0, 10)}`;
    return s.credentialStart ? `${label} (new, from ${s.credentialStart.slice(0, 10)})` : label;
}

/** A credential's status in a table, for one stack or several. */
export const statusLabels: Readonly<Record<PlanCredential["status"], string>> = {
    ok: "ok",
    rotates: "rotates",
    breaking: "BREAKING: both slots",
    expired: "EXPIRED: consumers failing",
    new: "new",
};

function secretNames(c: PlanCredential): string {
    return c.pfx ? `${c.keyVaultSecretName} (+ ${c.pfx.secretName}, ${c.pfx.passwordSecretName})` : c.keyVaultSecretName;
}

/** The CONSUMERS column: only in the table of an app whose credentials declare some (older documents have none). */
const consumersColumn = "CONSUMERS";

function hasConsumers(credentials: readonly PlanCredential[]): boolean {
    return credentials.some((c) => (c.consumers ?? []).length > 0);
}

/**
 * `mail-relay (keyVault, 24 hours)`, `Zendesk (manual: @octocat, hand-off g13, deadline 2027-06-01)`: each
 * consumer's name and owner are the stack file's, so escaped.
 */
function consumerLabel(c: PlanCredential, consumer: PlanConsumer, e: Escape): string {
    if (consumer.reads !== "manual") return `${e(consumer.name)} (${consumer.reads}, ${formatHours(consumer.refreshHours)})`;
    const owner = consumer.owner === null ? "" : `: ${e(consumer.owner)}`;
    const handoff = c.handoff ? `, hand-off g${c.handoff.generation}, deadline ${c.handoff.deadline.slice(0, 10)}` : "";
    return `${e(consumer.name)} (manual${owner}${handoff})`;
}

function consumersCell(c: PlanCredential, e: Escape): string {
    const consumers = c.consumers ?? [];
    return consumers.length ? consumers.map((consumer) => consumerLabel(c, consumer, e)).join(", ") : "-";
}

function credentialHeaderOf(credentials: readonly PlanCredential[]): string[] {
    return hasConsumers(credentials) ? [...credentialHeader, consumersColumn] : credentialHeader;
}

function credentialRows(credentials: readonly PlanCredential[], e: Escape): string[][] {
    const consumers = hasConsumers(credentials);
    return credentials.map((c) => [
        e(c.name),
        c.type,
        slotLabel(c, 0),
        slotLabel(c, 1),
        `slot ${c.servedSlot}`,
        c.nextRotation.slice(0, 10),
        String(c.daysLeft),
        statusLabels[c.status],
        e(secretNames(c)),
        ...(consumers ? [consumersCell(c, e)] : []),
    ]);
}

/** The credentials a run would break for consumers, loudly, before anything else. */
function alarms(plan: Plan, e: Escape): string[] {
    const lastRun = plan.since.slice(0, 10);
    if (plan.totals.breaking + plan.totals.expired === 0) return [];
    return [...plan.apps].flatMap((app: PlanApp) =>
        app.credentials.flatMap((c) => {
            const which = e(`${app.name}/${c.name}`);
            if (c.status === "expired") return [`${which}: the value served since the last run (${lastRun}) has expired; consumers fail until this run serves a new one.`];
            if (c.status === "breaking") return [`${which}: both slots are replaced because the last run was ${lastRun}, more than ${c.rotateEveryDays} days ago; consumers holding the value served until now lose it at once.`];
            return [];
        }),
    );
}

/** `app: Permission (tier 0, justified)`, one per privileged permission; a delegated one says it is consented for all users. */
function privilegedLines(privileged: readonly PlanPrivileged[], e: Escape): string[] {
    return privileged.map((p) => `${e(p.app)}: ${e(p.name)} on ${e(p.api)} (tier ${p.tier}${delegatedNote(p)}${p.justification === null ? "" : ", justified"})`);
}

/** `, delegated: consented for all users` for a delegated permission (entries of older documents have no type). */
export function delegatedNote(p: { readonly type?: string }): string {
    return p.type === "delegated" ? ", delegated: consented for all users" : "";
}

/** The title of the privileged permissions: application ones only, as it always said, or all of them. */
export function privilegedTitle(privileged: readonly { readonly type?: string }[]): string {
    return privileged.some((p) => p.type === "delegated") ? "Privileged permissions" : "Privileged application permissions";
}

/**
 * The ESC environments a stack imports: config from outside the repository that Pulumi adds when it deploys,
 * which no review can see. Said prominently, with the names as the stack file wrote them (escaped, shortened).
 */
export function escNotice(environments: readonly string[], e: Escape): string | undefined {
    if (environments.length === 0) return undefined;
    return `this stack imports ESC environments ${environments.map((name) => e(shortened(name))).join(", ")}: their values are not reviewed`;
}

/** Why the ESC notice matters, after it. */
export const escConsequence = "Pulumi adds the config they hold to the stack's config when it deploys; this review shows the stack file alone.";

/** The ESC notice as a markdown alert, or nothing. */
export function escAlert(environments: readonly string[]): string[] {
    const notice = escNotice(environments, markdownText);
    return notice === undefined ? [] : ["> [!WARNING]", `> **${capitalize1(notice)}.** ${escConsequence}`, ""];
}

function capitalize1(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

const certificateFileHeader = ["CERTIFICATE FILE", "FILE", "THUMBPRINT", "EXPIRES", "DAYS LEFT", "STATUS"];

function certificateFileStatus(c: PlanCertificateFile): string {
    if (c.status === "error") return c.daysLeft < 0 ? "ERROR: expired, replace the file" : `ERROR: not valid until ${c.notBefore.slice(0, 10)}`;
    return c.status === "expiring" ? "expiring: replace the file" : "ok";
}

function certificateFileRows(files: readonly PlanCertificateFile[], e: Escape): string[][] {
    return files.map((c) => [e(c.name), e(c.file), c.thumbprint, c.notAfter.slice(0, 10), String(c.daysLeft), certificateFileStatus(c)]);
}

/** Credentials that cannot be deployed at the plan's instant: each one's path and message, with the fix. */
function errorLines(plan: Plan, e: Escape): string[] {
    return plan.errors.map((error) => `${e(error.path)}: ${e(error.message)}`);
}

/** What a deployment does with a credential in error: said once, after the list. */
const errorConsequence = "A deployment leaves what is deployed for each as it is, deploys everything else, and fails at the end until it is fixed.";

const existingHeader = ["EXISTING", "KIND", "KEY ID", "EXPIRES", "DAYS LEFT", "STATUS"];

/** What happens to a credential made before the stack: kept, retired by rotor retire, or a warning. */
function existingStatus(c: PlanExisting): string {
    if (c.retire) return "retire: true (rotor retire removes it once unused)";
    if (c.finding) return c.daysLeft < 0 ? "WARNING: expired" : "WARNING: expires before consumers can move";
    return "kept (the stack leaves it as it is)";
}

function existingRows(existing: readonly PlanExisting[], e: Escape, code: Escape): string[][] {
    return existing.map((c) => [c.displayName === null ? "-" : e(c.displayName), c.kind, code(c.keyId), c.expires.slice(0, 10), String(c.daysLeft), existingStatus(c)]);
}

const federatedHeader = ["FEDERATED", "PRESET", "ISSUER", "SUBJECT", "AUDIENCE"];

function federatedRows(credentials: readonly PlanFederatedCredential[], e: Escape, code: Escape): string[][] {
    return credentials.map((c) => [e(c.name), c.preset, code(c.issuer), code(c.subject), code(c.audience)]);
}

function headline(plan: Plan, e: Escape): string {
    const t = plan.totals;
    const run = plan.firstDeployment
        ? `all ${t.new} new: the stack's first deployment creates both slots of each`
        : `${t.rotating} rotating on this run${t.breaking ? `, ${t.breaking} breaking` : ""}${t.expired ? `, ${t.expired} expired` : ""}`;
    return (
        `${e(plan.project)} / ${e(plan.stack)} at ${plan.at}: ${plural(t.apps, "app")}, ` +
        `${plural(t.permissions, "permission")} (${t.application} application, ${t.delegated} delegated; ` +
        `${t.tier0} tier 0, ${t.tier1} tier 1), ${plural(t.credentials, "rotating credential")} (${run}), ${t.federatedCredentials} federated` +
        `${t.errors ? `, ${plural(t.errors, "credential")} in error` : ""}` +
        `${t.existing ? `, ${t.existing} existing from before the stack (${t.retiring ?? 0} marked retire)` : ""}` +
        `${t.consumers ? `, ${plural(t.consumers, "consumer")} (${t.manualConsumers ?? 0} manual)` : ""}`
    );
}

/**
 * Under the headline of a plan relative to the default last run: what "on this run" assumes, and the plan of
 * a stack never deployed (a newcomer's first plan would otherwise show generations and "0 rotating").
 */
function sinceNote(plan: Plan): string | undefined {
    if (plan.firstDeployment || Date.parse(plan.at) - Date.parse(plan.since) !== 86_400_000) return undefined;
    return "Statuses assume a deployment a day earlier, as a daily pipeline makes. A stack never deployed gets everything new on its first pulumi up: rotor plan --since never shows that run.";
}

export interface RenderPlanOptions {
    /**
     * Markdown only: at most this many characters (0, the default: no limit). What must not be missed comes first
     * and whole; the apps and warnings that do not fit are counted in a closing note.
     */
    readonly maxChars?: number;
}

/** The plan as text, markdown or the documented JSON, in chunks: one per app. */
export function renderPlan(plan: Plan, format: OutputFormat, options: RenderPlanOptions = {}): Chunks {
    if (format === "json") return jsonChunks(plan);
    return joinedLines(format === "markdown" ? markdownBlocks(plan, options.maxChars ?? 0) : textBlocks(plan));
}

/** Room kept for the closing notes of a cut comment. */
const closingRoom = 200;

function* markdownBlocks(plan: Plan, maxChars: number): Generator<string[]> {
    const e = markdownText;
    const budget = new CommentBudget(maxChars);
    const alarm = alarms(plan, e);
    const head = ["## Credential plan", ""];
    if (plan.privileged.length) head.push("> [!WARNING]", `> **${privilegedTitle(plan.privileged)}:**`, ...privilegedLines(plan.privileged, e).map((line) => `> - ${line}`), "");
    if (alarm.length) head.push("> [!CAUTION]", "> **Breaking for consumers:**", ...alarm.map((a) => `> - ${a}`), "");
    if (plan.errors.length) head.push("> [!CAUTION]", "> **Errors:**", ...errorLines(plan, e).map((line) => `> - ${line}`), `> ${errorConsequence}`, "");
    head.push(...escAlert(plan.escEnvironments ?? []));
    const note = sinceNote(plan);
    head.push(headline(plan, e), ...(note ? ["", `_${note.replace("rotor plan --since never", "`rotor plan --since never`")}_`] : []), "");
    yield budget.takeAll(head, closingRoom);
    let appsLeft = 0;
    let i = 0;
    for (const app of plan.apps) {
        const out: string[] = [`### ${e(app.name)} (${e(app.displayName)})`, ""];
        out.push(app.permissions.length ? markdownTable(permissionHeader.map(capitalize), permissionRows(app.permissions, e)) : "_No API permissions._", "");
        if (app.credentials.length) out.push(markdownTable(credentialHeaderOf(app.credentials).map(capitalize), credentialRows(app.credentials, e)), "");
        if (app.certificateFiles.length) out.push(markdownTable(certificateFileHeader.map(capitalize), certificateFileRows(app.certificateFiles, e)), "");
        if (app.federatedCredentials.length) out.push(markdownTable(federatedHeader.map(capitalize), federatedRows(app.federatedCredentials, e, markdownCode)), "");
        if (app.existing?.length) out.push(markdownTable(existingHeader.map(capitalize), existingRows(app.existing, e, markdownCode)), "");
        i++;
        // In order: once an app does not fit, it and every app after it are counted instead.
        if (budget.take(out, closingRoom)) yield out;
        else {
            appsLeft = plan.apps.length - i + 1;
            break;
        }
    }
    let warningsLeft = 0;
    if (plan.warnings.length) {
        const { lines, omitted } = budget.takeRows(["### Warnings", "", ...plan.warnings.map((w) => `- ${markdownCode(w.path)}: ${e(w.message)}`)], 2, closingRoom);
        warningsLeft = omitted;
        if (lines.length) yield [...lines, ""];
    }
    if (appsLeft) yield [`_${moreNote(appsLeft, "app")}_`, ""];
    if (warningsLeft) yield [`_${moreNote(warningsLeft, "warning")}_`, ""];
}

function* textBlocks(plan: Plan): Generator<string[]> {
    const e = visible;
    const alarm = alarms(plan, e);
    const note = sinceNote(plan);
    yield [headline(plan, e), ...(note ? [note] : []), ""];
    const esc = escNotice(plan.escEnvironments ?? [], e);
    if (esc) yield [`WARNING: ${esc}.`, `  ${escConsequence}`, ""];
    if (alarm.length) yield ["BREAKING FOR CONSUMERS:", ...alarm.map((a) => `  ${a}`), ""];
    if (plan.privileged.length) yield [`${privilegedTitle(plan.privileged)}:`, ...privilegedLines(plan.privileged, e).map((line) => `  ${line}`), ""];
    if (plan.errors.length) yield ["ERRORS:", ...errorLines(plan, e).map((line) => `  ${line}`), `  ${errorConsequence}`, ""];
    for (const app of plan.apps) {
        const out: string[] = [`${e(app.name)}  ${e(app.displayName)}  (${app.signInAudience}${app.redirectUris.length ? `, ${app.redirectUris.length} redirect URI${app.redirectUris.length === 1 ? "" : "s"}` : ""})`];
        out.push(app.permissions.length ? textTable(permissionHeader, permissionRows(app.permissions, e)) : "  no API permissions");
        if (app.credentials.length) out.push("", textTable(credentialHeaderOf(app.credentials), credentialRows(app.credentials, e)));
        if (app.certificateFiles.length) out.push("", textTable(certificateFileHeader, certificateFileRows(app.certificateFiles, e)));
        if (app.federatedCredentials.length) out.push("", textTable(federatedHeader, federatedRows(app.federatedCredentials, e, e)));
        if (app.existing?.length) out.push("", textTable(existingHeader, existingRows(app.existing, e, e)));
        out.push("");
        yield out;
    }
    if (plan.warnings.length) yield ["Warnings:", ...plan.warnings.map((w) => `  ${e(w.path)}: ${e(w.message)}`), ""];
}
