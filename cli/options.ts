import { InvalidArgumentError } from "commander";

/** `--at`, `--since`, `--from`, `--to`: a date (midnight UTC) or an ISO-8601 instant with a zone. */
export function parseInstant(value: string): Date {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
    const date = new Date(dateOnly ? `${value}T00:00:00Z` : value);
    if ((!dateOnly && !instant) || Number.isNaN(date.getTime()) || (dateOnly && date.toISOString().slice(0, 10) !== value)) {
        throw new InvalidArgumentError(`use YYYY-MM-DD or an ISO-8601 instant such as 2027-03-01T06:00:00Z`);
    }
    return date;
}

/** `--since`: an instant as parseInstant reads it, or `never` for a stack's first deployment. */
export function parseSince(value: string): Date | "never" {
    if (value === "never") return "never";
    try {
        return parseInstant(value);
    } catch {
        throw new InvalidArgumentError("use YYYY-MM-DD, an ISO-8601 instant such as 2027-03-01T06:00:00Z, or never (a stack's first deployment)");
    }
}

/** `--within`: whole days, as far ahead as a credential can live. */
export function parseDays(value: string): number {
    const days = Number(value);
    if (!/^\d+$/.test(value) || days < 1 || days > 730) throw new InvalidArgumentError("a whole number of days from 1 to 730");
    return days;
}

/** `--parallel`: stacks read at once. */
export function parseParallel(value: string): number {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 32) throw new InvalidArgumentError("a whole number from 1 to 32");
    return n;
}
