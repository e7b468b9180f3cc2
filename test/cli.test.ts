import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import MarkdownIt from "markdown-it";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { parseInstant } from "../cli/options";
import type { CalendarDocument } from "../cli/review/calendar";
import type { PlanDocument } from "../cli/review/plan";
import { projectDir, rotor, sampleProject } from "./support/cli";
import { repoRoot } from "./support/program";

const at = new Date("2027-03-01T00:00:00Z");

describe("rotor plan on the sample stack", () => {
    it("prints a table of every app and permission, with tiers and consent", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--at", "2027-03-01"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        expect(run.stderr).toBe("");
        expect(run.stdout).toContain("entra-rotor / dev at 2027-03-01T00:00:00Z: 5 apps, 8 permissions (5 application, 3 delegated; 1 tier 0, 1 tier 1)");
        for (const name of ["mail-sender", "device-inventory", "calendar-sync", "ci-deployer", "ci-preview"]) expect(run.stdout).toContain(name);
        expect(run.stdout).toMatch(/application\s+Microsoft Graph\s+Application\.ReadWrite\.OwnedBy\s+0 \(justified\)\s+admin: app role assignment/);
        expect(run.stdout).toMatch(/delegated\s+Microsoft Graph\s+Calendars\.ReadWrite\s+-\s+admin, all users: delegated grant/);
    });

    it("prints what the README and docs/ show, for every example with output", async () => {
        const docs = ["README.md", ...fs.readdirSync(path.join(repoRoot, "docs")).map((name) => path.join("docs", name))];
        const text = docs.map((file) => fs.readFileSync(path.join(repoRoot, file), "utf8")).join("\n");
        // A ```sh block holding one `npx rotor ...` command, followed by a block with its output.
        const examples = [...text.matchAll(/```sh\nnpx rotor ([^\n]+)\n```\n\n```\n([\s\S]*?)```/g)];
        expect(examples.length).toBeGreaterThanOrEqual(2);
        for (const [, command, shown] of examples) {
            const args = command!.split(" ");
            // The README shows plan at a fixed date so that its output does not go stale.
            if (args[0] === "plan" && !args.includes("--at")) args.push("--at", "2027-03-01");
            const run = await rotor(args, { cwd: sampleProject() });
            expect(run.code, command).toBe(0);
            expect(run.stdout.trimEnd(), command).toBe(shown!.trimEnd());
        }
    });

    it("prints markdown for a pull-request comment", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: repoRoot, now: at });
        expect(run.code).toBe(0);
        // Privileged permissions come first, before anything a stack file wrote (even the project's name).
        expect(run.stdout.split("\n").slice(0, 7)).toEqual([
            "## Credential plan",
            "",
            "> [!WARNING]",
            "> **Privileged application permissions:**",
            "> - ci-deployer: Application.ReadWrite.OwnedBy on Microsoft Graph (tier 0, justified)",
            "> - mail-sender: Mail.Send on Microsoft Graph (tier 1, justified)",
            "",
        ]);
        expect(run.stdout).toContain("entra-rotor / dev at 2027-03-01T00:00:00Z: 5 apps");
        expect(run.stdout).toContain("### ci-deployer (Contoso CI Deployer)");
        expect(run.stdout).toContain("| application | Microsoft Graph | Mail.Send | 1 (justified) | admin: app role assignment |");
    });

    it("prints the documented, stable JSON", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--format", "json"], { cwd: repoRoot, now: at });
        expect(run.code).toBe(0);
        const plan = JSON.parse(run.stdout) as PlanDocument;
        expect(Object.keys(plan)).toEqual(["schemaVersion", "project", "stack", "at", "since", "firstDeployment", "apps", "warnings", "errors", "totals", "privileged", "escEnvironments"]);
        expect(plan.firstDeployment).toBe(false);
        expect(plan.errors).toEqual([]);
        expect(plan.privileged).toEqual([
            { app: "ci-deployer", api: "Microsoft Graph", name: "Application.ReadWrite.OwnedBy", type: "application", tier: 0, justification: expect.any(String) },
            { app: "mail-sender", api: "Microsoft Graph", name: "Mail.Send", type: "application", tier: 1, justification: expect.any(String) },
        ]);
        expect(plan.since).toBe("2027-02-28T00:00:00Z");
        expect(plan.schemaVersion).toBe(1);
        expect(plan.at).toBe("2027-03-01T00:00:00Z");
        expect(plan.totals).toEqual({ apps: 5, permissions: 8, application: 5, delegated: 3, tier0: 1, tier1: 1, credentials: 3, federatedCredentials: 4, rotating: 0, breaking: 0, expired: 0, new: 0, errors: 0 });
        expect(plan.apps[1]!.certificateFiles).toEqual([
            {
                name: "partner",
                file: "certs/device-inventory-partner.cer",
                subject: "CN=Fabrikam Device Export, O=Fabrikam Ltd",
                thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
                notBefore: "2026-01-01T00:00:00Z",
                notAfter: "2027-12-31T00:00:00Z",
                daysLeft: 305,
                status: "ok",
                error: null,
                path: "apps[1].credentials[1]",
            },
        ]);
        expect(plan.apps[2]!.credentials[0]).toMatchObject({
            name: "web",
            type: "certificate",
            keyVaultSecretName: "calendar-sync-web",
            pfx: { secretName: "calendar-sync-web-pfx", passwordSecretName: "calendar-sync-web-pfx-password" },
            slotsReplaced: 0,
            status: "ok",
        });
        expect(plan.apps[0]!.credentials[0]!.pfx).toBeNull();
        const ciDeployer = plan.apps.find((app) => app.name === "ci-deployer")!;
        expect(ciDeployer.permissions).toEqual([
            {
                api: "Microsoft Graph",
                apiAppId: "00000003-0000-0000-c000-000000000000",
                type: "application",
                name: "Application.ReadWrite.OwnedBy",
                id: "18a4783c-866b-4cc7-a460-3d5e5662c884",
                tier: 0,
                adminConsentRequired: true,
                consent: "appRoleAssignment",
                justification: "Deploys and rotates this stack's app registrations; it can only manage applications it owns.",
                path: "apps[3].permissions[0].application[0]",
            },
        ]);
        expect(Object.keys(plan.apps[0]!)).toEqual(["name", "displayName", "signInAudience", "redirectUris", "owners", "permissions", "credentials", "certificateFiles", "federatedCredentials"]);
        expect(plan.apps[3]!.federatedCredentials).toEqual([
            {
                name: "github-production",
                preset: "github",
                issuer: "https://token.actions.githubusercontent.com",
                subject: "repo:contoso@5544123/identity@821093847:environment:production",
                audience: "api://AzureADTokenExchange",
                path: "apps[3].credentials[0]",
            },
            {
                name: "entra-rotor-deployer",
                preset: "azureDevOps",
                issuer: "https://login.microsoftonline.com/6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7/v2.0",
                subject: expect.stringMatching(/^\/eid1\/c\/pub\/t\/.+\/sc\/8d2f6a41-3b7c-4e19-a5d0-6c8e9f1b2a34\/1c9e7b52-0d4a-4f6e-8b31-a2c5d7e9f014$/),
                audience: "api://AzureADTokenExchange",
                path: "apps[3].credentials[1]",
            },
        ]);
        const importer = plan.apps.find((app) => app.name === "device-inventory")!.credentials[0]!;
        expect(importer).toEqual({
            name: "importer",
            type: "secret",
            path: "apps[1].credentials[0]",
            keyVaultSecretName: "device-inventory-importer",
            pfx: null,
            rotateEveryDays: 30,
            lifetimeDays: 90,
            phaseDays: importer.phaseDays,
            slots: [
                { slot: 0, generation: 36, start: "2027-01-05T00:00:00Z", end: "2027-04-05T00:00:00Z", served: false, credentialStart: null },
                { slot: 1, generation: 37, start: "2027-02-04T00:00:00Z", end: "2027-05-05T00:00:00Z", served: true, credentialStart: null },
            ],
            servedSlot: 1,
            expires: "2027-05-05T00:00:00Z",
            nextRotation: "2027-03-06T00:00:00Z",
            daysLeft: 65,
            slotsReplaced: 0,
            status: "ok",
            consumers: [],
        });
        // Value-free: nothing in the plan could be a credential.
        expect(run.stdout).not.toMatch(/"(value|password|secret)"\s*:/i);
    });

    it("shows when the credentials a run makes start: at the run, not at their window's start", async () => {
        // The importer's generation 38 starts 2027-03-06: a run that morning makes slot 0's credential.
        const run = await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-03-06T06:00:00Z"], { cwd: repoRoot });
        const importer = (JSON.parse(run.stdout) as PlanDocument).apps.find((app) => app.name === "device-inventory")!.credentials[0]!;
        expect(importer.slots[0]).toEqual({ slot: 0, generation: 38, start: "2027-03-06T00:00:00Z", end: "2027-06-04T00:00:00Z", served: true, credentialStart: "2027-03-06T06:00:00Z" });
        expect(importer.slots[1]!.credentialStart).toBeNull();
        // A first deployment, or a pipeline down for long, makes both; each starts at the run.
        const late = await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-06-01", "--since", "2027-03-01"], { cwd: repoRoot });
        const both = (JSON.parse(late.stdout) as PlanDocument).apps.find((app) => app.name === "device-inventory")!.credentials[0]!;
        expect(both.slots.map((s) => s.credentialStart)).toEqual(["2027-06-01T00:00:00Z", "2027-06-01T00:00:00Z"]);
        expect(both.slots.some((s) => s.start < "2027-06-01")).toBe(true);
        const table = await rotor(["plan", "--stack", "dev", "--at", "2027-03-06T06:00:00Z"], { cwd: repoRoot });
        expect(table.stdout).toContain("g38 2027-03-06 -> 2027-06-04 (new, from 2027-03-06)");
    });

    it("gives the same output for the same date (a pure function of config and date)", async () => {
        const first = await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-03-01T06:30:00+01:00"], { cwd: repoRoot });
        const second = await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-03-01T05:30:00Z"], { cwd: repoRoot });
        expect(second.stdout).toBe(first.stdout);
    });
});

describe("rotor plan on invalid config", () => {
    const invalid = {
        config: {
            "entra-rotor:apps": [
                { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["Mail.Sendd"] }] },
                { name: "deployer", permissions: [{ api: "Microsoft Graph", application: ["Application.ReadWrite.All"] }] },
                { name: "mail-sender" },
            ],
        },
    };

    it("exits 1 with every error on stderr, each naming its path, and prints nothing on stdout (as markdown, only the failure notice)", async () => {
        const dir = projectDir({ bad: invalid });
        for (const format of ["table", "markdown", "json"]) {
            const run = await rotor(["plan", "--stack", "bad", "--format", format], { cwd: dir });
            expect(run.code).toBe(1);
            if (format === "markdown") expect(run.stdout).toMatch(/^## rotor plan failed\n/);
            else expect(run.stdout).toBe("");
            expect(run.stderr).toContain("Pulumi.bad.yaml: 3 config errors:");
            expect(run.stderr).toContain('apps[0].permissions[0].application[0]: unknown Microsoft Graph application permission "Mail.Sendd" (did you mean "Mail.Send"?)');
            expect(run.stderr).toContain('apps[1].permissions[0].application[0]: "Application.ReadWrite.All" is a tier-0 Microsoft Graph application permission');
            expect(run.stderr).toContain('apps[2].name: duplicate app name "mail-sender" (first at apps[0])');
        }
    });

    it("fails on the README's invalid example exactly as the README shows", async () => {
        const run = await rotor(["plan", "--stack", "bad", "--dir", "examples/invalid"], { cwd: repoRoot });
        expect(run.code).toBe(1);
        const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
        const shown = /\$ npx rotor plan --stack bad --dir examples\/invalid\n([\s\S]*?)\n```/.exec(readme)?.[1];
        expect(shown).toBeDefined();
        expect(run.stderr.trimEnd()).toBe(shown);
    });

    it("shows warnings in the plan and still exits 0", async () => {
        const dir = projectDir({ warn: { config: { "entra-rotor:apps": [{ name: "mailer", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }] }] } } });
        const run = await rotor(["plan", "--stack", "warn"], { cwd: dir });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('Warnings:\n  apps[0].permissions[0].application[0]: "Mail.Send" is a tier-1 (high impact) application permission');
        const json = JSON.parse((await rotor(["plan", "--stack", "warn", "--format", "json"], { cwd: dir })).stdout) as PlanDocument;
        expect(json.warnings).toEqual([{ path: "apps[0].permissions[0].application[0]", message: expect.stringContaining("tier-1") }]);
    });

    it("names a missing stack and the stacks that exist", async () => {
        const run = await rotor(["plan", "--stack", "prod"], { cwd: sampleProject() });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('no config for stack "prod"; stacks here: dev');
    });

    it("refuses bad usage with exit 1", async () => {
        expect((await rotor(["plan"], { cwd: repoRoot })).stderr).toContain("say which stack: --stack <name>, --stacks <a,b,c> or --all-stacks");
        expect((await rotor(["verify"], { cwd: repoRoot })).stderr).toContain("required option '--stack <name>' not specified");
        expect((await rotor(["plan", "--stack", "dev", "--format", "xml"], { cwd: repoRoot })).code).toBe(1);
        const badDate = await rotor(["plan", "--stack", "dev", "--at", "2027-02-30"], { cwd: repoRoot });
        expect(badDate.code).toBe(1);
        expect(badDate.stderr).toContain("use YYYY-MM-DD or an ISO-8601 instant");
        expect((await rotor([], { cwd: repoRoot })).code).toBe(1);
        expect((await rotor(["frobnicate"], { cwd: repoRoot })).code).toBe(1);
        expect((await rotor(["--help"], { cwd: repoRoot })).code).toBe(0);
    });
});

describe("rotation status in the plan", () => {
    it("says a credential rotates on the run of the day its new generation starts, and not the day after", async () => {
        const onTheDay = JSON.parse((await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-03-06T06:00:00Z"], { cwd: repoRoot })).stdout) as PlanDocument;
        const importer = onTheDay.apps[1]!.credentials[0]!;
        expect(importer).toMatchObject({ status: "rotates", servedSlot: 0, nextRotation: "2027-04-05T00:00:00Z" });
        expect(importer.slots[0]).toMatchObject({ generation: 38, served: true });
        expect(onTheDay.totals.rotating).toBe(1);
        const dayAfter = JSON.parse((await rotor(["plan", "--stack", "dev", "--format", "json", "--at", "2027-03-07T06:00:00Z"], { cwd: repoRoot })).stdout) as PlanDocument;
        expect(dayAfter.apps[1]!.credentials[0]!.status).toBe("ok");
    });

    it("calls a run breaking when the last one is more than rotateEveryDays ago, and says so first", async () => {
        // The importer rotates every 30 days: 33 days without a run replace both of its slots.
        const args = ["plan", "--stack", "dev", "--at", "2027-03-06T06:00:00Z", "--since", "2027-02-01T06:00:00Z"];
        const plan = JSON.parse((await rotor([...args, "--format", "json"], { cwd: repoRoot })).stdout) as PlanDocument;
        expect(plan.since).toBe("2027-02-01T06:00:00Z");
        expect(plan.apps[1]!.credentials[0]).toMatchObject({ name: "importer", slotsReplaced: 2, status: "breaking" });
        expect(plan.apps[0]!.credentials[0]).toMatchObject({ name: "main", slotsReplaced: 0, status: "ok" });
        expect(plan.totals).toMatchObject({ breaking: 1, expired: 0 });
        const table = await rotor(args, { cwd: repoRoot });
        expect(table.code).toBe(0);
        const lines = table.stdout.split("\n");
        expect(lines[0]).toContain("1 breaking");
        expect(lines.slice(2, 4)).toEqual([
            "BREAKING FOR CONSUMERS:",
            "  device-inventory/importer: both slots are replaced because the last run was 2027-02-01, more than 30 days ago; consumers holding the value served until now lose it at once.",
        ]);
        expect(table.stdout).toMatch(/importer +secret .* BREAKING: both slots +device-inventory-importer/);
        const markdown = await rotor([...args, "--format", "markdown"], { cwd: repoRoot });
        expect(markdown.stdout).toContain("> [!CAUTION]\n> **Breaking for consumers:**\n> - device-inventory/importer: both slots are replaced");
    });

    it("calls a credential expired when the value served since the last run has run out", async () => {
        const plan = JSON.parse((await rotor(["plan", "--stack", "dev", "--at", "2027-03-06", "--since", "2026-11-01", "--format", "json"], { cwd: repoRoot })).stdout) as PlanDocument;
        const importer = plan.apps[1]!.credentials[0]!;
        expect(importer.status).toBe("expired");
        expect(plan.totals.expired).toBeGreaterThanOrEqual(1);
        for (const c of plan.apps.flatMap((a) => a.credentials)) expect(c.status === "expired").toBe(c.name === "importer");
    });

    it("plans every credential when a brought certificate has expired, shows it as an ERROR row, and exits 1", async () => {
        const args = ["plan", "--stack", "dev", "--at", "2028-01-15"];
        const table = await rotor(args, { cwd: repoRoot });
        expect(table.code).toBe(1);
        expect(table.stderr).toBe("");
        const lines = table.stdout.split("\n");
        expect(lines[0]).toMatch(/^entra-rotor \/ dev at 2028-01-15T00:00:00Z: 5 apps, .*, 1 credential in error$/);
        const errors = lines.indexOf("ERRORS:");
        // After the privileged permissions (what a reviewer must see first), before the apps.
        expect(errors).toBeGreaterThan(lines.indexOf("Privileged application permissions:"));
        expect(lines[errors + 1]).toBe("  apps[1].credentials[1].file: certs/device-inventory-partner.cer: the certificate expired on 2027-12-31T00:00:00Z: issue a new certificate and update the file");
        expect(table.stdout).toMatch(/partner +certs\/device-inventory-partner\.cer +56C0A9E009891D14FF85C02BF8BDB524EC11B321 +2027-12-31 +-15 +ERROR: expired, replace the file/);
        // Everything else is planned as on any other day.
        for (const name of ["mail-sender", "device-inventory", "calendar-sync", "ci-deployer", "ci-preview"]) expect(table.stdout).toContain(`\n${name}  `);
        expect(table.stdout).toMatch(/importer +secret +g48 /);

        const json = await rotor([...args, "--format", "json"], { cwd: repoRoot });
        expect(json.code).toBe(1);
        const plan = JSON.parse(json.stdout) as PlanDocument;
        expect(plan.errors).toEqual([{ path: "apps[1].credentials[1].file", message: expect.stringContaining("expired on 2027-12-31") }]);
        expect(plan.totals.errors).toBe(1);
        expect(plan.apps[1]!.certificateFiles[0]).toMatchObject({ status: "error", daysLeft: -15, error: expect.stringContaining("issue a new certificate") });
        expect(plan.apps.flatMap((a) => a.credentials)).toHaveLength(3);

        const markdown = await rotor([...args, "--format", "markdown"], { cwd: repoRoot });
        expect(markdown.code).toBe(1);
        expect(markdown.stdout).toContain("> [!CAUTION]\n> **Errors:**\n> - apps\\[1\\].credentials\\[1\\].file: certs/device-inventory-partner.cer: the certificate expired");
        // A day before it expired, the same stack plans with exit 0.
        expect((await rotor(["plan", "--stack", "dev", "--at", "2027-12-30"], { cwd: repoRoot })).code).toBe(0);
    });

    it("--all-stacks and --base say which credential is in error, and exit 1", async () => {
        const several = await rotor(["plan", "--all-stacks", "--at", "2028-01-15", "--format", "json"], { cwd: sampleProject() });
        expect(several.code).toBe(1);
        const dev = (JSON.parse(several.stdout) as { stacks: { stack: string; plan: PlanDocument | null; errors: unknown }[] }).stacks.find((entry) => entry.stack === "dev")!;
        expect(dev.errors).toBeNull();
        expect(dev.plan!.errors).toHaveLength(1);
        const table = await rotor(["plan", "--all-stacks", "--at", "2028-01-15"], { cwd: sampleProject() });
        expect(table.stdout).toContain("CREDENTIALS IN ERROR:\n  dev: apps[1].credentials[1].file: certs/device-inventory-partner.cer: the certificate expired");
        expect(table.stdout).toMatch(/\n +dev .* ERROR: 1 credential\n/);
        const base = await rotor(["plan", "--stack", "dev", "--base", "HEAD", "--at", "2028-01-15", "--format", "json"], { cwd: repoRoot });
        expect(base.code).toBe(1);
        expect((JSON.parse(base.stdout) as { errors: unknown[] }).errors).toEqual([{ path: "apps[1].credentials[1].file", message: expect.stringContaining("expired on 2027-12-31") }]);
    });

    it("says what its statuses assume, and with --since never plans the first deployment: everything new, both slots made now", async () => {
        const daily = await rotor(["plan", "--stack", "dev", "--at", "2027-03-01"], { cwd: repoRoot });
        expect(daily.stdout.split("\n")[1]).toBe("Statuses assume a deployment a day earlier, as a daily pipeline makes. A stack never deployed gets everything new on its first pulumi up: rotor plan --since never shows that run.");
        // Given a last run of its own, the plan says nothing of the kind.
        expect((await rotor(["plan", "--stack", "dev", "--at", "2027-03-01", "--since", "2027-02-01"], { cwd: repoRoot })).stdout).not.toContain("Statuses assume");

        const first = await rotor(["plan", "--stack", "dev", "--at", "2027-03-01", "--since", "never"], { cwd: repoRoot });
        expect(first.code).toBe(0);
        expect(first.stdout.split("\n")[0]).toContain("3 rotating credentials (all 3 new: the stack's first deployment creates both slots of each)");
        expect(first.stdout).not.toContain("Statuses assume");
        expect(first.stdout).toMatch(/main +secret +g12 2027-01-12 -> 2027-08-10 \(new, from 2027-03-01\) +g11 2026-10-14 -> 2027-05-12 \(new, from 2027-03-01\) +slot 0 .* new +mail-sender-main/);
        const plan = JSON.parse((await rotor(["plan", "--stack", "dev", "--at", "2027-03-01", "--since", "never", "--format", "json"], { cwd: repoRoot })).stdout) as PlanDocument;
        expect(plan).toMatchObject({ firstDeployment: true, since: "2027-03-01T00:00:00Z", totals: { new: 3, rotating: 0, breaking: 0, expired: 0 } });
        for (const c of plan.apps.flatMap((a) => a.credentials)) {
            expect(c).toMatchObject({ status: "new", slotsReplaced: 2 });
            expect(c.slots.map((slot) => slot.credentialStart)).toEqual(["2027-03-01T00:00:00Z", "2027-03-01T00:00:00Z"]);
        }
        const markdown = await rotor(["plan", "--stack", "dev", "--at", "2027-03-01", "--format", "markdown"], { cwd: repoRoot });
        expect(markdown.stdout).toContain("_Statuses assume a deployment a day earlier, as a daily pipeline makes. A stack never deployed gets everything new on its first pulumi up: `rotor plan --since never` shows that run._");
        expect((await rotor(["plan", "--stack", "dev", "--since", "nevr"], { cwd: repoRoot })).stderr).toContain("or never (a stack's first deployment)");
    });

    it("refuses --since after --at", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--at", "2027-03-06", "--since", "2027-03-07"], { cwd: repoRoot });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("--since (2027-03-07T00:00:00.000Z) must not be after --at (2027-03-06T00:00:00.000Z)");
    });
});

describe("rotor calendar", () => {
    it("lists every rotation in the range, by date", async () => {
        const run = await rotor(["calendar", "--stack", "dev", "--from", "2027-01-01", "--to", "2027-07-01", "--format", "json"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        const calendar = JSON.parse(run.stdout) as CalendarDocument;
        expect(calendar).toMatchObject({ schemaVersion: 1, project: "entra-rotor", stack: "dev", from: "2027-01-01T00:00:00Z", to: "2027-07-01T00:00:00Z" });
        expect(calendar.events.slice(0, 2)).toEqual([
            { date: "2027-01-05T00:00:00Z", app: "device-inventory", credential: "importer", slot: 0, retiredGeneration: 34, createdGeneration: 36 },
            { date: "2027-01-12T00:00:00Z", app: "mail-sender", credential: "main", slot: 0, retiredGeneration: 10, createdGeneration: 12 },
        ]);
        // Monthly importer: 6 in half a year; the two quarterly secrets: 2 each.
        expect(calendar.events.filter((e) => e.credential === "importer")).toHaveLength(6);
        expect(calendar.events).toHaveLength(10);
        expect([...calendar.events].sort((a, b) => a.date.localeCompare(b.date))).toEqual(calendar.events);
    });

    it("agrees with the plan: each event's date is the plan's next rotation the day before", async () => {
        const calendar = JSON.parse((await rotor(["calendar", "--stack", "dev", "--from", "2027-01-01", "--to", "2027-03-01", "--format", "json"], { cwd: repoRoot })).stdout) as CalendarDocument;
        for (const event of calendar.events) {
            const dayBefore = new Date(Date.parse(event.date) - 86_400_000).toISOString();
            const plan = JSON.parse((await rotor(["plan", "--stack", "dev", "--format", "json", "--at", dayBefore], { cwd: repoRoot })).stdout) as PlanDocument;
            const credential = plan.apps.find((a) => a.name === event.app)!.credentials.find((c) => c.name === event.credential)!;
            expect(credential.nextRotation).toBe(event.date);
            expect(credential.servedSlot).not.toBe(event.slot);
        }
    });

    it("prints a table, and refuses an empty range", async () => {
        const table = await rotor(["calendar", "--stack", "dev", "--from", "2027-01-01", "--to", "2027-02-01"], { cwd: repoRoot });
        expect(table.stdout).toMatch(/2027-01-05T00:00:00Z\s+device-inventory\s+importer\s+0\s+g34\s+g36/);
        const backwards = await rotor(["calendar", "--stack", "dev", "--from", "2027-02-01", "--to", "2027-01-01"], { cwd: repoRoot });
        expect(backwards.code).toBe(1);
        expect(backwards.stderr).toContain("--to (2027-01-01T00:00:00.000Z) must be after --from");
    });
});

describe("parseInstant", () => {
    it("reads dates as midnight UTC and instants with their zone", () => {
        expect(parseInstant("2027-03-01").toISOString()).toBe("2027-03-01T00:00:00.000Z");
        expect(parseInstant("2027-03-01T06:00:00+02:00").toISOString()).toBe("2027-03-01T04:00:00.000Z");
        expect(parseInstant("2027-03-01T06:00Z").toISOString()).toBe("2027-03-01T06:00:00.000Z");
    });

    it.each(["2027-3-1", "2027-02-29", "tomorrow", "2027-03-01T06:00:00", "1700000000"])("refuses %s", (value) => {
        expect(() => parseInstant(value)).toThrow(/use YYYY-MM-DD/);
    });
});

describe("the rotor executable", () => {
    it("runs from the package's bin entry, as npx rotor does", () => {
        const bin = path.join(repoRoot, "bin", "rotor.js");
        const out = execFileSync(process.execPath, [bin, "plan", "--stack", "dev", "--at", "2027-03-01", "--format", "json"], { cwd: repoRoot, encoding: "utf8" });
        expect((JSON.parse(out) as PlanDocument).apps).toHaveLength(5);
        const failed = spawnSync(process.execPath, [bin, "plan", "--stack", "missing"], { cwd: sampleProject(), encoding: "utf8" });
        expect(failed.status).toBe(1);
        expect(failed.stderr).toContain('no config for stack "missing"');
    });

    it("is built so that the command line loads commander alone, and each command only what it uses", () => {
        const main = fs.readFileSync(path.join(repoRoot, "dist", "cli", "main.js"), "utf8");
        // No zod, yaml, model or Azure SDK in what --version and --help load.
        for (const heavy of ["node_modules/zod/", "node_modules/yaml/", "infra/model/model.ts", "@azure/identity"]) expect(main).not.toContain(heavy);
        const source = fs.readFileSync(path.join(repoRoot, "cli", "main.ts"), "utf8");
        const lazy = [...source.matchAll(/import\("\.\/(\w+)"\)/g)].map((m) => m[1]!);
        expect(lazy.length).toBeGreaterThanOrEqual(7);
        // Every command the command line imports on demand is a bundle of its own, required, not inlined.
        for (const command of lazy) {
            expect(fs.existsSync(path.join(repoRoot, "dist", "cli", `${command}.js`))).toBe(true);
            expect(main).toContain(`require("./${command}.js")`);
        }
    });

    it("stops quietly when its reader closes the pipe early", () => {
        const bin = path.join(repoRoot, "bin", "rotor.js");
        const run = spawnSync("bash", ["-o", "pipefail", "-c", `"${process.execPath}" "${bin}" calendar --stack dev --from 2027-01-01 --to 2126-01-01 | head -c 100 > /dev/null`], { cwd: repoRoot, encoding: "utf8" });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
    });
});

describe("rotor summarize", () => {
    const fixture = (name: string) => `test/fixtures/preview/${name}`;

    it("turns a preview into a pull-request comment that leads with what breaks", async () => {
        const run = await rotor(["summarize", fixture("both-slots-replaced.json")], { cwd: repoRoot });
        expect(run.code).toBe(0);
        expect(run.stdout.split("\n").slice(0, 4)).toEqual(["## Identity changes: entra-rotor / dev", "", "> [!CAUTION]", "> **Breaking for consumers.** Applying this preview:"]);
        const json = JSON.parse((await rotor(["summarize", fixture("both-slots-replaced.json"), "--format", "json"], { cwd: repoRoot })).stdout) as { schemaVersion: number; breaking: unknown[] };
        expect(json.schemaVersion).toBe(1);
        expect(json.breaking).toHaveLength(1);
    });

    it("refuses what is not a preview, and a missing file, with exit 1", async () => {
        const plan = await rotor(["summarize", fixture("plan-file.json")], { cwd: repoRoot });
        expect(plan.code).toBe(1);
        expect(plan.stderr).toMatch(/^rotor: test\/fixtures\/preview\/plan-file\.json: not the JSON of `pulumi preview --json`/);
        const missing = await rotor(["summarize", "nope.json"], { cwd: repoRoot });
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe("rotor: nope.json: no such file; write it with pulumi preview --json > nope.json\n");
    });
});

describe("one convention for every command", () => {
    const commands = ["plan", "calendar", "status", "verify", "doctor", "rotate-now", "summarize"];

    it.each(commands)("rotor %s --help marks required options and writes defaults one way", async (command) => {
        const help = await rotor([command, "--help"], { cwd: repoRoot });
        expect(help.code).toBe(0);
        // Options are listed with two spaces of indent, wrapped descriptions below; a required one says so.
        const options = help.stdout.split(/\n(?=\s{2}-)/).map((entry) => entry.replace(/\s+/g, " "));
        const required = command === "summarize" ? [] : command === "rotate-now" ? ["stack", "app", "credential"] : ["stack"];
        // --stack of a command that also takes --stacks and --all-stacks is required as one of the three.
        for (const name of required) expect(options.find((o) => o.startsWith(` --${name} `))).toMatch(/\(required(: this, --stacks or --all-stacks)?\)/);
        for (const entry of options.filter((o) => o.includes("(required"))) expect(entry).toMatch(/^ --(stack|app|credential) /);
        expect(help.stdout).not.toMatch(/default now|, default /);
        expect(help.stdout).not.toMatch(/default: "/);
        for (const match of help.stdout.matchAll(/\(default: ([^)]+)\)/g)) expect(match[1]).not.toMatch(/^"/);
    });

    it("describes itself without a stray project name, and points usage errors at the command's help", async () => {
        const help = await rotor(["--help"], { cwd: repoRoot });
        expect(help.stdout).toContain("Entra ID app registrations as code, with credentials that rotate themselves\n");
        expect(help.stdout).not.toContain("(entra-rotor)");
        const missing = await rotor(["calendar"], { cwd: repoRoot });
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe("rotor: say which stack: --stack <name>, --stacks <a,b,c> or --all-stacks\n(run rotor calendar --help for usage)\n");
        const badFormat = await rotor(["status", "--stack", "dev", "--format", "yaml"], { cwd: repoRoot });
        expect(badFormat.code).toBe(1);
        expect(badFormat.stderr).toMatch(/^rotor: option '--format <format>' argument 'yaml' is invalid/);
        expect(badFormat.stderr).toContain("(run rotor status --help for usage)");
        const ours = await rotor(["plan", "--stack", "dev", "--since", "2027-04-01", "--at", "2027-03-01"], { cwd: repoRoot });
        expect(ours.stderr).toMatch(/^rotor: --since .* must not be after --at .*\n\(run rotor plan --help for usage\)\n$/);
    });

    it("names files relative to the working directory", async () => {
        const run = await rotor(["plan", "--stack", "nope", "--dir", "examples/invalid"], { cwd: repoRoot });
        expect(run.stderr).toMatch(/^rotor: examples\/invalid\/Pulumi\.nope\.yaml: 1 config error:\n {2}no config for stack "nope"; stacks here: bad\n$/);
        const elsewhere = await rotor(["plan", "--stack", "bad", "--dir", "."], { cwd: path.join(repoRoot, "examples", "invalid") });
        expect(elsewhere.stderr).toMatch(/^rotor: Pulumi\.bad\.yaml: 3 config errors:/);
    });

    it("summarizes a preview as a table too", async () => {
        const run = await rotor(["summarize", "test/fixtures/preview/permission-escalation.json", "--format", "table"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/^Identity changes: /);
        expect(run.stdout).toContain("PRIVILEGED PERMISSIONS ADDED");
        expect(run.stdout).not.toMatch(/\*\*|`|\| --- \|/);
    });
});

describe("a failed plan or summary as markdown says so on stdout (the pull request's comment)", () => {
    const markdownIt = new MarkdownIt({ html: true });
    /** What GitHub would show of a comment: its tokens, flattened, and the rendered HTML. */
    const render = (markdown: string) => {
        const tokens = markdownIt.parse(markdown, {}).flatMap((t) => [t, ...(t.children ?? [])]);
        return { tokens, html: markdownIt.render(markdown) };
    };
    const notice = (command: string) => new RegExp(`^## rotor ${command} failed\\n\\n> \\[!CAUTION\\]\\n> \\*\\*\`rotor ${command}\` failed: `);

    it("plan: the notice on stdout, the error on stderr, exit 1", async () => {
        const run = await rotor(["plan", "--stack", "bad", "--dir", "examples/invalid", "--format", "markdown"], { cwd: repoRoot });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: examples\/invalid\/Pulumi\.bad\.yaml: 3 config errors:/);
        expect(run.stdout).toMatch(notice("plan"));
        expect(run.stdout).toContain("no plan could be made.** Anything this comment showed before no longer applies.");
        // Every line of the reason, each a list item of the alert, escaped.
        expect(run.stdout).toContain("> - examples/invalid/Pulumi.bad.yaml: 3 config errors:\n");
        expect(run.stdout).toContain('> - apps\\[0\\].permissions\\[0\\].application\\[0\\]: unknown Microsoft Graph application permission "Mail.Sendd"');
        const { tokens } = render(run.stdout);
        expect(tokens.filter((t) => t.type === "blockquote_open")).toHaveLength(1);
        expect(tokens.filter((t) => t.type === "list_item_open")).toHaveLength(4);
    });

    it("summarize (markdown by default): the notice names the command; as a table or JSON, stdout stays empty", async () => {
        const missing = await rotor(["summarize", "nope.json"], { cwd: repoRoot });
        expect(missing.code).toBe(1);
        expect(missing.stdout).toMatch(notice("summarize"));
        expect(missing.stdout).toContain("the preview could not be summarised");
        expect(missing.stdout).toContain("> - nope.json: no such file; write it with pulumi preview --json &gt; nope.json\n");
        for (const format of ["table", "json"]) {
            const run = await rotor(["summarize", "nope.json", "--format", format], { cwd: repoRoot });
            expect(run.code).toBe(1);
            expect(run.stdout).toBe("");
        }
        const plan = await rotor(["plan", "--stack", "bad", "--dir", "examples/invalid"], { cwd: repoRoot });
        expect(plan.stdout).toBe("");
    });

    it("a usage error as markdown writes the notice too; --help and --version write none", async () => {
        const usage = await rotor(["plan", "--stack", "dev", "--format", "markdown", "--bogus"], { cwd: repoRoot });
        expect(usage.code).toBe(1);
        expect(usage.stdout).toMatch(notice("plan"));
        expect(usage.stdout).toContain("> - unknown option '--bogus'\n");
        const ours = await rotor(["plan", "--format=markdown"], { cwd: repoRoot });
        expect(ours.stdout).toContain("> - say which stack: --stack &lt;name&gt;, --stacks &lt;a,b,c&gt; or --all-stacks\n");
        expect((await rotor(["plan", "--format", "markdown", "--help"], { cwd: repoRoot })).stdout).not.toContain("failed");
        // Other commands keep their stdout: their markdown is not a pull request's comment.
        expect((await rotor(["calendar", "--stack", "nope", "--format", "markdown"], { cwd: sampleProject() })).stdout).toBe("");
    });

    it("text from the pull request cannot break out of the notice: no HTML, link, mention or heading of its own", async () => {
        const hostile = "x</details><!-- @contoso/admins [click](https://evil.example) | # Approved\n\n> [!NOTE]";
        // A project name the config refuses (its message quotes it), and a preview file's name (quoted too).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-notice-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: hostile, runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config: { "entra-rotor:apps": [{ name: "a" }] } }));
        const plan = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: dir });
        const summary = await rotor(["summarize", hostile.replace(/\n/g, " ")], { cwd: dir });
        for (const run of [plan, summary]) {
            expect(run.code).toBe(1);
            const { tokens, html } = render(run.stdout);
            expect(tokens.filter((t) => ["html_block", "html_inline", "link_open", "image"].includes(t.type))).toEqual([]);
            expect(tokens.filter((t) => t.type === "heading_open")).toHaveLength(1);
            expect(tokens.filter((t) => t.type === "blockquote_open")).toHaveLength(1);
            // Shown as written, inert: the mention carries a zero-width space, the comment opener is text.
            expect(html).toContain("&lt;!--");
            expect(html).not.toContain("@contoso");
            expect(html).toContain("@\u200bcontoso/admins");
        }
    });

    it("keeps the notice short: at most 20 lines of the reason, and where to find the rest", async () => {
        const apps = Array.from({ length: 30 }, (_, i) => ({ name: `app${i}`, permissions: [{ api: "Microsoft Graph", application: ["Nope.Nope"] }] }));
        const dir = projectDir({ many: { config: { "entra-rotor:apps": apps } } });
        const run = await rotor(["plan", "--stack", "many", "--format", "markdown"], { cwd: dir });
        expect(run.code).toBe(1);
        const items = run.stdout.split("\n").filter((line) => line.startsWith("> - "));
        expect(items).toHaveLength(21);
        expect(items[20]).toBe("> - … 11 more lines in the run's log");
    });

    it("the built CLI writes it too, as a pipeline runs it", () => {
        const bin = path.join(repoRoot, "bin", "rotor.js");
        const run = spawnSync(process.execPath, [bin, "plan", "--stack", "bad", "--dir", "examples/invalid", "--format", "markdown"], { cwd: repoRoot, encoding: "utf8" });
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(notice("plan"));
        expect(run.stderr).toMatch(/^rotor: examples\/invalid\/Pulumi\.bad\.yaml: 3 config errors:/);
    });
});
