import { describe, expect, it } from "vitest";
import type { CalendarDocument } from "../cli/review/calendar";
import type { StacksCalendar } from "../cli/review/calendarStacks";
import { ganttLimits, type GanttCredential, mermaidTaskName, renderGantt } from "../cli/review/renderGantt";
import { type HandoffsDocument, markdownHref } from "../cli/review/renderHandoffs";
import { assessStatus } from "../cli/live/status";
import { handoffsBetween, openHandoffs } from "../infra/model/handoffs";
import { buildModel, buildModelOrThrow, type StackModel } from "../infra/model/model";
import { generationWindow } from "../rotation/schedule";
import { projectDir, rotor } from "./support/cli";
import { commentTokens, markupFragments, rawHtmlOf, renderComment } from "./support/hostile";
import { parseGantt } from "./support/mermaid";
import { sampleStack } from "./support/program";

/**
 * Hand-offs to manual consumers, offline: the model's open hand-offs and their deadlines, `rotor handoffs` in
 * every format (value-free, hostile names escaped, the JSON's contract), and the deadlines in `rotor calendar`
 * and its Mermaid chart. `rotor status` against the emulator: test/handoffs.status.test.ts.
 */

const at = new Date("2027-03-01T06:00:00Z");
const dayMs = 86_400_000;
const tenantId = "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7";
const keyVault = { name: "kv-contoso-identity", resourceGroup: "rg-identity" };
const zendesk = { name: "Zendesk", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" };
const partner = { name: "Partner SFTP", reads: "manual", owner: "partner-ops@contoso.com", instructions: "https://wiki.contoso.com/partner" };

/** mail-sender: a secret with a manual and a Key Vault consumer (the manual default period); partner-portal: a certificate with a manual one; calendar-sync: none. */
function apps(consumers: readonly unknown[] = [zendesk, { name: "relay", reads: "keyVault", refreshHours: 24 }]): unknown[] {
    return [
        { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], credentials: [{ name: "main", type: "secret", consumers }] },
        { name: "partner-portal", permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }], credentials: [{ name: "web", type: "certificate", rotateEveryDays: 180, lifetimeDays: 420, consumers: [partner] }] },
        { name: "calendar-sync", permissions: [{ api: "Microsoft Graph", application: ["Calendars.Read"] }], credentials: [{ name: "web", type: "secret", consumers: [{ name: "web", reads: "appServiceReference" }] }] },
    ];
}

function model(options: { environment?: string; consumers?: readonly unknown[]; stack?: string } = {}, when = at): StackModel {
    const provider = { tenantId, ...(options.environment ? { environment: options.environment } : {}) };
    return buildModelOrThrow({ project: "entra-rotor", stack: options.stack ?? "dev", values: { keyVault, apps: apps(options.consumers) }, source: "t", provider }, when);
}

function stackFile(consumers?: readonly unknown[]): Record<string, unknown> {
    return { config: { "azuread:tenantId": tenantId, "entra-rotor:keyVault": keyVault, "entra-rotor:apps": apps(consumers) } };
}

describe("open hand-offs in the model", () => {
    it("gives each manual consumer the served generation's hand-off, due when the next generation starts", () => {
        const m = model();
        const handoffs = openHandoffs(m, at);
        // The Key Vault and App Service consumers hand nothing off: only the two manual ones.
        expect(handoffs.map((h) => h.id)).toEqual(["entra-rotor/dev/mail-sender/main/g5/zendesk", "entra-rotor/dev/partner-portal/web/g6/partner-sftp"]);
        for (const h of handoffs) {
            const credential = m.apps.find((a) => a.name === h.app)!.credentials.find((c) => c.name === h.credential)!;
            expect(h.servedFrom).toBe(generationWindow(h.generation, credential.policy, credential.phase).start);
            expect(h.deadline).toBe(generationWindow(h.generation + 1, credential.policy, credential.phase).start);
            expect(Date.parse(h.servedFrom)).toBeLessThanOrEqual(at.getTime());
            expect(Date.parse(h.deadline)).toBeGreaterThan(at.getTime());
        }
        expect(handoffs[0]).toEqual({
            id: "entra-rotor/dev/mail-sender/main/g5/zendesk",
            project: "entra-rotor",
            stack: "dev",
            app: "mail-sender",
            credential: "main",
            kind: "secret",
            generation: 5,
            consumer: "Zendesk",
            owner: "@octocat",
            githubLogin: "octocat",
            instructions: "https://wiki.contoso.com/zendesk-secret",
            keyVaultSecretName: "mail-sender-main",
            vault: "kv-contoso-identity",
            secretUrl: "https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main",
            portalUrl: `https://portal.azure.com/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main`,
            servedFrom: "2026-10-14T00:00:00Z",
            deadline: "2027-04-12T00:00:00Z",
            path: "apps[0].credentials[0].consumers[0]",
        });
        expect(handoffs[1]).toMatchObject({ kind: "certificate", owner: "partner-ops@contoso.com", githubLogin: null, servedFrom: "2027-01-01T00:00:00Z", deadline: "2027-06-30T00:00:00Z" });
    });

    it("has none without a manual consumer", () => {
        expect(openHandoffs(model({ consumers: [{ name: "relay", reads: "keyVault", refreshHours: 24 }] }), at).map((h) => h.app)).toEqual(["partner-portal"]);
        const sample = buildModelOrThrow(sampleStack(), at);
        expect(openHandoffs(sample, at)).toEqual([]);
        expect(handoffsBetween(sample, at, new Date(at.getTime() + 3650 * dayMs))).toEqual([]);
    });

    it("keeps ids stable across runs and instants of one generation, and moves to the next generation at the deadline", () => {
        const first = openHandoffs(model(), at);
        const later = new Date("2027-04-11T23:59:59Z");
        expect(openHandoffs(model({}, later), later).map((h) => h.id)).toEqual(first.map((h) => h.id));
        const deadline = new Date(first[0]!.deadline);
        const next = openHandoffs(model({}, deadline), deadline).find((h) => h.app === "mail-sender")!;
        expect(next.id).toBe("entra-rotor/dev/mail-sender/main/g6/zendesk");
        expect(next.servedFrom).toBe(first[0]!.deadline);
        // Another stack of the same project: another id.
        expect(openHandoffs(model({ stack: "prod" }), at)[0]!.id).toMatch(/^entra-rotor\/prod\/mail-sender\/main\/g\d+\/zendesk$/);
    });

    it("links to the portal of the stack's cloud", () => {
        const portal = (environment?: string) => openHandoffs(model(environment ? { environment } : {}), at)[0]!;
        expect(portal().portalUrl).toMatch(/^https:\/\/portal\.azure\.com\/#@[0-9a-f-]+\/asset\/Microsoft_Azure_KeyVault\/Secret\/https:\/\/kv-contoso-identity\.vault\.azure\.net\/secrets\/mail-sender-main$/);
        expect(portal("usgovernment")).toMatchObject({
            secretUrl: "https://kv-contoso-identity.vault.usgovcloudapi.net/secrets/mail-sender-main",
            portalUrl: `https://portal.azure.us/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.usgovcloudapi.net/secrets/mail-sender-main`,
        });
        expect(portal("china")).toMatchObject({
            secretUrl: "https://kv-contoso-identity.vault.azure.cn/secrets/mail-sender-main",
            portalUrl: `https://portal.azure.cn/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.cn/secrets/mail-sender-main`,
        });
    });

    it("rotates a credential with a manual consumer every 180 days by default, one hand-off per rotation", () => {
        const m = model();
        const main = m.apps[0]!.credentials[0]!;
        expect(main.policy.rotateEveryDays).toBe(180);
        expect(main.policy.lifetimeDays).toBe(390);
        // The one without a manual consumer keeps the stack's default.
        expect(m.apps[2]!.credentials[0]!.policy.rotateEveryDays).toBe(90);
        const from = new Date("2027-01-01T00:00:00Z");
        const between = handoffsBetween(m, from, new Date("2029-01-01T00:00:00Z")).filter((h) => h.app === "mail-sender");
        expect(between.map((h) => [h.generation, h.servedFrom, h.deadline])).toEqual([
            [6, "2027-04-12T00:00:00Z", "2027-10-09T00:00:00Z"],
            [7, "2027-10-09T00:00:00Z", "2028-04-06T00:00:00Z"],
            [8, "2028-04-06T00:00:00Z", "2028-10-03T00:00:00Z"],
            [9, "2028-10-03T00:00:00Z", "2029-04-01T00:00:00Z"],
        ]);
        for (const h of between) expect(Date.parse(h.deadline) - Date.parse(h.servedFrom)).toBe(180 * dayMs);
        // Served before the range: not in it (the calendar adds the one open at --from).
        expect(between.some((h) => h.generation === 5)).toBe(false);
    });
});

/** The markdown's text as GitHub would show it: tags removed, entities decoded by the renderer. */
function shownText(markdown: string): string {
    return renderComment(markdown)
        .replace(/<[^>]*>/g, " ")
        .replace(/&amp;/g, "&")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"');
}

/** What a secret value looks like here: an Entra client secret (`...Q~...`), a PEM block, a PKCS#12 blob. */
const secretLike = /[A-Za-z0-9_.-]{3}Q~[A-Za-z0-9_.~-]{20,}|-----BEGIN|MII[A-Za-z0-9+/]{40,}/;

describe("rotor handoffs", () => {
    const run = (dir: string, format: string, extra: readonly string[] = []) => rotor(["handoffs", "--stack", "dev", "--at", "2027-03-01T06:00:00Z", "--format", format, ...extra], { cwd: dir, now: new Date("2030-01-01T00:00:00Z") });

    it("prints the JSON contract: schemaVersion 1, the open hand-offs by deadline, days left", async () => {
        const dir = projectDir({ dev: stackFile() });
        const out = await run(dir, "json");
        expect(out.stderr).toBe("");
        expect(out.code).toBe(0);
        const doc = JSON.parse(out.stdout) as HandoffsDocument;
        expect(Object.keys(doc)).toEqual(["schemaVersion", "project", "stack", "at", "handoffs"]);
        expect(doc).toMatchObject({ schemaVersion: 1, project: "entra-rotor", stack: "dev", at: "2027-03-01T06:00:00Z" });
        expect(doc.handoffs[0]).toEqual({
            id: "entra-rotor/dev/mail-sender/main/g5/zendesk",
            app: "mail-sender",
            credential: "main",
            kind: "secret",
            generation: 5,
            consumer: "Zendesk",
            owner: "@octocat",
            githubLogin: "octocat",
            instructions: "https://wiki.contoso.com/zendesk-secret",
            keyVaultSecretName: "mail-sender-main",
            vault: "kv-contoso-identity",
            secretUrl: "https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main",
            portalUrl: `https://portal.azure.com/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main`,
            servedFrom: "2026-10-14T00:00:00Z",
            deadline: "2027-04-12T00:00:00Z",
            // 2027-03-01T06:00 to 2027-04-12T00:00: 41 whole days and 18 hours.
            daysLeft: 41,
            path: "apps[0].credentials[0].consumers[0]",
        });
        expect(doc.handoffs.map((h) => [h.consumer, h.deadline, h.daysLeft])).toEqual([
            ["Zendesk", "2027-04-12T00:00:00Z", 41],
            ["Partner SFTP", "2027-06-30T00:00:00Z", 120],
        ]);
        // --at defaults to now.
        const now = await rotor(["handoffs", "--stack", "dev", "--format", "json"], { cwd: dir, now: at });
        expect(JSON.parse(now.stdout)).toEqual(doc);
    });

    it("prints a table with where to get each value and what to do, never a value", async () => {
        const dir = projectDir({ dev: stackFile() });
        const out = await run(dir, "table");
        expect(out.code).toBe(0);
        const lines = out.stdout.split("\n");
        expect(lines[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 2 open hand-offs; the nearest deadline 2027-04-12T00:00:00Z (41 days left)");
        expect(lines[2]).toMatch(/^ {2}DEADLINE +DAYS LEFT +OWNER +CONSUMER +CREDENTIAL +GENERATION +KEY VAULT SECRET$/);
        expect(lines[3]).toMatch(/^ {2}2027-04-12T00:00:00Z +41 +@octocat +Zendesk +mail-sender\/main +g5 +mail-sender-main$/);
        expect(lines[4]).toMatch(/^ {2}2027-06-30T00:00:00Z +120 +partner-ops@contoso\.com +Partner SFTP +partner-portal\/web +g6 +partner-portal-web$/);
        expect(out.stdout).toContain("Zendesk: copy generation 5 of mail-sender/main (secret) before 2027-04-12T00:00:00Z, 41 days left\n");
        expect(out.stdout).toContain("  get it from  Key Vault secret mail-sender-main in kv-contoso-identity: https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main\n");
        expect(out.stdout).toContain(`  portal       https://portal.azure.com/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main\n`);
        expect(out.stdout).toContain("  what to do   https://wiki.contoso.com/zendesk-secret\n");
        expect(out.stdout).toContain("  id           entra-rotor/dev/mail-sender/main/g5/zendesk\n");
        // The relay (keyVault) and the App Service consumer hand nothing off.
        expect(out.stdout).not.toMatch(/relay|calendar-sync/);
    });

    it("prints markdown whose only links are the model's https links, and no value in any format", async () => {
        const dir = projectDir({ dev: stackFile() });
        const markdown = await run(dir, "markdown");
        expect(markdown.code).toBe(0);
        expect(markdown.stdout.startsWith("## Hand-offs: entra-rotor / dev\n")).toBe(true);
        expect(rawHtmlOf(markdown.stdout)).toEqual([
            `link_open https://portal.azure.com/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.net/secrets/mail-sender-main`,
            "link_open https://wiki.contoso.com/zendesk-secret",
            `link_open https://portal.azure.com/#@${tenantId}/asset/Microsoft_Azure_KeyVault/Secret/https://kv-contoso-identity.vault.azure.net/secrets/partner-portal-web`,
            "link_open https://wiki.contoso.com/partner",
        ]);
        // The owner is shown, never mentioned.
        expect(shownText(markdown.stdout)).toContain("@\u200boctocat");
        expect(shownText(markdown.stdout)).not.toMatch(/@[A-Za-z0-9]/);
        for (const format of ["table", "markdown", "json"]) {
            const out = await run(dir, format);
            expect(out.stdout, format).toContain("mail-sender-main");
            expect(out.stdout, format).toContain("partner-portal-web");
            expect(out.stdout, format).not.toMatch(secretLike);
            // Every address printed is a link of the model: the vault's secret, its portal page, the instructions.
            for (const url of out.stdout.match(/https?:\/\/[^\s)>"|]+/g) ?? []) expect(url, format).toMatch(/^https:\/\/(kv-contoso-identity\.vault\.azure\.net\/secrets\/|portal\.azure\.com\/#@|wiki\.contoso\.com\/)/);
        }
    });

    it("escapes hostile consumer names and owners: no markup, no mention, no forged row or link", async () => {
        const hostile = markupFragments.filter((f) => f.length <= 64);
        const consumers = hostile.map((fragment, i) => ({ name: `${i} ${fragment}`, reads: "manual", owner: fragment, instructions: `https://wiki.contoso.com/${i}` }));
        // An instructions link that tries to end its link, its cell and the row.
        consumers.push({ name: "links", reads: "manual", owner: "@contoso/security-team", instructions: "https://wiki.contoso.com/a)](javascript:alert(1))<img src=x>|`\\x&amp;y" });
        const dir = projectDir({ dev: stackFile(consumers) });
        const markdown = await run(dir, "markdown");
        expect(markdown.stderr).toBe("");
        expect(markdown.code).toBe(0);
        const links = rawHtmlOf(markdown.stdout);
        // Two links per hand-off (portal, instructions), each to the model's own address; no HTML, no image.
        expect(links).toHaveLength(2 * (consumers.length + 1));
        for (const link of links) expect(link).toMatch(/^link_open https:\/\/(portal\.azure\.com|wiki\.contoso\.com)\//);
        const hostileLink = links.find((l) => l.startsWith("link_open https://wiki.contoso.com/a"))!;
        // The model's address as the URL parser writes it (markdown-it encodes a few more characters; decoded, the same).
        expect(decodeURI(hostileLink.slice("link_open ".length))).toBe(decodeURI(new URL("https://wiki.contoso.com/a)](javascript:alert(1))<img src=x>|`\\x&amp;y").href));
        // One header, one separator and one row per hand-off: no name ends its row or adds one.
        expect(commentTokens(markdown.stdout).filter((t) => t.type === "tr_open")).toHaveLength(consumers.length + 2);
        const shown = shownText(markdown.stdout);
        expect(shown).not.toMatch(/@[A-Za-z0-9]/);
        expect(shown).not.toMatch(/#\d/);
        for (const fragment of hostile) expect(shown).toContain(fragment.replace(/@/g, "@\u200b").replace(/&lt;/g, "<").replace(/&#60;/g, "<"));
        // As text: the names as written, one line each.
        const table = await run(dir, "table");
        expect(table.code).toBe(0);
        expect(table.stdout.split("\n").filter((l) => /^ {2}2027-/.test(l))).toHaveLength(consumers.length + 1);
    });

    it("says when there is none, and exits 1 on a config error", async () => {
        const none = projectDir({ dev: { config: { "entra-rotor:keyVault": keyVault, "entra-rotor:apps": [(apps() as Record<string, unknown>[])[2]] } } });
        const out = await run(none, "table");
        expect(out.code).toBe(0);
        expect(out.stdout).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: no open hand-off\n\n  No credential of the stack has a manual consumer now (consumers with reads: manual).\n");
        expect(JSON.parse((await run(none, "json")).stdout).handoffs).toEqual([]);
        const invalid = projectDir({ dev: stackFile([{ name: "Vendor", reads: "manual" }]) });
        const failed = await run(invalid, "json");
        expect(failed.code).toBe(1);
        expect(failed.stdout).toBe("");
        expect(failed.stderr).toContain("apps[0].credentials[0].consumers[0].owner");
        expect((await rotor(["handoffs", "--stack", "missing"], { cwd: invalid })).code).toBe(1);
    });

    it("percent-encodes what could end a markdown link, and refuses anything but https", () => {
        expect(markdownHref("https://wiki.contoso.com/a b|c<d>`e\\f?x=1&y=2#é")).toBe("https://wiki.contoso.com/a%20b%7Cc%3Cd%3E%60e/f?x=1&amp;y=2#%C3%A9");
        expect(markdownHref("http://wiki.contoso.com/")).toBeUndefined();
        expect(markdownHref("javascript:alert(1)")).toBeUndefined();
        expect(markdownHref("https://user:pw@wiki.contoso.com/")).toBeUndefined();
        expect(markdownHref("not a url")).toBeUndefined();
    });
});

describe("hand-offs in rotor status's report", () => {
    it("adds nothing to a stack without a manual consumer", () => {
        const sample = buildModelOrThrow(sampleStack(), at);
        const report = assessStatus(sample, { apps: new Map() }, at);
        expect("handoffs" in report).toBe(false);
        const withManual = assessStatus(model(), { apps: new Map() }, at);
        expect(withManual.handoffs!.map((h) => [h.consumer, h.state, h.daysLeft])).toEqual([
            ["Zendesk", "open", 41],
            ["Partner SFTP", "open", 120],
        ]);
        expect(assessStatus(model(), { apps: new Map() }, at, { withinDays: 45 }).handoffs!.map((h) => h.state)).toEqual(["due", "open"]);
    });
});

describe("hand-offs in rotor calendar", () => {
    const calendar = (dir: string, format: string, from = "2027-01-01", to = "2028-01-01") => rotor(["calendar", "--stack", "dev", "--from", from, "--to", to, "--format", format], { cwd: dir, now: at });

    it("lists each hand-off open in the range with its deadline, in JSON and as a table", async () => {
        const dir = projectDir({ dev: stackFile() });
        const json = await calendar(dir, "json");
        expect(json.code).toBe(0);
        const doc = JSON.parse(json.stdout) as CalendarDocument;
        expect(doc.handoffs!.map((h) => [h.id, h.servedFrom, h.deadline])).toEqual([
            // Open at --from (served before it), then each served in the range.
            // Its deadline is --from itself: an event of the range.
            ["entra-rotor/dev/partner-portal/web/g5/partner-sftp", "2026-07-05T00:00:00Z", "2027-01-01T00:00:00Z"],
            ["entra-rotor/dev/mail-sender/main/g5/zendesk", "2026-10-14T00:00:00Z", "2027-04-12T00:00:00Z"],
            ["entra-rotor/dev/partner-portal/web/g6/partner-sftp", "2027-01-01T00:00:00Z", "2027-06-30T00:00:00Z"],
            ["entra-rotor/dev/mail-sender/main/g6/zendesk", "2027-04-12T00:00:00Z", "2027-10-09T00:00:00Z"],
            ["entra-rotor/dev/partner-portal/web/g7/partner-sftp", "2027-06-30T00:00:00Z", "2027-12-27T00:00:00Z"],
            ["entra-rotor/dev/mail-sender/main/g7/zendesk", "2027-10-09T00:00:00Z", "2028-04-06T00:00:00Z"],
            ["entra-rotor/dev/partner-portal/web/g8/partner-sftp", "2027-12-27T00:00:00Z", "2028-06-24T00:00:00Z"],
        ]);
        expect(doc.handoffs![1]).toEqual({ id: "entra-rotor/dev/mail-sender/main/g5/zendesk", app: "mail-sender", credential: "main", generation: 5, consumer: "Zendesk", owner: "@octocat", servedFrom: "2026-10-14T00:00:00Z", deadline: "2027-04-12T00:00:00Z" });
        // Each deadline is a rotation the calendar lists: the slot holding the previous value is replaced then.
        for (const h of doc.handoffs!.filter((x) => x.deadline < doc.to)) expect(doc.events.some((e) => e.date === h.deadline && e.app === h.app && e.createdGeneration === h.generation + 1)).toBe(true);

        const table = await calendar(dir, "table");
        expect(table.stdout).toContain("HAND-OFFS: 7 hand-offs open in this range: a manual consumer copies the served value before the deadline, when the value it holds stops working\n");
        expect(table.stdout).toMatch(/\n {2}DEADLINE +APP +CREDENTIAL +GENERATION +CONSUMER +OWNER +SERVED FROM\n {2}2027-01-01T00:00:00Z +partner-portal +web +g5 +Partner SFTP +partner-ops@contoso\.com +2026-07-05T00:00:00Z\n {2}2027-04-12T00:00:00Z +mail-sender +main +g5 +Zendesk +@octocat +2026-10-14T00:00:00Z\n/);
        const markdown = await calendar(dir, "markdown");
        expect(markdown.stdout).toContain("### Hand-offs");
        expect(markdown.stdout).toContain("| 2027-04-12T00:00:00Z | mail-sender | main | g5 | Zendesk | @&#8203;octocat | 2026-10-14T00:00:00Z |");
        expect(rawHtmlOf(markdown.stdout)).toEqual([]);
    });

    it("leaves the calendar of a stack without a manual consumer as it was", async () => {
        const sample = buildModelOrThrow(sampleStack(), at);
        expect(openHandoffs(sample, at)).toEqual([]);
        const dir = projectDir({ dev: { config: { "entra-rotor:keyVault": keyVault, "entra-rotor:apps": [(apps() as Record<string, unknown>[])[2]] } } });
        const json = JSON.parse((await calendar(dir, "json")).stdout) as CalendarDocument;
        expect(Object.keys(json)).toEqual(["schemaVersion", "project", "stack", "from", "to", "events"]);
        expect((await calendar(dir, "table")).stdout).not.toContain("HAND-OFFS");
        expect((await calendar(dir, "mermaid")).stdout).not.toMatch(/hand-off/i);
    });

    it("marks each deadline in the range with a red milestone in the Mermaid chart", async () => {
        const dir = projectDir({ dev: stackFile() });
        const chart = await calendar(dir, "mermaid");
        expect(chart.code).toBe(0);
        const parsed = await parseGantt(chart.stdout);
        const deadlines = parsed.tasks.filter((t) => t.name.includes("hand-off deadline")).map((t) => `${t.section} ${t.name} ${t.start}${t.milestone ? " milestone" : ""}${t.crit ? " crit" : ""}`);
        expect(deadlines).toEqual([
            "mail-sender/main g5 hand-off deadline, Zendesk 2027-04-12 00:00:00 milestone crit",
            "mail-sender/main g6 hand-off deadline, Zendesk 2027-10-09 00:00:00 milestone crit",
            "partner-portal/web g5 hand-off deadline, Partner SFTP 2027-01-01 00:00:00 milestone crit",
            "partner-portal/web g6 hand-off deadline, Partner SFTP 2027-06-30 00:00:00 milestone crit",
            "partner-portal/web g7 hand-off deadline, Partner SFTP 2027-12-27 00:00:00 milestone crit",
        ]);
        // The JSON's deadlines inside the range, one milestone each.
        const doc = JSON.parse((await calendar(dir, "json")).stdout) as CalendarDocument;
        expect(deadlines).toHaveLength(doc.handoffs!.filter((h) => h.deadline < doc.to).length);
        expect(chart.stdout).toContain("    %% Hand-off deadline (crit milestone): a manual consumer copies the served value before then, when the value it holds stops working.\n");
        // No deadline for the credential without a manual consumer.
        expect(parsed.tasks.filter((t) => t.section === "calendar-sync/web" && t.crit)).toEqual([]);
    });

    it("names several consumers by their number, and keeps a hostile name out of the chart's syntax", async () => {
        const consumers = [
            { name: "x\nsection injected", reads: "manual", owner: "o", instructions: "https://wiki.contoso.com/x" },
            { name: "title taken: over #1; %%{init}%%", reads: "manual", owner: "o", instructions: "https://wiki.contoso.com/y" },
        ];
        const credentials = (names: readonly string[]): GanttCredential[] => [{ app: "app", credential: "cred", policy: { rotateEveryDays: 30, lifetimeDays: 90, epoch: "2024-01-01T00:00:00Z" }, phase: 0, handoffConsumers: names }];
        const range = { title: "t", from: new Date("2027-01-01T00:00:00Z"), to: new Date("2027-04-01T00:00:00Z") };
        const several = await parseGantt(renderGantt({ ...range, credentials: credentials(consumers.map((c) => c.name)) }).lines.join("\n"));
        expect(several.tasks.filter((t) => t.crit).map((t) => t.name)).toEqual(["g36 hand-off deadline, 2 consumers", "g37 hand-off deadline, 2 consumers", "g38 hand-off deadline, 2 consumers"]);
        for (const name of consumers.map((c) => c.name)) {
            const lines = renderGantt({ ...range, credentials: credentials([name]) }).lines;
            const parsed = await parseGantt(lines.join("\n"));
            expect(parsed.config).toEqual({});
            expect(parsed.sections).toEqual(["app/cred"]);
            expect(parsed.tasks.filter((t) => t.crit)).toHaveLength(3);
            for (const line of lines) expect(line).toMatch(/^(gantt|    (title|section) [^:#;%{}`<>&]+|    dateFormat .+|    axisFormat .+|    %% .+|    [^:#;%{}`<>&]+ :[^#;%{}]+)$/);
        }
        expect(mermaidTaskName("g1 hand-off deadline, x")).toBe("g1 hand-off deadline, x");
        // A config refuses a consumer name with a line break: the stack file never gets that far.
        const refused = buildModel({ project: "entra-rotor", stack: "dev", values: { keyVault, apps: apps(consumers) }, source: "t" }, at);
        expect(refused.model).toBeUndefined();
    });

    it("stays within the chart's bounds with a deadline per generation, for 5,000 credentials with the longest names", async () => {
        const credentials: GanttCredential[] = Array.from({ length: 5_000 }, (_, i) => ({
            app: `a${String(i).padStart(4, "0")}`.padEnd(40, "x"),
            credential: "c".padEnd(32, "y"),
            policy: { rotateEveryDays: 15, lifetimeDays: 37, epoch: "2024-01-01T00:00:00Z" },
            phase: i % 15,
            handoffConsumers: ["z".repeat(64)],
        }));
        for (const to of ["2127-01-01T00:00:00Z", "2027-01-01T00:00:01Z", "2027-03-01T00:00:00Z"]) {
            const chart = renderGantt({ title: "t".repeat(200), from: new Date("2027-01-01T00:00:00Z"), to: new Date(to), credentials });
            expect(chart.generations.shown).toBeLessThanOrEqual(ganttLimits.generations);
            const text = chart.lines.join("\n");
            expect(text.length, to).toBeLessThan(50_000);
            const parsed = await parseGantt(text);
            const deadlines = parsed.tasks.filter((t) => t.crit);
            // At most one deadline per generation drawn, the consumer's name cut short.
            expect(deadlines.length).toBeLessThanOrEqual(chart.generations.shown);
            for (const d of deadlines) expect(d.name).toMatch(/^g\d+ hand-off deadline, z{29}\.\.\.$/);
        }
    });

    it("lists every stack's hand-offs with --stacks, the stack first", async () => {
        const dir = projectDir({ dev: stackFile(), prod: stackFile([{ name: "relay", reads: "keyVault", refreshHours: 24 }]) });
        const json = await rotor(["calendar", "--stacks", "dev,prod", "--from", "2027-01-01", "--to", "2027-07-01", "--format", "json"], { cwd: dir, now: at });
        expect(json.code).toBe(0);
        const doc = JSON.parse(json.stdout) as StacksCalendar;
        expect(doc.handoffs!.map((h) => `${h.stack} ${h.consumer} g${h.generation} ${h.deadline.slice(0, 10)}`)).toEqual([
            "dev Partner SFTP g5 2027-01-01",
            "dev Zendesk g5 2027-04-12",
            "prod Partner SFTP g5 2027-06-11",
            "dev Partner SFTP g6 2027-06-30",
            "dev Zendesk g6 2027-10-09",
            "prod Partner SFTP g6 2027-12-08",
            "dev Partner SFTP g7 2027-12-27",
        ]);
        const table = await rotor(["calendar", "--stacks", "dev,prod", "--from", "2027-01-01", "--to", "2027-07-01"], { cwd: dir, now: at });
        expect(table.stdout).toMatch(/\n {2}STACK +DEADLINE +APP +CREDENTIAL +GENERATION +CONSUMER +OWNER +SERVED FROM\n {2}dev +2027-01-01T00:00:00Z +partner-portal +web +g5 +Partner SFTP/);
        const chart = await parseGantt((await rotor(["calendar", "--stacks", "dev,prod", "--from", "2027-01-01", "--to", "2027-07-01", "--format", "mermaid"], { cwd: dir, now: at })).stdout);
        expect(chart.tasks.filter((t) => t.crit).map((t) => `${t.section} ${t.start.slice(0, 10)}`)).toEqual(["dev/mail-sender/main 2027-04-12", "dev/partner-portal/web 2027-01-01", "dev/partner-portal/web 2027-06-30", "prod/partner-portal/web 2027-06-11"]);
    });
});
