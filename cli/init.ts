import * as fs from "node:fs";
import * as path from "node:path";
import { isGuid } from "../infra/model/catalog";
import { keyVaultNameProblem } from "../infra/model/keyVault";
import { stackNameProblem } from "../infra/model/stackFiles";
import { type CliIo, displayPath, exitCodes, UsageError } from "./io";

export interface InitOptions {
    readonly stack: string;
    readonly tenant: string;
    readonly keyVault: string;
    readonly resourceGroup: string;
    readonly location?: string;
    readonly createVault?: boolean;
    readonly dir: string;
}

/** Azure's rule for resource group names: 1-90 letters, digits, `_`, `-`, `.`, `(`, `)`; not ending with `.`. */
export function resourceGroupNameProblem(name: string): string | undefined {
    if (!/^[-\w.()\p{L}\p{N}]{1,90}$/u.test(name) || name.endsWith(".")) {
        return `--resource-group ${JSON.stringify(name)}: a resource group name is 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'`;
    }
    return undefined;
}

/** Azure region names as the CLI and ARM spell them: `westeurope`, `eastus2`. */
export function locationProblem(location: string): string | undefined {
    return /^[a-z][a-z0-9]{1,39}$/.test(location) ? undefined : `--location ${JSON.stringify(location)}: an Azure region name such as westeurope or eastus2 (az account list-locations -o table)`;
}

/** Every problem with the options, all at once. */
export function initProblems(options: InitOptions): string[] {
    const problems: string[] = [];
    const stack = stackNameProblem(options.stack);
    if (stack) problems.push(`--stack ${stack}`);
    if (!isGuid(options.tenant)) problems.push(`--tenant ${JSON.stringify(options.tenant)}: the tenant id, a GUID (az account show --query tenantId)`);
    const vault = keyVaultNameProblem(options.keyVault);
    if (vault) problems.push(`--key-vault ${JSON.stringify(options.keyVault)}: ${vault}`);
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

/** The project file rotor init writes where there is none: the program of this installation, its runtime options. */
function projectFile(projectDir: string): string {
    const program = path.relative(projectDir, path.join(packageRoot(), "infra", "index.ts")).split(path.sep).join("/");
    return [
        "name: entra-rotor",
        "description: Entra ID app registrations as code, with credentials that rotate themselves into Azure Key Vault",
        "runtime:",
        "  name: nodejs",
        "  options:",
        "    typescript: true",
        "    # Keeps a large stack's memory near what is live (docs/performance.md).",
        "    nodeargs: --heap-growing-percent=50",
        `main: ${program}`,
        "",
    ].join("\n");
}

/** The stack file: the tenant, the vault, and one app to edit. Comments say what each part is for. */
export function stackFile(options: InitOptions): string {
    const vault = [
        "  # Where the served credentials live. The resource group must exist: the program does not create it.",
        "  entra-rotor:keyVault:",
        `    name: ${options.keyVault} # globally unique: another tenant's vault may already have this name`,
        `    resourceGroup: ${options.resourceGroup}`,
        ...(options.createVault ? ["    create: true # the stack creates the vault (Azure RBAC, purge protection)", `    location: ${options.location}`] : ["    # create: true, with location:, makes the stack create the vault; without, it must exist"]),
    ];
    return [
        `# Stack "${options.stack}" of entra-rotor, written by rotor init. Edit the apps, then: npx rotor plan --stack ${options.stack}`,
        "# Every key is explained in docs/config.md.",
        "config:",
        "  # The tenant the azuread provider signs in to (its own config key).",
        `  azuread:tenantId: ${options.tenant}`,
        ...vault,
        "  entra-rotor:rotation:",
        "    rotateEveryDays: 90 # a new value every 90 days",
        "    lifetimeDays: 210 # each valid for 210 (at most 730, or your tenant's app management policy)",
        "  entra-rotor:apps:",
        "    # Your first app registration: rename it, name its permissions, pick its credentials.",
        "    - name: my-integration # the stable key: names resources and the Key Vault secrets; never rename it",
        "      displayName: My Integration",
        "      permissions:",
        "        - api: Microsoft Graph",
        "          application: [User.Read.All] # least privilege: only what the integration calls",
        "      credentials:",
        "        # A client secret in two slots, rotated by the schedule, served as my-integration-main.",
        "        - name: main",
        "          type: secret",
        "        # Where the workload can present its own token, prefer no secret at all, e.g.:",
        "        # - name: github-production",
        "        #   type: federated",
        "        #   github: { repo: ORG/REPO, environment: production }",
        "",
    ].join("\n");
}

/** `rotor init`: writes `Pulumi.<stack>.yaml` (and `Pulumi.yaml` when absent); never overwrites a stack. */
export async function runInit(options: InitOptions, io: CliIo): Promise<number> {
    const problems = initProblems(options);
    if (problems.length) throw new UsageError(problems.join("\n"));
    const projectDir = path.resolve(io.cwd, options.dir);
    fs.mkdirSync(projectDir, { recursive: true });
    const written: string[] = [];
    const stackPath = path.join(projectDir, `Pulumi.${options.stack}.yaml`);
    const other = path.join(projectDir, `Pulumi.${options.stack}.yml`);
    if (fs.existsSync(other)) throw new Error(`${displayPath(io.cwd, other)} exists: stack ${options.stack} is already configured; edit it, or choose another --stack`);
    try {
        // "wx": fails if the file exists, even if it appeared since the check above.
        fs.writeFileSync(stackPath, stackFile(options), { flag: "wx" });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${displayPath(io.cwd, stackPath)} exists: stack ${options.stack} is already configured; edit it, or choose another --stack`);
        throw error;
    }
    written.push(displayPath(io.cwd, stackPath));
    const projectPath = path.join(projectDir, "Pulumi.yaml");
    if (!fs.existsSync(projectPath) && !fs.existsSync(path.join(projectDir, "Pulumi.yml"))) {
        fs.writeFileSync(projectPath, projectFile(projectDir), { flag: "wx" });
        written.push(displayPath(io.cwd, projectPath));
    }
    const dirFlag = options.dir === "." ? "" : ` --dir ${options.dir}`;
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
