/**
 * Where the live commands talk to: the Azure cloud's sign-in authority, Microsoft Graph and the Key Vault
 * DNS suffix, or explicit overrides, which must be hosts of the same service in the same cloud: a bearer
 * token (or a client secret, for the authority) is sent only to hosts of its own service in the cloud in
 * use. Only the emulator setting (ROTOR_ALLOW_LOCAL_ENDPOINTS=1) lets this machine's loopback addresses
 * stand in for a service, as the tests' local emulator does.
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

/**
 * The sign-in authority's hosts per cloud: the cloud's own and the aliases MSAL knows for it (the instance
 * discovery metadata built into @azure/msal-common, `authority/AuthorityMetadata.mjs`: one entry per cloud,
 * listing the hosts that serve the same authority). Learn's "Microsoft Graph national cloud deployments"
 * names the first of each.
 */
const authorityHosts: Record<CloudName, readonly string[]> = {
    AzureCloud: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
    AzureUSGovernment: ["login.microsoftonline.us", "login.usgovcloudapi.net"],
    AzureChinaCloud: ["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
};

/**
 * The variable that lets endpoints on this machine stand in for the cloud's services: a local emulator (the
 * tests') or a developer's proxy. Only loopback addresses (127.0.0.0/8, ::1) qualify, never a name, which
 * resolves to whatever DNS or a hosts file says; remote hosts stay refused with it.
 */
export const allowLocalEndpointsVariable = "ROTOR_ALLOW_LOCAL_ENDPOINTS";

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
    /**
     * The one token scope a vault may ask for in its 401 challenge: the cloud's Key Vault resource
     * (`https://vault.azure.net/.default` in public Azure). A challenge naming any other is refused.
     */
    readonly keyVaultScope: string;
}

export class EndpointError extends Error {
    override readonly name = "EndpointError";
}

type Service = "authority" | "graph" | "management" | "keyVault";

/** What an endpoint must be; the message says the service, the cloud, and how to reach a local emulator. */
function serviceHosts(service: Service, cloud: CloudName): string {
    const base = clouds[cloud];
    switch (service) {
        case "authority":
            return authorityHosts[cloud].join(", ");
        case "graph":
            return new URL(base.graph).hostname;
        case "management":
            return new URL(base.management).hostname;
        case "keyVault":
            return `<vault>.${base.keyVaultSuffix}`;
    }
}

function isServiceHost(service: Service, cloud: CloudName, hostname: string): boolean {
    const base = clouds[cloud];
    switch (service) {
        case "authority":
            return authorityHosts[cloud].includes(hostname);
        case "graph":
            return hostname === new URL(base.graph).hostname;
        case "management":
            return hostname === new URL(base.management).hostname;
        case "keyVault": {
            // One label before the suffix, a vault's name: 3-24 of a-z, 0-9 and -, starting with a letter, no
            // "--" (Learn's "Key Vault keys, secrets and certificates overview", object identifiers). Managed HSMs
            // (`.managedhsm.azure.net`) hold keys only, no secrets (same page, object types), so none is a vault here.
            const suffix = `.${base.keyVaultSuffix}`;
            return hostname.endsWith(suffix) && /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/.test(hostname.slice(0, -suffix.length));
        }
    }
}

/** A loopback address literal: 127.0.0.0/8 or ::1 (WHATWG URL has already normalised the host). */
export function isLoopback(hostname: string): boolean {
    return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === "[::1]";
}

/** A value as an error message may show it: one line, no control or direction characters, bounded. */
function shown(value: string): string {
    const safe = value.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
    return safe.length > 200 ? `${safe.slice(0, 197)}...` : safe;
}

interface Rules {
    readonly cloud: CloudName;
    readonly localEndpoints: boolean;
}

/**
 * An endpoint's URL, checked, as the origin and path WHATWG URL parsed it (what was checked is what is used):
 * https only; no user info (`https://graph.microsoft.com@127.0.0.1` reaches 127.0.0.1, whatever it reads
 * like), no query, no fragment (requests append paths and queries of their own); a host of `service` in
 * the cloud in use, or with the emulator setting a loopback address.
 */
function endpointUrl(value: string, what: string, service: Service, rules: Rules): string {
    let url: URL;
    // WHATWG URL drops tabs and newlines inside and treats `\` as `/`: a value it would rewrite is no endpoint.
    if (/[\s\\]/.test(value)) throw new EndpointError(`${what}: "${shown(value)}" is not a URL; use https://host[:port][/path]`);
    try {
        url = new URL(value);
    } catch {
        throw new EndpointError(`${what}: "${shown(value)}" is not a URL; use https://host[:port][/path]`);
    }
    if (url.protocol !== "https:") throw new EndpointError(`${what}: "${shown(value)}" must use https (tokens and secrets travel over it)`);
    // The authority part as written, up to the path: an "@" there, even with nothing before it, is user info.
    const authority = /^https:\/\/([^/?#]*)/i.exec(value)?.[1] ?? "";
    if (url.username !== "" || url.password !== "" || authority.includes("@")) {
        throw new EndpointError(`${what}: a URL with user info (text before "@") is refused: it would send requests to ${url.host}, not to the host it reads like; give https://host[:port][/path]`);
    }
    if (value.includes("?")) throw new EndpointError(`${what}: "${shown(value)}" has a query ("?"); give https://host[:port][/path] without one`);
    if (value.includes("#")) throw new EndpointError(`${what}: "${shown(value)}" has a fragment ("#"); give https://host[:port][/path] without one`);
    const hostname = url.hostname.toLowerCase();
    if (!isServiceHost(service, rules.cloud, hostname)) {
        if (!isLoopback(hostname)) {
            throw new EndpointError(`${what}: ${shown(url.host)} is not a host of ${serviceNames[service]} in ${rules.cloud} (${serviceHosts(service, rules.cloud)}): ${service === "authority" ? "credentials are" : "its tokens are"} sent to no other host; check --cloud`);
        }
        if (!rules.localEndpoints) {
            throw new EndpointError(`${what}: ${url.host} is on this machine, not ${serviceNames[service]} in ${rules.cloud} (${serviceHosts(service, rules.cloud)}); set ${allowLocalEndpointsVariable}=1 to use a local emulator`);
        }
    }
    return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

const serviceNames: Record<Service, string> = {
    authority: "the Microsoft Entra sign-in authority",
    graph: "Microsoft Graph",
    management: "Azure Resource Manager",
    keyVault: "Key Vault",
};

/** The emulator setting: `1`, or unset (empty, `0`); anything else is a mistake worth saying. */
export function localEndpointsAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
    const value = env[allowLocalEndpointsVariable];
    if (value === undefined || value === "" || value === "0") return false;
    if (value === "1") return true;
    throw new EndpointError(`${allowLocalEndpointsVariable}="${shown(value)}": set it to 1 to allow endpoints on this machine (a local emulator), or leave it unset`);
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
    const rules: Rules = { cloud, localEndpoints: localEndpointsAllowed(env) };
    const authorityHost = pick("authorityHost");
    const graph = pick("graphEndpoint");
    const keyVaultUrl = pick("keyVaultUrl");
    const management = pick("managementEndpoint");
    return {
        cloud,
        authorityHost: authorityHost ? endpointUrl(authorityHost, `--authority-host (${endpointVariables.authorityHost})`, "authority", rules) : base.authorityHost,
        graph: graph ? endpointUrl(graph, `--graph-endpoint (${endpointVariables.graphEndpoint})`, "graph", rules) : base.graph,
        graphScope: `${base.graph}/.default`,
        keyVaultSuffix: base.keyVaultSuffix,
        keyVaultScope: `https://${base.keyVaultSuffix}/.default`,
        management: management ? endpointUrl(management, `--management-endpoint (${endpointVariables.managementEndpoint})`, "management", rules) : base.management,
        managementScope: `${base.management}/.default`,
        ...(keyVaultUrl ? vaultOverrides(keyVaultUrl, rules) : {}),
    };
}

/**
 * `--key-vault-url`: one URL for the stack's vault, or `name=url` pairs separated by commas when several
 * stacks (each with its own vault) are read in one run. A name's URL replaces `https://{name}.{suffix}`.
 */
function vaultOverrides(value: string, rules: Rules): { keyVaultUrl: string } | { keyVaultUrls: Record<string, string> } {
    const what = `--key-vault-url (${endpointVariables.keyVaultUrl})`;
    if (!/^[A-Za-z][A-Za-z0-9-]*=/.test(value)) return { keyVaultUrl: endpointUrl(value, what, "keyVault", rules) };
    const urls: Record<string, string> = Object.create(null);
    for (const pair of value.split(",")) {
        const at = pair.indexOf("=");
        const name = pair.slice(0, at).trim().toLowerCase();
        if (at < 1 || !/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/.test(name)) throw new EndpointError(`${what}: "${shown(pair)}" is not name=https://...; give a URL, or vault=URL pairs separated by commas`);
        urls[name] = endpointUrl(pair.slice(at + 1).trim(), what, "keyVault", rules);
    }
    return { keyVaultUrls: urls };
}

/**
 * Options for @azure/identity credentials at these endpoints. MSAL checks an authority that is none of the
 * clouds' against the public cloud's instance discovery; a private one (a proxy, an emulator) is not
 * listed there, and asking would leave the machine, so discovery is skipped for it.
 */
export function identityOptions(endpoints: ResolvedEndpoints): { authorityHost: string; disableInstanceDiscovery?: true } {
    const known = Object.values(authorityHosts).some((hosts) => hosts.includes(new URL(endpoints.authorityHost).hostname));
    return { authorityHost: endpoints.authorityHost, ...(known ? {} : { disableInstanceDiscovery: true as const }) };
}

/** The URL of the stack's vault. */
export function vaultUrl(endpoints: ResolvedEndpoints, vaultName: string): string {
    return endpoints.keyVaultUrls?.[vaultName.toLowerCase()] ?? endpoints.keyVaultUrl ?? `https://${vaultName}.${endpoints.keyVaultSuffix}`;
}

/**
 * A client's guard for every request it sends, page links included: the origin (scheme, host, port) of the
 * endpoint it was made for, or an EndpointError before the request (and its bearer token) leaves. Graph,
 * Key Vault and Resource Manager link their pages on the host that served the first.
 */
export function sameOrigin(endpoint: string, service: string): (url: string) => void {
    const origin = new URL(endpoint).origin;
    return (url) => {
        let to: string | undefined;
        try {
            to = new URL(url).origin;
        } catch {
            to = undefined;
        }
        if (to !== origin) throw new EndpointError(`${service} (${origin}) linked to ${shown(url.slice(0, 200))}, another host: refused, so its token goes nowhere else`);
    };
}
