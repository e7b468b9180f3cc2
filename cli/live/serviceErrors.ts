import { GraphError } from "../../azure/graph";
import { oneLine, type SignInAnswer, signInCause, signInFailure } from "./signIn";

/**
 * A live command's failure, said as what failed and what to do: which service (Microsoft Graph, Key Vault,
 * the sign-in authority), its answer (status and code), and the next step. The Azure SDKs' own messages
 * name neither the service nor the remedy ("Pagination failed with unexpected statusCode 503").
 */
export class ServiceError extends Error {
    override readonly name = "ServiceError";
}

export interface ServiceEndpoints {
    readonly graph: string;
    readonly authorityHost: string;
    readonly vaultUrl?: string;
    readonly management?: string;
    /** The tenant signed in to, and what the sign-in service last answered: a token asked for later (Key Vault's) fails as the first would. */
    readonly tenantId?: string;
    readonly signInAnswer?: () => SignInAnswer | undefined;
}

type Service = "Microsoft Graph" | "Key Vault" | "Microsoft Entra sign-in" | "Azure Resource Manager";

interface RestLike {
    readonly name?: string;
    readonly statusCode?: number;
    readonly code?: string;
    readonly message?: string;
    readonly request?: { readonly url?: string };
}

function hostOf(url: string | undefined): string | undefined {
    try {
        return url ? new URL(url).host.toLowerCase() : undefined;
    } catch {
        return undefined;
    }
}

function serviceOf(error: RestLike, endpoints: ServiceEndpoints): { service: Service; url: string } | undefined {
    if (error instanceof GraphError) return { service: "Microsoft Graph", url: endpoints.graph };
    // AuthenticationRequiredError: what @azure/identity's MSAL credentials throw for Entra's error answers (handleMsalError).
    if (["AuthenticationError", "AggregateAuthenticationError", "CredentialUnavailableError", "AuthenticationRequiredError"].includes(error.name ?? "")) {
        return { service: "Microsoft Entra sign-in", url: endpoints.authorityHost };
    }
    const host = hostOf(error.request?.url);
    if (host && endpoints.vaultUrl && host === hostOf(endpoints.vaultUrl)) return { service: "Key Vault", url: endpoints.vaultUrl };
    if (host && host === hostOf(endpoints.graph)) return { service: "Microsoft Graph", url: endpoints.graph };
    if (host && host === hostOf(endpoints.authorityHost)) return { service: "Microsoft Entra sign-in", url: endpoints.authorityHost };
    if (host && endpoints.management && host === hostOf(endpoints.management)) return { service: "Azure Resource Manager", url: endpoints.management };
    // The Key Vault SDK's pager loses the request; its message still says what it was doing.
    if (/pagination|secret/i.test(error.message ?? "") && endpoints.vaultUrl) return { service: "Key Vault", url: endpoints.vaultUrl };
    return undefined;
}

const accessHints: Record<Service, string> = {
    "Microsoft Graph": "the signed-in identity needs Application.Read.All (and Policy.Read.All for doctor)",
    "Key Vault": "the signed-in identity needs a role on the vault: Key Vault Reader for status, Key Vault Secrets User for verify",
    "Microsoft Entra sign-in": "check the identity the environment gives",
    "Azure Resource Manager": "the signed-in identity needs a role on the subscription or resource group (Reader at least)",
};

/** The error as a ServiceError, or undefined when it is not a service's answer (a bug, a config error). */
export function describeServiceFailure(error: unknown, endpoints: ServiceEndpoints): ServiceError | undefined {
    // An endpoint refused (azure/endpoints.ts, a vault's challenge or a page link to another host) says why itself.
    if (!(error instanceof Error) || error.name === "SignInError" || error.name === "ConfigError" || error.name === "EndpointError") return undefined;
    const e = error as RestLike;
    const where = serviceOf(e, endpoints);
    if (!where) return undefined;
    if (where.service === "Microsoft Entra sign-in") {
        // EnvironmentCredential reports every failure as status 400 (signIn.ts): what the service said is in the text or was observed.
        const target = { authorityHost: endpoints.authorityHost, ...(endpoints.tenantId ? { tenantId: endpoints.tenantId } : {}), ...(endpoints.signInAnswer ? { answer: endpoints.signInAnswer } : {}) };
        const cause = signInCause(error, target);
        if (cause.kind === "unavailable" || cause.kind === "tenantNotFound") return new ServiceError(signInFailure(error, target));
    }
    const status = e instanceof GraphError ? e.status : e.statusCode;
    const code = e instanceof GraphError ? e.code : e.code;
    const detail = oneLine(e.message ?? "").replace(/^Microsoft Graph answered \d+ \S+: /, "");
    // A credential that refuses before any request (another tenant than it may ask, nothing configured) is
    // no network failure: only a socket error code says the service could not be reached.
    const unreachable = status === undefined && (where.service !== "Microsoft Entra sign-in" || /^E[A-Z]+$/.test(code ?? "") || /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(detail));
    const answer = status ? `answered ${status}${code && !/^\d+$/.test(code) ? ` ${code}` : ""}` : unreachable ? `could not be reached${code ? ` (${code})` : ""}` : "gave no token";
    let next: string;
    if (!unreachable && status === undefined) {
        next = /tenant/i.test(detail) ? "the signed-in identity may not sign in to this tenant: sign in to it (az login --tenant), or consent the app there" : accessHints[where.service];
    } else if (status === 429) next = "it is throttling this identity beyond the retries made; try again in a few minutes";
    else if (status !== undefined && status >= 500) next = "the service is failing (retries were made); try again later, and check https://azure.status.microsoft";
    else if (status === 401 || status === 403) next = accessHints[where.service];
    else if (status === 404) next = where.service === "Key Vault" ? "check the vault name (keyVault.name) or --key-vault-url" : "check the tenant and the endpoint";
    else if (status === undefined) next = "check the URL (--cloud, --graph-endpoint, --key-vault-url, AZURE_AUTHORITY_HOST) and the network";
    else next = "see the detail";
    return new ServiceError(`${where.service} (${where.url}) ${answer}: ${next}. Detail: ${detail.length > 240 ? `${detail.slice(0, 237)}...` : detail}`);
}
