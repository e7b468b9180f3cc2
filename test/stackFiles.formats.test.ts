import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../infra/model/issues";
import { buildModelOrThrow } from "../infra/model/model";
import { projectStacks, readStackConfig, StackNotFoundError } from "../infra/model/stackFiles";
import { rotor } from "./support/cli";

/**
 * Issue 18 §1: Pulumi reads the project file as Pulumi.json, Pulumi.yaml or Pulumi.yml (the first it finds, in
 * that order) and the stack file in the project file's extension. A review that read another file than
 * Pulumi would show another config than the one deployed: a pull request that added Pulumi.json and
 * Pulumi.dev.json with a tier-0 permission got "no identity changes" from `plan --base`, which read only YAML.
 */

const at = new Date("2027-03-01T06:00:00Z");
const tier0 = "RoleManagement.ReadWrite.Directory";
const apps = [{ name: "mailer", permissions: [{ api: "Microsoft Graph", delegated: ["User.Read"] }] }];
const escalating = [{ name: "mailer", permissions: [{ api: "Microsoft Graph", application: [tier0] }], allowPrivileged: [{ permission: tier0, justification: "Assigns directory roles to the onboarding automation; reviewed quarterly." }] }];

function project(files: Record<string, unknown>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-formats-"));
    for (const [name, doc] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), typeof doc === "string" ? doc : name.endsWith(".json") ? JSON.stringify(doc, null, 2) : stringify(doc));
    }
    return dir;
}

const projectDoc = { name: "entra-rotor", runtime: "nodejs" };
const stackDoc = (values: unknown = apps) => ({ config: { "entra-rotor:apps": values } });

function configError(read: () => unknown): ConfigError {
    try {
        read();
    } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
    }
    throw new Error("expected a config error");
}

describe("values Pulumi's reader takes otherwise", () => {
    // go-yaml v3's resolve.go, which Pulumi decodes config objects with: 0777 is octal, 0b binary, underscores
    // dropped, dates timestamps. A review must read what the deployment reads, so the file says which is meant.
    it("refuses an unquoted octal, binary, underscored number or date, naming where, and takes each quoted", () => {
        const text = [
            "config:",
            "  entra-rotor:apps:",
            "    - name: mailer",
            "      credentials:",
            "        - name: main",
            "          type: secret",
            "          rotateEveryDays: 0100",
            "          lifetimeDays: 1_000",
            "      displayName: 2027-05-01",
            "      description: 0b101",
            "",
        ].join("\n");
        const dir = project({ "Pulumi.yaml": projectDoc, "Pulumi.dev.yaml": text });
        const error = configError(() => readStackConfig(dir, "dev"));
        // Where, as for every reading problem: the line and column of the value.
        expect(error.issues.map((i) => i.path)).toEqual(["line 7, column 28", "line 8, column 25", "line 9, column 20", "line 10, column 20"]);
        expect(error.issues[0]!.message).toContain("takes it as an octal number (0123 is 83)");
        expect(error.issues[2]!.message).toContain("2027-05-01 becomes 2027-05-01T00:00:00Z");
        const quoted = text.replace("0100", '"0100"').replace("1_000", '"1_000"').replace("2027-05-01", '"2027-05-01"').replace("0b101", '"0b101"');
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), quoted);
        expect(() => readStackConfig(dir, "dev")).not.toThrow();
        // What both readers take alike stays as it was: 0x1F, 0o17, 1e3, a full RFC 3339 time.
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  entra-rotor:a: 0x1F\n  entra-rotor:b: 0o17\n  entra-rotor:c: 1e3\n  entra-rotor:d: 2027-05-01T00:00:00Z\n  entra-rotor:e: 0\n");
        expect(() => readStackConfig(dir, "dev")).not.toThrow();
    });
});

describe("the files Pulumi reads", () => {
    it("reads a JSON project and stack, as null-prototype objects like YAML", () => {
        const dir = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": stackDoc() });
        const input = readStackConfig(dir, "dev");
        expect(input).toMatchObject({ project: "entra-rotor", values: { apps }, source: path.join(dir, "Pulumi.dev.json") });
        expect(Object.getPrototypeOf(input.values)).toBeNull();
        expect(Object.getPrototypeOf((input.values["apps"] as object[])[0])).toBeNull();
        expect(buildModelOrThrow(input, at).apps.map((app) => app.name)).toEqual(["mailer"]);
    });

    it("reads Pulumi.yml with Pulumi.<stack>.yml, and a byte order mark as Pulumi does", () => {
        const dir = project({ "Pulumi.yml": projectDoc, "Pulumi.dev.yml": stackDoc(), "Pulumi.bom.yml": `\ufeff${stringify(stackDoc([]))}` });
        expect(readStackConfig(dir, "dev").values).toEqual({ apps });
        expect(readStackConfig(dir, "bom").values).toEqual({ apps: [] });
        const json = project({ "Pulumi.json": `\ufeff${JSON.stringify(projectDoc)}`, "Pulumi.dev.json": `\ufeff${JSON.stringify(stackDoc())}` });
        expect(readStackConfig(json, "dev").values).toEqual({ apps });
    });

    it("refuses a project with more than one project file, naming them and the fix", () => {
        const dir = project({ "Pulumi.yaml": projectDoc, "Pulumi.json": projectDoc, "Pulumi.dev.yaml": stackDoc(), "Pulumi.dev.json": stackDoc() });
        const error = configError(() => readStackConfig(dir, "dev"));
        expect(error.issues).toEqual([
            expect.objectContaining({ message: expect.stringMatching(/^the project has 2 project files \(Pulumi\.json, Pulumi\.yaml\): Pulumi reads only Pulumi\.json .*keep one project file and delete the others$/) }),
        ]);
        expect(() => projectStacks(dir)).toThrow(/the project has 2 project files/);
        const three = project({ "Pulumi.yaml": projectDoc, "Pulumi.yml": projectDoc, "Pulumi.json": projectDoc });
        expect(() => projectStacks(three)).toThrow(/the project has 3 project files \(Pulumi\.json, Pulumi\.yaml, Pulumi\.yml\)/);
    });

    it("refuses two stack files for one stack, and a stack file in another format than the project file's (Pulumi would not read it)", () => {
        const both = project({ "Pulumi.yaml": projectDoc, "Pulumi.dev.yaml": stackDoc(), "Pulumi.dev.json": stackDoc(escalating) });
        expect(configError(() => readStackConfig(both, "dev")).issues[0]!.message).toMatch(
            /^stack "dev" has 2 stack files \(Pulumi\.dev\.json, Pulumi\.dev\.yaml\): Pulumi reads the stack's config from Pulumi\.dev\.yaml only \(the stack file takes the extension of the project file Pulumi\.yaml\).*keep one, named Pulumi\.dev\.yaml, and delete the others$/,
        );
        const other = project({ "Pulumi.yaml": projectDoc, "Pulumi.dev.yml": stackDoc() });
        const error = configError(() => readStackConfig(other, "dev"));
        expect(error).not.toBeInstanceOf(StackNotFoundError);
        expect(error.source).toBe(path.join(other, "Pulumi.dev.yml"));
        expect(error.issues[0]!.message).toMatch(/^is not read by Pulumi: Pulumi reads the stack's config from Pulumi\.dev\.yaml only .*; rename it to Pulumi\.dev\.yaml$/);
    });

    it("finds the stack files in stackConfigDir, also when the project names it with the deprecated string `config:`", () => {
        const dir = project({ "Pulumi.json": { ...projectDoc, config: "stacks" }, "stacks/Pulumi.dev.json": stackDoc() });
        expect(readStackConfig(dir, "dev").values).toEqual({ apps });
        expect(projectStacks(dir)).toEqual(["dev"]);
        const twice = project({ "Pulumi.yaml": { ...projectDoc, config: "stacks", stackConfigDir: "stacks" } });
        expect(() => projectStacks(twice)).toThrow(/config: names the stack config folder, and so does stackConfigDir/);
        const outside = project({ "Pulumi.yaml": { ...projectDoc, config: ".." } });
        expect(() => projectStacks(outside)).toThrow(/is outside the project directory/);
    });

    it("lists the stacks of every format for --all-stacks, so none is left out of a review", async () => {
        const dir = project({ "Pulumi.yaml": projectDoc, "Pulumi.a.yaml": stackDoc(), "Pulumi.b.yml": stackDoc(), "Pulumi.c.json": stackDoc(), "Pulumi.d.yaml": stackDoc(), "Pulumi.d.json": stackDoc() });
        expect(projectStacks(dir)).toEqual(["a", "b", "c", "d"]);
        const run = await rotor(["plan", "--all-stacks"], { cwd: dir, now: at });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("rotor: b: Pulumi.b.yml: 1 config error:\n  is not read by Pulumi");
        expect(run.stderr).toContain("rotor: c: Pulumi.c.json: 1 config error:\n  is not read by Pulumi");
        expect(run.stderr).toContain('stack "d" has 2 stack files (Pulumi.d.json, Pulumi.d.yaml)');
        expect(run.stdout).toMatch(/^4 stacks at .*; 3 with an invalid config$/m);
    });

    it("names the project file missing as before, and suggests a stack file in the project file's format", () => {
        const none = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-formats-"));
        expect(() => readStackConfig(none, "dev")).toThrow(/no Pulumi\.yaml in .* \(nor Pulumi\.yml or Pulumi\.json\); run rotor from the project directory or pass --dir/);
        const dir = project({ "Pulumi.json": projectDoc });
        const error = configError(() => readStackConfig(dir, "dev"));
        expect(error).toBeInstanceOf(StackNotFoundError);
        expect(error.issues[0]!.message).toBe('no config for stack "dev"; create Pulumi.<stack>.json');
    });

    it("reports JSON syntax errors with their line, never quoting the file", () => {
        const dir = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": '{\n  "config": {\n    "entra-rotor:apps": [1,]\n  }\n}' });
        const error = configError(() => readStackConfig(dir, "dev"));
        expect(error.issues).toHaveLength(1);
        expect(error.issues[0]!.message).toMatch(/^not valid JSON/);
        expect(error.issues[0]!.message).not.toContain("entra-rotor:apps");
        const top = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": "[]" });
        expect(configError(() => readStackConfig(top, "dev")).issues[0]!.message).toBe("expected a JSON object at the top level");
    });

    it("reads a JSON key __proto__ as a key like any other, never as the config's prototype", () => {
        const dir = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": '{"config": {"entra-rotor:apps": [], "entra-rotor:__proto__": {"polluted": true}}}' });
        const input = readStackConfig(dir, "dev");
        expect(Object.getPrototypeOf(input.values)).toBeNull();
        expect(Object.keys(input.values)).toEqual(["apps", "__proto__"]);
        expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    });
});

describe("ESC environments a stack imports", () => {
    const base = { "Pulumi.yaml": projectDoc };
    const stackWith = (environment: unknown) => project({ ...base, "Pulumi.dev.yaml": { environment, config: { "entra-rotor:apps": apps } } });

    it("reads the list form, in order, and the model carries it", () => {
        const input = readStackConfig(stackWith(["identity/common", "identity/prod@stable"]), "dev");
        expect(input.escEnvironments).toEqual(["identity/common", "identity/prod@stable"]);
        expect(buildModelOrThrow(input, at).escEnvironments).toEqual(["identity/common", "identity/prod@stable"]);
        expect(readStackConfig(project({ ...base, "Pulumi.dev.yaml": stackDoc() }), "dev").escEnvironments).toEqual([]);
        expect(readStackConfig(stackWith(null), "dev").escEnvironments).toEqual([]);
        expect(readStackConfig(stackWith([]), "dev").escEnvironments).toEqual([]);
    });

    it("reads an inline definition: its imports (names, or a name with options), and its own values as unreviewed too", () => {
        const input = readStackConfig(stackWith({ imports: ["identity/common", { "identity/prod": { merge: false } }], values: { pulumiConfig: { "entra-rotor:apps": escalating } } }), "dev");
        expect(input.escEnvironments).toEqual(["identity/common", "identity/prod", "inline definition in Pulumi.dev.yaml"]);
        expect(readStackConfig(stackWith({ imports: ["a/b"] }), "dev").escEnvironments).toEqual(["a/b"]);
    });

    it("reads them from a JSON stack file too", () => {
        const dir = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": { environment: ["identity/common"], config: { "entra-rotor:apps": apps } } });
        expect(readStackConfig(dir, "dev").escEnvironments).toEqual(["identity/common"]);
    });

    it("refuses names a pull request could use against the review: control characters, any length, any number, other shapes", () => {
        const issues = (environment: unknown) => configError(() => readStackConfig(stackWith(environment), "dev")).issues.map((i) => `${i.path}: ${i.message}`);
        expect(issues(["ok/env", "evil\n\nNo identity changes\n\n<!--"])).toEqual([expect.stringMatching(/^environment\[1\]: contains the control or invisible character U\+000A/)]);
        expect(issues(["x".repeat(300)])).toEqual([expect.stringMatching(/^environment\[0\]: is 300 characters; an ESC environment name is at most 256/)]);
        expect(issues(Array.from({ length: 101 }, (_, i) => `p/e${i}`))).toEqual([expect.stringMatching(/^environment: names 101 ESC environments; entra-rotor reads at most 100/)]);
        expect(issues([42, ""])).toEqual([expect.stringMatching(/^environment\[0\]: expected the name of an ESC environment/), expect.stringMatching(/^environment\[1\]: expected the name of an ESC environment/)]);
        expect(issues("identity/common")).toEqual([expect.stringMatching(/^environment: expected a list of ESC environment names, or an environment definition/)]);
        expect(issues({ imports: [{ a: {}, b: {} }], other: 1 })).toEqual([
            expect.stringMatching(/^environment\.imports\[0\]: expected the name of an ESC environment/),
            expect.stringMatching(/^environment\.other: is not part of an ESC environment definition \(imports, values\)/),
        ]);
        expect(issues({ imports: [{ "a\u202eb": {} }] })).toEqual([expect.stringMatching(/^environment\.imports\[0\]: contains the control or invisible character U\+202E/)]);
    });
});

describe("rotor plan --base reads the base as Pulumi does", () => {
    function git(cwd: string, ...args: string[]): string {
        return execFileSync("git", ["-c", "user.name=rotor-test", "-c", "user.email=rotor@example.com", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8" });
    }

    it("refuses the pull request that adds Pulumi.json and Pulumi.dev.json carrying a tier-0 permission (observed: no identity changes)", async () => {
        const dir = project({ "Pulumi.yaml": projectDoc, "Pulumi.dev.yaml": stackDoc() });
        git(dir, "init", "--quiet", "--initial-branch=main");
        git(dir, "add", ".");
        git(dir, "commit", "--quiet", "-m", "base");
        fs.writeFileSync(path.join(dir, "Pulumi.json"), JSON.stringify(projectDoc));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.json"), JSON.stringify(stackDoc(escalating)));
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "markdown"], { cwd: dir, now: at });
        expect(run.code).toBe(1);
        expect(run.stdout).not.toContain("no identity changes");
        expect(run.stdout).toMatch(/^## rotor plan failed\n/);
        expect(run.stderr).toContain("the project has 2 project files (Pulumi.json, Pulumi.yaml)");
    });

    it("compares JSON with JSON: a base in Pulumi.json and a head in Pulumi.json", async () => {
        const dir = project({ "Pulumi.json": projectDoc, "Pulumi.dev.json": stackDoc() });
        git(dir, "init", "--quiet", "--initial-branch=main");
        git(dir, "add", ".");
        git(dir, "commit", "--quiet", "-m", "base");
        fs.writeFileSync(path.join(dir, "Pulumi.dev.json"), JSON.stringify(stackDoc(escalating)));
        const run = await rotor(["plan", "--stack", "dev", "--base", "main", "--format", "json"], { cwd: dir, now: at });
        expect(run.stderr).toBe("");
        expect(JSON.parse(run.stdout).permissions).toContainEqual(expect.objectContaining({ app: "mailer", change: "added", name: tier0, tier: 0, escalation: true }));
    });
});
