import * as fs from "node:fs";
import * as path from "node:path";
import { type CliIo, exitCodes, UsageError } from "./io";
import { visible } from "./output/escape";
import { defaultCommentBudget } from "./output/commentBudget";
import type { OutputFormat } from "./output/table";
import { PreviewLimitError } from "./review/preview/previewDocument";
import { maxPreviewBytes, tooLargeProblem } from "./review/preview/previewLimits";
import { parsePreviewDocument, renderSummary, summarizePreview } from "./review/preview/summarize";

export interface SummarizeOptions {
    readonly format: OutputFormat;
    /** Markdown: the comment's budget of characters (default 60,000; 0: no limit). */
    readonly maxChars?: number;
}

/** `rotor summarize`: `pulumi preview --json` to a value-free identity summary for a pull request. */
export async function runSummarize(file: string, options: SummarizeOptions, io: CliIo): Promise<number> {
    if (options.maxChars !== undefined && options.format !== "markdown") throw new UsageError("--max-chars limits a markdown comment: use it with --format markdown");
    const source = file === "-" ? "standard input" : file;
    const text = file === "-" ? await readStdin(source) : readPreviewFile(path.resolve(io.cwd, file), file);
    io.stdout(renderSummary(summarizePreview(parsePreviewDocument(text, source), { source }), options.format, { maxChars: options.maxChars ?? defaultCommentBudget }));
    return exitCodes.ok;
}

/**
 * Reads at most maxPreviewBytes: a regular file is refused by its size before any of it is read; anything
 * else (a pipe, /dev/stdin) is read until it ends or passes the bound.
 */
function readPreviewFile(absolute: string, shown: string): string {
    let fd: number;
    try {
        fd = fs.openSync(absolute, "r");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const name = visible(shown);
        throw new Error(code === "ENOENT" ? `${name}: no such file; write it with pulumi preview --json > ${name}` : `${name}: cannot be read (${code ?? String(error)})`);
    }
    try {
        const stat = fs.fstatSync(fd);
        if (stat.isDirectory()) throw new Error(`${visible(shown)}: is a directory; pass the file pulumi preview --json wrote`);
        if (stat.isFile() && stat.size > maxPreviewBytes) throw new PreviewLimitError(shown, "", tooLargeProblem(stat.size));
        const chunks: Buffer[] = [];
        let total = 0;
        const buffer = Buffer.allocUnsafe(1024 * 1024);
        for (;;) {
            const read = fs.readSync(fd, buffer, 0, buffer.length, null);
            if (read === 0) break;
            total += read;
            if (total > maxPreviewBytes) throw new PreviewLimitError(shown, "", tooLargeProblem(undefined));
            chunks.push(Buffer.from(buffer.subarray(0, read)));
        }
        return Buffer.concat(chunks, total).toString("utf8");
    } finally {
        fs.closeSync(fd);
    }
}

/** Standard input, up to the same bound: past it, reading stops and the preview is refused. */
async function readStdin(source: string): Promise<string> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
        total += (chunk as Buffer).length;
        if (total > maxPreviewBytes) {
            process.stdin.destroy();
            throw new PreviewLimitError(source, "", tooLargeProblem(undefined));
        }
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, total).toString("utf8");
}
