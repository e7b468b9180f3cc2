import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/program";

/**
 * The layout is the architecture (docs/design.md): folders are layers, each imports only what the design's
 * table says it may, and so no folder imports one that imports it back.
 */

const skip = new Set(["node_modules", ".git", "test", "bench", "examples", "docs", "dist", "data", "certs", "bin"]);
const importPattern = /(?:from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(dir: string): string[] {
    const files: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith(".") || skip.has(entry.name)) continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) files.push(...sourceFiles(full));
        else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(full);
    }
    return files;
}

/** Folder -> the project folders its files import (the project root, for package.json, left out). */
function folderImports(): Map<string, Set<string>> {
    const edges = new Map<string, Set<string>>();
    for (const file of sourceFiles(repoRoot)) {
        const from = path.relative(repoRoot, path.dirname(file));
        if (from === "") continue; // the tools' own config files (vitest.config.mts)
        if (!edges.has(from)) edges.set(from, new Set());
        for (const match of fs.readFileSync(file, "utf8").matchAll(importPattern)) {
            const target = path.resolve(path.dirname(file), match[1]!);
            const folder = path.relative(repoRoot, fs.existsSync(target) && fs.statSync(target).isDirectory() ? target : path.dirname(target));
            if (folder !== from && folder !== "" && !folder.startsWith("..")) edges.get(from)!.add(folder);
        }
    }
    return edges;
}

/** The "may import" column of docs/design.md's layer table. */
function allowedImports(): Map<string, Set<string>> {
    const design = fs.readFileSync(path.join(repoRoot, "docs", "design.md"), "utf8");
    const allowed = new Map<string, Set<string>>();
    for (const [, folder, may] of design.matchAll(/^\| `([a-z/]+)\/` \| [^|]+ \| ([^|]+) \|$/gm)) {
        allowed.set(folder!, new Set([...may!.matchAll(/`([a-z/]+)\/`/g)].map((m) => m[1]!)));
    }
    return allowed;
}

describe("the layout", () => {
    const edges = folderImports();
    const allowed = allowedImports();

    it("has every source folder in the design's table", () => {
        expect(allowed.size).toBeGreaterThanOrEqual(11);
        for (const folder of edges.keys()) expect([...allowed.keys()], `${folder}/ is not in docs/design.md`).toContain(folder);
    });

    it.each([...edges.keys()].sort())("%s/ imports only what docs/design.md allows it", (folder) => {
        const permitted = allowed.get(folder) ?? new Set<string>();
        expect([...edges.get(folder)!].filter((target) => !permitted.has(target))).toEqual([]);
    });

    it("has no folder that imports one that imports it back", () => {
        const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
            for (const next of edges.get(from) ?? []) {
                if (next === to) return true;
                if (!seen.has(next)) {
                    seen.add(next);
                    if (reaches(next, to, seen)) return true;
                }
            }
            return false;
        };
        for (const folder of edges.keys()) expect(reaches(folder, folder), `${folder}/ is in an import cycle`).toBe(false);
    });

    it("keeps folders small: at most about 20 source files each", () => {
        const counts = new Map<string, number>();
        for (const file of sourceFiles(repoRoot)) {
            const folder = path.relative(repoRoot, path.dirname(file));
            if (folder === "") continue;
            counts.set(folder, (counts.get(folder) ?? 0) + 1);
        }
        for (const [folder, n] of counts) expect(n, folder).toBeLessThanOrEqual(20);
    });
});

describe("the tests", () => {
    /**
     * A user who follows the README adds stacks to the checkout (`rotor init --stack prod`). A test that lists
     * the checkout's stacks, or asks for one that must not exist, would then fail: such tests run in a copy of
     * the sample project (sampleProject() in test/support/cli.ts).
     */
    it("never depend on which stack files the checkout holds", () => {
        const testDir = path.join(repoRoot, "test");
        const offending: string[] = [];
        // A command run in the checkout's root (cwd: repoRoot, no --dir) that lists its stacks or names one other than dev.
        const listsStacks = /"--all-stacks"|"--stacks"|stacks here|"--stack", "(?!dev")[^"]+"/;
        for (const name of fs.readdirSync(testDir).filter((f) => f.endsWith(".test.ts") && f !== "layout.test.ts")) {
            fs.readFileSync(path.join(testDir, name), "utf8")
                .split("\n")
                .forEach((line, i) => {
                    const inRoot = /cwd: repoRoot\b/.test(line) && !line.includes('"--dir"');
                    if ((inRoot && listsStacks.test(line)) || /projectStacks\(repoRoot\)/.test(line)) offending.push(`${name}:${i + 1}: ${line.trim()}`);
                });
        }
        expect(offending).toEqual([]);
    });

    it("run the README's and docs' examples in a copy of the sample project", () => {
        const cli = fs.readFileSync(path.join(repoRoot, "test", "cli.test.ts"), "utf8");
        const examples = cli.slice(cli.indexOf("prints what the README and docs/ show"), cli.indexOf("prints markdown for a pull-request comment"));
        expect(examples).toContain("cwd: sampleProject()");
        expect(examples).not.toContain("cwd: repoRoot");
    });
});
