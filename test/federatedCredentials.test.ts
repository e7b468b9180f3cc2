import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { type FederatedCredentialSpec, FederatedCredentials, validateFederatedCredentials } from "../components/federatedCredentials";
import { buildModel } from "../infra/model/model";
import { ProviderMocks, settle, types, valueOf } from "./support/pulumiMocks";

const github: FederatedCredentialSpec = {
    name: "github-production",
    issuer: "https://token.actions.githubusercontent.com",
    subject: "repo:contoso/identity:environment:production",
    audience: "api://AzureADTokenExchange",
};
const applicationId = "/applications/5b0b4c0e-7f4e-4d2b-9a3e-0c1e2d3f4a5b";

let mocks: ProviderMocks;
beforeEach(async () => {
    mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "test", false);
});

describe("validateFederatedCredentials", () => {
    it("accepts up to 20 distinct credentials", () => {
        const twenty = Array.from({ length: 20 }, (_, i) => ({ ...github, name: `env-${i}`, subject: `repo:contoso/identity:environment:e${i}` }));
        expect(validateFederatedCredentials(twenty)).toEqual([]);
        expect(validateFederatedCredentials([...twenty, { ...github, name: "env-20" }])).toContain("21 federated credentials: Entra allows at most 20 per app");
    });

    it.each([
        [{ ...github, name: "x" }, 'name "x" must be 3-120'],
        [{ ...github, issuer: "http://token.actions.githubusercontent.com" }, "must be https"],
        [{ ...github, subject: "repo:contoso/*:ref:refs/heads/main" }, "contains a wildcard"],
        [{ ...github, audience: "" }, "audience of \"github-production\" must be 1-600 characters"],
    ])("refuses %o", (spec, message) => {
        expect(validateFederatedCredentials([spec]).join("\n")).toContain(message);
    });

    it("refuses the same name or the same issuer and subject twice", () => {
        expect(validateFederatedCredentials([github, { ...github, subject: "other" }])).toEqual(['name "github-production" is used twice']);
        expect(validateFederatedCredentials([github, { ...github, name: "again" }])).toEqual(['issuer and subject of "again" are used twice']);
    });
});

describe("FederatedCredentials", () => {
    it("registers one credential per spec, parented to the component, with exactly one audience", async () => {
        const component = new FederatedCredentials("ci-federated", { applicationId, credentials: [github] });
        await valueOf(component.credentials["github-production"]!.urn);
        await settle();
        expect(mocks.ofType(types.federatedIdentityCredential)).toEqual([
            expect.objectContaining({ name: "ci-federated-github-production", inputs: { applicationId, displayName: github.name, issuer: github.issuer, subject: github.subject, audiences: [github.audience] } }),
        ]);
        expect(await valueOf(component.credentials["github-production"]!.urn)).toContain("entra-rotor:index:FederatedCredentials$azuread:index/applicationFederatedIdentityCredential");
    });

    it("throws before registering anything when invalid", () => {
        expect(() => new FederatedCredentials("bad", { applicationId, credentials: [github, github] })).toThrow(/used twice/);
        expect(mocks.resources).toEqual([]);
    });
});

describe("federated credentials in the stack model", () => {
    const build = (credentials: unknown[]) =>
        buildModel({ project: "entra-rotor", stack: "test", source: "test", values: { apps: [{ name: "deployer", credentials }], keyVault: { name: "kv-test", resourceGroup: "rg" } } }, new Date("2027-01-01T00:00:00Z"));
    const fic = (name: string, environment: string) => ({ name, type: "federated", github: { repo: "contoso/identity", environment } });

    it("resolves them and warns that a secret beside them may be unnecessary", () => {
        const result = build([fic("github-production", "production"), { name: "main", type: "secret" }]);
        expect(result.model?.apps[0]!.federatedCredentials.map((c) => c.subject)).toEqual(["repo:contoso/identity:environment:production"]);
        expect(result.model?.apps[0]!.credentials.map((c) => c.name)).toEqual(["main"]);
        expect(result.issues).toContainEqual({
            path: "apps[0].credentials[1]",
            severity: "warning",
            message: "this app already signs in from GitHub Actions without a secret (github-production); if this secret's consumer runs there, it can use a federated credential too and the secret can go: remove it once the consumer has switched",
        });
    });

    it("reads the stack's tenant and cloud from the azuread provider's config, for a managed identity's issuer", () => {
        const principal = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
        const tenant = "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7";
        const values = { apps: [{ name: "deployer", credentials: [{ name: "aks-job", type: "federated", managedIdentity: { principalId: principal } }] }] };
        const at = new Date("2027-01-01T00:00:00Z");
        const model = buildModel({ project: "entra-rotor", stack: "test", source: "test", values, provider: { tenantId: tenant.toUpperCase(), environment: "usgovernment" } }, at).model!;
        expect(model).toMatchObject({ tenantId: tenant, cloud: "usgovernment" });
        expect(model.apps[0]!.federatedCredentials[0]).toMatchObject({ issuer: `https://login.microsoftonline.us/${tenant}/v2.0`, subject: principal, audience: "api://AzureADTokenExchangeUSGov", preset: "managedIdentity" });
        const bad = buildModel({ project: "entra-rotor", stack: "test", source: "test", values, provider: { tenantId: "contoso.onmicrosoft.com", environment: "germany" } }, at);
        expect(bad.issues.filter((i) => i.severity === "error").map((i) => i.path)).toEqual(["azuread:tenantId", "azuread:environment", "apps[0].credentials[0].managedIdentity.tenantId"]);
        const missing = buildModel({ project: "entra-rotor", stack: "test", source: "test", values }, at);
        expect(missing.issues).toContainEqual({ path: "apps[0].credentials[0].managedIdentity.tenantId", severity: "error", message: expect.stringContaining("set azuread:tenantId") });
    });

    it("refuses a 21st federated credential and a name used by another credential type", () => {
        const many = Array.from({ length: 21 }, (_, i) => fic(`env-${i}`, `e${i}`));
        const result = build([...many, { name: "env-0", type: "secret" }]);
        expect(result.model).toBeUndefined();
        const paths = result.issues.filter((i) => i.severity === "error").map((i) => i.path);
        expect(paths).toContain("apps[0].credentials[20]");
        expect(paths).toContain("apps[0].credentials[21].name");
    });
});
