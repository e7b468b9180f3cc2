import type { HandlerContext } from "./environment";
import { type EmulatorRequest, type EmulatorResponse, type Route, bearerToken, headerValue, isRecord, matchRoute, parseJsonBody } from "./http";
import { graphResource, microsoftGraphAppId, microsoftGraphServicePrincipal } from "./microsoftGraphPrincipal";
import { type Filter, FilterSyntaxError, matchesFilter, parseFilter } from "./odataFilter";
import { guid } from "./random";
import type { AccessTokenClaims } from "./token";
import type {
    AppManagementConfiguration,
    AppManagementPolicy,
    Application,
    CredentialRestriction,
    FederatedIdentityCredential,
    KeyCredential,
    PasswordCredential,
    ServicePrincipal,
    Tenant,
    TenantAppManagementPolicy,
} from "./state";

/**
 * Microsoft Graph v1.0, the read side that `rotor status` and `rotor doctor` use: applications with their
 * credentials, federated identity credentials, service principals and their app role assignments, the
 * organization, and app management policies. Response shapes, OData query behaviour ($select, $filter,
 * $top, @odata.nextLink paging) and errors follow Graph; what the emulator does not implement is refused
 * with a 400 that says so, rather than silently ignored. A few app management policy routes are also served
 * on beta, where restrictions exist that v1.0 cannot show.
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
    applications: ["Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All", "Directory.ReadWrite.All"],
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

function applicationJson(context: HandlerContext, app: Application, includeKey: boolean): Json {
    const tenant = context.env.state.tenant(app.tenantId);
    const principal = context.env.state.servicePrincipalOf(app);
    const graphRoles = principal?.appRoleAssignments.filter((a) => a.resourceAppId === microsoftGraphAppId) ?? [];
    return {
        id: app.id,
        deletedDateTime: null,
        appId: app.appId,
        applicationTemplateId: null,
        disabledByMicrosoftStatus: null,
        createdDateTime: iso(app.createdDateTime),
        displayName: app.displayName,
        description: app.description,
        groupMembershipClaims: null,
        identifierUris: [...app.identifierUris],
        isDeviceOnlyAuthSupported: null,
        isFallbackPublicClient: null,
        nativeAuthenticationApisEnabled: null,
        notes: app.notes,
        publisherDomain: tenant?.domains[0] ?? null,
        serviceManagementReference: null,
        signInAudience: app.signInAudience,
        tags: [...app.tags],
        tokenEncryptionKeyId: null,
        uniqueName: null,
        samlMetadataUrl: null,
        defaultRedirectUri: null,
        certification: null,
        optionalClaims: null,
        servicePrincipalLockConfiguration: null,
        requestSignatureVerification: null,
        addIns: [],
        api: { acceptMappedClaims: null, knownClientApplications: [], requestedAccessTokenVersion: null, oauth2PermissionScopes: [], preAuthorizedApplications: [] },
        appRoles: [],
        info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
        keyCredentials: app.keyCredentials.map((k) => keyCredentialJson(k, includeKey)),
        parentalControlSettings: { countriesBlockedForMinors: [], legalAgeGroupRule: "Allow" },
        passwordCredentials: app.passwordCredentials.map(passwordCredentialJson),
        publicClient: { redirectUris: [] },
        requiredResourceAccess: graphRoles.length ? [{ resourceAppId: microsoftGraphAppId, resourceAccess: graphRoles.map((a) => ({ id: a.appRoleId, type: "Role" })) }] : [],
        verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
        web: {
            homePageUrl: null,
            logoutUrl: null,
            redirectUris: [],
            implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
            redirectUriSettings: [],
        },
        spa: { redirectUris: [] },
    };
}

function servicePrincipalJson(context: HandlerContext, principal: ServicePrincipal): Json {
    const app = context.env.state.application(principal.appId);
    return {
        id: principal.id,
        deletedDateTime: null,
        accountEnabled: principal.accountEnabled,
        alternativeNames: [],
        appDisplayName: app?.displayName ?? principal.displayName,
        appDescription: null,
        appId: principal.appId,
        applicationTemplateId: null,
        appOwnerOrganizationId: principal.tenantId,
        appRoleAssignmentRequired: false,
        createdDateTime: app ? iso(app.createdDateTime) : null,
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
        servicePrincipalNames: [principal.appId, ...(app?.identifierUris ?? [])],
        servicePrincipalType: "Application",
        signInAudience: app?.signInAudience ?? "AzureADMyOrg",
        tags: [],
        tokenEncryptionKeyId: null,
        verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
        addIns: [],
        appRoles: [],
        info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
        keyCredentials: [],
        oauth2PermissionScopes: [],
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

function parseCollectionQuery(context: HandlerContext, entity: string, selectable: readonly string[], filterable: readonly string[], expandable = false): Parsed<CollectionQuery> {
    const query = context.request.query;
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
            filter = parseFilter(filterText, filterable);
        } catch (error) {
            const message = error instanceof FilterSyntaxError ? error.message : String(error);
            return { response: graphError(context, 400, "Request_UnsupportedQuery", `Invalid filter clause: ${message}`) };
        }
        // Graph's limit on ORed expressions ('in' values count one each); advanced queries lift it.
        if (filter.orCount > 15 && headerValue(context.request, "ConsistencyLevel")?.toLowerCase() !== "eventual") {
            return { response: graphError(context, 400, "Request_UnsupportedQuery", `Too many child clauses specified in search filter expression containing 'OR' operators: ${filter.orCount}. Max allowed: 15.`) };
        }
    }
    const count = query.get("$count") === "true";
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
    "groupMembershipClaims", "identifierUris", "isDeviceOnlyAuthSupported", "isFallbackPublicClient", "nativeAuthenticationApisEnabled", "notes",
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

function listApplications(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const expand = expandOf(context);
    if ("response" in expand) return expand.response;
    const parsed = parseCollectionQuery(context, "application", applicationProperties, ["appId", "id", "displayName", "tags"], true);
    if ("response" in parsed) return parsed.response;
    const query = expand.value ? { ...parsed.value, top: Math.min(parsed.value.top, expandedPageSize) } : parsed.value;
    const tenantId = auth.caller.tenant.id;
    const apps: Application[] = [];
    for (const app of context.env.state.applications.values()) {
        if (app.tenantId !== tenantId) continue;
        if (query.filter && !matchesFilter(query.filter, (p) => (p === "appId" ? app.appId : p === "id" ? app.id : p === "tags" ? app.tags : app.displayName))) continue;
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

function principalsOf(context: HandlerContext, tenant: Tenant): Json[] {
    const principals: Json[] = [microsoftGraphServicePrincipal()];
    for (const principal of context.env.state.servicePrincipals.values()) if (principal.tenantId === tenant.id) principals.push(servicePrincipalJson(context, principal));
    return principals;
}

let principalProperties: readonly string[] | undefined;

function selectablePrincipalProperties(): readonly string[] {
    principalProperties ??= Object.keys(microsoftGraphServicePrincipal());
    return principalProperties;
}

function listServicePrincipals(context: HandlerContext): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const parsed = parseCollectionQuery(context, "servicePrincipal", selectablePrincipalProperties(), ["appId", "id", "displayName", "servicePrincipalType"]);
    if ("response" in parsed) return parsed.response;
    const query = parsed.value;
    const all = principalsOf(context, auth.caller.tenant).filter((p) => !query.filter || matchesFilter(query.filter, (name) => (typeof p[name] === "string" ? (p[name] as string) : undefined)));
    const items = all.slice(query.offset, query.offset + query.top).map((p) => project(p, query.select, ["id"]));
    return page(context, auth.caller, "servicePrincipals", query, all.length, items);
}

function findPrincipal(context: HandlerContext, caller: Caller, params: Readonly<Record<string, string>>): { readonly principal: Json; readonly id: string } | { readonly response: EmulatorResponse } {
    const key = (params.id ?? params.appId ?? "").toLowerCase();
    if (!guidPattern.test(key)) return { response: graphError(context, 400, "Request_BadRequest", `Invalid object identifier '${key}'.`) };
    const found = principalsOf(context, caller.tenant).find((p) => (params.id !== undefined ? p.id === key : p.appId === key));
    if (!found) return { response: graphError(context, 404, "Request_ResourceNotFound", `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`) };
    return { principal: found, id: found.id as string };
}

function getServicePrincipal(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findPrincipal(context, auth.caller, params);
    if ("response" in found) return found.response;
    const select = parseSelect(context, "servicePrincipal", selectablePrincipalProperties());
    if ("response" in select) return select.response;
    return ok(context, { "@odata.context": contextUrl(context, "servicePrincipals", select.value, "/$entity"), ...project(found.principal, select.value, ["id"]) }, auth.caller.claims.appid);
}

function listAppRoleAssignments(context: HandlerContext, params: Readonly<Record<string, string>>): EmulatorResponse {
    const auth = authorize(context, permissions.applications);
    if ("response" in auth) return auth.response;
    const found = findPrincipal(context, auth.caller, params);
    if ("response" in found) return found.response;
    const principal = context.env.state.servicePrincipal(found.id);
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
    { id: "GET /v1.0/organization", method: "GET", pattern: /^\/v1\.0\/organization\/?$/, handle: organization },
    ...policyRoutes("v1.0"),
    ...policyRoutes("beta"),
    { id: "GET /v1.0/me", method: "GET", pattern: /^\/v1\.0\/me\/?$/, handle: me },
    { id: "POST /v1.0/$batch", method: "POST", pattern: /^\/v1\.0\/\$batch$/, handle: batch },
];
