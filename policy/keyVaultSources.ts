import { visible } from "../rotation/text";
import { applicationCertificateType, applicationPasswordType, servicePrincipalCertificateType, servicePrincipalPasswordType } from "./credentialLifetime";
import { isUnknownValueError } from "./inputs";
import { azureClassicSecretType, classicExpiryProblems, type ExpiryLimit, isAzureNativeSecretType, nativeExpiryProblems } from "./keyVaultSecrets";

/**
 * Rule 4, without trusting tags: a Key Vault secret whose value is computed from a credential resource holds a
 * credential, whatever its tags and content type say, and carries an expiry within the cap.
 *
 * A resource policy sees one resource's inputs, nothing of where they come from; a stack policy sees every
 * resource with `propertyDependencies`, "the set of dependencies that affect each property" (@pulumi/policy's
 * PolicyResource, https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/policy/interfaces/PolicyResource.html):
 * the URNs of the resources whose outputs went into each input, which the engine sends in AnalyzeStack
 * (AnalyzerResource.propertyDependencies in https://github.com/pulumi/pulumi/blob/master/proto/pulumi/analyzer.proto). Outputs carry their resources through
 * `apply` and `pulumi.all`, so a PEM bundle or PKCS#12 file built from a certificate and its key depends on both.
 *
 * The value of azure-native's Secret is `properties.value`; dependencies are recorded per top-level input, so
 * the rule reads those of `properties` (which also holds the content type and attributes: an expiry computed
 * from the credential's end date makes the same dependency, and is what such a secret should carry anyway). The
 * classic azure provider's Secret has `value` at the top.
 *
 * Credential sources: the azuread resources that create a client secret or a certificate credential, and the
 * @pulumi/tls resources that make a private key or a certificate with one. Not sources: an Application (its
 * outputs are mostly its client id, which is not a credential, and a secret holding the client id would be
 * mistaken for one; its `password` block is judged by the lifetime rule), and anything a value passes through on
 * its way (the rule reads direct dependencies, so a value laundered through another resource's outputs is not
 * followed: tags and content types still catch it).
 */

export const credentialSourceTypes: ReadonlyMap<string, string> = new Map([
    [applicationPasswordType, "client secret (azuread ApplicationPassword)"],
    [servicePrincipalPasswordType, "client secret (azuread ServicePrincipalPassword)"],
    [applicationCertificateType, "certificate credential (azuread ApplicationCertificate)"],
    [servicePrincipalCertificateType, "certificate credential (azuread ServicePrincipalCertificate)"],
    ["tls:index/privateKey:PrivateKey", "private key (tls PrivateKey)"],
    ["tls:index/selfSignedCert:SelfSignedCert", "certificate with its key (tls SelfSignedCert)"],
]);

/** What the rule reads of a stack's resource: the shape of @pulumi/policy's PolicyResource it needs. */
export interface StackResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Record<string, unknown>;
    readonly propertyDependencies: Readonly<Record<string, readonly StackResource[]>>;
}

export interface SourceFinding {
    /** The secret in violation. */
    readonly urn: string;
    readonly message: string;
}

export interface SourceJudgement {
    readonly findings: SourceFinding[];
    /**
     * The first "unknown during preview" met (an expiry computed from a resource that does not exist yet): the
     * policy reports what it could judge, then rethrows this, which @pulumi/policy turns into an advisory
     * "can't run during preview".
     */
    readonly unknown?: Error;
}

/** The credential resources a secret's value is computed from, or none. */
export function credentialSources(secret: StackResource): StackResource[] {
    const input = isAzureNativeSecretType(secret.type) ? "properties" : secret.type === azureClassicSecretType ? "value" : undefined;
    if (input === undefined) return [];
    const seen = new Set<string>();
    return (secret.propertyDependencies[input] ?? []).filter((source) => {
        if (!credentialSourceTypes.has(source.type) || seen.has(source.urn)) return false;
        seen.add(source.urn);
        return true;
    });
}

/** Every Key Vault secret of the stack computed from a credential, judged by the expiry rules. Pure. */
export function validateCredentialSources(resources: readonly StackResource[], limit: ExpiryLimit): SourceJudgement {
    const findings: SourceFinding[] = [];
    let unknown: Error | undefined;
    for (const resource of resources) {
        const sources = credentialSources(resource);
        if (sources.length === 0) continue;
        const evidence = `its ${isAzureNativeSecretType(resource.type) ? "properties are" : "value is"} computed from the ${sources
            .map((source) => `${credentialSourceTypes.get(source.type)} "${visible(source.name)}"`)
            .join(", the ")}`;
        try {
            const problems = isAzureNativeSecretType(resource.type) ? nativeExpiryProblems(evidence, resource.props, limit) : classicExpiryProblems(evidence, resource.props, limit);
            for (const message of problems) findings.push({ urn: resource.urn, message });
        } catch (error) {
            if (!isUnknownValueError(error)) throw error;
            unknown ??= error as Error;
        }
    }
    return unknown === undefined ? { findings } : { findings, unknown };
}
