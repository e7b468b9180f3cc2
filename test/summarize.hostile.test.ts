import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { secretDeletesPreview } from "../bench/summarize";
import { previewDocumentSchema } from "../cli/review/preview/previewDocument";
import { Redactor } from "../cli/review/preview/redaction";
import {
    maxPreviewBytes,
    maxPreviewDepth,
    type PreviewDocument,
    PreviewDocumentError,
    PreviewLimitError,
    parsePreviewDocument,
    renderSummary,
    type Summary,
    summarizePreview,
} from "../cli/review/preview/summarize";
import { unsafeCharacters, visible } from "../rotation/text";
import { rotor } from "./support/cli";
import { controlFragments, markupFragments } from "./support/hostile";

/**
 * `rotor summarize` on previews shaped by a pull request from a fork: every string in them is the
 * attacker's. The comment is rendered as GitHub does (CommonMark, tables, raw HTML allowed) and read back:
 * the privileged permissions are warned about first, nothing from the preview becomes markup, every table
 * has the rows the headline counts, and the terminal gets no control characters.
 */

const repoRoot = path.resolve(__dirname, "..");
const hostileDir = path.join(__dirname, "fixtures", "hostile", "preview");
const previewDir = path.join(__dirname, "fixtures", "preview");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as PreviewJson;
const summarizeText = (text: string, source = "preview.json"): Summary => summarizePreview(parsePreviewDocument(text, source), { source });

interface PreviewJson {
    steps: Record<string, unknown>[];
    changeSummary: Record<string, number>;
    [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Reading a rendered comment back

const markdownIt = new MarkdownIt({ html: true });
type Token = ReturnType<MarkdownIt["parse"]>[number];

/** What a reader sees of an inline token: text and code as shown, entities decoded. */
function shown(inline: Token | undefined): string {
    return (inline?.children ?? []).map((child) => (child.type === "softbreak" || child.type === "hardbreak" ? "\n" : child.content)).join("");
}

interface Comment {
    readonly tokens: Token[];
    readonly html: string;
    /** The text of each top-level blockquote (the alert boxes), in order. */
    readonly blockquotes: { text: string; items: number; index: number }[];
    readonly headings: { level: number; text: string }[];
    /** Each table by the heading above it: its body rows, each cell as shown, and whether the first cell is bold. */
    readonly tables: Map<string, { cells: string[]; bold: boolean }[]>;
    /** Index of the first table's token. */
    readonly firstTable: number;
    /** Raw HTML, links and images: none may ever come from a preview (the summary writes none itself). */
    readonly markup: string[];
    /** Paragraphs outside blockquotes and tables, as shown. */
    readonly paragraphs: string[];
}

/**
 * GitHub's autolinked issue references (docs.github.com, "Autolinked references and URLs"): `#12`, `GH-12`,
 * `org/repo#12`; the shape sindresorhus/issue-regex matches, with GH- added.
 */
const issueReference = /(?<!\w)(?:[a-z\d](?:[a-z\d-]{0,37}[a-z\d])?\/[\w.-]{1,100})?#[1-9]\d{0,9}\b|\bGH-\d+\b/i;

/** The text a reader sees, code spans left out (GitHub links nothing inside code). */
function shownText(tokens: readonly Token[]): string {
    const out: string[] = [];
    const walk = (list: readonly Token[]) => {
        for (const token of list) {
            if (token.type === "text") out.push(token.content);
            if (token.children) walk(token.children);
        }
    };
    walk(tokens);
    return out.join("\n");
}

function readComment(markdown: string): Comment {
    const tokens = markdownIt.parse(markdown, {});
    const blockquotes: Comment["blockquotes"] = [];
    const headings: Comment["headings"] = [];
    const tables = new Map<string, { cells: string[]; bold: boolean }[]>();
    const markup: string[] = [];
    const paragraphs: string[] = [];
    let depth = 0;
    let heading = "";
    let rows: { cells: string[]; bold: boolean }[] | undefined;
    let firstTable = -1;
    tokens.forEach((token, index) => {
        for (const t of [token, ...(token.children ?? [])]) {
            if (t.type === "html_block" || t.type === "html_inline" || t.type === "link_open" || t.type === "image") markup.push(`${t.type}: ${t.content}`);
        }
        if (token.type === "blockquote_open" && depth++ === 0) blockquotes.push({ text: "", items: 0, index });
        else if (token.type === "blockquote_close") depth--;
        else if (token.type === "heading_open") headings.push({ level: Number(token.tag.slice(1)), text: (heading = shown(tokens[index + 1])) });
        else if (token.type === "table_open") {
            if (firstTable < 0) firstTable = index;
            tables.set(heading, (rows = []));
        } else if (token.type === "tbody_open" || token.type === "table_close") {
            // Rows before the body are the header.
        } else if (token.type === "tr_open" && rows && tokens[index - 1]?.type !== "thead_open") {
            const cells: string[] = [];
            let bold = false;
            for (let i = index + 1; tokens[i]?.type !== "tr_close"; i++) {
                const t = tokens[i]!;
                if (t.type !== "inline") continue;
                if (cells.length === 0) bold = t.children?.find((child) => child.type !== "text" || child.content !== "")?.type === "strong_open";
                cells.push(shown(t));
            }
            rows.push({ cells, bold });
        } else if (token.type === "inline") {
            const parent = tokens[index - 1]?.type;
            if (depth > 0) {
                const quote = blockquotes[blockquotes.length - 1]!;
                quote.text += `${shown(token)}\n`;
            } else if (parent === "paragraph_open") paragraphs.push(shown(token));
        } else if (token.type === "list_item_open" && depth > 0) blockquotes[blockquotes.length - 1]!.items++;
    });
    return { tokens, html: markdownIt.render(markdown), blockquotes, headings, tables, firstTable, markup, paragraphs };
}

/** The tables a summary has, by title, and their rows: what the comment must show. */
function expectedTables(summary: Summary): Map<string, number> {
    const slots = summary.credentials.reduce((n, c) => n + c.slots.length, 0);
    const counts: [string, number][] = [
        ["Credentials", slots],
        ["Permissions", summary.permissions.length],
        ["Directory roles", summary.directoryRoles.length],
        ["Federated credentials", summary.federatedCredentials.length],
        ["Key Vault secrets", summary.keyVaultSecrets.length],
        ["App registrations", summary.apps.length],
    ];
    return new Map(counts.filter(([, n]) => n > 0 && summary.hasIdentityChanges));
}

const headlineTables: Record<string, string> = {
    "credential slot": "Credentials",
    permission: "Permissions",
    "directory role assignment": "Directory roles",
    "federated credential": "Federated credentials",
    "Key Vault secret": "Key Vault secrets",
    "app registration": "App registrations",
};

/** The headline's counts, summed per table: `2 credential slots rotated (...) · 1 permission added · ...`. */
function headlineCounts(comment: Comment): Map<string, number> {
    const line = comment.paragraphs.find((p) => /^\d+ (credential slot|permission|directory role assignment|federated credential|Key Vault secret|app registration)/.test(p));
    const counts = new Map<string, number>();
    for (const part of line?.split(" · ") ?? []) {
        const match = /^(\d+) (credential slot|permission|directory role assignment|federated credential|Key Vault secret|app registration)s? /.exec(part);
        expect(match, `headline part ${part}`).not.toBeNull();
        const table = headlineTables[match![2]!]!;
        counts.set(table, (counts.get(table) ?? 0) + Number(match![1]));
    }
    return counts;
}

/**
 * Everything a comment must be, whatever the preview held: the escalation warning first (only the heading
 * before it), then what breaks; no markup from the preview; one heading of each table; every table with
 * the rows of its list, and the headline counting exactly those rows.
 */
function expectSafeComment(summary: Summary, markdown: string): Comment {
    const comment = readComment(markdown);
    expect(comment.markup).toEqual([]);
    for (const raw of ["<!--", "<script", "<img", "<a ", "<details", "<summary"]) expect(comment.html).not.toContain(raw);
    // An @ from the preview is always followed by a zero-width space: no mention. GitHub mentions no one
    // inside code, where ids and subjects are shown as written.
    expect(comment.html.replace(/<code>[\s\S]*?<\/code>/g, "")).not.toMatch(/@(?!\u200b)/);
    // Nor does it link or cross-reference an issue: `#12`, `GH-12` and `org/repo#12` have a zero-width space inside.
    expect(shownText(comment.tokens)).not.toMatch(issueReference);

    const escalations = summary.permissions.filter((p) => p.escalation);
    const roleEscalations = summary.directoryRoles.filter((r) => r.escalation);
    const expectedQuotes = [escalations.length > 0, roleEscalations.length > 0, summary.breaking.length > 0, summary.diagnostics.errors > 0].filter(Boolean).length;
    expect(comment.blockquotes).toHaveLength(expectedQuotes);
    if (roleEscalations.length > 0) {
        // Beside the privileged permissions, before what breaks: one item per role handed out.
        const quote = comment.blockquotes[escalations.length > 0 ? 1 : 0]!;
        if (escalations.length === 0) expect(comment.tokens.slice(0, quote.index).map((t) => t.type)).toEqual(["heading_open", "inline", "heading_close"]);
        expect(quote.text).toMatch(/^\[!WARNING\]\n/);
        expect(quote.text).toContain(`${roleEscalations.length} privileged directory role${roleEscalations.length === 1 ? "" : "s"} handed out:`);
        expect(quote.items).toBe(roleEscalations.length);
        for (const r of roleEscalations) expect(quote.text).toContain(r.role ?? r.roleId ?? "not known until the update");
        expect(comment.tables.get("Directory roles")!.filter((row) => row.bold)).toHaveLength(roleEscalations.length);
    }
    if (escalations.length > 0) {
        const warning = comment.blockquotes[0]!;
        // Nothing but the heading comes before the warning: not a table, not a name from the preview.
        expect(comment.tokens.slice(0, warning.index).map((t) => t.type)).toEqual(["heading_open", "inline", "heading_close"]);
        expect(warning.text).toMatch(/^\[!WARNING\]\n/);
        expect(warning.text).toContain(`${escalations.length} privileged permission${escalations.length === 1 ? "" : "s"} added:`);
        expect(warning.items).toBe(escalations.length);
        for (const p of escalations) {
            expect(warning.text).toContain(`${p.api} ${p.permission}: tier ${p.tier}`);
            if (p.tier === 0) expect(warning.text).toContain("a known path to Global Administrator");
        }
        if (summary.breaking.length > 0) expect(comment.blockquotes[roleEscalations.length > 0 ? 2 : 1]!.text).toMatch(/^\[!CAUTION\]\n/);
        // The same escalations are the bold rows of the permissions table.
        const rows = comment.tables.get("Permissions")!;
        expect(rows.filter((row) => row.bold).map((row) => row.cells[4])).toEqual(escalations.map((p) => p.permission));
    }
    if (comment.firstTable >= 0) expect(comment.blockquotes.every((q) => q.index < comment.firstTable)).toBe(true);

    expect(comment.headings.filter((h) => h.level === 2)).toHaveLength(1);
    const tables = expectedTables(summary);
    expect(comment.headings.filter((h) => h.level === 3).map((h) => h.text)).toEqual([...tables.keys()]);
    expect(new Map([...comment.tables].map(([title, rows]) => [title, rows.length]))).toEqual(tables);
    // One source of truth: the headline counts the rows of the tables below it.
    if (summary.hasIdentityChanges) expect(headlineCounts(comment)).toEqual(tables);
    return comment;
}

/** Control characters and reordering marks a terminal would act on. */
const rawControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The terminal output: no raw control character on any line, warnings first, and as many table lines as rows. */
function expectSafeText(summary: Summary, text: string): void {
    const lines = text.split("\n");
    for (const line of lines) expect(line).not.toMatch(rawControl);
    const escalations = summary.permissions.filter((p) => p.escalation).length;
    if (escalations > 0) {
        const warning = lines.findIndex((l) => /^\d+ PRIVILEGED PERMISSIONS? ADDED:$/.test(l));
        expect(warning).toBe(2);
        for (let i = 1; i <= escalations; i++) expect(lines[warning + i]).toMatch(/^ {2}\S.*: tier [01] /);
    }
    for (const [title, rows] of expectedTables(summary)) {
        const start = lines.indexOf(`${title}:`);
        expect(start).toBeGreaterThan(0);
        const end = lines.indexOf("", start);
        // The title, the header, then one line per row.
        expect(end - start - 2).toBe(rows);
    }
}

/** The JSON: the summary exactly, with no raw control or reordering character in its text. */
function expectSafeJson(summary: Summary, json: string): void {
    expect(json).not.toMatch(rawControl);
    expect(JSON.parse(json)).toEqual(summary);
}

function expectSafe(summary: Summary): Comment {
    expectSafeText(summary, renderSummary(summary, "table"));
    expectSafeJson(summary, renderSummary(summary, "json"));
    return expectSafeComment(summary, renderSummary(summary, "markdown"));
}

/**
 * How a name from the preview must read in the comment: as written, control characters as escapes, no
 * mention; a table cell (like any markdown paragraph) drops the spaces around it.
 */
const asWritten = (text: string) =>
    visible(text)
        .replace(/@/g, "@\u200b")
        .replace(/#(?=\d)/g, "#\u200b")
        .replace(/(gh-)(?=\d)/gi, "$1\u200b")
        .trim();

// ---------------------------------------------------------------------------------------------------------

describe("the corpus of hostile previews", () => {
    const files = fs.readdirSync(hostileDir).filter((name) => name.endsWith(".json"));

    it("covers the attacks of issue 12", () => {
        expect(files.sort()).toEqual(["comment-swallow.json", "hostile-stack.json", "markup-everywhere.json", "terminal-escapes.json"]);
    });

    it.each(files)("%s: the tier-0 warning leads, nothing becomes markup, every table is whole", (name) => {
        const summary = summarizeText(fs.readFileSync(path.join(hostileDir, name), "utf8"), name);
        expect(summary.permissions.filter((p) => p.escalation).map((p) => [p.app, p.permission, p.tier])).toEqual([
            ["ci-deployer", "RoleManagement.ReadWrite.Directory", 0],
            ["mail-sender", "Mail.ReadWrite", 1],
        ]);
        const comment = expectSafe(summary);
        const permissions = comment.tables.get("Permissions")!;
        expect(permissions[0]!.cells).toEqual(["added", "ci-deployer", "application", "Microsoft Graph", "RoleManagement.ReadWrite.Directory", "0 (a known path to Global Administrator)", "yes", "app role assignment"]);
    });

    it("comment-swallow.json: the name that opened an HTML comment is shown as written, and swallows nothing", () => {
        const summary = summarizeText(fs.readFileSync(path.join(hostileDir, "comment-swallow.json"), "utf8"));
        const markdown = renderSummary(summary, "markdown");
        const comment = readComment(markdown);
        expect(comment.blockquotes.map((q) => q.text.split("\n")[0])).toEqual(["[!WARNING]", "[!CAUTION]"]);
        expect(comment.blockquotes[1]!.text).toContain("App registration legacy-app\\n\\n<!-- is deleted: every sign-in with it fails.");
        expect([...comment.tables.keys()]).toEqual(["Permissions", "Federated credentials", "App registrations"]);
        expect(comment.tables.get("App registrations")!.map((row) => row.cells[0])).toEqual(["calendar-sync", "ci-deployer", "device-inventory", "legacy-app\\n\\n<!--", "mail-sender"]);
        expect(comment.paragraphs.at(-1)).toBe("Pulumi resources: 3 to create, 6 to update, 2 to delete, 40 unchanged.");
        expect(markdown).toContain("> - App registration legacy-app\\\\n\\\\n&lt;\\!-- is deleted");
    });

    it("markup-everywhere.json: names, display names, subjects and counts read as written", () => {
        const summary = summarizeText(fs.readFileSync(path.join(hostileDir, "markup-everywhere.json"), "utf8"));
        const comment = expectSafe(summary);
        const apps = comment.tables.get("App registrations")!;
        expect(apps.slice(0, 2).map((row) => row.cells.slice(0, 2))).toEqual([
            ["<!-- hidden", "<img src=x onerror=alert(1)> <script>alert(1)</script>"],
            ["| forged | row |", "[click](javascript:alert(1)) ![x](https://attacker.example/pixel.png)"],
        ]);
        // Only what looks like a property name is listed as one.
        expect(apps[1]!.cells[5]).toBe('tags["a"]');
        expect(comment.tables.get("Key Vault secrets")!.map((row) => row.cells[1])).toEqual(["a\\|b", "c\\\\|d `e` **bold** # Heading"]);
        const federated = comment.tables.get("Federated credentials")!;
        expect(federated[0]!.cells.slice(1, 6)).toEqual([
            "> [!NOTE] all is well",
            "created",
            "https://token.actions.githubusercontent.com/<!--",
            // In a code span a backtick would end it: it is shown as a quote.
            "repo:@contoso/security-team:ref:'refs/heads/main' | x",
            "api://AzureADTokenExchange<details><summary>fine</summary>",
        ]);
        expect(comment.tables.get("Credentials")!.map((row) => row.cells[1])).toEqual(["- list\\n---\\n1. item-slot0", "typed-slot1"]);
        expect(comment.paragraphs.at(-1)).toBe(`Pulumi resources: 3 to create, 6 to update, 1 to delete, 40 unchanged, 2 ${asWritten("@contoso/security-team")}, 1 <!-- swallow.`);
    });

    it("terminal-escapes.json: escapes reach neither the terminal nor the comment raw", () => {
        const summary = summarizeText(fs.readFileSync(path.join(hostileDir, "terminal-escapes.json"), "utf8"));
        expectSafe(summary);
        const text = renderSummary(summary, "table");
        expect(text).toContain("App registration legacy\\e[2K\\e[1A-app is deleted");
        expect(text).toContain("Legacy \\u202eppa-yrtsiger\\u202c");
        expect(text).toContain("repo:contoso/identity:environment:\\u202eproduction\\u0000\\u007f\\u0085");
        expect(text).toContain("1 \\e[31mnone\\e[0m.");
        // The terminal-safe JSON holds the same strings, escaped as JSON escapes them.
        expect(renderSummary(summary, "json")).toContain('"displayName": "Legacy \\u202eppa-yrtsiger\\u202c"');
    });

    it("hostile-stack.json: a project or stack name that is not plain is kept out of the heading, and shown after the warnings", () => {
        const summary = summarizeText(fs.readFileSync(path.join(hostileDir, "hostile-stack.json"), "utf8"));
        expect([summary.project, summary.stack]).toEqual(["entra-rotor @contoso/security-team", "dev\n\n<!--"]);
        const comment = expectSafe(summary);
        expect(comment.headings[0]).toEqual({ level: 2, text: "Identity changes" });
        expect(comment.paragraphs).toContain(`Pulumi project and stack: ${asWritten("entra-rotor @contoso/security-team")} / dev\\n\\n<!--`);
        expect(renderSummary(summary, "table").split("\n")[0]).toBe("Identity changes");
    });

    it("every sample preview renders to the same shape: warnings first, headline equal to the tables", () => {
        const samples = fs.readdirSync(previewDir).filter((n) => n.endsWith(".json") && n !== "plan-file.json");
        expect(samples.length).toBeGreaterThanOrEqual(9);
        for (const name of samples) {
            expectSafe(summarizeText(fs.readFileSync(path.join(previewDir, name), "utf8"), name));
        }
    });
});

// ---------------------------------------------------------------------------------------------------------

const registration = "entra-rotor:index:AppRegistration";
const urnOf = (type: string, name: string) => `urn:pulumi:dev::entra-rotor::${type}::${name}`;

/**
 * permission-escalation.json with `text` in every place a pull request writes a string the summary reads:
 * an app registration's name, display name, diff reasons and detailed diff keys; a Key Vault secret's
 * name; a federated credential's name, issuer, subject and audience; a client secret's component name; a
 * type token; a property key; a changeSummary key; a directory role assignment's name and principal.
 */
function withEverywhere(text: string): string {
    const doc = readJson(path.join(previewDir, "permission-escalation.json"));
    const state = (urn: string, type: string, inputs: Record<string, unknown>) => ({ urn, type, custom: true, inputs: { ...inputs, [text]: text } });
    const app = urnOf(`${registration}$azuread:index/application:Application`, text);
    const secret = urnOf(`${registration}$entra-rotor:index:KeyVaultSecrets$azure-native:keyvault:Secret`, text);
    const federatedType = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";
    const federated = urnOf(`${registration}$${federatedType}`, `ci-deployer-federated-${text}`);
    const password = urnOf(`${registration}$entra-rotor:index:ClientSecret$azuread:index/applicationPassword:ApplicationPassword`, `${text}-slot0`);
    const typed = urnOf(`${text}$azuread:index/applicationPassword:ApplicationPassword`, "typed-slot1");
    const roleType = "azuread:index/directoryRoleAssignment:DirectoryRoleAssignment";
    const role = urnOf(roleType, text);
    doc.steps.push(
        {
            op: "update",
            urn: app,
            oldState: state(app, "azuread:index/application:Application", { displayName: "before" }),
            newState: state(app, "azuread:index/application:Application", { displayName: text }),
            diffReasons: [text, "displayName"],
            detailedDiff: { [text]: { kind: "update" } },
        },
        { op: "delete", urn: secret, oldState: state(secret, "azure-native:keyvault:Secret", {}), detailedDiff: null },
        { op: "create", urn: federated, newState: state(federated, federatedType, { issuer: text, subject: text, audiences: [text] }), detailedDiff: null },
        { op: "create", urn: password, newState: state(password, "azuread:index/applicationPassword:ApplicationPassword", { displayName: text }), detailedDiff: null },
        { op: "create", urn: typed, newState: state(typed, text, {}), detailedDiff: null },
        // Global Administrator handed out by a resource, to a principal, both named by the pull request.
        { op: "create", urn: role, newState: state(role, roleType, { roleId: "62e90394-69f5-4237-9190-012177145e10", principalObjectId: text }), detailedDiff: null },
    );
    doc.changeSummary[text] = 7;
    return JSON.stringify(doc);
}

/** Fragments that each try something: end a table, hide what follows, fake an alert or a link, mention, move the cursor. */
/** The shared corpus, plus what only a preview carries: a URN's `::` and suffixes, names that look like ours. */
const dangerous = [
    ...new Set([
        ...markupFragments,
        ...controlFragments,
        "legacy-app\n\n<!--",
        "\n\nNo privileged permission is added.\n\n<!--",
        "\\",
        "_em_",
        "~~struck~~",
        "$x$",
        "$",
        "> [!WARNING]",
        "\u001b[2K",
        "\u001b[1A",
        "\u001b]8;;https://attacker.example\u0007",
        "\ufeff",
        "::",
        "-slot0",
        "-app",
        // Issue references GitHub would link, and cross-reference in the other repository (issue 18).
        "#12",
        "fixes #12",
        "org/repo#3",
        "GH-12",
        "gh-7",
    ]),
];

const hostileText = fc
    .array(fc.oneof(fc.constantFrom(...dangerous), fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 12 })), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join(""));

/** The same, weighted towards control characters and invisible marks: what the table output must never carry. */
const controlText = fc
    .array(fc.oneof(fc.constantFrom(...controlFragments), fc.constantFrom(...dangerous), fc.string({ unit: "binary", maxLength: 12 })), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join(""));

describe("any string in every place a pull request writes one", () => {
    it.each(dangerous)("%j: the warning leads, the name reads as written, no control character reaches the terminal", (fragment) => {
        const text = `x${fragment}y`;
        const summary = summarizeText(withEverywhere(text));
        const comment = expectSafe(summary);
        expect(comment.tables.get("Key Vault secrets")!.map((row) => row.cells[1])).toContain(asWritten(text));
        // A display name on more than one line is not shown at all (it would be a misplaced blob, not a name).
        if (!/[\r\n]/.test(text)) expect(comment.tables.get("App registrations")!.map((row) => row.cells[1])).toContain(asWritten(text));
    });

    it("holds for arbitrary strings (property-based)", () => {
        let runs = 0;
        let withDanger = 0;
        fc.assert(
            fc.property(hostileText, (text) => {
                runs++;
                if (dangerous.some((fragment) => text.includes(fragment))) withDanger++;
                const summary = summarizeText(withEverywhere(text));
                expect(summary.permissions.filter((p) => p.escalation).map((p) => p.permission)).toEqual(["RoleManagement.ReadWrite.Directory", "Mail.ReadWrite"]);
                const comment = expectSafe(summary);
                expect(comment.tables.get("Permissions")!.some((row) => row.cells[4] === "RoleManagement.ReadWrite.Directory" && row.cells[5] === "0 (a known path to Global Administrator)")).toBe(true);
                expect(comment.tables.get("Key Vault secrets")!.map((row) => row.cells[1])).toContain(asWritten(text));
            }),
            { numRuns: 150 },
        );
        // Arbitrary, but not blind: most samples carry one of the fragments that try something.
        expect(withDanger / runs).toBeGreaterThan(0.5);
    });

    it("never puts a raw control character on a line of the table output (property-based)", () => {
        let runs = 0;
        let withControl = 0;
        fc.assert(
            fc.property(controlText, (text) => {
                runs++;
                if (unsafeCharacters.test(text)) withControl++;
                const output = renderSummary(summarizeText(withEverywhere(text)), "table");
                for (const line of output.split("\n")) expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
                expect(output.split("\n")[2]).toBe("2 PRIVILEGED PERMISSIONS ADDED:");
            }),
            { numRuns: 150 },
        );
        // The property is about control characters: most samples must hold one.
        expect(withControl / runs).toBeGreaterThan(0.5);
    });
});

// ---------------------------------------------------------------------------------------------------------

describe("credential material cannot erase a warning", () => {
    it("redacts names read from the preview, never the catalog's names or the summary's words", () => {
        const doc = readJson(path.join(previewDir, "permission-escalation.json"));
        const app = doc.steps.find((s) => String(s["urn"]).endsWith("::ci-deployer-app")) as { newState: { outputs?: Record<string, unknown> } };
        // Strings the document claims are passwords, tokens and private keys, left unmasked.
        app.newState.outputs = {
            password: "RoleManagement.ReadWrite.Directory",
            clientSecret: "Microsoft Graph",
            accessToken: "a known path to Global Administrator",
            privateKeyPem: "privileged permissions added",
            value: "ci-deployer",
        };
        const summary = summarizeText(JSON.stringify(doc));
        const markdown = renderSummary(summary, "markdown");
        expect(markdown).toContain("> - Microsoft Graph RoleManagement.ReadWrite.Directory: tier **0** (a known path to Global Administrator), added to \\[redacted\\]");
        expect(markdown).toContain("> **2 privileged permissions added:**");
        // The app's own name was claimed as a secret: it is redacted wherever it is shown, and nowhere printed.
        expect(summary.apps.map((a) => a.app)).toContain("[redacted]");
        expect(markdown).not.toMatch(/\bci-deployer\b(?!-)/);
        expectSafe(summary);
    });

    it("matches a secret inside a name, a name inside a secret, and nothing shorter than 8 characters", () => {
        const redactor = new Redactor(["s3cr3t-FAKE-value", "another-FAKE-credential"]);
        expect(redactor.leaks("s3cr3t-FAKE-value")).toBe(true);
        expect(redactor.leaks("prefix s3cr3t-FAKE-value suffix")).toBe(true);
        expect(redactor.leaks("FAKE-val")).toBe(true);
        expect(redactor.leaks("FAKE-cre")).toBe(true);
        expect(redactor.leaks("FAKE")).toBe(false);
        expect(redactor.leaks("mail-sender-main")).toBe(false);
        expect(redactor.leaks("value-FAKE-another")).toBe(false);
        expect(new Redactor([]).leaks("anything at all")).toBe(false);
    });

    it("fails safe, redacting, when a document is built so that every name nearly matches every secret", () => {
        const secrets = Array.from({ length: 2_000 }, (_, i) => `AAAAAAAA${i}`);
        const redactor = new Redactor(secrets);
        const names = Array.from({ length: 5_000 }, (_, i) => `AAAAAAAAx${i}-and-more-AAAAAAAA`);
        const leaked = names.filter((name) => redactor.leaks(name));
        // Past its budget the guard stops comparing and redacts: a near miss is never printed for want of time.
        expect(leaked.length).toBeGreaterThan(0);
        expect(redactor.leaks(names[names.length - 1]!)).toBe(true);
        expect(redactor.leaks("short")).toBe(false);
    });
});

// ---------------------------------------------------------------------------------------------------------

describe("depth", () => {
    const nested = (levels: number) => `${'{"a":'.repeat(levels)}"x"${"}".repeat(levels)}`;
    const arrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
    const app = urnOf(`${registration}$azuread:index/application:Application`, "mail-sender-app");
    /** A small preview with `deep` at one place. */
    const withDeep = (place: string, deep: string) =>
        `{"steps":[{"op":"same","urn":"${app}"},{"op":"update","urn":"${app}",` +
        `"oldState":{"urn":"${app}","type":"azuread:index/application:Application","inputs":{}${place === "outputs" ? `,"outputs":{"deep":${deep}}` : ""}},` +
        `"newState":{"urn":"${app}","type":"azuread:index/application:Application","inputs":{${place === "inputs" ? `"deep":${deep}` : ""}}},` +
        `"detailedDiff":{"displayName":{"kind":"update"${place === "detailedDiff" ? `,"extra":${deep}` : ""}}}}],` +
        `"config":{"entra-rotor:apps":${place === "config" ? deep : "[]"}},"changeSummary":{"update":1}}`;
    const refusal = (text: string) => {
        try {
            parsePreviewDocument(text, "preview.json");
        } catch (error) {
            expect(error).toBeInstanceOf(PreviewLimitError);
            expect(error).toBeInstanceOf(PreviewDocumentError);
            return (error as Error).message;
        }
        throw new Error("accepted");
    };
    const tail = `nested deeper than ${maxPreviewDepth} levels of objects and arrays; a preview nests a few dozen at most, so this one is refused rather than read`;

    it("refuses 5,000 levels anywhere with a message naming where, and no value", () => {
        expect(refusal(withDeep("inputs", nested(5_000)))).toBe(`preview.json: steps[1].newState.inputs.deep.a…: ${tail}`);
        expect(refusal(withDeep("outputs", arrays(5_000)))).toBe(`preview.json: steps[1].oldState.outputs.deep[0]…: ${tail}`);
        expect(refusal(withDeep("detailedDiff", nested(5_000)))).toBe(`preview.json: steps[1].detailedDiff.displayName.extra.a…: ${tail}`);
        expect(refusal(withDeep("config", arrays(5_000)))).toBe(`preview.json: config["entra-rotor:apps"][0][0][0][0]…: ${tail}`);
    });

    it(`accepts ${maxPreviewDepth} levels (the document is the first) and refuses one more`, () => {
        expect(() => parsePreviewDocument(`{"steps":[],"x":${nested(maxPreviewDepth - 1)}}`, "p.json")).not.toThrow();
        expect(refusal(`{"steps":[],"x":${nested(maxPreviewDepth)}}`)).toBe(`preview.json: x.a.a.a.a.a…: ${tail}`);
    });

    it("names a hostile key in the path with its control characters escaped, cut to 40 characters", () => {
        const key = `k\n<!--\u001b[2K${"z".repeat(60)}`;
        const message = refusal(`{"steps":[],"x":{${JSON.stringify(key)}:${nested(maxPreviewDepth)}}}`);
        expect(message).toBe(`preview.json: x["k\\n<!--\\u001b[2K${"z".repeat(30)}…"].a.a.a.a…: ${tail}`);
        expect(message).not.toMatch(rawControl);
    });

    it("is not zod's problem (it does not walk property values), and summarizing a deep document directly does not overflow", () => {
        const value = JSON.parse(withDeep("inputs", nested(5_000))) as unknown;
        expect(previewDocumentSchema.safeParse(value).success).toBe(true);
        const leaky = JSON.parse(withDeep("inputs", `{"password":${nested(5_000)}}`)) as PreviewDocument;
        expect(summarizePreview(leaky).apps.map((a) => a.app)).toEqual(["mail-sender"]);
    });
});

describe("size", () => {
    const tail = "more than the 256 MiB rotor summarize reads (a preview of 1,000 apps is tens of MiB); summarize a smaller stack, or a targeted preview (pulumi preview --target)";

    it("refuses a file above 256 MiB by its size, before reading it", async () => {
        expect(maxPreviewBytes).toBe(256 * 1024 * 1024);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-summarize-"));
        try {
            const file = path.join(dir, "preview.json");
            // Sparse: 300 MiB on paper, nothing on disk; a read would find zeros, not JSON.
            fs.writeFileSync(file, "");
            fs.truncateSync(file, 300 * 1024 * 1024);
            const run = await rotor(["summarize", file], { cwd: dir });
            expect(run.code).toBe(1);
            expect(run.stderr).toBe(`rotor: ${file}: 300 MiB (314,572,800 bytes), ${tail}\n`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("stops reading standard input at the same bound", () => {
        const bin = path.join(repoRoot, "bin", "rotor.js");
        const run = spawnSync("bash", ["-c", `head -c ${maxPreviewBytes + 1} /dev/zero | "${process.execPath}" "${bin}" summarize -`], { cwd: repoRoot, encoding: "utf8" });
        expect(run.stderr).toBe(`rotor: standard input: ${tail}\n`);
        expect(run.status).toBe(1);
    });

    it("refuses a longer text handed to the parser", () => {
        expect(() => parsePreviewDocument(" ".repeat(maxPreviewBytes + 1), "big.json")).toThrow(`big.json: 256 MiB (268,435,457 bytes), ${tail}`);
    });
});

describe("scale", () => {
    it("summarizes 10,000 Key Vault secret deletes, each leaking its value, one row per secret (linear: see bench/summarize.ts)", () => {
        // Quadratic code (a search of every resource or secret per resource) took minutes here.
        const summary = summarizeText(secretDeletesPreview(10_000, { leaky: true }));
        expect(summary.keyVaultSecrets).toHaveLength(10_000);
        expect(summary.breaking).toHaveLength(10_000);
        expect(new Set(summary.keyVaultSecrets.map((s) => s.app)).size).toBe(3_334);
        expect(summary.keyVaultSecrets.every((s) => s.secretName.startsWith(s.app!))).toBe(true);
    });
});
