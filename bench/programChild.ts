import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { buildModelOrThrow } from "../infra/model/model";
import { defineStack } from "../infra/program";
import { readStackConfig } from "../infra/model/stackFiles";
import { ProviderMocks, settle, valueOf } from "../test/support/pulumiMocks";
import { report } from "./measure";
import { benchProject, benchStack } from "./stacks";

/**
 * One evaluation of the Pulumi program under Pulumi's mock runtime, in a process of its own: the mock
 * runtime keeps module-level state, and each `pulumi up` is a fresh process too. Outside vitest there is no
 * vi.doMock for the verify probe, so the program is built as infra/index.ts builds it (model, then
 * defineStack) with a probe that accepts every credential at once.
 *
 * Usage: node --require tsx/cjs bench/programChild.ts <project dir> <instant>
 */

async function main(): Promise<void> {
    const [dir, at] = process.argv.slice(2);
    if (!dir || !at) throw new Error("usage: programChild.ts <project dir> <instant>");
    if (process.env.BENCH_NO_SOURCE_MAPS) process.setSourceMapsEnabled(false);
    const input = readStackConfig(dir, benchStack);
    const mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, benchProject, benchStack, false);
    const rejections: string[] = [];
    // Under mocks nobody awaits a registration: a failing one only shows as an unhandled rejection.
    process.on("unhandledRejection", (reason) => void rejections.push(reason instanceof Error ? reason.message : String(reason)));

    // Timed: what infra/index.ts does (model, then resources), until the mock monitor has answered everything.
    const started = performance.now();
    const model = buildModelOrThrow(input, new Date(at));
    const modelMs = performance.now() - started;
    const { exports } = await defineStack(model, { probe: async () => undefined });
    await valueOf(pulumi.output(exports));
    await settle();
    const evaluationMs = performance.now() - started;
    // Rejections are reported on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 20));

    const stackLevel = mocks.resources.filter((r) => r.type === "azure-native:keyvault:Vault").length;
    const resourcesByType: Record<string, number> = {};
    for (const resource of mocks.resources) resourcesByType[resource.type] = (resourcesByType[resource.type] ?? 0) + 1;
    const invokes: Record<string, number> = {};
    for (const invoke of mocks.invokes) invokes[invoke.token] = (invokes[invoke.token] ?? 0) + 1;
    report({
        apps: model.apps.length,
        modelMs,
        evaluationMs,
        resources: mocks.resources.length,
        stackLevelResources: stackLevel,
        invokes: mocks.invokes.length,
        invokesByToken: invokes,
        resourcesByType,
        rejections,
    });
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
