import { describe, expect, it } from "vitest";
import { type FederatedCredentialConfig, federatedCredentialSchema, resolveFederated } from "../infra/model/federated";
import type { ConfigIssue } from "../infra/model/issues";

/**
 * Spaces around federated values. Entra compares issuer, subject and audience exactly and accepts a credential
 * that will never match: a value with a space before or after it reaches Entra and no token ever signs in.
 * Every value that goes into an issuer, subject or audience is refused with a leading space and with a trailing
 * one, each alone, and accepted without (spaces inside a value, where the token has them, are fine).
 */

function resolve(raw: Record<string, unknown>): { credentials: readonly unknown[]; issues: readonly ConfigIssue[] } {
    const parsed = federatedCredentialSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`fixture does not parse: ${parsed.error.message}`);
    return resolveFederated([{ index: 0, entry: parsed.data as FederatedCredentialConfig }], "apps[0]");
}

const errors = (issues: readonly ConfigIssue[]) => issues.filter((issue) => issue.severity === "error").map((issue) => ({ path: issue.path, message: issue.message }));
const spaces = (value: string) => `"${value}" has leading or trailing spaces, which would never match the token; remove them`;

const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const adoSubject = "/eid1/c/pub/t/v4j5cvGGr0GRqy180BHbRw/a/AqxDJMAWa0Kf0kS-cXSU7Q/sc/0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11/7b0f2f5c-7c1a-4a62-9d55-6a3c0e5b9f10";
const aksIssuer = `https://eastus.oic.prod-aks.azure.com/${tenant}/5d3a3b4c-1e2f-4a5b-8c9d-0e1f2a3b4c5d/`;

interface Field {
    /** What the case is called. */
    readonly title: string;
    /** The config path of the field, under apps[0].credentials[0]. */
    readonly path: string;
    /** A valid entry with `value` in the field. */
    readonly entry: (value: string) => Record<string, unknown>;
    /** A valid value for the field. */
    readonly value: string;
}

const fed = (fields: Record<string, unknown>) => ({ type: "federated", name: "trusted", ...fields });
const github = (target: Record<string, unknown>) => fed({ github: { repo: "contoso/payments-api", immutableSubject: false, ...target } });
const terraform = (fields: Record<string, unknown>) => fed({ terraformCloud: { organization: "contoso", project: "Default Project", workspace: "prod", runPhase: "apply", ...fields } });

/** Every field whose value goes into the issuer, subject or audience Entra matches, and is written as is. */
const fields: Field[] = [
    { title: "a custom issuer", path: ".issuer", entry: (v) => fed({ issuer: v, subject: "workload-1" }), value: "https://issuer.example.com" },
    { title: "a custom subject", path: ".subject", entry: (v) => fed({ issuer: "https://issuer.example.com", subject: v }), value: "workload-1" },
    { title: "the audience", path: ".audience", entry: (v) => fed({ issuer: "https://issuer.example.com", subject: "workload-1", audience: v }), value: "api://AzureADTokenExchange" },
    { title: "a managed identity's audience", path: ".audience", entry: (v) => fed({ managedIdentity: { principalId: "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11", tenantId: tenant }, audience: v }), value: "api://AzureADTokenExchange" },
    { title: "a GitHub branch", path: ".github.branch", entry: (v) => github({ branch: v }), value: "main" },
    { title: "a GitHub tag", path: ".github.tag", entry: (v) => github({ tag: v }), value: "v1.2.0" },
    { title: "a GitHub environment", path: ".github.environment", entry: (v) => github({ environment: v }), value: "production" },
    { title: "a Kubernetes issuer", path: ".kubernetes.issuer", entry: (v) => fed({ kubernetes: { issuer: v, namespace: "payments", serviceAccount: "api" } }), value: aksIssuer },
    { title: "an Azure DevOps issuer", path: ".azureDevOps.issuer", entry: (v) => fed({ azureDevOps: { issuer: v, subject: adoSubject } }), value: `https://login.microsoftonline.com/${tenant}/v2.0` },
    { title: "an Azure DevOps subject", path: ".azureDevOps.subject", entry: (v) => fed({ azureDevOps: { issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, subject: v } }), value: adoSubject },
    { title: "a GitLab host", path: ".gitlab.host", entry: (v) => fed({ gitlab: { project: "contoso/payments", branch: "main", host: v } }), value: "https://gitlab.contoso.com" },
    { title: "a GitLab branch", path: ".gitlab.branch", entry: (v) => fed({ gitlab: { project: "contoso/payments", branch: v } }), value: "main" },
    { title: "a GitLab tag", path: ".gitlab.tag", entry: (v) => fed({ gitlab: { project: "contoso/payments", tag: v } }), value: "v1.2.0" },
    { title: "an HCP Terraform host", path: ".terraformCloud.host", entry: (v) => terraform({ host: v }), value: "https://tfe.contoso.com" },
    { title: "an HCP Terraform organization", path: ".terraformCloud.organization", entry: (v) => terraform({ organization: v }), value: "contoso" },
    { title: "an HCP Terraform project", path: ".terraformCloud.project", entry: (v) => terraform({ project: v }), value: "Default Project" },
    { title: "an HCP Terraform workspace", path: ".terraformCloud.workspace", entry: (v) => terraform({ workspace: v }), value: "prod" },
];

const cases = fields.flatMap((field) => [
    { ...field, side: "leading", spaced: ` ${field.value}` },
    { ...field, side: "trailing", spaced: `${field.value} ` },
]);

describe("spaces around federated values are refused at the field, each side alone", () => {
    it.each(fields)("$title without spaces is accepted", ({ entry, value }) => {
        const result = resolve(entry(value));
        expect(errors(result.issues)).toEqual([]);
        expect(result.credentials).toHaveLength(1);
    });

    it.each(cases)("$title with a $side space", ({ entry, path, spaced }) => {
        const result = resolve(entry(spaced));
        expect(errors(result.issues)).toEqual([{ path: `apps[0].credentials[0]${path}`, message: spaces(spaced) }]);
        expect(result.credentials).toEqual([]);
    });

    it("refuses a non-breaking space as well, which trims like any other", () => {
        const result = resolve(fed({ issuer: "https://issuer.example.com", subject: "workload-1\u00a0" }));
        expect(errors(result.issues)).toEqual([{ path: "apps[0].credentials[0].subject", message: spaces("workload-1\u00a0") }]);
    });
});

describe("fields with a pattern of their own refuse spaces too", () => {
    const patterned: { title: string; path: string; entry: (value: string) => Record<string, unknown>; value: string }[] = [
        { title: "the credential's name", path: ".name", entry: (v) => ({ ...github({ branch: "main" }), name: v }), value: "deploy" },
        { title: "a GitHub repository", path: ".github.repo", entry: (v) => fed({ github: { repo: v, immutableSubject: false, branch: "main" } }), value: "contoso/payments-api" },
        { title: "a Kubernetes namespace", path: ".kubernetes.namespace", entry: (v) => fed({ kubernetes: { issuer: aksIssuer, namespace: v, serviceAccount: "api" } }), value: "payments" },
        { title: "a Kubernetes service account", path: ".kubernetes.serviceAccount", entry: (v) => fed({ kubernetes: { issuer: aksIssuer, namespace: "payments", serviceAccount: v } }), value: "api" },
        { title: "a GitLab project", path: ".gitlab.project", entry: (v) => fed({ gitlab: { project: v, branch: "main" } }), value: "contoso/payments" },
        { title: "a managed identity's principal id", path: ".managedIdentity.principalId", entry: (v) => fed({ managedIdentity: { principalId: v, tenantId: tenant } }), value: "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11" },
    ];
    const sides = patterned.flatMap((field) => [
        { ...field, side: "leading", spaced: ` ${field.value}` },
        { ...field, side: "trailing", spaced: `${field.value} ` },
    ]);

    it.each(patterned)("$title without spaces is accepted", ({ entry, value }) => {
        expect(errors(resolve(entry(value)).issues)).toEqual([]);
    });

    it.each(sides)("$title with a $side space", ({ entry, path, spaced }) => {
        const result = resolve(entry(spaced));
        expect(errors(result.issues).map((e) => e.path)).toContain(`apps[0].credentials[0]${path}`);
        expect(result.credentials).toEqual([]);
    });
});
