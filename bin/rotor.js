#!/usr/bin/env node
"use strict";
// The CLI runs as JavaScript compiled from cli/ by `npm ci` (the prepare script runs `npm run build`), so
// no TypeScript is compiled when a user runs it.
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
const { processIo } = require("../dist/cli/io.js");

cli.main(process.argv.slice(2), processIo()).then(
    (code) => {
        process.exitCode = code;
    },
    (error) => {
        process.stderr.write(`rotor: ${error && error.message ? error.message : String(error)}\n`);
        process.exitCode = 1;
    },
);
