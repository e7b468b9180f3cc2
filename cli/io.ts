import * as path from "node:path";
import type { LiveIo } from "./live/context";
import { markdownText } from "./output/escape";
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

/** The commands whose markdown becomes a pull-request comment, and what that comment is. */
const noticeSubjects: ReadonlyMap<string, string> = new Map([
    ["plan", "no plan could be made"],
    ["summarize", "the preview could not be summarised"],
]);

/** Lines of a failure's reason shown in the notice, and characters per line; the run's log has all of it. */
const noticeLines = 20;
const noticeLineLength = 400;

/**
 * The markdown a failed `rotor plan` or `rotor summarize` writes to stdout with `--format markdown`, besides its
 * error on stderr: the pipeline posts it in place of the plan, so a comment from an earlier push never stays up
 * looking true. The reason is text from the pull request (a stack file, a preview), so every line of it is
 * escaped as inline markdown and shown as a list item inside the alert: it cannot end the alert, open HTML,
 * link, mention or fake a heading. Undefined for any other command.
 */
export function markdownFailureNotice(command: string, reason: string): string | undefined {
    const subject = noticeSubjects.get(command);
    if (subject === undefined) return undefined;
    const given = reason.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
    const all = given.length > 0 ? given : ["no reason was given"];
    const lines = all.slice(0, noticeLines).map((line) => markdownText(line.length > noticeLineLength ? `${line.slice(0, noticeLineLength)}…` : line));
    if (all.length > noticeLines) lines.push(`… ${all.length - noticeLines} more lines in the run's log`);
    return [
        `## rotor ${command} failed`,
        "",
        "> [!CAUTION]",
        `> **\`rotor ${command}\` failed: ${subject}.** Anything this comment showed before no longer applies. Why (the run's log has the rest):`,
        ">",
        ...lines.map((line) => `> - ${line}`),
        "",
    ].join("\n");
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
