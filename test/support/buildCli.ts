import * as fs from "node:fs";
import * as path from "node:path";

/**
 * vitest globalSetup: the tests that spawn bin/rotor.js run the compiled CLI in dist/, as users do. `npm ci`
 * builds it; this rebuilds it when a source it is compiled from is newer, so an edit is never tested stale.
 */
const root = path.resolve(__dirname, "../..");
const sources = ["cli", "infra/model", "rotation", "azure", "data", "package.json", "tsconfig.json", "esbuild.config.mjs"];

function newestMtime(entry: string): number {
    const stat = fs.statSync(entry);
    if (!stat.isDirectory()) return stat.mtimeMs;
    let newest = stat.mtimeMs;
    for (const name of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
    return newest;
}

export default async function setup(): Promise<void> {
    const built = path.join(root, "dist/cli/main.js");
    const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
    const changedAt = Math.max(...sources.map((s) => newestMtime(path.join(root, s))));
    if (changedAt <= builtAt) return;
    const { build } = (await import(path.join(root, "esbuild.config.mjs"))) as { build: () => Promise<void> };
    await build();
}
