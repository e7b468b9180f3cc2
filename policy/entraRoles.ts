/**
 * The built-in Microsoft Entra roles by template id, with which of them are privileged: moved to the project's one
 * catalog of paths to privilege (infra/model/privilege.ts, sources there), which the plan and the review read too.
 * Re-exported here for the pack's modules and tests; the rules are in directoryRoles.ts.
 */
export { builtInRoles, type RoleFlags } from "../infra/model/privilege";
