import type { TokenCredential } from "@azure/core-auth";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { SecretClient } from "@azure/keyvault-secrets";
import { EndpointError, sameOrigin } from "./endpoints";
import { visible } from "../rotation/text";
import { dateToIsoSeconds } from "../rotation/instants";

/** A secret of the vault as its properties say (never its value). */
export interface VaultSecretProperties {
    readonly name: string;
    readonly enabled: boolean;
    readonly expires: string | null;
    readonly contentType: string | null;
    readonly tags: Readonly<Record<string, string>>;
}

/**
 * The stack's vault as the live commands read it: secret properties and tags for `status` (never a value),
 * and the served values for `verify`, which signs in with them and forgets them.
 */

export interface VaultOptions {
    /**
     * The one token scope the vault's 401 challenge may name: the cloud's Key Vault resource
     * (`ResolvedEndpoints.keyVaultScope`, `https://vault.azure.net/.default` in public Azure).
     */
    readonly scope: string;
    readonly maxRetries?: number;
    /** Called once per HTTP request made (retries included). */
    readonly onRequest?: () => void;
}

/** Every request goes to the vault's own origin (page links too), and is counted. */
function guardedClient(url: string, onRequest: (() => void) | undefined): HttpClient {
    const base = createDefaultHttpClient();
    const pinned = sameOrigin(url, "Key Vault");
    return {
        sendRequest: async (request) => {
            pinned(request.url);
            onRequest?.();
            return base.sendRequest(request);
        },
    };
}

/**
 * The credential as the vault may use it: for `scope` only. @azure/keyvault-secrets asks for a token for
 * whatever resource the vault's 401 challenge names (`WWW-Authenticate: Bearer authorization=...,
 * resource=...`, @azure/keyvault-common's keyVaultAuthenticationPolicy), checking only that the vault's host
 * ends with that resource's domain, and not at all with `disableChallengeResourceVerification`: a host that
 * names Resource Manager or Graph would receive their tokens. This asks for nothing else.
 */
function onlyFor(credential: TokenCredential, scope: string, url: string): TokenCredential {
    return {
        getToken: async (scopes, options) => {
            const asked = Array.isArray(scopes) ? scopes : [scopes];
            if (asked.length !== 1 || asked[0] !== scope) {
                throw new EndpointError(
                    `Key Vault (${url}) challenged for a token for ${asked.map((s) => `"${visible(s.slice(0, 200))}"`).join(", ")}, not for Key Vault (${scope.replace(/\/\.default$/, "")}): refused, no token was asked for or sent; check --key-vault-url and --cloud`,
                );
            }
            return credential.getToken(scopes, options);
        },
    };
}

/**
 * A client of the vault at `url`, which resolveEndpoints has checked is a vault of the cloud in use or, with
 * ROTOR_ALLOW_LOCAL_ENDPOINTS=1, a loopback address. The SDK's own check of the challenge stays on for a
 * vault of the cloud; a loopback address can never end with the vault domain, so it is turned off there, and
 * onlyFor (stricter: exactly the cloud's Key Vault resource) holds in both cases.
 */
export function vaultClient(url: string, credential: TokenCredential, options: VaultOptions): SecretClient {
    const local = !new URL(url).hostname.endsWith(`.${new URL(options.scope).hostname}`);
    return new SecretClient(url, onlyFor(credential, options.scope, url), {
        retryOptions: { maxRetries: options.maxRetries ?? 6, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
        httpClient: guardedClient(url, options.onRequest),
        userAgentOptions: { userAgentPrefix: "entra-rotor" },
        ...(local ? { disableChallengeResourceVerification: true } : {}),
    });
}

/** Every secret's properties, by lower-case name (Key Vault names are case-insensitive). */
export async function listSecretProperties(client: SecretClient, onPage?: (count: number) => void): Promise<Map<string, VaultSecretProperties>> {
    const secrets = new Map<string, VaultSecretProperties>();
    for await (const page of client.listPropertiesOfSecrets().byPage()) {
        for (const p of page) {
            secrets.set(p.name.toLowerCase(), {
                name: p.name,
                enabled: p.enabled !== false,
                expires: p.expiresOn ? dateToIsoSeconds(p.expiresOn) : null,
                contentType: p.contentType ?? null,
                tags: { ...(p.tags ?? {}) },
            });
        }
        onPage?.(page.length);
    }
    return secrets;
}
