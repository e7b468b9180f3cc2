import * as fs from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliIo } from "../cli/io";
import type { StacksStatus } from "../cli/live/statusStacks";
import { main } from "../cli/main";
import { buildModelOrThrow } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { projectDir } from "./support/cli";
import { deployToEmulator, operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";

/**
 * `rotor status --all-stacks` against the emulator with several tenants, as a service provider runs it:
 * one stack per tenant, each with its own vault, each tenant signed in to on its own; one tenant that
 * cannot be signed in to and one invalid stack are rows of their own and hide nothing.
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
let emulator: Emulator;
let dir: string;
let credentials: Map<string, TokenCredential>;
let vaultUrls: string[];
const tenants = { contoso: "", fabrikam: "", unreachable: "" };

function app(name: string, rotateEveryDays = 30): Record<string, unknown> {
    return { name, permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }], credentials: [{ name: "main", type: "secret", rotateEveryDays, lifetimeDays: 2 * rotateEveryDays + 30 }] };
}

beforeEach(async () => {
    emulator = await startEmulator({ now: deployedAt });
    tenants.contoso = emulator.tenantId;
    tenants.fabrikam = emulator.state.addTenant({ displayName: "Fabrikam (emulated)" }).id;
    tenants.unreachable = emulator.state.addTenant({ displayName: "No operator (emulated)" }).id;
    const stack = (tenant: string, vault: string, apps: unknown[]) => ({ config: { "azuread:tenantId": tenant, "entra-rotor:keyVault": { name: vault, resourceGroup: "rg-identity" }, "entra-rotor:apps": apps } });
    dir = projectDir({
        contoso: stack(tenants.contoso, "kv-contoso-id", [app("mail-sender"), app("hr-export")]),
        fabrikam: stack(tenants.fabrikam, "kv-fabrikam-id", [app("mail-sender")]),
        unreachable: stack(tenants.unreachable, "kv-other-id", [app("mail-sender")]),
        broken: { config: { "entra-rotor:apps": [{ name: "X" }] } },
    });
    credentials = new Map();
    vaultUrls = [];
    for (const name of ["contoso", "fabrikam"] as const) {
        const model = buildModelOrThrow(readStackConfig(dir, name), deployedAt);
        const deployment = await deployToEmulator(emulator, model, deployedAt, { tenantId: tenants[name] });
        vaultUrls.push(`${model.keyVault!.name}=${deployment.vaultUrl}`);
        credentials.set(tenants[name], operator(emulator, ["Application.Read.All"], tenants[name]).credential);
    }
    vaultUrls.push(`kv-other-id=${await emulator.addVault("kv-other-id", { tenantId: tenants.unreachable })}`);
    // A deployer app that was never consented in the third tenant: Entra does not know it there (AADSTS700016).
    const home = emulator.state.addApplication({ tenantId: tenants.contoso, displayName: "rotor-operator-home", graphPermissions: ["Application.Read.All"] });
    const secret = emulator.state.addPassword(home, { lifetimeDays: 365 }).secretText;
    credentials.set(tenants.unreachable, new ClientSecretCredential(tenants.unreachable, home.appId, secret, { ...emulator.credentialOptions, retryOptions: { maxRetries: 0 } }));
});
afterEach(async () => {
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

async function rotor(args: readonly string[], now = deployedAt) {
    const out = { stdout: "", stderr: "", tenantsAsked: [] as (string | undefined)[] };
    emulator.clock.set(now);
    const io: CliIo = {
        stdout: (text) => void (out.stdout += text),
        stderr: (text) => void (out.stderr += text),
        cwd: dir,
        now: () => now,
        env: { AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_GRAPH_ENDPOINT: emulator.graphEndpoint, ROTOR_KEY_VAULT_URL: vaultUrls.join(","), ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" },
        credential: (_endpoints, tenantId) => {
            out.tenantsAsked.push(tenantId);
            return credentials.get(tenantId ?? "") ?? credentials.get(tenants.contoso)!;
        },
    };
    const code = await main(args, io);
    return { code, ...out };
}

describe("rotor status over several stacks and tenants", () => {
    it("signs in to each stack's tenant, reads each vault, and gives one table with the stack first; a failing tenant and an invalid stack are rows, exit 1", async () => {
        const run = await rotor(["status", "--all-stacks"]);
        expect(run.code).toBe(1);
        expect(new Set(run.tenantsAsked)).toEqual(new Set([tenants.contoso, tenants.fabrikam, tenants.unreachable]));
        const lines = run.stdout.split("\n");
        expect(lines[0]).toBe("4 stacks at 2027-03-01T06:00:00Z: 3 applications read, nothing needs attention; 2 could not be read");
        expect(lines[2]).toMatch(/^ {2}STACK +STATUS +APP +CREDENTIAL/);
        // What could not be read comes first.
        expect(lines[3]).toMatch(/^ {2}broken +ERROR .* Pulumi\.broken\.yaml: 1 config error/);
        expect(lines[4]).toMatch(/^ {2}unreachable +ERROR .*cannot sign in to Azure: AADSTS700016/);
        expect(run.stdout).toMatch(/ {2}contoso +ok +mail-sender +main +secret/);
        expect(run.stdout).toMatch(/ {2}contoso +ok +hr-export +main +secret/);
        expect(run.stdout).toMatch(/ {2}fabrikam +ok +mail-sender +main +secret/);
        expect(run.stderr).toContain("rotor: broken: Pulumi.broken.yaml: 1 config error:");
        expect(run.stderr).toMatch(/rotor: unreachable: /);
    });

    it("gives one JSON document, the stacks in the order given, and exit 2 when only attention is needed", async () => {
        const ok = await rotor(["status", "--stacks", "fabrikam,contoso", "--format", "json", "--parallel", "1"]);
        expect(ok.code).toBe(0);
        const doc = JSON.parse(ok.stdout) as StacksStatus;
        expect(doc.stacks.map((s) => [s.stack, s.tenantId, s.report?.stack, s.error])).toEqual([
            ["fabrikam", tenants.fabrikam, "fabrikam", null],
            ["contoso", tenants.contoso, "contoso", null],
        ]);
        // Two months without a pipeline run: fabrikam's secret is overdue and expiring; contoso's too.
        const late = await rotor(["status", "--stacks", "fabrikam,contoso", "--format", "json"], new Date("2027-04-20T06:00:00Z"));
        expect(late.code).toBe(2);
        expect((JSON.parse(late.stdout) as StacksStatus).exitCode).toBe(2);
    });

    it("refuses --parallel with one stack and --tenant that contradicts the stack", async () => {
        expect((await rotor(["status", "--stack", "contoso", "--parallel", "2"])).stderr).toContain("--parallel reads several stacks at once");
        const contradicting = await rotor(["status", "--stack", "contoso", "--tenant", tenants.fabrikam]);
        expect(contradicting.code).toBe(1);
        expect(contradicting.stderr).toContain(`is not the stack's tenant (azuread:tenantId ${tenants.contoso})`);
    });
});

describe("rotor calendar over several stacks", () => {
    it("lists every stack's rotations by date with the stack first, one JSON document, and one chart", async () => {
        const run = await rotor(["calendar", "--stacks", "contoso,fabrikam", "--from", "2027-03-01", "--to", "2027-05-01"]);
        expect(run.code).toBe(0);
        expect(run.stdout.split("\n")[0]).toMatch(/^2 stacks: \d+ rotations from 2027-03-01T00:00:00Z to 2027-05-01T00:00:00Z$/);
        expect(run.stdout).toMatch(/^ {2}STACK +DATE +APP +CREDENTIAL/m);
        const doc = JSON.parse((await rotor(["calendar", "--all-stacks", "--from", "2027-03-01", "--to", "2027-05-01", "--format", "json"])).stdout) as { stacks: { stack: string; errors: unknown }[]; events: { stack: string; date: string }[] };
        expect(doc.stacks.map((s) => [s.stack, s.errors === null])).toEqual([["broken", false], ["contoso", true], ["fabrikam", true], ["unreachable", true]]);
        expect(new Set(doc.events.map((e) => e.stack))).toEqual(new Set(["contoso", "fabrikam", "unreachable"]));
        expect(doc.events.map((e) => e.date)).toEqual([...doc.events.map((e) => e.date)].sort());
        const chart = await rotor(["calendar", "--stacks", "contoso,fabrikam", "--from", "2027-03-01", "--to", "2027-05-01", "--format", "mermaid"]);
        expect(chart.stdout).toContain("section contoso/mail-sender/main");
        expect(chart.stdout).toContain("section fabrikam/mail-sender/main");
    });
});

