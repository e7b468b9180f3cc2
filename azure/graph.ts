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
}
