import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { ProbeTarget } from "../azure/probe";
import { buildModelOrThrow, type StackConfigInput } from "../infra/model/model";
import { defaultAppsInFlight, defineStack } from "../infra/program";
import { ProviderMocks, settle, types } from "./support/pulumiMocks";

/**
 * The program registers apps in a bounded window (infra/program.ts: the SDK holds every pending
 * registration, so a 1,000-app stack registered at once held gigabytes). These tests drive the window
 * through the verify gate's probe, which the program awaits before it serves a credential.
 */

const at = new Date("2027-03-01T06:00:00Z");

function stackOf(count: number): StackConfigInput {
    const apps = Array.from({ length: count }, (_, i) => ({
        name: `app-${i}`,
        permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"] }],
        credentials: [{ name: "main", type: "secret" }],
    }));
    return { project: "entra-rotor", stack: "dev", values: { apps, keyVault: { name: "kv-window", resourceGroup: "rg" } }, source: "test" };
}

/** The apps whose application the program has registered, in order. */
function started(mocks: ProviderMocks): string[] {
    return mocks.ofType(types.application).map((r) => r.name.replace(/-app$/, ""));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
}

/** Lets the mock monitor answer everything it can, without waiting for what is held back. */
async function drain(): Promise<void> {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

describe("the program's window of apps in flight", () => {
    it("registers every resource of every app, the same whatever the window", async () => {
        const names: string[][] = [];
        for (const appsInFlight of [1, 3, 100]) {
            const mocks = new ProviderMocks();
            await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", false);
            const stack = await defineStack(buildModelOrThrow(stackOf(7), at), { probe: async () => undefined, appsInFlight });
            await settle();
            expect(Object.keys(stack.apps)).toEqual(["app-0", "app-1", "app-2", "app-3", "app-4", "app-5", "app-6"]);
            names.push(mocks.resources.map((r) => `${r.type}::${r.name}`).sort());
        }
        expect(names[0]!.length).toBeGreaterThan(7 * 8);
        expect(names[1]).toEqual(names[0]);
        expect(names[2]).toEqual(names[0]);
    });

    it("starts an app only when one of the window's apps has registered everything", async () => {
        const held = new Map<string, ReturnType<typeof deferred>>();
        const probe = async (target: ProbeTarget) => {
            const gate = deferred();
            held.set(target.label, gate);
            await gate.promise;
        };
        const mocks = new ProviderMocks();
        await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", false);
        const defined = defineStack(buildModelOrThrow(stackOf(5), at), { probe, appsInFlight: 2 });
        await drain();
        expect(started(mocks)).toEqual(["app-0", "app-1"]);
        expect([...held.keys()].sort()).toEqual(["app-0/main", "app-1/main"]);
        held.get("app-1/main")!.resolve();
        await drain();
        expect(started(mocks)).toEqual(["app-0", "app-1", "app-2"]);
        for (const gate of held.values()) gate.resolve();
        for (let i = 0; i < 10 && held.size < 5; i++) {
            await drain();
            for (const gate of held.values()) gate.resolve();
        }
        const stack = await defined;
        expect(Object.keys(stack.apps)).toHaveLength(5);
    });

    it("registers every app when one fails, then fails the deployment naming it", async () => {
        const probe = async (target: ProbeTarget) => {
            if (target.label === "app-1/main") throw new Error("AADSTS700016: Application with identifier 'x' was not found in the directory.");
        };
        const mocks = new ProviderMocks();
        await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", false);
        const rejections: unknown[] = [];
        const capture = (reason: unknown) => void rejections.push(reason);
        process.on("unhandledRejection", capture);
        let failure: unknown;
        try {
            failure = await defineStack(buildModelOrThrow(stackOf(40), at), { probe, appsInFlight: 1, verify: { attempts: 1 } }).catch((e: unknown) => e);
            await drain();
        } finally {
            process.off("unhandledRejection", capture);
        }
        // A window of 1: every app after the failing one was still started, and served.
        expect(started(mocks)).toHaveLength(40);
        const served = mocks.ofType(types.keyVaultSecret).map((r) => String(r.inputs["secretName"])).filter((name) => name.endsWith("-main"));
        expect(served).toHaveLength(39);
        expect(served).not.toContain("app-1-main");
        expect(failure).toBeInstanceOf(pulumi.RunError);
        expect((failure as Error).message).toMatch(/^1 failure in stack dev; everything else was deployed/);
        expect((failure as Error).message).toMatch(/app-1\/main: the new secret \(generation \d+, slot [01]\) did not authenticate after 1 attempt/);
        // The engine logs the proof's error once, for the app, without a stack trace.
        expect(rejections.some((r) => r instanceof pulumi.ResourceError && /Key Vault keeps serving the previous value/.test(r.message))).toBe(true);
    });

    it("refuses a window that is not a whole number of at least 1", async () => {
        const model = buildModelOrThrow(stackOf(1), at);
        await expect(defineStack(model, { appsInFlight: 0 })).rejects.toThrow(RangeError);
        await expect(defineStack(model, { appsInFlight: 1.5 })).rejects.toThrow(RangeError);
        expect(defaultAppsInFlight).toBeGreaterThanOrEqual(8);
    });
});
