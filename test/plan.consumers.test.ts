import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import type { PlanDocument } from "../cli/review/plan";
import type { PlanDiff } from "../cli/review/planDiff";
import { projectDir, rotor } from "./support/cli";
import { markupFragments, rawControl, rawHtmlOf, renderComment, tableRowCounts } from "./support/hostile";
import { git, sampleRepository } from "./support/repository";

/**
 * Issue 20 in the review: `rotor plan` shows who reads each rotating credential and the hand-off open for a
 * manual consumer, in every format; `rotor plan --base` shows consumers added, removed and changed, calls out a
 * manual consumer a change adds (a person's work at every rotation), and explains a rotation that changes
 * because of a manual consumer's default.
 */

const at = new Date("2027-03-01T06:00:00Z");
const keyVault = { name: "kv-contoso-identity", resourceGroup: "rg-identity" };
const zendesk = { name: "Zendesk", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" };

/** One consumer of each kind on mail-sender/main; calendar-sync/web has none. */
const everyKind = [
    { name: "mail-relay", reads: "keyVault", refreshHours: 24 },
    { name: "booking-web", reads: "appServiceReference" },
    { name: "aks-importer", reads: "csiDriver" },
    { name: "aks-env", reads: "csiDriver", refreshHours: 168, owner: "platform-team@contoso.com" },
    zendesk,
];

function stack(apps: unknown[], rotation?: Record<string, unknown>): string {
    return projectDir({ dev: { config: { "azuread:tenantId": "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7", "entra-rotor:keyVault": keyVault, ...(rotation ? { "entra-rotor:rotation": rotation } : {}), "entra-rotor:apps": apps } } });
}

function consumersStack(consumers: unknown[] = everyKind): string {
    return stack([
        { name: "mail-sender", credentials: [{ name: "main", type: "secret", consumers }] },
        { name: "calendar-sync", credentials: [{ name: "web", type: "certificate" }] },
    ]);
}

async function planJson(dir: string): Promise<PlanDocument> {
    const run = await rotor(["plan", "--stack", "dev", "--format", "json"], { cwd: dir, now: at });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as PlanDocument;
}

describe("consumers in rotor plan", () => {
    it("lists each credential's consumers in the JSON, with the open hand-off of one a person copies", async () => {
        const plan = await planJson(consumersStack());
        const main = plan.apps[0]!.credentials[0]!;
        expect(main.consumers).toEqual([
            { name: "mail-relay", reads: "keyVault", refreshHours: 24, refreshDeclared: true, windowDays: 2, owner: null, instructions: null },
            { name: "booking-web", reads: "appServiceReference", refreshHours: 24, refreshDeclared: false, windowDays: 2, owner: null, instructions: null },
            { name: "aks-importer", reads: "csiDriver", refreshHours: 2 / 60, refreshDeclared: false, windowDays: 2, owner: null, instructions: null },
            { name: "aks-env", reads: "csiDriver", refreshHours: 168, refreshDeclared: true, windowDays: 8, owner: "platform-team@contoso.com", instructions: null },
            { name: "Zendesk", reads: "manual", refreshHours: 336, refreshDeclared: false, windowDays: 15, owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" },
        ]);
        // A manual consumer's default: every 180 days, valid 390. The hand-off of the served generation is due when
        // the next one starts, which replaces the slot holding the previous value.
        expect(main).toMatchObject({ rotateEveryDays: 180, lifetimeDays: 390, servedSlot: 1, nextRotation: "2027-04-12T00:00:00Z" });
        expect(main.handoff).toEqual({ generation: 5, deadline: "2027-04-12T00:00:00Z" });
        expect(main.handoff!.generation).toBe(main.slots.find((s) => s.served)!.generation);
        // Always present, [] when none; no hand-off without a manual consumer.
        const web = plan.apps[1]!.credentials[0]!;
        expect(web.consumers).toEqual([]);
        expect("handoff" in web).toBe(false);
        expect(plan.totals).toMatchObject({ credentials: 2, consumers: 5, manualConsumers: 1 });
        // Value-free: nothing in it could be a credential.
        expect(JSON.stringify(plan)).not.toMatch(/"(value|password|secret)"\s*:/i);
    });

    it("keeps the totals of a stack without consumers as they were, and the consumers field present", async () => {
        const plan = await planJson(stack([{ name: "mail-sender", credentials: [{ name: "main", type: "secret" }] }]));
        expect(plan.totals).not.toHaveProperty("consumers");
        expect(plan.totals).not.toHaveProperty("manualConsumers");
        expect(plan.apps[0]!.credentials[0]!.consumers).toEqual([]);
        expect(Object.keys(plan.apps[0]!.credentials[0]!)).not.toContain("handoff");
        const table = await rotor(["plan", "--stack", "dev"], { cwd: stack([{ name: "mail-sender", credentials: [{ name: "main", type: "secret" }] }]), now: at });
        expect(table.stdout).not.toContain("CONSUMERS");
        expect(table.stdout.split("\n")[0]).not.toContain("consumer");
    });

    it("shows them in a CONSUMERS column of the table, only for an app that has some, and counts them in the headline", async () => {
        const dir = consumersStack();
        const run = await rotor(["plan", "--stack", "dev"], { cwd: dir, now: at });
        expect(run.code).toBe(0);
        const lines = run.stdout.split("\n");
        expect(lines[0]).toMatch(/, 2 rotating credentials \(0 rotating on this run\), 0 federated, 5 consumers \(1 manual\)$/);
        const header = lines.find((line) => line.includes("CREDENTIAL ") && line.includes("CONSUMERS"));
        expect(header).toMatch(/KEY VAULT SECRET\s+CONSUMERS$/);
        expect(run.stdout).toContain(
            "mail-sender-main  mail-relay (keyVault, 24 hours), booking-web (appServiceReference, 24 hours), aks-importer (csiDriver, 2 minutes), aks-env (csiDriver, 7 days), Zendesk (manual: @octocat, hand-off g5, deadline 2027-04-12)",
        );
        // calendar-sync declares none: its table is as it was.
        const calendar = lines.slice(lines.findIndex((line) => line.startsWith("calendar-sync")));
        expect(calendar.find((line) => line.includes("CREDENTIAL "))).toMatch(/KEY VAULT SECRET$/);
    });

    it("shows them in the markdown, with owners never mentioned", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: consumersStack(), now: at });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("| Credential | Type | Slot 0 | Slot 1 | Served | Next rotation | Days left | Status | Key vault secret | Consumers |");
        expect(run.stdout).toContain(
            "| mail-sender-main | mail-relay (keyVault, 24 hours), booking-web (appServiceReference, 24 hours), aks-importer (csiDriver, 2 minutes), aks-env (csiDriver, 7 days), Zendesk (manual: @&#8203;octocat, hand-off g5, deadline 2027-04-12) |",
        );
        expect(run.stdout).toContain(", 5 consumers (1 manual)");
        expect(run.stdout).not.toMatch(/@octocat/);
        expect(tableRowCounts(run.stdout)).toEqual([1, 1]);
    });

    it("refuses a pickup window shorter than a consumer needs: exit 1, the consumer named on stderr", async () => {
        const dir = stack([{ name: "mail-sender", credentials: [{ name: "main", type: "secret", rotateEveryDays: 7, lifetimeDays: 21, consumers: [zendesk] }] }]);
        for (const format of ["table", "json"]) {
            const run = await rotor(["plan", "--stack", "dev", "--format", format], { cwd: dir, now: at });
            expect(run.code).toBe(1);
            expect(run.stdout).toBe("");
            expect(run.stderr).toContain(
                "apps[0].credentials[0].consumers[0]: Zendesk (manual) takes up to 14 days to use a new value, so the pickup window must be at least 15 days (its refresh and a day's margin for a late pipeline), but the credential rotates every 7 days: raise rotateEveryDays to at least 15 (lifetimeDays to at least 37), or make Zendesk read more often",
            );
        }
        const nightly = stack([{ name: "mail-sender", credentials: [{ name: "main", type: "secret", rotateEveryDays: 30, lifetimeDays: 67, consumers: [{ name: "nightly-batch", reads: "keyVault", refreshHours: 720 }] }] }]);
        const run = await rotor(["plan", "--stack", "dev"], { cwd: nightly, now: at });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("nightly-batch (keyVault) takes up to 30 days to use a new value, so the pickup window must be at least 31 days");
    });

    it("escapes hostile consumer names and owners in markdown, and shows them inert in a terminal", async () => {
        const consumers = [
            ...markupFragments.map((fragment, i) => ({ name: `c${i} ${fragment}`.slice(0, 64), reads: "keyVault", refreshHours: 24, owner: fragment })),
            { name: "Vendor <!-- hidden", reads: "manual", owner: "@contoso/security-team #12", instructions: "https://wiki.contoso.com/x?<!--" },
        ];
        const dir = consumersStack(consumers);
        const markdown = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: dir, now: at });
        expect(markdown.code).toBe(0);
        expect(rawHtmlOf(markdown.stdout)).toEqual([]);
        expect(markdown.stdout).not.toMatch(/@contoso/);
        expect(markdown.stdout).not.toMatch(/(^|[^\\])#12/);
        // The credential tables keep their rows: no name ends one or adds a row.
        expect(tableRowCounts(markdown.stdout)).toEqual([1, 1]);
        const html = renderComment(markdown.stdout);
        expect(html).not.toContain("<!--");
        expect(html).not.toContain("<strong>");
        expect(html).not.toContain("<h1>");
        expect(html).toContain("Vendor &lt;!-- hidden (manual: @");

        const table = await rotor(["plan", "--stack", "dev"], { cwd: dir, now: at });
        expect(table.code).toBe(0);
        for (const line of table.stdout.split("\n")) expect(line).not.toMatch(rawControl);
        expect(table.stdout).toContain("Vendor <!-- hidden (manual: @contoso/security-team #12, hand-off g5, deadline 2027-04-12)");

        // A control character never reaches either: the name is refused, with its path.
        const hidden = await rotor(["plan", "--stack", "dev"], { cwd: consumersStack([{ ...zendesk, name: "Zen\u001b[2Kdesk" }]), now: at });
        expect(hidden.code).toBe(1);
        for (const line of hidden.stderr.split("\n")) expect(line).not.toMatch(rawControl);
        expect(hidden.stderr).toContain("apps[0].credentials[0].consumers[0]");
    });

    it("fits a comment's budget: apps whose consumers do not fit are counted", async () => {
        const consumers = Array.from({ length: 50 }, (_, i) => ({ name: `consumer-${i}-${"x".repeat(40)}`, reads: "keyVault", refreshHours: 24, owner: "o".repeat(200) }));
        const apps = Array.from({ length: 20 }, (_, i) => ({ name: `app-${String(i).padStart(2, "0")}`, credentials: [{ name: "main", type: "secret", consumers }] }));
        const dir = stack(apps);
        const run = await rotor(["plan", "--stack", "dev", "--format", "markdown", "--max-chars", "60000"], { cwd: dir, now: at });
        expect(run.code).toBe(0);
        expect(run.stdout.length).toBeLessThanOrEqual(60_000);
        expect(run.stdout).toMatch(/_\d+ more apps: see the run summary\._/);
        expect(run.stdout).toContain(", 1000 consumers (0 manual)");
        const whole = await rotor(["plan", "--stack", "dev", "--format", "markdown", "--max-chars", "0"], { cwd: dir, now: at });
        expect(whole.stdout.length).toBeGreaterThan(60_000);
        expect(tableRowCounts(whole.stdout)).toEqual(Array.from({ length: 20 }, () => 1));
    });
});

// ---------------------------------------------------------------------------------------------------------
// plan --base



/** Edits the working tree's credential `app/credential` of the sample stack, as a pull request would. */
function editCredential(dir: string, app: string, credential: string, edit: (c: Record<string, unknown>) => void): void {
    const file = path.join(dir, "Pulumi.dev.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    const apps = (doc.getIn(["config", "entra-rotor:apps"]) as { toJSON(): Record<string, unknown>[] }).toJSON();
    edit((apps.find((a) => a["name"] === app)!["credentials"] as Record<string, unknown>[]).find((c) => c["name"] === credential)!);
    doc.setIn(["config", "entra-rotor:apps"], doc.createNode(apps));
    fs.writeFileSync(file, doc.toString());
}

async function diffOf(repo: string): Promise<PlanDiff> {
    const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: repo, now: at });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as PlanDiff;
}

const causeText =
    "the cause is Zendesk, a manual consumer new in this change: a credential with a manual consumer that does not set rotateEveryDays rotates every 180 days by default (each rotation is a person's work); to add it without changing the schedule, set rotateEveryDays: 90 and lifetimeDays: 210 on the credential explicitly (that pickup window still covers the 15 days its consumers need)";

describe("consumers in rotor plan --base", () => {
    it("calls out a new manual consumer, and explains the breaking rotation its default causes", async () => {
        const repo = sampleRepository();
        // mail-sender/main takes the stack's 90/210: a manual consumer's default makes it 180/390.
        editCredential(repo, "mail-sender", "main", (c) => (c["consumers"] = [{ name: "mail-relay", reads: "keyVault", refreshHours: 24 }, zendesk]));
        const diff = await diffOf(repo);
        expect(diff.credentials).toEqual([
            expect.objectContaining({
                app: "mail-sender",
                credential: "main",
                change: "changed",
                slotsReplaced: 2,
                breaking: true,
                cause: "manualConsumerDefault",
                detail: `rotation every 90 days, valid 210 becomes every 180 days, valid 390; ${causeText}`,
            }),
        ]);
        expect(diff.breaking).toEqual([`mail-sender/main: both slots are replaced at once: rotation every 90 days, valid 210 becomes every 180 days, valid 390; ${causeText}`]);
        expect(diff.consumers).toEqual([
            { app: "mail-sender", credential: "main", consumer: "Zendesk", change: "added", reads: "manual", refreshHours: 336, owner: "@octocat", detail: "refresh 14 days (the kind's default), so it needs a pickup window of 15 days, owner @octocat", newManual: true, rotateEveryDays: 180 },
            { app: "mail-sender", credential: "main", consumer: "mail-relay", change: "added", reads: "keyVault", refreshHours: 24, owner: null, detail: "refresh 24 hours, so it needs a pickup window of 2 days", newManual: false, rotateEveryDays: 180 },
        ]);
        expect(diff.hasChanges).toBe(true);

        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.stdout.split("\n").slice(0, 13)).toEqual([
            "## Identity plan",
            "",
            "> [!CAUTION]",
            "> **Breaking for consumers:**",
            `> - mail-sender/main: both slots are replaced at once: rotation every 90 days, valid 210 becomes every 180 days, valid 390; ${causeText}`,
            "",
            "> [!IMPORTANT]",
            "> **New manual consumers: a person copies each new value by hand:**",
            "> - Zendesk (owner @&#8203;octocat): a person will be handed every new value of mail-sender/main every 180 days",
            "> Each rotation opens a hand-off (rotor handoffs) that the owner must finish before the next one, when the previous value stops working. Prefer a federated credential where the vendor supports workload identity federation, or a certificate whose private key stays with the consumer (docs/rotation.md).",
            "",
            "entra-rotor / dev, main -> working tree, at 2027-03-01T06:00:00Z: 1 credential change(s), 1 breaking, 2 consumer change(s), 1 new manual",
            "",
        ]);
        expect(markdown.stdout).toContain("| Change | App | Credential | Consumer | Reads | Detail |");
        expect(markdown.stdout).toContain("| added, NEW MANUAL | mail-sender | main | Zendesk | manual | refresh 14 days (the kind's default), so it needs a pickup window of 15 days, owner @&#8203;octocat |");

        const table = await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at });
        expect(table.stdout).toContain("NEW MANUAL CONSUMERS (a person copies each new value by hand):\n  Zendesk (owner @octocat): a person will be handed every new value of mail-sender/main every 180 days\n");
        expect(table.stdout).toMatch(/added, NEW MANUAL\s+mail-sender\s+main\s+Zendesk\s+manual\s+refresh 14 days/);
    });

    it("adds a manual consumer without replacing slots when the credential sets its rotation", async () => {
        const repo = sampleRepository();
        editCredential(repo, "mail-sender", "main", (c) => Object.assign(c, { rotateEveryDays: 90, lifetimeDays: 210, consumers: [zendesk] }));
        const diff = await diffOf(repo);
        expect(diff.credentials).toEqual([]);
        expect(diff.breaking).toEqual([]);
        expect(diff.consumers).toEqual([expect.objectContaining({ consumer: "Zendesk", change: "added", newManual: true, rotateEveryDays: 90 })]);
        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.stdout).toContain("> - Zendesk (owner @&#8203;octocat): a person will be handed every new value of mail-sender/main every 90 days");
        expect(markdown.stdout).not.toContain("[!CAUTION]");
    });

    it("blames no default when the same change writes the new rotation itself", async () => {
        const repo = sampleRepository();
        editCredential(repo, "mail-sender", "main", (c) => Object.assign(c, { rotateEveryDays: 120, lifetimeDays: 250, consumers: [zendesk] }));
        const diff = await diffOf(repo);
        expect(diff.credentials).toEqual([expect.objectContaining({ credential: "main", slotsReplaced: 2, detail: "rotation every 90 days, valid 210 becomes every 120 days, valid 250" })]);
        expect(diff.credentials[0]).not.toHaveProperty("cause");
    });

    it("shows consumers removed and changed, and one that becomes manual as new manual work", async () => {
        const repo = sampleRepository();
        editCredential(repo, "device-inventory", "importer", (c) => (c["consumers"] = [{ name: "vm-importer", reads: "keyVault", refreshHours: 24 }, { name: "Fabrikam", reads: "keyVault", refreshHours: 1 }, { name: "old-job", reads: "csiDriver" }]));
        git(repo, "commit", "--quiet", "-am", "consumers");
        editCredential(repo, "device-inventory", "importer", (c) => (c["consumers"] = [{ name: "vm-importer", reads: "csiDriver", refreshHours: 48 }, { name: "Fabrikam", reads: "manual", owner: "ops@contoso.com", instructions: "https://wiki.contoso.com/fabrikam" }]));
        const diff = await diffOf(repo);
        // importer sets its own rotation (30/90): nothing about it changes but its consumers.
        expect(diff.credentials).toEqual([]);
        expect(diff.consumers).toEqual([
            expect.objectContaining({ consumer: "Fabrikam", change: "changed", reads: "manual", newManual: true, detail: "keyVault, refresh 1 hour becomes manual, refresh 14 days (the kind's default), so it needs a pickup window of 15 days; owner (none) becomes ops@contoso.com; instructions (none) become https://wiki.contoso.com/fabrikam" }),
            expect.objectContaining({ consumer: "vm-importer", change: "changed", reads: "csiDriver", refreshHours: 48, newManual: false, detail: "keyVault, refresh 24 hours becomes csiDriver, refresh 2 days, so it needs a pickup window of 3 days" }),
            expect.objectContaining({ consumer: "old-job", change: "removed", reads: "csiDriver", newManual: false, detail: "no longer reads it (was csiDriver, refresh 2 minutes (the kind's default))" }),
        ]);
        // Unchanged consumers are not listed; none at all is no change.
        git(repo, "commit", "--quiet", "-am", "changed");
        expect((await diffOf(repo)).consumers).toEqual([]);
        expect((await diffOf(repo)).hasChanges).toBe(false);
    });

    it("escapes consumer names and owners from the pull request in the review comment", async () => {
        const repo = sampleRepository();
        editCredential(repo, "device-inventory", "importer", (c) => (c["consumers"] = [{ name: "Vendor <!-- hidden | *x*", reads: "manual", owner: "@contoso/admins #12", instructions: "https://wiki.contoso.com/v" }]));
        const markdown = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: repo, now: at });
        expect(markdown.code).toBe(0);
        expect(rawHtmlOf(markdown.stdout)).toEqual([]);
        expect(markdown.stdout).not.toMatch(/@contoso/);
        expect(markdown.stdout).not.toContain("*x*");
        expect(tableRowCounts(markdown.stdout)).toEqual([1]);
        const table = await rotor(["plan", "--stack", "dev", "--base", "main"], { cwd: repo, now: at });
        expect(table.stdout).toContain("  Vendor <!-- hidden | *x* (owner @contoso/admins #12): a person will be handed every new value of device-inventory/importer every 30 days");
    });
});
