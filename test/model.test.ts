import { describe, expect, it } from "vitest";
import { findApi } from "../infra/model/catalog";
import { buildModel, buildModelOrThrow } from "../infra/model/model";
import { closest } from "../infra/model/suggest";

const now = new Date("2026-11-23T06:07:08.999Z");
const build = (apps: unknown[]) => buildModelOrThrow({ project: "entra-rotor", stack: "test", source: "test", values: { apps } }, now);

describe("buildModel on valid config", () => {
    it("fills defaults: display name from the name, single tenant, no redirect URIs, no owners, no permissions", () => {
        const model = build([{ name: "bare-app" }]);
        expect(model.at).toBe("2026-11-23T06:07:08Z");
        expect(model.apps[0]).toEqual({
            name: "bare-app",
            displayName: "bare-app",
            signInAudience: "AzureADMyOrg",
            redirectUris: [],
            spaRedirectUris: [],
            publicClientRedirectUris: [],
            tags: [],
            owners: [],
            permissions: [],
            credentials: [],
            certificateFiles: [],
            existing: [],
            federatedCredentials: [],
            identitySecrets: {},
            path: "apps[0]",
        });
        expect(model.apis).toEqual([]);
    });

    it("reads the single-page and public client redirect URIs, the app's own tags and its existing credentials", () => {
        const model = build([
            {
                name: "portal-app",
                spaRedirectUris: ["https://app.contoso.com/spa", "http://localhost:3000"],
                publicClientRedirectUris: ["msal6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7://auth", "http://localhost"],
                tags: ["HideApp", "owner:finance"],
                existing: [
                    { keyId: "0F6E1F4E-8A51-4A1D-9A33-2F1D7C7F9A10", kind: "secret", displayName: "made in the portal", expires: "2027-05-01T00:00:00Z" },
                    { keyId: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09", kind: "certificate", expires: "2028-01-01T12:00:00+01:00", retire: true },
                ],
            },
        ]);
        const app = model.apps[0]!;
        expect(app.spaRedirectUris).toEqual(["https://app.contoso.com/spa", "http://localhost:3000"]);
        expect(app.publicClientRedirectUris).toEqual(["msal6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7://auth", "http://localhost"]);
        expect(app.tags).toEqual(["HideApp", "owner:finance"]);
        expect(app.existing).toEqual([
            { keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", displayName: "made in the portal", expires: "2027-05-01T00:00:00Z", retire: false, path: "apps[0].existing[0]" },
            { keyId: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09", kind: "certificate", displayName: null, expires: "2028-01-01T12:00:00+01:00", retire: true, path: "apps[0].existing[1]" },
        ]);
    });

    it("resolves Graph names to catalog ids with tier and consent, in declaration order", () => {
        const model = build([{ name: "reader", permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"], delegated: ["User.Read"] }] }]);
        expect(model.apps[0]!.permissions.map(({ api, ...p }) => ({ api: api.displayName, ...p }))).toEqual([
            { api: "Microsoft Graph", kind: "application", name: "User.Read.All", catalogId: "df021288-bdef-4463-88db-98f22de89214", tier: 2, adminConsentRequired: true, path: "apps[0].permissions[0].application[0]" },
            { api: "Microsoft Graph", kind: "delegated", name: "User.Read", catalogId: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", tier: null, adminConsentRequired: false, path: "apps[0].permissions[0].delegated[0]" },
        ]);
    });

    it("treats Graph's appId like its name, and other APIs by name or appId without an offline catalog", () => {
        const model = build([
            { name: "by-appid", permissions: [{ api: "00000003-0000-0000-C000-000000000000", application: ["Mail.Read"] }] },
            { name: "exchange", permissions: [{ api: "office 365 exchange online", application: ["full_access_as_app"] }] },
            { name: "custom-api", permissions: [{ api: "6d2c1c4a-5a0e-4e8f-9a59-3f2b9b1c7e11", application: ["Orders.Read"] }] },
        ]);
        expect(model.apps[0]!.permissions[0]!.catalogId).toBe("810c84a8-4a9e-49e6-bf7d-12d183f40d01");
        expect(model.apps[1]!.permissions[0]).toMatchObject({ name: "full_access_as_app", tier: null, adminConsentRequired: true });
        expect(model.apps[1]!.permissions[0]!.catalogId).toBeUndefined();
        expect(model.apps[1]!.permissions[0]!.api).toMatchObject({ appId: "00000002-0000-0ff1-ce00-000000000000", slug: "exchange" });
        expect(model.apps[2]!.permissions[0]!.api).toMatchObject({ appId: "6d2c1c4a-5a0e-4e8f-9a59-3f2b9b1c7e11", slug: "6d2c1c4a-5a0e-4e8f-9a59-3f2b9b1c7e11" });
        // One lookup per distinct API for the whole stack.
        expect(model.apis.map((api) => api.appId)).toEqual([
            "00000002-0000-0ff1-ce00-000000000000",
            "00000003-0000-0000-c000-000000000000",
            "6d2c1c4a-5a0e-4e8f-9a59-3f2b9b1c7e11",
        ]);
    });

    it("accepts a tier-0 permission with a justification and carries it into the model", () => {
        const justification = "Creates and rotates the app registrations it owns, nothing else.";
        const model = build([
            { name: "deployer", permissions: [{ api: "Microsoft Graph", application: ["Application.ReadWrite.OwnedBy"] }], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification }] },
        ]);
        expect(model.apps[0]!.permissions[0]).toMatchObject({ tier: 0, justification });
        expect(model.warnings).toEqual([]);
    });

    it("warns on a tier-1 permission unless it is justified", () => {
        const unjustified = buildModel({ project: "entra-rotor", stack: "t", source: "t", values: { apps: [{ name: "mailer", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }] }] } }, now);
        expect(unjustified.model?.warnings).toEqual([{ path: "apps[0].permissions[0].application[0]", severity: "warning", message: expect.stringContaining("tier-1") }]);
        const justified = build([
            { name: "mailer", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], allowPrivileged: [{ permission: "Mail.Send", justification: "Limited to one mailbox by an application access policy." }] },
        ]);
        expect(justified.warnings).toEqual([]);
    });

    it("is deterministic: the same config and instant give the same model", () => {
        const apps = [{ name: "reader", permissions: [{ api: "Microsoft Graph", application: ["User.Read.All", "Device.Read.All"] }] }];
        expect(build(apps)).toEqual(build(structuredClone(apps)));
    });
});

describe("helpers", () => {
    it("findApi knows Graph and the common Microsoft APIs by name, and any API by appId", () => {
        expect(findApi("microsoft graph")?.slug).toBe("msgraph");
        expect(findApi("Azure Key Vault")?.appId).toBe("cfa8b339-82a2-471a-a3c9-0fc0be7a4093");
        expect(findApi("Graph")).toBeUndefined();
    });

    it("closest suggests near misses only", () => {
        expect(closest("Mail.Sendd", ["Mail.Send", "Mail.Read"])).toBe("Mail.Send");
        expect(closest("MAIL.SEND", ["Mail.Send"])).toBe("Mail.Send");
        expect(closest("Sites.FullControl.All", ["Mail.Send"])).toBeUndefined();
    });
});
