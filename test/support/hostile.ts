import * as fs from "node:fs";
import * as path from "node:path";
import MarkdownIt from "markdown-it";

/**
 * Text an attacker writes into what becomes a review comment or a terminal line: each tries to end a table,
 * hide what follows, fake an alert or a link, mention a team, or rewrite the terminal. Shared by the hostile
 * input tests of the plan, `plan --base` and the config.
 */
export const markupFragments: readonly string[] = [
    "<!--",
    "-->",
    "<!-- hidden",
    "<details><summary>fine</summary>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](https://attacker.example/pixel.png)",
    "<https://attacker.example>",
    "@contoso/security-team",
    "| forged | row |",
    "\\|",
    "\\\\|",
    "`",
    "```",
    "**bold**",
    "# Heading",
    "> [!NOTE]",
    "- list",
    "1. item",
    "---",
    "===",
    "&lt;!--",
    "&#60;!--",
    "No privileged permission is added.",
];

/** Characters no config string may hold: line breaks, escapes, reordering and invisible marks. */
export const controlFragments: readonly string[] = [
    "\n",
    "\r",
    "\r\n",
    "\u0000",
    "\u001b[2K\u001b[1A",
    "\u001b]8;;https://attacker.example\u0007link\u001b]8;;\u0007",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u2028",
    "\u0085",
    "\t",
    "\u007f",
];

/** The attack issue 12 observed: a subject that ends the paragraph and hides the rest of the comment. */
export const hidingSuffix = "\n\nNo privileged permission is added.\n\n<!--";

/** Markdown as GitHub renders a comment: CommonMark plus tables, raw HTML allowed (GitHub sanitises it afterwards). */
export function renderComment(markdown: string): string {
    return new MarkdownIt({ html: true, linkify: false }).render(markdown);
}

/** Markdown-it's tokens, for counting table rows and finding raw HTML. */
export function commentTokens(markdown: string): ReturnType<MarkdownIt["parse"]> {
    return new MarkdownIt({ html: true }).parse(markdown, {});
}

/** What rendered markup must never contain when it came from input: raw HTML of any kind, links, images. */
export function rawHtmlOf(markdown: string): string[] {
    const found: string[] = [];
    const walk = (tokens: ReturnType<MarkdownIt["parse"]>) => {
        for (const token of tokens) {
            if (token.type === "html_block" || token.type === "html_inline") found.push(token.content);
            if (token.type === "link_open" || token.type === "image") found.push(`${token.type} ${token.attrGet("href") ?? token.attrGet("src") ?? ""}`);
            if (token.children) walk(token.children);
        }
    };
    walk(commentTokens(markdown));
    return found;
}

/** The number of body rows of each table, in order. */
export function tableRowCounts(markdown: string): number[] {
    const counts: number[] = [];
    let inBody = false;
    for (const token of commentTokens(markdown)) {
        if (token.type === "tbody_open") {
            inBody = true;
            counts.push(0);
        } else if (token.type === "tbody_close") inBody = false;
        else if (inBody && token.type === "tr_open") counts[counts.length - 1]!++;
    }
    return counts;
}

/**
 * Control and invisible characters, which no message may carry raw. Written out here rather than taken from
 * rotation/text.ts, so that narrowing the product's list cannot also narrow what its tests look for.
 */
export const rawControl = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** A stack that used to pass the policy pack and must not (test/fixtures/policy/escapes.json). */
export interface PolicyEscapeCase {
    readonly name: string;
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly config?: Record<string, unknown>;
    readonly policy: string;
    readonly level: "mandatory" | "advisory";
    readonly contains: readonly string[];
    readonly absent?: readonly string[];
}

export const policyEscapes: readonly PolicyEscapeCase[] = (
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "policy", "escapes.json"), "utf8")) as { cases: PolicyEscapeCase[] }
).cases;

/** The message a policy config reader refuses with; fails the test when it accepts, or throws anything else. */
export function refusalOf(read: () => unknown, errorClass: new (...args: never[]) => Error): string {
    try {
        read();
    } catch (error) {
        if (!(error instanceof errorClass)) throw error;
        return error.message;
    }
    throw new Error(`expected a ${errorClass.name}, and the config was accepted`);
}
