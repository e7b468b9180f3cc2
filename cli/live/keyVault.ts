import type { TokenCredential } from "@azure/core-auth";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { SecretClient } from "@azure/keyvault-secrets";
import type { VaultSecretProperties } from "./status";
import { dateToIsoSeconds } from "../../rotation/instants";

/**
 * The stack's vault as the live commands read it: secret properties and tags for `status` (never a value),
 * and the served values for `verify`, which signs in with them and forgets them.
 */

export interface VaultOptions {
    readonly maxRetries?: number;
    /** Called once per HTTP request made (retries included). */
    readonly onRequest?: () => void;
    /**
     * Skip the check that the vault's authentication challenge names a Key Vault resource of the vault's own
     * domain. Only for vault URLs given explicitly (`--key-vault-url`), such as a local emulator.
     */
    readonly disableChallengeResourceVerification?: boolean;
}

function countingClient(onRequest: (() => void) | undefined): HttpClient {
    const base = createDefaultHttpClient();
    return { sendRequest: (request) => (onRequest?.(), base.sendRequest(request)) };
}

export function vaultClient(url: string, credential: TokenCredential, options: VaultOptions = {}): SecretClient {
    return new SecretClient(url, credential, {
        retryOptions: { maxRetries: options.maxRetries ?? 6, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
        httpClient: countingClient(options.onRequest),
        userAgentOptions: { userAgentPrefix: "entra-rotor" },
        ...(options.disableChallengeResourceVerification ? { disableChallengeResourceVerification: true } : {}),
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
