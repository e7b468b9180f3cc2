import type { PolicyPackArgs, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { visible } from "../rotation/text";
import {
    type KeyVaultConfig,
    keyVaultConfigSchema,
    type KeyVaultSourcesConfig,
    keyVaultSourcesConfigSchema,
    type LifetimeConfig,
    lifetimeConfigSchema,
    type PermissionsConfig,
    permissionsConfigSchema,
    readKeyVaultConfig,
    readKeyVaultSourcesConfig,
    readLifetimeConfig,
    readPermissionsConfig,
} from "./config";
import {
    applicationCertificateType,
    applicationPasswordType,
    applicationWithPasswordType,
    lifetimeTypes,
    servicePrincipalCertificateType,
    servicePrincipalPasswordType,
    validateApplicationPasswordBlock,
    validateCertificateLifetime,
    validatePasswordLifetime,
} from "./credentialLifetime";
import { directoryRoleTypes, validateDirectoryRole } from "./directoryRoles";
import { federatedCredentialType, flexibleFederatedCredentialType, isFederatedCredentialType, pinnedSubject, pullRequestWarning, validateFederatedResource } from "./federatedCredentials";
import {
    applicationApiAccessType,
    applicationType,
    appRoleAssignmentType,
    delegatedGrantType,
    validateApiAccess,
    validateApplicationPermissions,
    validateAppRoleAssignment,
    validateDelegatedGrant,
} from "./graphPermissions";
import { azureClassicSecretType, isKeyVaultSecretType, validateClassicSecretExpiry, validateNativeSecretExpiry } from "./keyVaultSecrets";
import { validateCredentialSources } from "./keyVaultSources";
import { credentialLifetimePolicy, federatedCredentialsPolicy, federatedPullRequestPolicy, graphPermissionsPolicy, keyVaultExpiryPolicy, keyVaultSourcesPolicy } from "./names";

/**
 * The pack's policies: each picks its resource types, reads its config and reports what the pure validators
 * say. They inspect raw provider resources (azuread, azure-native, azure, tls), so they hold for any stack of the
 * organisation, not only those built from entra-rotor's components.
 *
 * Every message goes out through `visible`: validators already escape what they echo, and this makes sure a
 * control character from a stack can never end a message's line or rewrite a terminal or a PR comment.
 *
 * This module has no side effects, so tests import it; index.ts is what starts the policy pack.
 */

/** A validation that only looks at some resource types and reports every message its validator returns. */
function forTypes(applies: (type: string) => boolean, validate: (args: ResourceValidationArgs) => readonly string[]) {
    return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        if (!applies(args.type)) return;
        for (const message of validate(args)) reportViolation(visible(message));
    };
}

const oneOf =
    (...types: readonly string[]) =>
    (type: string): boolean =>
        types.includes(type);

const tier0Types = [applicationType, applicationApiAccessType, appRoleAssignmentType, delegatedGrantType, ...directoryRoleTypes];

/** The policies, with the clock "now" is measured by (injected by tests). */
export function createPolicies(now: () => Date = () => new Date()): (ResourceValidationPolicy | StackValidationPolicy)[] {
    return [
        {
            name: credentialLifetimePolicy,
            displayName: "Credential lifetime cap",
            description:
                "Client secrets and certificate credentials (ApplicationPassword, ApplicationCertificate, ServicePrincipalPassword, ServicePrincipalCertificate, " +
                "an Application's password block) are valid no longer than maxLifetimeDays (730 unless configured).",
            severity: "high",
            remediationSteps: "Set endDate no later than startDate + maxLifetimeDays, and replace the credential on a schedule (entra-rotor does both).",
            configSchema: lifetimeConfigSchema,
            validateResource: forTypes(oneOf(...lifetimeTypes), (args) => {
                const options = { ...readLifetimeConfig(args.getConfig<LifetimeConfig>()), now: now() };
                switch (args.type) {
                    case applicationPasswordType:
                        return validatePasswordLifetime(args.props, options);
                    case servicePrincipalPasswordType:
                        return validatePasswordLifetime(args.props, options, "service principal client secret");
                    case applicationCertificateType:
                        return validateCertificateLifetime(args.props, options);
                    case servicePrincipalCertificateType:
                        return validateCertificateLifetime(args.props, options, "service principal certificate credential");
                    case applicationWithPasswordType:
                        return validateApplicationPasswordBlock(args.props, options);
                    default:
                        return [];
                }
            }),
        },
        {
            name: graphPermissionsPolicy,
            displayName: "Tier-0 permissions and roles need an allow-list",
            description:
                "No tier-0 Microsoft Graph application permission, no tenant-wide grant of a tier-0 delegated permission and no privileged Microsoft Entra role " +
                "unless the policy config (allowPrivileged, allowDelegated, allowDirectoryRoles) names it with a justification.",
            severity: "critical",
            remediationSteps: "Choose a narrower permission or role, or add it to the policy config's allow-list with a justification of at least 20 characters.",
            configSchema: permissionsConfigSchema,
            validateResource: forTypes(oneOf(...tier0Types), (args) => {
                // Read whatever the resource: a broken allow-list stops every deployment, not only those it names.
                const allowed = readPermissionsConfig(args.getConfig<PermissionsConfig>());
                switch (args.type) {
                    case applicationType:
                        return validateApplicationPermissions(args.props, allowed.applications);
                    case applicationApiAccessType:
                        return validateApiAccess(args.props, allowed.applications);
                    case appRoleAssignmentType:
                        return validateAppRoleAssignment(args.props, allowed.applications);
                    case delegatedGrantType:
                        return validateDelegatedGrant(args.props, allowed.delegated);
                    default:
                        return validateDirectoryRole(args.type, args.props, allowed.roles);
                }
            }),
        },
        {
            name: federatedCredentialsPolicy,
            displayName: "Federated credentials match exactly",
            description:
                "Federated identity credentials have an https issuer with an ASCII host, a subject without wildcards, exactly one audience, and no control or invisible characters; " +
                "a flexible one's claims-matching expression pins the exact subject, with no wildcard.",
            severity: "high",
            remediationSteps: "Write issuer and subject exactly as the token carries them, one credential per subject, with one audience; no wildcard in a claims-matching expression.",
            validateResource: forTypes(isFederatedCredentialType, (args) => validateFederatedResource(args.type, args.props)),
        },
        {
            name: federatedPullRequestPolicy,
            displayName: "Federated credentials that trust pull requests",
            description: "Warns about federated identity credentials whose subject trusts pull request runs (repo:ORG/REPO:pull_request): any pull request can sign in, unreviewed.",
            severity: "medium",
            remediationSteps: "Trust a GitHub environment with required reviewers instead, and keep pull-request credentials on read-only apps.",
            // A warning by design: the config can still make it mandatory (or `all` can), or disable it.
            enforcementLevel: "advisory",
            validateResource: forTypes(oneOf(federatedCredentialType, flexibleFederatedCredentialType), (args) => {
                const props = args.type === flexibleFederatedCredentialType ? { issuer: args.props.issuer, subject: pinnedSubject(args.props.claimsMatchingExpression) } : args.props;
                const warning = pullRequestWarning(props);
                return warning === undefined ? [] : [warning];
            }),
        },
        {
            name: keyVaultExpiryPolicy,
            displayName: "Credentials in Key Vault carry their expiry",
            description:
                "Key Vault secrets that say they hold a credential (a credential tag, or a PEM/PKCS#12 content type) have an expiry, no later than now plus maxLifetimeDays.",
            severity: "medium",
            remediationSteps: "Set the secret's expiry (azure-native: properties.attributes.expires in seconds; azure: expirationDate) to the credential's end date.",
            configSchema: keyVaultConfigSchema,
            validateResource: forTypes(isKeyVaultSecretType, (args) => {
                const rule = readKeyVaultConfig(args.getConfig<KeyVaultConfig>());
                return args.type === azureClassicSecretType ? validateClassicSecretExpiry(args.props, rule, now()) : validateNativeSecretExpiry(args.props, rule, now());
            }),
        },
        {
            name: keyVaultSourcesPolicy,
            displayName: "Key Vault secrets computed from credentials carry their expiry",
            description:
                "Key Vault secrets whose value is computed from a client secret, certificate credential or private key have an expiry, no later than now plus maxLifetimeDays, whatever their tags.",
            severity: "medium",
            remediationSteps: "Set the secret's expiry to the credential's end date, and tag it credential: <name> so that reviews see what it holds.",
            configSchema: keyVaultSourcesConfigSchema,
            validateStack: (args, reportViolation) => {
                const { maxLifetimeDays } = readKeyVaultSourcesConfig(args.getConfig<KeyVaultSourcesConfig>());
                const judgement = validateCredentialSources(args.resources, { maxLifetimeDays, now: now() });
                for (const finding of judgement.findings) reportViolation(visible(finding.message), finding.urn);
                if (judgement.unknown) throw judgement.unknown;
            },
        },
    ];
}

/**
 * Everything index.ts gives the PolicyPack. Violations block the deployment (mandatory) unless the policy pack
 * config lowers a policy, e.g. `{"keyvault-credential-expiry": "advisory"}` or `{"all": "advisory"}`; the one
 * advisory policy (`entra-federated-pull-request`) warns unless the config raises it.
 */
export const policyPackArgs: PolicyPackArgs = {
    policies: createPolicies(),
    enforcementLevel: "mandatory",
};
