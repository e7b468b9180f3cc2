import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The project as it is at another git ref, for `rotor plan --base`: checked out read-only into a
 * temporary worktree (certificate files and `stackConfigDir` resolve as they did there), then removed.
 */

export class GitBaseError extends Error {}

function git(cwd: string, args: readonly string[]): string {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (error) {
        const stderr = (error as { stderr?: string }).stderr?.trim();
        throw new GitBaseError(stderr || (error instanceof Error ? error.message : String(error)));
    }
}

/** Runs `work` with the project directory as it is at `ref`; the temporary worktree is removed afterwards. */
export function withProjectAt<T>(projectDir: string, ref: string, work: (baseProjectDir: string) => T): T {
    let top: string;
    try {
        top = git(projectDir, ["rev-parse", "--show-toplevel"]);
    } catch {
        throw new GitBaseError(`--base needs a git repository: ${projectDir} is not in one`);
    }
    const prefix = git(projectDir, ["rev-parse", "--show-prefix"]);
    try {
        git(top, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
        throw new GitBaseError(`--base ${ref}: no such commit, branch or tag here (in a pipeline, fetch the base branch first, e.g. git fetch origin main)`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-base-"));
    const tree = path.join(dir, "tree");
    git(top, ["worktree", "add", "--detach", "--quiet", tree, ref]);
    try {
        return work(path.join(tree, prefix));
    } finally {
        git(top, ["worktree", "remove", "--force", tree]);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
