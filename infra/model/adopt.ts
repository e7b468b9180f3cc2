import { findApi } from "./catalog";
import type { IssueList } from "./issues";
import type { PermissionModel } from "./permissions";

/**
 * An app registration made elsewhere (the portal), taken over by the stack: its object ids, and the admin
 * consent already granted to it, which the program imports instead of granting again. Entra refuses a second
 * app role assignment identical to one that exists, so without the ids the first `pulumi up` would fail there.
 */
export interface AdoptModel {
    /** The application's object id (lower case). */
    readonly application: string;
    /** Its service principal's object id (lower case). */
    readonly servicePrincipal: string;
    /** Import ids of the app role assignments, by `<api slug>/<permission>` (the key AppRegistration uses). */
    readonly appRoleAssignments: Readonly<Record<string, string>>;
    /** Import ids of the tenant-wide delegated permission grants, by API slug. */
    readonly delegatedGrants: Readonly<Record<string, string>>;
}

interface RawAdopt {
    readonly application: string;
    readonly servicePrincipal: string;
    readonly appRoleAssignments?: readonly { readonly api: string; readonly permission: string; readonly id: string; readonly resource: string }[];
    readonly delegatedGrants?: readonly { readonly api: string; readonly id: string }[];
}

/**
 * The parsed `adopt` of an app, its consent entries checked against the app's permissions: each names an API
 * and (for an assignment) an application permission the app requests, once. The import ids are azuread's:
 * `/servicePrincipals/{resource}/appRoleAssignedTo/{id}` for an assignment, the grant's id for a grant.
 */
export function resolveAdopt(raw: RawAdopt, permissions: readonly PermissionModel[], appPath: string, issues: IssueList): AdoptModel {
    const appRoleAssignments: Record<string, string> = {};
    (raw.appRoleAssignments ?? []).forEach((entry, i) => {
        const path = `${appPath}.adopt.appRoleAssignments[${i}]`;
        const api = findApi(entry.api);
        const permission = api && permissions.find((p) => p.kind === "application" && p.api.appId === api.appId && p.name === entry.permission);
        if (!permission) {
            issues.error(path, `the app requests no application permission "${entry.permission}" on ${entry.api}: import only the consent of a permission it lists under permissions`);
            return;
        }
        const key = `${permission.api.slug}/${permission.name}`;
        if (appRoleAssignments[key]) {
            issues.error(path, `the assignment of ${entry.permission} on ${entry.api} is listed twice; keep one`);
            return;
        }
        appRoleAssignments[key] = `/servicePrincipals/${entry.resource.toLowerCase()}/appRoleAssignedTo/${entry.id}`;
    });
    const delegatedGrants: Record<string, string> = {};
    (raw.delegatedGrants ?? []).forEach((entry, i) => {
        const path = `${appPath}.adopt.delegatedGrants[${i}]`;
        const api = findApi(entry.api);
        const requested = api && permissions.find((p) => p.kind === "delegated" && p.api.appId === api.appId);
        if (!requested) {
            issues.error(path, `the app requests no delegated permission on ${entry.api}: import only the grant of an API it lists delegated permissions for`);
            return;
        }
        if (delegatedGrants[requested.api.slug]) {
            issues.error(path, `the grant on ${entry.api} is listed twice; keep one`);
            return;
        }
        delegatedGrants[requested.api.slug] = entry.id;
    });
    return { application: raw.application.toLowerCase(), servicePrincipal: raw.servicePrincipal.toLowerCase(), appRoleAssignments, delegatedGrants };
}
