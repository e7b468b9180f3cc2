import { beforeAll, describe, expect, it } from "vitest";
import { pfxSecretNames } from "../infra/model/credentials";
import { credentialSecretName, identitySecretNames } from "../infra/model/keyVault";
import { buildModelOrThrow } from "../infra/model/model";
import { appFromTags, appTag, certificateKeyId, parsePasswordDisplayName, passwordDisplayName, stackTag } from "../rotation/identifiers";
import { types } from "./support/pulumiMocks";
import { type ProgramRun, runProgram, sampleStack } from "./support/program";

/**
 * Golden identifiers: what ties the objects deployed in a tenant and a vault back to the stack. They are part
 * of the deployed state. A change to any of them is a migration: certificates get new key ids (both slots
 * replaced at once, and `rotor status` no longer recognises the deployed keys), secrets get new display names
 * (`rotor status` calls them unmanaged), Key Vault secrets get new names (consumers read a name nobody writes).
 * So every expected value here is written out: never computed with the product's functions. The hashes were
 * derived independently with coreutils (see each comment); everything else follows from its documented form.
 */

// The sample stack (Pulumi.dev.yaml, project entra-rotor, stack dev) at a fixed instant.
const now = new Date("2027-03-01T06:00:00Z");

/**
 * certificateKeyId: the first 16 bytes of sha256("entra-rotor certificate <project>/<stack>/<app>/<credential>/<generation>"),
 * byte 6 = 0x80 | (byte 6 & 0x0f) (version 8), byte 8 = 0x80 | (byte 8 & 0x3f) (RFC 9562 variant), as 8-4-4-4-12 hex.
 * Reproduce: printf '%s' 'entra-rotor certificate entra-rotor/dev/calendar-sync/web/12' | sha256sum
 */
const goldenKeyIds: readonly { readonly at: string; readonly sha256: string; readonly keyId: string }[] = [
    // sha256 7313696462f7c14214cf25d6cd6b8b36...: byte 6 c1 -> 81, byte 8 14 -> 94
    { at: "entra-rotor/dev/calendar-sync/web/12", sha256: "7313696462f7c14214cf25d6cd6b8b36", keyId: "73136964-62f7-8142-94cf-25d6cd6b8b36" },
    // sha256 1369b67da0e25465462372ca63420e2c...: byte 6 54 -> 84, byte 8 46 -> 86
    { at: "entra-rotor/dev/calendar-sync/web/11", sha256: "1369b67da0e25465462372ca63420e2c", keyId: "1369b67d-a0e2-8465-8623-72ca63420e2c" },
    // sha256 3423b87220300c7ac1328860ebdabde2...: byte 6 0c -> 8c, byte 8 c1 -> 81
    { at: "entra-rotor/dev/calendar-sync/web/13", sha256: "3423b87220300c7ac1328860ebdabde2", keyId: "3423b872-2030-8c7a-8132-8860ebdabde2" },
    // sha256 883408d4b5f15e7c09eccca09f49cee4...: byte 6 5e -> 8e, byte 8 09 -> 89
    { at: "contoso-identity/prod/payments/signing/4", sha256: "883408d4b5f15e7c09eccca09f49cee4", keyId: "883408d4-b5f1-8e7c-89ec-cca09f49cee4" },
    // sha256 181112b1c34c8b2726eaa6faded50180...: byte 6 8b -> 8b, byte 8 26 -> a6
    { at: "contoso-identity/prod/payments/signing/5", sha256: "181112b1c34c8b2726eaa6faded50180", keyId: "181112b1-c34c-8b27-a6ea-a6faded50180" },
];

/** A second fixed stack, unlike the sample: another project and stack, its own epoch, overridden names, identity as JSON. */
const prodStack = {
    project: "contoso-identity",
    stack: "prod",
    source: "Pulumi.prod.yaml",
    values: {
        rotation: { epoch: "2025-06-01T00:00:00Z" },
        keyVault: { name: "kv-payments-prod", resourceGroup: "rg-payments", identity: "json" },
        apps: [
            {
                name: "payments",
                credentials: [
                    { name: "api", type: "secret" },
                    { name: "signing", type: "certificate", rotateEveryDays: 45, lifetimeDays: 97, pfx: true, keyVaultSecretName: "payments-signing-cert" },
                ],
            },
        ],
    },
};
const prodNow = new Date("2026-02-14T12:00:00Z");

describe("golden identifiers: what the tenant and the vault are recognised by", () => {
    it("certificate key ids are deployed state: changing one is a migration (both slots replaced)", () => {
        for (const { at, keyId } of goldenKeyIds) {
            const [project, stack, app, credential, generation] = at.split("/") as [string, string, string, string, string];
            expect(certificateKeyId(project, stack, app, credential, Number(generation)), at).toBe(keyId);
        }
        // The fixtures themselves: a version-8 UUID whose hex is the hash's but for the version and variant bits.
        for (const { sha256, keyId } of goldenKeyIds) {
            expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            const hex = keyId.replace(/-/g, "");
            expect(hex.slice(0, 12) + hex.slice(13, 16) + hex.slice(17), sha256).toBe(sha256.slice(0, 12) + sha256.slice(13, 16) + sha256.slice(17));
        }
    });

    it("certificate key ids depend on the project: the same stack name in another project is another identity (a migration to rename)", () => {
        // sha256("entra-rotor certificate other/dev/calendar-sync/web/12") differs: the key ids must too.
        expect(certificateKeyId("other", "dev", "calendar-sync", "web", 12)).not.toBe("73136964-62f7-8142-94cf-25d6cd6b8b36");
    });

    it("client secret display names are deployed state: changing one is a migration (rotor status no longer recognises the deployed secrets)", () => {
        // "<credential> slot <slot> generation <generation>", as secrets deployed since the first release carry.
        expect(passwordDisplayName("main", 0, 12)).toBe("main slot 0 generation 12");
        expect(passwordDisplayName("main", 1, 11)).toBe("main slot 1 generation 11");
        expect(passwordDisplayName("importer", 1, 37)).toBe("importer slot 1 generation 37");
        expect(passwordDisplayName("api", 0, -2)).toBe("api slot 0 generation -2");
        // What is deployed is read back, and nothing else is taken for it.
        expect(parsePasswordDisplayName("importer slot 1 generation 37")).toEqual({ credential: "importer", slot: 1, generation: 37 });
        expect(parsePasswordDisplayName("api slot 1 generation -1")).toEqual({ credential: "api", slot: 1, generation: -1 });
        for (const other of ["importer slot 1 gen 37", "importer slot 1 generation 37 ", "importer  slot 1 generation 37", "importer-slot-1-generation-37", "Importer slot 1 generation 37"]) {
            expect(parsePasswordDisplayName(other), other).toBeUndefined();
        }
    });

    it("app and stack tags are deployed state: changing one is a migration (rotor status no longer finds the stack's applications)", () => {
        expect(stackTag("entra-rotor", "dev")).toBe("entra-rotor:entra-rotor/dev");
        expect(appTag("entra-rotor", "dev", "calendar-sync")).toBe("entra-rotor:entra-rotor/dev/calendar-sync");
        expect(stackTag("contoso-identity", "prod")).toBe("entra-rotor:contoso-identity/prod");
        expect(appTag("contoso-identity", "prod", "payments")).toBe("entra-rotor:contoso-identity/prod/payments");
        expect(appFromTags(["entra-rotor:contoso-identity/prod", "entra-rotor:contoso-identity/prod/payments"], "contoso-identity", "prod")).toBe("payments");
        // Another stack's or project's tag is not this stack's.
        expect(appFromTags(["entra-rotor:contoso-identity/prod-eu/payments"], "contoso-identity", "prod")).toBeUndefined();
        expect(appFromTags(["entra-rotor:contoso/prod/payments"], "contoso-identity", "prod")).toBeUndefined();
    });

    it("Key Vault secret names are deployed state: changing one is a migration (consumers read a secret nobody writes any more)", () => {
        // {app}-{credential}; the PFX beside it {served}-pfx and {served}-pfx-password; the ids {app}-client-id,
        // {app}-tenant-id, or {app}-identity as JSON.
        expect(credentialSecretName("mail-sender", "main")).toBe("mail-sender-main");
        expect(credentialSecretName("calendar-sync", "web")).toBe("calendar-sync-web");
        expect(pfxSecretNames("calendar-sync-web")).toEqual({ secretName: "calendar-sync-web-pfx", passwordSecretName: "calendar-sync-web-pfx-password" });
        expect(pfxSecretNames("payments-signing-cert")).toEqual({ secretName: "payments-signing-cert-pfx", passwordSecretName: "payments-signing-cert-pfx-password" });
        expect(identitySecretNames("mail-sender", "secrets")).toEqual({ clientId: "mail-sender-client-id", tenantId: "mail-sender-tenant-id" });
        expect(identitySecretNames("payments", "json")).toEqual({ json: "payments-identity" });
    });

    it("the model of a second fixed stack names the same: changing any of these is a migration", () => {
        const model = buildModelOrThrow(prodStack, prodNow);
        const payments = model.apps[0]!;
        expect(payments.identitySecrets).toEqual({ json: "payments-identity" });
        const [api, signing] = payments.credentials;
        expect(api).toMatchObject({ name: "api", type: "secret", keyVaultSecretName: "payments-api" });
        expect(signing).toMatchObject({ name: "signing", type: "certificate", keyVaultSecretName: "payments-signing-cert", pfx: { secretName: "payments-signing-cert-pfx", passwordSecretName: "payments-signing-cert-pfx-password" } });
        // Generations 5 (served) and 4 at this instant: derived by hand in golden.schedule.test.ts.
        expect([signing!.schedule.served.generation, signing!.schedule.previous.generation]).toEqual([5, 4]);
    });
});

describe("golden identifiers the program writes (sample stack, 2027-03-01T06:00:00Z)", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(sampleStack().values as Record<string, unknown>, { now });
    }, 60_000);

    it("app tags on every application are deployed state: changing one is a migration", () => {
        const tags = Object.fromEntries(run.mocks.ofType(types.application).map((r) => [r.name, r.inputs["tags"]]));
        expect(tags).toEqual({
            "mail-sender-app": ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/mail-sender"],
            "device-inventory-app": ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/device-inventory"],
            "calendar-sync-app": ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/calendar-sync"],
            "ci-deployer-app": ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/ci-deployer"],
            "ci-preview-app": ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/ci-preview"],
        });
    });

    it("client secrets' display names, end dates and triggers are deployed state: changing one is a migration (the slot is replaced)", () => {
        // mail-sender/main (R 90, L 210, phase 27) serves generation 12 from slot 0, slot 1 holds 11; device-inventory/importer
        // (R 30, L 90, phase 20) serves 37 from slot 1, slot 0 holds 36: windows derived in golden.schedule.test.ts.
        const passwords = Object.fromEntries(run.mocks.ofType(types.applicationPassword).map((r) => [r.name, { displayName: r.inputs["displayName"], endDate: r.inputs["endDate"], rotateWhenChanged: r.inputs["rotateWhenChanged"] }]));
        expect(passwords).toEqual({
            "mail-sender-main-slot0": { displayName: "main slot 0 generation 12", endDate: "2027-08-10T00:00:00Z", rotateWhenChanged: { generation: "12" } },
            "mail-sender-main-slot1": { displayName: "main slot 1 generation 11", endDate: "2027-05-12T00:00:00Z", rotateWhenChanged: { generation: "11" } },
            "device-inventory-importer-slot0": { displayName: "importer slot 0 generation 36", endDate: "2027-04-05T00:00:00Z", rotateWhenChanged: { generation: "36" } },
            "device-inventory-importer-slot1": { displayName: "importer slot 1 generation 37", endDate: "2027-05-05T00:00:00Z", rotateWhenChanged: { generation: "37" } },
        });
    });

    it("generated certificates' key ids and subjects are deployed state: changing one is a migration (both slots replaced)", () => {
        // calendar-sync/web (R 90, L 210, phase 4) serves generation 12 from slot 0, slot 1 holds 11.
        const uploads = Object.fromEntries(run.mocks.ofType(types.applicationCertificate).filter((r) => r.name.startsWith("calendar-sync-web-")).map((r) => [r.name, { keyId: r.inputs["keyId"], endDate: r.inputs["endDate"] }]));
        expect(uploads).toEqual({
            "calendar-sync-web-slot0": { keyId: "73136964-62f7-8142-94cf-25d6cd6b8b36", endDate: "2027-07-18T00:00:00Z" },
            "calendar-sync-web-slot1": { keyId: "1369b67d-a0e2-8465-8623-72ca63420e2c", endDate: "2027-04-19T00:00:00Z" },
        });
        const certificates = Object.fromEntries(run.mocks.ofType(types.selfSignedCert).map((r) => [r.name, { subject: r.inputs["subject"], hours: r.inputs["validityPeriodHours"] }]));
        // Valid for the whole lifetime: 210 days x 24 h = 5040 h.
        expect(certificates).toEqual({
            "calendar-sync-web-slot0-cert": { subject: { commonName: "web", organizationalUnit: "entra-rotor slot 0 generation 12" }, hours: 5040 },
            "calendar-sync-web-slot1-cert": { subject: { commonName: "web", organizationalUnit: "entra-rotor slot 1 generation 11" }, hours: 5040 },
        });
    });

    it("Key Vault secret names the program writes are deployed state: changing one is a migration", () => {
        const names = run.mocks.ofType(types.keyVaultSecret).map((r) => r.inputs["secretName"]).sort();
        expect(names).toEqual([
            "calendar-sync-client-id",
            "calendar-sync-tenant-id",
            "calendar-sync-web",
            "calendar-sync-web-pfx",
            "calendar-sync-web-pfx-password",
            "device-inventory-client-id",
            "device-inventory-importer",
            "device-inventory-tenant-id",
            "mail-sender-client-id",
            "mail-sender-main",
            "mail-sender-tenant-id",
        ]);
    });

    it("the Key Vault tags the program writes are deployed state: changing one is a migration (rotor status reads them)", () => {
        const apps = run.exports["apps"] as Record<string, { clientId: string; tenantId: string; credentials: Record<string, { servedKeyId: string }> }>;
        const tagsOf = (name: string) => run.mocks.ofType(types.keyVaultSecret).find((r) => r.inputs["secretName"] === name)!.inputs["tags"];
        const ids = (app: string) => ({ clientId: apps[app]!.clientId, tenantId: apps[app]!.tenantId });
        expect(tagsOf("mail-sender-main")).toEqual({
            "managed-by": "entra-rotor",
            app: "mail-sender",
            credential: "main",
            ...ids("mail-sender"),
            keyId: apps["mail-sender"]!.credentials["main"]!.servedKeyId,
            slot: "0",
            generation: "12",
            nextRotation: "2027-04-12T00:00:00Z",
        });
        expect(tagsOf("device-inventory-importer")).toEqual({
            "managed-by": "entra-rotor",
            app: "device-inventory",
            credential: "importer",
            ...ids("device-inventory"),
            keyId: apps["device-inventory"]!.credentials["importer"]!.servedKeyId,
            slot: "1",
            generation: "37",
            nextRotation: "2027-03-06T00:00:00Z",
        });
        // A certificate's served key id is the golden one of generation 12, on the PEM and on both PFX secrets.
        const web = {
            "managed-by": "entra-rotor",
            app: "calendar-sync",
            credential: "web",
            ...ids("calendar-sync"),
            keyId: "73136964-62f7-8142-94cf-25d6cd6b8b36",
            slot: "0",
            generation: "12",
            nextRotation: "2027-03-20T00:00:00Z",
        };
        for (const name of ["calendar-sync-web", "calendar-sync-web-pfx", "calendar-sync-web-pfx-password"]) expect(tagsOf(name), name).toEqual(web);
        for (const app of ["mail-sender", "device-inventory", "calendar-sync"]) {
            for (const name of [`${app}-client-id`, `${app}-tenant-id`]) expect(tagsOf(name), name).toEqual({ "managed-by": "entra-rotor", app });
        }
    });
});
