import { builtInRoleById, directoryRoleAssignmentType, directoryRoleEligibilityType, directoryRoleInputs, directoryRoleMemberType, isRefusedRole } from "../../../infra/model/privilege";
import type { ResourceState } from "./previewDocument";
import { readProperty, type ResourceChange } from "./previewResources";
import { actionOf, type AppIndex } from "./stackResources";
import type { DirectoryRoleChange, DirectoryRoleKind } from "./summaryTypes";

/**
 * Directory roles in a preview: every azuread resource that hands a Microsoft Entra role to a principal (or takes
 * it away), named from the project's catalog of built-in roles (infra/model/privilege.ts, the one the policy pack
 * judges them by). A service principal holding Global Administrator owns the tenant as surely as one holding
 * RoleManagement.ReadWrite.Directory, so a privileged or tier-0 role is an escalation; so is a role the catalog
 * cannot recognise (a custom role's or an activated role's object id, or an id not known until the update), which
 * can stand for any role, Global Administrator's included.
 */

const kinds: Readonly<Record<string, DirectoryRoleKind>> = {
    [directoryRoleAssignmentType]: "assignment",
    [directoryRoleEligibilityType]: "eligibility",
    [directoryRoleMemberType]: "member",
};

/** An id as the resource gives it: a string that is not unknown or secret (those read as undefined); shown escaped. */
function idAt(state: ResourceState | undefined, key: string): string | null {
    const value = readProperty(state?.inputs, [key]);
    return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

function entry(app: string | null, change: ResourceChange, kind: DirectoryRoleKind, state: ResourceState | undefined, action: DirectoryRoleChange["action"]): DirectoryRoleChange {
    const inputs = directoryRoleInputs[change.urn.type]!;
    const roleId = idAt(state, inputs.role);
    // A DirectoryRoleMember names an activated role by its object id, which differs per tenant: never a template id.
    const role = roleId !== null && kind !== "member" ? builtInRoleById(roleId) : undefined;
    return {
        app,
        resource: change.urn.name,
        kind,
        action,
        roleId,
        role: role?.name ?? null,
        privileged: role?.privileged ?? false,
        tier0: role?.tier0 ?? false,
        principal: idAt(state, inputs.principal),
        escalation: action !== "deleted" && (role === undefined || isRefusedRole(role)),
    };
}

/** Escalations first (tier 0, then other privileged, then unrecognised roles), then the others; stable. */
function rank(r: DirectoryRoleChange): number {
    if (!r.escalation) return r.action === "deleted" ? 5 : 4;
    if (r.tier0) return 0;
    if (r.privileged) return 1;
    return 2;
}

/** Every directory role handed out or taken away in the preview. */
export function directoryRoleChanges(changes: readonly ResourceChange[], apps: AppIndex): DirectoryRoleChange[] {
    const out: DirectoryRoleChange[] = [];
    for (const change of changes) {
        const kind = kinds[change.urn.type];
        if (kind === undefined || change.change === "none") continue;
        const app = apps.appOf(change.urn);
        const action = actionOf(change.change)!;
        const before = entry(app, change, kind, change.old, action);
        const after = entry(app, change, kind, change.new ?? change.old, action);
        // A replacement that hands another role, or to another principal, takes the old one away.
        if (change.old && change.new && (before.roleId !== after.roleId || before.principal !== after.principal)) out.push({ ...before, action: "deleted", escalation: false });
        out.push(change.change === "delete" ? before : after);
    }
    return out.sort((a, b) => rank(a) - rank(b) || (a.role ?? a.roleId ?? "").localeCompare(b.role ?? b.roleId ?? "") || a.resource.localeCompare(b.resource));
}
