import type { HandlerContext } from "./environment";
import { type EmulatorRequest, type EmulatorResponse, type Route, bearerToken, headerValue, isRecord, matchRoute, parseJsonBody } from "./http";
import { graphResource, microsoftGraphAppId, microsoftGraphServicePrincipal } from "./microsoftGraphPrincipal";
import { type Filter, type FilterRules, FilterSyntaxError, checkFilter, matchesFilter, parseFilter } from "./odataFilter";
import { checkProof } from "./proofOfPossession";
import { guid } from "./random";
import type { AccessTokenClaims } from "./token";
import type {
    AppManagementConfiguration,
    AppManagementPolicy,
    Application,
    AppRoleDefinition,
    CredentialRestriction,
    FederatedIdentityCredential,
    KeyCredential,
    OAuth2PermissionGrant,
    OptionalClaim,
    PasswordCredential,
    ServicePrincipal,
    Tenant,
    TenantAppManagementPolicy,
    User,
} from "./state";

/**
 * Microsoft Graph v1.0, what `rotor status`, `rotor doctor` and `rotor import` read: applications with their
 * credentials, owners and federated identity credentials, service principals with their app roles, scopes,
 * owners, app role assignments and delegated grants, the organization, and app management policies; and the
 * two writes `rotor retire` makes (removePassword, removeKey). Response shapes, OData query behaviour
 * ($select, $filter with Graph's per-property operators and advanced queries, $top, $count,
 * @odata.nextLink paging) and errors follow Graph; what the emulator does not implement is refused with a
 * 400 that says so, rather than silently ignored. A few app management policy routes are also served on
 * beta, where restrictions exist that v1.0 cannot show.
 */

type Json = Record<string, unknown>;

/** Graph's error body; every error carries innerError with the request ids, as Graph's do. */
export function graphError(context: HandlerContext, status: number, code: string, message: string, headers: Record<string, string> = {}): EmulatorResponse {
    const requestId = guid();
    return {
        status,
        headers: { "request-id": requestId, "client-request-id": headerValue(context.request, "client-request-id") ?? requestId, ...headers },
        body: {
            error: {
                code,
                message,
                innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ""), "request-id": requestId, "client-request-id": headerValue(context.request, "client-request-id") ?? requestId },
            },
        },
    };
}

export function graphFault(context: HandlerContext, status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
    const retry: Record<string, string> = retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {};
    if (status === 429) {
        return graphError(context, 429, "TooManyRequests", "Too many requests from Identifier under category:throttle.aad.ags.applications. Please try again later.", retry);
    }
    if (status === 503) return graphError(context, 503, "serviceNotAvailable", "Service is unavailable. Please try again later.", retry);
    return graphError(context, status, "UnknownError", "", retry);
}

export function graphUnmatched(context: HandlerContext): EmulatorResponse {
    const segment = context.request.path.split("/").filter(Boolean)[1] ?? context.request.path;
    return graphError(context, 400, "BadRequest", `Resource not found for the segment '${segment}'.`);
}

export function ok(context: HandlerContext, body: Json, caller: string): EmulatorResponse {
    const requestId = guid();
    return {
        status: 200,
        headers: {
            "content-type": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
            "request-id": requestId,
            "client-request-id": headerValue(context.request, "client-request-id") ?? requestId,
        },
        body,
        caller,
    };
}

const permissions = {
    /** Reading applications, service principals, their owners and app role assignments (each route's page lists these). */
    applications: ["Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All", "Directory.ReadWrite.All"],
    /**
     * Delegated permission grants, both routes ("List oauth2PermissionGrants", "List a service principal's
     * oauth2PermissionGrants"): Directory.Read.All at least; Application.Read.All is not enough.
     */
    delegatedGrants: ["Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"],
    /** Writing any application ("application: removePassword", "application: removeKey"); OwnedBy only for its own apps. */
    applicationWrites: ["Application.ReadWrite.All", "Directory.ReadWrite.All"],
    policies: ["Policy.Read.All", "Policy.Read.ApplicationConfiguration", "Policy.ReadWrite.ApplicationConfiguration"],
    organization: ["Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
} as const;

export interface Caller {
    readonly claims: AccessTokenClaims;
    readonly tenant: Tenant;
}

type Authorized = { readonly caller: Caller } | { readonly response: EmulatorResponse };

/** Endpoints that need several permissions at once (e.g. Policy.Read.All and Application.Read.All): one of each group. */
function authorizeEach(context: HandlerContext, groups: readonly (readonly string[])[]): Authorized {
    const auth = authorize(context, undefined);
    if ("response" in auth || !context.env.graphPermissionsEnforced) return auth;
    const roles = auth.caller.claims.roles ?? [];
    if (groups.every((group) => group.some((role) => roles.includes(role)))) return auth;
    return { response: graphError(context, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.") };
}

export function authorize(context: HandlerContext, anyOf: readonly string[] | undefined): Authorized {
    const token = bearerToken(context.request);
    if (!token) return { response: graphError(context, 401, "InvalidAuthenticationToken", "Access token is empty.") };
    const check = context.env.tokens.check(token);
    if (!check.ok) {
        const message =
            check.reason === "expired" ? "Lifetime validation failed, the token is expired." : check.reason === "malformed" ? "IDX14100: JWT is not well formed." : "Access token validation failure.";
        return { response: graphError(context, 401, "InvalidAuthenticationToken", message) };
    }
    const { claims } = check;
    if (claims.aud !== graphResource && claims.aud !== `${graphResource}/` && claims.aud !== microsoftGraphAppId) {
        return { response: graphError(context, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.") };
    }
    const tenant = context.env.state.tenant(claims.tid);
    if (!tenant) return { response: graphError(context, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.") };
    if (anyOf && context.env.graphPermissionsEnforced) {
        const roles = claims.roles ?? [];
        if (!anyOf.some((role) => roles.includes(role))) {
            return { response: graphError(context, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.") };
        }
    }
    return { caller: { claims, tenant } };
}

function iso(date: Date): string {
    return date.toISOString();
}

function passwordCredentialJson(c: PasswordCredential): Json {
    return {
        customKeyIdentifier: c.customKeyIdentifier,
        displayName: c.displayName,
        endDateTime: iso(c.endDateTime),
        hint: c.hint,
        keyId: c.keyId,
        secretText: null,
        startDateTime: iso(c.startDateTime),
    };
}

function keyCredentialJson(c: KeyCredential, includeKey: boolean): Json {
    return {
        customKeyIdentifier: c.customKeyIdentifier,
        displayName: c.displayName,
        endDateTime: iso(c.endDateTime),
        key: includeKey ? c.certificate.der.toString("base64") : null,
        keyId: c.keyId,
        startDateTime: iso(c.startDateTime),
        type: c.type,
        usage: c.usage,
    };
}

function federatedCredentialJson(c: FederatedIdentityCredential): Json {
    return { id: c.id, name: c.name, issuer: c.issuer, subject: c.subject, description: c.description, audiences: [...c.audiences] };
}

/**
 * The `application` resource as v1.0 returns it (learn.microsoft.com/graph/api/resources/application), every
 * property, in Graph's order; what the state does not model has the value a new registration has.
 */
function applicationJson(context: HandlerContext, app: Application, includeKey: boolean): Json {
    const tenant = context.env.state.tenant(app.tenantId);
    return {
        id: app.id,
        deletedDateTime: null,
        appId: app.appId,
        applicationTemplateId: null,
        disabledByMicrosoftStatus: null,
        createdDateTime: iso(app.createdDateTime),
        displayName: app.displayName,
        description: app.description,
        groupMembershipClaims: app.groupMembershipClaims,
        identifierUris: [...app.identifierUris],
        isDeviceOnlyAuthSupported: null,
        isFallbackPublicClient: null,
        nativeAuthenticationApisEnabled: null,
        notes: app.notes,
        // In v1.0 (the Azure PowerShell v1.0 model's MicrosoftGraphApplication.Oauth2RequirePostResponse); false unless set.
        oauth2RequirePostResponse: false,
        publisherDomain: tenant?.domains[0] ?? null,
        serviceManagementReference: null,
        signInAudience: app.signInAudience,
        tags: [...app.tags],
        tokenEncryptionKeyId: null,
        uniqueName: null,
        samlMetadataUrl: null,
        defaultRedirectUri: null,
        certification: null,
        optionalClaims: app.optionalClaims
            ? { idToken: app.optionalClaims.idToken.map(claimJson), accessToken: app.optionalClaims.accessToken.map(claimJson), saml2Token: app.optionalClaims.saml2Token.map(claimJson) }
            : null,
        servicePrincipalLockConfiguration: null,
        requestSignatureVerification: null,
        addIns: [],
        api: {
            acceptMappedClaims: app.api.acceptMappedClaims,
            knownClientApplications: [...app.api.knownClientApplications],
            requestedAccessTokenVersion: app.api.requestedAccessTokenVersion,
            oauth2PermissionScopes: app.api.oauth2PermissionScopes.map((scope) => ({ ...scope })),
            preAuthorizedApplications: [],
        },
        appRoles: app.appRoles.map(appRoleJson),
        info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
        keyCredentials: app.keyCredentials.map((k) => keyCredentialJson(k, includeKey)),
        parentalControlSettings: { countriesBlockedForMinors: [], legalAgeGroupRule: "Allow" },
        passwordCredentials: app.passwordCredentials.map(passwordCredentialJson),
        publicClient: { redirectUris: [...app.publicClient.redirectUris] },
        requiredResourceAccess: app.requiredResourceAccess.map((r) => ({ resourceAppId: r.resourceAppId, resourceAccess: r.resourceAccess.map((a) => ({ id: a.id, type: a.type })) })),
        verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
        web: {
            homePageUrl: app.web.homePageUrl,
            logoutUrl: app.web.logoutUrl,
            redirectUris: [...app.web.redirectUris],
            implicitGrantSettings: { ...app.web.implicitGrantSettings },
            // Graph's newer view of the same URIs (index is null unless set through the manifest).
            redirectUriSettings: app.web.redirectUris.map((uri) => ({ uri, index: null })),
        },
        spa: { redirectUris: [...app.spa.redirectUris] },
    };
}

function appRoleJson(role: AppRoleDefinition): Json {
    return { allowedMemberTypes: [...role.allowedMemberTypes], description: role.description, displayName: role.displayName, id: role.id, isEnabled: role.isEnabled, origin: role.origin, value: role.value };
}

function claimJson(claim: OptionalClaim): Json {
    return { additionalProperties: [...claim.additionalProperties], essential: claim.essential, name: claim.name, source: claim.source };
}

/**
 * The `servicePrincipal` resource as v1.0 returns it, in the order of Microsoft Graph's own (the fixture):
 * an application's principal shows the application's app roles and delegated scopes, an API's
 * (addApiServicePrincipal) its own.
 */
function servicePrincipalJson(context: HandlerContext, principal: ServicePrincipal): Json {
    const app = principal.api ? undefined : context.env.state.application(principal.appId);
    const appRoles = principal.api?.appRoles ?? app?.appRoles ?? [];
    const scopes = principal.api?.oauth2PermissionScopes ?? app?.api.oauth2PermissionScopes ?? [];
    const created = principal.api?.createdDateTime ?? app?.createdDateTime;
    return {
        id: principal.id,
        deletedDateTime: null,
        accountEnabled: principal.accountEnabled,
        alternativeNames: [],
        appDisplayName: app?.displayName ?? principal.displayName,
        appDescription: null,
        appId: principal.appId,
        applicationTemplateId: null,
        appOwnerOrganizationId: principal.api?.appOwnerOrganizationId ?? principal.tenantId,
        appRoleAssignmentRequired: false,
        createdDateTime: created ? iso(created) : null,
        description: null,
        disabledByMicrosoftStatus: null,
        displayName: principal.displayName,
        homepage: null,
        loginUrl: null,
        logoutUrl: null,
        notes: null,
        notificationEmailAddresses: [],
        preferredSingleSignOnMode: null,
        preferredTokenSigningKeyThumbprint: null,
        replyUrls: [],
        resourceSpecificApplicationPermissions: [],
        samlSingleSignOnSettings: null,
        servicePrincipalNames: principal.api ? [...principal.api.servicePrincipalNames] : [principal.appId, ...(app?.identifierUris ?? [])],
        servicePrincipalType: "Application",
        signInAudience: app?.signInAudience ?? "AzureADMyOrg",
        tags: [],
        tokenEncryptionKeyId: null,
        verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
        addIns: [],
        appRoles: appRoles.map(appRoleJson),
        info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
        keyCredentials: [],
        oauth2PermissionScopes: scopes.map((scope) => ({ ...scope })),
        passwordCredentials: [],
    };
}

/* ---------- app management policies, v1.0 and beta ---------- */

type GraphVersion = "v1.0" | "beta";

/**
 * Restriction types that Graph added to its evolvable enums after `unknownFutureValue` and only on beta: v1.0
 * shows them as `unknownFutureValue`, without their beta-only properties.
 */
const betaOnlyRestrictionTypes: readonly string[] = ["trustedCertificateAuthority"];

function restrictionJson(restriction: CredentialRestriction, version: GraphVersion): Json {
    const hidden = version === "v1.0" && betaOnlyRestrictionTypes.includes(restriction.restrictionType);
    const ids = restriction.certificateBasedApplicationConfigurationIds;
    return {
        restrictionType: hidden ? "unknownFutureValue" : restriction.restrictionType,
        maxLifetime: restriction.maxLifetime,
        restrictForAppsCreatedAfterDateTime: restriction.restrictForAppsCreatedAfterDateTime,
        ...(version === "beta" && ids ? { certificateBasedApplicationConfigurationIds: [...ids] } : {}),
    };
}

function configurationJson(configuration: AppManagementConfiguration, version: GraphVersion): Json {
    return {
        passwordCredentials: configuration.passwordCredentials.map((r) => restrictionJson(r, version)),
        keyCredentials: configuration.keyCredentials.map((r) => restrictionJson(r, version)),
    };
}

function policyJson(policy: AppManagementPolicy, version: GraphVersion): Json {
    return { id: policy.id, displayName: policy.displayName, description: policy.description, isEnabled: policy.isEnabled, restrictions: configurationJson(policy.restrictions, version) };
}

function defaultPolicyJson(policy: TenantAppManagementPolicy, version: GraphVersion): Json {
    return {
        id: policy.id,
        displayName: policy.displayName,
        description: policy.description,
        isEnabled: policy.isEnabled,
        applicationRestrictions: configurationJson(policy.applicationRestrictions, version),
        servicePrincipalRestrictions: configurationJson(policy.servicePrincipalRestrictions, version),
    };
}

const appManagementPolicyProperties = ["id", "displayName", "description", "isEnabled", "restrictions"] as const;

/* ---------- OData query options ---------- */

interface CollectionQuery {
    readonly select?: readonly string[];
    readonly top: number;
    readonly offset: number;
    readonly filter?: Filter;
    readonly count: boolean;
}

type Parsed<T> = { readonly value: T } | { readonly response: EmulatorResponse };

function parseSelect(context: HandlerContext, entity: string, allowed: readonly string[]): Parsed<readonly string[] | undefined> {
    const raw = context.request.query.get("$select");
    if (raw === null) return { value: undefined };
    const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = names.find((name) => !allowed.some((a) => a.toLowerCase() === name.toLowerCase()));
    if (unknown !== undefined) return { response: graphError(context, 400, "Request_BadRequest", `Could not find a property named '${unknown}' on type 'microsoft.graph.${entity}'.`) };
    return { value: names.map((name) => allowed.find((a) => a.toLowerCase() === name.toLowerCase()) ?? name) };
}

/**
 * Query options the emulator does not implement. $expand is refused everywhere but on the list of
 * applications, for federatedIdentityCredentials only (see expandOf): an expansion emulated more widely
 * than Graph serves it could pass a test that fails against Azure.
 */
function refuseUnsupported(context: HandlerContext, options: readonly string[]): EmulatorResponse | undefined {
    const used = options.find((option) => context.request.query.has(option));
    return used ? graphError(context, 400, "Request_UnsupportedQuery", `${used} is not supported by the entra-rotor emulator.`) : undefined;
}

/** Graph's advanced query parameters: `ConsistencyLevel: eventual` and `$count=true`, both. */
function advancedQuery(context: HandlerContext): boolean {
    return headerValue(context.request, "ConsistencyLevel")?.toLowerCase() === "eventual" && context.request.query.get("$count") === "true";
}

/**
 * The query options of a collection. `filterable` as a list: those properties take every operator the
 * parser knows. As FilterRules: a directory object's (applications, service principals, grants), whose
 * operators per property and need for the advanced query parameters follow Graph's tables ("Advanced query
 * capabilities on Microsoft Entra ID objects", learn.microsoft.com/graph/aad-advanced-queries), with its
 * error texts; and `$count=true` without `ConsistencyLevel: eventual` is ignored, as that page says Graph
 * does ("silently ignores the $count query parameter").
 */
function parseCollectionQuery(context: HandlerContext, entity: string, selectable: readonly string[], filterable: readonly string[] | FilterRules, expandable = false): Parsed<CollectionQuery> {
    const query = context.request.query;
    const rules = Array.isArray(filterable) ? undefined : (filterable as FilterRules);
    const refused = refuseUnsupported(context, ["$orderby", "$search", "$skip", ...(expandable ? [] : ["$expand"])]);
    if (refused) return { response: refused };
    const select = parseSelect(context, entity, selectable);
    if ("response" in select) return select;
    const topText = query.get("$top");
    const top = topText === null ? 100 : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 999) {
        return { response: graphError(context, 400, "Request_BadRequest", `Invalid page size specified: '${topText}'. Must be between 1 and 999 inclusive.`) };
    }
    let offset = 0;
    const skipToken = query.get("$skiptoken");
    if (skipToken !== null) {
        try {
            const parsed = JSON.parse(Buffer.from(skipToken, "base64url").toString("utf8")) as { o?: unknown };
            if (typeof parsed.o !== "number") throw new Error("no offset");
            offset = parsed.o;
        } catch {
            return { response: graphError(context, 400, "Request_BadRequest", "Invalid paging token.") };
        }
    }
    let filter: Filter | undefined;
    const filterText = query.get("$filter");
    if (filterText !== null) {
        try {
            filter = parseFilter(filterText, rules ? Object.keys(rules) : (filterable as readonly string[]));
        } catch (error) {
            const message = error instanceof FilterSyntaxError ? error.message : String(error);
            return { response: graphError(context, 400, "Request_UnsupportedQuery", `Invalid filter clause: ${message}`) };
        }
        const verdict = rules ? checkFilter(filter, rules) : { ok: true as const };
        if ("unsupported" in verdict) {
            const resource = entity.charAt(0).toUpperCase() + entity.slice(1);
            return { response: graphError(context, 400, "Request_UnsupportedQuery", `Unsupported or invalid query filter clause specified for property '${verdict.unsupported}' of resource '${resource}'.`) };
        }
        if ("advanced" in verdict && !advancedQuery(context)) {
            return {
                response: graphError(
                    context,
                    400,
                    "Request_UnsupportedQuery",
                    `Operator '${verdict.advanced}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
                ),
            };
        }
        // Graph's limit on ORed expressions ('in' values count one each); advanced queries lift it.
        if (filter.orCount > 15 && headerValue(context.request, "ConsistencyLevel")?.toLowerCase() !== "eventual") {
            return { response: graphError(context, 400, "Request_UnsupportedQuery", `Too many child clauses specified in search filter expression containing 'OR' operators: ${filter.orCount}. Max allowed: 15.`) };
        }
    }
    const count = query.get("$count") === "true" && (!rules || headerValue(context.request, "ConsistencyLevel")?.toLowerCase() === "eventual");
    return { value: { ...(select.value ? { select: select.value } : {}), top, offset, ...(filter ? { filter } : {}), count } };
}

function project(entity: Json, select: readonly string[] | undefined, always: readonly string[] = []): Json {
    if (!select) return entity;
    const result: Json = {};
    for (const name of [...always, ...select]) if (name in entity) result[name] = entity[name];
    return result;
}

function contextUrl(context: HandlerContext, path: string, select: readonly string[] | undefined, suffix = "", version: GraphVersion = "v1.0"): string {
    return `${context.env.graphEndpoint}/${version}/$metadata#${path}${select ? `(${select.join(",")})` : ""}${suffix}`;
}

/**
 * A page of a collection of `total` items, `items` being the ones at query.offset: @odata.nextLink keeps the
 * caller's query and adds an opaque $skiptoken.
 */
function page(context: HandlerContext, caller: Caller, contextPath: string, query: CollectionQuery, total: number, items: readonly Json[], version: GraphVersion = "v1.0"): EmulatorResponse {
    const body: Json = { "@odata.context": contextUrl(context, contextPath, query.select, "", version) };
    if (query.count) body["@odata.count"] = total;
    if (query.offset + query.top < total) {
        // The caller's query as written (Graph does not re-encode it), with the page's $skiptoken.
        const kept = context.request.url.search
            .replace(/^\?/, "")
            .split("&")
            .filter((part) => part && !/^(\$|%24)skiptoken=/i.test(part));
        kept.push(`$skiptoken=${Buffer.from(JSON.stringify({ o: query.offset + query.top })).toString("base64url")}`);
        body["@odata.nextLink"] = `${context.env.graphEndpoint}${context.request.url.pathname}?${kept.join("&")}`;
    }
    body.value = items;
    return ok(context, body, caller.claims.appid);
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/* ---------- applications ---------- */

/** The properties of a v1.0 application, in the order applicationJson writes them (a test checks they agree). */
export const applicationProperties = [
    "id", "deletedDateTime", "appId", "applicationTemplateId", "disabledByMicrosoftStatus", "createdDateTime", "displayName", "description",
    "groupMembershipClaims", "identifierUris", "isDeviceOnlyAuthSupported", "isFallbackPublicClient", "nativeAuthenticationApisEnabled", "notes", "oauth2RequirePostResponse",
    "publisherDomain", "serviceManagementReference", "signInAudience", "tags", "tokenEncryptionKeyId", "uniqueName", "samlMetadataUrl",
    "defaultRedirectUri", "certification", "optionalClaims", "servicePrincipalLockConfiguration", "requestSignatureVerification", "addIns", "api",
    "appRoles", "info", "keyCredentials", "parentalControlSettings", "passwordCredentials", "publicClient", "requiredResourceAccess",
    "verifiedPublisher", "web", "spa",
] as const;

/** keyCredentials' `key` (the certificate) is returned only when keyCredentials is in $select, as Graph does. */
function applicationView(context: HandlerContext, app: Application, select: readonly string[] | undefined): Json {
    const includeKey = select?.includes("keyCredentials") ?? false;
    return project(applicationJson(context, app, includeKey), select, ["id"]);
}

function findApplication(context: HandlerContext, caller: Caller, params: Readonly<Record<string, string>>): { readonly app: Application } | { readonly response: EmulatorResponse } {
    const key = params.id ?? params.appId ?? "";
    if (!guidPattern.test(key)) return { response: graphError(context, 400, "Request_BadRequest", `Invalid object identifier '${key}'.`) };
    const app = context.env.state.application(key);
    const matchesKey = app && (params.id !== undefined ? app.id === key.toLowerCase() : app.appId === key.toLowerCase());
    if (!app || !matchesKey || app.tenantId !== caller.tenant.id) {
        return { response: graphError(context, 404, "Request_ResourceNotFound", `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`) };
    }
    return { app };
}

/** The largest page of directory objects Graph answers when `$expand` is used, whatever `$top` asks. */
export const expandedPageSize = 100;
/** The most objects of an expanded relationship Graph returns (no nextLink for the rest). */
export const expandedItemsLimit = 20;

/**
 * `$expand` on the list of applications, as Graph serves it for directory objects (known issue 13635,
 * developer.microsoft.com/graph/known-issues/?search=13635: at most 20 expanded objects, no nextLink for
 * them, one level, no query options nested in the expansion; and at most 100 objects a page): the
 * application resource documents `federatedIdentityCredentials` as expandable. Anything else is refused.
 */
function expandOf(context: HandlerContext): Parsed<"federatedIdentityCredentials" | undefined> {
    const raw = context.request.query.get("$expand");
    if (raw === null) return { value: undefined };
    if (raw.trim().toLowerCase() === "federatedidentitycredentials") {
        // The switch federatedExpansion (faults.ts): Graph ignoring or refusing the documented expansion.
        const answer = context.env.faults.current.federatedExpansion;
        if (answer?.mode === "ignored") return { value: undefined };
        if (answer?.mode === "refused") {
            return { response: graphError(context, 400, answer.code ?? "ExpandNotSupported", answer.message ?? "Expand is not allowed for property 'FederatedIdentityCredentials' according to the entity schema.") };
        }
        return { value: "federatedIdentityCredentials" };
    }
    if (raw.includes("(")) return { response: graphError(context, 400, "Request_BadRequest", "Query options nested in $expand are not supported on directory objects.") };
    return { response: graphError(context, 400, "Request_UnsupportedQuery", `$expand=${raw} is not supported by the entra-rotor emulator (only federatedIdentityCredentials on applications).`) };
}

/**
 * What `$filter` may name on applications, from Graph's "Application properties" table
 * (learn.microsoft.com/graph/aad-advanced-queries): createdDateTime takes eq, ge and le by default (the
 * emulator also gt and lt); description, notes, the redirect URIs of the three platforms, requested
 * resources and federated credentials need the advanced query parameters; `ne` always does. `id` is not in
 * the table but every directory object is filterable by it.
 */
const applicationFilterRules: FilterRules = {
    id: { eq: "default" },
    appId: { eq: "default" },
    createdDateTime: { eq: "default", range: "default" },
    displayName: { eq: "default", startswith: "default" },
    description: { eq: "advanced", startswith: "advanced" },
    notes: { eq: "advanced", startswith: "advanced" },
    publisherDomain: { eq: "default", startswith: "default" },
    signInAudience: { eq: "default" },
    identifierUris: { eq: "default", startswith: "default", collection: true },
    tags: { eq: "default", startswith: "default", collection: true },
    "web/redirectUris": { eq: "advanced", startswith: "advanced", collection: true },
    "spa/redirectUris": { eq: "advanced", startswith: "advanced", collection: true },
    "publicClient/redirectUris": { eq: "advanced", startswith: "advanced", collection: true },
    "requiredResourceAccess/resourceAppId": { eq: "advanced", collection: true },
    "federatedIdentityCredentials/issuer": { eq: "advanced", startswith: "advanced", collection: true },
    "federatedIdentityCredentials/name": { eq: "advanced", startswith: "advanced", collection: true },
    "federatedIdentityCredentials/subject": { eq: "advanced", startswith: "advanced", collection: true },
};

function applicationFilterValue(context: HandlerContext, app: Application, property: string): string | readonly string[] | undefined {
    switch (property) {
        case "id":
            return app.id;
        case "appId":
            return app.appId;
        case "createdDateTime":
            return iso(app.createdDateTime);
        case "displayName":
            return app.displayName;
        case "description":
            return app.description ?? undefined;
        case "notes":
            return app.notes ?? undefined;
        case "publisherDomain":
            return context.env.state.tenant(app.tenantId)?.domains[0];
        case "signInAudience":
            return app.signInAudience;
        case "identifierUris":
            return app.identifierUris;
        case "tags":
            return app.tags;
        case "web/redirectUris":
            return app.web.redirectUris;
        case "spa/redirectUris":
            return app.spa.redirectUris;
        case "publicClient/redirectUris":
            return app.publicClient.redirectUris;
        case "requiredResourceAccess/resourceAppId":
            return app.requiredResourceAccess.map((r) => r.resourceAppId);
        case "federatedIdentityCredentials/issuer":
            return app.federatedIdentityCredentials.map((f) => f.issuer);
        case "federatedIdentityCredentials/name":
            return app.federatedIdentityCredentials.map((f) => f.name);
        case "federatedIdentityCredentials/subject":
            return app.federatedIdentityCredentials.map((f) => f.subject);
        default:
            return undefined;
    }
}

/** A filter that is one `eq` on a key the state indexes: that key, to look up instead of scanning the tenant. */
function indexedKey(filter: Filter | undefined, property: string): string | undefined {
    const only = filter?.anyOf.length === 1 && filter.anyOf[0]!.length === 1 ? filter.anyOf[0]![0] : undefined;
    return only?.property === property && only.kind === "eq" && !only.date ? only.value : undefined;
}

function listApplications(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const expand = expandOf(context);
    if ("response" in expand) return expand.response;
    const parsed = parseCollectionQuery(context, "application", applicationProperties, applicationFilterRules, true);
    if ("response" in parsed) return parsed.response;
    const query = expand.value ? { ...parsed.value, top: Math.min(parsed.value.top, expandedPageSize) } : parsed.value;
    const tenantId = auth.caller.tenant.id;
    const apps: Application[] = [];
    // `appId eq '…'` (import resolving one app, or `--app-id`) should not cost a scan of 5,000 applications.
    const key = indexedKey(query.filter, "appId") ?? indexedKey(query.filter, "id");
    const candidates = key !== undefined ? [context.env.state.application(key)].filter((a): a is Application => a !== undefined) : context.env.state.applications.values();
    for (const app of candidates) {
        if (app.tenantId !== tenantId) continue;
        if (query.filter && !matchesFilter(query.filter, (p) => applicationFilterValue(context, app, p))) continue;
        apps.push(app);
    }
    // Serialize only the page: listing 5,000 apps should not build 5,000 JSON objects per request.
    const items = apps.slice(query.offset, query.offset + query.top).map((app) => {
        const view = applicationView(context, app, query.select);
        if (expand.value) view["federatedIdentityCredentials"] = app.federatedIdentityCredentials.slice(0, expandedItemsLimit).map(federatedCredentialJson);
        return view;
    });
    return page(context, auth.caller, "applications", query, apps.length, items);
}

function getApplication(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findApplication(context, auth.caller, params);
    if ("response" in found) return found.response;
    const select = parseSelect(context, "application", applicationProperties);
    if ("response" in select) return select.response;
    const refused = refuseUnsupported(context, ["$expand"]);
    if (refused) return refused;
    return ok(context, { "@odata.context": contextUrl(context, "applications", select.value, "/$entity"), ...applicationView(context, found.app, select.value) }, auth.caller.claims.appid);
}

function listFederatedCredentials(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findApplication(context, auth.caller, params);
    if ("response" in found) return found.response;
    return ok(
        context,
        { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#applications('${found.app.id}')/federatedIdentityCredentials`, value: found.app.federatedIdentityCredentials.map(federatedCredentialJson) },
        auth.caller.claims.appid,
    );
}

function listApplicationPolicies(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, [...permissions.applications, ...permissions.policies]);
    if ("response" in auth) return auth.response;
    const found = findApplication(context, auth.caller, params);
    if ("response" in found) return found.response;
    const policies = auth.caller.tenant.appManagementPolicies.filter((p) => found.app.appManagementPolicyIds.includes(p.id));
    return ok(context, { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#appManagementPolicies`, value: policies.map((p) => policyJson(p, "v1.0")) }, auth.caller.claims.appid);
}

/* ---------- service principals ---------- */

/** A service principal the caller's tenant holds: Microsoft Graph's (the fixture, in every tenant) or one of the state's. */
type PrincipalRef = { readonly graph: Json; readonly principal?: undefined } | { readonly graph?: undefined; readonly principal: ServicePrincipal };

function principalJson(context: HandlerContext, ref: PrincipalRef): Json {
    return ref.principal ? servicePrincipalJson(context, ref.principal) : ref.graph;
}

function principalId(ref: PrincipalRef): string {
    return ref.principal ? ref.principal.id : (ref.graph.id as string);
}

function* principalsOf(context: HandlerContext, tenant: Tenant): Generator<PrincipalRef> {
    yield { graph: microsoftGraphServicePrincipal() };
    for (const principal of context.env.state.servicePrincipals.values()) if (principal.tenantId === tenant.id) yield { principal };
}

/** One principal of the tenant by object id or appId, looked up, not scanned for. */
function principalByKey(context: HandlerContext, tenant: Tenant, by: "id" | "appId", key: string): PrincipalRef | undefined {
    const graph = microsoftGraphServicePrincipal();
    if (graph[by] === key) return { graph };
    const state = context.env.state;
    const principal = by === "id" ? state.servicePrincipal(key) : state.servicePrincipalOf(key);
    return principal && principal.tenantId === tenant.id && principal[by] === key ? { principal } : undefined;
}

let principalProperties: readonly string[] | undefined;

function selectablePrincipalProperties(): readonly string[] {
    principalProperties ??= Object.keys(microsoftGraphServicePrincipal());
    return principalProperties;
}

/** From Graph's "Service principal properties" table (learn.microsoft.com/graph/aad-advanced-queries). */
const servicePrincipalFilterRules: FilterRules = {
    id: { eq: "default" },
    appId: { eq: "default" },
    displayName: { eq: "default", startswith: "default" },
    servicePrincipalType: { eq: "default" },
    appOwnerOrganizationId: { eq: "advanced" },
    alternativeNames: { eq: "default", startswith: "default", collection: true },
    servicePrincipalNames: { eq: "default", startswith: "default", collection: true },
    tags: { eq: "default", startswith: "default", collection: true },
};

/** What a filter reads of a principal, without building its whole document (5,000 of them per request otherwise). */
function principalFilterValue(context: HandlerContext, ref: PrincipalRef, property: string): string | readonly string[] | undefined {
    if (!ref.principal) {
        const value = ref.graph[property];
        return typeof value === "string" || Array.isArray(value) ? (value as string | string[]) : undefined;
    }
    const principal = ref.principal;
    switch (property) {
        case "id":
        case "appId":
        case "displayName":
            return principal[property];
        case "servicePrincipalType":
            return "Application";
        case "appOwnerOrganizationId":
            return principal.api?.appOwnerOrganizationId ?? principal.tenantId;
        case "servicePrincipalNames":
            return principal.api ? principal.api.servicePrincipalNames : [principal.appId, ...(context.env.state.application(principal.appId)?.identifierUris ?? [])];
        case "alternativeNames":
        case "tags":
            return [];
        default:
            return undefined;
    }
}

function listServicePrincipals(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const parsed = parseCollectionQuery(context, "servicePrincipal", selectablePrincipalProperties(), servicePrincipalFilterRules);
    if ("response" in parsed) return parsed.response;
    const query = parsed.value;
    const tenant = auth.caller.tenant;
    // `appId eq '…'` is how import finds each resource API's principal: a look-up, not a scan.
    const appId = indexedKey(query.filter, "appId");
    const id = indexedKey(query.filter, "id");
    const key = appId !== undefined ? principalByKey(context, tenant, "appId", appId.toLowerCase()) : id !== undefined ? principalByKey(context, tenant, "id", id.toLowerCase()) : undefined;
    const candidates = appId !== undefined || id !== undefined ? (key ? [key] : []) : principalsOf(context, tenant);
    const all: PrincipalRef[] = [];
    for (const ref of candidates) if (!query.filter || matchesFilter(query.filter, (name) => principalFilterValue(context, ref, name))) all.push(ref);
    const items = all.slice(query.offset, query.offset + query.top).map((ref) => project(principalJson(context, ref), query.select, ["id"]));
    return page(context, auth.caller, "servicePrincipals", query, all.length, items);
}

type FoundPrincipal = { readonly ref: PrincipalRef; readonly id: string } | { readonly response: EmulatorResponse };

function findPrincipal(context: HandlerContext, caller: Caller, params: Readonly<Record<string, string>>): FoundPrincipal {
    const key = (params.id ?? params.appId ?? "").toLowerCase();
    if (!guidPattern.test(key)) return { response: graphError(context, 400, "Request_BadRequest", `Invalid object identifier '${key}'.`) };
    const ref = principalByKey(context, caller.tenant, params.id !== undefined ? "id" : "appId", key);
    if (!ref) return { response: graphError(context, 404, "Request_ResourceNotFound", `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`) };
    return { ref, id: principalId(ref) };
}

function getServicePrincipal(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findPrincipal(context, auth.caller, params);
    if ("response" in found) return found.response;
    const select = parseSelect(context, "servicePrincipal", selectablePrincipalProperties());
    if ("response" in select) return select.response;
    return ok(context, { "@odata.context": contextUrl(context, "servicePrincipals", select.value, "/$entity"), ...project(principalJson(context, found.ref), select.value, ["id"]) }, auth.caller.claims.appid);
}

/**
 * The app roles a principal holds ("List appRoleAssignments granted to a service principal",
 * learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments): application permissions consented
 * to it, on any resource API. Query options are not emulated here and are ignored, as before.
 */
function listAppRoleAssignments(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findPrincipal(context, auth.caller, params);
    if ("response" in found) return found.response;
    const principal = found.ref.principal;
    const value = (principal?.appRoleAssignments ?? []).map((a) => ({
        id: a.id,
        deletedDateTime: null,
        appRoleId: a.appRoleId,
        createdDateTime: iso(a.createdDateTime),
        principalDisplayName: principal?.displayName,
        principalId: principal?.id,
        principalType: "ServicePrincipal",
        resourceDisplayName: a.resourceDisplayName,
        resourceId: a.resourceId,
    }));
    return ok(context, { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#servicePrincipals('${found.id}')/appRoleAssignments`, value }, auth.caller.claims.appid);
}

/* ---------- organization, policies, me ---------- */

function organization(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, permissions.organization);
    if ("response" in auth) return auth.response;
    const tenant = auth.caller.tenant;
    const value = [
        {
            id: tenant.id,
            deletedDateTime: null,
            businessPhones: [],
            city: null,
            country: null,
            countryLetterCode: "NL",
            createdDateTime: iso(tenant.createdDateTime),
            displayName: tenant.displayName,
            tenantType: "AAD",
            verifiedDomains: tenant.domains.map((name, i) => ({ capabilities: "Email, OfficeCommunicationsOnline", isDefault: i === 0, isInitial: i === 0, name, type: "Managed" })),
        },
    ];
    return ok(context, { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#organization`, value }, auth.caller.claims.appid);
}

function defaultAppManagementPolicy(version: GraphVersion) {
    return (context: HandlerContext): EmulatorResponse => {
        const auth = authorize(context, permissions.policies);
        if ("response" in auth) return auth.response;
        const policy = defaultPolicyJson(auth.caller.tenant.defaultAppManagementPolicy, version);
        return ok(context, { "@odata.context": contextUrl(context, "policies/defaultAppManagementPolicy", undefined, "/$entity", version), ...policy }, auth.caller.claims.appid);
    };
}

/** The documented options ($select, $filter on id and displayName, $top); $expand is not among them, so it is refused. */
function listAppManagementPolicies(version: GraphVersion) {
    return (context: HandlerContext): EmulatorResponse => {
        const auth = authorize(context, permissions.policies);
        if ("response" in auth) return auth.response;
        const parsed = parseCollectionQuery(context, "appManagementPolicy", appManagementPolicyProperties, ["id", "displayName"]);
        if ("response" in parsed) return parsed.response;
        const query = parsed.value;
        const all = auth.caller.tenant.appManagementPolicies.filter((p) => !query.filter || matchesFilter(query.filter, (name) => (name === "id" ? p.id : p.displayName)));
        const items = all.slice(query.offset, query.offset + query.top).map((p) => project(policyJson(p, version), query.select, ["id"]));
        return page(context, auth.caller, "policies/appManagementPolicies", query, all.length, items, version);
    };
}

type FoundPolicy = { readonly policy: AppManagementPolicy } | { readonly response: EmulatorResponse };

function findPolicy(context: HandlerContext, caller: Caller, params: Readonly<Record<string, string>>): FoundPolicy {
    const policy = caller.tenant.appManagementPolicies.find((p) => p.id === params.id?.toLowerCase());
    if (policy) return { policy };
    return { response: graphError(context, 404, "Request_ResourceNotFound", `Resource '${params.id}' does not exist or one of its queried reference-property objects are not present.`) };
}

function getAppManagementPolicy(version: GraphVersion) {
    return (context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse => {
        const auth = authorize(context, permissions.policies);
        if ("response" in auth) return auth.response;
        const found = findPolicy(context, auth.caller, params);
        if ("response" in found) return found.response;
        const refused = refuseUnsupported(context, ["$expand"]);
        if (refused) return refused;
        const select = parseSelect(context, "appManagementPolicy", appManagementPolicyProperties);
        if ("response" in select) return select.response;
        return ok(
            context,
            { "@odata.context": contextUrl(context, "policies/appManagementPolicies", select.value, "/$entity", version), ...project(policyJson(found.policy, version), select.value, ["id"]) },
            auth.caller.claims.appid,
        );
    };
}

/**
 * The applications a policy is applied to, Graph's documented way to learn it (Policy.Read.All and
 * Application.Read.All). No query options are emulated here, so any is refused.
 */
function appliesTo(version: GraphVersion) {
    return (context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse => {
        const auth = authorizeEach(context, [permissions.policies, permissions.applications]);
        if ("response" in auth) return auth.response;
        const found = findPolicy(context, auth.caller, params);
        if ("response" in found) return found.response;
        const refused = refuseUnsupported(context, ["$select", "$filter", "$top", "$expand", "$orderby", "$search", "$skip", "$count"]);
        if (refused) return refused;
        const value: Json[] = [];
        for (const app of context.env.state.applications.values()) {
            if (app.tenantId !== auth.caller.tenant.id || !app.appManagementPolicyIds.includes(found.policy.id)) continue;
            value.push({ "@odata.type": "#microsoft.graph.application", id: app.id, appId: app.appId, displayName: app.displayName });
        }
        return ok(context, { "@odata.context": contextUrl(context, "directoryObjects", undefined, "", version), value }, auth.caller.claims.appid);
    };
}

function me(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, undefined);
    if ("response" in auth) return auth.response;
    // App-only tokens have no user; Graph answers 400, which is how a client learns it signed in as an app.
    return graphError(context, 400, "BadRequest", "/me request is only valid with delegated authentication flow.");
}

/**
 * JSON batching, how a client reads thousands of per-app collections (federatedIdentityCredentials) without
 * thousands of round trips: up to 20 requests in one POST, each authorized, faulted and logged on its own;
 * an inner 429 carries its Retry-After in the inner response, as Graph's do.
 */
async function batch(context: HandlerContext): Promise<EmulatorResponse> {
    const auth = authorize(context, undefined);
    if ("response" in auth) return auth.response;
    const body = parseJsonBody(context.request);
    const requests = isRecord(body) && Array.isArray(body.requests) ? (body.requests as unknown[]) : undefined;
    if (!requests || requests.length === 0) return graphError(context, 400, "BadRequest", "Invalid batch payload format.");
    if (requests.length > 20) return graphError(context, 400, "BadRequest", `The number of requests in the batch (${requests.length}) exceeds the maximum of 20.`);
    const responses: Json[] = [];
    for (const entry of requests) {
        if (!isRecord(entry) || typeof entry.id !== "string" || typeof entry.url !== "string" || typeof entry.method !== "string") {
            return graphError(context, 400, "BadRequest", "Each batch request needs an id, a method and a url.");
        }
        const innerHeaders = isRecord(entry.headers) ? Object.fromEntries(Object.entries(entry.headers).map(([k, v]) => [k.toLowerCase(), String(v)])) : {};
        const url = new URL(`/v1.0/${entry.url.replace(/^\/+/, "").replace(/^v1\.0\//, "")}`, context.env.graphEndpoint);
        let path = url.pathname;
        try {
            path = decodeURI(url.pathname);
        } catch {
            // no route will match it
        }
        const inner: EmulatorRequest = {
            method: entry.method.toUpperCase(),
            url,
            path,
            query: url.searchParams,
            headers: { ...innerHeaders, authorization: context.request.headers.authorization },
            body: entry.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(entry.body)),
        };
        const innerContext: HandlerContext = { env: context.env, request: inner };
        const matched = matchRoute(graphRoutes, inner);
        const route = matched?.id ?? "unmatched";
        const decision = context.env.faults.decide("graph", route);
        const startedAtMs = Date.now();
        const response = decision
            ? graphFault(innerContext, decision.kind === "throttle" ? 429 : decision.status, decision.retryAfterSeconds)
            : matched
              ? await matched.handle(innerContext)
              : graphUnmatched(innerContext);
        context.env.requests.record({
            service: "graph",
            method: inner.method,
            path: url.pathname,
            route,
            status: response.status,
            batched: true,
            ...(decision ? { fault: decision.kind } : {}),
            ...(response.caller ? { caller: response.caller } : {}),
            ...(response.log?.credentialRemoved ? { credentialRemoved: response.log.credentialRemoved } : {}),
            ...(response.log?.reason ? { reason: response.log.reason } : {}),
            startedAtMs,
            durationMs: Date.now() - startedAtMs,
        });
        responses.push({ id: entry.id, status: response.status, headers: response.headers ?? {}, body: response.body ?? null });
    }
    return ok(context, { responses }, auth.caller.claims.appid);
}

const id = "(?<id>[^/()']+)";
const appIdKey = "\\(appId='(?<appId>[^']*)'\\)";
function listOwners(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findApplication(context, auth.caller, params);
    if ("response" in found) return found.response;
    const value = found.app.owners.map((owner) => ({ "@odata.type": context.env.state.servicePrincipals.has(owner) ? "#microsoft.graph.servicePrincipal" : "#microsoft.graph.user", id: owner }));
    return ok(context, { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#directoryObjects`, value }, auth.caller.claims.appid);
}

/**
 * A service principal's owners ("List owners of a servicePrincipal", learn.microsoft.com/graph/api/serviceprincipal-list-owners):
 * its own list, separate from its application's; the Microsoft Graph principal has none.
 */
function listPrincipalOwners(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findPrincipal(context, auth.caller, params);
    if ("response" in found) return found.response;
    const owners = found.ref.principal?.owners ?? [];
    const value = owners.map((owner) => ({ "@odata.type": context.env.state.servicePrincipals.has(owner) ? "#microsoft.graph.servicePrincipal" : "#microsoft.graph.user", id: owner }));
    return ok(context, { "@odata.context": `${context.env.graphEndpoint}/v1.0/$metadata#directoryObjects`, value }, auth.caller.claims.appid);
}

/** Graph's delegated grant document ("oAuth2PermissionGrant resource type"). */
function grantJson(grant: OAuth2PermissionGrant): Json {
    return { clientId: grant.clientId, consentType: grant.consentType, id: grant.id, principalId: grant.principalId ?? null, resourceId: grant.resourceId, scope: grant.scope };
}

/** `$filter` on oauth2PermissionGrants: "Supports $filter (eq only)" on clientId, consentType, principalId and resourceId (the resource's page). */
const grantFilterRules: FilterRules = {
    clientId: { eq: "default" },
    consentType: { eq: "default" },
    principalId: { eq: "default" },
    resourceId: { eq: "default" },
};

/**
 * Delegated permission grants of the caller's tenant ("List oauth2PermissionGrants",
 * learn.microsoft.com/graph/api/oauth2permissiongrant-list), filtered as Graph allows; and a service
 * principal's own ("List a service principal's oauth2PermissionGrants": those whose client it is).
 */
function listGrants(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.delegatedGrants);
    if ("response" in auth) return auth.response;
    let grants: readonly OAuth2PermissionGrant[] = [];
    let contextPath = "oauth2PermissionGrants";
    if (params.id !== undefined || params.appId !== undefined) {
        const found = findPrincipal(context, auth.caller, params);
        if ("response" in found) return found.response;
        grants = found.ref.principal?.oauth2PermissionGrants ?? [];
        contextPath = `servicePrincipals('${found.id}')/oauth2PermissionGrants`;
    }
    const parsed = parseCollectionQuery(context, "oAuth2PermissionGrant", ["clientId", "consentType", "id", "principalId", "resourceId", "scope"], grantFilterRules);
    if ("response" in parsed) return parsed.response;
    const query = parsed.value;
    if (params.id === undefined && params.appId === undefined) {
        // `clientId eq '…'` is how import reads each app's grants: a look-up of that principal, not a scan of the tenant.
        const clientId = indexedKey(query.filter, "clientId")?.toLowerCase();
        const client = clientId !== undefined ? context.env.state.servicePrincipal(clientId) : undefined;
        grants = clientId !== undefined ? (client && client.tenantId === auth.caller.tenant.id ? client.oauth2PermissionGrants : []) : context.env.state.oauth2PermissionGrants(auth.caller.tenant.id);
    }
    const all = grants.map(grantJson).filter((grant) => !query.filter || matchesFilter(query.filter, (name) => (typeof grant[name] === "string" ? (grant[name] as string) : undefined)));
    const items = all.slice(query.offset, query.offset + query.top).map((grant) => project(grant, query.select, ["id"]));
    return page(context, auth.caller, contextPath, query, all.length, items);
}

/**
 * The two writes of `rotor retire`. "application: removePassword" and "application: removeKey"
 * (learn.microsoft.com/graph/api/application-removepassword, -removekey): `{ keyId }`, and for removeKey also
 * `proof` (checked by proofOfPossession.ts); 204 No Content when done. Application.ReadWrite.All, or
 * Application.ReadWrite.OwnedBy on an application the caller owns. A key id the application does not have is
 * not documented; the emulator answers 400 Request_BadRequest (rotor retire re-reads the application after any
 * failure, so it does not depend on the answer).
 */
function removeCredential(kind: "password" | "key") {
    return (context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse => {
        const auth = authorize(context, undefined);
        if ("response" in auth) return auth.response;
        const found = findApplication(context, auth.caller, params);
        if ("response" in found) return found.response;
        const app = found.app;
        if (context.env.graphPermissionsEnforced) {
            const roles = auth.caller.claims.roles ?? [];
            const callerPrincipal = context.env.state.servicePrincipalOf(auth.caller.claims.appid ?? "");
            const owns = roles.includes("Application.ReadWrite.OwnedBy") && callerPrincipal !== undefined && app.owners.includes(callerPrincipal.id);
            if (!owns && !permissions.applicationWrites.some((role) => roles.includes(role))) {
                return graphError(context, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            }
        }
        const body = parseJsonBody(context.request);
        const keyId = isRecord(body) && typeof body.keyId === "string" ? body.keyId.toLowerCase() : undefined;
        if (!keyId || !guidPattern.test(keyId)) return graphError(context, 400, "Request_BadRequest", "Invalid value specified for property 'keyId' of resource 'Application'.");
        const list: { keyId: string }[] = kind === "password" ? app.passwordCredentials : app.keyCredentials;
        const index = list.findIndex((c) => c.keyId.toLowerCase() === keyId);
        if (index < 0) return graphError(context, 400, "Request_BadRequest", `No ${kind === "password" ? "password" : "key"} credential found with keyId ${keyId}.`);
        if (kind === "key") {
            const proof = checkProof(isRecord(body) ? body.proof : undefined, app, context.env.state.clock.now());
            if (!proof.ok) return { ...graphError(context, 401, "Authentication_MissingOrMalformed", "Access Token missing or malformed."), log: { reason: proof.reason } };
        }
        list.splice(index, 1);
        return { status: 204, headers: { "request-id": guid() }, caller: auth.caller.claims.appid, log: { credentialRemoved: { kind, applicationId: app.id, appId: app.appId, keyId } } };
    };
}

function policyRoutes(version: GraphVersion): Route<HandlerContext>[] {
    const base = `^/${version.replace(".", "\\.")}/policies`;
    return [
        { id: `GET /${version}/policies/defaultAppManagementPolicy`, method: "GET", pattern: new RegExp(`${base}/defaultAppManagementPolicy$`), handle: defaultAppManagementPolicy(version) },
        { id: `GET /${version}/policies/appManagementPolicies`, method: "GET", pattern: new RegExp(`${base}/appManagementPolicies/?$`), handle: listAppManagementPolicies(version) },
        { id: `GET /${version}/policies/appManagementPolicies/{id}`, method: "GET", pattern: new RegExp(`${base}/appManagementPolicies/${id}$`), handle: getAppManagementPolicy(version) },
        { id: `GET /${version}/policies/appManagementPolicies/{id}/appliesTo`, method: "GET", pattern: new RegExp(`${base}/appManagementPolicies/${id}/appliesTo$`), handle: appliesTo(version) },
    ];
}

export const graphRoutes: readonly Route<HandlerContext>[] = [
    { id: "GET /v1.0/applications", method: "GET", pattern: /^\/v1\.0\/applications\/?$/, handle: listApplications },
    { id: "GET /v1.0/applications(appId='{appId}')", method: "GET", pattern: new RegExp(`^/v1\\.0/applications${appIdKey}$`), handle: getApplication },
    { id: "GET /v1.0/applications/{id}", method: "GET", pattern: new RegExp(`^/v1\\.0/applications/${id}$`), handle: getApplication },
    {
        id: "GET /v1.0/applications/{id}/federatedIdentityCredentials",
        method: "GET",
        pattern: new RegExp(`^/v1\\.0/applications(?:/${id}|${appIdKey})/federatedIdentityCredentials$`),
        handle: listFederatedCredentials,
    },
    { id: "GET /v1.0/applications/{id}/owners", method: "GET", pattern: new RegExp(`^/v1\\.0/applications(?:/${id}|${appIdKey})/owners$`), handle: listOwners },
    { id: "GET /v1.0/applications/{id}/appManagementPolicies", method: "GET", pattern: new RegExp(`^/v1\\.0/applications(?:/${id}|${appIdKey})/appManagementPolicies$`), handle: listApplicationPolicies },
    { id: "GET /v1.0/servicePrincipals", method: "GET", pattern: /^\/v1\.0\/servicePrincipals\/?$/, handle: listServicePrincipals },
    { id: "GET /v1.0/servicePrincipals(appId='{appId}')", method: "GET", pattern: new RegExp(`^/v1\\.0/servicePrincipals${appIdKey}$`), handle: getServicePrincipal },
    { id: "GET /v1.0/servicePrincipals/{id}", method: "GET", pattern: new RegExp(`^/v1\\.0/servicePrincipals/${id}$`), handle: getServicePrincipal },
    { id: "GET /v1.0/servicePrincipals/{id}/appRoleAssignments", method: "GET", pattern: new RegExp(`^/v1\\.0/servicePrincipals(?:/${id}|${appIdKey})/appRoleAssignments$`), handle: listAppRoleAssignments },
    { id: "GET /v1.0/servicePrincipals/{id}/owners", method: "GET", pattern: new RegExp(`^/v1\\.0/servicePrincipals(?:/${id}|${appIdKey})/owners$`), handle: listPrincipalOwners },
    { id: "GET /v1.0/servicePrincipals/{id}/oauth2PermissionGrants", method: "GET", pattern: new RegExp(`^/v1\\.0/servicePrincipals(?:/${id}|${appIdKey})/oauth2PermissionGrants$`), handle: listGrants },
    { id: "GET /v1.0/oauth2PermissionGrants", method: "GET", pattern: /^\/v1\.0\/oauth2PermissionGrants\/?$/, handle: listGrants },
    { id: "POST /v1.0/applications/{id}/removePassword", method: "POST", pattern: new RegExp(`^/v1\\.0/applications(?:/${id}|${appIdKey})/removePassword$`), handle: removeCredential("password") },
    { id: "POST /v1.0/applications/{id}/removeKey", method: "POST", pattern: new RegExp(`^/v1\\.0/applications(?:/${id}|${appIdKey})/removeKey$`), handle: removeCredential("key") },
    { id: "GET /v1.0/organization", method: "GET", pattern: /^\/v1\.0\/organization\/?$/, handle: organization },
    ...policyRoutes("v1.0"),
    ...policyRoutes("beta"),
    { id: "GET /v1.0/me", method: "GET", pattern: /^\/v1\.0\/me\/?$/, handle: me },
    { id: "POST /v1.0/$batch", method: "POST", pattern: /^\/v1\.0\/\$batch$/, handle: batch },
];
