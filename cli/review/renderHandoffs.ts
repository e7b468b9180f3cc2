import { type Handoff, openHandoffs } from "../../infra/model/handoffs";
import type { StackModel } from "../../infra/model/model";
import { dateToIsoSeconds } from "../../rotation/instants";
import { markdownCode, markdownText, visible } from "../output/escape";
import { markdownTable, type OutputFormat, plural, textTableLines } from "../output/table";

/**
 * `rotor handoffs`: the open hand-offs of a stack at an instant, offline from the schedule (infra/model/handoffs.ts),
 * as a table, markdown (an issue or a run's summary) or the documented JSON. Value-free like the model's hand-offs:
 * where the value is served (the Key Vault secret, the portal's page of it) and what to do, never the value.
 *
 * Consumer names and owners come from a stack file, which a pull request writes: in markdown they are escaped text
 * (no markup, no mention, no issue reference), and the only links are the model's own https links, each behind a
 * fixed word, its address percent-encoded so that nothing in it can end the link or the table cell.
 */

/** One open hand-off in the JSON (`rotor handoffs --format json`); documented in docs/commands.md, fields only added. */
export type HandoffEntry = Omit<Handoff, "project" | "stack"> & {
    /** Whole days from `at` to the deadline, rounded down (as `rotor status` counts them). */
    readonly daysLeft: number;
};

export interface HandoffsDocument {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    readonly handoffs: readonly HandoffEntry[];
}

const dayMs = 86_400_000;

/** Whole days from `at` to `deadline`, rounded down. */
export function handoffDaysLeft(deadline: string, at: Date): number {
    return Math.floor((Date.parse(deadline) - at.getTime()) / dayMs);
}

/** A hand-off as the JSON gives it: the fields named one by one, so the contract changes only on purpose. */
export function handoffEntry(h: Handoff, at: Date): HandoffEntry {
    return {
        id: h.id,
        app: h.app,
        credential: h.credential,
        kind: h.kind,
        generation: h.generation,
        consumer: h.consumer,
        owner: h.owner,
        githubLogin: h.githubLogin,
        instructions: h.instructions,
        keyVaultSecretName: h.keyVaultSecretName,
        vault: h.vault,
        secretUrl: h.secretUrl,
        portalUrl: h.portalUrl,
        servedFrom: h.servedFrom,
        deadline: h.deadline,
        daysLeft: handoffDaysLeft(h.deadline, at),
        path: h.path,
    };
}

/** The open hand-offs of the stack at `at`, by deadline. Pure. */
export function handoffsDocument(model: StackModel, at: Date): HandoffsDocument {
    return { schemaVersion: 1, project: model.project, stack: model.stack, at: dateToIsoSeconds(at), handoffs: openHandoffs(model, at).map((h) => handoffEntry(h, at)) };
}

/** What a URL may keep as it is inside a markdown link's `<...>` destination; everything else is percent-encoded. */
const hrefSafe = /[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%[\]]/;

/**
 * An https link's address for a markdown link destination, or undefined when it is not an https link. The URL
 * parser's own serialisation first (it encodes spaces, quotes and angle brackets), then every character outside
 * URL punctuation percent-encoded (a backslash, `|`, `<`, `>`, backtick, anything outside ASCII), and `&` written
 * as an entity, which markdown decodes back: written between `<` and `>`, nothing in it can end the link.
 */
export function markdownHref(link: string): string | undefined {
    let url: URL;
    try {
        url = new URL(link);
    } catch {
        return undefined;
    }
    if (url.protocol !== "https:" || url.username || url.password) return undefined;
    let out = "";
    for (const ch of url.href) {
        if (hrefSafe.test(ch)) out += ch === "&" ? "&amp;" : ch;
        else out += encodeURIComponent(ch);
    }
    return out;
}

/** `[word](<href>)` for an https link from the model, the word alone (escaped) for anything else. `word` is fixed text. */
export function markdownLink(word: string, link: string | null): string {
    const href = link ? markdownHref(link) : undefined;
    return href ? `[${markdownText(word)}](<${href}>)` : markdownText(word);
}

function headline(doc: HandoffsDocument): string {
    const n = doc.handoffs.length;
    const nearest = n > 0 ? `; the nearest deadline ${doc.handoffs[0]!.deadline} (${plural(doc.handoffs[0]!.daysLeft, "day")} left)` : "";
    return `${doc.project} / ${doc.stack} at ${doc.at}: ${n === 0 ? "no open hand-off" : plural(n, "open hand-off")}${nearest}`;
}

/** Why a hand-off matters, once per output. */
const explanation =
    "A manual consumer copies the value Key Vault serves into its system before the deadline: the value it holds now stops working then, when the next rotation replaces its slot.";
const none = "No credential of the stack has a manual consumer now (consumers with reads: manual).";

function where(h: HandoffEntry): string {
    return `Key Vault secret ${h.keyVaultSecretName}${h.vault ? ` in ${h.vault}` : " (the stack names no vault)"}`;
}

function textLines(doc: HandoffsDocument): string[] {
    const lines = [headline(doc), ""];
    if (doc.handoffs.length === 0) return [...lines, `  ${none}`, ""];
    const rows = doc.handoffs.map((h) => [h.deadline, String(h.daysLeft), h.owner, h.consumer, `${h.app}/${h.credential}`, `g${h.generation}`, h.keyVaultSecretName]);
    lines.push(...textTableLines(["DEADLINE", "DAYS LEFT", "OWNER", "CONSUMER", "CREDENTIAL", "GENERATION", "KEY VAULT SECRET"], rows), "", explanation, "");
    for (const h of doc.handoffs) {
        lines.push(
            visible(`${h.consumer}: copy generation ${h.generation} of ${h.app}/${h.credential} (${h.kind}) before ${h.deadline}, ${plural(h.daysLeft, "day")} left`),
            visible(`  owner        ${h.owner}`),
            visible(`  get it from  ${where(h)}${h.secretUrl ? `: ${h.secretUrl}` : ""}`),
            ...(h.portalUrl ? [visible(`  portal       ${h.portalUrl}`)] : []),
            visible(`  what to do   ${h.instructions}`),
            `  id           ${visible(h.id)}`,
            "",
        );
    }
    return lines;
}

function markdownLines(doc: HandoffsDocument): string[] {
    const lines = [`## Hand-offs: ${markdownText(`${doc.project} / ${doc.stack}`)}`, "", markdownText(headline(doc)), ""];
    if (doc.handoffs.length === 0) return [...lines, `_${markdownText(none)}_`, ""];
    const rows = doc.handoffs.map((h) => [
        markdownText(h.deadline),
        String(h.daysLeft),
        markdownText(h.owner),
        markdownText(h.consumer),
        `${markdownText(`${h.app}/${h.credential}`)} g${h.generation}`,
        `${markdownCode(h.keyVaultSecretName)}${h.vault ? ` in ${markdownCode(h.vault)}` : ""}${h.portalUrl ? ` (${markdownLink("Azure portal", h.portalUrl)})` : ""}`,
        markdownLink("instructions", h.instructions),
    ]);
    lines.push(markdownTable(["Deadline", "Days left", "Owner", "Consumer", "Credential", "Get the value", "What to do"], rows), "", markdownText(explanation), "");
    return lines;
}

export function renderHandoffs(doc: HandoffsDocument, format: OutputFormat): string {
    if (format === "json") return `${JSON.stringify(doc, null, 2)}\n`;
    return (format === "markdown" ? markdownLines(doc) : textLines(doc)).join("\n");
}
