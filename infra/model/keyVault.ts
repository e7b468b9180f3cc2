import { z } from "zod";
import type { IssueList } from "./issues";
import { fallbackErrors, nonEmpty, toConfigIssues } from "./schema";

/**
 * Where credentials are served: an existing vault, or one the stack creates. Secret names follow a
 * documented convention (`{app}-{credential}`), overridable per credential, and are checked against Key
 * Vault's rules and for collisions before anything is deployed.
 */

export const keyVaultNamePattern = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
export const keyVaultSecretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;

export const keyVaultSettingsSchema = z.strictObject({
    name: nonEmpty("the vault's name, 3-24 letters, digits or '-'").refine((name) => keyVaultNameProblem(name) === undefined, {
        error: "must be 3-24 letters, digits or '-', starting with a letter and ending with a letter or digit, without consecutive hyphens (Key Vault's rule)",
    }),
    resourceGroup: nonEmpty("the resource group that holds (or will hold) the vault").min(1, { error: "must not be empty" }),
    create: z.boolean({ error: "true to create the vault in this stack, false (default) to use an existing one" }).optional(),
    location: z.string({ error: "an Azure region, e.g. westeurope" }).min(1).optional(),
    purgeProtection: z.boolean({ error: "must be true or false" }).optional(),
    softDeleteRetentionDays: z
        .number({ error: "a whole number of days from 7 to 90" })
        .int({ error: "a whole number of days from 7 to 90" })
        .min(7, { error: "Key Vault keeps deleted secrets 7 to 90 days" })
        .max(90, { error: "Key Vault keeps deleted secrets 7 to 90 days" })
        .optional(),
    identity: z.enum(["secrets", "json"], { error: 'how the client and tenant ids are published: "secrets" (default) or "json"' }).optional(),
});

export type KeyVaultConfig = z.infer<typeof keyVaultSettingsSchema>;

/**
 * Key Vault's rule for vault names: 3-24 letters, digits and hyphens, starting with a letter, ending with a
 * letter or digit, no two hyphens in a row. Names are global: a DNS name under the cloud's vault suffix.
 */
export function keyVaultNameProblem(name: string): string | undefined {
    if (!keyVaultNamePattern.test(name) || name.includes("--")) {
        return "a vault name is 3-24 letters, digits or '-', starting with a letter, ending with a letter or digit, without consecutive hyphens; it must also be globally unique";
    }
    return undefined;
}

export interface KeyVaultModel {
    readonly name: string;
    readonly resourceGroup: string;
    /** Present when the stack creates the vault. */
    readonly create?: { readonly location?: string; readonly purgeProtection: boolean; readonly softDeleteRetentionDays: number };
    /** `secrets`: `{app}-client-id` and `{app}-tenant-id`; `json`: one `{app}-identity` secret `{"clientId", "tenantId"}`. */
    readonly identity: "secrets" | "json";
}

export function resolveKeyVault(raw: unknown, issues: IssueList): KeyVaultModel | undefined {
    if (raw === undefined) return undefined;
    const parsed = keyVaultSettingsSchema.safeParse(raw, { error: fallbackErrors });
    if (!parsed.success) {
        issues.add(toConfigIssues(parsed.error.issues, ["keyVault"], keyVaultSettingsSchema));
        return undefined;
    }
    const kv = parsed.data;
    if (kv.create && !kv.location) issues.error("keyVault.location", "required when create: true: the Azure region for the vault, e.g. westeurope");
    if (!kv.create) {
        for (const key of ["location", "purgeProtection", "softDeleteRetentionDays"] as const) {
            if (kv[key] !== undefined) issues.error(`keyVault.${key}`, `only applies to a vault the stack creates: set create: true, or remove ${key}`);
        }
    }
    return {
        name: kv.name,
        resourceGroup: kv.resourceGroup,
        ...(kv.create
            ? { create: { ...(kv.location ? { location: kv.location } : {}), purgeProtection: kv.purgeProtection ?? true, softDeleteRetentionDays: kv.softDeleteRetentionDays ?? 90 } }
            : {}),
        identity: kv.identity ?? "secrets",
    };
}

/** The default name of a credential's secret: `{app}-{credential}`. */
export function credentialSecretName(app: string, credential: string): string {
    return `${app}-${credential}`;
}

/** The secrets that publish an app's identity, so a consumer needs nothing but the vault. */
export function identitySecretNames(app: string, mode: "secrets" | "json"): { clientId?: string; tenantId?: string; json?: string } {
    return mode === "json" ? { json: `${app}-identity` } : { clientId: `${app}-client-id`, tenantId: `${app}-tenant-id` };
}

/** Problems with a Key Vault secret name, or undefined. */
export function keyVaultSecretNameProblem(name: string): string | undefined {
    return keyVaultSecretNamePattern.test(name) ? undefined : `"${name}" is not a valid Key Vault secret name: 1-127 letters, digits or '-'`;
}
