import { graphCatalog, knownApis } from "../../infra/model/catalog";
import { type EntraCloud, federatedEntryOf } from "../../infra/model/federated";
import { delegatedTier } from "../../infra/model/privilege";
import { visible } from "../../rotation/text";
import type { ApiDirectory, ResourceApi, TenantApp } from "./facts";
import { inexpressible } from "./faithful";

/**
 * One application as the stack declares it: the config entry `rotor import` writes (without its name, which
 * is given once every application is known), what the stack cannot say (then the application is left out),
 * and what a person must know before the first `pulumi up` (findings). Consent is taken as it is: each
 * requested permission that is granted is imported by its assignment's or grant's id, each that is not is said
 * loudly (the first `pulumi up` grants it), and consent granted without a request is reported. Pure.
 */

export interface MappingContext {
    /** The stack's tenant: a managed identity's issuer names it. */
    readonly tenantId?: string;
    readonly cloud: EntraCloud;
}

/** `act`: a person decides before the first `pulumi up`; `note`: worth knowing, changes nothing. */
export interface Finding {
    readonly level: "act" | "note";
    readonly message: string;
}

/** A credential of the application, for the tenant report: never a value. */
export interface CredentialFact {
    readonly kind: "secret" | "certificate" | "federated";
    /** The key id, or the federated credential's name. */
    readonly id: string;
    /** The display name, or for a federated credential what it trusts. */
    readonly label: string;
    /** ISO-8601; null for federated credentials, which do not expire. */
    readonly expires: string | null;
}

/** Comment lines the stack file carries beside an entry. */
export interface EntryComments {
    /** Above the application. */
    readonly app: readonly string[];
    /** Beside each `permissions` entry, by its index. */
    readonly permissions: ReadonlyMap<number, readonly string[]>;
    /** After the `permissions` list: APIs none of whose ids name anything. */
    readonly permissionsAfter: readonly string[];
}

export interface MappedApp {
    readonly displayName: string;
    readonly appId: string;
    readonly objectId: string;
    readonly servicePrincipal?: string;
    /** The config entry without `name`; present when the stack can declare the application. */
    readonly entry?: Record<string, unknown>;
    /** Why the stack cannot declare it; empty when it can. */
    readonly reasons: readonly string[];
    readonly findings: readonly Finding[];
    readonly comments: EntryComments;
    readonly credentials: readonly CredentialFact[];
    /** Tier-0 permissions it requests (application or delegated), each needing a written justification. */
    readonly tier0: readonly string[];
}

const graphAppId = graphCatalog.resourceAppId;
const catalogRoleNames = new Map(Object.entries(graphCatalog.application).map(([name, entry]) => [entry.id.toLowerCase(), name]));
const catalogScopeNames = new Map(Object.entries(graphCatalog.delegated).map(([name, entry]) => [entry.id.toLowerCase(), name]));

/** How config names an API: a known API by its display name, any other by its appId. */
export function apiName(appId: string): string {
    return knownApis.find((api) => api.appId === appId)?.displayName ?? appId;
}

/** A tenant's text in a message or comment: one line, control characters as escapes, cut when long. */
export function said(text: string, max = 120): string {
    const line = visible(text);
    return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

interface Requested {
    readonly api: string;
    readonly appId: string;
    readonly application: string[];
    readonly delegated: string[];
    /** Both, in the order Entra holds them: `application:<name>`, `delegated:<name>`. */
    readonly order: string[];
}

export function mapApplication(app: TenantApp, apis: ApiDirectory, context: MappingContext): MappedApp {
    const a = app.application;
    const findings: Finding[] = [];
    const act = (message: string) => findings.push({ level: "act", message });
    const note = (message: string) => findings.push({ level: "note", message });
    const reasons = inexpressible(app);
    const displayName = a.displayName ?? "";

    // Permissions by name: Microsoft Graph's from the offline catalog, other APIs' from their service principals.
    const requested: Requested[] = [];
    const permissionComments = new Map<number, string[]>();
    const permissionsAfter: string[] = [];
    for (const access of a.requiredResourceAccess ?? []) {
        const appId = access.resourceAppId.toLowerCase();
        const api = apiName(appId);
        const live = apis.byAppId(appId);
        const application: string[] = [];
        const delegated: string[] = [];
        const order: string[] = [];
        const unresolved: string[] = [];
        for (const { id, type } of access.resourceAccess ?? []) {
            const key = id.toLowerCase();
            const kind = type === "Role" ? "application" : type === "Scope" ? "delegated" : undefined;
            const name =
                kind === undefined ? undefined : appId === graphAppId ? (kind === "application" ? catalogRoleNames : catalogScopeNames).get(key) : (kind === "application" ? live?.roles : live?.scopes)?.get(key);
            if (name !== undefined) {
                const list = kind === "application" ? application : delegated;
                if (!list.includes(name)) {
                    list.push(name);
                    order.push(`${kind}:${name}`);
                }
                continue;
            }
            const liveName = kind === undefined ? undefined : (kind === "application" ? live?.roles : live?.scopes)?.get(key);
            const why =
                kind === undefined
                    ? `of the type ${said(type)}, which is neither Role nor Scope`
                    : appId === graphAppId && liveName
                      ? `${liveName} on the tenant's Microsoft Graph, but not in the offline catalog (data/graph-permissions.json), which the stack's names are checked against: update it`
                      : live === null
                        ? "the tenant has no service principal for this API"
                        : "no such permission on the API's service principal";
            unresolved.push(`${kind ?? "unknown"} permission ${id} (${why})`);
        }
        if (unresolved.length > 0) {
            const lines = unresolved.map((u) => `not named: ${u}; pulumi up would drop it from the requested permissions`);
            act(`requests ${unresolved.length === 1 ? "a permission" : `${unresolved.length} permissions`} of ${api} that name nothing the stack can declare (${unresolved.join("; ")}): the first pulumi up removes ${unresolved.length === 1 ? "it" : "them"} from the application's requested permissions`);
            if (application.length + delegated.length > 0) permissionComments.set(requested.length, lines);
            else permissionsAfter.push(`${api}: ${lines.join("; ")}`);
        }
        if (application.length + delegated.length > 0) requested.push({ api, appId, application, delegated, order });
    }

    // Tier 0: an allowPrivileged entry whose justification is empty, so rotor plan fails until a person writes why.
    const tier0: string[] = [];
    for (const entry of requested) {
        if (entry.appId !== graphAppId) continue;
        for (const name of entry.application) if (graphCatalog.application[name]?.tier === 0 && !tier0.includes(name)) tier0.push(name);
        for (const name of entry.delegated) if (delegatedTier(name) === 0 && !tier0.includes(name)) tier0.push(name);
    }
    if (tier0.length > 0) act(`requests tier-0 permission${tier0.length === 1 ? "" : "s"} (a known path to Global Administrator): ${tier0.join(", ")}; write why under allowPrivileged, or remove ${tier0.length === 1 ? "it" : "them"} in a change of its own`);

    // Consent as it is.
    const sp = app.servicePrincipal;
    const appRoleAssignments: Record<string, string>[] = [];
    const delegatedGrants: Record<string, string>[] = [];
    const granted = new Set<string>();
    for (const assignment of app.assignments) {
        const resource = apis.byObjectId(assignment.resourceId);
        const roleId = assignment.appRoleId.toLowerCase();
        const permission = resource?.roles.get(roleId) ?? (resource?.appId === graphAppId ? catalogRoleNames.get(roleId) : undefined);
        const entry = resource ? requested.find((r) => r.appId === resource.appId && permission !== undefined && r.application.includes(permission)) : undefined;
        const key = `${resource?.appId}/${permission}`;
        if (entry && permission !== undefined && !granted.has(key)) {
            granted.add(key);
            appRoleAssignments.push({ api: entry.api, permission, id: assignment.id, resource: assignment.resourceId.toLowerCase() });
        } else {
            const what = permission ?? (roleId === "00000000-0000-0000-0000-000000000000" ? "default access" : `app role ${roleId}`);
            note(`has ${what} on ${resourceName(resource, assignment.resourceId, assignment.resourceDisplayName)} granted without requesting it: the stack leaves that assignment as it is and does not manage it`);
        }
    }
    const notGranted = requested.flatMap((r) => r.application.filter((name) => !granted.has(`${r.appId}/${name}`)).map((name) => `${name} (${r.api})`));
    if (notGranted.length > 0) act(`NOT GRANTED in the tenant: application permission${notGranted.length === 1 ? "" : "s"} ${notGranted.join(", ")}: the first pulumi up grants admin consent for ${notGranted.length === 1 ? "it" : "them"}`);

    const allPrincipals = app.grants.filter((grant) => grant.consentType === "AllPrincipals");
    const perUser = app.grants.length - allPrincipals.length;
    if (perUser > 0) note(`has ${perUser} consent${perUser === 1 ? "" : "s"} of single users (delegated grants for one principal): the stack leaves them as they are`);
    const grantedApis = new Set<string>();
    for (const grant of allPrincipals) {
        const resource = apis.byObjectId(grant.resourceId);
        const scopes = (grant.scope ?? "").split(/\s+/).filter((s) => s !== "");
        const entry = resource ? requested.find((r) => r.appId === resource.appId && r.delegated.length > 0) : undefined;
        if (!entry || grantedApis.has(entry.appId)) {
            note(`has delegated consent for all users on ${resourceName(resource, grant.resourceId)} (${scopes.join(" ") || "no scope"}) without requesting a delegated permission there: the stack leaves that grant as it is and does not manage it`);
            continue;
        }
        grantedApis.add(entry.appId);
        delegatedGrants.push({ api: entry.api, id: grant.id });
        // Entra compares scope names without regard to case (privilege.ts): `user.read` in a grant is User.Read.
        const requestedScopes = new Set(entry.delegated.map((s) => s.toLowerCase()));
        const grantedScopes = new Set(scopes.map((s) => s.toLowerCase()));
        const extra = scopes.filter((s) => !requestedScopes.has(s.toLowerCase()));
        const respelled = scopes.filter((s) => requestedScopes.has(s.toLowerCase()) && !entry.delegated.includes(s));
        if (respelled.length > 0) note(`its delegated consent on ${entry.api} writes ${respelled.join(", ")} in another case than the permissions it requests: the same permissions to Entra; pulumi up writes them as the stack names them`);
        if (extra.length > 0) {
            reasons.push(
                `its delegated consent for all users on ${entry.api} also grants ${extra.join(", ")}, which it does not request: the stack grants exactly what an app requests, so pulumi up would revoke ${extra.length === 1 ? "it" : "them"}; request ${extra.length === 1 ? "it" : "them"} in the portal (API permissions) or revoke the consent, then import again`,
            );
        }
        const missing = entry.delegated.filter((s) => !grantedScopes.has(s.toLowerCase()));
        if (missing.length > 0) act(`NOT GRANTED in the tenant: delegated permission${missing.length === 1 ? "" : "s"} ${missing.join(", ")} (${entry.api}): the first pulumi up adds ${missing.length === 1 ? "it" : "them"} to the consent for all users`);
    }
    for (const entry of requested) {
        if (entry.delegated.length > 0 && !grantedApis.has(entry.appId)) {
            act(`NOT GRANTED in the tenant: delegated permission${entry.delegated.length === 1 ? "" : "s"} ${entry.delegated.join(", ")} (${entry.api}): the first pulumi up grants ${entry.delegated.length === 1 ? "it" : "them"} for all users of the tenant`);
        }
    }

    // Owners: the stack gives the application and its service principal the same ones.
    const owners = new Set(app.servicePrincipalOwners);
    const added = app.owners.filter((owner) => !owners.has(owner));
    if (sp && added.length > 0) act(`its service principal lacks the application's owner${added.length === 1 ? "" : "s"} ${added.join(", ")}: the first pulumi up adds ${added.length === 1 ? "it" : "them"} (the stack gives both the same owners)`);

    // Credentials: existing ones listed (never a value), federated ones mapped back to their presets.
    const credentials: CredentialFact[] = [];
    const existing: Record<string, unknown>[] = [];
    for (const [kind, list] of [
        ["secret", a.passwordCredentials ?? []],
        ["certificate", a.keyCredentials ?? []],
    ] as const) {
        for (const credential of list) {
            const expires = credential.endDateTime ?? null;
            const label = credential.displayName ? said(credential.displayName, 256) : "";
            credentials.push({ kind, id: credential.keyId.toLowerCase(), label, expires });
            if (!expires) {
                note(`its ${kind} ${credential.keyId} has no end date in Graph: left out of existing (nothing expires to watch)`);
                continue;
            }
            existing.push({ keyId: credential.keyId.toLowerCase(), kind, ...(credential.displayName ? { displayName: label } : {}), expires });
        }
    }
    const federated: Record<string, unknown>[] = [];
    // Imported by their ids: Entra refuses a second credential of the same name, or of the same issuer and subject.
    const federatedIds: { name: string; id: string }[] = [];
    for (const credential of app.federated) {
        const audience = credential.audiences?.[0];
        if (!credential.subject || credential.audiences?.length !== 1 || audience === undefined) continue;
        const entry = federatedEntryOf(
            { name: credential.name, issuer: credential.issuer, subject: credential.subject, audience, ...(credential.description ? { description: credential.description } : {}) },
            { cloud: context.cloud, ...(context.tenantId ? { tenantId: context.tenantId } : {}) },
        );
        federated.push(entry as unknown as Record<string, unknown>);
        federatedIds.push({ name: credential.name, id: credential.id.toLowerCase() });
        credentials.push({ kind: "federated", id: credential.name, label: said(`${credential.issuer} ${credential.subject}`, 160), expires: null });
    }
    if (existing.length > 0) {
        note(
            `has ${existing.length} credential${existing.length === 1 ? "" : "s"} made outside the stack, listed under existing: they keep working; add the stack's own credential and move consumers to Key Vault, then retire ${existing.length === 1 ? "it" : "them"} (docs/runbook.md#adopting-an-existing-tenant)`,
        );
    }

    const permissionOrder = requested
        .filter((r) => r.order.join("\n") !== [...r.application.map((n) => `application:${n}`), ...r.delegated.map((n) => `delegated:${n}`)].join("\n"))
        .map((r) => ({ api: r.api, order: r.order }));
    const adopt: Record<string, unknown> | undefined = sp
        ? {
              application: a.id.toLowerCase(),
              servicePrincipal: sp.id.toLowerCase(),
              ...(appRoleAssignments.length > 0 ? { appRoleAssignments } : {}),
              ...(delegatedGrants.length > 0 ? { delegatedGrants } : {}),
              ...(federatedIds.length > 0 ? { federatedCredentials: federatedIds } : {}),
              // azuread keeps each API's permissions in order: where Entra's is not application then delegated, say it.
              ...(permissionOrder.length > 0 ? { permissionOrder } : {}),
          }
        : undefined;
    const audience = a.signInAudience ?? "AzureADMyOrg";
    const entry: Record<string, unknown> = {
        displayName,
        ...(a.description ? { description: a.description } : {}),
        ...(a.notes ? { notes: a.notes } : {}),
        ...(audience !== "AzureADMyOrg" ? { signInAudience: audience } : {}),
        ...listed("redirectUris", a.web?.redirectUris),
        ...listed("spaRedirectUris", a.spa?.redirectUris),
        ...listed("publicClientRedirectUris", a.publicClient?.redirectUris),
        ...listed("tags", a.tags),
        ...listed("owners", app.owners),
        ...(requested.length > 0
            ? {
                  permissions: requested.map((r) => ({
                      api: r.api,
                      ...(r.application.length > 0 ? { application: r.application } : {}),
                      ...(r.delegated.length > 0 ? { delegated: r.delegated } : {}),
                  })),
              }
            : {}),
        ...(tier0.length > 0 ? { allowPrivileged: tier0.map((permission) => ({ permission, justification: "" })) } : {}),
        ...(federated.length > 0 ? { credentials: federated } : {}),
        ...(existing.length > 0 ? { existing } : {}),
        ...(adopt ? { adopt } : {}),
    };
    const appComments = [`${said(displayName)} (client id ${a.appId}), as the tenant holds it`, ...findings.filter((f) => f.level === "act").map((f) => `ACT: ${said(f.message, 400)}`)];
    return {
        displayName,
        appId: a.appId.toLowerCase(),
        objectId: a.id.toLowerCase(),
        ...(sp ? { servicePrincipal: sp.id.toLowerCase() } : {}),
        ...(reasons.length === 0 ? { entry } : {}),
        reasons,
        findings,
        comments: { app: appComments, permissions: permissionComments, permissionsAfter },
        credentials,
        tier0,
    };
}

function listed(key: string, values: readonly string[] | null | undefined): Record<string, readonly string[]> {
    return values && values.length > 0 ? { [key]: [...values] } : {};
}

function resourceName(resource: ResourceApi | null | undefined, objectId: string, displayName?: string | null): string {
    if (resource) return apiName(resource.appId) === resource.appId ? `${said(resource.displayName)} (${resource.appId})` : apiName(resource.appId);
    return `the service principal ${objectId}${displayName ? ` (${said(displayName)})` : ""}`;
}
