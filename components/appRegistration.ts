import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";

/** A permission of an API, by value and id. */
export interface ApiPermission {
    /** The permission's value, e.g. `Mail.Send`. */
    readonly value: string;
    /** Its id on the API's service principal (resolved live at deploy time). */
    readonly id: pulumi.Input<string>;
}

/** What an app requests from one API, with ids resolved. */
export interface ApiAccess {
    /** The API's application (client) id, as `requiredResourceAccess` names it. */
    readonly resourceAppId: string;
    /** A short, stable token for the API in child resource names; changing it replaces the consent resources. */
    readonly slug: string;
    /** Object id of the API's service principal in the tenant; consent is granted on it. */
    readonly resourceObjectId: pulumi.Input<string>;
    /** Application permissions; each is consented by an app role assignment. */
    readonly appRoles: readonly ApiPermission[];
    /** Delegated permissions; all are consented for all principals by one grant per API. */
    readonly scopes: readonly ApiPermission[];
}

export interface AppRegistrationArgs {
    /** Display name shown in the Entra admin center. */
    readonly displayName: pulumi.Input<string>;
    /** Description shown to end users. */
    readonly description?: pulumi.Input<string>;
    /** Notes for administrators, e.g. the owning team and the integration's purpose. */
    readonly notes?: pulumi.Input<string>;
    /** Who may sign in: the home tenant only (`AzureADMyOrg`, the default) or any organisation. */
    readonly signInAudience?: pulumi.Input<"AzureADMyOrg" | "AzureADMultipleOrgs">;
    /** Redirect URIs of the web platform; none for daemons that only use client credentials. */
    readonly redirectUris?: readonly string[];
    /** Redirect URIs of the single-page application platform (authorization code with PKCE in a browser). */
    readonly spaRedirectUris?: readonly string[];
    /** Redirect URIs of the mobile and desktop platform (public client), e.g. `msal<client id>://auth`. */
    readonly publicClientRedirectUris?: readonly string[];
    /** Object ids of the owners of the application and its service principal. */
    readonly owners?: readonly pulumi.Input<string>[];
    /** The permissions requested, per API, each consented by an explicit resource. */
    readonly apiAccess?: readonly ApiAccess[];
    /** Tags on the application (and its service principal), e.g. the stack's, so live checks can find it. */
    readonly tags?: readonly string[];
    /**
     * An existing application and service principal to import rather than create (adoption), by object id,
     * with the import ids of consent already granted: app role assignments by `<api slug>/<permission>`,
     * delegated grants by API slug.
     */
    readonly adopt?: {
        readonly application: string;
        readonly servicePrincipal: string;
        readonly appRoleAssignments?: Readonly<Record<string, string>>;
        readonly delegatedGrants?: Readonly<Record<string, string>>;
        /**
         * By API slug, the order Entra holds its permissions in (`Role/<value>`, `Scope/<value>`), when it is not
         * application then delegated: azuread keeps each API's permissions in order, so an import must match it.
         */
        readonly permissionOrder?: Readonly<Record<string, readonly string[]>>;
    };
}

/**
 * Problems with an AppRegistration's `apiAccess`: every API once, every permission once per kind.
 * Pure, so it is tested without the Pulumi runtime; the stack model reports the same mistakes with config paths.
 */
export function validateApiAccess(apiAccess: readonly ApiAccess[], permissionOrder: Readonly<Record<string, readonly string[]>> = {}): string[] {
    const problems: string[] = [];
    const apis = new Set<string>();
    const slugs = new Set<string>();
    for (const access of apiAccess) {
        if (apis.has(access.resourceAppId)) problems.push(`API ${access.resourceAppId} is listed more than once`);
        if (slugs.has(access.slug)) problems.push(`API slug "${access.slug}" is used more than once`);
        apis.add(access.resourceAppId);
        slugs.add(access.slug);
        if (access.appRoles.length === 0 && access.scopes.length === 0) problems.push(`API ${access.resourceAppId} requests no permission`);
        for (const [kind, list] of [
            ["application", access.appRoles],
            ["delegated", access.scopes],
        ] as const) {
            const seen = new Set<string>();
            for (const permission of list) {
                if (seen.has(permission.value)) problems.push(`${kind} permission ${permission.value} on ${access.resourceAppId} is listed more than once`);
                seen.add(permission.value);
            }
        }
    }
    for (const [slug, order] of Object.entries(permissionOrder)) {
        const access = apiAccess.find((a) => a.slug === slug);
        const keys = access ? [...access.appRoles.map((r) => `Role/${r.value}`), ...access.scopes.map((s) => `Scope/${s.value}`)] : [];
        if (!access) problems.push(`the permission order of API slug "${slug}" names no API the app requests`);
        else if (order.length !== keys.length || new Set(order).size !== order.length || keys.some((k) => !order.includes(k))) {
            problems.push(`the permission order of ${access.resourceAppId} must list each of its permissions once (${keys.join(", ")})`);
        }
    }
    return problems;
}

/**
 * An API's permissions as the application requests them: application permissions, then delegated ones, each in
 * the order given; or, for an adopted application, in the order Entra holds them (`order`, keys `Role/<value>`
 * and `Scope/<value>`, which validateApiAccess checks lists each permission once).
 */
export function orderedAccess(access: ApiAccess, order: readonly string[] | undefined): { id: pulumi.Input<string>; type: "Role" | "Scope" }[] {
    const entries = [
        ...access.appRoles.map((role) => ({ key: `Role/${role.value}`, id: role.id, type: "Role" as const })),
        ...access.scopes.map((scope) => ({ key: `Scope/${scope.value}`, id: scope.id, type: "Scope" as const })),
    ];
    if (order) entries.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
    return entries.map(({ id, type }) => ({ id, type }));
}

/**
 * An Entra ID app registration: the application, its service principal, the API permissions it requests,
 * and admin consent for exactly those permissions as explicit resources (nothing else, no default `User.Read`).
 */
export class AppRegistration extends pulumi.ComponentResource {
    readonly application: azuread.Application;
    readonly servicePrincipal: azuread.ServicePrincipal;
    /** Consent for each application permission, keyed `<api slug>/<value>`. */
    readonly appRoleAssignments: Readonly<Record<string, azuread.AppRoleAssignment>>;
    /** Tenant-wide consent for delegated permissions, keyed by API slug. */
    readonly delegatedGrants: Readonly<Record<string, azuread.ServicePrincipalDelegatedPermissionGrant>>;

    /** `/applications/<objectId>`: what credential resources take as `applicationId`. */
    readonly applicationId: pulumi.Output<string>;
    readonly clientId: pulumi.Output<string>;
    readonly objectId: pulumi.Output<string>;
    readonly servicePrincipalObjectId: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;

    constructor(name: string, args: AppRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid component registers nothing, not even itself.
        const apiAccess = args.apiAccess ?? [];
        const problems = validateApiAccess(apiAccess, args.adopt?.permissionOrder);
        if (problems.length > 0) throw new Error(`AppRegistration ${name}: ${problems.join("; ")}`);
        super("entra-rotor:index:AppRegistration", name, {}, opts);
        const parent = { parent: this };

        this.application = new azuread.Application(
            `${name}-app`,
            {
                displayName: args.displayName,
                description: args.description,
                notes: args.notes,
                signInAudience: args.signInAudience ?? "AzureADMyOrg",
                owners: args.owners ? [...args.owners] : undefined,
                web: args.redirectUris && args.redirectUris.length > 0 ? { redirectUris: [...args.redirectUris] } : undefined,
                singlePageApplication: args.spaRedirectUris && args.spaRedirectUris.length > 0 ? { redirectUris: [...args.spaRedirectUris] } : undefined,
                publicClient: args.publicClientRedirectUris && args.publicClientRedirectUris.length > 0 ? { redirectUris: [...args.publicClientRedirectUris] } : undefined,
                tags: args.tags && args.tags.length > 0 ? [...args.tags] : undefined,
                requiredResourceAccesses: apiAccess.map((access) => ({
                    resourceAppId: access.resourceAppId,
                    resourceAccesses: orderedAccess(access, args.adopt?.permissionOrder?.[access.slug]),
                })),
            },
            // Importing takes over the existing registration: the first up fails, showing the difference, if
            // the config does not describe it as it is; once imported, the option has no further effect.
            args.adopt ? { ...parent, import: `/applications/${args.adopt.application}` } : parent,
        );

        this.servicePrincipal = new azuread.ServicePrincipal(
            `${name}-sp`,
            { clientId: this.application.clientId, owners: args.owners ? [...args.owners] : undefined },
            args.adopt ? { ...parent, import: `/servicePrincipals/${args.adopt.servicePrincipal}` } : parent,
        );

        const appRoleAssignments: Record<string, azuread.AppRoleAssignment> = {};
        const delegatedGrants: Record<string, azuread.ServicePrincipalDelegatedPermissionGrant> = {};
        for (const access of apiAccess) {
            for (const role of access.appRoles) {
                const key = `${access.slug}/${role.value}`;
                const imported = args.adopt?.appRoleAssignments?.[key];
                appRoleAssignments[key] = new azuread.AppRoleAssignment(
                    `${name}-role-${access.slug}-${role.value}`,
                    { appRoleId: role.id, principalObjectId: this.servicePrincipal.objectId, resourceObjectId: access.resourceObjectId },
                    imported ? { ...parent, import: imported } : parent,
                );
            }
            if (access.scopes.length > 0) {
                // No userObjectId: the grant is for all principals (admin consent on behalf of the organisation).
                delegatedGrants[access.slug] = new azuread.ServicePrincipalDelegatedPermissionGrant(
                    `${name}-grant-${access.slug}`,
                    {
                        servicePrincipalObjectId: this.servicePrincipal.objectId,
                        resourceServicePrincipalObjectId: access.resourceObjectId,
                        claimValues: access.scopes.map((scope) => scope.value),
                    },
                    args.adopt?.delegatedGrants?.[access.slug] ? { ...parent, import: args.adopt.delegatedGrants[access.slug] } : parent,
                );
            }
        }
        this.appRoleAssignments = appRoleAssignments;
        this.delegatedGrants = delegatedGrants;

        this.applicationId = this.application.id;
        this.clientId = this.application.clientId;
        this.objectId = this.application.objectId;
        this.servicePrincipalObjectId = this.servicePrincipal.objectId;
        this.tenantId = this.servicePrincipal.applicationTenantId;
        this.registerOutputs({
            applicationId: this.applicationId,
            clientId: this.clientId,
            objectId: this.objectId,
            servicePrincipalObjectId: this.servicePrincipalObjectId,
            tenantId: this.tenantId,
        });
    }
}
