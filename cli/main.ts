import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type ConfigError, formatIssue } from "../infra/model/issues";
import { version } from "../package.json";
import { type CliIo, exitCodes, markdownFailureNotice } from "./io";

export { processIo } from "./io";
import { parseDays, parseInstant, parseParallel, parseSince } from "./options";
import type { OutputFormat } from "./output/table";

/**
 * The `rotor` command line. This module loads commander and nothing else: each command's module (and with
 * it the model, zod, yaml or the Azure SDKs) is imported only when that command runs, so `rotor --version`
 * and `rotor plan` pay only for what they use.
 */

const formats: readonly OutputFormat[] = ["table", "markdown", "json"];

function formatOption(): Option {
    return new Option("--format <format>", "output format").choices(formats).default("table", "table");
}

function stackOption(): Option {
    return new Option("--stack <name>", "the stack: reads Pulumi.<name>.yaml (required)").makeOptionMandatory();
}

/** `--stack`, or several: `--stacks a,b,c` or `--all-stacks`, for one table and one JSON document with the stack first. */
function stackSelectionOptions(command: Command): Command {
    return command
        .option("--stack <name>", "the stack: reads Pulumi.<name>.yaml (required: this, --stacks or --all-stacks)")
        .option("--stacks <names>", "several stacks, separated by commas: one table and one JSON document, the stack first")
        .option("--all-stacks", "every stack of the project (every Pulumi.<stack>.yaml), as with --stacks");
}

/** `--max-chars`: 0 (no limit) or a whole number of characters, at least 1,000 (less holds no useful comment). */
function parseMaxChars(value: string): number {
    const n = Number(value);
    if (!/^\d+$/.test(value) || (n !== 0 && n < 1000)) throw new InvalidArgumentError("0 (no limit) or a whole number of characters from 1000 up, e.g. 60000");
    return n;
}

/** The budget of a markdown review comment (plan and summarize). */
function maxCharsOption(): Option {
    return new Option(
        "--max-chars <n>",
        "with --format markdown: at most this many characters, so the comment posts (GitHub refuses one over 65,536): escalations and breaking changes first and whole, rows beyond the budget counted; 0: no limit, e.g. for the run summary (default: 60000)",
    ).argParser(parseMaxChars);
}

function dirOption(): Option {
    return new Option("--dir <path>", "the Pulumi project directory").default(".", "the current directory");
}

/** Options of the commands that read the tenant: where to sign in and what to read. */
function liveOptions(command: Command): Command {
    return command
        .option("--cloud <name>", "AzureCloud, AzureUSGovernment or AzureChinaCloud (default: AzureCloud; env ROTOR_CLOUD)")
        .option("--authority-host <url>", "the sign-in authority (default: the cloud's; env AZURE_AUTHORITY_HOST)")
        .option("--graph-endpoint <url>", "Microsoft Graph's root URL (default: the cloud's; env ROTOR_GRAPH_ENDPOINT)")
        .option("--key-vault-url <url>", "the vault's URL, or name=url pairs separated by commas for several stacks (default: https://<name>.<cloud's vault suffix>; env ROTOR_KEY_VAULT_URL)")
        .option("--tenant <id>", "the tenant to sign in to when the stack names none (azuread:tenantId wins and must agree; default: the signed-in one; env AZURE_TENANT_ID)");
}

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
    const program = new Command("rotor")
        .description("Entra ID app registrations as code, with credentials that rotate themselves")
        .version(version)
        .exitOverride()
        .configureOutput({
            writeOut: io.stdout,
            writeErr: io.stderr,
            // One prefix for every error, commander's usage errors included.
            outputError: (text, write) => write(text.replace(/^error: /, "rotor: ")),
        })
        .showHelpAfterError("(run rotor --help for usage)");

    /** A subcommand with its own pointer to its help; settings above are inherited. */
    const command = (name: string, description: string) => program.command(name).description(description).showHelpAfterError(`(run rotor ${name} --help for usage)`);
    const run = (promise: Promise<number>) => promise.then(setExit);

    stackSelectionOptions(command("plan", "print what a stack declares, offline: per app its permissions (type, API, tier, consent), credentials and their slots, warnings and refusals"))
        .option("--at <date>", "plan for this instant: YYYY-MM-DD (midnight UTC) or ISO-8601 (default: now)", parseInstant)
        .option("--since <date>", "the last successful run, which statuses are relative to (default: a day before --at); never: the stack's first deployment, which creates everything", parseSince)
        .option("--base <git-ref>", "show what changed since this git ref (e.g. origin/main) instead: apps, permissions (escalations first), credentials, breaking rotation changes")
        .addOption(formatOption())
        .addOption(maxCharsOption())
        .addOption(dirOption())
        .action((options) => run(import("./plan").then((m) => m.runPlan(options, io))));

    stackSelectionOptions(command("calendar", "list every scheduled rotation in a date range, offline: date, app, credential, slot, generation retired and created"))
        .option("--from <date>", "start of the range, inclusive: YYYY-MM-DD or ISO-8601 (default: now)", parseInstant)
        .option("--to <date>", "end of the range, exclusive (default: a year after --from)", parseInstant)
        .addOption(new Option("--format <format>", "output format; mermaid: a Gantt chart of the range").choices([...formats, "mermaid"]).default("table", "table"))
        .addOption(dirOption())
        .action((options) => run(import("./calendar").then((m) => m.runCalendar(options, io))));

    command("handoffs", "list the open hand-offs, offline from the schedule: per manual consumer, the credential and generation to copy, where Key Vault serves it (never the value), what to do, and the deadline")
        .addOption(stackOption())
        .option("--at <instant>", "the instant: YYYY-MM-DD or ISO-8601 (default: now)", parseInstant)
        .addOption(formatOption())
        .addOption(dirOption())
        .action((options) => run(import("./handoffs").then((m) => m.runHandoffs(options, io))));

    liveOptions(
        command("handoff-issues", "open a GitHub issue per open hand-off (found again by a hidden marker, never twice) and close it once the new value is in use (--usage) or a newer generation replaced it; needs GITHUB_TOKEN and GITHUB_REPOSITORY")
            .addOption(stackOption())
            .option("--usage", "close an issue once Entra's sign-in evidence shows the new value in use and the previous one unused (AuditLog.Read.All, Entra ID P1/P2)")
            .option("--used-within <days>", "with --usage: days without a sign-in with the previous value that show its consumers moved; longer than the consumer's own sign-in interval, 1 to 730 (default: 7)", parseDays)
            .option("--dry-run", "say what would be opened and closed, change nothing on GitHub")
            .addOption(formatOption())
            .addOption(dirOption()),
    ).action((options) => run(import("./handoffIssues").then((m) => m.runHandoffIssues(options, io))));

    liveOptions(
        stackSelectionOptions(command("status", "read the live tenant and Key Vault: what expires, what is stale or overdue, what was added by hand; exit 2 when something needs attention"))
            .option("--parallel <n>", "with --stacks or --all-stacks: tenants read at once, 1 to 32 (default: 16)", parseParallel)
            .option("--within <days>", "report credentials expiring within this many days, 1 to 730 (default: 30; also 14 and 7)", parseDays)
            .option("--all-apps", "also report expiring credentials of every application in the tenant")
            .option("--usage", "also show each credential's last sign-in (Entra's sign-in report; AuditLog.Read.All, Entra ID P1/P2) and flag a value replaced within --within days that consumers still use")
            .option("--used-within <days>", "with --usage: a sign-in within this many days counts as in use (default: 7)", parseDays)
            .addOption(formatOption())
            .addOption(dirOption()),
    ).action((options) => run(import("./status").then((m) => m.runStatus(options, io))));

    liveOptions(
        command("verify", "sign in with what Key Vault serves for every rotating credential, as a consumer would; exit 2 when one fails")
            .addOption(stackOption())
            .option("--app <name>", "only this app's credentials (default: every app)")
            .addOption(formatOption())
            .addOption(dirOption()),
    ).action((options) => run(import("./verify").then((m) => m.runVerify(options, io))));

    liveOptions(
        command("doctor", "preflight before the first pulumi up: who is signed in and what it may do, the tenant's app management policy against the lifetimes, limits, the vault; exit 2 when a check fails")
            .addOption(stackOption())
            .option("--subscription <id>", "the subscription of the vault's resource group, to check what the identity may do there (default: env ARM_SUBSCRIPTION_ID or AZURE_SUBSCRIPTION_ID)")
            .option("--management-endpoint <url>", "Azure Resource Manager's root URL (default: the cloud's; env ROTOR_MANAGEMENT_ENDPOINT)")
            .addOption(formatOption())
            .addOption(dirOption()),
    ).action((options) => run(import("./doctor").then((m) => m.runDoctor(options, io))));

    command("init", "write a stack of your own: Pulumi.<stack>.yaml with the tenant, the vault and a first app to edit (and Pulumi.yaml when there is none)")
        .addOption(new Option("--stack <name>", "the new stack's name (required)").makeOptionMandatory())
        .addOption(new Option("--tenant <id>", "the tenant id, a GUID (required)").makeOptionMandatory())
        .addOption(new Option("--key-vault <name>", "the vault that serves the credentials: 3-24 letters, digits or '-', globally unique (required)").makeOptionMandatory())
        .addOption(new Option("--resource-group <name>", "the resource group that holds the vault; it must exist (required)").makeOptionMandatory())
        .option("--location <region>", "the vault's Azure region, with --create-vault (e.g. westeurope)")
        .option("--create-vault", "the stack creates the vault (default: it must exist)")
        .addOption(dirOption())
        .action((options) => run(import("./init").then((m) => m.runInit(options, io))));

    command("rotate-now", "emergency rotation of a leaked credential: prints (or with --yes runs) the pulumi up --replace that replaces the served slot at once")
        .addOption(stackOption())
        .addOption(new Option("--app <name>", "the app (required)").makeOptionMandatory())
        .addOption(new Option("--credential <name>", "the rotating credential: a secret or generated certificate (required)").makeOptionMandatory())
        .option("--revoke-previous", "also replace the other slot (the previous value): BREAKING for consumers that still use it")
        .option("--yes", "run it now through the Pulumi Automation API (needs the Pulumi CLI, and cloud credentials)")
        .addOption(dirOption())
        .action((options) => run(import("./rotateNow").then((m) => m.runRotateNow(options, io))));

    command("summarize", "turn pulumi preview --json into a value-free review of identity changes: credentials created, rotated, retired; permissions; breaking changes")
        .argument("<preview.json>", "the output of pulumi preview --json (- for standard input)")
        .addOption(new Option("--format <format>", "output format").choices(formats).default("markdown", "markdown"))
        .addOption(maxCharsOption())
        .action((file: string, options) => run(import("./summarize").then((m) => m.runSummarize(file, options, io))));

    command(
        "import",
        "write a new stack from the tenant's app registrations, as Entra holds them: permissions by name, consent as granted, federated credentials as presets, existing secrets and certificates listed (read-only; never overwrites a stack)",
    )
        .addOption(new Option("--stack <name>", "the new stack's name: writes Pulumi.<name>.yaml, which must not exist (required)").makeOptionMandatory())
        .option("--tenant <id>", "the tenant to sign in to (default: the signed-in one; env AZURE_TENANT_ID)")
        .option("--app-id <ids...>", "only these applications, by client id (several, or separated by commas)")
        .option("--filter <odata>", "only the applications an OData $filter selects, e.g. \"startswith(displayName,'HR')\"")
        .option("--owned-by <objectId>", "only the applications this user or service principal owns")
        .option("--dry-run", "write nothing: print the stack file (yaml), the tenant report (table) or the report as JSON")
        .addOption(new Option("--format <format>", "what to print: the stack file, the tenant report sorted by what expires first, or JSON").choices(["yaml", "table", "json"]).default("yaml", "yaml"))
        .option("--cloud <name>", "AzureCloud, AzureUSGovernment or AzureChinaCloud (default: AzureCloud; env ROTOR_CLOUD)")
        .option("--authority-host <url>", "the sign-in authority (default: the cloud's; env AZURE_AUTHORITY_HOST)")
        .option("--graph-endpoint <url>", "Microsoft Graph's root URL (default: the cloud's; env ROTOR_GRAPH_ENDPOINT)")
        .addOption(dirOption())
        .action((options) => run(import("./import").then((m) => m.runImport(options, io))));

    liveOptions(
        command("retire", "remove the credentials made before the stack that it marks retire: true, once no sign-in with them is on record: a dry run unless --yes; exit 2 when one cannot be retired")
            .addOption(stackOption())
            .option("--used-within <days>", "a sign-in within this many days on record keeps a credential, 1 to 730 (default: 30)", parseDays)
            .option("--yes", "remove them (without it: a dry run that changes nothing)")
            .option("--force", "remove even when no usage evidence can be read (no Entra ID P1/P2, no AuditLog.Read.All), saying so loudly; never one with a recorded sign-in, never one of the stack's own")
            .addOption(formatOption())
            .addOption(dirOption()),
    ).action((options) => run(import("./retire").then((m) => m.runRetire(options, io))));

    return program;
}

/** Runs the CLI and returns its exit code: 0 when fine, 1 on invalid config or usage, 2 when a live check needs attention. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
    let code: number = exitCodes.ok;
    const program = buildProgram(io, (c) => (code = c));
    try {
        await program.parseAsync([...args], { from: "user" });
        return code;
    } catch (error) {
        if (error instanceof CommanderError) {
            // 0 for --help and --version, 1 for usage errors (including no command at all).
            if (error.exitCode === 0) return exitCodes.ok;
            writeFailureNotice(program, args, error.message.replace(/^error: /, ""), io);
            return exitCodes.error;
        }
        io.stderr(`rotor: ${describe(error, args)}\n`);
        writeFailureNotice(program, args, error instanceof Error ? error.message : String(error), io);
        // By name, not instanceof: each command is a bundle of its own, with its own copy of the classes.
        if (error instanceof Error && error.name === "ConfigError") {
            const warnings = (error as ConfigError).issues.filter((issue) => issue.severity === "warning");
            if (warnings.length) io.stderr(`warnings:\n${warnings.map((w) => `  ${formatIssue(w)}`).join("\n")}\n`);
        }
        if (io.env?.["ROTOR_DEBUG"] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
        return exitCodes.error;
    }
}

/**
 * A plan or summary asked for as markdown is a pull request's comment: when it fails, stdout gets a short
 * notice saying so and why (cli/io.ts), besides the error on stderr, and the exit code stays 1. The pipeline
 * posts stdout whatever happened, so the comment of an earlier push never stays up showing a plan that is no
 * longer true.
 */
function writeFailureNotice(program: Command, args: readonly string[], reason: string, io: CliIo): void {
    const name = args.find((arg) => !arg.startsWith("-"));
    if (name === undefined || formatOf(program, name, args) !== "markdown") return;
    const notice = markdownFailureNotice(name, reason);
    if (notice !== undefined) io.stdout(notice);
}

/** The format a command was run with: the last `--format` given (even one commander refused), else the command's default. */
function formatOf(program: Command, name: string, args: readonly string[]): unknown {
    let given: string | undefined;
    args.forEach((arg, i) => {
        if (arg === "--format") given = args[i + 1];
        else if (arg.startsWith("--format=")) given = arg.slice("--format=".length);
    });
    return given ?? program.commands.find((command) => command.name() === name)?.opts()["format"];
}

function describe(error: unknown, args: readonly string[]): string {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === "UsageError") {
        const name = args.find((arg) => !arg.startsWith("-"));
        return `${message}\n(run rotor ${name ? `${name} ` : ""}--help for usage)`;
    }
    return message;
}
