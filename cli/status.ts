import * as path from "node:path";
import { dateToIsoSeconds } from "../rotation/instants";
import { type CliIo, UsageError } from "./io";
import { statusReport } from "./live/commands";
import { liveIo, type LiveFlags } from "./live/context";
import { mapConcurrent } from "./live/concurrency";
import { renderStatus } from "./live/renderStatus";
import { renderStacksStatus, type StackStatusEntry, stacksStatus } from "./live/statusStacks";
import { type OutputFormat, plural } from "./output/table";
import { loadStackModel } from "./stackModel";
import { loadStackOutcomes, type StackSelection, selectedStacks } from "./stacks";

export interface StatusOptions extends LiveFlags, StackSelection {
    readonly dir: string;
    readonly within?: number;
    readonly allApps?: boolean;
    /** Also read which credential consumers sign in with (live/usage.ts). */
    readonly usage?: boolean;
    /** With `usage`: a sign-in within this many days counts as in use; default 7. */
    readonly usedWithin?: number;
    /** With several stacks: how many tenants are read at once; default defaultStacksInFlight. */
    readonly parallel?: number;
    readonly format: OutputFormat;
}

/**
 * Tenants read at once with several stacks. Graph and Key Vault throttle per tenant and per vault, so
 * stacks of different tenants do not slow each other; a stack costs a few requests in flight (its page
 * chains, and per-app reads only for the rare app whose expansion may be cut short), so 16 at once stay
 * far below a socket or memory concern on the machine that runs rotor, and a service provider's usual
 * dozen tenants are read side by side (npm run bench: 10 tenants at about 0.2x of one after another).
 */
export const defaultStacksInFlight = 16;

/** `rotor status`: the live tenant and vault against the stack; exit 2 when something needs attention. */
export async function runStatus(options: StatusOptions, io: CliIo): Promise<number> {
    if (options.usedWithin !== undefined && !options.usage) throw new UsageError("--used-within needs --usage");
    const now = io.now();
    const projectDir = path.resolve(io.cwd, options.dir);
    const stacks = selectedStacks(options, projectDir, io.cwd);
    if (options.stack !== undefined) {
        if (options.parallel !== undefined) throw new UsageError("--parallel reads several stacks at once: use it with --stacks or --all-stacks");
        const model = loadStackModel(projectDir, options.stack, now, io.cwd);
        const report = await statusReport(model, options, liveIo(io), now);
        io.stdout(renderStatus(report, options.format));
        return report.exitCode;
    }
    const outcomes = loadStackOutcomes(stacks, projectDir, now, io);
    const entries = await mapConcurrent(outcomes, options.parallel ?? defaultStacksInFlight, async (outcome): Promise<StackStatusEntry> => {
        if (!("model" in outcome)) {
            const errors = outcome.issues.filter((issue) => issue.severity === "error").length;
            return { stack: outcome.stack, tenantId: null, report: null, error: `${outcome.source}: ${plural(errors, "config error")}` };
        }
        const tenantId = outcome.model.tenantId ?? null;
        try {
            return { stack: outcome.stack, tenantId, report: await statusReport(outcome.model, options, liveIo(io), now), error: null };
        } catch (error) {
            // A usage error is the command's, not the stack's: it stops the run.
            if (error instanceof Error && error.name === "UsageError") throw error;
            const message = error instanceof Error ? error.message : String(error);
            io.stderr(`rotor: ${outcome.stack}: ${message.replace(/\n/g, "\n  ")}\n`);
            return { stack: outcome.stack, tenantId, report: null, error: message };
        }
    });
    const doc = stacksStatus(entries, dateToIsoSeconds(now));
    io.stdout(renderStacksStatus(doc, options.format));
    return doc.exitCode;
}
