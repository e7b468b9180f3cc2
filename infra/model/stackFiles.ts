import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "./issues";
import type { StackConfigInput } from "./model";
import { projectNameProblem, stackNameProblem } from "./names";
import { type ProjectFileRules, insideProject, readInsideProject } from "./projectFiles";
import { maxConfigDepth, nullPrototype } from "./rawInput";

export { stackNameProblem } from "./names";

/**
 * Reads a stack's config straight from `Pulumi.yaml` and `Pulumi.<stack>.yaml`, so the CLI computes the
 * same model as the program without the Pulumi CLI, a backend or any secret. Project-level values and
 * defaults from `Pulumi.yaml` apply first, the stack file overrides them, as Pulumi does.
 */
export function readStackConfig(dir: string, stack: string, options: { readonly cwd?: string } = {}): StackConfigInput {
    const cwd = options.cwd ?? process.cwd();
    const badStack = stackNameProblem(stack);
    if (badStack) throw new Error(`--stack ${badStack}`);
    const shown = (file: string) => displayPath(file, cwd);
    const projectFile = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) {
        throw new StackNotFoundError(shown(projectFile), `no Pulumi.yaml in ${displayPath(dir, cwd)}; run rotor from the project directory or pass --dir`);
    }
    const project = asMapping(readYaml(projectFile, dir, shown(projectFile)), shown(projectFile));
    const projectName = project["name"];
    if (typeof projectName !== "string" || projectName === "") throw fileError(shown(projectFile), "name: required: the Pulumi project name");
    const badProject = projectNameProblem(projectName);
    if (badProject) throw fileError(shown(projectFile), `name: ${badProject}`);

    const configDir = stackConfigDir(project, dir, shown(projectFile));
    const stackFile = findStackFile(configDir, stack);
    if (!stackFile) {
        const available = listStacks(configDir);
        throw new StackNotFoundError(
            shown(path.join(configDir, `Pulumi.${stack}.yaml`)),
            `no config for stack "${stack}"; ${available.length ? `stacks here: ${available.join(", ")}` : "create Pulumi.<stack>.yaml"}`,
        );
    }

    // Null-prototype: a key named __proto__ is a key like any other (and reported as unknown), never the
    // object's prototype, so the offline plan reads exactly what the program would.
    const values: Record<string, unknown> = Object.create(null);
    const secureKeys: string[] = [];
    const provider: { tenantId?: unknown; environment?: unknown } = {};
    const projectConfig = project["config"];
    if (projectConfig !== undefined && projectConfig !== null) {
        for (const [key, declared] of Object.entries(asMapping(projectConfig, shown(projectFile)))) {
            const own = ownKey(key, projectName);
            if (own === undefined) {
                readProviderKey(key, declaredValue(declared), provider);
                continue;
            }
            // Project config is either a plain value or a declaration with `value` or `default`.
            if (typeof declared === "object" && declared !== null && !Array.isArray(declared)) {
                const declaration = declared as Record<string, unknown>;
                if ("value" in declaration) values[own] = declaration["value"];
                else if ("default" in declaration) values[own] = declaration["default"];
            } else {
                values[own] = declared;
            }
        }
    }

    const stackDoc = asMapping(readYaml(stackFile, dir, shown(stackFile)) ?? {}, shown(stackFile));
    const stackConfig = stackDoc["config"];
    if (stackConfig !== undefined && stackConfig !== null) {
        for (const [key, value] of Object.entries(asMapping(stackConfig, shown(stackFile)))) {
            const own = ownKey(key, projectName);
            if (own === undefined) {
                readProviderKey(key, value, provider);
                continue;
            }
            // Encrypted values are never needed offline; leaving them out keeps them out of every output. Their
            // keys still count: an unknown or misplaced one is reported like any other.
            if (typeof value === "object" && value !== null && Object.hasOwn(value, "secure")) {
                secureKeys.push(own);
                continue;
            }
            values[own] = value;
        }
    }
    return { project: projectName, stack, values, secureKeys, provider, source: displayPath(stackFile, cwd), baseDir: dir };
}

/** The azuread provider's keys the model reads (its tenant and cloud); encrypted values stay unread. */
const providerKeys: Readonly<Record<string, "tenantId" | "environment">> = { "azuread:tenantId": "tenantId", "azuread:environment": "environment" };

function readProviderKey(key: string, value: unknown, provider: { tenantId?: unknown; environment?: unknown }): void {
    const field = providerKeys[key];
    if (field === undefined || value === undefined) return;
    if (typeof value === "object" && value !== null && Object.hasOwn(value, "secure")) return;
    provider[field] = value;
}

/** A project-level config entry: a plain value, or a declaration with `value` or `default`. */
function declaredValue(declared: unknown): unknown {
    if (typeof declared === "object" && declared !== null && !Array.isArray(declared)) {
        const declaration = declared as Record<string, unknown>;
        if (Object.hasOwn(declaration, "value")) return declaration["value"];
        if (Object.hasOwn(declaration, "default")) return declaration["default"];
        return undefined;
    }
    return declared;
}

/** Relative to the working directory when inside it, else absolute: the shortest unambiguous name. */
function displayPath(file: string, cwd: string): string {
    const relative = path.relative(cwd, file);
    if (relative === "") return ".";
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** `entra-rotor:apps` -> `apps` for the project's namespace; keys of other namespaces are not ours. */
function ownKey(key: string, project: string): string | undefined {
    const colon = key.indexOf(":");
    if (colon < 0) return key;
    return key.slice(0, colon) === project ? key.slice(colon + 1) : undefined;
}

function findStackFile(dir: string, stack: string): string | undefined {
    for (const ext of ["yaml", "yml"]) {
        const candidate = path.join(dir, `Pulumi.${stack}.${ext}`);
        if (fs.existsSync(candidate)) return candidate;
    }
    return undefined;
}

/**
 * The stacks of a project: every `Pulumi.<stack>.yaml` (or `.yml`) in its stack config directory whose name
 * is a stack name, sorted. For `--all-stacks`.
 */
export function projectStacks(dir: string, options: { readonly cwd?: string } = {}): string[] {
    const projectFile = path.join(dir, "Pulumi.yaml");
    const shownFile = displayPath(projectFile, options.cwd ?? process.cwd());
    if (!fs.existsSync(projectFile)) throw new StackNotFoundError(shownFile, `no Pulumi.yaml in ${displayPath(dir, options.cwd ?? process.cwd())}; run rotor from the project directory or pass --dir`);
    const project = asMapping(readYaml(projectFile, dir, shownFile), shownFile);
    const configDir = stackConfigDir(project, dir, shownFile);
    return [...new Set(listStacks(configDir).filter((stack) => stackNameProblem(stack) === undefined))];
}

function listStacks(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/**
 * The largest stack or project file read. A stack of 5,000 app registrations is about 3.5 MB; a file from a
 * pull request larger than this is refused before it is read, so parsing time and memory stay bounded.
 */
export const maxConfigFileBytes = 16 * 1024 * 1024;

/**
 * Where the stack files are: the project's `stackConfigDir`, which must stay inside the project (a
 * Pulumi.yaml from a pull request could point it anywhere), else the project directory.
 */
function stackConfigDir(project: Record<string, unknown>, dir: string, shownProjectFile: string): string {
    const configured = project["stackConfigDir"];
    if (typeof configured !== "string") return dir;
    const configDir = path.resolve(dir, configured);
    if (!insideProject(configDir, dir)) throw fileError(shownProjectFile, "stackConfigDir: is outside the project directory: stack files are read only from inside the project; give a folder of the project");
    return configDir;
}

const stackFileRules: ProjectFileRules = {
    maxBytes: maxConfigFileBytes,
    what: "a stack config file",
    outsideFix: "keep Pulumi.yaml and the stack files in the project, not linked from elsewhere",
    tooLarge: (size) => `is ${size} bytes; a stack config is at most ${maxConfigFileBytes} bytes (16 MiB), far more than thousands of app registrations need`,
};

function readYaml(file: string, projectDir: string, shownAs: string): unknown {
    const read = readInsideProject(file, projectDir, stackFileRules);
    if ("problem" in read) throw fileError(shownAs, read.problem);
    // yaml refuses alias expansion past its maxAliasCount (a "billion laughs" file) with an error of its own.
    const doc = parseDocument(read.bytes.toString("utf8"), { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
        throw new ConfigError(
            doc.errors.map((error): ConfigIssue => {
                const where = error.linePos?.[0];
                // The parser is recursive: a document nested thousands deep ends its descent with a RangeError.
                const message = /Maximum call stack/.test(error.message)
                    ? `nested too deeply to read; a stack config is a few levels deep (entra-rotor refuses more than ${maxConfigDepth})`
                    : error.message.split("\n")[0]!;
                return { path: where ? `line ${where.line}, column ${where.col}` : "", message, severity: "error" };
            }),
            shownAs,
        );
    }
    try {
        // Every mapping as a null-prototype object, made as the tree is converted (the reviver replaces each
        // mapping in its parent as it goes), so that rawInput.ts can take the config as it is instead of
        // holding a second copy of it (a 5,000-app stack's tree is tens of megabytes).
        return doc.toJS({ maxAliasCount: 100, reviver: (_key, value) => nullPrototype(value) });
    } catch (error) {
        if (error instanceof RangeError) throw fileError(shownAs, `nested too deeply to read; a stack config is a few levels deep (entra-rotor refuses more than ${maxConfigDepth})`);
        throw fileError(shownAs, (error as Error).message.split("\n")[0]!);
    }
}

function asMapping(value: unknown, file: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw fileError(file, "expected a YAML mapping at the top level");
    return value as Record<string, unknown>;
}

/** The project or the stack's file does not exist (as opposed to existing and being invalid). */
export class StackNotFoundError extends ConfigError {
    constructor(file: string, message: string) {
        super([{ path: "", message, severity: "error" }], file);
        this.name = "StackNotFoundError";
    }
}

function fileError(file: string, message: string): ConfigError {
    return new ConfigError([{ path: "", message, severity: "error" }], file);
}
