import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { initProblems, type InitOptions, stackFile } from "../cli/init";
import { keyVaultNameProblem } from "../infra/model/keyVault";
import { buildModel } from "../infra/model/model";
import { readStackConfig, stackNameProblem } from "../infra/model/stackFiles";
import { rotor } from "./support/cli";

const tenant = "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7";
const options: InitOptions = { stack: "prod", tenant, keyVault: "kv-acme-identity", resourceGroup: "rg-identity", dir: "." };
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "rotor-init-"));

describe("rotor init", () => {
    it("checks vault names against Key Vault's rules and says they are global", () => {
        for (const good of ["kv1", "kv-acme-identity", "a23456789012345678901234"]) expect(keyVaultNameProblem(good), good).toBeUndefined();
        for (const bad of ["kv", "1kv-acme", "kv-", "kv--acme", "kv_acme", "a234567890123456789012345", "kv.acme"]) {
            expect(keyVaultNameProblem(bad), bad).toMatch(/3-24 letters, digits or '-', starting with a letter, ending with a letter or digit, without consecutive hyphens; it must also be globally unique/);
        }
    });

    it("reports every bad option at once", () => {
        expect(initProblems({ ...options, stack: "../x", tenant: "contoso.com", keyVault: "kv--x", resourceGroup: "rg.", createVault: true })).toEqual([
            expect.stringMatching(/^--stack "\.\.\/x" is not a stack name/),
            expect.stringMatching(/^--tenant "contoso\.com": the tenant id, a GUID/),
            expect.stringMatching(/^--key-vault "kv--x": /),
            expect.stringMatching(/^--resource-group "rg\.": /),
            "--create-vault needs --location: the region the vault is created in",
        ]);
        expect(initProblems({ ...options, createVault: true, location: "West Europe" })).toEqual([expect.stringMatching(/^--location "West Europe": an Azure region name such as westeurope/)]);
        expect(initProblems(options)).toEqual([]);
    });

    it("writes a stack that passes rotor plan, with the tenant, the vault and a first app, and Pulumi.yaml only when absent", async () => {
        const dir = tempDir();
        const run = await rotor(["init", "--stack", "prod", "--tenant", tenant, "--key-vault", "kv-acme-identity", "--resource-group", "rg-identity", "--location", "westeurope", "--create-vault"], { cwd: dir });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("Wrote Pulumi.prod.yaml and Pulumi.yaml.");
        const stack = parse(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
        expect(stack.config["azuread:tenantId"]).toBe(tenant);
        expect(stack.config["entra-rotor:keyVault"]).toEqual({ name: "kv-acme-identity", resourceGroup: "rg-identity", create: true, location: "westeurope" });
        const project = parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name: string; runtime: { options: { nodeargs: string } }; main: string };
        expect(project.name).toBe("entra-rotor");
        expect(project.runtime.options.nodeargs).toBe("--heap-growing-percent=50");
        expect(fs.existsSync(path.resolve(dir, project.main))).toBe(true);
        const result = buildModel(readStackConfig(dir, "prod"), new Date("2027-03-01T00:00:00Z"));
        expect(result.issues).toEqual([]);
        expect(result.model!.apps.map((a) => a.name)).toEqual(["my-integration"]);
        // The next step it prints plans the stack's first pulumi up, as written.
        const next = /^ {2}2\. npx rotor (plan [^(]+?) \(/m.exec(run.stdout)![1]!;
        expect(next).toBe("plan --stack prod --since never");
        const planned = await rotor(next.split(" "), { cwd: dir });
        expect(planned.code).toBe(0);
        expect(planned.stdout).toMatch(/\(all 1 new: the stack's first deployment creates both slots of each\)/);
        // A second stack in the same project keeps the project file as it is.
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: entra-rotor\nruntime: nodejs\n");
        const second = await rotor(["init", "--stack", "staging", "--tenant", tenant, "--key-vault", "kv-acme-staging", "--resource-group", "rg-identity"], { cwd: dir });
        expect(second.stdout).toContain("Wrote Pulumi.staging.yaml.");
        expect(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).toBe("name: entra-rotor\nruntime: nodejs\n");
        expect((parse(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, unknown> }).config["entra-rotor:keyVault"]).toEqual({ name: "kv-acme-staging", resourceGroup: "rg-identity" });
    });

    it("never overwrites a stack, .yml included, and exits 1", async () => {
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yml"), "config: {}\n");
        const run = await rotor(["init", "--stack", "prod", "--tenant", tenant, "--key-vault", "kv-acme-identity", "--resource-group", "rg"], { cwd: dir });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Pulumi\.prod\.yml exists: stack prod is already configured/);
        expect(fs.readFileSync(path.join(dir, "Pulumi.prod.yml"), "utf8")).toBe("config: {}\n");
        expect(fs.existsSync(path.join(dir, "Pulumi.prod.yaml"))).toBe(false);
    });

    it("refuses a bad option with every problem and the command's help, writing nothing", async () => {
        const dir = tempDir();
        const run = await rotor(["init", "--stack", "prod", "--tenant", "x", "--key-vault", "k", "--resource-group", "rg"], { cwd: dir });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: --tenant "x": [^\n]*\n--key-vault "k": [^\n]*\n\(run rotor init --help for usage\)\n$/);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    it("writes the stack's comments and no secret", () => {
        const text = stackFile({ ...options, createVault: true, location: "westeurope" });
        expect(text).toContain("the program does not create it");
        expect(text).toContain("globally unique");
        expect(text).not.toMatch(/secure:|password|passphrase/i);
    });

    it("takes a stack for a name, never a path, in every command", async () => {
        for (const bad of ["../../tmp/x", "a/b", "..", "dev\n"]) expect(stackNameProblem(bad), JSON.stringify(bad)).toBeDefined();
        for (const good of ["dev", "prod.eu-west_2", "a".repeat(100)]) expect(stackNameProblem(good), good).toBeUndefined();
        const run = await rotor(["plan", "--stack", "../../tmp/x"], { cwd: tempDir() });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: --stack "\.\.\/\.\.\/tmp\/x" is not a stack name: /);
    });
});
