import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import type { StacksPlan } from "../cli/review/planStacks";
import { ConfigError } from "../infra/model/issues";
import { maxConfigTokens, maxMappingKeys, readStackConfig } from "../infra/model/stackFiles";
import { stackConfig } from "../bench/stacks";
import { repoRoot } from "./support/program";

/**
 * Issue 18 §2: stack files a pull request writes to stall the review. Each was observed to take from 10 s to
 * minutes (or the whole heap) in the YAML reader, which hid every good stack of `--all-stacks` behind it:
 * a mapping of 40,000 keys (the library's duplicate-key check is quadratic), 80,000 keys in flow style, a list
 * filling the 16 MiB cap, a document nested 100,000 deep. Each is refused now, by a bound on the work of
 * reading (tokens, keys per mapping, nesting), and the good stacks are planned beside them.
 */

const at = "2027-03-01T06:00:00Z";
const cap = 16 * 1024 * 1024;
const good = (name: string) => stringify({ config: { "entra-rotor:apps": [{ name, permissions: [{ api: "Microsoft Graph", delegated: ["User.Read"] }] }] } });

/** A project with two good stacks and the hostile ones, written as an attacker would (no YAML library). */
function hostileProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-files-"));
    const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
    write("Pulumi.yaml", "name: entra-rotor\nruntime: nodejs\n");
    write("Pulumi.good-a.yaml", good("app-a"));
    write("Pulumi.good-b.yaml", good("app-b"));
    const head = "config:\n  entra-rotor:apps: []\n  other:x:\n";
    write("Pulumi.keys.yaml", head + Array.from({ length: 40_000 }, (_, i) => `    k${i}: ${i}\n`).join(""));
    write("Pulumi.flow.yaml", `config:\n  entra-rotor:apps: []\n  other:x: {${Array.from({ length: 80_000 }, (_, i) => `key${i}: ${i}`).join(", ")}}\n`);
    write("Pulumi.list.yaml", head + "  - a\n".repeat(Math.floor((cap - head.length) / 6)));
    write("Pulumi.flowlist.yaml", `config:\n  other:x: [${"0,".repeat(Math.floor((cap - 40) / 2))}0]\n`);
    write("Pulumi.blank.yaml", `config:\n  entra-rotor:apps: []\n${"\n".repeat(cap - 40)}`);
    write("Pulumi.deep.yaml", `config:\n  entra-rotor:apps: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
    return dir;
}

describe("stack files that would stall the review", () => {
    // The run is a child process with a kill timeout: run in-process, a reader that blocks for minutes would
    // block vitest's own timer too, and the test would pass late instead of failing. The bound is generous
    // (the issue's target is 10 s on a CI machine for one hostile file; this project has six): its times
    // are in the report of the change, not in a test.
    it("answers --all-stacks with the good stacks planned and every hostile one reported as invalid", () => {
        const dir = hostileProject();
        const run = spawnSync(process.execPath, [path.join(repoRoot, "bin", "rotor.js"), "plan", "--all-stacks", "--at", at, "--format", "json"], {
            cwd: dir,
            encoding: "utf8",
            timeout: 90_000,
            maxBuffer: 64 * 1024 * 1024,
        });
        fs.rmSync(dir, { recursive: true, force: true }); // About 50 MB of stack files.
        expect(run.signal, "killed after 90 s: a stack file stalled the review").toBeNull();
        expect(run.status, run.stderr).toBe(1);
        const doc = JSON.parse(run.stdout) as StacksPlan;
        const byName = new Map(doc.stacks.map((stack) => [stack.stack, stack]));
        expect([...byName.keys()].sort()).toEqual(["blank", "deep", "flow", "flowlist", "good-a", "good-b", "keys", "list"]);
        expect(byName.get("good-a")!.plan?.totals.apps).toBe(1);
        expect(byName.get("good-b")!.plan?.totals.apps).toBe(1);
        const errors = (stack: string) => (byName.get(stack)!.errors ?? []).map((e) => `${e.path}: ${e.message}`).join("\n");
        for (const stack of ["keys", "flow", "list", "flowlist", "blank", "deep"]) expect(byName.get(stack)!.plan, stack).toBeNull();
        expect(errors("keys")).toMatch(/a mapping of 40000 keys/);
        expect(errors("flow")).toMatch(/a mapping of 80000 keys/);
        for (const stack of ["list", "flowlist", "blank"]) expect(errors(stack), stack).toMatch(/too large to read: more than 1,500,000 YAML tokens/);
        expect(errors("deep")).toMatch(/nested too deeply to read/);
        expect(run.stderr).not.toMatch(/Maximum call stack|heap/);
    }, 120_000);
});

describe("the bounds of reading", () => {
    function project(files: Record<string, string>): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-hostile-files-"));
        for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
        return dir;
    }
    const issuesOf = (dir: string, stack = "dev") => {
        try {
            readStackConfig(dir, stack);
        } catch (error) {
            if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
            throw error;
        }
        throw new Error("expected a config error");
    };

    it("are far above any real stack: a mapping of 10,000 keys and a stack of thousands of apps read", () => {
        expect(maxMappingKeys).toBe(10_000);
        expect(maxConfigTokens).toBe(1_500_000);
        // config: with 9,999 keys of another namespace and entra-rotor:apps, 10,000 in all.
        const keys = Object.fromEntries(Array.from({ length: maxMappingKeys - 1 }, (_, i) => [`other:k${i}`, i]));
        const dir = project({ "Pulumi.yaml": "name: entra-rotor\nruntime: nodejs\n", "Pulumi.dev.yaml": stringify({ config: { ...keys, "entra-rotor:apps": [] } }) });
        expect(readStackConfig(dir, "dev").values).toEqual({ apps: [] });
        const over = project({ "Pulumi.yaml": "name: entra-rotor\nruntime: nodejs\n", "Pulumi.dev.yaml": stringify({ config: { ...keys, "entra-rotor:apps": [], "other:one-more": 1 } }) });
        expect(issuesOf(over)).toEqual([expect.stringMatching(/^line 2, column 3: is a mapping of 10001 keys; entra-rotor reads at most 10,000 in one mapping/)]);
        // The benchmark's largest stack, 5,000 apps (about 910,000 YAML tokens), reads whole.
        const large = project({ "Pulumi.yaml": "name: entra-rotor\nruntime: nodejs\n", "Pulumi.dev.yaml": stringify({ config: stackConfig(5000) }) });
        expect((readStackConfig(large, "dev").values["apps"] as unknown[]).length).toBe(5000);
    });

    it("refuses duplicate keys in linear time, with the line of each (YAML, block and flow)", () => {
        const dir = project({ "Pulumi.yaml": "name: entra-rotor\nruntime: nodejs\n", "Pulumi.dev.yaml": "config:\n  entra-rotor:apps: []\n  other:x: {a: 1, b: 2, a: 3}\n  entra-rotor:apps: []\n" });
        expect(issuesOf(dir)).toEqual([
            "line 3, column 25: Map keys must be unique: this key is already set at line 3, column 13; only one of them would count: remove the other",
            "line 4, column 3: Map keys must be unique: this key is already set at line 2, column 3; only one of them would count: remove the other",
        ]);
    });

    it("refuses keys the YAML library and JavaScript would merge or conflate, which Pulumi reads apart", () => {
        const base = { "Pulumi.yaml": "name: entra-rotor\nruntime: nodejs\n" };
        // 1 and "1" are different keys to YAML, one property to JavaScript: the plan would drop one.
        expect(issuesOf(project({ ...base, "Pulumi.dev.yaml": 'config:\n  other:x: {1: a, "1": b}\n' }))[0]).toMatch(/Map keys must be unique/);
        // Pulumi's YAML reader merges `<<`; this one would read a key named `<<`.
        expect(issuesOf(project({ ...base, "Pulumi.dev.yaml": "base: &b {entra-rotor:apps: []}\nconfig:\n  <<: *b\n" }))[0]).toMatch(/^line 3, column 3: a merge key \(<<\)/);
        expect(issuesOf(project({ ...base, "Pulumi.dev.yaml": "config:\n  ? [a]\n  : 1\n" }))[0]).toMatch(/^line 2, column 5: a key that is a list, a mapping or an alias/);
        expect(issuesOf(project({ ...base, "Pulumi.dev.yaml": "%YAML 1.1\n---\nconfig: {}\n" }))[0]).toMatch(/%YAML 1\.1/);
    });

    it("holds for JSON stack files too: duplicate keys, keys per mapping, tokens and nesting", () => {
        const base = { "Pulumi.json": JSON.stringify({ name: "entra-rotor", runtime: "nodejs" }) };
        expect(issuesOf(project({ ...base, "Pulumi.dev.json": '{"config": {\n  "entra-rotor:apps": [],\n  "entra-rotor:apps": []\n}}' }))).toEqual([
            "line 3, column 3: Map keys must be unique: this key is already set at line 2, column 3; only one of them would count: remove the other",
        ]);
        // Escapes name the same key.
        expect(issuesOf(project({ ...base, "Pulumi.dev.json": '{"config": {"a": 1, "\\u0061": 2}}' }))[0]).toMatch(/Map keys must be unique/);
        const many = `{"config": {"other:x": {${Array.from({ length: 40_000 }, (_, i) => `"k${i}": ${i}`).join(", ")}}}}`;
        expect(issuesOf(project({ ...base, "Pulumi.dev.json": many }))).toEqual([expect.stringMatching(/^line 1, column 24: is a mapping of 40000 keys; entra-rotor reads at most 10,000 in one mapping/)]);
        expect(issuesOf(project({ ...base, "Pulumi.dev.json": `{"config": {"other:x": [${"0,".repeat(3_000_000)}0]}}` }))).toEqual([expect.stringMatching(/too large to read: more than 1,500,000 JSON tokens/)]);
        expect(issuesOf(project({ ...base, "Pulumi.dev.json": `{"config": {"other:x": ${"[".repeat(100_000)}${"]".repeat(100_000)}}}` }))).toEqual([expect.stringMatching(/nested too deeply to read/)]);
    });
});
