import type { HandlerContext } from "./environment";
import { type EmulatorResponse, type Route, bearerToken, epochSeconds, headerValue, isRecord, parseJsonBody } from "./http";
import { guid } from "./random";
import { isPermitted, rolesOf } from "./rbac";
import type { Secret, SecretVersion, Vault } from "./state";
import type { AccessTokenClaims } from "./token";

/**
 * Azure Resource Manager, the slice a Pulumi azure-native program touches around Key Vault: the caller's
 * effective permissions (Microsoft.Authorization/permissions) and vault secrets as ARM resources
 * (Microsoft.KeyVault/vaults/secrets), which is how azure-native's `keyvault.Secret` writes them. ARM
 * authorizes by role **Actions** (management plane), not DataActions: `Microsoft.KeyVault/vaults/secrets/write`
 * is held by Key Vault Contributor or Contributor but not by Key Vault Secrets Officer, the data-plane role.
 *
 * Secrets written here land in the same vault state the Key Vault listener serves; ARM never returns a value.
 */

type Json = Record<string, unknown>;
type Params = Readonly<Record<string, string>>;

/** The audiences ARM accepts, as its InvalidAuthenticationTokenAudience message lists them. */
const allowedAudiences = ["https://management.core.windows.net/", "https://management.core.windows.net", "https://management.azure.com/", "https://management.azure.com"];

function armHeaders(context: HandlerContext, extra: Record<string, string> = {}): Record<string, string> {
    const requestId = guid();
    return {
        "x-ms-request-id": requestId,
        "x-ms-correlation-request-id": headerValue(context.request, "x-ms-correlation-request-id") ?? requestId,
        ...extra,
    };
}

/** ARM's error body: `{ error: { code, message } }`. */
export function armError(context: HandlerContext, status: number, code: string, message: string, extra: { headers?: Record<string, string>; caller?: string } = {}): EmulatorResponse {
    return { status, headers: armHeaders(context, extra.headers), body: { error: { code, message } }, ...(extra.caller ? { caller: extra.caller } : {}) };
}

function ok(context: HandlerContext, body: Json, caller: string, status = 200): EmulatorResponse {
    return { status, headers: armHeaders(context), body, caller };
}

/** Injected faults. Approximations: ARM's real throttling and 5xx texts carry ids and limits the emulator does not have. */
export function armFault(context: HandlerContext, status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
    const headers: Record<string, string> = retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {};
    if (status === 429) return armError(context, 429, "TooManyRequests", "The request is being throttled. Retry after the interval in the Retry-After header.", { headers });
    if (status === 503) return armError(context, 503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.", { headers });
    return armError(context, status, "InternalServerError", "Encountered internal server error. Please try again.", { headers });
}

export function armUnmatched(context: HandlerContext): EmulatorResponse {
    return armError(context, 404, "NotFound", `No Azure Resource Manager operation at '${context.request.method} ${context.request.path}' (entra-rotor emulator: Key Vault secrets and permissions only).`);
}

/** ARM prints token times as .NET's invariant US format: `3/19/2023 9:54:56 AM`. */
function armTime(date: Date): string {
    const hours = date.getUTCHours();
    const two = (n: number) => String(n).padStart(2, "0");
    return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${hours % 12 === 0 ? 12 : hours % 12}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ${hours < 12 ? "AM" : "PM"}`;
}

function expiryOf(token: string): Date | undefined {
    try {
        const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
        return typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined;
    } catch {
        return undefined;
    }
}

type Authenticated = { readonly claims: AccessTokenClaims } | { readonly response: EmulatorResponse };

/** A valid emulator token for ARM, from the tenant that owns the subscription; ARM's 401 codes otherwise. */
function authenticate(context: HandlerContext): Authenticated {
    const token = bearerToken(context.request);
    if (!token) return { response: armError(context, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.") };
    const check = context.env.tokens.check(token);
    if (!check.ok) {
        const expiry = check.reason === "expired" ? expiryOf(token) : undefined;
        return {
            response: expiry
                ? armError(context, 401, "ExpiredAuthenticationToken", `The access token expiry UTC time '${armTime(expiry)}' is earlier than current UTC time '${armTime(new Date())}'.`)
                : armError(context, 401, "InvalidAuthenticationToken", "The access token is invalid."),
        };
    }
    const { claims } = check;
    if (!allowedAudiences.includes(claims.aud)) {
        return {
            response: armError(
                context,
                401,
                "InvalidAuthenticationTokenAudience",
                `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences ${allowedAudiences.map((a) => `'${a}'`).join(",")}.`,
            ),
        };
    }
    return { claims };
}

/** The subscription in the path must be the emulator's, and the token from the tenant that owns it. */
function checkSubscription(context: HandlerContext, claims: AccessTokenClaims, subscriptionId: string): EmulatorResponse | undefined {
    const { state } = context.env;
    if (subscriptionId.toLowerCase() !== state.subscriptionId) return armError(context, 404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`, { caller: claims.appid });
    if (claims.tid !== state.tenantId) {
        return armError(
            context,
            401,
            "InvalidAuthenticationTokenTenant",
            `The access token is from the wrong issuer '${claims.iss}'. It must match the tenant 'https://sts.windows.net/${state.tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${state.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
            { caller: claims.appid },
        );
    }
    return undefined;
}

function requireApiVersion(context: HandlerContext, caller?: string): EmulatorResponse | undefined {
    if (context.request.query.get("api-version")) return undefined;
    return armError(context, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.", caller ? { caller } : {});
}

/** The resource path as the caller wrote it, without a trailing slash: ARM names this scope in AuthorizationFailed. */
function requestedScope(context: HandlerContext): string {
    return context.request.path.replace(/\/+$/, "");
}

function authorizationFailed(context: HandlerContext, claims: AccessTokenClaims, action: string): EmulatorResponse {
    return armError(
        context,
        403,
        "AuthorizationFailed",
        `The client '${claims.appid}' with object id '${claims.oid}' does not have authorization to perform action '${action}' over scope '${requestedScope(context)}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        { headers: { "x-ms-failure-cause": "gateway" }, caller: claims.appid },
    );
}

type Admitted = { readonly claims: AccessTokenClaims } | { readonly response: EmulatorResponse };

/** Authentication, then subscription and tenant, api-version, and (when given) the Action on the requested scope. */
function admit(context: HandlerContext, params: Params, action?: string): Admitted {
    const auth = authenticate(context);
    if ("response" in auth) return auth;
    const { claims } = auth;
    const refused = checkSubscription(context, claims, params.subscriptionId ?? "") ?? requireApiVersion(context, claims.appid);
    if (refused) return { response: refused };
    if (action && !isPermitted(context.env.state, claims.oid, requestedScope(context), action, "control")) return { response: authorizationFailed(context, claims, action) };
    return { claims };
}

function vaultsIn(context: HandlerContext, resourceGroup: string): Vault[] {
    return [...context.env.state.vaults.values()].filter((v) => v.resourceGroup.toLowerCase() === resourceGroup.toLowerCase());
}

type Located = { readonly vault: Vault } | { readonly response: EmulatorResponse };

/** The vault named by the path, or ARM's 404 for the resource group or the vault. */
function locateVault(context: HandlerContext, params: Params, caller: string): Located {
    const resourceGroup = params.resourceGroupName ?? "";
    const inGroup = vaultsIn(context, resourceGroup);
    if (inGroup.length === 0) return { response: resourceGroupNotFound(context, resourceGroup, caller) };
    const vault = inGroup.find((v) => v.name.toLowerCase() === (params.vaultName ?? "").toLowerCase());
    if (!vault) return { response: resourceNotFound(context, `Microsoft.KeyVault/vaults/${params.vaultName}`, resourceGroup, caller) };
    return { vault };
}

/** The emulator knows a resource group only through the vaults in it. */
function resourceGroupNotFound(context: HandlerContext, resourceGroup: string, caller: string): EmulatorResponse {
    return armError(context, 404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`, { caller });
}

function resourceNotFound(context: HandlerContext, resource: string, resourceGroup: string, caller: string): EmulatorResponse {
    return armError(context, 404, "ResourceNotFound", `The Resource '${resource}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`, { caller });
}

/* ---------- Microsoft.Authorization/permissions ---------- */

/** One entry per role the caller holds at a scope covering `scope`; an empty list when none does. */
function permissionsOf(context: HandlerContext, claims: AccessTokenClaims, scope: string): EmulatorResponse {
    const value = rolesOf(context.env.state, claims.oid, scope).map((role) => ({
        actions: [...role.actions],
        notActions: [...role.notActions],
        dataActions: [...role.dataActions],
        notDataActions: [...role.notDataActions],
    }));
    return ok(context, { value }, claims.appid);
}

function vaultPermissions(context: HandlerContext, params: Params): EmulatorResponse {
    const admitted = admit(context, params);
    if ("response" in admitted) return admitted.response;
    const located = locateVault(context, params, admitted.claims.appid);
    if ("response" in located) return located.response;
    return permissionsOf(context, admitted.claims, context.env.state.vaultResourceId(located.vault));
}

function resourceGroupPermissions(context: HandlerContext, params: Params): EmulatorResponse {
    const admitted = admit(context, params);
    if ("response" in admitted) return admitted.response;
    const resourceGroup = params.resourceGroupName ?? "";
    if (vaultsIn(context, resourceGroup).length === 0) return resourceGroupNotFound(context, resourceGroup, admitted.claims.appid);
    return permissionsOf(context, admitted.claims, context.env.state.resourceGroupId(resourceGroup));
}

/* ---------- Microsoft.KeyVault/vaults/secrets ---------- */

const secretRead = "Microsoft.KeyVault/vaults/secrets/read";
const secretWrite = "Microsoft.KeyVault/vaults/secrets/write";
const secretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;

function vaultUrlOf(context: HandlerContext, vault: Vault): string {
    try {
        return context.env.keyVaultUrl(vault.name);
    } catch {
        // A vault in the state that no listener serves yet still has Azure's URL shape.
        return `https://${vault.name.toLowerCase()}.vault.azure.net`;
    }
}

/** The secret as ARM shows it: metadata and URIs, never the value. */
function secretResource(context: HandlerContext, vault: Vault, secret: Secret, version: SecretVersion): Json {
    const vaultUrl = vaultUrlOf(context, vault);
    return {
        id: `${context.env.state.vaultResourceId(vault)}/secrets/${secret.name}`,
        name: secret.name,
        type: "Microsoft.KeyVault/vaults/secrets",
        location: vault.location,
        tags: { ...(version.tags ?? {}) },
        properties: {
            ...(version.contentType !== undefined ? { contentType: version.contentType } : {}),
            attributes: {
                enabled: version.enabled,
                ...(version.notBefore ? { nbf: epochSeconds(version.notBefore) } : {}),
                ...(version.expiresOn ? { exp: epochSeconds(version.expiresOn) } : {}),
                created: epochSeconds(version.created),
                updated: epochSeconds(version.updated),
            },
            secretUri: `${vaultUrl}/secrets/${secret.name}`,
            secretUriWithVersion: `${vaultUrl}/secrets/${secret.name}/${version.version}`,
        },
    };
}

function currentVersion(secret: Secret | undefined): SecretVersion | undefined {
    return secret?.versions[secret.versions.length - 1];
}

function getSecret(context: HandlerContext, params: Params): EmulatorResponse {
    const admitted = admit(context, params, secretRead);
    if ("response" in admitted) return admitted.response;
    const caller = admitted.claims.appid;
    const located = locateVault(context, params, caller);
    if ("response" in located) return located.response;
    const secret = located.vault.secrets.get((params.secretName ?? "").toLowerCase());
    const current = currentVersion(secret);
    if (!secret || !current) return resourceNotFound(context, `Microsoft.KeyVault/vaults/${params.vaultName}/secrets/${params.secretName}`, params.resourceGroupName ?? "", caller);
    return ok(context, secretResource(context, located.vault, secret, current), caller);
}

interface ArmSecretWrite {
    readonly value: string;
    readonly contentType?: string;
    readonly tags?: Record<string, string>;
    readonly enabled?: boolean;
    readonly nbf?: number;
    readonly exp?: number;
}

/** The PUT body: `{ properties: { value, contentType, attributes: { enabled, nbf, exp } }, tags }`. Error texts are approximations. */
function readSecretWrite(context: HandlerContext, caller: string): ArmSecretWrite | EmulatorResponse {
    const body = parseJsonBody(context.request);
    if (!isRecord(body) || !isRecord(body.properties)) return armError(context, 400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties' is required.", { caller });
    const { properties } = body;
    if (typeof properties.value !== "string") return armError(context, 400, "BadRequest", "Property 'value' is required.", { caller });
    if (Buffer.byteLength(properties.value, "utf8") > 25 * 1024) return armError(context, 400, "BadRequest", "The secret value exceeds the maximum size of 25 KB.", { caller });
    const attributes = isRecord(properties.attributes) ? properties.attributes : {};
    const tags = isRecord(body.tags) ? Object.fromEntries(Object.entries(body.tags).map(([k, v]) => [k, String(v)])) : undefined;
    if (tags && Object.keys(tags).length > 15) return armError(context, 400, "BadRequest", `Too many tags: ${Object.keys(tags).length}. A secret may have at most 15 tags.`, { caller });
    return {
        value: properties.value,
        ...(typeof properties.contentType === "string" ? { contentType: properties.contentType } : {}),
        ...(tags ? { tags } : {}),
        ...(typeof attributes.enabled === "boolean" ? { enabled: attributes.enabled } : {}),
        ...(typeof attributes.nbf === "number" ? { nbf: attributes.nbf } : {}),
        ...(typeof attributes.exp === "number" ? { exp: attributes.exp } : {}),
    };
}

/** A new current version in the vault (the data plane serves it at once); 201 when the secret is new. */
function putSecret(context: HandlerContext, params: Params): EmulatorResponse {
    const admitted = admit(context, params, secretWrite);
    if ("response" in admitted) return admitted.response;
    const caller = admitted.claims.appid;
    const located = locateVault(context, params, caller);
    if ("response" in located) return located.response;
    const { vault } = located;
    const name = params.secretName ?? "";
    if (!secretNamePattern.test(name)) return armError(context, 400, "BadRequest", `The request URI contains an invalid name: ${name}`, { caller });
    const write = readSecretWrite(context, caller);
    if ("status" in write) return write;
    if (vault.deletedSecrets.has(name.toLowerCase())) {
        // Key Vault's own text; what ARM wraps it in is an approximation.
        return armError(context, 409, "Conflict", `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`, { caller });
    }
    const existed = vault.secrets.has(name.toLowerCase());
    const version = context.env.state.setSecret(vault, name, write.value, {
        ...(write.contentType !== undefined ? { contentType: write.contentType } : {}),
        ...(write.tags ? { tags: write.tags } : {}),
        ...(write.enabled !== undefined ? { enabled: write.enabled } : {}),
        ...(write.nbf !== undefined ? { notBefore: new Date(write.nbf * 1000) } : {}),
        ...(write.exp !== undefined ? { expiresOn: new Date(write.exp * 1000) } : {}),
    });
    const secret = context.env.state.secret(vault, name);
    if (!secret) throw new Error(`secret ${name} vanished while being written`);
    return ok(context, secretResource(context, vault, secret, version), caller, existed ? 200 : 201);
}

/** ARM cannot delete a vault secret (azure-native deletes through the data plane), whatever the caller's roles. */
function deleteSecret(context: HandlerContext): EmulatorResponse {
    const auth = authenticate(context);
    if ("response" in auth) return auth.response;
    return armError(context, 400, "DisallowedResourceOperation", "The operation 'delete' on resource type 'vaults/secrets' is disallowed.", { caller: auth.claims.appid });
}

/* ---------- routes ---------- */

// ARM paths are case-insensitive: hence the `i` flags.
const resourceGroupPath = "^/subscriptions/(?<subscriptionId>[^/]+)/resourceGroups/(?<resourceGroupName>[^/]+)";
const vaultPath = `${resourceGroupPath}/providers/Microsoft\\.KeyVault/vaults/(?<vaultName>[^/]+)`;
const permissionsPath = "/providers/Microsoft\\.Authorization/permissions/?$";
const secretPath = `${vaultPath}/secrets/(?<secretName>[^/]+)/?$`;

const secretRoute = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}";

export const armRoutes: readonly Route<HandlerContext>[] = [
    {
        id: "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.Authorization/permissions",
        method: "GET",
        pattern: new RegExp(`${vaultPath}${permissionsPath}`, "i"),
        handle: vaultPermissions,
    },
    {
        id: "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Authorization/permissions",
        method: "GET",
        pattern: new RegExp(`${resourceGroupPath}${permissionsPath}`, "i"),
        handle: resourceGroupPermissions,
    },
    { id: `GET ${secretRoute}`, method: "GET", pattern: new RegExp(secretPath, "i"), handle: getSecret },
    { id: `PUT ${secretRoute}`, method: "PUT", pattern: new RegExp(secretPath, "i"), handle: putSecret },
    { id: `DELETE ${secretRoute}`, method: "DELETE", pattern: new RegExp(secretPath, "i"), handle: deleteSecret },
];
