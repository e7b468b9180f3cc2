import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { secretDeletesPreview } from "../bench/summarize";
import { markdownText } from "../cli/output/escape";
import { defaultCommentBudget, githubCommentLimit, shortened } from "../cli/output/commentBudget";
import { joinChunks } from "../cli/output/chunks";
import { buildPlan } from "../cli/review/plan";
import { diffModels } from "../cli/review/planDiff";
import { planStacks } from "../cli/review/planStacks";
import { parsePreviewDocument, renderSummary, summarizePreview } from "../cli/review/preview/summarize";
import { renderPlan } from "../cli/review/renderPlan";
import { renderPlanDiff } from "../cli/review/renderPlanDiff";
import { renderPlanStacks } from "../cli/review/renderPlanStacks";
import { buildModel } from "../infra/model/model";
import { projectDir, rotor } from "./support/cli";
import { commentTokens, rawHtmlOf } from "./support/hostile";

/**
 * Issue 18, §2: GitHub refuses a comment over 65,536 characters, and a review that is not posted leaves the old
 * one up. `rotor summarize`, `rotor plan --base` and `rotor plan` in markdown fit a budget (60,000 by default,
 * `--max-chars`): what must not be missed first and whole, long names shortened with their length, rows beyond
 * the budget counted. Tested with the largest inputs the readers accept: a 1 MB resource name in a preview,
 * thousands of rows, thousands of apps.
 */

const previewDir = path.join(__dirname, "fixtures", "preview");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-budget-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const now = new Date("2027-03-01T06:00:00Z");
const justification = "Reviewed by security every quarter; limited to the objects the app owns.";

interface PreviewJson {
    steps: Record<string, unknown>[];
    changeSummary: Record<string, number>;
}

function write(name: string, doc: PreviewJson | string): string {
    const file = path.join(work, name);
    fs.writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
    return file;
}

const escalation = () => JSON.parse(fs.readFileSync(path.join(previewDir, "permission-escalation.json"), "utf8")) as PreviewJson;
const registration = "entra-rotor:index:AppRegistration";
const urnOf = (type: string, name: string) => `urn:pulumi:dev::entra-rotor::${type}::${name}`;

/** The numbers of `N more rows` notes, summed. */
function omitted(markdown: string, pattern: RegExp): number {
    return [...markdown.matchAll(pattern)].reduce((n, match) => n + Number(match[1]!.replace(/,/g, "")), 0);
}

describe("the budget of a comment", () => {
    it("is GitHub's limit less room for what a pipeline adds around it", () => {
        expect(githubCommentLimit).toBe(65_536);
        expect(defaultCommentBudget).toBe(60_000);
        expect(shortened("x".repeat(1_048_576))).toBe(`${"x".repeat(1_024)}…(1,048,576 characters)`);
        // Never half a character: a surrogate pair is kept whole or cut before.
        expect(shortened(`${"x".repeat(1_023)}😀tail`, 1_024)).toBe(`${"x".repeat(1_023)}…(1,029 characters)`);
    });
});

describe("rotor summarize with a 1 MB resource name", () => {
    const name = "kv-a@b#12|".repeat(104_858).slice(0, 1_048_576);
    const doc = escalation();
    const urn = urnOf(`${registration}$entra-rotor:index:KeyVaultSecrets$azure-native:keyvault:Secret`, name);
    doc.steps.push({ op: "delete", urn, oldState: { urn, type: "azure-native:keyvault:Secret", custom: true, inputs: { vaultName: "kv-contoso-identity" } }, detailedDiff: null });
    doc.changeSummary["delete"] = (doc.changeSummary["delete"] ?? 0) + 1;
    const file = write("huge-name.json", doc);

    it("keeps the name whole in the JSON: the comment only shortens what it shows", () => {
        const summary = summarizePreview(parsePreviewDocument(fs.readFileSync(file, "utf8"), "huge-name.json"));
        expect(summary.keyVaultSecrets.find((s) => s.secretName.length === 1_048_576)).toBeDefined();
    });

    it("posts: under the budget, the warnings first and whole, the name shortened with its length", async () => {
        const run = await rotor(["summarize", file], { cwd: work });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        const lines = run.stdout.split("\n");
        expect(lines.slice(2, 4)).toEqual(["> [!WARNING]", "> **2 privileged permissions added:**"]);
        const caution = lines.find((line) => line.startsWith("> - Key Vault secret "))!;
        expect(caution).toBe(`> - Key Vault secret ${markdownText(shortened(name))} in kv-contoso-identity is deleted; consumers reading it fail.`);
        expect(caution).toContain("…(1,048,576 characters)");
        expect(rawHtmlOf(run.stdout)).toEqual([]);
        // The same shortened name in the Key Vault table.
        expect(run.stdout).toContain(`| - | ${markdownText(shortened(name)).replace(/(\\*)\|/g, (m, s: string) => (s.length % 2 === 0 ? `${s}\\|` : m))} | kv-contoso-identity | deleted |`);
    });

    it("shortens names with no limit too (--max-chars 0, for the run summary), and shows every row", async () => {
        const run = await rotor(["summarize", file, "--max-chars", "0"], { cwd: work });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThan(100_000);
        expect(run.stdout).not.toContain("see the run summary");
    });
});

describe("rotor summarize with thousands of rows", () => {
    it("cuts 10,000 breaking changes last, with a marker, and stays under the budget", async () => {
        const file = write("deletes.json", secretDeletesPreview(10_000));
        const run = await rotor(["summarize", file, "--format", "markdown"], { cwd: work });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        const lines = run.stdout.split("\n");
        expect(lines.slice(2, 4)).toEqual(["> [!CAUTION]", "> **Breaking for consumers.** Applying this preview:"]);
        const shown = lines.filter((line) => line.startsWith("> - Key Vault secret ")).length;
        expect(shown).toBeGreaterThan(100);
        const cut = /^\*\*The comment is cut here: ([\d,]+) more lines: see the run summary\.\*\*$/m.exec(run.stdout);
        expect(cut).not.toBeNull();
        // The breaking changes not shown, and the lines after them (the alert's end, the headline), are counted.
        expect(shown + Number(cut![1]!.replace(/,/g, ""))).toBeGreaterThanOrEqual(10_000);
        const whole = await rotor(["summarize", file, "--max-chars", "0"], { cwd: work });
        expect(whole.stdout.split("\n").filter((line) => line.startsWith("> - Key Vault secret "))).toHaveLength(10_000);
    });

    it("shows the escalation first and counts the table rows that do not fit", async () => {
        const doc = escalation();
        const type = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";
        for (let i = 0; i < 3_000; i++) {
            const urn = urnOf(`${registration}$entra-rotor:index:FederatedCredentials$${type}`, `ci-deployer-federated-branch-${i}`);
            const inputs = { displayName: `branch-${i}`, issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/identity:ref:refs/heads/feature-${i}`, audiences: ["api://AzureADTokenExchange"] };
            doc.steps.push({ op: "create", urn, newState: { urn, type, custom: true, inputs }, detailedDiff: null });
        }
        const run = await rotor(["summarize", write("federated.json", doc)], { cwd: work });
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        expect(run.stdout.split("\n").slice(2, 5)).toEqual([
            "> [!WARNING]",
            "> **2 privileged permissions added:**",
            "> - Microsoft Graph RoleManagement.ReadWrite.Directory: tier **0** (a known path to Global Administrator), added to ci-deployer",
        ]);
        const rows = commentTokens(run.stdout).filter((t) => t.type === "tr_open").length;
        expect(rows).toBeGreaterThan(100);
        const more = omitted(run.stdout, /^_[A-Za-z ]+: ([\d,]+) more rows?: see the run summary\._$/gm);
        expect(more).toBeGreaterThan(0);
        const whole = await rotor(["summarize", write("federated.json", doc), "--max-chars", "0"], { cwd: work });
        // Every row is somewhere: shown in the comment, or counted in a note.
        const wholeRows = commentTokens(whole.stdout).filter((t) => t.type === "tr_open").length;
        const headers = commentTokens(run.stdout).filter((t) => t.type === "thead_open").length;
        const wholeHeaders = commentTokens(whole.stdout).filter((t) => t.type === "thead_open").length;
        expect(rows - headers + more).toBe(wholeRows - wholeHeaders);
    });
});

describe("any budget from the smallest --max-chars takes", () => {
    it("is never passed, whatever must come first", () => {
        const deletes = summarizePreview(parsePreviewDocument(secretDeletesPreview(2_000), "deletes.json"));
        const apps = Array.from({ length: 2_000 }, (_, i) => ({ name: `mailer-${i}`, permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], allowPrivileged: [{ permission: "Mail.Send", justification }] }));
        const model = buildModel({ project: "entra-rotor", stack: "dev", values: { apps }, source: "Pulumi.dev.yaml" }, now).model!;
        for (const maxChars of [1_000, 1_500, 4_000, 20_000, 60_000]) {
            expect(renderSummary(deletes, "markdown", { maxChars }).length, `summary ${maxChars}`).toBeLessThanOrEqual(maxChars);
            expect(joinChunks(renderPlan(buildPlan(model), "markdown", { maxChars })).length, `plan ${maxChars}`).toBeLessThanOrEqual(maxChars);
            expect(renderPlanDiff(diffModels(undefined, model, "main"), "markdown", { maxChars }).length, `plan --base ${maxChars}`).toBeLessThanOrEqual(maxChars);
            expect(renderPlanStacks(planStacks([{ stack: "dev", model }], model.at), "markdown", { maxChars }).length, `--all-stacks ${maxChars}`).toBeLessThanOrEqual(maxChars);
        }
    });
});

describe("rotor plan with thousands of apps", () => {
    const apps: Record<string, unknown>[] = [];
    for (let i = 0; i < 4_000; i++) apps.push({ name: `importer-${String(i).padStart(4, "0")}`, displayName: `Contoso importer ${i}`, permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"] }] });
    apps.push({ name: "zz-admin", permissions: [{ api: "Microsoft Graph", application: ["RoleManagement.ReadWrite.Directory"] }], allowPrivileged: [{ permission: "RoleManagement.ReadWrite.Directory", justification }] });
    const dir = projectDir({ big: { config: { "entra-rotor:apps": apps } } });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("fits the comment: the privileged permission first, then the apps that fit, the rest counted", async () => {
        const run = await rotor(["plan", "--stack", "big", "--format", "markdown", "--dir", dir], { cwd: dir, now });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        expect(run.stdout.split("\n").slice(0, 5)).toEqual([
            "## Credential plan",
            "",
            "> [!WARNING]",
            "> **Privileged application permissions:**",
            "> - zz-admin: RoleManagement.ReadWrite.Directory on Microsoft Graph (tier 0, justified)",
        ]);
        const shown = run.stdout.split("\n").filter((line) => line.startsWith("### importer-")).length;
        const more = /^_([\d,]+) more apps: see the run summary\._$/m.exec(run.stdout);
        expect(shown).toBeGreaterThan(50);
        expect(shown + Number(more![1]!.replace(/,/g, ""))).toBe(4_001);
    });

    it("prints everything with --max-chars 0, for the run summary", async () => {
        const run = await rotor(["plan", "--stack", "big", "--format", "markdown", "--max-chars", "0", "--dir", dir], { cwd: dir, now });
        expect(run.stdout.split("\n").filter((line) => line.startsWith("### "))).toHaveLength(4_001);
        expect(run.stdout).not.toContain("see the run summary");
    });

    it("cuts even the privileged permissions last, with a marker, when they alone pass the budget", async () => {
        const mailers = Array.from({ length: 3_000 }, (_, i) => ({ name: `mailer-${i}`, permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], allowPrivileged: [{ permission: "Mail.Send", justification }] }));
        const tier0 = { name: "zz-admin", permissions: [{ api: "Microsoft Graph", application: ["RoleManagement.ReadWrite.Directory"] }], allowPrivileged: [{ permission: "RoleManagement.ReadWrite.Directory", justification }] };
        const many = projectDir({ many: { config: { "entra-rotor:apps": [...mailers, tier0] } } });
        try {
            const run = await rotor(["plan", "--stack", "many", "--format", "markdown", "--max-chars", "20000", "--dir", many], { cwd: many, now });
            expect(run.code).toBe(0);
            expect(run.stdout.length).toBeLessThanOrEqual(20_000);
            // Tier 0 before tier 1: the path to Global Administrator is never the part cut.
            expect(run.stdout.split("\n")[4]).toBe("> - zz-admin: RoleManagement.ReadWrite.Directory on Microsoft Graph (tier 0, justified)");
            expect(run.stdout).toMatch(/\*\*The comment is cut here: [\d,]+ more lines: see the run summary\.\*\*/);
        } finally {
            fs.rmSync(many, { recursive: true, force: true });
        }
    });

    it("takes --max-chars with markdown only, and a useful number", async () => {
        const json = await rotor(["plan", "--stack", "big", "--format", "json", "--max-chars", "5000", "--dir", dir], { cwd: dir, now });
        expect(json.code).toBe(1);
        expect(json.stderr).toContain("rotor: --max-chars limits a markdown comment: use it with --format markdown");
        const small = await rotor(["summarize", "x.json", "--max-chars", "10"], { cwd: work });
        expect(small.code).toBe(1);
        expect(small.stderr).toContain("0 (no limit) or a whole number of characters from 1000 up");
    });
});
