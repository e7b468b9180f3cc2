import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi's mock runtime keeps module-level state; isolating files in forks keeps suites independent.
        pool: "forks",
        testTimeout: 20_000,
    },
});
