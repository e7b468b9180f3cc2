import * as path from "node:path";
import type { CliIo } from "./io";
import { retireCommand } from "./live/commands";
import { liveIo, type LiveFlags } from "./live/context";
import { renderRetire } from "./live/renderRetire";
import type { OutputFormat } from "./output/table";
import { loadStackModel } from "./stackModel";

export interface RetireOptions extends LiveFlags {
    readonly stack: string;
    readonly dir: string;
    /** A sign-in within this many days on record keeps a credential; default 30. */
    readonly usedWithin?: number;
    /** Remove; without it, a dry run. */
    readonly yes?: boolean;
    /** Remove even when no usage evidence can be read. */
    readonly force?: boolean;
    readonly format: OutputFormat;
}

/**
 * `rotor retire`: removes the credentials the stack marks `retire: true` once nobody signs in with them (a dry
 * run without `--yes`). Exit 0 done or nothing to do, 2 when a marked credential could not be retired, 1 when
 * Graph failed a removal or the command failed.
 */
export async function runRetire(options: RetireOptions, io: CliIo): Promise<number> {
    const now = io.now();
    const model = loadStackModel(path.resolve(io.cwd, options.dir), options.stack, now, io.cwd);
    const report = await retireCommand(model, options, liveIo(io), now);
    const forced = report.rows.filter((r) => r.forced && (r.outcome === "removed" || r.outcome === "would-remove"));
    // Loud where a pipeline's log shows it too, whatever the format of stdout.
    if (forced.length > 0) {
        io.stderr(
            `rotor: WARNING: --force ${report.dryRun ? "would remove" : "removed"} ${forced.length} credential${forced.length === 1 ? "" : "s"} with no usage evidence (${forced.map((r) => `${r.app} key ${r.keyId}`).join(", ")}): nothing shows that nobody signs in with ${forced.length === 1 ? "it" : "them"}\n`,
        );
    }
    io.stdout(renderRetire(report, options.format));
    return report.exitCode;
}
