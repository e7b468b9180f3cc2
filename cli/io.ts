import * as path from "node:path";
import type { LiveIo } from "./live/context";
import type { RotateNowRunner } from "./rotateNow";

/** Where the CLI writes and what it reads from its surroundings, so tests run it in-process. */
export interface CliIo extends Partial<LiveIo> {
    /** How `rotate-now --yes` runs Pulumi; the Automation API unless a test injects another. */
    readonly rotateNowRunner?: RotateNowRunner;
    readonly stdout: (text: string) => void;
    /**
     * Resolves when what was written to stdout has been taken by the reader. A pipe's writes are queued in
     * memory once the reader falls behind, so a long output waits here between chunks instead of piling up.
     */
    readonly stdoutDrained?: () => Promise<void>;
    readonly stderr: (text: string) => void;
    readonly cwd: string;
    readonly now: () => Date;
}

/** 2: the live commands found something to act on (expired, overdue, failing), so a scheduled pipeline alerts. */
export const exitCodes = { ok: 0, error: 1, attention: 2 } as const;

/** A mistake in how rotor was called: reported with a pointer to the command's help, exit 1. */
export class UsageError extends Error {
    override readonly name = "UsageError";
}

/** Writes output chunk by chunk, letting the reader catch up between chunks. */
export async function writeChunks(io: CliIo, chunks: Iterable<string>): Promise<void> {
    for (const chunk of chunks) {
        io.stdout(chunk);
        await io.stdoutDrained?.();
    }
}

/** Relative to the working directory when inside it, else absolute: the shortest unambiguous name. */
export function displayPath(cwd: string, file: string): string {
    const relative = path.relative(cwd, file);
    return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** The real process: its streams, directory, clock and environment. */
export function processIo(): CliIo {
    // A reader that stops early (`rotor plan | head`) closes the pipe: the rest of the output has nowhere to go.
    let stdoutClosed = false;
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE") throw error;
        stdoutClosed = true;
    });
    return {
        stdout: (text) => void (stdoutClosed || process.stdout.write(text)),
        stdoutDrained: () => (stdoutClosed || !process.stdout.writableNeedDrain ? Promise.resolve() : new Promise((resolve) => process.stdout.once("drain", resolve))),
        stderr: (text) => process.stderr.write(text),
        cwd: process.cwd(),
        now: () => new Date(),
        env: process.env,
        progress: () => {
            // Loaded only by a live command on a terminal.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { terminalProgress } = require("./live/progress") as typeof import("./live/progress");
            return terminalProgress(process.stderr);
        },
    };
}
