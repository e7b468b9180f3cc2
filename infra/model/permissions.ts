import { type ApiRef, findApi, knownApis, type Tier } from "./catalog";
import { delegatedTier } from "./privilege";
import { type ConfigIssue, IssueList } from "./issues";
import type { RawPermissionEntry, RawPrivilegedEntry } from "./schema";
import { didYouMean } from "./suggest";

export type PermissionKind = "application" | "delegated";

/** One permission an app requests, as the model and the plan see it. */
export interface PermissionModel {
    readonly api: ApiRef;
    readonly kind: PermissionKind;
    /** The permission's value, e.g. `Mail.Send`. */
    readonly name: string;
    /** The id from the offline catalog; absent for APIs without one (resolved live at deploy time). */
    readonly catalogId?: string;
    /**
     * Privilege tier from the catalog; null when untiered or unknown offline. Application permissions have
     * azure-tiering's tiers; a delegated permission is tier 0 or untiered (privilege.ts says how it is derived).
     */
    readonly tier: Tier;
    /** Whether an administrator must consent (always for application permissions). */
    readonly adminConsentRequired: boolean;
    /** The written reason from `allowPrivileged`, when the app gives one. */
    readonly justification?: string;
    /** Where it is declared, e.g. `apps[0].permissions[1].application[0]`. */
    readonly path: string;
}

/** Text that is there to pass the length check rather than to explain anything. */
/** Justifications that say nothing: refused by the stack and by the policy pack alike. */
export const placeholderJustification = /\b(todo|tbd|fixme|placeholder|lorem ipsum|changeme)\b|^(.)\2*$/i;

/** What the permission policy looks at in an app; invalid entries are undefined and skipped. */
export interface PermissionInput {
    readonly permissions?: readonly (RawPermissionEntry | undefined)[];
    readonly allowPrivileged?: readonly (RawPrivilegedEntry | undefined)[];
    /**
     * The `permission` each allowPrivileged entry names, also of entries that are invalid otherwise (a
     * justification too short): an allowance for something not requested is reported all the same.
     */
    readonly allowPrivilegedNames?: readonly (string | undefined)[];
}

/**
 * Validates and resolves an app's permissions against the offline catalog and the permission policy:
 * names must exist, nothing twice, tier 0 needs an `allowPrivileged` justification, tier 1 is a warning. A
 * tier-0 delegated permission needs a justification too: this project consents every delegated permission for
 * all users of the tenant (an AllPrincipals grant), so it is as much a path to Global Administrator.
 * Pure: the same app gives the same result and issues.
 */
export function resolvePermissions(app: PermissionInput, appPath: string): { permissions: PermissionModel[]; issues: ConfigIssue[] } {
    const issues = new IssueList();
    const permissions: PermissionModel[] = [];
    const justifications = collectJustifications(app, appPath, issues);
    // With an invalid allowPrivileged entry we cannot know what is justified: its own error is reported,
    // and tier refusals wait until it is fixed rather than being reported wrongly.
    const allowancesKnown = (app.allowPrivileged ?? []).every((entry) => entry !== undefined);
    const apiFirstSeen = new Map<string, number>();

    (app.permissions ?? []).forEach((entry, i) => {
        if (!entry) return;
        const entryPath = `${appPath}.permissions[${i}]`;
        const api = findApi(entry.api);
        if (!api) {
            const names = knownApis.map((known) => known.displayName);
            issues.error(
                `${entryPath}.api`,
                `unknown API "${entry.api}"${didYouMean(entry.api, names)}; name one of ${names.map((n) => `"${n}"`).join(", ")} or give the API's appId (a GUID)`,
            );
            return;
        }
        const earlier = apiFirstSeen.get(api.appId);
        if (earlier !== undefined) {
            issues.error(`${entryPath}.api`, `${api.displayName} is already listed at ${appPath}.permissions[${earlier}]; list all its permissions in that entry`);
            return;
        }
        apiFirstSeen.set(api.appId, i);
        if ((entry.application ?? []).length === 0 && (entry.delegated ?? []).length === 0) {
            issues.error(entryPath, `requests no permission on ${api.displayName}; add application: [...] or delegated: [...], or remove the entry`);
            return;
        }
        for (const kind of ["application", "delegated"] as const) {
            const seen = new Map<string, number>();
            (entry[kind] ?? []).forEach((name, j) => {
                const path = `${entryPath}.${kind}[${j}]`;
                const first = seen.get(name);
                if (first !== undefined) {
                    issues.error(path, `"${name}" is listed twice (first at ${entryPath}.${kind}[${first}]); remove one`);
                    return;
                }
                seen.set(name, j);
                const permission = resolveOne(api, kind, name, path, justifications.get(name), allowancesKnown, issues);
                if (permission) permissions.push(permission);
            });
        }
    });

    // An allowance for something the app does not request is stale, and stale allow-lists hide intent.
    // Only when every permission entry is valid: an allowance may be for a permission in a broken entry.
    const permissionsKnown = (app.permissions ?? []).every((entry) => entry !== undefined);
    // What an allowance can justify: application permissions of an API with a catalog, and tier-0 delegated ones.
    const requested = [...new Set(permissions.filter((p) => p.api.catalog && (p.kind === "application" || p.tier === 0)).map((p) => p.name))];
    const allowed = new Map<string, string>();
    for (const [name, { path }] of justifications) allowed.set(name, path);
    (app.allowPrivilegedNames ?? []).forEach((name, k) => {
        if (typeof name === "string" && !allowed.has(name)) allowed.set(name, `${appPath}.allowPrivileged[${k}]`);
    });
    for (const [name, path] of permissionsKnown ? allowed : []) {
        if (!requested.includes(name)) {
            issues.error(
                `${path}.permission`,
                `"${name}" is not requested by this app as a Microsoft Graph application permission${didYouMean(name, requested)}; remove the entry or request the permission ` +
                    `(an allowance justifies an application permission, or a tier-0 delegated one)`,
            );
        }
    }
    return { permissions, issues: issues.items };
}

interface Justification {
    readonly text: string;
    readonly path: string;
}

function collectJustifications(app: PermissionInput, appPath: string, issues: IssueList): Map<string, Justification> {
    const byName = new Map<string, Justification>();
    (app.allowPrivileged ?? []).forEach((entry, k) => {
        if (!entry) return;
        const path = `${appPath}.allowPrivileged[${k}]`;
        const previous = byName.get(entry.permission);
        if (previous) {
            issues.error(`${path}.permission`, `"${entry.permission}" is already allowed at ${previous.path}; keep one entry`);
            return;
        }
        if (placeholderJustification.test(entry.justification)) {
            issues.error(`${path}.justification`, `"${entry.justification}" is a placeholder; say why the app needs the permission and what limits its use`);
        }
        byName.set(entry.permission, { text: entry.justification, path });
    });
    return byName;
}

function resolveOne(
    api: ApiRef,
    kind: PermissionKind,
    name: string,
    path: string,
    justification: Justification | undefined,
    allowancesKnown: boolean,
    issues: IssueList,
): PermissionModel | undefined {
    const catalog = api.catalog;
    if (!catalog) {
        // No offline catalog: the name is checked against the API's live service principal at deploy time.
        return { api, kind, name, tier: null, adminConsentRequired: kind === "application", path };
    }
    const other: PermissionKind = kind === "application" ? "delegated" : "application";
    if (kind === "application") {
        const entry = catalog.application[name];
        if (!entry) {
            issues.error(path, unknownMessage(api, kind, name, Object.keys(catalog.application), name in catalog.delegated ? other : undefined));
            return undefined;
        }
        if (!allowancesKnown || justification) {
            // Nothing to say: justified, or the allowances are invalid and reported on their own.
        } else if (entry.tier === 0) {
            issues.error(
                path,
                `"${name}" is a tier-0 ${api.displayName} application permission (a known path to Global Administrator); ` +
                    `it is refused unless the app lists it under allowPrivileged with a justification, or choose a narrower permission`,
            );
        } else if (entry.tier === 1) {
            issues.warning(path, `"${name}" is a tier-1 (high impact) application permission; prefer a narrower one, or justify it under allowPrivileged`);
        }
        return {
            api,
            kind,
            name,
            catalogId: entry.id,
            tier: entry.tier,
            adminConsentRequired: true,
            ...(justification ? { justification: justification.text } : {}),
            path,
        };
    }
    const entry = catalog.delegated[name];
    if (!entry) {
        issues.error(path, unknownMessage(api, kind, name, Object.keys(catalog.delegated), name in catalog.application ? other : undefined));
        return undefined;
    }
    const tier = delegatedTier(name);
    if (tier === 0 && allowancesKnown && !justification) {
        issues.error(
            path,
            `"${name}" is a tier-0 ${api.displayName} delegated permission: the stack consents it for every user of the tenant at once, ` +
                `so the app acts with it for any administrator who signs in (a known path to Global Administrator); ` +
                `it is refused unless the app lists it under allowPrivileged with a justification, or choose a narrower permission`,
        );
    }
    return {
        api,
        kind,
        name,
        catalogId: entry.id,
        tier,
        adminConsentRequired: entry.adminConsentRequired,
        ...(justification && tier === 0 ? { justification: justification.text } : {}),
        path,
    };
}

function unknownMessage(api: ApiRef, kind: PermissionKind, name: string, candidates: string[], existsAs: PermissionKind | undefined): string {
    if (existsAs) return `"${name}" is a ${api.displayName} ${existsAs} permission, not ${kind === "application" ? "an application" : "a delegated"} one; move it under ${existsAs}`;
    return `unknown ${api.displayName} ${kind} permission "${name}"${didYouMean(name, candidates)}`;
}
