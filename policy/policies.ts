import type { PolicyPackArgs, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
    type KeyVaultConfig,
    keyVaultConfigSchema,
    type LifetimeConfig,
    lifetimeConfigSchema,
    type PermissionsConfig,
    permissionsConfigSchema,
    readAllowList,
    readKeyVaultConfig,
    readLifetimeConfig,
} from "./config";
import { applicationCertificateType, applicationPasswordType, validateCertificateLifetime, validatePasswordLifetime } from "./credentialLifetime";
import { federatedCredentialType, validateFederatedCredential } from "./federatedCredentials";
import {
    applicationApiAccessType,
    applicationType,
    appRoleAssignmentType,
    validateApiAccess,
    validateApplicationPermissions,
    validateAppRoleAssignment,
} from "./graphPermissions";
import { azureClassicSecretType, isAzureNativeSecretType, validateClassicSecretExpiry, validateNativeSecretExpiry } from "./keyVaultSecrets";
import { credentialLifetimePolicy, federatedCredentialsPolicy, graphPermissionsPolicy, keyVaultExpiryPolicy } from "./names";

/**
 * The pack's policies: each picks its resource types, reads its config and reports what the pure validators
 * say. They inspect raw provider resources (azuread, azure-native, azure), so they hold for any stack of the
 * organisation, not only those built from entra-rotor's components.
 *
 * This module has no side effects, so tests import it; index.ts is what starts the policy pack.
 */

/** A validation that only looks at some resource types and reports every message its validator returns. */
function forTypes(applies: (type: string) => boolean, validate: (args: ResourceValidationArgs) => readonly string[]) {
    return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        if (!applies(args.type)) return;
        for (const message of validate(args)) reportViolation(message);
    };
}

const oneOf =
    (...types: string[]) =>
    (type: string): boolean =>
        types.includes(type);

/** The policies, with the clock the lifetime rule measures "now" by (injected by tests). */
export function createPolicies(now: () => Date = () => new Date()): ResourceValidationPolicy[] {
    return [
        {
            name: credentialLifetimePolicy,
            displayName: "Credential lifetime cap",
            description: "Application passwords (client secrets) and certificate credentials are valid no longer than maxLifetimeDays (730 unless configured).",
            severity: "high",
            remediationSteps: "Set endDate no later than startDate + maxLifetimeDays, and replace the credential on a schedule (entra-rotor does both).",
            configSchema: lifetimeConfigSchema,
            validateResource: forTypes(oneOf(applicationPasswordType, applicationCertificateType), (args) => {
                const options = { ...readLifetimeConfig(args.getConfig<LifetimeConfig>()), now: now() };
                return args.type === applicationPasswordType ? validatePasswordLifetime(args.props, options) : validateCertificateLifetime(args.props, options);
            }),
        },
        {
            name: graphPermissionsPolicy,
            displayName: "Tier-0 Microsoft Graph permissions need an allow-list",
            description: "No tier-0 Microsoft Graph application permission (a known path to Global Administrator) unless allowPrivileged names it with a justification.",
            severity: "critical",
            remediationSteps: "Choose a narrower permission, or add it to the policy config's allowPrivileged with a justification of at least 20 characters.",
            configSchema: permissionsConfigSchema,
            validateResource: forTypes(oneOf(applicationType, applicationApiAccessType, appRoleAssignmentType), (args) => {
                const allowed = readAllowList(args.getConfig<PermissionsConfig>());
                if (args.type === applicationType) return validateApplicationPermissions(args.props, allowed);
                if (args.type === applicationApiAccessType) return validateApiAccess(args.props, allowed);
                return validateAppRoleAssignment(args.props, allowed);
            }),
        },
        {
            name: federatedCredentialsPolicy,
            displayName: "Federated credentials match exactly",
            description: "Federated identity credentials have an https issuer, a subject without wildcards and exactly one audience.",
            severity: "high",
            remediationSteps: "Write issuer and subject exactly as the token carries them, one credential per subject, with one audience.",
            validateResource: forTypes(oneOf(federatedCredentialType), (args) => validateFederatedCredential(args.props)),
        },
        {
            name: keyVaultExpiryPolicy,
            displayName: "Credentials in Key Vault carry their expiry",
            description: "Key Vault secrets that hold a credential (credential tag, or a PEM/PKCS#12 content type) have an expiry.",
            severity: "medium",
            remediationSteps: "Set the secret's expiry (azure-native: properties.attributes.expires in seconds; azure: expirationDate) to the credential's end date.",
            configSchema: keyVaultConfigSchema,
            validateResource: forTypes(
                (type) => isAzureNativeSecretType(type) || type === azureClassicSecretType,
                (args) => {
                    const rule = readKeyVaultConfig(args.getConfig<KeyVaultConfig>());
                    return args.type === azureClassicSecretType ? validateClassicSecretExpiry(args.props, rule) : validateNativeSecretExpiry(args.props, rule);
                },
            ),
        },
    ];
}

/**
 * Everything index.ts gives the PolicyPack. Violations block the deployment (mandatory) unless the policy pack
 * config lowers a policy, e.g. `{"keyvault-credential-expiry": "advisory"}` or `{"all": "advisory"}`.
 */
export const policyPackArgs: PolicyPackArgs = {
    policies: createPolicies(),
    enforcementLevel: "mandatory",
};
