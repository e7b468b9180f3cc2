import { X509Certificate } from "node:crypto";
import { isRecord, readInput, show, unknownDuringPreview } from "./inputs";

/**
 * Rule 1: client secrets and certificate credentials live no longer than the cap.
 *
 * A leaked credential is useful to whoever holds it until it expires, so its lifetime bounds the damage;
 * entra-rotor's stacks keep lifetimes short by construction, and this rule holds every other stack of the
 * organisation to the same cap. The lifetime is measured as Entra will see it: from `startDate` (or the
 * moment of creation, "now", when there is none) to `endDate`, `endDateRelative` or Entra's default.
 *
 * A credential can be put on an app in five ways with azuread 6.x, and each is checked: ApplicationPassword and
 * ApplicationCertificate on the app registration, ServicePrincipalPassword and ServicePrincipalCertificate on its
 * service principal (a credential there signs in exactly like one on the app), and the `password` block of an
 * Application itself. Type tokens and input names are those of the provider's schema,
 * https://github.com/pulumi/pulumi-azuread/blob/main/provider/cmd/pulumi-resource-azuread/schema.json
 * (resources `azuread:index/servicePrincipalPassword:ServicePrincipalPassword` and
 * `azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate`: startDate, endDate, endDateRelative,
 * and value/encoding for the certificate; type `azuread:index/ApplicationPassword:ApplicationPassword`, the
 * Application's `password` input: "A single password block", with displayName, startDate and endDate only).
 */

export const applicationPasswordType = "azuread:index/applicationPassword:ApplicationPassword";
export const applicationCertificateType = "azuread:index/applicationCertificate:ApplicationCertificate";
export const servicePrincipalPasswordType = "azuread:index/servicePrincipalPassword:ServicePrincipalPassword";
export const servicePrincipalCertificateType = "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate";
/** The Application resource, whose `password` block creates a client secret along with the app. */
export const applicationWithPasswordType = "azuread:index/application:Application";

/** Every resource type the lifetime rule judges. */
export const lifetimeTypes: readonly string[] = [
    applicationPasswordType,
    applicationCertificateType,
    servicePrincipalPasswordType,
    servicePrincipalCertificateType,
    applicationWithPasswordType,
];

/**
 * A client secret created without an end date: Microsoft Graph's addPassword makes it valid for
 * startDateTime + 2 years, which is what the 730-day cap (Microsoft's own limit) means by "two years". It is
 * counted as exactly 730 days, so that the same secret does not pass or fail depending on a leap day; under a
 * lower cap it is refused, with the endDate that would do.
 */
export const defaultPasswordLifetimeDays = 730;

const dayMs = 86_400_000;

/** The date inputs every password and certificate credential shares (azuread 6.x input names). */
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

/** How a message names the credential and where its inputs are: `password.endDate` for an Application's block. */
interface Subject {
    readonly kind: string;
    readonly prefix: string;
}

/** Problems with a client secret's lifetime; empty when it is within the cap. Pure. */
export function validatePasswordLifetime(props: CredentialDateInputs, options: LifetimeOptions, kind = "client secret"): string[] {
    return validateLifetime({ kind, prefix: "" }, props, options, passwordDefault);
}

/**
 * An Application's `password` block (a client secret created with the app). It has no endDateRelative in
 * azuread 6; one written there anyway is not read by the provider, so it is not read here either.
 */
export function validateApplicationPasswordBlock(props: { readonly password?: unknown }, options: LifetimeOptions): string[] {
    const block = props.password;
    // A single block in azuread 6; a list is what older SDKs wrote, and is judged entry by entry rather than skipped.
    const blocks = Array.isArray(block) ? block : [block];
    const problems: string[] = [];
    blocks.forEach((entry, i) => {
        if (!isRecord(entry)) return;
        const prefix = Array.isArray(block) ? `password[${i}].` : "password.";
        // startDate may be unknown (validateLifetime reasons about that); an unknown endDate throws, as it should.
        const dates = { startDate: readInput(entry, "startDate"), endDate: entry.endDate };
        problems.push(...validateLifetime({ kind: "client secret (the Application's password block)", prefix }, dates, options, passwordDefault));
    });
    return problems;
}

function passwordDefault(start: number): MissingEnd {
    return {
        end: start + defaultPasswordLifetimeDays * dayMs,
        how: `has no endDate, so Entra makes it valid for its default of two years (counted as ${defaultPasswordLifetimeDays} days)`,
    };
}

/** Problems with a certificate credential's lifetime; empty when it is within the cap. Pure. */
export function validateCertificateLifetime(props: CertificateInputs, options: LifetimeOptions, kind = "certificate credential"): string[] {
    return validateLifetime({ kind, prefix: "" }, props, options, (start) => {
        // Without an end date, Entra takes the certificate's own expiry (notAfter). Only then is the value read:
        // a generated certificate is unknown during preview, and reading it would stop the whole check.
        const notAfter = certificateNotAfter(props.value, props.encoding);
        if (notAfter === undefined) {
            return {
                problem:
                    `${kind} has no endDate and its value cannot be read as an X.509 certificate ` +
                    `(encoding ${show(props.encoding ?? "pem")}), so its lifetime cannot be checked: set endDate to at most ${iso(start + options.maxLifetimeDays * dayMs)}`,
            };
        }
        return { end: notAfter, how: `has no endDate, so Entra makes it valid until the certificate expires (notAfter ${iso(notAfter)})` };
    });
}

type MissingEnd = { readonly end: number; readonly how: string } | { readonly problem: string };

function validateLifetime(subject: Subject, props: CredentialDateInputs, options: LifetimeOptions, missingEnd: (start: number) => MissingEnd): string[] {
    const { kind, prefix } = subject;
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
        if (parsed === undefined) return [`${prefix}startDate ${show(rawStart)} is not an RFC 3339 date-time such as 2026-01-31T00:00:00Z: write it in that form`];
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
        if (parsed === undefined) return [`${prefix}endDate ${show(endDate)} is not an RFC 3339 date-time such as 2026-01-31T00:00:00Z: write it in that form`];
        end = parsed;
        what = `is valid for ${describeDuration(end - start)} (from ${from} to ${iso(end)})`;
        fix = `set ${prefix}endDate to at most ${latestEnd} (${cap} days after its start)`;
    } else if (!isAbsent(endDateRelative)) {
        const duration = typeof endDateRelative === "string" ? parseGoDuration(endDateRelative) : undefined;
        if (duration === undefined) {
            return [`${prefix}endDateRelative ${show(endDateRelative)} is not a duration such as "4320h" (hours, minutes and seconds as in Go: h, m, s): fix it, or better set endDate (endDateRelative is deprecated in azuread 6)`];
        }
        end = start + duration;
        what = `is valid for ${describeDuration(duration)} (endDateRelative ${show(endDateRelative)}, from ${from})`;
        fix = `set ${prefix}endDateRelative to at most "${cap * 24}h", or better set endDate (endDateRelative is deprecated in azuread 6)`;
    } else {
        const missing = missingEnd(start);
        if ("problem" in missing) return [missing.problem];
        end = missing.end;
        what = `${missing.how}: ${describeDuration(end - start)} from ${from}`;
        fix = `set ${prefix}endDate to at most ${latestEnd} (${cap} days after its start)`;
    }

    if (explicitStart && end <= start) return [`${kind} ends (${iso(end)}) before it starts (startDate ${iso(start)}): set ${prefix}endDate after ${prefix}startDate`];
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
        // The provider's encodings are lower case; any other spelling is read the same rather than as PEM.
        const how = typeof encoding === "string" ? encoding.trim().toLowerCase() : encoding;
        const data = how === "base64" ? Buffer.from(value, "base64") : how === "hex" ? Buffer.from(value, "hex") : value;
        const notAfter = Date.parse(new X509Certificate(data).validTo);
        return Number.isNaN(notAfter) ? undefined : notAfter;
    } catch {
        return undefined;
    }
}

/** ISO-8601 to the second, as the stack's own dates are written. */
export function iso(ms: number): string {
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
