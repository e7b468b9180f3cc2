import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";

/** One federated identity credential: tokens from `issuer` about `subject` for `audience` sign in as the app. */
export interface FederatedCredentialSpec {
    /** Entra's name for it (displayName): 3-120 letters, digits, '-' or '_', unique per app. */
    readonly name: string;
    /** The external identity provider's issuer URL, matched exactly. */
    readonly issuer: string;
    /** The workload's subject claim, matched exactly and case-sensitively. */
    readonly subject: string;
    /** The single audience the external token must carry. */
    readonly audience: string;
    /** Shown in the Entra admin center. */
    readonly description?: string;
}

export interface FederatedCredentialsArgs {
    /** The application's resource id, `/applications/<objectId>`. */
    readonly applicationId: pulumi.Input<string>;
    /** The credentials; an empty list registers nothing but the component. */
    readonly credentials: readonly FederatedCredentialSpec[];
    /**
     * Credentials Entra already holds, imported rather than created (an adopted app's): azuread's import id,
     * `/applications/<objectId>/federatedIdentityCredential/<id>`, by credential name. Entra refuses a second
     * credential of the same name, or of the same issuer and subject, so one not imported fails to create.
     */
    readonly imports?: Readonly<Record<string, string>>;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

/** Entra's limits for an app's federated credentials, as a pure check (the config model reports them with paths). */
export function validateFederatedCredentials(credentials: readonly FederatedCredentialSpec[]): string[] {
    const problems: string[] = [];
    if (credentials.length > 20) problems.push(`${credentials.length} federated credentials: Entra allows at most 20 per app`);
    const names = new Set<string>();
    const pairs = new Set<string>();
    for (const c of credentials) {
        if (!namePattern.test(c.name)) problems.push(`name "${c.name}" must be 3-120 letters, digits, '-' or '_', starting with a letter or digit`);
        if (names.has(c.name.toLowerCase())) problems.push(`name "${c.name}" is used twice`);
        names.add(c.name.toLowerCase());
        const pair = `${c.issuer}\n${c.subject}`;
        if (pairs.has(pair)) problems.push(`issuer and subject of "${c.name}" are used twice`);
        pairs.add(pair);
        if (!c.issuer.startsWith("https://")) problems.push(`issuer of "${c.name}" must be https`);
        for (const [what, value] of [["issuer", c.issuer], ["subject", c.subject], ["audience", c.audience]] as const) {
            if (value.length === 0 || value.length > 600) problems.push(`${what} of "${c.name}" must be 1-600 characters`);
            if (value.includes("*")) problems.push(`${what} of "${c.name}" contains a wildcard, which Entra does not match`);
        }
    }
    return problems;
}

/** An app's federated identity credentials: no secret to rotate, nothing to store, nothing to leak. */
export class FederatedCredentials extends pulumi.ComponentResource {
    readonly credentials: Readonly<Record<string, azuread.ApplicationFederatedIdentityCredential>>;

    constructor(name: string, args: FederatedCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = validateFederatedCredentials(args.credentials);
        for (const imported of Object.keys(args.imports ?? {})) {
            if (!args.credentials.some((c) => c.name === imported)) problems.push(`the import of "${imported}" names no credential`);
        }
        if (problems.length > 0) throw new Error(`FederatedCredentials ${name}: ${problems.join("; ")}`);
        super("entra-rotor:index:FederatedCredentials", name, {}, opts);
        const credentials: Record<string, azuread.ApplicationFederatedIdentityCredential> = {};
        for (const c of args.credentials) {
            const imported = args.imports?.[c.name];
            credentials[c.name] = new azuread.ApplicationFederatedIdentityCredential(
                `${name}-${c.name}`,
                {
                    applicationId: args.applicationId,
                    displayName: c.name,
                    description: c.description,
                    issuer: c.issuer,
                    subject: c.subject,
                    audiences: [c.audience],
                },
                imported ? { parent: this, import: imported } : { parent: this },
            );
        }
        this.credentials = credentials;
        this.registerOutputs({});
    }
}
