// Builds the `rotor` CLI into dist/cli/: one CommonJS bundle for the command line itself (commander only)
// and one per command, each loaded only when that command runs. Bundling our code with zod, yaml and
// commander saves Node resolving and reading hundreds of files at every start; the Azure and Pulumi SDKs
// stay external (loaded from node_modules by the commands that need them). Run by `npm run build`, which
// `npm ci` runs through the prepare script. Type checking is `npm run typecheck`'s job, not this one's.
import * as esbuild from "esbuild";
import { rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project directory, wherever the build is started from. */
const root = fileURLToPath(new URL(".", import.meta.url));

/** The command modules cli/main.ts imports on demand: each is an entry of its own, never inlined. */
export const commands = ["plan", "calendar", "status", "verify", "doctor", "init", "rotateNow", "summarize", "retire", "import", "handoffs", "handoffIssues"];

const lazyCommands = {
    name: "lazy-commands",
    setup(build) {
        const pattern = new RegExp(`^\\./(${commands.join("|")})$`);
        build.onResolve({ filter: pattern }, (args) => (args.importer.endsWith("cli/main.ts") ? { path: `${args.path}.js`, external: true } : undefined));
    },
};

/**
 * zod re-exports every locale's messages (`z.locales`), a third of its size; rotor writes its own messages
 * and uses none of them, and zod itself configures English from its own module. The bundle gets English only.
 */
const englishOnly = {
    name: "zod-english-only",
    setup(build) {
        build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
            /zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: "zod-locales-en", namespace: "zod-locales" } : undefined,
        );
        build.onLoad({ filter: /.*/, namespace: "zod-locales" }, () => ({ contents: 'export { default as en } from "zod/v4/locales/en.js";', resolveDir: root, loader: "js" }));
    },
};

/** Large JSON (the Graph catalog) as JSON.parse of a string, which V8 reads faster than the same object literal. */
const jsonAsParse = {
    name: "json-as-parse",
    setup(build) {
        build.onLoad({ filter: /[\\/]data[\\/][^\\/]+\.json$/ }, async (args) => {
            const text = await readFile(args.path, "utf8");
            return { contents: `module.exports = JSON.parse(${JSON.stringify(JSON.stringify(JSON.parse(text)))});`, loader: "js" };
        });
    },
};

export async function build({ logLevel = "warning" } = {}) {
    rmSync(join(root, "dist"), { recursive: true, force: true });
    await esbuild.build({
        absWorkingDir: root,
        entryPoints: ["cli/main.ts", ...commands.map((name) => `cli/${name}.ts`)],
        outdir: "dist/cli",
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        sourcemap: "linked",
        logLevel,
        plugins: [lazyCommands, englishOnly, jsonAsParse],
        // import() of a command becomes require(): CommonJS loads it directly, where import() would send a
        // megabyte bundle through the ESM loader's format detection and export scan first.
        supported: { "dynamic-import": false },
        // Loaded from node_modules when a live command or rotate-now runs; their own loaders expect their files.
        external: ["@azure/*", "@pulumi/*", "exponential-backoff", "node-forge"],
    });
}

if (import.meta.url === `file://${process.argv[1]}`) await build();
