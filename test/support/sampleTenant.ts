import type { TokenCredential } from "@azure/core-auth";
import { main } from "../../cli/main";
import { buildModelOrThrow, type StackModel } from "../../infra/model/model";
import { type Deployment, deployToEmulator, emulatorIo, operator } from "./deployedStack";
import { type Emulator, startEmulator } from "./emulator";
import { repoRoot, sampleStack } from "./program";

/** The sample stack as `pulumi up` leaves it at `deployedAt`, in an emulator of its own, and the identity that reads it. */
export interface SampleTenant {
    readonly emulator: Emulator;
    readonly model: StackModel;
    readonly deployment: Deployment;
    readonly operator: ReturnType<typeof operator>;
}

/** Starts the emulator and deploys the sample; the operator holds `permissions` (operator()'s default without). */
export async function deploySample(deployedAt: Date, permissions?: readonly string[]): Promise<SampleTenant> {
    const emulator = await startEmulator({ now: deployedAt });
    const model = buildModelOrThrow(sampleStack(), deployedAt);
    const deployment = await deployToEmulator(emulator, model, deployedAt);
    return { emulator, model, deployment, operator: operator(emulator, permissions) };
}

/**
 * `rotor <args> --dir <dir>` in this process, at `now` (the emulator's clock too), signed in as `credential`.
 * `dir` is the repository's root by default; a test that changes the stack files passes a copy of the sample
 * project (sampleProject() in cli.ts), whose stack deploys as the sample does.
 */
export async function rotorAt(tenant: Pick<SampleTenant, "emulator" | "deployment">, credential: TokenCredential, args: readonly string[], now: Date, dir: string = repoRoot) {
    const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
    tenant.emulator.clock.set(now);
    const code = await main([...args, "--dir", dir], emulatorIo(tenant.emulator, tenant.deployment, credential, now, out));
    return { code, ...out };
}
