import * as path from "node:path";
import { type CliIo } from "./io";
import { doctorReport } from "./live/commands";
import { liveIo, type LiveFlags } from "./live/context";
import { renderDoctor } from "./live/renderDoctor";
import type { OutputFormat } from "./output/table";
import { loadStackModel } from "./stackModel";

export interface DoctorOptions extends LiveFlags {
    readonly stack: string;
    /** The subscription of the vault's resource group, to read what the identity may do there. */
    readonly subscription?: string;
    readonly dir: string;
    readonly format: OutputFormat;
}

/** `rotor doctor`: the preflight before the first deployment; exit 2 when a check fails. */
export async function runDoctor(options: DoctorOptions, io: CliIo): Promise<number> {
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, io.now(), io.cwd);
    const report = await doctorReport(model, options, liveIo(io));
    io.stdout(renderDoctor(report, options.format));
    return report.exitCode;
}
