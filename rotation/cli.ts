import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, formatIssue } from "../infra/issues";
import { buildModel, type StackModel } from "../infra/model";
import { readStackConfig } from "../infra/stackFiles";
import { buildCalendar } from "./calendar";
import { GitBaseError, withProjectAt } from "./gitBase";
import { buildPlan } from "./plan";
import { diffModels } from "./planDiff";
import { renderPlanDiff } from "./renderPlanDiff";
import { lazy } from "./lazy";
import type { LiveFlags, LiveIo } from "./liveContext";
import { type OutputFormat, renderCalendar, renderPlan } from "./render";

/* eslint-disable @typescript-eslint/no-require-imports -- see lazy.ts */
const { version } = require("../package.json") as { version: string };

/** Where the CLI writes and what it reads from its surroundings, so tests run it in-process. */
export interface CliIo extends Partial<LiveIo> {
    /** How `rotate-now --yes` runs Pulumi; the Automation API unless a test injects another. */
    readonly rotateNowRunner?: import("./rotateNow").RotateNowRunner;
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    readonly cwd: string;
    readonly now: () => Date;
}

/** 2: the live commands found something to act on (expired, overdue, failing), so a scheduled pipeline alerts. */
export const exitCodes = { ok: 0, error: 1, attention: 2 } as const;

/** A mistake in how rotor was called, reported like commander's own. */
class UsageError extends Error {}

/** `--at`: a date (midnight UTC) or an ISO-8601 instant with a zone. */
export function parseInstant(value: string): Date {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
    const date = new Date(dateOnly ? `${value}T00:00:00Z` : value);
    if ((!dateOnly && !instant) || Number.isNaN(date.getTime()) || (dateOnly && date.toISOString().slice(0, 10) !== value)) {
        throw new InvalidArgumentError(`use YYYY-MM-DD or an ISO-8601 instant such as 2027-03-01T06:00:00Z`);
    }
    return date;
}

function formatOption(formats: readonly OutputFormat[]): Option {
    return new Option("--format <format>", "output format").choices(formats).default("table");
}

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
    const program = new Command("rotor")
        .description("Entra ID app registrations as code, with credentials that rotate themselves (entra-rotor)")
        .version(version)
        .showHelpAfterError("(run rotor --help for usage)")
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

    program
        .command("plan")
        .description("print what a stack declares, offline: per app its permissions (type, API, tier, consent), warnings and refusals")
        .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
        .option("--at <date>", "compute the plan for this date (YYYY-MM-DD or ISO-8601), default now", parseInstant)
        .option("--since <date>", "the last successful run, which statuses are relative to (default: a day before --at, as with a daily pipeline)", parseInstant)
        .option("--base <git-ref>", "show what changed since this git ref (e.g. origin/main) instead: apps, permissions (escalations first), credentials, breaking rotation changes")
        .addOption(formatOption(["table", "markdown", "json"]))
        .option("--dir <path>", "the Pulumi project directory", ".")
        .exitOverride()
        .action((options: { stack: string; at?: Date; since?: Date; base?: string; format: OutputFormat; dir: string }) => {
            const at = options.at ?? io.now();
            if (options.since && options.since.getTime() > at.getTime()) throw new UsageError(`--since (${options.since.toISOString()}) must not be after --at (${at.toISOString()})`);
            if (options.base && options.since) throw new UsageError("--base and --since answer different questions: use one");
            const projectDir = path.resolve(io.cwd, options.dir);
            const model = loadModel(projectDir, options.stack, at);
            if (options.base) {
                const ref = options.base;
                const base = withProjectAt(projectDir, ref, (baseDir) => {
                    let baseInput;
                    try {
                        baseInput = readStackConfig(baseDir, options.stack);
                    } catch {
                        return undefined; // The stack is new in this change.
                    }
                    const baseResult = buildModel(baseInput, at);
                    if (!baseResult.model) io.stderr(`note: the config at ${ref} is invalid; everything is shown as added\n`);
                    return baseResult.model;
                });
                io.stdout(renderPlanDiff(diffModels(base, model, ref), options.format));
                setExit(exitCodes.ok);
                return;
            }
            io.stdout(renderPlan(buildPlan(model, options.since ? { since: options.since } : {}), options.format));
            setExit(exitCodes.ok);
        });

    program
        .command("calendar")
        .description("list every scheduled rotation in a date range, offline: date, app, credential, slot, generation retired and created")
        .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
        .option("--from <date>", "start of the range, inclusive (YYYY-MM-DD or ISO-8601), default now", parseInstant)
        .option("--to <date>", "end of the range, exclusive, default one year after --from", parseInstant)
        .addOption(formatOption(["table", "markdown", "json"]))
        .option("--dir <path>", "the Pulumi project directory", ".")
        .exitOverride()
        .action((options: { stack: string; from?: Date; to?: Date; format: OutputFormat; dir: string }) => {
            const from = options.from ?? io.now();
            const to = options.to ?? new Date(from.getTime() + 365 * 86_400_000);
            if (to.getTime() <= from.getTime()) throw new UsageError(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
            if (to.getTime() - from.getTime() > 100 * 365 * 86_400_000) throw new UsageError("the range is longer than 100 years: narrow --from and --to");
            io.stdout(renderCalendar(buildCalendar(loadModel(path.resolve(io.cwd, options.dir), options.stack, from), from, to), options.format));
            setExit(exitCodes.ok);
        });
    const live = (command: Command) =>
        command
            .option("--cloud <name>", "AzureCloud (default), AzureUSGovernment or AzureChinaCloud (env ROTOR_CLOUD)")
            .option("--authority-host <url>", "the sign-in authority (env AZURE_AUTHORITY_HOST)")
            .option("--graph-endpoint <url>", "Microsoft Graph's root URL (env ROTOR_GRAPH_ENDPOINT)")
            .option("--key-vault-url <url>", "the vault's URL, instead of https://<name>.<cloud suffix> (env ROTOR_KEY_VAULT_URL)")
            .option("--tenant <id>", "the tenant to sign in to (env AZURE_TENANT_ID)")
            .option("--dir <path>", "the Pulumi project directory", ".")
            .exitOverride();

    const liveModel = (options: { stack: string; dir: string }) => loadModel(path.resolve(io.cwd, options.dir), options.stack, io.now());
    // The live commands and their renderers load only when one of them runs: plan never pays for the Azure SDKs.
    const liveModule = () => lazy(() => require("./liveCommands") as typeof import("./liveCommands"), () => import("./liveCommands"));
    const liveIo = (): LiveIo => ({ env: io.env ?? {}, ...(io.credential ? { credential: io.credential } : {}), ...(io.progress ? { progress: io.progress } : {}), ...(io.onRequest ? { onRequest: io.onRequest } : {}) });

    live(
        program
            .command("status")
            .description("read the live tenant and Key Vault: what expires, what is stale or overdue, what was added by hand; exit 2 when something needs attention")
            .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
            .option("--within <days>", "report credentials expiring within this many days (default 30; also 14 and 7)", parseDays)
            .option("--all-apps", "also report expiring credentials of every application in the tenant")
            .addOption(formatOption(["table", "markdown", "json"])),
    ).action(async (options: LiveFlags & { stack: string; dir: string; within?: number; allApps?: boolean; format: OutputFormat }) => {
        const commands = await liveModule();
        const report = await commands.runStatus(liveModel(options), options, liveIo(), io.now());
        io.stdout(commands.renderStatus(report, options.format));
        setExit(report.exitCode);
    });

    live(
        program
            .command("verify")
            .description("sign in with what Key Vault serves for every rotating credential, as a consumer would; exit 2 when one fails")
            .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
            .option("--app <name>", "only this app's credentials")
            .addOption(formatOption(["table", "markdown", "json"])),
    ).action(async (options: LiveFlags & { stack: string; dir: string; app?: string; format: OutputFormat }) => {
        const model = liveModel(options);
        if (options.app && !model.apps.some((a) => a.name === options.app)) {
            throw new UsageError(`--app: the stack has no app "${options.app}"; its apps are ${model.apps.map((a) => a.name).join(", ")}`);
        }
        const commands = await liveModule();
        const report = await commands.runVerify(model, options, liveIo(), io.now());
        io.stdout(commands.renderVerify(report, options.format));
        setExit(report.exitCode);
    });

    live(
        program
            .command("doctor")
            .description("preflight before the first pulumi up: who is signed in and what it may do, the tenant's app management policy against the lifetimes, limits, the vault; exit 2 when a check fails")
            .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
            .addOption(formatOption(["table", "markdown", "json"])),
    ).action(async (options: LiveFlags & { stack: string; dir: string; format: OutputFormat }) => {
        const commands = await liveModule();
        const report = await commands.runDoctor(liveModel(options), options, liveIo());
        io.stdout(commands.renderDoctor(report, options.format));
        setExit(report.exitCode);
    });

    program
        .command("rotate-now")
        .description("emergency rotation of a leaked credential: prints (or with --yes runs) the pulumi up --replace that replaces the served slot at once")
        .requiredOption("--stack <name>", "the stack whose Pulumi.<stack>.yaml to read")
        .requiredOption("--app <name>", "the app")
        .requiredOption("--credential <name>", "the rotating credential (secret or generated certificate)")
        .option("--revoke-previous", "also replace the other slot (the previous value): BREAKING for consumers that still use it")
        .option("--yes", "run it now through the Pulumi Automation API (needs the Pulumi CLI, and cloud credentials)")
        .option("--dir <path>", "the Pulumi project directory", ".")
        .exitOverride()
        .action(async (options: { stack: string; app: string; credential: string; revokePrevious?: boolean; yes?: boolean; dir: string }) => {
            const { planRotateNow, automationRunner } = await lazy(() => require("./rotateNow") as typeof import("./rotateNow"), () => import("./rotateNow"));
            const projectDir = path.resolve(io.cwd, options.dir);
            const plan = planRotateNow(loadModel(projectDir, options.stack, io.now()), options.app, options.credential, options.revokePrevious ?? false, io.now());
            const text = [
                `Emergency rotation of ${plan.app}/${plan.credential} (${plan.type}) in stack ${plan.stack}:`,
                ...plan.consequences.map((c) => `  - ${c}`),
                "",
                options.yes ? "Running:" : "Run:",
                `  ${plan.command}`,
                "",
            ].join("\n");
            if (plan.revokePrevious) io.stderr("WARNING: --revoke-previous replaces both slots: consumers holding the previous value lose access now.\n");
            io.stdout(text);
            if (options.yes) await (io.rotateNowRunner ?? automationRunner)(plan, projectDir, (line) => io.stderr(line.endsWith("\n") ? line : `${line}\n`));
            setExit(exitCodes.ok);
        });

    program
        .command("summarize")
        .description("turn `pulumi preview --json` into a value-free pull-request comment on identity: credentials created, rotated, retired; permissions; breaking changes")
        .argument("<preview.json>", "the JSON of pulumi preview --json (- for standard input)")
        .addOption(new Option("--format <format>", "output format").choices(["markdown", "json"]).default("markdown"))
        .exitOverride()
        .action(async (file: string, options: { format: "markdown" | "json" }) => {
            const { parsePreviewDocument, renderSummary, summarizePreview } = await lazy(() => require("./summarize") as typeof import("./summarize"), () => import("./summarize"));
            const text = file === "-" ? await readStdin() : readPreviewFile(path.resolve(io.cwd, file), file);
            const source = file === "-" ? "standard input" : file;
            io.stdout(renderSummary(summarizePreview(parsePreviewDocument(text, source), { source }), options.format));
            setExit(exitCodes.ok);
        });

    return program;
}

function readPreviewFile(absolute: string, shown: string): string {
    try {
        return fs.readFileSync(absolute, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new UsageError(code === "ENOENT" ? `${shown}: no such file; write it with pulumi preview --json > ${shown}` : `${shown}: cannot be read (${code ?? String(error)})`);
    }
}

async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

/** The stack's model at `at`, or a ConfigError with every issue. */
function loadModel(projectDir: string, stack: string, at: Date): StackModel {
    const input = readStackConfig(projectDir, stack);
    const result = buildModel(input, at);
    if (!result.model) throw new ConfigError(result.issues, input.source);
    return result.model;
}

function parseDays(value: string): number {
    const days = Number(value);
    if (!/^\d+$/.test(value) || days < 1 || days > 730) throw new InvalidArgumentError("a whole number of days from 1 to 730");
    return days;
}

/** Runs the CLI and returns its exit code: 0 when fine, 1 on invalid config or usage. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
    let code: number = exitCodes.ok;
    const program = buildProgram(io, (c) => (code = c));
    try {
        await program.parseAsync([...args], { from: "user" });
        return code;
    } catch (error) {
        if (error instanceof CommanderError) {
            // 0 for --help and --version, 1 for usage errors (including no command at all).
            return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
        }
        if (error instanceof ConfigError) {
            io.stderr(`${error.message}\n`);
            const warnings = error.issues.filter((issue) => issue.severity === "warning");
            if (warnings.length) io.stderr(`warnings:\n${warnings.map((w) => `  ${formatIssue(w)}`).join("\n")}\n`);
            return exitCodes.error;
        }
        if (error instanceof GitBaseError || (error instanceof Error && error.name === "RotateNowError")) {
            io.stderr(`error: ${error.message}\n`);
            return exitCodes.error;
        }
        if (error instanceof Error && error.name === "PreviewDocumentError") {
            io.stderr(`${error.message}\n`);
            return exitCodes.error;
        }
        if (error instanceof UsageError) {
            io.stderr(`error: ${error.message}\n`);
            return exitCodes.error;
        }
        io.stderr(`rotor: ${error instanceof Error ? error.message : String(error)}\n`);
        return exitCodes.error;
    }
}

export function processIo(): CliIo {
    return {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        cwd: process.cwd(),
        now: () => new Date(),
        env: process.env,
        progress: () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { terminalProgress } = require("./live/progress") as typeof import("./live/progress");
            return terminalProgress(process.stderr);
        },
    };
}
