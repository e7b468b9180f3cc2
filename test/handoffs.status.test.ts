import * as fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StatusReport } from "../cli/live/status";
import type { StacksStatus } from "../cli/live/statusStacks";
import { certificateKeyId } from "../rotation/identifiers";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { projectDir } from "./support/cli";
import { type Deployment, deployToEmulator, operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import { rawHtmlOf } from "./support/hostile";
import { rotorAt } from "./support/sampleTenant";

/**
 * `rotor status` and the hand-offs of a stack with manual consumers, against the emulator: the real Graph and Key
 * Vault clients over HTTPS, Entra's sign-in evidence recorded in the emulator, the instant injected. A hand-off is
 * open until it comes within --within days of its deadline, then due (exit 2), and picked up (exit 0 again) once
 * `--usage` shows a sign-in with the new generation's key id.
 */

const deployedAt = new Date("2027-01-15T06:00:00Z");
/** Ten days before mail-sender/main's deadline (2027-04-12): its hand-off to Zendesk is due within 30 days, not 7. */
const nearDeadline = new Date("2027-04-02T06:00:00Z");
const hour = 3_600_000;

const keyVault = { name: "kv-contoso-identity", resourceGroup: "rg-identity" };
const stackConfig = {
    config: {
        "entra-rotor:keyVault": keyVault,
        "entra-rotor:apps": [
            {
                name: "mail-sender",
                permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }],
                // The manual consumer's defaults, 180 and 390 days: the value the consumer still holds outlives the
                // deadline by a month, so it never alerts as expiring while the hand-off is open.
                credentials: [
                    {
                        name: "main",
                        type: "secret",
                        consumers: [
                            { name: "Zendesk <b>@contoso/admins", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" },
                            { name: "relay", reads: "keyVault", refreshHours: 24 },
                        ],
                    },
                ],
            },
            {
                name: "partner-portal",
                permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }],
                credentials: [{ name: "web", type: "certificate", rotateEveryDays: 180, lifetimeDays: 420, consumers: [{ name: "Partner SFTP", reads: "manual", owner: "partner-ops@contoso.com", instructions: "https://wiki.contoso.com/partner" }] }],
            },
        ],
    },
};

let emulator: Emulator;
let model: StackModel;
let deployment: Deployment;
let credential: ReturnType<typeof operator>["credential"];
let dir: string;

beforeEach(async () => {
    dir = projectDir({ dev: stackConfig });
    emulator = await startEmulator({ now: deployedAt });
    model = buildModelOrThrow(readStackConfig(dir, "dev"), deployedAt);
    deployment = await deployToEmulator(emulator, model, deployedAt);
    credential = operator(emulator, ["Application.Read.All", "AuditLog.Read.All"]).credential;
});
afterEach(async () => {
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

const rotor = (args: readonly string[], now: Date) => rotorAt({ emulator, deployment }, credential, args, now, dir);
const report = (run: { stdout: string }) => JSON.parse(run.stdout) as StatusReport;
const states = (r: StatusReport) => r.handoffs!.map((h) => `${h.app}/${h.credential} g${h.generation} ${h.consumer.split(" ")[0]}: ${h.state} (${h.daysLeft} days)`);

/** The served value of every credential, as the emulator holds it: never to be printed. */
const values = () => [...deployment.served.values()].map((s) => s.value);

describe("rotor status and hand-offs against the emulator", () => {
    it("shows each open hand-off with its deadline, due within --within days (exit 2), picked up once the new key id signs in", async () => {
        // Right after the deployment: both open, nothing alerts.
        const fresh = await rotor(["status", "--stack", "dev", "--format", "json"], deployedAt);
        expect(fresh.stderr).toBe("");
        expect(fresh.code).toBe(0);
        expect(report(fresh).rows.filter((r) => r.status !== "ok")).toEqual([]);
        expect(states(report(fresh))).toEqual(["mail-sender/main g5 Zendesk: open (86 days)", "partner-portal/web g6 Partner: open (165 days)"]);
        expect(report(fresh).handoffs![0]).toEqual({
            id: "entra-rotor/dev/mail-sender/main/g5/zendesk-b-contoso-admins",
            app: "mail-sender",
            credential: "main",
            generation: 5,
            consumer: "Zendesk <b>@contoso/admins",
            owner: "@octocat",
            deadline: "2027-04-12T00:00:00Z",
            daysLeft: 86,
            state: "open",
            lastSignIn: null,
        });
        expect(report(fresh).exitCode).toBe(0);

        // Ten days before the deadline: due, and the command exits 2 for it alone.
        const near = await rotor(["status", "--stack", "dev", "--format", "json"], nearDeadline);
        expect(near.code).toBe(2);
        expect(report(near).rows.filter((r) => r.status !== "ok")).toEqual([]);
        expect(states(report(near))).toEqual(["mail-sender/main g5 Zendesk: due (9 days)", "partner-portal/web g6 Partner: open (88 days)"]);
        expect(report(near).exitCode).toBe(2);
        // A narrower --within: open again, exit 0.
        const narrow = await rotor(["status", "--stack", "dev", "--within", "7", "--format", "json"], nearDeadline);
        expect(narrow.code).toBe(0);
        expect(states(report(narrow))[0]).toBe("mail-sender/main g5 Zendesk: open (9 days)");

        // With --usage and no sign-in with generation 5 yet: still due.
        const waiting = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"], nearDeadline);
        expect(waiting.code).toBe(2);
        expect(report(waiting).handoffs![0]).toMatchObject({ state: "due", lastSignIn: null });

        // Zendesk starts signing in with generation 5: picked up, and nothing else alerts.
        const keyId = deployment.served.get("mail-sender/main")!.keyId;
        emulator.state.recordSignIn(deployment.apps.get("mail-sender")!, keyId, new Date(nearDeadline.getTime() - 2 * hour));
        const picked = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"], nearDeadline);
        expect(picked.stderr).toBe("");
        expect(picked.code).toBe(0);
        expect(report(picked).handoffs![0]).toMatchObject({ state: "picked-up", lastSignIn: "2027-04-02T04:00:00Z", daysLeft: 9 });
        expect(states(report(picked))).toEqual(["mail-sender/main g5 Zendesk: picked-up (9 days)", "partner-portal/web g6 Partner: open (88 days)"]);
        expect(report(picked).exitCode).toBe(0);
        // Without --usage the evidence is not read: due again.
        expect((await rotor(["status", "--stack", "dev"], nearDeadline)).code).toBe(2);
    });

    it("recognises a certificate's generation by its derived key id", async () => {
        const wide = ["status", "--stack", "dev", "--usage", "--within", "200", "--format", "json"];
        expect(report(await rotor(wide, deployedAt)).handoffs!.find((h) => h.app === "partner-portal")).toMatchObject({ generation: 6, state: "due", lastSignIn: null });
        // A sign-in with the previous generation's certificate is not the new value.
        const application = deployment.apps.get("partner-portal")!;
        emulator.state.recordSignIn(application, certificateKeyId("entra-rotor", "dev", "partner-portal", "web", 5), new Date(deployedAt.getTime() - hour));
        expect(report(await rotor(wide, deployedAt)).handoffs!.find((h) => h.app === "partner-portal")!.state).toBe("due");
        emulator.state.recordSignIn(application, certificateKeyId("entra-rotor", "dev", "partner-portal", "web", 6), new Date(deployedAt.getTime() - hour));
        // The new certificate signs in, but the previous one did an hour ago: not yet (rotor's own proof signs in with
        // the new value too, so only the previous value going quiet shows the consumer moved).
        expect(report(await rotor(wide, deployedAt)).handoffs!.find((h) => h.app === "partner-portal")).toMatchObject({ state: "due", lastSignIn: "2027-01-15T05:00:00Z" });
        // A week and a day on, nothing more with the previous certificate: picked up.
        const later = new Date(deployedAt.getTime() + 8 * 24 * hour);
        expect(report(await rotor(wide, later)).handoffs!.find((h) => h.app === "partner-portal")).toMatchObject({ state: "picked-up", lastSignIn: "2027-01-15T05:00:00Z" });
    });

    it("never counts a sign-in with the new value alone: the previous one still in use keeps the hand-off due", async () => {
        const keyId = deployment.served.get("mail-sender/main")!.keyId;
        const application = deployment.apps.get("mail-sender")!;
        const previous = application.passwordCredentials.find((p) => p.keyId !== keyId && p.displayName?.startsWith("main slot"))!.keyId;
        // rotor verify signs in with the served value every day; the vendor still uses the previous one.
        emulator.state.recordSignIn(application, keyId, new Date(nearDeadline.getTime() - hour));
        emulator.state.recordSignIn(application, previous, new Date(nearDeadline.getTime() - 3 * 24 * hour));
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"], nearDeadline);
        expect(run.code).toBe(2);
        expect(report(run).handoffs![0]).toMatchObject({ state: "due", lastSignIn: "2027-04-02T05:00:00Z" });
        // --used-within 2: the previous value has been quiet for 3 days, longer than asked.
        const quiet = await rotor(["status", "--stack", "dev", "--usage", "--used-within", "2", "--format", "json"], nearDeadline);
        expect(report(quiet).handoffs![0]).toMatchObject({ state: "picked-up" });
    });

    it("prints a HAND-OFFS section in the table and markdown, hostile names escaped, no value anywhere", async () => {
        const table = await rotor(["status", "--stack", "dev"], nearDeadline);
        const lines = table.stdout.split("\n");
        expect(lines[0]).toBe("entra-rotor / dev at 2027-04-02T06:00:00Z: 2 applications read, 1 hand-off due (thresholds 30/14/7 days)");
        const section = lines.indexOf("HAND-OFFS: manual consumers copy the served value before the deadline, when the value they hold stops working");
        expect(section).toBeGreaterThan(2);
        expect(lines[section + 2]).toMatch(/^ {2}STATE +DEADLINE +DAYS LEFT +APP +CREDENTIAL +GENERATION +CONSUMER +OWNER +NOTE$/);
        expect(lines[section + 3]).toMatch(
            /^ {2}due +2027-04-12 +9 +mail-sender +main +g5 +Zendesk <b>@contoso\/admins +@octocat +copy generation 5 before 2027-04-12 \(within 30 days\), when the value Zendesk <b>@contoso\/admins holds now stops working$/,
        );
        expect(lines[section + 4]).toMatch(/^ {2}open +2027-06-30 +88 +partner-portal +web +g6 +Partner SFTP +partner-ops@contoso\.com +copy generation 6 before 2027-06-30, when/);

        const markdown = await rotor(["status", "--stack", "dev", "--format", "markdown"], nearDeadline);
        expect(markdown.stdout).toContain("### Hand-offs\n");
        expect(markdown.stdout).toContain("| due | 2027-04-12 | 9 | mail-sender | main | g5 | Zendesk &lt;b&gt;@&#8203;contoso/admins | @&#8203;octocat |");
        expect(rawHtmlOf(markdown.stdout)).toEqual([]);

        const usage = await rotor(["status", "--stack", "dev", "--usage"], nearDeadline);
        expect(usage.stdout).toMatch(/ {2}STATE +DEADLINE +DAYS LEFT +APP +CREDENTIAL +GENERATION +CONSUMER +OWNER +LAST SIGN-IN +NOTE\n {2}due +2027-04-12 +9 .* +@octocat +none +copy generation 5/);

        for (const run of [table, markdown, usage, await rotor(["status", "--stack", "dev", "--format", "json"], nearDeadline)]) {
            for (const value of values()) expect(run.stdout.includes(value)).toBe(false);
        }
    });

    it("flows through --stacks: the report's hand-offs, a section with the stack first, and exit 2 when one is due", async () => {
        const json = await rotor(["status", "--stacks", "dev", "--format", "json"], nearDeadline);
        expect(json.code).toBe(2);
        const doc = JSON.parse(json.stdout) as StacksStatus;
        expect(doc.exitCode).toBe(2);
        expect(doc.stacks[0]!.report!.handoffs!.map((h) => h.state)).toEqual(["due", "open"]);
        const table = await rotor(["status", "--stacks", "dev"], nearDeadline);
        expect(table.stdout.split("\n")[0]).toBe("1 stack at 2027-04-02T06:00:00Z: 2 applications read, 1 hand-off due");
        expect(table.stdout).toMatch(/\nHAND-OFFS: manual consumers copy the served value before the deadline, when the value they hold stops working\n\n {2}STACK +STATE +DEADLINE .*\n {2}dev +due +2027-04-12 +9 +mail-sender/);
        const markdown = await rotor(["status", "--stacks", "dev", "--format", "markdown"], nearDeadline);
        expect(markdown.stdout).toContain("| dev | due | 2027-04-12 | 9 | mail-sender | main | g5 | Zendesk &lt;b&gt;@&#8203;contoso/admins | @&#8203;octocat |");
        expect(rawHtmlOf(markdown.stdout)).toEqual([]);
        expect((await rotor(["status", "--stacks", "dev", "--within", "7"], nearDeadline)).code).toBe(0);
    });
});
