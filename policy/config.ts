import type { PolicyConfigSchema } from "@pulumi/policy";
import { z } from "zod";
import { graphCatalog } from "../infra/model/catalog";
import { formatIssue } from "../infra/model/issues";
import { placeholderJustification } from "../infra/model/permissions";
import { parseWith, privilegedEntrySchema } from "../infra/model/schema";
import { didYouMean } from "../infra/model/suggest";
import { absoluteMaxLifetimeDays, validateMaxLifetimeDays } from "../rotation/schedule";
import type { AllowList } from "./graphPermissions";
import { type CredentialSecretRule, defaultCredentialContentTypes, defaultCredentialTags } from "./keyVaultSecrets";
import { credentialLifetimePolicy, graphPermissionsPolicy, keyVaultExpiryPolicy } from "./names";

/**
 * The pack's config: a JSON schema per policy, which the Pulumi CLI validates and fills with defaults before the
 * pack runs, and a reader per policy that checks the same again (tests and other engines call the policies with
 * whatever they like) plus what a schema cannot say. `enforcementLevel` is not declared here: @pulumi/policy
 * makes it configurable for every policy (and `all` for the whole pack) by itself.
 *
 * A broken config throws instead of reporting violations: it is the organisation's mistake, not the stack's,
 * and must stop every deployment it would otherwise judge wrongly, whatever the enforcement level.
 */

export class PolicyConfigError extends Error {
    constructor(
        readonly policy: string,
        readonly problems: readonly string[],
    ) {
        super(
            `the policy pack config of "${policy}" is invalid (fix it in the file given to --policy-pack-config, or in the policy group's config): ` +
                problems.join("; "),
        );
        this.name = "PolicyConfigError";
    }
}

// --- entra-credential-lifetime ----------------------------------------------------------------------------

export interface LifetimeConfig {
    readonly maxLifetimeDays?: unknown;
}

export const lifetimeConfigSchema: PolicyConfigSchema = {
    properties: {
        maxLifetimeDays: {
            type: "integer",
            minimum: 1,
            maximum: absoluteMaxLifetimeDays,
            default: absoluteMaxLifetimeDays,
            description:
                "The longest an application password or certificate credential may be valid, in days: at most 730 (Microsoft's two years); " +
                "set it to the tenant's app management policy (passwordLifetime) when that is lower.",
        },
    },
};

export function readLifetimeConfig(config: LifetimeConfig): { maxLifetimeDays: number } {
    const maxLifetimeDays = config.maxLifetimeDays ?? absoluteMaxLifetimeDays;
    // The same bounds as the stacks' own rotation.maxLifetimeDays, from the same function.
    const problem = validateMaxLifetimeDays(maxLifetimeDays);
    if (problem !== undefined) throw new PolicyConfigError(credentialLifetimePolicy, [problem]);
    return { maxLifetimeDays: maxLifetimeDays as number };
}

// --- entra-graph-tier0-permissions ------------------------------------------------------------------------

export interface PermissionsConfig {
    readonly allowPrivileged?: unknown;
}

export const permissionsConfigSchema: PolicyConfigSchema = {
    properties: {
        allowPrivileged: {
            type: "array",
            default: [],
            description:
                "Tier-0 Microsoft Graph application permissions the organisation allows, each with why and what limits its use " +
                "(e.g. an Exchange application access policy, or ownership for *.OwnedBy).",
            items: {
                type: "object",
                additionalProperties: false,
                required: ["permission", "justification"],
                properties: {
                    permission: { type: "string", minLength: 1, description: "The permission's name, e.g. Application.ReadWrite.OwnedBy" },
                    justification: { type: "string", minLength: 20, description: "Why it is needed and what limits its use; at least 20 characters" },
                },
            },
        },
    },
};

/**
 * Text that is there to pass the length check rather than to explain anything. The same rule as the stacks'
 * allowPrivileged (infra/permissions.ts keeps its pattern private; keep the two in step).
 */

/** The allow-list, checked like a stack's allowPrivileged: known Graph names, real justifications, no duplicates. */
export function readAllowList(config: PermissionsConfig): AllowList {
    // The stacks' own entry schema: {permission, justification >= 20 characters}, nothing else.
    const parsed = parseWith(
        z.array(privilegedEntrySchema, { error: "a list of {permission, justification} entries" }),
        config.allowPrivileged ?? [],
        ["allowPrivileged"],
    );
    const problems = parsed.issues.map(formatIssue);
    const allowed = new Map<string, string>();
    const names = Object.keys(graphCatalog.application);
    (parsed.value ?? []).forEach((entry, i) => {
        const path = `allowPrivileged[${i}]`;
        if (!Object.hasOwn(graphCatalog.application, entry.permission)) {
            problems.push(`${path}.permission: unknown Microsoft Graph application permission "${entry.permission}"${didYouMean(entry.permission, names)}`);
        } else if (allowed.has(entry.permission)) {
            problems.push(`${path}.permission: "${entry.permission}" is listed twice; keep one entry`);
        }
        if (placeholderJustification.test(entry.justification)) {
            problems.push(`${path}.justification: "${entry.justification}" is a placeholder; say why the permission is needed and what limits its use`);
        }
        allowed.set(entry.permission, entry.justification);
    });
    if (problems.length > 0) throw new PolicyConfigError(graphPermissionsPolicy, problems);
    return allowed;
}

// --- keyvault-credential-expiry ---------------------------------------------------------------------------

export interface KeyVaultConfig {
    readonly credentialTags?: unknown;
    readonly credentialContentTypes?: unknown;
}

export const keyVaultConfigSchema: PolicyConfigSchema = {
    properties: {
        credentialTags: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [...defaultCredentialTags],
            description: "A secret with a tag of one of these names (case-insensitive, any non-empty value) holds a credential.",
        },
        credentialContentTypes: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [...defaultCredentialContentTypes],
            description: "A secret with one of these content types holds a credential (a certificate with its private key).",
        },
    },
};

export function readKeyVaultConfig(config: KeyVaultConfig): CredentialSecretRule {
    const problems: string[] = [];
    const list = (key: keyof KeyVaultConfig, fallback: readonly string[]): readonly string[] => {
        const value = config[key] ?? fallback;
        if (Array.isArray(value) && value.every((item) => typeof item === "string" && item.trim() !== "")) return value as string[];
        problems.push(`${key} must be a list of non-empty strings, got ${JSON.stringify(value)}`);
        return fallback;
    };
    const rule = { credentialTags: list("credentialTags", defaultCredentialTags), credentialContentTypes: list("credentialContentTypes", defaultCredentialContentTypes) };
    if (problems.length > 0) throw new PolicyConfigError(keyVaultExpiryPolicy, problems);
    return rule;
}
