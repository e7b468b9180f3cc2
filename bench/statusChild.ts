import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { ClientSecretCredential } from "@azure/identity";
import { buildModelOrThrow } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { main } from "../cli/main";
import { GraphClient } from "../azure/graph";
import type { StatusReport } from "../cli/live/status";
import { deployToEmulator, emulatorIo } from "../test/support/deployedStack";
import { type Emulator, startEmulator } from "../test/support/emulator";
import { report } from "./measure";
import { graphPageSize, type StatusChildOptions } from "./status";

/**
 * `rotor status --all-apps` against the local emulator, in a process of its own because the emulator's
 * CA must be trusted from start-up: the runner sets NODE_EXTRA_CA_CERTS (and the emulator's TLS directory)
 * before spawning this, as vitest's globalSetup does for the tests. TLS verification stays on.
 *
 * The CLI runs in-process through `main()`, pointed at the emulator as the tests point it; the emulator
 * answers on the same event loop, so its own work (serialising 999 applications a page) counts against
 * our figure, not for it.
 *
 * Usage: node --require tsx/cjs bench/statusChild.ts '<StatusChildOptions as JSON>'
 */

const repoRoot = path.resolve(__dirname, "..");
const deployedAt = new Date("2027-03-01T06:00:00Z");
const graphScope = "https://graph.microsoft.com/.default";

/**
 * The identity the commands run as, with Application.Read.All as a pipeline would have (as
 * test/support/deployedStack.ts `operator` makes it). A new credential object per run: each has its own
 * token cache, so every run signs in like a fresh `rotor` process does, instead of reusing a token.
 */
function operatorIdentity(emulator: Emulator): () => ClientSecretCredential {
    const app = emulator.state.addApplication({ displayName: "rotor-operator", graphPermissions: ["Application.Read.All", "Policy.Read.All"] });
    const { secretText } = emulator.state.addPassword(app, { lifetimeDays: 365 });
    return () =>
        new ClientSecretCredential(emulator.tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
}

/** The span from the first request's start to the last one's end, of the requests matching `keep`. */
function span(emulator: Emulator, keep: (route: string, service: string) => boolean): number {
    const entries = emulator.requests.entries.filter((e) => keep(e.route, e.service));
    if (entries.length === 0) return 0;
    const start = Math.min(...entries.map((e) => e.startedAtMs));
    const end = Math.max(...entries.map((e) => e.startedAtMs + e.durationMs));
    return end - start;
}

async function run(options: StatusChildOptions): Promise<void> {
    const emulator = await startEmulator({ now: deployedAt });
    try {
        if (!emulator.trustedByEnvironment) {
            throw new Error("the emulator's CA is not trusted through NODE_EXTRA_CA_CERTS: start this through bench/run.ts, which sets it up");
        }
        // The sample stack as `pulumi up` leaves it, then a tenant and vault at enterprise scale around it.
        const model = buildModelOrThrow(readStackConfig(repoRoot, "dev"), deployedAt);
        const deployment = await deployToEmulator(emulator, model, deployedAt);
        const vaultName = model.keyVault!.name;
        const credential = operatorIdentity(emulator);
        // Start dates spread over a year so that the tenant report has expired, expiring and healthy secrets.
        emulator.state.generateApplications(options.applications, { prefix: "integration", secrets: 1, staggerDays: 365 });
        emulator.state.generateSecrets(vaultName, options.secrets, { tags: (i) => ({ owner: `team-${i % 40}` }) });
        const tenantApplications = emulator.state.applications.size;
        const vaultSecrets = emulator.state.vault(vaultName)!.secrets.size;
        emulator.setFaults({ latencyMs: options.latencyMs });
        report({ kind: "seeded", tenantApplications, vaultSecrets });

        for (let i = 0; i < options.runs; i++) {
            emulator.requests.clear();
            const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
            const io = emulatorIo(emulator, deployment, credential(), deployedAt, out);
            const started = performance.now();
            const code = await main(["status", "--stack", "dev", "--all-apps", "--format", "json", "--dir", repoRoot], io);
            const ms = performance.now() - started;
            if (code !== 0 && code !== 2) throw new Error(`rotor status exited ${code}: ${out.stderr}`);
            const statusReport = JSON.parse(out.stdout) as StatusReport;
            report({
                kind: "status",
                run: i,
                ms,
                exitCode: code,
                applicationsScanned: statusReport.applicationsScanned,
                rows: statusReport.rows.length,
                requests: emulator.requests.count(),
                byRoute: emulator.requests.byRoute(),
                clientRequests: out.requests,
                graphApplicationPages: emulator.requests.count({ route: "GET /v1.0/applications", status: 200 }),
                keyVaultPages: emulator.requests.count({ route: "GET /secrets", status: 200 }),
                keyVaultChainMs: span(emulator, (_route, service) => service === "keyVault"),
                graphChainMs: span(emulator, (route) => route === "GET /v1.0/applications"),
            });
        }

        if (options.naive) {
            // What common scripts do: list the ids, then read each application, one request after another.
            emulator.requests.clear();
            const graph = new GraphClient(emulator.graphEndpoint, credential(), graphScope);
            const started = performance.now();
            const ids = await graph.list<{ id: string }>(`/applications?$select=id&$top=${graphPageSize}`);
            let credentials = 0;
            for (const { id } of ids) {
                const application = await graph.application(id);
                credentials += application.passwordCredentials.length + application.keyCredentials.length;
            }
            const ms = performance.now() - started;
            report({ kind: "naive", ms, applications: ids.length, credentials, requests: emulator.requests.count(), byRoute: emulator.requests.byRoute() });
        }
    } finally {
        await emulator.close();
    }
}

if (require.main === module) {
    run(JSON.parse(process.argv[2] ?? "{}") as StatusChildOptions).catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
