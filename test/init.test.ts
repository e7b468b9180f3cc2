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
import { rawControl } from "./support/hostile";

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

/** The attacks of issue 18 on rotor init: values YAML reads as something else, links, option-like names, raw echoes. */
describe("rotor init, hostile input", () => {
    const args = (dir: string, overrides: Record<string, string> = {}) => {
        const given: Record<string, string> = { "--stack": "prod", "--tenant": tenant, "--key-vault": "kv-acme-identity", "--resource-group": "rg-identity", ...overrides };
        return ["init", ...Object.entries(given).flatMap(([flag, value]) => [`${flag}=${value}`]), "--dir", dir];
    };

    it("quotes every value YAML would read as something else, so the stack it writes passes its own plan", async () => {
        // YAML 1.2 (the yaml library, rotor) and 1.1 (older readers) read these plain as booleans, null, numbers.
        for (const group of ["true", "null", "0x1F", "1e3", "yes", "0o17", "1_000", "No", "NULL", ".5", "1:20"]) {
            const text = stackFile({ ...options, resourceGroup: group, keyVault: "null", createVault: true, location: "yes" });
            for (const version of ["1.2", "1.1"] as const) {
                const vault = (parse(text, { version }) as { config: Record<string, Record<string, unknown>> }).config["entra-rotor:keyVault"];
                expect(vault, `${group} (YAML ${version})`).toEqual({ name: "null", resourceGroup: group, create: true, location: "yes" });
            }
        }
        const dir = tempDir();
        const run = await rotor(args(dir, { "--resource-group": "true", "--key-vault": "null" }), { cwd: dir });
        expect(run.code, run.stderr).toBe(0);
        const result = buildModel(readStackConfig(dir, "prod"), new Date("2027-03-01T00:00:00Z"));
        expect(result.issues).toEqual([]);
        expect(result.model!.keyVault).toMatchObject({ name: "null", resourceGroup: "true" });
        // The helpful comments are still there, as YAML comments.
        const text = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
        expect(text).toMatch(/^# Stack "prod" of entra-rotor, written by rotor init/);
        expect(text).toMatch(/^ {4}name: "null" # globally unique/m);
        expect(text).toContain("#   type: federated");
    });

    it("refuses a value YAML or Azure cannot take, before writing anything", async () => {
        const dir = tempDir();
        const run = await rotor(args(dir, { "--resource-group": "~" }), { cwd: dir });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: --resource-group "~": a resource group name is/);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    it("checks every file it would write, links included, and writes nothing until all checks pass", async () => {
        // A dangling Pulumi.yaml link: the stack file used to be written, then a raw EEXIST.
        const dangling = tempDir();
        fs.symlinkSync(path.join(dangling, "nowhere.yaml"), path.join(dangling, "Pulumi.yaml"));
        const run = await rotor(args(dangling), { cwd: dangling });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Pulumi\.yaml is a symbolic link to [^\n]*nowhere\.yaml, which does not exist: /);
        expect(run.stderr).not.toContain("EEXIST");
        expect(fs.readdirSync(dangling).sort()).toEqual(["Pulumi.yaml"]);

        // A dangling link where the stack file goes, in any format Pulumi reads.
        for (const file of ["Pulumi.prod.yaml", "Pulumi.prod.yml", "Pulumi.prod.json"]) {
            const dir = tempDir();
            fs.symlinkSync(path.join(dir, "gone"), path.join(dir, file));
            const refused = await rotor(args(dir), { cwd: dir });
            expect(refused.code, file).toBe(1);
            expect(refused.stderr, file).toContain(`rotor: ${file} exists (a symbolic link to `);
            expect(fs.readdirSync(dir), file).toEqual([file]);
        }

        // A stack file in another format is the same stack.
        const json = tempDir();
        fs.writeFileSync(path.join(json, "Pulumi.prod.json"), "{}");
        const again = await rotor(args(json), { cwd: json });
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/^rotor: Pulumi\.prod\.json exists: stack prod is already configured/);
        expect(fs.readdirSync(json)).toEqual(["Pulumi.prod.json"]);

        // A directory where the project file would go.
        const blocked = tempDir();
        fs.mkdirSync(path.join(blocked, "Pulumi.yaml"));
        const directory = await rotor(args(blocked), { cwd: blocked });
        expect(directory.code).toBe(1);
        expect(directory.stderr).toMatch(/^rotor: Pulumi\.yaml is a directory, not a file: /);
        expect(fs.readdirSync(blocked)).toEqual(["Pulumi.yaml"]);

        // --dir naming a file.
        const file = path.join(tempDir(), "not-a-dir");
        fs.writeFileSync(file, "");
        const notDir = await rotor(args(file), { cwd: path.dirname(file) });
        expect(notDir.code).toBe(1);
        expect(notDir.stderr).toMatch(/^rotor: not-a-dir is not a directory: /);
    });

    it("writes the stack file in the project file's format, as Pulumi reads it, and refuses a project it cannot write for", async () => {
        // Pulumi looks for Pulumi.<stack> with the project file's extension (DetectProjectStackPath).
        const yml = tempDir();
        fs.writeFileSync(path.join(yml, "Pulumi.yml"), "name: entra-rotor\nruntime: nodejs\n");
        const run = await rotor(args(yml), { cwd: yml });
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain("Wrote Pulumi.prod.yml.");
        expect(fs.readdirSync(yml).sort()).toEqual(["Pulumi.prod.yml", "Pulumi.yml"]);

        const json = tempDir();
        fs.writeFileSync(path.join(json, "Pulumi.json"), '{"name": "entra-rotor", "runtime": "nodejs"}');
        const refused = await rotor(args(json), { cwd: json });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/^rotor: Pulumi\.json is this project's file, so Pulumi reads stack prod from Pulumi\.prod\.json/);
        expect(fs.readdirSync(json)).toEqual(["Pulumi.json"]);

        const both = tempDir();
        fs.writeFileSync(path.join(both, "Pulumi.yaml"), "name: entra-rotor\nruntime: nodejs\n");
        fs.writeFileSync(path.join(both, "Pulumi.yml"), "name: entra-rotor\nruntime: nodejs\n");
        const ambiguous = await rotor(args(both), { cwd: both });
        expect(ambiguous.code).toBe(1);
        expect(ambiguous.stderr).toMatch(/^rotor: this project has more than one project file \(Pulumi\.yaml, Pulumi\.yml\)/);
        expect(fs.readdirSync(both).sort()).toEqual(["Pulumi.yaml", "Pulumi.yml"]);
    });

    it("refuses option-like stack names, which pulumi and rotor would read as options in the commands it prints", async () => {
        for (const stack of ["-rf", "--help", "-"]) {
            expect(initProblems({ ...options, stack }), stack).toEqual([expect.stringMatching(/^--stack "-[^"]*" starts with '-'/)]);
        }
        const dir = tempDir();
        const run = await rotor(args(dir, { "--stack": "-rf" }), { cwd: dir });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: --stack "-rf" starts with '-'/);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    it("shows control and invisible characters of a refused value as escapes, never raw", async () => {
        const problems = initProblems({ ...options, tenant: "6f1a2b3c\u202e", keyVault: "kv\u200b-x", resourceGroup: "rg\u001b[2K", location: "west\u2066europe" });
        expect(problems).toHaveLength(4);
        expect(problems[0]).toMatch(/^--tenant "6f1a2b3c\\u202e": /);
        expect(problems[1]).toMatch(/^--key-vault "kv\\u200b-x": /);
        expect(problems[2]).toMatch(/^--resource-group "rg\\u001b\[2K": /);
        expect(problems[3]).toMatch(/^--location "west\\u2066europe": /);
        for (const problem of problems) expect(problem).not.toMatch(rawControl);
        // A megabyte of it is cut, not echoed whole.
        const [long] = initProblems({ ...options, tenant: `\u202e${"x".repeat(1_000_000)}` });
        expect(long!.length).toBeLessThan(400);

        const dir = tempDir();
        const run = await rotor(args(dir, { "--tenant": "6f1a2b3c\u202e-evil" }), { cwd: dir });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('--tenant "6f1a2b3c\\u202e-evil"');
        for (const line of run.stderr.split("\n")) expect(line).not.toMatch(rawControl);
        // What it prints on success escapes the directory it was given too.
        const odd = path.join(tempDir(), "odd\u202edir");
        const wrote = await rotor(args("odd\u202edir"), { cwd: path.dirname(odd) });
        expect(wrote.code, wrote.stderr).toBe(0);
        expect(wrote.stdout).toContain("odd\\u202edir");
        for (const line of wrote.stdout.split("\n")) expect(line).not.toMatch(rawControl);
    });
});
