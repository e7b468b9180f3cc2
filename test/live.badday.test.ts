import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClientSecretCredential } from "@azure/identity";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StackModel } from "../infra/model/model";
import { main } from "../cli/main";
import type { StatusReport } from "../cli/live/status";
import type { VerifyReport } from "../cli/live/verify";
import { type Deployment, emulatorIo, grantSecretWriter, operator } from "./support/deployedStack";
import type { Emulator } from "./support/emulator";
import { repoRoot } from "./support/program";
import { deploySample, rotorAt } from "./support/sampleTenant";

/**
 * The live commands on a bad day, against the emulator: an outage longer than a rotation period, a disabled
 * secret, no credentials at all, failing services. Each names what failed and what to do, in one line.
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

const rotor = (args: readonly string[], now = deployedAt, credential: ClientSecretCredential = operatorCredential.credential) => rotorAt({ emulator, deployment }, credential, args, now);

describe("rotor status after an outage", () => {
    it("calls the served value overdue when its successor was due a period ago, though the newest started today", async () => {
        // The importer (R = 30) serves generation 37. 2027-04-05T06:00: generation 39 started six hours ago,
        // 38 was due 2027-03-06. Measured from the newest start, the pipeline would look on time.
        const run = await rotor(["status", "--stack", "dev", "--format", "json"], new Date("2027-04-05T06:00:00Z"));
        expect(run.code).toBe(2);
        const importer = (JSON.parse(run.stdout) as StatusReport).rows.find((r) => r.credential === "importer" && r.served)!;
        expect(importer).toMatchObject({ status: "overdue", generation: 37 });
        expect(importer.message).toContain("generation 38 was due 2027-03-06");
    });
});

describe("rotor verify with a disabled secret", () => {
    it("reports that credential as disabled and verifies the others, exit 2", async () => {
        const served = deployment.served.get("mail-sender/main")!;
        // A new version of the secret, disabled: Key Vault answers 403 SecretDisabled to a read.
        emulator.state.setSecret(model.keyVault!.name, "mail-sender-main", served.value, { enabled: false });
        const run = await rotor(["verify", "--stack", "dev", "--format", "json"]);
        expect(run.code).toBe(2);
        expect(run.stderr).toBe("");
        const rows = (JSON.parse(run.stdout) as VerifyReport).rows;
        expect(rows.map((r) => `${r.credential}: ${r.result}`)).toEqual(["main: disabled", "importer: ok", "web: ok"]);
        const table = await rotor(["verify", "--stack", "dev"]);
        expect(table.stdout).toMatch(/disabled\s+mail-sender\s+main/);
        expect(table.stdout).toContain("enable the secret");
    });
});

describe("services that fail are named", () => {
    it("says Key Vault failed, with its status and what to do, when it keeps answering 503", async () => {
        emulator.setFaults({ serverError: { status: 503, next: 1_000, retryAfterSeconds: 0, services: ["keyVault"] } });
        const run = await rotor(["status", "--stack", "dev"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Key Vault \(https:\/\/127\.0\.0\.1:\d+\/?\) answered 503[^\n]*: the service is failing \(retries were made\); try again later/);
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    }, 30_000);

    it("says Microsoft Graph refused, and which permission it needs", async () => {
        const reader = operator(emulator, []);
        const run = await rotor(["status", "--stack", "dev"], deployedAt, reader.credential);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Microsoft Graph \(https:\/\/127\.0\.0\.1:\d+\) answered 403[^\n]*Application\.Read\.All/);
    });

    it("says the sign-in failed, in one line without carriage returns, when the token endpoint fails", async () => {
        const app = emulator.state.addApplication({ displayName: "fresh", graphPermissions: ["Application.Read.All"] });
        const { secretText } = emulator.state.addPassword(app, { lifetimeDays: 30 });
        const fresh = new ClientSecretCredential(emulator.tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 } });
        emulator.setFaults({ serverError: { status: 503, next: 1_000, services: ["login"] } });
        const run = await rotor(["status", "--stack", "dev"], deployedAt, fresh);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: cannot sign in to Azure: /);
        expect(run.stderr).not.toContain("\r");
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
        emulator.clearFaults();
        emulator.state.removeCredential(app, app.passwordCredentials[0]!.keyId);
        const refused = await rotor(["verify", "--stack", "dev"], deployedAt, new ClientSecretCredential(emulator.tenantId, app.appId, secretText, emulator.credentialOptions));
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/^rotor: cannot sign in to Azure: AADSTS7000215: Invalid client secret provided\. /);
        expect(refused.stderr).not.toContain("\r");
    });
});

describe("no credentials at all", () => {
    /** The bin, with an environment that has no Azure credential and a managed identity endpoint on this machine. */
    function bare(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-home-"));
        const env = {
            PATH: path.dirname(process.execPath), // no az, no azd
            HOME: home,
            // The managed identity endpoint: a closed port on this machine, never 169.254.169.254.
            AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9",
            NODE_EXTRA_CA_CERTS: process.env["NODE_EXTRA_CA_CERTS"] ?? "",
        };
        return new Promise((resolve) => {
            // Killed after 30 s, so a sign-in that hangs fails the test (no exit code) instead of passing late.
            const child = execFile(process.execPath, [path.join(repoRoot, "bin", "rotor.js"), ...args, "--dir", repoRoot], { cwd: home, env, encoding: "utf8", timeout: 30_000 }, (_error, stdout, stderr) =>
                resolve({ code: child.exitCode, stdout, stderr }),
            );
        });
    }

    // How long it takes is measured by npm run bench (the sign-in deadline is 10 s); here, what it says.
    it.each([["status"], ["verify"], ["doctor"]])("rotor %s fails with one line saying how to sign in, exit 1", async (command) => {
        const run = await bare([command, "--stack", "dev"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
            "rotor: cannot sign in to Azure: no credential is available; sign in with az login (or azd auth login); in a pipeline, set AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_FEDERATED_TOKEN_FILE (workload identity) or AZURE_CLIENT_SECRET; on Azure, a managed identity is used\n",
        );
        expect(run.stdout).toBe("");
    }, 40_000);
});

describe("rotor doctor reads the tenant's policies the documented way", () => {
    it("checks the tenant default and the custom policies that apply to the stack's apps, without $expand", async () => {
        emulator.state.setCredentialLifetimePolicy({ passwordLifetime: "P180D" });
        emulator.state.addAppManagementPolicy({
            displayName: "no secrets for importers",
            restrictions: { passwordCredentials: [{ restrictionType: "passwordAddition", maxLifetime: null, restrictForAppsCreatedAfterDateTime: "2020-01-01T00:00:00Z" }], keyCredentials: [] },
            appliesTo: [deployment.apps.get("device-inventory")!],
        });
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        const checks = (JSON.parse(run.stdout) as { checks: { check: string; result: string; detail: string }[] }).checks;
        const fail = checks.filter((c) => c.result === "fail").map((c) => c.detail);
        expect(fail).toContainEqual(expect.stringContaining('exceeds policy "Default app management tenant policy" (passwordLifetime 180 days)'));
        expect(fail).toContainEqual('policy "no secrets for importers" forbids adding client secrets: use a certificate or a federated credential');
        // The custom policy applies to device-inventory only: mail-sender's secret is not refused by it.
        expect(checks.filter((c) => c.check === "mail-sender/main" && c.detail.includes("no secrets"))).toEqual([]);
        expect(emulator.requests.filter({ route: "GET /v1.0/policies/appManagementPolicies/{id}/appliesTo" }).length).toBe(1);
        expect(run.code).toBe(2);
    });

    it("fails the generated certificate when only trusted certificate authorities may be added (Graph beta)", async () => {
        emulator.state.setTrustedCertificateAuthorityPolicy({ configurationIds: ["eec5ba11-2fc0-4113-83a2-ed986ed13743"] });
        const run = await rotor(["doctor", "--stack", "dev", "--format", "json"]);
        const checks = (JSON.parse(run.stdout) as { checks: { check: string; result: string; detail: string }[] }).checks;
        expect(checks.find((c) => c.check === "calendar-sync/web")).toMatchObject({ result: "fail", detail: expect.stringContaining("self-signed, so Entra refuses it at its first rotation") });
        expect(checks.find((c) => c.check === "device-inventory/partner")).toMatchObject({ result: "warn" });
        expect(run.code).toBe(2);
    });
});

describe("rotor doctor checks the Key Vault permission the program needs", () => {
    const permissionCheck = (run: { stdout: string }) => (JSON.parse(run.stdout) as { checks: { check: string; result: string; detail: string }[] }).checks.find((c) => c.check === "Key Vault permissions")!;

    it("fails a deployer with only Key Vault Secrets Officer, which Resource Manager refuses to write with, and passes the custom role", async () => {
        const deployer = operator(emulator, ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "Policy.Read.All"]);
        emulator.state.assignRole(deployer.servicePrincipalId, "Key Vault Secrets Officer", { vault: model.keyVault!.name });
        const officer = await rotor(["doctor", "--stack", "dev", "--format", "json"], deployedAt, deployer.credential);
        expect(permissionCheck(officer)).toMatchObject({ result: "fail", detail: expect.stringContaining("lacks Microsoft.KeyVault/vaults/secrets/write on the vault kv-contoso-identity") });
        expect(officer.code).toBe(2);
        grantSecretWriter(emulator, deployer.servicePrincipalId);
        const writer = await rotor(["doctor", "--stack", "dev", "--format", "json"], deployedAt, deployer.credential);
        expect(permissionCheck(writer)).toMatchObject({ result: "ok" });
        expect(writer.code).toBe(0);
        // The check asked Resource Manager, as the program's writes go.
        expect(emulator.requests.filter({ service: "arm" }).length).toBeGreaterThanOrEqual(2);
    });

    it("says how to give the subscription when it is unknown", async () => {
        const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
        const io = emulatorIo(emulator, deployment, operatorCredential.credential, deployedAt, out);
        const code = await main(["doctor", "--stack", "dev", "--format", "json", "--dir", repoRoot], { ...io, env: { ...io.env, ARM_SUBSCRIPTION_ID: "" } });
        expect(permissionCheck(out)).toMatchObject({ result: "skipped", detail: expect.stringContaining("pass --subscription (or set ARM_SUBSCRIPTION_ID)") });
        // The operator of these tests may not manage applications: that is the only failure.
        expect(code).toBe(2);
        expect((JSON.parse(out.stdout) as { checks: { check: string; result: string }[] }).checks.filter((c) => c.result === "fail").map((c) => c.check)).toEqual(["manage app registrations"]);
    });
});
