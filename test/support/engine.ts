import type * as pulumi from "@pulumi/pulumi";
import { type Emulator, startEmulator } from "./emulator";
import { type ProgramRun, runProgram } from "./program";
import { type MockApi, mockTenantId, ProviderMocks, type RegisteredResource, types, unwrapSecret } from "./pulumiMocks";

/**
 * What the Pulumi engine does with a program's registrations across runs, as far as the rotation depends on
 * it (https://www.pulumi.com/docs/iac/concepts/how-pulumi-works/):
 * - a resource registered with the inputs it has in the state is left as it is (same id, same outputs: a
 *   password keeps the value Entra returned when it was made);
 * - one registered with other inputs is replaced: the replacement is made first, and the resource it
 *   replaces is deleted only when the update succeeds (until then it stays in the state, pending deletion,
 *   and in the tenant, still valid);
 * - one whose create fails keeps what it had;
 * - a failed program deletes nothing it did not register; a successful one deletes everything it no longer
 *   registers.
 * Each `up` runs the real program (infra/index.ts) under the mock runtime at the instant given.
 */

/** A resource as the state and the tenant hold it. */
export interface Stored {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly id: string;
    readonly state: Record<string, unknown>;
}

/** What to break in one run. */
export interface Faults {
    /** Resources (by name) whose create or replacement the service refuses, as Graph does with a 503. */
    readonly failCreate?: readonly string[];
    /**
     * Credentials (by resource name) made in this run that the token endpoint refuses for this many sign-ins,
     * as while Entra replicates them: the gate's eight attempts fail, a later run's succeed.
     */
    readonly refuse?: ReadonlyMap<string, number>;
    /** Apps (by name) whose service principal is disabled during this run (AADSTS7000112 to every sign-in). */
    readonly disabledApps?: readonly string[];
    /** The APIs' service principals as the tenant has them (default: Microsoft Graph and Exchange Online). */
    readonly apis?: Map<string, MockApi>;
}

export interface UpResult {
    readonly run: ProgramRun;
    /** Whether the program failed (the update exits non-zero). */
    readonly failed: boolean;
    /** The errors the run reported, first lines. */
    readonly errors: readonly string[];
    /** Names of the resources created or replaced by this run. */
    readonly changed: readonly string[];
}

const key = (type: string, name: string) => `${type}::${name}`;

/** Resources the service refuses to make, with Graph's answer to an overloaded tenant. */
export class ServiceUnavailable extends Error {
    constructor(name: string) {
        super(`creating ${name}: unexpected status 503 (503 Service Unavailable) with error: serviceNotAvailable: The service is temporarily unavailable. Please retry later.`);
        this.name = "ServiceUnavailable";
    }
}

class StatefulMocks extends ProviderMocks {
    readonly changed: string[] = [];
    readonly registered = new Set<string>();

    constructor(
        private readonly stack: SimulatedStack,
        private readonly faults: Faults,
        emulator: Emulator,
    ) {
        super(faults.apis, { emulator, ...(faults.refuse ? { refuse: faults.refuse } : {}), ...(faults.disabledApps ? { disabledApps: faults.disabledApps } : {}) });
    }

    override newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const k = key(args.type, args.name);
        const existing = this.stack.state.get(k);
        if (existing && sameInputs(existing.inputs, args.inputs as Record<string, unknown>)) {
            this.registered.add(k);
            this.resources.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, id: existing.id, state: existing.state });
            return { id: existing.id, state: existing.state };
        }
        if (this.faults.failCreate?.includes(args.name)) throw new ServiceUnavailable(args.name);
        const made = super.newResource(args);
        this.registered.add(k);
        this.changed.push(args.name);
        return made;
    }
}

function sameInputs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A stack's state, kept across `up`s, and the tenant it deploys into: an emulator where the provider mocks
 * make applications and credentials, and where the program's verify gate signs in for real. Close it after.
 */
export class SimulatedStack {
    /** The state: the current resource of every name. */
    readonly state = new Map<string, Stored>();
    /** Resources replaced during a failed update: still in the tenant (and valid) until an update succeeds. */
    readonly pendingDelete: Stored[] = [];
    private emulator: Emulator | undefined;

    constructor(private readonly values: () => Record<string, unknown>) {}

    /** `pulumi up` at `now`, with `faults`. */
    async up(now: Date, faults: Faults = {}): Promise<UpResult> {
        const emulator = (this.emulator ??= await startEmulator({ tenantId: mockTenantId, now }));
        emulator.clock.set(now);
        this.disable(emulator, faults.disabledApps ?? []);
        const mocks = new StatefulMocks(this, faults, emulator);
        const run = await runProgram(this.values(), { now, mocks, emulator });
        const failed = run.registrationErrors.length > 0;
        const registered = new Map(mocks.resources.map((r: RegisteredResource) => [key(r.type, r.name), r]));
        for (const [k, resource] of registered) {
            const before = this.state.get(k);
            if (before && before.id !== resource.id) this.pendingDelete.push(before);
            this.state.set(k, { type: resource.type, name: resource.name, inputs: resource.inputs, id: resource.id, state: resource.state });
        }
        if (!failed) {
            for (const [k, resource] of [...this.state]) {
                if (registered.has(k)) continue;
                this.state.delete(k);
                this.pendingDelete.push(resource);
            }
            // The engine deletes what was replaced or is no longer declared: the credentials leave Entra.
            for (const gone of this.pendingDelete) if (gone.state["keyId"] && gone.inputs["applicationId"]) emulator.state.removeCredential(String(gone.inputs["applicationId"]).replace(/^\/applications\//, ""), String(gone.state["keyId"]));
            this.pendingDelete.length = 0;
        }
        this.disable(emulator, []);
        return { run, failed, errors: run.registrationErrors.map((e) => e.message.split("\n")[0]!), changed: mocks.changed };
    }

    /** Disables the service principals of these apps (by name in config), and enables every other. */
    private disable(emulator: Emulator, apps: readonly string[]): void {
        for (const stored of this.state.values()) {
            if (stored.type !== types.application) continue;
            const principal = emulator.state.servicePrincipalOf(String(stored.state["objectId"]));
            if (principal) principal.accountEnabled = !apps.includes(stored.name.replace(/-app$/, ""));
        }
    }

    /** Stops the tenant's emulator. */
    async close(): Promise<void> {
        await this.emulator?.close();
        this.emulator = undefined;
    }

    /** A resource by type and name, as the state has it. */
    get(type: string, name: string): Stored | undefined {
        return this.state.get(key(type, name));
    }

    /** The value Key Vault serves under a secret name, and its tags. */
    served(app: string, secretName: string): { value: string; tags: Record<string, string>; expires?: number } | undefined {
        const secret = this.get(types.keyVaultSecret, `${app}-keyvault-${secretName}`);
        if (!secret) return undefined;
        const properties = unwrapSecret(secret.inputs["properties"]) as { value: unknown; attributes?: { expires?: number } };
        return { value: String(unwrapSecret(properties.value)), tags: secret.inputs["tags"] as Record<string, string>, ...(properties.attributes?.expires !== undefined ? { expires: properties.attributes.expires } : {}) };
    }

    /** Every password the tenant has for an application resource (current and pending deletion), with its value. */
    passwords(): { name: string; keyId: string; value: string; end: string; generation: string }[] {
        return [...this.state.values(), ...this.pendingDelete]
            .filter((r) => r.type === types.applicationPassword)
            .map((r) => ({
                name: r.name,
                keyId: String(r.state["keyId"]),
                value: String(unwrapSecret(r.state["value"])),
                end: String(r.inputs["endDate"]),
                generation: String((r.inputs["rotateWhenChanged"] as { generation: string }).generation),
            }));
    }

    /** The password of a slot as the state has it now. */
    slotPassword(app: string, credential: string, slot: 0 | 1): { keyId: string; value: string; generation: string } | undefined {
        return this.passwords().find((p) => p.name === `${app}-${credential}-slot${slot}` && this.state.get(key(types.applicationPassword, p.name))?.state["keyId"] === p.keyId);
    }
}
