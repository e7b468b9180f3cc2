import { DEFAULT_AUDIENCE, GITHUB_ISSUER, issuerProblem, MAX_FEDERATED_VALUE_LENGTH, valueProblem } from "../infra/model/federated";
import { nonAsciiHostProblem, unsafeTextProblem } from "../rotation/text";
import { asciiOnly, show } from "./inputs";

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
 * Not covered: azuread's ApplicationFlexibleFederatedIdentityCredential, whose claims-matching expression is
 * meant to match many subjects; it is a separate resource type and an organisation's call to allow or not.
 */

export const federatedCredentialType =
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";

export interface FederatedCredentialInputs {
    readonly issuer?: unknown;
    readonly subject?: unknown;
    readonly audiences?: unknown;
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

    const issuer = props.issuer;
    const issuerIssue =
        typeof issuer !== "string"
            ? "must be the issuer URL, exactly as in the token's iss claim"
            : (unsafeTextProblem(issuer) ?? lookAlike(issuer) ?? issuerProblem(issuer));
    if (issuerIssue) problems.push(`issuer ${issuerIssue}`);

    const subject = props.subject;
    const subjectIssue =
        typeof subject !== "string"
            ? "must be the subject, exactly as in the token's sub claim"
            : (unsafeTextProblem(subject) ?? valueProblem(subject, "the subject, exactly as in the token's sub claim"));
    if (subjectIssue) problems.push(`subject ${subjectIssue}`);

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
