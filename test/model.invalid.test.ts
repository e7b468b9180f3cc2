import { describe, expect, it } from "vitest";
import type { ConfigIssue } from "../infra/model/issues";
import { buildModel, type ModelResult } from "../infra/model/model";

/**
 * A corpus of invalid stack configs: each must be refused (no model) with an error at the exact config
 * path, saying what is wrong and how to fix it. Adding a case is one entry in a table.
 */

const now = new Date("2026-11-23T00:00:00Z");

function build(values: Record<string, unknown>): ModelResult {
    return buildModel({ project: "entra-rotor", stack: "test", values, source: "Pulumi.test.yaml" }, now);
}

function errorsOf(result: ModelResult): ConfigIssue[] {
    return result.issues.filter((issue) => issue.severity === "error");
}

/** An error at exactly `path` whose message contains `message` (or matches it). */
function errorAt(path: string, message: string | RegExp) {
    return expect.objectContaining({
        path,
        severity: "error",
        message: typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message),
    });
}

const graph = (lists: { application?: unknown; delegated?: unknown }) => ({ api: "Microsoft Graph", ...lists });
/** A valid app to stand next to the broken one, so paths with an index other than 0 are exercised. */
const valid = { name: "calendar-reader", permissions: [graph({ application: ["Calendars.Read"] })] };
const app = (fields: Record<string, unknown>) => ({ name: "test-app", ...fields });
const stack = (...apps: unknown[]) => ({ apps });
const justification = "Deploys this stack's app registrations; it can only manage applications it owns.";
const guid = "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11";

interface InvalidCase {
    readonly title: string;
    readonly values: Record<string, unknown>;
    /** The exact config path of the expected error. */
    readonly path: string;
    /** A fragment of the expected message. */
    readonly message: string | RegExp;
}

const cases: InvalidCase[] = [
    // --- permission names -------------------------------------------------------------------------------
    { title: "typo'd Graph application permission, with a suggestion", values: stack(valid, app({ permissions: [graph({ application: ["Calendars.Read", "Device.Read.All", "Mail.Sendd"] })] })), path: "apps[1].permissions[0].application[2]", message: 'unknown Microsoft Graph application permission "Mail.Sendd" (did you mean "Mail.Send"?)' },
    { title: "typo'd long application permission, with a suggestion", values: stack(app({ permissions: [graph({ application: ["RoleManagement.ReadWrite.Directroy"] })] })), path: "apps[0].permissions[0].application[0]", message: 'did you mean "RoleManagement.ReadWrite.Directory"?' },
    { title: "wrong case of an application permission, with a suggestion", values: stack(app({ permissions: [graph({ application: ["mail.send"] })] })), path: "apps[0].permissions[0].application[0]", message: 'unknown Microsoft Graph application permission "mail.send" (did you mean "Mail.Send"?)' },
    { title: "typo'd delegated permission, with a suggestion", values: stack(app({ permissions: [graph({ delegated: ["openid", "Calendars.Raed"] })] })), path: "apps[0].permissions[0].delegated[1]", message: 'unknown Microsoft Graph delegated permission "Calendars.Raed" (did you mean "Calendars.Read"?)' },
    { title: "made-up permission name", values: stack(app({ permissions: [graph({ application: ["Everything.ReadWrite.Forever"] })] })), path: "apps[0].permissions[0].application[0]", message: 'unknown Microsoft Graph application permission "Everything.ReadWrite.Forever"' },
    { title: "delegated-only permission listed as application", values: stack(app({ permissions: [graph({ application: ["User.Read"] })] })), path: "apps[0].permissions[0].application[0]", message: '"User.Read" is a Microsoft Graph delegated permission, not an application one; move it under delegated' },
    { title: "offline_access listed as application", values: stack(app({ permissions: [graph({ application: ["Calendars.Read", "offline_access"] })] })), path: "apps[0].permissions[0].application[1]", message: "move it under delegated" },
    { title: "application-only permission listed as delegated", values: stack(app({ permissions: [graph({ delegated: ["Application.ReadWrite.OwnedBy"] })] })), path: "apps[0].permissions[0].delegated[0]", message: '"Application.ReadWrite.OwnedBy" is a Microsoft Graph application permission, not a delegated one; move it under application' },
    { title: "permission name with a space", values: stack(app({ permissions: [graph({ application: ["Mail Send"] })] })), path: "apps[0].permissions[0].application[0]", message: "a permission name has no spaces" },
    { title: "permission name not a string", values: stack(app({ permissions: [graph({ delegated: ["openid", 1] })] })), path: "apps[0].permissions[0].delegated[1]", message: "a permission name must be a string" },
    { title: "permission list is a string", values: stack(app({ permissions: [graph({ application: "Mail.Send" })] })), path: "apps[0].permissions[0].application", message: "a list of application permission names" },
    { title: "application permission listed twice", values: stack(app({ permissions: [graph({ application: ["Calendars.Read", "Device.Read.All", "Calendars.Read"] })] })), path: "apps[0].permissions[0].application[2]", message: '"Calendars.Read" is listed twice (first at apps[0].permissions[0].application[0]); remove one' },
    { title: "delegated permission listed twice", values: stack(app({ permissions: [graph({ delegated: ["User.Read", "openid", "User.Read"] })] })), path: "apps[0].permissions[0].delegated[2]", message: '"User.Read" is listed twice (first at apps[0].permissions[0].delegated[0])' },

    // --- APIs ---------------------------------------------------------------------------------------------
    { title: "typo'd API name, with a suggestion", values: stack(app({ permissions: [{ api: "Microsoft Grpah", application: ["Calendars.Read"] }] })), path: "apps[0].permissions[0].api", message: 'unknown API "Microsoft Grpah" (did you mean "Microsoft Graph"?)' },
    { title: "unknown API name, listing the known ones", values: stack(app({ permissions: [{ api: "Slack", application: ["chat:write"] }] })), path: "apps[0].permissions[0].api", message: /^unknown API "Slack"; name one of "Microsoft Graph", .* or give the API's appId/ },
    { title: "API missing from a permission entry", values: stack(app({ permissions: [{ application: ["Calendars.Read"] }] })), path: "apps[0].permissions[0].api", message: "required: the API" },
    { title: "API is an empty string", values: stack(app({ permissions: [{ api: "", application: ["Calendars.Read"] }] })), path: "apps[0].permissions[0].api", message: "name the API" },
    { title: "same API listed twice", values: stack(app({ permissions: [graph({ application: ["Calendars.Read"] }), graph({ delegated: ["User.Read"] })] })), path: "apps[0].permissions[1].api", message: "Microsoft Graph is already listed at apps[0].permissions[0]; list all its permissions in that entry" },
    { title: "same API listed twice, once by appId", values: stack(app({ permissions: [graph({ application: ["Calendars.Read"] }), { api: "00000003-0000-0000-c000-000000000000", application: ["Mail.Read"] }] })), path: "apps[0].permissions[1].api", message: "Microsoft Graph is already listed at apps[0].permissions[0]" },
    { title: "same API listed twice, differing in case", values: stack(app({ permissions: [{ api: "Azure Key Vault", delegated: ["user_impersonation"] }, { api: "azure key vault", delegated: ["user_impersonation"] }] })), path: "apps[0].permissions[1].api", message: "Azure Key Vault is already listed at apps[0].permissions[0]" },
    { title: "entry with no permission", values: stack(app({ permissions: [graph({})] })), path: "apps[0].permissions[0]", message: "requests no permission on Microsoft Graph; add application: [...] or delegated: [...], or remove the entry" },
    { title: "entry with empty permission lists", values: stack(app({ permissions: [{ api: "Office 365 Exchange Online", application: [], delegated: [] }] })), path: "apps[0].permissions[0]", message: "requests no permission on Office 365 Exchange Online" },

    // --- privileged permissions ---------------------------------------------------------------------------
    { title: "tier-0 RoleManagement.ReadWrite.Directory without allowPrivileged", values: stack(valid, app({ permissions: [graph({ application: ["RoleManagement.ReadWrite.Directory"] })] })), path: "apps[1].permissions[0].application[0]", message: '"RoleManagement.ReadWrite.Directory" is a tier-0 Microsoft Graph application permission (a known path to Global Administrator)' },
    { title: "tier-0 Application.ReadWrite.All without allowPrivileged", values: stack(app({ permissions: [graph({ application: ["Calendars.Read", "Application.ReadWrite.All"] })] })), path: "apps[0].permissions[0].application[1]", message: "it is refused unless the app lists it under allowPrivileged with a justification" },
    { title: "tier-0 permission on Graph named by appId", values: stack(app({ permissions: [{ api: "00000003-0000-0000-c000-000000000000", application: ["AppRoleAssignment.ReadWrite.All"] }] })), path: "apps[0].permissions[0].application[0]", message: "tier-0" },
    { title: "tier-0 permission justified for another permission", values: stack(app({ permissions: [graph({ application: ["Directory.ReadWrite.All", "Application.ReadWrite.OwnedBy"] })], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }] })), path: "apps[0].permissions[0].application[0]", message: '"Directory.ReadWrite.All" is a tier-0' },
    // A delegated permission is consented for every user of the tenant (AllPrincipals): a tier-0 one is a path to Global Administrator too (issue 18).
    { title: "tier-0 delegated Directory.AccessAsUser.All without allowPrivileged", values: stack(valid, app({ permissions: [graph({ delegated: ["openid", "Directory.AccessAsUser.All"] })] })), path: "apps[1].permissions[0].delegated[1]", message: '"Directory.AccessAsUser.All" is a tier-0 Microsoft Graph delegated permission: the stack consents it for every user of the tenant at once' },
    { title: "tier-0 delegated RoleManagement.ReadWrite.Directory without allowPrivileged", values: stack(app({ permissions: [graph({ delegated: ["RoleManagement.ReadWrite.Directory"] })] })), path: "apps[0].permissions[0].delegated[0]", message: "it is refused unless the app lists it under allowPrivileged with a justification, or choose a narrower permission" },
    { title: "tier-0 delegated permission justified for another permission", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.OwnedBy"], delegated: ["User.ReadWrite.All"] })], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }] })), path: "apps[0].permissions[0].delegated[0]", message: '"User.ReadWrite.All" is a tier-0 Microsoft Graph delegated permission' },
    { title: "allowPrivileged for a permission not requested", values: stack(app({ permissions: [graph({ application: ["Calendars.Read"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All", justification }] })), path: "apps[0].allowPrivileged[0].permission", message: '"Application.ReadWrite.All" is not requested by this app as a Microsoft Graph application permission; remove the entry or request the permission' },
    { title: "allowPrivileged for a permission requested only as delegated", values: stack(app({ permissions: [graph({ delegated: ["Mail.Send"] })], allowPrivileged: [{ permission: "Mail.Send", justification }] })), path: "apps[0].allowPrivileged[0].permission", message: "is not requested by this app as a Microsoft Graph application permission" },
    { title: "allowPrivileged for an app without permissions", values: stack(app({ allowPrivileged: [{ permission: "Mail.Send", justification }] })), path: "apps[0].allowPrivileged[0].permission", message: '"Mail.Send" is not requested by this app' },
    { title: "duplicate allowPrivileged entry", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.OwnedBy"] })], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }, { permission: "Application.ReadWrite.OwnedBy", justification: `${justification} Again.` }] })), path: "apps[0].allowPrivileged[1].permission", message: '"Application.ReadWrite.OwnedBy" is already allowed at apps[0].allowPrivileged[0]; keep one entry' },
    { title: "justification too short", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.OwnedBy"] })], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification: "needed for CI" }] })), path: "apps[0].allowPrivileged[0].justification", message: "write a justification of at least 20 characters" },
    { title: "justification padded with spaces to look long", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.OwnedBy"] })], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification: "     needed            " }] })), path: "apps[0].allowPrivileged[0].justification", message: "at least 20 characters" },
    { title: "placeholder justification TODO", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.All"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All", justification: "TODO" }] })), path: "apps[0].allowPrivileged[0].justification", message: "write a justification" },
    { title: "long justification that is a TODO", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.All"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All", justification: "TODO: write the justification later" }] })), path: "apps[0].allowPrivileged[0].justification", message: "is a placeholder" },
    { title: "empty permission name", values: stack(app({ permissions: [graph({ application: [""] })] })), path: "apps[0].permissions[0].application[0]", message: "a permission name must not be empty" },
    { title: "misspelled allowPrivileged permission, with a suggestion", values: stack(app({ permissions: [graph({ application: ["Mail.Send"] })], allowPrivileged: [{ permission: "Mail.Sendd", justification }] })), path: "apps[0].allowPrivileged[0].permission", message: '(did you mean "Mail.Send"?)' },
    { title: "placeholder justification of filler characters", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.All"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All", justification: "x".repeat(24) }] })), path: "apps[0].allowPrivileged[0].justification", message: '"xxxxxxxxxxxxxxxxxxxxxxxx" is a placeholder; say why the app needs the permission' },
    { title: "justification missing", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.All"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All" }] })), path: "apps[0].allowPrivileged[0].justification", message: "required: why the app needs this permission" },
    { title: "allowPrivileged permission missing", values: stack(app({ allowPrivileged: [{ justification }] })), path: "apps[0].allowPrivileged[0].permission", message: "required: the tier-0 or tier-1 permission being allowed" },
    { title: "allowPrivileged not a list", values: stack(app({ allowPrivileged: "Mail.Send" })), path: "apps[0].allowPrivileged", message: "a list of {permission, justification} entries" },

    // --- app names ----------------------------------------------------------------------------------------
    { title: "duplicate app name", values: stack(valid, app({ name: "mail-sender" }), app({ name: "mail-sender" })), path: "apps[2].name", message: 'duplicate app name "mail-sender" (first at apps[1]); app names are unique in a stack' },
    { title: "duplicate app name, even when the duplicate has other errors", values: stack(valid, app({ name: "calendar-reader", displayName: 42 })), path: "apps[1].name", message: 'duplicate app name "calendar-reader" (first at apps[0])' },
    { title: "app name with uppercase letters", values: stack(app({ name: "Mail-Sender" })), path: "apps[0].name", message: "must be 3-40 lowercase letters, digits or '-'" },
    { title: "app name starting with a digit", values: stack(valid, app({ name: "1mail" })), path: "apps[1].name", message: "starting with a letter" },
    { title: "app name over 40 characters", values: stack(app({ name: `a${"b".repeat(40)}` })), path: "apps[0].name", message: "must be 3-40 lowercase letters" },
    { title: "app name ending with a hyphen", values: stack(app({ name: "mail-" })), path: "apps[0].name", message: "ending with a letter or digit" },
    { title: "app name under 3 characters", values: stack(app({ name: "ab" })), path: "apps[0].name", message: "must be 3-40 lowercase letters" },
    { title: "app name with an underscore", values: stack(app({ name: "mail_sender" })), path: "apps[0].name", message: "must be 3-40 lowercase letters" },
    { title: "app name missing", values: stack({ displayName: "Mail Sender" }), path: "apps[0].name", message: "required: a stable name for the app" },
    { title: "app name not a string", values: stack({ name: 42 }), path: "apps[0].name", message: "must be a string" },

    // --- unknown keys ---------------------------------------------------------------------------------------
    { title: "unknown key in an app, with a suggestion", values: stack(app({ permisions: [graph({ application: ["Calendars.Read"] })] })), path: "apps[0].permisions", message: 'unknown key "permisions" (did you mean "permissions"?); allowed keys: name, displayName' },
    { title: "unknown key in an app, differing in case", values: stack(app({ redirectURIs: ["https://app.contoso.com/cb"] })), path: "apps[0].redirectURIs", message: 'did you mean "redirectUris"?' },
    { title: "unknown key in a permission entry, with a suggestion", values: stack(app({ permissions: [{ api: "Microsoft Graph", aplication: ["Calendars.Read"] }] })), path: "apps[0].permissions[0].aplication", message: 'unknown key "aplication" (did you mean "application"?); allowed keys: api, application, delegated' },
    { title: "unknown key in an allowPrivileged entry, with a suggestion", values: stack(app({ allowPrivileged: [{ permission: "Mail.Send", justfication: justification }] })), path: "apps[0].allowPrivileged[0].justfication", message: 'unknown key "justfication" (did you mean "justification"?); allowed keys: permission, justification' },
    { title: "unknown top-level config key, with a suggestion", values: { aps: [valid] }, path: "aps", message: 'unknown config key "entra-rotor:aps" (did you mean "entra-rotor:apps"?); known keys: entra-rotor:apps' },
    { title: "unknown top-level config key next to apps", values: { apps: [valid], owner: "platform-team" }, path: "owner", message: 'unknown config key "entra-rotor:owner"' },

    // --- shape of apps ------------------------------------------------------------------------------------
    { title: "apps missing", values: {}, path: "apps", message: 'required: list the app registrations under "entra-rotor:apps"' },
    { title: "apps is a mapping", values: { apps: { name: "mail-sender" } }, path: "apps", message: "must be a list of app registrations" },
    { title: "apps is a string (unparsed structured config)", values: { apps: "mail-sender" }, path: "apps", message: "must be a list of app registrations, got a string" },
    { title: "apps is null", values: { apps: null }, path: "apps", message: "must be a list of app registrations, got null" },
    { title: "app is a string", values: stack(valid, "mail-sender"), path: "apps[1]", message: "expected a mapping, got a string" },
    { title: "app is a list", values: stack(["mail-sender"]), path: "apps[0]", message: "expected a mapping, got a list" },
    { title: "app is null", values: stack(null), path: "apps[0]", message: "expected a mapping, got null" },
    { title: "permissions is a mapping", values: stack(app({ permissions: graph({ application: ["Calendars.Read"] }) })), path: "apps[0].permissions", message: "a list of {api, application, delegated} entries" },
    { title: "permission entry is a string", values: stack(app({ permissions: ["Mail.Send"] })), path: "apps[0].permissions[0]", message: "expected a mapping" },

    // --- app fields -----------------------------------------------------------------------------------------
    { title: "displayName is a number", values: stack(app({ displayName: 42 })), path: "apps[0].displayName", message: "must be a string" },
    { title: "displayName is empty", values: stack(app({ displayName: "" })), path: "apps[0].displayName", message: "must not be empty; omit it to use the app's name" },
    { title: "displayName is blank", values: stack(app({ displayName: "   " })), path: "apps[0].displayName", message: "must not be empty" },
    { title: "displayName over 256 characters", values: stack(app({ displayName: "x".repeat(257) })), path: "apps[0].displayName", message: "is at most 256 characters" },
    { title: "description is a list", values: stack(app({ description: ["sends mail"] })), path: "apps[0].description", message: "must be a string" },
    { title: "signInAudience not supported", values: stack(app({ signInAudience: "AzureADandPersonalMicrosoftAccount" })), path: "apps[0].signInAudience", message: "must be AzureADMyOrg (single tenant, the default) or AzureADMultipleOrgs" },
    { title: "signInAudience in the wrong case", values: stack(app({ signInAudience: "azureadmyorg" })), path: "apps[0].signInAudience", message: "must be AzureADMyOrg" },

    // --- redirect URIs --------------------------------------------------------------------------------------
    { title: "redirectUris is a string", values: stack(app({ redirectUris: "https://app.contoso.com/cb" })), path: "apps[0].redirectUris", message: "a list of https redirect URIs" },
    { title: "redirect URI is not a string", values: stack(app({ redirectUris: [7] })), path: "apps[0].redirectUris[0]", message: "a redirect URI must be a string" },
    { title: "http redirect URI on a non-localhost host", values: stack(app({ redirectUris: ["https://app.contoso.com/cb", "http://app.contoso.com/cb"] })), path: "apps[0].redirectUris[1]", message: '"http://app.contoso.com/cb" must use https (http is allowed for localhost only)' },
    { title: "redirect URI with another scheme", values: stack(app({ redirectUris: ["ftp://app.contoso.com/cb"] })), path: "apps[0].redirectUris[0]", message: "must use https" },
    { title: "wildcard redirect URI host", values: stack(app({ redirectUris: ["https://*.contoso.com/cb"] })), path: "apps[0].redirectUris[0]", message: "contains a wildcard, which Entra does not allow" },
    { title: "wildcard redirect URI path", values: stack(app({ redirectUris: ["https://app.contoso.com/*"] })), path: "apps[0].redirectUris[0]", message: "contains a wildcard" },
    { title: "redirect URI that is not a URI", values: stack(app({ redirectUris: ["app.contoso.com/cb"] })), path: "apps[0].redirectUris[0]", message: '"app.contoso.com/cb" is not an absolute URI; write it as https://host/path' },
    { title: "redirect URI over 256 characters", values: stack(app({ redirectUris: [`https://app.contoso.com/${"a".repeat(240)}`] })), path: "apps[0].redirectUris[0]", message: "a redirect URI is at most 256 characters" },
    { title: "duplicate redirect URI", values: stack(app({ redirectUris: ["https://app.contoso.com/cb", "http://localhost:8080/cb", "https://app.contoso.com/cb"] })), path: "apps[0].redirectUris[2]", message: 'redirect URI "https://app.contoso.com/cb" is listed twice (first at apps[0].redirectUris[0]); remove one' },

    // --- owners ---------------------------------------------------------------------------------------------
    { title: "owner not a GUID", values: stack(app({ owners: ["platform-team@contoso.com"] })), path: "apps[0].owners[0]", message: "an owner is the object id (a GUID) of a user or service principal" },
    { title: "owners is a string", values: stack(app({ owners: guid })), path: "apps[0].owners", message: "a list of owner object ids (GUIDs)" },
    { title: "duplicate owner", values: stack(app({ owners: [guid, guid] })), path: "apps[0].owners[1]", message: `owner "${guid}" is listed twice (first at apps[0].owners[0]); remove one` },
    { title: "duplicate owner differing in case", values: stack(app({ owners: [guid, guid.toUpperCase()] })), path: "apps[0].owners[1]", message: "is listed twice (first at apps[0].owners[0])" },
];

describe("buildModel refuses invalid stack configs", () => {
    it("has a corpus of distinct cases", () => {
        expect(cases.length).toBeGreaterThanOrEqual(35);
        expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
    });

    it.each(cases)("$title -> $path", ({ values, path, message }) => {
        const result = build(values);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(path, message));
    });
});

interface MultiCase {
    readonly title: string;
    readonly values: Record<string, unknown>;
    /** Every error expected, all from one run. */
    readonly errors: ReadonlyArray<readonly [path: string, message: string | RegExp]>;
}

const multiCases: MultiCase[] = [
    {
        title: "a typo'd permission, a tier-0 permission without justification and a duplicate app name",
        values: stack(
            app({ name: "mail-sender", permissions: [graph({ application: ["Mail.Sendd"] })] }),
            app({ name: "deployer", permissions: [graph({ application: ["Application.ReadWrite.All"] })] }),
            app({ name: "mail-sender", permissions: [graph({ application: ["Calendars.Read"] })] }),
        ),
        errors: [
            ["apps[0].permissions[0].application[0]", 'did you mean "Mail.Send"?'],
            ["apps[1].permissions[0].application[0]", "tier-0"],
            ["apps[2].name", 'duplicate app name "mail-sender" (first at apps[0])'],
        ],
    },
    {
        title: "an unknown top-level key and apps missing",
        values: { aps: [valid] },
        errors: [
            ["aps", 'did you mean "entra-rotor:apps"?'],
            ["apps", "required"],
        ],
    },
    {
        title: "several semantic errors in one app",
        values: stack(
            app({
                permissions: [
                    graph({ application: ["Mail.Sendd", "User.Read", "Calendars.Read", "Calendars.Read", "RoleManagement.ReadWrite.Directory"] }),
                    { api: "Microsoft Grpah", delegated: ["User.Read"] },
                    { api: "Azure Key Vault" },
                ],
                allowPrivileged: [{ permission: "Application.ReadWrite.All", justification }],
                owners: [guid, guid],
            }),
        ),
        errors: [
            ["apps[0].permissions[0].application[0]", 'did you mean "Mail.Send"?'],
            ["apps[0].permissions[0].application[1]", "move it under delegated"],
            ["apps[0].permissions[0].application[3]", "is listed twice"],
            ["apps[0].permissions[0].application[4]", "tier-0"],
            ["apps[0].permissions[1].api", 'did you mean "Microsoft Graph"?'],
            ["apps[0].permissions[2]", "requests no permission on Azure Key Vault"],
            ["apps[0].allowPrivileged[0].permission", "is not requested by this app"],
            ["apps[0].owners[1]", "is listed twice"],
        ],
    },
    {
        title: "several structural errors in one app, each at its own path",
        values: stack(app({ name: "Bad_Name", displayName: 42, signInAudience: "Everyone", redirectUris: ["http://app.contoso.com/cb", "https://*.contoso.com"], owners: ["me"], permisions: [] })),
        errors: [
            ["apps[0].name", "must be 3-40 lowercase letters"],
            ["apps[0].displayName", "must be a string"],
            ["apps[0].signInAudience", "must be AzureADMyOrg"],
            ["apps[0].redirectUris[0]", "must use https"],
            ["apps[0].redirectUris[1]", "contains a wildcard"],
            ["apps[0].owners[0]", "GUID"],
            ["apps[0].permisions", 'did you mean "permissions"?'],
        ],
    },
    {
        title: "structural errors in one app and semantic errors in another",
        values: stack(app({ name: "broken-app", redirectUris: "https://app.contoso.com/cb" }), app({ name: "typo-app", permissions: [graph({ delegated: ["Calendars.Raed"] })] })),
        errors: [
            ["apps[0].redirectUris", "a list of https redirect URIs"],
            ["apps[1].permissions[0].delegated[0]", 'did you mean "Calendars.Read"?'],
        ],
    },
];

describe("buildModel reports every error at once", () => {
    it.each(multiCases)("$title", ({ values, errors }) => {
        const result = build(values);
        expect(result.model).toBeUndefined();
        const actual = errorsOf(result);
        for (const [path, message] of errors) expect(actual).toContainEqual(errorAt(path, message));
        // No error is reported twice at the same path.
        expect(new Set(actual.map((issue) => `${issue.path}\n${issue.message}`)).size).toBe(actual.length);
    });
});

describe("warnings alone do not refuse the config", () => {
    it("builds the model for a tier-1 permission without justification, with a warning at its path", () => {
        const result = build(stack(valid, app({ permissions: [graph({ application: ["Mail.Send"] })] })));
        expect(errorsOf(result)).toEqual([]);
        expect(result.model).toBeDefined();
        expect(result.model!.warnings).toContainEqual(
            expect.objectContaining({ path: "apps[1].permissions[0].application[0]", severity: "warning", message: expect.stringContaining('"Mail.Send" is a tier-1') }),
        );
    });

    it("builds the model for several tier-1 permissions across apps, one warning each", () => {
        const result = build(stack(app({ name: "mail-sender", permissions: [graph({ application: ["Mail.Send", "Calendars.Read"] })] }), app({ name: "site-reader", permissions: [graph({ application: ["Sites.Selected"] })] })));
        expect(result.model).toBeDefined();
        expect(result.model!.warnings.map((w) => w.path)).toEqual(["apps[0].permissions[0].application[0]", "apps[1].permissions[0].application[0]"]);
    });

    it("builds the model for an empty apps list, with a warning", () => {
        const result = build({ apps: [] });
        expect(result.model).toBeDefined();
        expect(result.model!.apps).toEqual([]);
        expect(result.model!.warnings).toContainEqual(expect.objectContaining({ path: "apps", severity: "warning" }));
    });

    it("accepts a justified tier-0 permission and http on localhost without any issue", () => {
        const result = build(
            stack(
                app({
                    redirectUris: ["http://localhost:8080/cb", "http://127.0.0.1/cb", "https://app.contoso.com/cb"],
                    owners: [guid],
                    permissions: [graph({ application: ["Application.ReadWrite.OwnedBy"] })],
                    allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }],
                }),
            ),
        );
        expect(result.issues).toEqual([]);
        expect(result.model).toBeDefined();
    });

    it("accepts a justified tier-0 delegated permission: tier 0, with its justification", () => {
        const result = build(stack(app({ permissions: [graph({ delegated: ["openid", "Directory.AccessAsUser.All"] })], allowPrivileged: [{ permission: "Directory.AccessAsUser.All", justification }] })));
        expect(result.issues).toEqual([]);
        const [openid, directory] = result.model!.apps[0]!.permissions;
        expect([openid!.tier, openid!.justification]).toEqual([null, undefined]);
        expect(directory).toMatchObject({ kind: "delegated", name: "Directory.AccessAsUser.All", tier: 0, justification });
    });

    it("refuses the config when a warning comes with an error elsewhere", () => {
        const result = build(stack(app({ name: "mail-sender", permissions: [graph({ application: ["Mail.Send"] })] }), app({ name: "bad-app", owners: ["me"] })));
        expect(result.model).toBeUndefined();
        expect(result.issues).toContainEqual(expect.objectContaining({ path: "apps[0].permissions[0].application[0]", severity: "warning" }));
        expect(errorsOf(result)).toContainEqual(errorAt("apps[1].owners[0]", "GUID"));
    });
});

/**
 * buildModel promises to collect every problem at once ("one run reports structural and semantic errors
 * together", infra/schema.ts), but when an app fails the schema its permissions, redirect URIs and owners
 * are not checked at all. These assert the promised behaviour and fail until that is fixed.
 */
describe("semantic errors are reported even when the same app has a structural error", () => {
    const gaps: InvalidCase[] = [
        { title: "a typo'd permission next to a displayName of the wrong type", values: stack(app({ displayName: 42, permissions: [graph({ application: ["Mail.Sendd"] })] })), path: "apps[0].permissions[0].application[0]", message: 'did you mean "Mail.Send"?' },
        { title: "a tier-0 permission whose justification is a too-short placeholder", values: stack(app({ permissions: [graph({ application: ["Application.ReadWrite.All", "Mail.Sendd"] })], allowPrivileged: [{ permission: "Application.ReadWrite.All", justification: "TODO" }] })), path: "apps[0].permissions[0].application[1]", message: 'did you mean "Mail.Send"?' },
        { title: "a duplicate redirect URI next to an http one", values: stack(app({ redirectUris: ["https://app.contoso.com/cb", "http://app.contoso.com/cb", "https://app.contoso.com/cb"] })), path: "apps[0].redirectUris[2]", message: "is listed twice" },
    ];
    it.each(gaps)("$title -> $path", ({ values, path, message }) => {
        const result = build(values);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(path, message));
    });
});

describe("credential config", () => {
    const secret = (fields: Record<string, unknown> = {}) => ({ name: "main", type: "secret", ...fields });
    const withCredentials = (...credentials: unknown[]) => stack(valid, app({ credentials }));
    const cases: InvalidCase[] = [
        { title: "credentials not a list", values: stack(app({ credentials: { name: "main" } })), path: "apps[0].credentials", message: "a list of credentials" },
        { title: "credential not a mapping", values: withCredentials("main"), path: "apps[1].credentials[0]", message: 'a credential is a mapping with a name and a type (secret' },
        { title: "credential without a type", values: withCredentials({ name: "main" }), path: "apps[1].credentials[0].type", message: "required: the credential's type" },
        { title: "unknown credential type, with a suggestion", values: withCredentials(secret({ type: "secrett" })), path: "apps[1].credentials[0].type", message: 'unknown credential type "secrett" (did you mean "secret"?)' },
        { title: "credential name with capitals", values: withCredentials(secret({ name: "Main" })), path: "apps[1].credentials[0].name", message: "must be 2-32 lowercase letters" },
        { title: "credential without a name", values: withCredentials({ type: "secret" }), path: "apps[1].credentials[0].name", message: "required" },
        { title: "duplicate credential name", values: withCredentials(secret(), secret()), path: "apps[1].credentials[1].name", message: 'duplicate credential name "main" (first at apps[1].credentials[0])' },
        { title: "unknown key on a secret, with a suggestion", values: withCredentials(secret({ rotateEveryDay: 30 })), path: "apps[1].credentials[0].rotateEveryDay", message: 'unknown key "rotateEveryDay" (did you mean "rotateEveryDays"?)' },
        { title: "lifetime above two years", values: withCredentials(secret({ lifetimeDays: 800 })), path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 800 is more than 730 days" },
        { title: "lifetime too short for the rotation", values: withCredentials(secret({ rotateEveryDays: 30, lifetimeDays: 60 })), path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 60 is less than 2 x rotateEveryDays + 7 = 67: raise lifetimeDays to at least 67" },
        { title: "lifetime one day under 2R + 7 (2 x 90 + 7 = 187)", values: withCredentials(secret({ rotateEveryDays: 90, lifetimeDays: 186 })), path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 186 is less than 2 x rotateEveryDays + 7 = 187" },
        { title: "lifetime one day over two years (730)", values: withCredentials(secret({ lifetimeDays: 731 })), path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 731 is more than 730 days" },
        { title: "lifetime one day over the tenant's limit", values: { ...withCredentials(secret({ rotateEveryDays: 30, lifetimeDays: 181 })), rotation: { maxLifetimeDays: 180, rotateEveryDays: 30, lifetimeDays: 180 } }, path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 181 is more than the tenant's limit of 180 days" },
        { title: "an override that breaks the stack default lifetime", values: withCredentials(secret({ rotateEveryDays: 120 })), path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 210 is less than 2 x rotateEveryDays + 7 = 247" },
        { title: "rotation period not a whole number", values: withCredentials(secret({ rotateEveryDays: 30.5 })), path: "apps[1].credentials[0].rotateEveryDays", message: "must be a whole number of days" },
        { title: "rotation period quoted", values: withCredentials(secret({ rotateEveryDays: "30" })), path: "apps[1].credentials[0].rotateEveryDays", message: "write it without quotes" },
        { title: "lifetime above the tenant's limit", values: { ...withCredentials(secret({ rotateEveryDays: 30, lifetimeDays: 200 })), rotation: { maxLifetimeDays: 180, lifetimeDays: 180 } }, path: "apps[1].credentials[0].lifetimeDays", message: "lifetimeDays 200 is more than the tenant's limit of 180 days" },
        { title: "stack default lifetime above the tenant's limit", values: { ...withCredentials(secret()), rotation: { maxLifetimeDays: 180 } }, path: "rotation.lifetimeDays", message: "lifetimeDays 210 is more than the tenant's limit of 180 days" },
        { title: "bad tenant limit", values: { apps: [], rotation: { maxLifetimeDays: 1000 } }, path: "rotation.maxLifetimeDays", message: "maxLifetimeDays must be a whole number of days from 1 to 730" },
        { title: "epoch without a zone", values: { apps: [], rotation: { epoch: "2024-01-01T00:00:00" } }, path: "rotation.epoch", message: 'has no time zone: write "2024-01-01T00:00:00Z"' },
        { title: "unknown rotation key, with a suggestion", values: { apps: [], rotation: { lifetimeDay: 200 } }, path: "rotation.lifetimeDay", message: 'unknown key "lifetimeDay" (did you mean "lifetimeDays"?)' },
        { title: "rotation not a mapping", values: { apps: [], rotation: 90 }, path: "rotation", message: "expected a mapping, got a whole number" },
    ];

    it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
        const result = build(c.values);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(c.path, c.message));
    });

    it("reports invalid stack defaults once, not again for every credential that uses them", () => {
        const result = build({ ...stack(app({ credentials: [secret(), secret({ name: "other" })] })), rotation: { lifetimeDays: 100 }, keyVault: { name: "kv-test", resourceGroup: "rg" } });
        expect(errorsOf(result).map((e) => e.path)).toEqual(["rotation.lifetimeDays"]);
    });
});

describe("Key Vault config", () => {
    const kv = { name: "kv-test", resourceGroup: "rg" };
    const secretApp = (name: string, credentials: unknown[]) => ({ name, credentials });
    const cases: InvalidCase[] = [
        { title: "secrets without a vault", values: { apps: [secretApp("mailer", [{ name: "main", type: "secret" }])] }, path: "keyVault", message: "required: 1 credential is served from Key Vault; set entra-rotor:keyVault" },
        { title: "vault name too short", values: { apps: [], keyVault: { ...kv, name: "kv" } }, path: "keyVault.name", message: "must be 3-24 letters, digits or '-'" },
        { title: "vault without a resource group", values: { apps: [], keyVault: { name: "kv-test" } }, path: "keyVault.resourceGroup", message: "required" },
        { title: "created vault without a location", values: { apps: [], keyVault: { ...kv, create: true } }, path: "keyVault.location", message: "required when create: true" },
        { title: "creation settings on an existing vault", values: { apps: [], keyVault: { ...kv, purgeProtection: false } }, path: "keyVault.purgeProtection", message: "only applies to a vault the stack creates" },
        { title: "soft-delete retention out of range", values: { apps: [], keyVault: { ...kv, create: true, location: "westeurope", softDeleteRetentionDays: 120 } }, path: "keyVault.softDeleteRetentionDays", message: "7 to 90 days" },
        { title: "unknown identity mode", values: { apps: [], keyVault: { ...kv, identity: "both" } }, path: "keyVault.identity", message: '"secrets" (default) or "json"' },
        { title: "unknown vault key, with a suggestion", values: { apps: [], keyVault: { ...kv, resourcegroup: "rg" } }, path: "keyVault.resourcegroup", message: 'did you mean "resourceGroup"?' },
        { title: "invalid secret name override", values: { apps: [secretApp("mailer", [{ name: "main", type: "secret", keyVaultSecretName: "mailer_main" }])], keyVault: kv }, path: "apps[0].credentials[0]", message: '"mailer_main" is not a valid Key Vault secret name' },
        { title: "two apps whose secret names collide", values: { apps: [secretApp("mail", [{ name: "sender-main", type: "secret" }]), secretApp("mail-sender", [{ name: "main", type: "secret" }])], keyVault: kv }, path: "apps[1].credentials[0]", message: 'the Key Vault secret "mail-sender-main" (the served credential) is already used by apps[0].credentials[0]' },
        { title: "a credential named like the identity secret", values: { apps: [secretApp("mail", [{ name: "client-id", type: "secret" }])], keyVault: kv }, path: "apps[0].credentials[0]", message: 'the Key Vault secret "mail-client-id" (the served credential) is already used by apps[0] (the app\'s clientId)' },
    ];

    it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
        const result = build(c.values);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(c.path, c.message));
    });
});

describe("certificate config", () => {
    const kv = { name: "kv-test", resourceGroup: "rg" };
    const withCertificate = (fields: Record<string, unknown>) => ({ apps: [{ name: "importer", credentials: [{ name: "cert", type: "certificate", ...fields }] }], keyVault: kv });
    const fixture = (file: string) => `test/fixtures/certificates/${file}`;
    const cases: InvalidCase[] = [
        { title: "key size not allowed", values: withCertificate({ keySize: 1024 }), path: "apps[0].credentials[0].keySize", message: "2048 (default), 3072 or 4096" },
        { title: "missing certificate file", values: withCertificate({ file: "certs/nope.cer" }), path: "apps[0].credentials[0].file", message: "certs/nope.cer" },
        { title: "certificate file with a private key", values: withCertificate({ file: fixture("cert-and-key.pem") }), path: "apps[0].credentials[0].file", message: "private key" },
        { title: "RSA 1024 certificate file", values: withCertificate({ file: fixture("rsa1024.pem") }), path: "apps[0].credentials[0].file", message: "2048" },
        { title: "EC certificate file", values: withCertificate({ file: fixture("ec-p256.crt") }), path: "apps[0].credentials[0].file", message: "RSA" },
        { title: "a request, not a certificate", values: withCertificate({ file: fixture("request.csr") }), path: "apps[0].credentials[0].file", message: "request" },
        { title: "rotation knobs on a certificate file", values: withCertificate({ file: fixture("rsa2048.pem"), rotateEveryDays: 30 }), path: "apps[0].credentials[0].rotateEveryDays", message: "does not apply to a certificate from a file" },
        { title: "pfx of a certificate file (no private key to pack)", values: withCertificate({ file: fixture("rsa2048.pem"), pfx: true }), path: "apps[0].credentials[0].pfx", message: "does not apply to a certificate from a file" },
        { title: "pfx not a boolean", values: withCertificate({ pfx: "yes" }), path: "apps[0].credentials[0].pfx", message: "PKCS#12" },
        {
            title: "pfx secret name taken by another credential",
            values: { apps: [{ name: "importer", credentials: [{ name: "cert", type: "certificate", pfx: true }, { name: "cert-pfx", type: "secret" }] }], keyVault: kv },
            path: "apps[0].credentials[1]",
            message: `the Key Vault secret "importer-cert-pfx" (the served credential) is already used by apps[0].credentials[0] (the served credential's PFX)`,
        },
        {
            title: "pfx secret name too long",
            values: withCertificate({ pfx: true, keyVaultSecretName: "k".repeat(125) }),
            path: "apps[0].credentials[0]",
            message: `"${"k".repeat(125)}-pfx" is not a valid Key Vault secret name`,
        },
    ];

    it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
        const result = buildModel({ project: "entra-rotor", stack: "test", values: c.values, source: "Pulumi.test.yaml", baseDir: process.cwd() }, now);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(c.path, c.message));
    });

    it("makes a certificate file that expired with time that credential's error, not the stack's, naming the date", () => {
        const later = new Date("2036-01-01T00:00:00Z");
        const result = buildModel({ project: "entra-rotor", stack: "test", values: withCertificate({ file: fixture("rsa2048.cer") }), source: "t", baseDir: process.cwd() }, later);
        // The stack still builds: every other credential plans and deploys.
        expect(errorsOf(result)).toEqual([]);
        const model = result.model!;
        expect(model.credentialErrors).toEqual([errorAt("apps[0].credentials[0].file", "expired on 2035-01-01")]);
        expect(model.credentialErrors[0]!.message).toMatch(/issue a new certificate and update the file/);
        expect(model.apps[0]!.certificateFiles[0]!.error).toMatch(/expired on 2035-01-01/);
    });

    it("makes a certificate file not yet valid that credential's error too", () => {
        const earlier = new Date("2024-06-01T00:00:00Z");
        const result = buildModel({ project: "entra-rotor", stack: "test", values: withCertificate({ file: fixture("rsa2048.cer") }), source: "t", baseDir: process.cwd() }, earlier);
        expect(errorsOf(result)).toEqual([]);
        expect(result.model!.credentialErrors).toEqual([errorAt("apps[0].credentials[0].file", "is not valid until")]);
    });

    it("still refuses an expired certificate file whose entry has other mistakes, with them all", () => {
        const later = new Date("2036-01-01T00:00:00Z");
        const result = buildModel({ project: "entra-rotor", stack: "test", values: withCertificate({ file: fixture("rsa2048.cer"), rotateEveryDays: 30 }), source: "t", baseDir: process.cwd() }, later);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt("apps[0].credentials[0].rotateEveryDays", "does not apply"));
    });
});

describe("redirect URIs of every platform, tags and existing credentials", () => {
    const withApp = (fields: Record<string, unknown>) => ({ apps: [{ name: "portal-app", ...fields }] });
    const cases: InvalidCase[] = [
        { title: "an http SPA redirect URI", values: withApp({ spaRedirectUris: ["http://app.contoso.com/spa"] }), path: "apps[0].spaRedirectUris[0]", message: "must use https" },
        { title: "a wildcard public client redirect URI", values: withApp({ publicClientRedirectUris: ["myapp://*"] }), path: "apps[0].publicClientRedirectUris[0]", message: "wildcard" },
        { title: "an http public client redirect URI off localhost", values: withApp({ publicClientRedirectUris: ["http://desktop.contoso.com/cb"] }), path: "apps[0].publicClientRedirectUris[0]", message: "must not use http except for localhost" },
        { title: "a relative public client redirect URI", values: withApp({ publicClientRedirectUris: ["auth/callback"] }), path: "apps[0].publicClientRedirectUris[0]", message: "not an absolute URI" },
        { title: "a repeated SPA redirect URI", values: withApp({ spaRedirectUris: ["https://a.contoso.com", "https://a.contoso.com"] }), path: "apps[0].spaRedirectUris[1]", message: "listed twice" },
        { title: "a tag of the stack's own", values: withApp({ tags: ["entra-rotor:other/prod"] }), path: "apps[0].tags[0]", message: "the stack's own" },
        { title: "an empty tag", values: withApp({ tags: [""] }), path: "apps[0].tags[0]", message: "must not be empty" },
        { title: "a repeated tag", values: withApp({ tags: ["HideApp", "HideApp"] }), path: "apps[0].tags[1]", message: "listed twice" },
        { title: "an existing credential without a key id", values: withApp({ existing: [{ kind: "secret", expires: "2027-05-01T00:00:00Z" }] }), path: "apps[0].existing[0].keyId", message: "required" },
        { title: "an existing credential of another kind", values: withApp({ existing: [{ keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "password", expires: "2027-05-01T00:00:00Z" }] }), path: "apps[0].existing[0].kind", message: "secret (a client secret) or certificate" },
        { title: "an existing credential's expiry without a zone", values: withApp({ existing: [{ keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", expires: "2027-05-01" }] }), path: "apps[0].existing[0].expires", message: "with its zone" },
        { title: "an existing credential listed twice", values: withApp({ existing: [0, 1].map(() => ({ keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", expires: "2027-05-01T00:00:00Z" })) }), path: "apps[0].existing[1].keyId", message: "listed twice" },
        { title: "retire as a string", values: withApp({ existing: [{ keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", expires: "2027-05-01T00:00:00Z", retire: "yes" }] }), path: "apps[0].existing[0].retire", message: "true to have rotor retire remove it" },
    ];
    it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
        const result = buildModel({ project: "entra-rotor", stack: "test", values: c.values, source: "Pulumi.test.yaml", baseDir: process.cwd() }, now);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(c.path, c.message));
    });
});

describe("adopt config", () => {
    const withAdopt = (adopt: unknown) => ({ apps: [{ name: "legacy-app", adopt }] });
    const cases: InvalidCase[] = [
        { title: "adopt without the service principal", values: withAdopt({ application: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10" }), path: "apps[0].adopt.servicePrincipal", message: "Enterprise applications" },
        { title: "adopt with a name, not an object id", values: withAdopt({ application: "Legacy App", servicePrincipal: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09" }), path: "apps[0].adopt.application", message: "a GUID (not its client id)" },
        { title: "adopt as a string", values: withAdopt("0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10"), path: "apps[0].adopt", message: "{application, servicePrincipal}" },
    ];
    it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
        const result = buildModel({ project: "entra-rotor", stack: "test", values: c.values, source: "Pulumi.test.yaml", baseDir: process.cwd() }, now);
        expect(result.model).toBeUndefined();
        expect(errorsOf(result)).toContainEqual(errorAt(c.path, c.message));
    });

    it("accepts both object ids and keeps them in the model", () => {
        const result = buildModel({ project: "entra-rotor", stack: "test", values: withAdopt({ application: "0F6E1F4E-8A51-4A1D-9A33-2F1D7C7F9A10", servicePrincipal: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09" }), source: "t", baseDir: process.cwd() }, now);
        expect(result.model!.apps[0]!.adopt).toEqual({ application: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", servicePrincipal: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09", appRoleAssignments: {}, delegatedGrants: {} });
    });
});

describe("one run lists every mistake, also those behind another", () => {
    const kv = { name: "kv-test", resourceGroup: "rg" };
    const fixture = (file: string) => `test/fixtures/certificates/${file}`;
    const buildAt = (values: Record<string, unknown>) => buildModel({ project: "entra-rotor", stack: "test", values, source: "Pulumi.test.yaml", baseDir: process.cwd() }, now);

    it("checks certificate files whose entries have invalid names", () => {
        const bad = ["rsa1024.pem", "ec-p256.crt", "request.csr", "cert-and-key.pem"];
        const result = buildAt({ apps: [{ name: "importer", credentials: bad.map((file, i) => ({ name: `Bad Name ${i}`, type: "certificate", file: fixture(file) })) }], keyVault: kv });
        const errors = errorsOf(result);
        bad.forEach((_, i) => {
            expect(errors).toContainEqual(errorAt(`apps[0].credentials[${i}].name`, ""));
            expect(errors).toContainEqual(errorAt(`apps[0].credentials[${i}].file`, ""));
        });
    });

    it("says an allowance is for a permission the app does not request, even when its justification is too short", () => {
        const result = build(stack(app({ permissions: [graph({ application: ["Calendars.Read"] })], allowPrivileged: [{ permission: "Mail.Send", justification: "short" }] })));
        const errors = errorsOf(result);
        expect(errors).toContainEqual(errorAt("apps[0].allowPrivileged[0].justification", ""));
        expect(errors).toContainEqual(errorAt("apps[0].allowPrivileged[0].permission", '"Mail.Send" is not requested by this app'));
    });

    it("asks for the vault beside the schema errors of the apps that need it", () => {
        const result = build(stack(app({ displayName: 42, credentials: [{ name: "main", type: "secret" }] })));
        const errors = errorsOf(result);
        expect(errors).toContainEqual(errorAt("apps[0].displayName", ""));
        expect(errors).toContainEqual(errorAt("keyVault", "required: 1 credential is served from Key Vault"));
    });
});
