import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { rotor } from "./support/cli";
import { repoRoot } from "./support/program";

/**
 * The README's paths (set up, make it yours, deploy) and the docs' commands are followed literally: every
 * command of a shell block is one we know, every flag it passes exists, and `rotor init` then `rotor plan`
 * run as written, in a directory of their own.
 */

const documents = ["README.md", ...fs.readdirSync(path.join(repoRoot, "docs")).map((name) => `docs/${name}`)];

/** Each line of each ```sh block, comments and prompts stripped, with where it is. */
function shellLines(): { file: string; line: string }[] {
    const lines: { file: string; line: string }[] = [];
    for (const file of documents) {
        const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
        for (const [, block] of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
            for (const raw of block!.split("\n")) {
                const line = raw.replace(/\s+#.*$/, "").replace(/^\$ /, "").trim();
                if (line && !line.startsWith("#")) lines.push({ file, line });
            }
        }
    }
    return lines;
}

/** Words of a command line, quotes kept together, `$(...)` kept as one word. */
function words(line: string): string[] {
    return [...line.matchAll(/"(?:\$\([^)]*\)|[^"])*"|\$\([^)]*\)|'[^']*'|\S+/g)].map((m) => m[0]);
}

/**
 * Flags of the other tools' commands the docs use, from their reference pages: the Pulumi CLI
 * (https://www.pulumi.com/docs/iac/cli/commands/) and the Azure CLI (https://learn.microsoft.com/cli/azure/).
 * A command missing here fails the test: add it with its documented flags.
 */
const knownFlags: Record<string, readonly string[]> = {
    "npm ci": [],
    "npm test": [],
    "pulumi login": ["--local"],
    "pulumi stack init": ["--secrets-provider", "--stack"],
    "pulumi stack select": ["--create", "--stack"],
    "pulumi stack output": ["--json", "--stack"],
    "pulumi preview": ["--stack", "--json", "--policy-pack", "--policy-pack-config", "--refresh"],
    "pulumi up": ["--stack", "--yes", "--refresh", "--skip-preview", "--replace"],
    "az login": ["--tenant"],
    "az group create": ["--name", "--location"],
    "az storage account create": ["--name", "--resource-group", "--location", "--sku", "--allow-blob-public-access"],
    "az storage account show": ["--name", "--query", "--output"],
    "az storage container create": ["--name", "--account-name", "--auth-mode"],
    "az keyvault create": ["--name", "--resource-group", "--location", "--enable-rbac-authorization"],
    "az keyvault show": ["--name", "--query", "--output"],
    "az keyvault key create": ["--vault-name", "--name", "--kty"],
    "az role assignment create": ["--role", "--assignee", "--scope"],
    "az role definition create": ["--role-definition"],
    "az ad signed-in-user show": ["--query", "--output"],
};

/** The command a line runs (`az keyvault key create`), the longest known prefix. */
function commandOf(wordsOfLine: readonly string[]): string | undefined {
    for (let n = Math.min(4, wordsOfLine.length); n >= 2; n--) {
        const candidate = wordsOfLine.slice(0, n).join(" ");
        if (candidate in knownFlags) return candidate;
    }
    return undefined;
}

describe("the docs' shell commands", () => {
    const lines = shellLines();

    it("follow the README's paths: set up, make it yours, deploy", () => {
        const readme = lines.filter((l) => l.file === "README.md").map((l) => l.line);
        for (const expected of ["npm ci", "npm test", "npx rotor plan --stack dev --at 2027-03-01", "npx rotor plan --stack prod", "pulumi up --stack prod"]) expect(readme).toContain(expected);
        expect(readme.find((l) => l.startsWith("npx rotor init "))).toBeDefined();
        expect(readme.find((l) => l.startsWith("pulumi stack init ") && l.includes("--secrets-provider \"azurekeyvault://"))).toBeDefined();
        expect(readme.find((l) => l.startsWith("pulumi login \"azblob://"))).toBeDefined();
        // A team's pipeline needs no passphrase: none is exported on the team's path.
        expect(readme.filter((l) => l.includes("PULUMI_CONFIG_PASSPHRASE"))).toEqual([]);
    });

    it.each(lines.filter((l) => !l.line.startsWith("npx rotor ")).map((l) => [`${l.file}: ${l.line}`, l] as const))("%s uses a known command and its documented flags", (_title, { line }) => {
        for (const part of line.split(/\s*(?:&&|\|)\s*/)) {
            const w = words(part);
            if (w[0] === "export") continue;
            const command = commandOf(w);
            expect(command, `unknown command: ${part}`).toBeDefined();
            for (const flag of w.filter((x) => x.startsWith("--")).map((x) => x.replace(/=.*$/, ""))) expect(knownFlags[command!], `${command} ${flag}`).toContain(flag);
            // Inside $(...): the same rule.
            for (const inner of part.matchAll(/\$\(([^)]*)\)/g)) {
                const iw = words(inner[1]!);
                const innerCommand = commandOf(iw);
                expect(innerCommand, `unknown command: ${inner[1]}`).toBeDefined();
                for (const flag of iw.filter((x) => x.startsWith("--"))) expect(knownFlags[innerCommand!], `${innerCommand} ${flag}`).toContain(flag);
            }
        }
    });

    it.each(lines.filter((l) => l.line.startsWith("npx rotor ")).map((l) => [`${l.file}: ${l.line}`, l] as const))("%s is a rotor command with those flags", async (_title, { line }) => {
        const w = words(line).slice(2);
        const help = await rotor([w[0]!, "--help"], { cwd: repoRoot });
        expect(help.code).toBe(0);
        for (const flag of w.filter((x) => x.startsWith("--"))) expect(help.stdout, `rotor ${w[0]} ${flag}`).toContain(flag);
    });

    it("runs the README's rotor init as written (placeholders filled), then its plan, in a new directory", async () => {
        const readme = lines.filter((l) => l.file === "README.md").map((l) => l.line);
        const init = readme.find((l) => l.startsWith("npx rotor init "))!;
        const plan = readme.find((l) => l.startsWith("npx rotor plan --stack prod"))!;
        const fill = (text: string) =>
            text.replace("<tenant-id>", "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7").replace("<vault-name>", "kv-acme-identity").replace("<resource-group>", "rg-identity");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-init-"));
        const run = (text: string) => rotor(words(fill(text)).slice(2).map((w) => w.replace(/^"|"$/g, "")), { cwd: dir, now: new Date("2027-03-01T06:00:00Z") });
        const wrote = await run(init);
        expect(wrote.stderr).toBe("");
        expect(wrote.code).toBe(0);
        expect(fs.readdirSync(dir).sort()).toEqual(["Pulumi.prod.yaml", "Pulumi.yaml"]);
        const planned = await run(plan);
        expect(planned.stderr).toBe("");
        expect(planned.code).toBe(0);
        expect(planned.stdout).toMatch(/^entra-rotor \/ prod at 2027-03-01T06:00:00Z: 1 app/);
        // The README says so: running it again changes nothing and fails.
        const again = await run(init);
        expect(again.code).toBe(1);
        expect(again.stderr).toBe("rotor: Pulumi.prod.yaml exists: stack prod is already configured; edit it, or choose another --stack\n");
    });
});

/**
 * Anchors as GitHub makes them from headings (the github-slugger rules): lower case, every character that is
 * not a letter, digit, mark, `_`, `-` or space removed, spaces as `-`; a repeated heading gets `-1`, `-2`.
 */
function anchorsOf(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, "");
    for (const [, heading] of withoutCode.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
        const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
        const base = text.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "").replace(/ /g, "-");
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    return anchors;
}

/** Every markdown file of the project (node_modules and build output left out). */
function markdownFiles(dir = repoRoot): string[] {
    const found: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith(".") || entry.name === "node_modules" || entry.name === "dist") continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) found.push(...markdownFiles(full));
        else if (entry.name.endsWith(".md")) found.push(full);
    }
    return found;
}

describe("links between the docs", () => {
    it("makes anchors as GitHub does", () => {
        expect([...anchorsOf("## `rotor plan`\n### Reviewing a pull request offline: `--base`\n## Set up\n## Set up\n#### Who still uses a value: `--usage`")]).toEqual([
            "rotor-plan",
            "reviewing-a-pull-request-offline---base",
            "set-up",
            "set-up-1",
            "who-still-uses-a-value---usage",
        ]);
    });

    it("point at files that exist and at anchors their headings make", () => {
        const broken: string[] = [];
        for (const file of markdownFiles()) {
            const text = fs.readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:
                const [where, anchor] = target!.split("#") as [string, string | undefined];
                const linked = where === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(where));
                const name = `${path.relative(repoRoot, file)} -> ${target}`;
                if (!fs.existsSync(linked)) {
                    broken.push(`${name}: no such file`);
                    continue;
                }
                if (anchor !== undefined && linked.endsWith(".md") && !anchorsOf(fs.readFileSync(linked, "utf8")).has(anchor)) broken.push(`${name}: no such heading`);
            }
        }
        expect(broken).toEqual([]);
    });
});
