import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StackModel } from "../infra/model/model";
import { certificateKeyId } from "../rotation/identifiers";
import type { DoctorReport } from "../cli/live/doctor";
import { GraphClient } from "../azure/graph";
import type { StatusReport } from "../cli/live/status";
import { readUsageEvidence } from "../cli/live/usageEvidence";
import { type Deployment, operator } from "./support/deployedStack";
import type { Emulator } from "./support/emulator";
import { deploySample, rotorAt } from "./support/sampleTenant";

/**
 * `rotor status --usage` and doctor's usage row against the emulator: the real Graph client over HTTPS,
 * Graph beta's credential report and sign-in log answering (and refusing) as documented, the instant
 * injected. Nothing of the product is mocked.
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
const hour = 3_600_000;
const before = (ms: number) => new Date(deployedAt.getTime() - ms);
let emulator: Emulator;
let model: StackModel;
let deployment: Deployment;
let operatorCredential: ReturnType<typeof operator>;

beforeEach(async () => {
    ({ emulator, model, deployment, operator: operatorCredential } = await deploySample(deployedAt, ["Application.Read.All", "Policy.Read.All", "AuditLog.Read.All"]));
});
afterEach(async () => {
    await emulator.close();
});

const rotor = (args: readonly string[], now = deployedAt) => rotorAt({ emulator, deployment }, operatorCredential.credential, args, now);
const json = <T>(run: { stdout: string }) => JSON.parse(run.stdout) as T;
const problems = (report: StatusReport) => report.rows.filter((r) => r.status !== "ok").map((r) => `${r.app}/${r.credential} g${r.generation}: ${r.status}`);

/** The key id of an app's secret or certificate of a generation, as deployed. */
function keyOf(app: string, credential: string, generation: number): string {
    const application = deployment.apps.get(app)!;
    const password = application.passwordCredentials.find((p) => p.displayName === `${credential} slot ${generation % 2} generation ${generation}`);
    if (password) return password.keyId;
    const declared = model.apps.find((a) => a.name === app)!.credentials.find((c) => c.name === credential)!;
    expect(declared.type).toBe("certificate");
    return certificateKeyId(model.project, model.stack, app, credential, generation);
}

const appsWithKeys = () => model.apps.filter((a) => a.credentials.length + a.certificateFiles.length > 0).length;
const signIn = (app: string, credential: string, generation: number, at: Date, count = 1) => emulator.state.recordSignIn(deployment.apps.get(app)!, keyOf(app, credential, generation), at, { count, everyMs: 60_000 });

describe("rotor status --usage against the emulator", () => {
    it("exits 2 when consumers still use a value the next rotation replaces, saying which and when", async () => {
        // The importer (monthly) serves generation 37; generation 36's slot is replaced on 2027-03-06.
        signIn("device-inventory", "importer", 36, before(2 * hour));
        signIn("device-inventory", "importer", 37, before(hour));
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(2);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual(["device-inventory/importer g36: still-used"]);
        const retiring = report.rows.find((r) => r.credential === "importer" && r.generation === 36)!;
        expect(retiring.message).toBe("consumers still use generation 36 (last sign-in 2 h ago); it is replaced on 2027-03-06: make them read generation 37 from Key Vault (device-inventory-importer) before then");
        expect(retiring.usage).toEqual({ lastSignIn: "2027-03-01T04:00:00Z", replacedOn: "2027-03-06T00:00:00Z" });
        expect(report.usage).toEqual({ source: "appCredentialSignInActivities", usedWithinDays: 7, replacedWithinDays: 30, since: null, unavailable: null, notes: [] });
        // One report request per application of the stack with a secret or certificate, on Graph beta.
        expect(emulator.requests.filter({ route: "GET /beta/reports/appCredentialSignInActivities" }).length).toBe(appsWithKeys());
        expect(emulator.requests.filter({ route: "GET /beta/auditLogs/signIns" }).length).toBe(0);

        const table = await rotor(["status", "--stack", "dev", "--usage"]);
        expect(table.stdout.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 5 applications read, 1 still-used (thresholds 30/14/7 days)");
        expect(table.stdout).toMatch(/still-used\s+device-inventory\s+importer\s+secret\s+stack\s+slot 0 g36\s+2027-04-05\s+34\s+2 h ago\s+consumers still use generation 36/);
        expect(table.stdout).toContain("Usage: last sign-ins from Entra's credential sign-in report (Graph beta); in use = signed in within 7 days, retiring = its slot is replaced within 30 days.");
        // Without --usage, the same tenant is healthy: the evidence is opt-in.
        expect((await rotor(["status", "--stack", "dev"])).code).toBe(0);
    });

    it("flags a served value nobody picked up while the previous one is still used, until a consumer signs in with it", async () => {
        // mail-sender serves generation 12 since 2027-01-12; consumers still sign in with 11.
        signIn("mail-sender", "main", 11, before(3 * hour));
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(run.code).toBe(2);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual(["mail-sender/main g12: not-picked-up"]);
        expect(report.rows.find((r) => r.status === "not-picked-up")!.message).toBe(
            "nobody has signed in with generation 12 since it was served on 2027-01-12, while generation 11 was used 3 h ago: consumers have not picked up the new value from Key Vault (mail-sender-main); generation 11 is replaced on 2027-04-12",
        );
        // rotor verify signs in with every served value, as a consumer: Entra logs it, and the value counts as used.
        expect((await rotor(["verify", "--stack", "dev"])).code).toBe(0);
        const after = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(problems(json<StatusReport>(after))).toEqual([]);
        expect(json<StatusReport>(after).rows.find((r) => r.credential === "main" && r.served)!.usage!.lastSignIn).toBe("2027-03-01T06:00:00Z");
        expect(after.code).toBe(0);
    });

    it("notes a tenant without Entra ID P1/P2 and leaves the exit code to the other checks", async () => {
        signIn("device-inventory", "importer", 36, before(2 * hour));
        emulator.state.setLicence("free");
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual([]);
        expect(report.usage!.unavailable).toEqual({ reason: "licence", missing: "Microsoft Entra ID P1 or P2", detail: "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" });
        // One refused request, not one per application, and no sign-in log read after it (it would refuse too).
        expect(emulator.requests.filter({ route: "GET /beta/reports/appCredentialSignInActivities" }).length).toBe(1);
        expect(emulator.requests.filter({ route: "GET /beta/auditLogs/signIns" }).length).toBe(0);
        const table = await rotor(["status", "--stack", "dev", "--usage"]);
        expect(table.stdout).toContain(
            "Usage: no evidence, no licence: the tenant has no Microsoft Entra ID P1 or P2 (Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant). The exit code does not depend on it.",
        );
        expect(table.code).toBe(0);
    });

    it("names AuditLog.Read.All when the identity lacks it, and still exits by the other checks", async () => {
        operatorCredential = operator(emulator);
        const mail = deployment.apps.get("mail-sender")!;
        emulator.state.removeCredential(mail, deployment.served.get("mail-sender/main")!.keyId);
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(run.code).toBe(2); // for the stale Key Vault secret, not for the evidence
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual(["mail-sender/main g12: stale"]);
        expect(report.usage!.unavailable).toEqual({ reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" });
        const table = await rotor(["status", "--stack", "dev", "--usage"]);
        expect(table.stdout).toContain("Usage: no evidence, missing permission AuditLog.Read.All: grant it to the identity that runs rotor status (Graph answered 403 Authorization_RequestDenied).");
        expect(table.stdout).toMatch(/LAST SIGN-IN/);
    });

    it("falls back to the sign-in log when the report is not served, paging past 1,000 entries", async () => {
        emulator.state.tenant(emulator.tenantId)!.appCredentialSignInReport = false;
        // 1,500 sign-ins with the served importer value in the last day; the previous one used 30 hours ago.
        signIn("device-inventory", "importer", 37, before(60_000), 1_500);
        signIn("device-inventory", "importer", 36, before(30 * hour));
        signIn("calendar-sync", "web", 12, before(hour));
        const run = await rotor(["status", "--stack", "dev", "--usage", "--format", "json"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(2);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual(["device-inventory/importer g36: still-used"]);
        expect(report.rows.find((r) => r.generation === 36 && r.credential === "importer")!.message).toMatch(/^consumers still use generation 36 \(last sign-in 30 h ago\); it is replaced on 2027-03-06/);
        expect(report.rows.find((r) => r.credential === "web" && r.served)!.usage!.lastSignIn).toBe("2027-03-01T05:00:00Z");
        expect(report.usage).toMatchObject({
            source: "signIns",
            since: "2027-02-22T06:00:00Z",
            unavailable: null,
            notes: ["Entra's credential sign-in report (Graph beta) could not be read (400 BadRequest): the sign-in log was read instead"],
        });
        // The importer's log took two pages of 1,000; the report was asked once and refused.
        const log = emulator.requests.filter({ route: "GET /beta/auditLogs/signIns" });
        expect(log.length).toBe(appsWithKeys() + 1);
        expect(emulator.requests.filter({ route: "GET /beta/reports/appCredentialSignInActivities" }).length).toBe(1);
        const table = await rotor(["status", "--stack", "dev", "--usage"]);
        expect(table.stdout).toContain("Usage: last sign-ins from the sign-in log (Graph beta), read back to 2027-02-22T06:00:00Z;");
        expect(table.stdout).toMatch(/ok\s+mail-sender\s+main\s+secret\s+stack\s+slot 0 g12 \(served\)\s+2027-08-10\s+161\s+none since 2027-02-22/);
    });

    it("reads only the sign-in log outside the global cloud, where the report is not served", async () => {
        signIn("device-inventory", "importer", 37, before(hour));
        const graph = new GraphClient(emulator.graphEndpoint, operatorCredential.credential, "https://graph.microsoft.com/.default", { maxRetries: 1 });
        const application = deployment.apps.get("device-inventory")!;
        const evidence = await readUsageEvidence(graph, [{ appId: application.appId, keys: application.passwordCredentials.map((p) => ({ keyId: p.keyId })) }], { cloud: "AzureUSGovernment", now: deployedAt, usedWithinDays: 7 });
        expect(evidence.source).toBe("signIns");
        expect(evidence.notes).toEqual(["Entra's credential sign-in report is served in the global cloud only, not in AzureUSGovernment: the sign-in log was read instead"]);
        expect(evidence.lastSignIns.get(application.appId)!.get(keyOf("device-inventory", "importer", 37))).toBe("2027-03-01T05:00:00Z");
        expect(emulator.requests.filter({ route: "GET /beta/reports/appCredentialSignInActivities" }).length).toBe(0);
    });

    it("refuses --used-within without --usage, and widens the window with it", async () => {
        const refused = await rotor(["status", "--stack", "dev", "--used-within", "3"]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toBe("rotor: --used-within needs --usage\n(run rotor status --help for usage)\n");
        signIn("device-inventory", "importer", 36, before(8 * 24 * hour));
        expect((await rotor(["status", "--stack", "dev", "--usage"])).code).toBe(0);
        const wider = await rotor(["status", "--stack", "dev", "--usage", "--used-within", "10", "--format", "json"]);
        expect(wider.code).toBe(2);
        expect(json<StatusReport>(wider).usage!.usedWithinDays).toBe(10);
    });
});

describe("rotor doctor says whether usage evidence is available", () => {
    const usageRow = (report: DoctorReport) => report.checks.find((c) => c.check === "usage evidence");

    it("available with AuditLog.Read.All in a P1/P2 tenant", async () => {
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        expect(usageRow(json<DoctorReport>(run))).toEqual({
            check: "usage evidence",
            result: "ok",
            detail: "available from Entra's credential sign-in report (Graph beta): rotor status --usage shows which credential consumers sign in with",
        });
    });

    it("missing AuditLog.Read.All, or no licence: skipped, never failing the preflight", async () => {
        operatorCredential = operator(emulator);
        const denied = json<DoctorReport>(await rotor(["doctor", "--stack", "dev", "--format", "json"]));
        expect(usageRow(denied)).toEqual({
            check: "usage evidence",
            result: "skipped",
            detail: "missing AuditLog.Read.All (Graph answered 403 Authorization_RequestDenied): grant this application permission to the identity that runs rotor status --usage (optional)",
        });
        operatorCredential = operator(emulator, ["Application.Read.All", "AuditLog.Read.All"]);
        emulator.state.setLicence("free");
        const free = await rotor(["doctor", "--stack", "dev"]);
        expect(free.stdout).toMatch(/skipped\s+usage evidence\s+no licence: the tenant has no Microsoft Entra ID P1 or P2 \(Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant\)/);
        expect(json<DoctorReport>(await rotor(["doctor", "--stack", "dev", "--format", "json"])).checks.filter((c) => c.result === "fail").map((c) => c.check)).not.toContain("usage evidence");
    });

    it("available from the sign-in log when the report is not served", async () => {
        emulator.state.tenant(emulator.tenantId)!.appCredentialSignInReport = false;
        expect(usageRow(json<DoctorReport>(await rotor(["doctor", "--stack", "dev", "--format", "json"])))).toMatchObject({ result: "ok", detail: expect.stringMatching(/^available from the sign-in log/) });
    });
});
