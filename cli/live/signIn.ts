import type { AccessToken, TokenCredential } from "@azure/core-auth";

/**
 * How the live commands sign in, and what they say when they cannot. DefaultAzureCredential tries every
 * credential it knows, retries the managed identity endpoint for tens of seconds, and fails with a chain of
 * seven messages; a person at a terminal or a failed pipeline needs one line saying how to sign in. So the
 * chain is ours (the same credentials, in DefaultAzureCredential's order, minus editor sign-ins), and one
 * token is asked for up front, within a deadline.
 */

/** How long the first sign-in may take before the command gives up. */
export const signInDeadlineMs = 10_000;

/** A sign-in that failed; its message is one line that says how to fix it. */
export class SignInError extends Error {
    override readonly name = "SignInError";
}

export const howToSignIn =
    "sign in with az login (or azd auth login); in a pipeline, set AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_FEDERATED_TOKEN_FILE (workload identity) or AZURE_CLIENT_SECRET; on Azure, a managed identity is used";

/**
 * The credential chain: the environment (a secret or certificate), workload identity (a federated token
 * file, as AKS and pipelines provide), a managed identity, then the Azure CLI and Azure Developer CLI.
 */
export async function defaultCredential(env: Readonly<Record<string, string | undefined>>, options: { authorityHost?: string; disableInstanceDiscovery?: boolean; tenantId?: string }): Promise<TokenCredential> {
    const identity = await import("@azure/identity");
    const common = {
        ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
        ...(options.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
    };
    const tenantId = options.tenantId ?? env["AZURE_TENANT_ID"];
    const clientId = env["AZURE_CLIENT_ID"];
    // A stack of another tenant than the environment's (several stacks, one multi-tenant app consented in
    // each): the environment's credential asks that tenant, as @azure/identity allows with
    // additionallyAllowedTenants and a per-request tenantId.
    const environment = new identity.EnvironmentCredential({ ...common, additionallyAllowedTenants: ["*"] });
    const chain: TokenCredential[] = [tenantId && tenantId !== env["AZURE_TENANT_ID"] ? inTenant(environment, tenantId) : environment];
    const tokenFile = env["AZURE_FEDERATED_TOKEN_FILE"];
    if (tokenFile && clientId && tenantId) chain.push(new identity.WorkloadIdentityCredential({ ...common, tenantId, clientId, tokenFilePath: tokenFile }));
    // One retry: a managed identity endpoint that exists answers at once, and one that does not should not cost half a minute.
    chain.push(new identity.ManagedIdentityCredential({ ...(clientId ? { clientId } : {}), retryOptions: { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 500 } }));
    const processTimeoutInMs = signInDeadlineMs - 2_000;
    chain.push(new identity.AzureCliCredential({ ...(tenantId ? { tenantId } : {}), processTimeoutInMs }));
    chain.push(new identity.AzureDeveloperCliCredential({ ...(tenantId ? { tenantId } : {}), processTimeoutInMs }));
    return new identity.ChainedTokenCredential(...chain);
}

/** A credential whose every token is asked for in `tenantId`. */
export function inTenant(credential: TokenCredential, tenantId: string): TokenCredential {
    return { getToken: (scopes, options) => credential.getToken(scopes, { ...options, tenantId }) };
}

/**
 * A first token for `scope`, within the deadline; a SignInError otherwise. Later requests reuse it (every
 * credential caches its tokens), so this costs one sign-in the commands would make anyway.
 */
export async function signIn(credential: TokenCredential, scope: string, deadlineMs = signInDeadlineMs): Promise<AccessToken> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SignInError(`cannot sign in to Azure: no credential answered within ${Math.round(deadlineMs / 1000)} s; ${howToSignIn}`)), deadlineMs);
        timer.unref();
    });
    try {
        const token = await Promise.race([credential.getToken(scope), deadline]);
        if (!token) throw new Error("no token");
        return token;
    } catch (error) {
        throw error instanceof SignInError ? error : new SignInError(signInFailure(error));
    } finally {
        clearTimeout(timer);
    }
}

/** One line for a failed sign-in: Entra's refusal when there is one, else that no credential is available. */
export function signInFailure(error: unknown): string {
    const text = oneLine(error instanceof Error ? error.message : String(error));
    const entra = /AADSTS\d+:[^.]*\./.exec(text)?.[0];
    if (entra) return `cannot sign in to Azure: ${entra} ${text.includes("AADSTS7000215") || text.includes("AADSTS7000222") ? "Check the secret the environment gives (AZURE_CLIENT_SECRET)." : "Check the identity the environment gives."}`.trim();
    if (/network_error|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|Status code: 5\d\d/.test(text) && !/unavailable|could not be found|not found|not installed|not available/i.test(text)) {
        return `cannot sign in to Azure: the sign-in service could not be reached or failed (${shorten(text)}); check AZURE_AUTHORITY_HOST and --cloud, and try again`;
    }
    return `cannot sign in to Azure: no credential is available; ${howToSignIn}`;
}

/** Entra's and the SDKs' messages span lines (CRLF inside error descriptions, one line per chained credential). */
export function oneLine(text: string): string {
    return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

function shorten(text: string): string {
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
