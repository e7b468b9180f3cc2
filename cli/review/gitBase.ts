import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firstUnsafe, visible } from "../output/escape";

/**
 * The project as it is at another git ref, for `rotor plan --base`: checked out read-only into a
 * temporary worktree (certificate files and `stackConfigDir` resolve as they did there), then removed.
 *
 * Removed also when the run is interrupted: a pipeline that cancels a job sends SIGTERM (and a person at a
 * terminal SIGINT), and a worktree left registered makes the repository's `git worktree list` grow with
 * every cancelled run. Without a listener Node dies at once on those signals; with one, it delivers them to
 * JavaScript between steps, so the `finally` below always runs (the work is synchronous and short: the
 * command then finishes, and a signal delivered later ends it as the signal would have). Worktrees a killed
 * run (SIGKILL, a crash) left behind are pruned by the next run: each folder holds the id of the process
 * that made it, and one whose process is gone is removed.
 */

export class GitBaseError extends Error {}

/** The temporary folders' prefix; a folder holds `tree` (the worktree) and `pid`. */
export const baseDirPrefix = "rotor-base-";

function git(cwd: string, args: readonly string[]): string {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (error) {
        const stderr = (error as { stderr?: string }).stderr?.trim();
        throw new GitBaseError(stderr || (error instanceof Error ? error.message : String(error)));
    }
}

const exitSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const signalNumbers: Record<(typeof exitSignals)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Why `ref` cannot be a base: it reaches git's command line, so one starting with `-` would be read as an
 * option (`--output=...`); git's own ref rules (git check-ref-format) refuse control characters and spaces,
 * and no ref, commit id or `HEAD~n` is longer than a few hundred characters.
 */
export function refProblem(ref: string): string | undefined {
    const shown = JSON.stringify(visible(ref.length > 60 ? `${ref.slice(0, 57)}...` : ref));
    if (ref === "") return "needs a ref: a branch, tag or commit, e.g. origin/main";
    if (ref.startsWith("-")) return `${shown} starts with '-': git would read it as an option; name a branch, tag or commit, e.g. origin/main`;
    if (ref.length > 256 || /[\s\u0000-\u001f\u007f]/.test(ref) || firstUnsafe(ref)) return `${shown} is not a git ref: no spaces or control characters, at most 256 characters`;
    return undefined;
}

/** Runs `work` with the project directory as it is at `ref`; the temporary worktree is removed afterwards. */
export function withProjectAt<T>(projectDir: string, ref: string, work: (baseProjectDir: string) => T): T {
    let top: string;
    try {
        top = git(projectDir, ["rev-parse", "--show-toplevel"]);
    } catch {
        throw new GitBaseError(`--base needs a git repository: ${projectDir} is not in one`);
    }
    const badRef = refProblem(ref);
    if (badRef) throw new GitBaseError(`--base ${badRef}`);
    const prefix = git(projectDir, ["rev-parse", "--show-prefix"]);
    try {
        git(top, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
        throw new GitBaseError(`--base ${ref}: no such commit, branch or tag here (in a pipeline, fetch the base branch first, e.g. git fetch origin main)`);
    }
    pruneAbandoned(top);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), baseDirPrefix));
    const tree = path.join(dir, "tree");
    fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
    let cleaned = false;
    const cleanUp = () => {
        if (cleaned) return;
        cleaned = true;
        removeWorktree(top, dir);
    };
    const onSignal = (signal: (typeof exitSignals)[number]) => {
        cleanUp();
        process.exit(128 + signalNumbers[signal]);
    };
    for (const signal of exitSignals) process.on(signal, onSignal);
    try {
        git(top, ["worktree", "add", "--detach", "--quiet", tree, ref]);
        return work(path.join(tree, prefix));
    } finally {
        cleanUp();
        for (const signal of exitSignals) process.off(signal, onSignal);
    }
}

function removeWorktree(top: string, dir: string): void {
    const tree = path.join(dir, "tree");
    try {
        if (fs.existsSync(tree)) git(top, ["worktree", "remove", "--force", tree]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        // Drops the registration of a worktree whose folder is already gone.
        try {
            git(top, ["worktree", "prune"]);
        } catch {
            // Best effort: the next run prunes again.
        }
    }
}

/** Removes this repository's base worktrees whose run has ended without removing them (killed, crashed). */
export function pruneAbandoned(top: string): void {
    let listing: string;
    try {
        listing = git(top, ["worktree", "list", "--porcelain"]);
    } catch {
        return;
    }
    const tmp = realpathOr(os.tmpdir());
    for (const line of listing.split("\n")) {
        if (!line.startsWith("worktree ")) continue;
        const tree = line.slice("worktree ".length);
        const dir = path.dirname(tree);
        if (path.basename(tree) !== "tree" || !path.basename(dir).startsWith(baseDirPrefix) || realpathOr(path.dirname(dir)) !== tmp) continue;
        if (isRunning(readPid(dir))) continue;
        try {
            removeWorktree(top, dir);
        } catch {
            // Another run may be removing it at the same moment.
        }
    }
    try {
        git(top, ["worktree", "prune"]);
    } catch {
        // Best effort.
    }
}

function readPid(dir: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(dir, "pid"), "utf8").trim());
        return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Whether a process is alive; signal 0 checks without sending anything (EPERM: alive, another user's). */
function isRunning(pid: number | undefined): boolean {
    if (pid === undefined) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

function realpathOr(file: string): string {
    try {
        return fs.realpathSync(file);
    } catch {
        return file;
    }
}
