import { afterEach, describe, expect, it, vi } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import { resolveLiveId } from "../infra/program";
import { defaultApis, graphApi, types } from "./support/pulumiMocks";
import { runProgram, sampleStack } from "./support/program";

const now = new Date("2026-11-23T06:00:00Z");

afterEach(() => {
    vi.useRealTimers();
});

describe("the Pulumi program", () => {
    it("registers exactly what the model describes for the sample stack", async () => {
        const input = sampleStack();
        const model = buildModelOrThrow(input, now);
        const { mocks } = await runProgram(input.values as Record<string, unknown>, { now });
        const graph = graphApi();

        const expected: { type: string; name: string }[] = [];
        if (model.keyVault?.create) expected.push({ type: types.keyVault, name: "key-vault" });
        for (const app of model.apps) {
            expected.push({ type: types.appRegistration, name: app.name });
            expected.push({ type: types.application, name: `${app.name}-app` });
            expected.push({ type: types.servicePrincipal, name: `${app.name}-sp` });
            for (const p of app.permissions.filter((p) => p.kind === "application")) {
                expected.push({ type: types.appRoleAssignment, name: `${app.name}-role-${p.api.slug}-${p.name}` });
            }
            for (const slug of new Set(app.permissions.filter((p) => p.kind === "delegated").map((p) => p.api.slug))) {
                expected.push({ type: types.delegatedGrant, name: `${app.name}-grant-${slug}` });
            }
            for (const credential of app.credentials) {
                const base = `${app.name}-${credential.name}`;
                if (credential.type === "secret") {
                    expected.push({ type: types.clientSecret, name: base });
                    for (const slot of [0, 1]) expected.push({ type: types.applicationPassword, name: `${base}-slot${slot}` });
                } else {
                    expected.push({ type: types.clientCertificate, name: base });
                    for (const slot of [0, 1]) {
                        expected.push({ type: types.privateKey, name: `${base}-slot${slot}-key` });
                        expected.push({ type: types.selfSignedCert, name: `${base}-slot${slot}-cert` });
                        expected.push({ type: types.applicationCertificate, name: `${base}-slot${slot}` });
                    }
                }
            }
            for (const certificate of app.certificateFiles) expected.push({ type: types.applicationCertificate, name: `${app.name}-${certificate.name}` });
            if (app.credentials.length > 0) {
                expected.push({ type: types.keyVaultSecrets, name: `${app.name}-keyvault` });
                const pfx = app.credentials.flatMap((c) => (c.type === "certificate" && c.pfx ? [c.pfx.secretName, c.pfx.passwordSecretName] : []));
                const names = [...app.credentials.map((c) => c.keyVaultSecretName), ...pfx, ...Object.values(app.identitySecrets)];
                for (const name of names) expected.push({ type: types.keyVaultSecret, name: `${app.name}-keyvault-${name}` });
            }
            if (app.federatedCredentials.length > 0) expected.push({ type: types.federatedCredentials, name: `${app.name}-federated` });
            for (const credential of app.federatedCredentials) {
                expected.push({ type: types.federatedIdentityCredential, name: `${app.name}-federated-${credential.name}` });
            }
        }
        const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
        expect(mocks.resources.map(key).sort()).toEqual(expected.map(key).sort());

        for (const app of model.apps) {
            const application = mocks.resources.find((r) => r.name === `${app.name}-app`)!;
            expect(application.inputs["displayName"]).toBe(app.displayName);
            expect(application.inputs["signInAudience"]).toBe(app.signInAudience);
            const requested = (application.inputs["requiredResourceAccesses"] as { resourceAccesses: { id: string; type: string }[] }[]).flatMap(
                (r) => r.resourceAccesses,
            );
            expect(requested).toEqual(
                app.permissions.map((p) => ({ id: p.catalogId, type: p.kind === "application" ? "Role" : "Scope" })),
            );
            for (const p of app.permissions.filter((p) => p.kind === "application")) {
                const assignment = mocks.resources.find((r) => r.name === `${app.name}-role-${p.api.slug}-${p.name}`)!;
                expect(assignment.inputs["appRoleId"]).toBe(p.catalogId);
                expect(assignment.inputs["resourceObjectId"]).toBe(graph.objectId);
            }
            for (const credential of app.credentials.filter((c) => c.type === "secret")) {
                for (const slot of [credential.schedule.served, credential.schedule.previous]) {
                    const password = mocks.resources.find((r) => r.name === `${app.name}-${credential.name}-slot${slot.slot}`)!;
                    expect(password.inputs).toEqual({
                        applicationId: `/applications/${String(application.state["objectId"])}`,
                        displayName: `${credential.name} slot ${slot.slot} generation ${slot.generation}`,
                        endDate: slot.end,
                        rotateWhenChanged: { generation: String(slot.generation) },
                    });
                }
            }
            for (const credential of app.federatedCredentials) {
                const resource = mocks.resources.find((r) => r.name === `${app.name}-federated-${credential.name}`)!;
                expect(resource.inputs).toEqual({
                    applicationId: `/applications/${String(application.state["objectId"])}`,
                    displayName: credential.name,
                    issuer: credential.issuer,
                    subject: credential.subject,
                    audiences: [credential.audience],
                });
            }
            const delegated = app.permissions.filter((p) => p.kind === "delegated").map((p) => p.name);
            const grant = mocks.resources.find((r) => r.name === `${app.name}-grant-msgraph`);
            expect(grant?.inputs["claimValues"]).toEqual(delegated.length ? delegated : undefined);
        }
    });

    it("never requests or consents User.Read unless declared", async () => {
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const userRead = graphApi().scopeIds["User.Read"];
        const everything = JSON.stringify(mocks.resources.map((r) => r.inputs));
        expect(everything).not.toContain(userRead);
        expect(everything).not.toContain('"User.Read"');
    });

    it("exports ids per app and nothing else", async () => {
        const { exports, mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const apps = exports["apps"] as Record<string, Record<string, string>>;
        expect(Object.keys(exports)).toEqual(["apps"]);
        expect(Object.keys(apps)).toEqual(["mail-sender", "device-inventory", "calendar-sync", "ci-deployer", "ci-preview"]);
        for (const [name, ids] of Object.entries(apps)) {
            expect(Object.keys(ids).sort()).toEqual(["clientId", "credentials", "objectId", "servicePrincipalObjectId", "tenantId"]);
            const application = mocks.resources.find((r) => r.name === `${name}-app`)!;
            expect(ids["clientId"]).toBe(application.state["clientId"]);
        }
    });

    it("looks up each API's service principal once per stack, not once per app", async () => {
        const values = sampleStack().values as Record<string, unknown>;
        const { mocks } = await runProgram(values, { now });
        const lookups = mocks.invokes.filter((i) => i.token === "azuread:index/getServicePrincipal:getServicePrincipal");
        expect(lookups.map((i) => i.inputs["clientId"])).toEqual(["00000003-0000-0000-c000-000000000000"]);
    });

    it("resolves APIs other than Graph live, by appId", async () => {
        const { mocks } = await runProgram(
            { apps: [{ name: "mailbox-reader", permissions: [{ api: "Office 365 Exchange Online", application: ["full_access_as_app"] }] }] },
            { now },
        );
        const assignment = mocks.ofType(types.appRoleAssignment)[0]!;
        const exchange = defaultApis().get("00000002-0000-0ff1-ce00-000000000000")!;
        expect(assignment.name).toBe("mailbox-reader-role-exchange-full_access_as_app");
        expect(assignment.inputs["appRoleId"]).toBe(exchange.appRoleIds["full_access_as_app"]);
        expect(assignment.inputs["resourceObjectId"]).toBe(exchange.objectId);
    });

    it("fails naming the config path when the tenant's API lacks a permission, and trusts the tenant's id over the catalog", () => {
        const model = buildModelOrThrow(
            { project: "entra-rotor", stack: "dev", source: "test", values: { apps: [{ name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }] }] } },
            now,
        );
        const mailSend = model.apps[0]!.permissions[0]!;
        expect(resolveLiveId({ "Mail.Send": mailSend.catalogId! }, mailSend)).toEqual({ id: mailSend.catalogId });
        expect(() => resolveLiveId({}, mailSend)).toThrow(
            'apps[0].permissions[0].application[0]: Microsoft Graph in this tenant has no application permission "Mail.Send"',
        );
        expect(() => resolveLiveId(undefined, mailSend)).toThrow(/no application permission "Mail.Send"/);
        const drifted = resolveLiveId({ "Mail.Send": "11111111-1111-4111-a111-111111111111" }, mailSend);
        expect(drifted.id).toBe("11111111-1111-4111-a111-111111111111");
        expect(drifted.warning).toMatch(/^apps\[0\]\.permissions\[0\]\.application\[0\]: the tenant's id for Mail.Send .* differs from the offline catalog/);
    });

    it("is idempotent: two evaluations at the same instant register identical inputs", async () => {
        const values = sampleStack().values as Record<string, unknown>;
        const first = await runProgram(values, { now });
        const second = await runProgram(values, { now });
        expect(second.mocks.resources).toEqual(first.mocks.resources);
        expect(second.exports).toEqual(first.exports);
    });

    it("reads structured config into null-prototype objects, as the stack files are read: a __proto__ key is refused, clean config is not copied", async () => {
        vi.resetModules();
        const pulumi = await import("@pulumi/pulumi");
        const { ProviderMocks } = await import("./support/pulumiMocks");
        await pulumi.runtime.setMocks(new ProviderMocks(), "entra-rotor", "dev", false);
        const { readRuntimeConfig } = await import("../infra/pulumiConfig");
        const { checkRawInput } = await import("../infra/model/rawInput");
        pulumi.runtime.setAllConfig({ "entra-rotor:apps": '[{"name": "mail-sender", "credentials": [{"name": "main", "type": "secret"}]}]' });
        const clean = readRuntimeConfig().values;
        const app = (clean["apps"] as Record<string, unknown>[])[0]!;
        expect([app, (app["credentials"] as object[])[0]].map(Object.getPrototypeOf)).toEqual([null, null]);
        expect(checkRawInput(clean).values).toBe(clean);
        pulumi.runtime.setAllConfig({ "entra-rotor:apps": '[{"name": "mail-sender", "__proto__": {"displayName": "x"}}]' });
        expect(checkRawInput(readRuntimeConfig().values).issues).toContainEqual(expect.objectContaining({ path: "apps[0].__proto__", message: expect.stringContaining("prototype machinery") }));
    });

    it("throws before registering anything when the config is invalid", async () => {
        const values = {
            apps: [
                { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["Mail.Sendd"] }] },
                { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["RoleManagement.ReadWrite.Directory"] }] },
            ],
        };
        vi.resetModules();
        const pulumi = await import("@pulumi/pulumi");
        const { ProviderMocks } = await import("./support/pulumiMocks");
        const mocks = new ProviderMocks();
        await pulumi.runtime.setMocks(mocks, "entra-rotor", "dev", false);
        pulumi.runtime.setAllConfig({ "entra-rotor:apps": JSON.stringify(values.apps) });
        const error = await import("../infra/index").then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(pulumi.RunError);
        const message = (error as Error).message;
        expect(message).toContain('apps[0].permissions[0].application[0]: unknown Microsoft Graph application permission "Mail.Sendd" (did you mean "Mail.Send"?)');
        expect(message).toContain("apps[1].name: duplicate app name");
        expect(message).toContain("apps[1].permissions[0].application[0]");
        expect(mocks.resources).toEqual([]);
        expect(mocks.invokes).toEqual([]);
    });
});
