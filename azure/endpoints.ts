/**
 * Where the live commands talk to: the Azure cloud's sign-in authority, Microsoft Graph and the Key Vault
 * DNS suffix, or explicit overrides (sovereign deployments, proxies, and the tests' local emulator).
 */

export interface CloudEndpoints {
    /** e.g. `https://login.microsoftonline.com`. */
    readonly authorityHost: string;
    /** Microsoft Graph's root, e.g. `https://graph.microsoft.com`; requests go to `{graph}/v1.0/...`. */
    readonly graph: string;
    /** Key Vault's DNS suffix: a vault named `kv` is `https://kv.{suffix}`. */
    readonly keyVaultSuffix: string;
    /** Azure Resource Manager, e.g. `https://management.azure.com`: where `rotor doctor` reads permissions. */
    readonly management: string;
}

export const clouds = {
    AzureCloud: { authorityHost: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com", keyVaultSuffix: "vault.azure.net", management: "https://management.azure.com" },
    AzureUSGovernment: { authorityHost: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us", keyVaultSuffix: "vault.usgovcloudapi.net", management: "https://management.usgovcloudapi.net" },
    AzureChinaCloud: { authorityHost: "https://login.chinacloudapi.cn", graph: "https://microsoftgraph.chinacloudapi.cn", keyVaultSuffix: "vault.azure.cn", management: "https://management.chinacloudapi.cn" },
} as const satisfies Record<string, CloudEndpoints>;

export type CloudName = keyof typeof clouds;

/** Names people use for the clouds, as `az cloud list` and the Azure SDKs spell them. */
const aliases: Record<string, CloudName> = {
    azurecloud: "AzureCloud",
    public: "AzureCloud",
    azureusgovernment: "AzureUSGovernment",
    usgov: "AzureUSGovernment",
    usgovernment: "AzureUSGovernment",
    azurechinacloud: "AzureChinaCloud",
    china: "AzureChinaCloud",
};

/** What the user asked for, from flags (which win) and the environment. */
export interface EndpointOverrides {
    readonly cloud?: string;
    readonly authorityHost?: string;
    readonly graphEndpoint?: string;
    /** The vault's full URL, replacing `https://{name}.{suffix}`. */
    readonly keyVaultUrl?: string;
    /** Azure Resource Manager's root URL. */
    readonly managementEndpoint?: string;
}

/** The environment variables that set the endpoints (`AZURE_AUTHORITY_HOST` is the Azure SDKs' own). */
export const endpointVariables = {
    cloud: "ROTOR_CLOUD",
    authorityHost: "AZURE_AUTHORITY_HOST",
    graphEndpoint: "ROTOR_GRAPH_ENDPOINT",
    keyVaultUrl: "ROTOR_KEY_VAULT_URL",
    managementEndpoint: "ROTOR_MANAGEMENT_ENDPOINT",
} as const;

export interface ResolvedEndpoints extends CloudEndpoints {
    readonly cloud: CloudName;
    /** The token scope for Graph: the cloud's Graph resource, also when requests go to an overridden endpoint. */
    readonly graphScope: string;
    /** Set when the vault URL is overridden for every vault. */
    readonly keyVaultUrl?: string;
    /** Per vault name (lowercase), when overridden as `name=url,name=url` (several stacks, each its vault). */
    readonly keyVaultUrls?: Readonly<Record<string, string>>;
    /** The token scope for Resource Manager: the cloud's, also when requests go to an overridden endpoint. */
    readonly managementScope: string;
}

export class EndpointError extends Error {}

function httpsUrl(value: string, what: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new EndpointError(`${what}: "${value}" is not a URL; use https://host[:port][/path]`);
    }
    if (url.protocol !== "https:") throw new EndpointError(`${what}: "${value}" must use https (tokens and secrets travel over it)`);
    return value.replace(/\/+$/, "");
}

/** Flags first, then environment variables, then the cloud's defaults (public Azure unless told otherwise). */
export function resolveEndpoints(flags: EndpointOverrides, env: Readonly<Record<string, string | undefined>>): ResolvedEndpoints {
    const pick = (key: keyof EndpointOverrides) => flags[key] ?? (env[endpointVariables[key]] || undefined);
    const cloudName = pick("cloud");
    let cloud: CloudName = "AzureCloud";
    if (cloudName !== undefined) {
        const found = aliases[cloudName.toLowerCase()];
        if (!found) throw new EndpointError(`unknown cloud "${cloudName}"; use AzureCloud, AzureUSGovernment or AzureChinaCloud`);
        cloud = found;
    }
    const base = clouds[cloud];
    const authorityHost = pick("authorityHost");
    const graph = pick("graphEndpoint");
    const keyVaultUrl = pick("keyVaultUrl");
    const management = pick("managementEndpoint");
    return {
        cloud,
        authorityHost: authorityHost ? httpsUrl(authorityHost, `--authority-host (${endpointVariables.authorityHost})`) : base.authorityHost,
        graph: graph ? httpsUrl(graph, `--graph-endpoint (${endpointVariables.graphEndpoint})`) : base.graph,
        graphScope: `${base.graph}/.default`,
        keyVaultSuffix: base.keyVaultSuffix,
        management: management ? httpsUrl(management, `--management-endpoint (${endpointVariables.managementEndpoint})`) : base.management,
        managementScope: `${base.management}/.default`,
        ...(keyVaultUrl ? vaultOverrides(keyVaultUrl) : {}),
    };
}

/**
 * `--key-vault-url`: one URL for the stack's vault, or `name=url` pairs separated by commas when several
 * stacks (each with its own vault) are read in one run. A name's URL replaces `https://{name}.{suffix}`.
 */
function vaultOverrides(value: string): { keyVaultUrl: string } | { keyVaultUrls: Record<string, string> } {
    const what = `--key-vault-url (${endpointVariables.keyVaultUrl})`;
    if (!/^[A-Za-z][A-Za-z0-9-]*=/.test(value)) return { keyVaultUrl: httpsUrl(value, what) };
    const urls: Record<string, string> = Object.create(null);
    for (const pair of value.split(",")) {
        const at = pair.indexOf("=");
        const name = pair.slice(0, at).trim().toLowerCase();
        if (at < 1 || !/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/.test(name)) throw new EndpointError(`${what}: "${pair}" is not name=https://...; give a URL, or vault=URL pairs separated by commas`);
        urls[name] = httpsUrl(pair.slice(at + 1).trim(), what);
    }
    return { keyVaultUrls: urls };
}

/**
 * Options for @azure/identity credentials at these endpoints. MSAL checks an authority that is none of the
 * clouds' against the public cloud's instance discovery; a private one (a proxy, an emulator) is not
 * listed there, and asking would leave the machine, so discovery is skipped for it.
 */
export function identityOptions(endpoints: ResolvedEndpoints): { authorityHost: string; disableInstanceDiscovery?: true } {
    const known = Object.values(clouds).some((cloud) => cloud.authorityHost === endpoints.authorityHost);
    return { authorityHost: endpoints.authorityHost, ...(known ? {} : { disableInstanceDiscovery: true as const }) };
}

/** The URL of the stack's vault. */
export function vaultUrl(endpoints: ResolvedEndpoints, vaultName: string): string {
    return endpoints.keyVaultUrls?.[vaultName.toLowerCase()] ?? endpoints.keyVaultUrl ?? `https://${vaultName}.${endpoints.keyVaultSuffix}`;
}

/** Whether the vault's URL is not the cloud's own (a proxy, an emulator): its challenge names a resource the URL cannot match. */
export function vaultUrlOverridden(endpoints: ResolvedEndpoints, vaultName: string): boolean {
    return endpoints.keyVaultUrls?.[vaultName.toLowerCase()] !== undefined || endpoints.keyVaultUrl !== undefined;
}
