import { reservedTagPrefix } from "../../infra/model/schema";
import type { TenantApp } from "./facts";

/**
 * What an application holds that a stack cannot say. The program registers an adopted application with the
 * inputs its config gives, and azuread's Application and ServicePrincipal remove what they manage but are not
 * given (identifier URIs, exposed scopes, app roles, optional claims, ...): so `pulumi up` would change such an
 * application, or the import would fail ("inputs to import do not match"). `rotor import` leaves it out of the
 * stack and says why, instead of writing a config that silently drops the difference. Each reason names what
 * Entra holds and what to do. Pure.
 */
export function inexpressible(app: TenantApp): string[] {
    const a = app.application;
    const reasons: string[] = [];
    const cannot = (what: string) => reasons.push(`${what}: the stack cannot declare it, so pulumi up would remove it`);
    const audience = a.signInAudience ?? "AzureADMyOrg";
    if (audience !== "AzureADMyOrg" && audience !== "AzureADMultipleOrgs") {
        reasons.push(`sign-in audience ${audience} (personal Microsoft accounts): the stack declares AzureADMyOrg or AzureADMultipleOrgs only, so pulumi up would change who can sign in`);
    }
    if (a.applicationTemplateId) reasons.push(`made from the gallery template ${a.applicationTemplateId}: azuread would replace the application to take the template away`);
    if ((a.identifierUris ?? []).length > 0) cannot(`identifier URIs (${(a.identifierUris ?? []).length}, e.g. ${a.identifierUris![0]})`);
    const api = a.api ?? {};
    if ((api.oauth2PermissionScopes ?? []).length > 0) cannot(`an exposed API with ${(api.oauth2PermissionScopes ?? []).length} delegated scope(s)`);
    if ((api.preAuthorizedApplications ?? []).length > 0) cannot("pre-authorized client applications of its API");
    if ((api.knownClientApplications ?? []).length > 0) cannot("known client applications of its API");
    if (api.acceptMappedClaims) cannot("its API's acceptance of mapped claims");
    if (api.requestedAccessTokenVersion !== undefined && api.requestedAccessTokenVersion !== null && api.requestedAccessTokenVersion !== 1) {
        cannot(`access tokens of version ${api.requestedAccessTokenVersion} for its API`);
    }
    if ((a.appRoles ?? []).length > 0) cannot(`${(a.appRoles ?? []).length} app role(s) it defines`);
    const claims = a.optionalClaims;
    if (claims && [claims.idToken, claims.accessToken, claims.saml2Token].some((list) => (list ?? []).length > 0)) cannot("optional claims");
    // azuread reads even "None" as a set of claims (["None"]), which the stack cannot declare: importing would show a difference.
    if (a.groupMembershipClaims) cannot(`group membership claims (${a.groupMembershipClaims})`);
    const implicit = a.web?.implicitGrantSettings;
    if (implicit?.enableAccessTokenIssuance || implicit?.enableIdTokenIssuance) cannot("implicit grant (tokens issued by the authorization endpoint)");
    if (a.web?.homePageUrl) cannot("a home page URL");
    if (a.web?.logoutUrl) cannot("a front-channel logout URL");
    const info = a.info ?? {};
    if (info.marketingUrl || info.privacyStatementUrl || info.supportUrl || info.termsOfServiceUrl) cannot("marketing, privacy, support or terms of service URLs");
    if (a.isFallbackPublicClient) cannot("public client flows (isFallbackPublicClient)");
    if (a.isDeviceOnlyAuthSupported) cannot("device-only authentication");
    if (a.oauth2RequirePostResponse) cannot("OAuth 2.0 POST responses (oauth2RequirePostResponse)");
    if (a.serviceManagementReference) cannot("a service management reference");
    const apis = new Set<string>();
    for (const access of a.requiredResourceAccess ?? []) {
        const appId = access.resourceAppId.toLowerCase();
        const list = access.resourceAccess ?? [];
        if (apis.has(appId)) reasons.push(`requests permissions on the API ${appId} in two entries: the stack lists each API once, so pulumi up would merge them`);
        else if (list.length === 0) reasons.push(`lists the API ${appId} among its requested permissions without any: the stack lists an API only with what it requests, so pulumi up would remove the entry`);
        apis.add(appId);
        // Each permission once: the stack lists it once, so a second would be removed.
        const seen = new Set<string>();
        for (const { id, type } of list) {
            const key = `${type}/${id.toLowerCase()}`;
            if (seen.has(key)) reasons.push(`requests the ${type === "Role" ? "application" : "delegated"} permission ${id} on the API ${appId} twice: the stack lists it once, so pulumi up would remove the second`);
            seen.add(key);
        }
    }
    const ours = (a.tags ?? []).find((tag) => tag.toLowerCase().startsWith(reservedTagPrefix));
    if (ours) reasons.push(`carries the tag ${ours}: it is already managed by an entra-rotor stack; change it in that stack`);
    if (a.displayName && a.displayName.trim() !== a.displayName) reasons.push("a display name with spaces at its start or end, which the stack trims: pulumi up would rename it");
    if (!a.displayName) reasons.push("no display name");
    for (const credential of app.federated) {
        const audiences = credential.audiences ?? [];
        if (!credential.subject) reasons.push(`the federated credential ${credential.name} matches claims with an expression (a flexible federated credential), which the stack cannot declare`);
        else if (audiences.length !== 1) reasons.push(`the federated credential ${credential.name} has ${audiences.length} audiences; the stack declares exactly one (Entra's rule today)`);
    }

    const sp = app.servicePrincipal;
    if (!sp) {
        reasons.push("no service principal (enterprise application) in the tenant: adopting takes both over; create it (az ad sp create --id CLIENT_ID), then import again");
        return reasons;
    }
    const spCannot = (what: string) => reasons.push(`its service principal has ${what}: the stack cannot declare it, so pulumi up would change it`);
    if (sp.accountEnabled === false) spCannot("sign-in disabled (accountEnabled false)");
    if (sp.appRoleAssignmentRequired) spCannot("assignment required (appRoleAssignmentRequired)");
    if (sp.description) spCannot("a description");
    if (sp.notes) spCannot("notes");
    if (sp.loginUrl) spCannot("a sign-on URL");
    if ((sp.notificationEmailAddresses ?? []).length > 0) spCannot("notification email addresses");
    if (sp.preferredSingleSignOnMode) spCannot(`single sign-on mode ${sp.preferredSingleSignOnMode}`);
    if ((sp.alternativeNames ?? []).length > 0) spCannot("alternative names");
    const owners = new Set(app.owners);
    const foreign = app.servicePrincipalOwners.filter((owner) => !owners.has(owner));
    if (foreign.length > 0) {
        reasons.push(
            `its service principal has owners the application does not have (${foreign.join(", ")}): the stack gives both the same owners, so pulumi up would remove them; make the owners the same, then import again`,
        );
    }
    return reasons;
}
