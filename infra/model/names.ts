import { visible } from "../../rotation/text";

/**
 * Pulumi's rules for project and stack names (pkg/tokens: `ValidateProjectName` and the stack reference
 * check): 1-100 letters, digits, `-`, `_` and `.`. A stack name becomes part of a file name
 * (`Pulumi.<stack>.yaml`), so anything else (a `/`, `..`) would read a file outside the project; a project
 * name reaches the plan's headline and every tag, so it must not carry a line break into a review comment.
 */
const pulumiName = /^[A-Za-z0-9_.-]{1,100}$/;

function shown(name: string): string {
    return JSON.stringify(visible(name.length > 60 ? `${name.slice(0, 57)}...` : name));
}

/** Why `stack` is not a stack name, or undefined. */
export function stackNameProblem(stack: string): string | undefined {
    if (pulumiName.test(stack) && !/^\.+$/.test(stack)) return undefined;
    return `${shown(stack)} is not a stack name: up to 100 letters, digits, '-', '_' or '.' (Pulumi's rule; a stack is a name, not a path)`;
}

/** Why `project` (Pulumi.yaml's `name`) is not a project name, or undefined. */
export function projectNameProblem(project: string): string | undefined {
    if (pulumiName.test(project)) return undefined;
    return `${shown(project)} is not a Pulumi project name: 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule)`;
}
