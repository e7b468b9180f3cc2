import type { EmulatorState, RoleDefinition, Vault } from "./state";

/**
 * Azure RBAC as both planes of Key Vault decide it: role definitions (Actions, NotActions, DataActions,
 * NotDataActions with `*` wildcards), assignments at a scope, and the rule that an operation is allowed when
 * some role assigned to the caller at a scope covering the resource lists it and does not exclude it
 * (per role: Actions minus NotActions; across roles: the union). Deny assignments and conditions are not
 * emulated.
 */

/** Which half of a role definition an operation is judged by. */
export type Plane = "control" | "data";

const adminReadActions = [
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
] as const;

function builtIn(id: string, roleName: string, permissions: Partial<Pick<RoleDefinition, "actions" | "notActions" | "dataActions" | "notDataActions">>): RoleDefinition {
    return { id, roleName, type: "BuiltInRole", actions: [], notActions: [], dataActions: [], notDataActions: [], ...permissions };
}

/** Azure's definitions (ids and permissions as `az role definition list` shows them). */
export const builtInRoleDefinitions: readonly RoleDefinition[] = [
    builtIn("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", { actions: ["*"] }),
    builtIn("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", {
        actions: ["*"],
        notActions: [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
        ],
    }),
    builtIn("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", { actions: ["*/read"] }),
    builtIn("00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator", { actions: [...adminReadActions], dataActions: ["Microsoft.KeyVault/vaults/*"] }),
    builtIn("f25e0fa2-a7c8-4377-a976-54943a77a395", "Key Vault Contributor", {
        actions: [
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.KeyVault/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ],
        notActions: ["Microsoft.KeyVault/locations/deletedVaults/purge/action", "Microsoft.KeyVault/hsmPools/*", "Microsoft.KeyVault/managedHsms/*"],
    }),
    builtIn("21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader", {
        actions: [...adminReadActions],
        dataActions: ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
    }),
    builtIn("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer", { actions: [...adminReadActions], dataActions: ["Microsoft.KeyVault/vaults/secrets/*"] }),
    builtIn("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User", {
        dataActions: ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
    }),
];

const patternCache = new Map<string, RegExp>();

/** Azure's wildcard rule: `*` stands for any characters (slashes included), and case does not matter. */
export function operationMatches(pattern: string, operation: string): boolean {
    let regex = patternCache.get(pattern);
    if (!regex) {
        const body = pattern
            .split("*")
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*");
        regex = new RegExp(`^${body}$`, "i");
        patternCache.set(pattern, regex);
    }
    return regex.test(operation);
}

/** Whether one role allows the operation: listed in (Data)Actions and not excluded by Not(Data)Actions. */
export function rolePermits(role: RoleDefinition, operation: string, plane: Plane): boolean {
    const [allowed, excluded] = plane === "control" ? [role.actions, role.notActions] : [role.dataActions, role.notDataActions];
    return allowed.some((p) => operationMatches(p, operation)) && !excluded.some((p) => operationMatches(p, operation));
}

/** An assignment at `scope` applies to `resource` when the scope is the resource or one of its ancestors. */
export function scopeCovers(scope: string, resource: string): boolean {
    const s = scope.replace(/\/+$/, "").toLowerCase();
    const r = resource.replace(/\/+$/, "").toLowerCase();
    return r === s || r.startsWith(`${s}/`);
}

/** Every assignment (vault-level and subscription/resource-group level) whose scope covers `resource`. */
export function assignmentsCovering(state: EmulatorState, resource: string): { readonly principalId: string; readonly role: string }[] {
    const found: { principalId: string; role: string }[] = state.roleAssignments.filter((a) => scopeCovers(a.scope, resource));
    for (const vault of state.vaults.values()) {
        if (vault.roleAssignments && scopeCovers(state.vaultResourceId(vault), resource)) found.push(...vault.roleAssignments);
    }
    return found;
}

/** The definitions of the roles a principal holds over `resource`, each once, in assignment order. */
export function rolesOf(state: EmulatorState, principalId: string, resource: string): RoleDefinition[] {
    const roles: RoleDefinition[] = [];
    for (const assignment of assignmentsCovering(state, resource)) {
        if (assignment.principalId.toLowerCase() !== principalId.toLowerCase()) continue;
        const role = state.requireRoleDefinition(assignment.role);
        if (!roles.includes(role)) roles.push(role);
    }
    return roles;
}

/** Whether the principal may perform the operation on the resource. */
export function isPermitted(state: EmulatorState, principalId: string, resource: string, operation: string, plane: Plane): boolean {
    return rolesOf(state, principalId, resource).some((role) => rolePermits(role, operation, plane));
}

/**
 * Whether the data plane of a vault checks RBAC at all: when the vault has a role assignment list (even an
 * empty one; `assignRole` on the vault creates it). Then every assignment covering the vault counts, the
 * resource group's and the subscription's too. Without one the vault keeps the emulator's convenient default,
 * everyone may do everything, so that a subscription-wide assignment made for ARM does not close every vault.
 */
export function vaultEnforcesRbac(vault: Vault): boolean {
    return vault.roleAssignments !== undefined;
}
