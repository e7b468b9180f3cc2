import type { HandlerContext } from "./environment";
import { authorize, type Caller, graphError, ok } from "./graph";
import type { EmulatorResponse, Route } from "./http";
import { type Filter, FilterSyntaxError, matchesFilter, parseFilter } from "./odataFilter";
import type { Application, SignInRecord } from "./state";

/**
 * Microsoft Graph beta's usage evidence, as `rotor status --usage` reads it:
 *
 * - `GET /beta/reports/appCredentialSignInActivities`: one item per application credential with its last
 *   sign-in (https://learn.microsoft.com/en-us/graph/api/reportroot-list-appcredentialsigninactivities?view=graph-rest-beta);
 *   `$filter` (appId, keyId, ...), `$top`, `$orderby`; paged with `@odata.nextLink`.
 * - `GET /beta/auditLogs/signIns`: the sign-in log, newest first, 1,000 per page at most and by default
 *   (https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta). It returns interactive user
 *   sign-ins unless `$filter` names `signInEventTypes`; service principal sign-ins are
 *   `signInEventTypes/any(t: t eq 'servicePrincipal')`, with `servicePrincipalCredentialKeyId` and
 *   `servicePrincipalCredentialThumbprint` (beta-only fields). Retention: 30 days on P1/P2.
 *
 * Both need AuditLog.Read.All (or the higher Directory.Read.All): without it 403 `Authorization_RequestDenied`.
 * A tenant without Entra ID P1/P2 answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`.
 */

type Json = Record<string, unknown>;

const auditLogPermissions = ["AuditLog.Read.All", "Directory.Read.All"] as const;

/** How long the sign-in log keeps entries, by licence (https://learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention). */
export const signInRetentionDays = { free: 7, P1: 30, P2: 30 } as const;

type Authorized = { readonly caller: Caller } | { readonly response: EmulatorResponse };

/** Authentication, then the permission, then the licence: the order in which Graph refuses. */
function authorizeAuditLog(context: HandlerContext): Authorized {
    const auth = authorize(context, auditLogPermissions);
    if ("response" in auth) return auth;
    if (auth.caller.tenant.licence === "free") {
        return { response: graphError(context, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license") };
    }
    return auth;
}

function refuse(context: HandlerContext, options: readonly string[]): EmulatorResponse | undefined {
    const used = options.find((option) => context.request.query.has(option));
    return used ? graphError(context, 400, "Request_UnsupportedQuery", `${used} is not supported by the entra-rotor emulator on ${context.request.path}.`) : undefined;
}

function parseTop(context: HandlerContext, fallback: number, max: number): { readonly top: number } | { readonly response: EmulatorResponse } {
    const text = context.request.query.get("$top");
    if (text === null) return { top: fallback };
    const top = Number(text);
    if (!Number.isInteger(top) || top < 1 || top > max) return { response: graphError(context, 400, "Request_BadRequest", `Invalid page size specified: '${text}'. Must be between 1 and ${max} inclusive.`) };
    return { top };
}

function parseOffset(context: HandlerContext): { readonly offset: number } | { readonly response: EmulatorResponse } {
    const token = context.request.query.get("$skiptoken");
    if (token === null) return { offset: 0 };
    try {
        const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
        if (typeof parsed.o !== "number") throw new Error("no offset");
        return { offset: parsed.o };
    } catch {
        return { response: graphError(context, 400, "Request_BadRequest", "Invalid paging token.") };
    }
}

function parseFilterOption(context: HandlerContext, properties: readonly string[]): { readonly filter?: Filter } | { readonly response: EmulatorResponse } {
    const text = context.request.query.get("$filter");
    if (text === null) return {};
    try {
        return { filter: parseFilter(text, properties) };
    } catch (error) {
        const message = error instanceof FilterSyntaxError ? error.message : String(error);
        return { response: graphError(context, 400, "Request_UnsupportedQuery", `Invalid filter clause: ${message}`) };
    }
}

/**
 * The page at `offset` of a list of `total` entries (`items` holds just that page, so a log of a hundred
 * thousand entries is not serialized per request); @odata.nextLink keeps the caller's query as written and
 * adds an opaque $skiptoken.
 */
function page(context: HandlerContext, caller: Caller, contextPath: string, items: readonly Json[], offset: number, top: number, total: number): EmulatorResponse {
    const body: Json = { "@odata.context": `${context.env.graphEndpoint}/beta/$metadata#${contextPath}` };
    if (offset + top < total) {
        const kept = context.request.url.search
            .replace(/^\?/, "")
            .split("&")
            .filter((part) => part && !/^(\$|%24)skiptoken=/i.test(part));
        kept.push(`$skiptoken=${Buffer.from(JSON.stringify({ o: offset + top })).toString("base64url")}`);
        body["@odata.nextLink"] = `${context.env.graphEndpoint}${context.request.url.pathname}?${kept.join("&")}`;
    }
    body.value = items;
    return ok(context, body, caller.claims.appid);
}

function iso(date: Date): string {
    return date.toISOString().replace(/\.000Z$/, "Z");
}

/* ---------- reports/appCredentialSignInActivities ---------- */

const reportProperties = ["id", "appId", "appObjectId", "servicePrincipalObjectId", "keyId", "keyType", "keyUsage", "credentialOrigin", "createdDateTime", "expirationDateTime", "resourceId"] as const;
const reportOrderings: Readonly<Record<string, (item: Json) => string>> = {
    createdDateTime: (item) => String(item.createdDateTime ?? ""),
    expirationDateTime: (item) => String(item.expirationDateTime ?? ""),
    "signInActivity/lastSignInDateTime": (item) => String((item.signInActivity as Json | null)?.lastSignInDateTime ?? ""),
};

/** One item per credential of the tenant's applications that has signed in: the last successful sign-in with it. */
function reportItems(context: HandlerContext, caller: Caller): Json[] {
    const last = new Map<string, SignInRecord>();
    for (const record of context.env.state.signIns) {
        if (record.tenantId !== caller.tenant.id || record.errorCode !== 0) continue;
        const key = `${record.appId}|${record.keyId}`;
        const seen = last.get(key);
        if (!seen || seen.createdDateTime < record.createdDateTime) last.set(key, record);
    }
    const items: Json[] = [];
    for (const record of last.values()) {
        const app: Application | undefined = context.env.state.application(record.appId);
        const password = app?.passwordCredentials.find((c) => c.keyId.toLowerCase() === record.keyId);
        const key = app?.keyCredentials.find((c) => c.keyId.toLowerCase() === record.keyId);
        const credential = password ?? key;
        items.push({
            id: Buffer.from(`${record.keyId}|application`).toString("base64"),
            appId: record.appId,
            appObjectId: app?.id ?? null,
            servicePrincipalObjectId: record.servicePrincipalId || null,
            keyId: record.keyId,
            keyType: record.credentialType,
            keyUsage: record.credentialType === "certificate" ? "verify" : "sign",
            credentialOrigin: "application",
            createdDateTime: credential ? iso(credential.startDateTime) : null,
            expirationDateTime: credential ? iso(credential.endDateTime) : null,
            resourceId: record.resourceId,
            signInActivity: { lastSignInDateTime: iso(record.createdDateTime), lastSignInRequestId: record.id },
        });
    }
    return items;
}

function listAppCredentialSignInActivities(context: HandlerContext): EmulatorResponse {
    const authenticated = authorize(context, undefined);
    if ("response" in authenticated) return authenticated.response;
    // Withdrawn from this tenant's Graph (a beta API can be): answered as Graph answers a segment it does not know.
    if (!authenticated.caller.tenant.appCredentialSignInReport) return graphError(context, 400, "BadRequest", "Resource not found for the segment 'appCredentialSignInActivities'.");
    const auth = authorizeAuditLog(context);
    if ("response" in auth) return auth.response;
    const refused = refuse(context, ["$select", "$expand", "$search", "$skip", "$count"]);
    if (refused) return refused;
    const top = parseTop(context, 100, 999);
    if ("response" in top) return top.response;
    const offset = parseOffset(context);
    if ("response" in offset) return offset.response;
    const parsed = parseFilterOption(context, reportProperties);
    if ("response" in parsed) return parsed.response;
    let items = reportItems(context, auth.caller).filter((item) => !parsed.filter || matchesFilter(parsed.filter, (name) => (typeof item[name] === "string" ? (item[name] as string) : undefined)));
    const orderby = context.request.query.get("$orderby");
    if (orderby !== null) {
        const [property = "", direction = "asc", ...rest] = orderby.trim().split(/\s+/);
        const read = reportOrderings[property];
        if (!read || rest.length || !/^(asc|desc)$/i.test(direction)) {
            return graphError(context, 400, "Request_UnsupportedQuery", `$orderby '${orderby}' is not supported by the entra-rotor emulator (${Object.keys(reportOrderings).join(", ")}, asc or desc).`);
        }
        const sign = direction.toLowerCase() === "desc" ? -1 : 1;
        items = [...items].sort((a, b) => sign * read(a).localeCompare(read(b)));
    }
    return page(context, auth.caller, "reports/appCredentialSignInActivities", items.slice(offset.offset, offset.offset + top.top), offset.offset, top.top, items.length);
}

/* ---------- auditLogs/signIns ---------- */

const signInProperties = ["id", "appId", "appDisplayName", "servicePrincipalId", "createdDateTime", "signInEventTypes"] as const;

const failureReasons: Readonly<Record<number, string>> = {
    7000215: "Invalid client secret is provided.",
    7000222: "The provided client secret keys are expired.",
    700027: "Client assertion failed signature validation.",
};

function signInField(record: SignInRecord, name: string): string | undefined {
    switch (name) {
        case "id":
            return record.id;
        case "appId":
            return record.appId;
        case "appDisplayName":
            return record.appDisplayName;
        case "servicePrincipalId":
            return record.servicePrincipalId;
        default:
            return undefined;
    }
}

function signInJson(record: SignInRecord): Json {
    return {
        id: record.id,
        createdDateTime: iso(record.createdDateTime),
        userDisplayName: null,
        userPrincipalName: null,
        userId: "",
        appId: record.appId,
        appDisplayName: record.appDisplayName,
        ipAddress: record.ipAddress,
        clientAppUsed: null,
        correlationId: record.id,
        conditionalAccessStatus: "notApplied",
        isInteractive: false,
        resourceDisplayName: record.resourceDisplayName,
        resourceId: record.resourceId,
        servicePrincipalId: record.servicePrincipalId,
        servicePrincipalName: record.appDisplayName,
        servicePrincipalCredentialKeyId: record.keyIdLogged ? record.keyId : null,
        servicePrincipalCredentialThumbprint: record.thumbprint ?? "",
        clientCredentialType: record.credentialType,
        signInEventTypes: ["servicePrincipal"],
        tokenIssuerType: "AzureAD",
        status: record.errorCode === 0 ? { errorCode: 0, failureReason: null, additionalDetails: null } : { errorCode: record.errorCode, failureReason: failureReasons[record.errorCode] ?? "Other.", additionalDetails: null },
    };
}

function listSignIns(context: HandlerContext): EmulatorResponse {
    const auth = authorizeAuditLog(context);
    if ("response" in auth) return auth.response;
    const refused = refuse(context, ["$select", "$expand", "$search", "$skip", "$count", "$orderby"]);
    if (refused) return refused;
    const top = parseTop(context, 1000, 1000);
    if ("response" in top) return top.response;
    const offset = parseOffset(context);
    if ("response" in offset) return offset.response;
    const parsed = parseFilterOption(context, signInProperties);
    if ("response" in parsed) return parsed.response;
    const filter = parsed.filter;
    // Without a signInEventTypes clause Graph returns interactive user sign-ins, of which the emulator has none.
    const servicePrincipals = filter?.anyOf.some((all) => all.some((c) => c.property === "signInEventTypes")) ?? false;
    const tenant = auth.caller.tenant;
    const oldest = context.env.state.clock.now().getTime() - signInRetentionDays[tenant.licence] * 86_400_000;
    const records = servicePrincipals
        ? context.env.state.signIns.filter(
              (r) =>
                  r.tenantId === tenant.id &&
                  r.createdDateTime.getTime() >= oldest &&
                  matchesFilter(filter!, (name) => (name === "signInEventTypes" ? ["servicePrincipal"] : name === "createdDateTime" ? r.createdDateTime.toISOString() : signInField(r, name))),
          )
        : [];
    // Newest first, as Graph lists the log.
    const sorted = [...records].sort((a, b) => b.createdDateTime.getTime() - a.createdDateTime.getTime());
    return page(context, auth.caller, "auditLogs/signIns", sorted.slice(offset.offset, offset.offset + top.top).map(signInJson), offset.offset, top.top, sorted.length);
}

export const signInLogRoutes: readonly Route<HandlerContext>[] = [
    { id: "GET /beta/reports/appCredentialSignInActivities", method: "GET", pattern: /^\/beta\/reports\/appCredentialSignInActivities\/?$/, handle: listAppCredentialSignInActivities },
    { id: "GET /beta/auditLogs/signIns", method: "GET", pattern: /^\/beta\/auditLogs\/signIns\/?$/, handle: listSignIns },
];
