import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphClient } from "../azure/graph";
import { main } from "../cli/main";
import { projectDir } from "./support/cli";
import { operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import { microsoftGraphAppId } from "./support/emulator/microsoftGraphPrincipal";
import { runProgram } from "./support/program";
import { type MockApi, ProviderMocks, type RegisteredResource, defaultApis, types } from "./support/pulumiMocks";

/**
 * The round trip of `rotor import`: a tenant in the emulator, imported over Graph into a stack file, then that stack
 * run as a Pulumi program under the mock runtime. Pulumi imports a resource by reading it with the provider and
 * comparing what it read with the inputs the program registered: any difference fails the import (or, on newer
 * engines, imports and then changes what was just imported). So every adopted resource's registered inputs must
 * be what the azuread provider reads from Graph, input by input, by the provider's own rules: sets compared as
 * sets, lists in order, an input left out equal to the value azuread reads for it when Entra holds nothing.
 *
 * What Graph holds is read over HTTP, as JSON (what the provider reads), and mapped to azuread's input names here,
 * independently of cli/adopt. Every input of each resource type (as the installed @pulumi/azuread declares them) is
 * either compared or allowed below with why, so an input the component starts to register, or one a provider
 * upgrade adds, cannot slip through uncompared. The only differences accepted are those `rotor import` announces
 * with an ACT finding (consent the first `pulumi up` completes).
 */

const now = new Date("2027-03-01T06:00:00Z");
const day = 86_400_000;
const github = "https://token.actions.githubusercontent.com";
const justification = "Adopted as the portal left it; reviewed in the adoption pull request.";

// --- what Graph holds ------------------------------------------------------------------------------------------

interface GraphApp {
    readonly id: string;
    readonly appId: string;
    readonly displayName: string;
    readonly description: string | null;
    readonly notes: string | null;
    readonly signInAudience: string;
    readonly tags: string[];
    readonly identifierUris: string[];
    readonly groupMembershipClaims: string | null;
    readonly isDeviceOnlyAuthSupported: boolean | null;
    readonly isFallbackPublicClient: boolean | null;
    readonly oauth2RequirePostResponse: boolean | null;
    readonly serviceManagementReference: string | null;
    readonly applicationTemplateId: string | null;
    readonly api: {
        readonly acceptMappedClaims: boolean | null;
        readonly knownClientApplications: string[];
        readonly requestedAccessTokenVersion: number | null;
        readonly oauth2PermissionScopes: Record<string, unknown>[];
    };
    readonly appRoles: Record<string, unknown>[];
    readonly optionalClaims: Record<string, Record<string, unknown>[] | null> | null;
    readonly info: { readonly marketingUrl: string | null; readonly privacyStatementUrl: string | null; readonly supportUrl: string | null; readonly termsOfServiceUrl: string | null };
    readonly web: {
        readonly redirectUris: string[];
        readonly homePageUrl: string | null;
        readonly logoutUrl: string | null;
        readonly implicitGrantSettings: { readonly enableAccessTokenIssuance: boolean | null; readonly enableIdTokenIssuance: boolean | null };
    };
    readonly spa: { readonly redirectUris: string[] };
    readonly publicClient: { readonly redirectUris: string[] };
    readonly requiredResourceAccess: { readonly resourceAppId: string; readonly resourceAccess: { readonly id: string; readonly type: string }[] }[];
    readonly passwordCredentials: { readonly keyId: string }[];
    readonly keyCredentials: { readonly keyId: string }[];
}

interface GraphPrincipal {
    readonly id: string;
    readonly appId: string;
    readonly accountEnabled: boolean;
    readonly alternativeNames: string[];
    readonly appRoleAssignmentRequired: boolean;
    readonly description: string | null;
    readonly loginUrl: string | null;
    readonly notes: string | null;
    readonly notificationEmailAddresses: string[];
    readonly preferredSingleSignOnMode: string | null;
    readonly samlSingleSignOnSettings: { readonly relayState: string | null } | null;
}

interface GraphFederated {
    readonly id: string;
    readonly name: string;
    readonly issuer: string;
    readonly subject: string;
    readonly description: string | null;
    readonly audiences: string[];
}

interface GraphAssignment {
    readonly id: string;
    readonly appRoleId: string;
    readonly principalId: string;
    readonly resourceId: string;
}

interface GraphGrant {
    readonly id: string;
    readonly clientId: string;
    readonly consentType: string;
    readonly principalId: string | null;
    readonly resourceId: string;
    readonly scope: string;
}

/** One adopted application as Graph holds it, with everything azuread reads of its resources. */
interface Held {
    readonly app: GraphApp;
    readonly owners: string[];
    readonly federated: GraphFederated[];
    readonly sp: GraphPrincipal;
    readonly spOwners: string[];
    readonly assignments: GraphAssignment[];
    readonly grants: GraphGrant[];
}

interface Finding {
    readonly level: "act" | "note";
    readonly message: string;
}

interface ImportDocument {
    readonly imported: { name: string; displayName: string; appId: string; objectId: string; servicePrincipal: string; findings: Finding[]; entry: Record<string, unknown> }[];
    readonly leftOut: { displayName: string; appId: string; objectId: string; reasons: string[] }[];
}

// --- azuread's inputs, from what Graph holds -------------------------------------------------------------------------

/** An input compared: the value azuread reads from Graph; `absent` is what an input left out means (its default). */
interface Compared {
    readonly graph: (held: Held) => unknown;
    /** Applied to both sides before comparing: sorts what azuread keeps as a set. */
    readonly shape?: (value: unknown) => unknown;
    readonly absent?: unknown;
}

/** An input deliberately not compared, and why. */
interface Allowed {
    readonly allowed: string;
}

type InputTable = Readonly<Record<string, Compared | Allowed>>;

const sortedStrings = (value: unknown): unknown => (Array.isArray(value) ? value.map(String).sort() : value);
const sortedItems = (value: unknown): unknown => (Array.isArray(value) ? [...value].sort((a, b) => JSON.stringify(canon(a)).localeCompare(JSON.stringify(canon(b)))) : value);
/** A platform block: its redirect URIs are a set. */
const platform = (value: unknown): unknown => (value && typeof value === "object" ? { ...(value as Record<string, unknown>), redirectUris: sortedStrings((value as Record<string, unknown>)["redirectUris"]) } : value);
/** A boolean whose absence azuread reads as true: only `false` says something. */
const enabled = (value: unknown): unknown => (value === false ? "disabled" : undefined);

/**
 * azuread's reading of a value: an input left out, null, false, an empty string, an empty list and a block with
 * nothing in it are the same (Terraform's zero values; the provider suppresses a block that holds nothing).
 */
function canon(value: unknown): unknown {
    if (value === undefined || value === null || value === "" || value === false) return undefined;
    if (Array.isArray(value)) {
        const items = value.map(canon).filter((item) => item !== undefined);
        return items.length > 0 ? items : undefined;
    }
    if (typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(value).sort()) {
            const item = canon((value as Record<string, unknown>)[key]);
            if (item !== undefined) out[key] = item;
        }
        return Object.keys(out).length > 0 ? out : undefined;
    }
    return value;
}

function claims(list: readonly Record<string, unknown>[] | null | undefined): unknown {
    return (list ?? []).map((c) => ({ name: c["name"], source: c["source"], essential: c["essential"], additionalProperties: c["additionalProperties"] }));
}

/** azuread_application (6.x): what each input is in Graph's application resource. */
const applicationInputs: InputTable = {
    displayName: { graph: (h) => h.app.displayName },
    description: { graph: (h) => h.app.description },
    notes: { graph: (h) => h.app.notes },
    signInAudience: { graph: (h) => h.app.signInAudience, absent: "AzureADMyOrg" },
    owners: { graph: (h) => h.owners, shape: sortedStrings },
    tags: { graph: (h) => h.app.tags, shape: sortedStrings },
    web: {
        graph: (h) => ({
            redirectUris: h.app.web.redirectUris,
            homepageUrl: h.app.web.homePageUrl,
            logoutUrl: h.app.web.logoutUrl,
            implicitGrant: { accessTokenIssuanceEnabled: h.app.web.implicitGrantSettings.enableAccessTokenIssuance, idTokenIssuanceEnabled: h.app.web.implicitGrantSettings.enableIdTokenIssuance },
        }),
        shape: platform,
    },
    singlePageApplication: { graph: (h) => ({ redirectUris: h.app.spa.redirectUris }), shape: platform },
    publicClient: { graph: (h) => ({ redirectUris: h.app.publicClient.redirectUris }), shape: platform },
    // A set of blocks, each with a list: the permissions of one API keep their order.
    requiredResourceAccesses: {
        graph: (h) => h.app.requiredResourceAccess.map((r) => ({ resourceAppId: r.resourceAppId, resourceAccesses: r.resourceAccess.map((a) => ({ id: a.id, type: a.type })) })),
        shape: sortedItems,
    },
    api: {
        graph: (h) => ({
            knownClientApplications: [...h.app.api.knownClientApplications].sort(),
            mappedClaimsEnabled: h.app.api.acceptMappedClaims,
            oauth2PermissionScopes: h.app.api.oauth2PermissionScopes.map((s) => ({ id: s["id"], value: s["value"], type: s["type"], enabled: enabled(s["isEnabled"]) })),
            requestedAccessTokenVersion: h.app.api.requestedAccessTokenVersion === 1 ? undefined : h.app.api.requestedAccessTokenVersion,
        }),
    },
    appRoles: { graph: (h) => h.app.appRoles.map((r) => ({ id: r["id"], value: r["value"], allowedMemberTypes: r["allowedMemberTypes"], enabled: enabled(r["isEnabled"]) })), shape: sortedItems },
    identifierUris: { graph: (h) => h.app.identifierUris, shape: sortedStrings },
    groupMembershipClaims: { graph: (h) => h.app.groupMembershipClaims?.split(",").map((c) => c.trim()), shape: sortedStrings },
    optionalClaims: {
        graph: (h) => ({ accessTokens: claims(h.app.optionalClaims?.["accessToken"]), idTokens: claims(h.app.optionalClaims?.["idToken"]), saml2Tokens: claims(h.app.optionalClaims?.["saml2Token"]) }),
    },
    deviceOnlyAuthEnabled: { graph: (h) => h.app.isDeviceOnlyAuthSupported },
    fallbackPublicClientEnabled: { graph: (h) => h.app.isFallbackPublicClient },
    oauth2PostResponseRequired: { graph: (h) => h.app.oauth2RequirePostResponse },
    marketingUrl: { graph: (h) => h.app.info.marketingUrl },
    privacyStatementUrl: { graph: (h) => h.app.info.privacyStatementUrl },
    supportUrl: { graph: (h) => h.app.info.supportUrl },
    termsOfServiceUrl: { graph: (h) => h.app.info.termsOfServiceUrl },
    serviceManagementReference: { graph: (h) => h.app.serviceManagementReference },
    templateId: { graph: (h) => h.app.applicationTemplateId },
    featureTags: { allowed: "azuread derives it from tags (compared above) and refuses both at once; the component never sets it" },
    logoImage: { allowed: "write-only: Graph serves the logo's URL, never the image, so an import has nothing to compare it with" },
    password: { allowed: "a secret made with the application, write-only; the stack never sets it (existing secrets are listed under existing)" },
    preventDuplicateNames: { allowed: "a check azuread makes before it creates an application, not a property Graph holds" },
};

/** azuread_service_principal (6.x). */
const servicePrincipalInputs: InputTable = {
    clientId: { graph: (h) => h.sp.appId },
    owners: { graph: (h) => h.spOwners, shape: sortedStrings },
    accountEnabled: { graph: (h) => h.sp.accountEnabled, shape: enabled },
    appRoleAssignmentRequired: { graph: (h) => h.sp.appRoleAssignmentRequired },
    alternativeNames: { graph: (h) => h.sp.alternativeNames, shape: sortedStrings },
    description: { graph: (h) => h.sp.description },
    loginUrl: { graph: (h) => h.sp.loginUrl },
    notes: { graph: (h) => h.sp.notes },
    notificationEmailAddresses: { graph: (h) => h.sp.notificationEmailAddresses, shape: sortedStrings },
    preferredSingleSignOnMode: { graph: (h) => h.sp.preferredSingleSignOnMode },
    samlSingleSignOn: { graph: (h) => ({ relayState: h.sp.samlSingleSignOnSettings?.relayState }) },
    tags: { allowed: "optional and computed: left out, azuread keeps the tags Entra gives a service principal (WindowsAzureActiveDirectoryIntegratedApp), so an import reads no difference" },
    featureTags: { allowed: "computed from the tags, like tags; the component never sets it" },
    features: { allowed: "the deprecated spelling of featureTags" },
    useExisting: { allowed: "a switch of azuread's create (take the existing principal instead of failing), not a property Graph holds" },
};

/** azuread_app_role_assignment: the assignment Graph holds under the import id. */
const appRoleAssignmentInputs = (a: GraphAssignment): InputTable => ({
    appRoleId: { graph: () => a.appRoleId },
    principalObjectId: { graph: () => a.principalId },
    resourceObjectId: { graph: () => a.resourceId },
});

/** azuread_service_principal_delegated_permission_grant: claimValues is a set. */
const delegatedGrantInputs = (g: GraphGrant): InputTable => ({
    servicePrincipalObjectId: { graph: () => g.clientId },
    resourceServicePrincipalObjectId: { graph: () => g.resourceId },
    claimValues: { graph: () => g.scope.split(/\s+/), shape: sortedStrings },
    userObjectId: { graph: () => g.principalId },
});

/** azuread_application_federated_identity_credential: audiences is a list. */
const federatedInputs = (application: string, f: GraphFederated): InputTable => ({
    applicationId: { graph: () => `/applications/${application}` },
    displayName: { graph: () => f.name },
    description: { graph: () => f.description },
    issuer: { graph: () => f.issuer },
    subject: { graph: () => f.subject },
    audiences: { graph: () => f.audiences },
});

/** The inputs a resource type takes, as the installed SDK registers them (`resourceInputs["x"] = args?.x`). */
function sdkInputs(module: string): string[] {
    const source = fs.readFileSync(require.resolve(`@pulumi/azuread/${module}.js`), "utf8");
    return [...source.matchAll(/resourceInputs\["(\w+)"\] = args\?\.\w+/g)].map((m) => m[1]!).sort();
}

interface Difference {
    readonly app: string;
    readonly resource: string;
    readonly input: string;
    readonly registered: unknown;
    readonly graph: unknown;
}

function compare(app: string, resource: RegisteredResource, table: InputTable, held: Held): Difference[] {
    const differences: Difference[] = [];
    for (const key of Object.keys(resource.inputs)) {
        if (!(key in table)) differences.push({ app, resource: resource.name, input: key, registered: resource.inputs[key], graph: "(an input the test does not know: compare it or allow it with why)" });
    }
    for (const [input, spec] of Object.entries(table)) {
        if ("allowed" in spec) continue;
        const shape = spec.shape ?? ((v: unknown) => v);
        const side = (value: unknown) => {
            const shaped = canon(shape(value));
            return spec.absent !== undefined && JSON.stringify(shaped) === JSON.stringify(canon(spec.absent)) ? undefined : shaped;
        };
        const registered = side(resource.inputs[input]);
        const graph = side(spec.graph(held));
        if (JSON.stringify(registered) !== JSON.stringify(graph)) differences.push({ app, resource: resource.name, input, registered, graph });
    }
    return differences;
}

// --- the tenant --------------------------------------------------------------------------------------------------

/** Portal-shaped apps, and hand-made ones with every field `rotor import` writes, varied; some the stack cannot declare. */
function buildTenant(e: Emulator): void {
    const state = e.state;
    state.generateApplications(12, { portal: true, secrets: 2, tenantId: e.tenantId });
    const [ana, bo, chen] = ["Ana Admin", "Bo Builder", "Chen Owner"].map((displayName) => state.addUser({ displayName }));
    const orders = state.addApiServicePrincipal({
        displayName: "Contoso Orders API",
        appRoles: [{ value: "Orders.Read.All" }, { value: "Orders.Write" }],
        oauth2PermissionScopes: [{ value: "Orders.Read" }, { value: "user_impersonation" }],
    });

    // Everything consented, on Microsoft Graph and on another API; every platform; two owners; existing credentials.
    const payments = state.addApplication({
        displayName: "Payments Portal",
        description: "Card payments for the web shop",
        notes: "Owned by team payments; ticket PAY-1234",
        signInAudience: "AzureADMultipleOrgs",
        web: { redirectUris: ["https://payments.contoso.example/signin-oidc", "https://payments.contoso.example/auth"] },
        spa: { redirectUris: ["https://payments.contoso.example/"] },
        publicClient: { redirectUris: ["msalpayments://auth"] },
        tags: ["HideApp", "team:payments"],
        owners: [ana!.id, bo!.id],
    });
    state.grantGraphPermissions(payments, ["User.Read.All", "Mail.Send"]);
    state.grantDelegatedGraphPermissions(payments, ["User.Read", "offline_access"]);
    state.requestPermissions(payments, orders, { roles: ["Orders.Read.All"], scopes: ["Orders.Read"] });
    state.grantAppRole(payments, orders, "Orders.Read.All");
    state.grantDelegated(payments, orders, ["Orders.Read"]);
    state.addFederatedCredential(payments, { name: "github-production", issuer: github, subject: "repo:contoso/payments:environment:production", description: "Deploys from the production environment" });
    state.addFederatedCredential(payments, { name: "github-main", issuer: github, subject: "repo:contoso/payments:ref:refs/heads/main" });
    state.addPassword(payments, { displayName: "portal secret", lifetimeDays: 365, startDateTime: new Date(now.getTime() - 100 * day) });
    state.addCertificate(payments, { subject: "payments", lifetimeDays: 365, startDateTime: new Date(now.getTime() - 30 * day) });

    // Consent in part: one application permission of two, one delegated scope of two (ACT: the first up completes it).
    const reporting = state.addApplication({ displayName: "Reporting Daemon", notes: "nightly export", tags: ["team:bi"], owners: [chen!.id] });
    state.requestPermissions(reporting, microsoftGraphAppId, { roles: ["Reports.Read.All", "Sites.Read.All"], scopes: ["User.Read", "Mail.Read"] });
    state.grantAppRole(reporting, microsoftGraphAppId, "Reports.Read.All");
    state.grantDelegated(reporting, microsoftGraphAppId, ["User.Read"]);
    state.addFederatedCredential(reporting, { name: "aks-export", issuer: `https://westeurope.oic.prod-aks.azure.com/${e.tenantId}/11111111-2222-3333-4444-555555555555/`, subject: "system:serviceaccount:bi:exporter" });
    state.addFederatedCredential(reporting, { name: "partner-idp", issuer: "https://idp.partner.example/oidc", subject: "workload:reporting", description: "the partner's scheduler" });
    state.addPassword(reporting, { lifetimeDays: 180 });

    // No consent at all, on either API.
    const ordersSync = state.addApplication({ displayName: "Orders Sync", signInAudience: "AzureADMultipleOrgs", tags: ["team:orders"] });
    state.requestPermissions(ordersSync, microsoftGraphAppId, { roles: ["Group.Read.All"], scopes: ["profile"] });
    state.requestPermissions(ordersSync, orders, { roles: ["Orders.Write"], scopes: ["user_impersonation"] });
    state.addCertificate(ordersSync, { subject: "orders-sync", lifetimeDays: 200 });

    // The service principal lacks the application's owner (ACT: the first up adds it).
    state.addApplication({ displayName: "Owner Drift", owners: [bo!.id], servicePrincipalOwners: [], spa: { redirectUris: ["https://drift.contoso.example/"] } });

    // What the stack cannot declare: left out, with why.
    const intranet = state.addApplication({ displayName: "Legacy Intranet", web: { redirectUris: ["https://intranet.contoso.example/"] }, owners: [ana!.id] });
    // As the portal leaves a registration: User.Read (delegated) first, an application permission added after.
    state.requestPermissions(intranet, microsoftGraphAppId, { scopes: ["User.Read"] });
    state.requestPermissions(intranet, microsoftGraphAppId, { roles: ["User.Read.All"] });
    state.grantAppRole(intranet, microsoftGraphAppId, "User.Read.All");
    const userReadAll = state.resource(microsoftGraphAppId).appRoles.find((r) => r.value === "User.Read.All")!.id;
    state.addApplication({ displayName: "Twice Requested", requiredResourceAccess: [{ resourceAppId: microsoftGraphAppId, resourceAccess: [{ id: userReadAll, type: "Role" }, { id: userReadAll, type: "Role" }] }] });
    state.addApplication({ displayName: "Claims None", groupMembershipClaims: "None" });
    state.addApplication({ displayName: "Public API", identifierUris: ["api://public-api"], appRoles: [{ value: "Data.Read" }] });
    state.addApplication({ displayName: "Consumer App", signInAudience: "AzureADandPersonalMicrosoftAccount" });
    state.addApplication({ displayName: "Disabled Principal", accountEnabled: false });
}

/** Why each hand-made app the stack cannot declare is left out. */
const expectedLeftOut: Readonly<Record<string, readonly RegExp[]>> = {
    "Twice Requested": [/^requests the application permission [0-9a-f-]+ on the API 00000003-0000-0000-c000-000000000000 twice/],
    "Claims None": [/^group membership claims \(None\)/],
    "Public API": [/^identifier URIs \(1, e\.g\. api:\/\/public-api\)/, /^1 app role\(s\) it defines/],
    "Consumer App": [/^sign-in audience AzureADandPersonalMicrosoftAccount/],
    "Disabled Principal": [/sign-in disabled \(accountEnabled false\)/],
};

// --- the round trip ------------------------------------------------------------------------------------------------

/** The mocks, plus what an import is: the provider reads the resource, so its outputs (object id, client id) are Entra's. */
class ImportingMocks extends ProviderMocks {
    constructor(
        apis: Map<string, MockApi>,
        private readonly held: ReadonlyMap<string, Held>,
    ) {
        super(apis);
    }

    override newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const result = super.newResource(args);
        if (!args.id) return result;
        const all = [...this.held.values()];
        let read: Record<string, unknown> = {};
        if (args.type === types.application) {
            const app = all.find((h) => `/applications/${h.app.id}` === args.id)?.app;
            if (!app) throw new Error(`import of ${args.name}: no application ${args.id}`);
            read = { objectId: app.id, clientId: app.appId };
        } else if (args.type === types.servicePrincipal) {
            const sp = all.find((h) => `/servicePrincipals/${h.sp.id}` === args.id)?.sp;
            if (!sp) throw new Error(`import of ${args.name}: no service principal ${args.id}`);
            read = { objectId: sp.id, clientId: sp.appId };
        }
        const state = { ...result.state, ...read };
        const last = this.resources.length - 1;
        this.resources[last] = { ...this.resources[last]!, state };
        return { id: result.id, state };
    }
}

let emulator: Emulator;
let document: ImportDocument;
let stackFile: Record<string, unknown>;
let values: { apps: Record<string, unknown>[] };
/** What Graph holds of each adopted app, by the app's name in the stack. */
const held = new Map<string, Held>();
let first: RegisteredResource[];
let second: RegisteredResource[];

/** The resources registered for an app: its component and everything named after it. */
function own(app: string): RegisteredResource[] {
    return first.filter((r) => r.name === app || r.name.startsWith(`${app}-`));
}

function findingsOf(app: string): Finding[] {
    return document.imported.find((a) => a.name === app)!.findings;
}

/**
 * The differences `rotor import` announced with an ACT finding, which the first `pulumi up` makes on purpose:
 * delegated consent it completes (requested scopes not granted yet), and owners it gives the service principal.
 */
function announced(d: Difference): boolean {
    const acts = findingsOf(d.app).filter((f) => f.level === "act").map((f) => f.message);
    const graph = new Set((d.graph as string[] | undefined) ?? []);
    const registered = (d.registered as string[] | undefined) ?? [];
    const added = registered.filter((v) => !graph.has(v));
    const superset = [...graph].every((v) => registered.includes(v)) && added.length > 0;
    if (!superset) return false;
    if (d.input === "claimValues") return added.every((scope) => acts.some((m) => /^NOT GRANTED in the tenant: delegated permissions? /.test(m) && m.includes(scope) && /adds (it|them) to the consent for all users/.test(m)));
    if (d.input === "owners" && d.resource.endsWith("-sp")) return added.every((owner) => acts.some((m) => m.startsWith("its service principal lacks the application's owner") && m.includes(owner)));
    return false;
}

describe("rotor import, then the program under the mock runtime", () => {
    beforeAll(async () => {
        emulator = await startEmulator({ now });
        buildTenant(emulator);
        const reader = operator(emulator, ["Directory.Read.All"]);
        const dir = projectDir({});
        const out = { stdout: "", stderr: "" };
        const io = {
            stdout: (t: string) => void (out.stdout += t),
            stderr: (t: string) => void (out.stderr += t),
            cwd: dir,
            now: () => now,
            env: { AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_GRAPH_ENDPOINT: emulator.graphEndpoint, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" },
            credential: () => reader.credential,
        };
        const code = await main(["import", "--stack", "adopted", "--format", "json"], io as never);
        if (code !== 0) throw new Error(`rotor import exited ${code}: ${out.stderr}`);
        document = JSON.parse(out.stdout) as ImportDocument;
        stackFile = (parse(fs.readFileSync(path.join(dir, "Pulumi.adopted.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
        // A person writes each tier-0 justification before the first up; the model refuses empty ones.
        const apps = (stackFile["entra-rotor:apps"] as Record<string, unknown>[]).map((app) =>
            app["allowPrivileged"] ? { ...app, allowPrivileged: (app["allowPrivileged"] as { permission: string }[]).map((a) => ({ permission: a.permission, justification })) } : app,
        );
        values = { apps };

        // What Graph holds, read as the provider reads it.
        const graph = new GraphClient(emulator.graphEndpoint, reader.credential, "https://graph.microsoft.com/.default", { maxRetries: 1 });
        const list = async <T>(p: string) => (await graph.get<{ value: T[] }>(p)).value;
        await Promise.all(
            document.imported.map(async (a) => {
                const [app, owners, federated, sp, spOwners, assignments, grants] = await Promise.all([
                    graph.get<GraphApp>(`/applications/${a.objectId}`),
                    list<{ id: string }>(`/applications/${a.objectId}/owners?$select=id`),
                    list<GraphFederated>(`/applications/${a.objectId}/federatedIdentityCredentials`),
                    graph.get<GraphPrincipal>(`/servicePrincipals/${a.servicePrincipal}`),
                    list<{ id: string }>(`/servicePrincipals/${a.servicePrincipal}/owners?$select=id`),
                    list<GraphAssignment>(`/servicePrincipals/${a.servicePrincipal}/appRoleAssignments`),
                    list<GraphGrant>(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${a.servicePrincipal}'`)}`),
                ]);
                held.set(a.name, { app, owners: owners.map((o) => o.id), federated, sp, spOwners: spOwners.map((o) => o.id), assignments, grants });
            }),
        );

        // Each API's service principal as the program looks it up (getServicePrincipal): Graph's, and the Orders API's.
        const apis = defaultApis();
        const principals = await list<{ id: string; appId: string; displayName: string; appRoles: { id: string; value: string }[]; oauth2PermissionScopes: { id: string; value: string }[] }>(
            `/servicePrincipals?$filter=${encodeURIComponent("displayName eq 'Contoso Orders API'")}`,
        );
        for (const p of principals) {
            apis.set(p.appId, {
                objectId: p.id,
                displayName: p.displayName,
                appRoleIds: Object.fromEntries(p.appRoles.map((r) => [r.value, r.id])),
                scopeIds: Object.fromEntries(p.oauth2PermissionScopes.map((s) => [s.value, s.id])),
            });
        }
        const run = async () => {
            const mocks = new ImportingMocks(apis, held);
            const result = await runProgram(values, { now, emulator, mocks });
            if (result.registrationErrors.length > 0) throw new Error(result.registrationErrors.map((e) => e.message).join("\n"));
            return mocks.resources;
        };
        first = await run();
        second = await run();
    }, 60_000);

    afterAll(async () => {
        await emulator?.close();
    });

    it("adopts every application the stack can declare, and leaves out the others, saying why", () => {
        const leftOut = new Map(document.leftOut.map((a) => [a.displayName, a.reasons]));
        expect([...leftOut.keys()].sort()).toEqual(Object.keys(expectedLeftOut).sort());
        for (const [name, reasons] of Object.entries(expectedLeftOut)) expect(leftOut.get(name), name).toEqual(reasons.map((r) => expect.stringMatching(r)));
        expect(document.imported.map((a) => a.displayName).sort()).toEqual(
            [...Array.from({ length: 12 }, (_, i) => `app-${String(i).padStart(2, "0")}`), "Payments Portal", "Reporting Daemon", "Orders Sync", "Owner Drift", "Legacy Intranet", "rotor-operator"].sort(),
        );
        // Its delegated permission precedes its application one in Graph: the order is kept, so the import matches.
        const intranet = document.imported.find((a) => a.displayName === "Legacy Intranet")!;
        expect((intranet.entry["adopt"] as { permissionOrder?: unknown }).permissionOrder).toEqual([{ api: "Microsoft Graph", order: [expect.stringMatching(/^delegated:/), "application:User.Read.All"] }]);
        expect(document.imported.filter((a) => (a.entry["adopt"] as { permissionOrder?: unknown }).permissionOrder !== undefined).map((a) => a.displayName)).toContain("Legacy Intranet");
        // The stack holds the adopted apps and nothing of the others; the program registers nothing of them.
        expect((stackFile["entra-rotor:apps"] as { displayName: string }[]).map((a) => a.displayName)).toEqual(document.imported.map((a) => a.displayName));
        const everything = JSON.stringify(first);
        for (const app of document.leftOut) {
            const sp = emulator.state.servicePrincipalOf(app.appId);
            for (const id of [app.objectId, app.appId, ...(sp ? [sp.id] : [])]) expect(everything, `${app.displayName} (${id})`).not.toContain(id);
        }
    });

    it("registers each adopted application as Graph holds it, input by input, imported by its object id", () => {
        expect(Object.keys(applicationInputs).sort()).toEqual(sdkInputs("application"));
        const applications = first.filter((r) => r.type === types.application);
        expect(applications.map((r) => r.name).sort()).toEqual(document.imported.map((a) => `${a.name}-app`).sort());
        const differences: Difference[] = [];
        for (const a of document.imported) {
            const resource = applications.find((r) => r.name === `${a.name}-app`)!;
            expect(resource.importId).toBe(`/applications/${held.get(a.name)!.app.id}`);
            differences.push(...compare(a.name, resource, applicationInputs, held.get(a.name)!));
        }
        expect(differences).toEqual([]);
    });

    it("registers each service principal as Graph holds it, imported by its object id; only owners the report announced are added", () => {
        expect(Object.keys(servicePrincipalInputs).sort()).toEqual(sdkInputs("servicePrincipal"));
        const principals = first.filter((r) => r.type === types.servicePrincipal);
        expect(principals.map((r) => r.name).sort()).toEqual(document.imported.map((a) => `${a.name}-sp`).sort());
        const differences: Difference[] = [];
        for (const a of document.imported) {
            const resource = principals.find((r) => r.name === `${a.name}-sp`)!;
            expect(resource.importId).toBe(`/servicePrincipals/${held.get(a.name)!.sp.id}`);
            differences.push(...compare(a.name, resource, servicePrincipalInputs, held.get(a.name)!));
        }
        expect(differences.filter((d) => !announced(d))).toEqual([]);
        // The drift is there, and announced: the first up gives the principal the application's owner.
        expect(differences.map((d) => `${d.resource}.${d.input}`)).toEqual(["owner-drift-sp.owners"]);
    });

    it("imports every consent Graph holds for a requested permission, as Graph holds it, and creates only what is not granted", () => {
        expect(Object.keys(appRoleAssignmentInputs({} as GraphAssignment)).sort()).toEqual(sdkInputs("appRoleAssignment"));
        expect(Object.keys(delegatedGrantInputs({} as GraphGrant)).sort()).toEqual(sdkInputs("servicePrincipalDelegatedPermissionGrant"));
        const differences: Difference[] = [];
        const tally = { imported: 0, created: 0, partial: 0 };
        for (const a of document.imported) {
            const h = held.get(a.name)!;
            for (const resource of first.filter((r) => r.type === types.appRoleAssignment && r.name.startsWith(`${a.name}-role-`))) {
                if (resource.importId) {
                    const assignment = h.assignments.find((x) => `/servicePrincipals/${x.resourceId}/appRoleAssignedTo/${x.id}` === resource.importId);
                    expect(assignment, `${resource.name} imports ${resource.importId}, which Graph holds`).toBeDefined();
                    differences.push(...compare(a.name, resource, appRoleAssignmentInputs(assignment!), h));
                    tally.imported++;
                } else {
                    // Entra refuses a second identical assignment: one it holds must be imported, never created.
                    const twin = h.assignments.find((x) => x.appRoleId === resource.inputs["appRoleId"] && x.resourceId === resource.inputs["resourceObjectId"]);
                    expect(twin, `${resource.name} is created though Graph holds it`).toBeUndefined();
                    expect(resource.inputs["principalObjectId"]).toBe(h.sp.id);
                    tally.created++;
                }
            }
            for (const resource of first.filter((r) => r.type === types.delegatedGrant && r.name.startsWith(`${a.name}-grant-`))) {
                if (resource.importId) {
                    const grant = h.grants.find((g) => g.id === resource.importId);
                    expect(grant, `${resource.name} imports ${resource.importId}, which Graph holds`).toBeDefined();
                    expect(grant!.consentType).toBe("AllPrincipals");
                    const found = compare(a.name, resource, delegatedGrantInputs(grant!), h);
                    if (found.length > 0) tally.partial++;
                    differences.push(...found);
                    tally.imported++;
                } else {
                    const twin = h.grants.find((g) => g.consentType === "AllPrincipals" && g.resourceId === resource.inputs["resourceServicePrincipalObjectId"]);
                    expect(twin, `${resource.name} is created though Graph holds a grant for all users`).toBeUndefined();
                    expect(resource.inputs["servicePrincipalObjectId"]).toBe(h.sp.id);
                    expect(resource.inputs["userObjectId"]).toBeUndefined();
                    tally.created++;
                }
            }
        }
        expect(differences.filter((d) => !announced(d))).toEqual([]);
        // The tenant has consent in full, in part and not at all: each kind of consent is both imported and created.
        expect(tally.imported).toBeGreaterThan(10);
        expect(tally.created).toBeGreaterThan(5);
        expect(differences.map((d) => `${d.resource}.${d.input}`)).toContain("reporting-daemon-grant-msgraph.claimValues");
    });

    it("registers each federated credential as Graph holds it", () => {
        expect(Object.keys(federatedInputs("", {} as GraphFederated)).sort()).toEqual(sdkInputs("applicationFederatedIdentityCredential"));
        const differences: Difference[] = [];
        let count = 0;
        for (const a of document.imported) {
            const h = held.get(a.name)!;
            const registered = first.filter((r) => r.type === types.federatedIdentityCredential && r.name.startsWith(`${a.name}-federated-`));
            expect(registered.map((r) => r.inputs["displayName"]).sort(), a.name).toEqual(h.federated.map((f) => f.name).sort());
            for (const resource of registered) {
                const credential = h.federated.find((f) => f.name === resource.inputs["displayName"])!;
                differences.push(...compare(a.name, resource, federatedInputs(h.app.id, credential), h));
                count++;
            }
        }
        expect(differences).toEqual([]);
        // GitHub environment and branch, Kubernetes, and a generic issuer among them.
        expect(count).toBeGreaterThanOrEqual(8);
    });

    // azuread's import id of a federated credential is `<objectId>/federatedIdentityCredential/<id>` (its import
    // docs; the provider parses object id, type and id): Entra refuses a second credential of the same name or
    // issuer and subject, so one created instead of imported fails the first pulumi up.
    it("imports each federated credential Graph holds by its id, never creating it again", () => {
        const wrong: string[] = [];
        for (const a of document.imported) {
            const h = held.get(a.name)!;
            for (const resource of first.filter((r) => r.type === types.federatedIdentityCredential && r.name.startsWith(`${a.name}-federated-`))) {
                const credential = h.federated.find((f) => f.name === resource.inputs["displayName"] || (f.issuer === resource.inputs["issuer"] && f.subject === resource.inputs["subject"]));
                const expected = credential ? `${h.app.id}/federatedIdentityCredential/${credential.id}` : undefined;
                if (resource.importId !== expected) wrong.push(`${resource.name}: import ${String(resource.importId)}, Graph holds ${String(expected)}`);
            }
        }
        expect(wrong).toEqual([]);
    });

    it("never registers the credentials the apps had before: azuread cannot import a password, and the program must not touch them", () => {
        const kinds = new Set(first.map((r) => r.type));
        for (const type of [types.applicationPassword, types.applicationCertificate, types.clientSecret, types.clientCertificate, types.keyVaultSecret, types.privateKey, types.selfSignedCert]) expect(kinds.has(type), type).toBe(false);
        const existing = document.imported.flatMap((a) => ((a.entry["existing"] as { keyId: string }[] | undefined) ?? []).map((e) => e.keyId));
        const inGraph = [...held.values()].flatMap((h) => [...h.app.passwordCredentials, ...h.app.keyCredentials].map((c) => c.keyId.toLowerCase()));
        expect(existing.sort()).toEqual(inGraph.sort());
        expect(existing.length).toBeGreaterThan(20);
        const everything = JSON.stringify(first.map((r) => r.inputs)).toLowerCase();
        for (const keyId of existing) expect(everything).not.toContain(keyId);
        // Every resource an adopted app has is one of its own, imported or consent to grant: nothing else is registered.
        for (const a of document.imported) expect(own(a.name).every((r) => [types.appRegistration, types.application, types.servicePrincipal, types.appRoleAssignment, types.delegatedGrant, types.federatedCredentials, types.federatedIdentityCredential].includes(r.type as never))).toBe(true);
    });

    it("registers the same inputs and import ids when run again at the same instant", () => {
        const view = (resources: RegisteredResource[]) =>
            resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, importId: r.importId })).sort((x, y) => `${x.type} ${x.name}`.localeCompare(`${y.type} ${y.name}`));
        expect(second.length).toBe(first.length);
        expect(view(second)).toEqual(view(first));
    });
});
