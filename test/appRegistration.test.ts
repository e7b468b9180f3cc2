import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { type ApiAccess, AppRegistration, validateApiAccess } from "../components/appRegistration";
import { ProviderMocks, guidFrom, mockTenantId, settle, types, valueOf } from "./support/pulumiMocks";

const graph = "00000003-0000-0000-c000-000000000000";
const graphSp = guidFrom("graph-sp");
const mailSend = { value: "Mail.Send", id: "b633e1c5-b582-4048-a93e-9f11b44c7e96" };
const userReadAll = { value: "User.Read.All", id: "df021288-bdef-4463-88db-98f22de89214" };
const calendarsRead = { value: "Calendars.Read", id: "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42" };
const offlineAccess = { value: "offline_access", id: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182" };

let mocks: ProviderMocks;
beforeEach(async () => {
    mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "test", false);
});

async function register(args: ConstructorParameters<typeof AppRegistration>[1]): Promise<AppRegistration> {
    const app = new AppRegistration("mail", args);
    await valueOf(app.servicePrincipalObjectId);
    await settle();
    return app;
}

describe("validateApiAccess", () => {
    const access = (over: Partial<ApiAccess>): ApiAccess => ({ resourceAppId: graph, slug: "msgraph", resourceObjectId: graphSp, appRoles: [mailSend], scopes: [], ...over });

    it("accepts distinct APIs and permissions", () => {
        expect(validateApiAccess([access({}), access({ resourceAppId: guidFrom("other"), slug: "other" })])).toEqual([]);
    });

    it("rejects an API twice, a permission twice and an empty API", () => {
        expect(validateApiAccess([access({}), access({ slug: "again" })])).toEqual([`API ${graph} is listed more than once`]);
        expect(validateApiAccess([access({ appRoles: [mailSend, mailSend] })])).toEqual([`application permission Mail.Send on ${graph} is listed more than once`]);
        expect(validateApiAccess([access({ appRoles: [] })])).toEqual([`API ${graph} requests no permission`]);
    });

    it("checks an adopted app's permission order: each of the API's permissions once, on an API it requests", () => {
        const both = access({ scopes: [calendarsRead] });
        expect(validateApiAccess([both], { msgraph: ["Scope/Calendars.Read", "Role/Mail.Send"] })).toEqual([]);
        const problem = `the permission order of ${graph} must list each of its permissions once (Role/Mail.Send, Scope/Calendars.Read)`;
        expect(validateApiAccess([both], { msgraph: ["Scope/Calendars.Read"] })).toEqual([problem]);
        expect(validateApiAccess([both], { msgraph: ["Scope/Calendars.Read", "Role/Mail.Send", "Role/Mail.Send"] })).toEqual([problem]);
        expect(validateApiAccess([both], { msgraph: ["Scope/Calendars.Read", "Role/User.Read.All"] })).toEqual([problem]);
        expect(validateApiAccess([both], { other: ["Role/Mail.Send"] })).toEqual(['the permission order of API slug "other" names no API the app requests']);
    });

    it("makes the component throw before registering anything", () => {
        expect(() => new AppRegistration("bad", { displayName: "Bad", apiAccess: [access({ appRoles: [] })] })).toThrow(/requests no permission/);
        expect(mocks.resources).toEqual([]);
    });
});

describe("AppRegistration", () => {
    it("registers an application, its service principal and nothing else when no permission is requested", async () => {
        const app = await register({ displayName: "Mail" });
        expect(mocks.resources.map((r) => r.type).sort()).toEqual([types.application, types.servicePrincipal, types.appRegistration].sort());
        const application = mocks.ofType(types.application)[0]!;
        expect(application.name).toBe("mail-app");
        expect(application.inputs["signInAudience"]).toBe("AzureADMyOrg");
        // Least privilege: nothing requested means nothing, not even User.Read.
        expect(application.inputs["requiredResourceAccesses"] ?? []).toEqual([]);
        expect(application.inputs["web"]).toBeUndefined();
        expect(await valueOf(app.applicationId)).toMatch(/^\/applications\/[0-9a-f-]{36}$/);
    });

    it("exposes the ids the provider returns", async () => {
        const app = await register({ displayName: "Mail" });
        const application = mocks.ofType(types.application)[0]!;
        const sp = mocks.ofType(types.servicePrincipal)[0]!;
        expect(await valueOf(app.clientId)).toBe(application.state["clientId"]);
        expect(await valueOf(app.objectId)).toBe(application.state["objectId"]);
        expect(await valueOf(app.applicationId)).toBe(`/applications/${String(application.state["objectId"])}`);
        expect(await valueOf(app.servicePrincipalObjectId)).toBe(sp.state["objectId"]);
        expect(await valueOf(app.tenantId)).toBe(mockTenantId);
        expect(sp.inputs["clientId"]).toBe(application.state["clientId"]);
    });

    it("requests exactly the declared permissions and consents to each with its own resource", async () => {
        const app = await register({
            displayName: "Mail",
            redirectUris: ["https://mail.contoso.com/callback"],
            owners: [guidFrom("owner")],
            apiAccess: [{ resourceAppId: graph, slug: "msgraph", resourceObjectId: graphSp, appRoles: [mailSend, userReadAll], scopes: [calendarsRead, offlineAccess] }],
        });
        const application = mocks.ofType(types.application)[0]!;
        expect(application.inputs["requiredResourceAccesses"]).toEqual([
            {
                resourceAppId: graph,
                resourceAccesses: [
                    { id: mailSend.id, type: "Role" },
                    { id: userReadAll.id, type: "Role" },
                    { id: calendarsRead.id, type: "Scope" },
                    { id: offlineAccess.id, type: "Scope" },
                ],
            },
        ]);
        expect(application.inputs["web"]).toEqual({ redirectUris: ["https://mail.contoso.com/callback"] });
        expect(application.inputs["owners"]).toEqual([guidFrom("owner")]);

        const spObjectId = await valueOf(app.servicePrincipalObjectId);
        const assignments = mocks.ofType(types.appRoleAssignment);
        expect(assignments.map((a) => ({ name: a.name, ...a.inputs }))).toEqual([
            { name: "mail-role-msgraph-Mail.Send", appRoleId: mailSend.id, principalObjectId: spObjectId, resourceObjectId: graphSp },
            { name: "mail-role-msgraph-User.Read.All", appRoleId: userReadAll.id, principalObjectId: spObjectId, resourceObjectId: graphSp },
        ]);
        const grants = mocks.ofType(types.delegatedGrant);
        expect(grants).toHaveLength(1);
        expect(grants[0]!.name).toBe("mail-grant-msgraph");
        // No userObjectId: consent for all principals.
        expect(grants[0]!.inputs).toEqual({ servicePrincipalObjectId: spObjectId, resourceServicePrincipalObjectId: graphSp, claimValues: ["Calendars.Read", "offline_access"] });
        expect(Object.keys(app.appRoleAssignments)).toEqual(["msgraph/Mail.Send", "msgraph/User.Read.All"]);
    });

    it("makes one delegated grant per API and none for an API with application permissions only", async () => {
        await register({
            displayName: "Mail",
            apiAccess: [
                { resourceAppId: graph, slug: "msgraph", resourceObjectId: graphSp, appRoles: [mailSend], scopes: [] },
                { resourceAppId: guidFrom("api"), slug: "orders", resourceObjectId: guidFrom("api-sp"), appRoles: [], scopes: [{ value: "Orders.Read", id: guidFrom("scope") }] },
            ],
        });
        expect(mocks.ofType(types.delegatedGrant).map((g) => g.name)).toEqual(["mail-grant-orders"]);
        expect(mocks.ofType(types.appRoleAssignment).map((g) => g.name)).toEqual(["mail-role-msgraph-Mail.Send"]);
    });

    it("follows Pulumi's component conventions: type token, children named from it and parented to it", async () => {
        const app = await register({ displayName: "Mail", apiAccess: [{ resourceAppId: graph, slug: "msgraph", resourceObjectId: graphSp, appRoles: [mailSend], scopes: [calendarsRead] }] });
        expect(await valueOf(app.urn)).toBe("urn:pulumi:test::entra-rotor::entra-rotor:index:AppRegistration::mail");
        const children = [app.application, app.servicePrincipal, ...Object.values(app.appRoleAssignments), ...Object.values(app.delegatedGrants)];
        for (const child of children) {
            const urn = await valueOf(child.urn);
            expect(urn).toMatch(/^urn:pulumi:test::entra-rotor::entra-rotor:index:AppRegistration\$azuread:index\/[A-Za-z]+:[A-Za-z]+::mail-/);
        }
    });
});

describe("adopting a registration made in the portal", () => {
    const adopt = { application: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", servicePrincipal: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09" };

    it("imports the application and its service principal by their object ids instead of creating them", async () => {
        await register({ displayName: "Mail", adopt });
        expect(mocks.ofType(types.application)[0]).toMatchObject({ importId: `/applications/${adopt.application}`, id: `/applications/${adopt.application}` });
        expect(mocks.ofType(types.servicePrincipal)[0]).toMatchObject({ importId: `/servicePrincipals/${adopt.servicePrincipal}` });
    });

    it("creates them when not adopting", async () => {
        await register({ displayName: "Mail" });
        expect(mocks.ofType(types.application)[0]!.importId).toBeUndefined();
    });
});
