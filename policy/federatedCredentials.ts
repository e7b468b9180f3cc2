import { DEFAULT_AUDIENCE, issuerProblem, valueProblem } from "../infra/model/federated";
import { show } from "./inputs";

/**
 * Rule 3: federated identity credentials that can only ever match what they mean to trust: an https issuer,
 * a subject without wildcards, exactly one audience.
 *
 * Entra accepts some of these and matches nothing (a `*` is a literal character to it), so the mistake only
 * shows when a pipeline cannot sign in, and a team's "fix" then tends to be a broader trust. The checks are the
 * ones entra-rotor's stacks apply to their own config (infra/federated.ts), so both say the same thing.
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

/** Problems with a federated identity credential; empty when Entra can match it as intended. Pure. */
export function validateFederatedCredential(props: FederatedCredentialInputs): string[] {
    const problems: string[] = [];

    const issuer = props.issuer;
    const issuerIssue = typeof issuer === "string" ? issuerProblem(issuer) : "must be the issuer URL, exactly as in the token's iss claim";
    if (issuerIssue) problems.push(`issuer ${issuerIssue}`);

    const subject = props.subject;
    const subjectIssue = typeof subject === "string" ? valueProblem(subject, "the subject, exactly as in the token's sub claim") : "must be the subject, exactly as in the token's sub claim";
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
        const audienceIssue = typeof audience === "string" ? valueProblem(audience, `the audience, e.g. ${DEFAULT_AUDIENCE}`) : "must be a string";
        if (audienceIssue) problems.push(`audience ${audienceIssue}`);
    }
    return problems;
}
