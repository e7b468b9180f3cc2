import * as path from "node:path";
import { vi } from "vitest";
import type { StackConfigInput } from "../../infra/model/model";
import { readStackConfig } from "../../infra/model/stackFiles";
import type { CredentialProbe, ProbeEndpoints, ProbeTarget } from "../../azure/probe";
import { type MockApi, ProviderMocks, defaultApis, settle, valueOf } from "./pulumiMocks";

export const repoRoot = path.resolve(__dirname, "../..");

/** The sample stack's config, as the CLI reads it from Pulumi.dev.yaml. */
export function sampleStack(): StackConfigInput {
    return readStackConfig(repoRoot, "dev");
}

/** Config values as the Pulumi CLI hands them to a program: namespaced keys, structured values as JSON. */
export function asRuntimeConfig(values: Record<string, unknown>, project = "entra-rotor"): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) out[`${project}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    return out;
}

export interface ProgramRun {
    readonly mocks: ProviderMocks;
    /** The program's stack exports, resolved. */
    readonly exports: Record<string, unknown>;
    /** Every credential the program tried to sign in with, in order. */
    readonly probes: readonly ProbeTarget[];
    /** Where the program's probe signs in (what it passed to entraProbe). */
    readonly probeEndpoints: readonly ProbeEndpoints[];
    /**
     * Errors of resource registrations. Under mocks nobody awaits a registration, so a failing input (a
     * proof that never succeeds) surfaces as an unhandled rejection; the engine would fail the deployment.
     */
    readonly registrationErrors: readonly Error[];
}

/**
 * Evaluates infra/index.ts, the real program, under Pulumi's mock runtime with the given config, at `now`.
 * Modules are reset first so that each run is a fresh program, as each `pulumi up` is.
 */
export async function runProgram(
    values: Record<string, unknown>,
    options: { now?: Date; preview?: boolean; apis?: Map<string, MockApi>; probe?: CredentialProbe; mocks?: ProviderMocks } = {},
): Promise<ProgramRun> {
    vi.resetModules();
    const probes: ProbeTarget[] = [];
    const probeEndpoints: ProbeEndpoints[] = [];
    const probe = options.probe ?? (async () => undefined);
    // The probe is the program's one contact with Entra outside the provider: tests supply their own.
    vi.doMock("../../azure/probe", async (importOriginal) => ({
        ...(await importOriginal<typeof import("../../azure/probe")>()),
        entraProbe: (endpoints: ProbeEndpoints = {}) => {
            probeEndpoints.push(endpoints);
            return async (target: ProbeTarget) => {
                probes.push(target);
                await probe(target);
            };
        },
    }));
    const pulumi = await import("@pulumi/pulumi");
    const mocks = options.mocks ?? new ProviderMocks(options.apis ?? defaultApis());
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", options.preview ?? false);
    pulumi.runtime.setAllConfig(asRuntimeConfig(values));
    if (options.now) vi.setSystemTime(options.now);
    const registrationErrors: Error[] = [];
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const capture = (reason: unknown) => void registrationErrors.push(reason instanceof Error ? reason : new Error(String(reason)));
    process.on("unhandledRejection", capture);
    try {
        const program = (await import("../../infra/index")) as Record<string, unknown>;
        const exports: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(program)) {
            // An export the program computes (the stack's, once every app is registered) fails as the deployment would.
            try {
                exports[name] = await valueOf(pulumi.output(await value));
            } catch (error) {
                registrationErrors.push(error instanceof Error ? error : new Error(String(error)));
            }
        }
        // A program that failed may leave registrations that wait forever on a value that failed (the SDK never
        // sends them, and the engine drops them when the process exits): the program settled them itself, so
        // wait for the monitor only when nothing failed.
        if (registrationErrors.length === 0) await settle();
        // Rejections are reported on the next turns of the event loop.
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { mocks, exports, probes, probeEndpoints, registrationErrors };
    } finally {
        process.off("unhandledRejection", capture);
        for (const listener of others) process.on("unhandledRejection", listener);
        if (options.now) vi.useRealTimers();
        vi.doUnmock("../../azure/probe");
    }
}
