import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateToIsoSeconds, isoSeconds } from "../rotation/instants";

/** What every output used to do: Date's own ISO form, without the milliseconds. */
const reference = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

describe("isoSeconds", () => {
    it("writes what Date writes, to the second, for any instant Date can hold", () => {
        fc.assert(
            fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
                expect(isoSeconds(ms)).toBe(reference(ms));
            }),
            { numRuns: 20_000 },
        );
    });

    it("is exact at the edges of days, leap years, centuries and the four-digit years", () => {
        const edges = [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2000-02-29T23:59:59Z",
            "2100-03-01T00:00:00Z",
            "2024-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ];
        for (const edge of edges) {
            const ms = Date.parse(edge);
            for (const delta of [-1001, -1000, -1, 0, 1, 999, 1000]) expect(isoSeconds(ms + delta)).toBe(reference(ms + delta));
        }
        expect(isoSeconds(Date.parse("+010000-01-01T00:00:00Z"))).toBe("+010000-01-01T00:00:00Z");
    });

    it("refuses what is not an instant", () => {
        expect(() => isoSeconds(Number.NaN)).toThrow(RangeError);
        expect(() => dateToIsoSeconds(new Date("nope"))).toThrow(RangeError);
    });
});
