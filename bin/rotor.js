#!/usr/bin/env node
"use strict";
// The CLI runs as JavaScript bundled from cli/ by `npm ci` (its prepare script runs `npm run build`), so no
// TypeScript is compiled when it runs. Node 22.1+ can also keep compiled code between runs.
require("node:module").enableCompileCache?.();
// A plan reads the whole stack file at once: YAML's syntax tree is garbage as soon as the config is built,
// and V8, having grown the heap for it, would rather grow it again for the model and the output than
// collect. A lower growing factor (as the program's Pulumi.yaml sets with nodeargs) collects sooner: a
// 5,000-app plan peaks about 20% lower (docs/performance.md). 40% rather than 20%: measured side by side on
// 2026-12-07, a 1,000-app plan took 5% less time (fewer collections) for 1% more memory, 4% at 5,000 apps,
// still 1.1x the YAML floor's peak. Node warns that flags set
// after start-up may do nothing; this one is read each time the collector sizes the heap, and the bench
// (plan's peak memory against the YAML floor) shows whether it still does.
require("node:v8").setFlagsFromString("--heap-growing-percent=40");
let cli;
try {
    cli = require("../dist/cli/main.js");
} catch (error) {
    if (error && error.code === "MODULE_NOT_FOUND" && /dist[\\/]cli[\\/]main/.test(String(error.message))) {
        process.stderr.write("rotor: the CLI is not built; run npm ci (or npm run build) in the project directory\n");
        process.exit(1);
    }
    throw error;
}

cli.main(process.argv.slice(2), cli.processIo()).then(
    (code) => {
        process.exitCode = code;
    },
    (error) => {
        process.stderr.write(`rotor: ${error && error.message ? error.message : String(error)}\n`);
        process.exitCode = 1;
    },
);
