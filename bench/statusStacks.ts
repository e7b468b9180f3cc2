import * as path from "node:path";
import { expectExit, median, note, repoRoot, runNode, tsxLoader } from "./measure";
import { emulatorTrust } from "./status";

/** `rotor status --all-stacks` over many tenants against the same stacks read one after another. */

export interface StatusStacksOptions {
    readonly tenants: number;
    readonly appsPerTenant: number;
    readonly latencyMs: number;
    /** `--parallel`: tenants read at once; the CLI's default when left out. */
    readonly parallel?: number;
    /** Rounds counted, after one warm-up round. */
    readonly runs: number;
}

export interface StatusStacksFigures {
    readonly options: StatusStacksOptions;
    readonly applications: number;
    readonly secrets: number;
    readonly sequentialMs: number;
    readonly allMs: number;
    readonly ratio: number;
    readonly requests: number;
}

interface Round {
    readonly round: number;
    readonly sequentialMs: number;
    readonly allMs: number;
    readonly sequentialRequests: number;
    readonly allRequests: number;
}

export async function measureStatusStacks(dir: string, preload: string, options: StatusStacksOptions): Promise<StatusStacksFigures> {
    note(`status --all-stacks: ${options.tenants} tenants x ${options.appsPerTenant} apps, ${options.runs} rounds after a warm-up, at ${options.latencyMs} ms per request`);
    const child = expectExit(
        await runNode([...tsxLoader, path.join(repoRoot, "bench", "statusStacksChild.ts"), JSON.stringify(options)], { preload, env: emulatorTrust(dir) }),
        [0],
        "the status --all-stacks benchmark",
    );
    const seeded = child.reports.find((r) => r["kind"] === "seeded");
    const rounds = (child.reports.filter((r) => r["kind"] === "round") as unknown as Round[]).filter((r) => r.round > 0);
    if (!seeded || rounds.length !== options.runs) throw new Error(`the status --all-stacks benchmark reported ${rounds.length} rounds of ${options.runs}:\n${child.stderr}`);
    const sequentialMs = median(rounds.map((r) => r.sequentialMs));
    const allMs = median(rounds.map((r) => r.allMs));
    return {
        options,
        applications: seeded["applications"] as number,
        secrets: seeded["secrets"] as number,
        sequentialMs,
        allMs,
        ratio: allMs / sequentialMs,
        requests: rounds[0]!.allRequests,
    };
}
