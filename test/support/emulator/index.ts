import type { TlsMaterial } from "./certificates";
import type { Clock } from "./clock";
import { FaultController, type FaultSettings } from "./faults";
import { RequestLog } from "./requestLog";
import { EmulatorServer } from "./server";
import { type AddVaultOptions, EmulatorState, type StateOptions } from "./state";
import { resolveTls } from "./tls";
import { TokenService } from "./token";

/**
 * A local Azure for tests: the Entra token endpoint, Microsoft Graph, Azure Resource Manager (Key Vault
 * secrets and permissions) and Key Vault over HTTPS on 127.0.0.1, spoken to by the real SDKs. See README.md beside this file for what callers must pass.
 *
 * ```ts
 * const emulator = await startEmulator({ now: "2026-11-23T06:00:00Z" });
 * const app = emulator.state.addApplication({ displayName: "mail-sender", graphPermissions: ["Application.Read.All"] });
 * const { secretText } = emulator.state.addPassword(app);
 * const credential = new ClientSecretCredential(emulator.tenantId, app.appId, secretText, emulator.credentialOptions);
 * ```
 */

export interface StartEmulatorOptions extends StateOptions {
    /** A state built beforehand (its clock is used); default: a new one from the StateOptions. */
    readonly state?: EmulatorState;
    readonly faults?: FaultSettings;
    /** Server certificate and CA; default: the run's (globalSetup) or a fresh one. */
    readonly tls?: TlsMaterial;
    /** Access token lifetime in seconds (default 3599, as Entra). */
    readonly tokenLifetimeSeconds?: number;
    /** Graph answers 403 without a suitable permission in the token's roles (default true). */
    readonly enforceGraphPermissions?: boolean;
}

/** Options every @azure/identity credential aimed at the emulator needs. */
export interface EmulatorCredentialOptions {
    readonly authorityHost: string;
    /** Without it MSAL asks login.microsoftonline.com to validate the authority: a request off this machine. */
    readonly disableInstanceDiscovery: true;
}

export interface Emulator {
    /** The authority's base URL (same as authorityHost). */
    readonly url: string;
    readonly authorityHost: string;
    /** Graph's base URL: requests go to `${graphEndpoint}/v1.0/...` (and `/beta/...` for the few beta routes). */
    readonly graphEndpoint: string;
    /** Azure Resource Manager's base URL, the stand-in for `https://management.azure.com` (token scope `https://management.azure.com/.default`). */
    readonly managementEndpoint: string;
    /** The Azure subscription the vaults live in (ARM paths `/subscriptions/{subscriptionId}/...`). */
    readonly subscriptionId: string;
    /** The tenant the state was created with. */
    readonly tenantId: string;
    readonly state: EmulatorState;
    readonly clock: Clock;
    readonly requests: RequestLog;
    /** PEM of the CA that signed the server certificate. */
    readonly ca: string;
    /** For SDK clients in a process that does not trust the CA through NODE_EXTRA_CA_CERTS. */
    readonly tlsOptions: { readonly ca: string };
    /** Whether this process trusts the emulator without tlsOptions (the globalSetup ran). */
    readonly trustedByEnvironment: boolean;
    /** Spread into ClientSecretCredential / ClientCertificateCredential options. */
    readonly credentialOptions: EmulatorCredentialOptions;
    /** Spread into SecretClient options: the challenge resource cannot match an IP address. */
    readonly secretClientOptions: { readonly disableChallengeResourceVerification: true };
    /** `https://127.0.0.1:{port}` of a vault; throws for a vault the emulator does not serve. */
    keyVaultUrl(vaultName: string): string;
    /** Adds a vault to the state (unless there) and starts serving it. */
    addVault(vaultName: string, options?: AddVaultOptions): Promise<string>;
    /** Turns switches on or off (an explicit undefined turns one off); counters restart. */
    setFaults(changes: FaultSettings): void;
    clearFaults(): void;
    readonly faults: FaultSettings;
    /**
     * Variables for a child process (e.g. a spawned `rotor`): NODE_EXTRA_CA_CERTS so it trusts the emulator,
     * AZURE_AUTHORITY_HOST and AZURE_TENANT_ID as @azure/identity reads them, ROTOR_MANAGEMENT_ENDPOINT,
     * ROTOR_ALLOW_LOCAL_ENDPOINTS=1 (the product's emulator setting: without it rotor and the program's verify
     * gate refuse every endpoint on 127.0.0.1), and ENTRA_ROTOR_EMULATOR with the endpoints as JSON
     * ({ authorityHost, graphEndpoint, managementEndpoint, subscriptionId, keyVaultUrls }).
     */
    environment(): Record<string, string>;
    close(): Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
    const state = options.state ?? new EmulatorState(options);
    const tls = resolveTls(options.tls);
    const faults = new FaultController();
    if (options.faults) faults.set(options.faults, state.lastSequence);
    const requests = new RequestLog();
    const tokens = new TokenService(options.tokenLifetimeSeconds);
    const server = new EmulatorServer({
        tls: tls.material,
        faults,
        requests,
        environment: (urls) => ({ ...urls, state, faults, tokens, requests, graphPermissionsEnforced: options.enforceGraphPermissions ?? true }),
    });
    try {
        await server.start();
    } catch (error) {
        await server.close();
        tls.dispose();
        throw error;
    }
    const env = server.environment;
    let closed: Promise<void> | undefined;
    return {
        url: env.authorityHost,
        authorityHost: env.authorityHost,
        graphEndpoint: env.graphEndpoint,
        managementEndpoint: env.managementEndpoint,
        subscriptionId: state.subscriptionId,
        tenantId: state.tenantId,
        state,
        clock: state.clock,
        requests,
        ca: tls.material.caCertificatePem,
        tlsOptions: { ca: tls.material.caCertificatePem },
        trustedByEnvironment: tls.trustedByEnvironment,
        credentialOptions: { authorityHost: env.authorityHost, disableInstanceDiscovery: true },
        secretClientOptions: { disableChallengeResourceVerification: true },
        keyVaultUrl: (name) => server.keyVaultUrl(name),
        addVault: async (name, vaultOptions) => server.openVault(state.vault(name) ?? state.addVault(name, vaultOptions)),
        setFaults: (changes) => faults.set(changes, state.lastSequence),
        clearFaults: () => faults.clear(),
        get faults() {
            return faults.current;
        },
        environment: () => ({
            NODE_EXTRA_CA_CERTS: tls.caPath,
            AZURE_AUTHORITY_HOST: env.authorityHost,
            AZURE_TENANT_ID: state.tenantId,
            ROTOR_MANAGEMENT_ENDPOINT: env.managementEndpoint,
            ROTOR_ALLOW_LOCAL_ENDPOINTS: "1",
            ENTRA_ROTOR_EMULATOR: JSON.stringify({
                authorityHost: env.authorityHost,
                graphEndpoint: env.graphEndpoint,
                managementEndpoint: env.managementEndpoint,
                subscriptionId: state.subscriptionId,
                keyVaultUrls: Object.fromEntries([...state.vaults.values()].flatMap((v) => {
                    try {
                        return [[v.name, server.keyVaultUrl(v.name)]];
                    } catch {
                        return [];
                    }
                })),
            }),
        }),
        close: () => {
            closed ??= server.close().finally(() => tls.dispose());
            return closed;
        },
    };
}

export { createClock, type Clock } from "./clock";
export { createClientCertificate, createCertificateAuthority, createTlsMaterial, generateRsaKeyPair, certificateFacts } from "./certificates";
export type { ClientCertificate, RsaKeyPair, TlsMaterial } from "./certificates";
export type { FaultSettings, ThrottleFault, ServerErrorFault, RequestScope, SignInOutage, UnknownTenantAnswers, FederatedExpansion } from "./faults";
export type { Service } from "./http";
export { microsoftGraphAppId, graphApplicationPermission } from "./microsoftGraphPrincipal";
export { RequestLog, type LoggedRequest, type RequestFilter } from "./requestLog";
export { EmulatorState, trustedCertificateAuthorityRestriction } from "./state";
export { builtInRoleDefinitions } from "./rbac";
export type * from "./state";
export type { AccessTokenClaims } from "./token";
