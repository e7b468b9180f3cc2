import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator, trustedCertificateAuthorityRestriction } from "./support/emulator";
import { graphGet as get, readerInNewTenant } from "./support/graphReader";

/**
 * Graph's app management policies in the emulator, with the real @azure/identity and fetch: the documented
 * v1.0 queries (and the refusal of what v1.0 does not document), the appliesTo navigation, and the beta-only
 * trustedCertificateAuthority restriction, which v1.0 shows only as `unknownFutureValue`.
 */

const configurationIds = ["eec5ba11-2fc0-4113-83a2-ed986ed13743", "bb8e2a0b-3f2c-4c8e-9d5e-1f3a6a7b8c9d"];

let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({ now: "2026-11-23T06:00:00Z" });
});

afterAll(async () => {
    await emulator.close();
});

/** A tenant of its own per test (policies are per tenant), with a reader holding `permissions`. */
const tenantWithReader = (permissions: readonly string[] = ["Policy.Read.All", "Application.Read.All"]) => readerInNewTenant(emulator, "Policies Inc", "policy-reader", permissions);
const graphGet = (pathOrUrl: string, token: string) => get(emulator, pathOrUrl, token);

describe("v1.0 appManagementPolicies", () => {
    it("supports the documented $select, $filter and $top, and refuses $expand with Graph's 400 for unsupported queries", async () => {
        const { tenant, token } = await tenantWithReader();
        for (const name of ["short secrets", "short certificates", "legacy"]) {
            emulator.state.addAppManagementPolicy({ displayName: name, restrictions: { passwordCredentials: [], keyCredentials: [] } }, tenant.id);
        }

        const expand = await graphGet("/v1.0/policies/appManagementPolicies?$expand=appliesTo", token);
        expect(expand.status).toBe(400);
        expect(expand.body.error).toMatchObject({ code: "Request_UnsupportedQuery", message: "$expand is not supported by the entra-rotor emulator.", innerError: { "request-id": expect.any(String) } });
        expect((await graphGet(`/v1.0/policies/appManagementPolicies/${tenant.appManagementPolicies[0]?.id}?$expand=appliesTo`, token)).status).toBe(400);

        const selected = await graphGet("/v1.0/policies/appManagementPolicies?$select=displayName,isEnabled", token);
        expect(selected.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/v1.0/$metadata#policies/appManagementPolicies(displayName,isEnabled)`);
        expect(selected.body.value).toEqual(tenant.appManagementPolicies.map((p) => ({ id: p.id, displayName: p.displayName, isEnabled: true })));

        const filtered = await graphGet("/v1.0/policies/appManagementPolicies?$filter=startswith(displayName,'short')&$select=displayName", token);
        expect((filtered.body.value as { displayName: string }[]).map((p) => p.displayName)).toEqual(["short secrets", "short certificates"]);

        const first = await graphGet("/v1.0/policies/appManagementPolicies?$top=2", token);
        expect((first.body.value as unknown[]).length).toBe(2);
        const second = await graphGet(first.body["@odata.nextLink"] as string, token);
        expect((second.body.value as { displayName: string }[]).map((p) => p.displayName)).toEqual(["legacy"]);
        expect(second.body["@odata.nextLink"]).toBeUndefined();
    });

    it("serves appliesTo (Policy.Read.All and Application.Read.All) and keeps /applications/{id}/appManagementPolicies", async () => {
        const { tenant, token, appId } = await tenantWithReader();
        const mail = emulator.state.addApplication({ displayName: "mail-sender", tenantId: tenant.id });
        const calendar = emulator.state.addApplication({ displayName: "calendar-sync", tenantId: tenant.id });
        emulator.state.addApplication({ displayName: "unrestricted", tenantId: tenant.id });
        const policy = emulator.state.addAppManagementPolicy({ displayName: "short secrets", restrictions: { passwordCredentials: [], keyCredentials: [] }, appliesTo: [mail, calendar] }, tenant.id);

        const applied = await graphGet(`/v1.0/policies/appManagementPolicies/${policy.id}/appliesTo`, token);
        expect(applied.status).toBe(200);
        expect(applied.body).toEqual({
            "@odata.context": `${emulator.graphEndpoint}/v1.0/$metadata#directoryObjects`,
            value: [
                { "@odata.type": "#microsoft.graph.application", id: mail.id, appId: mail.appId, displayName: "mail-sender" },
                { "@odata.type": "#microsoft.graph.application", id: calendar.id, appId: calendar.appId, displayName: "calendar-sync" },
            ],
        });
        expect(emulator.requests.count({ route: "GET /v1.0/policies/appManagementPolicies/{id}/appliesTo", caller: appId, status: 200 })).toBe(1);

        const missing = await graphGet("/v1.0/policies/appManagementPolicies/00000000-0000-0000-0000-00000000abcd/appliesTo", token);
        expect(missing.status).toBe(404);
        expect((await graphGet(`/v1.0/policies/appManagementPolicies/${policy.id}/appliesTo?$select=id`, token)).status).toBe(400);

        const back = await graphGet(`/v1.0/applications/${mail.id}/appManagementPolicies`, token);
        expect(back.body.value).toEqual([{ id: policy.id, displayName: "short secrets", description: "", isEnabled: true, restrictions: { passwordCredentials: [], keyCredentials: [] } }]);

        // Either permission alone is not enough for appliesTo.
        for (const only of [["Policy.Read.All"], ["Application.Read.All"]]) {
            const partial = await tenantWithReader(only);
            const other = emulator.state.addAppManagementPolicy({ displayName: "p", restrictions: { passwordCredentials: [], keyCredentials: [] } }, partial.tenant.id);
            const denied = await graphGet(`/v1.0/policies/appManagementPolicies/${other.id}/appliesTo`, partial.token);
            expect(denied.status).toBe(403);
            expect(denied.body.error).toMatchObject({ code: "Authorization_RequestDenied" });
        }
    });
});

describe("the trustedCertificateAuthority restriction (beta only)", () => {
    it("is served on beta with its configuration ids, and on v1.0 as unknownFutureValue without them", async () => {
        const { tenant, token, appId } = await tenantWithReader();
        emulator.state.setCredentialLifetimePolicy({ asymmetricKeyLifetime: "P365D" }, tenant.id);
        emulator.state.setTrustedCertificateAuthorityPolicy({ configurationIds, restrictForAppsCreatedAfterDateTime: "2026-01-01T00:00:00Z" }, tenant.id);
        // Setting the lifetimes again keeps the CA restriction.
        emulator.state.setCredentialLifetimePolicy({ asymmetricKeyLifetime: "P180D" }, tenant.id);

        const beta = await graphGet("/beta/policies/defaultAppManagementPolicy", token);
        expect(beta.status).toBe(200);
        expect(beta.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/beta/$metadata#policies/defaultAppManagementPolicy/$entity`);
        expect(beta.body).toMatchObject({
            isEnabled: true,
            applicationRestrictions: {
                passwordCredentials: [],
                keyCredentials: [
                    { restrictionType: "asymmetricKeyLifetime", maxLifetime: "P180D", restrictForAppsCreatedAfterDateTime: null },
                    { restrictionType: "trustedCertificateAuthority", maxLifetime: null, restrictForAppsCreatedAfterDateTime: "2026-01-01T00:00:00Z", certificateBasedApplicationConfigurationIds: configurationIds },
                ],
            },
        });

        const v1 = await graphGet("/v1.0/policies/defaultAppManagementPolicy", token);
        const keyCredentials = (v1.body.applicationRestrictions as { keyCredentials: Record<string, unknown>[] }).keyCredentials;
        expect(keyCredentials).toEqual([
            { restrictionType: "asymmetricKeyLifetime", maxLifetime: "P180D", restrictForAppsCreatedAfterDateTime: null },
            { restrictionType: "unknownFutureValue", maxLifetime: null, restrictForAppsCreatedAfterDateTime: "2026-01-01T00:00:00Z" },
        ]);
        expect(JSON.stringify(v1.body)).not.toContain("certificateBasedApplicationConfigurationIds");
        expect(emulator.requests.filter({ service: "graph", caller: appId }).map((r) => r.route)).toEqual(["GET /beta/policies/defaultAppManagementPolicy", "GET /v1.0/policies/defaultAppManagementPolicy"]);
    });

    it("may sit in a custom policy: beta lists, gets and follows appliesTo; v1.0 hides it the same way", async () => {
        const { tenant, token } = await tenantWithReader();
        const importer = emulator.state.addApplication({ displayName: "intune-importer", tenantId: tenant.id });
        const policy = emulator.state.addAppManagementPolicy(
            { displayName: "trusted CAs only", restrictions: { passwordCredentials: [], keyCredentials: [trustedCertificateAuthorityRestriction({ configurationIds: configurationIds.slice(0, 1) })] }, appliesTo: [importer] },
            tenant.id,
        );
        const betaEntry = { restrictionType: "trustedCertificateAuthority", maxLifetime: null, restrictForAppsCreatedAfterDateTime: null, certificateBasedApplicationConfigurationIds: configurationIds.slice(0, 1) };

        const list = await graphGet("/beta/policies/appManagementPolicies", token);
        expect(list.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/beta/$metadata#policies/appManagementPolicies`);
        expect(list.body.value).toEqual([{ id: policy.id, displayName: "trusted CAs only", description: "", isEnabled: true, restrictions: { passwordCredentials: [], keyCredentials: [betaEntry] } }]);
        expect((await graphGet(`/beta/policies/appManagementPolicies/${policy.id}`, token)).body).toMatchObject({ restrictions: { keyCredentials: [betaEntry] } });
        expect((await graphGet(`/beta/policies/appManagementPolicies/${policy.id}/appliesTo`, token)).body.value).toEqual([
            { "@odata.type": "#microsoft.graph.application", id: importer.id, appId: importer.appId, displayName: "intune-importer" },
        ]);

        const v1 = await graphGet("/v1.0/policies/appManagementPolicies", token);
        expect((v1.body.value as { restrictions: unknown }[])[0]?.restrictions).toEqual({
            passwordCredentials: [],
            keyCredentials: [{ restrictionType: "unknownFutureValue", maxLifetime: null, restrictForAppsCreatedAfterDateTime: null }],
        });
        const viaApp = await graphGet(`/v1.0/applications/${importer.id}/appManagementPolicies`, token);
        expect(JSON.stringify(viaApp.body)).not.toContain("trustedCertificateAuthority");
        expect(emulator.requests.count({ route: "GET /beta/policies/appManagementPolicies/{id}/appliesTo", status: 200 })).toBe(1);
        expect(() => trustedCertificateAuthorityRestriction({ configurationIds: [] })).toThrow(/at least one/);
    });
});
