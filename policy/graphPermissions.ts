import { graphCatalog, type Tier } from "../infra/model/catalog";
import { isRecord } from "./inputs";
import { graphPermissionsPolicy } from "./names";

/**
 * Rule 2: no tier-0 Microsoft Graph application permission (a known path to Global Administrator) unless the
 * organisation allows it by name, with a justification, in the pack's config.
 *
 * Raw resources carry ids, not names, so ids are translated through the project's offline Graph catalog
 * (infra/catalog.ts, the same data and tiers the stacks' own permission policy uses). A permission asks for
 * privilege in three places, each checked: the app's requested permissions (Application
 * requiredResourceAccesses, or ApplicationApiAccess), and the admin consent that grants it (AppRoleAssignment).
 */

export const applicationType = "azuread:index/application:Application";
export const applicationApiAccessType = "azuread:index/applicationApiAccess:ApplicationApiAccess";
export const appRoleAssignmentType = "azuread:index/appRoleAssignment:AppRoleAssignment";

/** Allowed tier-0 permission names, each with the organisation's written reason. */
export type AllowList = ReadonlyMap<string, string>;

/** A Microsoft Graph application permission, as the catalog knows it. */
export interface GraphAppRole {
    readonly name: string;
    readonly id: string;
    readonly tier: Tier;
}

const graphAppId = graphCatalog.resourceAppId.toLowerCase();

const appRolesById: ReadonlyMap<string, GraphAppRole> = new Map(
    Object.entries(graphCatalog.application).map(([name, entry]) => [entry.id.toLowerCase(), { name, id: entry.id, tier: entry.tier }]),
);

/** The Graph application permission with this app role id, or undefined for ids the catalog does not know. */
export function graphAppRole(id: string): GraphAppRole | undefined {
    return appRolesById.get(id.toLowerCase());
}

/** Application: the application permissions it requests from Microsoft Graph (type "Role"; "Scope" is delegated). */
export function validateApplicationPermissions(props: { readonly requiredResourceAccesses?: unknown }, allowed: AllowList): string[] {
    const accesses = props.requiredResourceAccesses;
    if (!Array.isArray(accesses)) return [];
    const ids: string[] = [];
    for (const access of accesses) {
        // Only the fields needed are read: anything else may be unknown during preview.
        if (!isRecord(access) || !isGraph(access.resourceAppId) || !Array.isArray(access.resourceAccesses)) continue;
        for (const requested of access.resourceAccesses) {
            if (isRecord(requested) && requested.type === "Role" && typeof requested.id === "string") ids.push(requested.id);
        }
    }
    return refusals(ids, "requests", allowed);
}

/** ApplicationApiAccess: the same request as requiredResourceAccesses, as a resource of its own. */
export function validateApiAccess(props: { readonly apiClientId?: unknown; readonly roleIds?: unknown }, allowed: AllowList): string[] {
    if (!isGraph(props.apiClientId) || !Array.isArray(props.roleIds)) return [];
    return refusals(
        props.roleIds.filter((id): id is string => typeof id === "string"),
        "requests",
        allowed,
    );
}

/**
 * AppRoleAssignment: admin consent to an application permission. Its resource is a service principal object id,
 * which differs per tenant, so Microsoft Graph cannot be recognised by it; the app role id is enough, because
 * Graph's app role ids are the same in every tenant and, being GUIDs, are not reused by any other API.
 */
export function validateAppRoleAssignment(props: { readonly appRoleId?: unknown }, allowed: AllowList): string[] {
    return typeof props.appRoleId === "string" ? refusals([props.appRoleId], "grants (admin consent)", allowed) : [];
}

function isGraph(appId: unknown): boolean {
    return typeof appId === "string" && appId.toLowerCase() === graphAppId;
}

function refusals(ids: readonly string[], verb: string, allowed: AllowList): string[] {
    const messages = new Set<string>();
    for (const id of ids) {
        const role = graphAppRole(id);
        if (!role || role.tier !== 0 || allowed.has(role.name)) continue;
        messages.add(
            `${verb} the Microsoft Graph application permission "${role.name}" (app role ${role.id}), which is tier 0: a known path to Global Administrator. ` +
                `Choose a narrower permission, or have the organisation allow it in the "${graphPermissionsPolicy}" policy config: ` +
                `allowPrivileged: [{"permission": "${role.name}", "justification": "<why the app needs it and what limits its use, at least 20 characters>"}]`,
        );
    }
    return [...messages];
}
