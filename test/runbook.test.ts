import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildModel } from "../infra/model/model";
import { rotor } from "./support/cli";
import { repoRoot } from "./support/program";

/** The runbook is followed under pressure: its commands must exist, and its config must be valid. */

const runbook = fs.readFileSync(path.join(repoRoot, "docs", "runbook.md"), "utf8");
const commands = [...runbook.matchAll(/(?:npx |`)rotor ([a-z-]+)((?: --[a-z-]+(?: [^\s`#|]+)?)*)/g)].map((m) => ({ command: m[1]!, options: [...m[2]!.matchAll(/--[a-z-]+/g)].map((o) => o[0]) }));

describe("docs/runbook.md", () => {
    it("uses status, verify, plan, rotate-now, doctor, import and retire", () => {
        expect(new Set(commands.map((c) => c.command))).toEqual(new Set(["status", "verify", "plan", "rotate-now", "doctor", "import", "retire"]));
    });

    it.each(commands.map((c) => [`${c.command} ${c.options.join(" ")}`, c] as const))("rotor %s exists with those options", async (_line, c) => {
        const help = await rotor([c.command, "--help"], { cwd: repoRoot });
        expect(help.code).toBe(0);
        for (const option of c.options) expect(help.stdout).toContain(option);
    });

    it("prints the rotate-now it describes", async () => {
        const run = await rotor(["rotate-now", "--stack", "dev", "--app", "mail-sender", "--credential", "main"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("pulumi up --stack dev --replace");
        expect(runbook).toContain("The served slot is replaced at once");
    });

    it("shows an adoption config that is valid", () => {
        const block = /```yaml\n([\s\S]*?)```/.exec(runbook)![1]!;
        const app = (parse(block.replace(/^ {3}/gm, "")) as unknown[])[0];
        const result = buildModel(
            { project: "entra-rotor", stack: "dev", values: { apps: [app], keyVault: { name: "kv-contoso-identity", resourceGroup: "rg-identity" } }, source: "runbook", baseDir: repoRoot },
            new Date("2027-03-01T00:00:00Z"),
        );
        expect(result.issues.filter((i) => i.severity === "error")).toEqual([]);
        expect(result.model!.apps[0]!.adopt).toBeDefined();
    });
});
