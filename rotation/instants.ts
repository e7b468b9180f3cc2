/**
 * Instants as every output of the project writes them: ISO-8601 UTC to the second, `2027-03-01T00:00:00Z`.
 * The plan of a large stack formats hundreds of thousands of them, so the common case is computed from the
 * number alone (civil-from-days, H. Hinnant's algorithm) instead of a Date, a string and a regex each.
 */

const dayMs = 86_400_000;
/** Years 0000-9999 print as four digits; anything else takes Date's expanded form. */
const minFastMs = -62_167_219_200_000; // 0000-01-01T00:00:00Z
const maxFastMs = 253_402_300_800_000; // 10000-01-01T00:00:00Z

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * Recently formatted instants. A stack's schedules share few distinct instants (credentials differ by whole
 * days of phase), so most calls are a lookup; the bound keeps a long calendar from growing it without end.
 */
const formatted = new Map<number, string>();
const maxFormatted = 4_096;

/** Milliseconds since 1970 to `YYYY-MM-DDTHH:MM:SSZ`; a fraction of a second is dropped. */
export function isoSeconds(ms: number): string {
    const cached = formatted.get(ms);
    if (cached !== undefined) return cached;
    const text = format(ms);
    if (formatted.size >= maxFormatted) formatted.clear();
    formatted.set(ms, text);
    return text;
}

function format(ms: number): string {
    if (!Number.isFinite(ms)) throw new RangeError("invalid date");
    if (ms < minFastMs || ms >= maxFastMs) return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
    const days = Math.floor(ms / dayMs);
    const secondsOfDay = Math.floor((ms - days * dayMs) / 1000);
    const z = days + 719_468;
    const era = Math.floor(z / 146_097);
    const dayOfEra = z - era * 146_097;
    const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
    const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const mp = Math.floor((5 * dayOfYear + 2) / 153);
    const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
    const month = mp < 10 ? mp + 3 : mp - 9;
    const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    const hours = Math.floor(secondsOfDay / 3_600);
    const minutes = Math.floor((secondsOfDay % 3_600) / 60);
    const seconds = secondsOfDay % 60;
    return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}Z`;
}

/** A Date to `YYYY-MM-DDTHH:MM:SSZ`. */
export function dateToIsoSeconds(date: Date): string {
    return isoSeconds(date.getTime());
}
