import { graphCatalog, type Tier } from "../infra/model/catalog";
import { tier0DelegatedScope } from "../infra/model/privilege";
import { isRecord } from "./inputs";
import { graphPermissionsPolicy } from "./names";

/**
 * Rule 2: no tier-0 Microsoft Graph permission (a known path to Global Administrator) unless the organisation
 * allows it by name, with a justification, in the pack's config.
 *
 * Raw resources carry ids, not names, so ids are translated through the project's offline Graph catalog
 * (infra/catalog.ts, the same data and tiers the stacks' own permission policy uses). An application permission
 * asks for privilege in three places, each checked: the app's requested permissions (Application
 * requiredResourceAccesses, or ApplicationApiAccess), and the admin consent that grants it (AppRoleAssignment).
 * A delegated permission is granted to everyone at once by a tenant-wide ServicePrincipalDelegatedPermissionGrant
 * (below). Directory roles are the third way to the same power: directoryRoles.ts.
 */

export const applicationType = "azuread:index/application:Application";
export const applicationApiAccessType = "azuread:index/applicationApiAccess:ApplicationApiAccess";
export const appRoleAssignmentType = "azuread:index/appRoleAssignment:AppRoleAssignment";
export const delegatedGrantType = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant";

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
    return appRolesById.get(id.trim().toLowerCase());
}

/**
 * Application: the application permissions it requests from Microsoft Graph. Graph reads `type` without regard to
 * case ("role" works like "Role"), so it is compared the same way; and anything but a delegated "Scope" is judged
 * as an app role: app role ids and scope ids are distinct GUIDs, so a tier-0 app role id under any other type is
 * a request for that role or a mistake the deployment will refuse, never a harmless scope.
 */
export function validateApplicationPermissions(props: { readonly requiredResourceAccesses?: unknown }, allowed: AllowList): string[] {
    const accesses = props.requiredResourceAccesses;
    if (!Array.isArray(accesses)) return [];
    const ids: string[] = [];
    for (const access of accesses) {
        // Only the fields needed are read: anything else may be unknown during preview.
        if (!isRecord(access) || !isGraph(access.resourceAppId) || !Array.isArray(access.resourceAccesses)) continue;
        for (const requested of access.resourceAccesses) {
            if (!isRecord(requested) || typeof requested.id !== "string") continue;
            const type = typeof requested.type === "string" ? requested.type.trim().toLowerCase() : "";
            if (type !== "scope") ids.push(requested.id);
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
    return typeof appId === "string" && appId.trim().toLowerCase() === graphAppId;
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

// --- delegated permissions ----------------------------------------------------------------------------------

/**
 * Tier-0 delegated Microsoft Graph permissions: the project's one catalog of paths to privilege says which and why
 * (infra/model/privilege.ts): a delegated permission is tier 0 when its application namesake is, plus
 * Directory.AccessAsUser.All. The plan and the review read the same list.
 */
export { tier0DelegatedScope, tier0DelegatedScopes } from "../infra/model/privilege";

/**
 * ServicePrincipalDelegatedPermissionGrant (azuread 6.x: claimValues, resourceServicePrincipalObjectId,
 * servicePrincipalObjectId, userObjectId; "When omitted, the delegated permission grant will be consented for
 * all users", the provider schema): a grant without userObjectId is admin consent for every user of the tenant
 * (consentType AllPrincipals, https://learn.microsoft.com/en-us/graph/api/resources/oauth2permissiongrant).
 * A grant for one user is that user's own consent and is not judged.
 *
 * The resource is a per-tenant service principal object id, so Microsoft Graph cannot be recognised by it; the
 * scope names are judged whatever the resource, because another API publishing a scope named like Graph's
 * tier-0 ones would be imitating them.
 */
export function validateDelegatedGrant(props: { readonly claimValues?: unknown; readonly userObjectId?: unknown }, allowed: AllowList): string[] {
    const user = props.userObjectId;
    if (typeof user === "string" && user.trim() !== "") return [];
    const claims = props.claimValues;
    if (!Array.isArray(claims)) return [];
    const messages = new Set<string>();
    for (const claim of claims) {
        if (typeof claim !== "string") continue;
        // One claim value may carry several scopes, as the grant's own `scope` string does (space-separated).
        for (const part of claim.split(/\s+/)) {
            const name = tier0DelegatedScope(part);
            if (name === undefined || allowed.has(name)) continue;
            messages.add(
                `grants the delegated permission "${name}" to every user of the tenant at once (no userObjectId: admin consent for all principals), ` +
                    `and it is tier 0: acting for an administrator who signs in, the app gets a known path to Global Administrator, and no one is asked. ` +
                    `Grant a narrower permission, or consent per user (userObjectId), or have the organisation allow it in the "${graphPermissionsPolicy}" policy config: ` +
                    `allowDelegated: [{"permission": "${name}", "justification": "<why every user's consent is given at once and what limits its use, at least 20 characters>"}]`,
            );
        }
    }
    return [...messages];
}
