import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectNameProblem } from "../../infra/model/names";
import { projectStacks, readStackConfig } from "../../infra/model/stackFiles";
import { visible } from "../../rotation/text";

/**
 * Where `rotor import` writes the stack, checked before anything is read from the tenant: the project must
 * exist (its name is the config's namespace, its file's extension the stack file's), and no file of the stack
 * may exist in any format Pulumi reads, links included, as `rotor init` refuses: an import never overwrites a
 * stack someone wrote. The write itself refuses a file that appeared meanwhile (`wx`).
 */

export interface StackTarget {
    /** The project's name: the namespace of `<project>:apps`. */
    readonly project: string;
    /** The stack file to write: `Pulumi.<stack>.yaml` (or `.yml` beside a Pulumi.yml), in the stack config folder. */
    readonly file: string;
}

function shownPath(cwd: string, file: string): string {
    const relative = path.relative(cwd, file);
    return visible(relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? file : relative);
}

/** The project and the stack file to write; with `dryRun`, an existing stack is no refusal (nothing is written). */
export function stackTarget(projectDir: string, stack: string, cwd: string, dryRun: boolean): StackTarget {
    // Reads the project file (refusing none or several, and a stackConfigDir outside the project) and lists the
    // stack files of every format, dangling links included.
    const exists = projectStacks(projectDir, { cwd }).includes(stack);
    if (exists && !dryRun) {
        const found = ["yaml", "yml", "json"].map((ext) => path.join(projectDir, `Pulumi.${stack}.${ext}`)).find((file) => fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined);
        throw new Error(`${found ? shownPath(cwd, found) : `a stack file of ${stack}`} exists: stack ${stack} is already configured; rotor import writes a new stack: choose another --stack`);
    }
    let file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    try {
        readStackConfig(projectDir, stack, { cwd });
    } catch (error) {
        // Where Pulumi would look for the stack's file: its folder and the project file's extension.
        if (error instanceof Error && error.name === "StackNotFoundError") file = path.resolve(cwd, (error as Error & { source: string }).source);
        else if (!exists) throw error;
    }
    // A dry run writes nothing, so it serves a Pulumi.json project too (the refusal below suggests it).
    if (file.endsWith(".json") && !dryRun) {
        throw new Error(`this project's file is Pulumi.json, so Pulumi reads stack ${stack} from ${path.basename(file)}, and rotor import writes YAML: convert the project file to Pulumi.yaml, or import with --dry-run and convert its output`);
    }
    const projectFile = ["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"].map((name) => path.join(projectDir, name)).find((candidate) => fs.existsSync(candidate));
    const name = projectFile ? (parse(fs.readFileSync(projectFile, "utf8")) as { name?: unknown } | null)?.name : undefined;
    if (typeof name !== "string" || projectNameProblem(name) !== undefined) throw new Error(`${shownPath(cwd, projectFile ?? path.join(projectDir, "Pulumi.yaml"))}: name: a valid Pulumi project name is required`);
    return { project: name, file };
}

/** Writes the stack file, which must not exist ("wx": fails if it appeared since the checks, even as a dangling link). */
export function writeStack(target: StackTarget, text: string, cwd: string, stack: string): string {
    try {
        fs.writeFileSync(target.file, text, { flag: "wx" });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${shownPath(cwd, target.file)} appeared while rotor import ran: stack ${stack} is already configured; choose another --stack`);
        throw error;
    }
    return shownPath(cwd, target.file);
}
