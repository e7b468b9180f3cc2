import { DEFAULT_AUDIENCE, GITHUB_ISSUER, issuerProblem, MAX_FEDERATED_VALUE_LENGTH, valueProblem } from "../infra/model/federated";
import { nonAsciiHostProblem, unsafeTextProblem } from "../rotation/text";
import { asciiOnly, isRecord, show } from "./inputs";

/**
 * Rule 3: federated identity credentials that can only ever match what they mean to trust: an https issuer,
 * a subject without wildcards, exactly one audience.
 *
 * Entra accepts some of these and matches nothing (a `*` is a literal character to it), so the mistake only
 * shows when a pipeline cannot sign in, and a team's "fix" then tends to be a broader trust. The checks are the
 * ones entra-rotor's stacks apply to their own config (infra/model/federated.ts), so both say the same thing;
 * they include what a pull request could use to disguise a trust from its reviewer: control and invisible
 * characters (a newline, ESC, a bidirectional override such as U+202E) in the issuer, subject or audience, and an
 * issuer host written with look-alike letters (`githubuserc\u043entent.com` with a Cyrillic o) or in punycode.
 *
 * Flexible federated identity credentials are judged too (see validateClaimsExpression): a claims-matching
 * expression may hold wildcards (`claims['sub'] matches 'repo:contoso/*'`), which trust every repository, branch
 * or workflow the pattern covers, today's and tomorrow's; the rule is no wildcards, whichever resource carries them.
 */

export const federatedCredentialType =
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";

/**
 * azuread 6.x's flexible federated identity credential: `claimsMatchingExpression` (a string),
 * `issuer`, one `audience` (a string, not a list), `displayName`; no subject. Its schema:
 * https://github.com/pulumi/pulumi-azuread/blob/main/provider/cmd/pulumi-resource-azuread/schema.json.
 */
export const flexibleFederatedCredentialType =
    "azuread:index/applicationFlexibleFederatedIdentityCredential:ApplicationFlexibleFederatedIdentityCredential";

/**
 * A user-assigned managed identity's federated identity credential, any API version. Since API version
 * 2025-01-31-preview (azure-native's `managedidentity/v20250131preview` and later) it may carry a
 * `claimsMatchingExpression` object `{value, languageVersion}` instead of `subject` (Microsoft.ManagedIdentity's
 * FederatedIdentityCredentialProperties: "Either 'subject' or 'claimsMatchingExpression' must be defined").
 * Only that expression is judged here: the pack's other federated rules are for app registrations.
 */
const managedIdentityFederatedType = /^azure-native:managedidentity(\/v[0-9a-z]+)?:FederatedIdentityCredential$/;

/** Every resource type the federated rules judge. */
export function isFederatedCredentialType(type: string): boolean {
    return type === federatedCredentialType || type === flexibleFederatedCredentialType || managedIdentityFederatedType.test(type);
}

export interface FederatedCredentialInputs {
    readonly issuer?: unknown;
    readonly subject?: unknown;
    readonly audiences?: unknown;
    /** The flexible credential's: a string (azuread), or `{value, languageVersion}` (Microsoft Graph, azure-native). */
    readonly claimsMatchingExpression?: unknown;
    /** The flexible credential's one audience (azuread ApplicationFlexibleFederatedIdentityCredential). */
    readonly audience?: unknown;
}

/** The federated rules for a resource of any federated type; empty when it trusts exactly what it means to. Pure. */
export function validateFederatedResource(type: string, props: FederatedCredentialInputs): string[] {
    if (type === federatedCredentialType) return validateFederatedCredential(props);
    if (type === flexibleFederatedCredentialType) return validateFlexibleFederatedCredential(props);
    if (managedIdentityFederatedType.test(type)) {
        const expression = props.claimsMatchingExpression;
        return expression === undefined || expression === null ? [] : validateClaimsExpression(expression);
    }
    return [];
}

/**
 * Problems with a federated identity credential; empty when Entra can match it as intended. Pure.
 *
 * The characters and the look-alike host are checked first, here, so that the message names the field and the
 * character without echoing the text (infra/model/federated.ts refuses the same, worded for a stack's config);
 * everything else is the stacks' own issuerProblem and valueProblem.
 */
export function validateFederatedCredential(props: FederatedCredentialInputs): string[] {
    const problems: string[] = [];

    const issuer = issuerIssue(props.issuer);
    if (issuer) problems.push(`issuer ${issuer}`);

    const subject = props.subject;
    // Microsoft Graph's federatedIdentityCredential takes a claims-matching expression instead of a subject; a
    // provider that passes it on is judged by the expression's rule (and a subject beside it by the subject's).
    const expression = props.claimsMatchingExpression;
    const flexible = expression !== undefined && expression !== null;
    const subjectIssue =
        flexible && subject === undefined
            ? undefined
            : typeof subject !== "string"
              ? "must be the subject, exactly as in the token's sub claim"
              : (unsafeTextProblem(subject) ?? valueProblem(subject, "the subject, exactly as in the token's sub claim"));
    if (subjectIssue) problems.push(`subject ${subjectIssue}`);
    if (flexible) problems.push(...validateClaimsExpression(expression));

    const audiences = props.audiences;
    if (!Array.isArray(audiences) || audiences.length !== 1) {
        const count = Array.isArray(audiences) ? `has ${audiences.length} audiences${audiences.length > 0 ? ` (${audiences.map(show).join(", ")})` : ""}` : "has no audiences list";
        problems.push(
            `${count}: Entra allows exactly one audience per federated identity credential; set audiences to [${show(DEFAULT_AUDIENCE)}] ` +
                `(the default for Entra ID) or the one audience the token carries, and add one credential per audience if you really need several`,
        );
    } else {
        const audience: unknown = audiences[0];
        const audienceIssue =
            typeof audience !== "string" ? "must be a string" : (unsafeTextProblem(audience) ?? valueProblem(audience, `the audience, e.g. ${DEFAULT_AUDIENCE}`));
        if (audienceIssue) problems.push(`audience ${audienceIssue}`);
    }
    return problems;
}

/** The issuer's problem, if any: characters first, then a look-alike host, then the stacks' own issuer rules. */
function issuerIssue(issuer: unknown): string | undefined {
    return typeof issuer !== "string" ? "must be the issuer URL, exactly as in the token's iss claim" : (unsafeTextProblem(issuer) ?? lookAlike(issuer) ?? issuerProblem(issuer));
}

/**
 * azuread's ApplicationFlexibleFederatedIdentityCredential: the issuer and its one audience as for any federated
 * credential, and the claims-matching expression by validateClaimsExpression. Pure.
 */
export function validateFlexibleFederatedCredential(props: FederatedCredentialInputs): string[] {
    const problems: string[] = [];
    const issuer = issuerIssue(props.issuer);
    if (issuer) problems.push(`issuer ${issuer}`);
    const audience = props.audience;
    const audienceIssue =
        typeof audience !== "string"
            ? `must be the one audience the token carries, e.g. ${DEFAULT_AUDIENCE}`
            : (unsafeTextProblem(audience) ?? valueProblem(audience, `the audience, e.g. ${DEFAULT_AUDIENCE}`));
    if (audienceIssue) problems.push(`audience ${audienceIssue}`);
    problems.push(...validateClaimsExpression(props.claimsMatchingExpression));
    return problems;
}

// --- claims-matching expressions (flexible federated identity credentials) ------------------------------------

/** One comparison of a claims-matching expression: `claims['sub'] eq 'repo:contoso/api:environment:prod'`. */
export interface ClaimComparison {
    readonly claim: string;
    readonly operator: string;
    readonly comparand: string;
}

// Sticky: each is tried exactly where the scan stands, so reading an expression takes time linear in its length.
const comparisonAt = /claims\['([^'\]]*)'\][ \t]+([A-Za-z]+)[ \t]+'([^']*)'/y;
const andAt = /[ \t]+and[ \t]+/y;

/**
 * The comparisons of a claims-matching expression joined by `and`, or undefined when it is anything else.
 *
 * The language, as Microsoft Learn describes it ("Flexible federated identity credentials",
 * https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials):
 * a claim lookup `claims['<claimName>']`, an operator (`matches`, wildcard matching with `*`; `eq`, exact), a
 * comparand in single quotes, parts separated by a space, comparisons joined by `and`. Anything else (another
 * operator, `or`, parentheses, double quotes, a quote inside a comparand) is not read: the rule refuses what it
 * cannot judge rather than guess how Entra reads it.
 */
export function parseClaimsExpression(expression: string): ClaimComparison[] | undefined {
    const text = expression.trim();
    const comparisons: ClaimComparison[] = [];
    let at = 0;
    for (;;) {
        comparisonAt.lastIndex = at;
        const found = comparisonAt.exec(text);
        if (!found) return undefined;
        comparisons.push({ claim: found[1]!, operator: found[2]!, comparand: found[3]! });
        at = comparisonAt.lastIndex;
        if (at === text.length) return comparisons;
        andAt.lastIndex = at;
        if (!andAt.exec(text)) return undefined;
        at = andAt.lastIndex;
    }
}

/**
 * Characters that act as wildcards in a comparand, compared after compatibility normalisation (a full-width
 * `\uff0a` is a `*`). Git refuses `*`, `?` and `[` in branch and tag names (git check-ref-format), and GitHub,
 * GitLab and HCP Terraform subjects are built from such names and plain identifiers, so none of them is ever
 * needed literally.
 */
const wildcardCharacters = /[*?[]/;

const noWildcards =
    "a wildcard widens who may sign in as the app to every repository, branch, environment or workflow the pattern covers, " +
    "today's and tomorrow's, and a reviewer cannot tell which those are (the organisation's rule: no wildcards)";
const exactFix =
    "write one federated identity credential per exact subject (azuread ApplicationFederatedIdentityCredential), " +
    "or compare the exact value with eq: claims['sub'] eq '<the subject>'";

/**
 * Why a flexible federated credential's claims-matching expression trusts more than one exact workload; empty
 * when it does not. It must be comparisons joined by `and`, each `eq` to a value without wildcard characters,
 * one of them pinning the subject (`claims['sub'] eq '...'`): then it trusts no more than a federated credential
 * with that exact subject would, other claims (such as GitHub's `job_workflow_ref`) only narrowing it. Pure.
 *
 * `expression` is azuread's string or Microsoft Graph's `{value, languageVersion}` object. Nothing is echoed
 * before its characters are checked, and what is echoed is escaped and cut.
 */
export function validateClaimsExpression(expression: unknown): string[] {
    const text = isRecord(expression) ? expression["value"] : expression;
    const field = isRecord(expression) ? "claimsMatchingExpression.value" : "claimsMatchingExpression";
    if (typeof text !== "string" || text.trim() === "") {
        return [`${field} must be the expression the token's claims are matched with, e.g. claims['sub'] eq 'repo:ORG/REPO:environment:NAME'`];
    }
    const unsafe = unsafeTextProblem(text);
    if (unsafe) return [`${field} ${unsafe}`];
    if (text.length > MAX_FEDERATED_VALUE_LENGTH * 2) {
        return [`${field} is ${text.length} characters: more than any exact comparison needs; ${exactFix}`];
    }
    const comparisons = parseClaimsExpression(text);
    if (comparisons === undefined) {
        return [
            `${field} ${show(text)} is not comparisons of the form claims['<claim>'] eq '<value>' joined by and, so the pack cannot tell whom it trusts ` +
                `(another operator, or, parentheses or quotes can widen it as a wildcard does); ${exactFix}`,
        ];
    }
    const problems: string[] = [];
    for (const { claim, operator, comparand } of comparisons) {
        const wildcard = wildcardCharacters.exec(comparand.normalize("NFKC"))?.[0];
        if (operator === "matches") {
            problems.push(`${field} matches claim ${show(claim)} against the pattern ${show(comparand)}: ${noWildcards}; ${exactFix}`);
        } else if (operator !== "eq") {
            problems.push(`${field} compares claim ${show(claim)} with the operator ${show(operator)}, which the pack does not know (matches and eq are Entra's), so it cannot tell whom it trusts; ${exactFix}`);
        } else if (wildcard !== undefined) {
            problems.push(`${field} compares claim ${show(claim)} with ${show(comparand)}, which contains the wildcard character ${show(wildcard)}: ${noWildcards}; ${exactFix}`);
        } else if (claim === "sub") {
            const subject = valueProblem(comparand, "the subject, exactly as in the token's sub claim");
            if (subject) problems.push(`${field} claims['sub']: ${subject}`);
        }
    }
    // A subject compared some other way was reported above.
    if (!comparisons.some((c) => c.claim === "sub")) {
        problems.push(
            `${field} ${show(text)} does not pin the subject with claims['sub'] eq '<the subject>': every workload of the issuer whose other claims match ` +
                `(any repository calling a shared workflow, any branch) can sign in as the app; ${exactFix}`,
        );
    }
    return problems;
}

/** The exact subject a flexible credential's expression pins, if it pins one (for the pull-request warning). */
export function pinnedSubject(expression: unknown): string | undefined {
    const text = isRecord(expression) ? expression["value"] : expression;
    if (typeof text !== "string" || text.length > MAX_FEDERATED_VALUE_LENGTH * 2) return undefined;
    return parseClaimsExpression(text)?.find((c) => c.claim === "sub" && c.operator === "eq")?.comparand;
}

/** A look-alike issuer host, shown with its foreign letters escaped: shown as it is, it reads like the real one. */
function lookAlike(issuer: string): string | undefined {
    // An over-long issuer is refused for its length by issuerProblem, without being echoed.
    if (issuer.length > MAX_FEDERATED_VALUE_LENGTH) return undefined;
    const problem = nonAsciiHostProblem(issuer);
    return problem === undefined ? undefined : `"${asciiOnly(issuer)}" ${problem}`;
}

// --- pull request subjects (advisory) -----------------------------------------------------------------------

/**
 * A GitHub Actions subject that trusts pull request runs. The `sub` of a workflow run for a `pull_request` event
 * is `repo:ORG/REPO:pull_request` whatever the branch or author
 * (https://docs.github.com/en/actions/reference/security/oidc, "Filtering for pull_request events"), and the
 * pull request's own code runs in that job, its version of the workflow file included. So anyone who can open a
 * pull request that runs with `id-token: write` can obtain a token Entra accepts, with no review: everyone with
 * write access to the repository, and fork authors where the repository sends write tokens to fork pull requests
 * (pull requests from public forks only ever get read permissions, hence no OIDC token:
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token).
 * A customised subject template carries the event the same way (a `pull_request` part), so any `:`-separated part
 * equal to `pull_request` counts.
 *
 * It is a warning, not a refusal: a read-only preview job may need exactly this. A policy's violations share one
 * enforcement level, so the warning is a policy of its own (`entra-federated-pull-request`, advisory) rather than
 * a message of the mandatory `entra-federated-credentials`.
 */
export function pullRequestWarning(props: FederatedCredentialInputs): string | undefined {
    const subject = props.subject;
    if (typeof subject !== "string" || !subject.split(":").some((part) => part.trim().toLowerCase() === "pull_request")) return undefined;
    const from = props.issuer === GITHUB_ISSUER ? "GitHub Actions " : "";
    return (
        `subject ${show(subject)} trusts pull request runs: every pull request that ${from}runs the workflow for gets this subject, whatever its branch or author, ` +
        `and its own code (workflow file included) runs in the job: anyone who can open one with id-token: write (everyone with write access, and fork authors where write tokens ` +
        `are sent to fork pull requests) can obtain a token this app accepts, with no review. Prefer a GitHub environment with required reviewers ` +
        `(repo:ORG/REPO:environment:NAME), and give a pull-request credential only to an app with read-only access`
    );
}
