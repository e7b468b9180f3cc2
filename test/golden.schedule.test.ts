import { describe, expect, it } from "vitest";
import { servedSlot } from "../components/slots";
import { buildModel, buildModelOrThrow } from "../infra/model/model";
import { generationAt, generationWindow, phaseDays, type RotationPolicy, scheduleAt, slotOf, slotsReplacedAt, validateMaxLifetimeDays, validatePolicy } from "../rotation/schedule";
import { sampleStack } from "./support/program";

/**
 * Golden schedules. When a credential rotates is deployed state: each slot's generation is its resources'
 * replacement trigger and its window their end date, so a change to a phase, a window or which slot is served
 * replaces slots on the next `pulumi up`, usually both at once (consumers lose the value they hold). Such a
 * change is a migration. Every expected value here is worked out by hand from the documented formulas (below),
 * never with the product's functions:
 *
 *   phase  = first 48 bits of sha256("<stack>/<app>/<credential>") mod R          (days)
 *   origin = epoch + phase days;  g(t) = floor((t - origin) / R days)
 *   generation k: slot k mod 2, window [origin + k*R days, that + L days]; the served slot holds g(t)
 *   nextRotation = start of g + 1;  daysLeftServed = floor((end of g - t) / 1 day)
 */

const epoch = "2024-01-01T00:00:00Z";
const quarterly: RotationPolicy = { rotateEveryDays: 90, lifetimeDays: 210, epoch };
const monthly: RotationPolicy = { rotateEveryDays: 30, lifetimeDays: 90, epoch };
const now = new Date("2027-03-01T06:00:00Z");

describe("golden phases", () => {
    it("phases are deployed state: changing one is a migration (every credential's schedule moves, both slots replaced)", () => {
        // printf '%s' 'dev/mail-sender/main' | sha256sum -> 7f12456fce8d... ; 0x7f12456fce8d = 139716451094157
        // 139716451094157 mod 90 = 27, mod 30 = 27, mod 7 = 0, mod 365 = 87
        expect(phaseDays("dev/mail-sender/main", 90)).toBe(27);
        expect(phaseDays("dev/mail-sender/main", 30)).toBe(27);
        expect(phaseDays("dev/mail-sender/main", 7)).toBe(0);
        expect(phaseDays("dev/mail-sender/main", 365)).toBe(87);
        // 0xd0b5841cf1dc = 229478024147420, mod 30 = 20
        expect(phaseDays("dev/device-inventory/importer", 30)).toBe(20);
        // 0xf5091c7e7d92 = 269419481562514, mod 90 = 4
        expect(phaseDays("dev/calendar-sync/web", 90)).toBe(4);
        // 0xc96a9b79fe40 = 221459712179776, mod 90 = 16
        expect(phaseDays("prod/payments/api", 90)).toBe(16);
        // 0xfce34e3fec81 = 278053200587905, mod 45 = 25
        expect(phaseDays("prod/payments/signing", 45)).toBe(25);
        // R = 1: every credential rotates on the same day, phase 0.
        expect(phaseDays("dev/mail-sender/main", 1)).toBe(0);
    });

    it("the model's phases are keyed by <stack>/<app>/<credential>: adding the project (or anything) to the key is a migration", () => {
        const phases = (project: string) => buildModelOrThrow({ ...sampleStack(), project }, now).apps.flatMap((app) => app.credentials.map((c) => `${app.name}/${c.name}: ${c.phase}`));
        expect(phases("entra-rotor")).toEqual(["mail-sender/main: 27", "device-inventory/importer: 20", "calendar-sync/web: 4"]);
        expect(phases("another-project")).toEqual(["mail-sender/main: 27", "device-inventory/importer: 20", "calendar-sync/web: 4"]);
    });
});

describe("golden generation windows", () => {
    it("generation windows of the sample stack are deployed state: changing one is a migration (the slots are replaced)", () => {
        const schedules = Object.fromEntries(buildModelOrThrow(sampleStack(), now).apps.flatMap((app) => app.credentials.map((c) => [`${app.name}/${c.name}`, c.schedule])));
        expect(schedules).toEqual({
            // phase 27: origin 2024-01-28. To 2027-03-01T06:00: 366 + 365 + 365 (to 2027-01-28) + 32 = 1128 days 6 h.
            // g = floor(1128.25 / 90) = 12 (1080 days): start 2027-01-28 - 16 = 2027-01-12, end + 210 = 2027-08-10;
            // 11: 2026-10-14 to 2027-05-12; next 2027-01-12 + 90 = 2027-04-12; left: 2027-03-01T06:00 to 2027-08-10 = 161.75 days.
            "mail-sender/main": {
                generation: 12,
                served: { slot: 0, generation: 12, start: "2027-01-12T00:00:00Z", end: "2027-08-10T00:00:00Z" },
                previous: { slot: 1, generation: 11, start: "2026-10-14T00:00:00Z", end: "2027-05-12T00:00:00Z" },
                nextRotation: "2027-04-12T00:00:00Z",
                daysLeftServed: 161,
            },
            // phase 20: origin 2024-01-21. To 2027-03-01T06:00: 1096 (to 2027-01-21) + 39 = 1135 days 6 h.
            // g = floor(1135.25 / 30) = 37 (1110 days): start 2027-03-01 - 25 = 2027-02-04, end + 90 = 2027-05-05;
            // 36: 2027-01-05 to 2027-04-05; next 2027-03-06; left: 64.75 days.
            "device-inventory/importer": {
                generation: 37,
                served: { slot: 1, generation: 37, start: "2027-02-04T00:00:00Z", end: "2027-05-05T00:00:00Z" },
                previous: { slot: 0, generation: 36, start: "2027-01-05T00:00:00Z", end: "2027-04-05T00:00:00Z" },
                nextRotation: "2027-03-06T00:00:00Z",
                daysLeftServed: 64,
            },
            // phase 4: origin 2024-01-05. To 2027-03-01T06:00: 1096 (to 2027-01-05) + 55 = 1151 days 6 h.
            // g = floor(1151.25 / 90) = 12 (1080 days): start 2027-03-01 - 71 = 2026-12-20, end + 210 = 2027-07-18;
            // 11: 2026-09-21 to 2027-04-19; next 2027-03-20; left: 138.75 days.
            "calendar-sync/web": {
                generation: 12,
                served: { slot: 0, generation: 12, start: "2026-12-20T00:00:00Z", end: "2027-07-18T00:00:00Z" },
                previous: { slot: 1, generation: 11, start: "2026-09-21T00:00:00Z", end: "2027-04-19T00:00:00Z" },
                nextRotation: "2027-03-20T00:00:00Z",
                daysLeftServed: 138,
            },
        });
    });

    it("generation windows with a configured epoch and the shortest lifetime are deployed state: changing one is a migration", () => {
        const model = buildModelOrThrow(
            {
                project: "contoso-identity",
                stack: "prod",
                source: "Pulumi.prod.yaml",
                values: {
                    rotation: { epoch: "2025-06-01T00:00:00Z" },
                    keyVault: { name: "kv-payments-prod", resourceGroup: "rg-payments" },
                    apps: [{ name: "payments", credentials: [{ name: "api", type: "secret" }, { name: "signing", type: "certificate", rotateEveryDays: 45, lifetimeDays: 97 }] }],
                },
            },
            new Date("2026-02-14T12:00:00Z"),
        );
        const [api, signing] = model.apps[0]!.credentials;
        // api: R 90, L 210, phase 16: origin 2025-06-17. To 2026-02-14T12:00: 242.5 days; g = 2 (180 days):
        // start 2025-06-17 + 180 = 2025-12-14, end + 210 = 2026-07-12; 1: 2025-09-15 to 2026-04-13; next 2026-03-14; left 147.5 days.
        expect(api).toMatchObject({ phase: 16, policy: { rotateEveryDays: 90, lifetimeDays: 210, epoch: "2025-06-01T00:00:00Z" } });
        expect(api!.schedule).toEqual({
            generation: 2,
            served: { slot: 0, generation: 2, start: "2025-12-14T00:00:00Z", end: "2026-07-12T00:00:00Z" },
            previous: { slot: 1, generation: 1, start: "2025-09-15T00:00:00Z", end: "2026-04-13T00:00:00Z" },
            nextRotation: "2026-03-14T00:00:00Z",
            daysLeftServed: 147,
        });
        // signing: R 45, L 97 = 2 x 45 + 7 (the shortest allowed), phase 25: origin 2025-06-26. To 2026-02-14T12:00: 233.5 days;
        // g = 5 (225 days): start 2026-02-06, end + 97 = 2026-05-14; 4: 2025-12-23 to 2026-03-30; next 2026-03-23; left 88.5 days.
        expect(signing).toMatchObject({ phase: 25, policy: { rotateEveryDays: 45, lifetimeDays: 97, epoch: "2025-06-01T00:00:00Z" } });
        expect(signing!.schedule).toEqual({
            generation: 5,
            served: { slot: 1, generation: 5, start: "2026-02-06T00:00:00Z", end: "2026-05-14T00:00:00Z" },
            previous: { slot: 0, generation: 4, start: "2025-12-23T00:00:00Z", end: "2026-03-30T00:00:00Z" },
            nextRotation: "2026-03-23T00:00:00Z",
            daysLeftServed: 88,
        });
    });

    it("a generation starts exactly at origin + g x R, to the second: moving the boundary either way is a migration", () => {
        // mail-sender/main: generation 13 starts at 2027-01-12 + 90 days = 2027-04-12T00:00:00Z.
        const before = scheduleAt(new Date("2027-04-11T23:59:59Z"), quarterly, 27);
        const at = scheduleAt(new Date("2027-04-12T00:00:00Z"), quarterly, 27);
        expect(before).toEqual({
            generation: 12,
            served: { slot: 0, generation: 12, start: "2027-01-12T00:00:00Z", end: "2027-08-10T00:00:00Z" },
            previous: { slot: 1, generation: 11, start: "2026-10-14T00:00:00Z", end: "2027-05-12T00:00:00Z" },
            nextRotation: "2027-04-12T00:00:00Z",
            // 2027-04-11T23:59:59 to 2027-08-10: 120 days and 1 second = L - R, the least the served value ever has.
            daysLeftServed: 120,
        });
        expect(at).toEqual({
            generation: 13,
            // 2027-04-12 + 210 days = 2027-11-08; next: + 90 days = 2027-07-11.
            served: { slot: 1, generation: 13, start: "2027-04-12T00:00:00Z", end: "2027-11-08T00:00:00Z" },
            previous: { slot: 0, generation: 12, start: "2027-01-12T00:00:00Z", end: "2027-08-10T00:00:00Z" },
            nextRotation: "2027-07-11T00:00:00Z",
            daysLeftServed: 210,
        });
        // The run that crosses the boundary replaces exactly the other slot, 1 (generation 11 -> 13); a rerun nothing.
        expect(slotsReplacedAt(new Date("2027-04-11T23:59:59Z"), new Date("2027-04-12T00:00:00Z"), quarterly, 27)).toEqual([1]);
        expect(slotsReplacedAt(new Date("2027-04-12T00:00:00Z"), new Date("2027-04-12T00:00:00Z"), quarterly, 27)).toEqual([]);
        // From generation 11 (before 2027-01-12) to 13: both slots at once.
        expect(slotsReplacedAt(new Date("2027-01-11T23:59:59Z"), new Date("2027-04-12T00:00:00Z"), quarterly, 27)).toEqual([0, 1]);
        // importer (R 30, phase 20): generation 38 starts 2027-02-04 + 30 days = 2027-03-06T00:00:00Z.
        expect(generationAt(new Date("2027-03-05T23:59:59Z"), monthly, 20)).toBe(37);
        expect(generationAt(new Date("2027-03-06T00:00:00Z"), monthly, 20)).toBe(38);
        expect(generationWindow(38, monthly, 20)).toEqual({ start: "2027-03-06T00:00:00Z", end: "2027-06-04T00:00:00Z" });
    });

    it("before the first generation of its phase a credential is in generation -1, slot 1: changing that is a migration", () => {
        // At the epoch, phase 27: g = floor(-27 / 90) = -1; window 2024-01-28 - 90 days = 2023-10-30 to 2024-01-28 + 120 days = 2024-05-27.
        const first = scheduleAt(new Date(epoch), quarterly, 27);
        expect(first.served).toEqual({ slot: 1, generation: -1, start: "2023-10-30T00:00:00Z", end: "2024-05-27T00:00:00Z" });
        expect(first.previous).toEqual({ slot: 0, generation: -2, start: "2023-08-01T00:00:00Z", end: "2024-02-27T00:00:00Z" });
        expect(first.nextRotation).toBe("2024-01-28T00:00:00Z");
        expect([slotOf(-3), slotOf(-2), slotOf(-1), slotOf(0), slotOf(1), slotOf(2)]).toEqual([1, 0, 1, 0, 1, 0]);
    });
});

describe("the served slot holds the newest generation", () => {
    it("serves the slot with the highest generation, whichever slot that is and in whatever order the slots come", () => {
        const g36 = { slot: 0 as const, generation: 36, start: "2027-01-05T00:00:00Z", end: "2027-04-05T00:00:00Z" };
        const g37 = { slot: 1 as const, generation: 37, start: "2027-02-04T00:00:00Z", end: "2027-05-05T00:00:00Z" };
        expect(servedSlot([g36, g37])).toBe(g37);
        expect(servedSlot([g37, g36])).toBe(g37);
        const gMinus1 = { slot: 1 as const, generation: -1, start: "2023-10-30T00:00:00Z", end: "2024-05-27T00:00:00Z" };
        const g0 = { slot: 0 as const, generation: 0, start: "2024-01-28T00:00:00Z", end: "2024-08-25T00:00:00Z" };
        expect(servedSlot([gMinus1, g0])).toBe(g0);
        expect(servedSlot([g0, gMinus1])).toBe(g0);
    });
});

describe("lifetimes and their margins: 2R + 7 <= L <= min(730, maxLifetimeDays)", () => {
    const accepts = (rotateEveryDays: number, lifetimeDays: number, max?: number) => validatePolicy({ rotateEveryDays, lifetimeDays }, max).problems;
    const fieldsOf = (rotateEveryDays: number, lifetimeDays: number, max?: number) => accepts(rotateEveryDays, lifetimeDays, max).map((p) => p.field);

    it("needs L of at least 2R + 7: 187 for R 90, 67 for R 30, 9 for R 1, and refuses one day less", () => {
        expect(accepts(90, 187)).toEqual([]);
        expect(accepts(90, 186)).toEqual([{ field: "lifetimeDays", message: "lifetimeDays 186 is less than 2 x rotateEveryDays + 7 = 187: raise lifetimeDays to at least 187 or lower rotateEveryDays to at most 89" }]);
        expect(accepts(30, 67)).toEqual([]);
        expect(fieldsOf(30, 66)).toEqual(["lifetimeDays"]);
        expect(accepts(1, 9)).toEqual([]);
        expect(fieldsOf(1, 8)).toEqual(["lifetimeDays"]);
        expect(validatePolicy({ rotateEveryDays: 90, lifetimeDays: 187 }).policy).toEqual({ rotateEveryDays: 90, lifetimeDays: 187, epoch });
    });

    it("caps L at 730 days (Microsoft's cap for client secrets), refusing 731", () => {
        expect(accepts(90, 730)).toEqual([]);
        expect(accepts(90, 731)).toEqual([{ field: "lifetimeDays", message: "lifetimeDays 731 is more than 730 days, the longest a client secret may live: lower lifetimeDays to at most 730" }]);
        // The longest R that fits: 2R + 7 <= 730, R <= 361.5, so 361 with 729 <= L <= 730; 362 needs 731.
        expect(accepts(361, 729)).toEqual([]);
        expect(accepts(361, 730)).toEqual([]);
        expect(fieldsOf(361, 728)).toEqual(["lifetimeDays"]);
        expect(fieldsOf(362, 730)).toEqual(["rotateEveryDays"]);
    });

    it("caps L at the tenant's maxLifetimeDays, refusing one day more", () => {
        expect(accepts(30, 180, 180)).toEqual([]);
        expect(accepts(30, 181, 180)).toEqual([{ field: "lifetimeDays", message: "lifetimeDays 181 is more than the tenant's limit of 180 days: lower lifetimeDays to at most 180" }]);
        // With a limit of 67, R 30 fits exactly (2 x 30 + 7 = 67); R 31 needs 69.
        expect(accepts(30, 67, 67)).toEqual([]);
        expect(fieldsOf(31, 67, 67)).toEqual(["rotateEveryDays"]);
        // A limit above Microsoft's cap is no limit: it is refused itself. 1 and 730 are the bounds.
        expect(validateMaxLifetimeDays(730)).toBeUndefined();
        expect(validateMaxLifetimeDays(1)).toBeUndefined();
        expect(validateMaxLifetimeDays(731)).toBe("maxLifetimeDays must be a whole number of days from 1 to 730, got 731");
        expect(validateMaxLifetimeDays(0)).toBe("maxLifetimeDays must be a whole number of days from 1 to 730, got 0");
    });

    it("needs R of at least 1 day", () => {
        expect(accepts(1, 9)).toEqual([]);
        expect(fieldsOf(0, 9)).toEqual(["rotateEveryDays"]);
    });

    it("holds the same bounds in a stack's config, at the credential's path", () => {
        const build = (credential: Record<string, unknown>, rotation: Record<string, unknown> = {}) =>
            buildModel(
                { project: "entra-rotor", stack: "test", source: "Pulumi.test.yaml", values: { rotation, keyVault: { name: "kv-test", resourceGroup: "rg" }, apps: [{ name: "mailer", credentials: [{ name: "main", type: "secret", ...credential }] }] } },
                now,
            );
        const errorPaths = (result: ReturnType<typeof build>) => result.issues.filter((i) => i.severity === "error").map((i) => i.path);
        // Valid stack defaults under the tenant's limit, so only the credential's own value is judged.
        const tenant = { maxLifetimeDays: 180, rotateEveryDays: 30, lifetimeDays: 90 };
        expect(errorPaths(build({ rotateEveryDays: 90, lifetimeDays: 187 }))).toEqual([]);
        expect(errorPaths(build({ rotateEveryDays: 90, lifetimeDays: 186 }))).toEqual(["apps[0].credentials[0].lifetimeDays"]);
        expect(errorPaths(build({ rotateEveryDays: 90, lifetimeDays: 730 }))).toEqual([]);
        expect(errorPaths(build({ rotateEveryDays: 90, lifetimeDays: 731 }))).toEqual(["apps[0].credentials[0].lifetimeDays"]);
        expect(errorPaths(build({ rotateEveryDays: 30, lifetimeDays: 180 }, tenant))).toEqual([]);
        expect(errorPaths(build({ rotateEveryDays: 30, lifetimeDays: 181 }, tenant))).toEqual(["apps[0].credentials[0].lifetimeDays"]);
    });
});
