import { type Change, type ParsedUrn, parseUrn, patterns, type ResourceChange, urnsMentioned } from "./previewResources";
import type { Action } from "./summaryTypes";

/**
 * What the entra-rotor program registers, as a preview shows it: type tokens and the naming conventions of
 * components/*.ts. Keep in step with the components: a renamed child would be summarised as an unknown one.
 */
export const tokens = {
    appRegistration: "entra-rotor:index:AppRegistration",
    clientSecret: "entra-rotor:index:ClientSecret",
    clientCertificate: "entra-rotor:index:ClientCertificate",
    federatedCredentials: "entra-rotor:index:FederatedCredentials",
    keyVaultSecrets: "entra-rotor:index:KeyVaultSecrets",
    application: "azuread:index/application:Application",
    /** The older azuread resource for a bare registration; summarised like Application. */
    applicationRegistration: "azuread:index/applicationRegistration:ApplicationRegistration",
    /** Permissions requested through a separate resource rather than on the Application. */
    applicationApiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
    servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
    appRoleAssignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
    delegatedGrant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
    applicationPassword: "azuread:index/applicationPassword:ApplicationPassword",
    applicationCertificate: "azuread:index/applicationCertificate:ApplicationCertificate",
    federatedIdentityCredential: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    keyVaultSecret: "azure-native:keyvault:Secret",
    keyVault: "azure-native:keyvault:Vault",
} as const;

/** Resource types that hold a credential (or its key material). */
export const credentialTypes: ReadonlySet<string> = new Set([tokens.applicationPassword, tokens.applicationCertificate, tokens.privateKey, tokens.selfSignedCert]);

/**
 * A slot's resources are named `<component>-slot<n>` (ApplicationPassword, ApplicationCertificate),
 * `<component>-slot<n>-key` (PrivateKey) and `<component>-slot<n>-cert` (SelfSignedCert).
 */
export function slotOfName(name: string): { component: string; slot: 0 | 1 } | undefined {
    const match = /^(.+)-slot([01])(-key|-cert)?$/.exec(name);
    return match ? { component: match[1]!, slot: Number(match[2]) as 0 | 1 } : undefined;
}

/**
 * App names, learned from every URN the preview mentions: AppRegistration components themselves (often
 * unchanged, so absent from the steps, but named as the parent of their children) and the `<app>-app`
 * Application every credential depends on. Only names as config allows them are learned: an app name
 * is printed wherever its resources are, so it must not be able to carry markup.
 */
export class AppIndex {
    private readonly names = new Set<string>();
    /** The longest name learned: appOf never looks at a longer prefix. */
    private longest = 0;

    constructor(changes: readonly ResourceChange[]) {
        // Every credential names its app's URNs again: each distinct URN is parsed once.
        const seen = new Set<string>();
        for (const change of changes) {
            for (const text of [change.urn.urn, ...urnsMentioned(change.old), ...urnsMentioned(change.new)]) {
                if (seen.has(text)) continue;
                seen.add(text);
                this.learn(parseUrn(text));
            }
        }
    }

    private learn(urn: ParsedUrn | undefined): void {
        if (!urn) return;
        if (urn.type === tokens.appRegistration) this.add(urn.name);
        if (urn.typeChain.length === 2 && urn.typeChain[0] === tokens.appRegistration && urn.type === tokens.application && urn.name.endsWith("-app")) {
            this.add(urn.name.slice(0, -"-app".length));
        }
    }

    private add(name: string): void {
        if (!patterns.name.test(name)) return;
        this.names.add(name);
        this.longest = Math.max(this.longest, name.length);
    }

    /**
     * The app a resource belongs to: the AppRegistration it is nested in, found by its name prefix. The
     * longest match wins, so that an app `mail` does not claim `mail-sender-main`; looking up each prefix
     * that ends before a `-` costs the name's length, not the number of apps.
     */
    appOf(urn: ParsedUrn): string | null {
        if (urn.type === tokens.appRegistration) return urn.name;
        if (urn.typeChain[0] !== tokens.appRegistration) return null;
        const name = urn.name;
        for (let end = Math.min(this.longest, name.length - 1); end > 0; end--) {
            if (name.charCodeAt(end) === 0x2d && this.names.has(name.slice(0, end))) return name.slice(0, end);
        }
        return null;
    }

    /** `<app>-<rest>` -> `<rest>`; the name itself when the app is unknown. */
    static strip(app: string | null, name: string): string {
        return app !== null && name.startsWith(`${app}-`) ? name.slice(app.length + 1) : name;
    }
}

/** The summary's word for what Pulumi does to a resource; null when nothing. */
export function actionOf(change: Change): Action | null {
    switch (change) {
        case "create":
            return "created";
        case "update":
            return "updated";
        case "replace":
            return "replaced";
        case "delete":
            return "deleted";
        case "none":
            return null;
    }
}

/** Property names from diffs, keeping only what looks like a property name. */
export function propertyNames(names: readonly string[]): string[] {
    return names.filter((name) => patterns.property.test(name));
}
