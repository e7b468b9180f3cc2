import * as path from "node:path";
import { type CliIo, UsageError } from "./io";
import { verifyReport } from "./live/commands";
import { liveIo, type LiveFlags } from "./live/context";
import { renderVerify } from "./live/renderVerify";
import type { OutputFormat } from "./output/table";
import { loadStackModel } from "./stackModel";

export interface VerifyOptions extends LiveFlags {
    readonly stack: string;
    readonly dir: string;
    readonly app?: string;
    readonly format: OutputFormat;
}

/** `rotor verify`: signs in with what Key Vault serves, as a consumer would; exit 2 when one fails. */
export async function runVerify(options: VerifyOptions, io: CliIo): Promise<number> {
    const now = io.now();
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, now, io.cwd);
    if (options.app && !model.apps.some((a) => a.name === options.app)) {
        throw new UsageError(`--app: the stack has no app "${options.app}"; its apps are ${model.apps.map((a) => a.name).join(", ")}`);
    }
    const report = await verifyReport(model, options, liveIo(io), now);
    io.stdout(renderVerify(report, options.format));
    return report.exitCode;
}
