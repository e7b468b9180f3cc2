import { type CertificateFacts, type ClientCertificate, type RsaKeyPair, certificateFacts, createClientCertificate, sharedKeyPair } from "./certificates";
import { type Clock, createClock, dayMs } from "./clock";
import { graphApplicationPermission, microsoftGraphAppId, microsoftGraphServicePrincipal } from "./microsoftGraphPrincipal";
import { type PortalShape, portalShaper } from "./portalTenant";
import { appRoleAssignmentId, clientSecretText, guid, permissionGrantId, secretVersion } from "./random";
import { builtInRoleDefinitions } from "./rbac";

/**
 * What the emulated tenant holds: plain records that tests build with the helpers below and may change
 * directly between requests (e.g. end a credential early, disable a service principal). Lookups are indexed
 * so that a benchmark with thousands of applications and secrets costs no more per request than ten.
 *
 * Secret values and private keys live only here: Graph never returns them, as in Entra.
 */

/** How long a new credential is unknown to the token endpoint, like Entra's replication after a create. */
export interface ReplicationDelay {
    /** Rejected until this much wall-clock time has passed since the credential was added. */
    readonly delayMs?: number;
    /** Rejected for this many token requests that present it. */
    readonly attempts?: number;
}

interface CredentialBookkeeping {
    /** Wall-clock ms when added: replication is a matter of real seconds, not of the simulated date. */
    readonly addedAtMs: number;
    /** Order of creation, to tell credentials added after a replication fault was switched on. */
    readonly sequence: number;
    replication?: ReplicationDelay;
    /** Token requests that presented this credential. */
    attemptsSeen: number;
}

export interface PasswordCredential extends CredentialBookkeeping {
    readonly keyId: string;
    displayName: string | null;
    startDateTime: Date;
    endDateTime: Date;
    /** The first three characters of the secret, as Graph shows them. */
    readonly hint: string;
    /** Kept by the emulator only; Graph returns `secretText: null`. */
    readonly secretText: string;
    customKeyIdentifier: string | null;
}

export interface KeyCredential extends CredentialBookkeeping {
    readonly keyId: string;
    displayName: string | null;
    startDateTime: Date;
    endDateTime: Date;
    readonly type: "AsymmetricX509Cert";
    readonly usage: "Verify";
    readonly certificatePem: string;
    readonly certificate: CertificateFacts;
    /** Base64 of the SHA-1 thumbprint bytes, Graph's default when none is given. */
    customKeyIdentifier: string;
}

export interface FederatedIdentityCredential {
    readonly id: string;
    name: string;
    issuer: string;
    subject: string;
    description: string | null;
    audiences: string[];
}

/** One permission an application requests: an app role (`Role`) or a delegated scope (`Scope`) of the resource, by id. */
export interface ResourceAccess {
    readonly id: string;
    readonly type: "Role" | "Scope";
}

/** The application's `requiredResourceAccess`: the permissions it requests, per resource API (by the API's appId). */
export interface RequiredResourceAccess {
    readonly resourceAppId: string;
    resourceAccess: ResourceAccess[];
}

/** An app role as Graph shows it on the application and on its service principal (`appRole` resource). */
export interface AppRoleDefinition {
    allowedMemberTypes: string[];
    description: string;
    displayName: string;
    readonly id: string;
    isEnabled: boolean;
    origin: string;
    value: string | null;
}

/** A delegated permission an API exposes (`permissionScope` resource: `api.oauth2PermissionScopes`). */
export interface PermissionScopeDefinition {
    adminConsentDescription: string;
    adminConsentDisplayName: string;
    readonly id: string;
    isEnabled: boolean;
    /** `Admin`: only an administrator may consent; `User`: users may too. */
    type: "Admin" | "User";
    userConsentDescription: string | null;
    userConsentDisplayName: string | null;
    value: string;
}

export interface OptionalClaim {
    name: string;
    source: string | null;
    essential: boolean;
    additionalProperties: string[];
}

export interface OptionalClaims {
    idToken: OptionalClaim[];
    accessToken: OptionalClaim[];
    saml2Token: OptionalClaim[];
}

export interface WebApplication {
    redirectUris: string[];
    homePageUrl: string | null;
    logoutUrl: string | null;
    implicitGrantSettings: { enableAccessTokenIssuance: boolean; enableIdTokenIssuance: boolean };
}

export interface ApiApplication {
    /** null as a new registration has it (v1 tokens), or 1 or 2. */
    requestedAccessTokenVersion: number | null;
    oauth2PermissionScopes: PermissionScopeDefinition[];
    acceptMappedClaims: boolean | null;
    knownClientApplications: string[];
}

export interface Application {
    /** Object id (`/applications/{id}`). */
    readonly id: string;
    /** Client id. */
    readonly appId: string;
    readonly tenantId: string;
    displayName: string;
    description: string | null;
    notes: string | null;
    createdDateTime: Date;
    signInAudience: string;
    identifierUris: string[];
    tags: string[];
    passwordCredentials: PasswordCredential[];
    keyCredentials: KeyCredential[];
    federatedIdentityCredentials: FederatedIdentityCredential[];
    /** Object ids of the owners (users or service principals). */
    owners: string[];
    /** Ids of appManagementPolicies applied to this app. */
    appManagementPolicyIds: string[];
    web: WebApplication;
    spa: { redirectUris: string[] };
    publicClient: { redirectUris: string[] };
    /** What the app requests. Consent is separate: app role assignments and delegated grants on its service principal. */
    requiredResourceAccess: RequiredResourceAccess[];
    /** What the app exposes as an API: its delegated scopes (its app roles are `appRoles`). */
    api: ApiApplication;
    appRoles: AppRoleDefinition[];
    optionalClaims: OptionalClaims | null;
    /** e.g. `SecurityGroup`, `All`; null for none, as a new registration has it. */
    groupMembershipClaims: string | null;
}

/** A user, as far as Graph shows one among an application's owners. */
export interface User {
    readonly id: string;
    readonly tenantId: string;
    displayName: string;
    userPrincipalName: string;
    mail: string | null;
}

/**
 * A delegated permission grant (`oAuth2PermissionGrant`): `AllPrincipals` is admin consent for the whole
 * organisation, `Principal` one user's consent. `scope` is Graph's space-separated list of scope values.
 */
export interface OAuth2PermissionGrant {
    /** Graph's id: base64url of the client's, the resource's (and the user's) object ids. */
    readonly id: string;
    /** The client's service principal (object id). */
    readonly clientId: string;
    readonly consentType: "AllPrincipals" | "Principal";
    /** The user for `Principal`, null for `AllPrincipals`. */
    readonly principalId: string | null;
    /** The resource API's service principal (object id). */
    readonly resourceId: string;
    scope: string;
}

export interface AppRoleAssignment {
    readonly id: string;
    readonly appRoleId: string;
    /** The permission name, e.g. `Application.Read.All`; goes into the token's `roles`. */
    readonly appRoleValue: string;
    readonly resourceAppId: string;
    readonly resourceId: string;
    readonly resourceDisplayName: string;
    readonly createdDateTime: Date;
}

export interface ServicePrincipal {
    readonly id: string;
    readonly appId: string;
    readonly tenantId: string;
    displayName: string;
    /** false: sign-ins fail with AADSTS7000112. */
    accountEnabled: boolean;
    /** App roles it holds (application permissions consented), on any resource API. */
    appRoleAssignments: AppRoleAssignment[];
    /** Delegated permissions granted to it as a client (`oauth2PermissionGrants` whose clientId is this principal). */
    oauth2PermissionGrants: OAuth2PermissionGrant[];
    /** Object ids of its owners (users or service principals), separate from the application's. */
    owners: string[];
    /**
     * An API's service principal without an application in this tenant (addApiServicePrincipal) carries its
     * own app roles, scopes and names; one of an application of the tenant shows the application's.
     */
    readonly api?: {
        readonly appRoles: AppRoleDefinition[];
        readonly oauth2PermissionScopes: PermissionScopeDefinition[];
        readonly appOwnerOrganizationId: string;
        readonly servicePrincipalNames: string[];
        readonly createdDateTime: Date;
    };
}

export interface CredentialRestriction {
    restrictionType: string;
    /** ISO-8601 duration, e.g. `P90D`; null for restrictions without a lifetime. */
    maxLifetime: string | null;
    restrictForAppsCreatedAfterDateTime: string | null;
    /**
     * `trustedCertificateAuthority` only (a beta restriction): ids of the tenant's certificateBasedApplicationConfigurations
     * whose CAs new certificates must chain to. Graph v1.0 does not show it (see graph.ts).
     */
    certificateBasedApplicationConfigurationIds?: string[];
}

export interface AppManagementConfiguration {
    passwordCredentials: CredentialRestriction[];
    keyCredentials: CredentialRestriction[];
}

export interface TenantAppManagementPolicy {
    readonly id: string;
    displayName: string;
    description: string;
    isEnabled: boolean;
    applicationRestrictions: AppManagementConfiguration;
    servicePrincipalRestrictions: AppManagementConfiguration;
}

export interface AppManagementPolicy {
    readonly id: string;
    displayName: string;
    description: string;
    isEnabled: boolean;
    restrictions: AppManagementConfiguration;
}

/**
 * A tenant's Microsoft Entra ID licence. Sign-in logs and usage reports are read through Graph only with P1
 * or P2; a free tenant answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` (signInLogs.ts).
 */
export type EntraLicence = "free" | "P1" | "P2";

export interface Tenant {
    readonly id: string;
    displayName: string;
    /** Default `P2`: usage evidence is readable; `setLicence("free")` makes the tenant a free one. */
    licence: EntraLicence;
    /**
     * Whether Graph beta serves `reports/appCredentialSignInActivities` (default true). false: it answers as
     * Graph does for a segment it does not know (400), so clients fall back to the sign-in log.
     */
    appCredentialSignInReport: boolean;
    /** Verified domains; the first is the initial `*.onmicrosoft.com` one. Tokens may be requested by domain. */
    domains: string[];
    createdDateTime: Date;
    defaultAppManagementPolicy: TenantAppManagementPolicy;
    appManagementPolicies: AppManagementPolicy[];
}

/** The Azure built-in roles the emulator knows (rbac.ts holds their real definitions). */
export type BuiltInRoleName =
    | "Owner"
    | "Contributor"
    | "Reader"
    | "Key Vault Administrator"
    | "Key Vault Contributor"
    | "Key Vault Reader"
    | "Key Vault Secrets Officer"
    | "Key Vault Secrets User";

/** The data-plane roles of a vault; kept for callers written before roles were generalised. */
export type KeyVaultRole = "Key Vault Administrator" | "Key Vault Secrets Officer" | "Key Vault Secrets User" | "Key Vault Reader";

/** A built-in role name, or the name of a custom role added with `addRoleDefinition` (case-insensitive). */
export type RoleName = BuiltInRoleName | (string & {});

/** An Azure role definition: what its holders may do on the management plane (actions) and the data plane (dataActions). */
export interface RoleDefinition {
    /** The role definition's GUID (Azure's real one for built-in roles). */
    readonly id: string;
    readonly roleName: string;
    readonly type: "BuiltInRole" | "CustomRole";
    /** Operations such as `Microsoft.KeyVault/vaults/secrets/write`; `*` matches any characters, case-insensitively. */
    readonly actions: readonly string[];
    readonly notActions: readonly string[];
    /** Data-plane operations such as `Microsoft.KeyVault/vaults/secrets/getSecret/action`. */
    readonly dataActions: readonly string[];
    readonly notDataActions: readonly string[];
}

export interface AddRoleDefinitionOptions {
    readonly roleName: string;
    readonly actions: readonly string[];
    readonly notActions?: readonly string[];
    readonly dataActions?: readonly string[];
    readonly notDataActions?: readonly string[];
    readonly id?: string;
}

/** A role assigned on one vault (its scope is the vault). */
export interface KeyVaultRoleAssignment {
    /** Object id of the service principal (the token's `oid`). */
    readonly principalId: string;
    readonly role: RoleName;
}

/** A role assigned at the subscription or a resource group, covering every vault below it. */
export interface ScopedRoleAssignment extends KeyVaultRoleAssignment {
    /** `/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`. */
    readonly scope: string;
}

/** Where `assignRole` assigns: a vault, a resource group, or (neither) the whole subscription. */
export interface RoleAssignmentScope {
    readonly vault?: string;
    readonly resourceGroup?: string;
}

export interface SecretVersion {
    readonly version: string;
    readonly value: string;
    contentType?: string;
    tags?: Record<string, string>;
    enabled: boolean;
    notBefore?: Date;
    expiresOn?: Date;
    readonly created: Date;
    updated: Date;
}

export interface Secret {
    /** As first written; Key Vault names are case-insensitive. */
    readonly name: string;
    /** Oldest first; the last one is the current version. */
    versions: SecretVersion[];
}

export interface DeletedSecret {
    readonly secret: Secret;
    readonly deletedDate: Date;
    readonly scheduledPurgeDate: Date;
}

export interface Vault {
    readonly name: string;
    readonly tenantId: string;
    /** Where ARM places it: `/subscriptions/{state.subscriptionId}/resourceGroups/{resourceGroup}/...`. */
    readonly resourceGroup: string;
    /** Azure region, e.g. `westeurope`. */
    readonly location: string;
    /** Keyed by lower-case name. */
    readonly secrets: Map<string, Secret>;
    readonly deletedSecrets: Map<string, DeletedSecret>;
    /**
     * Azure RBAC roles assigned on the vault. Undefined: the data plane lets every principal of the vault's
     * tenant do everything (the convenient default for tests that are not about access). A list, even empty:
     * the data plane checks DataActions of the roles assigned here, on the resource group and on the
     * subscription. The management plane (arm.ts) always checks roles.
     */
    roleAssignments?: KeyVaultRoleAssignment[];
    softDeleteRetentionDays: number;
}

export interface StateOptions {
    /** The emulator clock: a fixed instant (moved by set/advance), a function, or nothing for the wall clock. */
    readonly now?: Date | string | (() => Date);
    readonly clock?: Clock;
    /** Id of the tenant created with the state. */
    readonly tenantId?: string;
    readonly tenantDomain?: string;
    readonly tenantDisplayName?: string;
    /** The one Azure subscription the emulator's vaults live in (default: a GUID made for this state). */
    readonly subscriptionId?: string;
}

export interface AddTenantOptions {
    readonly id?: string;
    readonly displayName?: string;
    /** Initial domain, default `tenant-{first 8 of id}.onmicrosoft.com`. */
    readonly domain?: string;
}

export interface AddApplicationOptions {
    readonly displayName?: string;
    readonly appId?: string;
    readonly id?: string;
    readonly tenantId?: string;
    readonly createdDateTime?: Date | string;
    /** Microsoft Graph application permissions granted (admin-consented) to the app's service principal. */
    readonly graphPermissions?: readonly string[];
    /** false: the service principal is disabled (AADSTS7000112). */
    readonly accountEnabled?: boolean;
    readonly identifierUris?: readonly string[];
    readonly tags?: readonly string[];
    /** Object ids of the owners. */
    readonly owners?: readonly string[];
    /** Owners of the service principal (default: the application's, as a registration made by one person has). */
    readonly servicePrincipalOwners?: readonly string[];
    /** Microsoft Graph delegated permissions requested and consented for all users (an AllPrincipals grant). */
    readonly delegatedGraphPermissions?: readonly string[];
    readonly description?: string;
    readonly notes?: string;
    /** Default `AzureADMyOrg`, as a registration made in the portal has it. */
    readonly signInAudience?: string;
    readonly web?: { readonly redirectUris?: readonly string[]; readonly homePageUrl?: string; readonly logoutUrl?: string };
    readonly spa?: { readonly redirectUris?: readonly string[] };
    readonly publicClient?: { readonly redirectUris?: readonly string[] };
    /** Requested permissions by id, as Graph holds them (requestPermissions resolves names). Consent is not implied. */
    readonly requiredResourceAccess?: readonly { readonly resourceAppId: string; readonly resourceAccess: readonly ResourceAccess[] }[];
    /** What the app exposes as an API: its delegated scopes and the access token version it asks for. */
    readonly api?: { readonly requestedAccessTokenVersion?: number | null; readonly oauth2PermissionScopes?: readonly PermissionScopeInput[] };
    readonly appRoles?: readonly AppRoleInput[];
    readonly optionalClaims?: { readonly idToken?: readonly OptionalClaimInput[]; readonly accessToken?: readonly OptionalClaimInput[]; readonly saml2Token?: readonly OptionalClaimInput[] };
    readonly groupMembershipClaims?: string;
}

/** An app role to define; the rest takes the portal's defaults (members: applications; enabled; a new id). */
export interface AppRoleInput {
    readonly value: string;
    readonly id?: string;
    readonly displayName?: string;
    readonly description?: string;
    readonly allowedMemberTypes?: readonly ("User" | "Application")[];
    readonly isEnabled?: boolean;
}

/** A delegated scope to expose; default `type` is `Admin` (the portal's "Admins only"). */
export interface PermissionScopeInput {
    readonly value: string;
    readonly id?: string;
    readonly type?: "Admin" | "User";
    readonly adminConsentDisplayName?: string;
    readonly adminConsentDescription?: string;
    readonly userConsentDisplayName?: string;
    readonly userConsentDescription?: string;
    readonly isEnabled?: boolean;
}

export interface OptionalClaimInput {
    readonly name: string;
    readonly source?: string;
    readonly essential?: boolean;
    readonly additionalProperties?: readonly string[];
}

export interface AddUserOptions {
    readonly displayName: string;
    /** Default `{displayName as a slug}@{the tenant's initial domain}`. */
    readonly userPrincipalName?: string;
    readonly mail?: string;
    readonly id?: string;
    readonly tenantId?: string;
}

/** The service principal of an API whose application lives elsewhere (a Microsoft API, another vendor's). */
export interface AddApiServicePrincipalOptions {
    readonly displayName: string;
    readonly appId?: string;
    readonly id?: string;
    readonly tenantId?: string;
    readonly appRoles?: readonly AppRoleInput[];
    readonly oauth2PermissionScopes?: readonly PermissionScopeInput[];
    /** The tenant the API's application lives in; default Microsoft's first-party tenant. */
    readonly appOwnerOrganizationId?: string;
    /** Default: the appId and `api://{appId}`. */
    readonly servicePrincipalNames?: readonly string[];
}

/** A resource API: its service principal (or object id, or appId); Microsoft Graph's is known by either. */
export type ResourceReference = ServicePrincipal | string;

export interface GrantDelegatedOptions {
    /** Default `AllPrincipals` (admin consent); `Principal` needs principalId. */
    readonly consentType?: "AllPrincipals" | "Principal";
    /** The consenting user's object id, for `Principal`. */
    readonly principalId?: string;
}

interface CredentialDates {
    readonly displayName?: string;
    /** Default: the emulator clock's now. */
    readonly startDateTime?: Date | string;
    readonly endDateTime?: Date | string;
    /** Used when endDateTime is absent. */
    readonly lifetimeDays?: number;
    /** This credential only: rejected by the token endpoint for a while after it is added. */
    readonly replication?: ReplicationDelay;
    readonly keyId?: string;
}

export interface AddPasswordOptions extends CredentialDates {
    /** Default: a fresh Entra-shaped secret. */
    readonly secretText?: string;
}

export interface AddCertificateOptions extends CredentialDates {
    /** Subject common name of a generated certificate. */
    readonly subject?: string;
    /**
     * The certificate's key pair. Default: one shared by every certificate this process generates, since
     * RSA key generation costs 150-400 ms; pass generateRsaKeyPair() when a test needs a key of its own.
     */
    readonly keyPair?: RsaKeyPair;
}

export interface RegisterCertificateOptions extends CredentialDates {}

/**
 * One service principal sign-in, as Entra logs it (`GET /beta/auditLogs/signIns` with
 * `signInEventTypes/any(t: t eq 'servicePrincipal')`) and as the credential report sums it up
 * (`GET /beta/reports/appCredentialSignInActivities`).
 */
export interface SignInRecord {
    readonly id: string;
    readonly tenantId: string;
    readonly appId: string;
    readonly appDisplayName: string;
    readonly servicePrincipalId: string;
    /** On the emulator clock, like every Graph date. */
    readonly createdDateTime: Date;
    /** The key id of the credential presented, lower case. */
    readonly keyId: string;
    /** false: the log leaves `servicePrincipalCredentialKeyId` empty and names the certificate by thumbprint only. */
    readonly keyIdLogged: boolean;
    /** A certificate's SHA-1 thumbprint, upper-case hex (`servicePrincipalCredentialThumbprint`). */
    readonly thumbprint: string | null;
    readonly credentialType: "clientSecret" | "certificate";
    readonly resourceId: string;
    readonly resourceDisplayName: string;
    /** 0 for a successful sign-in, else the AADSTS number. */
    readonly errorCode: number;
    readonly ipAddress: string;
}

export interface RecordSignInOptions {
    /** This many sign-ins: at `at`, then every `everyMs` before it (default 1). */
    readonly count?: number;
    /** Default one minute. */
    readonly everyMs?: number;
    /** false: log a certificate sign-in by thumbprint only, without the key id. Default true. */
    readonly logKeyId?: boolean;
    readonly errorCode?: number;
    readonly ipAddress?: string;
    /** The resource signed in to; default Microsoft Graph. */
    readonly resource?: { readonly id: string; readonly displayName: string };
}

export interface AddedPassword {
    readonly credential: PasswordCredential;
    readonly secretText: string;
}

export interface AddedCertificate extends ClientCertificate {
    readonly credential: KeyCredential;
}

export interface AddFederatedCredentialOptions {
    readonly name: string;
    readonly issuer: string;
    readonly subject: string;
    readonly audiences?: readonly string[];
    readonly description?: string;
}

export interface AddVaultOptions {
    readonly tenantId?: string;
    /** Default `rg-identity`. */
    readonly resourceGroup?: string;
    /** Default `westeurope`. */
    readonly location?: string;
    readonly roleAssignments?: readonly KeyVaultRoleAssignment[];
    readonly softDeleteRetentionDays?: number;
}

export interface SetSecretOptions {
    readonly contentType?: string;
    readonly tags?: Record<string, string>;
    readonly enabled?: boolean;
    readonly notBefore?: Date | string;
    readonly expiresOn?: Date | string;
}

export interface GenerateApplicationsOptions {
    /** displayName `{prefix}-{n}` with n zero-padded. Default `app`. */
    readonly prefix?: string;
    readonly tenantId?: string;
    /** Client secrets per app (default 1). */
    readonly secrets?: number;
    /** Certificates per app (default 0); they share one key pair, which keeps thousands fast. */
    readonly certificates?: number;
    readonly federatedCredentials?: number;
    readonly graphPermissions?: readonly string[];
    /** Credential lifetime (default 210). */
    readonly lifetimeDays?: number;
    /** Spread credential start dates back over this many days so expiries vary (default 0). */
    readonly staggerDays?: number;
    /**
     * Apps as the portal leaves them, with everything `rotor import` reads (portalTenant.ts): redirect URIs,
     * Graph permissions requested and consented for some, owners, federated credentials, certificates, and
     * `secrets` client secrets of mixed ages and names (then staggerDays, lifetimeDays and `certificates` do
     * not apply). `true` for the defaults.
     */
    readonly portal?: true | PortalShape;
}

export interface GeneratedApplication {
    readonly application: Application;
    readonly secrets: readonly string[];
    readonly certificates: readonly ClientCertificate[];
}

export interface GenerateSecretsOptions {
    /** Names `{prefix}-{n}` with n zero-padded. Default `secret`. */
    readonly prefix?: string;
    /** Versions per secret (default 1). */
    readonly versions?: number;
    readonly value?: (index: number, version: number) => string;
    readonly tags?: (index: number) => Record<string, string>;
    readonly expiresOn?: (index: number) => Date | undefined;
    readonly contentType?: string;
}

const defaultPolicyId = "00000000-0000-0000-0000-000000000000";

/** A resource API as requests and consent see it (see EmulatorState.resource). */
export interface ResolvedResource {
    /** Its service principal's object id (`resourceId` of assignments and grants). */
    readonly id: string;
    readonly appId: string;
    readonly displayName: string;
    readonly appRoles: readonly { readonly id: string; readonly value: string | null; readonly allowedMemberTypes: readonly string[] }[];
    readonly oauth2PermissionScopes: readonly { readonly id: string; readonly value: string }[];
}

function appRole(input: AppRoleInput): AppRoleDefinition {
    return {
        allowedMemberTypes: [...(input.allowedMemberTypes ?? ["Application"])],
        description: input.description ?? input.value,
        displayName: input.displayName ?? input.value,
        id: (input.id ?? guid()).toLowerCase(),
        isEnabled: input.isEnabled ?? true,
        origin: "Application",
        value: input.value,
    };
}

function permissionScope(input: PermissionScopeInput): PermissionScopeDefinition {
    return {
        adminConsentDescription: input.adminConsentDescription ?? input.value,
        adminConsentDisplayName: input.adminConsentDisplayName ?? input.value,
        id: (input.id ?? guid()).toLowerCase(),
        isEnabled: input.isEnabled ?? true,
        type: input.type ?? "Admin",
        userConsentDescription: input.userConsentDescription ?? null,
        userConsentDisplayName: input.userConsentDisplayName ?? null,
        value: input.value,
    };
}

function optionalClaim(input: OptionalClaimInput): OptionalClaim {
    return { name: input.name, source: input.source ?? null, essential: input.essential ?? false, additionalProperties: [...(input.additionalProperties ?? [])] };
}

/** A role or scope of `api` by value or id; app roles that applications may hold first (Graph has user roles of the same value). */
function findDefinition<T extends { readonly id: string; readonly value: string | null; readonly allowedMemberTypes?: readonly string[] }>(api: ResolvedResource, list: readonly T[], key: string, kind: string): T {
    const matches = list.filter((d) => d.id === key.toLowerCase() || d.value === key);
    const found = matches.find((d) => !d.allowedMemberTypes || d.allowedMemberTypes.includes("Application")) ?? matches[0];
    if (!found) throw new Error(`${api.displayName} has no ${kind} "${key}"`);
    return found;
}

function toDate(value: Date | string): Date {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new Error(`not a date: ${String(value)}`);
    return date;
}

/**
 * A `trustedCertificateAuthority` key credential restriction (Graph beta): only certificates chaining to the
 * CAs of these certificateBasedApplicationConfigurations may be added. For `setTrustedCertificateAuthorityPolicy`
 * and for the `restrictions.keyCredentials` of a custom policy.
 */
export function trustedCertificateAuthorityRestriction(options: TrustedCertificateAuthorityOptions): CredentialRestriction {
    if (options.configurationIds.length === 0) throw new Error("a trustedCertificateAuthority restriction names at least one certificateBasedApplicationConfiguration");
    const after = options.restrictForAppsCreatedAfterDateTime;
    return {
        restrictionType: "trustedCertificateAuthority",
        maxLifetime: null,
        restrictForAppsCreatedAfterDateTime: after === undefined ? null : toDate(after).toISOString().replace(/\.000Z$/, "Z"),
        certificateBasedApplicationConfigurationIds: options.configurationIds.map((id) => id.toLowerCase()),
    };
}

export interface TrustedCertificateAuthorityOptions {
    readonly configurationIds: readonly string[];
    /** Apps created before this keep their freedom; default null (every app). */
    readonly restrictForAppsCreatedAfterDateTime?: Date | string;
}

const lifetimeRestrictionTypes = ["passwordLifetime", "asymmetricKeyLifetime"];

function emptyRestrictions(): AppManagementConfiguration {
    return { passwordCredentials: [], keyCredentials: [] };
}

function pad(n: number, count: number): string {
    return String(n).padStart(String(count).length, "0");
}

export class EmulatorState {
    readonly clock: Clock;
    readonly tenants = new Map<string, Tenant>();
    /** By object id, in creation order (Graph lists in this order). */
    readonly applications = new Map<string, Application>();
    readonly servicePrincipals = new Map<string, ServicePrincipal>();
    /** By object id: the users tests add (owners of applications). */
    readonly users = new Map<string, User>();
    /** By lower-case vault name. */
    readonly vaults = new Map<string, Vault>();
    /** The tenant created with the state: the one helpers use unless told otherwise. */
    readonly tenantId: string;
    /** The Azure subscription of every vault; owned by the state's first tenant. */
    readonly subscriptionId: string;
    /** Built-in and custom roles, by lower-case name. */
    readonly roleDefinitions = new Map<string, RoleDefinition>();
    /** Assignments at the subscription or a resource group (vault-level ones live on each vault). */
    readonly roleAssignments: ScopedRoleAssignment[] = [];
    /** Service principal sign-ins, in the order recorded (the token endpoint records each one it grants). */
    readonly signIns: SignInRecord[] = [];

    private readonly applicationsByAppId = new Map<string, Application>();
    private readonly servicePrincipalsByAppId = new Map<string, ServicePrincipal>();
    private readonly tenantsByDomain = new Map<string, Tenant>();
    private readonly certificateFactsCache = new Map<string, CertificateFacts>();
    private sequence = 0;

    constructor(options: StateOptions = {}) {
        this.clock = options.clock ?? createClock(options.now);
        this.tenantId = this.addTenant({
            ...(options.tenantId ? { id: options.tenantId } : {}),
            ...(options.tenantDomain ? { domain: options.tenantDomain } : {}),
            displayName: options.tenantDisplayName ?? "Contoso (emulated)",
        }).id;
        this.subscriptionId = (options.subscriptionId ?? guid()).toLowerCase();
        for (const role of builtInRoleDefinitions) this.roleDefinitions.set(role.roleName.toLowerCase(), role);
    }

    /** Credentials created after this number are subject to a replication fault switched on now. */
    get lastSequence(): number {
        return this.sequence;
    }

    addTenant(options: AddTenantOptions = {}): Tenant {
        const id = (options.id ?? guid()).toLowerCase();
        if (this.tenants.has(id)) throw new Error(`tenant ${id} exists`);
        const domain = (options.domain ?? `tenant-${id.slice(0, 8)}.onmicrosoft.com`).toLowerCase();
        const tenant: Tenant = {
            id,
            displayName: options.displayName ?? domain,
            licence: "P2",
            appCredentialSignInReport: true,
            domains: [domain],
            createdDateTime: this.clock.now(),
            defaultAppManagementPolicy: {
                id: defaultPolicyId,
                displayName: "Default app management tenant policy",
                description: "Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.",
                isEnabled: false,
                applicationRestrictions: emptyRestrictions(),
                servicePrincipalRestrictions: emptyRestrictions(),
            },
            appManagementPolicies: [],
        };
        this.tenants.set(id, tenant);
        this.tenantsByDomain.set(domain, tenant);
        return tenant;
    }

    /** By id or by any of its domains, case-insensitively, as the token endpoint resolves `/{tenant}/`. */
    tenant(idOrDomain: string): Tenant | undefined {
        const key = idOrDomain.toLowerCase();
        return this.tenants.get(key) ?? this.tenantsByDomain.get(key) ?? [...this.tenants.values()].find((t) => t.domains.includes(key));
    }

    private requireTenant(tenantId: string | undefined): Tenant {
        const tenant = this.tenant(tenantId ?? this.tenantId);
        if (!tenant) throw new Error(`no tenant ${tenantId}`);
        return tenant;
    }

    /**
     * The default (tenant-wide) app management policy, enabled, restricting secret and certificate
     * lifetimes as a tenant admin would. Pass undefined to leave a kind unrestricted.
     */
    setCredentialLifetimePolicy(limits: { readonly passwordLifetime?: string; readonly asymmetricKeyLifetime?: string }, tenantId?: string): TenantAppManagementPolicy {
        const policy = this.requireTenant(tenantId).defaultAppManagementPolicy;
        policy.isEnabled = true;
        // Restrictions of other kinds (a trusted certificate authority) stay as they are.
        const others = (list: readonly CredentialRestriction[]) => list.filter((r) => !lifetimeRestrictionTypes.includes(r.restrictionType));
        const current = policy.applicationRestrictions;
        policy.applicationRestrictions = {
            passwordCredentials: [
                ...(limits.passwordLifetime ? [{ restrictionType: "passwordLifetime", maxLifetime: limits.passwordLifetime, restrictForAppsCreatedAfterDateTime: null }] : []),
                ...others(current.passwordCredentials),
            ],
            keyCredentials: [
                ...(limits.asymmetricKeyLifetime ? [{ restrictionType: "asymmetricKeyLifetime", maxLifetime: limits.asymmetricKeyLifetime, restrictForAppsCreatedAfterDateTime: null }] : []),
                ...others(current.keyCredentials),
            ],
        };
        return policy;
    }

    /**
     * The tenant default policy, enabled, allowing new application certificates only from the CAs of the given
     * certificateBasedApplicationConfigurations (Graph beta's `trustedCertificateAuthority`); replaces an earlier
     * such restriction and keeps the others.
     */
    setTrustedCertificateAuthorityPolicy(options: TrustedCertificateAuthorityOptions, tenantId?: string): TenantAppManagementPolicy {
        const policy = this.requireTenant(tenantId).defaultAppManagementPolicy;
        policy.isEnabled = true;
        const restriction = trustedCertificateAuthorityRestriction(options);
        const keyCredentials = policy.applicationRestrictions.keyCredentials.filter((r) => r.restrictionType !== restriction.restrictionType);
        policy.applicationRestrictions = { ...policy.applicationRestrictions, keyCredentials: [...keyCredentials, restriction] };
        return policy;
    }

    /** The tenant's Entra ID licence: `free` makes Graph refuse sign-in logs and usage reports (403). */
    setLicence(licence: EntraLicence, tenantId?: string): Tenant {
        const tenant = this.requireTenant(tenantId);
        tenant.licence = licence;
        return tenant;
    }

    /**
     * Records sign-ins with one of an application's credentials (by key id; a key id the application no
     * longer has is logged too, as Entra keeps the log of deleted credentials). The token endpoint calls this
     * for every token it grants; tests call it to give a credential a history.
     */
    recordSignIn(app: Application | string, keyId: string, at: Date | string, options: RecordSignInOptions = {}): SignInRecord[] {
        const target = this.requireApplication(app);
        const principal = this.servicePrincipalsByAppId.get(target.appId);
        const key = target.keyCredentials.find((k) => k.keyId.toLowerCase() === keyId.toLowerCase());
        const credentialType = key ? "certificate" : "clientSecret";
        const thumbprint = key ? key.certificate.thumbprintSha1.toUpperCase() : null;
        const graph = microsoftGraphServicePrincipal();
        const resource = options.resource ?? { id: graph.id, displayName: graph.displayName };
        const last = toDate(at).getTime();
        const every = options.everyMs ?? 60_000;
        const records: SignInRecord[] = [];
        for (let i = 0; i < (options.count ?? 1); i++) {
            records.push({
                id: guid(),
                tenantId: target.tenantId,
                appId: target.appId,
                appDisplayName: target.displayName,
                servicePrincipalId: principal?.id ?? "",
                createdDateTime: new Date(last - i * every),
                keyId: keyId.toLowerCase(),
                keyIdLogged: !(key && options.logKeyId === false),
                thumbprint,
                credentialType,
                resourceId: resource.id,
                resourceDisplayName: resource.displayName,
                errorCode: options.errorCode ?? 0,
                ipAddress: options.ipAddress ?? "203.0.113.10",
            });
        }
        this.signIns.push(...records);
        return records;
    }

    /** A custom appManagementPolicy, optionally applied to apps. */
    addAppManagementPolicy(
        options: { readonly displayName: string; readonly restrictions: AppManagementConfiguration; readonly isEnabled?: boolean; readonly description?: string; readonly appliesTo?: readonly Application[] },
        tenantId?: string,
    ): AppManagementPolicy {
        const policy: AppManagementPolicy = {
            id: guid(),
            displayName: options.displayName,
            description: options.description ?? "",
            isEnabled: options.isEnabled ?? true,
            restrictions: options.restrictions,
        };
        this.requireTenant(tenantId).appManagementPolicies.push(policy);
        for (const app of options.appliesTo ?? []) app.appManagementPolicyIds.push(policy.id);
        return policy;
    }

    addApplication(options: AddApplicationOptions = {}): Application {
        const tenant = this.requireTenant(options.tenantId);
        const appId = (options.appId ?? guid()).toLowerCase();
        if (this.applicationsByAppId.has(appId)) throw new Error(`an application with appId ${appId} exists`);
        const displayName = options.displayName ?? `app-${appId.slice(0, 8)}`;
        // Defaults are a registration as the portal makes it: single tenant, no platform, nothing exposed.
        const app: Application = {
            id: (options.id ?? guid()).toLowerCase(),
            appId,
            tenantId: tenant.id,
            displayName,
            description: options.description ?? null,
            notes: options.notes ?? null,
            createdDateTime: options.createdDateTime ? toDate(options.createdDateTime) : this.clock.now(),
            signInAudience: options.signInAudience ?? "AzureADMyOrg",
            identifierUris: [...(options.identifierUris ?? [])],
            tags: [...(options.tags ?? [])],
            passwordCredentials: [],
            keyCredentials: [],
            federatedIdentityCredentials: [],
            owners: [...(options.owners ?? [])].map((o) => o.toLowerCase()),
            appManagementPolicyIds: [],
            web: {
                redirectUris: [...(options.web?.redirectUris ?? [])],
                homePageUrl: options.web?.homePageUrl ?? null,
                logoutUrl: options.web?.logoutUrl ?? null,
                implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
            },
            spa: { redirectUris: [...(options.spa?.redirectUris ?? [])] },
            publicClient: { redirectUris: [...(options.publicClient?.redirectUris ?? [])] },
            requiredResourceAccess: (options.requiredResourceAccess ?? []).map((r) => ({ resourceAppId: r.resourceAppId.toLowerCase(), resourceAccess: r.resourceAccess.map((a) => ({ ...a })) })),
            api: {
                requestedAccessTokenVersion: options.api?.requestedAccessTokenVersion ?? null,
                oauth2PermissionScopes: (options.api?.oauth2PermissionScopes ?? []).map(permissionScope),
                acceptMappedClaims: null,
                knownClientApplications: [],
            },
            appRoles: (options.appRoles ?? []).map(appRole),
            optionalClaims: options.optionalClaims
                ? { idToken: (options.optionalClaims.idToken ?? []).map(optionalClaim), accessToken: (options.optionalClaims.accessToken ?? []).map(optionalClaim), saml2Token: (options.optionalClaims.saml2Token ?? []).map(optionalClaim) }
                : null,
            groupMembershipClaims: options.groupMembershipClaims ?? null,
        };
        this.applications.set(app.id, app);
        this.applicationsByAppId.set(appId, app);
        const principal: ServicePrincipal = {
            id: guid(),
            appId,
            tenantId: tenant.id,
            displayName,
            accountEnabled: options.accountEnabled ?? true,
            appRoleAssignments: [],
            oauth2PermissionGrants: [],
            owners: [...(options.servicePrincipalOwners ?? app.owners)].map((o) => o.toLowerCase()),
        };
        this.servicePrincipals.set(principal.id, principal);
        this.servicePrincipalsByAppId.set(appId, principal);
        if (options.graphPermissions?.length) this.grantGraphPermissions(app, options.graphPermissions);
        if (options.delegatedGraphPermissions?.length) this.grantDelegatedGraphPermissions(app, options.delegatedGraphPermissions);
        return app;
    }

    /** A user of the tenant (to own applications); Graph shows it among owners as a `#microsoft.graph.user`. */
    addUser(options: AddUserOptions): User {
        const tenant = this.requireTenant(options.tenantId);
        const id = (options.id ?? guid()).toLowerCase();
        if (this.users.has(id)) throw new Error(`user ${id} exists`);
        const slug = options.displayName.toLowerCase().replace(/[^a-z0-9]+/g, ".").replace(/^\.+|\.+$/g, "") || "user";
        const user: User = { id, tenantId: tenant.id, displayName: options.displayName, userPrincipalName: options.userPrincipalName ?? `${slug}@${tenant.domains[0]}`, mail: options.mail ?? null };
        this.users.set(id, user);
        return user;
    }

    /**
     * The service principal of an API whose application is not in this tenant (a Microsoft API such as
     * Office 365 Exchange Online, or a vendor's multi-tenant API), with the app roles and delegated scopes it
     * exposes: what `requiredResourceAccess` ids resolve through. An API registered in the tenant is an
     * application instead (addApplication with `appRoles` and `api.oauth2PermissionScopes`).
     */
    addApiServicePrincipal(options: AddApiServicePrincipalOptions): ServicePrincipal {
        const tenant = this.requireTenant(options.tenantId);
        const appId = (options.appId ?? guid()).toLowerCase();
        if (appId === microsoftGraphAppId) throw new Error("Microsoft Graph's service principal is built in (test/fixtures/graph-service-principal.json)");
        if (this.servicePrincipalsByAppId.has(appId)) throw new Error(`a service principal with appId ${appId} exists`);
        const principal: ServicePrincipal = {
            id: (options.id ?? guid()).toLowerCase(),
            appId,
            tenantId: tenant.id,
            displayName: options.displayName,
            accountEnabled: true,
            appRoleAssignments: [],
            oauth2PermissionGrants: [],
            owners: [],
            api: {
                appRoles: (options.appRoles ?? []).map(appRole),
                oauth2PermissionScopes: (options.oauth2PermissionScopes ?? []).map(permissionScope),
                // Microsoft's own first-party applications live in this tenant.
                appOwnerOrganizationId: (options.appOwnerOrganizationId ?? "f8cdef31-a31e-4b4a-93e4-5f571e91255a").toLowerCase(),
                servicePrincipalNames: [...(options.servicePrincipalNames ?? [appId, `api://${appId}`])],
                createdDateTime: this.clock.now(),
            },
        };
        this.servicePrincipals.set(principal.id, principal);
        this.servicePrincipalsByAppId.set(appId, principal);
        return principal;
    }

    /**
     * A resource API as consent and requests see it: its service principal's ids, app roles and delegated
     * scopes. Microsoft Graph's comes from the fixture; others from the state (an application's or an API's).
     */
    resource(reference: ResourceReference): ResolvedResource {
        const graph = microsoftGraphServicePrincipal();
        const key = typeof reference === "string" ? reference.toLowerCase() : reference.id;
        if (key === graph.id || key === graph.appId) {
            return {
                id: graph.id,
                appId: graph.appId,
                displayName: graph.displayName,
                appRoles: graph.appRoles,
                oauth2PermissionScopes: (graph["oauth2PermissionScopes"] ?? []) as readonly PermissionScopeDefinition[],
            };
        }
        const principal = this.servicePrincipals.get(key) ?? this.servicePrincipalsByAppId.get(key);
        if (!principal) throw new Error(`no service principal ${String(typeof reference === "string" ? reference : reference.id)} (add an API's with addApiServicePrincipal)`);
        const app = principal.api ? undefined : this.applicationsByAppId.get(principal.appId);
        return {
            id: principal.id,
            appId: principal.appId,
            displayName: principal.displayName,
            appRoles: principal.api?.appRoles ?? app?.appRoles ?? [],
            oauth2PermissionScopes: principal.api?.oauth2PermissionScopes ?? app?.api.oauth2PermissionScopes ?? [],
        };
    }

    /**
     * Adds permissions to what an application requests (`requiredResourceAccess`), by value or id: app roles
     * as `Role`, delegated scopes as `Scope`. Nothing is consented (grantAppRole, grantDelegated).
     */
    requestPermissions(app: Application | string, resource: ResourceReference, permissions: { readonly roles?: readonly string[]; readonly scopes?: readonly string[] }): RequiredResourceAccess {
        const target = this.requireApplication(app);
        const api = this.resource(resource);
        const wanted: ResourceAccess[] = [
            ...(permissions.roles ?? []).map((r) => ({ id: findDefinition(api, api.appRoles, r, "app role").id, type: "Role" as const })),
            ...(permissions.scopes ?? []).map((s) => ({ id: findDefinition(api, api.oauth2PermissionScopes, s, "delegated scope").id, type: "Scope" as const })),
        ];
        let entry = target.requiredResourceAccess.find((r) => r.resourceAppId === api.appId);
        if (!entry) {
            entry = { resourceAppId: api.appId, resourceAccess: [] };
            target.requiredResourceAccess.push(entry);
        }
        for (const access of wanted) if (!entry.resourceAccess.some((a) => a.id === access.id && a.type === access.type)) entry.resourceAccess.push(access);
        return entry;
    }

    /**
     * Admin consent for one application permission: an app role assignment from the resource API to the
     * app's service principal (by the role's value or id). Like Entra, refuses an unknown role and a second
     * identical assignment. Does not change what the app requests.
     */
    grantAppRole(app: Application | string, resource: ResourceReference, role: string, options: { readonly createdDateTime?: Date | string } = {}): AppRoleAssignment {
        const principal = this.servicePrincipalOf(this.requireApplication(app));
        if (!principal) throw new Error(`application ${String(app)} has no service principal`);
        const api = this.resource(resource);
        const definition = findDefinition(api, api.appRoles, role, "app role");
        if (principal.appRoleAssignments.some((a) => a.resourceId === api.id && a.appRoleId === definition.id)) {
            throw new Error(`${principal.displayName} already holds ${definition.value ?? definition.id} on ${api.displayName} (Entra refuses a second identical assignment)`);
        }
        const assignment: AppRoleAssignment = {
            id: appRoleAssignmentId(principal.id),
            appRoleId: definition.id,
            appRoleValue: definition.value ?? definition.id,
            resourceAppId: api.appId,
            resourceId: api.id,
            resourceDisplayName: api.displayName,
            createdDateTime: options.createdDateTime ? toDate(options.createdDateTime) : this.clock.now(),
        };
        principal.appRoleAssignments.push(assignment);
        return assignment;
    }

    /**
     * Consent to delegated permissions: an oAuth2PermissionGrant from the app's service principal to the
     * resource API, for all users (`AllPrincipals`, admin consent) or one (`Principal`). `scopes` as a list is
     * joined with single spaces; a string is kept as written (Graph keeps whatever spacing the grant was made
     * with). Scope values are not checked, as Entra does not check them. One grant per client, resource and
     * user, as Graph's ids imply.
     */
    grantDelegated(app: Application | string, resource: ResourceReference, scopes: string | readonly string[], options: GrantDelegatedOptions = {}): OAuth2PermissionGrant {
        const principal = this.servicePrincipalOf(this.requireApplication(app));
        if (!principal) throw new Error(`application ${String(app)} has no service principal`);
        const api = this.resource(resource);
        const consentType = options.consentType ?? "AllPrincipals";
        if (consentType === "Principal" && !options.principalId) throw new Error("a Principal grant names the consenting user (principalId)");
        const principalId = consentType === "Principal" ? (options.principalId ?? "").toLowerCase() : null;
        const id = permissionGrantId(principal.id, api.id, principalId);
        if (principal.oauth2PermissionGrants.some((g) => g.id === id)) throw new Error(`${principal.displayName} already has a delegated grant on ${api.displayName}; change its scope instead`);
        const grant: OAuth2PermissionGrant = { id, clientId: principal.id, consentType, principalId, resourceId: api.id, scope: typeof scopes === "string" ? scopes : scopes.join(" ") };
        principal.oauth2PermissionGrants.push(grant);
        return grant;
    }

    /** Microsoft Graph delegated permissions requested and consented for all users, as the portal's "Grant admin consent" leaves them. */
    grantDelegatedGraphPermissions(app: Application | string, scopes: readonly string[]): OAuth2PermissionGrant {
        const target = this.requireApplication(app);
        this.requestPermissions(target, microsoftGraphAppId, { scopes });
        const principal = this.servicePrincipalOf(target);
        const existing = principal?.oauth2PermissionGrants.find((g) => g.resourceId === microsoftGraphServicePrincipal().id && g.consentType === "AllPrincipals");
        if (!existing) return this.grantDelegated(target, microsoftGraphAppId, scopes);
        const have = existing.scope.split(" ").filter(Boolean);
        existing.scope = [...have, ...scopes.filter((s) => !have.includes(s))].join(" ");
        return existing;
    }

    /** Every delegated grant in a tenant, in the order made (what `GET /oauth2PermissionGrants` lists). */
    oauth2PermissionGrants(tenantId?: string): OAuth2PermissionGrant[] {
        const tenant = this.requireTenant(tenantId).id;
        const grants: OAuth2PermissionGrant[] = [];
        for (const principal of this.servicePrincipals.values()) if (principal.tenantId === tenant) grants.push(...principal.oauth2PermissionGrants);
        return grants;
    }

    /** By object id or appId. */
    application(idOrAppId: string): Application | undefined {
        const key = idOrAppId.toLowerCase();
        return this.applications.get(key) ?? this.applicationsByAppId.get(key);
    }

    private requireApplication(app: Application | string): Application {
        const found = typeof app === "string" ? this.application(app) : app;
        if (!found) throw new Error(`no application ${String(app)}`);
        return found;
    }

    removeApplication(app: Application | string): void {
        const found = this.requireApplication(app);
        this.applications.delete(found.id);
        this.applicationsByAppId.delete(found.appId);
        const principal = this.servicePrincipalsByAppId.get(found.appId);
        if (principal) this.servicePrincipals.delete(principal.id);
        this.servicePrincipalsByAppId.delete(found.appId);
    }

    servicePrincipalOf(app: Application | string): ServicePrincipal | undefined {
        const appId = typeof app === "string" ? (this.application(app)?.appId ?? app) : app.appId;
        return this.servicePrincipalsByAppId.get(appId.toLowerCase());
    }

    servicePrincipal(id: string): ServicePrincipal | undefined {
        return this.servicePrincipals.get(id.toLowerCase());
    }

    /**
     * Microsoft Graph application permissions requested and admin-consented (app role assignments on Graph's
     * principal). grantAppRole consents without requesting, requestPermissions requests without consent.
     */
    grantGraphPermissions(app: Application | string, permissions: readonly string[]): void {
        const principal = this.servicePrincipalOf(this.requireApplication(app));
        if (!principal) throw new Error(`application ${String(app)} has no service principal`);
        const graph = microsoftGraphServicePrincipal();
        for (const value of permissions) {
            if (principal.appRoleAssignments.some((a) => a.resourceAppId === microsoftGraphAppId && a.appRoleValue === value)) continue;
            const role = graphApplicationPermission(value);
            principal.appRoleAssignments.push({
                id: appRoleAssignmentId(principal.id),
                appRoleId: role.id,
                appRoleValue: value,
                resourceAppId: microsoftGraphAppId,
                resourceId: graph.id,
                resourceDisplayName: graph.displayName,
                createdDateTime: this.clock.now(),
            });
        }
        // Requested too, as the portal's "Add a permission" then "Grant admin consent" leave it.
        this.requestPermissions(app, microsoftGraphAppId, { roles: permissions });
    }

    private credentialDates(options: CredentialDates, defaultLifetimeDays: number): { startDateTime: Date; endDateTime: Date } {
        const startDateTime = options.startDateTime ? toDate(options.startDateTime) : this.clock.now();
        const endDateTime = options.endDateTime
            ? toDate(options.endDateTime)
            : new Date(startDateTime.getTime() + (options.lifetimeDays ?? defaultLifetimeDays) * dayMs);
        if (endDateTime <= startDateTime) throw new Error("a credential must end after it starts");
        return { startDateTime, endDateTime };
    }

    private bookkeeping(replication: ReplicationDelay | undefined): CredentialBookkeeping {
        return { addedAtMs: Date.now(), sequence: ++this.sequence, attemptsSeen: 0, ...(replication ? { replication } : {}) };
    }

    /** A client secret, as Graph's addPassword makes it (default lifetime two years). */
    addPassword(app: Application | string, options: AddPasswordOptions = {}): AddedPassword {
        const target = this.requireApplication(app);
        const secretText = options.secretText ?? clientSecretText();
        const credential: PasswordCredential = {
            keyId: options.keyId ?? guid(),
            displayName: options.displayName ?? null,
            ...this.credentialDates(options, 730),
            hint: secretText.slice(0, 3),
            secretText,
            customKeyIdentifier: null,
            ...this.bookkeeping(options.replication),
        };
        target.passwordCredentials.push(credential);
        return { credential, secretText };
    }

    /** A new self-signed certificate whose validity is the credential's (default one year). */
    addCertificate(app: Application | string, options: AddCertificateOptions = {}): AddedCertificate {
        const dates = this.credentialDates(options, 365);
        const generated = createClientCertificate({
            subject: options.subject ?? `${this.requireApplication(app).displayName}`,
            notBefore: dates.startDateTime,
            notAfter: dates.endDateTime,
            keyPair: options.keyPair ?? sharedKeyPair("certificates"),
        });
        const credential = this.registerCertificate(app, generated.certificatePem, { ...options, ...dates });
        return { ...generated, credential };
    }

    /**
     * An existing certificate (PEM, public part only). Dates default to the certificate's validity; as in
     * Entra, the credential may not outlive the certificate.
     */
    registerCertificate(app: Application | string, certificatePem: string, options: RegisterCertificateOptions = {}): KeyCredential {
        const target = this.requireApplication(app);
        // Parsed once per certificate: generated tenants register one certificate on many apps.
        let facts = this.certificateFactsCache.get(certificatePem);
        if (!facts) {
            facts = certificateFacts(certificatePem);
            this.certificateFactsCache.set(certificatePem, facts);
        }
        const startDateTime = options.startDateTime ? toDate(options.startDateTime) : facts.notBefore;
        const endDateTime = options.endDateTime ? toDate(options.endDateTime) : facts.notAfter;
        if (endDateTime.getTime() > facts.notAfter.getTime() + 1000) {
            throw new Error(`keyCredential endDateTime ${endDateTime.toISOString()} is after the certificate's notAfter ${facts.notAfter.toISOString()}`);
        }
        const credential: KeyCredential = {
            keyId: options.keyId ?? guid(),
            displayName: options.displayName ?? facts.subject,
            startDateTime,
            endDateTime,
            type: "AsymmetricX509Cert",
            usage: "Verify",
            certificatePem,
            certificate: facts,
            customKeyIdentifier: Buffer.from(facts.thumbprintSha1, "hex").toString("base64"),
            ...this.bookkeeping(options.replication),
        };
        target.keyCredentials.push(credential);
        return credential;
    }

    addFederatedCredential(app: Application | string, options: AddFederatedCredentialOptions): FederatedIdentityCredential {
        const target = this.requireApplication(app);
        // Entra's limit: 20 federated identity credentials per application (workload-identity-federation-considerations).
        if (target.federatedIdentityCredentials.length >= 20) throw new Error(`application ${target.displayName} already has 20 federated identity credentials, Entra's limit`);
        const credential: FederatedIdentityCredential = {
            id: guid(),
            name: options.name,
            issuer: options.issuer,
            subject: options.subject,
            description: options.description ?? null,
            audiences: [...(options.audiences ?? ["api://AzureADTokenExchange"])],
        };
        target.federatedIdentityCredentials.push(credential);
        return credential;
    }

    /** Removes a password or key credential by keyId; false when the app has none with that id. */
    /** The object id of an application's service principal: what its tokens carry as `oid`, and what owns other apps. */
    servicePrincipalIdOf(app: Application | string): string {
        const target = this.requireApplication(app);
        const principal = this.servicePrincipalsByAppId.get(target.appId);
        if (!principal) throw new Error(`application ${target.displayName} has no service principal`);
        return principal.id;
    }

    removeCredential(app: Application | string, keyId: string): boolean {
        const target = this.requireApplication(app);
        const before = target.passwordCredentials.length + target.keyCredentials.length;
        target.passwordCredentials = target.passwordCredentials.filter((c) => c.keyId !== keyId);
        target.keyCredentials = target.keyCredentials.filter((c) => c.keyId !== keyId);
        return target.passwordCredentials.length + target.keyCredentials.length < before;
    }

    /** Adds a vault to the state. A running emulator serves it only after `emulator.addVault` (it needs a listener). */
    addVault(name: string, options: AddVaultOptions = {}): Vault {
        const key = name.toLowerCase();
        if (this.vaults.has(key)) throw new Error(`vault ${name} exists`);
        const vault: Vault = {
            name,
            tenantId: this.requireTenant(options.tenantId).id,
            resourceGroup: options.resourceGroup ?? "rg-identity",
            location: options.location ?? "westeurope",
            secrets: new Map(),
            deletedSecrets: new Map(),
            ...(options.roleAssignments ? { roleAssignments: [...options.roleAssignments] } : {}),
            softDeleteRetentionDays: options.softDeleteRetentionDays ?? 90,
        };
        for (const assignment of vault.roleAssignments ?? []) this.requireRoleDefinition(assignment.role);
        this.vaults.set(key, vault);
        return vault;
    }

    vault(name: string): Vault | undefined {
        return this.vaults.get(name.toLowerCase());
    }

    /** The vault's ARM id: `/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}`. */
    vaultResourceId(vault: Vault | string): string {
        const target = this.requireVault(vault);
        return `${this.resourceGroupId(target.resourceGroup)}/providers/Microsoft.KeyVault/vaults/${target.name}`;
    }

    /** `/subscriptions/{id}/resourceGroups/{name}`. */
    resourceGroupId(resourceGroup: string): string {
        return `/subscriptions/${this.subscriptionId}/resourceGroups/${resourceGroup}`;
    }

    /** A custom role, assignable by its name like a built-in one. */
    addRoleDefinition(options: AddRoleDefinitionOptions): RoleDefinition {
        const key = options.roleName.toLowerCase();
        if (this.roleDefinitions.has(key)) throw new Error(`a role named "${options.roleName}" exists`);
        const role: RoleDefinition = {
            id: (options.id ?? guid()).toLowerCase(),
            roleName: options.roleName,
            type: "CustomRole",
            actions: [...options.actions],
            notActions: [...(options.notActions ?? [])],
            dataActions: [...(options.dataActions ?? [])],
            notDataActions: [...(options.notDataActions ?? [])],
        };
        this.roleDefinitions.set(key, role);
        return role;
    }

    roleDefinition(roleName: string): RoleDefinition | undefined {
        return this.roleDefinitions.get(roleName.toLowerCase());
    }

    requireRoleDefinition(roleName: string): RoleDefinition {
        const role = this.roleDefinition(roleName);
        if (!role) throw new Error(`no role named "${roleName}": use a built-in role or add it with state.addRoleDefinition`);
        return role;
    }

    /**
     * Assigns a role to a principal (object id, the token's `oid`; see servicePrincipalIdOf) on a vault, a
     * resource group, or the subscription. A vault-level assignment turns on RBAC for that vault's data plane
     * (see Vault.roleAssignments); resource-group and subscription ones count only on vaults that check RBAC.
     */
    assignRole(principalId: string, role: RoleName, scope: RoleAssignmentScope = {}): KeyVaultRoleAssignment | ScopedRoleAssignment {
        this.requireRoleDefinition(role);
        const assignment = { principalId: principalId.toLowerCase(), role };
        if (scope.vault !== undefined) {
            const vault = this.requireVault(scope.vault);
            vault.roleAssignments ??= [];
            vault.roleAssignments.push(assignment);
            return assignment;
        }
        const scoped: ScopedRoleAssignment = { ...assignment, scope: scope.resourceGroup !== undefined ? this.resourceGroupId(scope.resourceGroup) : `/subscriptions/${this.subscriptionId}` };
        this.roleAssignments.push(scoped);
        return scoped;
    }

    private requireVault(vault: Vault | string): Vault {
        const found = typeof vault === "string" ? this.vault(vault) : vault;
        if (!found) throw new Error(`no vault ${String(vault)}`);
        return found;
    }

    /** A new version of a secret (the secret is created on first write), as PUT /secrets/{name} does. */
    setSecret(vault: Vault | string, name: string, value: string, options: SetSecretOptions = {}): SecretVersion {
        const target = this.requireVault(vault);
        const key = name.toLowerCase();
        if (target.deletedSecrets.has(key)) throw new Error(`secret ${name} is deleted but recoverable; purge it first`);
        let secret = target.secrets.get(key);
        if (!secret) {
            secret = { name, versions: [] };
            target.secrets.set(key, secret);
        }
        const now = this.clock.now();
        const version: SecretVersion = {
            version: secretVersion(),
            value,
            enabled: options.enabled ?? true,
            created: now,
            updated: now,
            ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
            ...(options.tags ? { tags: { ...options.tags } } : {}),
            ...(options.notBefore ? { notBefore: toDate(options.notBefore) } : {}),
            ...(options.expiresOn ? { expiresOn: toDate(options.expiresOn) } : {}),
        };
        secret.versions.push(version);
        return version;
    }

    secret(vault: Vault | string, name: string): Secret | undefined {
        return this.requireVault(vault).secrets.get(name.toLowerCase());
    }

    /** Many apps at once, e.g. the 5,000 of the benchmark. */
    generateApplications(count: number, options: GenerateApplicationsOptions = {}): GeneratedApplication[] {
        const prefix = options.prefix ?? "app";
        const secrets = options.secrets ?? 1;
        const certificates = options.certificates ?? 0;
        const lifetimeDays = options.lifetimeDays ?? 210;
        const now = this.clock.now().getTime();
        const generated: GeneratedApplication[] = [];
        const portal = options.portal ? portalShaper(this, count, options.portal === true ? {} : options.portal, options.tenantId) : undefined;
        for (let i = 0; i < count; i++) {
            const application = this.addApplication({
                displayName: `${prefix}-${pad(i, count)}`,
                ...(options.tenantId ? { tenantId: options.tenantId } : {}),
                ...(options.graphPermissions ? { graphPermissions: options.graphPermissions } : {}),
            });
            if (portal) {
                generated.push({ application, ...portal(application, i, secrets) });
                continue;
            }
            const startDateTime = new Date(now - (options.staggerDays ? (i % options.staggerDays) * dayMs : 0));
            const secretTexts: string[] = [];
            for (let s = 0; s < secrets; s++) secretTexts.push(this.addPassword(application, { displayName: `slot-${s}`, startDateTime, lifetimeDays }).secretText);
            const certs: ClientCertificate[] = [];
            for (let c = 0; c < certificates; c++) {
                certs.push(this.addCertificate(application, { displayName: `cert-slot-${c}`, startDateTime, lifetimeDays }));
            }
            for (let f = 0; f < (options.federatedCredentials ?? 0); f++) {
                this.addFederatedCredential(application, {
                    name: `github-${f}`,
                    issuer: "https://token.actions.githubusercontent.com",
                    subject: `repo:contoso/${application.displayName}:environment:env-${f}`,
                });
            }
            generated.push({ application, secrets: secretTexts, certificates: certs });
        }
        return generated;
    }

    /** Many secrets at once in one vault. */
    generateSecrets(vault: Vault | string, count: number, options: GenerateSecretsOptions = {}): Secret[] {
        const target = this.requireVault(vault);
        const prefix = options.prefix ?? "secret";
        const result: Secret[] = [];
        for (let i = 0; i < count; i++) {
            const name = `${prefix}-${pad(i, count)}`;
            for (let v = 0; v < (options.versions ?? 1); v++) {
                const expiresOn = options.expiresOn?.(i);
                this.setSecret(target, name, options.value?.(i, v) ?? `value-${i}-${v}`, {
                    ...(options.tags ? { tags: options.tags(i) } : {}),
                    ...(expiresOn ? { expiresOn } : {}),
                    ...(options.contentType ? { contentType: options.contentType } : {}),
                });
            }
            const secret = target.secrets.get(name.toLowerCase());
            if (secret) result.push(secret);
        }
        return result;
    }
}
