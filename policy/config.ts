import type { PolicyConfigSchema } from "@pulumi/policy";
import { z } from "zod";
import { graphCatalog, isGuid } from "../infra/model/catalog";
import { formatIssue } from "../infra/model/issues";
import { placeholderJustification } from "../infra/model/permissions";
import { parseWith, privilegedEntrySchema } from "../infra/model/schema";
import { didYouMean } from "../infra/model/suggest";
import { absoluteMaxLifetimeDays, validateMaxLifetimeDays } from "../rotation/schedule";
import { visible } from "../rotation/text";
import { builtInRoleById, builtInRoleByName, builtInRoleNames, isRefusedRole, type RoleAllowList } from "./directoryRoles";
import { type AllowList, tier0DelegatedScope, tier0DelegatedScopes } from "./graphPermissions";
import { type CredentialSecretRule, defaultCredentialContentTypes, defaultCredentialTags, normaliseMarker } from "./keyVaultSecrets";
import { credentialLifetimePolicy, graphPermissionsPolicy, keyVaultExpiryPolicy, keyVaultSourcesPolicy } from "./names";

/**
 * The pack's config: a JSON schema per policy, which the Pulumi CLI validates and fills with defaults before the
 * pack runs, and a reader per policy that checks the same again (tests and other engines call the policies with
 * whatever they like) plus what a schema cannot say. `enforcementLevel` is not declared here: @pulumi/policy
 * makes it configurable for every policy (and `all` for the whole pack) by itself, and hands a policy its config
 * without it.
 *
 * A broken config throws instead of reporting violations: it is the organisation's mistake, not the stack's,
 * and must stop every deployment it would otherwise judge wrongly, whatever the enforcement level. That includes
 * a setting the policy does not have: a misspelled `maxLifetimeDays` would otherwise fall back to the default
 * without a word.
 */

export class PolicyConfigError extends Error {
    constructor(
        readonly policy: string,
        readonly problems: readonly string[],
    ) {
        super(
            `the policy pack config of "${policy}" is invalid (fix it in the file given to --policy-pack-config, or in the policy group's config): ` +
                problems.map(visible).join("; "),
        );
        this.name = "PolicyConfigError";
    }
}

/** One setting's JSON schema (@pulumi/policy does not export the type by name). */
type SettingSchema = PolicyConfigSchema["properties"][string];

/** Settings a policy does not have, each with a "did you mean". */
function unknownSettings(config: object, known: readonly string[]): string[] {
    return Object.keys(config)
        .filter((key) => !known.includes(key))
        .map((key) => `unknown setting "${key}"${didYouMean(key, known)}; the settings are ${known.join(", ")}`);
}

// --- shared: the lifetime cap ------------------------------------------------------------------------------

const maxLifetimeDaysSchema = (description: string): SettingSchema => ({
    type: "integer",
    minimum: 1,
    maximum: absoluteMaxLifetimeDays,
    default: absoluteMaxLifetimeDays,
    description,
});

/** maxLifetimeDays, defaulting to 730, with the same bounds as a stack's rotation.maxLifetimeDays (the same function). */
function readMaxLifetimeDays(config: { readonly maxLifetimeDays?: unknown }, problems: string[]): number {
    const maxLifetimeDays = config.maxLifetimeDays ?? absoluteMaxLifetimeDays;
    const problem = validateMaxLifetimeDays(maxLifetimeDays);
    if (problem === undefined) return maxLifetimeDays as number;
    problems.push(problem);
    return absoluteMaxLifetimeDays;
}

// --- entra-credential-lifetime ----------------------------------------------------------------------------

export interface LifetimeConfig {
    readonly maxLifetimeDays?: unknown;
}

export const lifetimeConfigSchema: PolicyConfigSchema = {
    properties: {
        maxLifetimeDays: maxLifetimeDaysSchema(
            "The longest a client secret or certificate credential (of an application or a service principal) may be valid, in days: at most 730 (Microsoft's two years); " +
                "set it to the tenant's app management policy (passwordLifetime) when that is lower.",
        ),
    },
};

export function readLifetimeConfig(config: LifetimeConfig): { maxLifetimeDays: number } {
    const problems = unknownSettings(config, ["maxLifetimeDays"]);
    const maxLifetimeDays = readMaxLifetimeDays(config, problems);
    if (problems.length > 0) throw new PolicyConfigError(credentialLifetimePolicy, problems);
    return { maxLifetimeDays };
}

// --- entra-graph-tier0-permissions ------------------------------------------------------------------------

export interface PermissionsConfig {
    readonly allowPrivileged?: unknown;
    readonly allowDelegated?: unknown;
    readonly allowDirectoryRoles?: unknown;
}

const allowEntrySchema = (key: string, example: string, what: string): SettingSchema => ({
    type: "object",
    additionalProperties: false,
    required: [key, "justification"],
    properties: {
        [key]: { type: "string", minLength: 1, description: `${what}, e.g. ${example}` },
        justification: { type: "string", minLength: 20, description: "Why it is needed and what limits its use; at least 20 characters" },
    },
});

export const permissionsConfigSchema: PolicyConfigSchema = {
    properties: {
        allowPrivileged: {
            type: "array",
            default: [],
            description:
                "Tier-0 Microsoft Graph application permissions the organisation allows, each with why and what limits its use " +
                "(e.g. an Exchange application access policy, or ownership for *.OwnedBy).",
            items: allowEntrySchema("permission", "Application.ReadWrite.OwnedBy", "The application permission's name"),
        },
        allowDelegated: {
            type: "array",
            default: [],
            description: "Tier-0 delegated Microsoft Graph permissions the organisation allows to be granted for every user at once (a grant without userObjectId).",
            items: allowEntrySchema("permission", "Directory.AccessAsUser.All", "The delegated permission's name"),
        },
        allowDirectoryRoles: {
            type: "array",
            default: [],
            description:
                "Privileged Microsoft Entra roles the organisation allows to be assigned: a built-in role's display name (e.g. Exchange Administrator), " +
                "or the id of a role the pack cannot recognise (a custom role), each with why and what limits its use.",
            items: allowEntrySchema("role", "Exchange Administrator", "The built-in role's display name, or a custom role's id"),
        },
    },
};

/** The organisation's allowances for the tier-0 policy. */
export interface PermissionsAllowances {
    /** Tier-0 application permissions, by name. */
    readonly applications: AllowList;
    /** Tier-0 delegated permissions granted tenant-wide, by name. */
    readonly delegated: AllowList;
    /** Privileged directory roles. */
    readonly roles: RoleAllowList;
}

/** Every allow-list of the tier-0 policy, checked together so that one run names every mistake. */
export function readPermissionsConfig(config: PermissionsConfig): PermissionsAllowances {
    const problems = unknownSettings(config, ["allowPrivileged", "allowDelegated", "allowDirectoryRoles"]);
    const applications = applicationAllowList(config, problems);
    const delegated = delegatedAllowList(config, problems);
    const roles = roleAllowList(config, problems);
    if (problems.length > 0) throw new PolicyConfigError(graphPermissionsPolicy, problems);
    return { applications, delegated, roles };
}

/** The application permission allow-list alone, checked like a stack's allowPrivileged: known Graph names, real justifications, no duplicates. */
export function readAllowList(config: PermissionsConfig): AllowList {
    const problems: string[] = [];
    const allowed = applicationAllowList(config, problems);
    if (problems.length > 0) throw new PolicyConfigError(graphPermissionsPolicy, problems);
    return allowed;
}

function applicationAllowList(config: PermissionsConfig, problems: string[]): AllowList {
    // The stacks' own entry schema: {permission, justification >= 20 characters}, nothing else.
    const parsed = parseWith(
        z.array(privilegedEntrySchema, { error: "a list of {permission, justification} entries" }),
        config.allowPrivileged ?? [],
        ["allowPrivileged"],
    );
    problems.push(...parsed.issues.map(formatIssue));
    const allowed = new Map<string, string>();
    const names = Object.keys(graphCatalog.application);
    (parsed.value ?? []).forEach((entry, i) => {
        const path = `allowPrivileged[${i}]`;
        if (!Object.hasOwn(graphCatalog.application, entry.permission)) {
            problems.push(`${path}.permission: unknown Microsoft Graph application permission "${entry.permission}"${didYouMean(entry.permission, names)}`);
        } else if (allowed.has(entry.permission)) {
            problems.push(`${path}.permission: "${entry.permission}" is listed twice; keep one entry`);
        }
        justificationProblem(path, entry.justification, problems);
        allowed.set(entry.permission, entry.justification);
    });
    return allowed;
}

function justificationProblem(path: string, justification: string, problems: string[]): void {
    if (placeholderJustification.test(justification)) {
        problems.push(`${path}.justification: "${justification}" is a placeholder; say why it is needed and what limits its use`);
    }
}

const justification = (what: string) =>
    z
        .string({ error: (issue) => (issue.input === undefined ? `required: ${what}` : `must be a string: ${what}`) })
        .trim()
        .min(20, { error: `write a justification of at least 20 characters: ${what}` });

const delegatedEntrySchema = z.strictObject({
    permission: z.string({ error: "the delegated permission's name, e.g. Directory.AccessAsUser.All" }).min(1, { error: "name the delegated permission being allowed" }),
    justification: justification("why every user's consent is given at once and what limits its use"),
});

function delegatedAllowList(config: PermissionsConfig, problems: string[]): AllowList {
    const parsed = parseWith(z.array(delegatedEntrySchema, { error: "a list of {permission, justification} entries" }), config.allowDelegated ?? [], ["allowDelegated"]);
    problems.push(...parsed.issues.map(formatIssue));
    const allowed = new Map<string, string>();
    (parsed.value ?? []).forEach((entry, i) => {
        const path = `allowDelegated[${i}]`;
        const tier0 = tier0DelegatedScope(entry.permission);
        if (tier0 !== entry.permission) {
            if (tier0 !== undefined) problems.push(`${path}.permission: "${entry.permission}" is written "${tier0}"`);
            else if (Object.hasOwn(graphCatalog.delegated, entry.permission)) {
                problems.push(`${path}.permission: "${entry.permission}" is not a tier-0 delegated permission, so the pack never refuses it: remove the entry`);
            } else {
                problems.push(`${path}.permission: unknown tier-0 delegated Microsoft Graph permission "${entry.permission}"${didYouMean(entry.permission, tier0DelegatedScopes())}`);
            }
        } else if (allowed.has(entry.permission)) {
            problems.push(`${path}.permission: "${entry.permission}" is listed twice; keep one entry`);
        }
        justificationProblem(path, entry.justification, problems);
        allowed.set(entry.permission, entry.justification);
    });
    return allowed;
}

const roleEntrySchema = z.strictObject({
    role: z
        .string({ error: "a built-in role's display name (e.g. Exchange Administrator) or a custom role's id" })
        .trim()
        .min(1, { error: "name the role being allowed" }),
    justification: justification("who holds the role, why, and what limits its use"),
});

function roleAllowList(config: PermissionsConfig, problems: string[]): RoleAllowList {
    const parsed = parseWith(z.array(roleEntrySchema, { error: "a list of {role, justification} entries" }), config.allowDirectoryRoles ?? [], ["allowDirectoryRoles"]);
    problems.push(...parsed.issues.map(formatIssue));
    const names = new Map<string, string>();
    const ids = new Map<string, string>();
    (parsed.value ?? []).forEach((entry, i) => {
        const path = `allowDirectoryRoles[${i}]`;
        justificationProblem(path, entry.justification, problems);
        if (isGuid(entry.role)) {
            const builtIn = builtInRoleById(entry.role);
            const id = entry.role.toLowerCase();
            if (builtIn) {
                // Reviewers read the allow-list: a built-in role goes by the name they know.
                problems.push(`${path}.role: ${id} is the template id of the built-in role "${builtIn.name}"; write its name instead`);
            } else if (ids.has(id)) {
                problems.push(`${path}.role: ${id} is listed twice; keep one entry`);
            } else {
                ids.set(id, entry.justification);
            }
            return;
        }
        const role = builtInRoleByName(entry.role);
        if (!role) {
            problems.push(`${path}.role: "${entry.role}" is neither a built-in Microsoft Entra role nor a role id (a GUID)${suggestRole(entry.role)}`);
        } else if (!isRefusedRole(role)) {
            problems.push(`${path}.role: "${role.name}" is not a privileged role, so the pack never refuses it: remove the entry`);
        } else if (names.has(role.name)) {
            problems.push(`${path}.role: "${role.name}" is listed twice; keep one entry`);
        } else {
            names.set(role.name, entry.justification);
        }
    });
    return { names, ids };
}

/** "Did you mean" for a role name: a typo, a case slip, or a short form such as "Global Admin" (one role starts with it). */
function suggestRole(input: string): string {
    const typo = didYouMean(input, builtInRoleNames());
    if (typo !== "") return typo;
    const lowered = input.toLowerCase();
    const starting = builtInRoleNames().filter((name) => name.toLowerCase().startsWith(lowered));
    return starting.length === 1 ? ` (did you mean "${starting[0]}"?)` : "";
}

// --- keyvault-credential-expiry and keyvault-credential-source-expiry -------------------------------------

export interface KeyVaultConfig {
    readonly credentialTags?: unknown;
    readonly credentialContentTypes?: unknown;
    readonly maxLifetimeDays?: unknown;
}

const keyVaultMaxLifetimeDays = maxLifetimeDaysSchema(
    "The latest expiry a credential secret may carry is now plus this many days: the longest a credential may live. " +
        "Keep it equal to entra-credential-lifetime's maxLifetimeDays.",
);

export const keyVaultConfigSchema: PolicyConfigSchema = {
    properties: {
        credentialTags: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [...defaultCredentialTags],
            description: "A secret with a tag of one of these names (case-insensitive, surrounding spaces ignored, any value) holds a credential.",
        },
        credentialContentTypes: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [...defaultCredentialContentTypes],
            description:
                "A secret with one of these content types holds a credential (a certificate with its private key, or a private key); " +
                "parameters after ';', case and spaces are ignored.",
        },
        maxLifetimeDays: keyVaultMaxLifetimeDays,
    },
};

export function readKeyVaultConfig(config: KeyVaultConfig): CredentialSecretRule {
    const problems = unknownSettings(config, ["credentialTags", "credentialContentTypes", "maxLifetimeDays"]);
    const list = (key: "credentialTags" | "credentialContentTypes", fallback: readonly string[]): readonly string[] => {
        const value = config[key] ?? fallback;
        if (Array.isArray(value) && value.every((item) => typeof item === "string" && normaliseMarker(item) !== "")) return (value as string[]).map(normaliseMarker);
        problems.push(`${key} must be a list of non-empty strings, got ${JSON.stringify(value)}`);
        return fallback;
    };
    const rule = {
        credentialTags: list("credentialTags", defaultCredentialTags),
        credentialContentTypes: list("credentialContentTypes", defaultCredentialContentTypes),
        maxLifetimeDays: readMaxLifetimeDays(config, problems),
    };
    if (problems.length > 0) throw new PolicyConfigError(keyVaultExpiryPolicy, problems);
    return rule;
}

export interface KeyVaultSourcesConfig {
    readonly maxLifetimeDays?: unknown;
}

export const keyVaultSourcesConfigSchema: PolicyConfigSchema = {
    properties: { maxLifetimeDays: keyVaultMaxLifetimeDays },
};

export function readKeyVaultSourcesConfig(config: KeyVaultSourcesConfig): { maxLifetimeDays: number } {
    const problems = unknownSettings(config, ["maxLifetimeDays"]);
    const maxLifetimeDays = readMaxLifetimeDays(config, problems);
    if (problems.length > 0) throw new PolicyConfigError(keyVaultSourcesPolicy, problems);
    return { maxLifetimeDays };
}
