import catalogJson from "../../data/graph-permissions.json";

/**
 * Privilege tier of a Microsoft Graph application permission, from emiliensocchi/azure-tiering:
 * 0 = a known path to Global Administrator, 1 = high impact, 2 = lower impact, null = not tiered.
 */
export type Tier = 0 | 1 | 2 | null;

/** An application permission (app role) of an API. */
export interface AppRoleEntry {
    readonly id: string;
    readonly tier: Tier;
}

/** A delegated permission (oauth2 permission scope) of an API. */
export interface ScopeEntry {
    readonly id: string;
    readonly adminConsentRequired: boolean;
}

/** The offline permission catalog of one API. */
export interface PermissionCatalog {
    readonly resourceAppId: string;
    readonly resourceDisplayName: string;
    readonly application: Readonly<Record<string, AppRoleEntry>>;
    readonly delegated: Readonly<Record<string, ScopeEntry>>;
}

/**
 * Microsoft Graph's permissions, shipped with the project (data/graph-permissions.json, sources inside).
 * It validates names and drives the offline plan; deployments resolve ids from the live service principal,
 * because Microsoft adds permissions over time.
 */
export const graphCatalog: PermissionCatalog = catalogJson as PermissionCatalog;

/** An API that app registrations request permissions on. */
export interface ApiRef {
    /** The API's application (client) id; its service principal is looked up by it at deploy time. */
    readonly appId: string;
    /** How plans and messages name the API. */
    readonly displayName: string;
    /** Short, stable token used in resource names. */
    readonly slug: string;
    /** The offline catalog, when we ship one (only Microsoft Graph). */
    readonly catalog?: PermissionCatalog;
}

export const microsoftGraph: ApiRef = {
    appId: graphCatalog.resourceAppId,
    displayName: graphCatalog.resourceDisplayName,
    slug: "msgraph",
    catalog: graphCatalog,
};

/** APIs that may be named instead of given by appId. Their permission names are checked at deploy time. */
export const knownApis: readonly ApiRef[] = [
    microsoftGraph,
    { appId: "00000002-0000-0ff1-ce00-000000000000", displayName: "Office 365 Exchange Online", slug: "exchange" },
    { appId: "00000003-0000-0ff1-ce00-000000000000", displayName: "Office 365 SharePoint Online", slug: "sharepoint" },
    { appId: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093", displayName: "Azure Key Vault", slug: "keyvault" },
    { appId: "797f4846-ba00-4fd7-ba43-dac1f8f63013", displayName: "Azure Service Management", slug: "azure-management" },
];

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
    return guidPattern.test(value);
}

/**
 * The API a config entry names: a known display name (case-insensitive) or any appId.
 * An appId of a known API resolves to that API, so `00000003-0000-0000-c000-000000000000` is validated
 * against the Graph catalog just like `Microsoft Graph`.
 */
export function findApi(nameOrAppId: string): ApiRef | undefined {
    const wanted = nameOrAppId.trim().toLowerCase();
    const known = knownApis.find((api) => api.displayName.toLowerCase() === wanted || api.appId === wanted);
    if (known) return known;
    if (isGuid(wanted)) return { appId: wanted, displayName: wanted, slug: wanted };
    return undefined;
}
