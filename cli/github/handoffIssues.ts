import type { Handoff } from "../../infra/model/handoffs";
import type { GitHubIssue } from "./client";
import type { HandoffUsage } from "../live/handoffEvidence";
import { markdownCode, markdownText, visible } from "../output/escape";
import { markdownTable, textTableLines } from "../output/table";

/**
 * What `rotor handoff-issues` does with a repository's issues, as a pure function of the open hand-offs, the
 * issues that carry the hand-off label, and (with `--usage`) Entra's sign-in evidence per hand-off; and the text
 * of what it writes there. An issue is found again by a hidden marker in its body that names the hand-off's id
 * (`<!-- entra-rotor-handoff: <id> -->`; the id is value-free: project, stack, app, credential, generation and
 * consumer), so a rerun never opens one twice, and a closed one is never reopened.
 *
 * Everything shown comes from the stack file and is escaped (cli/output/escape.ts): a consumer or owner named
 * `@team` mentions no one, `#12` links no issue, and no name can end a table or open HTML. Links are only the
 * model's https ones. No credential value is ever read here, so none can be written.
 */

/** The label every hand-off issue carries; the listing asks GitHub for it. */
export const handoffLabel = "entra-rotor-handoff";

const markerPattern = /<!-- entra-rotor-handoff: ([A-Za-z0-9_.\/-]{1,400}) -->/;
/** `<project>/<stack>/<app>/<credential>/g<generation>/<consumer>` (infra/model/handoffs.ts). */
const idPattern = /^([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/g(\d+)\/([^/]+)$/;

/** The hidden line that ties an issue to its hand-off. */
export function handoffMarker(id: string): string {
    return `<!-- entra-rotor-handoff: ${id} -->`;
}

/** The hand-off id an issue's body names, or null. */
export function markerOf(body: string): string | null {
    return markerPattern.exec(body)?.[1] ?? null;
}

/** A hand-off id's parts: the consumer's hand-offs of one credential share `series`, and differ in `generation`. */
export function parseHandoffId(id: string): { readonly series: string; readonly project: string; readonly stack: string; readonly generation: number } | null {
    const m = idPattern.exec(id);
    if (!m) return null;
    return { series: `${m[1]}/${m[2]}/${m[3]}/${m[4]}/${m[6]}`, project: m[1]!, stack: m[2]!, generation: Number(m[5]) };
}

function seriesOf(handoff: Handoff): string {
    return parseHandoffId(handoff.id)?.series ?? handoff.id;
}

/** An issue as the decisions need it: what the client lists, its link aside. */
export type ExistingIssue = Omit<GitHubIssue, "htmlUrl">;

export interface OpenIssueAction {
    readonly action: "open";
    readonly handoffId: string;
    readonly issue: null;
    readonly reason: string;
    readonly handoff: Handoff;
    readonly title: string;
    readonly body: string;
    readonly labels: readonly string[];
    readonly assignees: readonly string[];
}

export interface CloseIssueAction {
    readonly action: "close";
    readonly handoffId: string;
    readonly issue: number;
    readonly reason: string;
    /** GitHub's state_reason: picked up is done; superseded was overtaken by the next generation. */
    readonly stateReason: "completed" | "not_planned";
    readonly why: "picked-up" | "superseded";
    /** When superseded: the generation the issue named, and the hand-off that replaces it (its issue is named in the comment once known). */
    readonly superseded?: { readonly generation: number; readonly by: Handoff };
    readonly comment: string;
}

export interface KeepIssueAction {
    readonly action: "keep";
    readonly handoffId: string;
    readonly issue: number | null;
    readonly reason: string;
}

export type IssueAction = OpenIssueAction | CloseIssueAction | KeepIssueAction;

export interface DecideInput {
    readonly project: string;
    readonly stack: string;
    /** The open hand-offs at `at` (openHandoffs). */
    readonly handoffs: readonly Handoff[];
    /** The repository's issues with the hand-off label, open and closed. */
    readonly issues: readonly ExistingIssue[];
    /** Per hand-off id, with `--usage`; undefined without. */
    readonly usage?: ReadonlyMap<string, HandoffUsage>;
    /** Why there is no evidence at all, when it could not be read (`--usage` given). */
    readonly usageUnavailable?: string;
    readonly at: Date;
}

const day = 86_400_000;

/** Whole days from `at` to `instant`, rounded down, as `rotor status` and `rotor handoffs` count them. */
export function daysLeft(instant: string, at: Date): number {
    return Math.floor((Date.parse(instant) - at.getTime()) / day);
}

function daysText(instant: string, at: Date): string {
    if (Date.parse(instant) <= at.getTime()) return "passed";
    const n = daysLeft(instant, at);
    return `${n} day${n === 1 ? "" : "s"} left`;
}

/**
 * The actions, one per open hand-off (open, close or keep its issue), then one per other open issue of this
 * stack (close when a newer generation of its consumer's hand-off superseded it, else keep). Issues of other
 * stacks or projects, and closed issues of past generations, are none of this run's business.
 */
export function decideIssueActions(input: DecideInput): IssueAction[] {
    const { at } = input;
    const byMarker = new Map<string, ExistingIssue[]>();
    for (const issue of input.issues) {
        const id = markerOf(issue.body);
        if (id === null) continue;
        const list = byMarker.get(id) ?? [];
        list.push(issue);
        byMarker.set(id, list);
    }
    // The issue of a hand-off: an open one if any (the lowest number), else the lowest closed one.
    const primary = (id: string) => [...(byMarker.get(id) ?? [])].sort((a, b) => (a.state === b.state ? a.number - b.number : a.state === "open" ? -1 : 1))[0];
    const actions: IssueAction[] = [];
    const current = new Map<string, Handoff>();
    const handled = new Set<number>();
    for (const handoff of input.handoffs) {
        current.set(seriesOf(handoff), handoff);
        const issue = primary(handoff.id);
        for (const other of byMarker.get(handoff.id) ?? []) handled.add(other.number);
        if (!issue) {
            actions.push({
                action: "open",
                handoffId: handoff.id,
                issue: null,
                reason: `no issue carries this hand-off's marker; owner ${visible(handoff.owner)}, deadline ${handoff.deadline} (${daysText(handoff.deadline, at)})`,
                handoff,
                title: issueTitle(handoff),
                body: issueBody(handoff, at),
                labels: [handoffLabel],
                assignees: handoff.githubLogin ? [handoff.githubLogin] : [],
            });
            continue;
        }
        const duplicates = (byMarker.get(handoff.id) ?? []).filter((i) => i.number !== issue.number).map((i) => `#${i.number}`);
        const also = duplicates.length ? `; ${duplicates.join(", ")} carr${duplicates.length === 1 ? "ies" : "y"} the same marker and ${duplicates.length === 1 ? "is" : "are"} left alone` : "";
        if (issue.state === "closed") {
            actions.push({ action: "keep", handoffId: handoff.id, issue: issue.number, reason: `closed: a closed hand-off issue is never reopened${also}` });
            continue;
        }
        const usage = input.usage?.get(handoff.id);
        if (usage?.state === "picked-up") {
            actions.push({
                action: "close",
                handoffId: handoff.id,
                issue: issue.number,
                reason: `picked up: generation ${handoff.generation}'s key id ${usage.keyId} signed in at ${usage.lastSignIn}, and the previous value has gone quiet (${previousText(usage)})${also}`,
                stateReason: "completed",
                why: "picked-up",
                comment: pickedUpComment(handoff, usage),
            });
            continue;
        }
        const left = `deadline ${handoff.deadline} (${daysText(handoff.deadline, at)})`;
        const waiting =
            input.usage === undefined
                ? input.usageUnavailable
                    ? `open: no sign-in evidence (${input.usageUnavailable}); ${left}`
                    : `open until --usage shows the new value in use or the next generation replaces it; ${left}`
                : usage?.state === "waiting"
                  ? `open: no sign-in with generation ${handoff.generation}'s key id${usage.keyId ? ` ${usage.keyId}` : ""} since it was served on ${handoff.servedFrom.slice(0, 10)}; ${left}`
                  : `open: no sign-in evidence for generation ${handoff.generation}${usage?.keyId === null ? " (the application does not hold it)" : input.usageUnavailable ? ` (${input.usageUnavailable})` : ""}; ${left}`;
        actions.push({ action: "keep", handoffId: handoff.id, issue: issue.number, reason: `${waiting}${also}` });
    }

    // The other open issues of this stack: a past generation of a consumer's hand-off, or one the stack no longer has.
    const others = input.issues
        .filter((issue) => issue.state === "open" && !handled.has(issue.number))
        .flatMap((issue) => {
            const id = markerOf(issue.body);
            const parsed = id === null ? null : parseHandoffId(id);
            return id !== null && parsed && parsed.project === input.project && parsed.stack === input.stack ? [{ issue, id, parsed }] : [];
        })
        .sort((a, b) => a.issue.number - b.issue.number);
    for (const { issue, id, parsed } of others) {
        const now = current.get(parsed.series);
        if (now && parsed.generation < now.generation) {
            actions.push({
                action: "close",
                handoffId: id,
                issue: issue.number,
                reason: `superseded by generation ${now.generation} (${now.id})`,
                stateReason: "not_planned",
                why: "superseded",
                superseded: { generation: parsed.generation, by: now },
                comment: supersededComment(parsed.generation, now, at),
            });
        } else if (now) {
            actions.push({ action: "keep", handoffId: id, issue: issue.number, reason: `generation ${parsed.generation} is after the one the schedule serves now (${now.generation}): left alone` });
        } else {
            actions.push({ action: "keep", handoffId: id, issue: issue.number, reason: "the stack no longer hands this credential to this consumer (removed, or no longer manual): close it by hand" });
        }
    }
    return actions;
}

// --- the text -------------------------------------------------------------------------------------------------

/** Plain text for a title: one line, no mention, no issue reference (GitHub links `#12` in titles too). */
function titleText(text: string): string {
    return visible(text)
        .replace(/@/g, "@\u200b")
        .replace(/#(?=\d)/g, "#\u200b")
        .replace(/(gh-)(?=\d)/gi, "$1\u200b");
}

export function issueTitle(handoff: Handoff): string {
    const title = titleText(`Hand-off: copy ${handoff.app}/${handoff.credential} generation ${handoff.generation} to ${handoff.consumer} by ${handoff.deadline.slice(0, 10)}`);
    return title.length > 240 ? `${title.slice(0, 239)}…` : title;
}

/** A markdown link to one of the model's https URLs; anything else is shown as code, never linked. */
export function httpsLink(text: string, url: string | null): string {
    if (url === null || url === "") return "-";
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return markdownCode(url);
    }
    if (parsed.protocol !== "https:" || parsed.username !== "" || parsed.password !== "" || /[\u0000-\u001f\u007f]/.test(url)) return markdownCode(url);
    // What stays literal in a link destination: no space, no parenthesis, no angle bracket, no backslash.
    const href = parsed.href.replace(/[()<>\\\s"`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
    return `[${markdownText(text)}](${href})`;
}

const kindText: Record<Handoff["kind"], string> = { secret: "client secret", certificate: "certificate" };

/** A note put at the top of the body when GitHub refused to assign the owner. */
export function assigneeRefusedNote(login: string, answer: string): string {
    return [
        "> [!NOTE]",
        `> GitHub would not assign this issue to ${markdownCode(`@${login}`)} (${markdownText(answer)}): assign it by hand, or give that account access to this repository.`,
    ].join("\n");
}

export function issueBody(handoff: Handoff, at: Date, note?: string): string {
    const e = markdownText;
    const stop = `${handoff.deadline} (${daysText(handoff.deadline, at)} on ${at.toISOString().slice(0, 10)})`;
    const vault = handoff.vault ? ` in the vault ${markdownCode(handoff.vault)}` : "";
    const rows: string[][] = [
        ["Consumer", e(handoff.consumer)],
        ["Owner", e(handoff.owner)],
        ["Credential", `${markdownCode(handoff.app)} / ${markdownCode(handoff.credential)} (${kindText[handoff.kind]})`],
        ["Generation", `${handoff.generation}, served by Key Vault since ${e(handoff.servedFrom)}`],
        ["Deadline", `**${e(stop)}**`],
        ["Key Vault secret", `${markdownCode(handoff.keyVaultSecretName)}${vault} (its newest version)`],
        ["Azure portal", httpsLink("the secret in the Azure portal", handoff.portalUrl)],
        ["Instructions", httpsLink("what to do with the new value", handoff.instructions)],
    ];
    return [
        handoffMarker(handoff.id),
        ...(note ? [note, ""] : []),
        `**${e(handoff.consumer)}** needs the new ${kindText[handoff.kind]} of ${markdownCode(handoff.app)} / ${markdownCode(handoff.credential)} (generation ${handoff.generation}) before **${e(handoff.deadline.slice(0, 10))}**: then the value it holds now stops working.`,
        "",
        markdownTable(["", ""], rows),
        "",
        "1. Open the Key Vault secret (reading it needs Key Vault Secrets User on the vault) and copy its newest version.",
        `2. Put it into ${e(handoff.consumer)} as the instructions say.`,
        "3. Nothing else: this issue closes itself once Entra's sign-in evidence shows the new value in use, or when the next generation replaces it.",
        "",
        "This issue never holds the value: never paste it here, in a comment or anywhere but where it belongs.",
        "",
        `Opened by ${markdownCode("rotor handoff-issues")} for the stack ${markdownCode(`${handoff.project}/${handoff.stack}`)}: hand-off ${markdownCode(handoff.id)}, declared at ${markdownCode(handoff.path)}.`,
        "",
    ].join("\n");
}

/** What the evidence says of the previous value, in words. */
function previousText(usage: HandoffUsage): string {
    if (usage.previousKeyId === null) return "no previous value is on the application";
    return usage.previousLastSignIn ? `its last sign-in ${usage.previousLastSignIn}` : "no sign-in with it on record";
}

export function pickedUpComment(handoff: Handoff, usage: HandoffUsage): string {
    return [
        `Picked up: Entra's sign-in evidence shows generation ${handoff.generation} of ${markdownCode(handoff.app)} / ${markdownCode(handoff.credential)} in use, a sign-in with the key id ${markdownCode(usage.keyId ?? "?")} at ${markdownText(usage.lastSignIn ?? "?")}, after it was served on ${markdownText(handoff.servedFrom)}, and nobody signs in with the previous value any more (${markdownText(previousText(usage))}). rotor's own sign-ins (the deployment's proof, rotor verify) use only the served value, so they cannot make the previous one look unused.`,
        "",
        `Closed by ${markdownCode("rotor handoff-issues --usage")}.`,
    ].join("\n");
}

/** When the value of `generation` stops working: its slot is replaced two generations later. */
export function stopsWorking(generation: number, current: Handoff): string {
    const period = Date.parse(current.deadline) - Date.parse(current.servedFrom);
    return new Date(Date.parse(current.servedFrom) + (generation + 2 - current.generation) * period).toISOString().replace(/\.000Z$/, "Z");
}

export function supersededComment(generation: number, current: Handoff, at: Date, newIssue?: number): string {
    const stop = stopsWorking(generation, current);
    const when = Date.parse(stop) > at.getTime() ? `stops working on ${markdownText(stop)}` : `stopped working on ${markdownText(stop)}`;
    const next = newIssue !== undefined ? ` Hand on generation ${current.generation} instead: #${newIssue}.` : ` Hand on generation ${current.generation} instead.`;
    return `Superseded by generation ${current.generation}; the value it named (generation ${generation}) ${when}.${next}\n\nClosed by ${markdownCode("rotor handoff-issues")}.`;
}

// --- the report -----------------------------------------------------------------------------------------------

/** What happened to one action: done, only said (`--dry-run`), failed on GitHub, or nothing to do (keep). */
export type ActionResult = "done" | "dry-run" | "failed" | "none";

export interface ReportedAction {
    readonly action: IssueAction["action"];
    readonly handoffId: string;
    /** The issue acted on or opened; null when none was (a dry run's open, a failed create). */
    readonly issue: number | null;
    readonly reason: string;
    readonly result: ActionResult;
    /** GitHub's answer when it failed, or what went only partly (an owner GitHub would not assign). */
    readonly note?: string;
}

export interface HandoffIssuesReport {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    /** `owner/name`. */
    readonly repository: string;
    readonly dryRun: boolean;
    /** With `--usage`: whether evidence was read, from where, and why not. */
    readonly usage: { readonly source: string | null; readonly unavailable: string | null; readonly notes: readonly string[] } | null;
    readonly actions: readonly ReportedAction[];
    /** The open hand-offs, each with its issue and (with `--usage`) its pickup. */
    readonly handoffs: readonly (Handoff & { readonly issue: number | null; readonly usage: HandoffUsage | null })[];
    /** 0 when every GitHub call worked, 1 when one failed (the others still ran). */
    readonly exitCode: 0 | 1;
}

function counts(report: HandoffIssuesReport): string {
    const n = (action: string, results: readonly ActionResult[]) => report.actions.filter((a) => a.action === action && results.includes(a.result)).length;
    const done: ActionResult[] = report.dryRun ? ["dry-run"] : ["done"];
    const failed = report.actions.filter((a) => a.result === "failed").length;
    const parts = [
        `${report.handoffs.length} open hand-off${report.handoffs.length === 1 ? "" : "s"}`,
        `${n("open", done)} issue${n("open", done) === 1 ? "" : "s"} ${report.dryRun ? "to open" : "opened"}`,
        `${n("close", done)} ${report.dryRun ? "to close" : "closed"}`,
        `${n("keep", ["none"])} kept`,
        ...(failed ? [`${failed} failed`] : []),
    ];
    return `${report.project} / ${report.stack} at ${report.at}, GitHub ${report.repository}: ${parts.join(", ")}${report.dryRun ? " (dry run: nothing was changed on GitHub)" : ""}`;
}

function usageLine(report: HandoffIssuesReport): string | undefined {
    if (!report.usage) return "Usage: not read; --usage closes an issue once Entra's sign-in evidence shows the new value in use.";
    if (report.usage.unavailable) return `Usage: no evidence (${report.usage.unavailable}): no issue is closed as picked up.`;
    if (report.usage.source === null) return "Usage: nothing to read: no open hand-off.";
    const from = report.usage.source === "appCredentialSignInActivities" ? "Entra's credential sign-in report (Graph beta)" : "the sign-in log (Graph beta)";
    return `Usage: sign-ins from ${from}; an issue closes once its generation's key id signed in after it was served.`;
}

const header = ["ACTION", "ISSUE", "RESULT", "HAND-OFF", "REASON"];

function rowsOf(report: HandoffIssuesReport): string[][] {
    return report.actions.map((a) => [a.action, a.issue === null ? "-" : `#${a.issue}`, a.result, a.handoffId, a.note ? `${a.reason} (${a.note})` : a.reason]);
}

export function renderHandoffIssues(report: HandoffIssuesReport, format: "table" | "markdown" | "json"): string {
    if (format === "json") {
        const { exitCode: _exit, ...document } = report;
        return `${JSON.stringify(document, null, 2)}\n`;
    }
    const notes = [usageLine(report), ...(report.usage?.notes ?? []).map((note) => `Note: ${note}.`)].filter((x): x is string => x !== undefined);
    if (format === "markdown") {
        const e = markdownText;
        const rows = rowsOf(report).map(([action, issue, result, id, reason]) => [e(action!), issue === "-" ? "-" : issue!, e(result!), markdownCode(id!), e(reason!)]);
        return [
            `## Hand-off issues: ${e(report.project)} / ${e(report.stack)}`,
            "",
            e(counts(report)),
            "",
            ...(rows.length ? [markdownTable(header.map((h) => h.charAt(0) + h.slice(1).toLowerCase()), rows), ""] : []),
            ...notes.map((line) => `${e(line)}\n`),
        ].join("\n");
    }
    const lines = [visible(counts(report))];
    if (report.actions.length) lines.push("", ...textTableLines(header, rowsOf(report)));
    lines.push("", ...notes.map(visible));
    return `${lines.join("\n")}\n`;
}

