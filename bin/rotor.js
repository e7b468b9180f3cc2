#!/usr/bin/env node
"use strict";
// The CLI runs as JavaScript bundled from cli/ by `npm ci` (its prepare script runs `npm run build`), so no
// TypeScript is compiled when it runs. Node 22.1+ can also keep compiled code between runs.
require("node:module").enableCompileCache?.();
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
