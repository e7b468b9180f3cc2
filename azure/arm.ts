import type { TokenCredential } from "@azure/core-auth";
import { bearerTokenAuthenticationPolicy, createDefaultHttpClient, createHttpHeaders, createPipelineFromOptions, createPipelineRequest, type HttpClient, type Pipeline } from "@azure/core-rest-pipeline";
import { sameOrigin } from "./endpoints";

/**
 * The one Azure Resource Manager call `rotor doctor` makes: the signed-in identity's effective permissions
 * on a scope (`Microsoft.Authorization/permissions`, api-version 2022-04-01), one block per role it holds
 * there. The program writes Key Vault secrets through Resource Manager, so that is where its rights live.
 */

export interface PermissionBlock {
    readonly actions: readonly string[];
    readonly notActions: readonly string[];
    readonly dataActions: readonly string[];
    readonly notDataActions: readonly string[];
}

/** Resource Manager's error answer. */
export class ArmError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(`Azure Resource Manager answered ${status} ${code}: ${message}`);
        this.name = "ArmError";
    }
}

export class ArmClient {
    private readonly pipeline: Pipeline;
    private readonly httpClient: HttpClient;

    constructor(
        private readonly endpoint: string,
        credential: TokenCredential,
        scope: string,
        options: { readonly maxRetries?: number; readonly onRequest?: () => void } = {},
    ) {
        this.pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: options.maxRetries ?? 3, retryDelayInMs: 500, maxRetryDelayInMs: 10_000 }, userAgentOptions: { userAgentPrefix: "entra-rotor" } });
        this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }));
        const base = createDefaultHttpClient();
        // Resource Manager's token goes to the endpoint's origin only, whatever `nextLink` says (azure/endpoints.ts).
        const pinned = sameOrigin(endpoint, "Azure Resource Manager");
        this.httpClient = {
            sendRequest: async (request) => {
                pinned(request.url);
                options.onRequest?.();
                return base.sendRequest(request);
            },
        };
    }

    /** The identity's permission blocks on `scope` (a resource group's or a resource's id), every page. */
    async permissions(scope: string): Promise<PermissionBlock[]> {
        const blocks: PermissionBlock[] = [];
        let next: string | undefined = `${this.endpoint.replace(/\/+$/, "")}${scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`;
        while (next) {
            const response = await this.pipeline.sendRequest(this.httpClient, createPipelineRequest({ url: next, method: "GET", headers: createHttpHeaders({ accept: "application/json" }) }));
            const body = response.bodyAsText ? (JSON.parse(response.bodyAsText) as { value?: Partial<PermissionBlock>[]; nextLink?: string; error?: { code?: string; message?: string } }) : {};
            if (response.status >= 400) throw new ArmError(response.status, body.error?.code ?? "Unknown", body.error?.message ?? response.bodyAsText ?? "");
            for (const block of body.value ?? []) {
                blocks.push({ actions: block.actions ?? [], notActions: block.notActions ?? [], dataActions: block.dataActions ?? [], notDataActions: block.notDataActions ?? [] });
            }
            next = body.nextLink ?? undefined;
        }
        return blocks;
    }
}
