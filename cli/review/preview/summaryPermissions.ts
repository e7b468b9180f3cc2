import type { ApiRef, PermissionCatalog, Tier } from "../../../infra/model/catalog";
import { delegatedTier } from "../../../infra/model/privilege";
import type { ResourceState } from "./previewDocument";
import { isSecretValue, patterns, readMatching, readProperty, readStringList, type ResourceChange, unknownValue } from "./previewResources";
import { AppIndex, tokens } from "./stackResources";
import type { PermissionChange } from "./summaryTypes";

/**
 * Permission changes: what an app requests (requiredResourceAccess on the Application, or an
 * ApplicationApiAccess) and what is consented (an app role assignment per application permission, a
 * delegated grant per API), merged per app, API, permission and direction, with names and tiers from the
 * offline catalog. A delegated permission's tier comes from the project's privilege catalog by its name
 * (infra/model/privilege.ts): a tier-0 one requested, or granted for every user, is an escalation, as the policy
 * pack judges it.
 */

type Kind = PermissionChange["kind"];

interface Access {
    readonly apiAppId: string;
    readonly kind: Kind;
    readonly id: string;
}

/** Lookups into the offline catalog, built once per summary. */
export class PermissionNames {
    private readonly roles = new Map<string, { name: string; tier: Tier }>();
    private readonly scopesById = new Map<string, string>();
    /** By the name in lower case: Entra compares scope names without regard to case. */
    private readonly scopesByName = new Map<string, { name: string; id: string }>();

    constructor(
        readonly catalog: PermissionCatalog,
        readonly apis: readonly ApiRef[],
    ) {
        for (const [name, entry] of Object.entries(catalog.application)) this.roles.set(entry.id.toLowerCase(), { name, tier: entry.tier });
        for (const [name, entry] of Object.entries(catalog.delegated)) {
            this.scopesById.set(entry.id.toLowerCase(), name);
            this.scopesByName.set(name.toLowerCase(), { name, id: entry.id });
        }
    }

    apiName(appId: string | null): string {
        if (appId === null) return "unknown API";
        return this.apis.find((api) => api.appId === appId.toLowerCase())?.displayName ?? appId;
    }

    isCatalogApi(appId: string | null): boolean {
        return appId !== null && appId.toLowerCase() === this.catalog.resourceAppId;
    }

    role(id: string): { name: string; tier: Tier } | undefined {
        return this.roles.get(id.toLowerCase());
    }

    scopeName(id: string): string | undefined {
        return this.scopesById.get(id.toLowerCase());
    }

    /** The catalog's scope of this name, in any case. */
    scope(name: string): { name: string; id: string } | undefined {
        return this.scopesByName.get(name.toLowerCase());
    }

    /** `msgraph-Mail.Send` (a known API's slug) or `<appId>-<value>` (any other API, whose slug is its appId). */
    splitSlug(rest: string): { apiAppId: string | null; value: string } {
        for (const api of this.apis) if (rest.startsWith(`${api.slug}-`)) return { apiAppId: api.appId, value: rest.slice(api.slug.length + 1) };
        const guid = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-(.*))?$/i.exec(rest);
        if (guid) return { apiAppId: guid[1]!.toLowerCase(), value: guid[2] ?? "" };
        return { apiAppId: null, value: "" };
    }
}

/** The permissions a state requests; undefined when the preview cannot tell (unknown until the update). */
function requestedBy(type: string, state: ResourceState | undefined): Access[] | undefined {
    if (!state) return [];
    if (type === tokens.applicationApiAccess) {
        const apiAppId = readMatching(state.inputs, ["apiClientId"], patterns.guid);
        if (!apiAppId) return undefined;
        const ids = (key: string) => readStringList(state.inputs, [key], (id) => patterns.guid.test(id)) ?? [];
        return [
            ...ids("roleIds").map((id): Access => ({ apiAppId, kind: "application", id })),
            ...ids("scopeIds").map((id): Access => ({ apiAppId, kind: "delegated", id })),
        ];
    }
    const raw = state.inputs?.["requiredResourceAccesses"];
    if (raw === undefined || raw === null) return [];
    if (raw === unknownValue || isSecretValue(raw) || !Array.isArray(raw)) return undefined;
    const accesses: Access[] = [];
    for (const entry of raw) {
        const item = entry as Record<string, unknown>;
        const apiAppId = readMatching(item, ["resourceAppId"], patterns.guid);
        const list = readProperty(item, ["resourceAccesses"]);
        if (!apiAppId || !Array.isArray(list)) continue;
        for (const access of list) {
            const id = readMatching(access as Record<string, unknown>, ["id"], patterns.guid);
            const type = readProperty(access as Record<string, unknown>, ["type"]);
            if (id && (type === "Role" || type === "Scope")) accesses.push({ apiAppId: apiAppId.toLowerCase(), kind: type === "Role" ? "application" : "delegated", id: id.toLowerCase() });
        }
    }
    return accesses;
}

const accessKey = (a: Access) => `${a.apiAppId}|${a.kind}|${a.id}`;

/**
 * An added application permission of tier 0 or 1; an added tier-0 delegated one when the app requests it (the
 * program consents every requested delegated permission for all users) or a grant consents it for all users.
 */
function isEscalation(p: Pick<PermissionChange, "change" | "kind" | "tier" | "requested" | "grantedTo">): boolean {
    if (p.change !== "added") return false;
    if (p.kind === "application") return p.tier === 0 || p.tier === 1;
    return p.tier === 0 && (p.requested || p.grantedTo === "allUsers");
}

/** Collects permission changes, merging the request and the consent of the same permission into one entry. */
class PermissionLedger {
    private readonly entries = new Map<string, PermissionChange>();

    constructor(private readonly names: PermissionNames) {}

    add(
        app: string | null,
        change: PermissionChange["change"],
        kind: Kind,
        apiAppId: string | null,
        ref: { id?: string; name?: string },
        via: "requested" | "appRoleAssignment" | "delegatedGrant",
        grantedTo: PermissionChange["grantedTo"] = null,
    ): void {
        const graph = this.names.isCatalogApi(apiAppId);
        let id = ref.id?.toLowerCase() ?? null;
        let permission = ref.name ?? null;
        let tier: Tier = null;
        let inCatalog = false;
        if (kind === "application" && id !== null) {
            const role = this.names.role(id);
            // Graph's app role ids are GUIDs unique to Graph: an id the catalog knows is Graph's even if the API was not named.
            if (role && (graph || apiAppId === null)) {
                permission = role.name;
                tier = role.tier;
                inCatalog = true;
                apiAppId = this.names.catalog.resourceAppId;
            }
        } else if (kind === "delegated") {
            // A grant outside the components names no API: scope names of Graph's catalog are taken as Graph's, as app role ids are.
            const scope = id === null && permission !== null && (graph || apiAppId === null) ? this.names.scope(permission) : undefined;
            if (graph && id !== null && this.names.scopeName(id)) {
                permission = this.names.scopeName(id)!;
                inCatalog = true;
            } else if (scope) {
                permission = scope.name;
                id = scope.id.toLowerCase();
                inCatalog = true;
                apiAppId = this.names.catalog.resourceAppId;
            }
            // By the name, whatever the API: another API's scope named like Graph's tier-0 ones would be imitating them.
            if (permission !== null) tier = delegatedTier(permission);
        }
        const key = `${app ?? ""}|${apiAppId ?? ""}|${kind}|${id ?? `name:${permission ?? ""}`}|${change}`;
        const existing = this.entries.get(key);
        const requested = via === "requested";
        const consent = via === "requested" ? null : via;
        if (existing) {
            const merged = {
                ...existing,
                permission: existing.permission ?? permission,
                requested: existing.requested || requested,
                consent: existing.consent ?? consent,
                grantedTo: existing.grantedTo === "allUsers" || grantedTo === "allUsers" ? ("allUsers" as const) : (existing.grantedTo ?? grantedTo),
            };
            this.entries.set(key, { ...merged, escalation: isEscalation(merged) });
            return;
        }
        this.entries.set(key, {
            app,
            change,
            kind,
            api: this.names.apiName(apiAppId),
            apiAppId,
            permission,
            id,
            inCatalog,
            tier,
            escalation: isEscalation({ change, kind, tier, requested, grantedTo }),
            requested,
            consent,
            grantedTo,
        });
    }

    /** Escalations first (tier 0, then tier 1 additions), then other additions, then removals. */
    sorted(): PermissionChange[] {
        const rank = (p: PermissionChange) => (p.change === "removed" ? 3 : p.escalation ? (p.tier as number) : 2);
        return [...this.entries.values()].sort(
            (a, b) =>
                rank(a) - rank(b) ||
                (a.app ?? "").localeCompare(b.app ?? "") ||
                a.api.localeCompare(b.api) ||
                a.kind.localeCompare(b.kind) ||
                (a.permission ?? a.id ?? "").localeCompare(b.permission ?? b.id ?? ""),
        );
    }
}

function diffRequested(ledger: PermissionLedger, app: string | null, change: ResourceChange): void {
    const before = requestedBy(change.urn.type, change.old);
    const after = requestedBy(change.urn.type, change.new);
    if (before === undefined || after === undefined) return;
    const beforeKeys = new Set(before.map(accessKey));
    const afterKeys = new Set(after.map(accessKey));
    for (const a of after) if (!beforeKeys.has(accessKey(a))) ledger.add(app, "added", a.kind, a.apiAppId, { id: a.id }, "requested");
    for (const a of before) if (!afterKeys.has(accessKey(a))) ledger.add(app, "removed", a.kind, a.apiAppId, { id: a.id }, "requested");
}

function diffRoleAssignment(ledger: PermissionLedger, names: PermissionNames, app: string | null, change: ResourceChange): void {
    const before = change.old ? readMatching(change.old.inputs, ["appRoleId"], patterns.guid) : undefined;
    const after = change.new ? readMatching(change.new.inputs, ["appRoleId"], patterns.guid) : undefined;
    if (before === after) return; // re-created for another reason (e.g. a new service principal): same consent
    // Named `<app>-role-<api slug>-<permission>` by AppRegistration: the API and the name as the program wrote them.
    const rest = AppIndex.strip(app, change.urn.name);
    const { apiAppId, value } = rest.startsWith("role-") ? names.splitSlug(rest.slice("role-".length)) : { apiAppId: null, value: "" };
    const name = patterns.permission.test(value) ? value : undefined;
    if (after) ledger.add(app, "added", "application", apiAppId, { id: after, ...(name ? { name } : {}) }, "appRoleAssignment");
    if (before) ledger.add(app, "removed", "application", apiAppId, { id: before, ...(name ? { name } : {}) }, "appRoleAssignment");
}

/**
 * The scopes a grant consents, and for whom. One claim value may carry several scopes, space-separated as the
 * grant's own `scope` string is (the policy pack reads them so too), and a value that is not scope names is left
 * out rather than hiding the others. Undefined when the preview cannot tell (unknown until the update).
 */
function grantOf(state: ResourceState | undefined): { claims: string[]; grantedTo: "allUsers" | "oneUser" } | undefined {
    if (!state) return { claims: [], grantedTo: "allUsers" };
    const list = readProperty(state.inputs, ["claimValues"]);
    if (!Array.isArray(list)) return undefined;
    const claims = list.flatMap((value: unknown) => {
        if (typeof value !== "string" || isSecretValue(value) || value === unknownValue) return [];
        const scopes = value.trim().split(/\s+/);
        return scopes.every((scope) => patterns.permission.test(scope)) ? scopes : [];
    });
    // Without userObjectId the grant is admin consent for every user (AllPrincipals); one not known until the update may be either.
    const user = readProperty(state.inputs, ["userObjectId"]);
    return { claims: [...new Set(claims)], grantedTo: typeof user === "string" && user.trim() !== "" ? "oneUser" : "allUsers" };
}

function diffDelegatedGrant(ledger: PermissionLedger, names: PermissionNames, app: string | null, change: ResourceChange): void {
    const before = grantOf(change.old);
    const after = grantOf(change.new);
    if (before === undefined || after === undefined) return;
    // Named `<app>-grant-<api slug>` by AppRegistration.
    const rest = AppIndex.strip(app, change.urn.name);
    const { apiAppId } = rest.startsWith("grant-") ? names.splitSlug(`${rest.slice("grant-".length)}-`) : { apiAppId: null };
    // A scope consented for one user that becomes consented for all is added, as a new scope is.
    const key = (grantedTo: string, claim: string) => `${grantedTo} ${claim}`;
    const had = new Set(before.claims.map((claim) => key(before.grantedTo, claim)));
    const has = new Set(after.claims.map((claim) => key(after.grantedTo, claim)));
    for (const claim of after.claims) if (!had.has(key(after.grantedTo, claim))) ledger.add(app, "added", "delegated", apiAppId, { name: claim }, "delegatedGrant", after.grantedTo);
    for (const claim of before.claims) if (!has.has(key(before.grantedTo, claim))) ledger.add(app, "removed", "delegated", apiAppId, { name: claim }, "delegatedGrant", before.grantedTo);
}

/** Every permission added or removed, requested or consented, escalations first. */
export function permissionChanges(changes: readonly ResourceChange[], apps: AppIndex, names: PermissionNames): PermissionChange[] {
    const ledger = new PermissionLedger(names);
    for (const change of changes) {
        if (change.change === "none") continue;
        const app = apps.appOf(change.urn);
        switch (change.urn.type) {
            case tokens.application:
            case tokens.applicationRegistration:
            case tokens.applicationApiAccess:
                diffRequested(ledger, app, change);
                break;
            case tokens.appRoleAssignment:
                diffRoleAssignment(ledger, names, app, change);
                break;
            case tokens.delegatedGrant:
                diffDelegatedGrant(ledger, names, app, change);
                break;
        }
    }
    return ledger.sorted();
}
