import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "./issues";
import type { StackConfigInput } from "./model";

/**
 * Pulumi's rule for stack names: up to 100 letters, digits, `-`, `_` and `.`. A stack name becomes part of a
 * file name (`Pulumi.<stack>.yaml`), so anything else (a `/`, `..`) would read a file outside the project.
 */
export function stackNameProblem(stack: string): string | undefined {
    if (/^[A-Za-z0-9_.-]{1,100}$/.test(stack) && !/^\.+$/.test(stack)) return undefined;
    const shown = JSON.stringify(stack.length > 60 ? `${stack.slice(0, 57)}...` : stack);
    return `${shown} is not a stack name: up to 100 letters, digits, '-', '_' or '.' (Pulumi's rule; a stack is a name, not a path)`;
}

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
        throw fileError(shown(projectFile), `no Pulumi.yaml in ${displayPath(dir, cwd)}; run rotor from the project directory or pass --dir`);
    }
    const project = asMapping(readYaml(projectFile, shown(projectFile)), shown(projectFile));
    const projectName = project["name"];
    if (typeof projectName !== "string" || projectName === "") throw fileError(shown(projectFile), "name: required: the Pulumi project name");

    const configDir = typeof project["stackConfigDir"] === "string" ? path.join(dir, project["stackConfigDir"]) : dir;
    const stackFile = findStackFile(configDir, stack);
    if (!stackFile) {
        const available = listStacks(configDir);
        throw fileError(
            shown(path.join(configDir, `Pulumi.${stack}.yaml`)),
            `no config for stack "${stack}"; ${available.length ? `stacks here: ${available.join(", ")}` : "create Pulumi.<stack>.yaml"}`,
        );
    }

    const values: Record<string, unknown> = {};
    const projectConfig = project["config"];
    if (projectConfig !== undefined && projectConfig !== null) {
        for (const [key, declared] of Object.entries(asMapping(projectConfig, shown(projectFile)))) {
            const own = ownKey(key, projectName);
            if (own === undefined) continue;
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

    const stackDoc = asMapping(readYaml(stackFile, shown(stackFile)) ?? {}, shown(stackFile));
    const stackConfig = stackDoc["config"];
    if (stackConfig !== undefined && stackConfig !== null) {
        for (const [key, value] of Object.entries(asMapping(stackConfig, shown(stackFile)))) {
            const own = ownKey(key, projectName);
            if (own === undefined) continue;
            // Encrypted values are never needed offline; leaving them out keeps them out of every output.
            if (typeof value === "object" && value !== null && "secure" in value) continue;
            values[own] = value;
        }
    }
    return { project: projectName, stack, values, source: displayPath(stackFile, cwd), baseDir: dir };
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

function listStacks(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

function readYaml(file: string, shownAs: string): unknown {
    const doc = parseDocument(fs.readFileSync(file, "utf8"), { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
        throw new ConfigError(
            doc.errors.map((error): ConfigIssue => {
                const where = error.linePos?.[0];
                return { path: where ? `line ${where.line}, column ${where.col}` : "", message: error.message.split("\n")[0]!, severity: "error" };
            }),
            shownAs,
        );
    }
    return doc.toJS();
}

function asMapping(value: unknown, file: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw fileError(file, "expected a YAML mapping at the top level");
    return value as Record<string, unknown>;
}

function fileError(file: string, message: string): ConfigError {
    return new ConfigError([{ path: "", message, severity: "error" }], file);
}
