import { execFile } from "node:child_process";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import type { StatusReport } from "../cli/live/status";
import type { VerifyReport } from "../cli/live/verify";
import type { DoctorReport } from "../cli/live/doctor";
import { deployToEmulator, type Deployment, grantSecretWriter, operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import { rawHtmlOf, tableRowCounts } from "./support/hostile";
import { repoRoot, sampleStack } from "./support/program";
import { deploySample, rotorAt } from "./support/sampleTenant";

/**
 * The live commands against the local emulator: real @azure/identity and @azure/keyvault-secrets clients,
 * real HTTPS, Graph and Key Vault answering as Azure does. Nothing of the product is mocked.
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
let emulator: Emulator;
let model: StackModel;
let deployment: Deployment;
let operatorCredential: ReturnType<typeof operator>;

beforeEach(async () => {
    ({ emulator, model, deployment, operator: operatorCredential } = await deploySample(deployedAt));
});
afterEach(async () => {
    await emulator.close();
});

const rotor = (args: readonly string[], now = deployedAt) => rotorAt({ emulator, deployment }, operatorCredential.credential, args, now);
const json = <T>(run: { stdout: string }) => JSON.parse(run.stdout) as T;
const problems = (report: StatusReport) => report.rows.filter((r) => r.status !== "ok").map((r) => `${r.app}/${r.credential}: ${r.status}`);

/**
 * Observes the timers of exactly `ms` that the code under test schedules (the SDKs' retry policies wait with
 * setTimeout) and fires them at once; every other timer runs as scheduled.
 */
function retryAfterWaits(ms: number): { readonly observed: number; restore(): void } {
    const real = globalThis.setTimeout;
    let observed = 0;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((handler: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
        if (delay !== ms) return real(handler, delay, ...args);
        observed++;
        return real(handler, 0, ...args);
    }) as unknown as typeof setTimeout);
    return {
        get observed() {
            return observed;
        },
        restore: () => spy.mockRestore(),
    };
}

describe("rotor status against the emulator", () => {
    it("reports a freshly deployed stack as healthy and exits 0", async () => {
        const run = await rotor(["status", "--stack", "dev", "--format", "json"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual([]);
        expect(report.rows.filter((r) => r.served).map((r) => `${r.app}/${r.credential}`)).toEqual(["mail-sender/main", "device-inventory/importer", "calendar-sync/web"]);
        expect(report.rows.find((r) => r.owner === "file")).toMatchObject({ credential: "partner", status: "ok" });
        const table = await rotor(["status", "--stack", "dev"]);
        expect(table.stdout.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 5 applications read, nothing needs attention (thresholds 30/14/7 days)");
    });

    it("finds what expires, what is overdue, what is stale and what was added in the portal, and exits 2", async () => {
        const mail = deployment.apps.get("mail-sender")!;
        emulator.state.addPassword(mail, { displayName: "added in the portal", startDateTime: "2026-03-10T00:00:00Z", endDateTime: "2027-03-20T00:00:00Z" });
        emulator.state.removeCredential(deployment.apps.get("calendar-sync")!, deployment.served.get("calendar-sync/web")!.keyId);
        // 40 days later, without a pipeline run: the monthly importer is overdue.
        const later = new Date("2027-04-10T06:00:00Z");
        const run = await rotor(["status", "--stack", "dev", "--format", "json"], later);
        expect(run.code).toBe(2);
        const report = json<StatusReport>(run);
        expect(problems(report)).toEqual(
            expect.arrayContaining([
                "device-inventory/importer: overdue",
                "calendar-sync/web: stale",
                "mail-sender/added in the portal: expired",
            ]),
        );
        const table = await rotor(["status", "--stack", "dev"], later);
        expect(table.stdout.split("\n")[0]).toMatch(/^entra-rotor \/ dev at 2027-04-10T06:00:00Z: 5 applications read, \d+ expired, 1 stale, 1 overdue/);
    });

    it("reads the stack's federated credentials expanded on the application list, and reads an app on its own only when the expansion may be cut short", async () => {
        const federatedRoute = "GET /v1.0/applications/{id}/federatedIdentityCredentials";
        const expanded = await rotor(["status", "--stack", "dev", "--format", "json"]);
        expect(expanded.code).toBe(0);
        expect(emulator.requests.count({ route: federatedRoute })).toBe(0);
        const deployer = json<StatusReport>(expanded).rows.find((r) => r.app === "ci-deployer" && r.kind === "federated");
        expect(deployer).toMatchObject({ status: "ok" });
        // Twenty on one app (Entra's limit, and Graph's for an expansion): the list might be cut short, so it is read on its own.
        const mail = deployment.apps.get("mail-sender")!;
        for (let i = 0; i < 20; i++) emulator.state.addFederatedCredential(mail, { name: `by-hand-${i}`, issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/mail:environment:e${i}` });
        emulator.requests.clear();
        const full = await rotor(["status", "--stack", "dev", "--format", "json"]);
        expect(emulator.requests.count({ route: federatedRoute })).toBe(1);
        expect(json<StatusReport>(full).rows.filter((r) => r.app === "mail-sender" && r.status === "unmanaged")).toHaveLength(20);
    });

    it("shows a name given in the portal as written in markdown: it cannot open a comment that hides the rows after it, or mention anyone", async () => {
        const mail = deployment.apps.get("mail-sender")!;
        emulator.state.addPassword(mail, { displayName: "by hand | @contoso/admins\n\n<!--", startDateTime: "2027-01-10T00:00:00Z", endDateTime: "2027-03-20T00:00:00Z" });
        const run = await rotor(["status", "--stack", "dev", "--format", "markdown"]);
        expect(run.code).toBe(2);
        expect(rawHtmlOf(run.stdout)).toEqual([]);
        const rows = json<StatusReport>(await rotor(["status", "--stack", "dev", "--format", "json"])).rows.length;
        expect(tableRowCounts(run.stdout)).toEqual([rows]);
        expect(run.stdout).not.toMatch(/(^|[^;])@contoso/);
    });

    it("widens the threshold with --within and grades urgency", async () => {
        const run = await rotor(["status", "--stack", "dev", "--within", "70", "--format", "json"]);
        expect(run.code).toBe(2);
        const report = json<StatusReport>(run);
        expect(report.thresholds).toEqual([70, 14, 7]);
        expect(report.rows.find((r) => r.credential === "importer" && r.served)).toMatchObject({ status: "expiring", daysLeft: 64 });
    });

    it("survives throttling and server faults with the same result, honouring Retry-After", async () => {
        const services = ["graph", "keyVault"] as const;
        // 31 s: more than the clients' longest backoff (30 s), so only the header can produce a wait this long.
        // The wait is observed as the SDK schedules it, and then run at once: the test does not sleep 31 s.
        const retryAfterSeconds = 31;
        const waits = retryAfterWaits(retryAfterSeconds * 1000);
        try {
            emulator.setFaults({ throttle: { next: 3, retryAfterSeconds, services: [...services] }, serverError: { status: 503, next: 2, services: [...services] } });
            const run = await rotor(["status", "--stack", "dev", "--format", "json"]);
            expect(run.stderr).toBe("");
            expect(run.code).toBe(0);
            expect(problems(json<StatusReport>(run))).toEqual([]);
            const throttled = emulator.requests.filter({ status: 429 });
            expect(throttled.length).toBe(3);
            expect(emulator.requests.filter({ status: 503 }).length).toBe(2);
            // One wait of the header's length per 429, each followed by the same request again.
            expect(waits.observed).toBe(throttled.length);
            for (const answer of throttled) {
                expect(emulator.requests.entries.some((r) => r.sequence > answer.sequence && r.route === answer.route && r.path === answer.path), answer.route).toBe(true);
            }
        } finally {
            waits.restore();
        }
    });

    it("pages through thousands of applications and secrets with --all-apps, flagging the tenant's expiring ones", async () => {
        emulator.state.generateApplications(2_499, { secrets: 1 });
        const legacy = emulator.state.addApplication({ displayName: "Legacy HR export" });
        emulator.state.addPassword(legacy, { startDateTime: "2025-03-20T00:00:00Z", endDateTime: "2027-03-20T00:00:00Z" });
        emulator.state.generateSecrets(model.keyVault!.name, 60);
        const run = await rotor(["status", "--stack", "dev", "--all-apps", "--format", "json"]);
        const report = json<StatusReport>(run);
        expect(report.applicationsScanned).toBe(2_506);
        expect(report.rows.filter((r) => r.owner === "tenant").map((r) => `${r.app}: ${r.status} ${r.daysLeft}`)).toEqual(["Legacy HR export: expiring 18"]);
        // Applications in pages of 999: 3 pages, plus the stack's tagged query; secrets in pages of 25.
        expect(emulator.requests.filter({ route: "GET /v1.0/applications" }).length).toBe(4);
        expect(emulator.requests.filter({ route: "GET /secrets" }).length).toBeGreaterThanOrEqual(3);
        expect(run.code).toBe(2);
    });

    it("exits 1 with a clear message when it cannot sign in", async () => {
        emulator.state.removeCredential(operatorCredential.objectId, operatorCredential.keyId);
        const run = await rotor(["status", "--stack", "dev"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: .*AADSTS7000215/);
    });
});

describe("rotor verify against the emulator", () => {
    it("signs in with every served credential, secrets and certificates, and exits 0", async () => {
        const run = await rotor(["verify", "--stack", "dev", "--format", "json"]);
        expect(run.stderr).toBe("");
        const report = json<VerifyReport>(run);
        expect(report.rows.map((r) => `${r.app}/${r.credential}: ${r.result}`)).toEqual(["mail-sender/main: ok", "device-inventory/importer: ok", "calendar-sync/web: ok"]);
        expect(run.code).toBe(0);
        expect(deployment.served.size).toBeGreaterThanOrEqual(3);
        for (const { value } of deployment.served.values()) expect(run.stdout).not.toContain(value.slice(0, 12));
    });

    it("explains Entra's refusals in plain words, never printing a value, and exits 2", async () => {
        emulator.state.removeCredential(deployment.apps.get("mail-sender")!, deployment.served.get("mail-sender/main")!.keyId);
        const later = new Date("2027-08-01T06:00:00Z"); // after the importer's and the certificate's served values expired
        const run = await rotor(["verify", "--stack", "dev", "--format", "json"], later);
        expect(run.code).toBe(2);
        const rows = json<VerifyReport>(run).rows;
        expect(rows.map((r) => [r.credential, r.result, r.explanation?.code])).toEqual([
            ["main", "failed", "AADSTS7000215"],
            ["importer", "failed", "AADSTS7000222"],
            ["web", "failed", "AADSTS700027"],
        ]);
        expect(rows[1]!.explanation!.fix).toContain("run pulumi up");
        const table = await rotor(["verify", "--stack", "dev"], later);
        expect(table.stdout).toContain("AADSTS7000222: the client secret has expired");
        expect(deployment.served.size).toBeGreaterThanOrEqual(3);
        for (const { value } of deployment.served.values()) {
            expect(table.stdout + run.stdout).not.toContain(value.slice(0, 12));
        }
    });

    it("checks one app with --app, and refuses an app the stack does not have", async () => {
        const one = await rotor(["verify", "--stack", "dev", "--app", "calendar-sync", "--format", "json"]);
        expect(json<VerifyReport>(one).rows.map((r) => r.credential)).toEqual(["web"]);
        const unknown = await rotor(["verify", "--stack", "dev", "--app", "calendar"]);
        expect(unknown.code).toBe(1);
        expect(unknown.stderr).toBe("rotor: --app: the stack has no app \"calendar\"; its apps are mail-sender, device-inventory, calendar-sync, ci-deployer, ci-preview\n(run rotor verify --help for usage)\n");
    });
});

describe("rotor doctor against the emulator", () => {
    it("reports the signed-in identity and a tenant policy the lifetimes break", async () => {
        emulator.state.setCredentialLifetimePolicy({ passwordLifetime: "P180D" });
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        const report = json<DoctorReport>(run);
        expect(report.checks[0]).toMatchObject({ check: "signed-in identity", result: "ok" });
        expect(report.checks.filter((c) => c.result === "fail").map((c) => c.check)).toEqual(expect.arrayContaining(["manage app registrations", "mail-sender/main"]));
        expect(run.code).toBe(2);
    });

    it("checks that an OwnedBy pipeline owns every app of the stack it must update", async () => {
        operatorCredential = operator(emulator, ["Application.ReadWrite.OwnedBy", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "Policy.Read.All"]);
        grantSecretWriter(emulator, operatorCredential.servicePrincipalId);
        for (const [name, app] of deployment.apps) if (name !== "mail-sender") app.owners.push(operatorCredential.servicePrincipalId);
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        expect(json<DoctorReport>(run).checks.find((c) => c.check === "manage app registrations")).toEqual({
            check: "manage app registrations",
            result: "fail",
            detail: "may only update applications it owns, and does not own mail-sender: add it as an owner (owners in config), or use an identity with Application.ReadWrite.All",
        });
        deployment.apps.get("mail-sender")!.owners.push(operatorCredential.servicePrincipalId);
        const fixed = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        expect(json<DoctorReport>(fixed).checks.find((c) => c.check === "manage app registrations")!.result).toBe("ok");
        expect(fixed.code).toBe(0);
    });

    it("skips the policy check, saying why, without Policy.Read.All", async () => {
        operatorCredential = operator(emulator, ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"]);
        grantSecretWriter(emulator, operatorCredential.servicePrincipalId);
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        const report = json<DoctorReport>(run);
        expect(report.checks.find((c) => c.check === "app management policy")).toMatchObject({ result: "skipped" });
        expect(report.checks.find((c) => c.check === "manage app registrations")).toMatchObject({ result: "ok" });
        expect(run.code).toBe(0);
    });
});

describe("the live commands from the bin, as a pipeline runs them", () => {
    it("signs in from the environment (EnvironmentCredential), finds the endpoints in variables, and exits by what it finds", async () => {
        // A fresh emulator on the wall clock: the spawned CLI reads the real time.
        const live = await startEmulator();
        try {
            const now = new Date();
            const stack = buildModelOrThrow(sampleStack(), now);
            const deployed = await deployToEmulator(live, stack, now);
            const app = live.state.addApplication({ displayName: "pipeline", graphPermissions: ["Application.Read.All"] });
            const { secretText } = live.state.addPassword(app, { lifetimeDays: 30 });
            const env = {
                ...process.env,
                ...live.environment(),
                AZURE_CLIENT_ID: app.appId,
                AZURE_CLIENT_SECRET: secretText,
                ROTOR_GRAPH_ENDPOINT: live.graphEndpoint,
                ROTOR_KEY_VAULT_URL: deployed.vaultUrl,
            };
            const bin = path.join(repoRoot, "bin", "rotor.js");
            // Asynchronously: the emulator serves from this process, so a blocking spawn would starve it.
            const run = (args: string[]) =>
                new Promise<{ status: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null }>((resolve) => {
                    const child = execFile(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: "utf8", env, timeout: 30_000 }, (_error, stdout, stderr) =>
                        resolve({ status: child.exitCode, stdout, stderr, signal: child.signalCode }),
                    );
                });
            const status = await run(["status", "--stack", "dev", "--format", "json"]);
            expect({ stderr: status.stderr, signal: status.signal }).toEqual({ stderr: "", signal: null });
            expect(status.status).toBe(0);
            expect((JSON.parse(status.stdout) as StatusReport).rows.filter((r) => r.status !== "ok")).toEqual([]);
            const verify = await run(["verify", "--stack", "dev"]);
            expect(verify.status).toBe(0);
            expect(verify.stdout).toContain("3 served credentials signed in with, all ok");
            live.state.removeCredential(deployed.apps.get("mail-sender")!, deployed.served.get("mail-sender/main")!.keyId);
            expect((await run(["status", "--stack", "dev"])).status).toBe(2);
            expect((await run(["verify", "--stack", "dev"])).status).toBe(2);
        } finally {
            await live.close();
        }
    }, 60_000);
});
