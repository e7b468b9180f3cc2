import { markdownText, visible } from "../output/escape";
import { CommentBudget, moreNote } from "../output/commentBudget";
import { capitalize, markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import { delegatedNote, escConsequence, escNotice, privilegedTitle, statusLabels } from "./renderPlan";
import type { StacksPlan } from "./planStacks";

/**
 * Several stacks at once: what needs attention first (privileged permissions and credentials that break
 * consumers, across all stacks), then one table of the stacks and one of every rotating credential, each
 * with the stack as its first column. Text from the stack files is escaped as in the single-stack plan, and the
 * ESC environments a stack imports are named before the tables. In markdown the tables are cut to the budget of a
 * comment, as in the single-stack plan.
 */

type Escape = (text: string) => string;

const stackHeader = ["STACK", "TENANT", "APPS", "PERMISSIONS", "TIER 0", "TIER 1", "CREDENTIALS", "ROTATING", "BREAKING", "EXPIRED", "FEDERATED", "CONFIG"];
const credentialHeader = ["STACK", "APP", "CREDENTIAL", "TYPE", "SERVED", "NEXT ROTATION", "DAYS LEFT", "STATUS", "KEY VAULT SECRET"];


function stackRows(doc: StacksPlan, e: Escape): string[][] {
    return doc.stacks.map((entry) => {
        if (entry.plan === null) return [e(entry.stack), "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", `INVALID: ${plural(entry.errors.length, "error")}`];
        const t = entry.plan.totals;
        const config = t.errors ? `ERROR: ${plural(t.errors, "credential")}` : "ok";
        return [e(entry.stack), entry.tenantId ?? "-", String(t.apps), String(t.permissions), String(t.tier0), String(t.tier1), String(t.credentials), String(t.rotating), String(t.breaking), String(t.expired), String(t.federatedCredentials), config];
    });
}

function credentialRows(doc: StacksPlan, e: Escape): string[][] {
    const rows: string[][] = [];
    for (const entry of doc.stacks) {
        for (const app of entry.plan?.apps ?? []) {
            for (const c of app.credentials) {
                rows.push([e(entry.stack), e(app.name), e(c.name), c.type, `slot ${c.servedSlot}`, c.nextRotation.slice(0, 10), String(c.daysLeft), statusLabels[c.status], e(c.keyVaultSecretName)]);
            }
        }
    }
    return rows;
}

/** Tier 0 of every stack before tier 1 of any. */
function privilegedLines(doc: StacksPlan, e: Escape): string[] {
    const all = doc.stacks.flatMap((entry) => (entry.plan?.privileged ?? []).map((p) => ({ stack: entry.stack, p })));
    return [...all.filter(({ p }) => p.tier === 0), ...all.filter(({ p }) => p.tier === 1)].map(
        ({ stack, p }) => `${e(stack)}/${e(p.app)}: ${e(p.name)} on ${e(p.api)} (tier ${p.tier}${delegatedNote(p)}${p.justification === null ? "" : ", justified"})`,
    );
}

/** Each stack that imports ESC environments, and which: config no review can see. */
function escLines(doc: StacksPlan, e: Escape): string[] {
    return doc.stacks.flatMap((entry) => {
        const notice = escNotice(entry.plan?.escEnvironments ?? [], e);
        return notice === undefined ? [] : [`${e(entry.stack)}: ${notice}`];
    });
}

function allPrivileged(doc: StacksPlan): { readonly type?: string }[] {
    return doc.stacks.flatMap((entry) => entry.plan?.privileged ?? []);
}

function breakingLines(doc: StacksPlan, e: Escape): string[] {
    return doc.stacks.flatMap((entry) =>
        (entry.plan?.apps ?? []).flatMap((app) =>
            app.credentials
                .filter((c) => c.status === "breaking" || c.status === "expired")
                .map((c) => `${e(entry.stack)}/${e(app.name)}/${e(c.name)}: ${c.status === "expired" ? "the served value has expired; consumers fail until this run serves a new one" : "both slots are replaced at once; consumers holding the value served until now lose it"}`),
        ),
    );
}

function errorLines(doc: StacksPlan, e: Escape): string[] {
    return doc.stacks.flatMap((entry) => (entry.plan === null ? entry.errors.map((issue) => `${e(entry.stack)}: ${e(issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`)}`) : []));
}

/** Credentials that arose in error with time (an expired certificate file): the rest of their stack is planned. */
function credentialErrorLines(doc: StacksPlan, e: Escape): string[] {
    return doc.stacks.flatMap((entry) => (entry.plan?.errors ?? []).map((issue) => `${e(entry.stack)}: ${e(`${issue.path}: ${issue.message}`)}`));
}

const credentialErrorConsequence = "A deployment leaves what is deployed for each as it is, deploys the rest of its stack, and fails at the end until it is fixed.";

/** Room kept for the closing notes of a cut comment. */
const closingRoom = 200;

function headline(doc: StacksPlan): string {
    const valid = doc.stacks.filter((entry) => entry.plan !== null);
    const invalid = doc.stacks.length - valid.length;
    const apps = valid.reduce((n, entry) => n + entry.plan!.totals.apps, 0);
    const credentials = valid.reduce((n, entry) => n + entry.plan!.totals.credentials, 0);
    return `${plural(doc.stacks.length, "stack")} at ${doc.at}: ${plural(apps, "app")}, ${plural(credentials, "rotating credential")}${invalid ? `; ${invalid} with an invalid config` : ""}`;
}

export function renderPlanStacks(doc: StacksPlan, format: OutputFormat, options: { readonly maxChars?: number } = {}): string {
    if (format === "json") return `${JSON.stringify(doc, null, 2)}\n`;
    if (format === "markdown") {
        const e = markdownText;
        const budget = new CommentBudget(options.maxChars ?? 0);
        const out = ["## Credential plan: several stacks", ""];
        const privileged = privilegedLines(doc, e);
        if (privileged.length) out.push("> [!WARNING]", `> **${privilegedTitle(allPrivileged(doc))}:**`, ...privileged.map((line) => `> - ${line}`), "");
        const breaking = breakingLines(doc, e);
        if (breaking.length) out.push("> [!CAUTION]", "> **Breaking for consumers:**", ...breaking.map((line) => `> - ${line}`), "");
        const errors = errorLines(doc, e);
        if (errors.length) out.push("> [!CAUTION]", "> **Invalid config:**", ...errors.map((line) => `> - ${line}`), "");
        const inError = credentialErrorLines(doc, e);
        if (inError.length) out.push("> [!CAUTION]", "> **Credentials in error:**", ...inError.map((line) => `> - ${line}`), `> ${credentialErrorConsequence}`, "");
        const esc = escLines(doc, e);
        if (esc.length) out.push("> [!WARNING]", "> **ESC environments: their values are not reviewed.**", ...esc.map((line) => `> - ${line}`), `> ${escConsequence}`, "");
        out.push(headline(doc), "");
        const kept = budget.takeAll(out, closingRoom);
        const credentials = credentialRows(doc, e);
        // Each table's heading and header go with at least one row; rows beyond the budget are counted.
        for (const [lead, table] of [
            [[], markdownTable(stackHeader.map(capitalize), stackRows(doc, e))],
            [["### Rotating credentials", ""], credentials.length ? markdownTable(credentialHeader.map(capitalize), credentials) : ""],
        ] as const) {
            if (table === "") continue;
            const { lines, omitted } = budget.takeRows([...lead, ...table.split("\n")], lead.length + 2, closingRoom);
            kept.push(...lines, ...(lines.length ? [""] : []), ...(omitted ? [`_${moreNote(omitted, "row")}_`, ""] : []));
        }
        return kept.join("\n");
    }
    const e = visible;
    const out = [headline(doc), ""];
    const esc = escLines(doc, e);
    if (esc.length) out.push("WARNING: ESC ENVIRONMENTS ARE NOT REVIEWED:", ...esc.map((line) => `  ${line}`), `  ${escConsequence}`, "");
    const breaking = breakingLines(doc, e);
    if (breaking.length) out.push("BREAKING FOR CONSUMERS:", ...breaking.map((line) => `  ${line}`), "");
    const privileged = privilegedLines(doc, e);
    if (privileged.length) out.push(`${privilegedTitle(allPrivileged(doc))}:`, ...privileged.map((line) => `  ${line}`), "");
    const inError = credentialErrorLines(doc, e);
    if (inError.length) out.push("CREDENTIALS IN ERROR:", ...inError.map((line) => `  ${line}`), `  ${credentialErrorConsequence}`, "");
    out.push(textTable(stackHeader, stackRows(doc, e)), "");
    const rows = credentialRows(doc, e);
    if (rows.length) out.push(textTable(credentialHeader, rows), "");
    return out.join("\n");
}
