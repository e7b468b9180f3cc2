import { createPrivateKey } from "node:crypto";
import * as tls from "node:tls";
import forge from "node-forge";
import { describe, expect, it, vi } from "vitest";
import { epochSeconds, validateKeyVaultSecrets } from "../components/keyVaultSecrets";
import { buildModelOrThrow } from "../infra/model/model";
import { proveUnlessPreview } from "../infra/program";
import { CredentialVerificationError, describeError, type ProbeTarget, verifyCredential } from "../azure/probe";
import { containsMockSecret, mockSecretMarker, types } from "./support/pulumiMocks";
import { runProgram, sampleStack } from "./support/program";

const now = new Date("2027-03-01T06:00:00Z");
const secretSig = "4dabf18193072939515e22adb298388d";
const target: ProbeTarget = { label: "mail-sender/main", tenantId: "t", clientId: "c", kind: "secret", secret: "s3cr3t-value" };
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

/** Paths of strings holding a (mock) credential value that are not inside a secret on the wire. */
function plaintextLeaks(value: unknown, path = "", inSecret = false): string[] {
    if (typeof value === "string") return containsMockSecret(value) && !inSecret ? [path] : [];
    if (typeof value !== "object" || value === null) return [];
    const secret = inSecret || (value as Record<string, unknown>)[secretSig] !== undefined;
    return Object.entries(value).flatMap(([key, inner]) => plaintextLeaks(inner, `${path}.${key}`, secret));
}

/** A probe that fails `failures` times with Entra's replication-delay error, then succeeds. */
function flaky(failures: number): { probe: (t: ProbeTarget) => Promise<void>; calls: () => number } {
    let calls = 0;
    return {
        probe: async (t) => {
            calls++;
            if (calls <= failures) throw new Error(`AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is ${t.secret}.\nTrace ID: x`);
        },
        calls: () => calls,
    };
}

describe("the verify gate", () => {
    it("serves a new secret once a token is acquired, after Entra's replication delay", async () => {
        const { probe, calls } = flaky(3);
        expect(await proveUnlessPreview(false, probe, target, fast)).toBe(4);
        expect(calls()).toBe(4);
    });

    it("gives up after the bound with an error naming the credential, and never the value", async () => {
        const { probe, calls } = flaky(100);
        const error = await proveUnlessPreview(false, probe, target, { ...fast, attempts: 5 }).catch((e: unknown) => e);
        expect(calls()).toBe(5);
        expect(error).toBeInstanceOf(CredentialVerificationError);
        const message = (error as Error).message;
        expect(message).toContain("mail-sender/main: the new credential did not authenticate after 5 attempts, so Key Vault keeps serving the previous one");
        expect(message).toContain("AADSTS7000215");
        expect(message).not.toContain("s3cr3t-value");
        expect(message).not.toContain("Trace ID");
    });

    it("stops at once on an error that waiting cannot fix: an application unknown an hour after its credential was made", async () => {
        let calls = 0;
        const probe = async () => {
            calls++;
            throw new Error("AADSTS700016: Application with identifier 'c' was not found in the directory");
        };
        const old = { ...target, createdAt: new Date(Date.now() - 3_600_000).toISOString() };
        await expect(verifyCredential(probe, old, fast)).rejects.toThrow(/cannot authenticate \(Entra does not know this application 60 minutes after it was made, past Entra's replication, AADSTS700016\).*stopped after 1 attempt\./);
        expect(calls).toBe(1);
        // Just made, the same answer is Entra's replication: retried.
        calls = 0;
        await expect(verifyCredential(probe, { ...target, createdAt: new Date().toISOString() }, { ...fast, attempts: 3 })).rejects.toThrow(/did not authenticate after 3 attempts/);
        expect(calls).toBe(3);
    });

    it("never probes in a preview", async () => {
        const { probe, calls } = flaky(0);
        expect(await proveUnlessPreview(true, probe, target, fast)).toBe(0);
        expect(calls()).toBe(0);
    });

    it("scrubs the value from any error text", () => {
        expect(describeError(new Error("bad s3cr3t-value and s3cr3t-value again\nmore"), "s3cr3t-value")).toBe("bad [secret] and [secret] again");
        // Entra ends the lines of its error descriptions with CRLF: no carriage return may reach a table.
        const entra = "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 654ce9b2-a626-4e0b-8598-0cac69970200\r\nCorrelation ID: 5be327fc-93cb-4bef-ab4e-0373f11a8017\r\nTimestamp: 2022-10-31 09:03:41Z";
        expect(describeError(new Error(entra), "")).toBe("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.");
    });
});

describe("the program's Key Vault push", () => {
    it("probes every served secret on up with its app's ids, and none in preview", async () => {
        const up = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        expect(up.probes.map((p) => p.label)).toEqual(["mail-sender/main", "device-inventory/importer", "calendar-sync/web"]);
        const apps = up.exports["apps"] as Record<string, { clientId: string; tenantId: string }>;
        expect(up.probes[0]).toMatchObject({ clientId: apps["mail-sender"]!.clientId, tenantId: apps["mail-sender"]!.tenantId });
        expect(up.probes[0]!.secret).toContain(mockSecretMarker);
        const preview = await runProgram(sampleStack().values as Record<string, unknown>, { now, preview: true });
        expect(preview.probes).toEqual([]);
    });

    it("proves credentials at the cloud the environment names, like the live commands", async () => {
        // A preview: the probe is made (and its endpoints recorded) but never signs in, so nothing leaves the machine.
        const at = (env: Record<string, string>) => runProgram(sampleStack().values as Record<string, unknown>, { now, preview: true, env });
        const publicCloud = await at({ ROTOR_CLOUD: "", AZURE_AUTHORITY_HOST: "" });
        expect(publicCloud.probeEndpoints).toEqual([{ authorityHost: "https://login.microsoftonline.com", scope: "https://graph.microsoft.com/.default" }]);
        const gov = await at({ ROTOR_CLOUD: "AzureUSGovernment", AZURE_AUTHORITY_HOST: "" });
        expect(gov.probeEndpoints).toEqual([{ authorityHost: "https://login.microsoftonline.us", scope: "https://graph.microsoft.us/.default" }]);
        const emulated = await at({ ROTOR_CLOUD: "AzureUSGovernment", AZURE_AUTHORITY_HOST: "https://127.0.0.1:8443" });
        expect(emulated.probeEndpoints).toEqual([{ authorityHost: "https://127.0.0.1:8443", disableInstanceDiscovery: true, scope: "https://graph.microsoft.us/.default" }]);
        expect(publicCloud.probes).toEqual([]);
    });

    it("writes the served secret with its dates, content type and value-free tags, as a secret", async () => {
        const model = buildModelOrThrow(sampleStack(), now);
        const { mocks, exports } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const importer = model.apps[1]!.credentials[0]!;
        const secret = mocks.ofType(types.keyVaultSecret).find((r) => r.inputs["secretName"] === "device-inventory-importer")!;
        expect(secret.name).toBe("device-inventory-keyvault-device-inventory-importer");
        expect(secret.inputs["resourceGroupName"]).toBe("rg-identity");
        expect(secret.inputs["vaultName"]).toBe("kv-contoso-identity");
        const properties = secret.inputs["properties"] as Record<string, unknown>;
        // The whole properties object travels as a secret, because the value is one.
        expect(properties[secretSig]).toBeDefined();
        const inner = properties["value"] as { value: string; contentType: string; attributes: unknown };
        expect(inner.value).toContain(mockSecretMarker);
        expect(inner.contentType).toBe("text/plain");
        expect(inner.attributes).toEqual({ enabled: true, expires: epochSeconds(importer.schedule.served.end), notBefore: epochSeconds(importer.schedule.served.start) });
        const ids = (exports["apps"] as Record<string, { clientId: string; tenantId: string; credentials: Record<string, { servedKeyId: string }> }>)["device-inventory"]!;
        expect(secret.inputs["tags"]).toEqual({
            "managed-by": "entra-rotor",
            app: "device-inventory",
            credential: "importer",
            clientId: ids.clientId,
            tenantId: ids.tenantId,
            keyId: ids.credentials["importer"]!.servedKeyId,
            slot: "1",
            generation: "37",
            nextRotation: "2027-03-06T00:00:00Z",
        });
    });

    it("publishes the client and tenant ids beside it, and no value anywhere but in secret values", async () => {
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const names = mocks.ofType(types.keyVaultSecret).map((r) => r.inputs["secretName"]);
        expect(names).toEqual(expect.arrayContaining(["mail-sender-main", "mail-sender-client-id", "mail-sender-tenant-id"]));
        expect(names).not.toContain("ci-deployer-client-id"); // federated only: nothing to serve
        for (const resource of mocks.resources) expect(plaintextLeaks(resource.inputs), resource.name).toEqual([]);
        for (const resource of mocks.resources) expect(plaintextLeaks(resource.state), resource.name).toEqual([]);
    });

    it("creates the vault with RBAC authorization, purge protection and soft delete", async () => {
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const vault = mocks.ofType(types.keyVault)[0]!;
        expect(vault.inputs).toMatchObject({
            resourceGroupName: "rg-identity",
            vaultName: "kv-contoso-identity",
            location: "westeurope",
            properties: { sku: { family: "A", name: "standard" }, enableRbacAuthorization: true, enablePurgeProtection: true, softDeleteRetentionInDays: 90 },
        });
    });

    it("serves a certificate as PEM and, with pfx, as a PKCS#12 file and its password holding the same key", async () => {
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const byName = (name: string) => {
            const resource = mocks.ofType(types.keyVaultSecret).find((r) => r.inputs["secretName"] === name)!;
            const properties = resource.inputs["properties"] as Record<string, unknown>;
            expect(properties[secretSig], name).toBeDefined();
            return { tags: resource.inputs["tags"], ...(properties["value"] as { value: string; contentType: string; attributes: unknown }) };
        };
        const pem = byName("calendar-sync-web");
        const pfx = byName("calendar-sync-web-pfx");
        const password = byName("calendar-sync-web-pfx-password");
        expect([pem.contentType, pfx.contentType, password.contentType]).toEqual(["application/x-pem-file", "application/x-pkcs12", "text/plain"]);
        expect(pfx.attributes).toEqual(pem.attributes);
        expect(pfx.tags).toEqual(pem.tags);
        const context = tls.createSecureContext({ pfx: Buffer.from(pfx.value, "base64"), passphrase: password.value });
        expect(context).toBeDefined();
        const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(pfx.value)), password.value);
        const key = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]![0]!.key!;
        expect(createPrivateKey(forge.pki.privateKeyToPem(key)).export({ type: "pkcs8", format: "pem" })).toBe(pem.value.slice(0, pem.value.indexOf("-----BEGIN CERTIFICATE-----")));
    });

    it("signs in with a generated certificate only once Entra has its key credential", async () => {
        // The real probe against the emulator: signing in before the upload would be refused (key not found)
        // and retried, so one attempt per credential says the gate waited for Entra to have it.
        const run = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        expect(run.registrationErrors).toEqual([]);
        expect(run.probes.map((p) => p.label).sort()).toEqual(["calendar-sync/web", "device-inventory/importer", "mail-sender/main"]);
    });

    it("writes nothing of a credential whose proof fails: neither its PEM nor its PFX; the others are served", async () => {
        const model = buildModelOrThrow(sampleStack(), now);
        const web = model.apps.find((a) => a.name === "calendar-sync")!.credentials[0]!;
        // Entra keeps refusing the new certificate for longer than the gate's eight attempts.
        const refuse = new Map([[`calendar-sync-web-slot${web.schedule.served.slot}`, 100]]);
        const { mocks, registrationErrors, probes } = await runProgram(sampleStack().values as Record<string, unknown>, { now, refuse });
        expect(registrationErrors.length).toBeGreaterThan(0);
        expect(probes.filter((p) => p.label === "calendar-sync/web")).toHaveLength(8);
        const proof = registrationErrors.find((error) => error.message.includes("calendar-sync/web: the new certificate"))!;
        expect(proof.message).toMatch(/calendar-sync\/web: the new certificate \(generation \d+, slot [01]\) did not authenticate after 8 attempts, so it is not served \(last error: .*AADSTS700027/);
        const written = mocks.ofType(types.keyVaultSecret).map((r) => r.inputs["secretName"]);
        expect(written).not.toContain("calendar-sync-web");
        expect(written).not.toContain("calendar-sync-web-pfx");
        expect(written).not.toContain("calendar-sync-web-pfx-password");
        // Other credentials are proven and served as usual.
        expect(written).toEqual(expect.arrayContaining(["mail-sender-main", "device-inventory-importer", "calendar-sync-client-id"]));
    });

    it("stops at once on a failure no wait fixes: a disabled application, AADSTS7000112", async () => {
        const { registrationErrors, probes, mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now, disabledApps: ["mail-sender"] });
        expect(probes.filter((p) => p.label === "mail-sender/main")).toHaveLength(1);
        const proof = registrationErrors.find((error) => error.message.includes("mail-sender/main: the new secret"))!;
        expect(proof.message).toMatch(/cannot authenticate \(the application is disabled, AADSTS7000112; stopped after 1 attempt: waiting cannot fix it\)/);
        expect(mocks.ofType(types.keyVaultSecret).map((r) => r.inputs["secretName"])).not.toContain("mail-sender-main");
    });

    it("publishes the ids as one JSON secret when asked", async () => {
        const values = sampleStack().values as Record<string, unknown>;
        const { mocks } = await runProgram({ ...values, keyVault: { name: "kv-existing", resourceGroup: "rg", identity: "json" } }, { now });
        expect(mocks.ofType(types.keyVault)).toEqual([]);
        const identity = mocks.ofType(types.keyVaultSecret).find((r) => r.inputs["secretName"] === "mail-sender-identity")!;
        const inner = (identity.inputs["properties"] as Record<string, { value: string; contentType: string }>)["value"]!;
        expect(inner.contentType).toBe("application/json");
        expect(Object.keys(JSON.parse(inner.value) as object)).toEqual(["clientId", "tenantId"]);
    });
});

describe("Key Vault rules", () => {
    it("validateKeyVaultSecrets refuses bad names, duplicates and too many tags", () => {
        const ok = { secretName: "app-main", value: "v", contentType: "text/plain" };
        expect(validateKeyVaultSecrets([ok])).toEqual([]);
        expect(validateKeyVaultSecrets([{ ...ok, secretName: "app_main" }])).toEqual(['"app_main" is not a valid Key Vault secret name (1-127 letters, digits or \'-\')']);
        expect(validateKeyVaultSecrets([ok, { ...ok, secretName: "APP-MAIN" }])).toEqual(['secret "APP-MAIN" is written twice']);
        const tags = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, "x"]));
        expect(validateKeyVaultSecrets([{ ...ok, tags }])).toEqual(['secret "app-main" has 16 tags; Key Vault allows 15']);
    });
});
