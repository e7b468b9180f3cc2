import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";

/** One secret to serve. */
export interface KeyVaultSecretSpec {
    /** The secret's name in the vault: 1-127 letters, digits or '-'. */
    readonly secretName: string;
    /** The value; always stored as a Pulumi secret. */
    readonly value: pulumi.Input<string>;
    /** Tells consumers how to read the value, e.g. `text/plain` or `application/json`. */
    readonly contentType: string;
    /** When the value stops working, ISO-8601; written as the secret's `exp` (informational: Key Vault does not enforce it). */
    readonly expires?: string;
    /** When the value starts working, ISO-8601; written as `nbf`. */
    readonly notBefore?: string;
    /** Facts about the value (never the value): key id, slot, generation, next rotation. */
    readonly tags?: Readonly<Record<string, pulumi.Input<string>>>;
}

export interface KeyVaultSecretsArgs {
    /** The resource group of the vault. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** The vault's name. */
    readonly vaultName: pulumi.Input<string>;
    /** The secrets to write. */
    readonly secrets: readonly KeyVaultSecretSpec[];
}

const secretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;

/** Key Vault's limits for secrets, checked before anything is registered. Pure. */
export function validateKeyVaultSecrets(secrets: readonly KeyVaultSecretSpec[]): string[] {
    const problems: string[] = [];
    const names = new Set<string>();
    for (const s of secrets) {
        if (!secretNamePattern.test(s.secretName)) problems.push(`"${s.secretName}" is not a valid Key Vault secret name (1-127 letters, digits or '-')`);
        if (names.has(s.secretName.toLowerCase())) problems.push(`secret "${s.secretName}" is written twice`);
        names.add(s.secretName.toLowerCase());
        const tags = Object.entries(s.tags ?? {});
        if (tags.length > 15) problems.push(`secret "${s.secretName}" has ${tags.length} tags; Key Vault allows 15`);
        for (const [key, value] of tags) {
            if (key.length > 512) problems.push(`tag name "${key.slice(0, 20)}..." is longer than 512 characters`);
            if (typeof value === "string" && value.length > 256) problems.push(`tag "${key}" of "${s.secretName}" is longer than 256 characters`);
        }
        for (const [what, date] of [["expires", s.expires], ["notBefore", s.notBefore]] as const) {
            if (date !== undefined && Number.isNaN(Date.parse(date))) problems.push(`${what} of "${s.secretName}" is not a date: ${date}`);
        }
    }
    return problems;
}

/** Seconds since the Unix epoch, as Key Vault's `exp` and `nbf` take them. */
export function epochSeconds(iso: string): number {
    return Math.floor(Date.parse(iso) / 1000);
}

/** Secrets written to a Key Vault with their expiry, a content type and value-free tags. */
export class KeyVaultSecrets extends pulumi.ComponentResource {
    readonly secrets: Readonly<Record<string, keyvault.Secret>>;

    constructor(name: string, args: KeyVaultSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = validateKeyVaultSecrets(args.secrets);
        if (problems.length > 0) throw new Error(`KeyVaultSecrets ${name}: ${problems.join("; ")}`);
        super("entra-rotor:index:KeyVaultSecrets", name, {}, opts);
        const secrets: Record<string, keyvault.Secret> = {};
        for (const s of args.secrets) {
            secrets[s.secretName] = new keyvault.Secret(
                `${name}-${s.secretName}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    vaultName: args.vaultName,
                    secretName: s.secretName,
                    properties: {
                        value: pulumi.secret(s.value),
                        contentType: s.contentType,
                        attributes: {
                            enabled: true,
                            ...(s.expires ? { expires: epochSeconds(s.expires) } : {}),
                            ...(s.notBefore ? { notBefore: epochSeconds(s.notBefore) } : {}),
                        },
                    },
                    tags: { ...(s.tags ?? {}) },
                },
                { parent: this },
            );
        }
        this.secrets = secrets;
        this.registerOutputs({});
    }
}
