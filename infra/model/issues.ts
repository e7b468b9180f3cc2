import { visible } from "../../rotation/text";

/**
 * Config problems, reported all at once with the config path and the fix, e.g.
 * `apps[1].permissions[0].application[2]: unknown Microsoft Graph application permission "Mail.Sendd" (did you mean "Mail.Send"?)`.
 */
export type Severity = "error" | "warning";

export interface ConfigIssue {
    /** Where in the stack config, e.g. `apps[1].permissions[0].application[2]`. */
    readonly path: string;
    /** What is wrong and how to fix it. Never contains a secret value. */
    readonly message: string;
    readonly severity: Severity;
}

export type PathSegment = string | number;

/** `["apps", 1, "permissions"]` -> `apps[1].permissions`. */
export function formatPath(segments: readonly PathSegment[]): string {
    let path = "";
    for (const segment of segments) {
        if (typeof segment === "number") path += `[${segment}]`;
        else path += path === "" ? segment : `.${segment}`;
    }
    return path;
}

/** One issue on one line; a control character from the config (in a key or an echoed name) is shown as an escape. */
export function formatIssue(issue: ConfigIssue): string {
    return visible(issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`);
}

/** A collector that keeps issues in the order they are found. */
export class IssueList {
    readonly items: ConfigIssue[] = [];

    error(path: string, message: string): void {
        this.items.push({ path, message, severity: "error" });
    }

    warning(path: string, message: string): void {
        this.items.push({ path, message, severity: "warning" });
    }

    add(issues: Iterable<ConfigIssue>): void {
        for (const issue of issues) this.items.push(issue);
    }

    get errors(): ConfigIssue[] {
        return this.items.filter((issue) => issue.severity === "error");
    }

    get warnings(): ConfigIssue[] {
        return this.items.filter((issue) => issue.severity === "warning");
    }
}

/** Thrown when a stack config is invalid; carries every error, so one run shows them all. */
export class ConfigError extends Error {
    constructor(
        readonly issues: readonly ConfigIssue[],
        readonly source: string,
    ) {
        const errors = issues.filter((issue) => issue.severity === "error");
        const noun = errors.length === 1 ? "error" : "errors";
        super(`${source}: ${errors.length} config ${noun}:\n${errors.map((issue) => `  ${formatIssue(issue)}`).join("\n")}`);
        this.name = "ConfigError";
    }
}
