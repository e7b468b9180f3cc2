import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { parsePreviewDocument, renderSummary, summarizePreview } from "../cli/review/preview/summarize";
import { expectExit, median, note, report, runNode, tsxLoader, writePreload } from "./measure";
import { count, markdownTable, megabytes, met, ratio, seconds } from "./table";

/**
 * `rotor summarize` on large previews, against `JSON.parse` of the same text: the floor for anything that
 * reads the document. The summary (parse, validate, summarize, render the markdown comment) should stay
 * within `target` times that floor however many steps there are, which a quadratic step (a search of
 * every resource per resource) would not.
 *
 * The preview is the one that was quadratic: Key Vault secrets deleted, three per app, each naming its
 * app's Application (so every app name is learned); `leaky` previews also carry each secret's value
 * unmasked, as a provider that forgot to mark it secret would, so the redaction guard holds one credential
 * per step and checks every name against all of them.
 *
 * Standalone: `npx tsx bench/summarize.ts [--runs N] [--steps 10000,100000]` prints the table; `npm run
 * bench` (bench/run.ts) adds its rows to the performance table. Each size runs in a child process of its
 * own, so one document's heap does not weigh on the next's timings.
 */

export const target = 10;
export const defaultSteps = [10_000, 100_000] as const;

const stack = "bench";
const project = "entra-rotor";
const registration = "entra-rotor:index:AppRegistration";
const secretKinds = ["client-id", "tenant-id", "main"] as const;

/** The text of `pulumi preview --json` deleting `steps` Key Vault secrets, as compact as Pulumi writes it. */
export function secretDeletesPreview(steps: number, options: { readonly leaky?: boolean } = {}): string {
    const parts: string[] = [];
    for (let i = 0; i < steps; i++) {
        const app = `app-${String(Math.floor(i / secretKinds.length)).padStart(6, "0")}`;
        const secretName = `${app}-${secretKinds[i % secretKinds.length]}`;
        const urn = `urn:pulumi:${stack}::${project}::${registration}$entra-rotor:index:KeyVaultSecrets$azure-native:keyvault:Secret::${app}-keyvault-${secretName}`;
        const appUrn = `urn:pulumi:${stack}::${project}::${registration}$azuread:index/application:Application::${app}-app`;
        const value = options.leaky ? createHash("sha256").update(`value ${i}`).digest("base64url").slice(0, 40) : "[secret]";
        const id = `/subscriptions/8f0c3c4e-6a4b-4c1e-9a7d-2b5e1f3a6c90/resourceGroups/rg-bench/providers/Microsoft.KeyVault/vaults/kv-contoso-bench/secrets/${secretName}`;
        const state = {
            urn,
            custom: true,
            id,
            type: "azure-native:keyvault:Secret",
            inputs: {
                properties: { attributes: { enabled: true }, contentType: "text/plain", value },
                resourceGroupName: "rg-bench",
                secretName,
                tags: { app, "managed-by": "entra-rotor", ...(i % 3 === 2 ? { credential: "main", slot: "0", generation: "12" } : {}) },
                vaultName: "kv-contoso-bench",
            },
            outputs: {
                azureApiVersion: "2024-11-01",
                id,
                name: secretName,
                properties: { attributes: { enabled: true, created: 1772431241, updated: 1799733667 }, contentType: "text/plain", secretUri: `https://kv-contoso-bench.vault.azure.net/secrets/${secretName}`, value },
                tags: { app, "managed-by": "entra-rotor" },
                type: "Microsoft.KeyVault/vaults/secrets",
            },
            parent: `urn:pulumi:${stack}::${project}::${registration}$entra-rotor:index:KeyVaultSecrets::${app}-keyvault`,
            dependencies: [appUrn],
            propertyDependencies: { properties: [appUrn], resourceGroupName: [], secretName: [], tags: [], vaultName: [] },
            created: "2026-03-02T06:00:41.318572Z",
            modified: "2027-01-12T06:01:07.902113Z",
        };
        parts.push(JSON.stringify({ op: "delete", urn, provider: `urn:pulumi:${stack}::${project}::pulumi:providers:azure-native::default_3_28_0::c2a91e7f`, oldState: state, detailedDiff: null }));
    }
    return `{"steps":[${parts.join(",")}],"duration":1000000000,"changeSummary":{"delete":${steps}}}`;
}

/** What `rotor summarize` does with the text, short of writing it: parse, validate, summarize, render. */
export function summarizeText(text: string): string {
    return renderSummary(summarizePreview(parsePreviewDocument(text, "preview.json")), "markdown");
}

export interface SummarizeFigures {
    readonly steps: number;
    readonly leaky: boolean;
    readonly bytes: number;
    readonly runs: number;
    /** Medians over the runs. */
    readonly parseMs: number;
    readonly summarizeMs: number;
    readonly ratio: number;
    /** Rows of the comment's Key Vault table: the check that the whole document was summarized. */
    readonly secretRows: number;
}

/** In the child: one warm-up of each, then `runs` alternating rounds, so drift hits both alike. */
function measureHere(steps: number, leaky: boolean, runs: number): SummarizeFigures {
    const text = secretDeletesPreview(steps, { leaky });
    const markdown = summarizeText(text);
    const secretRows = markdown.split("\n").filter((line) => line.startsWith("| app-") && line.includes("| deleted |")).length;
    if (secretRows !== steps) throw new Error(`the comment lists ${secretRows} deleted secrets of ${steps}`);
    JSON.parse(text);
    const parse: number[] = [];
    const summarize: number[] = [];
    for (let run = 0; run < runs; run++) {
        let started = performance.now();
        JSON.parse(text);
        parse.push(performance.now() - started);
        started = performance.now();
        summarizeText(text);
        summarize.push(performance.now() - started);
    }
    const parseMs = median(parse);
    const summarizeMs = median(summarize);
    return { steps, leaky, bytes: Buffer.byteLength(text), runs, parseMs, summarizeMs, ratio: summarizeMs / parseMs, secretRows };
}

/** Runs each size (masked and leaky) in a child process of its own. */
export async function measureSummarize(preload: string, options: { readonly runs?: number; readonly steps?: readonly number[] } = {}): Promise<SummarizeFigures[]> {
    const figures: SummarizeFigures[] = [];
    for (const steps of options.steps ?? defaultSteps) {
        for (const leaky of [false, true]) {
            const runs = options.runs ?? (steps >= 100_000 ? 3 : 7);
            note(`summarize: ${count(steps)} Key Vault secret deletes${leaky ? ", values unmasked" : ""}, ${runs} runs`);
            const child = expectExit(
                await runNode([...tsxLoader, __filename, "--child", JSON.stringify({ steps, leaky, runs })], { preload, keepStdout: false }),
                [0],
                "the summarize benchmark",
            );
            const reported = child.reports.find((r) => r["kind"] === "summarize");
            if (!reported) throw new Error(`the summarize benchmark reported nothing:\n${child.stderr}`);
            figures.push(reported["figures"] as SummarizeFigures);
        }
    }
    return figures;
}

/** Rows for the performance table: what, measure, result, target, status. */
export function summarizeRows(figures: readonly SummarizeFigures[]): string[][] {
    return figures.map((f) => [
        `\`rotor summarize\`, ${count(f.steps)} Key Vault secret deletes${f.leaky ? ", values unmasked" : ""}`,
        `parse, validate, summarize and render the comment vs \`JSON.parse\` of the same ${megabytes(f.bytes)}`,
        `${seconds(f.summarizeMs)} vs ${seconds(f.parseMs)}: **${ratio(f.ratio)}**`,
        `<= ${target}x`,
        met(f.ratio <= target),
    ]);
}

async function standalone(): Promise<void> {
    const { values } = parseArgs({ options: { runs: { type: "string" }, steps: { type: "string" } } });
    const runs = values.runs === undefined ? undefined : Number(values.runs);
    if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new Error("--runs: a whole number of at least 1");
    const steps = values.steps?.split(",").map((s) => Number(s.trim()));
    if (steps?.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--steps: whole numbers, separated by commas");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-bench-summarize-"));
    try {
        const figures = await measureSummarize(writePreload(scratch), { ...(runs ? { runs } : {}), ...(steps ? { steps } : {}) });
        process.stdout.write(`${markdownTable(["what", "measure", "result", "target", "status"], summarizeRows(figures))}\n`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function child(options: string): void {
    const { steps, leaky, runs } = JSON.parse(options) as { steps: number; leaky: boolean; runs: number };
    report({ kind: "summarize", figures: measureHere(steps, leaky, runs) });
}

if (require.main === module) {
    const childAt = process.argv.indexOf("--child");
    const done = childAt >= 0 ? Promise.resolve(child(process.argv[childAt + 1] ?? "{}")) : standalone();
    done.catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
