import type { PipelinePolicy } from "@azure/core-rest-pipeline";

/**
 * What Microsoft Entra's sign-in service answered a credential, seen on the wire: what the program's verify
 * gate and the live commands need to tell an outage from a tenant that does not exist, since the errors the
 * SDK raises lose it.
 */

/**
 * What the sign-in service answered, as seen on the wire. The errors that reach us lose it (read in
 * @azure/identity 4.13 and the MSAL Node 5 it bundles): EnvironmentCredential wraps every failure in
 * `AuthenticationError(400, ...)`, so its message says "Status code: 400" whatever Entra answered; MSAL's
 * ServerError keeps the OAuth error and the AADSTS text but not the HTTP status; a body MSAL cannot parse
 * (a 503 in plain text) becomes `network_error`; and a tenant's OpenID metadata it could not read (400
 * `invalid_tenant` AADSTS90002 for a tenant that does not exist, or an outage's 503) becomes
 * `endpoints_resolution_error` with no trace of the answer (createDiscoveredInstance in @azure/msal-common),
 * which @azure/identity turns into a CredentialUnavailableError.
 */
export interface SignInAnswer {
    /** Undefined when there was no answer at all: then `network` says why. */
    readonly status?: number;
    /** The socket error (`ECONNREFUSED`, `ENOTFOUND`) of an attempt that got no answer. */
    readonly network?: string;
    /** The OAuth error (`temporarily_unavailable`, `invalid_tenant`), when the body was Entra's JSON. */
    readonly error?: string;
    /** The AADSTS code and the first sentence of Entra's description: `AADSTS90033: A transient error has occurred.` */
    readonly entra?: string;
    readonly retryAfterSeconds?: number;
}

export interface SignInObserver {
    /** Spread into the options of an @azure/identity credential: a policy that records the authority's answers. */
    readonly credentialOptions: { readonly additionalPolicies: { policy: PipelinePolicy; position: "perRetry" }[] };
    /** The last error answer since the last success; undefined when there was none. */
    last(): SignInAnswer | undefined;
}

/** Entra's first sentence only: the rest of a description is trace and correlation ids. */
export function entraSentence(text: string): string | undefined {
    return /AADSTS\d+:[^.\r\n]*\.?/.exec(text)?.[0]?.slice(0, 200);
}

function retryAfterSeconds(value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000);
    return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined;
}

/**
 * Records the answer to every attempt a credential sends (a perRetry policy, so a sign-in still waiting out a
 * 503's Retry-After is explained too), keeping the last error until a request succeeds. Error bodies of the
 * token endpoint carry codes, ids and descriptions, never the secret sent.
 */
export function signInObserver(): SignInObserver {
    let last: SignInAnswer | undefined;
    const policy: PipelinePolicy = {
        name: "entraRotorSignInObserver",
        async sendRequest(request, next) {
            let response;
            try {
                response = await next(request);
            } catch (error) {
                // MSAL reports an authority it could not reach like a tenant it could not resolve: this tells them apart.
                const code = (error as { code?: unknown }).code;
                last = { network: typeof code === "string" && /^[A-Z_]{2,40}$/.test(code) ? code : "no answer" };
                throw error;
            }
            if (response.status < 400) {
                last = undefined;
                return response;
            }
            let body: { error?: unknown; error_description?: unknown } = {};
            try {
                const parsed = JSON.parse(response.bodyAsText ?? "") as unknown;
                if (parsed !== null && typeof parsed === "object") body = parsed as typeof body;
            } catch {
                // Not Entra's JSON (a front end's page): the status says what there is to say.
            }
            const error = typeof body.error === "string" && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
            const entra = typeof body.error_description === "string" ? entraSentence(body.error_description) : undefined;
            const wait = retryAfterSeconds(response.headers.get("retry-after"));
            last = { status: response.status, ...(error ? { error } : {}), ...(entra ? { entra } : {}), ...(wait !== undefined ? { retryAfterSeconds: wait } : {}) };
            return response;
        },
    };
    return { credentialOptions: { additionalPolicies: [{ policy, position: "perRetry" }] }, last: () => last };
}
