import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type ResourceValidationArgs, type ResourceValidationPolicy, unknownCheckingProxy } from "@pulumi/policy";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { graphCatalog } from "../infra/model/catalog";
import { PolicyConfigError, readAllowList, readKeyVaultConfig, readKeyVaultSourcesConfig, readLifetimeConfig, readPermissionsConfig } from "../policy/config";
import {
    applicationCertificateType,
    applicationPasswordType,
    certificateNotAfter,
    parseGoDuration,
    validateCertificateLifetime,
    validatePasswordLifetime,
} from "../policy/credentialLifetime";
import { federatedCredentialType, flexibleFederatedCredentialType, validateFederatedCredential } from "../policy/federatedCredentials";
import {
    applicationApiAccessType,
    applicationType,
    appRoleAssignmentType,
    graphAppRole,
    validateApiAccess,
    validateApplicationPermissions,
    validateAppRoleAssignment,
} from "../policy/graphPermissions";
import { azureClassicSecretType, credentialEvidence, validateClassicSecretExpiry, validateNativeSecretExpiry } from "../policy/keyVaultSecrets";
import {
    credentialLifetimePolicy,
    federatedCredentialsPolicy,
    federatedPullRequestPolicy,
    graphPermissionsPolicy,
    keyVaultExpiryPolicy,
    keyVaultSourcesPolicy,
    policyPackName,
} from "../policy/names";
import { createPolicies, policyPackArgs } from "../policy/policies";
import { policyEscapes, rawControl, refusalOf } from "./support/hostile";
import { repoRoot, runProgram, sampleStack } from "./support/program";
import { unwrapSecret } from "./support/pulumiMocks";

const now = new Date("2026-11-23T06:00:00Z");
const policies = createPolicies(() => now);

/** What the engine sends for a string input it cannot know during preview (Pulumi's wire-protocol sentinel). */
const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const graph = graphCatalog.resourceAppId;
const role = (name: string): string => {
    const entry = graphCatalog.application[name];
    if (!entry) throw new Error(`no Graph application permission ${name} in the catalog`);
    return entry.id;
};
const tier0 = "RoleManagement.ReadWrite.Directory";
const ownedBy = "Application.ReadWrite.OwnedBy";
const goodJustification = "Deploys and rotates this stack's app registrations; it only manages apps it owns.";

const secretType = "azure-native:keyvault:Secret";
const certificatePem = fs.readFileSync(path.join(repoRoot, "test/fixtures/certificates/rsa2048.pem"), "utf8");
const certificateDer = fs.readFileSync(path.join(repoRoot, "test/fixtures/certificates/rsa2048.cer"));
/** rsa2048.pem and .cer expire 2035-01-01T00:00:00Z (test/fixtures/certificates/README.md). */
const certificateExpiry = Date.parse("2035-01-01T00:00:00Z");

/** The argument bag @pulumi/policy's analyzer gives a resource validation, for a resource of `type`. */
function resourceArgs(type: string, props: Record<string, unknown>, config: object = {}): ResourceValidationArgs {
    return {
        type,
        props,
        urn: `urn:pulumi:dev::entra-rotor::${type}::under-test`,
        name: "under-test",
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`notApplicable: ${reason ?? ""}`);
        },
    };
}

function policyNamed(name: string): ResourceValidationPolicy {
    const policy = policies.find((p) => p.name === name);
    if (!policy) throw new Error(`no policy ${name}`);
    return policy;
}

/** Runs a policy's validateResource on a resource, as the analyzer would, and returns what it reported. */
async function violations(policyName: string, type: string, props: Record<string, unknown>, config: object = {}): Promise<string[]> {
    const policy = policyNamed(policyName);
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    const reported: string[] = [];
    for (const validate of validations) await validate(resourceArgs(type, props, config), (message) => reported.push(message));
    return reported;
}

describe("entra-credential-lifetime", () => {
    const options = { maxLifetimeDays: 730, now };

    it("accepts a client secret within the cap and refuses one beyond it, saying which endDate would do", async () => {
        expect(validatePasswordLifetime({ startDate: "2026-11-23T00:00:00Z", endDate: "2027-06-21T00:00:00Z" }, options)).toEqual([]);
        expect(validatePasswordLifetime({ startDate: "2026-01-01T00:00:00Z", endDate: "2028-01-01T00:00:00Z" }, options)).toEqual([]);

        const [message, ...rest] = validatePasswordLifetime({ startDate: "2026-01-01T00:00:00Z", endDate: "2028-01-01T00:00:01Z" }, options);
        expect(rest).toEqual([]);
        expect(message).toContain("client secret is valid for 730 days 1 s (from 2026-01-01T00:00:00Z to 2028-01-01T00:00:01Z)");
        expect(message).toContain("more than the 730-day cap");
        expect(message).toContain("set endDate to at most 2028-01-01T00:00:00Z");

        const args = { applicationId: "/applications/x", startDate: "2026-01-01T00:00:00Z", endDate: "2029-01-01T00:00:00Z" };
        expect(await violations(credentialLifetimePolicy, applicationPasswordType, args)).toEqual([
            expect.stringContaining("client secret is valid for 1096 days"),
        ]);
        expect(await violations(credentialLifetimePolicy, applicationPasswordType, { ...args, endDate: "2026-07-01T00:00:00Z" })).toEqual([]);
    });

    it("measures from now when there is no startDate, as Entra starts the credential at creation", () => {
        expect(validatePasswordLifetime({ endDate: "2028-11-22T06:00:00Z" }, options)).toEqual([]);
        expect(validatePasswordLifetime({ endDate: "2028-11-23T06:00:00Z" }, options)).toEqual([
            expect.stringContaining("client secret is valid for 731 days (from now (no startDate: Entra starts it when it is created)"),
        ]);
    });

    it("counts a client secret without endDate as Entra's default of two years: fine at 730 days, refused under a lower cap", async () => {
        expect(validatePasswordLifetime({}, options)).toEqual([]);
        expect(validatePasswordLifetime({ startDate: "2026-12-01T00:00:00Z" }, options)).toEqual([]);
        const [message] = validatePasswordLifetime({ startDate: "2026-12-01T00:00:00Z" }, { ...options, maxLifetimeDays: 180 });
        expect(message).toMatch(/^client secret has no endDate, so Entra makes it valid for its default of two years \(counted as 730 days\): 730 days/);
        expect(message).toContain("more than the 180-day cap");
        expect(message).toContain("set endDate to at most 2027-05-30T00:00:00Z");

        expect(await violations(credentialLifetimePolicy, applicationPasswordType, { applicationId: "/applications/x" })).toEqual([]);
        expect(await violations(credentialLifetimePolicy, applicationPasswordType, { applicationId: "/applications/x" }, { maxLifetimeDays: 365 })).toHaveLength(1);
    });

    it("reads endDateRelative as the provider does (a Go duration from startDate or now) and suggests the largest allowed", () => {
        expect(parseGoDuration("8760h")).toBe(365 * 86_400_000);
        expect(parseGoDuration("2400h30m")).toBe(2400 * 3_600_000 + 30 * 60_000);
        expect(parseGoDuration("1.5h")).toBe(5_400_000);
        expect(parseGoDuration("-1h")).toBe(-3_600_000);
        expect(parseGoDuration("0")).toBe(0);
        for (const bad of ["365d", "1y", "h", "10", "PT8760H", ""]) expect(parseGoDuration(bad), bad).toBeUndefined();

        expect(validatePasswordLifetime({ endDateRelative: "17520h" }, options)).toEqual([]);
        const [message] = validatePasswordLifetime({ startDate: "2026-01-01T00:00:00Z", endDateRelative: "17521h" }, options);
        expect(message).toContain('client secret is valid for 730 days 1 h (endDateRelative "17521h"');
        expect(message).toContain('set endDateRelative to at most "17520h", or better set endDate');
        expect(validatePasswordLifetime({ endDateRelative: "2 years" }, options)).toEqual([expect.stringMatching(/^endDateRelative "2 years" is not a duration such as "4320h"/)]);
        // endDate wins over endDateRelative, as in the provider.
        expect(validatePasswordLifetime({ endDate: "2027-01-01T00:00:00Z", endDateRelative: "99999h" }, options)).toEqual([]);
    });

    it("refuses dates the provider could not parse and credentials that end before they start", () => {
        expect(validatePasswordLifetime({ endDate: "2027-01-01" }, options)).toEqual([expect.stringMatching(/^endDate "2027-01-01" is not an RFC 3339 date-time/)]);
        expect(validatePasswordLifetime({ startDate: "tomorrow", endDate: "2027-01-01T00:00:00Z" }, options)).toEqual([
            expect.stringMatching(/^startDate "tomorrow" is not an RFC 3339 date-time/),
        ]);
        expect(validatePasswordLifetime({ startDate: "2027-02-01T00:00:00Z", endDate: "2027-01-01T00:00:00Z" }, options)).toEqual([
            "client secret ends (2027-01-01T00:00:00Z) before it starts (startDate 2027-02-01T00:00:00Z): set endDate after startDate",
        ]);
    });

    it("checks certificate credentials the same way, and without endDate uses the certificate's own expiry", async () => {
        const value = certificatePem;
        expect(validateCertificateLifetime({ value, startDate: "2026-11-23T00:00:00Z", endDate: "2027-06-21T00:00:00Z" }, options)).toEqual([]);
        expect(validateCertificateLifetime({ value, startDate: "2026-11-23T00:00:00Z", endDate: "2029-06-21T00:00:00Z" }, options)).toEqual([
            expect.stringMatching(/^certificate credential is valid for 941 days/),
        ]);

        expect(certificateNotAfter(certificatePem, "pem")).toBe(certificateExpiry);
        expect(certificateNotAfter(certificatePem, undefined)).toBe(certificateExpiry);
        expect(certificateNotAfter(certificateDer.toString("base64"), "base64")).toBe(certificateExpiry);
        expect(certificateNotAfter(certificateDer.toString("hex"), "hex")).toBe(certificateExpiry);
        expect(certificateNotAfter("not a certificate", "pem")).toBeUndefined();

        const [message] = validateCertificateLifetime({ value, encoding: "pem" }, options);
        expect(message).toMatch(/^certificate credential has no endDate, so Entra makes it valid until the certificate expires \(notAfter 2035-01-01T00:00:00Z\)/);
        expect(message).toContain("set endDate to at most 2028-11-22T06:00:00Z");
        // Eight months before the certificate expires, what is left of it is within the cap.
        expect(validateCertificateLifetime({ value, encoding: "pem" }, { ...options, now: new Date("2034-05-01T00:00:00Z") })).toEqual([]);
        expect(validateCertificateLifetime({ value: "garbage" }, options)).toEqual([
            expect.stringMatching(/^certificate credential has no endDate and its value cannot be read as an X\.509 certificate/),
        ]);

        const args = { applicationId: "/applications/x", type: "AsymmetricX509Cert", encoding: "pem", value, startDate: "2026-11-23T06:00:00Z" };
        expect(await violations(credentialLifetimePolicy, applicationCertificateType, { ...args, endDate: "2027-06-21T06:00:00Z" })).toEqual([]);
        expect(await violations(credentialLifetimePolicy, applicationCertificateType, { ...args, endDate: "2027-06-21T06:00:00Z" }, { maxLifetimeDays: 90 })).toEqual([
            expect.stringContaining("more than the 90-day cap"),
        ]);
    });

    it("in preview, measures a generated certificate from now rather than giving up, and never reads its unknown value", async () => {
        // What the engine shows the policy for a new slot of a generated certificate: start and value come from
        // the tls certificate that does not exist yet.
        const preview = (endDate: string) =>
            unknownCheckingProxy({ applicationId: unknownString, type: "AsymmetricX509Cert", encoding: "pem", value: unknownString, startDate: unknownString, endDate });
        expect(validateCertificateLifetime(preview("2027-06-21T06:00:00Z"), options)).toEqual([]);
        expect(validateCertificateLifetime(preview("2029-06-21T06:00:00Z"), options)).toEqual([
            expect.stringContaining("from now (startDate is known only once the resources it comes from exist)"),
        ]);
        expect(await violations(credentialLifetimePolicy, applicationCertificateType, preview("2027-06-21T06:00:00Z"))).toEqual([]);
        // An unknown end date cannot be judged: the analyzer turns this error into an advisory "can't run during preview".
        expect(() => validatePasswordLifetime(unknownCheckingProxy({ endDate: unknownString }), options)).toThrow(/can't be known during preview/);
    });

    it("takes the cap from the policy config, within the same bounds as a stack's rotation.maxLifetimeDays", async () => {
        expect(readLifetimeConfig({})).toEqual({ maxLifetimeDays: 730 });
        expect(readLifetimeConfig({ maxLifetimeDays: 180 })).toEqual({ maxLifetimeDays: 180 });
        for (const bad of [0, 731, 90.5, "180"]) {
            expect(() => readLifetimeConfig({ maxLifetimeDays: bad }), String(bad)).toThrow(PolicyConfigError);
        }
        await expect(violations(credentialLifetimePolicy, applicationPasswordType, { endDate: "2027-01-01T00:00:00Z" }, { maxLifetimeDays: 1000 })).rejects.toThrow(
            /policy pack config of "entra-credential-lifetime" is invalid.*maxLifetimeDays must be a whole number of days from 1 to 730, got 1000/,
        );
    });
});

describe("entra-graph-tier0-permissions", () => {
    const none = new Map<string, string>();
    const allowRoleManagement = new Map([[tier0, "Assigns directory roles to break-glass accounts only, reviewed quarterly."]]);

    it("translates ids through the offline catalog", () => {
        expect(graphAppRole(role(tier0))).toEqual({ name: tier0, id: role(tier0), tier: 0 });
        expect(graphAppRole(role(tier0).toUpperCase())?.name).toBe(tier0);
        expect(graphAppRole(role("Mail.Send"))?.tier).toBe(1);
        expect(graphAppRole("00000000-0000-0000-0000-000000000000")).toBeUndefined();
    });

    it("refuses a tier-0 application permission requested by an Application, naming it and the allow-list entry that would allow it", async () => {
        const app = {
            displayName: "Contoso Directory Tool",
            requiredResourceAccesses: [
                {
                    resourceAppId: graph,
                    resourceAccesses: [
                        { id: role("User.Read.All"), type: "Role" },
                        { id: role(tier0), type: "Role" },
                        { id: graphCatalog.delegated["User.Read"]!.id, type: "Scope" },
                    ],
                },
            ],
        };
        const [message, ...rest] = validateApplicationPermissions(app, none);
        expect(rest).toEqual([]);
        expect(message).toContain(`requests the Microsoft Graph application permission "${tier0}" (app role ${role(tier0)}), which is tier 0`);
        expect(message).toContain(`allowPrivileged: [{"permission": "${tier0}", "justification": "<why the app needs it`);
        expect(validateApplicationPermissions(app, allowRoleManagement)).toEqual([]);

        expect(await violations(graphPermissionsPolicy, applicationType, app)).toHaveLength(1);
        const config = { allowPrivileged: [{ permission: tier0, justification: "Assigns directory roles to break-glass accounts only, reviewed quarterly." }] };
        expect(await violations(graphPermissionsPolicy, applicationType, app, config)).toEqual([]);
    });

    it("accepts lower tiers, delegated scopes and other APIs", () => {
        const app = (resourceAppId: string, type: string, id: string) => ({ requiredResourceAccesses: [{ resourceAppId, resourceAccesses: [{ id, type }] }] });
        expect(validateApplicationPermissions(app(graph, "Role", role("Mail.Send")), none)).toEqual([]);
        expect(validateApplicationPermissions(app(graph, "Role", role("Device.Read.All")), none)).toEqual([]);
        expect(validateApplicationPermissions(app(graph, "Scope", role(tier0)), none)).toEqual([]);
        expect(validateApplicationPermissions(app("00000002-0000-0ff1-ce00-000000000000", "Role", role(tier0)), none)).toEqual([]);
        expect(validateApplicationPermissions({}, none)).toEqual([]);
    });

    it("refuses admin consent to a tier-0 permission (AppRoleAssignment) and requests through ApplicationApiAccess", async () => {
        const assignment = { appRoleId: role(ownedBy), principalObjectId: unknownString, resourceObjectId: "0b1c2d3e-0000-0000-0000-000000000000" };
        expect(validateAppRoleAssignment(assignment, none)).toEqual([expect.stringMatching(new RegExp(`^grants \\(admin consent\\) the Microsoft Graph application permission "${ownedBy}"`))]);
        expect(validateAppRoleAssignment({ appRoleId: role("Mail.Send") }, none)).toEqual([]);
        expect(validateAppRoleAssignment({ appRoleId: "00000000-0000-0000-0000-000000000000" }, none)).toEqual([]);
        // The principal is unknown during preview (a new service principal): the rule never reads it.
        expect(await violations(graphPermissionsPolicy, appRoleAssignmentType, unknownCheckingProxy(assignment))).toHaveLength(1);
        expect(await violations(graphPermissionsPolicy, appRoleAssignmentType, assignment, { allowPrivileged: [{ permission: ownedBy, justification: goodJustification }] })).toEqual([]);

        const access = { applicationId: "/applications/x", apiClientId: graph, roleIds: [role("Mail.Send"), role(tier0)] };
        expect(validateApiAccess(access, none)).toEqual([expect.stringContaining(`"${tier0}"`)]);
        expect(validateApiAccess({ ...access, apiClientId: "00000002-0000-0ff1-ce00-000000000000" }, none)).toEqual([]);
        expect(await violations(graphPermissionsPolicy, applicationApiAccessType, access)).toHaveLength(1);
    });

    it("checks the allow-list like a stack's allowPrivileged: known names, real justifications of 20 characters or more", () => {
        expect(readAllowList({})).toEqual(new Map());
        expect(readAllowList({ allowPrivileged: [{ permission: ownedBy, justification: `  ${goodJustification}  ` }] })).toEqual(new Map([[ownedBy, goodJustification]]));

        const problems = (allowPrivileged: unknown): string => refusalOf(() => readAllowList({ allowPrivileged }), PolicyConfigError);
        expect(problems([{ permission: ownedBy, justification: "CI needs it" }])).toContain("allowPrivileged[0].justification: write a justification of at least 20 characters");
        expect(problems([{ permission: ownedBy, justification: "TODO: explain why we need this" }])).toContain("allowPrivileged[0].justification: \"TODO: explain why we need this\" is a placeholder");
        expect(problems([{ permission: "Application.ReadWrite.Ownedby", justification: goodJustification }])).toContain(
            'allowPrivileged[0].permission: unknown Microsoft Graph application permission "Application.ReadWrite.Ownedby" (did you mean "Application.ReadWrite.OwnedBy"?)',
        );
        expect(problems([{ permission: ownedBy, justification: goodJustification }, { permission: ownedBy, justification: goodJustification }])).toContain("is listed twice");
        expect(problems([{ permission: ownedBy }])).toContain("allowPrivileged[0].justification");
        expect(problems([{ permission: ownedBy, justification: goodJustification, expires: "never" }])).toContain('unknown key "expires"');
        expect(problems("Application.ReadWrite.OwnedBy")).toContain("allowPrivileged");
    });

    it("fails the deployment loudly on a broken allow-list, whatever the resource", async () => {
        await expect(violations(graphPermissionsPolicy, appRoleAssignmentType, { appRoleId: role("Mail.Send") }, { allowPrivileged: [{ permission: ownedBy, justification: "short" }] })).rejects.toThrow(
            /policy pack config of "entra-graph-tier0-permissions" is invalid/,
        );
    });
});

describe("entra-federated-credentials", () => {
    const github = {
        applicationId: "/applications/x",
        displayName: "github-production",
        issuer: "https://token.actions.githubusercontent.com",
        subject: "repo:contoso/identity:environment:production",
        audiences: ["api://AzureADTokenExchange"],
    };

    it("accepts an exact GitHub environment credential", async () => {
        expect(validateFederatedCredential(github)).toEqual([]);
        expect(await violations(federatedCredentialsPolicy, federatedCredentialType, github)).toEqual([]);
    });

    it("refuses issuers Entra does not trust", () => {
        expect(validateFederatedCredential({ ...github, issuer: "http://token.actions.githubusercontent.com" })).toEqual([
            'issuer "http://token.actions.githubusercontent.com" must use https: Entra only trusts https issuers',
        ]);
        expect(validateFederatedCredential({ ...github, issuer: "token.actions.githubusercontent.com" })).toEqual([expect.stringMatching(/^issuer "token\.actions\.githubusercontent\.com" is not an absolute URL/)]);
        expect(validateFederatedCredential({ ...github, issuer: undefined })).toEqual([expect.stringMatching(/^issuer must be the issuer URL/)]);
    });

    it("refuses wildcard subjects, which Entra matches literally", async () => {
        const [message] = validateFederatedCredential({ ...github, subject: "repo:contoso/*:ref:refs/heads/main" });
        expect(message).toMatch(/^subject "repo:contoso\/\*:ref:refs\/heads\/main" contains a wildcard \(\*\)/);
        expect(message).toContain("add one credential per exact value");
        expect(await violations(federatedCredentialsPolicy, federatedCredentialType, { ...github, subject: "repo:contoso/identity:*" })).toHaveLength(1);
    });

    it("requires exactly one audience", () => {
        expect(validateFederatedCredential({ ...github, audiences: ["api://AzureADTokenExchange", "api://other"] })).toEqual([
            expect.stringMatching(/^has 2 audiences \("api:\/\/AzureADTokenExchange", "api:\/\/other"\): Entra allows exactly one audience/),
        ]);
        expect(validateFederatedCredential({ ...github, audiences: [] })).toEqual([expect.stringMatching(/^has 0 audiences: /)]);
        expect(validateFederatedCredential({ ...github, audiences: undefined })).toEqual([expect.stringMatching(/^has no audiences list: /)]);
        expect(validateFederatedCredential({ ...github, audiences: ["api://*"] })).toEqual([expect.stringMatching(/^audience "api:\/\/\*" contains a wildcard/)]);
    });

    it("reports every problem of one credential at once", () => {
        expect(validateFederatedCredential({ issuer: "http://issuer.example.com", subject: "*", audiences: ["a", "b"] })).toHaveLength(3);
    });
});

describe("keyvault-credential-expiry", () => {
    const rule = readKeyVaultConfig({});
    const served = (attributes: Record<string, unknown>, tags: Record<string, unknown> = { "managed-by": "entra-rotor", app: "mail-sender", credential: "main" }) => ({
        resourceGroupName: "rg-identity",
        vaultName: "kv-contoso-identity",
        secretName: "mail-sender-main",
        properties: { value: "MOCKSECRET-value", contentType: "text/plain", attributes },
        tags,
    });

    it("accepts a served credential with its expiry and refuses one without, saying where the expiry goes", async () => {
        expect(validateNativeSecretExpiry(served({ enabled: true, expires: 1_815_000_000, notBefore: 1_790_000_000 }), rule, now)).toEqual([]);
        const [message] = validateNativeSecretExpiry(served({ enabled: true }), rule, now);
        expect(message).toMatch(/^holds a credential \(tag "credential": "main"\) but has no expiry: set properties\.attributes\.expires to when the credential stops working, in seconds since 1970-01-01T00:00:00Z/);
        expect(await violations(keyVaultExpiryPolicy, secretType, served({ enabled: true }))).toHaveLength(1);
        expect(await violations(keyVaultExpiryPolicy, secretType, served({ expires: 1_815_000_000 }))).toEqual([]);
    });

    it("leaves alone secrets that hold no credential, such as the client id entra-rotor writes beside it", async () => {
        const clientId = served({}, { "managed-by": "entra-rotor", app: "mail-sender" });
        expect(validateNativeSecretExpiry(clientId, rule, now)).toEqual([]);
        expect(await violations(keyVaultExpiryPolicy, secretType, { properties: { value: "x" } })).toEqual([]);
    });

    it("treats certificates with their private key (PEM bundle, PKCS#12) as credentials whatever their tags", () => {
        const pem = { properties: { value: "x", contentType: "application/x-pem-file" } };
        expect(validateNativeSecretExpiry(pem, rule, now)).toEqual([expect.stringMatching(/^holds a credential \(content type "application\/x-pem-file"\) but has no expiry/)]);
        expect(validateNativeSecretExpiry({ properties: { value: "x", contentType: "Application/X-PKCS12; charset=binary" } }, rule, now)).toHaveLength(1);
        expect(validateNativeSecretExpiry({ properties: { value: "x", contentType: "application/json" } }, rule, now)).toEqual([]);
        expect(credentialEvidence({ Credential: "main" }, undefined, rule)).toBe('tag "Credential": "main"');
        // The tag's name marks a credential, whatever its value: an empty value does not unmark it.
        expect(credentialEvidence({ credential: "" }, "text/plain", rule)).toBe('tag "credential"');
        expect(credentialEvidence({ kind: "credential" }, "text/plain", rule)).toBeUndefined();
    });

    it("refuses expiries that cannot be right: not a number, in milliseconds, or not after notBefore", () => {
        expect(validateNativeSecretExpiry(served({ expires: "2027-01-01T00:00:00Z" }), rule, now)).toEqual([
            expect.stringContaining("properties.attributes.expires is a string of 20 characters, not a number"),
        ]);
        expect(validateNativeSecretExpiry(served({ expires: 1_815_000_000_000 }), rule, now)).toEqual([expect.stringContaining("it looks like milliseconds; divide it by 1000")]);
        expect(validateNativeSecretExpiry(served({ expires: 1_790_000_000, notBefore: 1_790_000_000 }), rule, now)).toEqual([
            expect.stringContaining("whose expiry (2026-09-21T14:13:20Z) is not after its notBefore (2026-09-21T14:13:20Z)"),
        ]);
    });

    it("during preview, reads neither the value nor tags it does not need, which are unknown until the credential exists", async () => {
        const preview = unknownCheckingProxy({
            resourceGroupName: "rg-identity",
            vaultName: "kv-contoso-identity",
            secretName: "mail-sender-main",
            properties: { value: unknownString, contentType: "text/plain", attributes: { enabled: true, expires: 1_815_000_000 } },
            tags: { "managed-by": "entra-rotor", credential: "main", clientId: unknownString, keyId: unknownString },
        });
        expect(await violations(keyVaultExpiryPolicy, secretType, preview)).toEqual([]);
    });

    it("covers versioned azure-native types and the classic azure provider", async () => {
        const noExpiry = served({});
        expect(await violations(keyVaultExpiryPolicy, "azure-native:keyvault/v20230701:Secret", noExpiry)).toHaveLength(1);
        expect(await violations(keyVaultExpiryPolicy, "azure-native:keyvault/v20240401preview:Secret", noExpiry)).toHaveLength(1);
        expect(await violations(keyVaultExpiryPolicy, "azure-native:keyvault:Key", noExpiry)).toEqual([]);

        const classic = { name: "mail-sender-main", keyVaultId: "/subscriptions/x", value: "x", contentType: "text/plain", tags: { credential: "main" } };
        expect(validateClassicSecretExpiry(classic, rule, now)).toEqual([expect.stringMatching(/^holds a credential \(tag "credential": "main"\) but has no expiry: set expirationDate/)]);
        expect(validateClassicSecretExpiry({ ...classic, expirationDate: "2027-06-01T00:00:00Z" }, rule, now)).toEqual([]);
        expect(validateClassicSecretExpiry({ ...classic, expirationDate: "June 2027" }, rule, now)).toEqual([expect.stringContaining("expirationDate is a string of 9 characters, not an RFC 3339 date-time")]);
        expect(await violations(keyVaultExpiryPolicy, azureClassicSecretType, classic)).toHaveLength(1);
    });

    it("lets the organisation say which tags and content types mark a credential", async () => {
        const config = { credentialTags: ["secret-kind"], credentialContentTypes: [] };
        expect(await violations(keyVaultExpiryPolicy, secretType, served({}), config)).toEqual([]);
        expect(await violations(keyVaultExpiryPolicy, secretType, served({}, { "secret-kind": "client-secret" }), config)).toEqual([
            expect.stringContaining('holds a credential (tag "secret-kind": "client-secret")'),
        ]);
        expect(() => readKeyVaultConfig({ credentialTags: "credential" })).toThrow(/credentialTags must be a list of non-empty strings/);
    });
});

describe("the policy pack", () => {
    it("has six policies, mandatory unless the policy pack config says otherwise, but for the pull-request warning", () => {
        expect(policyPackArgs.enforcementLevel).toBe("mandatory");
        expect(policyPackArgs.policies.map((p) => p.name)).toEqual([
            credentialLifetimePolicy,
            graphPermissionsPolicy,
            federatedCredentialsPolicy,
            federatedPullRequestPolicy,
            keyVaultExpiryPolicy,
            keyVaultSourcesPolicy,
        ]);
        for (const policy of policyPackArgs.policies) {
            // A policy's own level would override the pack's default; the config is the only place to lower one.
            // The pull-request policy exists to warn: its level is its point (a violation's level is per policy).
            expect(policy.enforcementLevel, policy.name).toBe(policy.name === federatedPullRequestPolicy ? "advisory" : undefined);
            expect(policy.configSchema?.properties?.["enforcementLevel"], policy.name).toBeUndefined();
        }
    });

    it("ships an example config whose keys are its policies (the engine silently ignores a misspelled policy name)", () => {
        const example = JSON.parse(fs.readFileSync(path.join(repoRoot, "policy/config.example.json"), "utf8")) as Record<string, unknown>;
        const names = new Set(["all", ...policyPackArgs.policies.map((p) => p.name)]);
        for (const key of Object.keys(example)) expect(names.has(key), key).toBe(true);
        expect(readAllowList(example[graphPermissionsPolicy] as object).has(ownedBy)).toBe(true);
        expect(readPermissionsConfig(example[graphPermissionsPolicy] as object).roles.names.size).toBe(0);
        expect(readLifetimeConfig(example[credentialLifetimePolicy] as object)).toEqual({ maxLifetimeDays: 730 });
        // Every policy has an entry, so that the file documents them all; settings are read as the pack reads them.
        expect(Object.keys(example).sort()).toEqual(policyPackArgs.policies.map((p) => p.name).sort());
        const { enforcementLevel, ...keyVault } = example[keyVaultExpiryPolicy] as { enforcementLevel: string };
        expect(enforcementLevel).toBe("mandatory");
        expect(readKeyVaultConfig(keyVault).maxLifetimeDays).toBe(730);
        expect(readKeyVaultSourcesConfig(example[keyVaultSourcesPolicy] as object)).toEqual({ maxLifetimeDays: 730 });
        expect(example[federatedPullRequestPolicy]).toBe("advisory");
    });

    it("ignores every other resource type", async () => {
        const anything = { endDate: "2099-01-01T00:00:00Z", requiredResourceAccesses: [], issuer: "http://x", tags: { credential: "x" }, properties: {} };
        expect(policies.map((p) => p.name)).toEqual(policyPackArgs.policies.map((p) => p.name));
        for (const policy of policies) {
            for (const type of ["azuread:index/servicePrincipal:ServicePrincipal", "entra-rotor:index:ClientSecret", "azure-native:keyvault:Vault", "pulumi:pulumi:Stack"]) {
                expect(await violations(policy.name, type, anything), `${policy.name} on ${type}`).toEqual([]);
            }
        }
    });
});

/**
 * The pack as `pulumi preview --policy-pack policy` runs it: the Node.js language host resolves
 * @pulumi/pulumi/cmd/run-policy-pack from the pack's directory and starts it there with the engine's address and
 * ".", and the engine then talks to the gRPC server it announces on stdout. No Pulumi CLI is needed for that.
 */
describe("the policy pack under Pulumi's policy runner", () => {
    const packDir = path.join(repoRoot, "policy");
    let pack: ChildProcess | undefined;
    let client: AnalyzerClient;
    let stderr = "";

    beforeAll(async () => {
        const runner = createRequire(path.join(packDir, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
        const child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
        pack = child;
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const port = await new Promise<number>((resolve, reject) => {
            let stdout = "";
            child.stdout.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                const line = /^(\d+)\s*$/m.exec(stdout);
                if (line) resolve(Number(line[1]));
            });
            child.on("exit", (code) => reject(new Error(`the policy pack exited with ${code}: ${stderr}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }, 60_000);

    afterAll(() => {
        client?.close();
        pack?.kill();
    });

    /** One unary call of the engine to the pack. */
    const rpc = <T>(call: (callback: (error: grpc.ServiceError | null, response: T) => void) => unknown): Promise<T> =>
        new Promise((resolve, reject) => call((error, response) => (error ? reject(error) : resolve(response))));

    const analyze = async (type: string, props: Record<string, unknown>) => {
        const request = new analyzer.AnalyzeRequest();
        request.setType(type);
        request.setName("under-test");
        request.setUrn(`urn:pulumi:dev::entra-rotor::${type}::under-test`);
        request.setProperties(Struct.fromJavaScript(props as Record<string, never>));
        request.setOptions(new analyzer.AnalyzerResourceOptions());
        const response = await rpc<analyzer.AnalyzeResponse>((done) => client.analyze(request, done));
        return response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));
    };

    const policyConfig = (level: analyzer.EnforcementLevel, properties: Record<string, unknown>) => {
        const config = new analyzer.PolicyConfig();
        config.setEnforcementlevel(level);
        config.setProperties(Struct.fromJavaScript(properties as Record<string, never>));
        return config;
    };

    const tooLong = { applicationId: "/applications/x", startDate: "2026-01-01T00:00:00Z", endDate: "2028-06-01T00:00:00Z" };

    // The running pack keeps the last configuration it was sent: each test starts from the defaults, whatever ran before it.
    beforeEach(async () => {
        await rpc<Empty>((done) => client.configure(new analyzer.ConfigureAnalyzerRequest(), done));
    });

    it("announces the pack, its version from policy/package.json and its policies", async () => {
        const info = await rpc<analyzer.AnalyzerInfo>((done) => client.getAnalyzerInfo(new Empty(), done));
        const version = (JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as { version: string }).version;
        expect(info.getName()).toBe(policyPackName);
        expect(info.getVersion()).toBe(version);
        const announced = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
        expect(announced).toEqual(
            policyPackArgs.policies.map((p) => [p.name, p.name === federatedPullRequestPolicy ? analyzer.EnforcementLevel.ADVISORY : analyzer.EnforcementLevel.MANDATORY]),
        );
        // The Key Vault source rule needs every resource with its property dependencies: a stack policy.
        const types = new Map(info.getPoliciesList().map((p) => [p.getName(), p.getPolicyType()]));
        expect(types.get(keyVaultSourcesPolicy)).toBe(analyzer.PolicyType.POLICY_TYPE_STACK);
        expect(types.get(keyVaultExpiryPolicy)).toBe(analyzer.PolicyType.POLICY_TYPE_RESOURCE);
        const lifetime = info.getPoliciesList().find((p) => p.getName() === credentialLifetimePolicy);
        expect(lifetime?.getConfigschema()?.getProperties()?.toJavaScript()["maxLifetimeDays"]).toMatchObject({ type: "integer", default: 730, maximum: 730 });
        expect(fs.readFileSync(path.join(packDir, "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
    });

    it("reports violations as the engine receives them, and preview unknowns as advisory", async () => {
        expect(await analyze(applicationPasswordType, { ...tooLong, endDate: "2026-06-01T00:00:00Z" })).toEqual([]);
        const [violation, ...others] = await analyze(applicationPasswordType, tooLong);
        expect(others).toEqual([]);
        expect(violation).toMatchObject({ policy: credentialLifetimePolicy, level: analyzer.EnforcementLevel.MANDATORY });
        expect(violation?.message).toContain("set endDate to at most 2028-01-01T00:00:00Z");

        const [unknown] = await analyze(applicationPasswordType, { applicationId: "/applications/x", endDate: unknownString });
        expect(unknown).toMatchObject({ policy: credentialLifetimePolicy, level: analyzer.EnforcementLevel.ADVISORY });
        expect(unknown?.message).toContain("can't be known during preview");
    });

    it("judges entra-rotor's own sample stack as the engine sends it: compliant once the organisation allows its tier-0 permission", async () => {
        const configure = async (policies: Record<string, Record<string, unknown>>) => {
            const request = new analyzer.ConfigureAnalyzerRequest();
            for (const [name, properties] of Object.entries(policies)) request.getPolicyconfigMap().set(name, policyConfig(analyzer.EnforcementLevel.MANDATORY, properties));
            await rpc<Empty>((done) => client.configure(request, done));
        };
        // The program under mocks registers what `pulumi up` would, with inputs serialized as the engine gets them
        // (secrets wrapped); the pack unwraps them as it does in a real run.
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        for (const type of [applicationType, appRoleAssignmentType, applicationPasswordType, applicationCertificateType, federatedCredentialType, secretType]) {
            expect(mocks.ofType(type).length, type).toBeGreaterThan(0);
        }
        const judge = async () => {
            const found: string[] = [];
            for (const resource of mocks.resources) {
                for (const d of await analyze(resource.type, resource.inputs)) found.push(`${resource.name}: ${d.policy}: ${d.message.split("\n").pop() ?? ""}`);
            }
            return found.sort();
        };

        await configure({});
        const refused = await judge();
        expect(refused).toHaveLength(2);
        // The sample's ci-deployer requests Application.ReadWrite.OwnedBy, justified in the stack: the organisation must agree too.
        expect(refused[0]).toMatch(/^ci-deployer-app: entra-graph-tier0-permissions: requests the Microsoft Graph application permission "Application\.ReadWrite\.OwnedBy"/);
        expect(refused[1]).toMatch(/^ci-deployer-role-msgraph-Application\.ReadWrite\.OwnedBy: entra-graph-tier0-permissions: grants \(admin consent\)/);

        // policy/config.example.json, as `--policy-pack-config` hands it over: allows the deployer's permission.
        const example = JSON.parse(fs.readFileSync(path.join(packDir, "config.example.json"), "utf8")) as Record<string, unknown>;
        const request = new analyzer.ConfigureAnalyzerRequest();
        for (const [name, value] of Object.entries(example)) {
            const { enforcementLevel = "mandatory", ...properties } = typeof value === "string" ? { enforcementLevel: value } : (value as { enforcementLevel?: string });
            const level = { advisory: analyzer.EnforcementLevel.ADVISORY, mandatory: analyzer.EnforcementLevel.MANDATORY, disabled: analyzer.EnforcementLevel.DISABLED }[enforcementLevel];
            if (level === undefined) throw new Error(`config.example.json: ${name}: enforcement level ${enforcementLevel}`);
            request.getPolicyconfigMap().set(name, policyConfig(level, properties));
        }
        await rpc<Empty>((done) => client.configure(request, done));
        expect(await judge()).toEqual([]);
    }, 30_000);

    it("takes enforcement levels and settings from the policy pack config", async () => {
        const request = new analyzer.ConfigureAnalyzerRequest();
        request.getPolicyconfigMap().set(credentialLifetimePolicy, policyConfig(analyzer.EnforcementLevel.ADVISORY, { maxLifetimeDays: 180 }));
        request.getPolicyconfigMap().set(graphPermissionsPolicy, policyConfig(analyzer.EnforcementLevel.MANDATORY, { allowPrivileged: [{ permission: ownedBy, justification: goodJustification }] }));
        await rpc<Empty>((done) => client.configure(request, done));

        const [violation] = await analyze(applicationPasswordType, { ...tooLong, endDate: "2026-07-20T00:00:00Z" });
        expect(violation).toMatchObject({ policy: credentialLifetimePolicy, level: analyzer.EnforcementLevel.ADVISORY });
        expect(violation?.message).toContain("more than the 180-day cap");
        expect(await analyze(appRoleAssignmentType, { appRoleId: role(ownedBy), principalObjectId: "x", resourceObjectId: "y" })).toEqual([]);
        expect(await analyze(appRoleAssignmentType, { appRoleId: role(tier0), principalObjectId: "x", resourceObjectId: "y" })).toHaveLength(1);
    });

    /**
     * Stacks that used to pass and must not (test/fixtures/policy/escapes.json), sent to the running pack as the
     * engine sends them; and the stack analysis, which carries each resource's property dependencies.
     */
    describe("hostile stacks", () => {
        const escapes = policyEscapes;
        const levels = { mandatory: analyzer.EnforcementLevel.MANDATORY, advisory: analyzer.EnforcementLevel.ADVISORY } as const;
        // A message may carry no control character raw (the runner itself joins description and message with one newline).
        const nowSeconds = () => Math.floor(Date.now() / 1000);

        /** The policy pack config, as `--policy-pack-config` hands it over: every policy not named gets its defaults. */
        const configure = async (settings: Record<string, Record<string, unknown>> = {}) => {
            const request = new analyzer.ConfigureAnalyzerRequest();
            for (const [name, properties] of Object.entries(settings)) request.getPolicyconfigMap().set(name, policyConfig(analyzer.EnforcementLevel.MANDATORY, properties));
            await rpc<Empty>((done) => client.configure(request, done));
        };

        beforeEach(async () => {
            await configure();
        });

        it.each(escapes.map((c) => [c.name, c] as const))("reports %s", async (_, escape) => {
            if (escape.config) await configure({ [escape.policy]: escape.config });
            const found = await analyze(escape.type, escape.props);
            expect(found.map((d) => [d.policy, d.level])).toEqual([[escape.policy, levels[escape.level]]]);
            const [description, message, ...more] = found[0]!.message.split("\n");
            expect(description).toBe(policyPackArgs.policies.find((p) => p.name === escape.policy)?.description);
            expect(more).toEqual([]);
            for (const text of escape.contains) expect(message).toContain(text);
            for (const text of escape.absent ?? []) expect(message).not.toContain(text);
            expect(message).not.toMatch(rawControl);
        });

        it("passes what is fine: a reader role, one user's consent, a requested scope, an environment subject, a secret within the cap", async () => {
            const sp = "2f1d3c4b-0000-4000-a000-00000000c0de";
            expect(await analyze("azuread:index/directoryRoleAssignment:DirectoryRoleAssignment", { principalObjectId: sp, roleId: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" })).toEqual([]);
            const grant = { servicePrincipalObjectId: sp, resourceServicePrincipalObjectId: sp, claimValues: ["Directory.AccessAsUser.All"], userObjectId: "3c7e0000-0000-4000-a000-000000000001" };
            expect(await analyze("azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant", grant)).toEqual([]);
            const app = { displayName: "x", requiredResourceAccesses: [{ resourceAppId: graph, resourceAccesses: [{ id: graphCatalog.delegated["Directory.AccessAsUser.All"]!.id, type: "scope" }] }] };
            expect(await analyze(applicationType, app)).toEqual([]);
            const github = { applicationId: "/applications/x", displayName: "gh", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/identity:environment:production", audiences: ["api://AzureADTokenExchange"] };
            expect(await analyze(federatedCredentialType, github)).toEqual([]);
            const secret = { properties: { value: "MOCKSECRET", attributes: { expires: nowSeconds() + 90 * 86_400 } }, tags: { " Credential ": "main" } };
            expect(await analyze(secretType, secret)).toEqual([]);
            expect(await analyze("azuread:index/servicePrincipalPassword:ServicePrincipalPassword", { servicePrincipalId: sp })).toEqual([]);
            // A flexible credential that pins the exact subject and narrows it further; a chain with its expiry.
            const flexible = {
                applicationId: "/applications/x",
                displayName: "gh-deploy",
                issuer: "https://token.actions.githubusercontent.com",
                audience: "api://AzureADTokenExchange",
                claimsMatchingExpression: "claims['sub'] eq 'repo:contoso/identity:environment:production' and claims['job_workflow_ref'] eq 'contoso/shared/.github/workflows/deploy.yml@refs/heads/main'",
            };
            expect(await analyze(flexibleFederatedCredentialType, flexible)).toEqual([]);
            const chain = { properties: { value: "MOCKSECRET", contentType: "application/pem-certificate-chain", attributes: { expires: nowSeconds() + 90 * 86_400 } } };
            expect(await analyze(secretType, chain)).toEqual([]);
        });

        it("takes the organisation's allow-lists, and stops everything on a broken one", async () => {
            const ga = { principalObjectId: "x", roleId: "62e90394-69f5-4237-9190-012177145e10" };
            const grant = { servicePrincipalObjectId: "x", resourceServicePrincipalObjectId: "y", claimValues: ["Directory.AccessAsUser.All"] };
            await configure({
                [graphPermissionsPolicy]: {
                    allowDirectoryRoles: [{ role: "Global Administrator", justification: "Break-glass automation, owned by the identity team, reviewed monthly." }],
                    allowDelegated: [{ permission: "Directory.AccessAsUser.All", justification: "The admin portal acts only for administrators on compliant devices." }],
                },
            });
            expect(await analyze("azuread:index/directoryRoleAssignment:DirectoryRoleAssignment", ga)).toEqual([]);
            expect(await analyze("azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant", grant)).toEqual([]);
            expect(await analyze("azuread:index/directoryRoleAssignment:DirectoryRoleAssignment", { ...ga, roleId: "e8611ab8-c189-46e8-94e1-60213ab1f814" })).toHaveLength(1);

            await configure({ [graphPermissionsPolicy]: { allowDirectoryRoles: [{ role: "Global Admin", justification: "Break-glass automation, owned by the identity team." }] } });
            await expect(analyze("azuread:index/directoryRoleAssignment:DirectoryRoleAssignment", { ...ga, roleId: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" })).rejects.toThrow(
                /policy pack config of "entra-graph-tier0-permissions" is invalid.*"Global Admin" is neither a built-in Microsoft Entra role nor a role id \(a GUID\) \(did you mean "Global Administrator"\?\)/,
            );
            await configure({ [keyVaultExpiryPolicy]: { maxLifetimeDay: 180 } });
            await expect(analyze(secretType, { properties: { value: "x" } })).rejects.toThrow(/unknown setting "maxLifetimeDay"/);
        });

        it("makes the pull-request warning a refusal when the config says so, and leaves it out when disabled", async () => {
            const pullRequest = { applicationId: "/applications/x", issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/identity:pull_request", audiences: ["api://AzureADTokenExchange"] };
            const request = new analyzer.ConfigureAnalyzerRequest();
            request.getPolicyconfigMap().set(federatedPullRequestPolicy, policyConfig(analyzer.EnforcementLevel.MANDATORY, {}));
            await rpc<Empty>((done) => client.configure(request, done));
            expect((await analyze(federatedCredentialType, pullRequest)).map((d) => [d.policy, d.level])).toEqual([[federatedPullRequestPolicy, analyzer.EnforcementLevel.MANDATORY]]);
            request.getPolicyconfigMap().set(federatedPullRequestPolicy, policyConfig(analyzer.EnforcementLevel.DISABLED, {}));
            await rpc<Empty>((done) => client.configure(request, done));
            expect(await analyze(federatedCredentialType, pullRequest)).toEqual([]);
        });

        /** A resource of a stack analysis: inputs as properties, and the URNs each input was computed from. */
        interface StackEntry {
            readonly type: string;
            readonly name: string;
            readonly props: Record<string, unknown>;
            readonly dependencies?: Record<string, readonly string[]>;
        }
        const urnOf = (type: string, name: string) => `urn:pulumi:dev::entra-rotor::${type}::${name}`;
        const analyzeStack = async (entries: readonly StackEntry[]) => {
            const request = new analyzer.AnalyzeStackRequest();
            request.setResourcesList(
                entries.map((entry) => {
                    const resource = new analyzer.AnalyzerResource();
                    resource.setType(entry.type);
                    resource.setName(entry.name);
                    resource.setUrn(urnOf(entry.type, entry.name));
                    resource.setProperties(Struct.fromJavaScript(entry.props as Record<string, never>));
                    resource.setOptions(new analyzer.AnalyzerResourceOptions());
                    const all = new Set<string>();
                    for (const [input, urns] of Object.entries(entry.dependencies ?? {})) {
                        resource.getPropertydependenciesMap().set(input, new analyzer.AnalyzerPropertyDependencies().setUrnsList([...urns]));
                        for (const urn of urns) all.add(urn);
                    }
                    resource.setDependenciesList([...all]);
                    return resource;
                }),
            );
            const response = await rpc<analyzer.AnalyzeResponse>((done) => client.analyzeStack(request, done));
            return response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() }));
        };

        it("finds, by property dependencies, a secret computed from a credential that carries no tag", async () => {
            const password = { type: applicationPasswordType, name: "legacy-password", props: { applicationId: "/applications/x", endDate: "2027-01-01T00:00:00Z" } };
            const app = { type: applicationType, name: "legacy-app", props: { displayName: "Legacy" } };
            const key = { type: "tls:index/privateKey:PrivateKey", name: "legacy-key", props: { algorithm: "RSA", rsaBits: 2048 } };
            const secret = (name: string, attributes: Record<string, unknown>, sources: readonly { type: string; name: string }[]): StackEntry => ({
                type: secretType,
                name,
                props: { resourceGroupName: "rg", vaultName: "kv", secretName: name, properties: { value: "MOCKSECRET-untagged", contentType: "text/plain", attributes } },
                dependencies: { properties: sources.map((s) => urnOf(s.type, s.name)), vaultName: [] },
            });
            const classic: StackEntry = {
                type: azureClassicSecretType,
                name: "legacy-key-pem",
                props: { name: "legacy-key-pem", keyVaultId: "/subscriptions/x", value: "MOCKSECRET-pem", expirationDate: "9999-12-31T23:59:59Z" },
                dependencies: { value: [urnOf(key.type, key.name)] },
            };
            const found = await analyzeStack([
                app,
                password,
                key,
                secret("untagged", {}, [password]),
                secret("client-id", {}, [app]),
                secret("in-time", { expires: nowSeconds() + 30 * 86_400 }, [app, password]),
                classic,
            ]);
            expect(found.map((d) => [d.policy, d.level, d.urn])).toEqual([
                [keyVaultSourcesPolicy, analyzer.EnforcementLevel.MANDATORY, urnOf(secretType, "untagged")],
                [keyVaultSourcesPolicy, analyzer.EnforcementLevel.MANDATORY, urnOf(azureClassicSecretType, "legacy-key-pem")],
            ]);
            expect(found[0]!.message).toContain('holds a credential (its properties are computed from the client secret (azuread ApplicationPassword) "legacy-password") but has no expiry');
            expect(found[1]!.message).toContain("expirationDate is 9999-12-31T23:59:59Z, later than any credential may live: the latest allowed expiry is");
            for (const d of found) expect(d.message).not.toContain("MOCKSECRET");

            // The cap comes from this policy's own config.
            await configure({ [keyVaultSourcesPolicy]: { maxLifetimeDays: 7 } });
            expect((await analyzeStack([password, secret("in-time", { expires: nowSeconds() + 30 * 86_400 }, [password])])).map((d) => d.message)).toEqual([
                expect.stringContaining("now plus the 7-day lifetime cap"),
            ]);
        });

        it("judges entra-rotor's own sample stack with the dependencies the engine would send: compliant, and caught once stripped of tag and expiry", async () => {
            const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
            // Plain values (the engine sends secrets wrapped; the pack unwraps them either way).
            const plain = (value: unknown): unknown =>
                Array.isArray(value) ? value.map(plain) : value && typeof value === "object" ? (unwrapSecret(value) !== value ? plain(unwrapSecret(value)) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))) : value;
            // Under mocks there is no engine to record dependencies, so they are recovered from the values: a secret
            // computed from a credential contains its secret output (a client secret's value, a key's PEM).
            const secretOutputs: Record<string, readonly string[]> = {
                [applicationPasswordType]: ["value"],
                "tls:index/privateKey:PrivateKey": ["privateKeyPem"],
                "tls:index/selfSignedCert:SelfSignedCert": ["certPem"],
            };
            const sources = mocks.resources.flatMap((r) =>
                (secretOutputs[r.type] ?? []).map((output) => ({ urn: urnOf(r.type, r.name), text: JSON.stringify(plain(r.state[output])).slice(1, -1) })),
            );
            const entries: StackEntry[] = mocks.resources.map((r) => {
                const props = plain(r.inputs) as Record<string, unknown>;
                if (r.type !== secretType) return { type: r.type, name: r.name, props };
                const text = JSON.stringify(props["properties"]);
                return { type: r.type, name: r.name, props, dependencies: { properties: sources.filter((s) => s.text.length > 20 && text.includes(s.text)).map((s) => s.urn) } };
            });
            const computed = entries.filter((e) => (e.dependencies?.["properties"] ?? []).length > 0).map((e) => e.name);
            expect(computed).toEqual(expect.arrayContaining(["mail-sender-keyvault-mail-sender-main", "device-inventory-keyvault-device-inventory-importer", "calendar-sync-keyvault-calendar-sync-web"]));
            expect(await analyzeStack(entries)).toEqual([]);

            // A hand-made copy of the served client secret, without entra-rotor's tags and expiry.
            const served = entries.find((e) => e.name === "mail-sender-keyvault-mail-sender-main")!;
            const properties = served.props["properties"] as { attributes: Record<string, unknown> };
            const stripped: StackEntry = {
                ...served,
                name: "copied-by-hand",
                props: { ...served.props, tags: { owner: "someone" }, properties: { ...properties, attributes: { enabled: true } } },
            };
            const found = await analyzeStack([...entries, stripped]);
            expect(found.map((d) => [d.policy, d.urn])).toEqual([[keyVaultSourcesPolicy, urnOf(secretType, "copied-by-hand")]]);
            expect(found[0]!.message).toMatch(/computed from the client secret \(azuread ApplicationPassword\) "mail-sender-main-slot[01]"\) but has no expiry/);
            expect(found[0]!.message).not.toContain("MOCKSECRET");
            // The resource policy, which reads tags, does not see it: that is the hole the stack policy closes.
            expect(await analyze(secretType, stripped.props)).toEqual([]);
        }, 30_000);

        /** The stacks of test/fixtures/policy/stack-escapes.json, sent with their property dependencies. */
        const stackEscapes = (
            JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/policy/stack-escapes.json"), "utf8")) as {
                cases: {
                    name: string;
                    config?: Record<string, unknown>;
                    resources: (StackEntry & { expiresInDays?: number })[];
                    findings: { resource: string; contains: string[] }[];
                }[];
            }
        ).cases;

        it("has stack escapes that must be reported and stacks that must pass", () => {
            expect(stackEscapes.some((c) => c.findings.length > 0)).toBe(true);
            expect(stackEscapes.some((c) => c.findings.length === 0)).toBe(true);
        });

        it.each(stackEscapes.map((c) => [c.name, c] as const))("judges the stack: %s", async (_, escape) => {
            if (escape.config) await configure({ [keyVaultSourcesPolicy]: escape.config });
            const typeOf = new Map(escape.resources.map((r) => [r.name, r.type]));
            const entries: StackEntry[] = escape.resources.map(({ expiresInDays, ...r }) => {
                const props = structuredClone(r.props);
                if (expiresInDays !== undefined) {
                    const expires = nowSeconds() + expiresInDays * 86_400;
                    if (r.type === azureClassicSecretType) props["expirationDate"] = new Date(expires * 1000).toISOString();
                    else (props["properties"] as { attributes: Record<string, unknown> }).attributes["expires"] = expires;
                }
                const dependencies = Object.fromEntries(Object.entries(r.dependencies ?? {}).map(([input, names]) => [input, names.map((name) => urnOf(typeOf.get(name)!, name))]));
                return { type: r.type, name: r.name, props, dependencies };
            });
            const found = await analyzeStack(entries);
            expect(found.map((d) => [d.policy, d.level, d.urn])).toEqual(
                escape.findings.map((f) => [keyVaultSourcesPolicy, analyzer.EnforcementLevel.MANDATORY, urnOf(typeOf.get(f.resource)!, f.resource)]),
            );
            escape.findings.forEach((finding, i) => {
                const [description, message, ...more] = found[i]!.message.split("\n");
                expect(description).toBe(policyPackArgs.policies.find((p) => p.name === keyVaultSourcesPolicy)?.description);
                expect(more).toEqual([]);
                for (const text of finding.contains) expect(message).toContain(text);
                expect(message).not.toContain("MOCKSECRET");
                expect(message).not.toMatch(rawControl);
            });
        });
    });
});
