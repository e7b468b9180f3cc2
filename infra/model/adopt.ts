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
    /**
     * Import ids of the federated credentials Entra holds, by credential name: azuread's
     * `<objectId>/federatedIdentityCredential/<id>` (its import docs; the provider parses an object id, the type and
     * the credential's id, with no `/applications/` prefix); present when the config lists any.
     */
    readonly federatedCredentials?: Readonly<Record<string, string>>;
    /**
     * The order Entra holds an API's requested permissions in, by API slug, as `Role/<name>` and `Scope/<name>`:
     * present for an API whose order is not application then delegated. azuread keeps each API's list of
     * permissions in order, so an import in another order would show a difference.
     */
    readonly permissionOrder?: Readonly<Record<string, readonly string[]>>;
}

interface RawAdopt {
    readonly application: string;
    readonly servicePrincipal: string;
    readonly appRoleAssignments?: readonly { readonly api: string; readonly permission: string; readonly id: string; readonly resource: string }[];
    readonly delegatedGrants?: readonly { readonly api: string; readonly id: string }[];
    readonly federatedCredentials?: readonly { readonly name: string; readonly id: string }[];
    readonly permissionOrder?: readonly { readonly api: string; readonly order: readonly string[] }[];
}

/**
 * The parsed `adopt` of an app, its consent entries checked against the app's permissions: each names an API
 * and (for an assignment) an application permission the app requests, once. The import ids are azuread's:
 * `/servicePrincipals/{resource}/appRoleAssignedTo/{id}` for an assignment, the grant's id for a grant, and
 * `{application}/federatedIdentityCredential/{id}` for a federated credential, which must be one the app declares
 * when `federatedNames` (the names under `credentials`) is given. A permission order lists every permission the app
 * requests on that API, once.
 */
export function resolveAdopt(raw: RawAdopt, permissions: readonly PermissionModel[], appPath: string, issues: IssueList, federatedNames?: readonly string[]): AdoptModel {
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
    const application = raw.application.toLowerCase();
    const federatedCredentials: Record<string, string> = {};
    (raw.federatedCredentials ?? []).forEach((entry, i) => {
        const path = `${appPath}.adopt.federatedCredentials[${i}]`;
        if (federatedNames && !federatedNames.includes(entry.name)) {
            issues.error(path, `the app declares no federated credential "${entry.name}": import only a credential it lists under credentials`);
            return;
        }
        if (federatedCredentials[entry.name]) {
            issues.error(path, `the federated credential "${entry.name}" is listed twice; keep one`);
            return;
        }
        federatedCredentials[entry.name] = `${application}/federatedIdentityCredential/${entry.id.toLowerCase()}`;
    });
    const permissionOrder: Record<string, string[]> = {};
    (raw.permissionOrder ?? []).forEach((entry, i) => {
        const path = `${appPath}.adopt.permissionOrder[${i}]`;
        const api = findApi(entry.api);
        const requested = api ? permissions.filter((p) => p.api.appId === api.appId) : [];
        if (!api || requested.length === 0) {
            issues.error(path, `the app requests no permission on ${entry.api}: order only an API it lists under permissions`);
            return;
        }
        const slug = requested[0]!.api.slug;
        if (permissionOrder[slug]) {
            issues.error(path, `the order of ${entry.api} is given twice; keep one`);
            return;
        }
        const wanted = new Set(requested.map((p) => `${p.kind}:${p.name}`));
        const listed = new Set(entry.order);
        const missing = [...wanted].filter((key) => !listed.has(key));
        const unknown = entry.order.filter((key) => !wanted.has(key));
        if (missing.length > 0 || unknown.length > 0 || listed.size !== entry.order.length) {
            const parts = [
                ...(missing.length ? [`it lacks ${missing.join(", ")}`] : []),
                ...(unknown.length ? [`the app does not request ${unknown.join(", ")}`] : []),
                ...(listed.size !== entry.order.length ? ["it lists a permission twice"] : []),
            ];
            issues.error(`${path}.order`, `${parts.join("; ")}: list every permission the app requests on ${entry.api} once, as application:<name> or delegated:<name>`);
            return;
        }
        permissionOrder[slug] = entry.order.map((key) => (key.startsWith("application:") ? `Role/${key.slice(12)}` : `Scope/${key.slice(10)}`));
    });
    return {
        application,
        servicePrincipal: raw.servicePrincipal.toLowerCase(),
        appRoleAssignments,
        delegatedGrants,
        ...(Object.keys(federatedCredentials).length > 0 ? { federatedCredentials } : {}),
        ...(Object.keys(permissionOrder).length > 0 ? { permissionOrder } : {}),
    };
}
