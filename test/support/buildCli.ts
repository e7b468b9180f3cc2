import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * vitest globalSetup: the tests that spawn bin/rotor.js run the compiled CLI in dist/, as users do. `npm ci`
 * builds it; this rebuilds it when a source it is compiled from is newer, so an edit is never tested stale.
 */
const root = path.resolve(__dirname, "../..");
const sources = ["cli", "infra/model", "rotation", "azure", "data", "package.json", "tsconfig.json", "tsconfig.build.json"];

function newestMtime(entry: string): number {
    const stat = fs.statSync(entry);
    if (!stat.isDirectory()) return stat.mtimeMs;
    let newest = stat.mtimeMs;
    for (const name of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
    return newest;
}

export default function setup(): void {
    const built = path.join(root, "dist/cli/main.js");
    const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
    const changedAt = Math.max(...sources.map((s) => newestMtime(path.join(root, s))));
    if (changedAt <= builtAt) return;
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
    // tsc leaves an unchanged output's time alone; the marker says the build is as new as its sources.
    const now = new Date();
    fs.utimesSync(built, now, now);
}
