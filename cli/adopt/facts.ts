import type {
    GraphAppRoleAssignmentRecord,
    GraphApplicationRecord,
    GraphDelegatedGrantRecord,
    GraphFederatedCredential,
    GraphKeyCredential,
    GraphPasswordCredential,
    GraphServicePrincipalRecord,
} from "../../azure/graph";

/**
 * What `rotor import` knows of one application once its reads are done: the application as Graph holds it
 * (its certificates without their bytes), its owners, its federated credentials, its service principal with
 * that one's owners, and the consent granted to it. Plain data: the mapping to config (toConfig.ts) is a pure
 * function of it and of the APIs it names.
 */
export interface TenantApp {
    readonly application: GraphApplicationRecord;
    readonly owners: readonly string[];
    readonly federated: readonly FederatedRecord[];
    /** Undefined when the application has no service principal in the tenant. */
    readonly servicePrincipal?: GraphServicePrincipalRecord;
    readonly servicePrincipalOwners: readonly string[];
    /** Admin consent for application permissions: the service principal's app role assignments. */
    readonly assignments: readonly GraphAppRoleAssignmentRecord[];
    /** Consent for delegated permissions: grants whose client is the service principal. */
    readonly grants: readonly GraphDelegatedGrantRecord[];
}

export type FederatedRecord = GraphFederatedCredential & { readonly description?: string | null };

/** An API's permissions as its service principal names them: app roles and delegated scopes, by id. */
export interface ResourceApi {
    readonly appId: string;
    readonly objectId: string;
    readonly displayName: string;
    /** App role id -> its value (the permission's name); roles without a value are left out. */
    readonly roles: ReadonlyMap<string, string>;
    readonly scopes: ReadonlyMap<string, string>;
}

/** The APIs the applications name, as the tenant has them; null when the tenant has no such service principal. */
export interface ApiDirectory {
    byAppId(appId: string): ResourceApi | null | undefined;
    byObjectId(objectId: string): ResourceApi | null | undefined;
}

/** An application page's entry, its certificates' bytes dropped at once: import needs their ids and dates only. */
export function compactApplication(application: GraphApplicationRecord): GraphApplicationRecord {
    const keyCredentials = application.keyCredentials?.map(
        (key): GraphKeyCredential => ({
            keyId: key.keyId,
            displayName: key.displayName ?? null,
            type: key.type,
            usage: key.usage,
            startDateTime: key.startDateTime ?? null,
            endDateTime: key.endDateTime ?? null,
            customKeyIdentifier: key.customKeyIdentifier ?? null,
        }),
    );
    const passwordCredentials = application.passwordCredentials?.map(
        (password): GraphPasswordCredential => ({
            keyId: password.keyId,
            displayName: password.displayName ?? null,
            startDateTime: password.startDateTime ?? null,
            endDateTime: password.endDateTime ?? null,
            hint: password.hint ?? null,
        }),
    );
    return { ...application, ...(keyCredentials ? { keyCredentials } : {}), ...(passwordCredentials ? { passwordCredentials } : {}) };
}

/** A service principal's app roles and scopes as a ResourceApi. */
export function resourceApiOf(principal: GraphServicePrincipalRecord): ResourceApi {
    const roles = new Map<string, string>();
    for (const role of principal.appRoles ?? []) if (role.value) roles.set(role.id.toLowerCase(), role.value);
    const scopes = new Map<string, string>();
    for (const scope of principal.oauth2PermissionScopes ?? []) if (scope.value) scopes.set(scope.id.toLowerCase(), scope.value);
    return { appId: principal.appId.toLowerCase(), objectId: principal.id.toLowerCase(), displayName: principal.displayName ?? principal.appId, roles, scopes };
}
