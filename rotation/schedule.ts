import { createHash } from "node:crypto";
import { isoSeconds } from "./instants";

/**
 * The rotation schedule: two slots per credential, and generations cut from time alone, so that a run is a
 * pure function of (policy, phase, instant) and needs no state. With R = rotateEveryDays, L = lifetimeDays,
 * origin = epoch + phase days:
 *
 * - generation g(t) = floor((t - origin) / R days); slot g mod 2 holds generation g, the other slot g - 1;
 * - generation k is valid from origin + k*R days to that + L days; Key Vault serves generation g(t);
 * - with 2R + 7 <= L: the served value has more than L - R days left; a value stops being served at the
 *   next generation start and its slot is reused one generation later, so consumers get R days (less the
 *   lateness of the run that switched) to pick up its successor, and it still authenticates a week after;
 * - runs at most R days apart cross at most one generation boundary, so they replace at most one slot;
 *   replacing both (runs more than R days apart across two boundaries, always from 2R days; or R, L,
 *   epoch changed) deletes the value consumers hold at once: it is breaking and is reported;
 * - the same instant gives the same state: running twice replaces nothing.
 */

const dayMs = 86_400_000;

/** A fixed origin for generations; changing it moves every credential's schedule, so it is rarely configured. */
export const defaultEpoch = "2024-01-01T00:00:00Z";
/** A quarter: frequent enough to limit exposure of a leaked secret, rare enough to keep churn low. */
export const defaultRotateEveryDays = 90;
/** 2R + 7 = 187 for the default R, rounded up to seven 30-day months: slack beyond the minimum, well under Entra's cap. */
export const defaultLifetimeDays = 210;
/** Microsoft caps client secrets at two years; tenants may enforce less, never more. */
export const absoluteMaxLifetimeDays = 730;
/** A value still authenticates this long after its slot is due for reuse, which absorbs a late pipeline. */
const lifetimeMarginDays = 7;

/** The knobs of one rotating credential, validated by validatePolicy. */
export interface RotationPolicy {
    /** R: a new generation starts every R days. */
    readonly rotateEveryDays: number;
    /** L: each generation is valid for L days from its start; L >= 2R + 7. */
    readonly lifetimeDays: number;
    /** The instant generation 0 of phase 0 starts, ISO-8601 UTC to the second. */
    readonly epoch: string;
}

export type PolicyField = "rotateEveryDays" | "lifetimeDays" | "epoch";

/** One reason a policy is refused; the message names the value and says how to fix it. */
export interface PolicyProblem {
    readonly field: PolicyField;
    readonly message: string;
}

/** Raw policy values from config; missing ones take the defaults. */
export interface PolicyInput {
    readonly rotateEveryDays?: unknown;
    readonly lifetimeDays?: unknown;
    readonly epoch?: unknown;
}

export interface PolicyResult {
    /** Present when there is no problem. */
    readonly policy?: RotationPolicy;
    readonly problems: PolicyProblem[];
}

/** Checks the knobs against the scheme's rules and the tenant's limit, reporting every problem at once. Pure. */
export function validatePolicy(input: PolicyInput, maxLifetimeDays: number = absoluteMaxLifetimeDays): PolicyResult {
    const maxProblem = validateMaxLifetimeDays(maxLifetimeDays);
    if (maxProblem !== undefined) throw new RangeError(maxProblem);
    const problems: PolicyProblem[] = [];

    const rotate = wholeDays("rotateEveryDays", input.rotateEveryDays, defaultRotateEveryDays, problems);
    const validRotate = rotate !== undefined && rotate >= 1 ? rotate : undefined;
    if (rotate !== undefined && rotate < 1) {
        problems.push({ field: "rotateEveryDays", message: `rotateEveryDays must be at least 1, got ${rotate}: use 1 or more (the default is ${defaultRotateEveryDays})` });
    }
    const lifetime = wholeDays("lifetimeDays", input.lifetimeDays, defaultLifetimeDays, problems);

    const cap = Math.min(absoluteMaxLifetimeDays, maxLifetimeDays);
    const capName = cap < absoluteMaxLifetimeDays ? `the tenant's limit of ${cap} days` : `${absoluteMaxLifetimeDays} days, the longest a client secret may live`;
    // The longest R that any lifetime under the cap allows.
    const longestRotate = Math.floor((cap - lifetimeMarginDays) / 2);
    if (lifetime !== undefined && lifetime > cap) {
        let fix = `lower lifetimeDays to at most ${cap}`;
        if (longestRotate < 1) fix += ` (no rotation fits: it needs lifetimes of at least ${2 + lifetimeMarginDays} days)`;
        else if (validRotate !== undefined && validRotate > longestRotate) fix += ` and rotateEveryDays to at most ${longestRotate}`;
        problems.push({ field: "lifetimeDays", message: `lifetimeDays ${lifetime} is more than ${capName}: ${fix}` });
    }
    if (lifetime !== undefined && validRotate !== undefined) {
        const needed = 2 * validRotate + lifetimeMarginDays;
        if (lifetime < needed) {
            const rotateFor = Math.floor((lifetime - lifetimeMarginDays) / 2);
            const lead = `lifetimeDays ${lifetime} is less than 2 x rotateEveryDays + ${lifetimeMarginDays} = ${needed}`;
            if (needed > cap) {
                // Raising L cannot help: only a shorter R can.
                const fix =
                    lifetime <= cap && rotateFor >= 1
                        ? `lower rotateEveryDays to at most ${rotateFor}`
                        : longestRotate >= 1
                          ? `lower rotateEveryDays to at most ${longestRotate}, with lifetimeDays from 2 x rotateEveryDays + ${lifetimeMarginDays} to ${cap}`
                          : "no rotation fits under it";
                problems.push({ field: "rotateEveryDays", message: `${lead}, and lifetimes stop at ${capName}: ${fix}` });
            } else {
                const lower = rotateFor >= 1 ? ` or lower rotateEveryDays to at most ${rotateFor}` : "";
                problems.push({ field: "lifetimeDays", message: `${lead}: raise lifetimeDays to at least ${needed}${lower}` });
            }
        }
    }

    const epoch = parseEpoch(input.epoch === undefined ? defaultEpoch : input.epoch);
    if (typeof epoch === "string") problems.push({ field: "epoch", message: epoch });

    if (problems.length > 0 || rotate === undefined || lifetime === undefined || typeof epoch === "string") return { problems };
    return { policy: { rotateEveryDays: rotate, lifetimeDays: lifetime, epoch: isoSeconds(epoch) }, problems };
}

/** The earliest epoch accepted: before it, generations count from a time no Entra credential of a stack has. */
export const earliestEpoch = "2000-01-01T00:00:00Z";

/**
 * An epoch must be a past instant: generations count from it, and one in the future makes them negative
 * (and every credential's "next rotation" a date the stack has never seen). Pure: `now` is the model's instant.
 */
export function epochBoundsProblem(epoch: string, now: Date): string | undefined {
    const at = Date.parse(epoch);
    if (Number.isNaN(at)) return undefined; // parseEpoch reports it
    if (at < Date.parse(earliestEpoch)) return `epoch "${epoch}" is before ${earliestEpoch}: use an instant from ${earliestEpoch} to now, e.g. "${defaultEpoch}"`;
    if (at > now.getTime()) return `epoch "${epoch}" is in the future (now is ${isoSeconds(now.getTime())}): generations count from it, so it must have passed; use an instant up to now, e.g. "${defaultEpoch}"`;
    return undefined;
}

/** The tenant's lifetime limit (from its app management policy) must itself be usable as a cap. */
export function validateMaxLifetimeDays(value: unknown): string | undefined {
    if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= absoluteMaxLifetimeDays) return undefined;
    return `maxLifetimeDays must be a whole number of days from 1 to ${absoluteMaxLifetimeDays}, got ${describeValue(value)}`;
}

/** Spreads credentials over the cycle (whole days in [0, R)) so that a thousand of them do not rotate on one morning. */
export function phaseDays(key: string, rotateEveryDays: number): number {
    checkRotate(rotateEveryDays);
    const digest = createHash("sha256").update(key, "utf8").digest();
    // 48 bits are exact in a double; the bias of the modulo is below 2^-30 for any R.
    return digest.readUIntBE(0, 6) % rotateEveryDays;
}

/** The generation in force at `at`; it is the replacement trigger of the credential's resources. */
export function generationAt(at: Date, policy: RotationPolicy, phase: number): number {
    const period = periodMs(policy);
    return floorDiv(instantMs(at) - originMs(policy, phase), period);
}

/** Which of the two slots holds a generation; correct for negative generations too. */
export function slotOf(generation: number): 0 | 1 {
    checkGeneration(generation);
    return Math.abs(generation % 2) === 1 ? 1 : 0;
}

/** Validity of a generation, deterministic to the second so that reruns and previews never differ. */
export function generationWindow(generation: number, policy: RotationPolicy, phase: number): { start: string; end: string } {
    const { start, end } = windowMs(generation, policy, phase);
    return { start: isoSeconds(start), end: isoSeconds(end) };
}

/** What a slot holds at some instant. */
export interface SlotState {
    readonly slot: 0 | 1;
    readonly generation: number;
    /** ISO-8601 UTC to the second. */
    readonly start: string;
    /** ISO-8601 UTC to the second. */
    readonly end: string;
}

/** Everything a run at one instant deploys for a credential. */
export interface Schedule {
    readonly generation: number;
    /** The slot Key Vault points at: generation g. */
    readonly served: SlotState;
    /** The other slot: generation g - 1, kept for consumers that have not picked up the served one. */
    readonly previous: SlotState;
    /** Start of generation g + 1, when the served value is replaced in the other slot. */
    readonly nextRotation: string;
    /** Whole days until the served value expires; more than L - R for a valid policy. */
    readonly daysLeftServed: number;
}

/** The desired state of both slots at `at`: what `pulumi up` at that instant converges to. */
export function scheduleAt(at: Date, policy: RotationPolicy, phase: number): Schedule {
    const t = instantMs(at);
    const generation = generationAt(at, policy, phase);
    const served = slotState(generation, policy, phase);
    const next = windowMs(generation + 1, policy, phase);
    return {
        generation,
        served,
        previous: slotState(generation - 1, policy, phase),
        nextRotation: isoSeconds(next.start),
        daysLeftServed: Math.floor((windowMs(generation, policy, phase).end - t) / dayMs),
    };
}

/** How many slots a run at `now` replaces after a run at `lastRun`; 2 means consumers' value is deleted at once. */
export function slotsReplacedBetween(lastRun: Date, now: Date, policy: RotationPolicy, phase: number): 0 | 1 | 2 {
    return changedSlots(slotsAt(lastRun, policy, phase), slotsAt(now, policy, phase));
}

/** The slots a run at `now` replaces after a run at `lastRun`: their credentials are created by that run. */
export function slotsReplacedAt(lastRun: Date, now: Date, policy: RotationPolicy, phase: number): (0 | 1)[] {
    const before = slotsAt(lastRun, policy, phase);
    const after = slotsAt(now, policy, phase);
    return ([0, 1] as const).filter((slot) => changedSlots([before[slot], before[slot]], [after[slot], after[slot]]) > 0);
}

/** How many slots a policy change replaces at `at`; a changed R, L or epoch usually replaces both (breaking). */
export function slotsReplacedByPolicyChange(oldPolicy: RotationPolicy, newPolicy: RotationPolicy, at: Date, phaseOld: number, phaseNew: number): 0 | 1 | 2 {
    return changedSlots(slotsAt(at, oldPolicy, phaseOld), slotsAt(at, newPolicy, phaseNew));
}

/** A scheduled replacement: the calendar of a credential, as the rotor calendar and plan show it. */
export interface RotationEvent {
    /** When the generation starts, ISO-8601 UTC to the second; the run at or after it performs the replacement. */
    readonly date: string;
    readonly slot: 0 | 1;
    /** The generation deleted from the slot (created - 2). */
    readonly retiredGeneration: number;
    readonly createdGeneration: number;
}

/** Every generation start in [from, to), ascending, computed in O(events) so calendars of thousands of credentials stay cheap. */
export function rotationEvents(from: Date, to: Date, policy: RotationPolicy, phase: number): RotationEvent[] {
    const fromMs = instantMs(from);
    const toMs = instantMs(to);
    const period = periodMs(policy);
    const origin = originMs(policy, phase);
    const events: RotationEvent[] = [];
    if (toMs <= fromMs) return events;
    // The first generation whose start is at or after `from`.
    let generation = 0 - floorDiv(origin - fromMs, period); // 0 - x, not -x: never -0
    for (let start = origin + generation * period; start < toMs; generation++, start += period) {
        events.push({ date: isoSeconds(start), slot: slotOf(generation), retiredGeneration: generation - 2, createdGeneration: generation });
    }
    return events;
}

function slotState(generation: number, policy: RotationPolicy, phase: number): SlotState {
    return { slot: slotOf(generation), generation, ...generationWindow(generation, policy, phase) };
}

interface SlotWindow {
    readonly generation: number;
    readonly start: number;
    readonly end: number;
}

/** Both slots at an instant, indexed by slot number, as numbers: compared, never printed. */
function slotsAt(at: Date, policy: RotationPolicy, phase: number): [SlotWindow, SlotWindow] {
    const generation = generationAt(at, policy, phase);
    const served = { generation, ...windowMs(generation, policy, phase) };
    const previous = { generation: generation - 1, ...windowMs(generation - 1, policy, phase) };
    return slotOf(generation) === 0 ? [served, previous] : [previous, served];
}

/** A slot is replaced when its generation (the trigger) or its window (ForceNew on the credential) differs. */
function changedSlots(before: [SlotWindow, SlotWindow], after: [SlotWindow, SlotWindow]): 0 | 1 | 2 {
    let changed = 0;
    for (const slot of [0, 1] as const) {
        const a = before[slot];
        const b = after[slot];
        if (a.generation !== b.generation || a.start !== b.start || a.end !== b.end) changed++;
    }
    return changed as 0 | 1 | 2;
}

function windowMs(generation: number, policy: RotationPolicy, phase: number): { start: number; end: number } {
    checkGeneration(generation);
    const start = originMs(policy, phase) + generation * periodMs(policy);
    if (!Number.isInteger(policy.lifetimeDays) || policy.lifetimeDays < 1) throw new RangeError(`lifetimeDays must be a whole number of days >= 1, got ${describeValue(policy.lifetimeDays)}`);
    return { start, end: start + policy.lifetimeDays * dayMs };
}

/** Parsed epochs: a stack has one or a few, and every schedule computation needs its own. */
const epochs = new Map<string, number>();

function originMs(policy: RotationPolicy, phase: number): number {
    if (!Number.isInteger(phase) || phase < 0) throw new RangeError(`phase must be a whole number of days >= 0, got ${describeValue(phase)}`);
    let epoch = epochs.get(policy.epoch);
    if (epoch === undefined) {
        epoch = Date.parse(policy.epoch);
        if (Number.isNaN(epoch)) throw new RangeError(`epoch must be an ISO-8601 instant, got ${describeValue(policy.epoch)}`);
        if (epochs.size >= 64) epochs.clear();
        epochs.set(policy.epoch, epoch);
    }
    return epoch + phase * dayMs;
}

function periodMs(policy: RotationPolicy): number {
    checkRotate(policy.rotateEveryDays);
    return policy.rotateEveryDays * dayMs;
}

function checkRotate(rotateEveryDays: number): void {
    if (!Number.isInteger(rotateEveryDays) || rotateEveryDays < 1) throw new RangeError(`rotateEveryDays must be a whole number of days >= 1, got ${describeValue(rotateEveryDays)}`);
}

function checkGeneration(generation: number): void {
    if (!Number.isSafeInteger(generation)) throw new RangeError(`generation must be an integer, got ${describeValue(generation)}`);
}

function instantMs(at: Date): number {
    const t = at.getTime();
    if (Number.isNaN(t)) throw new RangeError("invalid date");
    return t;
}

/** floor(a / b) for b > 0, exact at boundaries whatever the rounding of the division. */
function floorDiv(a: number, b: number): number {
    let q = Math.floor(a / b);
    if (q * b > a) q--;
    else if ((q + 1) * b <= a) q++;
    return q;
}

/** A whole number of days, the default when absent; pushes a problem and returns undefined otherwise. */
function wholeDays(field: "rotateEveryDays" | "lifetimeDays", value: unknown, fallback: number, problems: PolicyProblem[]): number | undefined {
    if (value === undefined) return fallback;
    if (typeof value === "number" && Number.isInteger(value)) return value;
    let message: string;
    if (typeof value === "number" && Number.isFinite(value)) {
        message = `${field} must be a whole number of days, got ${value}: use ${Math.max(1, Math.round(value))}`;
    } else if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) {
        message = `${field} must be a number, got the string ${JSON.stringify(value)}: write it without quotes`;
    } else {
        message = `${field} must be a whole number of days, got ${describeValue(value)}: set a number, or remove it to use the default (${fallback})`;
    }
    problems.push({ field, message });
    return undefined;
}

const isoInstant = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** The epoch as milliseconds, or the problem with it. Strict: Date.parse alone accepts 2024-02-30 and zone-less local times. */
function parseEpoch(value: unknown): number | string {
    const example = `e.g. "${defaultEpoch}"`;
    if (typeof value !== "string") return `epoch must be an ISO-8601 instant in quotes, ${example}, got ${describeValue(value)}`;
    const match = isoInstant.exec(value);
    if (!match) {
        if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `epoch "${value}" has no time and zone: write "${value}T00:00:00Z"`;
        if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return `epoch "${value}" has no time zone: write "${value}Z" for UTC`;
        return `epoch "${value}" is not an ISO-8601 instant: write it as YYYY-MM-DDTHH:MM:SSZ, ${example}`;
    }
    const part = (i: number): number => Number(match[i] ?? "0");
    const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
    const back = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    const calendarOk = back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
    if (!calendarOk || part(9) > 23 || part(10) > 59) {
        return `epoch "${value}" is not a real date and time: check the day of the month, the time and the offset, ${example}`;
    }
    const fraction = match[7];
    if (fraction !== undefined && /[1-9]/.test(fraction)) {
        return `epoch "${value}" has a fraction of a second: credential dates are whole seconds, drop ".${fraction}"`;
    }
    return Date.parse(value);
}

function describeValue(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    if (value instanceof Date) return "a date (quote it to keep it a string)";
    if (typeof value === "object") return "an object";
    return String(value);
}
