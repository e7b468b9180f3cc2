import * as path from "node:path";
import { type CliIo, exitCodes } from "./io";
import type { OutputFormat } from "./output/table";
import { handoffsDocument, renderHandoffs } from "./review/renderHandoffs";
import { loadStackModel } from "./stackModel";

export interface HandoffsOptions {
    readonly stack: string;
    readonly at?: Date;
    readonly format: OutputFormat;
    readonly dir: string;
}

/**
 * `rotor handoffs`: the open hand-offs at an instant, offline from the schedule: per manual consumer the generation
 * to copy, where Key Vault serves it, what to do and by when. Exit 0; a config error is 1, as for every offline command.
 */
export async function runHandoffs(options: HandoffsOptions, io: CliIo): Promise<number> {
    const at = options.at ?? io.now();
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, at, io.cwd);
    io.stdout(renderHandoffs(handoffsDocument(model, at), options.format));
    return exitCodes.ok;
}
