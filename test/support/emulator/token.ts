import { constants, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { type RsaKeyPair, sharedKeyPair } from "./certificates";
import type { HandlerContext } from "./environment";
import { type SignInOutage, stillReplicating } from "./faults";
import { type EmulatorResponse, type Route, epochSeconds, headerValue, json } from "./http";
import { graphResource, keyVaultResource, microsoftGraphAppId } from "./microsoftGraphPrincipal";
import { guid } from "./random";
import type { Application, KeyCredential, Tenant } from "./state";

/**
 * The Microsoft Entra token endpoint for the client-credentials grant, with the metadata MSAL reads first.
 *
 * What @azure/identity 4.13 (MSAL Node 5) sends with a custom `authorityHost`:
 * 1. instance discovery, `GET https://login.microsoftonline.com/common/discovery/instance?...` — always to
 *    the public cloud, never to the authority host. Callers must pass `disableInstanceDiscovery: true`, which
 *    makes the host a known authority and skips that request (there is nothing the emulator could serve);
 * 2. `GET {authorityHost}/{tenant}/v2.0/.well-known/openid-configuration`; MSAL requires `issuer` to be on the
 *    authority's scheme and host, and takes `token_endpoint` from it;
 * 3. `POST {token_endpoint}` with client_secret, or client_assertion (PS256 signed, `x5t#S256` header; RS256
 *    with `x5t` from older clients).
 *
 * Errors are Entra's: HTTP status, OAuth `error`, and `error_description` starting `AADSTS{code}: `, with
 * trace and correlation ids (the correlation id echoes the client's `client-request-id`).
 */

export interface AccessTokenClaims {
    readonly aud: string;
    readonly iss: string;
    readonly iat: number;
    readonly nbf: number;
    readonly exp: number;
    readonly aio: string;
    readonly app_displayname: string;
    readonly appid: string;
    /** "1": client secret, "2": certificate. */
    readonly appidacr: "1" | "2";
    readonly idp: string;
    readonly idtyp: "app";
    /** Object id of the service principal. */
    readonly oid: string;
    readonly rh: string;
    readonly roles?: readonly string[];
    readonly sub: string;
    readonly tid: string;
    readonly uti: string;
    readonly ver: "1.0";
}

export type TokenCheck = { readonly ok: true; readonly claims: AccessTokenClaims } | { readonly ok: false; readonly reason: "malformed" | "signature" | "expired" | "notYetValid" };

function base64url(data: Buffer | string): string {
    return Buffer.from(data).toString("base64url");
}

function decodeSegment(segment: string | undefined): unknown {
    if (!segment) return undefined;
    try {
        return JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
    } catch {
        return undefined;
    }
}

/** Issues and checks the emulator's access tokens: RS256 JWTs whose public key is served at jwks_uri. */
export class TokenService {
    private readonly privateKey: KeyObject;
    private readonly publicKey: KeyObject;
    readonly keyId = guid().replace(/-/g, "");

    constructor(
        readonly lifetimeSeconds = 3599,
        keys: RsaKeyPair = sharedKeyPair("token-signing"),
    ) {
        this.privateKey = keys.privateKey;
        this.publicKey = createPublicKey(keys.publicKeyPem);
    }

    issue(claims: Omit<AccessTokenClaims, "iat" | "nbf" | "exp">): { readonly token: string; readonly expiresIn: number } {
        // Wall clock: MSAL caches by expires_in measured with Date.now(), whatever date the test simulates.
        const now = Math.floor(Date.now() / 1000);
        const header = base64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5t: this.keyId, kid: this.keyId }));
        const payload = base64url(JSON.stringify({ ...claims, iat: now - 300, nbf: now - 300, exp: now + this.lifetimeSeconds }));
        const signature = sign("sha256", Buffer.from(`${header}.${payload}`), this.privateKey).toString("base64url");
        return { token: `${header}.${payload}.${signature}`, expiresIn: this.lifetimeSeconds };
    }

    check(token: string): TokenCheck {
        const [header, payload, signature] = token.split(".");
        const claims = decodeSegment(payload) as AccessTokenClaims | undefined;
        if (!header || !payload || !signature || !claims || typeof claims.exp !== "number") return { ok: false, reason: "malformed" };
        if (!verify("sha256", Buffer.from(`${header}.${payload}`), this.publicKey, Buffer.from(signature, "base64url"))) return { ok: false, reason: "signature" };
        const now = Math.floor(Date.now() / 1000);
        if (now >= claims.exp) return { ok: false, reason: "expired" };
        if (now < claims.nbf) return { ok: false, reason: "notYetValid" };
        return { ok: true, claims };
    }

    jwks(): { keys: object[] } {
        const jwk = createPublicKey(this.publicKey).export({ format: "jwk" });
        return { keys: [{ kty: "RSA", use: "sig", kid: this.keyId, x5t: this.keyId, n: jwk.n, e: jwk.e, alg: "RS256" }] };
    }
}

/** Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z`. */
function entraTimestamp(date: Date): string {
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** .NET's invariant date format Entra prints key windows in: `01/28/2018 16:00:00`. */
function dotnetDate(date: Date): string {
    const two = (n: number) => String(n).padStart(2, "0");
    return `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
}

export interface AadError {
    readonly status: number;
    readonly error: string;
    readonly code: number;
    readonly message: string;
}

export function aadErrorResponse(context: HandlerContext, failure: AadError, caller?: string): EmulatorResponse {
    const traceId = guid();
    const correlationId = headerValue(context.request, "client-request-id") ?? guid();
    const timestamp = entraTimestamp(new Date());
    return {
        status: failure.status,
        headers: { "x-ms-request-id": traceId },
        body: {
            error: failure.error,
            error_description: `AADSTS${failure.code}: ${failure.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
            error_codes: [failure.code],
            timestamp,
            trace_id: traceId,
            correlation_id: correlationId,
            error_uri: `${context.env.authorityHost}/error?code=${failure.code}`,
        },
        ...(caller ? { caller } : {}),
    };
}

const certificateDocs = "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .";

const errors = {
    invalidTenantFormat: (tenant: string): AadError => ({
        status: 400,
        error: "invalid_request",
        code: 900023,
        message: `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
    }),
    tenantNotFound: (tenant: string, error: string): AadError => ({
        status: 400,
        error,
        code: 90002,
        message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    }),
    missingParameter: (name: string): AadError => ({ status: 400, error: "invalid_request", code: 900144, message: `The request body must contain the following parameter: '${name}'.` }),
    unsupportedGrant: (grant: string): AadError => ({ status: 400, error: "unsupported_grant_type", code: 70003, message: `The app requested an unsupported grant type '${grant}'.` }),
    invalidScope: (scope: string): AadError => ({
        status: 400,
        error: "invalid_scope",
        code: 1002012,
        message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    }),
    resourceNotFound: (resource: string, tenant: Tenant): AadError => ({
        status: 400,
        error: "invalid_resource",
        code: 500011,
        message: `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    }),
    appNotFound: (clientId: string, tenant: Tenant): AadError => ({
        status: 400,
        error: "unauthorized_client",
        code: 700016,
        message: `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    }),
    appDisabled: (app: Application): AadError => ({ status: 400, error: "unauthorized_client", code: 7000112, message: `Application '${app.appId}'(${app.displayName}) is disabled.` }),
    noCredential: (): AadError => ({ status: 401, error: "invalid_client", code: 7000218, message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." }),
    invalidSecret: (app: Application): AadError => ({
        status: 401,
        error: "invalid_client",
        code: 7000215,
        message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
    }),
    expiredSecret: (app: Application): AadError => ({
        status: 401,
        error: "invalid_client",
        code: 7000222,
        message: `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    }),
    malformedAssertion: (detail: string): AadError => ({ status: 400, error: "invalid_request", code: 50027, message: `JWT token is invalid or malformed. [Reason - ${detail}]` }),
    assertionClientMismatch: (): AadError => ({
        status: 401,
        error: "invalid_client",
        code: 700021,
        message: `Client assertion application identifier doesn't match 'client_id' parameter. ${certificateDocs}`,
    }),
    assertionTime: (now: Date, nbf: number, exp: number): AadError => ({
        status: 401,
        error: "invalid_client",
        code: 700024,
        message: `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}. ${certificateDocs}`,
    }),
    certificate: (app: Application, thumbprint: string, reason: "notFound" | "signature" | "expired" | "notYetValid", key?: KeyCredential): AadError => {
        const keysHint = `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.appId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${app.appId}'`;
        const found = key ? `, Found key 'Start=${dotnetDate(key.startDateTime)}, End=${dotnetDate(key.endDateTime)}'` : "";
        const reasons = {
            notFound: "The key was not found.",
            signature: "The provided signature value did not match the expected signature value.",
            expired: "The key used is expired.",
            notYetValid: "The key used is not yet valid.",
        } as const;
        const lead = reason === "notFound" ? "The certificate with identifier used to sign the client assertion is not registered on application." : "Client assertion contains an invalid signature.";
        return {
            status: 401,
            error: "invalid_client",
            code: 700027,
            message: `${lead} [Reason - ${reasons[reason]}, Thumbprint of key used by client: '${thumbprint}'${found}, ${keysHint}]`,
        };
    },
};

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type TenantLookup = { readonly tenant: Tenant } | { readonly failure: AadError };

function lookupTenant(context: HandlerContext, segment: string, notFoundError: string): TenantLookup {
    if (!guidPattern.test(segment) && !segment.includes(".")) return { failure: errors.invalidTenantFormat(segment) };
    const tenant = context.env.state.tenant(segment);
    return tenant ? { tenant } : { failure: errors.tenantNotFound(segment, notFoundError) };
}

/**
 * The tenant of a metadata request, or the answer instead of the document: an outage's 503, the 400 for an
 * unknown tenant, or (switch `unknownTenant.metadata: "served"`) the tenant as named, as MSAL holds it built in.
 */
function metadataTenant(context: HandlerContext, segment: string): { readonly id: string } | { readonly response: EmulatorResponse } {
    const outage = context.env.faults.current.signInOutage;
    if (outage?.metadata) return { response: signInOutageResponse(context, outage) };
    const lookup = lookupTenant(context, segment, "invalid_tenant");
    if (!("failure" in lookup)) return { id: lookup.tenant.id };
    if (lookup.failure.code === 90002 && context.env.faults.current.unknownTenant?.metadata === "served") return { id: segment };
    return { response: aadErrorResponse(context, lookup.failure) };
}

function openIdConfiguration(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const tenant = metadataTenant(context, params.tenant ?? "");
    if ("response" in tenant) return tenant.response;
    const base = `${context.env.authorityHost}/${tenant.id}`;
    return json(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${context.env.graphEndpoint}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: "EU",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: new URL(context.env.graphEndpoint).host,
        rbac_url: "https://pas.windows.net",
    });
}

function jwks(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const tenant = metadataTenant(context, params.tenant ?? "");
    if ("response" in tenant) return tenant.response;
    return json(200, context.env.tokens.jwks());
}

/** The resource a `{resource}/.default` scope names, as the `aud` of the token; undefined when unknown. */
function resolveResource(context: HandlerContext, tenant: Tenant, resource: string): string | undefined {
    const trimmed = resource.replace(/\/+$/, "");
    const lower = trimmed.toLowerCase();
    if (lower === graphResource || lower === microsoftGraphAppId) return graphResource;
    if (lower === keyVaultResource || lower === "cfa8b339-82a2-471a-a3c9-0fc0be7a4093") return keyVaultResource;
    if (lower === "https://management.azure.com" || lower === "https://management.core.windows.net") return trimmed;
    for (const app of context.env.state.applications.values()) {
        if (app.tenantId !== tenant.id) continue;
        if (lower === app.appId || lower === `api://${app.appId}` || app.identifierUris.some((uri) => uri.replace(/\/+$/, "").toLowerCase() === lower)) return trimmed;
    }
    return undefined;
}

interface AssertionParts {
    readonly header: Record<string, unknown>;
    readonly payload: Record<string, unknown>;
    readonly signingInput: Buffer;
    readonly signature: Buffer;
}

function parseAssertion(assertion: string): AssertionParts | undefined {
    const [header, payload, signature] = assertion.split(".");
    const decodedHeader = decodeSegment(header);
    const decodedPayload = decodeSegment(payload);
    if (!header || !payload || !signature || typeof decodedHeader !== "object" || typeof decodedPayload !== "object" || !decodedHeader || !decodedPayload) return undefined;
    return {
        header: decodedHeader as Record<string, unknown>,
        payload: decodedPayload as Record<string, unknown>,
        signingInput: Buffer.from(`${header}.${payload}`),
        signature: Buffer.from(signature, "base64url"),
    };
}

function verifyAssertionSignature(parts: AssertionParts, key: KeyCredential): boolean {
    const alg = parts.header.alg;
    if (alg === "RS256") return verify("sha256", parts.signingInput, key.certificate.publicKey, parts.signature);
    if (alg === "PS256") {
        return verify("sha256", parts.signingInput, { key: key.certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, parts.signature);
    }
    return false;
}

/** Seconds of clock skew Entra tolerates on assertion nbf/exp. */
const allowedSkewSeconds = 300;

/** How the client proved itself, and with which of its credentials (the sign-in log names it). */
type ClientAuthentication = { readonly method: "secret" | "certificate"; readonly keyId: string } | { readonly failure: AadError };

function authenticateWithSecret(context: HandlerContext, app: Application, secret: string): ClientAuthentication {
    const now = context.env.state.clock.now();
    const credential = app.passwordCredentials.find((c) => c.secretText === secret);
    if (!credential) return { failure: errors.invalidSecret(app) };
    credential.attemptsSeen++;
    if (stillReplicating(context.env.faults.replicationFor(credential), credential)) return { failure: errors.invalidSecret(app) };
    if (now.getTime() > credential.endDateTime.getTime()) return { failure: errors.expiredSecret(app) };
    if (now.getTime() < credential.startDateTime.getTime()) return { failure: errors.invalidSecret(app) };
    return { method: "secret", keyId: credential.keyId };
}

function authenticateWithAssertion(context: HandlerContext, app: Application, assertion: string, tenant: Tenant, tenantSegment: string): ClientAuthentication {
    const parts = parseAssertion(assertion);
    if (!parts) return { failure: errors.malformedAssertion("The client assertion is not a JWS in compact serialization.") };
    const { header, payload } = parts;
    if (payload.iss !== app.appId && payload.iss !== app.appId.toUpperCase()) return { failure: errors.assertionClientMismatch() };
    if (payload.sub !== payload.iss) return { failure: errors.assertionClientMismatch() };

    const x5tS256 = typeof header["x5t#S256"] === "string" ? header["x5t#S256"] : undefined;
    const x5t = typeof header.x5t === "string" ? header.x5t : undefined;
    if (!x5tS256 && !x5t) return { failure: errors.malformedAssertion("The client assertion header has neither x5t nor x5t#S256.") };
    const thumbprint = Buffer.from((x5tS256 ?? x5t) as string, "base64url").toString("hex").toUpperCase();
    const key = app.keyCredentials.find((k) => (x5tS256 ? k.certificate.thumbprintSha256 : k.certificate.thumbprintSha1) === thumbprint);
    if (!key) return { failure: errors.certificate(app, thumbprint, "notFound") };
    key.attemptsSeen++;
    if (stillReplicating(context.env.faults.replicationFor(key), key)) return { failure: errors.certificate(app, thumbprint, "notFound") };
    if (!verifyAssertionSignature(parts, key)) return { failure: errors.certificate(app, thumbprint, "signature", key) };

    const now = context.env.state.clock.now();
    if (now.getTime() > key.endDateTime.getTime()) return { failure: errors.certificate(app, thumbprint, "expired", key) };
    if (now.getTime() < key.startDateTime.getTime()) return { failure: errors.certificate(app, thumbprint, "notYetValid", key) };

    const host = context.env.authorityHost;
    const audiences = new Set(
        [tenant.id, tenantSegment, ...tenant.domains].flatMap((t) => [`${host}/${t}/oauth2/v2.0/token`, `${host}/${t}/oauth2/token`, `${host}/${t}/v2.0`].map((a) => a.toLowerCase())),
    );
    const aud = typeof payload.aud === "string" ? payload.aud : "";
    if (!audiences.has(aud.replace(/\/+$/, "").toLowerCase())) {
        return { failure: errors.malformedAssertion(`The audience claim '${aud}' is not this tenant's token endpoint.`) };
    }
    // Wall clock: the SDK stamps assertions with Date.now(), whatever date the emulator simulates.
    const wallNow = new Date();
    const nowSeconds = epochSeconds(wallNow);
    const exp = typeof payload.exp === "number" ? payload.exp : 0;
    const nbf = typeof payload.nbf === "number" ? payload.nbf : exp - 600;
    if (nowSeconds > exp + allowedSkewSeconds || nowSeconds < nbf - allowedSkewSeconds) return { failure: errors.assertionTime(wallNow, nbf, exp) };
    return { method: "certificate", keyId: key.keyId };
}

function basicCredentials(context: HandlerContext): { readonly clientId: string; readonly secret: string } | undefined {
    const header = headerValue(context.request, "authorization");
    const match = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

function tokenEndpoint(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const outage = context.env.faults.current.signInOutage;
    if (outage) return signInOutageResponse(context, outage);
    const segment = params.tenant ?? "";
    const lookup = lookupTenant(context, segment, context.env.faults.current.unknownTenant?.tokenError ?? "invalid_request");
    if ("failure" in lookup) return aadErrorResponse(context, lookup.failure);
    const tenant = lookup.tenant;
    const form = new URLSearchParams(context.request.body.toString("utf8"));
    const basic = basicCredentials(context);
    const grantType = form.get("grant_type");
    if (!grantType) return aadErrorResponse(context, errors.missingParameter("grant_type"));
    if (grantType !== "client_credentials") return aadErrorResponse(context, errors.unsupportedGrant(grantType));
    const clientId = form.get("client_id") ?? basic?.clientId;
    if (!clientId) return aadErrorResponse(context, errors.missingParameter("client_id"));
    const scopeParameter = form.get("scope");
    if (!scopeParameter) return aadErrorResponse(context, errors.missingParameter("scope"), clientId);
    // MSAL may add OIDC scopes; they mean nothing to the client-credentials grant.
    const scopes = scopeParameter.split(" ").filter((s) => s && !["openid", "profile", "offline_access"].includes(s));
    const scope = scopes[0];
    if (scopes.length !== 1 || !scope || !scope.endsWith("/.default")) return aadErrorResponse(context, errors.invalidScope(scopeParameter), clientId);
    const audience = resolveResource(context, tenant, scope.slice(0, -"/.default".length));
    if (!audience) return aadErrorResponse(context, errors.resourceNotFound(scope.slice(0, -"/.default".length), tenant), clientId);

    const app = context.env.state.application(clientId);
    if (!app || app.appId !== clientId.toLowerCase() || app.tenantId !== tenant.id) return aadErrorResponse(context, errors.appNotFound(clientId, tenant), clientId);
    const principal = context.env.state.servicePrincipalOf(app);
    if (!principal || !principal.accountEnabled) return aadErrorResponse(context, errors.appDisabled(app), clientId);

    const secret = form.get("client_secret") ?? basic?.secret;
    const assertion = form.get("client_assertion");
    let auth: ClientAuthentication;
    if (assertion) {
        if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
            return aadErrorResponse(context, errors.missingParameter("client_assertion_type"), clientId);
        }
        auth = authenticateWithAssertion(context, app, assertion, tenant, segment);
    } else if (secret) {
        auth = authenticateWithSecret(context, app, secret);
    } else {
        auth = { failure: errors.noCredential() };
    }
    if ("failure" in auth) return aadErrorResponse(context, auth.failure, app.appId);
    // Entra logs every service principal sign-in with the credential used: the usage evidence of `rotor status --usage`.
    context.env.state.recordSignIn(app, auth.keyId, context.env.state.clock.now());

    const roles = audience === graphResource ? principal.appRoleAssignments.filter((a) => a.resourceAppId === microsoftGraphAppId).map((a) => a.appRoleValue) : [];
    const issuer = `https://sts.windows.net/${tenant.id}/`;
    const { token, expiresIn } = context.env.tokens.issue({
        aud: audience,
        iss: issuer,
        aio: guid(),
        app_displayname: app.displayName,
        appid: app.appId,
        appidacr: auth.method === "secret" ? "1" : "2",
        idp: issuer,
        idtyp: "app",
        oid: principal.id,
        rh: "0.emulated.",
        ...(roles.length ? { roles } : {}),
        sub: principal.id,
        tid: tenant.id,
        uti: guid().replace(/-/g, "").slice(0, 22),
        ver: "1.0",
    });
    return { status: 200, body: { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token }, caller: app.appId };
}

export const loginRoutes: readonly Route<HandlerContext>[] = [
    { id: "GET /{tenant}/v2.0/.well-known/openid-configuration", method: "GET", pattern: /^\/(?<tenant>[^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, handle: openIdConfiguration },
    { id: "GET /{tenant}/discovery/v2.0/keys", method: "GET", pattern: /^\/(?<tenant>[^/]+)\/discovery\/v2\.0\/keys$/, handle: jwks },
    { id: "POST /{tenant}/oauth2/v2.0/token", method: "POST", pattern: /^\/(?<tenant>[^/]+)\/oauth2\/v2\.0\/token$/, handle: tokenEndpoint },
];

/** The switch `signInOutage`: Entra's 503 temporarily_unavailable (AADSTS90033), see faults.ts for the sources. */
function signInOutageResponse(context: HandlerContext, outage: SignInOutage): EmulatorResponse {
    const retryAfter: Record<string, string> = outage.retryAfterSeconds !== undefined ? { "Retry-After": String(outage.retryAfterSeconds) } : {};
    if (outage.body === "text") return { status: 503, headers: { ...retryAfter, "content-type": "text/plain; charset=utf-8" }, body: "Service Unavailable" };
    const response = aadErrorResponse(context, { status: 503, error: "temporarily_unavailable", code: 90033, message: "A transient error has occurred. Please try again." });
    return { ...response, headers: { ...response.headers, ...retryAfter } };
}

/** Injected faults in the token endpoint's shape. */
export function loginFault(context: HandlerContext, status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
    const failure: AadError =
        status === 429
            ? { status, error: "temporarily_unavailable", code: 90055, message: "There are too many incoming requests. Please try again later." }
            : status === 503
              ? { status, error: "temporarily_unavailable", code: 90006, message: "The service is temporarily unavailable." }
              : { status, error: "server_error", code: 50000, message: "There was an error issuing a token or an issue with our sign-in service." };
    const response = aadErrorResponse(context, failure);
    return { ...response, headers: { ...response.headers, ...(retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {}) } };
}
