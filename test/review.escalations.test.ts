import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, type StackModel } from "../infra/model/model";
import { buildPlan } from "../cli/review/plan";
import { diffModels } from "../cli/review/planDiff";
import { planStacks } from "../cli/review/planStacks";
import { joinChunks } from "../cli/output/chunks";
import { renderPlan } from "../cli/review/renderPlan";
import { renderPlanDiff } from "../cli/review/renderPlanDiff";
import { renderPlanStacks } from "../cli/review/renderPlanStacks";
import { parsePreviewDocument, renderSummary, summarizePreview, type Summary } from "../cli/review/preview/summarize";
import { rotor } from "./support/cli";
import { commentTokens, rawHtmlOf, renderComment } from "./support/hostile";

/**
 * Issue 18, §1: every path to privilege the policy pack knows is an escalation in the review too, from the one
 * catalog (infra/model/privilege.ts): directory roles in `rotor summarize`, tier-0 delegated permissions granted
 * for every user in the plan, `plan --base` and `summarize`; and the ESC environments a stack imports, whose
 * config no review can see, are named before anything the stack file wrote.
 */

const previewDir = path.join(__dirname, "fixtures", "preview");
const summarize = (name: string): Summary => summarizePreview(parsePreviewDocument(fs.readFileSync(path.join(previewDir, name), "utf8"), name), { source: name });
const now = new Date("2027-03-01T06:00:00Z");
const justification = "Lets the support portal act for the signed-in administrator; reviewed quarterly by security.";

/** The text a reader sees of a comment, code spans left out (GitHub links nothing inside code). */
function shownText(markdown: string): string {
    const out: string[] = [];
    const walk = (tokens: ReturnType<typeof commentTokens>) => {
        for (const token of tokens) {
            if (token.type === "text") out.push(token.content);
            if (token.children) walk(token.children);
        }
    };
    walk(commentTokens(markdown));
    return out.join("\n");
}

/**
 * GitHub's autolinked issue references (docs.github.com, "Autolinked references and URLs"): `#12`, `GH-12`,
 * `org/repo#12`; the shape sindresorhus/issue-regex gives, with GH- added. A zero-width space breaks each.
 */
const issueReference = /(?<!\w)(?:[a-z\d](?:[a-z\d-]{0,37}[a-z\d])?\/[\w.-]{1,100})?#[1-9]\d{0,9}\b|\bGH-\d+\b/i;

describe("rotor summarize: directory roles", () => {
    const summary = summarize("directory-roles.json");

    it("shows every directory role handed out or taken away, with the role's name, escalations first", () => {
        expect(summary.hasIdentityChanges).toBe(true);
        expect(summary.directoryRoles.map((r) => [r.resource, r.kind, r.action, r.role ?? r.roleId, r.tier0, r.privileged, r.escalation])).toEqual([
            ["ci-deployer-directory-writes", "assignment", "created", "Global Administrator", true, true, true],
            ["break-glass-pra", "eligibility", "created", "Privileged Role Administrator", true, true, true],
            ["ops-role-of-the-day", "assignment", "created", null, false, false, true],
            ["ops-custom-role", "assignment", "created", "3f1b0c2d-9e8a-4b7c-a6d5-e4f3a2b1c0d9", false, false, true],
            ["ci-deployer-app-admin", "member", "created", "5b3f2e1d-0c9b-4a8e-b7d6-c5e4f3a2b1c0", false, false, true],
            ["helpdesk-readers", "assignment", "created", "Directory Readers", false, false, false],
            ["old-reports-reader", "assignment", "deleted", "Reports Reader", false, false, false],
        ]);
        expect(summary.directoryRoles[0]!.principal).toBe("48ed1342-0f79-4da6-a5d3-ae4536334026");
    });

    it("leads the comment with Global Administrator, before any name the pull request chose", () => {
        const markdown = renderSummary(summary, "markdown");
        expect(markdown.split("\n").slice(0, 9)).toEqual([
            "## Identity changes: entra-rotor / dev",
            "",
            "> [!WARNING]",
            "> **5 privileged directory roles handed out:**",
            "> - Global Administrator (labelled PRIVILEGED by Microsoft, tier **0**: a known path to Global Administrator): assigned to `48ed1342-0f79-4da6-a5d3-ae4536334026`, by ci-deployer-directory-writes",
            "> - Privileged Role Administrator (labelled PRIVILEGED by Microsoft, tier **0**: a known path to Global Administrator): made eligible (one activation away) for `a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b`, by break-glass-pra",
            "> - a directory role not known until the update (not a built-in role's template id: it can stand for any role, Global Administrator's included): assigned to `48ed1342-0f79-4da6-a5d3-ae4536334026`, by ops-role-of-the-day",
            "> - the unrecognised directory role `3f1b0c2d-9e8a-4b7c-a6d5-e4f3a2b1c0d9` (not a built-in role's template id: it can stand for any role, Global Administrator's included): assigned to `48ed1342-0f79-4da6-a5d3-ae4536334026`, by ops-custom-role",
            "> - the unrecognised directory role `5b3f2e1d-0c9b-4a8e-b7d6-c5e4f3a2b1c0` (an activated role's object id: it can stand for any role, Global Administrator's included): given as a member to `48ed1342-0f79-4da6-a5d3-ae4536334026`, by ci-deployer-app-admin",
        ]);
        expect(markdown).not.toContain("No identity changes");
        expect(markdown).toContain("7 directory role assignments changed");
        expect(markdown).toContain("| **created** | - | ci-deployer-directory-writes | assignment | Global Administrator | tier 0, PRIVILEGED | `48ed1342-0f79-4da6-a5d3-ae4536334026` |");
        expect(markdown).toContain("| deleted | - | old-reports-reader | assignment | Reports Reader | no | `7d1c4f3e-2b8a-4e6f-9a0d-5c3b1e7f2a94` |");
        expect(rawHtmlOf(markdown)).toEqual([]);
        const text = renderSummary(summary, "table");
        expect(text.split("\n")[2]).toBe("5 PRIVILEGED DIRECTORY ROLES HANDED OUT:");
    });

    it("through the CLI, as a pipeline runs it", async () => {
        const run = await rotor(["summarize", path.join(previewDir, "directory-roles.json")], { cwd: previewDir });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("> **5 privileged directory roles handed out:**");
    });
});

describe("tier-0 delegated permissions granted for every user", () => {
    it("rotor summarize: a tenant-wide grant or a requested tier-0 scope is an escalation; one user's consent is not", () => {
        const summary = summarize("delegated-grants.json");
        expect(summary.permissions.map((p) => [p.change, p.app, p.kind, p.api, p.permission, p.tier, p.grantedTo, p.escalation])).toEqual([
            // Outside the components: the scopes of a space-separated claim, a value that is no scope left out.
            ["added", null, "delegated", "Microsoft Graph", "RoleManagement.ReadWrite.Directory", 0, "allUsers", true],
            // A grant for one user that becomes a grant for all: the same scope, consented for everyone.
            ["added", null, "delegated", "Microsoft Graph", "User.ReadWrite.All", 0, "allUsers", true],
            // Requested on the app registration and granted by its component: one entry.
            ["added", "calendar-sync", "delegated", "Microsoft Graph", "Directory.AccessAsUser.All", 0, "allUsers", true],
            ["added", null, "delegated", "Microsoft Graph", "Directory.AccessAsUser.All", 0, "oneUser", false],
            ["added", null, "delegated", "Microsoft Graph", "User.Read", null, "allUsers", false],
            ["removed", null, "delegated", "Microsoft Graph", "User.ReadWrite.All", 0, "oneUser", false],
        ]);
        const markdown = renderSummary(summary, "markdown");
        expect(markdown.split("\n").slice(2, 7)).toEqual([
            "> [!WARNING]",
            "> **3 privileged permissions added:**",
            "> - Microsoft Graph RoleManagement.ReadWrite.Directory: tier **0** (a known path to Global Administrator), delegated: consented for all users, added to an app",
            "> - Microsoft Graph User.ReadWrite.All: tier **0** (a known path to Global Administrator), delegated: consented for all users, added to an app",
            "> - Microsoft Graph Directory.AccessAsUser.All: tier **0** (a known path to Global Administrator), delegated: consented for all users, added to calendar-sync",
        ]);
        expect(markdown).toContain("| added | - | delegated | Microsoft Graph | Directory.AccessAsUser.All | **0** (a known path to Global Administrator) | - | delegated grant, one user |");
    });

    it("rotor plan: listed first among the privileged permissions, with its type, and counted as tier 0", () => {
        const model = modelOf([
            { name: "mailer", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], allowPrivileged: [{ permission: "Mail.Send", justification }] },
            { name: "support-portal", permissions: [{ api: "Microsoft Graph", delegated: ["openid", "Directory.AccessAsUser.All"] }], allowPrivileged: [{ permission: "Directory.AccessAsUser.All", justification }] },
        ]);
        const plan = buildPlan(model);
        expect(plan.privileged).toEqual([
            { app: "support-portal", api: "Microsoft Graph", name: "Directory.AccessAsUser.All", type: "delegated", tier: 0, justification },
            { app: "mailer", api: "Microsoft Graph", name: "Mail.Send", type: "application", tier: 1, justification },
        ]);
        expect([plan.totals.tier0, plan.totals.tier1]).toEqual([1, 1]);
        expect(plan.apps[1]!.permissions[1]).toMatchObject({ type: "delegated", name: "Directory.AccessAsUser.All", tier: 0, justification, consent: "delegatedPermissionGrant" });
        const markdown = joinChunks(renderPlan(plan, "markdown"));
        expect(markdown.split("\n").slice(0, 6)).toEqual([
            "## Credential plan",
            "",
            "> [!WARNING]",
            "> **Privileged permissions:**",
            "> - support-portal: Directory.AccessAsUser.All on Microsoft Graph (tier 0, delegated: consented for all users, justified)",
            "> - mailer: Mail.Send on Microsoft Graph (tier 1, justified)",
        ]);
        expect(markdown).toContain("| delegated | Microsoft Graph | Directory.AccessAsUser.All | 0 (justified) | admin, all users: delegated grant |");
        expect(joinChunks(renderPlan(plan, "table"))).toMatch(/delegated\s+Microsoft Graph\s+Directory\.AccessAsUser\.All\s+0 \(justified\)/);
    });

    it("rotor plan --base: an added tier-0 delegated permission is an escalation, listed first", () => {
        const base = modelOf([{ name: "support-portal", permissions: [{ api: "Microsoft Graph", delegated: ["openid"] }] }]);
        const head = modelOf([{ name: "support-portal", permissions: [{ api: "Microsoft Graph", delegated: ["openid", "User.Read", "Directory.AccessAsUser.All"] }], allowPrivileged: [{ permission: "Directory.AccessAsUser.All", justification }] }]);
        const diff = diffModels(base, head, "main");
        expect(diff.permissions.map((p) => [p.change, p.type, p.name, p.tier, p.escalation])).toEqual([
            ["added", "delegated", "Directory.AccessAsUser.All", 0, true],
            ["added", "delegated", "User.Read", null, false],
        ]);
        const markdown = renderPlanDiff(diff, "markdown");
        expect(markdown.split("\n").slice(2, 5)).toEqual(["> [!WARNING]", "> **Privileged permissions added:**", "> - support-portal: Directory.AccessAsUser.All on Microsoft Graph (tier 0, delegated: consented for all users)"]);
        expect(markdown).toContain("| added, ESCALATION (tier 0) | support-portal | delegated | Microsoft Graph | Directory.AccessAsUser.All | 0 |");
        expect(renderPlanDiff(diff, "table")).toContain("PRIVILEGED PERMISSIONS ADDED:\n  support-portal: Directory.AccessAsUser.All on Microsoft Graph (tier 0, delegated: consented for all users)");
    });
});

function modelOf(apps: unknown[], escEnvironments?: string[], stack = "dev"): StackModel {
    const result = buildModel({ project: "entra-rotor", stack, values: { apps }, source: `Pulumi.${stack}.yaml`, ...(escEnvironments ? { escEnvironments } : {}) }, now);
    if (!result.model) throw new Error(JSON.stringify(result.issues));
    return result.model;
}

describe("ESC environments: config no review can see", () => {
    const apps = [{ name: "mailer", permissions: [{ api: "Microsoft Graph", application: ["Application.ReadWrite.OwnedBy"] }], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }] }];
    const environments = ["contoso/identity-secrets", "team#12 <!-- @contoso/admins"];
    const model = modelOf(apps, environments);
    const notice = "This stack imports ESC environments contoso/identity-secrets, team#\u200b12 <!-- @\u200bcontoso/admins: their values are not reviewed.";

    it("rotor plan: in the JSON, and prominently, after the privileged permissions and before anything else the stack file wrote", () => {
        const plan = buildPlan(model);
        expect(plan.escEnvironments).toEqual(environments);
        expect(JSON.parse(joinChunks(renderPlan(plan, "json"))).escEnvironments).toEqual(environments);
        const markdown = joinChunks(renderPlan(plan, "markdown"));
        const lines = markdown.split("\n");
        expect(lines.slice(0, 8)).toEqual([
            "## Credential plan",
            "",
            "> [!WARNING]",
            "> **Privileged application permissions:**",
            "> - mailer: Application.ReadWrite.OwnedBy on Microsoft Graph (tier 0, justified)",
            "",
            "> [!WARNING]",
            "> **This stack imports ESC environments contoso/identity-secrets, team\\#&#8203;12 &lt;\\!-- @&#8203;contoso/admins: their values are not reviewed.** Pulumi adds the config they hold to the stack's config when it deploys; this review shows the stack file alone.",
        ]);
        expect(lines[9]).toMatch(/^entra-rotor \/ dev at /);
        expect(rawHtmlOf(markdown)).toEqual([]);
        expect(renderComment(markdown)).toContain(`<strong>${notice.replace("<!--", "&lt;!--")}</strong>`);
        const text = joinChunks(renderPlan(plan, "table")).split("\n");
        // In a terminal, right under the headline and its note.
        expect(text[3]).toBe("WARNING: this stack imports ESC environments contoso/identity-secrets, team#12 <!-- @contoso/admins: their values are not reviewed.");
    });

    it("says nothing when the stack imports none", () => {
        const plan = buildPlan(modelOf(apps));
        expect(plan.escEnvironments).toEqual([]);
        expect(joinChunks(renderPlan(plan, "markdown"))).not.toContain("ESC");
    });

    it("rotor plan --base: the working tree's environments, in the JSON and before the headline", () => {
        const diff = diffModels(modelOf(apps), model, "main");
        expect(diff.escEnvironments).toEqual(environments);
        const markdown = renderPlanDiff(diff, "markdown");
        const lines = markdown.split("\n");
        const headline = lines.findIndex((line) => line.startsWith("entra-rotor / dev, main"));
        expect(lines.slice(headline - 3, headline - 1)).toEqual(["> [!WARNING]", expect.stringContaining("> **This stack imports ESC environments contoso/identity-secrets, team\\#&#8203;12")]);
        expect(renderPlanDiff(diff, "table")).toContain("WARNING: this stack imports ESC environments contoso/identity-secrets, team#12 <!-- @contoso/admins: their values are not reviewed.");
        expect(JSON.parse(renderPlanDiff(diff, "json")).escEnvironments).toEqual(environments);
    });

    it("rotor plan --all-stacks: each stack that imports some, before the tables", () => {
        const doc = planStacks(
            [
                { stack: "dev", model },
                { stack: "prod", model: modelOf(apps, undefined, "prod") },
            ],
            model.at,
        );
        const markdown = renderPlanStacks(doc, "markdown");
        expect(markdown).toContain("> **ESC environments: their values are not reviewed.**\n> - dev: this stack imports ESC environments contoso/identity-secrets, team\\#&#8203;12");
        expect(markdown).not.toContain("> - prod:");
        expect(markdown.indexOf("ESC environments")).toBeLessThan(markdown.indexOf("| Stack |"));
        expect(renderPlanStacks(doc, "table")).toContain("  dev: this stack imports ESC environments contoso/identity-secrets, team#12 <!-- @contoso/admins: their values are not reviewed");
    });
});

describe("issue references in names: shown as text, linking nothing", () => {
    const names = ["fixes #12", "org/repo#3", "see GH-12", "gh-7 and contoso/identity#45"];

    it("rotor plan and plan --base", () => {
        const apps = names.map((displayName, i) => ({ name: `app-${i}`, displayName, permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"] }] }));
        const markdown = joinChunks(renderPlan(buildPlan(modelOf(apps)), "markdown"));
        const diff = renderPlanDiff(diffModels(undefined, modelOf(apps), "main"), "markdown");
        for (const comment of [markdown, diff]) {
            expect(shownText(comment)).not.toMatch(issueReference);
            expect(rawHtmlOf(comment)).toEqual([]);
        }
        // As written, with a zero-width space that GitHub's reference matcher does not cross.
        expect(shownText(markdown)).toContain("app-0 (fixes #\u200b12)");
        expect(shownText(markdown)).toContain("app-3 (gh-\u200b7 and contoso/identity#\u200b45)");
    });
});
