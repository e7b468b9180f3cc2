import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphClient } from "../azure/graph";
import { stackApplications } from "../cli/live/collect";
import { buildModel, buildModelOrThrow } from "../infra/model/model";
import { applicationTags } from "../infra/program";
import { appTag, stackTag } from "../rotation/identifiers";
import { operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import { runProgram } from "./support/program";
import { types } from "./support/pulumiMocks";

/**
 * An app registration made in the portal and taken over with `adopt`: the program registers it exactly as Entra
 * holds it (importing a resource whose inputs differ fails, or on newer engines imports and then updates it),
 * so the stack's tags wait until `adopt` is removed, and the live commands find it by its object id meanwhile.
 */

const now = new Date("2027-03-01T06:00:00Z");
const adopt = { application: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", servicePrincipal: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09" };
const values = {
    apps: [
        {
            name: "legacy-app",
            displayName: "Legacy App",
            tags: ["HideApp"],
            spaRedirectUris: ["https://legacy.contoso.com/spa"],
            publicClientRedirectUris: ["msal0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10://auth"],
            adopt,
        },
        { name: "new-app", tags: ["owner:finance"] },
    ],
};

describe("an adopted app registration", () => {
    it("is registered with its own tags only while adopted; a new app also gets the stack's", () => {
        const model = buildModelOrThrow({ project: "entra-rotor", stack: "dev", values, source: "t" }, now);
        expect(applicationTags(model, model.apps[0]!)).toEqual(["HideApp"]);
        expect(applicationTags(model, model.apps[1]!)).toEqual(["owner:finance", stackTag("entra-rotor", "dev"), appTag("entra-rotor", "dev", "new-app")]);
        const released = { ...model.apps[0]!, adopt: undefined };
        expect(applicationTags(model, released)).toEqual(["HideApp", stackTag("entra-rotor", "dev"), appTag("entra-rotor", "dev", "legacy-app")]);
    });

    it("is registered with its redirect URIs of every platform and its tags, imported by its object ids", async () => {
        const { mocks } = await runProgram(values, { now });
        const application = mocks.ofType(types.application).find((r) => r.name === "legacy-app-app")!;
        expect(application.importId).toBe(`/applications/${adopt.application}`);
        expect(application.inputs["tags"]).toEqual(["HideApp"]);
        expect(application.inputs["singlePageApplication"]).toEqual({ redirectUris: ["https://legacy.contoso.com/spa"] });
        expect(application.inputs["publicClient"]).toEqual({ redirectUris: ["msal0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10://auth"] });
        expect(application.inputs["web"]).toBeUndefined();
        expect(mocks.ofType(types.servicePrincipal).find((r) => r.name === "legacy-app-sp")!.importId).toBe(`/servicePrincipals/${adopt.servicePrincipal}`);
    });
});

describe("the consent an adopted app already has", () => {
    const graphSp = "8a1e5c2b-3d4f-4e6a-9b7c-0d1e2f3a4b5c";
    const withConsent = (consent: Record<string, unknown>) => ({
        apps: [
            {
                name: "legacy-app",
                permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"], delegated: ["User.Read", "offline_access"] }],
                adopt: { ...adopt, ...consent },
            },
        ],
    });

    it("is imported, not granted again: each app role assignment and delegated grant by its id", async () => {
        const values = withConsent({
            appRoleAssignments: [{ api: "Microsoft Graph", permission: "User.Read.All", id: "Kp7wQ1nB8ESkq5mVt3xY0aZ2cD4eF6gH", resource: graphSp }],
            delegatedGrants: [{ api: "00000003-0000-0000-c000-000000000000", id: "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefg" }],
        });
        const model = buildModelOrThrow({ project: "entra-rotor", stack: "dev", values, source: "t" }, now);
        expect(model.apps[0]!.adopt).toEqual({
            application: adopt.application,
            servicePrincipal: adopt.servicePrincipal,
            appRoleAssignments: { "msgraph/User.Read.All": `/servicePrincipals/${graphSp}/appRoleAssignedTo/Kp7wQ1nB8ESkq5mVt3xY0aZ2cD4eF6gH` },
            delegatedGrants: { msgraph: "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefg" },
        });
        const { mocks } = await runProgram(values, { now });
        expect(mocks.ofType(types.appRoleAssignment).map((r) => r.importId)).toEqual([`/servicePrincipals/${graphSp}/appRoleAssignedTo/Kp7wQ1nB8ESkq5mVt3xY0aZ2cD4eF6gH`]);
        expect(mocks.ofType(types.delegatedGrant).map((r) => r.importId)).toEqual(["aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefg"]);
    });

    it("names only what the app requests, once", () => {
        const result = buildModel(
            {
                project: "entra-rotor",
                stack: "dev",
                source: "t",
                values: withConsent({
                    appRoleAssignments: [
                        { api: "Microsoft Graph", permission: "Mail.Send", id: "Kp7wQ1nB8ESkq5mVt3xY0aZ2cD4eF6gH", resource: graphSp },
                        { api: "Microsoft Graph", permission: "User.Read.All", id: "Kp7wQ1nB8ESkq5mVt3xY0aZ2cD4eF6gH", resource: graphSp },
                        { api: "Microsoft Graph", permission: "User.Read.All", id: "Lq8xR2oC9FTlr6nWu4yZ1bA3dE5fG7hI", resource: graphSp },
                    ],
                    delegatedGrants: [{ api: "Office 365 Exchange Online", id: "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefg" }],
                }),
            },
            now,
        );
        expect(result.model).toBeUndefined();
        expect(result.issues.filter((i) => i.severity === "error").map((i) => i.path)).toEqual([
            "apps[0].adopt.appRoleAssignments[0]",
            "apps[0].adopt.appRoleAssignments[2]",
            "apps[0].adopt.delegatedGrants[0]",
        ]);
    });
});

describe("what else an adopted app holds as Entra holds it", () => {
    const fic = "5d9b2a1c-7e4f-4c3b-9a8d-1e2f3a4b5c6d";
    const app = (adoptExtra: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
        apps: [
            {
                name: "legacy-app",
                permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"], delegated: ["User.Read", "offline_access"] }],
                credentials: [{ name: "deploy", type: "federated", github: { repo: "contoso/legacy", environment: "production" } }],
                adopt: { ...adopt, ...adoptExtra },
                ...more,
            },
        ],
    });

    it("imports its federated credentials by azuread's id, <object id>/federatedIdentityCredential/<id>, not creating them again", async () => {
        const values = app({ federatedCredentials: [{ name: "deploy", id: fic }] });
        const { mocks } = await runProgram(values, { now });
        expect(mocks.ofType(types.federatedIdentityCredential).map((r) => r.importId)).toEqual([`${adopt.application}/federatedIdentityCredential/${fic}`]);
        const wrong = buildModel({ project: "entra-rotor", stack: "dev", source: "t", values: app({ federatedCredentials: [{ name: "other", id: fic }, { name: "deploy", id: fic }, { name: "deploy", id: fic }] }) }, now);
        expect(wrong.issues.filter((i) => i.severity === "error").map((i) => i.path)).toEqual(["apps[0].adopt.federatedCredentials[0]", "apps[0].adopt.federatedCredentials[2]"]);
    });

    it("requests its permissions in the order Entra holds them, and the order lists each requested permission once", async () => {
        const order = ["delegated:User.Read", "application:User.Read.All", "delegated:offline_access"];
        const { mocks } = await runProgram(app({ permissionOrder: [{ api: "Microsoft Graph", order }] }), { now });
        const requested = mocks.ofType(types.application)[0]!.inputs["requiredResourceAccesses"] as { resourceAccesses: { type: string }[] }[];
        expect(requested[0]!.resourceAccesses.map((a) => a.type)).toEqual(["Scope", "Role", "Scope"]);
        // Without an order: application permissions first, as for any app.
        const plain = await runProgram(app({}), { now });
        const defaults = plain.mocks.ofType(types.application)[0]!.inputs["requiredResourceAccesses"] as { resourceAccesses: { type: string }[] }[];
        expect(defaults[0]!.resourceAccesses.map((a) => a.type)).toEqual(["Role", "Scope", "Scope"]);

        const bad = (o: readonly string[], api = "Microsoft Graph") => buildModel({ project: "entra-rotor", stack: "dev", source: "t", values: app({ permissionOrder: [{ api, order: o }] }) }, now).issues.filter((i) => i.severity === "error");
        expect(bad(["delegated:User.Read", "application:User.Read.All"])[0]).toMatchObject({ path: "apps[0].adopt.permissionOrder[0].order", message: expect.stringContaining("it lacks delegated:offline_access") });
        expect(bad([...order, "application:Mail.Send"])[0]!.message).toContain("the app does not request application:Mail.Send");
        expect(bad([...order, "delegated:User.Read"])[0]!.message).toContain("lists a permission twice");
        expect(bad(order, "Office 365 Exchange Online")[0]).toMatchObject({ path: "apps[0].adopt.permissionOrder[0]", message: expect.stringContaining("requests no permission on Office 365 Exchange Online") });
        expect(bad(["User.Read"])[0]!.message).toContain("application:<name> or delegated:<name>");
    });
});

describe("the live commands find an adopted app by its object id", () => {
    let emulator: Emulator;
    beforeAll(async () => {
        emulator = await startEmulator({ now });
    });
    afterAll(async () => {
        await emulator.close();
    });

    it("reads it although it carries none of the stack's tags, and a tagged one as before", async () => {
        emulator.state.addApplication({ id: adopt.application, displayName: "Legacy App", tags: ["HideApp"] });
        const tagged = emulator.state.addApplication({ displayName: "New App", tags: [stackTag("entra-rotor", "dev"), appTag("entra-rotor", "dev", "new-app")] });
        const reader = operator(emulator);
        const graph = new GraphClient(emulator.graphEndpoint, reader.credential, "https://graph.microsoft.com/.default", { maxRetries: 1 });
        const model = buildModelOrThrow({ project: "entra-rotor", stack: "dev", values, source: "t" }, now);
        const found = await stackApplications(model, graph);
        expect(found.get("legacy-app")?.id).toBe(adopt.application);
        expect(found.get("new-app")?.id).toBe(tagged.id);
        // An adopted app deleted in the meantime is simply not found (status reports it missing), never an error.
        const gone = buildModelOrThrow({ project: "entra-rotor", stack: "dev", values: { apps: [{ name: "vanished", adopt: { ...adopt, application: "9d3c2b1a-0f6e-4a1d-8a51-2f1d7c7f9a10" } }] }, source: "t" }, now);
        expect((await stackApplications(gone, graph)).has("vanished")).toBe(false);
    });
});
