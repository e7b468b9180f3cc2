import * as path from "node:path";
import { type CliIo, UsageError } from "./io";
import { liveIo, type LiveFlags } from "./live/context";
import { renderStatus } from "./live/renderStatus";
import { statusReport } from "./live/commands";
import type { OutputFormat } from "./output/table";
import { loadStackModel } from "./stackModel";

export interface StatusOptions extends LiveFlags {
    readonly stack: string;
    readonly dir: string;
    readonly within?: number;
    readonly allApps?: boolean;
    /** Also read which credential consumers sign in with (live/usage.ts). */
    readonly usage?: boolean;
    /** With `usage`: a sign-in within this many days counts as in use; default 7. */
    readonly usedWithin?: number;
    readonly format: OutputFormat;
}

/** `rotor status`: the live tenant and vault against the stack; exit 2 when something needs attention. */
export async function runStatus(options: StatusOptions, io: CliIo): Promise<number> {
    if (options.usedWithin !== undefined && !options.usage) throw new UsageError("--used-within needs --usage");
    const now = io.now();
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, now, io.cwd);
    const report = await statusReport(model, options, liveIo(io), now);
    io.stdout(renderStatus(report, options.format));
    return report.exitCode;
}
