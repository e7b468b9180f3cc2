import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyProbeFailure, CredentialVerificationError, defaultReplicationWindowMs, entraProbe, type ProbeTarget, verifyCredential, verifyOptionsFromEnv } from "../azure/probe";
import { type Emulator, startEmulator } from "./support/emulator";

/**
 * The verify gate's probe, for real: @azure/identity against the local emulator, and how the gate takes each
 * failure. A failure that waiting cannot fix stops it at once (a permanent one retried eight times costs
 * about four minutes per credential); one Entra's replication explains is retried, but only for a while
 * after the credential was made.
 */

const minute = 60_000;
const quick = { attempts: 8, initialDelayMs: 1, maxDelayMs: 2 };

let emulator: Emulator;
beforeAll(async () => {
    emulator = await startEmulator();
});
afterAll(async () => {
    await emulator.close();
});

function probe() {
    return entraProbe({ authorityHost: emulator.authorityHost, disableInstanceDiscovery: true });
}

/** A secret of a new application in the emulator, as the program hands it to the gate. */
function secretTarget(options: { createdAt?: string; replication?: number } = {}): { target: ProbeTarget; keyId: string; appId: string } {
    const app = emulator.state.addApplication({ displayName: `probe-${randomUUID().slice(0, 8)}` });
    const { secretText, credential } = emulator.state.addPassword(app, { lifetimeDays: 30, ...(options.replication ? { replication: { attempts: options.replication } } : {}) });
    const target: ProbeTarget = { label: "app/main", tenantId: emulator.tenantId, clientId: app.appId, kind: "secret", secret: secretText, ...(options.createdAt ? { createdAt: options.createdAt } : {}) };
    return { target, keyId: credential.keyId, appId: app.appId };
}

/** Counts the probe's attempts. */
function counted(inner = probe()) {
    let calls = 0;
    return { probe: async (t: ProbeTarget) => void (calls++, await inner(t)), calls: () => calls };
}

describe("the verify gate against the emulator (the real @azure/identity)", () => {
    it("signs in with a secret Entra knows, at the first attempt", async () => {
        const { target } = secretTarget();
        const { probe: p, calls } = counted();
        expect(await verifyCredential(p, target, quick)).toBe(1);
        expect(calls()).toBe(1);
    });

    it("retries a new secret while Entra replicates it (AADSTS7000215), then signs in", async () => {
        const { target } = secretTarget({ createdAt: new Date().toISOString(), replication: 3 });
        const { probe: p, calls } = counted();
        expect(await verifyCredential(p, target, quick)).toBe(4);
        expect(calls()).toBe(4);
    });

    it("stops at once for a tenant that does not exist (metadata 400 invalid_tenant, which MSAL reports as endpoints_resolution_error)", async () => {
        const { target } = secretTarget();
        const unknown = { ...target, tenantId: randomUUID() };
        emulator.setFaults({ unknownTenant: {} });
        try {
            const { probe: p, calls } = counted();
            const error = await verifyCredential(p, unknown, quick).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(CredentialVerificationError);
            expect(calls()).toBe(1);
            const message = (error as Error).message;
            expect(message).toContain("cannot authenticate (the tenant does not exist in this cloud");
            expect(message).toMatch(/endpoints_resolution_error.*\[the sign-in service answered 400 invalid_tenant \(AADSTS90002/);
            expect(message).not.toContain(target.secret);
        } finally {
            emulator.clearFaults();
        }
    });

    it("stops at once for a tenant that does not exist where the metadata is built in (AADSTS90002 from the token endpoint)", async () => {
        const { target } = secretTarget();
        emulator.setFaults({ unknownTenant: { metadata: "served" } });
        try {
            const { probe: p, calls } = counted();
            const error = (await verifyCredential(p, { ...target, tenantId: randomUUID() }, quick).catch((e: unknown) => e)) as CredentialVerificationError;
            expect(calls()).toBe(1);
            expect(error.permanent).toMatch(/^the tenant does not exist in this cloud, AADSTS90002$/);
        } finally {
            emulator.clearFaults();
        }
    });

    it("stops at once for an application Entra does not know, past the replication window (AADSTS700016); retries it just after", async () => {
        const { target } = secretTarget();
        const stranger = { ...target, clientId: randomUUID() };
        const old = counted();
        const error = (await verifyCredential(old.probe, { ...stranger, createdAt: new Date(Date.now() - 2 * defaultReplicationWindowMs).toISOString() }, quick).catch((e: unknown) => e)) as CredentialVerificationError;
        expect(old.calls()).toBe(1);
        expect(error.permanent).toMatch(/^Entra does not know this application 20 minutes after it was made, past Entra's replication, AADSTS700016$/);
        const fresh = counted();
        await expect(verifyCredential(fresh.probe, { ...stranger, createdAt: new Date().toISOString() }, { ...quick, attempts: 3 })).rejects.toThrow(/did not authenticate after 3 attempts/);
        expect(fresh.calls()).toBe(3);
    });

    it("stops at once for a secret Entra does not know, past the replication window (AADSTS7000215)", async () => {
        const { target, keyId, appId } = secretTarget({ createdAt: new Date(Date.now() - 3 * 3_600_000).toISOString() });
        // Deleted by hand in the portal: the value is no credential of the application any more.
        emulator.state.removeCredential(appId, keyId);
        const { probe: p, calls } = counted();
        const error = (await verifyCredential(p, target, quick).catch((e: unknown) => e)) as CredentialVerificationError;
        expect(calls()).toBe(1);
        expect(error.permanent).toBe("Entra does not know this client secret 3 hours after it was made, past Entra's replication, AADSTS7000215");
    });

    it("stops at once for a disabled application (AADSTS7000112)", async () => {
        const { target, appId } = secretTarget();
        emulator.state.servicePrincipalOf(appId)!.accountEnabled = false;
        const { probe: p, calls } = counted();
        const error = (await verifyCredential(p, target, quick).catch((e: unknown) => e)) as CredentialVerificationError;
        expect(calls()).toBe(1);
        expect(error.permanent).toBe("the application is disabled, AADSTS7000112");
    });

    it("retries while the sign-in service is unavailable (503 temporarily_unavailable), and signs in when it is back", async () => {
        const { target } = secretTarget();
        emulator.setFaults({ signInOutage: {} });
        const inner = probe();
        let calls = 0;
        const p = async (t: ProbeTarget) => {
            calls++;
            if (calls === 3) emulator.clearFaults();
            await inner(t);
        };
        try {
            expect(await verifyCredential(p, target, quick)).toBe(3);
        } finally {
            emulator.clearFaults();
        }
    });
});

describe("classifyProbeFailure", () => {
    const answer400 = { status: 400, error: "invalid_tenant", entra: "AADSTS90002: Tenant 'x' not found." };
    it.each([
        ["AADSTS7000215 just made", "AADSTS7000215: Invalid client secret provided.", undefined, 0, "replicating"],
        ["AADSTS7000215 at the window's end", "AADSTS7000215: Invalid client secret provided.", undefined, defaultReplicationWindowMs, "replicating"],
        ["AADSTS7000215 just past the window", "AADSTS7000215: Invalid client secret provided.", undefined, defaultReplicationWindowMs + 1, "permanent"],
        ["AADSTS700027 just made", "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.", undefined, 0, "replicating"],
        ["AADSTS700027 past the window", "AADSTS700027: ...", undefined, defaultReplicationWindowMs + minute, "permanent"],
        ["AADSTS700016 just made", "AADSTS700016: Application with identifier 'c' was not found", undefined, 0, "replicating"],
        ["AADSTS90002", "AADSTS90002: Tenant 'x' not found.", undefined, 0, "permanent"],
        ["AADSTS7000222", "AADSTS7000222: The provided client secret keys are expired.", undefined, 0, "permanent"],
        ["AADSTS53003", "AADSTS53003: Access has been blocked by Conditional Access policies.", undefined, 0, "permanent"],
        ["endpoints_resolution_error after 400 invalid_tenant", "endpoints_resolution_error: Endpoints cannot be resolved", answer400, 0, "permanent"],
        ["endpoints_resolution_error after a 503", "endpoints_resolution_error: Endpoints cannot be resolved", { status: 503 }, 0, "transient"],
        ["endpoints_resolution_error with no answer seen", "endpoints_resolution_error: Endpoints cannot be resolved", undefined, 0, "transient"],
        ["503 temporarily_unavailable", "temporarily_unavailable: AADSTS90033: A transient error has occurred.", { status: 503, error: "temporarily_unavailable" }, 0, "transient"],
        ["a network error", "network_error: connect ECONNREFUSED", { network: "ECONNREFUSED" }, 0, "transient"],
    ] as const)("%s: %s", (_name, text, answer, since, kind) => {
        expect(classifyProbeFailure(text, answer, since).kind).toBe(kind);
    });
});

describe("the gate's options from the environment", () => {
    it("reads ROTOR_VERIFY_ATTEMPTS and ROTOR_VERIFY_FIRST_DELAY_MS, and refuses what is out of bounds, naming the variable", () => {
        expect(verifyOptionsFromEnv({})).toEqual({});
        expect(verifyOptionsFromEnv({ ROTOR_VERIFY_ATTEMPTS: "12", ROTOR_VERIFY_FIRST_DELAY_MS: "5000" })).toEqual({ attempts: 12, initialDelayMs: 5000 });
        expect(verifyOptionsFromEnv({ ROTOR_VERIFY_ATTEMPTS: "1" })).toEqual({ attempts: 1 });
        expect(verifyOptionsFromEnv({ ROTOR_VERIFY_ATTEMPTS: "20" })).toEqual({ attempts: 20 });
        for (const bad of ["0", "21", "2.5", "many", "-1"]) expect(() => verifyOptionsFromEnv({ ROTOR_VERIFY_ATTEMPTS: bad })).toThrow(/^ROTOR_VERIFY_ATTEMPTS must be a whole number from 1 to 20/);
        expect(() => verifyOptionsFromEnv({ ROTOR_VERIFY_FIRST_DELAY_MS: "60001" })).toThrow(/^ROTOR_VERIFY_FIRST_DELAY_MS must be a whole number from 1 to 60000/);
    });
});
