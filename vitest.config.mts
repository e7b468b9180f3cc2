import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi's mock runtime keeps module-level state; isolating files in forks keeps suites independent.
        pool: "forks",
        testTimeout: 20_000,
        // A throwaway CA for the local Azure emulator, trusted by the workers through NODE_EXTRA_CA_CERTS.
        globalSetup: ["test/support/emulator/globalSetup.ts", "test/support/buildCli.ts"],
        // fast-check's seed, fixed unless FC_SEED is set: properties see the same samples on every run.
        setupFiles: ["test/support/propertySeed.ts"],
    },
});
