/**
 * Entra's sign-in errors in plain words, with what to do. Entra reports them as `AADSTS<code>: <text>`
 * inside whatever error the SDK throws; the code is what matters, the text varies.
 */

export interface EntraErrorExplanation {
    readonly code: string;
    /** What happened, in words an integration's owner understands. */
    readonly meaning: string;
    /** What to do about it. */
    readonly fix: string;
}

const explanations: Record<string, Omit<EntraErrorExplanation, "code">> = {
    AADSTS7000222: { meaning: "the client secret has expired", fix: "run pulumi up to rotate it (rotor status shows whether the pipeline is overdue)" },
    AADSTS7000215: {
        meaning: "the client secret is not one of the application's: it was deleted, belongs to another app, or is brand new and not yet replicated",
        fix: "if it was created in the last minutes, wait and retry; otherwise run pulumi up so Key Vault serves a current secret",
    },
    AADSTS700027: {
        meaning: "the certificate's client assertion was refused: the certificate is not registered on the application, has expired, or is not yet valid",
        fix: "run pulumi up so the served certificate is one the application has; check the clock of the machine signing in",
    },
    AADSTS700024: { meaning: "the client assertion is outside its validity window: the signing machine's clock is off", fix: "fix the clock (NTP) of the machine that signs in" },
    AADSTS700016: {
        meaning: "the tenant has no application with this client id: it was deleted, or the client id or tenant is wrong",
        fix: "check the clientId and tenantId Key Vault serves beside the credential, and that the stack is deployed in this tenant",
    },
    AADSTS7000112: { meaning: "the application is disabled", fix: "re-enable the application (or its service principal) in the Entra admin center" },
    AADSTS90002: { meaning: "the tenant does not exist, or is not in this cloud", fix: "check the tenant id, and --cloud for US Government or China" },
    AADSTS900023: { meaning: "the tenant id is malformed", fix: "check the tenantId Key Vault serves" },
    AADSTS500011: { meaning: "the resource (scope) asked for is not in the tenant", fix: "check --graph-endpoint and --cloud" },
    AADSTS70021: { meaning: "no federated credential of the application matches the token's issuer, subject and audience", fix: "compare the workload's token with rotor plan's federated credentials: subjects match exactly and case-sensitively" },
    AADSTS7002138: { meaning: "the federated credential's subject does not match the token's", fix: "compare the workload's token subject with the configured one (branch, environment, namespace)" },
    AADSTS53003: { meaning: "a Conditional Access policy blocked the sign-in", fix: "exclude the workload identity from the policy, or meet its conditions (location, risk)" },
    // Sent with 503 temporarily_unavailable ("A transient error has occurred. Please try again."): nothing to fix on our side.
    AADSTS90033: { meaning: "the sign-in service is temporarily unavailable: nothing is wrong with the credential", fix: "try again later (a later run retries by itself); check https://azure.status.microsoft if it lasts" },
};

/** The first AADSTS code in a text, explained; undefined when there is none. */
export function explainEntraError(text: string): EntraErrorExplanation | undefined {
    const code = /AADSTS\d+/.exec(text)?.[0];
    if (!code) return undefined;
    const known = explanations[code];
    return known ? { code, ...known } : { code, meaning: "Entra refused the sign-in", fix: `look up ${code} at https://login.microsoftonline.com/error?code=${code.slice(6)}` };
}
