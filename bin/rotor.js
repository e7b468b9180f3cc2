#!/usr/bin/env node
"use strict";
// The CLI runs from its TypeScript sources through tsx, so `npm ci` is the only set-up step
// and what runs is always what the tests ran.
require("tsx/cjs");
const { main, processIo } = require("../rotation/cli.ts");

main(process.argv.slice(2), processIo()).then(
    (code) => {
        process.exitCode = code;
    },
    (error) => {
        process.stderr.write(`rotor: ${error && error.message ? error.message : String(error)}\n`);
        process.exitCode = 1;
    },
);
