import { describe, expect, it } from "vitest";
import {
    DEFAULT_AUDIENCE,
    type FederatedCredentialConfig,
    federatedCredentialSchema,
    GITHUB_ISSUER,
    githubSubject,
    gitlabSubject,
    issuerProblem,
    kubernetesSubject,
    resolveFederated,
    terraformCloudSubject,
} from "../infra/model/federated";
import type { ConfigIssue } from "../infra/model/issues";
import { parseWith, toConfigIssues } from "../infra/model/schema";

const appPath = "apps[0]";
const aksIssuer = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5d3a3b4c-1e2f-4a5b-8c9d-0e1f2a3b4c5d/";
const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const adoOrg = "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11";
const entraAdoSubject = `/eid1/c/pub/t/v4j5cvGGr0GRqy180BHbRw/a/AqxDJMAWa0Kf0kS-cXSU7Q/sc/${adoOrg}/7b0f2f5c-7c1a-4a62-9d55-6a3c0e5b9f10`;

function parse(raw: unknown): FederatedCredentialConfig {
    const result = federatedCredentialSchema.safeParse(raw);
    if (!result.success) throw new Error(`fixture does not parse: ${JSON.stringify(toConfigIssues(result.error.issues, [], federatedCredentialSchema))}`);
    return result.data;
}

/** Resolves entries as the only credentials of apps[0], at indexes 0, 1, 2, ... */
function resolve(...raws: unknown[]) {
    return resolveFederated(
        raws.map((raw, index) => ({ index, entry: parse(raw) })),
        appPath,
    );
}

/** Structural issues of one entry at `apps[0].credentials[index]`, as the stack config reports them. */
function structural(raw: unknown, index = 0): ConfigIssue[] {
    return parseWith(federatedCredentialSchema, raw, ["apps", 0, "credentials", index]).issues;
}

const errors = (issues: readonly ConfigIssue[]) => issues.filter((issue) => issue.severity === "error");
const warnings = (issues: readonly ConfigIssue[]) => issues.filter((issue) => issue.severity === "warning");

function issueAt(severity: "error" | "warning", path: string, message: string | RegExp) {
    return expect.objectContaining({
        path,
        severity,
        message: typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message),
    });
}
const errorAt = (path: string, message: string | RegExp) => issueAt("error", path, message);
const warningAt = (path: string, message: string | RegExp) => issueAt("warning", path, message);

const fed = (name: string, fields: Record<string, unknown>) => ({ type: "federated", name, ...fields });
/** A GitHub credential for a repository that keeps the name-only subject (said explicitly, so no warning). */
const gh = (name: string, target: Record<string, unknown>, repo = "contoso/payments-api") =>
    fed(name, { github: { repo, ...(repo.includes("@") || "ownerId" in target ? {} : { immutableSubject: false }), ...target } });
const custom = (name: string, issuer: string, subject: string, extra: Record<string, unknown> = {}) => fed(name, { issuer, subject, ...extra });

describe("subject helpers", () => {
    it("builds GitHub's subjects", () => {
        expect(githubSubject("contoso/api", { branch: "main" })).toBe("repo:contoso/api:ref:refs/heads/main");
        expect(githubSubject("contoso/api", { tag: "v1.2.0" })).toBe("repo:contoso/api:ref:refs/tags/v1.2.0");
        expect(githubSubject("contoso/api", { environment: "production" })).toBe("repo:contoso/api:environment:production");
        expect(githubSubject("contoso/api", { pullRequest: true })).toBe("repo:contoso/api:pull_request");
    });

    it("builds Kubernetes, GitLab and HCP Terraform subjects", () => {
        expect(kubernetesSubject("payments", "api")).toBe("system:serviceaccount:payments:api");
        expect(gitlabSubject("group/sub/project", { branch: "main" })).toBe("project_path:group/sub/project:ref_type:branch:ref:main");
        expect(gitlabSubject("group/project", { tag: "v4.2.0" })).toBe("project_path:group/project:ref_type:tag:ref:v4.2.0");
        expect(terraformCloudSubject({ organization: "contoso", project: "Default Project", workspace: "net-prod", runPhase: "plan" })).toBe(
            "organization:contoso:project:Default Project:workspace:net-prod:run_phase:plan",
        );
    });

    it("checks issuers", () => {
        expect(issuerProblem("https://token.actions.githubusercontent.com")).toBeUndefined();
        expect(issuerProblem(aksIssuer)).toBeUndefined();
        expect(issuerProblem("http://issuer.example.com")).toContain("must use https");
        expect(issuerProblem("issuer.example.com")).toContain("not an absolute URL");
        expect(issuerProblem("https://issuer.example.com/?tenant=1")).toContain("query or fragment");
        expect(issuerProblem("https://issuer.example.com/#x")).toContain("query or fragment");
        expect(issuerProblem(`https://issuer.example.com/${"a".repeat(600)}`)).toContain("at most 600");
    });
});

describe("presets resolve to what Entra matches", () => {
    it("github: branch", () => {
        const result = resolve(gh("gh-main", { branch: "main" }));
        expect(result.issues).toEqual([]);
        expect(result.credentials).toEqual([
            {
                name: "gh-main",
                issuer: GITHUB_ISSUER,
                subject: "repo:contoso/payments-api:ref:refs/heads/main",
                audience: "api://AzureADTokenExchange",
                preset: "github",
                path: "apps[0].credentials[0]",
            },
        ]);
        expect(GITHUB_ISSUER).toBe("https://token.actions.githubusercontent.com");
        expect(DEFAULT_AUDIENCE).toBe("api://AzureADTokenExchange");
    });

    it("github: tag, environment and branches with slashes", () => {
        const result = resolve(gh("gh-tag", { tag: "v1.2.0" }), gh("gh-prod", { environment: "production" }), gh("gh-release", { branch: "release/2026-11" }));
        expect(result.issues).toEqual([]);
        expect(result.credentials.map((c) => c.subject)).toEqual([
            "repo:contoso/payments-api:ref:refs/tags/v1.2.0",
            "repo:contoso/payments-api:environment:production",
            "repo:contoso/payments-api:ref:refs/heads/release/2026-11",
        ]);
        expect(result.credentials.every((c) => c.issuer === GITHUB_ISSUER && c.preset === "github")).toBe(true);
    });

    it("github: pull requests resolve, with a warning", () => {
        const result = resolve(gh("gh-pr", { pullRequest: true }));
        expect(result.credentials[0]?.subject).toBe("repo:contoso/payments-api:pull_request");
        expect(errors(result.issues)).toEqual([]);
    });

    it("github: immutable subjects (ORG@ID/REPO@ID)", () => {
        const result = resolve(gh("gh-main", { branch: "main" }, "contoso@5544123/payments-api@821093847"));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]?.subject).toBe("repo:contoso@5544123/payments-api@821093847:ref:refs/heads/main");
    });

    it("kubernetes: the cluster's issuer exactly as written, trailing slash included", () => {
        const result = resolve(fed("aks-payments", { kubernetes: { issuer: aksIssuer, namespace: "payments", serviceAccount: "payments-api" } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]).toMatchObject({
            issuer: aksIssuer,
            subject: "system:serviceaccount:payments:payments-api",
            audience: DEFAULT_AUDIENCE,
            preset: "kubernetes",
        });
    });

    it("azureDevOps: a newer service connection (Microsoft Entra issuer)", () => {
        const issuer = `https://login.microsoftonline.com/${tenant}/v2.0`;
        const result = resolve(fed("ado-prod", { azureDevOps: { issuer, subject: entraAdoSubject } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]).toMatchObject({ issuer, subject: entraAdoSubject, audience: DEFAULT_AUDIENCE, preset: "azureDevOps" });
    });

    it("azureDevOps: an older service connection (Azure DevOps issuer), with a retirement warning", () => {
        const issuer = `https://vstoken.dev.azure.com/${adoOrg}`;
        const result = resolve(fed("ado-legacy", { azureDevOps: { issuer, subject: "sc://contoso/Payments Platform/prod-arm" } }));
        expect(errors(result.issues)).toEqual([]);
        expect(result.credentials[0]).toMatchObject({ issuer, subject: "sc://contoso/Payments Platform/prod-arm", preset: "azureDevOps" });
        expect(warnings(result.issues)).toEqual([warningAt("apps[0].credentials[0].azureDevOps.issuer", "convert the service connection to the Microsoft Entra issuer")]);
    });

    it("gitlab: gitlab.com by default, subgroups, branch", () => {
        const result = resolve(fed("gl-main", { gitlab: { project: "contoso/platform/payments", branch: "main" } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]).toMatchObject({
            issuer: "https://gitlab.com",
            subject: "project_path:contoso/platform/payments:ref_type:branch:ref:main",
            audience: DEFAULT_AUDIENCE,
            preset: "gitlab",
        });
    });

    it("gitlab: a self-managed host and a tag", () => {
        const result = resolve(fed("gl-tag", { gitlab: { project: "contoso/payments", tag: "v4.2.0", host: "https://gitlab.contoso.com" } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]).toMatchObject({ issuer: "https://gitlab.contoso.com", subject: "project_path:contoso/payments:ref_type:tag:ref:v4.2.0" });
    });

    it("terraformCloud: app.terraform.io by default, one credential per run phase", () => {
        const run = { organization: "contoso", project: "Default Project", workspace: "payments-prod" };
        const result = resolve(fed("tfc-plan", { terraformCloud: { ...run, runPhase: "plan" } }), fed("tfc-apply", { terraformCloud: { ...run, runPhase: "apply" } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials.map((c) => [c.issuer, c.subject, c.audience, c.preset])).toEqual([
            ["https://app.terraform.io", "organization:contoso:project:Default Project:workspace:payments-prod:run_phase:plan", DEFAULT_AUDIENCE, "terraformCloud"],
            ["https://app.terraform.io", "organization:contoso:project:Default Project:workspace:payments-prod:run_phase:apply", DEFAULT_AUDIENCE, "terraformCloud"],
        ]);
    });

    it("terraformCloud: a Terraform Enterprise host", () => {
        const result = resolve(fed("tfe-apply", { terraformCloud: { organization: "contoso", project: "net", workspace: "hub", runPhase: "apply", host: "https://tfe.contoso.com" } }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[0]?.issuer).toBe("https://tfe.contoso.com");
    });

    it("custom: issuer and subject as given, audience overridable, description kept", () => {
        const result = resolve(custom("buildkite", "https://agent.buildkite.com", "organization:contoso:pipeline:deploy:ref:refs/heads/main", { audience: "api://AzureADTokenExchangeUSGov", description: "Buildkite deploy pipeline" }));
        expect(result.issues).toEqual([]);
        expect(result.credentials).toEqual([
            {
                name: "buildkite",
                issuer: "https://agent.buildkite.com",
                subject: "organization:contoso:pipeline:deploy:ref:refs/heads/main",
                audience: "api://AzureADTokenExchangeUSGov",
                description: "Buildkite deploy pipeline",
                preset: "custom",
                path: "apps[0].credentials[0]",
            },
        ]);
    });

    it("presets take an audience override", () => {
        const result = resolve(fed("gh-main", { github: { repo: "contoso/api", branch: "main" }, audience: "api://contoso-token-exchange" }));
        expect(result.credentials[0]?.audience).toBe("api://contoso-token-exchange");
    });

    it("paths use the entry's index in the app's credentials list", () => {
        const result = resolveFederated(
            [
                { index: 1, entry: parse(gh("gh-main", { branch: "main" })) },
                { index: 4, entry: parse(gh("bad name", { branch: "dev" })) },
            ],
            "apps[2]",
        );
        expect(result.credentials.map((c) => c.path)).toEqual(["apps[2].credentials[1]"]);
        expect(result.issues).toEqual([errorAt("apps[2].credentials[4].name", '"bad name" must be 3-120 letters, digits')]);
    });
});

interface RuleCase {
    readonly title: string;
    readonly entries: readonly unknown[];
    readonly path: string;
    readonly message: string | RegExp;
}

const c = (i: number, rest = "") => `apps[0].credentials[${i}]${rest}`;
const long = (n: number) => "a".repeat(n);
const wildcardWhy = "Entra matches issuer and subject exactly and case-sensitively";
const formsList = "github, kubernetes, azureDevOps, gitlab, terraformCloud, managedIdentity, or issuer + subject";
const k8s = (fields: Record<string, unknown>) => fed("aks-api", { kubernetes: { issuer: aksIssuer, namespace: "payments", serviceAccount: "api", ...fields } });
const ado = (fields: Record<string, unknown>) => fed("ado-prod", { azureDevOps: { issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, subject: entraAdoSubject, ...fields } });
const gl = (fields: Record<string, unknown>) => fed("gl-main", { gitlab: { project: "contoso/payments", ...fields } });
const tfc = (fields: Record<string, unknown>) => fed("tfc-apply", { terraformCloud: { organization: "contoso", project: "Default Project", workspace: "prod", runPhase: "apply", ...fields } });
const ok = custom("generic", "https://issuer.example.com", "workload-1");

const rules: RuleCase[] = [
    // --- names ------------------------------------------------------------------------------------------
    { title: "name too short", entries: [gh("ab", { branch: "main" })], path: c(0, ".name"), message: '"ab" must be 3-120 letters, digits, \'-\' or \'_\', starting with a letter or digit' },
    { title: "name too long", entries: [gh(long(121), { branch: "main" })], path: c(0, ".name"), message: "3-120" },
    { title: "name starting with '-'", entries: [gh("-deploy", { branch: "main" })], path: c(0, ".name"), message: "starting with a letter or digit" },
    { title: "name starting with '_'", entries: [gh("_deploy", { branch: "main" })], path: c(0, ".name"), message: "starting with a letter or digit" },
    { title: "name with a dot", entries: [gh("deploy.prod", { branch: "main" })], path: c(0, ".name"), message: "letters, digits, '-' or '_'" },
    { title: "name with a space", entries: [gh("deploy prod", { branch: "main" })], path: c(0, ".name"), message: "3-120" },
    { title: "duplicate name", entries: [gh("deploy", { branch: "main" }), gh("deploy", { tag: "v1" })], path: c(1, ".name"), message: '"deploy" is already the name of apps[0].credentials[0]; give each credential its own name' },
    { title: "duplicate name differing in case", entries: [ok, gh("Generic", { branch: "main" })], path: c(1, ".name"), message: "already the name of apps[0].credentials[0]" },

    // --- exactly one form ---------------------------------------------------------------------------------
    { title: "no form at all", entries: [fed("nothing", {})], path: c(0), message: `says nothing about what it trusts; give exactly one of ${formsList}` },
    { title: "two presets", entries: [fed("two", { github: { repo: "contoso/api", branch: "main" }, kubernetes: { issuer: aksIssuer, namespace: "a", serviceAccount: "b" } })], path: c(0, ".kubernetes"), message: `github is already given; a federated credential trusts exactly one of ${formsList}` },
    { title: "a preset and an issuer", entries: [fed("mixed", { github: { repo: "contoso/api", branch: "main" }, issuer: "https://issuer.example.com" })], path: c(0, ".issuer"), message: "github sets the issuer and subject itself; remove issuer" },
    { title: "a preset and a subject", entries: [fed("mixed", { gitlab: { project: "a/b", branch: "main" }, subject: "x" })], path: c(0, ".subject"), message: "gitlab sets the issuer and subject itself; remove subject" },
    { title: "issuer without subject", entries: [fed("half", { issuer: "https://issuer.example.com" })], path: c(0, ".subject"), message: "required with issuer" },
    { title: "subject without issuer", entries: [fed("half", { subject: "workload-1" })], path: c(0, ".issuer"), message: "required with subject" },

    // --- issuer ---------------------------------------------------------------------------------------------
    { title: "http issuer", entries: [custom("plain", "http://issuer.example.com", "s")], path: c(0, ".issuer"), message: '"http://issuer.example.com" must use https' },
    { title: "issuer that is not a URL", entries: [custom("plain", "issuer.example.com", "s")], path: c(0, ".issuer"), message: "is not an absolute URL" },
    { title: "issuer with a query", entries: [custom("plain", "https://issuer.example.com/?x=1", "s")], path: c(0, ".issuer"), message: "must not have a query or fragment" },
    { title: "issuer with a fragment", entries: [custom("plain", "https://issuer.example.com/#top", "s")], path: c(0, ".issuer"), message: "must not have a query or fragment" },
    { title: "issuer over 600 characters", entries: [custom("plain", `https://issuer.example.com/${long(580)}`, "s")], path: c(0, ".issuer"), message: "is 607 characters; Entra allows at most 600" },
    { title: "empty issuer", entries: [custom("plain", "", "s")], path: c(0, ".issuer"), message: "must not be empty" },
    { title: "wildcard in the issuer", entries: [custom("plain", "https://*.example.com", "s")], path: c(0, ".issuer"), message: wildcardWhy },
    { title: "issuer with a trailing space", entries: [custom("plain", "https://issuer.example.com ", "s")], path: c(0, ".issuer"), message: "leading or trailing spaces" },

    // --- subject --------------------------------------------------------------------------------------------
    { title: "empty subject", entries: [custom("plain", "https://issuer.example.com", "")], path: c(0, ".subject"), message: "must not be empty" },
    { title: "subject over 600 characters", entries: [custom("plain", "https://issuer.example.com", long(601))], path: c(0, ".subject"), message: "is 601 characters; Entra allows at most 600" },
    { title: "wildcard in the subject", entries: [custom("plain", GITHUB_ISSUER, "repo:contoso/api:*")], path: c(0, ".subject"), message: `contains a wildcard (*): ${wildcardWhy}` },
    { title: "wildcard subject says flexible credentials are out of scope", entries: [custom("plain", GITHUB_ISSUER, "repo:contoso/*")], path: c(0, ".subject"), message: "flexible federated credentials" },
    { title: "same issuer and subject twice", entries: [custom("one", "https://issuer.example.com", "w"), custom("two", "https://issuer.example.com", "w")], path: c(1), message: "has the same issuer and subject as apps[0].credentials[0]; Entra requires each issuer + subject pair to be unique in an app" },
    { title: "same pair from a preset and a custom entry", entries: [gh("gh-main", { branch: "main" }), custom("again", GITHUB_ISSUER, "repo:contoso/payments-api:ref:refs/heads/main")], path: c(1), message: "same issuer and subject as apps[0].credentials[0]" },

    // --- audience --------------------------------------------------------------------------------------------
    { title: "empty audience", entries: [fed("gh-main", { github: { repo: "contoso/api", branch: "main" }, audience: "" })], path: c(0, ".audience"), message: "must not be empty" },
    { title: "wildcard audience", entries: [fed("gh-main", { github: { repo: "contoso/api", branch: "main" }, audience: "api://*" })], path: c(0, ".audience"), message: "wildcard" },

    // --- github ------------------------------------------------------------------------------------------------
    { title: "github repo without an org", entries: [gh("gh-main", { branch: "main" }, "payments-api")], path: c(0, ".github.repo"), message: '"payments-api" must be "ORG/REPO"' },
    { title: "github repo as a URL", entries: [gh("gh-main", { branch: "main" }, "https://github.com/contoso/api")], path: c(0, ".github.repo"), message: "as in the repository's URL" },
    { title: "github with no target", entries: [gh("gh-any", {})], path: c(0, ".github"), message: "say which workflow runs may sign in: give exactly one of branch, tag, environment, pullRequest" },
    { title: "github branch and environment", entries: [gh("gh-two", { branch: "main", environment: "production" })], path: c(0, ".github.environment"), message: "branch is already given; give exactly one of branch, tag, environment, pullRequest" },
    { title: "github wildcard branch", entries: [gh("gh-rel", { branch: "release/*" })], path: c(0, ".github.branch"), message: `${wildcardWhy}`},
    { title: "github wildcard branch says one per branch", entries: [gh("gh-rel", { branch: "release/*" })], path: c(0, ".github.branch"), message: "add one credential per branch" },
    { title: "github wildcard environment", entries: [gh("gh-env", { environment: "prod-*" })], path: c(0, ".github.environment"), message: "add one credential per environment" },
    { title: "github branch written as a ref", entries: [gh("gh-main", { branch: "refs/heads/main" })], path: c(0, ".github.branch"), message: 'write the bare branch name without "refs/heads/", e.g. main' },
    { title: "github tag written as a ref", entries: [gh("gh-tag", { tag: "refs/tags/v1" })], path: c(0, ".github.tag"), message: 'without "refs/tags/"' },
    { title: "github empty environment", entries: [gh("gh-env", { environment: "" })], path: c(0, ".github.environment"), message: "must not be empty" },

    // --- kubernetes ---------------------------------------------------------------------------------------------
    { title: "kubernetes http issuer", entries: [k8s({ issuer: "http://oidc.cluster.local" })], path: c(0, ".kubernetes.issuer"), message: "must use https" },
    { title: "kubernetes uppercase namespace", entries: [k8s({ namespace: "Payments" })], path: c(0, ".kubernetes.namespace"), message: '"Payments" is not a valid namespace: at most 63 lowercase letters, digits or \'-\'' },
    { title: "kubernetes namespace ending with '-'", entries: [k8s({ namespace: "payments-" })], path: c(0, ".kubernetes.namespace"), message: "starting and ending with a letter or digit" },
    { title: "kubernetes service account over 63 characters", entries: [k8s({ serviceAccount: long(64) })], path: c(0, ".kubernetes.serviceAccount"), message: "is not a valid service account name" },
    { title: "kubernetes service account with '_'", entries: [k8s({ serviceAccount: "payments_api" })], path: c(0, ".kubernetes.serviceAccount"), message: "Kubernetes DNS label" },

    // --- azure devops -------------------------------------------------------------------------------------------
    { title: "azureDevOps issuer of another kind", entries: [ado({ issuer: "https://dev.azure.com/contoso" })], path: c(0, ".azureDevOps.issuer"), message: "https://login.microsoftonline.com/<tenant id>/v2.0 (newer connections) or https://vstoken.dev.azure.com/<organization id>" },
    { title: "azureDevOps issuer with an organization name instead of its id", entries: [ado({ issuer: "https://vstoken.dev.azure.com/contoso", subject: "sc://contoso/p/c" })], path: c(0, ".azureDevOps.issuer"), message: "is not a service connection issuer" },
    { title: "azureDevOps subject of another kind", entries: [ado({ subject: "contoso/payments/prod" })], path: c(0, ".azureDevOps.subject"), message: "/eid1/c/pub/t/.../sc/... (newer connections) or sc://ORGANIZATION/PROJECT/CONNECTION" },
    { title: "azureDevOps sc:// subject with a missing part", entries: [ado({ issuer: `https://vstoken.dev.azure.com/${adoOrg}`, subject: "sc://contoso/payments" })], path: c(0, ".azureDevOps.subject"), message: "is not a service connection subject" },
    { title: "azureDevOps Entra issuer with an sc:// subject", entries: [ado({ subject: "sc://contoso/payments/prod" })], path: c(0, ".azureDevOps.subject"), message: "a login.microsoftonline.com issuer goes with an /eid1/c/pub/t/.../sc/... subject; copy issuer and subject from the same service connection" },
    { title: "azureDevOps vstoken issuer with an /eid1 subject", entries: [ado({ issuer: `https://vstoken.dev.azure.com/${adoOrg}` })], path: c(0, ".azureDevOps.subject"), message: "an https://vstoken.dev.azure.com issuer goes with an sc://ORGANIZATION/PROJECT/CONNECTION subject" },

    // --- gitlab ---------------------------------------------------------------------------------------------------
    { title: "gitlab environment", entries: [gl({ environment: "production" })], path: c(0, ".gitlab.environment"), message: "GitLab's token subject does not contain the environment" },
    { title: "gitlab with neither branch nor tag", entries: [gl({})], path: c(0, ".gitlab"), message: "give exactly one of branch, tag" },
    { title: "gitlab branch and tag", entries: [gl({ branch: "main", tag: "v1" })], path: c(0, ".gitlab.tag"), message: "branch is already given" },
    { title: "gitlab project without a group", entries: [gl({ project: "payments", branch: "main" })], path: c(0, ".gitlab.project"), message: 'must be the project\'s full path, e.g. "group/subgroup/project"' },
    { title: "gitlab host with a trailing slash", entries: [gl({ branch: "main", host: "https://gitlab.contoso.com/" })], path: c(0, ".gitlab.host"), message: 'ends with "/", but the token\'s iss claim does not and Entra compares exactly; write https://gitlab.contoso.com' },
    { title: "gitlab http host", entries: [gl({ branch: "main", host: "http://gitlab.contoso.com" })], path: c(0, ".gitlab.host"), message: "must use https" },
    { title: "gitlab wildcard branch", entries: [gl({ branch: "feature-*" })], path: c(0, ".gitlab.branch"), message: "add one credential per branch" },

    // --- terraform cloud -------------------------------------------------------------------------------------------
    { title: "terraformCloud workspace with ':'", entries: [tfc({ workspace: "prod:eu" })], path: c(0, ".terraformCloud.workspace"), message: 'cannot contain ":"' },
    { title: "terraformCloud wildcard workspace", entries: [tfc({ workspace: "*" })], path: c(0, ".terraformCloud.workspace"), message: wildcardWhy },
    { title: "terraformCloud empty organization", entries: [tfc({ organization: "" })], path: c(0, ".terraformCloud.organization"), message: "must not be empty" },
    { title: "terraformCloud host not written as the iss claim", entries: [tfc({ host: "https://App.Terraform.io" })], path: c(0, ".terraformCloud.host"), message: "write https://app.terraform.io" },
];

describe("Entra's rules, each refused at the offending path", () => {
    it.each(rules)("$title", ({ entries, path, message }) => {
        const result = resolve(...entries);
        expect(errors(result.issues)).toContainEqual(errorAt(path, message));
        // The offending entry is not in the model.
        const entryPath = path.match(/^apps\[0\]\.credentials\[\d+\]/)![0];
        expect(result.credentials.map((credential) => credential.path)).not.toContain(entryPath);
    });

    it("accepts names of 3 and 120 characters with '-' and '_'", () => {
        const result = resolve(gh("a1b", { branch: "main" }), gh(`A-${"x_".repeat(59)}`, { branch: "dev" }));
        expect(result.issues).toEqual([]);
        expect(result.credentials[1]?.name).toHaveLength(120);
    });

    it("accepts a subject and an issuer of exactly 600 characters", () => {
        const issuer = `https://issuer.example.com/${long(573)}`;
        expect(issuer).toHaveLength(600);
        const result = resolve(custom("limits", issuer, long(600)));
        expect(result.issues).toEqual([]);
    });
});

describe("at most 20 federated credentials per app", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => gh(`gh-branch-${i}`, { branch: `branch-${i}` }));

    it("accepts 20", () => {
        const result = resolve(...many(20));
        expect(result.issues).toEqual([]);
        expect(result.credentials).toHaveLength(20);
    });

    it("refuses the 21st, at its path, with Entra's limit and a way out", () => {
        const result = resolve(...many(21));
        expect(errors(result.issues)).toEqual([errorAt("apps[0].credentials[20]", /^Entra allows at most 20 federated identity credentials per app.*GitHub environment.*another app/)]);
        expect(result.credentials).toHaveLength(20);
    });

    it("reports the limit once, at the 21st entry, however many there are", () => {
        const result = resolve(...many(23));
        expect(errors(result.issues).filter((issue) => issue.message.includes("at most 20"))).toEqual([errorAt("apps[0].credentials[20]", "at most 20")]);
    });
});

describe("warnings", () => {
    it("warns that any pull request can obtain a token (GitHub pullRequest: true)", () => {
        const result = resolve(gh("gh-pr", { pullRequest: true }));
        expect(result.issues).toEqual([
            warningAt(
                "apps[0].credentials[0].github.pullRequest",
                "any pull request, including from forks if the workflow runs for them, can obtain a token: prefer an environment with required reviewers",
            ),
        ]);
        expect(result.credentials).toHaveLength(1);
    });

    it("warns about any subject ending in :pull_request", () => {
        const result = resolve(custom("gh-pr", GITHUB_ISSUER, "repo:contoso/api:pull_request"));
        expect(result.issues).toEqual([warningAt("apps[0].credentials[0].subject", "any pull request")]);
        expect(result.credentials).toHaveLength(1);
    });

    it("warns when subjects differ only in case, naming the first", () => {
        const result = resolve(gh("gh-prod", { environment: "Production" }), gh("gh-prod-lower", { environment: "production" }));
        expect(errors(result.issues)).toEqual([]);
        expect(warnings(result.issues)).toEqual([warningAt("apps[0].credentials[1]", /differ only in case from apps\[0\]\.credentials\[0\]; Entra matches them case-sensitively/)]);
        expect(result.credentials).toHaveLength(2);
    });

    it("does not warn for distinct subjects", () => {
        const result = resolve(gh("gh-main", { branch: "main" }), gh("gh-prod", { environment: "production" }), ok);
        expect(result.issues).toEqual([]);
    });
});

describe("several errors at once", () => {
    it("reports every broken entry and field in one run, keeping the valid ones", () => {
        const result = resolve(
            gh("gh-main", { branch: "main" }),
            gh("x", { branch: "release/*" }),
            k8s({ namespace: "Payments", serviceAccount: "api_" }),
            custom("plain", "http://issuer.example.com", "s"),
            gh("gh-main", { environment: "production" }),
            fed("nothing", {}),
            tfc({}),
        );
        expect(errors(result.issues)).toEqual([
            errorAt(c(1, ".name"), '"x" must be 3-120'),
            errorAt(c(1, ".github.branch"), "wildcard"),
            errorAt(c(2, ".kubernetes.namespace"), '"Payments"'),
            errorAt(c(2, ".kubernetes.serviceAccount"), '"api_"'),
            errorAt(c(3, ".issuer"), "must use https"),
            errorAt(c(4, ".name"), "already the name of apps[0].credentials[0]"),
            errorAt(c(5), "says nothing about what it trusts"),
        ]);
        expect(result.credentials.map((credential) => credential.path)).toEqual([c(0), c(6)]);
    });
});

describe("structure (zod), as the stack config reports it", () => {
    it("refuses audiences as a list: Entra allows exactly one audience", () => {
        const issues = structural(fed("gh-main", { github: { repo: "contoso/api", branch: "main" }, audiences: ["api://AzureADTokenExchange"] }), 2);
        expect(issues).toEqual([errorAt("apps[0].credentials[2].audiences", "Entra allows exactly one audience per federated credential: write audience: <value>")]);
    });

    it("requires type federated and a name", () => {
        expect(structural({ type: "secret", name: "x", issuer: "https://i", subject: "s" })).toEqual([errorAt("apps[0].credentials[0].type", 'must be "federated"')]);
        expect(structural({ type: "federated", issuer: "https://i", subject: "s" })).toEqual([errorAt("apps[0].credentials[0].name", "required: a name for the credential")]);
    });

    it("limits the description to 600 characters", () => {
        expect(structural(custom("plain", "https://i.example.com", "s", { description: long(601) }))).toEqual([
            errorAt("apps[0].credentials[0].description", "is at most 600 characters (Entra's limit)"),
        ]);
        expect(structural(custom("plain", "https://i.example.com", "s", { description: long(600) }))).toEqual([]);
    });

    it("accepts only pullRequest: true", () => {
        expect(structural(gh("gh-pr", { pullRequest: false }))).toEqual([errorAt("apps[0].credentials[0].github.pullRequest", "pullRequest takes only true")]);
    });

    it("requires runPhase plan or apply", () => {
        expect(structural(tfc({ runPhase: "destroy" }))).toEqual([errorAt("apps[0].credentials[0].terraformCloud.runPhase", "must be plan or apply")]);
        expect(structural(tfc({ runPhase: undefined }))).toEqual([errorAt("apps[0].credentials[0].terraformCloud.runPhase", "required: plan or apply")]);
    });

    it("requires the fields of a preset", () => {
        expect(structural(fed("gh-main", { github: { branch: "main" } }))).toEqual([errorAt("apps[0].credentials[0].github.repo", 'required: the repository as "ORG/REPO"')]);
        expect(structural(fed("aks", { kubernetes: { issuer: aksIssuer } }))).toEqual([
            errorAt("apps[0].credentials[0].kubernetes.namespace", "required"),
            errorAt("apps[0].credentials[0].kubernetes.serviceAccount", "required"),
        ]);
        expect(structural(fed("gh-main", { github: "contoso/api" }))).toEqual([errorAt("apps[0].credentials[0].github", "a mapping: {repo, ownerId and repoId, and one of branch")]);
    });

    it("reports unknown keys at their path, with the keys that level accepts", () => {
        expect(structural(fed("gh-main", { github: { repo: "contoso/api", branch: "main", brnach: "dev" } }))).toEqual([
            errorAt("apps[0].credentials[0].github.brnach", 'unknown key "brnach" (did you mean "branch"?); allowed keys: repo, branch, tag, environment, pullRequest, ownerId, repoId, immutableSubject'),
        ]);
        expect(structural(fed("tfc", { terraformCloud: { organization: "o", project: "p", workspace: "w", run_phase: "plan" } }))).toContainEqual(
            errorAt("apps[0].credentials[0].terraformCloud.run_phase", 'unknown key "run_phase" (did you mean "runPhase"?)'),
        );
        expect(structural(custom("plain", "https://i.example.com", "s", { audeince: "x" }))).toEqual([
            errorAt("apps[0].credentials[0].audeince", 'unknown key "audeince" (did you mean "audience"?); allowed keys: type, name, description, github'),
        ]);
    });

    it("parses a valid entry of every form", () => {
        for (const entry of [gh("gh", { branch: "main" }), k8s({}), ado({}), gl({ branch: "main" }), tfc({}), ok]) {
            expect(structural(entry)).toEqual([]);
        }
    });
});

describe("GitHub's immutable subject (owner and repository ids)", () => {
    const withIds = (target: Record<string, unknown>, extra: Record<string, unknown> = {}, name = "gh-prod") => fed(name, { github: { repo: "contoso/payments-api", ownerId: 5544123, repoId: 821093847, ...target, ...extra } });

    it("puts the ids into the subject as GitHub documents it: repo:OWNER@OWNER-ID/REPO@REPO-ID:...", () => {
        const result = resolve(withIds({ environment: "production" }), withIds({ branch: "main" }, { repoId: "821093847" }, "gh-main"));
        expect(result.issues).toEqual([]);
        expect(result.credentials.map((c) => c.subject)).toEqual([
            "repo:contoso@5544123/payments-api@821093847:environment:production",
            "repo:contoso@5544123/payments-api@821093847:ref:refs/heads/main",
        ]);
        // Microsoft Learn's example, written inline.
        expect(resolve(gh("gh-main", { branch: "main" }, "contoso@5544123/payments-api@821093847")).credentials[0]!.subject).toBe("repo:contoso@5544123/payments-api@821093847:ref:refs/heads/main");
    });

    it("warns when a repository is given without ids, unless it says it keeps the name-only subject", () => {
        const bare = resolve(fed("gh-main", { github: { repo: "contoso/payments-api", branch: "main" } }));
        expect(bare.credentials[0]!.subject).toBe("repo:contoso/payments-api:ref:refs/heads/main");
        expect(warnings(bare.issues)).toEqual([warningAt("apps[0].credentials[0].github.repo", "has no ids: GitHub puts the owner and repository ids in the subject")]);
        expect(warnings(bare.issues)[0]!.message).toContain("gh api repos/contoso/payments-api --jq '.owner.id, .id'");
        expect(resolve(gh("gh-main", { branch: "main" })).issues).toEqual([]);
    });

    it("refuses ids that are not GitHub's, one id without the other, and contradictions", () => {
        expect(errors(resolve(withIds({ branch: "main" }, { ownerId: "x1" })).issues)).toEqual([errorAt("apps[0].credentials[0].github.ownerId", "must be GitHub's numeric id")]);
        expect(errors(resolve(withIds({ branch: "main" }, { ownerId: undefined })).issues)).toEqual([errorAt("apps[0].credentials[0].github.ownerId", "required with repoId")]);
        expect(errors(resolve(withIds({ branch: "main" }, { immutableSubject: false })).issues)).toEqual([errorAt("apps[0].credentials[0].github.immutableSubject", "is false, but ownerId and repoId")]);
        expect(errors(resolve(fed("gh-x", { github: { repo: "contoso/api", branch: "main", immutableSubject: true } })).issues)).toEqual([errorAt("apps[0].credentials[0].github", "add ownerId and repoId")]);
        expect(errors(resolve(gh("gh-main", { branch: "main" }, "contoso@1/payments-api")).issues)).toEqual([errorAt("apps[0].credentials[0].github.repo", "has one id")]);
        expect(errors(resolve(fed("gh-x", { github: { repo: "contoso@1/api@2", ownerId: 1, repoId: 2, branch: "main" } })).issues)).toEqual([errorAt("apps[0].credentials[0].github.repo", "already holds ids")]);
    });
});

describe("managedIdentity: a user-assigned managed identity as the app's credential", () => {
    const principal = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const mi = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => fed("aks-job", { managedIdentity: fields, ...extra });
    const resolveIn = (context: Parameters<typeof resolveFederated>[2], ...raws: unknown[]) =>
        resolveFederated(
            raws.map((raw, index) => ({ index, entry: parse(raw) })),
            appPath,
            context,
        );

    it("derives issuer, subject and audience per cloud (Microsoft Learn: configure an app to trust a managed identity)", () => {
        const expected = [
            ["global", `https://login.microsoftonline.com/${tenant}/v2.0`, "api://AzureADTokenExchange"],
            ["usgovernment", `https://login.microsoftonline.us/${tenant}/v2.0`, "api://AzureADTokenExchangeUSGov"],
            ["china", `https://login.partner.microsoftonline.cn/${tenant}/v2.0`, "api://AzureADTokenExchangeChina"],
        ] as const;
        for (const [cloud, issuer, audience] of expected) {
            const result = resolveIn({ cloud, tenantId: tenant }, mi({ principalId: principal }));
            expect(result.issues, cloud).toEqual([]);
            expect(result.credentials[0], cloud).toMatchObject({ issuer, subject: principal, audience, preset: "managedIdentity" });
        }
        // The tenant may come from the preset when the stack does not name one.
        expect(resolveIn({ cloud: "global" }, mi({ principalId: principal, tenantId: tenant })).credentials[0]!.issuer).toBe(`https://login.microsoftonline.com/${tenant}/v2.0`);
    });

    it("refuses what Entra would accept and then never match", () => {
        const at = (key: string) => `apps[0].credentials[0].managedIdentity.${key}`;
        expect(errors(resolveIn({ cloud: "global" }, mi({ principalId: principal })).issues)).toEqual([errorAt(at("tenantId"), "required: the managed identity's tenant")]);
        expect(errors(resolveIn({ cloud: "global", tenantId: tenant }, mi({ principalId: "not-a-guid" })).issues)).toEqual([errorAt(at("principalId"), "must be the managed identity's object (principal) id")]);
        expect(errors(resolveIn({ cloud: "global", tenantId: tenant }, mi({ principalId: principal.toUpperCase() })).issues)).toEqual([errorAt(at("principalId"), `write the managed identity's object (principal) id, not its client id in lowercase`)]);
        expect(errors(resolveIn({ cloud: "global", tenantId: tenant }, mi({ principalId: principal, tenantId: "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11" })).issues)).toEqual([errorAt(at("tenantId"), "is not the stack's tenant")]);
        expect(errors(resolveIn({ cloud: "usgovernment", tenantId: tenant }, mi({ principalId: principal }, { audience: "api://AzureADTokenExchange" })).issues)).toEqual([
            errorAt("apps[0].credentials[0].audience", "carries the audience api://AzureADTokenExchangeUSGov"),
        ]);
    });
});
