import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { beforeEach, describe, expect, it } from "vitest";
import { baseDirPrefix } from "../cli/review/gitBase";
import type { PlanDocument } from "../cli/review/plan";
import type { PlanDiff } from "../cli/review/planDiff";
import { rotor } from "./support/cli";
import { mermaidBlocks, parseGantt } from "./support/mermaid";
import { repoRoot } from "./support/program";
import { git, sampleRepository } from "./support/repository";



/** Edits the working tree's stack config as YAML (comments kept), as a pull request would. */
function editStack(dir: string, edit: (apps: Record<string, unknown>[]) => void): void {
    const file = path.join(dir, "Pulumi.dev.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    const apps = doc.getIn(["config", "entra-rotor:apps"]) as { toJSON(): Record<string, unknown>[] };
    const json = apps.toJSON();
    edit(json);
    doc.setIn(["config", "entra-rotor:apps"], doc.createNode(json));
    fs.writeFileSync(file, doc.toString());
}

const at = new Date("2027-03-01T06:00:00Z");
let repo: string;
beforeEach(() => {
    repo = sampleRepository();
});

describe("rotor plan --base", () => {
    it("shows a permission escalation first and a lifetime change that replaces both slots as breaking", async () => {
        editStack(repo, (apps) => {
            const inventory = apps.find((a) => a["name"] === "device-inventory")!;
            inventory["permissions"] = [{ api: "Microsoft Graph", application: ["DeviceManagementManagedDevices.Read.All", "Device.Read.All", "AppRoleAssignment.ReadWrite.All"] }];
            inventory["allowPrivileged"] = [{ permission: "AppRoleAssignment.ReadWrite.All", justification: "Assigns the importer's own roles during onboarding of new device sources." }];
            const importer = (inventory["credentials"] as Record<string, unknown>[])[0]!;
            importer["lifetimeDays"] = 80;
        });
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const diff = JSON.parse(run.stdout) as PlanDiff;
        expect(diff.permissions[0]).toMatchObject({ app: "device-inventory", change: "added", name: "AppRoleAssignment.ReadWrite.All", tier: 0, escalation: true });
        expect(diff.credentials).toEqual([
            expect.objectContaining({ app: "device-inventory", credential: "importer", change: "changed", slotsReplaced: 2, breaking: true, detail: "rotation every 30 days, valid 90 becomes every 30 days, valid 80" }),
        ]);
        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        const lines = markdown.stdout.split("\n");
        expect(lines.slice(0, 11)).toEqual([
            "## Identity plan",
            "",
            "> [!WARNING]",
            "> **Privileged permissions added:**",
            "> - device-inventory: AppRoleAssignment.ReadWrite.All on Microsoft Graph (tier 0)",
            "",
            "> [!CAUTION]",
            "> **Breaking for consumers:**",
            "> - device-inventory/importer: both slots are replaced at once: rotation every 30 days, valid 90 becomes every 30 days, valid 80",
            "",
            "entra-rotor / dev, main -> working tree, at 2027-03-01T06:00:00Z: 1 permission change(s), 1 escalation(s), 1 credential change(s), 1 breaking",
        ]);
        expect(markdown.stdout).toContain("| added, ESCALATION (tier 0) | device-inventory | application | Microsoft Graph | AppRoleAssignment.ReadWrite.All | 0 |");
        // The repository is as it was: no worktree left behind.
        expect(git(repo, "worktree", "list").trim().split("\n")).toHaveLength(1);
    });

    it("refuses a tier-0 delegated permission added without a justification: it is consented for every user (issue 18)", async () => {
        editStack(repo, (apps) => {
            const calendar = apps.find((a) => a["name"] === "calendar-sync")!;
            calendar["permissions"] = [{ api: "Microsoft Graph", delegated: ["openid", "offline_access", "Calendars.ReadWrite", "Directory.AccessAsUser.All"] }];
        });
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(
            'apps[2].permissions[0].delegated[3]: "Directory.AccessAsUser.All" is a tier-0 Microsoft Graph delegated permission: the stack consents it for every user of the tenant at once',
        );
        expect(run.stdout).toMatch(/^## rotor plan failed\n/);
    });

    it("shows a justified tier-0 delegated permission first, as an escalation (issue 18)", async () => {
        editStack(repo, (apps) => {
            const calendar = apps.find((a) => a["name"] === "calendar-sync")!;
            calendar["permissions"] = [{ api: "Microsoft Graph", delegated: ["openid", "offline_access", "Calendars.ReadWrite", "User.Read", "Directory.AccessAsUser.All"] }];
            calendar["allowPrivileged"] = [{ permission: "Directory.AccessAsUser.All", justification: "Books rooms for the signed-in administrator; reviewed quarterly by security." }];
        });
        const json = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at });
        expect(json.code).toBe(0);
        const diff = JSON.parse(json.stdout) as PlanDiff;
        expect(diff.permissions.map((p) => [p.change, p.app, p.type, p.name, p.tier, p.escalation])).toEqual([
            ["added", "calendar-sync", "delegated", "Directory.AccessAsUser.All", 0, true],
            ["added", "calendar-sync", "delegated", "User.Read", null, false],
        ]);
        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.code).toBe(0);
        expect(markdown.stdout.split("\n").slice(0, 6)).toEqual([
            "## Identity plan",
            "",
            "> [!WARNING]",
            "> **Privileged permissions added:**",
            "> - calendar-sync: Directory.AccessAsUser.All on Microsoft Graph (tier 0, delegated: consented for all users)",
            "",
        ]);
        expect(markdown.stdout).toContain("| added, ESCALATION (tier 0) | calendar-sync | delegated | Microsoft Graph | Directory.AccessAsUser.All | 0 |");
    });

    it("fits thousands of added apps in a comment: escalations first and whole, the rest counted (issue 18)", async () => {
        editStack(repo, (apps) => {
            for (let i = 0; i < 5_000; i++) apps.push({ name: `importer-${String(i).padStart(4, "0")}`, displayName: `Contoso importer number ${i}`, permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"] }] });
            apps.push({ name: "zz-admin", permissions: [{ api: "Microsoft Graph", application: ["RoleManagement.ReadWrite.Directory"] }], allowPrivileged: [{ permission: "RoleManagement.ReadWrite.Directory", justification: "Assigns the importers' roles during onboarding, reviewed by security." }] });
        });
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        expect(run.stdout.split("\n").slice(2, 5)).toEqual(["> [!WARNING]", "> **Privileged permissions added:**", "> - zz-admin: RoleManagement.ReadWrite.Directory on Microsoft Graph (tier 0)"]);
        const shownApps = /^Apps added: (.*), and ([\d,]+) more apps: see the run summary\.$/m.exec(run.stdout);
        expect(shownApps).not.toBeNull();
        expect(shownApps![1]!.split(", ").length + Number(shownApps![2]!.replace(/,/g, ""))).toBe(5_001);
        // The escalation is the table's first row, and what does not fit is counted.
        const rows = run.stdout.split("\n").filter((line) => line.startsWith("| added"));
        expect(rows[0]).toContain("| added, ESCALATION (tier 0) | zz-admin |");
        const more = /^_([\d,]+) more permission changes: see the run summary\._$/m.exec(run.stdout);
        expect(rows.length + Number(more![1]!.replace(/,/g, ""))).toBe(5_001);
        // Everything, for the run summary.
        const whole = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown", "--max-chars", "0"], { cwd: repo, now: at });
        expect(whole.stdout.split("\n").filter((line) => line.startsWith("| added"))).toHaveLength(5_001);
        expect(whole.stdout).not.toContain("see the run summary");
    });

    it("lists apps and federated credentials added and removed, and removals as breaking", async () => {
        editStack(repo, (apps) => {
            const ci = apps.find((a) => a["name"] === "ci-deployer")!;
            ci["credentials"] = [{ name: "github-main", type: "federated", github: { repo: "contoso/identity", branch: "main" } }, ...(ci["credentials"] as { name: string }[]).filter((c) => c.name !== "github-production")];
            apps.splice(apps.findIndex((a) => a["name"] === "mail-sender"), 1);
            apps.push({ name: "hr-export", permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }] });
        });
        const diff = JSON.parse((await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDiff;
        expect(diff.appsAdded).toEqual(["hr-export"]);
        expect(diff.appsRemoved).toEqual(["mail-sender"]);
        expect(diff.credentials.map((c) => `${c.app}/${c.credential} ${c.change}`)).toEqual(["ci-deployer/github-main added", "ci-deployer/github-production removed", "mail-sender/main removed"]);
        expect(diff.breaking).toEqual([
            "mail-sender: the application is deleted; everything that signs in as it stops working",
            "ci-deployer/github-production: removed: https://token.actions.githubusercontent.com repo:contoso@5544123/identity@821093847:environment:production may no longer sign in",
        ]);
        expect(diff.permissions.map((p) => `${p.change} ${p.app} ${p.name}`)).toEqual(["added hr-export User.Read.All", "removed mail-sender Mail.Send"]);
        // No rotation changes: no timeline.
        expect(diff.credentials.filter((c) => c.rotation)).toEqual([]);
        expect((await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at })).stdout).not.toContain("```mermaid");
    });

    it("draws the rotations that change, before and after, in a Mermaid chart after the tables", async () => {
        editStack(repo, (apps) => {
            const inventory = apps.find((a) => a["name"] === "device-inventory")!;
            (inventory["credentials"] as Record<string, unknown>[])[0]!["lifetimeDays"] = 80;
            const calendar = apps.find((a) => a["name"] === "calendar-sync")!;
            (calendar["credentials"] as Record<string, unknown>[])[0]!["keySize"] = 4096;
            const ci = apps.find((a) => a["name"] === "ci-deployer")!;
            ci["credentials"] = (ci["credentials"] as { name: string }[]).filter((c) => c.name !== "github-production");
        });
        const diff = JSON.parse((await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDiff;
        const importer = { rotateEveryDays: 30, lifetimeDays: 90, epoch: "2024-01-01T00:00:00Z", phaseDays: 20 };
        expect(diff.credentials.find((c) => c.credential === "importer")!.rotation).toEqual({ before: importer, after: { ...importer, lifetimeDays: 80 } });
        expect(diff.credentials.find((c) => c.credential === "web")!.rotation).toMatchObject({ before: { rotateEveryDays: 90, lifetimeDays: 210 }, after: { rotateEveryDays: 90, lifetimeDays: 210 } });
        expect(diff.credentials.find((c) => c.credential === "github-production")!.rotation).toBeUndefined();

        const markdown = (await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at })).stdout;
        // The alerts and the tables first, the chart last.
        expect(markdown.indexOf("> [!CAUTION]")).toBeLessThan(markdown.indexOf("### Credentials"));
        expect(markdown.indexOf("### Credentials")).toBeLessThan(markdown.indexOf("### Rotation timeline"));
        expect(markdown.trimEnd().endsWith("```")).toBe(true);
        const blocks = mermaidBlocks(markdown);
        expect(blocks).toHaveLength(1);
        const chart = await parseGantt(blocks[0]!);
        expect(chart.title).toBe("Rotations before and after this change, 2027-03-01 to 2027-09-27");
        expect(chart.sections).toEqual(["device-inventory/importer before", "device-inventory/importer after", "calendar-sync/web before", "calendar-sync/web after"]);
        // The change itself: both slots replaced at the plan's instant, in red.
        for (const section of ["device-inventory/importer after", "calendar-sync/web after"]) {
            expect(chart.tasks.find((t) => t.section === section)).toMatchObject({ name: "this change replaces both slots", milestone: true, crit: true, start: "2027-03-01 06:00:00" });
        }
        const names = (section: string) => chart.tasks.filter((t) => t.section === section).map((t) => t.name);
        // Same generations and spans; the new lifetime shows in the end dates.
        expect(names("device-inventory/importer before").slice(0, 3)).toEqual(["g36 in slot 0, expires 2027-04-05", "g37 in slot 1, expires 2027-05-05", "g37 served"]);
        expect(names("device-inventory/importer after").slice(0, 4)).toEqual(["this change replaces both slots", "g36 in slot 0, expires 2027-03-26", "g37 in slot 1, expires 2027-04-25", "g37 served"]);
        const rotations = chart.tasks.filter((t) => t.section === "device-inventory/importer after" && t.milestone && !t.crit);
        expect(rotations.map((t) => `${t.name} ${t.start}`)).toEqual(rotations.map((_, i) => `g${38 + i} replaces g${36 + i} in slot ${i % 2} ${["2027-03-06", "2027-04-05", "2027-05-05", "2027-06-04", "2027-07-04", "2027-08-03", "2027-09-02"][i]} 00:00:00`));
        expect(rotations).toHaveLength(7);
        // The terminal has the tables only.
        expect((await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at })).stdout).not.toContain("gantt");
    });

    it("says no identity changes when there are none, and treats a new stack as all added", async () => {
        const same = await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at });
        expect(same.stdout).toBe("entra-rotor / dev, main -> working tree, at 2027-03-01T06:00:00Z: no identity changes\n\n");
        fs.copyFileSync(path.join(repo, "Pulumi.dev.yaml"), path.join(repo, "Pulumi.prod.yaml"));
        const fresh = JSON.parse((await rotor(["plan", "--stack", "prod", "--base", "main", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDiff;
        expect(fresh.appsAdded).toEqual(["mail-sender", "device-inventory", "calendar-sync", "ci-deployer", "ci-preview"]);
    });

    it("refuses an unknown ref and a directory outside git, with exit 1", async () => {
        const unknown = await rotor(["plan", "--stack", "dev", "--base", "origin/nope"], { cwd: repo, now: at });
        expect(unknown.code).toBe(1);
        expect(unknown.stderr).toBe("rotor: --base origin/nope: no such commit, branch or tag here (in a pipeline, fetch the base branch first, e.g. git fetch origin main)\n");
        const outside = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-nogit-"));
        for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml"]) fs.copyFileSync(path.join(repo, file), path.join(outside, file));
        fs.cpSync(path.join(repo, "certs"), path.join(outside, "certs"), { recursive: true });
        const noGit = await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: outside, now: at });
        expect(noGit.code).toBe(1);
        expect(noGit.stderr).toMatch(/^rotor: --base needs a git repository/);
    });

    it("says so on stderr and in the comment when the base config cannot be read, instead of silently showing everything added", async () => {
        fs.writeFileSync(path.join(repo, "Pulumi.dev.yaml"), "config:\n  entra-rotor:apps: [\n");
        git(repo, "commit", "--quiet", "-am", "broken base");
        git(repo, "branch", "broken");
        git(repo, "checkout", "--quiet", "HEAD~1", "--", "Pulumi.dev.yaml");
        const run = await rotor(["plan", "--stack", "dev", "--base", "broken", "--format", "markdown"], { cwd: repo, now: at });
        expect(run.code).toBe(0);
        expect(run.stderr).toBe("rotor: note: the config at broken cannot be read (1 error); everything is shown as added (run rotor plan on broken to see why)\n");
        expect(run.stdout).toContain("> [!NOTE]\n> The config at broken cannot be read (1 error), so it could not be compared: everything is shown as added.");
        const json = JSON.parse((await rotor(["plan", "--stack", "dev", "--base", "broken", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDiff;
        expect(json.baseProblem).toBe("cannot be read (1 error)");
        // A stack that is new in the change is not a problem.
        fs.copyFileSync(path.join(repo, "Pulumi.dev.yaml"), path.join(repo, "Pulumi.prod.yaml"));
        const fresh = await rotor(["plan", "--stack", "prod", "--base", "main", "--format", "json"], { cwd: repo, now: at });
        expect(fresh.stderr).toBe("");
        expect((JSON.parse(fresh.stdout) as PlanDiff).baseProblem).toBeNull();
    });

    it("refuses a base that git would read as an option, or that is not a ref", async () => {
        for (const ref of ["--output=/tmp/x", "-c", "main\n<!--", "a b"]) {
            const run = await rotor(["plan", "--stack", "dev", "--base", ref], { cwd: repo, now: at });
            expect(run.code, ref).toBe(1);
            expect(run.stderr, ref).toMatch(/^rotor: --base .*(git would read it as an option|is not a git ref)/);
            expect(run.stderr, ref).not.toContain("\n<");
        }
    });

    it("removes the worktrees a killed run left behind, and keeps those of a run still going", async () => {
        const leftover = (pid: number) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), baseDirPrefix));
            git(repo, "worktree", "add", "--detach", "--quiet", path.join(dir, "tree"), "main");
            fs.writeFileSync(path.join(dir, "pid"), String(pid));
            return dir;
        };
        const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
        const abandoned = leftover(dead);
        const running = leftover(process.pid);
        await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at });
        expect(fs.existsSync(abandoned)).toBe(false);
        expect(fs.existsSync(running)).toBe(true);
        const trees = git(repo, "worktree", "list", "--porcelain").split("\n").filter((line) => line.startsWith("worktree "));
        expect(trees).toHaveLength(2);
        git(repo, "worktree", "remove", "--force", path.join(running, "tree"));
        fs.rmSync(running, { recursive: true, force: true });
    });

    it.skipIf(process.platform === "win32")("removes its worktree when interrupted with SIGTERM or SIGINT", async () => {
        // A git that, once it has added the worktree, says so (marker) and waits until the test has sent its
        // signal (release), so the signal arrives while the worktree exists; at most 30 s, so a failed test
        // leaves nothing running.
        const realGit = execFileSync("bash", ["-c", "command -v git"], { encoding: "utf8" }).trim();
        const shim = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-git-shim-"));
        const marker = path.join(shim, "added");
        const release = path.join(shim, "release");
        fs.writeFileSync(
            path.join(shim, "git"),
            `#!/bin/sh\n"${realGit}" "$@"; status=$?\nif [ "$1" = worktree ] && [ "$2" = add ]; then\n  touch "${marker}"\n  i=0; while [ ! -e "${release}" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\nfi\nexit $status\n`,
            { mode: 0o755 },
        );
        for (const signal of ["SIGTERM", "SIGINT"] as const) {
            fs.rmSync(marker, { force: true });
            fs.rmSync(release, { force: true });
            const child = spawn(process.execPath, [path.join(repoRoot, "bin", "rotor.js"), "plan", "--stack", "dev", "--base", "main"], {
                cwd: repo,
                env: { ...process.env, PATH: `${shim}${path.delimiter}${process.env["PATH"] ?? ""}` },
                stdio: "ignore",
            });
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            for (let i = 0; i < 200 && !fs.existsSync(marker); i++) await new Promise((resolve) => setTimeout(resolve, 25));
            expect(fs.existsSync(marker), signal).toBe(true);
            // The signal is pending in rotor (blocked in git) once kill returns; then git may finish.
            child.kill(signal);
            fs.writeFileSync(release, "");
            await exited;
            const trees = git(repo, "worktree", "list", "--porcelain").split("\n").filter((line) => line.startsWith("worktree "));
            expect(trees, signal).toHaveLength(1);
            const ours = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(baseDirPrefix) && fs.existsSync(path.join(os.tmpdir(), name, "pid")) && fs.readFileSync(path.join(os.tmpdir(), name, "pid"), "utf8") === String(child.pid));
            expect(ours, signal).toEqual([]);
        }
        fs.rmSync(shim, { recursive: true, force: true });
    });
});

// ---------------------------------------------------------------------------------------------------------
// Credentials made before the stack (issue 19): listed offline by rotor plan, their retirement shown by --base

const portalSecret = { keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", displayName: "Portal secret (Bob)", expires: "2027-04-15T00:00:00Z" };
const portalCertificate = { keyId: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09", kind: "certificate", displayName: "CN=legacy-mailer", expires: "2028-01-01T12:00:00+01:00" };

/** The sample repository whose main already lists mail-sender's portal-made credentials, as rotor import writes them. */
function importedRepository(): string {
    editStack(repo, (apps) => {
        apps.find((a) => a["name"] === "mail-sender")!["existing"] = [portalSecret, portalCertificate];
    });
    git(repo, "commit", "--quiet", "-am", "import");
    return repo;
}

describe("existing credentials in rotor plan and plan --base", () => {
    it("lists each app's existing credentials offline, and warns of one that expires within the pickup window", async () => {
        importedRepository();
        const json = await rotor(["plan", "--stack", "dev", "--format", "json"], { cwd: repo, now: at });
        expect(json.code).toBe(0);
        const plan = JSON.parse(json.stdout) as PlanDocument;
        const mail = plan.apps.find((a) => a.name === "mail-sender")!;
        // mail-sender/main rotates every 90 days: the portal secret expires in 44 days, before its consumers could move.
        expect(mail.existing).toEqual([
            { ...portalSecret, expires: "2027-04-15T00:00:00Z", daysLeft: 44, retire: false, finding: expect.stringContaining("within the 90-day pickup window"), path: "apps[0].existing[0]" },
            { ...portalCertificate, expires: "2028-01-01T11:00:00Z", daysLeft: 306, retire: false, finding: null, path: "apps[0].existing[1]" },
        ]);
        expect(plan.warnings).toContainEqual({
            path: "apps[0].existing[0]",
            message: `existing secret "Portal secret (Bob)" (key ${portalSecret.keyId}) expires on 2027-04-15, within the 90-day pickup window the stack gives consumers: deploy the stack and move its consumers to mail-sender-main in Key Vault before then, or extend it`,
        });
        expect(plan.totals).toMatchObject({ existing: 2, retiring: 0 });
        // An app without existing credentials has none listed, and the JSON of a stack without any is as before.
        expect(plan.apps.find((a) => a.name === "device-inventory")!.existing).toBeUndefined();

        const table = await rotor(["plan", "--stack", "dev"], { cwd: repo, now: at });
        expect(table.stdout.split("\n")[0]).toContain(", 2 existing from before the stack (0 marked retire)");
        expect(table.stdout).toMatch(/EXISTING\s+KIND\s+KEY ID\s+EXPIRES\s+DAYS LEFT\s+STATUS/);
        expect(table.stdout).toMatch(/Portal secret \(Bob\)\s+secret\s+0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10\s+2027-04-15\s+44\s+WARNING: expires before consumers can move/);
        expect(table.stdout).toMatch(/CN=legacy-mailer\s+certificate\s+6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09\s+2028-01-01\s+306\s+kept/);
        const markdown = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.stdout).toContain("| Existing | Kind | Key id | Expires | Days left | Status |");
        expect(markdown.stdout).toContain("| Portal secret (Bob) | secret | `0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10` | 2027-04-15 | 44 | WARNING: expires before consumers can move |");
    });

    it("warns of an existing credential that has expired, or that nothing the stack serves replaces", async () => {
        editStack(repo, (apps) => {
            apps.find((a) => a["name"] === "mail-sender")!["existing"] = [{ ...portalSecret, expires: "2027-02-01T00:00:00Z" }];
            // ci-deployer declares federated credentials only: nothing Key Vault serves replaces a secret of it.
            apps.find((a) => a["name"] === "ci-deployer")!["existing"] = [{ ...portalCertificate, expires: "2027-03-20T00:00:00Z" }];
        });
        const plan = JSON.parse((await rotor(["plan", "--stack", "dev", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDocument;
        const messages = plan.warnings.filter((w) => w.path.includes(".existing[")).map((w) => w.message);
        expect(messages).toEqual([
            `existing secret "Portal secret (Bob)" (key ${portalSecret.keyId}) expired on 2027-02-01: its consumers fail until they read mail-sender-main from Key Vault (the stack's main)`,
            `existing certificate "CN=legacy-mailer" (key ${portalCertificate.keyId}) expires on 2027-03-20, and the stack declares no rotating credential for ci-deployer: nothing Key Vault serves replaces it; add one (or a federated credential) and move its consumers`,
        ]);
        // Marked for retirement, neither is a finding: rotor retire takes it out.
        editStack(repo, (apps) => {
            for (const app of apps) for (const entry of (app["existing"] as Record<string, unknown>[] | undefined) ?? []) entry["retire"] = true;
        });
        const marked = JSON.parse((await rotor(["plan", "--stack", "dev", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDocument;
        expect(marked.warnings.filter((w) => w.path.includes(".existing["))).toEqual([]);
        expect(marked.totals).toMatchObject({ existing: 2, retiring: 2 });
    });

    it("shows a credential newly marked retire: true prominently, as a removal from Entra", async () => {
        importedRepository();
        editStack(repo, (apps) => {
            const existing = apps.find((a) => a["name"] === "mail-sender")!["existing"] as Record<string, unknown>[];
            existing[1]!["retire"] = true;
        });
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const diff = JSON.parse(run.stdout) as PlanDiff;
        expect(diff.retirements).toEqual([{ app: "mail-sender", keyId: portalCertificate.keyId, kind: "certificate", displayName: "CN=legacy-mailer", expires: "2028-01-01T11:00:00Z", path: "apps[0].existing[1]" }]);
        expect(diff.hasChanges).toBe(true);
        expect(diff.credentials).toEqual([]);

        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.stdout.split("\n").slice(0, 8)).toEqual([
            "## Identity plan",
            "",
            "> [!IMPORTANT]",
            "> **Credentials to retire: removed from Entra after the merge:**",
            `> - mail-sender: "CN=legacy-mailer" (certificate, key \`${portalCertificate.keyId}\`, expires 2028-01-01)`,
            "> After the merge, rotor retire removes each from the application in Entra, only when no sign-in with it within its window is on record (and never one of the stack's own credentials); a consumer still holding one then fails to sign in.",
            "",
            "entra-rotor / dev, main -> working tree, at 2027-03-01T06:00:00Z: 1 credential(s) to retire from Entra",
        ]);
        const table = await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at });
        expect(table.stdout).toContain(`CREDENTIALS TO RETIRE (removed from Entra after the merge):\n  mail-sender: "CN=legacy-mailer" (certificate, key ${portalCertificate.keyId}, expires 2028-01-01)\n`);

        // Already marked at the base: nothing new to review.
        git(repo, "commit", "--quiet", "-am", "retire");
        const again = JSON.parse((await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at })).stdout) as PlanDiff;
        expect(again.retirements).toEqual([]);
        expect(again.hasChanges).toBe(false);
    });

    it("escapes a display name written by the portal in the review comment", async () => {
        importedRepository();
        editStack(repo, (apps) => {
            const existing = apps.find((a) => a["name"] === "mail-sender")!["existing"] as Record<string, unknown>[];
            existing[0]!["displayName"] = "<!-- hidden --> @admins *bold*";
            existing[0]!["retire"] = true;
        });
        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.stdout).not.toContain("<!--");
        expect(markdown.stdout).not.toContain("@admins");
        expect(markdown.stdout).not.toContain("*bold*");
    });
});
