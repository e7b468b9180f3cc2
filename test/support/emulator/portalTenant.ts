import { type ClientCertificate, createClientCertificate, sharedKeyPair } from "./certificates";
import { dayMs } from "./clock";
import { microsoftGraphAppId } from "./microsoftGraphPrincipal";
import type { Application, EmulatorState, User } from "./state";

/**
 * Applications as a tenant grows them in the portal, for `rotor import` and its benchmark: redirect URIs of
 * the three platforms, Microsoft Graph permissions requested (tier-0 ones among them) and consented for some,
 * not all, an extra grant nobody requested here and there, owners, federated credentials of the usual
 * issuers, client secrets of mixed ages (some expired) and certificates. Every choice is a function of the
 * app's index, so a run is reproducible and 5,000 apps take well under a second: certificates come from a
 * small pool made once (Entra lets one certificate serve several applications), on the shared key pair.
 */

export interface PortalShape {
    /** Graph application permissions requested, taken in turn (default: a mix with tier-0 ones, from the fixture). */
    readonly applicationPermissions?: readonly string[];
    /** Graph delegated permissions requested beside `User.Read`, taken in turn. */
    readonly delegatedPermissions?: readonly string[];
    /** Every Nth app has everything it requests consented (default 2); the app after it, only its first role. */
    readonly consentEvery?: number;
    /** Every Nth app has a federated credential (default 3): GitHub environment, GitHub branch, Kubernetes in turn. */
    readonly federatedEvery?: number;
    /** Every Nth app has a certificate from the pool (default 4). */
    readonly certificateEvery?: number;
    /** Users who own the apps, one per 50 apps unless given; every 17th app has no owner, every 9th a second one. */
    readonly ownerCount?: number;
}

/** Tier 0 (a path to Global Administrator) in shared/data/graph-permissions.json: RoleManagement.ReadWrite.Directory, Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All. */
const defaultApplicationPermissions = [
    "User.Read.All",
    "Mail.Send",
    "Sites.Read.All",
    "Group.Read.All",
    "Calendars.ReadWrite",
    "DeviceManagementManagedDevices.Read.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "AppRoleAssignment.ReadWrite.All",
];

const defaultDelegatedPermissions = ["Mail.Read", "Files.Read.All", "offline_access", "openid", "profile"];

const secretLifetimes = [180, 365, 730];

export interface PortalApplication {
    readonly secrets: readonly string[];
    readonly certificates: readonly ClientCertificate[];
}

/** Shapes the `index`th of `count` generated apps; `secrets` client secrets each (portal-made: mixed ages and names). */
export type PortalShaper = (app: Application, index: number, secrets: number) => PortalApplication;

export function portalShaper(state: EmulatorState, count: number, shape: PortalShape, tenantId: string | undefined): PortalShaper {
    const now = state.clock.now().getTime();
    const roles = shape.applicationPermissions ?? defaultApplicationPermissions;
    const scopes = shape.delegatedPermissions ?? defaultDelegatedPermissions;
    const consentEvery = Math.max(1, shape.consentEvery ?? 2);
    const federatedEvery = Math.max(1, shape.federatedEvery ?? 3);
    const certificateEvery = Math.max(1, shape.certificateEvery ?? 4);
    const owners: User[] = [];
    const ownerCount = Math.max(1, shape.ownerCount ?? Math.ceil(count / 50));
    for (let u = 0; u < ownerCount; u++) owners.push(state.addUser({ displayName: `Owner ${u + 1}`, ...(tenantId ? { tenantId } : {}) }));
    // One expired, one expiring within a month, one with most of a year left.
    const pool = [
        { from: now - 400 * dayMs, to: now - 10 * dayMs },
        { from: now - 335 * dayMs, to: now + 30 * dayMs },
        { from: now - 65 * dayMs, to: now + 300 * dayMs },
    ].map((validity, c) => ({
        validity,
        certificate: createClientCertificate({ subject: `portal-certificate-${c}`, notBefore: new Date(validity.from), notAfter: new Date(validity.to), keyPair: sharedKeyPair("certificates") }),
    }));

    return (app, i, secretCount) => {
        const name = app.displayName.toLowerCase();
        if (i % 2 === 0) app.web.redirectUris.push(`https://${name}.contoso.example/signin-oidc`);
        if (i % 5 === 1) app.spa.redirectUris.push(`https://${name}.contoso.example/`);
        if (i % 7 === 3) app.publicClient.redirectUris.push(`msal${app.appId}://auth`);

        const requestedRoles = i % 3 === 2 ? [] : [...new Set([roles[i % roles.length]!, roles[(i * 7 + 3) % roles.length]!])];
        const requestedScopes = ["User.Read", ...(i % 4 === 0 ? [scopes[i % scopes.length]!] : [])];
        state.requestPermissions(app, microsoftGraphAppId, { roles: requestedRoles, scopes: requestedScopes });
        if (i % consentEvery === 0) {
            for (const role of requestedRoles) state.grantAppRole(app, microsoftGraphAppId, role);
            state.grantDelegated(app, microsoftGraphAppId, requestedScopes);
        } else if (i % consentEvery === 1 && requestedRoles[0]) {
            state.grantAppRole(app, microsoftGraphAppId, requestedRoles[0]);
        }
        if (i % 13 === 0) {
            // Consent left over from an earlier request: a grant nothing in requiredResourceAccess asks for.
            const extra = ["Reports.Read.All", "AuditLog.Read.All"].find((r) => !requestedRoles.includes(r));
            if (extra) state.grantAppRole(app, microsoftGraphAppId, extra);
        }

        if (i % 17 !== 5) {
            app.owners.push(owners[i % owners.length]!.id);
            if (i % 9 === 0 && owners.length > 1) app.owners.push(owners[(i + 1) % owners.length]!.id);
        }
        state.servicePrincipalOf(app)?.owners.push(...app.owners);

        if (i % federatedEvery === 0) {
            const kind = Math.floor(i / federatedEvery) % 3;
            state.addFederatedCredential(
                app,
                kind === 0
                    ? { name: "github-production", issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/${name}:environment:production` }
                    : kind === 1
                      ? { name: "github-main", issuer: "https://token.actions.githubusercontent.com", subject: `repo:contoso/${name}:ref:refs/heads/main` }
                      : { name: "aks-workload", issuer: `https://westeurope.oic.prod-aks.azure.com/${app.tenantId}/00000000-0000-0000-0000-000000000042/`, subject: `system:serviceaccount:${name}:${name}` },
            );
        }

        const secretTexts: string[] = [];
        for (let s = 0; s < secretCount; s++) {
            // Ages spread over two years: some expired, some about to, most fine; named as people name them, or not at all.
            const lifetimeDays = secretLifetimes[(i + s) % secretLifetimes.length]!;
            const startDateTime = new Date(now - ((i * 37 + s * 101) % 700) * dayMs);
            const displayName = (i + s) % 4 === 0 ? null : `${["prod", "ci", "rotate me", "temp"][(i + s) % 4]} secret`;
            secretTexts.push(state.addPassword(app, { startDateTime, lifetimeDays, ...(displayName ? { displayName } : {}) }).secretText);
        }
        const certificates: ClientCertificate[] = [];
        if (i % certificateEvery === 0) {
            const { certificate, validity } = pool[Math.floor(i / certificateEvery) % pool.length]!;
            state.registerCertificate(app, certificate.certificatePem, { startDateTime: new Date(validity.from), endDateTime: new Date(validity.to) });
            certificates.push(certificate);
        }
        return { secrets: secretTexts, certificates };
    };
}
