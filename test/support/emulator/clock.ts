/**
 * The emulator's idea of "now" for everything a test wants to move through time: credential validity
 * windows (startDateTime/endDateTime), Key Vault nbf/exp and created/updated, Graph createdDateTime.
 *
 * Protocol timestamps stay on the wall clock: the SDKs stamp client assertions and cache access tokens with
 * Date.now(), so judging those against a simulated date would reject every request the SDK makes.
 */
export interface Clock {
    now(): Date;
    /** Moves a settable clock to an instant. */
    set(instant: Date | string): void;
    /** Moves a settable clock forward (or back, with a negative amount). */
    advance(ms: number): void;
}

/**
 * - a Date or ISO string: a frozen clock that moves only by set/advance (deterministic tests);
 * - a function: the caller's clock (shared with the code under test); set/advance are refused;
 * - nothing: the wall clock, offset by set/advance.
 */
export function createClock(start?: Date | string | (() => Date)): Clock {
    if (typeof start === "function") {
        return {
            now: () => start(),
            set: () => {
                throw new Error("this emulator clock follows a function given to it; move that clock instead");
            },
            advance: () => {
                throw new Error("this emulator clock follows a function given to it; move that clock instead");
            },
        };
    }
    if (start === undefined) {
        let offset = 0;
        return {
            now: () => new Date(Date.now() + offset),
            set: (instant) => void (offset = new Date(instant).getTime() - Date.now()),
            advance: (ms) => void (offset += ms),
        };
    }
    let current = new Date(start).getTime();
    if (Number.isNaN(current)) throw new Error(`not a date: ${String(start)}`);
    return {
        now: () => new Date(current),
        set: (instant) => {
            const next = new Date(instant).getTime();
            if (Number.isNaN(next)) throw new Error(`not a date: ${String(instant)}`);
            current = next;
        },
        advance: (ms) => void (current += ms),
    };
}

export const dayMs = 24 * 60 * 60 * 1000;
