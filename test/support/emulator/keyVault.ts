import type { HandlerContext } from "./environment";
import { type EmulatorResponse, type Route, bearerToken, epochSeconds, isRecord, parseJsonBody } from "./http";
import { keyVaultResource } from "./microsoftGraphPrincipal";
import { guid } from "./random";
import { isPermitted, vaultEnforcesRbac } from "./rbac";
import type { Secret, SecretVersion, Vault } from "./state";
import type { AccessTokenClaims } from "./token";

/**
 * The Azure Key Vault secrets data plane, one vault per listener: the vault is the host:port, so the ids
 * the service returns (`{vaultUrl}/secrets/{name}/{version}`) are what @azure/keyvault-secrets parses
 * (it takes path segments 1-3 as collection/name/version and rejects any path prefix).
 *
 * Authentication is Key Vault's challenge: a request without a token gets 401 with
 * `WWW-Authenticate: Bearer authorization="{authorityHost}/{tenant}", resource="https://vault.azure.net"`.
 * The SDK checks that the challenge resource's domain is a suffix of the vault's host, which no IP address
 * can satisfy: clients of the emulator pass `disableChallengeResourceVerification: true`.
 */

export interface KeyVaultContext extends HandlerContext {
    readonly vault: Vault;
    /** e.g. `https://127.0.0.1:40125`, no trailing slash. */
    readonly vaultUrl: string;
}

type Json = Record<string, unknown>;

function kvHeaders(extra: Record<string, string> = {}): Record<string, string> {
    return { "x-ms-request-id": guid(), "x-ms-keyvault-service-version": "1.9.2804.1", "x-ms-keyvault-region": "westeurope", ...extra };
}

/** Key Vault's error body; the inner error is `innererror`, lower case, as the service writes it (the SDK reads that key). */
function kvError(status: number, code: string, message: string, inner?: string, headers: Record<string, string> = {}): EmulatorResponse {
    return { status, headers: kvHeaders(headers), body: { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } } };
}

function challenge(context: KeyVaultContext, message: string): EmulatorResponse {
    return kvError(401, "Unauthorized", message, undefined, {
        "WWW-Authenticate": `Bearer authorization="${context.env.authorityHost}/${context.vault.tenantId}", resource="${keyVaultResource}"`,
    });
}

export function keyVaultFault(status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
    const retry: Record<string, string> = retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {};
    if (status === 429) return kvError(429, "Throttled", "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached", undefined, retry);
    if (status === 503) return kvError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.", undefined, retry);
    return kvError(status, "InternalServerError", "An internal server error occurred. Please try again.", undefined, retry);
}

export function keyVaultUnmatched(context: KeyVaultContext): EmulatorResponse {
    return kvError(404, "NotFound", `No Key Vault operation at '${context.request.path}' (entra-rotor emulator: secrets API only).`);
}

/**
 * The data action each operation needs, as Azure RBAC names them. Deleted secrets are listed and read with
 * readMetadata (the REST reference asks for the secrets/list and secrets/get permissions there), purged and
 * recovered with their own actions; so Key Vault Secrets Officer (`Microsoft.KeyVault/vaults/secrets/*`) can
 * manage them, as in Azure.
 */
const dataActions = {
    readMetadata: "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    getSecret: "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    setSecret: "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    update: "Microsoft.KeyVault/vaults/secrets/update/action",
    delete: "Microsoft.KeyVault/vaults/secrets/delete",
    purge: "Microsoft.KeyVault/vaults/secrets/purge/action",
    recover: "Microsoft.KeyVault/vaults/secrets/recover/action",
} as const;

type Action = keyof typeof dataActions;

type Authorized = { readonly claims: AccessTokenClaims } | { readonly response: EmulatorResponse };

function authorize(context: KeyVaultContext, action: Action, secretName?: string): Authorized {
    const token = bearerToken(context.request);
    if (!token) return { response: challenge(context, "AKV10000: Request is missing a Bearer or PoP token.") };
    const check = context.env.tokens.check(token);
    if (!check.ok) return { response: challenge(context, check.reason === "expired" ? "AKV10032: Token validation failed: the token is expired." : "AKV10000: Invalid Bearer token.") };
    const { claims } = check;
    if (claims.aud.replace(/\/$/, "") !== keyVaultResource) {
        return { response: challenge(context, `AKV10022: Invalid audience. Expected ${keyVaultResource}, found: ${claims.aud}.`) };
    }
    if (claims.tid !== context.vault.tenantId) {
        return { response: challenge(context, `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${context.vault.tenantId}/, found ${claims.iss}.`) };
    }
    const { state } = context.env;
    const resource = `${state.vaultResourceId(context.vault)}${secretName ? `/secrets/${secretName}` : ""}`;
    if (vaultEnforcesRbac(context.vault) && !isPermitted(state, claims.oid, resource, dataActions[action], "data")) {
        const message =
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n" +
            `Caller: appid=${claims.appid};oid=${claims.oid};iss=${claims.iss}\r\nAction: '${dataActions[action]}'\r\nResource: '${resource.toLowerCase()}'\r\nAssignment: (not found)\r\n` +
            `DenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${context.vault.name};location=${context.vault.location}\r\n`;
        return { response: { ...kvError(403, "Forbidden", message, "ForbiddenByRbac"), caller: claims.appid } };
    }
    return { claims };
}

function attributes(context: KeyVaultContext, version: SecretVersion): Json {
    return {
        enabled: version.enabled,
        ...(version.notBefore ? { nbf: epochSeconds(version.notBefore) } : {}),
        ...(version.expiresOn ? { exp: epochSeconds(version.expiresOn) } : {}),
        created: epochSeconds(version.created),
        updated: epochSeconds(version.updated),
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: context.vault.softDeleteRetentionDays,
    };
}

/** A secret item as list operations return it: no value. */
function item(context: KeyVaultContext, secret: Secret, version: SecretVersion, withVersion: boolean): Json {
    return {
        id: `${context.vaultUrl}/secrets/${secret.name}${withVersion ? `/${version.version}` : ""}`,
        attributes: attributes(context, version),
        ...(version.tags ? { tags: { ...version.tags } } : {}),
        ...(version.contentType !== undefined ? { contentType: version.contentType } : {}),
    };
}

function bundle(context: KeyVaultContext, secret: Secret, version: SecretVersion, withValue: boolean): Json {
    return {
        ...(withValue ? { value: version.value } : {}),
        ...(version.contentType !== undefined ? { contentType: version.contentType } : {}),
        id: `${context.vaultUrl}/secrets/${secret.name}/${version.version}`,
        attributes: attributes(context, version),
        ...(version.tags ? { tags: { ...version.tags } } : {}),
    };
}

function ok(body: Json, caller: string, status = 200): EmulatorResponse {
    return { status, headers: kvHeaders(), body, caller };
}

function notFound(name: string, version?: string): EmulatorResponse {
    return kvError(
        404,
        "SecretNotFound",
        `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    );
}

function apiVersion(context: KeyVaultContext): string | EmulatorResponse {
    const value = context.request.query.get("api-version");
    return value ?? kvError(400, "BadParameter", "The 'api-version' query parameter is required.");
}

/** Key Vault's page size for secrets is at most 25. */
function pageSize(context: KeyVaultContext): number | EmulatorResponse {
    const raw = context.request.query.get("maxresults");
    if (raw === null) return 25;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 25) return kvError(400, "BadParameter", `The value ${raw} of parameter 'maxresults' is not in the range [1, 25].`);
    return n;
}

/**
 * One page of `items` (sorted by key) after the $skiptoken marker; nextLink is absolute and carries
 * api-version, as Key Vault's does (the SDK follows it as is).
 */
function pageOf<T>(context: KeyVaultContext, all: readonly T[], keyOf: (item: T) => string, render: (item: T) => Json, caller: string): EmulatorResponse {
    const version = apiVersion(context);
    if (typeof version !== "string") return version;
    const size = pageSize(context);
    if (typeof size !== "number") return size;
    let start = 0;
    const token = context.request.query.get("$skiptoken");
    if (token !== null) {
        let marker: unknown;
        try {
            marker = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { NextMarker?: unknown }).NextMarker;
        } catch {
            marker = undefined;
        }
        if (typeof marker !== "string") return kvError(400, "BadParameter", "The $skiptoken is not valid.");
        start = all.findIndex((x) => keyOf(x) > marker);
        if (start < 0) start = all.length;
    }
    const slice = all.slice(start, start + size);
    const last = slice[slice.length - 1];
    const nextLink =
        start + size < all.length && last !== undefined
            ? `${context.vaultUrl}/${context.request.path.replace(/^\//, "")}?api-version=${encodeURIComponent(version)}&$skiptoken=${Buffer.from(JSON.stringify({ NextMarker: keyOf(last), TargetLocation: 0 })).toString("base64url")}&maxresults=${size}`
            : null;
    return ok({ value: slice.map(render), nextLink }, caller);
}

function currentVersion(secret: Secret): SecretVersion | undefined {
    return secret.versions[secret.versions.length - 1];
}

function listSecrets(context: KeyVaultContext): EmulatorResponse {
    const auth = authorize(context, "readMetadata");
    if ("response" in auth) return auth.response;
    const secrets = [...context.vault.secrets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return pageOf(
        context,
        secrets,
        ([key]) => key,
        ([, secret]) => {
            const current = currentVersion(secret);
            return current ? item(context, secret, current, false) : { id: `${context.vaultUrl}/secrets/${secret.name}` };
        },
        auth.claims.appid,
    );
}

function listVersions(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "readMetadata", name);
    if ("response" in auth) return auth.response;
    const secret = context.vault.secrets.get(name.toLowerCase());
    const versions = (secret?.versions ?? []).map((v, index) => ({ v, key: String(index).padStart(8, "0") }));
    // Key Vault lists no versions of an unknown secret rather than failing.
    return pageOf(context, versions, (x) => x.key, (x) => (secret ? item(context, secret, x.v, true) : {}), auth.claims.appid);
}

function getSecret(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "getSecret", name);
    if ("response" in auth) return auth.response;
    const version = apiVersion(context);
    if (typeof version !== "string") return version;
    const secret = context.vault.secrets.get(name.toLowerCase());
    if (!secret) return notFound(name);
    const wanted = params.version ? secret.versions.find((v) => v.version === params.version?.toLowerCase()) : currentVersion(secret);
    if (!wanted) return notFound(name, params.version);
    if (!wanted.enabled) return kvError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled");
    return ok(bundle(context, secret, wanted, true), auth.claims.appid);
}

const secretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;

interface SecretWrite {
    readonly value?: string;
    readonly contentType?: string;
    readonly tags?: Record<string, string>;
    readonly enabled?: boolean;
    readonly nbf?: number;
    readonly exp?: number;
}

function readSecretWrite(context: KeyVaultContext): SecretWrite | EmulatorResponse {
    const body = parseJsonBody(context.request);
    if (!isRecord(body)) return kvError(400, "BadParameter", "The request body is not a JSON object.");
    const attributesValue = isRecord(body.attributes) ? body.attributes : {};
    const tags = isRecord(body.tags) ? (body.tags as Record<string, string>) : undefined;
    if (tags && Object.keys(tags).length > 15) return kvError(400, "BadParameter", `Too many tags: ${Object.keys(tags).length}. A secret may have at most 15 tags.`);
    if (typeof body.value === "string" && Buffer.byteLength(body.value, "utf8") > 25 * 1024) return kvError(400, "BadParameter", "The secret value exceeds the maximum size of 25 KB.");
    return {
        ...(typeof body.value === "string" ? { value: body.value } : {}),
        ...(typeof body.contentType === "string" ? { contentType: body.contentType } : {}),
        ...(tags ? { tags } : {}),
        ...(typeof attributesValue.enabled === "boolean" ? { enabled: attributesValue.enabled } : {}),
        ...(typeof attributesValue.nbf === "number" ? { nbf: attributesValue.nbf } : {}),
        ...(typeof attributesValue.exp === "number" ? { exp: attributesValue.exp } : {}),
    };
}

function setSecret(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "setSecret", name);
    if ("response" in auth) return auth.response;
    const version = apiVersion(context);
    if (typeof version !== "string") return version;
    if (!secretNamePattern.test(name)) return kvError(400, "BadParameter", `The request URI contains an invalid name: ${name}`);
    const write = readSecretWrite(context);
    if ("status" in write) return write;
    if (write.value === undefined) return kvError(400, "BadParameter", "Property 'value' is required.");
    if (context.vault.deletedSecrets.has(name.toLowerCase())) {
        return kvError(
            409,
            "Conflict",
            `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            "ObjectIsDeletedButRecoverable",
        );
    }
    const created = context.env.state.setSecret(context.vault, name, write.value, {
        ...(write.contentType !== undefined ? { contentType: write.contentType } : {}),
        ...(write.tags ? { tags: write.tags } : {}),
        ...(write.enabled !== undefined ? { enabled: write.enabled } : {}),
        ...(write.nbf !== undefined ? { notBefore: new Date(write.nbf * 1000) } : {}),
        ...(write.exp !== undefined ? { expiresOn: new Date(write.exp * 1000) } : {}),
    });
    const secret = context.vault.secrets.get(name.toLowerCase());
    return secret ? ok(bundle(context, secret, created, true), auth.claims.appid) : notFound(name);
}

function updateSecret(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "update", name);
    if ("response" in auth) return auth.response;
    const secret = context.vault.secrets.get(name.toLowerCase());
    const target = params.version ? secret?.versions.find((v) => v.version === params.version?.toLowerCase()) : secret && currentVersion(secret);
    if (!secret || !target) return notFound(name, params.version);
    const write = readSecretWrite(context);
    if ("status" in write) return write;
    if (write.contentType !== undefined) target.contentType = write.contentType;
    if (write.tags) target.tags = { ...write.tags };
    if (write.enabled !== undefined) target.enabled = write.enabled;
    if (write.nbf !== undefined) target.notBefore = new Date(write.nbf * 1000);
    if (write.exp !== undefined) target.expiresOn = new Date(write.exp * 1000);
    target.updated = context.env.state.clock.now();
    return ok(bundle(context, secret, target, false), auth.claims.appid);
}

function deletedBundle(context: KeyVaultContext, name: string): Json | undefined {
    const deleted = context.vault.deletedSecrets.get(name.toLowerCase());
    const current = deleted && currentVersion(deleted.secret);
    if (!deleted || !current) return undefined;
    return {
        recoveryId: `${context.vaultUrl}/deletedsecrets/${deleted.secret.name}`,
        deletedDate: epochSeconds(deleted.deletedDate),
        scheduledPurgeDate: epochSeconds(deleted.scheduledPurgeDate),
        ...bundle(context, deleted.secret, current, false),
    };
}

function deleteSecret(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "delete", name);
    if ("response" in auth) return auth.response;
    const key = name.toLowerCase();
    const secret = context.vault.secrets.get(key);
    if (!secret) return notFound(name);
    const now = context.env.state.clock.now();
    context.vault.secrets.delete(key);
    context.vault.deletedSecrets.set(key, { secret, deletedDate: now, scheduledPurgeDate: new Date(now.getTime() + context.vault.softDeleteRetentionDays * 86_400_000) });
    return ok(deletedBundle(context, name) ?? {}, auth.claims.appid);
}

function listDeleted(context: KeyVaultContext): EmulatorResponse {
    const auth = authorize(context, "readMetadata");
    if ("response" in auth) return auth.response;
    const keys = [...context.vault.deletedSecrets.keys()].sort();
    return pageOf(context, keys, (k) => k, (k) => deletedBundle(context, k) ?? {}, auth.claims.appid);
}

function getDeleted(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "readMetadata", name);
    if ("response" in auth) return auth.response;
    const deleted = deletedBundle(context, name);
    return deleted ? ok(deleted, auth.claims.appid) : kvError(404, "SecretNotFound", `Deleted Secret not found: ${name}`);
}

function purgeDeleted(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "purge", name);
    if ("response" in auth) return auth.response;
    if (!context.vault.deletedSecrets.delete(name.toLowerCase())) return kvError(404, "SecretNotFound", `Deleted Secret not found: ${name}`);
    return { status: 204, headers: kvHeaders(), caller: auth.claims.appid };
}

function recoverDeleted(context: KeyVaultContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const name = params.name ?? "";
    const auth = authorize(context, "recover", name);
    if ("response" in auth) return auth.response;
    const key = name.toLowerCase();
    const deleted = context.vault.deletedSecrets.get(key);
    const current = deleted && currentVersion(deleted.secret);
    if (!deleted || !current) return kvError(404, "SecretNotFound", `Deleted Secret not found: ${name}`);
    context.vault.deletedSecrets.delete(key);
    context.vault.secrets.set(key, deleted.secret);
    return ok(bundle(context, deleted.secret, current, false), auth.claims.appid);
}

const name = "(?<name>[^/]+)";
const version = "(?<version>[^/]*)";

export const keyVaultRoutes: readonly Route<KeyVaultContext>[] = [
    { id: "GET /secrets", method: "GET", pattern: /^\/secrets\/?$/, handle: listSecrets },
    { id: "GET /secrets/{name}/versions", method: "GET", pattern: new RegExp(`^/secrets/${name}/versions/?$`), handle: listVersions },
    { id: "GET /secrets/{name}", method: "GET", pattern: new RegExp(`^/secrets/${name}/?$`), handle: getSecret },
    { id: "GET /secrets/{name}/{version}", method: "GET", pattern: new RegExp(`^/secrets/${name}/${version}$`), handle: getSecret },
    { id: "PUT /secrets/{name}", method: "PUT", pattern: new RegExp(`^/secrets/${name}/?$`), handle: setSecret },
    { id: "PATCH /secrets/{name}/{version}", method: "PATCH", pattern: new RegExp(`^/secrets/${name}(?:/${version})?$`), handle: updateSecret },
    { id: "DELETE /secrets/{name}", method: "DELETE", pattern: new RegExp(`^/secrets/${name}/?$`), handle: deleteSecret },
    { id: "GET /deletedsecrets", method: "GET", pattern: /^\/deletedsecrets\/?$/, handle: listDeleted },
    { id: "GET /deletedsecrets/{name}", method: "GET", pattern: new RegExp(`^/deletedsecrets/${name}/?$`), handle: getDeleted },
    { id: "DELETE /deletedsecrets/{name}", method: "DELETE", pattern: new RegExp(`^/deletedsecrets/${name}/?$`), handle: purgeDeleted },
    { id: "POST /deletedsecrets/{name}/recover", method: "POST", pattern: new RegExp(`^/deletedsecrets/${name}/recover$`), handle: recoverDeleted },
];
