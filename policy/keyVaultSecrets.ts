import { parseTimestamp } from "./credentialLifetime";
import { isRecord, readInput, show, unknownDuringPreview } from "./inputs";

/**
 * Rule 4: a Key Vault secret that holds a credential carries its expiry.
 *
 * Key Vault does not enforce `exp`, but consumers, monitoring (rotor status) and people read it to know when the
 * value stops working; a credential without it expires as a surprise, which is the outage entra-rotor exists to
 * prevent. Which secrets hold a credential cannot be known from a value (and values are never read), so it is
 * decided from what the secret says about itself:
 *
 * - a tag named like one of `credentialTags` (default `credential`, case-insensitive, any value): entra-rotor
 *   tags every served credential (client secret, PEM bundle, PKCS#12 file and its password) with
 *   `managed-by: entra-rotor` and `credential: <name>`, while the client-id and tenant-id secrets it writes beside
 *   them have no `credential` tag, hold no credential and carry no expiry;
 * - a content type in `credentialContentTypes` (default `application/x-pem-file`, `application/x-pkcs12`): a
 *   certificate with its private key, which is a credential by nature and has an expiry of its own.
 */

/** azure-native's Secret, unversioned (v2, v3) or an explicit API version such as keyvault/v20230701. */
const azureNativeSecretType = /^azure-native:keyvault(\/v[0-9a-z]+)?:Secret$/;
export const azureClassicSecretType = "azure:keyvault/secret:Secret";

export function isAzureNativeSecretType(type: string): boolean {
    return azureNativeSecretType.test(type);
}

/** How a secret marks itself as holding a credential; see the module comment. */
export interface CredentialSecretRule {
    readonly credentialTags: readonly string[];
    readonly credentialContentTypes: readonly string[];
}

export const defaultCredentialTags: readonly string[] = ["credential"];
export const defaultCredentialContentTypes: readonly string[] = ["application/x-pem-file", "application/x-pkcs12"];

/** Key Vault's exp is seconds since 1970; past 9999-12-31 it was almost certainly written in milliseconds. */
const latestExpirySeconds = 253_402_300_799;

/** Why a secret holds a credential (`tag "credential"`, `content type "application/x-pkcs12"`), or undefined. */
export function credentialEvidence(tags: unknown, contentType: unknown, rule: CredentialSecretRule): string | undefined {
    if (isRecord(tags)) {
        const wanted = new Set(rule.credentialTags.map((tag) => tag.toLowerCase()));
        // Keys only, then the one value: other tags (a client id, a key id) may be unknown during preview.
        for (const key of Object.keys(tags)) {
            if (!wanted.has(key.toLowerCase())) continue;
            const value = readInput(tags, key);
            if (value === unknownDuringPreview) return `tag "${key}"`;
            if (typeof value === "string" && value.trim() !== "") return `tag "${key}": "${value}"`;
        }
    }
    if (typeof contentType === "string") {
        const media = contentType.split(";")[0]!.trim().toLowerCase();
        if (rule.credentialContentTypes.some((type) => type.toLowerCase() === media)) return `content type "${contentType}"`;
    }
    return undefined;
}

/** azure-native keyvault Secret: `properties.attributes.expires`, in seconds since 1970. Never reads the value. */
export function validateNativeSecretExpiry(props: { readonly properties?: unknown; readonly tags?: unknown }, rule: CredentialSecretRule): string[] {
    const properties = props.properties;
    if (!isRecord(properties)) return [];
    const evidence = credentialEvidence(props.tags, properties.contentType, rule);
    if (!evidence) return [];
    const attributes = properties.attributes;
    const expires = isRecord(attributes) ? attributes.expires : undefined;
    const where = "properties.attributes.expires";
    const unit = "seconds since 1970-01-01T00:00:00Z";
    if (expires === undefined || expires === null) {
        return [
            `holds a credential (${evidence}) but has no expiry: set ${where} to when the credential stops working, in ${unit} ` +
                `(Key Vault does not enforce it, but consumers and monitoring read it to replace the value in time)`,
        ];
    }
    if (typeof expires !== "number" || !Number.isFinite(expires) || expires <= 0) {
        return [`holds a credential (${evidence}) and ${where} is ${show(expires)}: write when the credential stops working, in ${unit}`];
    }
    if (expires > latestExpirySeconds) {
        return [`holds a credential (${evidence}) and ${where} is ${expires}, after the year 9999: it looks like milliseconds; divide it by 1000 (Key Vault takes ${unit})`];
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
): string[] {
    const evidence = credentialEvidence(props.tags, props.contentType, rule);
    if (!evidence) return [];
    const expirationDate = props.expirationDate;
    if (expirationDate === undefined || expirationDate === null || expirationDate === "") {
        return [
            `holds a credential (${evidence}) but has no expiry: set expirationDate to when the credential stops working, e.g. 2027-01-31T00:00:00Z ` +
                `(Key Vault does not enforce it, but consumers and monitoring read it to replace the value in time)`,
        ];
    }
    if (parseTimestamp(expirationDate) === undefined) {
        return [`holds a credential (${evidence}) and expirationDate ${show(expirationDate)} is not an RFC 3339 date-time: write it like 2027-01-31T00:00:00Z`];
    }
    return [];
}

function isoSeconds(seconds: number): string {
    const date = new Date(seconds * 1000);
    return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace(/\.000Z$/, "Z");
}
