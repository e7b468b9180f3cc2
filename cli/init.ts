import * as fs from "node:fs";
import * as path from "node:path";
import { Document, isMap, isScalar, type Node, Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import { isGuid } from "../infra/model/catalog";
import { keyVaultNameProblem } from "../infra/model/keyVault";
import { stackNameProblem } from "../infra/model/stackFiles";
import { type CliIo, displayPath, exitCodes, UsageError } from "./io";
import { visible } from "./output/escape";

export interface InitOptions {
    readonly stack: string;
    readonly tenant: string;
    readonly keyVault: string;
    readonly resourceGroup: string;
    readonly location?: string;
    readonly createVault?: boolean;
    readonly dir: string;
}

/**
 * A value from the command line as a message shows it: quoted, control and invisible characters as escapes
 * (`\u202e`, `\u001b`: a refused value must not reorder or rewrite the terminal it is echoed to), cut when long.
 */
function shown(value: string): string {
    const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return visible(JSON.stringify(cut));
}

/** A path as the messages show it: relative to where rotor runs when inside it, escaped like any echoed value. */
function shownPath(cwd: string, file: string): string {
    return visible(displayPath(cwd, file));
}

/** Azure's rule for resource group names: 1-90 letters, digits, `_`, `-`, `.`, `(`, `)`; not ending with `.`. */
export function resourceGroupNameProblem(name: string): string | undefined {
    if (!/^[-\w.()\p{L}\p{N}]{1,90}$/u.test(name) || name.endsWith(".")) {
        return `--resource-group ${shown(name)}: a resource group name is 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'`;
    }
    return undefined;
}

/** Azure region names as the CLI and ARM spell them: `westeurope`, `eastus2`. */
export function locationProblem(location: string): string | undefined {
    return /^[a-z][a-z0-9]{1,39}$/.test(location) ? undefined : `--location ${shown(location)}: an Azure region name such as westeurope or eastus2 (az account list-locations -o table)`;
}

/**
 * Why init will not take a stack name. Pulumi's own rule is stackNameProblem's: `^[A-Za-z0-9_.-]{1,100}$`
 * (validateStackName in pulumi/pulumi's pkg/backend/diy/backend.go, the same for the Pulumi Cloud backend), and
 * it lets `-rf` through. A name starting with '-' is refused here as well: init prints the commands to run next
 * (`rotor plan --stack -rf`, `pulumi stack select -rf --create`), and pulumi and rotor would read it as options.
 */
function initStackProblem(stack: string): string | undefined {
    if (stack.startsWith("-")) {
        return `--stack ${shown(stack)} starts with '-': pulumi and rotor would read it as an option in every command that names the stack; start the name with a letter or digit`;
    }
    const problem = stackNameProblem(stack);
    return problem === undefined ? undefined : `--stack ${problem}`;
}

/** Every problem with the options, all at once. */
export function initProblems(options: InitOptions): string[] {
    const problems: string[] = [];
    const stack = initStackProblem(options.stack);
    if (stack) problems.push(stack);
    if (!isGuid(options.tenant)) problems.push(`--tenant ${shown(options.tenant)}: the tenant id, a GUID (az account show --query tenantId)`);
    const vault = keyVaultNameProblem(options.keyVault);
    if (vault) problems.push(`--key-vault ${shown(options.keyVault)}: ${vault}`);
    const group = resourceGroupNameProblem(options.resourceGroup);
    if (group) problems.push(group);
    if (options.location !== undefined) {
        const location = locationProblem(options.location);
        if (location) problems.push(location);
    }
    if (options.createVault && options.location === undefined) problems.push("--create-vault needs --location: the region the vault is created in");
    return problems;
}

/** This installation of entra-rotor: the nearest folder above this module with its package.json. */
function packageRoot(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        try {
            if ((JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string }).name === "entra-rotor") return dir;
        } catch {
            // Not here: look higher.
        }
        if (path.dirname(dir) === dir) throw new Error("cannot find entra-rotor's own package.json above its modules");
    }
}

/**
 * A string from the command line (or the machine) as the files hold it: always double-quoted. Written plain,
 * YAML reads `true`, `null`, `0x1F`, `1e3` or `0o17` as something other than the string typed, and YAML 1.1
 * readers (Pulumi's own go-yaml among them for typed fields) also `yes`, `no`, `on` and `1:20`; quoted, every
 * reader reads the string. The yaml library writes the quotes and whatever escapes the value needs.
 */
function quoted(value: string): Scalar<string> {
    const scalar = new Scalar(value);
    scalar.type = Scalar.QUOTE_DOUBLE;
    return scalar;
}

/** Comment text as the yaml library takes it: one space after each `#`. */
function commentLines(...lines: readonly string[]): string {
    return lines.map((line) => ` ${line}`).join("\n");
}

/** A mapping's entry, by key (the documents below are built here, so a missing key is a bug). */
function entry(map: unknown, key: string): { key: Scalar; value: Node } {
    if (!isMap(map)) throw new Error(`rotor init: not a mapping where ${key} should be`);
    const pair = (map as YAMLMap).items.find((item) => isScalar(item.key) && item.key.value === key);
    if (!pair) throw new Error(`rotor init: no ${key} in the document it builds`);
    return pair as { key: Scalar; value: Node };
}

/** A comment on the lines above a key. */
function above(map: unknown, key: string, ...lines: readonly string[]): void {
    entry(map, key).key.commentBefore = commentLines(...lines);
}

/** A comment at the end of a value's line (or, for a block collection, on the lines after it). */
function after(map: unknown, key: string, ...lines: readonly string[]): void {
    entry(map, key).value.comment = commentLines(...lines);
}

const yamlOutput = { lineWidth: 0, flowCollectionPadding: false } as const;

/** The project file rotor init writes where there is none: the program of this installation, its runtime options. */
function projectFile(projectDir: string): string {
    const program = path.relative(projectDir, path.join(packageRoot(), "infra", "index.ts")).split(path.sep).join("/");
    const doc = new Document({
        name: "entra-rotor",
        description: "Entra ID app registrations as code, with credentials that rotate themselves into Azure Key Vault",
        runtime: { name: "nodejs", options: { typescript: true, nodeargs: "--heap-growing-percent=50" } },
        // A path of this machine: any characters its directories have.
        main: quoted(program),
    });
    const options = entry(entry(doc.contents, "runtime").value, "options").value;
    above(options, "nodeargs", "Keeps a large stack's memory near what is live (docs/performance.md).");
    return doc.toString(yamlOutput);
}

/** The stack file: the tenant, the vault, and one app to edit. Comments say what each part is for. */
export function stackFile(options: InitOptions): string {
    const keyVault: Record<string, unknown> = { name: quoted(options.keyVault), resourceGroup: quoted(options.resourceGroup) };
    if (options.createVault) {
        keyVault["create"] = true;
        if (options.location !== undefined) keyVault["location"] = quoted(options.location);
    }
    const doc = new Document({
        config: {
            "azuread:tenantId": quoted(options.tenant),
            "entra-rotor:keyVault": keyVault,
            "entra-rotor:rotation": { rotateEveryDays: 90, lifetimeDays: 210 },
            "entra-rotor:apps": [
                {
                    name: "my-integration",
                    displayName: "My Integration",
                    permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }],
                    credentials: [{ name: "main", type: "secret" }],
                },
            ],
        },
    });
    const root = doc.contents as YAMLMap;
    root.commentBefore = commentLines(
        `Stack "${options.stack}" of entra-rotor, written by rotor init. Edit the apps, then: npx rotor plan --stack ${options.stack}`,
        "Every key is explained in docs/config.md.",
    );
    const config = entry(root, "config").value;
    above(config, "azuread:tenantId", "The tenant the azuread provider signs in to (its own config key).");

    above(config, "entra-rotor:keyVault", "Where the served credentials live. The resource group must exist: the program does not create it.");
    const vault = entry(config, "entra-rotor:keyVault").value;
    after(vault, "name", "globally unique: another tenant's vault may already have this name");
    if (options.createVault) after(vault, "create", "the stack creates the vault (Azure RBAC, purge protection)");
    else vault.comment = commentLines("create: true, with location:, makes the stack create the vault; without, it must exist");

    const rotation = entry(config, "entra-rotor:rotation").value;
    after(rotation, "rotateEveryDays", "a new value every 90 days");
    after(rotation, "lifetimeDays", "each valid for 210 (at most 730, or your tenant's app management policy)");

    const app = (entry(config, "entra-rotor:apps").value as YAMLSeq).items[0] as YAMLMap;
    app.commentBefore = commentLines("Your first app registration: rename it, name its permissions, pick its credentials.");
    after(app, "name", "the stable key: names resources and the Key Vault secrets; never rename it");
    const permission = (entry(app, "permissions").value as YAMLSeq).items[0] as YAMLMap;
    const application = entry(permission, "application").value as YAMLSeq;
    application.flow = true;
    application.comment = commentLines("least privilege: only what the integration calls");
    const credentials = entry(app, "credentials").value as YAMLSeq;
    (credentials.items[0] as YAMLMap).commentBefore = commentLines("A client secret in two slots, rotated by the schedule, served as my-integration-main.");
    credentials.comment = commentLines(
        "Where the workload can present its own token, prefer no secret at all, e.g.:",
        "- name: github-production",
        "  type: federated",
        "  github: { repo: ORG/REPO, environment: production }",
    );
    return doc.toString(yamlOutput);
}

/** What a path holds, without following a link. */
type Entry =
    | { readonly kind: "none" | "file" | "directory" | "other" }
    | { readonly kind: "link"; readonly target: string; readonly dangling: boolean };

function entryAt(file: string): Entry {
    let stats: fs.Stats;
    try {
        stats = fs.lstatSync(file);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
        throw error;
    }
    if (stats.isSymbolicLink()) {
        let dangling = false;
        try {
            fs.statSync(file);
        } catch {
            // Its target is missing, or the links loop: either way nothing can be read through it.
            dangling = true;
        }
        return { kind: "link", target: fs.readlinkSync(file), dangling };
    }
    return { kind: stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other" };
}

/** A link as a message describes it: `a symbolic link to X` (`, which does not exist` when it resolves to nothing). */
function describeLink(link: { readonly target: string; readonly dangling: boolean }): string {
    return `a symbolic link to ${visible(link.target)}${link.dangling ? ", which does not exist" : ""}`;
}

/** Pulumi's project file names; the stack file takes the project file's extension. */
const projectFileNames = ["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"] as const;

/** What init will write, once every check has passed. */
interface InitWrites {
    readonly projectDir: string;
    /** The project directory does not exist yet. */
    readonly createDir: boolean;
    readonly stackPath: string;
    /** Set when the project has no project file yet. */
    readonly projectPath?: string;
}

/**
 * Every check of the files init would write, before it writes any: the project directory, the project file
 * (Pulumi.yaml, .yml or .json: a link that leads nowhere, a directory, or more than one is refused), and the
 * stack file in every format Pulumi reads, links included (lstat: a dangling link is something there too).
 *
 * The stack file takes the project file's extension, because that is where Pulumi looks for it
 * (DetectProjectStackPath in pulumi/pulumi's sdk/go/common/workspace/paths.go: `Pulumi.<stack>` plus
 * `filepath.Ext(projPath)`), so next to a Pulumi.yml it is Pulumi.<stack>.yml.
 */
function planWrites(options: InitOptions, cwd: string): InitWrites {
    const projectDir = path.resolve(cwd, options.dir);
    const dir = entryAt(projectDir);
    const dirShown = shownPath(cwd, projectDir);
    if (dir.kind === "link" && dir.dangling) throw new Error(`${dirShown} is ${describeLink(dir)}: --dir names the project directory; fix or remove the link`);
    const createDir = dir.kind === "none";
    if (!createDir) {
        let isDirectory = false;
        try {
            isDirectory = fs.statSync(projectDir).isDirectory();
        } catch {
            // Unreadable: said below like anything that is not a directory.
        }
        if (!isDirectory) throw new Error(`${dirShown} is not a directory: --dir names the project directory, which rotor init creates when it does not exist`);
    } else {
        // A parent that is a file, or a dangling link above, would fail mkdir after the checks: say so now.
        for (let parent = path.dirname(projectDir); ; parent = path.dirname(parent)) {
            if (entryAt(parent).kind === "none") {
                if (path.dirname(parent) === parent) break;
                continue;
            }
            let isDirectory = false;
            try {
                isDirectory = fs.statSync(parent).isDirectory();
            } catch {
                // A dangling link or an unreadable entry: said below like a file.
            }
            if (!isDirectory) throw new Error(`${shownPath(cwd, parent)} is not a directory, so --dir ${dirShown} cannot be created there`);
            break;
        }
    }

    const present = createDir ? [] : projectFileNames.map((name) => ({ name, entry: entryAt(path.join(projectDir, name)) })).filter((file) => file.entry.kind !== "none");
    for (const { name, entry } of present) {
        const shownFile = shownPath(cwd, path.join(projectDir, name));
        if (entry.kind === "link" && entry.dangling) {
            throw new Error(`${shownFile} is ${describeLink(entry)}: Pulumi cannot read the project from it; point it at the project file, or remove it to have rotor init write one`);
        }
        if (entry.kind === "directory") throw new Error(`${shownFile} is a directory, not a file: Pulumi reads the project from it; move it away to have rotor init write the project file`);
    }
    if (present.length > 1) {
        throw new Error(
            `this project has more than one project file (${present.map((file) => file.name).join(", ")}): Pulumi reads only one of them and the others mislead whoever reads the project; keep one, then run rotor init again`,
        );
    }
    const projectName = present[0]?.name ?? "Pulumi.yaml";
    const extension = path.extname(projectName);
    if (extension === ".json") {
        throw new Error(
            `${shownPath(cwd, path.join(projectDir, projectName))} is this project's file, so Pulumi reads stack ${options.stack} from Pulumi.${options.stack}.json, ` +
                `and rotor init writes YAML: convert the project file to Pulumi.yaml, or write the stack file yourself (docs/config.md)`,
        );
    }

    for (const format of [".yaml", ".yml", ".json"]) {
        const file = path.join(projectDir, `Pulumi.${options.stack}${format}`);
        const existing = createDir ? ({ kind: "none" } as const) : entryAt(file);
        if (existing.kind === "none") continue;
        const what = existing.kind === "link" ? ` (${describeLink(existing)})` : "";
        throw new Error(`${shownPath(cwd, file)} exists${what}: stack ${options.stack} is already configured; edit it, or choose another --stack`);
    }
    return {
        projectDir,
        createDir,
        stackPath: path.join(projectDir, `Pulumi.${options.stack}${extension}`),
        ...(present.length === 0 ? { projectPath: path.join(projectDir, "Pulumi.yaml") } : {}),
    };
}

/** Writes a file that must not exist ("wx": fails if it appeared since the checks, even as a dangling link). */
function writeNew(file: string, text: string, cwd: string, appeared: string): void {
    try {
        fs.writeFileSync(file, text, { flag: "wx" });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${shownPath(cwd, file)} ${appeared}`);
        throw error;
    }
}

/** A word of a command line as a shell reads it: quoted when it holds anything but the usual path characters. */
function shellWord(text: string): string {
    return visible(/^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);
}

/**
 * `rotor init`: writes `Pulumi.<stack>.yaml` (and `Pulumi.yaml` when the project has no project file); never
 * overwrites anything. Every check runs before the first write, and the files' text is made before it too, so a
 * refusal leaves the directory as it was.
 */
export async function runInit(options: InitOptions, io: CliIo): Promise<number> {
    const problems = initProblems(options);
    if (problems.length) throw new UsageError(problems.join("\n"));
    const writes = planWrites(options, io.cwd);
    const stackText = stackFile(options);
    const projectText = writes.projectPath === undefined ? undefined : projectFile(writes.projectDir);

    if (writes.createDir) fs.mkdirSync(writes.projectDir, { recursive: true });
    writeNew(writes.stackPath, stackText, io.cwd, `appeared while rotor init ran: stack ${options.stack} is already configured; edit it, or choose another --stack`);
    const written = [shownPath(io.cwd, writes.stackPath)];
    if (writes.projectPath !== undefined && projectText !== undefined) {
        try {
            writeNew(writes.projectPath, projectText, io.cwd, "appeared while rotor init ran; run rotor init again to check the project as it is now");
        } catch (error) {
            // All or nothing: a stack file without its project is not what was asked for.
            fs.rmSync(writes.stackPath, { force: true });
            throw error;
        }
        written.push(shownPath(io.cwd, writes.projectPath));
    }
    const dirFlag = options.dir === "." ? "" : ` --dir ${shellWord(options.dir)}`;
    io.stdout(
        [
            `Wrote ${written.join(" and ")}.`,
            "",
            "Next:",
            `  1. Edit the apps in ${written[0]}: permissions by name, credentials (docs/config.md).`,
            `  2. npx rotor plan --stack ${options.stack}${dirFlag} --since never (what the first pulumi up creates)`,
            `  3. The team's state and secrets (docs/pipelines.md), then pulumi stack select ${options.stack} --create and pulumi up.`,
            "",
        ].join("\n"),
    );
    return exitCodes.ok;
}
