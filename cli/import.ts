import * as path from "node:path";
import { stackNameProblem } from "../infra/model/stackFiles";
import { importTenant, type ImportFlags } from "./adopt/importTenant";
import { renderDryRunSummary, renderTenantReport, renderWritten } from "./adopt/renderReport";
import { renderStackYaml } from "./adopt/renderYaml";
import { reportDocument } from "./adopt/report";
import { selectionOf } from "./adopt/selection";
import { stackTarget, writeStack } from "./adopt/stackTarget";
import { type CliIo, exitCodes, UsageError } from "./io";
import { liveIo } from "./live/context";

export type ImportFormat = "yaml" | "table" | "json";

export interface ImportOptions extends ImportFlags {
    readonly stack: string;
    readonly appId?: readonly string[];
    readonly filter?: string;
    readonly ownedBy?: string;
    readonly dir: string;
    readonly dryRun?: boolean;
    readonly format: ImportFormat;
}

/**
 * `rotor import`: the tenant's app registrations as a new stack. Every check of the command line and of the
 * files it would write runs before the tenant is read; the tenant is only read. With `--dry-run` nothing is
 * written: `yaml` prints the stack file, `table` the tenant report, `json` the report as a document. Otherwise
 * `Pulumi.<stack>.yaml` is written (never over anything) and the report follows on stdout.
 */
export async function runImport(options: ImportOptions, io: CliIo): Promise<number> {
    const problems: string[] = [];
    const badStack = stackNameProblem(options.stack);
    if (badStack) problems.push(`--stack ${badStack}`);
    const selected = selectionOf(options);
    if ("problems" in selected) problems.push(...selected.problems);
    if (problems.length > 0) throw new UsageError(problems.join("\n"));
    const selection = "selection" in selected ? selected.selection : {};

    const projectDir = path.resolve(io.cwd, options.dir);
    const target = stackTarget(projectDir, options.stack, io.cwd, options.dryRun ?? false);
    const at = io.now();
    const flags: ImportFlags = {
        ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
        ...(options.cloud !== undefined ? { cloud: options.cloud } : {}),
        ...(options.authorityHost !== undefined ? { authorityHost: options.authorityHost } : {}),
        ...(options.graphEndpoint !== undefined ? { graphEndpoint: options.graphEndpoint } : {}),
    };
    const report = await importTenant(selection, flags, liveIo(io), { project: target.project, stack: options.stack, at });
    const yaml = renderStackYaml(report);

    if (options.dryRun) {
        if (options.format === "yaml") {
            io.stdout(yaml);
            // The stack file goes to stdout as it is; what to act on goes to stderr, so a redirect keeps only the file.
            io.stderr(renderDryRunSummary(report));
        } else if (options.format === "table") {
            io.stdout(renderTenantReport(report));
        } else {
            io.stdout(`${JSON.stringify(reportDocument(report), null, 2)}\n`);
        }
        return exitCodes.ok;
    }
    const shown = writeStack(target, yaml, io.cwd, options.stack);
    if (options.format === "json") io.stdout(`${JSON.stringify(reportDocument(report, shown), null, 2)}\n`);
    else if (options.format === "table") io.stdout(`Wrote ${shown}.\n\n${renderTenantReport(report)}`);
    else io.stdout(renderWritten(report, shown));
    return exitCodes.ok;
}
