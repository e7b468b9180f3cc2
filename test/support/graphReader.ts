import { ClientSecretCredential } from "@azure/identity";
import type { Emulator, Tenant } from "./emulator";

/** Graph in the emulator read as a client would: a token from the real @azure/identity, requests with fetch. */

/** Small retry delays: the SDKs' defaults (0.8-1 s, doubling) would make fault tests slow, not more real. */
export const testRetryOptions = { maxRetries: 3, retryDelayInMs: 5, maxRetryDelayInMs: 20 };

export interface GraphReply {
    readonly status: number;
    readonly headers: Headers;
    readonly body: Record<string, unknown>;
}

/** GET a Graph path (`/v1.0/...`) or a nextLink, with the token when given. */
export async function graphGet(emulator: Emulator, pathOrUrl: string, token?: string, headers: Record<string, string> = {}): Promise<GraphReply> {
    const url = pathOrUrl.startsWith("https://") ? pathOrUrl : `${emulator.graphEndpoint}${pathOrUrl}`;
    const response = await fetch(url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** A tenant of its own (what Graph keeps per tenant stays apart between tests), with a reader app holding `permissions`, and its token. */
export async function readerInNewTenant(emulator: Emulator, tenantName: string, readerName: string, permissions: readonly string[]): Promise<{ tenant: Tenant; token: string; appId: string }> {
    const tenant = emulator.state.addTenant({ displayName: tenantName });
    const app = emulator.state.addApplication({ displayName: readerName, tenantId: tenant.id, graphPermissions: permissions });
    const { secretText } = emulator.state.addPassword(app);
    const credential = new ClientSecretCredential(tenant.id, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: testRetryOptions });
    return { tenant, token: (await credential.getToken("https://graph.microsoft.com/.default")).token, appId: app.appId };
}
