import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { stringify } from "yaml";
import type { CliIo } from "../cli/io";
import type { StacksStatus } from "../cli/live/statusStacks";
import { main } from "../cli/main";
import { buildModelOrThrow } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { deployToEmulator } from "../test/support/deployedStack";
import { type Emulator, startEmulator } from "../test/support/emulator";
import { report } from "./measure";
import type { StatusStacksOptions } from "./statusStacks";

/**
 * `rotor status --all-stacks` over many tenants, each with its own stack and vault, against running
 * `rotor status --stack` for each stack one after another: both in this process through `main()`, against
 * the emulator at a fixed latency per request (NODE_EXTRA_CA_CERTS set by the runner, as for statusChild.ts).
 * Runs alternate (sequential, all stacks, sequential, ...) so drift on a shared machine hits both alike.
 *
 * Usage: node --import tsx bench/statusStacksChild.ts '<StatusStacksOptions as JSON>'
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");

function stackName(i: number): string {
    return `tenant-${String(i).padStart(2, "0")}`;
}

/** `apps` integrations with a client secret each, in the stack of `tenantId` with its own vault. */
function stackFile(tenantId: string, vault: string, apps: number): string {
    const list = Array.from({ length: apps }, (_, i) => ({
        name: `app-${String(i).padStart(4, "0")}`,
        permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }],
        credentials: [{ name: "main", type: "secret" }],
    }));
    return stringify({ config: { "azuread:tenantId": tenantId, "entra-rotor:keyVault": { name: vault, resourceGroup: "rg-identity" }, "entra-rotor:apps": list } });
}

/** An operator app consented in `tenantId`, as a multi-tenant deployer is in each customer tenant. */
function operator(emulator: Emulator, tenantId: string): () => TokenCredential {
    const app = emulator.state.addApplication({ tenantId, displayName: "rotor-operator", graphPermissions: ["Application.Read.All"] });
    const { secretText } = emulator.state.addPassword(app, { lifetimeDays: 365 });
    return () => new ClientSecretCredential(tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
}

async function run(options: StatusStacksOptions): Promise<void> {
    const emulator = await startEmulator({ now: deployedAt });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-bench-tenants-"));
    try {
        if (!emulator.trustedByEnvironment) throw new Error("the emulator's CA is not trusted through NODE_EXTRA_CA_CERTS: start this through bench/run.ts");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        const stacks: { name: string; tenantId: string }[] = [];
        for (let i = 0; i < options.tenants; i++) {
            const tenantId = i === 0 ? emulator.tenantId : emulator.state.addTenant({ displayName: `Tenant ${i} (emulated)` }).id;
            const name = stackName(i);
            fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), stackFile(tenantId, `kv-bench-${String(i).padStart(2, "0")}`, options.appsPerTenant));
            stacks.push({ name, tenantId });
        }
        const credentials = new Map<string, () => TokenCredential>();
        const vaultUrls: string[] = [];
        let secrets = 0;
        for (const { name, tenantId } of stacks) {
            const model = buildModelOrThrow(readStackConfig(dir, name), deployedAt);
            const deployment = await deployToEmulator(emulator, model, deployedAt, { tenantId });
            vaultUrls.push(`${model.keyVault!.name}=${deployment.vaultUrl}`);
            secrets += emulator.state.vault(model.keyVault!.name)!.secrets.size;
            credentials.set(tenantId, operator(emulator, tenantId));
        }
        emulator.setFaults({ latencyMs: options.latencyMs });
        report({ kind: "seeded", stacks: stacks.length, applications: stacks.length * options.appsPerTenant, secrets });

        const status = async (args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
            const out = { stdout: "", stderr: "" };
            // One credential per tenant per run: each run signs in anew, as a fresh `rotor` process would.
            const fresh = new Map([...credentials].map(([tenant, make]) => [tenant, make()]));
            const io: CliIo = {
                stdout: (text) => void (out.stdout += text),
                stderr: (text) => void (out.stderr += text),
                cwd: dir,
                now: () => deployedAt,
                env: { AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_GRAPH_ENDPOINT: emulator.graphEndpoint, ROTOR_KEY_VAULT_URL: vaultUrls.join(","), ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" },
                credential: (_endpoints, tenantId) => fresh.get(tenantId ?? "")!,
            };
            const code = await main(args, io);
            return { code, ...out };
        };
        const ok = (what: string, r: { code: number; stderr: string }) => {
            if (r.code !== 0 && r.code !== 2) throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
        };

        // The first round loads the Azure SDKs and warms the emulator: reported, not counted.
        for (let round = 0; round <= options.runs; round++) {
            emulator.requests.clear();
            let started = performance.now();
            for (const { name } of stacks) ok(`status --stack ${name}`, await status(["status", "--stack", name, "--format", "json"]));
            const sequentialMs = performance.now() - started;
            const sequentialRequests = emulator.requests.count();
            emulator.requests.clear();
            started = performance.now();
            const all = await status(["status", "--all-stacks", "--format", "json", ...(options.parallel === undefined ? [] : ["--parallel", String(options.parallel)])]);
            const allMs = performance.now() - started;
            ok("status --all-stacks", all);
            const doc = JSON.parse(all.stdout) as StacksStatus;
            const read = doc.stacks.filter((s) => s.report !== null).length;
            if (read !== stacks.length) throw new Error(`status --all-stacks read ${read} of ${stacks.length} stacks: ${all.stderr.slice(0, 2000)}`);
            report({ kind: "round", round, sequentialMs, allMs, sequentialRequests, allRequests: emulator.requests.count() });
        }
    } finally {
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    run(JSON.parse(process.argv[2] ?? "{}") as StatusStacksOptions).catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
