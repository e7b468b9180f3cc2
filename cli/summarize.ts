import * as fs from "node:fs";
import * as path from "node:path";
import { type CliIo, exitCodes } from "./io";
import type { OutputFormat } from "./output/table";
import { parsePreviewDocument } from "./review/preview/previewDocument";
import { renderSummary, summarizePreview } from "./review/preview/summarize";

export interface SummarizeOptions {
    readonly format: OutputFormat;
}

/** `rotor summarize`: `pulumi preview --json` to a value-free identity summary for a pull request. */
export async function runSummarize(file: string, options: SummarizeOptions, io: CliIo): Promise<number> {
    const text = file === "-" ? await readStdin() : readPreviewFile(path.resolve(io.cwd, file), file);
    const source = file === "-" ? "standard input" : file;
    io.stdout(renderSummary(summarizePreview(parsePreviewDocument(text, source), { source }), options.format));
    return exitCodes.ok;
}

function readPreviewFile(absolute: string, shown: string): string {
    try {
        return fs.readFileSync(absolute, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === "ENOENT" ? `${shown}: no such file; write it with pulumi preview --json > ${shown}` : `${shown}: cannot be read (${code ?? String(error)})`);
    }
}

async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}
