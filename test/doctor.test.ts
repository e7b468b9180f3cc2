import { describe, expect, it } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import { allows, assessDoctor, directoryRoles, type DoctorFacts, durationDays, type SignedIn, vaultOperations } from "../cli/live/doctor";
import { lifetimeRestrictions, signedInFrom } from "../cli/live/doctorFacts";
import { sampleStack } from "./support/program";

const model = buildModelOrThrow(sampleStack(), new Date("2027-03-01T06:00:00Z"));
const pipeline: SignedIn = { kind: "app", tenantId: "t", objectId: "sp-1", name: "ci", roles: ["Application.ReadWrite.OwnedBy", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"], scopes: [], directoryRoles: [] };
/** The custom role docs/pipelines.md defines: exactly what the program calls on the vault. */
const secretWriter = { actions: [...vaultOperations.actions], notActions: [], dataActions: [...vaultOperations.dataActions], notDataActions: [] };
const facts = (overrides: Partial<DoctorFacts> = {}): DoctorFacts => ({
    signedIn: pipeline,
    existingApps: new Map(),
    restrictions: [],
    vault: { url: "https://kv-contoso-identity.vault.azure.net", result: "ok" },
    vaultPermissions: { scope: "vault", blocks: [secretWriter] },
    ...overrides,
});
const failing = (f: DoctorFacts) => assessDoctor(model, f).checks.filter((c) => c.result === "fail").map((c) => `${c.check}: ${c.detail}`);

describe("rotor doctor", () => {
    it("passes a pipeline identity that owns the stack's apps and may grant consent", () => {
        const report = assessDoctor(model, facts({ existingApps: new Map([["mail-sender", { objectId: "o1", owners: ["sp-1"], federatedNames: [] }]]) }));
        expect(report.checks.map((c) => `${c.result} ${c.check}`)).toEqual([
            "ok signed-in identity",
            "ok manage app registrations",
            "ok grant application permissions",
            "ok grant delegated permissions",
            "ok app management policy",
            "ok limits",
            "ok Key Vault",
            "ok Key Vault permissions",
        ]);
        expect(report.exitCode).toBe(0);
    });

    it("fails when an OwnedBy identity does not own an existing app, and without any app permission", () => {
        const notOwner = facts({ existingApps: new Map([["mail-sender", { objectId: "o1", owners: ["someone-else"], federatedNames: [] }]]) });
        expect(failing(notOwner)).toEqual([expect.stringMatching(/^manage app registrations: may only update applications it owns, and does not own mail-sender/)]);
        const nobody = facts({ signedIn: { ...pipeline, roles: [] } });
        expect(failing(nobody)[0]).toMatch(/cannot create or update applications/);
        expect(assessDoctor(model, nobody).checks.find((c) => c.check === "grant application permissions")!.result).toBe("warn");
    });

    it("reads a person's directory roles", () => {
        const admin: SignedIn = { kind: "user", tenantId: "t", objectId: "u1", name: "alex@contoso.com", roles: [], scopes: ["Application.ReadWrite.All"], directoryRoles: [directoryRoles.cloudApplicationAdministrator] };
        const checks = assessDoctor(model, facts({ signedIn: admin })).checks;
        expect(checks.find((c) => c.check === "manage app registrations")!.result).toBe("ok");
        expect(checks.find((c) => c.check === "grant application permissions")!.result).toBe("warn");
        expect(checks.find((c) => c.check === "grant delegated permissions")!.result).toBe("ok");
    });

    it("holds the lifetimes against the tenant's app management policies", () => {
        const tight = facts({
            restrictions: [
                { policy: "tenant default", kind: "passwordLifetime", maxLifetimeDays: 180, appliesTo: "all" },
                { policy: "certs", kind: "asymmetricKeyLifetime", maxLifetimeDays: 365, appliesTo: "all" },
            ],
        });
        expect(failing(tight)).toEqual([
            'mail-sender/main: lifetime 210 days exceeds policy "tenant default" (passwordLifetime 180 days): Entra refuses the credential; set rotation.maxLifetimeDays to 180 and lower lifetimeDays',
        ]);
        const noSecrets = facts({ restrictions: [{ policy: "no secrets", kind: "passwordAddition", maxLifetimeDays: null, appliesTo: ["o2"] }], existingApps: new Map([["device-inventory", { objectId: "o2", owners: ["sp-1"], federatedNames: [] }]]) });
        expect(failing(noSecrets)).toEqual(['device-inventory/importer: policy "no secrets" forbids adding client secrets: use a certificate or a federated credential']);
        expect(assessDoctor(model, facts({ restrictions: undefined, policyError: "403 Authorization_RequestDenied" })).checks.find((c) => c.check === "app management policy")).toMatchObject({ result: "skipped" });
    });

    it("fails the generated certificates under a trusted certificate authority restriction, and asks about brought ones", () => {
        const trusted = facts({ restrictions: [{ policy: "only our CA", kind: "trustedCertificateAuthority", maxLifetimeDays: null, appliesTo: "all" }] });
        expect(failing(trusted)).toEqual([
            'calendar-sync/web: policy "only our CA" accepts only certificates from the tenant\'s trusted certificate authorities: this generated certificate is self-signed, so Entra refuses it at its first rotation; use a federated credential, a client secret, or a certificate your CA issues (file:)',
        ]);
        const partner = assessDoctor(model, trusted).checks.find((c) => c.check === "device-inventory/partner")!;
        expect(partner).toMatchObject({ result: "warn" });
        expect(partner.detail).toContain("certs/device-inventory-partner.cer (issued by CN=Fabrikam Device Export, O=Fabrikam Ltd) must chain to one of them");
        // A policy scoped to other apps leaves this stack alone.
        expect(failing(facts({ restrictions: [{ policy: "elsewhere", kind: "trustedCertificateAuthority", maxLifetimeDays: null, appliesTo: ["o-other"] }] }))).toEqual([]);
        expect(lifetimeRestrictions("p", { keyCredentials: [{ restrictionType: "trustedCertificateAuthority", maxLifetime: null }] }, "all")).toEqual([
            { policy: "p", kind: "trustedCertificateAuthority", maxLifetimeDays: null, appliesTo: "all" },
        ]);
    });

    it("advises Policy.Read.All only to an identity that does not have it", () => {
        const without = assessDoctor(model, facts({ restrictions: undefined, policyError: "403 Authorization_RequestDenied" })).checks.find((c) => c.check === "app management policy")!;
        expect(without.detail).toContain("grant Policy.Read.All");
        const withIt = assessDoctor(model, facts({ signedIn: { ...pipeline, roles: [...pipeline.roles, "Policy.Read.All"] }, restrictions: undefined, policyError: "400 BadRequest" })).checks.find((c) => c.check === "app management policy")!;
        expect(withIt).toMatchObject({ result: "skipped" });
        expect(withIt.detail).toBe("cannot read the tenant's policies (400 BadRequest): lifetimes are not checked against them");
        // Custom policies that could not be read are said, while the tenant default was checked.
        const partial = assessDoctor(model, facts({ restrictions: [], policyNotes: ["custom app management policies could not be read (400 BadRequest): only the tenant default was checked"] })).checks;
        expect(partial.filter((c) => c.check === "app management policy").map((c) => c.result)).toEqual(["warn"]);
    });

    it("counts federated credentials added by hand against the limit of 20", () => {
        const crowded = facts({ existingApps: new Map([["ci-deployer", { objectId: "o4", owners: ["sp-1"], federatedNames: ["github-production", ...Array.from({ length: 20 }, (_, i) => `manual-${i}`)] }]]) });
        expect(failing(crowded)[0]).toMatch(/^ci-deployer federated credentials: 2 declared and 20 added by hand .* make 22, over Entra's limit of 20/);
    });

    it("says what to do about the vault", () => {
        // Listing secrets needs a data-plane role the deployment does not need: not a failure.
        expect(failing(facts({ vault: { url: "https://kv", result: "forbidden", detail: "Forbidden" } }))).toEqual([]);
        expect(failing(facts({ vault: { url: "https://kv", result: "error", detail: "getaddrinfo ENOTFOUND kv" } }))).toEqual(["Key Vault: https://kv: getaddrinfo ENOTFOUND kv"]);
        // The sample stack creates its vault: not existing yet is fine.
        expect(failing(facts({ vault: { url: "https://kv", result: "not-found" } }))).toEqual([]);
        expect(assessDoctor(model, facts({ signedIn: undefined, signInError: "AADSTS7000215: Invalid client secret" })).checks[0]).toMatchObject({ result: "fail", check: "signed-in identity" });
    });

    it("checks the deploying identity may write through Resource Manager, which a data-plane role does not grant", () => {
        // Key Vault Secrets Officer, as Azure defines it: data actions on secrets, and only read actions in Resource Manager.
        const officer = { actions: ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read"], notActions: [], dataActions: ["Microsoft.KeyVault/vaults/secrets/*"], notDataActions: [] };
        expect(failing(facts({ vaultPermissions: { scope: "vault", blocks: [officer] } }))).toEqual([
            'Key Vault permissions: lacks Microsoft.KeyVault/vaults/secrets/write on the vault kv-contoso-identity: pulumi up writes the served secrets through Resource Manager; assign the custom role "entra-rotor Key Vault secret writer" (docs/pipelines.md) to the deploying identity there',
        ]);
        // Key Vault Contributor: every action, no data action, so it cannot delete a secret the stack stops serving.
        const contributor = { actions: ["Microsoft.KeyVault/*"], notActions: ["Microsoft.KeyVault/locations/deletedVaults/purge/action"], dataActions: [], notDataActions: [] };
        expect(failing(facts({ vaultPermissions: { scope: "vault", blocks: [contributor] } }))[0]).toContain("lacks Microsoft.KeyVault/vaults/secrets/delete (data action)");
        expect(failing(facts({ vaultPermissions: { scope: "vault", blocks: [contributor, officer] } }))).toEqual([]);
        // A stack that creates its vault needs to create it, on the resource group.
        const created = facts({ vault: { url: "https://kv", result: "not-found" }, vaultPermissions: { scope: "resourceGroup", blocks: [secretWriter] } });
        expect(failing(created)[0]).toMatch(/^Key Vault permissions: lacks Microsoft\.KeyVault\/vaults\/read, Microsoft\.KeyVault\/vaults\/write on the resource group rg-identity/);
        expect(failing(facts({ vaultPermissions: { missingResourceGroup: "rg-identity" } }))[0]).toBe("Key Vault permissions: the resource group rg-identity does not exist: the program does not create it; az group create --name rg-identity --location <region>");
        expect(assessDoctor(model, facts({ vaultPermissions: { skipped: "the subscription is unknown" } })).checks.find((c) => c.check === "Key Vault permissions")).toMatchObject({ result: "skipped" });
        // Azure's matching: `*` anywhere, case-insensitive, notActions subtract within their block.
        expect(allows([{ actions: ["*/read"], notActions: [], dataActions: [], notDataActions: [] }], "Microsoft.KeyVault/vaults/secrets/read")).toBe(true);
        expect(allows([{ actions: ["microsoft.keyvault/VAULTS/secrets/write"], notActions: [], dataActions: [], notDataActions: [] }], "Microsoft.KeyVault/vaults/secrets/write")).toBe(true);
        expect(allows([{ actions: ["*"], notActions: ["Microsoft.KeyVault/*/write"], dataActions: [], notDataActions: [] }], "Microsoft.KeyVault/vaults/secrets/write")).toBe(false);
        expect(allows([{ actions: ["Microsoft.KeyVault/vaults.secrets/read"], notActions: [], dataActions: [], notDataActions: [] }], "Microsoft.KeyVault/vaults/secrets/read")).toBe(false);
    });

    it("says whether usage evidence is available (a fact row that never fails), and adds no row when it was not probed", () => {
        const row = (usage: DoctorFacts["usage"]) => assessDoctor(model, facts({ usage })).checks.find((c) => c.check === "usage evidence");
        expect(row(undefined)).toBeUndefined();
        expect(row({ source: "appCredentialSignInActivities", unavailable: null })).toEqual({
            check: "usage evidence",
            result: "ok",
            detail: "available from Entra's credential sign-in report (Graph beta): rotor status --usage shows which credential consumers sign in with",
        });
        expect(row({ source: "signIns", unavailable: null })!.detail).toMatch(/^available from the sign-in log/);
        const licence = row({ source: null, unavailable: { reason: "licence", missing: "Microsoft Entra ID P1 or P2", detail: "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" } })!;
        expect(licence).toMatchObject({ result: "skipped", detail: expect.stringMatching(/^no licence: the tenant has no Microsoft Entra ID P1 or P2 \(Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant\)/) });
        const permission = row({ source: null, unavailable: { reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" } })!;
        expect(permission).toMatchObject({ result: "skipped", detail: expect.stringMatching(/^missing AuditLog\.Read\.All/) });
        expect(assessDoctor(model, facts({ usage: { source: null, unavailable: { reason: "error", missing: null, detail: "503 serviceNotAvailable" } } })).exitCode).toBe(0);
    });

    it("parses ISO-8601 durations, token claims and policy restrictions as Graph returns them", () => {
        expect([durationDays("P90D"), durationDays("P1Y"), durationDays("P2Y"), durationDays("PT720H"), durationDays("P1Y6M"), durationDays("90"), durationDays("P")]).toEqual([90, 365, 730, 30, 545, undefined, undefined]);
        expect(signedInFrom({ tid: "t", oid: "o", appid: "a", roles: ["Application.ReadWrite.OwnedBy"], idtyp: "app" })).toMatchObject({ kind: "app", name: "a", roles: ["Application.ReadWrite.OwnedBy"] });
        expect(signedInFrom({ tid: "t", oid: "o", upn: "alex@contoso.com", scp: "User.Read Application.ReadWrite.All", wids: [directoryRoles.globalAdministrator] })).toMatchObject({ kind: "user", name: "alex@contoso.com", scopes: ["User.Read", "Application.ReadWrite.All"] });
        expect(
            lifetimeRestrictions("p", { passwordCredentials: [{ restrictionType: "passwordLifetime", maxLifetime: "P90D" }, { restrictionType: "passwordAddition", state: "disabled" }], keyCredentials: [{ restrictionType: "asymmetricKeyLifetime", maxLifetime: "P1Y" }] }, "all"),
        ).toEqual([
            { policy: "p", kind: "passwordLifetime", maxLifetimeDays: 90, appliesTo: "all" },
            { policy: "p", kind: "asymmetricKeyLifetime", maxLifetimeDays: 365, appliesTo: "all" },
        ]);
    });
});
