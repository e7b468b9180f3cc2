import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

/**
 * Runs a child Node process and measures what the benchmark reports: wall time seen from the parent (so
 * start-up, module loading and transpiling count, as they do for a user), and peak memory.
 *
 * Peak memory comes from the child itself: a preloaded hook writes `process.resourceUsage().maxRSS` to
 * file descriptor 3 when the process exits. /usr/bin/time is not on every machine, and the hook costs the
 * measured process nothing but one `exit` listener, identical for every command compared.
 */

export const repoRoot = path.resolve(__dirname, "..");

/**
 * The preload, as CommonJS so plain `node` runs it with no loader. It is written to the run's temporary
 * directory (not kept as a .js file in the repository, whose sources are all TypeScript). Children may write
 * their own JSON lines to fd 3 as well; `maxRssKb` is always the last.
 */
const preloadSource = `"use strict";
process.on("exit", () => {
    try {
        require("node:fs").writeSync(3, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + "\\n");
    } catch {
        // fd 3 is only open when the benchmark runs the process; started by hand, there is nowhere to report.
    }
});
`;

/** Writes the preload into `dir` and returns its path. */
export function writePreload(dir: string): string {
    const file = path.join(dir, "max-rss-preload.cjs");
    fs.writeFileSync(file, preloadSource);
    return file;
}

/**
 * `--import` of tsx's loader, for children whose entry point is TypeScript (bench/*Child.ts): both hooks, so
 * the CLI's `import()` of a command module loads TypeScript as it does under vitest.
 */
export const tsxLoader = ["--import", require.resolve("tsx")] as const;

export interface ChildRun {
    readonly code: number | null;
    readonly wallMs: number;
    /** Peak resident set size, bytes; undefined when the child died before its exit hook ran. */
    readonly maxRssBytes: number | undefined;
    readonly stdout: string;
    readonly stderr: string;
    /** JSON lines the child wrote to fd 3 other than the memory report. */
    readonly reports: readonly Record<string, unknown>[];
}

export interface ChildOptions {
    readonly preload: string;
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
    /** Keep stdout (default true); large outputs can be dropped once checked. */
    readonly keepStdout?: boolean;
}

/** `node --require <preload> ...nodeArgs`: resolves when the child has exited and its pipes are drained. */
export function runNode(nodeArgs: readonly string[], options: ChildOptions): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, ["--require", options.preload, ...nodeArgs], {
            cwd: options.cwd ?? repoRoot,
            env: options.env ?? process.env,
            stdio: ["ignore", "pipe", "pipe", "pipe"],
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const side: Buffer[] = [];
        const keep = options.keepStdout ?? true;
        child.stdout!.on("data", (chunk: Buffer) => void (keep && stdout.push(chunk)));
        child.stderr!.on("data", (chunk: Buffer) => void stderr.push(chunk));
        (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk: Buffer) => void side.push(chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            const wallMs = performance.now() - started;
            const lines = Buffer.concat(side)
                .toString("utf8")
                .split("\n")
                .filter((line) => line.trim() !== "")
                .map((line) => JSON.parse(line) as Record<string, unknown>);
            const memory = lines.find((line) => typeof line["maxRssKb"] === "number");
            resolve({
                code,
                wallMs,
                // Linux reports ru_maxrss in kilobytes.
                maxRssBytes: memory ? (memory["maxRssKb"] as number) * 1024 : undefined,
                stdout: Buffer.concat(stdout).toString("utf8"),
                stderr: Buffer.concat(stderr).toString("utf8"),
                reports: lines.filter((line) => line !== memory),
            });
        });
    });
}

/** For a child's own reports: one JSON line on fd 3, or stdout when started by hand. */
export function report(value: Record<string, unknown>): void {
    const line = `${JSON.stringify(value)}\n`;
    try {
        fs.writeSync(3, line);
    } catch {
        process.stdout.write(line);
    }
}

/** Throws with the child's stderr when it did not exit as expected. */
export function expectExit(run: ChildRun, codes: readonly number[], what: string): ChildRun {
    if (run.code === null || !codes.includes(run.code)) {
        throw new Error(`${what} exited with ${String(run.code)} (expected ${codes.join(" or ")}):\n${run.stderr.slice(0, 4000)}`);
    }
    return run;
}

export function median(values: readonly number[]): number {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Stderr progress for the person waiting: the table itself goes to stdout. */
export function note(text: string): void {
    process.stderr.write(`bench: ${text}\n`);
}
