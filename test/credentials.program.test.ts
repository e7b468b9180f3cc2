import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import { ClientSecret } from "../components/clientSecret";
import { defineStack } from "../infra/program";
import { ProviderMocks, containsMockSecret, mockSecretMarker, settle, types, valueOf } from "./support/pulumiMocks";
import { SimulatedStack } from "./support/engine";
import { runProgram, sampleStack } from "./support/program";

afterEach(() => {
    vi.useRealTimers();
});

const values = () => sampleStack().values as Record<string, unknown>;
const passwords = (run: { mocks: ProviderMocks }) =>
    Object.fromEntries(run.mocks.ofType(types.applicationPassword).map((r) => [r.name, r.inputs]));

describe("client secrets in the program", () => {
    it("never puts a secret value in plain text: served values are secrets and exports carry none", async () => {
        const mocks = new ProviderMocks();
        await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", false);
        const model = buildModelOrThrow(sampleStack(), new Date("2027-03-01T06:00:00Z"));
        const stack = await defineStack(model, { probe: async () => undefined });
        const secrets = Object.values(stack.secrets);
        expect(secrets).toHaveLength(3);
        for (const secret of secrets) {
            if (!(secret instanceof ClientSecret)) continue;
            expect(await pulumi.isSecret(secret.served.value)).toBe(true);
            for (const password of secret.passwords) expect(await pulumi.isSecret(password.value)).toBe(true);
            expect(await valueOf(secret.served.value)).toContain(mockSecretMarker);
        }
        const exported = await valueOf(pulumi.output(stack.exports));
        await settle();
        expect(containsMockSecret(JSON.stringify(exported))).toBe(false);
        expect(exported["device-inventory"]!.credentials["importer"]).toEqual({
            type: "secret",
            servedSlot: 1,
            servedGeneration: 37,
            servedKeyId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            expires: "2027-05-05T00:00:00Z",
            nextRotation: "2027-03-06T00:00:00Z",
        });
    });

    it("replaces nothing when run again later the same day", async () => {
        // Against an engine that keeps the state, as Pulumi's does: what the evening registers is what the
        // morning left, input for input, so nothing is created, replaced or updated, and nothing is proven again in vain.
        const stack = new SimulatedStack(values);
        try {
            const morning = await stack.up(new Date("2027-03-01T06:00:00Z"));
            expect(morning.errors).toEqual([]);
            const evening = await stack.up(new Date("2027-03-01T22:00:00Z"));
            expect(evening.errors).toEqual([]);
            expect(evening.changed).toEqual([]);
            expect(evening.run.mocks.resources.length).toBe(morning.run.mocks.resources.length);
        } finally {
            await stack.close();
        }
    });

    it("replaces exactly one slot of the credential whose generation starts, and nothing else", async () => {
        const before = passwords(await runProgram(values(), { now: new Date("2027-03-05T06:00:00Z") }));
        const after = passwords(await runProgram(values(), { now: new Date("2027-03-06T06:00:00Z") }));
        const changed = Object.keys(after).filter((name) => JSON.stringify(after[name]) !== JSON.stringify(before[name]));
        expect(changed).toEqual(["device-inventory-importer-slot0"]);
        expect(before["device-inventory-importer-slot0"]!["rotateWhenChanged"]).toEqual({ generation: "36" });
        expect(after["device-inventory-importer-slot0"]).toMatchObject({
            rotateWhenChanged: { generation: "38" },
            endDate: "2027-06-04T00:00:00Z",
        });
    });

    it("sends no start date in the past at a late first deployment: Entra starts each credential when it is made", async () => {
        // Both slots of every credential are created now, although the previous generation's window began
        // up to two rotation periods ago; Entra has refused past start dates (KeyCredentialsInvalidStartDate).
        const now = new Date("2027-03-05T06:00:00Z");
        const run = await runProgram(values(), { now });
        const credentials = [...run.mocks.ofType(types.applicationPassword), ...run.mocks.ofType(types.applicationCertificate)];
        expect(credentials.length).toBeGreaterThanOrEqual(7);
        for (const credential of credentials) {
            const start = credential.inputs["startDate"];
            if (start !== undefined) expect(Date.parse(String(start)), credential.name).toBeGreaterThanOrEqual(now.getTime());
            // The end date is still the schedule's, whatever the start.
            expect(credential.inputs["endDate"], credential.name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        }
        // The previous slot's window did begin in the past: this is the case the rule is for.
        const previous = run.mocks.ofType(types.applicationPassword).find((p) => p.name === "mail-sender-main-slot1")!;
        expect(previous.inputs["rotateWhenChanged"]).toEqual({ generation: "11" });
    });
});
