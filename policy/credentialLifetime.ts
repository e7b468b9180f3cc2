import { X509Certificate } from "node:crypto";
import { readInput, show, unknownDuringPreview } from "./inputs";

/**
 * Rule 1: an application's client secrets and certificate credentials live no longer than the cap.
 *
 * A leaked credential is useful to whoever holds it until it expires, so its lifetime bounds the damage;
 * entra-rotor's stacks keep lifetimes short by construction, and this rule holds every other stack of the
 * organisation to the same cap. The lifetime is measured as Entra will see it: from `startDate` (or the
 * moment of creation, "now", when there is none) to `endDate`, `endDateRelative` or Entra's default.
 */

export const applicationPasswordType = "azuread:index/applicationPassword:ApplicationPassword";
export const applicationCertificateType = "azuread:index/applicationCertificate:ApplicationCertificate";

/**
 * A client secret created without an end date: Microsoft Graph's addPassword makes it valid for
 * startDateTime + 2 years, which is what the 730-day cap (Microsoft's own limit) means by "two years". It is
 * counted as exactly 730 days, so that the same secret does not pass or fail depending on a leap day.
 */
export const defaultPasswordLifetimeDays = 730;

const dayMs = 86_400_000;

/** The date inputs ApplicationPassword and ApplicationCertificate share (azuread 6.x input names). */
export interface CredentialDateInputs {
    readonly startDate?: unknown;
    readonly endDate?: unknown;
    /** Deprecated in azuread 6 but still honoured by the provider: a Go duration such as "8760h". */
    readonly endDateRelative?: unknown;
}

export interface CertificateInputs extends CredentialDateInputs {
    /** The certificate: PEM, base64 DER or hex DER according to `encoding`. Read only when there is no end date. */
    readonly value?: unknown;
    readonly encoding?: unknown;
}

export interface LifetimeOptions {
    /** The cap, in whole days. */
    readonly maxLifetimeDays: number;
    /** The instant a credential without startDate would be created at. */
    readonly now: Date;
}

/** Problems with a client secret's lifetime; empty when it is within the cap. Pure. */
export function validatePasswordLifetime(props: CredentialDateInputs, options: LifetimeOptions): string[] {
    return validateLifetime("client secret", props, options, (start) => ({
        end: start + defaultPasswordLifetimeDays * dayMs,
        how: `has no endDate, so Entra makes it valid for its default of two years (counted as ${defaultPasswordLifetimeDays} days)`,
    }));
}

/** Problems with a certificate credential's lifetime; empty when it is within the cap. Pure. */
export function validateCertificateLifetime(props: CertificateInputs, options: LifetimeOptions): string[] {
    return validateLifetime("certificate credential", props, options, (start) => {
        // Without an end date, Entra takes the certificate's own expiry (notAfter). Only then is the value read:
        // a generated certificate is unknown during preview, and reading it would stop the whole check.
        const notAfter = certificateNotAfter(props.value, props.encoding);
        if (notAfter === undefined) {
            return {
                problem:
                    `certificate credential has no endDate and its value cannot be read as an X.509 certificate ` +
                    `(encoding ${show(props.encoding ?? "pem")}), so its lifetime cannot be checked: set endDate to at most ${iso(start + options.maxLifetimeDays * dayMs)}`,
            };
        }
        return { end: notAfter, how: `has no endDate, so Entra makes it valid until the certificate expires (notAfter ${iso(notAfter)})` };
    });
}

type MissingEnd = { readonly end: number; readonly how: string } | { readonly problem: string };

function validateLifetime(kind: string, props: CredentialDateInputs, options: LifetimeOptions, missingEnd: (start: number) => MissingEnd): string[] {
    const cap = options.maxLifetimeDays;
    const capMs = cap * dayMs;
    const now = options.now.getTime();

    let start: number;
    let from: string;
    let explicitStart = false;
    const rawStart = readInput(props, "startDate");
    if (rawStart === unknownDuringPreview) {
        // Computed from a resource about to be created (e.g. a generated certificate's validity start): it will be
        // now or later, so measuring from now can only overstate the lifetime, never hide an excess.
        start = now;
        from = "now (startDate is known only once the resources it comes from exist)";
    } else if (isAbsent(rawStart)) {
        start = now;
        from = "now (no startDate: Entra starts it when it is created)";
    } else {
        const parsed = parseTimestamp(rawStart);
        if (parsed === undefined) return [`startDate ${show(rawStart)} is not an RFC 3339 date-time such as 2026-01-31T00:00:00Z: write it in that form`];
        start = parsed;
        from = iso(start);
        explicitStart = true;
    }
    const latestEnd = iso(start + capMs);
    const capText = `the ${cap}-day cap on credential lifetimes (policy config maxLifetimeDays)`;

    const endDate = props.endDate;
    const endDateRelative = props.endDateRelative;
    let end: number;
    let fix: string;
    let what: string;
    // The provider's own precedence: endDate, then endDateRelative, then Entra's default.
    if (!isAbsent(endDate)) {
        const parsed = parseTimestamp(endDate);
        if (parsed === undefined) return [`endDate ${show(endDate)} is not an RFC 3339 date-time such as 2026-01-31T00:00:00Z: write it in that form`];
        end = parsed;
        what = `is valid for ${describeDuration(end - start)} (from ${from} to ${iso(end)})`;
        fix = `set endDate to at most ${latestEnd} (${cap} days after its start)`;
    } else if (!isAbsent(endDateRelative)) {
        const duration = typeof endDateRelative === "string" ? parseGoDuration(endDateRelative) : undefined;
        if (duration === undefined) {
            return [`endDateRelative ${show(endDateRelative)} is not a duration such as "4320h" (hours, minutes and seconds as in Go: h, m, s): fix it, or better set endDate (endDateRelative is deprecated in azuread 6)`];
        }
        end = start + duration;
        what = `is valid for ${describeDuration(duration)} (endDateRelative ${show(endDateRelative)}, from ${from})`;
        fix = `set endDateRelative to at most "${cap * 24}h", or better set endDate (endDateRelative is deprecated in azuread 6)`;
    } else {
        const missing = missingEnd(start);
        if ("problem" in missing) return [missing.problem];
        end = missing.end;
        what = `${missing.how}: ${describeDuration(end - start)} from ${from}`;
        fix = `set endDate to at most ${latestEnd} (${cap} days after its start)`;
    }

    if (explicitStart && end <= start) return [`${kind} ends (${iso(end)}) before it starts (startDate ${iso(start)}): set endDate after startDate`];
    if (end - start <= capMs) return [];
    return [`${kind} ${what}, more than ${capText}: ${fix}, and replace it before it expires`];
}

function isAbsent(value: unknown): boolean {
    return value === undefined || value === null || value === "";
}

/** The provider parses dates as Go's time.RFC3339; anything else would fail at deploy time. */
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 date-time, or undefined. */
export function parseTimestamp(value: unknown): number | undefined {
    if (typeof value !== "string" || !rfc3339.test(value)) return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
}

const goDurationUnitMs: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const goDurationPattern = /^[+-]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const goDurationPart = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** A Go duration (time.ParseDuration, which the provider uses for endDateRelative) in milliseconds, or undefined. */
export function parseGoDuration(text: string): number | undefined {
    if (!goDurationPattern.test(text)) return undefined;
    let total = 0;
    for (const [, amount, unit] of text.matchAll(goDurationPart)) total += Number(amount) * goDurationUnitMs[unit!]!;
    return text.startsWith("-") ? -total : total;
}

/** When a certificate expires, from its value as ApplicationCertificate takes it; undefined if it cannot be read. */
export function certificateNotAfter(value: unknown, encoding: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    try {
        const data = encoding === "base64" ? Buffer.from(value, "base64") : encoding === "hex" ? Buffer.from(value, "hex") : value;
        const notAfter = Date.parse(new X509Certificate(data).validTo);
        return Number.isNaN(notAfter) ? undefined : notAfter;
    } catch {
        return undefined;
    }
}

/** ISO-8601 to the second, as the stack's own dates are written. */
function iso(ms: number): string {
    return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** "730 days", or "730 days 1 h 30 min" when not whole days: a second over the cap must not read as "731 days". */
export function describeDuration(ms: number): string {
    const days = Math.floor(ms / dayMs);
    let rest = Math.round((ms - days * dayMs) / 1000);
    const parts = [`${days} day${days === 1 ? "" : "s"}`];
    for (const [unit, seconds] of [["h", 3600], ["min", 60], ["s", 1]] as const) {
        const amount = Math.floor(rest / seconds);
        rest -= amount * seconds;
        if (amount > 0) parts.push(`${amount} ${unit}`);
    }
    return parts.join(" ");
}
