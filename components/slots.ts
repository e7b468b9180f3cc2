/**
 * The two-slot rotation scheme as components see it: plain data computed by the schedule, so a component
 * never reads the clock and the same inputs always register the same resources.
 */

import { absoluteMaxLifetimeDays, type SlotState } from "../rotation/schedule";

/** One of a rotating credential's two slots, as the schedule computes it. */
export type CredentialSlot = SlotState;

/** Entra's (and the portal's) cap on a client secret's lifetime. */
export const maxSecretLifetimeDays = absoluteMaxLifetimeDays;
const day = 86_400_000;
const isoSecond = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Problems with a pair of slots: both slots present once, consecutive generations each in the slot of its
 * parity, dates to the second with the end after the start and at most `maxLifetimeDays` later. Pure.
 */
export function validateSlots(slots: readonly CredentialSlot[], maxLifetimeDays = maxSecretLifetimeDays): string[] {
    const problems: string[] = [];
    if (slots.length !== 2 || slots[0]?.slot === slots[1]?.slot) return ["exactly two slots, 0 and 1, are required"];
    for (const s of slots) {
        if (!Number.isInteger(s.generation)) problems.push(`slot ${s.slot}: generation ${s.generation} is not an integer`);
        else if (((s.generation % 2) + 2) % 2 !== s.slot) problems.push(`slot ${s.slot} cannot hold generation ${s.generation}: generation g lives in slot g mod 2`);
        if (!isoSecond.test(s.start) || !isoSecond.test(s.end)) {
            problems.push(`slot ${s.slot}: start and end must be ISO-8601 UTC to the second, e.g. 2026-01-01T00:00:00Z`);
            continue;
        }
        const lifetime = (Date.parse(s.end) - Date.parse(s.start)) / day;
        if (lifetime <= 0) problems.push(`slot ${s.slot}: end ${s.end} is not after start ${s.start}`);
        if (lifetime > maxLifetimeDays) problems.push(`slot ${s.slot}: lifetime of ${lifetime} days exceeds ${maxLifetimeDays} days`);
    }
    if (Math.abs(slots[0]!.generation - slots[1]!.generation) !== 1) problems.push("the slots must hold consecutive generations");
    return problems;
}

/** The slot Key Vault serves: the one holding the newest generation. */
export function servedSlot<T extends CredentialSlot>(slots: readonly T[]): T {
    return slots.reduce((newest, s) => (s.generation > newest.generation ? s : newest));
}
