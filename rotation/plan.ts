import type { Tier } from "../infra/catalog";
import type { StackModel } from "../infra/model";
import type { PermissionKind } from "../infra/permissions";

/**
 * The offline plan: what a stack declares, value-free. The JSON form is a stable interface (README,
 * "Plan JSON"): fields are only ever added, and `schemaVersion` changes if one is removed or changes meaning.
 */
export interface PlanDocument {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    /** The instant the plan is computed for (`--at`), ISO-8601 UTC to the second. */
    readonly at: string;
    readonly apps: readonly PlanApp[];
    readonly warnings: readonly PlanWarning[];
    readonly totals: PlanTotals;
}

export interface PlanApp {
    readonly name: string;
    readonly displayName: string;
    readonly signInAudience: string;
    readonly redirectUris: readonly string[];
    readonly owners: readonly string[];
    readonly permissions: readonly PlanPermission[];
}

export type ConsentResource = "appRoleAssignment" | "delegatedPermissionGrant";

export interface PlanPermission {
    readonly api: string;
    readonly apiAppId: string;
    readonly type: PermissionKind;
    readonly name: string;
    /** The id from the offline catalog; null for APIs resolved only at deploy time. */
    readonly id: string | null;
    readonly tier: Tier;
    readonly adminConsentRequired: boolean;
    /** The resource that grants admin consent for it. */
    readonly consent: ConsentResource;
    readonly justification: string | null;
    readonly path: string;
}

export interface PlanWarning {
    readonly path: string;
    readonly message: string;
}

export interface PlanTotals {
    readonly apps: number;
    readonly permissions: number;
    readonly application: number;
    readonly delegated: number;
    readonly tier0: number;
    readonly tier1: number;
}

export function buildPlan(model: StackModel): PlanDocument {
    const apps: PlanApp[] = model.apps.map((app) => ({
        name: app.name,
        displayName: app.displayName,
        signInAudience: app.signInAudience,
        redirectUris: [...app.redirectUris],
        owners: [...app.owners],
        permissions: app.permissions.map((p) => ({
            api: p.api.displayName,
            apiAppId: p.api.appId,
            type: p.kind,
            name: p.name,
            id: p.catalogId ?? null,
            tier: p.tier,
            adminConsentRequired: p.adminConsentRequired,
            consent: p.kind === "application" ? "appRoleAssignment" : "delegatedPermissionGrant",
            justification: p.justification ?? null,
            path: p.path,
        })),
    }));
    const all = apps.flatMap((app) => app.permissions);
    return {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: model.at,
        apps,
        warnings: model.warnings.map(({ path, message }) => ({ path, message })),
        totals: {
            apps: apps.length,
            permissions: all.length,
            application: all.filter((p) => p.type === "application").length,
            delegated: all.filter((p) => p.type === "delegated").length,
            tier0: all.filter((p) => p.type === "application" && p.tier === 0).length,
            tier1: all.filter((p) => p.type === "application" && p.tier === 1).length,
        },
    };
}
