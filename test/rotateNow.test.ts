import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import type { CliIo } from "../cli/io";
import { main } from "../cli/main";
import { automationRunner, findOnPath, planRotateNow, type RotateNowPlan } from "../cli/rotateNow";
import { valueOf } from "./support/pulumiMocks";
import { repoRoot, sampleStack } from "./support/program";

const now = new Date("2027-03-01T06:00:00Z");
const model = buildModelOrThrow(sampleStack(), now);

/** The URN the engine gives a resource, by Pulumi's own rule (parent's type chain, then the type). */
async function engineUrn(chain: readonly [string, string][]): Promise<string> {
    let parent: pulumi.Output<string> | undefined;
    for (const [type, name] of chain) parent = pulumi.createUrn(name, type, parent, "entra-rotor", "dev");
    return valueOf(parent!);
}

async function run(args: string[], runner?: CliIo["rotateNowRunner"]) {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: repoRoot, now: () => now, ...(runner ? { rotateNowRunner: runner } : {}) });
    return { code, stdout, stderr };
}

describe("rotor rotate-now", () => {
    it("replaces the served slot of a secret, naming the resource as the engine does", async () => {
        const plan = planRotateNow(model, "mail-sender", "main", false, now);
        expect(plan).toMatchObject({ servedSlot: 0, otherSlot: 1, type: "secret" });
        expect(plan.urns).toEqual([
            await engineUrn([
                ["entra-rotor:index:AppRegistration", "mail-sender"],
                ["entra-rotor:index:ClientSecret", "mail-sender-main"],
                ["azuread:index/applicationPassword:ApplicationPassword", "mail-sender-main-slot0"],
            ]),
        ]);
        expect(plan.command).toBe(`pulumi up --stack dev --replace '${plan.urns[0]}' --continue-on-error`);
        expect(plan.consequences[1]).toBe("slot 1 (generation 11) is kept: it stays valid until 2027-04-12, its next turn. If it leaked as well, add --revoke-previous (breaking for consumers that still use it).");
    });

    it("replaces a certificate's key, certificate and key credential, and both slots with --revoke-previous", async () => {
        const plan = planRotateNow(model, "calendar-sync", "web", true, now);
        expect(plan.urns).toHaveLength(6);
        expect(plan.urns[0]).toBe(
            await engineUrn([
                ["entra-rotor:index:AppRegistration", "calendar-sync"],
                ["entra-rotor:index:ClientCertificate", "calendar-sync-web"],
                ["tls:index/privateKey:PrivateKey", `calendar-sync-web-slot${plan.servedSlot}-key`],
            ]),
        );
        expect(plan.urns.filter((u) => u.endsWith(`-slot${plan.otherSlot}`) || u.includes(`-slot${plan.otherSlot}-`))).toHaveLength(3);
        expect(plan.consequences[1]).toMatch(/^BREAKING: slot \d \(generation \d+\) is replaced too/);
    });

    it("prints the command, and warns loudly with --revoke-previous", async () => {
        const printed = await run(["rotate-now", "--stack", "dev", "--app", "mail-sender", "--credential", "main"]);
        expect(printed.code).toBe(0);
        expect(printed.stdout.split("\n")[0]).toBe("Emergency rotation of mail-sender/main (secret) in stack dev:");
        expect(printed.stdout).toContain("Run:\n  pulumi up --stack dev --replace 'urn:pulumi:dev::entra-rotor::");
        expect(printed.stdout).toMatch(/' --continue-on-error\n/);
        expect(printed.stderr).toBe("");
        const revoked = await run(["rotate-now", "--stack", "dev", "--app", "mail-sender", "--credential", "main", "--revoke-previous"]);
        expect(revoked.stderr).toBe("WARNING: --revoke-previous replaces both slots: consumers holding the previous value lose access now.\n");
    });

    it("runs the replacement with --yes, through the runner, with its output on stderr", async () => {
        const calls: RotateNowPlan[] = [];
        const done = await run(["rotate-now", "--stack", "dev", "--app", "device-inventory", "--credential", "importer", "--yes"], async (plan, workDir, onOutput) => {
            calls.push(plan);
            expect(workDir).toBe(repoRoot);
            onOutput("Updating (dev)");
        });
        expect(done.code).toBe(0);
        expect(calls.map((p) => p.urns.length)).toEqual([1]);
        expect(done.stdout).toContain("Running:\n  pulumi up --stack dev --replace");
        expect(done.stdout).toMatch(/' --continue-on-error\n/);
        expect(done.stderr).toBe("Updating (dev)\n");
    });

    it("says how to install the Pulumi CLI, before claiming to run anything, when --yes cannot find it", async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-path-"));
        let stdout = "";
        let stderr = "";
        const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: repoRoot, now: () => new Date("2027-03-01T06:00:00Z"), env: { PATH: empty } };
        const code = await main(["rotate-now", "--stack", "dev", "--app", "mail-sender", "--credential", "main", "--yes"], io);
        expect(code).toBe(1);
        expect(stdout).toBe("");
        expect(stderr).toMatch(/^rotor: --yes runs pulumi, which is not installed or not on PATH: install the Pulumi CLI \(https:\/\/www\.pulumi\.com\/docs\/install\/\), or run this yourself: pulumi up --stack dev --replace .* --continue-on-error$/m);
        expect(stderr.trimEnd().split("\n")).toHaveLength(1);
        fs.writeFileSync(path.join(empty, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
        expect(findOnPath("pulumi", { PATH: empty })).toBe(path.join(empty, "pulumi"));
    });

    it("refuses what cannot be rotated, saying what to do instead", async () => {
        expect((await run(["rotate-now", "--stack", "dev", "--app", "mail", "--credential", "main"])).stderr).toBe(
            'rotor: --app: the stack has no app "mail"; its apps are mail-sender, device-inventory, calendar-sync, ci-deployer, ci-preview\n',
        );
        const file = await run(["rotate-now", "--stack", "dev", "--app", "device-inventory", "--credential", "partner"]);
        expect(file.code).toBe(1);
        expect(file.stderr).toContain("is a certificate file: replace the file and its key with its owner");
        const federated = await run(["rotate-now", "--stack", "dev", "--app", "ci-deployer", "--credential", "github-production"]);
        expect(federated.stderr).toContain("is a federated credential: it has no secret to leak");
    });
});

describe("rotor rotate-now keeps going past an unrelated failure", () => {
    /**
     * A stand-in for the Pulumi CLI on PATH, which the Automation API runs: it records its arguments and answers
     * what the API reads back (its version, the stack's outputs and history). The Automation API itself is real.
     */
    function fakePulumi(): { dir: string; log: string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-fake-pulumi-"));
        const log = path.join(dir, "calls.log");
        const script = [
            "#!/bin/sh",
            `printf '%s\\n' "$*" >> '${log}'`,
            'case "$1 $2" in',
            '  version*) echo "v3.248.0" ;;',
            '  "stack output") echo "{}" ;;',
            '  "stack history") echo "[]" ;;',
            "esac",
            "",
        ].join("\n");
        fs.writeFileSync(path.join(dir, "pulumi"), script, { mode: 0o755 });
        return { dir, log };
    }

    it("prints a command with --continue-on-error, which the Pulumi CLI accepts since 3.114", () => {
        const plan = planRotateNow(model, "calendar-sync", "web", true, now);
        expect(plan.command.split(" ").slice(0, 4)).toEqual(["pulumi", "up", "--stack", "dev"]);
        expect(plan.command.endsWith(" --continue-on-error")).toBe(true);
        // Every URN still follows its --replace.
        expect(plan.command.match(/--replace /g)).toHaveLength(plan.urns.length);
    });

    it.skipIf(process.platform === "win32")("runs it with --yes through the Automation API with --continue-on-error", async () => {
        const { dir, log } = fakePulumi();
        const before = process.env["PATH"];
        process.env["PATH"] = `${dir}${path.delimiter}${before ?? ""}`;
        try {
            const plan = planRotateNow(model, "mail-sender", "main", false, now);
            await automationRunner(plan, repoRoot, () => undefined);
            const up = fs.readFileSync(log, "utf8").split("\n").find((line) => line.startsWith("up "));
            expect(up, fs.readFileSync(log, "utf8")).toBeDefined();
            const args = up!.split(" ");
            expect(args).toContain("--continue-on-error");
            expect(args.slice(args.indexOf("--replace"), args.indexOf("--replace") + 2)).toEqual(["--replace", plan.urns[0]]);
            expect(args).toContain("--stack");
        } finally {
            if (before === undefined) delete process.env["PATH"];
            else process.env["PATH"] = before;
        }
    });
});
