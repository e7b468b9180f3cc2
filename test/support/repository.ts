import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "./program";

/** git in `cwd`, with an identity and no signing, whatever the machine's git config says. */
export function git(cwd: string, ...args: string[]): string {
    return execFileSync("git", ["-c", "user.name=rotor-test", "-c", "user.email=rotor@example.com", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8" });
}

/** A throwaway repository holding the sample project, with the sample stack committed on `main`: a pull request's base. */
export function sampleRepository(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-repo-"));
    for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml", "certs/device-inventory-partner.cer"]) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, file), path.join(dir, file));
    }
    git(dir, "init", "--quiet", "--initial-branch=main");
    git(dir, "add", ".");
    git(dir, "commit", "--quiet", "-m", "base");
    return dir;
}
