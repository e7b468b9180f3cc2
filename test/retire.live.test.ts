import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RetireReport } from "../cli/live/retire";
import type { StatusReport } from "../cli/live/status";
import type { StackModel } from "../infra/model/model";
import { sampleProject } from "./support/cli";
import { type Deployment, operator } from "./support/deployedStack";
import { type Emulator, generateRsaKeyPair } from "./support/emulator";
import type { Application } from "./support/emulator";
import { deploySample, rotorAt } from "./support/sampleTenant";

/**
 * `rotor retire` end to end against the emulator (issue 19): a credential made in the portal before the stack,
 * listed under `existing` in a copy of the sample project, suggested by `rotor status --usage`, marked
 * `retire: true`, and removed by `rotor retire --yes` through Graph's removePassword and removeKey (with a
 * proof signed by the certificate Key Vault serves for the app), only when Entra's sign-in evidence shows
 * nobody uses it. The real Graph and Key Vault clients over HTTPS; nothing of the product is mocked.
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
const hour = 3_600_000;
const day = 24 * hour;
const before = (ms: number) => new Date(deployedAt.getTime() - ms);
const removePasswordRoute = "POST /v1.0/applications/{id}/removePassword";
const removeKeyRoute = "POST /v1.0/applications/{id}/removeKey";

let emulator: Emulator;
let model: StackModel;
let deployment: Deployment;
let operatorIdentity: ReturnType<typeof operator>;
let dir: string;
let mail: Application;
/** The portal-made client secret on mail-sender, and its value (which no output may ever show). */
let portal: { keyId: string; secretText: string };

beforeEach(async () => {
    ({ emulator, model, deployment, operator: operatorIdentity } = await deploySample(deployedAt, ["Application.ReadWrite.All", "AuditLog.Read.All"]));
    // A copy of the sample project: this file edits the stack's existing list.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-retire-"));
    fs.cpSync(sampleProject(), dir, { recursive: true });
    mail = deployment.apps.get("mail-sender")!;
    // Made by Bob in the portal last spring, long before the stack: still valid, the mail relay's old config uses it.
    const added = emulator.state.addPassword(mail, { displayName: "Portal secret (Bob)", startDateTime: "2026-05-04T09:00:00Z", endDateTime: "2027-09-01T00:00:00Z" });
    portal = { keyId: added.credential.keyId, secretText: added.secretText };
});
afterEach(async () => {
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

const rotor = (args: readonly string[], credential = operatorIdentity.credential) => rotorAt({ emulator, deployment }, credential, args, deployedAt, dir);
const json = <T>(run: { stdout: string }) => JSON.parse(run.stdout) as T;

/** Writes the `existing` list of each named app into the copy's Pulumi.dev.yaml (comments kept), as a pull request would. */
function listExisting(existing: Record<string, readonly Record<string, unknown>[]>): void {
    const file = path.join(dir, "Pulumi.dev.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    const apps = (doc.getIn(["config", "entra-rotor:apps"]) as { toJSON(): Record<string, unknown>[] }).toJSON();
    for (const [name, entries] of Object.entries(existing)) apps.find((a) => a["name"] === name)!["existing"] = entries;
    doc.setIn(["config", "entra-rotor:apps"], doc.createNode(apps));
    fs.writeFileSync(file, doc.toString());
}

const portalEntry = (retire?: boolean) => ({ keyId: portal.keyId, kind: "secret", displayName: "Portal secret (Bob)", expires: "2027-09-01T00:00:00Z", ...(retire === undefined ? {} : { retire }) });

/** Every secret value the tenant and the vault hold now: client secret texts, served values, PEM lines. */
function secretValues(...more: string[]): string[] {
    const values = [...emulator.state.applications.values()].flatMap((a) => a.passwordCredentials.map((p) => p.secretText));
    for (const served of deployment.served.values()) values.push(served.value);
    values.push(...more);
    // A PEM never appears whole or in part: each base64 line of its body counts.
    return values.flatMap((v) => (v.includes("-----BEGIN") ? v.split("\n").filter((line) => line.length > 16 && !line.startsWith("-----")) : [v]));
}

function expectNoSecrets(run: { stdout: string; stderr: string }, values: readonly string[]): void {
    expect(values.length).toBeGreaterThan(5);
    for (const value of values) {
        expect(run.stdout).not.toContain(value);
        expect(run.stderr).not.toContain(value);
    }
    expect(run.stdout + run.stderr).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
}

const keyIds = (app: Application) => [...app.passwordCredentials.map((p) => p.keyId), ...app.keyCredentials.map((k) => k.keyId)].sort();
/** Every credential of every application, by app: what must not change but for the one removed. */
const tenantCredentials = () => new Map([...deployment.apps].map(([name, app]) => [name, keyIds(app)]));

describe("rotor retire: a portal-made secret, from suggestion to removal", () => {
    it("status suggests it once nobody signs in with it while Key Vault serves the stack's own; retire removes exactly it, after a dry run", async () => {
        listExisting({ "mail-sender": [portalEntry()] });
        const row = (report: StatusReport) => report.rows.find((r) => r.keyId === portal.keyId)!;

        // No sign-in with it on record, and mail-sender/main is served: the suggestion, which never alerts.
        const status = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(status.stderr).toBe("");
        expect(status.code).toBe(0);
        expect(row(json<StatusReport>(status))).toMatchObject({
            app: "mail-sender",
            owner: "existing",
            status: "retire",
            message: "no sign-in within 30 days (none in Entra's credential sign-in report), and Key Vault serves main (mail-sender-main) for this app: mark it retire: true in the stack; rotor retire checks again before it removes it",
        });
        expect(json<StatusReport>(status).rows.filter((r) => r.status === "retire")).toHaveLength(1);

        // A recent sign-in with it: no suggestion, and the row says it is used.
        emulator.state.recordSignIn(mail, portal.keyId, before(2 * hour));
        const used = row(json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--format", "json"])));
        expect(used).toMatchObject({ status: "existing", message: "consumers still use it (last sign-in 2 h ago (2027-03-01))" });
        emulator.state.signIns.length = 0;

        // Without evidence (no Entra ID P1/P2), no suggestion: nothing shows it is unused.
        emulator.state.setLicence("free");
        const blind = json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]));
        expect(row(blind).status).toBe("existing");
        expect(blind.usage!.unavailable).toMatchObject({ reason: "licence" });
        expect(blind.rows.some((r) => r.status === "retire")).toBe(false);
        emulator.state.setLicence("P2");

        // A reviewed pull request marks it.
        listExisting({ "mail-sender": [portalEntry(true)] });
        const marked = row(json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--format", "json"])));
        expect(marked).toMatchObject({ status: "retire", message: expect.stringMatching(/^marked retire: true, no sign-in within 30 days .*: rotor retire --yes removes it$/) });

        // The dry run removes nothing and says what --yes would do, in every format.
        const secrets = secretValues();
        const unchanged = tenantCredentials();
        const dry = await rotor(["retire", "--stack", "dev"]);
        expect(dry.stderr).toBe("");
        expect(dry.code).toBe(0);
        expect(dry.stdout.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 1 credential marked retire: true, 1 to remove (dry run: nothing was removed; --yes removes 1 credential)");
        expect(dry.stdout).toMatch(new RegExp(`would-remove\\s+mail-sender\\s+Portal secret \\(Bob\\)\\s+secret\\s+${portal.keyId}\\s+2027-09-01\\s+none\\s+no sign-in within 30 days`));
        expect(dry.stdout).toContain("Usage: last sign-ins from Entra's credential sign-in report (Graph beta); a sign-in within 30 days keeps a credential.");
        const dryMarkdown = await rotor(["retire", "--stack", "dev", "--format", "markdown"]);
        expect(dryMarkdown.stdout).toContain("## Credential retirement: entra-rotor / dev");
        expect(dryMarkdown.stdout).toContain(`| would-remove | mail-sender | Portal secret (Bob) | secret | \`${portal.keyId}\` |`);
        const dryJson = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--format", "json"]));
        expect(dryJson).toMatchObject({ dryRun: true, force: false, usedWithinDays: 30, exitCode: 0, usage: { source: "appCredentialSignInActivities", unavailable: null } });
        expect(dryJson.rows).toEqual([
            {
                app: "mail-sender",
                keyId: portal.keyId,
                kind: "secret",
                displayName: "Portal secret (Bob)",
                expires: "2027-09-01T00:00:00Z",
                path: "apps[0].existing[0]",
                outcome: "would-remove",
                lastSignIn: null,
                evidence: "none in Entra's credential sign-in report",
                forced: false,
                message: "no sign-in within 30 days (none in Entra's credential sign-in report)",
            },
        ]);
        for (const run of [dry, dryMarkdown]) expectNoSecrets(run, secrets);
        expect(emulator.requests.count({ removedCredential: true })).toBe(0);
        expect(emulator.requests.count({ route: removePasswordRoute })).toBe(0);
        expect(tenantCredentials()).toEqual(unchanged);

        // --yes removes exactly that key, and every other credential of every app stays.
        emulator.requests.clear();
        const removed = await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"]);
        expect(removed.stderr).toBe("");
        expect(removed.code).toBe(0);
        expectNoSecrets(removed, secrets);
        expect(json<RetireReport>(removed).rows.map((r) => [r.keyId, r.outcome, r.message])).toEqual([[portal.keyId, "removed", "removed: no sign-in within 30 days (none in Entra's credential sign-in report)"]]);
        expect(emulator.requests.credentialRemovals).toEqual([{ kind: "password", applicationId: mail.id, appId: mail.appId, keyId: portal.keyId }]);
        expect(emulator.requests.filter({ route: removePasswordRoute }).map((r) => r.status)).toEqual([204]);
        expect(emulator.requests.count({ route: removeKeyRoute })).toBe(0);
        const after = tenantCredentials();
        expect(after.get("mail-sender")).toEqual(unchanged.get("mail-sender")!.filter((k) => k !== portal.keyId));
        for (const [name, ids] of unchanged) if (name !== "mail-sender") expect(after.get(name), name).toEqual(ids);
        // What the stack serves still signs in.
        expect((await rotor(["verify", "--stack", "dev"])).code).toBe(0);

        // Run again (the pipeline does, every morning): gone, nothing to do but delete the entry.
        emulator.requests.clear();
        const again = await rotor(["retire", "--stack", "dev", "--yes"]);
        expect(again.code).toBe(0);
        expect(again.stdout).toMatch(/gone\s+mail-sender\s+Portal secret \(Bob\)\s+secret/);
        expect(emulator.requests.count({ removedCredential: true })).toBe(0);
    });

    it("no suggestion from a sign-in log read back less far than rotor retire looks: status says how to look further", async () => {
        listExisting({ "mail-sender": [portalEntry()] });
        emulator.state.tenant(emulator.tenantId)!.appCredentialSignInReport = false;
        const row = (report: StatusReport) => report.rows.find((r) => r.keyId === portal.keyId)!;
        // status --usage reads the log back 7 days by default: an absence there says nothing of 30 days.
        const short = json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]));
        expect(short.usage).toMatchObject({ source: "signIns" });
        expect(row(short)).toMatchObject({ status: "existing", message: expect.stringContaining("but rotor retire needs 30 days without one: run status --usage --used-within 30") });
        // Read back 30 days, the absence covers retire's window: the suggestion.
        const long = json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--used-within", "30", "--format", "json"]));
        expect(row(long)).toMatchObject({ status: "retire", message: expect.stringContaining("no sign-in within 30 days (none in the sign-in log since 2027-01-30)") });
        // And a sign-in 20 days ago, outside status's 7 days but inside retire's 30: no suggestion either way.
        emulator.state.recordSignIn(mail, portal.keyId, before(20 * day));
        const used = json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--used-within", "30", "--format", "json"]));
        expect(row(used)).toMatchObject({ status: "existing", message: expect.stringContaining("consumers still use it") });
    });

    it("no suggestion when the stack's own credential is not served (its Key Vault secret is stale)", async () => {
        listExisting({ "mail-sender": [portalEntry()] });
        emulator.state.removeCredential(mail, deployment.served.get("mail-sender/main")!.keyId);
        const report = json<StatusReport>(await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]));
        expect(report.rows.find((r) => r.credential === "main" && r.served)!.status).toBe("stale");
        expect(report.rows.find((r) => r.keyId === portal.keyId)).toMatchObject({ status: "existing", message: expect.stringContaining("no sign-in within 30 days") });
        expect(report.rows.some((r) => r.status === "retire")).toBe(false);
    });

    it("nothing marked: nothing is read, not even a token, and nothing to do", async () => {
        listExisting({ "mail-sender": [portalEntry(false)] });
        emulator.requests.clear();
        const run = await rotor(["retire", "--stack", "dev", "--yes"]);
        expect(run.code).toBe(0);
        expect(run.stdout.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: no credential is marked retire: true: nothing to do");
        expect(emulator.requests.count()).toBe(0);
    });
});

describe("rotor retire keeps what may still be used", () => {
    it("in-use: a sign-in within --used-within days on record keeps it, exit 2, even with --force", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        emulator.state.recordSignIn(mail, portal.keyId, before(3 * day), { count: 20, everyMs: hour });
        const secrets = secretValues();
        for (const args of [["--yes"], ["--yes", "--force"]]) {
            const run = await rotor(["retire", "--stack", "dev", ...args]);
            expect(run.code, args.join(" ")).toBe(2);
            expect(run.stderr).toBe("");
            expect(run.stdout).toMatch(new RegExp(`in-use\\s+mail-sender\\s+Portal secret \\(Bob\\)\\s+secret\\s+${portal.keyId}\\s+2027-09-01\\s+3 days ago\\s+a sign-in with it within 30 days is on record \\(last sign-in 3 days ago \\(2027-02-26\\)\\): kept;`));
            expect(run.stdout).toContain("--force does not override a recorded sign-in");
            expect(run.stdout).not.toContain("WARNING");
            expectNoSecrets(run, secrets);
        }
        expect(emulator.requests.count({ route: removePasswordRoute })).toBe(0);
        expect(keyIds(mail)).toContain(portal.keyId);
        // A dry run does not suggest --yes for what it would keep.
        expect((await rotor(["retire", "--stack", "dev"])).stdout.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 1 credential marked retire: true, 1 in-use (dry run: nothing was removed)");
        // A shorter window lets it go: the last sign-in is 3 days old.
        const narrow = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--used-within", "2", "--format", "json"]));
        expect(narrow.rows[0]).toMatchObject({ outcome: "would-remove", lastSignIn: "2027-02-26T06:00:00Z" });
    });

    it("no-evidence: without Entra ID P1/P2 it is kept (exit 2); --force removes it, with a loud WARNING on stderr and in the output", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        emulator.state.setLicence("free");
        const secrets = secretValues();
        const kept = await rotor(["retire", "--stack", "dev", "--yes"]);
        expect(kept.code).toBe(2);
        expect(kept.stderr).toBe("");
        expect(kept.stdout).toMatch(/no-evidence\s+mail-sender\s+Portal secret \(Bob\)/);
        expect(kept.stdout).toContain("no usage evidence could be read (the tenant has no Microsoft Entra ID P1 or P2; Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant): kept");
        expect(kept.stdout).toContain("Usage: no evidence could be read (grant AuditLog.Read.All; the tenant needs Microsoft Entra ID P1 or P2): nothing is removed without it unless --force.");
        expect(emulator.requests.count({ route: removePasswordRoute })).toBe(0);

        // A forced dry run says what it would do, as loudly.
        const dry = await rotor(["retire", "--stack", "dev", "--force"]);
        expect(dry.code).toBe(0);
        expect(dry.stderr).toBe(`rotor: WARNING: --force would remove 1 credential with no usage evidence (mail-sender key ${portal.keyId}): nothing shows that nobody signs in with it\n`);
        expect(emulator.requests.count({ route: removePasswordRoute })).toBe(0);

        const forced = await rotor(["retire", "--stack", "dev", "--yes", "--force", "--format", "markdown"]);
        expect(forced.code).toBe(0);
        expect(forced.stderr).toBe(`rotor: WARNING: --force removed 1 credential with no usage evidence (mail-sender key ${portal.keyId}): nothing shows that nobody signs in with it\n`);
        // First thing in the summary, before the headline.
        const lines = forced.stdout.split("\n");
        expect(lines.slice(0, 4)).toEqual(["## Credential retirement: entra-rotor / dev", "", "> [!CAUTION]", expect.stringMatching(/^> \*\*\\--force removed 1 credential with no usage evidence at all: nothing shows that nobody signs in with it\. A consumer still holding it fails from now on\.\*\*$/)]);
        expect(forced.stdout).toContain("| removed (FORCED) | mail-sender | Portal secret (Bob) | secret |");
        for (const run of [kept, dry, forced]) expectNoSecrets(run, secrets);
        expect(emulator.requests.credentialRemovals).toEqual([{ kind: "password", applicationId: mail.id, appId: mail.appId, keyId: portal.keyId }]);
    });

    it("no-evidence without AuditLog.Read.All names the permission; the table of a forced removal starts with the WARNING", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        const writer = operator(emulator, ["Application.ReadWrite.All"]);
        const kept = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"], writer.credential));
        expect(kept.exitCode).toBe(2);
        expect(kept.usage!.unavailable).toEqual({ reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" });
        expect(kept.rows[0]!.message).toContain("missing AuditLog.Read.All; Graph answered 403 Authorization_RequestDenied");
        const forced = await rotor(["retire", "--stack", "dev", "--yes", "--force"], writer.credential);
        expect(forced.code).toBe(0);
        expect(forced.stdout.split("\n")[0]).toMatch(/^WARNING: --force removed 1 credential with no usage evidence at all/);
        expect(forced.stdout).toMatch(/removed \(FORCED\)\s+mail-sender/);
        expect(json<RetireReport>(await rotor(["retire", "--stack", "dev", "--format", "json"], writer.credential)).rows[0]!.outcome).toBe("gone");
    });

    it("managed: a key id of the stack's own listed by mistake is never removed, with or without evidence or --force", async () => {
        const served = deployment.served.get("mail-sender/main")!;
        const previous = mail.passwordCredentials.find((p) => p.displayName === "main slot 1 generation 11")!;
        listExisting({
            "mail-sender": [
                { keyId: served.keyId, kind: "secret", displayName: "main", expires: "2027-08-10T00:00:00Z", retire: true },
                { keyId: previous.keyId, kind: "secret", expires: "2027-05-10T00:00:00Z", retire: true },
            ],
        });
        const secrets = secretValues();
        for (const args of [["--yes"], ["--yes", "--force"]]) {
            const run = await rotor(["retire", "--stack", "dev", ...args, "--format", "json"]);
            expect(run.code).toBe(2);
            expectNoSecrets(run, secrets);
            expect(json<RetireReport>(run).rows.map((r) => [r.keyId, r.outcome])).toEqual([
                [served.keyId, "managed"],
                [previous.keyId, "managed"],
            ]);
        }
        emulator.state.setLicence("free");
        expect(json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--force", "--format", "json"])).counts.managed).toBe(2);
        expect(emulator.requests.count({ route: removePasswordRoute })).toBe(0);
        expect(keyIds(mail)).toEqual(expect.arrayContaining([served.keyId, previous.keyId]));
        expect((await rotor(["verify", "--stack", "dev"])).code).toBe(0);
    });
});

describe("rotor retire removes a portal-made certificate with a proof Graph accepts", () => {
    /** A certificate made by hand for calendar-sync (its own key), before the stack's generated `web`. */
    function portalCertificate() {
        const calendar = deployment.apps.get("calendar-sync")!;
        const added = emulator.state.addCertificate(calendar, { subject: "legacy-calendar", startDateTime: "2026-06-01T00:00:00Z", endDateTime: "2027-12-01T00:00:00Z", keyPair: generateRsaKeyPair() });
        listExisting({ "calendar-sync": [{ keyId: added.credential.keyId, kind: "certificate", displayName: "CN=legacy-calendar", expires: "2027-12-01T00:00:00Z", retire: true }] });
        return { calendar, keyId: added.credential.keyId, pem: added.pem };
    }

    it("signs removeKey's proof with the certificate Key Vault serves for the app, read with Key Vault Secrets User", async () => {
        const { calendar, keyId, pem } = portalCertificate();
        emulator.state.assignRole(operatorIdentity.servicePrincipalId, "Key Vault Secrets User", { vault: model.keyVault!.name });
        const secrets = secretValues(pem);
        const unchanged = tenantCredentials();

        const dry = await rotor(["retire", "--stack", "dev", "--format", "markdown"]);
        expect(dry.code).toBe(0);
        expect(dry.stdout).toContain(`| would-remove | calendar-sync | CN=legacy-calendar | certificate | \`${keyId}\` | 2027-12-01 |`);
        expect(emulator.requests.count({ route: removeKeyRoute })).toBe(0);

        emulator.requests.clear();
        const removed = await rotor(["retire", "--stack", "dev", "--yes"]);
        expect(removed.stderr).toBe("");
        expect(removed.code).toBe(0);
        expect(removed.stdout).toMatch(new RegExp(`removed\\s+calendar-sync\\s+CN=legacy-calendar\\s+certificate\\s+${keyId}`));
        for (const run of [dry, removed]) expectNoSecrets(run, secrets);
        // One removeKey, accepted (204); the served certificate read from Key Vault to sign it.
        expect(emulator.requests.filter({ route: removeKeyRoute }).map((r) => [r.status, r.reason])).toEqual([[204, undefined]]);
        expect(emulator.requests.credentialRemovals).toEqual([{ kind: "key", applicationId: calendar.id, appId: calendar.appId, keyId }]);
        expect(emulator.requests.filter({ service: "keyVault", route: "GET /secrets/{name}/{version}" }).length + emulator.requests.filter({ service: "keyVault", route: "GET /secrets/{name}" }).length).toBeGreaterThan(0);
        const after = tenantCredentials();
        expect(after.get("calendar-sync")).toEqual(unchanged.get("calendar-sync")!.filter((k) => k !== keyId));
        for (const [name, ids] of unchanged) if (name !== "calendar-sync") expect(after.get(name), name).toEqual(ids);
        expect((await rotor(["verify", "--stack", "dev"])).code).toBe(0);
    });

    it("no-proof when the identity may list the vault's secrets but not read them (Key Vault Reader), saying what to grant", async () => {
        const { keyId } = portalCertificate();
        emulator.state.assignRole(operatorIdentity.servicePrincipalId, "Key Vault Reader", { vault: model.keyVault!.name });
        const run = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"]));
        expect(run.exitCode).toBe(2);
        expect(run.rows.map((r) => [r.keyId, r.outcome])).toEqual([[keyId, "no-proof"]]);
        expect(run.rows[0]!.message).toBe("no proof for Graph's removeKey could be signed (web: Key Vault refused to read calendar-sync-web (403); signing the proof needs Key Vault Secrets User on the vault): kept; remove it in the Entra admin center");
        expect(emulator.requests.count({ route: removeKeyRoute })).toBe(0);
    });

    it("in-use for a certificate Entra logged by thumbprint only, found in the sign-in log when the report is not served", async () => {
        const { calendar, keyId } = portalCertificate();
        emulator.state.tenant(emulator.tenantId)!.appCredentialSignInReport = false;
        emulator.state.recordSignIn(calendar, keyId, before(5 * day), { logKeyId: false });
        const run = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"]));
        expect(run.exitCode).toBe(2);
        expect(run.usage).toMatchObject({ source: "signIns", since: "2027-01-30T06:00:00Z", unavailable: null });
        expect(run.rows.map((r) => [r.keyId, r.outcome, r.lastSignIn])).toEqual([[keyId, "in-use", "2027-02-24T06:00:00Z"]]);
        expect(emulator.requests.count({ route: removeKeyRoute })).toBe(0);
        // Older than the window read back: nothing in the log, so it goes.
        emulator.state.signIns.length = 0;
        emulator.state.recordSignIn(calendar, keyId, before(31 * day), { logKeyId: false });
        const gone = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"]));
        expect(gone.rows.map((r) => [r.outcome, r.evidence])).toEqual([["removed", "none in the sign-in log since 2027-01-30"]]);
        expect(emulator.requests.credentialRemovals.map((r) => r.keyId)).toEqual([keyId]);
    });

    it("no-proof on an app whose stack serves no generated certificate", async () => {
        const added = emulator.state.addCertificate(mail, { subject: "legacy-mailer", startDateTime: "2026-06-01T00:00:00Z", endDateTime: "2027-12-01T00:00:00Z" });
        listExisting({ "mail-sender": [{ keyId: added.credential.keyId, kind: "certificate", expires: "2027-12-01T00:00:00Z", retire: true }] });
        const run = await rotor(["retire", "--stack", "dev", "--yes"]);
        expect(run.code).toBe(2);
        expect(run.stdout).toMatch(/no-proof\s+mail-sender\s+CN=legacy-mailer\s+certificate/);
        expect(emulator.requests.count({ route: removeKeyRoute })).toBe(0);
    });
});

describe("rotor retire when Graph fails a removal", () => {
    it("a 500 to removePassword after Graph did remove it: the retry finds nothing, the re-read tells, and it is reported removed", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        // Graph acts on the first attempt and answers 500 anyway: the emulator answers the fault, the tenant loses the key.
        emulator.setFaults({ serverError: { next: 1, status: 500, services: ["graph"], routes: [removePasswordRoute] } });
        const record = emulator.requests.record.bind(emulator.requests);
        emulator.requests.record = (entry) => {
            if (entry.route === removePasswordRoute && entry.fault === "serverError") emulator.state.removeCredential(mail, portal.keyId);
            return record(entry);
        };
        const run = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"]));
        expect(emulator.requests.filter({ route: removePasswordRoute }).map((r) => r.status)).toEqual([500, 400]);
        expect(run.exitCode).toBe(0);
        expect(run.rows.map((r) => [r.keyId, r.outcome])).toEqual([[portal.keyId, "removed"]]);
        expect(run.rows[0]!.message).toMatch(/^removed \(Graph answered 400 Request_BadRequest: No password credential found with keyId [0-9a-f-]+\. \(request-id [0-9a-f-]+\), and the application no longer has it\): no sign-in within 30 days/);
        expect(keyIds(mail)).not.toContain(portal.keyId);
    });

    it("failed (exit 1) when Graph refuses, e.g. without Application.ReadWrite.All; the credential stays", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        const reader = operator(emulator, ["Application.Read.All", "AuditLog.Read.All"]);
        const run = await rotor(["retire", "--stack", "dev", "--yes"], reader.credential);
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(/failed\s+mail-sender\s+Portal secret \(Bob\)\s+secret/);
        expect(run.stdout).toContain("Graph refused the removal (403 Authorization_RequestDenied: Insufficient privileges to complete the operation.");
        expect(keyIds(mail)).toContain(portal.keyId);
        expectNoSecrets(run, secretValues());
    });

    it("with Application.ReadWrite.OwnedBy (the sample deployer's), removes only from an application the identity owns", async () => {
        listExisting({ "mail-sender": [portalEntry(true)] });
        const deployer = operator(emulator, ["Application.ReadWrite.OwnedBy", "AuditLog.Read.All"]);
        const refused = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"], deployer.credential));
        expect(refused.exitCode).toBe(1);
        expect(refused.rows.map((r) => r.outcome)).toEqual(["failed"]);
        mail.owners.push(deployer.servicePrincipalId);
        const removed = json<RetireReport>(await rotor(["retire", "--stack", "dev", "--yes", "--format", "json"], deployer.credential));
        expect(removed.exitCode).toBe(0);
        expect(removed.rows.map((r) => r.outcome)).toEqual(["removed"]);
        expect(emulator.requests.credentialRemovals).toEqual([{ kind: "password", applicationId: mail.id, appId: mail.appId, keyId: portal.keyId }]);
    });
});
