import { ClientCertificateCredential, ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "./support/emulator";
import { graphGet as get, readerInNewTenant, testRetryOptions as retryOptions } from "./support/graphReader";

/**
 * Graph beta's usage evidence in the emulator, with the real @azure/identity and fetch: the credential
 * sign-in report and the sign-in log, filtered, paged and refused as documented
 * (https://learn.microsoft.com/en-us/graph/api/reportroot-list-appcredentialsigninactivities?view=graph-rest-beta,
 * https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta), and the token endpoint logging
 * each sign-in with the credential used.
 */

const now = "2027-03-01T06:00:00Z";
const servicePrincipals = "signInEventTypes/any(t: t eq 'servicePrincipal')";

let emulator: Emulator;

beforeAll(async () => {
    emulator = await startEmulator({ now });
});

afterAll(async () => {
    await emulator.close();
});

/** A tenant of its own per test (sign-ins and licences are per tenant), with a reader holding `permissions`. */
const tenantWithReader = (permissions: readonly string[] = ["AuditLog.Read.All"]) => readerInNewTenant(emulator, "Usage Inc", "usage-reader", permissions);
const graphGet = (pathOrUrl: string, token: string) => get(emulator, pathOrUrl, token);

const q = encodeURIComponent;
type Item = Record<string, unknown> & { signInActivity?: { lastSignInDateTime: string } };

describe("GET /beta/reports/appCredentialSignInActivities", () => {
    it("lists each credential's last successful sign-in, filtered by appId or keyId, paged with $top and @odata.nextLink", async () => {
        const { tenant, token } = await tenantWithReader();
        const app = emulator.state.addApplication({ displayName: "mail-sender", tenantId: tenant.id });
        const old = emulator.state.addPassword(app, { startDateTime: "2026-10-14T00:00:00Z", lifetimeDays: 210 }).credential;
        const served = emulator.state.addPassword(app, { startDateTime: "2027-01-12T00:00:00Z", lifetimeDays: 210 }).credential;
        const certificate = emulator.state.addCertificate(app, { startDateTime: "2027-01-12T00:00:00Z", lifetimeDays: 210 }).credential;
        emulator.state.recordSignIn(app, old.keyId, "2027-03-01T04:00:00Z", { count: 5, everyMs: 3_600_000 });
        emulator.state.recordSignIn(app, served.keyId, "2027-03-01T05:00:00Z");
        emulator.state.recordSignIn(app, served.keyId, "2027-03-01T05:30:00Z", { errorCode: 7000215 }); // failed: not a use
        emulator.state.recordSignIn(app, certificate.keyId, "2027-02-27T12:00:00Z");
        const other = emulator.state.addApplication({ displayName: "other", tenantId: tenant.id });
        emulator.state.recordSignIn(other, emulator.state.addPassword(other).credential.keyId, "2027-03-01T05:00:00Z");

        const all = await graphGet(`/beta/reports/appCredentialSignInActivities?$filter=${q(`appId eq '${app.appId}'`)}`, token);
        expect(all.status).toBe(200);
        expect(all.body["@odata.context"]).toBe(`${emulator.graphEndpoint}/beta/$metadata#reports/appCredentialSignInActivities`);
        const items = all.body.value as Item[];
        expect(items.map((i) => [i.keyId, i.keyType, i.signInActivity!.lastSignInDateTime])).toEqual([
            [old.keyId, "clientSecret", "2027-03-01T04:00:00Z"],
            [served.keyId, "clientSecret", "2027-03-01T05:00:00Z"],
            [certificate.keyId, "certificate", "2027-02-27T12:00:00Z"],
        ]);
        expect(items[0]).toMatchObject({ appId: app.appId, appObjectId: app.id, credentialOrigin: "application", expirationDateTime: "2027-05-12T00:00:00Z", createdDateTime: "2026-10-14T00:00:00Z" });
        expect(Object.keys(items[0]!).sort()).toEqual(["appId", "appObjectId", "createdDateTime", "credentialOrigin", "expirationDateTime", "id", "keyId", "keyType", "keyUsage", "resourceId", "servicePrincipalObjectId", "signInActivity"]);

        const one = await graphGet(`/beta/reports/appCredentialSignInActivities?$filter=${q(`keyId eq '${certificate.keyId}'`)}`, token);
        expect((one.body.value as Item[]).map((i) => i.keyId)).toEqual([certificate.keyId]);

        const first = await graphGet(`/beta/reports/appCredentialSignInActivities?$filter=${q(`appId eq '${app.appId}'`)}&$top=2&$orderby=${q("signInActivity/lastSignInDateTime desc")}`, token);
        expect((first.body.value as Item[]).map((i) => i.keyId)).toEqual([served.keyId, old.keyId]);
        const second = await graphGet(first.body["@odata.nextLink"] as string, token);
        expect((second.body.value as Item[]).map((i) => i.keyId)).toEqual([certificate.keyId]);
        expect(second.body["@odata.nextLink"]).toBeUndefined();
        expect((await graphGet("/beta/reports/appCredentialSignInActivities?$top=1000", token)).status).toBe(400);
    });

    it("answers an empty list for an application nobody signed in with", async () => {
        const { tenant, token } = await tenantWithReader(["Directory.Read.All"]);
        const app = emulator.state.addApplication({ displayName: "unused", tenantId: tenant.id });
        emulator.state.addPassword(app);
        const reply = await graphGet(`/beta/reports/appCredentialSignInActivities?$filter=${q(`appId eq '${app.appId}'`)}`, token);
        expect(reply).toMatchObject({ status: 200, body: { "@odata.context": `${emulator.graphEndpoint}/beta/$metadata#reports/appCredentialSignInActivities`, value: [] } });
        expect(Object.keys(reply.body)).toEqual(["@odata.context", "value"]);
    });

    it("refuses without AuditLog.Read.All, in a tenant without Entra ID P1/P2, and where the report is not served", async () => {
        const { tenant, token } = await tenantWithReader(["Application.Read.All"]);
        const denied = await graphGet("/beta/reports/appCredentialSignInActivities", token);
        expect(denied.status).toBe(403);
        expect(denied.body.error).toMatchObject({ code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." });

        const reader = await tenantWithReader();
        emulator.state.setLicence("free", reader.tenant.id);
        const free = await graphGet("/beta/reports/appCredentialSignInActivities", reader.token);
        expect(free.status).toBe(403);
        expect(free.body.error).toEqual({
            code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            message: "Neither tenant is B2C or tenant doesn't have premium license",
            innerError: { date: expect.any(String), "request-id": expect.any(String), "client-request-id": expect.any(String) },
        });

        const withdrawn = await tenantWithReader();
        withdrawn.tenant.appCredentialSignInReport = false;
        const missing = await graphGet("/beta/reports/appCredentialSignInActivities", withdrawn.token);
        expect(missing.status).toBe(400);
        expect(missing.body.error).toMatchObject({ code: "BadRequest", message: "Resource not found for the segment 'appCredentialSignInActivities'." });
        expect(tenant.licence).toBe("P2");
    });
});

describe("GET /beta/auditLogs/signIns", () => {
    it("lists service principal sign-ins newest first, 1,000 per page at most, following @odata.nextLink", async () => {
        const { tenant, token } = await tenantWithReader();
        const app = emulator.state.addApplication({ displayName: "importer", tenantId: tenant.id });
        const served = emulator.state.addPassword(app).credential;
        const previous = emulator.state.addPassword(app).credential;
        emulator.state.recordSignIn(app, served.keyId, "2027-03-01T05:59:00Z", { count: 1_500, everyMs: 60_000 });
        emulator.state.recordSignIn(app, previous.keyId, "2027-02-26T06:00:00Z");

        const filter = q(`${servicePrincipals} and appId eq '${app.appId}'`);
        const first = await graphGet(`/beta/auditLogs/signIns?$filter=${filter}`, token);
        expect(first.status).toBe(200);
        const page = first.body.value as Record<string, unknown>[];
        expect(page).toHaveLength(1_000);
        expect(page[0]).toMatchObject({
            createdDateTime: "2027-03-01T05:59:00Z",
            appId: app.appId,
            appDisplayName: "importer",
            servicePrincipalCredentialKeyId: served.keyId,
            servicePrincipalCredentialThumbprint: "",
            signInEventTypes: ["servicePrincipal"],
            isInteractive: false,
            status: { errorCode: 0, failureReason: null, additionalDetails: null },
        });
        const times = page.map((s) => Date.parse(s.createdDateTime as string));
        expect([...times].sort((a, b) => b - a)).toEqual(times);
        const next = first.body["@odata.nextLink"] as string;
        expect(next).toMatch(new RegExp(`^${emulator.graphEndpoint}/beta/auditLogs/signIns\\?\\$filter=.*&\\$skiptoken=`));
        const second = await graphGet(next, token);
        const rest = second.body.value as Record<string, unknown>[];
        expect(rest).toHaveLength(501);
        expect(rest[500]).toMatchObject({ servicePrincipalCredentialKeyId: previous.keyId, createdDateTime: "2027-02-26T06:00:00Z" });
        expect(second.body["@odata.nextLink"]).toBeUndefined();

        const small = await graphGet(`/beta/auditLogs/signIns?$filter=${filter}&$top=10`, token);
        expect((small.body.value as unknown[]).length).toBe(10);
        const tooBig = await graphGet(`/beta/auditLogs/signIns?$filter=${filter}&$top=1001`, token);
        expect(tooBig.status).toBe(400);
        expect(tooBig.body.error).toMatchObject({ code: "Request_BadRequest", message: "Invalid page size specified: '1001'. Must be between 1 and 1000 inclusive." });
    });

    it("filters by createdDateTime, returns only interactive sign-ins (none) without signInEventTypes, and keeps 30 days", async () => {
        const { tenant, token } = await tenantWithReader();
        const app = emulator.state.addApplication({ displayName: "calendar-sync", tenantId: tenant.id });
        const key = emulator.state.addPassword(app).credential;
        emulator.state.recordSignIn(app, key.keyId, "2027-02-28T06:00:00Z");
        emulator.state.recordSignIn(app, key.keyId, "2027-02-20T06:00:00Z");
        emulator.state.recordSignIn(app, key.keyId, "2027-01-15T06:00:00Z"); // beyond the 30 days P1/P2 keep

        const dates = async (filter: string) => ((await graphGet(`/beta/auditLogs/signIns?$filter=${q(filter)}`, token)).body.value as { createdDateTime: string }[]).map((s) => s.createdDateTime);
        expect(await dates(`${servicePrincipals} and appId eq '${app.appId}'`)).toEqual(["2027-02-28T06:00:00Z", "2027-02-20T06:00:00Z"]);
        expect(await dates(`${servicePrincipals} and appId eq '${app.appId}' and createdDateTime ge 2027-02-22T06:00:00Z`)).toEqual(["2027-02-28T06:00:00Z"]);
        expect(await dates(`signInEventTypes/any(t:t eq 'servicePrincipal') and createdDateTime lt 2027-02-22T06:00:00Z`)).toEqual(["2027-02-20T06:00:00Z"]);
        expect(await dates(`appId eq '${app.appId}'`)).toEqual([]);
        const bad = await graphGet(`/beta/auditLogs/signIns?$filter=${q("createdDateTime ge yesterday")}`, token);
        expect(bad.status).toBe(400);
        expect(bad.body.error).toMatchObject({ code: "Request_UnsupportedQuery" });
    });

    it("refuses without AuditLog.Read.All and in a tenant without Entra ID P1/P2", async () => {
        const { token } = await tenantWithReader(["Application.Read.All"]);
        expect((await graphGet(`/beta/auditLogs/signIns?$filter=${q(servicePrincipals)}`, token)).body.error).toMatchObject({ code: "Authorization_RequestDenied" });
        const reader = await tenantWithReader();
        emulator.state.setLicence("free", reader.tenant.id);
        const free = await graphGet(`/beta/auditLogs/signIns?$filter=${q(servicePrincipals)}`, reader.token);
        expect(free.status).toBe(403);
        expect(free.body.error).toMatchObject({ code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant", message: "Neither tenant is B2C or tenant doesn't have premium license" });
    });
});

describe("the token endpoint logs each sign-in with the credential used", () => {
    it("records secrets by key id and certificates by key id and thumbprint, on the emulator clock", async () => {
        const { tenant, token } = await tenantWithReader();
        const app = emulator.state.addApplication({ displayName: "consumer", tenantId: tenant.id });
        const secret = emulator.state.addPassword(app);
        const certificate = emulator.state.addCertificate(app);
        await new ClientSecretCredential(tenant.id, app.appId, secret.secretText, { ...emulator.credentialOptions, retryOptions }).getToken("https://graph.microsoft.com/.default");
        emulator.clock.advance(60_000);
        await new ClientCertificateCredential(tenant.id, app.appId, { certificate: certificate.pem }, { ...emulator.credentialOptions, retryOptions }).getToken("https://graph.microsoft.com/.default");
        emulator.clock.set(now);

        const log = (await graphGet(`/beta/auditLogs/signIns?$filter=${q(`${servicePrincipals} and appId eq '${app.appId}'`)}`, token)).body.value as Record<string, unknown>[];
        expect(log.map((s) => [s.createdDateTime, s.servicePrincipalCredentialKeyId, s.servicePrincipalCredentialThumbprint, s.clientCredentialType])).toEqual([
            ["2027-03-01T06:01:00Z", certificate.credential.keyId, certificate.credential.certificate.thumbprintSha1.toUpperCase(), "certificate"],
            ["2027-03-01T06:00:00Z", secret.credential.keyId, "", "clientSecret"],
        ]);
        // A log that names a certificate by thumbprint only, as a client has to match it.
        emulator.state.recordSignIn(app, certificate.credential.keyId, "2027-03-01T05:00:00Z", { logKeyId: false });
        const thumbprintOnly = ((await graphGet(`/beta/auditLogs/signIns?$filter=${q(`${servicePrincipals} and appId eq '${app.appId}'`)}`, token)).body.value as Record<string, unknown>[]).at(-1)!;
        expect(thumbprintOnly).toMatchObject({ servicePrincipalCredentialKeyId: null, servicePrincipalCredentialThumbprint: certificate.credential.certificate.thumbprintSha1.toUpperCase() });
    });
});
