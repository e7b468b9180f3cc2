import { z } from "zod";
import { type ConfigIssue, IssueList } from "./issues";
import { nonEmpty } from "./schema";
import { nonAsciiHostProblem, unsafeTextProblem, visible } from "../../rotation/text";

/**
 * Federated identity credentials: an app trusts tokens from an outside issuer (GitHub Actions, a Kubernetes
 * cluster, Azure DevOps, GitLab, HCP Terraform, or any OIDC issuer) instead of holding a secret.
 *
 * Entra matches issuer, subject and audience exactly and case-sensitively, and a credential that will never
 * match is created without any error: the mistake only shows when a pipeline fails to sign in. So everything
 * Entra would accept but that cannot work is refused here, with the path and the fix.
 */

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const DEFAULT_AUDIENCE = "api://AzureADTokenExchange";
export const DEFAULT_GITLAB_HOST = "https://gitlab.com";
export const DEFAULT_TERRAFORM_CLOUD_HOST = "https://app.terraform.io";
/** Entra's limit per app registration. */
export const MAX_FEDERATED_PER_APP = 20;
/** Entra's limit for issuer, subject, audience and description. */
export const MAX_FEDERATED_VALUE_LENGTH = 600;

export const federatedNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
export const federatedNameRule = "3-120 letters, digits, '-' or '_', starting with a letter or digit";

export type FederatedPreset = "github" | "kubernetes" | "azureDevOps" | "gitlab" | "terraformCloud" | "managedIdentity" | "custom";

/**
 * The Entra cloud a stack's tenant lives in, from the azuread provider's own `environment` config (`global`,
 * `usgovernment`/`usgovernmentl4`/`usgovernmentl5`/`dod`, `china`). It decides the issuer and audience of a
 * managed identity's token.
 */
export type EntraCloud = "global" | "usgovernment" | "china";

/** What resolving a federated credential may need from the stack beyond the entry itself. */
export interface FederatedContext {
    /** The stack's tenant (`azuread:tenantId`), when set. */
    readonly tenantId?: string;
    readonly cloud: EntraCloud;
}

/**
 * A user-assigned managed identity's token, per cloud: Microsoft Learn, "Configure an application to trust a
 * managed identity" (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity):
 * issuer `https://login.microsoftonline.com/{tenant}/v2.0` (the China page: login.partner.microsoftonline.cn;
 * US Government's authority is login.microsoftonline.us), subject the identity's object (principal) id, and
 * audience `api://AzureADTokenExchange`, `api://AzureADTokenExchangeUSGov` or `api://AzureADTokenExchangeChina`.
 * Entra accepts wrong values here and fails only at token exchange, so they are derived, never typed.
 */
export const managedIdentityClouds: Readonly<Record<EntraCloud, { readonly authority: string; readonly audience: string }>> = {
    global: { authority: "https://login.microsoftonline.com", audience: "api://AzureADTokenExchange" },
    usgovernment: { authority: "https://login.microsoftonline.us", audience: "api://AzureADTokenExchangeUSGov" },
    china: { authority: "https://login.partner.microsoftonline.cn", audience: "api://AzureADTokenExchangeChina" },
};

const optionalText = (what: string) => z.string({ error: `must be a string: ${what}` }).optional();

const githubSchema = z.strictObject(
    {
        repo: nonEmpty(`the repository as "ORG/REPO", e.g. contoso/payments-api`),
        branch: optionalText("a branch name, e.g. main"),
        tag: optionalText("a tag name, e.g. v1.2.0"),
        environment: optionalText("a GitHub environment name, e.g. production"),
        pullRequest: z
            .literal(true, { error: "pullRequest takes only true; to trust a branch, tag or environment use that key instead" })
            .optional(),
        /** GitHub's immutable subject: the owner's and the repository's numeric ids. */
        ownerId: z.unknown().optional(),
        repoId: z.unknown().optional(),
        /** false: this repository keeps the name-only subject (created before 2026-07-15 and not opted in). */
        immutableSubject: z.boolean({ error: "true or false: whether the repository's tokens carry GitHub's immutable subject (with ids)" }).optional(),
    },
    { error: "a mapping: {repo, ownerId and repoId, and one of branch, tag, environment or pullRequest: true}" },
);

const managedIdentitySchema = z.strictObject(
    {
        principalId: nonEmpty("the user-assigned managed identity's object (principal) id, a GUID: az identity show --query principalId"),
        tenantId: nonEmpty("the tenant of the managed identity and the app, a GUID").optional(),
    },
    { error: "a mapping: {principalId, and tenantId unless azuread:tenantId is set}" },
);

const kubernetesSchema = z.strictObject(
    {
        issuer: nonEmpty("the cluster's OIDC issuer URL (az aks show --query oidcIssuerProfile.issuerUrl)"),
        namespace: nonEmpty("the service account's namespace"),
        serviceAccount: nonEmpty("the service account's name"),
    },
    { error: "a mapping: {issuer, namespace, serviceAccount}" },
);

const azureDevOpsSchema = z.strictObject(
    {
        issuer: nonEmpty("the issuer shown by the service connection"),
        subject: nonEmpty("the subject identifier shown by the service connection"),
    },
    { error: "a mapping: {issuer, subject}, copied from the service connection's workload identity federation details" },
);

const gitlabSchema = z.strictObject(
    {
        project: nonEmpty(`the project path, e.g. "group/subgroup/project"`),
        branch: optionalText("a branch name, e.g. main"),
        tag: optionalText("a tag name, e.g. v1.2.0"),
        environment: optionalText("an environment name"),
        host: optionalText(`the GitLab instance URL, default ${DEFAULT_GITLAB_HOST}`),
    },
    { error: "a mapping: {project, and branch or tag, host}" },
);

const terraformCloudSchema = z.strictObject(
    {
        organization: nonEmpty("the HCP Terraform organization"),
        project: nonEmpty(`the HCP Terraform project ("Default Project" unless the workspace is in another)`),
        workspace: nonEmpty("the workspace name"),
        runPhase: z.enum(["plan", "apply"], {
            error: (issue) =>
                issue.input === undefined
                    ? "required: plan or apply (each phase needs its own credential)"
                    : "must be plan or apply (each phase needs its own credential)",
        }),
        host: optionalText(`the HCP Terraform or Terraform Enterprise URL, default ${DEFAULT_TERRAFORM_CLOUD_HOST}`),
    },
    { error: "a mapping: {organization, project, workspace, runPhase, host}" },
);

/**
 * One `type: federated` entry of an app's `credentials`. Which form it takes (a preset or issuer + subject)
 * is checked by `resolveFederated`, so that the message can name the alternatives instead of a union's noise.
 */
export const federatedCredentialSchema = z.strictObject({
    type: z.literal("federated", { error: 'must be "federated" for a federated identity credential' }),
    name: nonEmpty(`a name for the credential, ${federatedNameRule}`),
    description: z
        .string({ error: "must be a string" })
        .max(MAX_FEDERATED_VALUE_LENGTH, { error: `is at most ${MAX_FEDERATED_VALUE_LENGTH} characters (Entra's limit)` })
        .optional(),
    github: githubSchema.optional(),
    kubernetes: kubernetesSchema.optional(),
    azureDevOps: azureDevOpsSchema.optional(),
    gitlab: gitlabSchema.optional(),
    terraformCloud: terraformCloudSchema.optional(),
    managedIdentity: managedIdentitySchema.optional(),
    issuer: optionalText("the issuer URL, exactly as in the token's iss claim"),
    subject: optionalText("the subject, exactly as in the token's sub claim"),
    audience: optionalText(`the one audience the token carries, default ${DEFAULT_AUDIENCE}`),
    audiences: z
        .never({
            error: `Entra allows exactly one audience per federated credential: write audience: <value> (a single string, default ${DEFAULT_AUDIENCE}), not a list`,
        })
        .optional(),
});

export type FederatedCredentialConfig = z.infer<typeof federatedCredentialSchema>;

/** A federated identity credential as the model, the plan and the component see it. */
export interface FederatedModel {
    readonly name: string;
    readonly issuer: string;
    readonly subject: string;
    readonly audience: string;
    readonly description?: string;
    readonly preset: FederatedPreset;
    /** Where it is declared, e.g. `apps[0].credentials[3]`. */
    readonly path: string;
}

// --- subjects ---------------------------------------------------------------------------------------------

export type GithubTarget = { readonly branch: string } | { readonly tag: string } | { readonly environment: string } | { readonly pullRequest: true };

/** GitHub Actions' default `sub` claim for a repository ("ORG/REPO", or "ORG@ID/REPO@ID" for immutable subjects). */
export function githubSubject(repo: string, target: GithubTarget): string {
    if ("branch" in target) return `repo:${repo}:ref:refs/heads/${target.branch}`;
    if ("tag" in target) return `repo:${repo}:ref:refs/tags/${target.tag}`;
    if ("environment" in target) return `repo:${repo}:environment:${target.environment}`;
    return `repo:${repo}:pull_request`;
}

export function kubernetesSubject(namespace: string, serviceAccount: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** GitLab's default `sub` claim; GitLab writes the bare branch or tag name, without refs/heads/. */
export function gitlabSubject(project: string, ref: { readonly branch: string } | { readonly tag: string }): string {
    return "branch" in ref ? `project_path:${project}:ref_type:branch:ref:${ref.branch}` : `project_path:${project}:ref_type:tag:ref:${ref.tag}`;
}

export function terraformCloudSubject(run: { organization: string; project: string; workspace: string; runPhase: "plan" | "apply" }): string {
    return `organization:${run.organization}:project:${run.project}:workspace:${run.workspace}:run_phase:${run.runPhase}`;
}

// --- value checks -----------------------------------------------------------------------------------------

const wildcardReason =
    "Entra matches issuer and subject exactly and case-sensitively, so a wildcard never matches anything " +
    "(flexible federated credentials with claim matching are out of scope for entra-rotor)";

/**
 * Problems every issuer, subject, audience or value that goes into one can have; undefined when there are none.
 * `each` names what to write one credential for instead of a wildcard.
 */
export function valueProblem(value: string, what: string, each = "exact value"): string | undefined {
    if (value.length === 0) return `must not be empty: ${what}`;
    if (value.length > MAX_FEDERATED_VALUE_LENGTH) return `is ${value.length} characters; Entra allows at most ${MAX_FEDERATED_VALUE_LENGTH}`;
    // Said before anything echoes the value: the message names the character, never prints it.
    const unsafe = unsafeTextProblem(value);
    if (unsafe) return unsafe;
    if (value.includes("*")) return `"${value}" contains a wildcard (*): ${wildcardReason}; add one credential per ${each}`;
    if (value.trim() !== value) return `"${value}" has leading or trailing spaces, which would never match the token; remove them`;
    return undefined;
}

/** An issuer Entra can use: an absolute https URL without query or fragment, at most 600 characters. */
export function issuerProblem(issuer: string): string | undefined {
    const basic = valueProblem(issuer, "the issuer URL");
    if (basic) return basic;
    let url: URL;
    try {
        url = new URL(issuer);
    } catch {
        return `"${issuer}" is not an absolute URL; write the issuer exactly as in the token's iss claim, e.g. https://issuer.example.com`;
    }
    if (url.protocol !== "https:") return `"${issuer}" must use https: Entra only trusts https issuers`;
    if (issuer.includes("?") || issuer.includes("#")) return `"${issuer}" must not have a query or fragment; write the issuer exactly as in the token's iss claim`;
    const lookAlike = nonAsciiHostProblem(issuer);
    if (lookAlike) return `"${visible(issuer)}" ${lookAlike}`;
    return undefined;
}

/** A host URL that becomes the issuer as is: GitLab and HCP Terraform write `iss` without a trailing slash. */
function hostProblem(host: string, example: string): string | undefined {
    const problem = issuerProblem(host);
    if (problem) return problem;
    if (host.endsWith("/")) return `"${host}" ends with "/", but the token's iss claim does not and Entra compares exactly; write ${host.replace(/\/+$/, "")}`;
    const { origin, pathname } = new URL(host);
    // The iss claim is the canonical URL: lowercase host, no default port.
    if (pathname === "/" && host !== origin) return `"${host}" is not written as the token's iss claim is; write ${origin}, e.g. ${example}`;
    return undefined;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabelRule = "at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit (a Kubernetes DNS label)";
// Owner: letters, digits, '-'; repository: letters, digits, '.', '-', '_'. "@<digits>" is GitHub's immutable-subject form.
const githubRepoPattern = /^[A-Za-z0-9-]+(@\d+)?\/[A-Za-z0-9._-]+(@\d+)?$/;
const gitlabProjectPattern = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/;
const guid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const azureDevOpsIssuer = new RegExp(`^https://vstoken\\.dev\\.azure\\.com/${guid}$`);
const entraIssuer = new RegExp(`^https://login\\.microsoftonline\\.com/${guid}/v2\\.0$`);
const azureDevOpsSubject = /^sc:\/\/[^/\s][^/]*\/[^/]+\/[^/]+$/;
const entraServiceConnectionSubject = /^\/eid1\/c\/pub\/t\/[A-Za-z0-9_-]+\/a\/[A-Za-z0-9_-]+\/sc\/[^/]+\/[^/]+$/;

/** A GitHub id: the positive integer GitHub gives every account and repository. */
function githubId(value: unknown): string | undefined {
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value : undefined;
    return text !== undefined && /^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text)) ? text : undefined;
}

/**
 * The repository part of the subject. GitHub's immutable subject claims (https://docs.github.com/en/actions/reference/security/oidc,
 * "Immutable subject claims"; Microsoft Learn: workload-identities-github-immutable-subjects) carry the ids:
 * `repo:OWNER@OWNER-ID/REPO@REPO-ID:...`, for repositories created after 2026-07-15, renamed or transferred
 * after it, and older ones that opted in. A credential written with names only then never matches, so a
 * repository without ids is warned about unless `immutableSubject: false` says it keeps the old form.
 */
function githubRepoWithIds(github: NonNullable<FederatedCredentialConfig["github"]>, path: string, issues: IssueList): string | undefined {
    const inline = github.repo.includes("@");
    const given = github.ownerId !== undefined || github.repoId !== undefined;
    if (inline && given) {
        issues.error(`${path}.repo`, `"${github.repo}" already holds ids; write repo as ORG/REPO with ownerId and repoId, or the ids in repo only`);
        return undefined;
    }
    if (inline) {
        if (!/^[^@/]+@\d+\/[^@/]+@\d+$/.test(github.repo)) {
            issues.error(`${path}.repo`, `"${github.repo}" has one id: GitHub's immutable subject names both, ORG@OWNER-ID/REPO@REPO-ID (or use ownerId and repoId)`);
            return undefined;
        }
        if (github.immutableSubject === false) {
            issues.error(`${path}.immutableSubject`, "is false, but repo holds ids (the immutable form): remove immutableSubject, or write repo as ORG/REPO");
            return undefined;
        }
        return github.repo;
    }
    if (given) {
        const ownerId = githubId(github.ownerId);
        const repoId = githubId(github.repoId);
        for (const [key, id, raw] of [["ownerId", ownerId, github.ownerId], ["repoId", repoId, github.repoId]] as const) {
            if (raw === undefined) issues.error(`${path}.${key}`, `required with ${key === "ownerId" ? "repoId" : "ownerId"}: GitHub's immutable subject carries both ids (gh api repos/${github.repo} --jq '.owner.id, .id')`);
            else if (id === undefined) issues.error(`${path}.${key}`, `must be GitHub's numeric id, a positive whole number (gh api repos/${github.repo} --jq '.owner.id, .id')`);
        }
        if (github.immutableSubject === false) issues.error(`${path}.immutableSubject`, "is false, but ownerId and repoId make the immutable subject: remove one or the other");
        if (ownerId === undefined || repoId === undefined || github.immutableSubject === false) return undefined;
        const [owner, name] = github.repo.split("/") as [string, string];
        return `${owner}@${ownerId}/${name}@${repoId}`;
    }
    if (github.immutableSubject === true) {
        issues.error(path, `immutableSubject is true: add ownerId and repoId (gh api repos/${github.repo} --jq '.owner.id, .id')`);
        return undefined;
    }
    if (github.immutableSubject === undefined) {
        issues.warning(
            `${path}.repo`,
            `has no ids: GitHub puts the owner and repository ids in the subject of repositories created, renamed or transferred after 2026-07-15 ` +
                `(repo:ORG@ID/REPO@ID:...), and Entra compares exactly; add ownerId and repoId (gh api repos/${github.repo} --jq '.owner.id, .id'), ` +
                `or set immutableSubject: false if this repository keeps the name-only subject`,
        );
    }
    return github.repo;
}

function resolveManagedIdentity(mi: NonNullable<FederatedCredentialConfig["managedIdentity"]>, path: string, issues: IssueList, context: FederatedContext): Resolved | undefined {
    const lowerGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const guidProblem = (value: string, what: string): string | undefined => {
        if (lowerGuid.test(value)) return undefined;
        if (lowerGuid.test(value.toLowerCase())) return `write ${what} in lowercase, as Azure shows it and the token carries it (Entra compares case-sensitively): ${value.toLowerCase()}`;
        return `must be ${what}, a GUID such as 00000000-0000-0000-0000-000000000000`;
    };
    const principalOk = check(issues, `${path}.principalId`, guidProblem(mi.principalId, "the managed identity's object (principal) id, not its client id"));
    const tenantOk = mi.tenantId === undefined || check(issues, `${path}.tenantId`, guidProblem(mi.tenantId, "the tenant id"));
    if (!principalOk || !tenantOk) return undefined;
    const tenant = mi.tenantId ?? context.tenantId;
    if (tenant === undefined) {
        issues.error(`${path}.tenantId`, "required: the managed identity's tenant (it must be the app's); set it here or set azuread:tenantId for the stack");
        return undefined;
    }
    if (context.tenantId !== undefined && tenant !== context.tenantId.toLowerCase()) {
        issues.error(`${path}.tenantId`, `is not the stack's tenant (azuread:tenantId ${context.tenantId}); a managed identity can only sign in as an app of its own tenant`);
        return undefined;
    }
    return { issuer: `${managedIdentityClouds[context.cloud].authority}/${tenant}/v2.0`, subject: mi.principalId, preset: "managedIdentity", pullRequestPath: `${path}.principalId` };
}

// --- resolution -------------------------------------------------------------------------------------------

interface Resolved {
    readonly issuer: string;
    readonly subject: string;
    readonly preset: FederatedPreset;
    /** Where the pull-request warning points: the field that made the subject a pull-request one. */
    readonly pullRequestPath: string;
}

const presetKeys = ["github", "kubernetes", "azureDevOps", "gitlab", "terraformCloud", "managedIdentity"] as const;
type PresetKey = (typeof presetKeys)[number];
const formsList = `${presetKeys.join(", ")}, or issuer + subject`;

/**
 * Validates an app's federated identity credentials against Entra's rules and resolves each to the issuer,
 * subject and audience Entra will match. `entries` are the parsed `type: federated` entries with their index
 * in the app's `credentials` list. Name clashes with other credential types are the caller's to check.
 * Pure: the same entries give the same result and issues.
 */
export function resolveFederated(
    entries: readonly { readonly index: number; readonly entry: FederatedCredentialConfig }[],
    appPath: string,
    context: FederatedContext = { cloud: "global" },
): { credentials: FederatedModel[]; issues: ConfigIssue[] } {
    const issues = new IssueList();
    const credentials: FederatedModel[] = [];
    const nameFirstSeen = new Map<string, string>();
    const pairFirstSeen = new Map<string, string>();
    const foldedFirstSeen = new Map<string, string>();

    entries.forEach(({ index, entry }, position) => {
        const path = `${appPath}.credentials[${index}]`;
        const errorsBefore = issues.errors.length;

        if (position === MAX_FEDERATED_PER_APP) {
            issues.error(
                path,
                `Entra allows at most ${MAX_FEDERATED_PER_APP} federated identity credentials per app and this is number ${MAX_FEDERATED_PER_APP + 1}; ` +
                    `trust one GitHub environment (or one branch) that every deploying workflow uses instead of one credential per branch, ` +
                    `or move some credentials to another app`,
            );
        }

        if (!federatedNamePattern.test(entry.name)) {
            issues.error(`${path}.name`, `"${entry.name}" must be ${federatedNameRule} (Entra's rule for federated credential names)`);
        } else {
            const first = nameFirstSeen.get(entry.name.toLowerCase());
            if (first !== undefined) issues.error(`${path}.name`, `"${entry.name}" is already the name of ${first}; give each credential its own name`);
            else nameFirstSeen.set(entry.name.toLowerCase(), path);
        }

        const defaultAudience = entry.managedIdentity !== undefined ? managedIdentityClouds[context.cloud].audience : DEFAULT_AUDIENCE;
        const audience = entry.audience ?? defaultAudience;
        const audienceProblem = valueProblem(audience, `the audience, e.g. ${defaultAudience}`);
        if (audienceProblem) issues.error(`${path}.audience`, audienceProblem);
        else if (entry.managedIdentity !== undefined && audience !== defaultAudience) {
            issues.error(
                `${path}.audience`,
                `a managed identity's token in the ${context.cloud} cloud carries the audience ${defaultAudience}; Entra would accept "${audience}" and refuse every token exchange: remove audience`,
            );
        }

        const resolved = resolveForm(entry, path, issues, context);
        if (!resolved || issues.errors.length > errorsBefore) return;

        if (resolved.subject.endsWith(":pull_request")) {
            issues.warning(
                resolved.pullRequestPath,
                "trusts pull request runs: any pull request, including from forks if the workflow runs for them, can obtain a token: " +
                    "prefer an environment with required reviewers",
            );
        }

        const pair = `${resolved.issuer}\n${resolved.subject}`;
        const samePair = pairFirstSeen.get(pair);
        if (samePair !== undefined) {
            issues.error(path, `has the same issuer and subject as ${samePair}; Entra requires each issuer + subject pair to be unique in an app: remove one`);
            return;
        }
        pairFirstSeen.set(pair, path);
        const folded = pair.toLowerCase();
        const caseTwin = foldedFirstSeen.get(folded);
        if (caseTwin !== undefined) {
            issues.warning(
                path,
                `issuer and subject differ only in case from ${caseTwin}; Entra matches them case-sensitively, ` +
                    `so check which spelling the token really carries (e.g. a GitHub environment's exact name) and keep that one`,
            );
        } else {
            foldedFirstSeen.set(folded, path);
        }

        credentials.push({
            name: entry.name,
            issuer: resolved.issuer,
            subject: resolved.subject,
            audience,
            ...(entry.description !== undefined ? { description: entry.description } : {}),
            preset: resolved.preset,
            path,
        });
    });

    return { credentials, issues: issues.items };
}

function resolveForm(entry: FederatedCredentialConfig, path: string, issues: IssueList, context: FederatedContext): Resolved | undefined {
    const presets = presetKeys.filter((key) => entry[key] !== undefined);
    const custom = entry.issuer !== undefined || entry.subject !== undefined;
    if (presets.length === 0 && !custom) {
        issues.error(path, `says nothing about what it trusts; give exactly one of ${formsList}`);
        return undefined;
    }
    if (presets.length > 1) {
        for (const extra of presets.slice(1)) {
            issues.error(`${path}.${extra}`, `${presets[0]} is already given; a federated credential trusts exactly one of ${formsList}: move this to its own credential`);
        }
        return undefined;
    }
    const preset = presets[0];
    if (preset !== undefined && custom) {
        const key = entry.issuer !== undefined ? "issuer" : "subject";
        issues.error(`${path}.${key}`, `${preset} sets the issuer and subject itself; remove ${key}, or remove ${preset} and give issuer + subject`);
        return undefined;
    }
    return preset === undefined ? resolveCustom(entry, path, issues) : resolvePreset(preset, entry, path, issues, context);
}

function resolvePreset(preset: PresetKey, entry: FederatedCredentialConfig, path: string, issues: IssueList, context: FederatedContext): Resolved | undefined {
    const presetPath = `${path}.${preset}`;
    switch (preset) {
        case "github":
            return resolveGithub(entry.github!, presetPath, issues);
        case "kubernetes":
            return resolveKubernetes(entry.kubernetes!, presetPath, issues);
        case "azureDevOps":
            return resolveAzureDevOps(entry.azureDevOps!, presetPath, issues);
        case "gitlab":
            return resolveGitlab(entry.gitlab!, presetPath, issues);
        case "terraformCloud":
            return resolveTerraformCloud(entry.terraformCloud!, presetPath, issues);
        case "managedIdentity":
            return resolveManagedIdentity(entry.managedIdentity!, presetPath, issues, context);
    }
}

/** Reports a field's problem at its path; true when the field is usable. */
function check(issues: IssueList, path: string, problem: string | undefined): boolean {
    if (problem) issues.error(path, problem);
    return problem === undefined;
}

function resolveCustom(entry: FederatedCredentialConfig, path: string, issues: IssueList): Resolved | undefined {
    if (entry.issuer === undefined) {
        issues.error(`${path}.issuer`, "required with subject: the issuer URL, exactly as in the token's iss claim");
        return undefined;
    }
    if (entry.subject === undefined) {
        issues.error(`${path}.subject`, "required with issuer: the subject, exactly as in the token's sub claim");
        return undefined;
    }
    const issuerOk = check(issues, `${path}.issuer`, issuerProblem(entry.issuer));
    const subjectOk = check(issues, `${path}.subject`, valueProblem(entry.subject, "the subject, exactly as in the token's sub claim"));
    if (!issuerOk || !subjectOk) return undefined;
    return { issuer: entry.issuer, subject: entry.subject, preset: "custom", pullRequestPath: `${path}.subject` };
}

/** Exactly one of `keys` set in `value`; reports none or several at the right path. */
function exactlyOne<K extends string>(value: Partial<Record<K, unknown>>, keys: readonly K[], path: string, issues: IssueList, why: string): K | undefined {
    const given = keys.filter((key) => value[key] !== undefined);
    if (given.length === 0) {
        issues.error(path, `${why}: give exactly one of ${keys.join(", ")}`);
        return undefined;
    }
    for (const extra of given.slice(1)) {
        issues.error(`${path}.${extra}`, `${given[0]} is already given; give exactly one of ${keys.join(", ")} (add another credential for each further one)`);
    }
    return given.length === 1 ? given[0] : undefined;
}

/** A branch or tag name as the token carries it: the bare name. */
function refProblem(name: string, kind: "branch" | "tag", prefix: string): string | undefined {
    const basic = valueProblem(name, `the ${kind} name`, kind);
    if (basic) return basic;
    if (name.startsWith("refs/")) return `write the bare ${kind} name without "${prefix}", e.g. ${name.replace(/^refs\/(heads|tags)\//, "")}`;
    if (/\s/.test(name)) return `"${name}" is not a valid ${kind} name (it contains whitespace)`;
    return undefined;
}

function resolveGithub(github: NonNullable<FederatedCredentialConfig["github"]>, path: string, issues: IssueList): Resolved | undefined {
    const repoOk = check(
        issues,
        `${path}.repo`,
        githubRepoPattern.test(github.repo)
            ? undefined
            : `"${github.repo}" must be "ORG/REPO" as in the repository's URL, e.g. contoso/payments-api (or "ORG@OWNER_ID/REPO@REPO_ID" for GitHub's immutable subjects)`,
    );
    const which = exactlyOne(github, ["branch", "tag", "environment", "pullRequest"] as const, path, issues, "say which workflow runs may sign in");
    const repo = repoOk ? githubRepoWithIds(github, path, issues) : undefined;
    if (repo === undefined || which === undefined) return undefined;
    const fieldPath = `${path}.${which}`;
    let target: GithubTarget;
    if (which === "branch") {
        if (!check(issues, fieldPath, refProblem(github.branch!, "branch", "refs/heads/"))) return undefined;
        target = { branch: github.branch! };
    } else if (which === "tag") {
        if (!check(issues, fieldPath, refProblem(github.tag!, "tag", "refs/tags/"))) return undefined;
        target = { tag: github.tag! };
    } else if (which === "environment") {
        if (!check(issues, fieldPath, valueProblem(github.environment!, "the environment name", "environment"))) return undefined;
        target = { environment: github.environment! };
    } else {
        target = { pullRequest: true };
    }
    const subject = githubSubject(repo, target);
    if (!check(issues, path, subject.length > MAX_FEDERATED_VALUE_LENGTH ? `makes a subject of ${subject.length} characters; Entra allows at most ${MAX_FEDERATED_VALUE_LENGTH}` : undefined)) return undefined;
    return { issuer: GITHUB_ISSUER, subject, preset: "github", pullRequestPath: fieldPath };
}

function resolveKubernetes(kubernetes: NonNullable<FederatedCredentialConfig["kubernetes"]>, path: string, issues: IssueList): Resolved | undefined {
    // The issuer is kept exactly as written: AKS issuer URLs end with "/" and the token's iss claim does too.
    const issuerOk = check(issues, `${path}.issuer`, issuerProblem(kubernetes.issuer));
    const labelProblem = (value: string, what: string) =>
        dnsLabel.test(value) && value.length <= 63 ? undefined : `"${value}" is not a valid ${what}: ${dnsLabelRule}`;
    const namespaceOk = check(issues, `${path}.namespace`, labelProblem(kubernetes.namespace, "namespace"));
    const accountOk = check(issues, `${path}.serviceAccount`, labelProblem(kubernetes.serviceAccount, "service account name"));
    if (!issuerOk || !namespaceOk || !accountOk) return undefined;
    return {
        issuer: kubernetes.issuer,
        subject: kubernetesSubject(kubernetes.namespace, kubernetes.serviceAccount),
        preset: "kubernetes",
        pullRequestPath: path,
    };
}

function resolveAzureDevOps(devops: NonNullable<FederatedCredentialConfig["azureDevOps"]>, path: string, issues: IssueList): Resolved | undefined {
    const copyHint = "copy it from the service connection's workload identity federation details";
    const issuerOk = check(
        issues,
        `${path}.issuer`,
        valueProblem(devops.issuer, "the issuer") ??
            (azureDevOpsIssuer.test(devops.issuer) || entraIssuer.test(devops.issuer)
                ? undefined
                : `"${devops.issuer}" is not a service connection issuer: it is https://login.microsoftonline.com/<tenant id>/v2.0 ` +
                  `(newer connections) or https://vstoken.dev.azure.com/<organization id> (older ones); ${copyHint}`),
    );
    const subjectOk = check(
        issues,
        `${path}.subject`,
        valueProblem(devops.subject, "the subject identifier") ??
            (azureDevOpsSubject.test(devops.subject) || entraServiceConnectionSubject.test(devops.subject)
                ? undefined
                : `"${devops.subject}" is not a service connection subject: it is /eid1/c/pub/t/.../sc/... (newer connections) ` +
                  `or sc://ORGANIZATION/PROJECT/CONNECTION (older ones); ${copyHint}`),
    );
    if (!issuerOk || !subjectOk) return undefined;
    const legacyIssuer = azureDevOpsIssuer.test(devops.issuer);
    if (legacyIssuer !== azureDevOpsSubject.test(devops.subject)) {
        issues.error(
            `${path}.subject`,
            legacyIssuer
                ? "an https://vstoken.dev.azure.com issuer goes with an sc://ORGANIZATION/PROJECT/CONNECTION subject; copy issuer and subject from the same service connection"
                : "a login.microsoftonline.com issuer goes with an /eid1/c/pub/t/.../sc/... subject; copy issuer and subject from the same service connection",
        );
        return undefined;
    }
    if (legacyIssuer) {
        issues.warning(
            `${path}.issuer`,
            "the Azure DevOps issuer (vstoken.dev.azure.com) is being retired for service connections to the Azure public cloud that use " +
                "single-tenant apps; convert the service connection to the Microsoft Entra issuer and copy its new issuer and subject here",
        );
    }
    return { issuer: devops.issuer, subject: devops.subject, preset: "azureDevOps", pullRequestPath: `${path}.subject` };
}

function resolveGitlab(gitlab: NonNullable<FederatedCredentialConfig["gitlab"]>, path: string, issues: IssueList): Resolved | undefined {
    const host = gitlab.host ?? DEFAULT_GITLAB_HOST;
    const hostOk = check(issues, `${path}.host`, hostProblem(host, DEFAULT_GITLAB_HOST));
    const projectOk = check(
        issues,
        `${path}.project`,
        gitlabProjectPattern.test(gitlab.project) ? undefined : `"${gitlab.project}" must be the project's full path, e.g. "group/subgroup/project" as in its URL`,
    );
    if (gitlab.environment !== undefined) {
        // GitLab's sub claim is project_path:...:ref_type:...:ref:...; the environment is a separate claim
        // that an exact-match credential cannot see.
        issues.error(
            `${path}.environment`,
            "GitLab's token subject does not contain the environment (it is project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME), " +
                "so Entra cannot tell environments apart; trust the protected branch or tag that deploys to it instead",
        );
        return undefined;
    }
    const which = exactlyOne(gitlab, ["branch", "tag"] as const, path, issues, "say which pipelines may sign in");
    if (!hostOk || !projectOk || which === undefined) return undefined;
    const name = gitlab[which]!;
    if (!check(issues, `${path}.${which}`, refProblem(name, which, which === "branch" ? "refs/heads/" : "refs/tags/"))) return undefined;
    const subject = gitlabSubject(gitlab.project, which === "branch" ? { branch: name } : { tag: name });
    if (!check(issues, path, subject.length > MAX_FEDERATED_VALUE_LENGTH ? `makes a subject of ${subject.length} characters; Entra allows at most ${MAX_FEDERATED_VALUE_LENGTH}` : undefined)) return undefined;
    return { issuer: host, subject, preset: "gitlab", pullRequestPath: path };
}

function resolveTerraformCloud(tfc: NonNullable<FederatedCredentialConfig["terraformCloud"]>, path: string, issues: IssueList): Resolved | undefined {
    const host = tfc.host ?? DEFAULT_TERRAFORM_CLOUD_HOST;
    let ok = check(issues, `${path}.host`, hostProblem(host, DEFAULT_TERRAFORM_CLOUD_HOST));
    for (const key of ["organization", "project", "workspace"] as const) {
        const value = tfc[key];
        const problem = valueProblem(value, `the ${key} name`) ?? (value.includes(":") ? `"${value}" cannot contain ":", which separates the parts of the token's subject` : undefined);
        ok = check(issues, `${path}.${key}`, problem) && ok;
    }
    if (!ok) return undefined;
    const subject = terraformCloudSubject(tfc);
    if (!check(issues, path, subject.length > MAX_FEDERATED_VALUE_LENGTH ? `makes a subject of ${subject.length} characters; Entra allows at most ${MAX_FEDERATED_VALUE_LENGTH}` : undefined)) return undefined;
    return { issuer: host, subject, preset: "terraformCloud", pullRequestPath: path };
}

// --- from what Entra holds back to the entry that declares it ----------------------------------------------

/** A federated identity credential as Entra holds it (Graph's federatedIdentityCredential, one audience). */
export interface FederatedCredentialFacts {
    readonly name: string;
    readonly issuer: string;
    readonly subject: string;
    readonly audience: string;
    readonly description?: string;
}

const githubSubjectPattern = /^repo:([^:]+):(?:environment:(.+)|ref:refs\/heads\/(.+)|ref:refs\/tags\/(.+)|(pull_request))$/;
const githubRepoIdsPattern = /^([A-Za-z0-9-]+)(?:@(\d+))?\/([A-Za-z0-9._-]+)(?:@(\d+))?$/;
const kubernetesSubjectPattern = /^system:serviceaccount:([^:]+):([^:]+)$/;
const gitlabSubjectPattern = /^project_path:(.+):ref_type:(branch|tag):ref:(.+)$/;
const terraformCloudSubjectPattern = /^organization:([^:]+):project:([^:]+):workspace:([^:]+):run_phase:(plan|apply)$/;
const lowerGuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The presets whose expansion could give this issuer and subject, most specific first. */
function presetCandidates(facts: FederatedCredentialFacts, context: FederatedContext): Partial<FederatedCredentialConfig>[] {
    const { issuer, subject } = facts;
    const candidates: Partial<FederatedCredentialConfig>[] = [];
    const github = issuer === GITHUB_ISSUER ? githubSubjectPattern.exec(subject) : null;
    if (github) {
        const [, repoPart, environment, branch, tag, pullRequest] = github;
        const repo = githubRepoIdsPattern.exec(repoPart!);
        const target = environment !== undefined ? { environment } : branch !== undefined ? { branch } : tag !== undefined ? { tag } : pullRequest ? { pullRequest: true as const } : {};
        if (repo && repo[2] !== undefined && repo[4] !== undefined && Number.isSafeInteger(Number(repo[2])) && Number.isSafeInteger(Number(repo[4]))) {
            candidates.push({ github: { repo: `${repo[1]}/${repo[3]}`, ownerId: Number(repo[2]), repoId: Number(repo[4]), ...target } });
        } else if (repo && repo[2] === undefined && repo[4] === undefined) {
            // The name-only subject, exactly as Entra holds it: this repository's tokens carry no ids (yet).
            candidates.push({ github: { repo: repoPart!, ...target, immutableSubject: false } });
        }
    }
    const authority = managedIdentityClouds[context.cloud].authority;
    const managed = new RegExp(`^${authority.replace(/[.]/g, "\\.")}/([0-9a-f-]{36})/v2\\.0$`).exec(issuer);
    if (managed && lowerGuidPattern.test(managed[1]!) && lowerGuidPattern.test(subject)) {
        candidates.push({ managedIdentity: { principalId: subject, tenantId: managed[1]! } });
    }
    if (azureDevOpsIssuer.test(issuer) || entraIssuer.test(issuer)) candidates.push({ azureDevOps: { issuer, subject } });
    const gitlab = gitlabSubjectPattern.exec(subject);
    if (gitlab) {
        const ref = gitlab[2] === "branch" ? { branch: gitlab[3]! } : { tag: gitlab[3]! };
        candidates.push({ gitlab: { project: gitlab[1]!, ...ref, ...(issuer === DEFAULT_GITLAB_HOST ? {} : { host: issuer }) } });
    }
    const terraform = terraformCloudSubjectPattern.exec(subject);
    if (terraform) {
        const [, organization, project, workspace, runPhase] = terraform;
        candidates.push({
            terraformCloud: { organization: organization!, project: project!, workspace: workspace!, runPhase: runPhase as "plan" | "apply", ...(issuer === DEFAULT_TERRAFORM_CLOUD_HOST ? {} : { host: issuer }) },
        });
    }
    const kubernetes = kubernetesSubjectPattern.exec(subject);
    if (kubernetes) candidates.push({ kubernetes: { issuer, namespace: kubernetes[1]!, serviceAccount: kubernetes[2]! } });
    return candidates;
}

/**
 * The `type: federated` entry that declares a credential Entra holds: the preset whose expansion gives exactly
 * its issuer, subject and audience (GitHub, with the immutable subject's ids or `immutableSubject: false` for a
 * name-only subject; a managed identity of the stack's cloud; Azure DevOps; GitLab; HCP Terraform; Kubernetes),
 * else issuer and subject as they are. Every candidate is expanded again by resolveFederated and kept only if that
 * gives back the same issuer, subject and audience without an error, so the entry always means what Entra
 * holds: the reverse of resolveFederated, and tested both ways. `audience` is written only where it is not the
 * preset's default. Pure.
 */
export function federatedEntryOf(facts: FederatedCredentialFacts, context: FederatedContext = { cloud: "global" }): FederatedCredentialConfig {
    const base = { type: "federated" as const, name: facts.name, ...(facts.description ? { description: facts.description } : {}) };
    for (const candidate of presetCandidates(facts, context)) {
        const defaultAudience = candidate.managedIdentity !== undefined ? managedIdentityClouds[context.cloud].audience : DEFAULT_AUDIENCE;
        const entry = { ...base, ...candidate, ...(facts.audience !== defaultAudience ? { audience: facts.audience } : {}) } as FederatedCredentialConfig;
        const resolved = resolveFederated([{ index: 0, entry }], "credential", context);
        const model = resolved.credentials[0];
        const failed = resolved.issues.some((issue) => issue.severity === "error");
        if (!failed && model && model.issuer === facts.issuer && model.subject === facts.subject && model.audience === facts.audience) return entry;
    }
    return { ...base, issuer: facts.issuer, subject: facts.subject, ...(facts.audience !== DEFAULT_AUDIENCE ? { audience: facts.audience } : {}) } as FederatedCredentialConfig;
}
