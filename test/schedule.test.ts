import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import {
    type RotationEvent,
    type RotationPolicy,
    absoluteMaxLifetimeDays,
    defaultEpoch,
    defaultLifetimeDays,
    defaultRotateEveryDays,
    generationAt,
    generationWindow,
    phaseDays,
    rotationEvents,
    scheduleAt,
    slotOf,
    slotsReplacedBetween,
    slotsReplacedByPolicyChange,
    validateMaxLifetimeDays,
    validatePolicy,
} from "../rotation/schedule";

/**
 * The rotation schedule: hand-computed cases for each function, then years of simulated daily runs
 * (some skipped) per policy, checking the consequences DESIGN.md promises consumers.
 */

const day = 86_400_000;
const hour = 3_600_000;
const defaults: RotationPolicy = { rotateEveryDays: 90, lifetimeDays: 210, epoch: defaultEpoch };
const policy = (rotateEveryDays: number, lifetimeDays: number, epoch = defaultEpoch): RotationPolicy => ({ rotateEveryDays, lifetimeDays, epoch });
const at = (iso: string): Date => new Date(iso);
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("constants", () => {
    it("has the documented defaults", () => {
        expect(defaultEpoch).toBe("2024-01-01T00:00:00Z");
        expect([defaultRotateEveryDays, defaultLifetimeDays, absoluteMaxLifetimeDays]).toEqual([90, 210, 730]);
        expect(validatePolicy({})).toEqual({ policy: defaults, problems: [] });
    });
});

describe("generationAt", () => {
    it("counts whole periods of R days from epoch + phase", () => {
        // 2024-01-01 + 90 days = 2024-03-31 (31 + 29 + 30).
        expect(generationAt(at("2024-01-01T00:00:00Z"), defaults, 0)).toBe(0);
        expect(generationAt(at("2024-03-30T23:59:59.999Z"), defaults, 0)).toBe(0);
        expect(generationAt(at("2024-03-31T00:00:00Z"), defaults, 0)).toBe(1);
        expect(generationAt(at("2024-06-29T00:00:00Z"), defaults, 0)).toBe(2);
        // Phase 10 moves every boundary 10 days later.
        expect(generationAt(at("2024-04-09T23:59:59Z"), defaults, 10)).toBe(0);
        expect(generationAt(at("2024-04-10T00:00:00Z"), defaults, 10)).toBe(1);
    });

    it("is negative before epoch + phase", () => {
        expect(generationAt(at("2024-01-05T00:00:00Z"), defaults, 10)).toBe(-1);
        expect(generationAt(at("2024-01-01T00:00:00Z"), defaults, 10)).toBe(-1);
        // Generation -1 of phase 10 starts 2024-01-11 - 90 days = 2023-10-13.
        expect(generationAt(at("2023-10-13T00:00:00Z"), defaults, 10)).toBe(-1);
        expect(generationAt(at("2023-10-12T23:59:59Z"), defaults, 10)).toBe(-2);
    });

    it("reads an epoch written with an offset as the instant it denotes", () => {
        const shifted = policy(90, 210, "2024-01-01T02:00:00+02:00");
        expect(generationAt(at("2024-03-31T00:00:00Z"), shifted, 0)).toBe(1);
        expect(generationAt(at("2024-03-30T23:59:59Z"), shifted, 0)).toBe(0);
    });

    it("refuses input it cannot compute with", () => {
        expect(() => generationAt(new Date(Number.NaN), defaults, 0)).toThrow(RangeError);
        expect(() => generationAt(at("2024-01-01T00:00:00Z"), defaults, 1.5)).toThrow(/phase/);
        expect(() => generationAt(at("2024-01-01T00:00:00Z"), policy(0, 210), 0)).toThrow(/rotateEveryDays/);
        expect(() => generationAt(at("2024-01-01T00:00:00Z"), policy(90, 210, "soon"), 0)).toThrow(/epoch/);
    });
});

describe("slotOf", () => {
    it("is the generation's parity, also for negative generations", () => {
        expect([0, 1, 2, 3, -1, -2, -3].map(slotOf)).toEqual([0, 1, 0, 1, 1, 0, 1]);
        expect(() => slotOf(0.5)).toThrow(RangeError);
    });
});

describe("generationWindow", () => {
    it("starts at epoch + phase + g*R days and lasts L days, to the second", () => {
        expect(generationWindow(0, defaults, 0)).toEqual({ start: "2024-01-01T00:00:00Z", end: "2024-07-29T00:00:00Z" });
        // 2024-03-31 + 210 days = 2024-10-27.
        expect(generationWindow(1, defaults, 0)).toEqual({ start: "2024-03-31T00:00:00Z", end: "2024-10-27T00:00:00Z" });
        expect(generationWindow(-1, defaults, 10)).toEqual({ start: "2023-10-13T00:00:00Z", end: "2024-05-10T00:00:00Z" });
        expect(generationWindow(-2, defaults, 10)).toEqual({ start: "2023-07-15T00:00:00Z", end: "2024-02-10T00:00:00Z" });
    });

    it("is written in UTC whatever the epoch's offset", () => {
        expect(generationWindow(0, policy(7, 21, "2024-01-01T09:30:00+05:30"), 3)).toEqual({ start: "2024-01-04T04:00:00Z", end: "2024-01-25T04:00:00Z" });
    });
});

describe("scheduleAt", () => {
    it("serves generation g from slot g mod 2 and keeps g - 1 in the other", () => {
        expect(scheduleAt(at("2024-03-31T00:00:00Z"), defaults, 0)).toEqual({
            generation: 1,
            served: { slot: 1, generation: 1, start: "2024-03-31T00:00:00Z", end: "2024-10-27T00:00:00Z" },
            previous: { slot: 0, generation: 0, start: "2024-01-01T00:00:00Z", end: "2024-07-29T00:00:00Z" },
            nextRotation: "2024-06-29T00:00:00Z",
            daysLeftServed: 210,
        });
    });

    it("counts whole days left", () => {
        // 2024-05-01T12:00 -> 2024-10-27 is 178.5 days.
        expect(scheduleAt(at("2024-05-01T12:00:00Z"), defaults, 0).daysLeftServed).toBe(178);
        // The last second of generation 1: L - R days and one second left.
        expect(scheduleAt(at("2024-06-28T23:59:59Z"), defaults, 0).daysLeftServed).toBe(120);
    });

    it("works before the first start (negative generations)", () => {
        expect(scheduleAt(at("2024-01-05T00:00:00Z"), defaults, 10)).toEqual({
            generation: -1,
            served: { slot: 1, generation: -1, start: "2023-10-13T00:00:00Z", end: "2024-05-10T00:00:00Z" },
            previous: { slot: 0, generation: -2, start: "2023-07-15T00:00:00Z", end: "2024-02-10T00:00:00Z" },
            nextRotation: "2024-01-11T00:00:00Z",
            daysLeftServed: 126,
        });
    });
});

describe("validatePolicy", () => {
    const problemsOf = (input: Parameters<typeof validatePolicy>[0], max?: number) => {
        const result = validatePolicy(input, max);
        expect(result.policy).toBeUndefined();
        return result.problems;
    };

    it("accepts valid policies, with defaults for what is missing and the epoch in UTC", () => {
        expect(validatePolicy({ rotateEveryDays: 30, lifetimeDays: 67 })).toEqual({ policy: policy(30, 67), problems: [] });
        expect(validatePolicy({ rotateEveryDays: 361, lifetimeDays: 730 }).policy).toEqual(policy(361, 730));
        expect(validatePolicy({ epoch: "2025-06-01T02:00:00+02:00" }).policy).toEqual(policy(90, 210, "2025-06-01T00:00:00Z"));
        expect(validatePolicy({ epoch: "2025-06-01T00:00:00.000Z" }).policy?.epoch).toBe("2025-06-01T00:00:00Z");
        expect(validatePolicy({ lifetimeDays: 187 }).policy).toEqual(policy(90, 187));
        expect(validatePolicy({ lifetimeDays: 365 }, 365).policy).toEqual(policy(90, 365));
    });

    it("wants whole numbers of days", () => {
        expect(problemsOf({ rotateEveryDays: 7.5 })).toEqual([{ field: "rotateEveryDays", message: "rotateEveryDays must be a whole number of days, got 7.5: use 8" }]);
        expect(problemsOf({ lifetimeDays: "210" })).toEqual([{ field: "lifetimeDays", message: 'lifetimeDays must be a number, got the string "210": write it without quotes' }]);
        expect(problemsOf({ rotateEveryDays: null })).toEqual([
            { field: "rotateEveryDays", message: "rotateEveryDays must be a whole number of days, got null: set a number, or remove it to use the default (90)" },
        ]);
    });

    it("wants R >= 1", () => {
        expect(problemsOf({ rotateEveryDays: 0 })).toEqual([{ field: "rotateEveryDays", message: "rotateEveryDays must be at least 1, got 0: use 1 or more (the default is 90)" }]);
    });

    it("caps L at 730 days", () => {
        expect(problemsOf({ lifetimeDays: 731 })).toEqual([
            { field: "lifetimeDays", message: "lifetimeDays 731 is more than 730 days, the longest a client secret may live: lower lifetimeDays to at most 730" },
        ]);
    });

    it("caps L at the tenant's limit, and says when R must come down with it", () => {
        expect(problemsOf({ lifetimeDays: 400 }, 365)).toEqual([
            { field: "lifetimeDays", message: "lifetimeDays 400 is more than the tenant's limit of 365 days: lower lifetimeDays to at most 365" },
        ]);
        expect(problemsOf({ lifetimeDays: 200 }, 180)).toEqual([
            { field: "lifetimeDays", message: "lifetimeDays 200 is more than the tenant's limit of 180 days: lower lifetimeDays to at most 180 and rotateEveryDays to at most 86" },
        ]);
    });

    it("wants L >= 2R + 7, and says both ways out", () => {
        expect(problemsOf({ lifetimeDays: 150 })).toEqual([
            { field: "lifetimeDays", message: "lifetimeDays 150 is less than 2 x rotateEveryDays + 7 = 187: raise lifetimeDays to at least 187 or lower rotateEveryDays to at most 71" },
        ]);
        expect(problemsOf({ rotateEveryDays: 1, lifetimeDays: 8 })).toEqual([
            { field: "lifetimeDays", message: "lifetimeDays 8 is less than 2 x rotateEveryDays + 7 = 9: raise lifetimeDays to at least 9" },
        ]);
    });

    it("points at R when no lifetime under the cap is long enough (365/730 is refused)", () => {
        expect(problemsOf({ rotateEveryDays: 365, lifetimeDays: 730 })).toEqual([
            {
                field: "rotateEveryDays",
                message: "lifetimeDays 730 is less than 2 x rotateEveryDays + 7 = 737, and lifetimes stop at 730 days, the longest a client secret may live: lower rotateEveryDays to at most 361",
            },
        ]);
    });

    it("wants the epoch as an ISO-8601 instant with a zone, to the second", () => {
        const epochProblem = (epoch: unknown) => problemsOf({ epoch });
        expect(epochProblem("2024-01-01")).toEqual([{ field: "epoch", message: 'epoch "2024-01-01" has no time and zone: write "2024-01-01T00:00:00Z"' }]);
        expect(epochProblem("2024-01-01T00:00:00")).toEqual([{ field: "epoch", message: 'epoch "2024-01-01T00:00:00" has no time zone: write "2024-01-01T00:00:00Z" for UTC' }]);
        expect(epochProblem("2024-02-30T00:00:00Z")[0]?.message).toContain("is not a real date and time");
        expect(epochProblem("2024-01-01T24:00:00Z")[0]?.message).toContain("is not a real date and time");
        expect(epochProblem("next monday")[0]?.message).toBe('epoch "next monday" is not an ISO-8601 instant: write it as YYYY-MM-DDTHH:MM:SSZ, e.g. "2024-01-01T00:00:00Z"');
        expect(epochProblem("2024-01-01T00:00:00.250Z")[0]?.message).toBe('epoch "2024-01-01T00:00:00.250Z" has a fraction of a second: credential dates are whole seconds, drop ".250"');
        expect(epochProblem(1704067200)[0]?.message).toBe('epoch must be an ISO-8601 instant in quotes, e.g. "2024-01-01T00:00:00Z", got 1704067200');
    });

    it("reports every problem at once, in field order", () => {
        expect(problemsOf({ rotateEveryDays: 0, lifetimeDays: 7.5, epoch: "2024-13-01T00:00:00Z" }).map((p) => p.field)).toEqual(["rotateEveryDays", "lifetimeDays", "epoch"]);
        expect(problemsOf({ rotateEveryDays: 100, lifetimeDays: 800, epoch: "yesterday" }, 365).map((p) => p.field)).toEqual(["lifetimeDays", "epoch"]);
    });

    it("refuses an unusable tenant limit", () => {
        expect(() => validatePolicy({}, 0)).toThrow("maxLifetimeDays must be a whole number of days from 1 to 730, got 0");
    });
});

describe("validateMaxLifetimeDays", () => {
    it("takes whole days from 1 to 730", () => {
        expect([1, 365, 730].map(validateMaxLifetimeDays)).toEqual([undefined, undefined, undefined]);
        expect(validateMaxLifetimeDays(731)).toBe("maxLifetimeDays must be a whole number of days from 1 to 730, got 731");
        expect(validateMaxLifetimeDays(0)).toMatch(/got 0$/);
        expect(validateMaxLifetimeDays(30.5)).toMatch(/got 30.5$/);
        expect(validateMaxLifetimeDays("365")).toMatch(/got "365"$/);
    });
});

describe("phaseDays", () => {
    it("is stable", () => {
        expect(phaseDays("prod/mail-sender/secret", 90)).toBe(47);
        expect(phaseDays("prod/mail-sender/secret", 90)).toBe(phaseDays("prod/mail-sender/secret", 90));
        expect(phaseDays("anything", 1)).toBe(0);
    });

    it("spreads keys over [0, R)", () => {
        const phases = Array.from({ length: 1000 }, (_, i) => phaseDays(`prod/app-${i}/secret`, 90));
        for (const phase of phases) {
            expect(Number.isInteger(phase) && phase >= 0 && phase < 90).toBe(true);
        }
        expect(new Set(phases).size).toBeGreaterThanOrEqual(80);
    });

    it("refuses R < 1", () => {
        expect(() => phaseDays("a/b/c", 0)).toThrow(RangeError);
    });
});

describe("slotsReplacedBetween", () => {
    it("is 0 for the same generation, 1 across one boundary, 2 across two", () => {
        expect(slotsReplacedBetween(at("2024-01-02T06:00:00Z"), at("2024-03-30T06:00:00Z"), defaults, 0)).toBe(0);
        expect(slotsReplacedBetween(at("2024-03-30T06:00:00Z"), at("2024-03-31T06:00:00Z"), defaults, 0)).toBe(1);
        expect(slotsReplacedBetween(at("2024-03-30T06:00:00Z"), at("2024-06-29T06:00:00Z"), defaults, 0)).toBe(2);
        expect(slotsReplacedBetween(at("2024-05-01T06:00:00Z"), at("2024-05-01T06:00:00Z"), defaults, 0)).toBe(0);
    });

    it("never replaces both slots when runs are at most R days apart (R - 1 days without a run)", () => {
        for (const R of [1, 7, 90]) {
            const p = policy(R, 2 * R + 7);
            for (let last = Date.parse("2025-01-01T00:00:00Z"); last < Date.parse("2025-01-01T00:00:00Z") + 2 * R * day; last += hour) {
                expect(slotsReplacedBetween(new Date(last), new Date(last + (R - 1) * day), p, 3 % R)).toBeLessThanOrEqual(1);
                expect(slotsReplacedBetween(new Date(last), new Date(last + R * day), p, 3 % R)).toBe(1);
            }
        }
    });

    it("replaces both slots when R days pass without a run across a boundary", () => {
        // Daily runs at 06:00; the last one just before generation 1 starts, then R days without a run.
        expect(slotsReplacedBetween(at("2024-03-30T06:00:00Z"), at("2024-06-29T06:00:00Z"), defaults, 0)).toBe(2);
        // The same outage right after a boundary crosses only one: consumers keep their value.
        expect(slotsReplacedBetween(at("2024-03-31T06:00:00Z"), at("2024-06-30T06:00:00Z"), defaults, 0)).toBe(1);
    });

    it("always replaces both slots after 2R days without a run", () => {
        for (let last = Date.parse("2025-01-01T00:00:00Z"); last < Date.parse("2025-07-01T00:00:00Z"); last += 7 * hour) {
            expect(slotsReplacedBetween(new Date(last), new Date(last + 2 * 90 * day), defaults, 17)).toBe(2);
        }
    });
});

describe("slotsReplacedByPolicyChange", () => {
    const t = at("2024-04-05T06:00:00Z"); // epoch + 95 days and 6 hours

    it("is 0 for the same policy, also when the epoch is written differently", () => {
        expect(slotsReplacedByPolicyChange(defaults, defaults, t, 0, 0)).toBe(0);
        expect(slotsReplacedByPolicyChange(defaults, policy(90, 210, "2024-01-01T01:00:00+01:00"), t, 0, 0)).toBe(0);
    });

    it("is 2 (breaking) when L changes: both windows move", () => {
        expect(slotsReplacedByPolicyChange(defaults, policy(90, 200), t, 0, 0)).toBe(2);
    });

    it("is 2 when R changes and the phase follows the new R", () => {
        const key = "prod/mail-sender/secret";
        expect(slotsReplacedByPolicyChange(defaults, policy(60, 210), t, phaseDays(key, 90), phaseDays(key, 60))).toBe(2);
    });

    it("is 2 when the epoch moves by R days, although the windows are the same: the generation is the trigger", () => {
        expect(slotsReplacedByPolicyChange(defaults, policy(90, 210, "2024-03-31T00:00:00Z"), t, 0, 0)).toBe(2);
    });

    it("is exact: a change of R that keeps one slot's generation and window replaces one slot", () => {
        // Old: slot 1 holds generation 1 (from day 90), slot 0 generation 0. New (R = 100): generation 0 in slot 0, the same window.
        expect(slotsReplacedByPolicyChange(defaults, policy(100, 210), t, 0, 0)).toBe(1);
    });
});

describe("rotationEvents", () => {
    it("lists generation starts in [from, to), with the slot, created and retired generations", () => {
        expect(rotationEvents(at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"), defaults, 0)).toEqual([
            { date: "2024-01-01T00:00:00Z", slot: 0, retiredGeneration: -2, createdGeneration: 0 },
            { date: "2024-03-31T00:00:00Z", slot: 1, retiredGeneration: -1, createdGeneration: 1 },
            { date: "2024-06-29T00:00:00Z", slot: 0, retiredGeneration: 0, createdGeneration: 2 },
            { date: "2024-09-27T00:00:00Z", slot: 1, retiredGeneration: 1, createdGeneration: 3 },
            { date: "2024-12-26T00:00:00Z", slot: 0, retiredGeneration: 2, createdGeneration: 4 },
        ]);
        expect(rotationEvents(at("2024-01-01T00:00:00.001Z"), at("2024-03-31T00:00:00Z"), defaults, 0)).toEqual([]);
        expect(rotationEvents(at("2024-01-01T00:00:00Z"), at("2024-03-31T00:00:00.001Z"), defaults, 0).map((e) => e.createdGeneration)).toEqual([0, 1]);
    });

    it("is empty for an empty or reversed range", () => {
        expect(rotationEvents(at("2024-03-31T00:00:00Z"), at("2024-03-31T00:00:00Z"), defaults, 0)).toEqual([]);
        expect(rotationEvents(at("2025-01-01T00:00:00Z"), at("2024-01-01T00:00:00Z"), defaults, 0)).toEqual([]);
    });

    it("works before the epoch", () => {
        expect(rotationEvents(at("2023-10-01T00:00:00Z"), at("2024-01-12T00:00:00Z"), defaults, 10)).toEqual([
            { date: "2023-10-13T00:00:00Z", slot: 1, retiredGeneration: -3, createdGeneration: -1 },
            { date: "2024-01-11T00:00:00Z", slot: 0, retiredGeneration: -2, createdGeneration: 0 },
        ]);
    });

    /** Replacements observed by daily runs at the epoch's time of day, each run converging to scheduleAt. */
    function observedEvents(p: RotationPolicy, phase: number, from: number, to: number): RotationEvent[] {
        const before = scheduleAt(new Date(from - day), p, phase);
        const held = new Map<number, number>([
            [before.served.slot, before.served.generation],
            [before.previous.slot, before.previous.generation],
        ]);
        const events: RotationEvent[] = [];
        for (let t = from; t < to; t += day) {
            const s = scheduleAt(new Date(t), p, phase);
            for (const state of [s.previous, s.served]) {
                const old = held.get(state.slot);
                if (old !== state.generation) {
                    events.push({ date: iso(t), slot: state.slot, retiredGeneration: old ?? Number.NaN, createdGeneration: state.generation });
                    held.set(state.slot, state.generation);
                }
            }
        }
        return events;
    }

    it.each([
        { R: 90, L: 210, epoch: defaultEpoch, key: "prod/mail-sender/secret" },
        { R: 30, L: 67, epoch: defaultEpoch, key: "prod/calendar-sync/secret" },
        { R: 7, L: 21, epoch: "2023-06-15T12:30:00Z", key: "dev/ci-deployer/cert" },
        { R: 1, L: 9, epoch: defaultEpoch, key: "dev/noisy/secret" },
        { R: 361, L: 730, epoch: "2026-02-01T00:00:00Z", key: "prod/intune-import/secret" },
    ])("matches five years of daily runs (R=$R, L=$L, epoch $epoch)", ({ R, L, epoch, key }) => {
        const p = policy(R, L, epoch);
        const phase = phaseDays(key, R);
        const timeOfDay = Date.parse(epoch) % day;
        const from = Date.parse("2025-01-01T00:00:00Z") + timeOfDay;
        const to = Date.parse("2030-01-01T00:00:00Z") + timeOfDay;
        const events = rotationEvents(new Date(from), new Date(to), p, phase);
        expect(events).toEqual(observedEvents(p, phase, from, to));
        expect(events.length).toBeGreaterThanOrEqual(Math.floor((to - from) / (R * day)));
        const dates = events.map((e) => e.date);
        expect(dates).toEqual([...dates].sort());
        expect(new Set(dates).size).toBe(dates.length);
    });

    it("lists 20 or 21 rotations for each of a thousand credentials over five years (its time: npm run bench)", () => {
        const from = at("2025-01-01T00:00:00Z");
        const to = at("2030-01-01T00:00:00Z");
        // 1826 days / 90: 20 or 21 starts per credential.
        const counts = Array.from({ length: 1000 }, (_, i) => rotationEvents(from, to, defaults, phaseDays(`prod/app-${i}/secret`, 90)).length);
        expect(new Set(counts)).toEqual(new Set([20, 21]));
    });
});

// ---------------------------------------------------------------------------------------------------------
// The simulation: years of runs of `pulumi up`, each converging the deployed slots to scheduleAt(now).

/** A small seeded PRNG, so a failing simulation replays exactly. */
function mulberry32(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** One credential value as deployed: created by one run, deleted by a later one. */
interface Deployed {
    readonly generation: number;
    readonly slot: 0 | 1;
    readonly createdAt: number;
    readonly start: number;
    readonly end: number;
    deletedAt?: number;
    /** The run that first pointed Key Vault at it. */
    servedFrom?: number;
    /** The run that pointed Key Vault at its successor. */
    stoppedAt?: number;
}

interface SimulationCase {
    readonly R: number;
    readonly L: number;
    readonly seed: number;
    /** Whether validatePolicy accepts (R, L); refused pairs are simulated to show what the rule protects. */
    readonly valid: boolean;
}

interface SimulationResult {
    readonly phase: number;
    readonly runs: number;
    readonly maxGapDays: number;
    readonly replacements: number;
    readonly values: readonly Deployed[];
    readonly minDaysLeftServed: number;
    readonly minPickupDays: number;
    readonly maxLatenessDays: number;
    /** The least of pickup - (R - lateness): how close the pickup window came to the bound. */
    readonly minPickupSlackDays: number;
    readonly failures: readonly string[];
}

const simulationFrom = Date.parse("2025-01-01T06:00:00Z"); // daily runs at 06:00 UTC
const simulationTo = Date.parse("2030-12-31T23:59:59Z");

/** Days between runs: mostly daily; some skipped days; now and then an outage of up to R - 1 days without a run. */
function gapDays(rand: () => number, R: number, skipping: boolean): number {
    if (!skipping) return 1;
    const r = rand();
    if (r < 0.01) return R;
    if (r < 0.04) return 1 + Math.floor(rand() * R);
    if (r < 0.25) return 2 + Math.floor(rand() * Math.min(3, R - 1));
    return 1;
}

function simulate({ R, L, seed }: SimulationCase, skipping: boolean): SimulationResult {
    const rand = mulberry32(seed);
    const p = policy(R, L);
    const phase = Math.floor(rand() * R);
    const origin = Date.parse(p.epoch) + phase * day;
    const failures: string[] = [];
    const check = (ok: boolean, message: () => string): void => {
        if (!ok && failures.length < 20) failures.push(message());
    };

    const slots: [Deployed | undefined, Deployed | undefined] = [undefined, undefined];
    const values: Deployed[] = [];
    let served: Deployed | undefined;
    let lastRun: number | undefined;
    let runs = 0;
    let maxGapDays = 0;
    let replacements = 0;
    let minDaysLeftServed = Number.POSITIVE_INFINITY;

    /** Converges the slots to the schedule at t, as `pulumi up` does; returns how many values it replaced. */
    const converge = (t: number): number => {
        const s = scheduleAt(new Date(t), p, phase);
        let replaced = 0;
        for (const state of [s.previous, s.served]) {
            const current = slots[state.slot];
            if (current?.generation === state.generation) {
                check(iso(current.start) === state.start && iso(current.end) === state.end, () => `${iso(t)}: slot ${state.slot} window changed without a new generation`);
                continue;
            }
            if (current) {
                current.deletedAt = t;
                replaced++;
            }
            const value: Deployed = { generation: state.generation, slot: state.slot, createdAt: t, start: Date.parse(state.start), end: Date.parse(state.end) };
            slots[state.slot] = value;
            values.push(value);
        }
        return replaced;
    };

    for (let t = simulationFrom; t <= simulationTo; ) {
        runs++;
        const now = new Date(t);
        const s = scheduleAt(now, p, phase);
        // (f) the schedule is a function of the instant.
        check(isDeepStrictEqual(scheduleAt(now, p, phase), s), () => `${iso(t)}: scheduleAt differs on a second call`);
        const expectedGeneration = Math.floor((t - origin) / (R * day));
        check(s.generation === expectedGeneration, () => `${iso(t)}: generation ${s.generation}, expected ${expectedGeneration}`);
        // Consumers still hold what the previous run served: it must not have expired in between.
        if (served) check(served.end > t, () => `${iso(t)}: generation ${served?.generation} expired before the run`);

        const replaced = converge(t);
        replacements += replaced;
        if (lastRun !== undefined) {
            // (b) at most one slot per run, and slotsReplacedBetween predicts what the run did.
            check(replaced <= 1, () => `${iso(t)}: replaced ${replaced} slots (last run ${iso(lastRun ?? 0)})`);
            check(slotsReplacedBetween(new Date(lastRun), now, p, phase) === replaced, () => `${iso(t)}: slotsReplacedBetween disagrees with the run (${replaced})`);
        }
        // (f) a second run at the same instant replaces nothing.
        check(converge(t) === 0 && slotsReplacedBetween(now, now, p, phase) === 0, () => `${iso(t)}: a second run replaced something`);

        const next = slots[s.served.slot];
        if (next && next !== served) {
            if (served) served.stoppedAt = t;
            next.servedFrom = t;
            served = next;
        }
        // (a) Key Vault serves generation g(t), valid now, with at least L - R days left.
        check(served?.generation === expectedGeneration, () => `${iso(t)}: serving generation ${served?.generation}, expected ${expectedGeneration}`);
        if (served) {
            check(served.start <= t && t < served.end, () => `${iso(t)}: served generation ${served?.generation} is not valid now`);
            check(served.end - t >= (L - R) * day, () => `${iso(t)}: served value has ${((served?.end ?? 0) - t) / day} days left, less than L - R`);
            check(served.deletedAt === undefined, () => `${iso(t)}: the served value is deleted`);
            minDaysLeftServed = Math.min(minDaysLeftServed, (served.end - t) / day);
        }

        lastRun = t;
        const gap = gapDays(rand, R, skipping);
        maxGapDays = Math.max(maxGapDays, gap);
        t += gap * day;
    }

    let minPickupDays = Number.POSITIVE_INFINITY;
    let maxLatenessDays = 0;
    let minPickupSlackDays = Number.POSITIVE_INFINITY;
    for (const v of values) {
        // (c) every credential is within the lifetime and Microsoft's cap.
        check(v.end - v.start <= L * day && v.end - v.start <= absoluteMaxLifetimeDays * day, () => `generation ${v.generation} lives ${(v.end - v.start) / day} days`);
        if (v.servedFrom === undefined) continue;
        // (d) a served value outlives its scheduled stop by R days, and is not deleted before then.
        const scheduledStop = v.start + R * day;
        check(v.end >= scheduledStop + R * day, () => `generation ${v.generation} expires ${iso(v.end)}, before its scheduled stop + R days`);
        if (v.deletedAt !== undefined) check(v.deletedAt >= scheduledStop + R * day, () => `generation ${v.generation} deleted ${iso(v.deletedAt ?? 0)}, before its scheduled stop + R days`);
        // (e) the pickup window: from the run that served its successor to its deletion.
        if (v.stoppedAt === undefined || v.deletedAt === undefined) continue;
        const lateness = v.stoppedAt - scheduledStop;
        const pickup = v.deletedAt - v.stoppedAt;
        check(lateness >= 0, () => `generation ${v.generation} stopped being served before its successor started`);
        if (skipping) {
            check(pickup >= R * day - lateness, () => `generation ${v.generation}: pickup ${pickup / day} days < R - lateness (${lateness / day})`);
        } else {
            check(pickup >= R * day, () => `generation ${v.generation}: pickup ${pickup / day} days < R`);
        }
        minPickupDays = Math.min(minPickupDays, pickup / day);
        maxLatenessDays = Math.max(maxLatenessDays, lateness / day);
        minPickupSlackDays = Math.min(minPickupSlackDays, (pickup - (R * day - lateness)) / day);
    }

    return { phase, runs, maxGapDays, replacements, values, minDaysLeftServed, minPickupDays, maxLatenessDays, minPickupSlackDays, failures };
}

const simulationCases: SimulationCase[] = [
    { R: 90, L: 210, seed: 1, valid: true },
    { R: 30, L: 67, seed: 2, valid: true },
    { R: 7, L: 21, seed: 3, valid: true },
    { R: 180, L: 367, seed: 4, valid: true },
    { R: 361, L: 730, seed: 5, valid: true },
    // 2R + 7 = 737 > 730: refused by validatePolicy; simulated to show the margin it would lose.
    { R: 365, L: 730, seed: 6, valid: false },
];

/** Each simulation once per file, whichever test asks first: results depend only on the case, never on test order. */
const simulations = new Map<string, SimulationResult>();
function simulated(c: SimulationCase, skipping: boolean): SimulationResult {
    const key = `${c.R}/${c.L}/${c.seed}/${skipping}`;
    let result = simulations.get(key);
    if (!result) simulations.set(key, (result = simulate(c, skipping)));
    return result;
}

function reportLine(c: SimulationCase, skipping: boolean, result: SimulationResult): string {
    if (!skipping) {
        return `R=${c.R} L=${c.L} daily: phase ${result.phase}, ${result.runs} runs, min days left served ${result.minDaysLeftServed.toFixed(2)}, min pickup ${result.minPickupDays.toFixed(2)} days`;
    }
    return (
        `R=${c.R} L=${c.L} skipping: phase ${result.phase}, ${result.runs} runs, longest gap ${result.maxGapDays} days, ` +
        `min days left served ${result.minDaysLeftServed.toFixed(2)}, min pickup ${result.minPickupDays.toFixed(2)} days, max lateness ${result.maxLatenessDays.toFixed(2)} days, min slack over the bound ${result.minPickupSlackDays.toFixed(2)} days`
    );
}

describe("simulation: six years of runs per policy", () => {
    describe.each(simulationCases)("R=$R, L=$L", (c) => {
        it(`is ${c.valid ? "accepted" : "refused"} by validatePolicy`, () => {
            expect(validatePolicy({ rotateEveryDays: c.R, lifetimeDays: c.L }).policy !== undefined).toBe(c.valid);
        });

        it("daily runs: every promise holds, and consumers get exactly R days to pick up", () => {
            const result = simulated(c, false);
            expect(result.failures).toEqual([]);
            expect(result.runs).toBeGreaterThan(2000);
            const served = result.values.filter((v) => v.servedFrom !== undefined);
            expect(served.length).toBeGreaterThanOrEqual(Math.floor((6 * 365) / c.R));
            // A run at a fixed hour is as late for the switch as for the deletion.
            const pickedUp = result.values.filter((v) => v.stoppedAt !== undefined && v.deletedAt !== undefined);
            expect(pickedUp.length).toBeGreaterThanOrEqual(Math.floor((6 * 365) / c.R) - 2);
            for (const v of pickedUp) expect(v.deletedAt! - v.stoppedAt!).toBe(c.R * day);
            expect(result.minDaysLeftServed).toBeGreaterThanOrEqual(c.L - c.R);
            expect(result.minPickupDays).toBe(c.R);
        });

        it("runs skipped (up to R - 1 days in a row): every promise holds, pickup shortened only by the lateness", () => {
            const result = simulated(c, true);
            expect(result.failures).toEqual([]);
            expect(result.maxGapDays).toBe(c.R);
            expect(result.replacements).toBeGreaterThan(0);
            expect(result.minDaysLeftServed).toBeGreaterThanOrEqual(c.L - c.R);
            // The bound is tight: when the deleting run is on time (06:00, a quarter day after the start), pickup = R - lateness + 1/4.
            expect(result.minPickupSlackDays).toBe(0.25);
            // The promised expiry margin after the scheduled deletion is L - 2R: at least 7 days for an accepted policy.
            const margins = result.values.filter((v) => v.servedFrom !== undefined).map((v) => (v.end - (v.start + 2 * c.R * day)) / day);
            expect(Math.min(...margins)).toBe(c.L - 2 * c.R);
            if (c.valid) expect(Math.min(...margins)).toBeGreaterThanOrEqual(7);
        });
    });

    it("reports its figures on request (SCHEDULE_SIM_REPORT=1)", () => {
        // Computed here, not collected from the tests above: it holds when run alone or when a simulation fails.
        const report = simulationCases.flatMap((c) => [false, true].map((skipping) => reportLine(c, skipping, simulated(c, skipping))));
        if (process.env["SCHEDULE_SIM_REPORT"]) console.log(report.join("\n"));
        expect(report).toHaveLength(simulationCases.length * 2);
        for (const [i, line] of report.entries()) {
            const c = simulationCases[Math.floor(i / 2)]!;
            expect(line).toMatch(new RegExp(`^R=${c.R} L=${c.L} ${i % 2 === 0 ? "daily" : "skipping"}: phase \\d+, \\d+ runs, .*min pickup \\d+\\.\\d{2} days`));
            expect(line).not.toMatch(/NaN|Infinity/);
        }
    });
});
