import * as path from "node:path";
import { openHandoffs } from "../infra/model/handoffs";
import { GitHubClient, GitHubError, type GitHubIssue, gitHubSettings } from "./github/client";
import {
    assigneeRefusedNote,
    decideIssueActions,
    handoffLabel,
    type HandoffIssuesReport,
    type IssueAction,
    issueBody,
    markerOf,
    type OpenIssueAction,
    type ReportedAction,
    renderHandoffIssues,
    supersededComment,
} from "./github/handoffIssues";
import type { CliIo } from "./io";
import { type LiveFlags, liveIo } from "./live/context";
import { type HandoffUsage, readHandoffUsage } from "./live/handoffEvidence";
import { unavailableText, type UsageEvidence } from "./live/usage";
import type { OutputFormat } from "./output/table";
import { loadStackModel } from "./stackModel";

export interface HandoffIssuesOptions extends LiveFlags {
    readonly stack: string;
    readonly usage?: boolean;
    /** Days without a sign-in with the previous value that show the consumers moved; default 7. */
    readonly usedWithin?: number;
    readonly dryRun?: boolean;
    readonly format: OutputFormat;
    readonly dir: string;
}

/** Why there is no evidence, in a few words; null when there is. */
function noEvidence(evidence: UsageEvidence): string | null {
    if (evidence.source !== null) return null;
    return evidence.unavailable ? unavailableText(evidence.unavailable) : (evidence.notes[0] ?? "nothing could be read");
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A 422 about the assignee: the login is no user GitHub can assign here (not a collaborator, or none at all). */
function assigneeRefused(error: unknown): boolean {
    return error instanceof GitHubError && error.status === 422 && (error.errors.some((e) => /^assignees?$/.test(e.field ?? "")) || /assignee/i.test(error.message));
}

/**
 * `rotor handoff-issues`: one GitHub issue per open hand-off (a manual consumer's copy of a new credential
 * value), found again by its hidden marker so a rerun never opens one twice; closed once Entra's sign-in evidence
 * shows the new value in use (`--usage`), or when the next generation supersedes it. With `--dry-run` it reads
 * and says, and writes nothing. Exit 0 when every GitHub call worked, 1 when one failed (the others still ran) or
 * the evidence asked for could not be read; hand-offs near their deadline do not change it (rotor status does).
 */
export async function runHandoffIssues(options: HandoffIssuesOptions, io: CliIo): Promise<number> {
    const at = io.now();
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, at, io.cwd);
    const github = new GitHubClient(gitHubSettings(io.env ?? {}));
    const handoffs = openHandoffs(model, at);
    const issues = await github.listIssues(handoffLabel);

    let usage: ReadonlyMap<string, HandoffUsage> | undefined;
    let usageReport: HandoffIssuesReport["usage"] = null;
    let usageUnavailable: string | undefined;
    let failed = false;
    if (options.usage) {
        try {
            const read = await readHandoffUsage(model, handoffs, options, liveIo(io), at, options.usedWithin ?? 7);
            usage = read.usage;
            const why = read.evidence ? noEvidence(read.evidence) : null;
            if (why) usageUnavailable = why;
            usageReport = { source: read.evidence?.source ?? null, unavailable: why, notes: read.evidence?.notes ?? [] };
        } catch (error) {
            // The hand-offs follow the schedule, not the tenant: issues are still opened, none closed as picked up.
            failed = true;
            usageUnavailable = `it could not be read: ${message(error).split("\n")[0]}`;
            usageReport = { source: null, unavailable: usageUnavailable, notes: [] };
            io.stderr(`rotor: usage evidence could not be read, so no issue is closed as picked up: ${message(error)}\n`);
        }
    }

    const actions = decideIssueActions({
        project: model.project,
        stack: model.stack,
        handoffs,
        issues,
        ...(usage ? { usage } : {}),
        ...(usageUnavailable ? { usageUnavailable } : {}),
        at,
    });
    const reported = options.dryRun ? actions.map((a): ReportedAction => ({ action: a.action, handoffId: a.handoffId, issue: a.issue, reason: a.reason, result: a.action === "keep" ? "none" : "dry-run" })) : await apply(github, actions, at);
    if (reported.some((a) => a.result === "failed")) failed = true;

    const issueOf = new Map<string, number>();
    for (const a of reported) if (a.issue !== null && (a.action === "open" || !issueOf.has(a.handoffId))) issueOf.set(a.handoffId, a.issue);
    const report: HandoffIssuesReport = {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: at.toISOString().replace(/\.000Z$/, "Z"),
        repository: github.repository,
        dryRun: options.dryRun ?? false,
        usage: usageReport,
        actions: reported,
        handoffs: handoffs.map((h) => ({ ...h, issue: issueOf.get(h.id) ?? null, usage: usage?.get(h.id) ?? null })),
        exitCode: failed ? 1 : 0,
    };
    io.stdout(renderHandoffIssues(report, options.format));
    return report.exitCode;
}

/** A failure after which GitHub may still have acted: a 5xx, or no answer at all. */
function uncertain(error: unknown): boolean {
    return error instanceof GitHubError && (error.status === null || error.status >= 500);
}

/**
 * Creates the hand-off's issue. GitHub may have opened it and still failed (a 502, a dropped connection): then the
 * labelled issues are read again, and one that carries the marker by now is the one; else one more try.
 */
async function createdOrFailed(github: GitHubClient, action: OpenIssueAction, body: string, assignees: readonly string[]): Promise<GitHubIssue> {
    const create = () => github.createIssue({ title: action.title, body, labels: action.labels, assignees });
    try {
        return await create();
    } catch (error) {
        if (!uncertain(error)) throw error;
        const found = (await github.listIssues(handoffLabel)).find((issue) => markerOf(issue.body) === action.handoffId);
        return found ?? (await create());
    }
}

/**
 * Opens first (so a superseded issue's comment can name its successor), then closes. Each action on its own: one
 * GitHub failure is that action's row, and the others still run.
 */
async function apply(github: GitHubClient, actions: readonly IssueAction[], at: Date): Promise<ReportedAction[]> {
    const results = new Map<IssueAction, ReportedAction>();
    const opened = new Map<string, number>();
    for (const action of actions) {
        if (action.action !== "open") continue;
        const base = { action: action.action, handoffId: action.handoffId, reason: action.reason };
        let note: string | undefined;
        try {
            let created: GitHubIssue;
            try {
                created = await createdOrFailed(github, action, action.body, action.assignees);
            } catch (error) {
                if (!assigneeRefused(error) || action.assignees.length === 0) throw error;
                // The owner is no account GitHub can assign here: open it anyway, saying so where the owner's team looks.
                const answer = message(error).replace(/^[A-Z]+ \S+: /, "");
                note = `GitHub would not assign @${action.assignees.join(", @")} (${answer}): opened unassigned`;
                created = await createdOrFailed(github, action, issueBody(action.handoff, at, assigneeRefusedNote(action.assignees[0]!, answer)), []);
            }
            opened.set(action.handoffId, created.number);
            if (!created.labels.includes(handoffLabel)) {
                // Labels are dropped for a token without push access: without it no rerun finds the issue again.
                try {
                    await github.addLabels(created.number, [handoffLabel]);
                } catch (error) {
                    results.set(action, { ...base, issue: created.number, result: "failed", note: `opened, but GitHub dropped the label ${handoffLabel} and would not add it (${message(error)}): add it by hand, or the next run opens another` });
                    continue;
                }
            }
            results.set(action, { ...base, issue: created.number, result: "done", ...(note ? { note } : {}) });
        } catch (error) {
            results.set(action, { ...base, issue: null, result: "failed", note: message(error) });
        }
    }
    for (const action of actions) {
        if (action.action === "open") continue;
        const base = { action: action.action, handoffId: action.handoffId, issue: action.issue, reason: action.reason };
        if (action.action === "keep") {
            results.set(action, { ...base, result: "none" });
            continue;
        }
        let comment = action.comment;
        if (action.superseded) {
            const { generation, by } = action.superseded;
            // The successor's issue: opened just now, or already there.
            const successor = opened.get(by.id) ?? actions.find((a) => a.handoffId === by.id && a.issue !== null)?.issue ?? undefined;
            if (successor !== undefined && successor !== null) comment = supersededComment(generation, by, at, successor);
        }
        try {
            await github.comment(action.issue, comment);
            await github.close(action.issue, action.stateReason);
            results.set(action, { ...base, result: "done" });
        } catch (error) {
            results.set(action, { ...base, result: "failed", note: message(error) });
        }
    }
    return actions.map((a) => results.get(a)!);
}
