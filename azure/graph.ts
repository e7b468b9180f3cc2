import type { TokenCredential } from "@azure/core-auth";
import {
    bearerTokenAuthenticationPolicy,
    createHttpHeaders,
    createPipelineFromOptions,
    createPipelineRequest,
    createDefaultHttpClient,
    type HttpClient,
    type Pipeline,
} from "@azure/core-rest-pipeline";
import { sameOrigin } from "./endpoints";

/**
 * The Microsoft Graph calls the live commands make, over the Azure SDK's HTTP pipeline: bearer tokens from
 * any `TokenCredential`, and its retry policies, which honour `Retry-After` on 429 and 503 and back off on
 * other transient failures. Lists follow `@odata.nextLink` to the end.
 */

/** The fields of an application the commands read (`$select`). */
export interface GraphApplication {
    readonly id: string;
    readonly appId: string;
    readonly displayName: string | null;
    readonly tags?: readonly string[];
    readonly passwordCredentials: readonly GraphPasswordCredential[];
    readonly keyCredentials: readonly GraphKeyCredential[];
    /** Present when the list asked for `$expand=federatedIdentityCredentials`. */
    readonly federatedIdentityCredentials?: readonly GraphFederatedCredential[];
}

/**
 * An application holds at most 20 federated identity credentials (Entra's limit, "Important considerations
 * and restrictions" in learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations),
 * and Graph expands at most 20 objects of a directory object's relationship, with no nextLink (known issue
 * 13635, developer.microsoft.com/graph/known-issues/?search=13635). So an expansion of fewer than 20 is
 * the whole list; one of 20 is read again on its own, in case either limit ever changes.
 */
export const expandedItemsLimit = 20;

/**
 * With `$expand`, Graph answers at most 100 directory objects a page whatever `$top` asks (the same known
 * issue): asking for 100 says what the pages will be.
 */
export const expandedPageSize = 100;

export interface GraphPasswordCredential {
    readonly keyId: string;
    readonly displayName: string | null;
    readonly startDateTime: string | null;
    readonly endDateTime: string | null;
    readonly hint: string | null;
}

export interface GraphKeyCredential {
    readonly keyId: string;
    readonly displayName: string | null;
    readonly type: string;
    readonly usage: string;
    readonly startDateTime: string | null;
    readonly endDateTime: string | null;
    /** Base64 of the certificate's SHA-1 thumbprint, when uploaded with one. */
    readonly customKeyIdentifier: string | null;
}

export interface GraphFederatedCredential {
    readonly id: string;
    readonly name: string;
    readonly issuer: string;
    readonly subject: string;
    readonly audiences: readonly string[];
}

/** An error answer of Graph, with its code, status and request id for a support case. */
export class GraphError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
        readonly requestId?: string,
    ) {
        super(`Microsoft Graph answered ${status} ${code}: ${message}${requestId ? ` (request-id ${requestId})` : ""}`);
        this.name = "GraphError";
    }
}

export interface GraphClientOptions {
    /** Retries of throttled (429, 503) and failed requests. Default 6. */
    readonly maxRetries?: number;
    /** Called once per HTTP request made (retries included), e.g. to count them. */
    readonly onRequest?: () => void;
    readonly httpClient?: HttpClient;
}

const applicationFields = "id,appId,displayName,tags,passwordCredentials,keyCredentials";

export class GraphClient {
    private readonly pipeline: Pipeline;
    private readonly httpClient: HttpClient;
    private readonly root: string;
    /** Graph refused `$expand=federatedIdentityCredentials` once: this client (one per stack read) lists without it from then on. */
    private expansionRefused = false;

    /** `scope`: the token scope, `{cloud's Graph}/.default`; requests go to `endpoint` (the cloud's Graph, or a local emulator: azure/endpoints.ts) and nowhere else. */
    constructor(
        endpoint: string,
        credential: TokenCredential,
        scope: string,
        options: GraphClientOptions = {},
    ) {
        this.root = `${endpoint.replace(/\/+$/, "")}/v1.0`;
        this.pipeline = createPipelineFromOptions({
            retryOptions: { maxRetries: options.maxRetries ?? 6, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
            userAgentOptions: { userAgentPrefix: "entra-rotor" },
        });
        this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }));
        const base = options.httpClient ?? createDefaultHttpClient();
        // Graph's token goes to the endpoint's origin only, whatever a page links to (azure/endpoints.ts).
        const pinned = sameOrigin(endpoint, "Microsoft Graph");
        // Counting below the retry policy counts every attempt, as the service sees them.
        this.httpClient = {
            sendRequest: async (request) => {
                pinned(request.url);
                options.onRequest?.();
                return base.sendRequest(request);
            },
        };
    }

    /**
     * GET a Graph path (`/applications?...`) or an absolute `@odata.nextLink`, as JSON; `beta` for what Graph
     * publishes on beta only (trusted certificate authorities in app management policies).
     */
    async get<T>(pathOrUrl: string, headers: Record<string, string> = {}, version: "v1.0" | "beta" = "v1.0"): Promise<T> {
        const root = version === "beta" ? this.root.replace(/\/v1\.0$/, "/beta") : this.root;
        const url = /^https:\/\//.test(pathOrUrl) ? pathOrUrl : `${root}${pathOrUrl}`;
        const request = createPipelineRequest({ url, method: "GET", headers: createHttpHeaders({ accept: "application/json", ...headers }) });
        const response = await this.pipeline.sendRequest(this.httpClient, request);
        const body = response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined;
        if (response.status >= 400) {
            const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
            throw new GraphError(response.status, error?.code ?? "Unknown", error?.message ?? response.bodyAsText ?? "", response.headers.get("request-id") ?? undefined);
        }
        return body as T;
    }

    /**
     * POST a Graph action (`/applications/{id}/removePassword`) with a JSON body, through the same pipeline as
     * every read: the same token, the same origin pin, the same retries (429 and 503 honouring Retry-After,
     * other 5xx and dropped connections with backoff). A retried action may have been done by the attempt that
     * failed, and then fails itself: callers that must know read the object again. Graph's actions answer 204
     * No Content, so nothing is returned.
     */
    async post(path: string, body: unknown): Promise<void> {
        const request = createPipelineRequest({
            url: `${this.root}${path}`,
            method: "POST",
            headers: createHttpHeaders({ accept: "application/json", "content-type": "application/json" }),
            body: JSON.stringify(body),
        });
        const response = await this.pipeline.sendRequest(this.httpClient, request);
        if (response.status >= 400) {
            let error: { code?: string; message?: string } | undefined;
            try {
                error = (JSON.parse(response.bodyAsText ?? "") as { error?: { code?: string; message?: string } }).error;
            } catch {
                // not JSON: the status says it
            }
            throw new GraphError(response.status, error?.code ?? "Unknown", error?.message ?? response.bodyAsText ?? "", response.headers.get("request-id") ?? undefined);
        }
    }

    /**
     * Removes a client secret from an application: `POST /applications/{id}/removePassword` with its key id
     * (learn.microsoft.com/graph/api/application-removepassword; Application.ReadWrite.OwnedBy for an
     * application the caller owns, else Application.ReadWrite.All). 204 when done.
     */
    removePassword(objectId: string, keyId: string): Promise<void> {
        return this.post(`/applications/${encodeURIComponent(objectId)}/removePassword`, { keyId });
    }

    /**
     * Removes a certificate (key credential) from an application: `POST /applications/{id}/removeKey` with its
     * key id and `proof`, a JWT signed with the private key of one of the application's existing valid
     * certificates (learn.microsoft.com/graph/api/application-removekey; the claims are in "Generate proof of
     * possession tokens for rolling keys", learn.microsoft.com/graph/application-rollkey-prooftoken). Same
     * permissions as removePassword. 204 when done.
     */
    removeKey(objectId: string, keyId: string, proof: string): Promise<void> {
        return this.post(`/applications/${encodeURIComponent(objectId)}/removeKey`, { keyId, proof });
    }

    /** Every item of a collection, page after page. `onPage` sees each page as it arrives. */
    async list<T>(path: string, onPage?: (items: readonly T[]) => void, version: "v1.0" | "beta" = "v1.0"): Promise<T[]> {
        const items: T[] = [];
        let next: string | undefined = path;
        while (next) {
            const page: { value: T[]; "@odata.nextLink"?: string } = await this.get(next, {}, version);
            items.push(...page.value);
            onPage?.(page.value);
            next = page["@odata.nextLink"];
        }
        return items;
    }

    /**
     * The applications that carry `tag`, with their credentials; with `federated`, their federated
     * credentials too (expanded: one request per 100 applications instead of one per application).
     *
     * Not every relationship supports `$expand` (Microsoft's "Use query parameters" page, whose example of a
     * refusal is a 400 `ExpandNotSupported`), and older references of the application resource say its
     * federated credentials are read only with `GET /applications/{id}/federatedIdentityCredentials`
     * (microsoftgraph/microsoft-graph-docs#14253). So a 400 to the expanded list, whatever its code
     * (`ExpandNotSupported`, `Request_UnsupportedQuery`, `BadRequest`), is answered by listing again without
     * the expansion, once: this client then never asks for it again, and the applications come without the
     * relationship, as when Graph ignores the expansion, for the caller to read each one's on its own. A 400
     * that was not about the expansion comes back from the plain list too, and is thrown from there.
     */
    async applicationsTagged(tag: string, onPage?: (items: readonly GraphApplication[]) => void, options: { federated?: boolean } = {}): Promise<GraphApplication[]> {
        const filter = encodeURIComponent(`tags/any(t:t eq '${tag.replace(/'/g, "''")}')`);
        const plain = `/applications?$filter=${filter}&$select=${applicationFields}&$top=999`;
        if (!options.federated || this.expansionRefused) return this.list(plain, onPage);
        try {
            return await this.list<GraphApplication>(`/applications?$filter=${filter}&$select=${applicationFields}&$expand=federatedIdentityCredentials&$top=${expandedPageSize}`, onPage);
        } catch (error) {
            if (!(error instanceof GraphError) || error.status !== 400) throw error;
            this.expansionRefused = true;
            return this.list(plain, onPage);
        }
    }

    /** Every application in the tenant with its credentials, in pages of 999 (Graph's largest). */
    allApplications(onPage?: (items: readonly GraphApplication[]) => void): Promise<GraphApplication[]> {
        return this.list(`/applications?$select=${applicationFields}&$top=999`, onPage);
    }

    /** One application by its object id, the way scripts usually read the tenant (one request each). */
    application(objectId: string): Promise<GraphApplication> {
        return this.get(`/applications/${encodeURIComponent(objectId)}?$select=${applicationFields}`);
    }

    federatedCredentials(objectId: string): Promise<GraphFederatedCredential[]> {
        return this.list(`/applications/${encodeURIComponent(objectId)}/federatedIdentityCredentials`);
    }

    // --- rotor import: reading what an app registration holds, a page at a time ------------------------------

    /**
     * Each page of a collection as it arrives, following `@odata.nextLink`. The next page is asked for only when
     * the caller comes back for it, so a caller that converts a page before the next holds one page at a time.
     */
    async *pages<T>(path: string): AsyncGenerator<readonly T[]> {
        let next: string | undefined = path;
        while (next) {
            const page: { value: T[]; "@odata.nextLink"?: string } = await this.get(next);
            next = page["@odata.nextLink"];
            yield page.value;
        }
    }

    /**
     * The applications `rotor import` reads, with every property it compares (importApplicationFields), in pages
     * of 999 (Graph's largest); `filter` is an OData `$filter` passed to Graph as given (encoded), e.g.
     * `startswith(displayName,'HR')` or `appId in ('...','...')`.
     */
    importApplicationPages(filter?: string): AsyncGenerator<readonly GraphApplicationRecord[]> {
        const query = [`$select=${importApplicationFields.join(",")}`, "$top=999", ...(filter !== undefined ? [`$filter=${encodeURIComponent(filter)}`] : [])];
        return this.pages(`/applications?${query.join("&")}`);
    }

    /** An application's service principal, found by the application's client id; undefined when it has none. */
    async servicePrincipalByAppId(appId: string, fields: readonly string[] = resourceServicePrincipalFields): Promise<GraphServicePrincipalRecord | undefined> {
        const page = await this.get<{ value: GraphServicePrincipalRecord[] }>(importPaths.servicePrincipalOf(appId, fields));
        return page.value[0];
    }

    /** A service principal by its object id (an API a consent was granted on); undefined when Graph has none (404). */
    async servicePrincipalById(objectId: string, fields: readonly string[] = resourceServicePrincipalFields): Promise<GraphServicePrincipalRecord | undefined> {
        try {
            return await this.get<GraphServicePrincipalRecord>(`/servicePrincipals/${encodeURIComponent(objectId)}?$select=${fields.join(",")}`);
        } catch (error) {
            if (error instanceof GraphError && error.status === 404) return undefined;
            throw error;
        }
    }

    /**
     * GET requests sent together through JSON batching (`POST /$batch`, at most 20 each: "Combine multiple HTTP
     * requests using JSON batching", learn.microsoft.com/graph/json-batching), answered in the order asked. Graph
     * throttles and fails each request of a batch on its own, inside a batch that succeeds: an inner 429, 503 or
     * other 5xx is sent again in a later batch, after its `Retry-After` (or a backoff), up to `batchRetries`
     * times; any other answer is returned as it is, for the caller to judge (a 404 may be an answer).
     */
    async batchGet(paths: readonly string[]): Promise<BatchAnswer[]> {
        const answers: (BatchAnswer | undefined)[] = new Array(paths.length);
        let pending = paths.map((_, i) => i);
        for (let attempt = 0; pending.length > 0; attempt++) {
            const retry: number[] = [];
            let waitMs = 0;
            for (let start = 0; start < pending.length; start += batchLimit) {
                const chunk = pending.slice(start, start + batchLimit);
                const body = { requests: chunk.map((i) => ({ id: String(i), method: "GET", url: paths[i]! })) };
                const request = createPipelineRequest({
                    url: `${this.root}/$batch`,
                    method: "POST",
                    headers: createHttpHeaders({ accept: "application/json", "content-type": "application/json" }),
                    body: JSON.stringify(body),
                });
                const response = await this.pipeline.sendRequest(this.httpClient, request);
                const parsed = response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined;
                if (response.status >= 400) {
                    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
                    throw new GraphError(response.status, error?.code ?? "Unknown", error?.message ?? response.bodyAsText ?? "", response.headers.get("request-id") ?? undefined);
                }
                for (const inner of (parsed as { responses?: BatchResponse[] } | undefined)?.responses ?? []) {
                    const i = Number(inner.id);
                    if (!chunk.includes(i)) continue;
                    if (transientStatus(inner.status) && attempt < batchRetries) {
                        retry.push(i);
                        const after = Number(headerOf(inner.headers, "retry-after"));
                        waitMs = Math.max(waitMs, Number.isFinite(after) && after > 0 ? after * 1000 : Math.min(500 * 2 ** attempt, 30_000));
                        continue;
                    }
                    answers[i] = { status: inner.status, body: inner.body ?? null };
                }
                // An answer the batch left out is asked again, as a throttled one is.
                for (const i of chunk) if (answers[i] === undefined && !retry.includes(i)) retry.push(i);
            }
            if (retry.length > 0 && attempt >= batchRetries) {
                const first = retry[0]!;
                throw new GraphError(503, "BatchIncomplete", `no answer to ${paths[first]} after ${batchRetries + 1} attempts in JSON batches`);
            }
            pending = retry.sort((a, b) => a - b);
            if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs || 500, 30_000)));
        }
        return answers as BatchAnswer[];
    }

    /** The rest of a collection an answer began (its `@odata.nextLink`), page after page. */
    rest<T>(nextLink: string): Promise<T[]> {
        return this.list<T>(nextLink);
    }
}

/** Requests per JSON batch: Graph's limit. */
export const batchLimit = 20;
/** Times an inner request that was throttled or failed is sent again. */
export const batchRetries = 6;

/** One answer of a JSON batch: the inner request's status and body. */
export interface BatchAnswer {
    readonly status: number;
    readonly body: unknown;
}

interface BatchResponse {
    readonly id: string;
    readonly status: number;
    readonly headers?: Record<string, string>;
    readonly body?: unknown;
}

function transientStatus(status: number): boolean {
    return status === 429 || status >= 500;
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | undefined {
    if (!headers) return undefined;
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : headers[key];
}

/**
 * What `rotor import` reads of an application: everything the stack can declare, and everything `pulumi up`
 * would change that it cannot (identifier URIs, exposed scopes, app roles, optional claims, ...), so that such
 * an application is left out rather than silently changed. Graph's names (the application resource, v1.0).
 */
export const importApplicationFields = [
    "id", "appId", "displayName", "description", "notes", "signInAudience", "tags", "identifierUris", "applicationTemplateId",
    "groupMembershipClaims", "isFallbackPublicClient", "isDeviceOnlyAuthSupported", "oauth2RequirePostResponse", "serviceManagementReference",
    "api", "appRoles", "optionalClaims", "info", "web", "spa", "publicClient", "requiredResourceAccess", "passwordCredentials", "keyCredentials",
] as const;

/** What `rotor import` reads of an application's own service principal: what azuread's ServicePrincipal would change. */
export const importServicePrincipalFields = [
    "id", "appId", "displayName", "accountEnabled", "appRoleAssignmentRequired", "description", "notes", "loginUrl",
    "notificationEmailAddresses", "preferredSingleSignOnMode", "alternativeNames",
] as const;

/** What names an API's permissions: its app roles and delegated scopes. */
export const resourceServicePrincipalFields = ["id", "appId", "displayName", "appRoles", "oauth2PermissionScopes"] as const;

/** The per-application reads of `rotor import`, as paths a JSON batch takes. */
export const importPaths = {
    owners: (collection: "applications" | "servicePrincipals", objectId: string) => `/${collection}/${encodeURIComponent(objectId)}/owners?$select=id`,
    servicePrincipalOf: (appId: string, fields: readonly string[] = importServicePrincipalFields) =>
        `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId.replace(/'/g, "''")}'`)}&$select=${fields.join(",")}`,
    appRoleAssignments: (servicePrincipal: string) => `/servicePrincipals/${encodeURIComponent(servicePrincipal)}/appRoleAssignments`,
    delegatedGrants: (servicePrincipal: string) => `/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${servicePrincipal.replace(/'/g, "''")}'`)}`,
    federatedCredentials: (objectId: string) => `/applications/${encodeURIComponent(objectId)}/federatedIdentityCredentials`,
};

/** A collection's page as a batch answers it. */
export interface GraphPage<T> {
    readonly value: readonly T[];
    readonly "@odata.nextLink"?: string;
}

export interface GraphRedirectPlatform {
    readonly redirectUris?: readonly string[] | null;
}

/** An application as `rotor import` reads it (importApplicationFields); Graph may leave out what is empty. */
export interface GraphApplicationRecord {
    readonly id: string;
    readonly appId: string;
    readonly displayName: string | null;
    readonly description?: string | null;
    readonly notes?: string | null;
    readonly signInAudience?: string | null;
    readonly tags?: readonly string[] | null;
    readonly identifierUris?: readonly string[] | null;
    readonly applicationTemplateId?: string | null;
    readonly groupMembershipClaims?: string | null;
    readonly isFallbackPublicClient?: boolean | null;
    readonly isDeviceOnlyAuthSupported?: boolean | null;
    readonly oauth2RequirePostResponse?: boolean | null;
    readonly serviceManagementReference?: string | null;
    readonly api?: {
        readonly acceptMappedClaims?: boolean | null;
        readonly knownClientApplications?: readonly string[] | null;
        readonly oauth2PermissionScopes?: readonly unknown[] | null;
        readonly preAuthorizedApplications?: readonly unknown[] | null;
        readonly requestedAccessTokenVersion?: number | null;
    } | null;
    readonly appRoles?: readonly unknown[] | null;
    readonly optionalClaims?: { readonly idToken?: readonly unknown[] | null; readonly accessToken?: readonly unknown[] | null; readonly saml2Token?: readonly unknown[] | null } | null;
    readonly info?: { readonly marketingUrl?: string | null; readonly privacyStatementUrl?: string | null; readonly supportUrl?: string | null; readonly termsOfServiceUrl?: string | null } | null;
    readonly web?: (GraphRedirectPlatform & {
        readonly homePageUrl?: string | null;
        readonly logoutUrl?: string | null;
        readonly implicitGrantSettings?: { readonly enableAccessTokenIssuance?: boolean | null; readonly enableIdTokenIssuance?: boolean | null } | null;
    }) | null;
    readonly spa?: GraphRedirectPlatform | null;
    readonly publicClient?: GraphRedirectPlatform | null;
    readonly requiredResourceAccess?: readonly { readonly resourceAppId: string; readonly resourceAccess?: readonly { readonly id: string; readonly type: string }[] | null }[] | null;
    readonly passwordCredentials?: readonly GraphPasswordCredential[] | null;
    readonly keyCredentials?: readonly GraphKeyCredential[] | null;
}

/** A service principal as `rotor import` reads it: the application's own (importServicePrincipalFields) or an API's. */
export interface GraphServicePrincipalRecord {
    readonly id: string;
    readonly appId: string;
    readonly displayName?: string | null;
    readonly accountEnabled?: boolean | null;
    readonly appRoleAssignmentRequired?: boolean | null;
    readonly description?: string | null;
    readonly notes?: string | null;
    readonly loginUrl?: string | null;
    readonly notificationEmailAddresses?: readonly string[] | null;
    readonly preferredSingleSignOnMode?: string | null;
    readonly alternativeNames?: readonly string[] | null;
    readonly appRoles?: readonly { readonly id: string; readonly value?: string | null; readonly allowedMemberTypes?: readonly string[] | null }[] | null;
    readonly oauth2PermissionScopes?: readonly { readonly id: string; readonly value?: string | null }[] | null;
}

/** Admin consent for an application permission: an app role assignment of the client's service principal. */
export interface GraphAppRoleAssignmentRecord {
    readonly id: string;
    readonly appRoleId: string;
    readonly principalId: string;
    /** The API's service principal (its object id). */
    readonly resourceId: string;
    readonly resourceDisplayName?: string | null;
}

/** Consent for delegated permissions (oauth2PermissionGrant): for every user (AllPrincipals) or one (Principal). */
export interface GraphDelegatedGrantRecord {
    readonly id: string;
    readonly clientId: string;
    readonly consentType: string;
    readonly principalId?: string | null;
    /** The API's service principal (its object id). */
    readonly resourceId: string;
    /** The delegated permissions, separated by spaces. */
    readonly scope?: string | null;
}
