import type { ConsumerChange, CredentialChangeEntry, PermissionChange, PlanDiff, RotationSchedule } from "./planDiff";
import { markdownCode, markdownText, visible } from "../output/escape";
import { CommentBudget, moreNote } from "../output/commentBudget";
import { markdownTable, type OutputFormat, textTable } from "../output/table";
import { type GanttCredential, ganttDay, renderGantt } from "./renderGantt";
import { delegatedNote, escAlert, escConsequence, escNotice } from "./renderPlan";

/**
 * `rotor plan --base` for a pull request comment or a terminal. The pull request wrote every name, subject,
 * justification and path in it (from a fork, too): in markdown each is escaped to show as written and never
 * as markup (no HTML comment can swallow what follows, no line break can end a table), in text control
 * characters are shown as escapes. What a reviewer must not miss (privileged permissions added, changes that
 * break consumers, a base config that could not be compared) comes first, and the headline counts the same
 * lists the sections show. The markdown ends with a Mermaid chart of the rotations that change, after the
 * tables; its names pass through mermaidText, which leaves nothing Mermaid or markdown would read as syntax.
 * The manual consumers a change adds (a person's work at every rotation from the merge on) and the ESC
 * environments the working tree's stack imports are named right after what must not be missed, and the
 * markdown fits a comment's budget of characters: rows beyond it are counted, not shown.
 */

type Escape = (text: string) => string;

/** A delegated permission is tier 0 or untiered (infra/model/privilege.ts): untiered is "-", not unknown. */
const tierText = (tier: number | null, type: string) => (tier === null ? (type === "delegated" ? "-" : "?") : String(tier));

function permissionRows(diff: PlanDiff, e: Escape): string[][] {
    return diff.permissions.map((p) => [
        p.change === "added" ? (p.escalation ? `added, ESCALATION (tier ${p.tier})` : "added") : "removed",
        e(p.app),
        p.type,
        e(p.api),
        e(p.name),
        tierText(p.tier, p.type),
        e(p.justification ?? ""),
    ]);
}

function credentialRows(diff: PlanDiff, e: Escape): string[][] {
    return diff.credentials.map((c) => [c.breaking ? `${c.change}, BREAKING` : c.change, e(c.app), e(c.credential), c.type, String(c.slotsReplaced), e(c.detail)]);
}

function consumerRows(diff: PlanDiff, e: Escape): string[][] {
    return (diff.consumers ?? []).map((c) => [c.newManual ? `${c.change}, NEW MANUAL` : c.change, e(c.app), e(c.credential), e(c.consumer), c.reads, e(c.detail)]);
}

const permissionHeader = ["CHANGE", "APP", "TYPE", "API", "PERMISSION", "TIER", "JUSTIFICATION"];
const credentialHeader = ["CHANGE", "APP", "CREDENTIAL", "TYPE", "SLOTS REPLACED", "DETAIL"];
const consumerHeader = ["CHANGE", "APP", "CREDENTIAL", "CONSUMER", "READS", "DETAIL"];

function newManualOf(diff: PlanDiff): ConsumerChange[] {
    return (diff.consumers ?? []).filter((c) => c.newManual);
}

/**
 * Each manual consumer this change adds: `Zendesk (owner @octocat): a person will be handed every new value of
 * mail-sender/main every 180 days`. The names and owners are the pull request's, so escaped.
 */
function newManualLines(diff: PlanDiff, e: Escape): string[] {
    return newManualOf(diff).map((c) => `${e(c.consumer)}${c.owner === null ? "" : ` (owner ${e(c.owner)})`}: a person will be handed every new value of ${e(`${c.app}/${c.credential}`)} every ${c.rotateEveryDays} days`);
}

/** What a manual consumer means, said once after the list. */
const newManualConsequence =
    "Each rotation opens a hand-off (rotor handoffs) that the owner must finish before the next one, when the previous value stops working. Prefer a federated credential where the vendor supports workload identity federation, or a certificate whose private key stays with the consumer (docs/rotation.md).";

function escalationsOf(diff: PlanDiff): PermissionChange[] {
    return diff.permissions.filter((p) => p.escalation);
}

function headline(diff: PlanDiff, e: Escape): string {
    const escalations = escalationsOf(diff).length;
    const parts = [
        diff.appsAdded.length ? `${diff.appsAdded.length} app(s) added` : "",
        diff.appsRemoved.length ? `${diff.appsRemoved.length} app(s) removed` : "",
        diff.permissions.length ? `${diff.permissions.length} permission change(s)${escalations ? `, ${escalations} escalation(s)` : ""}` : "",
        diff.credentials.length ? `${diff.credentials.length} credential change(s)` : "",
        diff.breaking.length ? `${diff.breaking.length} breaking` : "",
        diff.retirements?.length ? `${diff.retirements.length} credential(s) to retire from Entra` : "",
        diff.consumers?.length ? `${diff.consumers.length} consumer change(s)${newManualOf(diff).length ? `, ${newManualOf(diff).length} new manual` : ""}` : "",
    ].filter(Boolean);
    return `${e(diff.project)} / ${e(diff.stack)}, ${e(diff.base)} -> working tree, at ${diff.at}: ${parts.length ? parts.join(", ") : "no identity changes"}`;
}

function escalationLines(diff: PlanDiff, e: Escape): string[] {
    return escalationsOf(diff).map((p) => `${e(p.app)}: ${e(p.name)} on ${e(p.api)} (tier ${p.tier}${delegatedNote(p)})`);
}

/** Each credential this change marks for retirement: `app: "display name" (secret, key `id`, expires 2027-05-01)`. */
function retirementLines(diff: PlanDiff, e: Escape, code: Escape): string[] {
    return (diff.retirements ?? []).map((r) => `${e(r.app)}: ${r.displayName === null ? "" : `${e(`"${r.displayName}"`)} `}(${r.kind}, key ${code(r.keyId)}, expires ${r.expires.slice(0, 10)})`);
}

/** What a retirement does, said once after the list. */
const retirementConsequence =
    "After the merge, rotor retire removes each from the application in Entra, only when no sign-in with it within its window is on record (and never one of the stack's own credentials); a consumer still holding one then fails to sign in.";

/** Room kept for the closing notes of a cut comment: one per table and one for the chart, at most. */
const closingRoom = 400;

/**
 * `Apps added: a, b` with as many names as fit in a quarter of what is left (the tables after it say more), then
 * how many more.
 */
function appsLine(title: string, names: readonly string[], budget: CommentBudget, e: Escape): string[] {
    const escaped = names.map(e);
    const whole = [`${title}: ${escaped.join(", ")}`, ""];
    const share = budget.room(closingRoom) / 4;
    if (CommentBudget.size(whole) <= share && budget.take(whole, closingRoom)) return whole;
    const note = (n: number) => `and ${moreNote(n, "app")}`;
    const room = share - note(names.length).length - 4;
    let line = `${title}: `;
    let shown = 0;
    for (const name of escaped) {
        const next = `${shown ? ", " : ""}${name}`;
        if (line.length + next.length > room) break;
        line += next;
        shown++;
    }
    return budget.takeAll([`${line}${shown ? ", " : ""}${note(names.length - shown)}`, ""], closingRoom);
}

function baseNote(diff: PlanDiff, e: Escape): string | undefined {
    return diff.baseProblem === null ? undefined : `The config at ${e(diff.base)} ${e(diff.baseProblem)}, so it could not be compared: everything is shown as added.`;
}

const dayMs = 86_400_000;

function errorLines(diff: PlanDiff, e: (text: string) => string): string[] {
    return diff.errors.map((error) => `${e(error.path)}: ${e(error.message)}`);
}

const errorConsequence = "Whatever this pull request changes, deployments of the stack leave each as deployed, deploy the rest, and fail until it is fixed.";

function slotsText(c: CredentialChangeEntry): string {
    return c.slotsReplaced === 2 ? "this change replaces both slots" : c.slotsReplaced === 1 ? "this change replaces 1 slot" : "this change";
}

/**
 * The chart of the credentials whose rotation changes: each one's generations before and after, from the
 * plan's instant over the longest lifetime involved, with the change as a milestone (red when it replaces
 * both slots). Empty when no rotation changes.
 */
function rotationChart(diff: PlanDiff): string[] {
    const changes = diff.credentials.filter((c) => c.rotation !== undefined);
    if (changes.length === 0) return [];
    const at = Date.parse(diff.at);
    let longest = 0;
    for (const c of changes) longest = Math.max(longest, c.rotation!.before.lifetimeDays, c.rotation!.after.lifetimeDays);
    const to = at + longest * dayMs;
    const schedule = (s: RotationSchedule) => ({ policy: { rotateEveryDays: s.rotateEveryDays, lifetimeDays: s.lifetimeDays, epoch: s.epoch }, phase: s.phaseDays });
    const credentials: GanttCredential[] = changes.flatMap((c) => [
        { app: c.app, credential: c.credential, label: "before", ...schedule(c.rotation!.before) },
        { app: c.app, credential: c.credential, label: "after", ...schedule(c.rotation!.after), marks: [{ name: slotsText(c), at, crit: c.slotsReplaced === 2 }] },
    ]);
    const chart = renderGantt({ title: `Rotations before and after this change, ${ganttDay(at)} to ${ganttDay(to)}`, from: new Date(at), to: new Date(to), credentials });
    return [
        "### Rotation timeline",
        "",
        "Each credential whose rotation changes, before and after, from the plan's instant (UTC): per generation the span its slot holds it, the span Key Vault serves it (highlighted) and the rotation that creates it.",
        "",
        "```mermaid",
        ...chart.lines,
        "```",
        "",
        ...(chart.truncated ? [`The chart is truncated: ${chart.truncated}.`, ""] : []),
    ];
}

/**
 * `maxChars`: markdown only, at most this many characters (0, the default: no limit). What must not be missed comes
 * first and whole; table rows beyond the budget are counted in a note after their table.
 */
export function renderPlanDiff(diff: PlanDiff, format: OutputFormat, options: { readonly maxChars?: number } = {}): string {
    if (format === "json") return JSON.stringify(diff, null, 2) + "\n";
    const capital = (h: string) => h.charAt(0) + h.slice(1).toLowerCase();
    if (format === "markdown") {
        const e = markdownText;
        const budget = new CommentBudget(options.maxChars ?? 0);
        const head = ["## Identity plan", ""];
        const escalations = escalationLines(diff, e);
        if (escalations.length) head.push("> [!WARNING]", "> **Privileged permissions added:**", ...escalations.map((line) => `> - ${line}`), "");
        if (diff.breaking.length) head.push("> [!CAUTION]", "> **Breaking for consumers:**", ...diff.breaking.map((b) => `> - ${e(b)}`), "");
        if (diff.errors.length) head.push("> [!CAUTION]", "> **Credentials in error:**", ...errorLines(diff, e).map((line) => `> - ${line}`), `> ${errorConsequence}`, "");
        const retiring = retirementLines(diff, e, markdownCode);
        if (retiring.length) head.push("> [!IMPORTANT]", "> **Credentials to retire: removed from Entra after the merge:**", ...retiring.map((line) => `> - ${line}`), `> ${e(retirementConsequence)}`, "");
        const manual = newManualLines(diff, e);
        if (manual.length) head.push("> [!IMPORTANT]", "> **New manual consumers: a person copies each new value by hand:**", ...manual.map((line) => `> - ${line}`), `> ${e(newManualConsequence)}`, "");
        head.push(...escAlert(diff.escEnvironments ?? []));
        const note = baseNote(diff, e);
        if (note) head.push("> [!NOTE]", `> ${note}`, "");
        head.push(headline(diff, e), "");
        const out = budget.takeAll(head, closingRoom);
        if (diff.appsAdded.length) out.push(...appsLine("Apps added", diff.appsAdded, budget, e));
        if (diff.appsRemoved.length) out.push(...appsLine("Apps removed", diff.appsRemoved, budget, e));
        const tables: [string, readonly string[], string[][]][] = [
            ["Permissions", permissionHeader, diff.permissions.length ? permissionRows(diff, e) : []],
            ["Credentials", credentialHeader, diff.credentials.length ? credentialRows(diff, e) : []],
            ["Consumers", consumerHeader, consumerRows(diff, e)],
        ];
        for (const [title, header, rows] of tables) {
            if (rows.length === 0) continue;
            const { lines, omitted } = budget.takeRows([`### ${title}`, "", ...markdownTable(header.map(capital), rows).split("\n")], 4, closingRoom);
            out.push(...lines, ...(lines.length ? [""] : []), ...(omitted ? [`_${moreNote(omitted, `${title === "Permissions" ? "permission" : title === "Consumers" ? "consumer" : "credential"} change`)}_`, ""] : []));
        }
        const chart = rotationChart(diff);
        if (chart.length && budget.take(chart, closingRoom)) out.push(...chart);
        else if (chart.length) out.push("_The rotation timeline does not fit in the comment: see the run summary._", "");
        return out.join("\n");
    }
    const e = visible;
    const out: string[] = [];
    const escalations = escalationLines(diff, e);
    if (escalations.length) out.push("PRIVILEGED PERMISSIONS ADDED:", ...escalations.map((line) => `  ${line}`), "");
    if (diff.breaking.length) out.push("BREAKING FOR CONSUMERS:", ...diff.breaking.map((b) => `  ${e(b)}`), "");
    if (diff.errors.length) out.push("CREDENTIALS IN ERROR:", ...errorLines(diff, e).map((line) => `  ${line}`), `  ${errorConsequence}`, "");
    const retiring = retirementLines(diff, e, e);
    if (retiring.length) out.push("CREDENTIALS TO RETIRE (removed from Entra after the merge):", ...retiring.map((line) => `  ${line}`), `  ${retirementConsequence}`, "");
    const manual = newManualLines(diff, e);
    if (manual.length) out.push("NEW MANUAL CONSUMERS (a person copies each new value by hand):", ...manual.map((line) => `  ${line}`), `  ${newManualConsequence}`, "");
    const esc = escNotice(diff.escEnvironments ?? [], e);
    if (esc) out.push(`WARNING: ${esc}.`, `  ${escConsequence}`, "");
    const note = baseNote(diff, e);
    if (note) out.push(`NOTE: ${note}`, "");
    out.push(headline(diff, e), "");
    if (diff.appsAdded.length) out.push(`apps added: ${diff.appsAdded.map(e).join(", ")}`);
    if (diff.appsRemoved.length) out.push(`apps removed: ${diff.appsRemoved.map(e).join(", ")}`);
    if (diff.permissions.length) out.push("", textTable(permissionHeader, permissionRows(diff, e)));
    if (diff.credentials.length) out.push("", textTable(credentialHeader, credentialRows(diff, e)));
    if (diff.consumers?.length) out.push("", textTable(consumerHeader, consumerRows(diff, e)));
    out.push("");
    return out.join("\n");
}
