import { unsafeCharacters } from "../rotation/text";
import { iso, parseTimestamp } from "./credentialLifetime";
import { describeValue, isRecord, readInput, show } from "./inputs";

/**
 * Rule 4: a Key Vault secret that holds a credential carries its expiry, and no later than a credential can live.
 *
 * Key Vault does not enforce `exp`, but consumers, monitoring (rotor status) and people read it to know when the
 * value stops working; a credential without it expires as a surprise, which is the outage entra-rotor exists to
 * prevent, and one that claims to last until 9999 hides the date just as well. Which secrets hold a credential
 * cannot be known from a value (and values are never read), so this resource rule decides it from what the
 * secret says about itself:
 *
 * - a tag named like one of `credentialTags` (default `credential`; case, surrounding spaces and invisible
 *   characters ignored, so `" credential"` and `Credential` count; any value): entra-rotor tags every served
 *   credential (client secret, PEM bundle, PKCS#12 file and its password) with `managed-by: entra-rotor` and
 *   `credential: <name>`, while the client-id and tenant-id secrets it writes beside them have no `credential`
 *   tag, hold no credential and carry no expiry;
 * - a content type in `credentialContentTypes` (by default those of certificates with their private key, and of
 *   private keys: see defaultCredentialContentTypes), which is a credential by nature and has an expiry of its own.
 *
 * A secret that says nothing about itself is found by what its value is computed from, by the stack policy in
 * keyVaultSources.ts, which reuses the expiry checks below.
 *
 * Messages name the input and what kind of value it holds, never the value: @pulumi/policy hands policies secret
 * inputs unwrapped, and a secret marked as a whole would bring its neighbours along.
 */

/** azure-native's Secret, unversioned (v2, v3) or an explicit API version such as keyvault/v20230701. */
const azureNativeSecretType = /^azure-native:keyvault(\/v[0-9a-z]+)?:Secret$/;
export const azureClassicSecretType = "azure:keyvault/secret:Secret";

export function isAzureNativeSecretType(type: string): boolean {
    return azureNativeSecretType.test(type);
}

export function isKeyVaultSecretType(type: string): boolean {
    return isAzureNativeSecretType(type) || type === azureClassicSecretType;
}

/** How a secret marks itself as holding a credential, and the lifetime cap its expiry is held to; see the module comment. */
export interface CredentialSecretRule {
    readonly credentialTags: readonly string[];
    readonly credentialContentTypes: readonly string[];
    /** The longest a credential may live, in days: the latest expiry is now plus this. */
    readonly maxLifetimeDays: number;
}

export const defaultCredentialTags: readonly string[] = ["credential"];
/**
 * Media types of certificates with their private key, and of private keys. Key Vault writes a certificate's secret
 * as `application/x-pkcs12` or `application/x-pem-file`
 * (https://learn.microsoft.com/en-us/azure/key-vault/certificates/about-certificates, "Composition of a
 * certificate"); the others are registered media types of the same things: `application/pkcs12` (PKCS #12,
 * RFC 7292), `application/pem-certificate-chain` (a PEM certificate chain, RFC 8555 section 9.1: what a workload
 * presents, expiring with its certificate), `application/pkcs8` and `application/pkcs8-encrypted` (a private key,
 * RFC 5958 and RFC 8351).
 */
export const defaultCredentialContentTypes: readonly string[] = [
    "application/x-pem-file",
    "application/x-pkcs12",
    "application/pkcs12",
    "application/pem-certificate-chain",
    "application/pkcs8",
    "application/pkcs8-encrypted",
];

/**
 * A content type's media type as the rule compares it: without its parameters (`; charset=utf-8`), normalised as
 * tag names are, and without spaces anywhere (a media type has none, and `application / x-pem-file` must not
 * escape). Key Vault stores the content type as any string and never parses it.
 */
export function mediaType(contentType: string): string {
    return normaliseMarker(contentType.split(";")[0]!).replace(/\s+/g, "");
}

/** What the expiry checks need: the cap and the instant it counts from. */
export interface ExpiryLimit {
    readonly maxLifetimeDays: number;
    readonly now: Date;
}

/** Key Vault's exp is seconds since 1970; past 9999-12-31 it was almost certainly written in milliseconds. */
const latestExpirySeconds = 253_402_300_799;
const dayMs = 86_400_000;

const invisible = new RegExp(unsafeCharacters.source, "gu");

/**
 * A tag name or media type as the rule compares it: compatibility-normalised (a full-width or ligature spelling
 * reads as the ASCII one), control and invisible characters removed, surrounding spaces trimmed, lower case.
 * Azure compares tag names without regard to case (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources#limitations),
 * and a reviewer cannot see the rest.
 */
export function normaliseMarker(text: string): string {
    return text.normalize("NFKC").replace(invisible, "").trim().toLowerCase();
}

/** Why a secret holds a credential (`tag "credential": "main"`, `content type "application/x-pkcs12"`), or undefined. */
export function credentialEvidence(tags: unknown, contentType: unknown, rule: Pick<CredentialSecretRule, "credentialTags" | "credentialContentTypes">): string | undefined {
    if (isRecord(tags)) {
        const wanted = new Set(rule.credentialTags.map(normaliseMarker));
        // Keys only, then the one value: other tags (a client id, a key id) may be unknown during preview.
        for (const key of Object.keys(tags)) {
            if (!wanted.has(normaliseMarker(key))) continue;
            const value = readInput(tags, key);
            return typeof value === "string" && value !== "" ? `tag ${show(key)}: ${show(value)}` : `tag ${show(key)}`;
        }
    }
    if (typeof contentType === "string") {
        const media = mediaType(contentType);
        if (rule.credentialContentTypes.some((type) => mediaType(type) === media)) return `content type ${show(contentType)}`;
    }
    return undefined;
}

/** azure-native keyvault Secret: `properties.attributes.expires`, in seconds since 1970. Never reads the value. */
export function validateNativeSecretExpiry(props: { readonly properties?: unknown; readonly tags?: unknown }, rule: CredentialSecretRule, now: Date): string[] {
    const properties = props.properties;
    if (!isRecord(properties)) return [];
    const evidence = credentialEvidence(props.tags, properties.contentType, rule);
    if (!evidence) return [];
    return nativeExpiryProblems(evidence, props, { maxLifetimeDays: rule.maxLifetimeDays, now });
}

/** The expiry checks of an azure-native secret known to hold a credential (`evidence` says how it is known). */
export function nativeExpiryProblems(evidence: string, props: { readonly properties?: unknown }, limit: ExpiryLimit): string[] {
    const properties = isRecord(props.properties) ? props.properties : {};
    const attributes = properties.attributes;
    const expires = isRecord(attributes) ? attributes.expires : undefined;
    const where = "properties.attributes.expires";
    const unit = "seconds since 1970-01-01T00:00:00Z";
    const latest = latestExpiry(limit);
    if (expires === undefined || expires === null) {
        return [
            `holds a credential (${evidence}) but has no expiry: set ${where} to when the credential stops working, in ${unit}, at most ${latest.iso} (${latest.seconds}) ` +
                `(Key Vault does not enforce it, but consumers and monitoring read it to replace the value in time)`,
        ];
    }
    if (typeof expires !== "number" || !Number.isFinite(expires) || expires <= 0) {
        const what = typeof expires === "number" ? `${expires}` : `${describeValue(expires)}, not a number`;
        return [`holds a credential (${evidence}) and ${where} is ${what}: write when the credential stops working, in ${unit}`];
    }
    if (expires > latestExpirySeconds) {
        return [`holds a credential (${evidence}) and ${where} is ${expires}, after the year 9999: it looks like milliseconds; divide it by 1000 (Key Vault takes ${unit})`];
    }
    if (expires * 1000 > latest.ms) {
        return [
            `holds a credential (${evidence}) and ${where} is ${expires} (${isoSeconds(expires)}), later than any credential may live: ` +
                `the latest allowed expiry is ${latest.iso} (${latest.seconds}), now plus the ${limit.maxLifetimeDays}-day lifetime cap (policy config maxLifetimeDays); ` +
                `set it to when the credential really stops working`,
        ];
    }
    const notBefore = isRecord(attributes) ? attributes.notBefore : undefined;
    if (typeof notBefore === "number" && notBefore >= expires) {
        return [`holds a credential (${evidence}) whose expiry (${isoSeconds(expires)}) is not after its notBefore (${isoSeconds(notBefore)}): set ${where} to when the credential stops working`];
    }
    return [];
}

/** The classic azure provider's keyvault Secret: `expirationDate`, RFC 3339. Never reads the value. */
export function validateClassicSecretExpiry(
    props: { readonly contentType?: unknown; readonly expirationDate?: unknown; readonly tags?: unknown },
    rule: CredentialSecretRule,
    now: Date,
): string[] {
    const evidence = credentialEvidence(props.tags, props.contentType, rule);
    if (!evidence) return [];
    return classicExpiryProblems(evidence, props, { maxLifetimeDays: rule.maxLifetimeDays, now });
}

/** The expiry checks of a classic azure secret known to hold a credential. */
export function classicExpiryProblems(evidence: string, props: { readonly expirationDate?: unknown }, limit: ExpiryLimit): string[] {
    const expirationDate = props.expirationDate;
    const latest = latestExpiry(limit);
    if (expirationDate === undefined || expirationDate === null || expirationDate === "") {
        return [
            `holds a credential (${evidence}) but has no expiry: set expirationDate to when the credential stops working, at most ${latest.iso} ` +
                `(Key Vault does not enforce it, but consumers and monitoring read it to replace the value in time)`,
        ];
    }
    const expires = parseTimestamp(expirationDate);
    if (expires === undefined) {
        return [`holds a credential (${evidence}) and expirationDate is ${describeValue(expirationDate)}, not an RFC 3339 date-time: write it like 2027-01-31T00:00:00Z`];
    }
    if (expires > latest.ms) {
        return [
            `holds a credential (${evidence}) and expirationDate is ${iso(expires)}, later than any credential may live: ` +
                `the latest allowed expiry is ${latest.iso}, now plus the ${limit.maxLifetimeDays}-day lifetime cap (policy config maxLifetimeDays); ` +
                `set it to when the credential really stops working`,
        ];
    }
    return [];
}

/** Now plus the cap, to the second: as milliseconds, as Key Vault's seconds, and as ISO-8601. */
function latestExpiry(limit: ExpiryLimit): { ms: number; seconds: number; iso: string } {
    const seconds = Math.floor((limit.now.getTime() + limit.maxLifetimeDays * dayMs) / 1000);
    return { ms: seconds * 1000, seconds, iso: iso(seconds * 1000) };
}

function isoSeconds(seconds: number): string {
    const date = new Date(seconds * 1000);
    return Number.isNaN(date.getTime()) ? String(seconds) : iso(date.getTime());
}
