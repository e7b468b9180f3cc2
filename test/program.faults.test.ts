import { afterEach, describe, expect, it, vi } from "vitest";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import type { CredentialModel } from "../infra/model/credentials";
import { phaseDays, scheduleAt, slotsReplacedBetween } from "../rotation/schedule";
import { SimulatedStack } from "./support/engine";
import { containsMockSecret, defaultApis, graphApi, types } from "./support/pulumiMocks";
import { graphCatalog } from "../infra/model/catalog";

const graphAppId = graphCatalog.resourceAppId;

/**
 * A bad day, as a platform team with many apps lives it: on a morning when several credentials rotate, one
 * thing fails (a proof that does not sign in, Graph refusing one create with a 503, a partner's certificate
 * that expired). The real program runs under the mock runtime against a simulated engine that keeps the
 * state between runs as Pulumi does (test/support/engine.ts). In each case every other due credential is
 * rotated and served, the failing one keeps serving its previous value, the run fails, and the next run,
 * with the fault gone, catches up with every invariant intact.
 */

const dayMs = 86_400_000;
const partnerFile = "certs/device-inventory-partner.cer"; // expires 2027-12-31
const renewedPartnerFile = "test/fixtures/certificates/rsa2048.cer"; // valid 2025-2035

/** Every simulated stack of a test, closed after it (each holds its tenant's emulator). */
const stacks: SimulatedStack[] = [];
function simulated(values: () => Record<string, unknown>): SimulatedStack {
    const stack = new SimulatedStack(values);
    stacks.push(stack);
    return stack;
}

afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(stacks.splice(0).map((stack) => stack.close()));
});

/** Names of the form `<prefix>-<n>` whose credential's phase is (or is not) `phase` days: who rotates together. */
function namesWithPhase(prefix: string, credential: string, count: number, matches: (phase: number) => boolean): string[] {
    const names: string[] = [];
    for (let i = 0; names.length < count; i++) if (matches(phaseDays(`dev/${prefix}-${i}/${credential}`, 30))) names.push(`${prefix}-${i}`);
    return names;
}

/** Four secrets and a generated certificate that rotate on the same morning, four secrets that do not, and a partner's certificate file. */
const together = namesWithPhase("app", "main", 4, (phase) => phase === 5);
const apart = namesWithPhase("app", "main", 4, (phase) => phase !== 5);
const signer = namesWithPhase("signer", "web", 1, (phase) => phase === 5)[0]!;

function stackValues(partner: string = partnerFile): Record<string, unknown> {
    const secretApps = [...together, ...apart].map((name) => ({
        name,
        permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"] }],
        credentials: [{ name: "main", type: "secret" }],
    }));
    return {
        rotation: { rotateEveryDays: 30, lifetimeDays: 67 },
        keyVault: { name: "kv-faults", resourceGroup: "rg-faults" },
        apps: [
            ...secretApps,
            { name: signer, credentials: [{ name: "web", type: "certificate" }] },
            { name: "partner", credentials: [{ name: "importer", type: "secret" }, { name: "partner", type: "certificate", file: partner }] },
        ],
    };
}

function modelAt(at: Date, partner?: string): StackModel {
    return buildModelOrThrow({ project: "entra-rotor", stack: "dev", values: stackValues(partner), source: "test", baseDir: process.cwd() }, at);
}

interface Rotating {
    readonly app: string;
    readonly credential: CredentialModel;
    readonly label: string;
}

function rotating(model: StackModel): Rotating[] {
    return model.apps.flatMap((app) => app.credentials.map((credential) => ({ app: app.name, credential, label: `${app.name}/${credential.name}` })));
}

/** The credentials a run at `at` rotates after a run at `last`. */
function dueBetween(model: StackModel, last: Date, at: Date): Rotating[] {
    return rotating(model).filter((r) => slotsReplacedBetween(last, at, r.credential.policy, r.credential.phase) > 0);
}

/** The first morning from `from` on which at least `count` credentials rotate, secrets among them. */
function busyMorning(from: string, count: number): Date {
    for (let day = Date.parse(from); day < Date.parse(from) + 60 * dayMs; day += dayMs) {
        const at = new Date(day);
        const due = dueBetween(modelAt(at), new Date(day - dayMs), at);
        if (due.length >= count && due.filter((r) => r.credential.type === "secret").length >= 2) return at;
    }
    throw new Error(`no morning within 60 days of ${from} on which ${count} credentials rotate`);
}

/**
 * What a successful run at `at` leaves: Key Vault serves each credential's newest generation, the value of
 * the password (or key credential) its served slot holds, which has at least L - R days left; the other
 * slot holds the generation before.
 */
function expectServedAsScheduled(stack: SimulatedStack, model: StackModel, at: Date, except: readonly string[] = []): void {
    for (const { app, credential, label } of rotating(model)) {
        if (except.includes(label)) continue;
        const { served, previous } = scheduleAt(at, credential.policy, credential.phase);
        const inVault = stack.served(app, credential.keyVaultSecretName);
        expect(inVault, label).toBeDefined();
        expect(inVault!.tags["generation"], label).toBe(String(served.generation));
        expect(inVault!.tags["slot"], label).toBe(String(served.slot));
        expect((Date.parse(served.end) - at.getTime()) / dayMs, label).toBeGreaterThanOrEqual(credential.policy.lifetimeDays - credential.policy.rotateEveryDays);
        if (credential.type === "secret") {
            const current = stack.slotPassword(app, credential.name, served.slot)!;
            expect(current.generation, label).toBe(String(served.generation));
            expect(inVault!.value, label).toBe(current.value);
            expect(inVault!.tags["keyId"], label).toBe(current.keyId);
            expect(stack.slotPassword(app, credential.name, previous.slot)!.generation, label).toBe(String(previous.generation));
        } else {
            const upload = stack.get(types.applicationCertificate, `${app}-${credential.name}-slot${served.slot}`)!;
            expect(inVault!.tags["keyId"], label).toBe(upload.state["keyId"]);
            expect(upload.inputs["endDate"], label).toBe(served.end);
        }
    }
}

/** A run at the same instant again changes nothing. */
async function expectIdempotent(stack: SimulatedStack, at: Date): Promise<void> {
    const again = await stack.up(at);
    expect(again.failed).toBe(false);
    expect(again.changed).toEqual([]);
}

describe("a bad day: one failure, every other credential still rotates", () => {
    it("(a) a credential whose proof fails keeps serving its previous value; the others rotate and are served; the next run catches up", async () => {
        const day = busyMorning("2027-06-01T06:00:00Z", 5);
        const yesterday = new Date(day.getTime() - dayMs);
        const model = modelAt(day);
        const due = dueBetween(model, yesterday, day);
        const victim = due.find((r) => r.credential.type === "secret")!;
        const stack = simulated(() => stackValues());

        const first = await stack.up(yesterday);
        expect(first.errors).toEqual([]);
        expectServedAsScheduled(stack, modelAt(yesterday), yesterday);
        const before = new Map(rotating(model).map((r) => [r.label, stack.served(r.app, r.credential.keyVaultSecretName)!.value]));

        const { served, previous, nextRotation } = victim.credential.schedule;
        // Entra refuses the new secret for longer than the gate's eight attempts (the real probe, over the wire).
        const bad = await stack.up(day, { refuse: new Map([[`${victim.app}-main-slot${served.slot}`, 8]]) });

        expect(bad.failed).toBe(true);
        expect(bad.run.probes.filter((p) => p.label === victim.label)).toHaveLength(8);
        // Logged once by the engine (one error object, whichever resource awaited it), for the app.
        const logged = bad.errors.find((e) => e.includes(`${victim.label}: the new secret`))!;
        expect(logged).toContain(`(generation ${served.generation}, slot ${served.slot}) did not authenticate after 8 attempts`);
        expect(logged).toContain("AADSTS7000215");
        expect(logged).toContain(`Key Vault keeps serving the previous value (generation ${previous.generation}, slot ${previous.slot}), which stays valid until ${nextRotation}`);
        expect(bad.errors).toContainEqual(expect.stringMatching(/^1 failure in stack dev; everything else was deployed/));
        // What the run reports names the credential and the cause, never a value.
        expect(containsMockSecret(bad.run.registrationErrors.map((e) => e.message).join("\n"))).toBe(false);
        // The new password exists in Entra (the proof can be retried by the next run); it is not served.
        expect(stack.slotPassword(victim.app, "main", served.slot)!.generation).toBe(String(served.generation));
        const kept = stack.served(victim.app, victim.credential.keyVaultSecretName)!;
        expect(kept.value).toBe(before.get(victim.label));
        expect(kept.tags["generation"]).toBe(String(previous.generation));
        const stillValid = stack.passwords().find((p) => p.value === kept.value)!;
        expect(Date.parse(stillValid.end)).toBeGreaterThan(day.getTime());
        // Every other due credential rotated and is served; the rest changed nothing.
        expectServedAsScheduled(stack, model, day, [victim.label]);
        for (const other of due.filter((r) => r !== victim)) expect(stack.served(other.app, other.credential.keyVaultSecretName)!.value, other.label).not.toBe(before.get(other.label));

        const tomorrow = new Date(day.getTime() + dayMs);
        const next = await stack.up(tomorrow);
        expect(next.errors).toEqual([]);
        expectServedAsScheduled(stack, modelAt(tomorrow), tomorrow);
        // Caught up with the password made yesterday, proven at the first attempt: nothing new was created for it.
        expect(next.changed.filter((name) => name.startsWith(`${victim.app}-main-slot`))).toEqual([]);
        expect(next.run.probes.filter((p) => p.label === victim.label)).toHaveLength(1);
        await expectIdempotent(stack, tomorrow);
    });

    it("(a') a credential that cannot sign in for a reason no wait fixes (its app disabled) stops the gate at once; re-enabled, the next run serves it", async () => {
        const day = busyMorning("2027-06-01T06:00:00Z", 5);
        const yesterday = new Date(day.getTime() - dayMs);
        const model = modelAt(day);
        const victim = dueBetween(model, yesterday, day).find((r) => r.credential.type === "secret")!;
        const stack = simulated(() => stackValues());
        await stack.up(yesterday);
        const before = stack.served(victim.app, victim.credential.keyVaultSecretName)!.value;

        const bad = await stack.up(day, { disabledApps: [victim.app] });

        expect(bad.failed).toBe(true);
        expect(bad.run.probes.filter((p) => p.label === victim.label)).toHaveLength(1);
        expect(bad.errors.find((e) => e.includes(`${victim.label}: the new secret`))).toContain("cannot authenticate (the application is disabled, AADSTS7000112; stopped after 1 attempt: waiting cannot fix it)");
        expect(stack.served(victim.app, victim.credential.keyVaultSecretName)!.value).toBe(before);
        expectServedAsScheduled(stack, model, day, [victim.label]);

        const tomorrow = new Date(day.getTime() + dayMs);
        const next = await stack.up(tomorrow);
        expect(next.errors).toEqual([]);
        expectServedAsScheduled(stack, modelAt(tomorrow), tomorrow);
    });

    it("(b) Graph refuses one password create with a 503: that credential keeps its value, the others rotate, the next run creates it", async () => {
        const day = busyMorning("2027-07-01T06:00:00Z", 5);
        const yesterday = new Date(day.getTime() - dayMs);
        const model = modelAt(day);
        const due = dueBetween(model, yesterday, day);
        const victim = due.find((r) => r.credential.type === "secret")!;
        const { served, previous } = victim.credential.schedule;
        const refused = `${victim.app}-${victim.credential.name}-slot${served.slot}`;
        const stack = simulated(() => stackValues());
        await stack.up(yesterday);
        const before = stack.served(victim.app, victim.credential.keyVaultSecretName)!;

        const bad = await stack.up(day, { failCreate: [refused] });

        expect(bad.failed).toBe(true);
        expect(bad.errors).toContainEqual(expect.stringMatching(/^1 failure in stack dev/));
        const summary = bad.run.registrationErrors.find((e) => e.message.startsWith("1 failure"))!.message;
        expect(summary).toContain(`${victim.label}: ${refused}: creating ${refused}: unexpected status 503`);
        expect(summary).toContain(`Key Vault keeps serving the previous value (generation ${previous.generation}, slot ${previous.slot})`);
        expect(containsMockSecret(bad.run.registrationErrors.map((e) => e.message).join("\n"))).toBe(false);
        // The refused slot still holds what it held; the served value is the previous generation's, still valid.
        expect(stack.slotPassword(victim.app, "main", served.slot)!.generation).toBe(String(served.generation - 2));
        const kept = stack.served(victim.app, victim.credential.keyVaultSecretName)!;
        expect(kept).toEqual(before);
        expect(stack.slotPassword(victim.app, "main", previous.slot)!.value).toBe(kept.value);
        expectServedAsScheduled(stack, model, day, [victim.label]);

        const tomorrow = new Date(day.getTime() + dayMs);
        const next = await stack.up(tomorrow);
        expect(next.errors).toEqual([]);
        expect(next.changed).toContain(refused);
        expectServedAsScheduled(stack, modelAt(tomorrow), tomorrow);
        await expectIdempotent(stack, tomorrow);
    });

    it("(c) a brought certificate that expired is that credential's error: left as deployed, everything else rotates, the renewed file is uploaded by the next run", async () => {
        const valid = new Date("2027-12-30T06:00:00Z");
        const day = busyMorning("2028-01-01T06:00:00Z", 5);
        const model = modelAt(day);
        expect(model.credentialErrors.map((e) => e.path)).toEqual([`apps[${together.length + apart.length + 1}].credentials[1].file`]);
        let partner = partnerFile;
        const stack = simulated(() => stackValues(partner));
        await stack.up(valid);
        const uploaded = stack.get(types.applicationCertificate, "partner-partner")!;
        const before = new Map(rotating(model).map((r) => [r.label, stack.served(r.app, r.credential.keyVaultSecretName)!.value]));

        const bad = await stack.up(day);

        expect(bad.failed).toBe(true);
        expect(bad.errors).toContainEqual(expect.stringMatching(/^1 failure in stack dev/));
        const summary = bad.run.registrationErrors.find((e) => e.message.startsWith("1 failure"))!.message;
        expect(summary).toContain(`partner/partner: ${partnerFile}: the certificate expired on 2027-12-31T`);
        expect(summary).toContain("issue a new certificate and update the file");
        // Not registered, so the engine leaves it (nothing new uploaded), and everything else was deployed.
        expect(bad.run.mocks.resources.some((r) => r.name === "partner-partner")).toBe(false);
        expect(stack.get(types.applicationCertificate, "partner-partner")).toEqual(uploaded);
        expectServedAsScheduled(stack, model, day);
        const rotated = dueBetween(model, valid, day);
        expect(rotated.length).toBeGreaterThanOrEqual(5);
        for (const r of rotated) expect(stack.served(r.app, r.credential.keyVaultSecretName)!.value, r.label).not.toBe(before.get(r.label));

        partner = renewedPartnerFile;
        const tomorrow = new Date(day.getTime() + dayMs);
        const next = await stack.up(tomorrow);
        expect(next.errors).toEqual([]);
        expect(next.changed).toContain("partner-partner");
        expect(stack.get(types.applicationCertificate, "partner-partner")!.inputs["endDate"]).toBe("2035-01-01T00:00:00Z");
        expectServedAsScheduled(stack, modelAt(tomorrow, renewedPartnerFile), tomorrow);
        await expectIdempotent(stack, tomorrow);
    });

    it("an app whose permission the tenant lacks fails alone: its resources are never sent, the run still settles, every other app rotates", async () => {
        const day = busyMorning("2027-06-01T06:00:00Z", 5);
        const model = modelAt(day);
        const victim = apart[0]!;
        const values = () => {
            const v = stackValues();
            const apps = (v["apps"] as { name: string; permissions?: unknown }[]).map((app) => (app.name === victim ? { ...app, permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }] } : app));
            return { ...v, apps };
        };
        const stack = simulated(values);
        await stack.up(new Date(day.getTime() - dayMs));
        const graph = graphApi();
        delete graph.appRoleIds["User.Read.All"];
        const bad = await stack.up(day, { apis: new Map([...defaultApis(), [graphAppId, graph]]) });
        expect(bad.failed).toBe(true);
        const summary = bad.run.registrationErrors.find((e) => e.message.startsWith("1 failure"))!.message;
        expect(summary).toContain(`${victim}: permission User.Read.All: apps[`);
        expect(summary).toContain('has no application permission "User.Read.All"');
        expectServedAsScheduled(stack, model, day, [`${victim}/main`]);
    });

    it("a vault that cannot be created serves nothing new, yet every app is deployed and the run settles and fails", async () => {
        const day = busyMorning("2027-06-01T06:00:00Z", 5);
        const values = () => ({ ...stackValues(), keyVault: { name: "kv-faults", resourceGroup: "rg-faults", create: true, location: "westeurope" } });
        const stack = simulated(values);
        const bad = await stack.up(day, { failCreate: ["key-vault"] });
        expect(bad.failed).toBe(true);
        const summary = bad.run.registrationErrors.find((e) => / failures? in stack dev/.test(e.message))!.message;
        expect(summary).toContain("key vault: key-vault: creating key-vault: unexpected status 503");
        expect(bad.run.mocks.ofType(types.keyVaultSecret)).toEqual([]);
        expect(bad.run.mocks.ofType(types.application)).toHaveLength(together.length + apart.length + 2);
        const next = await stack.up(new Date(day.getTime() + dayMs));
        expect(next.errors).toEqual([]);
        expectServedAsScheduled(stack, modelAt(new Date(day.getTime() + dayMs)), new Date(day.getTime() + dayMs));
    });
});
