import { beforeAll, describe, expect, it } from "vitest";
import { epochSeconds } from "../components/keyVaultSecrets";
import { types } from "./support/pulumiMocks";
import { type ProgramRun, runProgram, sampleStack } from "./support/program";

/**
 * Key Vault's `exp` and `nbf` on what the program writes, against epoch seconds worked out by hand. Consumers
 * and alerts read `exp` to know when a value dies: one that says a day late trusts a dead value for a day. The
 * dates are the served generation's window (derived by hand in golden.schedule.test.ts); the seconds are
 * days since 1970-01-01 x 86400, with 20819 days to 2027-01-01 (57 years, 14 of them leap: 1972 to 2024):
 *
 *   2026-12-20  20819 - 12        = 20807  -> 1797724800
 *   2027-01-12  20819 + 11        = 20830  -> 1799712000
 *   2027-02-04  20819 + 31 + 3    = 20853  -> 1801699200
 *   2027-03-06  20819 + 59 + 5    = 20883  -> 1804291200
 *   2027-05-05  20819 + 120 + 4   = 20943  -> 1809475200
 *   2027-06-04  20819 + 151 + 3   = 20973  -> 1812067200
 *   2027-07-18  20819 + 181 + 17  = 21017  -> 1815868800
 *   2027-08-10  20819 + 212 + 9   = 21040  -> 1817856000
 *
 * (`date -u -d 2027-08-10T00:00:00Z +%s` agrees.)
 */

// The second before device-inventory/importer's generation 38 starts (2027-03-06T00:00:00Z), and that instant.
const before = new Date("2027-03-05T23:59:59Z");
const at = new Date("2027-03-06T00:00:00Z");

function attributesOf(run: ProgramRun): Record<string, unknown> {
    return Object.fromEntries(
        run.mocks.ofType(types.keyVaultSecret).map((r) => {
            const properties = r.inputs["properties"] as Record<string, unknown>;
            // The properties travel as a secret (they hold the value): on the wire they are wrapped, under "value".
            const inner = properties["value"] as { attributes: unknown };
            return [r.inputs["secretName"], inner.attributes];
        }),
    );
}

describe("Key Vault exp and nbf, as the program writes them", () => {
    let runBefore: ProgramRun;
    let runAt: ProgramRun;
    beforeAll(async () => {
        runBefore = await runProgram(sampleStack().values as Record<string, unknown>, { now: before });
        runAt = await runProgram(sampleStack().values as Record<string, unknown>, { now: at });
    }, 60_000);

    it("writes exp and nbf of a secret, a certificate's PEM and its PFX secrets as the served generation's window, in epoch seconds", () => {
        expect(attributesOf(runBefore)).toEqual({
            // mail-sender/main, generation 12: 2027-01-12 to 2027-08-10.
            "mail-sender-main": { enabled: true, notBefore: 1799712000, expires: 1817856000 },
            // device-inventory/importer, generation 37: 2027-02-04 to 2027-05-05.
            "device-inventory-importer": { enabled: true, notBefore: 1801699200, expires: 1809475200 },
            // calendar-sync/web, generation 12: 2026-12-20 to 2027-07-18, on the PEM and both PFX secrets.
            "calendar-sync-web": { enabled: true, notBefore: 1797724800, expires: 1815868800 },
            "calendar-sync-web-pfx": { enabled: true, notBefore: 1797724800, expires: 1815868800 },
            "calendar-sync-web-pfx-password": { enabled: true, notBefore: 1797724800, expires: 1815868800 },
            // The ids do not expire.
            "mail-sender-client-id": { enabled: true },
            "mail-sender-tenant-id": { enabled: true },
            "device-inventory-client-id": { enabled: true },
            "device-inventory-tenant-id": { enabled: true },
            "calendar-sync-client-id": { enabled: true },
            "calendar-sync-tenant-id": { enabled: true },
        });
    });

    it("moves exp and nbf to the new generation at the second it starts, not a second before", () => {
        // Until 2027-03-05T23:59:59Z generation 37 (2027-02-04 to 2027-05-05) is served; from 2027-03-06T00:00:00Z
        // generation 38 (2027-03-06 to 2027-03-06 + 90 days = 2027-06-04).
        expect(attributesOf(runBefore)["device-inventory-importer"]).toEqual({ enabled: true, notBefore: 1801699200, expires: 1809475200 });
        expect(attributesOf(runAt)["device-inventory-importer"]).toEqual({ enabled: true, notBefore: 1804291200, expires: 1812067200 });
        const tags = runAt.mocks.ofType(types.keyVaultSecret).find((r) => r.inputs["secretName"] === "device-inventory-importer")!.inputs["tags"];
        expect(tags).toMatchObject({ slot: "0", generation: "38", nextRotation: "2027-04-05T00:00:00Z" });
        // The others are not due: unchanged.
        expect(attributesOf(runAt)["mail-sender-main"]).toEqual({ enabled: true, notBefore: 1799712000, expires: 1817856000 });
    });

    it("writes exp at the second the credential itself ends in Entra", () => {
        // The served password's endDate and the secret's exp name the same instant.
        const password = runBefore.mocks.ofType(types.applicationPassword).find((r) => r.name === "device-inventory-importer-slot1")!;
        expect(password.inputs["endDate"]).toBe("2027-05-05T00:00:00Z");
        expect((attributesOf(runBefore)["device-inventory-importer"] as { expires: number }).expires).toBe(1809475200);
    });
});

describe("epochSeconds: Key Vault's exp and nbf unit", () => {
    it("is whole seconds since 1970-01-01T00:00:00Z, rounded down", () => {
        expect(epochSeconds("1970-01-01T00:00:00Z")).toBe(0);
        expect(epochSeconds("1970-01-02T00:00:00Z")).toBe(86400);
        expect(epochSeconds("2027-08-10T00:00:00Z")).toBe(1817856000);
        expect(epochSeconds("2027-08-09T23:59:59Z")).toBe(1817855999);
        expect(epochSeconds("2027-08-10T00:00:00.999Z")).toBe(1817856000);
    });
});
