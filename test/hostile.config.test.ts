import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { joinChunks } from "../cli/output/chunks";
import { buildPlan, type PlanDocument, streamPlan } from "../cli/review/plan";
import { diffModels } from "../cli/review/planDiff";
import { renderPlan } from "../cli/review/renderPlan";
import { renderPlanDiff } from "../cli/review/renderPlanDiff";
import { buildModel, type StackConfigInput } from "../infra/model/model";
import { checkRawInput, maxConfigDepth, maxConfigStringLength } from "../infra/model/rawInput";
import { readStackConfig } from "../infra/model/stackFiles";
import { unsafeCharacters, visible } from "../rotation/text";
import { rotor } from "./support/cli";
import { controlFragments, hidingSuffix, markupFragments, rawHtmlOf, renderComment, tableRowCounts } from "./support/hostile";

/**
 * Issue 12's attacks on the stack config, which a pull request (from a fork, too) controls: each is refused
 * with its path, or shown inert. The plan's markdown is rendered as GitHub would (markdown-it, raw HTML on)
 * to prove that no name can hide the privileged permissions or the tables.
 */

const now = new Date("2026-11-30T06:00:00Z");
const tier0 = "RoleManagement.ReadWrite.Directory";
const justification = "Assigns directory roles to the onboarding automation; reviewed quarterly.";

function app(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: "legacy-app",
        displayName: "Legacy App",
        permissions: [{ api: "Microsoft Graph", application: [tier0] }],
        allowPrivileged: [{ permission: tier0, justification }],
        ...overrides,
    };
}

function input(values: Record<string, unknown>, project = "entra-rotor"): StackConfigInput {
    return { project, stack: "dev", values, source: "Pulumi.dev.yaml", baseDir: os.tmpdir() };
}

function errorsOf(values: Record<string, unknown>, project?: string): { path: string; message: string }[] {
    const result = buildModel(input(values, project), now);
    expect(result.model, "the config must be refused").toBeUndefined();
    return result.issues.filter((issue) => issue.severity === "error").map(({ path, message }) => ({ path, message }));
}

function markdownPlan(values: Record<string, unknown>): string {
    const result = buildModel(input(values), now);
    if (!result.model) throw new Error(result.issues.map((issue) => `${issue.path}: ${issue.message}`).join("\n"));
    return joinChunks(renderPlan(streamPlan(result.model), "markdown"));
}

describe("control characters and invisible marks in config strings", () => {
    const places: [string, (text: string) => Record<string, unknown>, string][] = [
        ["a federated subject", (t) => ({ apps: [app({ credentials: [{ name: "ci", type: "federated", issuer: "https://issuer.example.com", subject: `repo:contoso/app${t}` }] })] }), "apps[0].credentials[0].subject"],
        ["a federated issuer", (t) => ({ apps: [app({ credentials: [{ name: "ci", type: "federated", issuer: `https://issuer.example.com/${t}`, subject: "s" }] })] }), "apps[0].credentials[0].issuer"],
        ["a display name", (t) => ({ apps: [app({ displayName: `Legacy${t}App` })] }), "apps[0].displayName"],
        ["a description", (t) => ({ apps: [app({ description: `Legacy${t}` })] }), "apps[0].description"],
        ["a justification", (t) => ({ apps: [app({ allowPrivileged: [{ permission: tier0, justification: `${justification}${t}` }] })] }), "apps[0].allowPrivileged[0].justification"],
        ["a GitHub environment", (t) => ({ apps: [app({ credentials: [{ name: "ci", type: "federated", github: { repo: "contoso/app", environment: `prod${t}` } }] })] }), "apps[0].credentials[0].github.environment"],
        ["a Key Vault name", (t) => ({ apps: [app()], keyVault: { name: `kv${t}`, resourceGroup: "rg" } }), "keyVault.name"],
        ["a config key", (t) => ({ apps: [app({ [`notes${t}`]: "x" })] }), "apps[0]"],
    ];

    it.each(places)("refuses them in %s, naming the path and the character", (_, values, where) => {
        for (const fragment of controlFragments) {
            const errors = errorsOf(values(fragment));
            const found = errors.find((e) => e.path.startsWith(where) && /control or invisible character U\+[0-9A-F]{4}/.test(e.message));
            expect(found, `${JSON.stringify(fragment)} in ${where}: ${JSON.stringify(errors)}`).toBeDefined();
        }
    });

    it("refuses the observed attack: a subject that ends the comment's paragraph and opens an HTML comment", () => {
        const errors = errorsOf({ apps: [app({ credentials: [{ name: "ci", type: "federated", issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/app:ref:refs/heads/main${hidingSuffix}` }] })] });
        expect(errors).toContainEqual({ path: "apps[0].credentials[0].subject", message: expect.stringContaining("U+000A") });
        // The message names the character; it never repeats the text that carries it.
        for (const e of errors) expect(e.message).not.toContain("No privileged permission");
    });

    it("refuses a project name that is not Pulumi's kind of name (it reaches the headline)", async () => {
        expect(errorsOf({ apps: [app()] }, `entra-rotor${hidingSuffix}`)[0]!.message).toMatch(/^the project name ".*" is not a Pulumi project name/);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: `entra-rotor${hidingSuffix}`, runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config: { "entra-rotor:apps": [app()] } }));
        const run = await rotor(["plan", "--stack", "dev", "--format", "markdown"], { cwd: dir, now });
        expect(run.code).toBe(1);
        // As markdown, stdout is the failure notice that replaces an earlier review: escaped like the rest.
        expect(run.stdout).toMatch(/^## rotor plan failed\n/);
        expect(run.stdout).not.toMatch(/\n\n<!--/);
        expect(run.stderr).toContain("name: \"entra-rotor\\\\n\\\\nNo privileged permission is added.\\\\n\\\\n<!--\" is not a Pulumi project name");
        expect(run.stderr).not.toMatch(/\n\n<!--/);
    });

    it("shows control characters as escapes in every message, so a terminal never receives them", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config: { "entra-rotor:apps": [app({ displayName: "a\u001b[2Kb", ["x\u202ey"]: 1 })] } }));
        const run = await rotor(["plan", "--stack", "dev"], { cwd: dir, now });
        expect(run.code).toBe(1);
        expect(run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
        expect(run.stderr).toContain("apps[0].x\\u202ey: the key contains the control or invisible character U+202E");
        expect(run.stderr).toContain("apps[0].displayName: contains the control or invisible character U+001B");
    });
});

describe("look-alike issuers", () => {
    it.each([
        ["a Cyrillic o in GitHub's host", "https://token.actions.githubuserc\u043entent.com", "U+043E"],
        ["a punycode host", "https://xn--tken-5qa.actions.githubusercontent.com", "punycode"],
        ["a fullwidth letter", "https://token.actions.githubusercontent.\uff43om", ""],
    ])("refuses %s", (_, issuer, says) => {
        const errors = errorsOf({ apps: [app({ credentials: [{ name: "ci", type: "federated", issuer, subject: "repo:contoso/app:environment:production" }] })] });
        const issue = errors.find((e) => e.path === "apps[0].credentials[0].issuer");
        expect(issue?.message, JSON.stringify(errors)).toMatch(/non-ASCII|punycode|not an absolute URL/);
        if (says) expect(issue!.message).toContain(says);
    });
});

describe("prototype keys and config the offline plan would read differently from the program", () => {
    it.each(["__proto__", "constructor", "prototype"])("refuses %s as a config key, at the top level and nested", (key) => {
        const top = errorsOf(JSON.parse(`{"apps": [], ${JSON.stringify(key)}: {"rotateEveryDays": 1}}`) as Record<string, unknown>);
        expect(top).toContainEqual({ path: key, message: expect.stringContaining("prototype machinery") });
        const nested = errorsOf({ apps: [JSON.parse(`{"name": "legacy-app", ${JSON.stringify(key)}: {"displayName": "x"}}`) as Record<string, unknown>] });
        expect(nested).toContainEqual({ path: `apps[0].${key}`, message: expect.stringContaining("prototype machinery") });
    });

    it("reads entra-rotor:__proto__ from a stack file as a key like any other, never as the config's prototype", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(
            path.join(dir, "Pulumi.dev.yaml"),
            "config:\n  entra-rotor:__proto__:\n    rotation: { rotateEveryDays: 7, lifetimeDays: 30 }\n  entra-rotor:apps: []\n",
        );
        const read = readStackConfig(dir, "dev");
        expect(Object.getPrototypeOf(read.values)).toBeNull();
        expect(Object.keys(read.values)).toEqual(["__proto__", "apps"]);
        expect((read.values as Record<string, unknown>)["rotation"]).toBeUndefined();
        const run = await rotor(["plan", "--stack", "dev"], { cwd: dir, now });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('__proto__: the key "__proto__" is refused');
    });

    it("reads every mapping of a stack file as a null-prototype object, which is taken as it is when clean and still refused when not", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        const write = (apps: string) => fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), `config:\n  entra-rotor:apps:\n${apps}`);
        write("    - name: mail-sender\n      credentials:\n        - { name: main, type: secret }\n");
        const clean = readStackConfig(dir, "dev").values;
        const app = (clean["apps"] as Record<string, unknown>[])[0]!;
        expect([app, (app["credentials"] as object[])[0]].map(Object.getPrototypeOf)).toEqual([null, null]);
        // Nothing to refuse or cut: no second copy of the config.
        expect(checkRawInput(clean).values).toBe(clean);
        write("    - name: mail-sender\n      __proto__: { displayName: x }\n      credentials:\n        - { name: main, type: secret }\n");
        const hostile = readStackConfig(dir, "dev").values;
        const checked = checkRawInput(hostile);
        expect(checked.values).not.toBe(hostile);
        expect(checked.issues).toContainEqual(expect.objectContaining({ path: "apps[0].__proto__", message: expect.stringContaining("prototype machinery") }));
        // A plain object (the program's config, parsed JSON) is copied into null-prototype objects, refusals or not.
        const plain = { apps: [{ name: "mail-sender" }] };
        const copied = checkRawInput(plain).values;
        expect(Object.getPrototypeOf((copied["apps"] as object[])[0])).toBeNull();
    });

    it("reports unknown entra-rotor keys even when they are encrypted, and a known one that is", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(
            path.join(dir, "Pulumi.dev.yaml"),
            stringify({ config: { "entra-rotor:apps": [], "entra-rotor:rotaton": { secure: "v1:abc" }, "entra-rotor:keyVault": { secure: "v1:def" }, "azure-native:location": "westeurope" } }),
        );
        const run = await rotor(["plan", "--stack", "dev"], { cwd: dir, now });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('rotaton: unknown config key "entra-rotor:rotaton" (encrypted) (did you mean "entra-rotor:rotation"?)');
        expect(run.stderr).toContain("keyVault: is encrypted (secure:), but entra-rotor's settings hold no secret");
        expect(run.stderr).not.toContain("v1:");
    });

    it("bounds the epoch: not in the future (negative generations), not before 2000", () => {
        expect(errorsOf({ apps: [], rotation: { epoch: "2099-01-01T00:00:00Z" } })).toEqual([
            { path: "rotation.epoch", message: expect.stringContaining('epoch "2099-01-01T00:00:00Z" is in the future (now is 2026-11-30T06:00:00Z)') },
        ]);
        expect(errorsOf({ apps: [], rotation: { epoch: "1970-01-01T00:00:00Z" } })).toEqual([{ path: "rotation.epoch", message: expect.stringContaining("is before 2000-01-01T00:00:00Z") }]);
        expect(buildModel(input({ apps: [], rotation: { epoch: "2026-11-30T06:00:00Z" } }), now).model).toBeDefined();
    });

    it("names the path and the type of a wrong value, never the value (a secure one would be decrypted by then)", () => {
        const secret = "s3cr3t-client-secret-value~abc";
        const errors = errorsOf({ apps: [app({ owners: secret, adopt: secret })], keyVault: secret, rotation: secret });
        expect(errors.length).toBeGreaterThanOrEqual(4);
        for (const e of errors) expect(e.message, e.path).not.toContain(secret);
        expect(errors).toContainEqual({ path: "keyVault", message: expect.stringContaining("got a string") });
    });
});

describe("work bounded by the input's size", () => {
    it("refuses an over-long permission name at once, without searching the catalog for what it resembles", () => {
        const name = `Mail.Send${"x".repeat(200_000)}`;
        // Its time is in npm run bench. A search over ~1,000 names of 200 KB each takes minutes: the test's
        // timeout fails it, so finishing at all is the point here.
        const errors = errorsOf({ apps: [app({ permissions: [{ api: "Microsoft Graph", application: [name] }], allowPrivileged: [] })] });
        expect(errors).toEqual([{ path: "apps[0].permissions[0].application[0]", message: `is 200009 characters, longer than any entra-rotor setting (at most ${maxConfigStringLength}): shorten it` }]);
        for (const e of errors) expect(e.message.length).toBeLessThan(300);
    });

    it("refuses nesting past the bound with a clear message, whatever the depth", () => {
        let deep: unknown = "x";
        for (let i = 0; i < 5000; i++) deep = [deep];
        const errors = errorsOf({ apps: [app({ credentials: deep })] });
        expect(errors).toContainEqual({ path: expect.stringMatching(/^apps\[0\]\.credentials(\[0\])+$/), message: `is nested deeper than ${maxConfigDepth} levels, deeper than any entra-rotor setting: remove the nesting` });
    });

    it("reads a stack file nested 5,000 deep as an error, not a crash", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), `config:\n  entra-rotor:apps: ${"[".repeat(5000)}${"]".repeat(5000)}\n`);
        const run = await rotor(["plan", "--stack", "dev"], { cwd: dir, now });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("nested too deeply to read");
        expect(run.stderr).not.toContain("Maximum call stack");
    });

    it("refuses a stack file larger than the bound before reading it, and an alias bomb", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.big.yaml"), "");
        fs.truncateSync(path.join(dir, "Pulumi.big.yaml"), 16 * 1024 * 1024 + 1);
        const big = await rotor(["plan", "--stack", "big"], { cwd: dir, now });
        expect(big.code).toBe(1);
        expect(big.stderr).toContain("is 16777217 bytes; a stack config is at most 16777216 bytes");
        const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g", "h"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`), "config: {}"].join("\n");
        fs.writeFileSync(path.join(dir, "Pulumi.bomb.yaml"), bomb + "\n");
        const run = await rotor(["plan", "--stack", "bomb"], { cwd: dir, now });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/resource exhaustion|alias/i);
    });
});

describe("files outside the project", () => {
    it.each(["/etc/passwd", "../../../../etc/passwd", "/proc/self/environ", "/etc/shadow", "/nonexistent/x.pem"])("refuses the certificate file %s without looking at it", (file) => {
        const errors = errorsOf({ apps: [app({ credentials: [{ name: "partner", type: "certificate", file }] })] });
        expect(errors).toContainEqual({ path: "apps[0].credentials[0].file", message: `${file}: is outside the project directory: a certificate file is read only from inside the project; copy the public certificate into it and give its path relative to the project` });
    });

    it("refuses a stack name that is a path", async () => {
        for (const stack of ["../../tmp/x", "/etc/passwd", "a/b", ".."]) {
            const run = await rotor(["plan", "--stack", stack], { cwd: path.resolve(__dirname, ".."), now });
            expect(run.code, stack).toBe(1);
            expect(run.stderr, stack).toContain("is not a stack name");
        }
    });

    it("reads stack files only inside the project: no stackConfigDir outside it, no stack file linked from outside", async () => {
        const parent = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-"));
        const dir = path.join(parent, "project");
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(parent, "Pulumi.dev.yaml"), "config:\n  entra-rotor:apps: []\n");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs", stackConfigDir: ".." }));
        for (const args of [["plan", "--stack", "dev"], ["plan", "--all-stacks"]]) {
            const escaped = await rotor(args, { cwd: dir, now });
            expect(escaped.code, args.join(" ")).toBe(1);
            expect(escaped.stderr).toContain("rotor: Pulumi.yaml: 1 config error:\n  stackConfigDir: is outside the project directory");
        }
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.symlinkSync(path.join(parent, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
        const linked = await rotor(["plan", "--stack", "dev"], { cwd: dir, now });
        expect(linked.code).toBe(1);
        expect(linked.stderr).toContain("rotor: Pulumi.dev.yaml: 1 config error:\n  is outside the project directory: a stack config file is read only from inside the project");
        expect(linked.stderr).toContain("(it is a symbolic link that leads out of it)");
        // A link that stays inside is followed.
        fs.rmSync(path.join(dir, "Pulumi.dev.yaml"));
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "dev.yaml"), "config:\n  entra-rotor:apps: []\n");
        fs.symlinkSync(path.join("stacks", "dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
        expect((await rotor(["plan", "--stack", "dev"], { cwd: dir, now })).code).toBe(0);
    });
});

describe("the plan's markdown, rendered as GitHub renders a comment", () => {
    it("shows the privileged permission first and every table, whatever the names contain", () => {
        for (const fragment of markupFragments) {
            const markdown = markdownPlan({
                apps: [
                    app({
                        displayName: `Legacy ${fragment}`.slice(0, 256),
                        description: fragment,
                        allowPrivileged: [{ permission: tier0, justification: `${justification} ${fragment}` }],
                        permissions: [
                            { api: "Microsoft Graph", application: [tier0] },
                            ...(/\s/.test(fragment) ? [] : [{ api: "6f1a2d2e-6f3c-4a5b-9c7d-0e1f2a3b4c5d", application: [fragment] }]),
                        ],
                        credentials: [{ name: "ci-job", type: "federated", issuer: "https://issuer.example.com/x", subject: `repo:contoso/app:${fragment.replace(/\*/g, "+")}`.trim() }],
                    }),
                ],
            });
            const html = renderComment(markdown);
            const lines = markdown.split("\n");
            expect(lines.slice(0, 4), fragment).toEqual(["## Credential plan", "", "> [!WARNING]", "> **Privileged application permissions:**"]);
            expect(html, fragment).toContain(`legacy-app: ${tier0} on Microsoft Graph (tier 0, justified)`);
            expect(rawHtmlOf(markdown), fragment).toEqual([]);
            expect(tableRowCounts(markdown), fragment).toEqual([/\s/.test(fragment) ? 1 : 2, 1]);
            expect(html, fragment).not.toMatch(/<!--|<script|<img|<a |<details|<h1/);
            // A mention needs an @ directly before the name; a zero-width space breaks it. GitHub mentions
            // no one inside code, where subjects are shown as written.
            expect(withoutCode(html), fragment).not.toMatch(/@contoso/);
        }
    });

    it("shows each name as written: escaped, not dropped", () => {
        // Mentions and issue references (`#60`) are shown with a zero-width space inside, so GitHub links nothing.
        for (const fragment of markupFragments.filter((f) => !f.includes("@") && !/#\d/.test(f))) {
            const html = renderComment(markdownPlan({ apps: [app({ displayName: `Legacy ${fragment}` })] }));
            const heading = /<h3>(.*)<\/h3>/.exec(html)?.[1] ?? "";
            expect(decodeEntities(heading), fragment).toBe(`legacy-app (Legacy ${fragment})`);
        }
    });

    it("in plan --base too: the escalation first, tables intact, names inert", () => {
        for (const fragment of markupFragments) {
            const base = buildModel(input({ apps: [app({ permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }], allowPrivileged: [] })] }), now).model!;
            const head = buildModel(
                input({
                    apps: [
                        app({
                            displayName: `Legacy ${fragment}`,
                            allowPrivileged: [{ permission: tier0, justification: `${justification} ${fragment}` }],
                            credentials: [{ name: "ci-job", type: "federated", issuer: "https://issuer.example.com/x", subject: `repo:contoso/app:${fragment.replace(/\*/g, "+")}`.trim() }],
                        }),
                    ],
                }),
                now,
            ).model!;
            const markdown = renderPlanDiff(diffModels(base, head, `main${fragment.replace(/\s/g, "")}`), "markdown");
            expect(markdown.split("\n").slice(0, 5), fragment).toEqual(["## Identity plan", "", "> [!WARNING]", "> **Privileged permissions added:**", `> - legacy-app: ${tier0} on Microsoft Graph (tier 0)`]);
            expect(rawHtmlOf(markdown), fragment).toEqual([]);
            // Permissions: the tier-0 addition and User.Read.All's removal; credentials: the federated one.
            expect(tableRowCounts(markdown), fragment).toEqual([2, 1]);
            expect(renderComment(markdown), fragment).not.toMatch(/<!--|<script|<img|<a /);
            expect(withoutCode(renderComment(markdown)), fragment).not.toMatch(/@contoso/);
        }
    });

    it("holds for arbitrary display names and justifications the config accepts (property)", () => {
        const punctuation = ["<", ">", "|", "`", "\\", "[", "]", "!", "@", "&", "*", "_", "~", "#"];
        const dangerous = fc.constantFrom(...markupFragments, ...punctuation);
        const text = fc.array(fc.oneof(dangerous, fc.string({ unit: "grapheme", maxLength: 8 })), { maxLength: 8 }).map((parts) => parts.join(""));
        let runs = 0;
        let withMarkup = 0;
        fc.assert(
            fc.property(text, text, (displayName, extra) => {
                const values = { apps: [app({ displayName: `x${displayName}`.slice(0, 256), allowPrivileged: [{ permission: tier0, justification: `${justification}${extra}`.slice(0, 1024) }] })] };
                const result = buildModel(input(values), now);
                fc.pre(result.model !== undefined);
                runs++;
                if ([displayName, extra].some((t) => punctuation.some((p) => t.includes(p)) || markupFragments.some((f) => t.includes(f)))) withMarkup++;
                const markdown = joinChunks(renderPlan(streamPlan(result.model!), "markdown"));
                expect(markdown.split("\n").slice(0, 5)).toEqual(["## Credential plan", "", "> [!WARNING]", "> **Privileged application permissions:**", `> - legacy-app: ${tier0} on Microsoft Graph (tier 0, justified)`]);
                expect(rawHtmlOf(markdown)).toEqual([]);
                expect(tableRowCounts(markdown)).toEqual([1]);
            }),
            { numRuns: 300 },
        );
        // The property is about markup: most accepted samples must carry some.
        expect(withMarkup / runs).toBeGreaterThan(0.5);
    });

    it("keeps the text table free of control characters whatever reaches it", () => {
        // The model refuses control characters (above), so none reaches the renderer from a config: they are put
        // into the plan itself, in every string a stack file writes, to hold the renderer's own guard.
        const marker = "zqmarkzq";
        const result = buildModel(
            input({
                keyVault: { name: "kv-hostile", resourceGroup: "rg" },
                apps: [
                    app({
                        name: marker,
                        displayName: `Legacy ${marker}`,
                        allowPrivileged: [{ permission: tier0, justification: `${justification} ${marker}` }],
                        permissions: [
                            { api: "Microsoft Graph", application: [tier0] },
                            { api: "6f1a2d2e-6f3c-4a5b-9c7d-0e1f2a3b4c5d", application: [marker] },
                        ],
                        credentials: [
                            { name: marker, type: "secret" },
                            { name: `ci-${marker}`, type: "federated", issuer: `https://issuer.example.com/${marker}`, subject: `repo:contoso/app:environment:${marker}` },
                        ],
                    }),
                ],
            }),
            now,
        );
        const plan = { ...buildPlan(result.model!), project: marker, stack: marker };
        const table = (p: PlanDocument) => joinChunks(renderPlan(p, "table"));
        const lines = table(plan).split("\n");
        // The headline, the privileged permission, the app's line, a permission, credential and federated row, a warning.
        expect(lines.filter((line) => line.includes(marker))).toHaveLength(7);

        const unsafe = fc.oneof(
            fc.constantFrom(...controlFragments, "\u009b", "\u200f", "\u2029", "\u202a", "\u2060", "\u2069", "\ufeff"),
            fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })).map((code) => String.fromCharCode(code)),
        );
        const text = fc.array(fc.oneof(unsafe, fc.string({ unit: "binary", maxLength: 8 })), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(""));
        let runs = 0;
        let withControl = 0;
        fc.assert(
            fc.property(text, (name) => {
                runs++;
                if (unsafeCharacters.test(name)) withControl++;
                const output = table(withText(plan, marker, name));
                const outputLines = output.split("\n");
                // Shown as escapes: no line gained or lost, none carries the character, and the text is there, escaped.
                expect(outputLines).toHaveLength(lines.length);
                for (const line of outputLines) expect(line).not.toMatch(unsafeCharacters);
                expect(output).toContain(visible(name));
            }),
            { numRuns: 300 },
        );
        // The property is about control characters: most samples must hold one.
        expect(withControl / runs).toBeGreaterThan(0.5);
    });
});

/** Every occurrence of `marker` in the plan's strings replaced by `text`, as if the plan had been made with it. */
function withText<T>(value: T, marker: string, text: string): T {
    if (typeof value === "string") return value.split(marker).join(text) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => withText(item, marker, text)) as T;
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withText(item, marker, text)])) as T;
    return value;
}

function decodeEntities(html: string): string {
    return html.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

function withoutCode(html: string): string {
    return html.replace(/<code>[\s\S]*?<\/code>/g, "");
}
