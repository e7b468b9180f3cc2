/**
 * Names of the pack and its policies. They are the keys of the policy pack config (`--policy-pack-config`, or
 * a policy group's config in Pulumi Cloud), so renaming one silently drops whatever an organisation configured
 * for it: treat them as a public interface.
 */
export const policyPackName = "entra-rotor";

export const credentialLifetimePolicy = "entra-credential-lifetime";
export const graphPermissionsPolicy = "entra-graph-tier0-permissions";
export const federatedCredentialsPolicy = "entra-federated-credentials";
/** Advisory: a warning, not a refusal (see federatedCredentials.ts). */
export const federatedPullRequestPolicy = "entra-federated-pull-request";
export const keyVaultExpiryPolicy = "keyvault-credential-expiry";
/** A stack policy: it needs the resources a secret's value is computed from. */
export const keyVaultSourcesPolicy = "keyvault-credential-source-expiry";
