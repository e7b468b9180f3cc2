import { isGuid } from "../infra/model/catalog";
import {
    type BuiltInRole,
    builtInRoleById,
    directoryRoleAssignmentType,
    directoryRoleEligibilityType,
    directoryRoleMemberType,
    isRefusedRole,
} from "../infra/model/privilege";
import { show } from "./inputs";
import { graphPermissionsPolicy } from "./names";

/**
 * Rule 2, directory roles: no privileged Microsoft Entra role for anyone unless the organisation allows it by name,
 * with a justification, in the pack's config (`allowDirectoryRoles`).
 *
 * A service principal holding Global Administrator, Privileged Role Administrator or Application Administrator
 * owns the tenant as surely as one holding RoleManagement.ReadWrite.Directory, and whoever holds its credential
 * with it; so directory roles are judged with the Graph permissions (infra/model/privilege.ts says which roles and why).
 *
 * What is judged, with azuread 6.x's type tokens and inputs (provider schema,
 * https://github.com/pulumi/pulumi-azuread/blob/main/provider/cmd/pulumi-resource-azuread/schema.json):
 * - DirectoryRoleAssignment: `roleId`, "the template ID (in the case of built-in roles) or object ID (in the case
 *   of custom roles)", to `principalObjectId`;
 * - DirectoryRoleEligibilityScheduleRequest: `roleDefinitionId`, the same ids; an eligible principal is one
 *   activation away from the role;
 * - DirectoryRoleMember: `roleObjectId`, the object id of an activated role in one tenant (superseded by
 *   DirectoryRoleAssignment, says the provider).
 *
 * The principal is a user, group or service principal, and an object id does not say which; a privileged role is
 * tier 0 whoever holds it, so every principal is judged alike. The scope (`directoryScopeId`, `appScopeId`) is not
 * read either: Application Administrator scoped to one app can still add a secret to that app and act with its
 * permissions, and the organisation can allow what it has weighed.
 *
 * An id the pack cannot recognise is refused: a custom role's object id or an activated role's object id can
 * stand for any permissions, Global Administrator's included, and nothing in the resource says which. The
 * organisation allows such an id by writing it in `allowDirectoryRoles` with a justification; a built-in role is
 * better named by its template id, which the pack can read.
 */

// The roles and the resource types are the project's one catalog of paths to privilege (infra/model/privilege.ts).
export {
    type BuiltInRole,
    builtInRoleById,
    builtInRoleByName,
    builtInRoleNames,
    directoryRoleAssignmentType,
    directoryRoleEligibilityType,
    directoryRoleMemberType,
    directoryRoleTypes,
    isRefusedRole,
} from "../infra/model/privilege";

/**
 * The organisation's allowed roles: built-in roles by display name, and ids the pack cannot recognise (custom roles,
 * activated roles' object ids) in lower case; each with its justification.
 */
export interface RoleAllowList {
    readonly names: ReadonlyMap<string, string>;
    readonly ids: ReadonlyMap<string, string>;
}

export const noRolesAllowed: RoleAllowList = { names: new Map(), ids: new Map() };

/** Which input names the role, per resource type. */
const roleInput: Readonly<Record<string, string>> = {
    [directoryRoleAssignmentType]: "roleId",
    [directoryRoleEligibilityType]: "roleDefinitionId",
    [directoryRoleMemberType]: "roleObjectId",
};

const verbs: Readonly<Record<string, string>> = {
    [directoryRoleAssignmentType]: "assigns",
    [directoryRoleEligibilityType]: "makes a principal eligible for",
    [directoryRoleMemberType]: "adds a member to",
};

/** Problems with a directory role assignment, eligibility or membership; empty when allowed. Pure. */
export function validateDirectoryRole(type: string, props: Readonly<Record<string, unknown>>, allowed: RoleAllowList): string[] {
    const input = roleInput[type];
    if (input === undefined) return [];
    const value = props[input];
    // Required by the provider, which refuses the resource without it; nothing to judge here.
    if (typeof value !== "string" || value.trim() === "") return [];
    const verb = verbs[type]!;
    const role = builtInRoleById(value);
    if (role) {
        if (!isRefusedRole(role) || allowed.names.has(role.name)) return [];
        return [
            `${verb} the Microsoft Entra role "${role.name}" (template id ${role.templateId}), which is ${why(role)}. ` +
                `Choose a narrower role (or a Microsoft Graph application permission that does only what is needed), or have the organisation allow it in the "${graphPermissionsPolicy}" policy config: ` +
                `allowDirectoryRoles: [{"role": "${role.name}", "justification": "<who holds it, why, and what limits its use, at least 20 characters>"}]`,
        ];
    }
    const id = value.trim().toLowerCase();
    if (allowed.ids.has(id)) return [];
    const shown = show(value.trim());
    const entry = isGuid(id) ? id : "<the role's id>";
    const what =
        type === directoryRoleMemberType
            ? `the directory role with object id ${shown}: an activated role's object id differs in every tenant, so the pack cannot tell which role it is`
            : `the directory role ${shown}, which is not the template id of a built-in role the pack knows (Microsoft's list of January 2026): ` +
              `a custom role's id or an activated role's object id can stand for any permissions, Global Administrator's included, and the pack cannot see which`;
    const fix =
        type === directoryRoleMemberType
            ? `use DirectoryRoleAssignment with the built-in role's template id (DirectoryRole's templateId output), which the pack can read`
            : `name a built-in role by its template id (DirectoryRole's templateId output, not its objectId)`;
    return [
        `${verb} ${what}. Refused because it cannot be read: ${fix}, or have the organisation allow this id in the "${graphPermissionsPolicy}" policy config: ` +
            `allowDirectoryRoles: [{"role": "${entry}", "justification": "<which role this is, who holds it and why, at least 20 characters>"}]`,
    ];
}

function why(role: BuiltInRole): string {
    if (role.privileged && role.tier0) return "labelled PRIVILEGED by Microsoft and tier 0: a known path to Global Administrator";
    if (role.tier0) return "tier 0: a known path to Global Administrator";
    return "labelled PRIVILEGED by Microsoft: it can change credentials, authentication or authorization policy, or read restricted data";
}
