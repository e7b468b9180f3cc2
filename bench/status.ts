import * as fs from "node:fs";
import * as path from "node:path";
import { createTlsMaterial, writeTlsMaterial } from "../test/support/emulator/certificates";
import { tlsDirVariable } from "../test/support/emulator/tls";
import { expectExit, median, note, repoRoot, runNode, tsxLoader } from "./measure";

/**
 * `rotor status --all-apps` over a tenant of thousands of applications and a vault of thousands of secrets,
 * every request answered after a fixed latency, against the unavoidable sequential page chain; and the
 * naive peer that reads one application per request.
 */

export interface StatusChildOptions {
    readonly applications: number;
    readonly secrets: number;
    readonly latencyMs: number;
    readonly runs: number;
    /** Also time the naive peer (one GET per application, sequentially). */
    readonly naive: boolean;
}

/** Graph's largest page of applications (`$top`), and Key Vault's fixed page of secrets. */
export const graphPageSize = 999;
export const keyVaultPageSize = 25;

export interface StatusRun {
    readonly ms: number;
    readonly requests: number;
    readonly applicationsScanned: number;
    readonly graphApplicationPages: number;
    readonly keyVaultPages: number;
    readonly keyVaultChainMs: number;
    readonly graphChainMs: number;
    readonly byRoute: Record<string, number>;
}

export interface StatusFigures {
    readonly options: StatusChildOptions;
    readonly tenantApplications: number;
    readonly vaultSecrets: number;
    /** The first run pays for loading the Azure SDKs (lazily required by the status command). */
    readonly first: StatusRun;
    /** Runs after the first. */
    readonly warm: readonly StatusRun[];
    readonly medianMs: number;
    /** Pages of each chain, from the seeded sizes and the page sizes Graph and Key Vault use. */
    readonly chains: { readonly graphApplications: number; readonly keyVaultSecrets: number; readonly stackApplications: number };
    /** The longest chain's pages x latency. */
    readonly unavoidableMs: number;
    readonly ratio: number;
    readonly naive?: { readonly ms: number; readonly requests: number; readonly applications: number };
}

/**
 * A throwaway CA and server certificate, trusted by the child through NODE_EXTRA_CA_CERTS exactly as
 * test/support/emulator/globalSetup.ts arranges it for vitest: Node reads that variable only at start-up,
 * so it must be set before the process exists. Any CA bundle the machine already relies on is kept.
 */
export function emulatorTrust(dir: string): NodeJS.ProcessEnv {
    const tlsDir = path.join(dir, "emulator-tls");
    const material = createTlsMaterial();
    writeTlsMaterial(tlsDir, material);
    let bundle = material.caCertificatePem;
    const previous = process.env.NODE_EXTRA_CA_CERTS;
    if (previous && fs.existsSync(previous)) bundle = `${fs.readFileSync(previous, "utf8").trim()}\n${bundle}`;
    const bundlePath = path.join(tlsDir, "node-extra-ca-certs.pem");
    fs.writeFileSync(bundlePath, bundle);
    return { ...process.env, NODE_EXTRA_CA_CERTS: bundlePath, [tlsDirVariable]: tlsDir };
}

export async function measureStatus(dir: string, preload: string, options: StatusChildOptions): Promise<StatusFigures> {
    note(`status: seeding ${options.applications} applications and ${options.secrets} secrets, ${options.runs} runs at ${options.latencyMs} ms per request${options.naive ? ", then the naive peer (about two minutes)" : ""}`);
    const child = expectExit(
        await runNode([...tsxLoader, path.join(repoRoot, "bench", "statusChild.ts"), JSON.stringify(options)], { preload, env: emulatorTrust(dir) }),
        [0],
        "the status benchmark",
    );
    const seeded = child.reports.find((r) => r["kind"] === "seeded");
    const runs = child.reports.filter((r) => r["kind"] === "status") as unknown as StatusRun[];
    const naive = child.reports.find((r) => r["kind"] === "naive") as { ms: number; requests: number; applications: number } | undefined;
    if (!seeded || runs.length !== options.runs) throw new Error(`the status benchmark reported ${runs.length} runs of ${options.runs}:\n${child.stderr}`);
    const tenantApplications = seeded["tenantApplications"] as number;
    const vaultSecrets = seeded["vaultSecrets"] as number;
    const chains = {
        graphApplications: Math.ceil(tenantApplications / graphPageSize),
        keyVaultSecrets: Math.ceil(vaultSecrets / keyVaultPageSize),
        // The stack's tagged applications, their federated credentials expanded, fit one page of 100.
        stackApplications: 1,
    };
    const unavoidableMs = Math.max(chains.graphApplications, chains.keyVaultSecrets, chains.stackApplications) * options.latencyMs;
    const warm = runs.slice(1);
    const medianMs = median(warm.map((r) => r.ms));
    return {
        options,
        tenantApplications,
        vaultSecrets,
        first: runs[0]!,
        warm,
        medianMs,
        chains,
        unavoidableMs,
        ratio: medianMs / unavoidableMs,
        ...(naive ? { naive: { ms: naive.ms, requests: naive.requests, applications: naive.applications } } : {}),
    };
}
