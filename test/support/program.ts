import * as path from "node:path";
import { vi } from "vitest";
import type { StackConfigInput } from "../../infra/model/model";
import { readStackConfig } from "../../infra/model/stackFiles";
import type { ProbeEndpoints, ProbeTarget } from "../../azure/probe";
import { type Emulator, startEmulator } from "./emulator";
import { type MockApi, ProviderMocks, defaultApis, mockTenantId, settle, valueOf } from "./pulumiMocks";

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
    /** The exports marked secret (a secret anywhere inside one marks it whole). */
    readonly secretExports: readonly string[];
    /** Every credential the program's verify gate tried to sign in with, in order (an attempt each). */
    readonly probes: readonly ProbeTarget[];
    /** Where the program's probe signs in (what it passed to entraProbe). */
    readonly probeEndpoints: readonly ProbeEndpoints[];
    /**
     * Errors of resource registrations. Under mocks nobody awaits a registration, so a failing input (a
     * proof that never succeeds) surfaces as an unhandled rejection; the engine would fail the deployment.
     */
    readonly registrationErrors: readonly Error[];
}

export interface ProgramRunOptions {
    /** The run's instant (the program's clock, and the emulator's). */
    readonly now?: Date;
    readonly preview?: boolean;
    /** The APIs' service principals as the tenant has them. */
    readonly apis?: Map<string, MockApi>;
    /** Provider mocks of the caller's (a simulated engine's); they must mirror into `emulator`. */
    readonly mocks?: ProviderMocks;
    /** The tenant the run deploys into and signs in at; default: an emulator of its own, closed after the run. */
    readonly emulator?: Emulator;
    /** Credentials (by resource name) the token endpoint refuses for this many sign-ins, as while Entra replicates them. */
    readonly refuse?: ReadonlyMap<string, number>;
    /** Apps (by name) whose service principal is disabled. */
    readonly disabledApps?: readonly string[];
    /**
     * Variables the program sees, over the defaults (the emulator's authority with ROTOR_ALLOW_LOCAL_ENDPOINTS=1, a quick gate:
     * ROTOR_VERIFY_FIRST_DELAY_MS=5); an empty string unsets one.
     */
    readonly env?: Readonly<Record<string, string>>;
}

/** How long the gate waits before its second attempt in tests: attempts stay 8, as in a pipeline. */
export const testVerifyFirstDelayMs = "5";

/**
 * Evaluates infra/index.ts, the real program, under Pulumi's mock runtime with the given config, at `now`.
 * Modules are reset first so that each run is a fresh program, as each `pulumi up` is. The provider mocks
 * make the applications and credentials in the local emulator, and the program's verify gate signs in there
 * with the real @azure/identity (the probe is observed, never replaced): nothing leaves the machine.
 */
export async function runProgram(values: Record<string, unknown>, options: ProgramRunOptions = {}): Promise<ProgramRun> {
    vi.resetModules();
    const now = options.now ?? new Date();
    const emulator = options.emulator ?? (await startEmulator({ tenantId: mockTenantId, now }));
    const probes: ProbeTarget[] = [];
    const probeEndpoints: ProbeEndpoints[] = [];
    // Observed, not replaced: the real entraProbe signs in at whatever endpoints the program resolved.
    vi.doMock("../../azure/probe", async (importOriginal) => {
        const real = await importOriginal<typeof import("../../azure/probe")>();
        return {
            ...real,
            entraProbe: (endpoints: ProbeEndpoints = {}) => {
                probeEndpoints.push(endpoints);
                const probe = real.entraProbe(endpoints);
                return async (target: ProbeTarget) => {
                    probes.push(target);
                    await probe(target);
                };
            },
        };
    });
    const env = { AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1", ROTOR_CLOUD: "", ROTOR_VERIFY_ATTEMPTS: "", ROTOR_VERIFY_FIRST_DELAY_MS: testVerifyFirstDelayMs, ...options.env };
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    for (const [key, value] of Object.entries(env)) {
        if (value === "") delete process.env[key];
        else process.env[key] = value;
    }
    const pulumi = await import("@pulumi/pulumi");
    const tenant = { emulator, ...(options.refuse ? { refuse: options.refuse } : {}), ...(options.disabledApps ? { disabledApps: options.disabledApps } : {}) };
    const mocks = options.mocks ?? new ProviderMocks(options.apis ?? defaultApis(), tenant);
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", options.preview ?? false);
    pulumi.runtime.setAllConfig(asRuntimeConfig(values));
    vi.setSystemTime(now);
    const registrationErrors: Error[] = [];
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const capture = (reason: unknown) => void registrationErrors.push(reason instanceof Error ? reason : new Error(String(reason)));
    process.on("unhandledRejection", capture);
    try {
        const program = (await import("../../infra/index")) as Record<string, unknown>;
        const exports: Record<string, unknown> = {};
        const secretExports: string[] = [];
        for (const [name, value] of Object.entries(program)) {
            // An export the program computes (the stack's, once every app is registered) fails as the deployment would.
            try {
                const output = pulumi.output(await value);
                // A secret anywhere inside makes the whole export read [secret] in `pulumi stack output`.
                if (await pulumi.isSecret(output)) secretExports.push(name);
                exports[name] = await valueOf(output);
            } catch (error) {
                registrationErrors.push(error instanceof Error ? error : new Error(String(error)));
            }
        }
        // A program that failed may leave registrations that wait forever on a value that failed (the SDK never
        // sends them, and the engine drops them when the process exits): the program settled them itself, so
        // wait for the monitor only when nothing failed.
        if (registrationErrors.length === 0) await settle();
        // Node reports a rejection nobody handled once the microtasks of a turn of the event loop have run:
        // two turns (setImmediate) see every one a registration raised, without waiting for time to pass.
        for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
        return { mocks, exports, secretExports, probes, probeEndpoints, registrationErrors };
    } finally {
        process.off("unhandledRejection", capture);
        for (const listener of others) process.on("unhandledRejection", listener);
        vi.useRealTimers();
        vi.doUnmock("../../azure/probe");
        for (const [key, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
        if (!options.emulator) await emulator.close();
    }
}
