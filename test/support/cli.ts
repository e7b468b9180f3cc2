import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { CliIo } from "../../cli/io";
import { main } from "../../cli/main";

export interface CliRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `rotor <args>` in-process with captured output and a fixed clock. */
export async function rotor(args: readonly string[], options: { cwd: string; now?: Date }): Promise<CliRun> {
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        cwd: options.cwd,
        now: () => options.now ?? new Date("2026-11-23T06:00:00Z"),
    };
    const code = await main(args, io);
    return { code, stdout, stderr };
}

let sample: string | undefined;

/**
 * A copy of the sample project (Pulumi.yaml, Pulumi.dev.yaml, certs/, examples/), made once per test file: tests
 * that depend on which stacks a project holds run there, so a stack a user added to the checkout (`rotor init
 * --stack prod`, as the README says) changes no test's outcome.
 */
export function sampleProject(): string {
    if (sample) return sample;
    const root = path.resolve(__dirname, "../..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-sample-"));
    for (const entry of ["Pulumi.yaml", "Pulumi.dev.yaml", "certs", "examples"]) fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
    sample = dir;
    return dir;
}

/** A throwaway Pulumi project directory with the given stack files. */
export function projectDir(stacks: Record<string, unknown>, project: Record<string, unknown> = { name: "entra-rotor", runtime: "nodejs" }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify(project));
    for (const [stack, doc] of Object.entries(stacks)) {
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), typeof doc === "string" ? doc : stringify(doc));
    }
    return dir;
}
