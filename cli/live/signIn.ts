import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { visible } from "../output/escape";

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

// What the sign-in service answered is observed in azure/ (the program's verify gate reads it too).
export { type SignInAnswer, type SignInObserver, signInObserver } from "../../azure/signInAnswer";
import { entraSentence, type SignInAnswer, type SignInObserver } from "../../azure/signInAnswer";

/**
 * The credential chain: the environment (a secret or certificate), workload identity (a federated token
 * file, as AKS and pipelines provide), a managed identity, then the Azure CLI and Azure Developer CLI. The
 * observer sees what the sign-in service answers the first two (MSAL's, over the SDK's pipeline).
 */
export async function defaultCredential(
    env: Readonly<Record<string, string | undefined>>,
    options: { authorityHost?: string; disableInstanceDiscovery?: boolean; tenantId?: string },
    observer?: SignInObserver,
): Promise<TokenCredential> {
    const identity = await import("@azure/identity");
    const common = {
        ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
        ...(options.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
        ...(observer ? observer.credentialOptions : {}),
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
    // Not observed: its endpoint is the machine's, and its answers are no sign-in service's.
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

/** Where the sign-in went: the authority, the tenant asked for, and what the authority answered when observed. */
export interface SignInTarget {
    readonly authorityHost: string;
    /** The stack's `azuread:tenantId`, `--tenant` or AZURE_TENANT_ID; undefined for the credential's own tenant. */
    readonly tenantId?: string;
    readonly answer?: () => SignInAnswer | undefined;
}

/**
 * A first token for `scope`, within the deadline; a SignInError otherwise. Later requests reuse it (every
 * credential caches its tokens), so this costs one sign-in the commands would make anyway.
 */
export async function signIn(credential: TokenCredential, scope: string, deadlineMs = signInDeadlineMs, target?: SignInTarget): Promise<AccessToken> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            // The SDK waits out a 503's Retry-After, which may outlast the deadline: what it was told says why.
            const cause = target ? signInCause(undefined, target) : undefined;
            const why = cause?.kind === "unavailable" ? describeSignInCause(cause, target!) : `no credential answered within ${Math.round(deadlineMs / 1000)} s; ${howToSignIn}`;
            reject(new SignInError(`cannot sign in to Azure: ${why}`));
        }, deadlineMs);
        timer.unref();
    });
    try {
        const token = await Promise.race([credential.getToken(scope), deadline]);
        if (!token) throw new Error("no token");
        return token;
    } catch (error) {
        throw error instanceof SignInError ? error : new SignInError(signInFailure(error, target));
    } finally {
        clearTimeout(timer);
    }
}

/**
 * Why a sign-in failed, from the error's text and, when the credential was observed, the authority's answer:
 * - `unavailable`: the service answered 5xx or 429, or an OAuth error that says so (`temporarily_unavailable`,
 *   `server_error`: RFC 6749 section 5.2 and Entra's "Handling error codes" table in
 *   learn.microsoft.com/entra/identity-platform/reference-error-codes: retry the request);
 * - `tenantNotFound`: AADSTS90002 or `invalid_tenant`; `certain` is false when MSAL only says it could not
 *   resolve the tenant's endpoints and nothing was observed;
 * - `unreachable`: no answer at all (a socket error, observed or in the text): the configuration or the network;
 * - `refused`: another AADSTS error, Entra refusing this identity;
 * - `noCredential`: no credential of the chain could try.
 */
export type SignInCause =
    | { readonly kind: "unavailable"; readonly status?: number; readonly error?: string; readonly entra?: string; readonly retryAfterSeconds?: number }
    | { readonly kind: "tenantNotFound"; readonly tenant?: string; readonly certain: boolean }
    | { readonly kind: "unreachable"; readonly detail: string }
    | { readonly kind: "refused"; readonly entra: string; readonly text: string }
    | { readonly kind: "noCredential" };

const unavailableErrors = ["temporarily_unavailable", "server_error"];
/**
 * Entra's codes for "try again" (the error code reference and its /error pages): 90033 "A transient error
 * has occurred", 90006 and 50087 "temporarily unavailable", 50033 a transient error. They matter when only the
 * code survives: MSAL replays a throttled error as `90033: AADSTS90033: ...`, without the OAuth error.
 */
const transientCodes = ["AADSTS90033", "AADSTS90006", "AADSTS50087", "AADSTS50033"];
const socketErrors = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET/;

/** `error` undefined: only what was observed counts (the deadline passed while the SDK waited). */
export function signInCause(error: unknown, target?: SignInTarget): SignInCause {
    const text = error === undefined ? "" : oneLine(error instanceof Error ? error.message : String(error));
    const seen = target?.answer?.();
    if (seen?.network !== undefined) return { kind: "unreachable", detail: seen.network };
    const entra = seen?.entra ?? entraSentence(text);
    const oauth = seen?.error ?? /\b(temporarily_unavailable|server_error|invalid_tenant)\b/.exec(text)?.[1];
    const tenant = target?.tenantId ?? /Tenant '([^']{1,100})' not found/.exec(text)?.[1];
    if (entra?.startsWith("AADSTS90002:") || oauth === "invalid_tenant") return { kind: "tenantNotFound", ...(tenant ? { tenant } : {}), certain: true };
    // "Status code: 400" is EnvironmentCredential's wrapper whatever the answer; only a server's status is news.
    const status = seen?.status ?? [...text.matchAll(/Status code: (\d{3})/g)].map((m) => Number(m[1])).find((s) => s >= 500 || s === 429);
    const transient = transientCodes.some((code) => entra?.startsWith(`${code}:`));
    if ((status !== undefined && (status >= 500 || status === 429)) || (oauth !== undefined && unavailableErrors.includes(oauth)) || transient) {
        return { kind: "unavailable", ...(status !== undefined ? { status } : {}), ...(oauth ? { error: oauth } : {}), ...(entra ? { entra } : {}), ...(seen?.retryAfterSeconds !== undefined ? { retryAfterSeconds: seen.retryAfterSeconds } : {}) };
    }
    if (entra) return { kind: "refused", entra, text };
    // A credential tried, and the authority gave no metadata for the tenant: most often one that does not exist.
    if (/endpoints_resolution_error/.test(text)) return { kind: "tenantNotFound", ...(tenant ? { tenant } : {}), certain: false };
    // A chain whose every credential was unavailable mentions a managed identity endpoint's network error: that is no sign-in service's.
    if ((/network_error/.test(text) || socketErrors.test(text)) && !/unavailable|could not be found|not found|not installed|not available/i.test(text)) return { kind: "unreachable", detail: text };
    return { kind: "noCredential" };
}

/** The cause as the rest of a sentence; service text shown through `visible`, one line. */
export function describeSignInCause(cause: SignInCause, target?: Pick<SignInTarget, "authorityHost">): string {
    const service = `the sign-in service${target ? ` (${visible(target.authorityHost)})` : ""}`;
    const tenantIdHint = "the tenant id (the stack's azuread:tenantId, --tenant or AZURE_TENANT_ID) and --cloud (a tenant exists in one cloud only)";
    switch (cause.kind) {
        case "unavailable": {
            const answer = [cause.status, cause.error].filter((part) => part !== undefined).join(" ") || "that it is unavailable";
            const wait = cause.retryAfterSeconds !== undefined ? ` (it asked to retry after ${cause.retryAfterSeconds} s)` : "";
            const next =
                cause.status === 429
                    ? `it is throttling sign-ins; try again in a few minutes${wait}`
                    : `it is unavailable for now, not misconfigured; try again later${wait}, and check https://azure.status.microsoft`;
            return `${service} answered ${visible(answer)}${cause.entra ? ` (${visible(cause.entra)})` : ""}: ${next}`;
        }
        case "tenantNotFound": {
            const tenant = cause.tenant ? `the tenant ${visible(cause.tenant)}` : "the credential's tenant";
            return cause.certain
                ? `${tenant} was not found by ${service} (AADSTS90002): check ${tenantIdHint}`
                : `${service} gave no sign-in endpoints for ${tenant}: the tenant may not exist in this cloud (AADSTS90002), or the service could not be reached or failed; check ${tenantIdHint}, and AZURE_AUTHORITY_HOST, and try again`;
        }
        case "unreachable":
            // MSAL's network_error also stands for an answer it could not parse: only a socket error is certain.
            return `${service} could not be reached${socketErrors.test(cause.detail) ? "" : " or gave no answer the SDK could read"} (${visible(shorten(cause.detail))}); check AZURE_AUTHORITY_HOST and --cloud, and the network, and try again`;
        case "refused":
            return `${visible(cause.entra)} ${cause.text.includes("AADSTS7000215") || cause.text.includes("AADSTS7000222") ? "Check the secret the environment gives (AZURE_CLIENT_SECRET)." : "Check the identity the environment gives."}`;
        case "noCredential":
            return `no credential is available; ${howToSignIn}`;
    }
}

/** One line for a failed sign-in: what the service answered when it answered, else that no credential is available. */
export function signInFailure(error: unknown, target?: SignInTarget): string {
    return `cannot sign in to Azure: ${describeSignInCause(signInCause(error, target), target)}`;
}

/** Entra's and the SDKs' messages span lines (CRLF inside error descriptions, one line per chained credential). */
export function oneLine(text: string): string {
    return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

function shorten(text: string): string {
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
