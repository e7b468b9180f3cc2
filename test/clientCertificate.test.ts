import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { ClientCertificate, certificateValidityHours, slotReplacement } from "../components/clientCertificate";
import { pkcs12Password, toPkcs12 } from "../components/pkcs12";
import type { CredentialSlot } from "../components/slots";
import { ProviderMocks, containsMockSecret, settle, types, valueOf } from "./support/pulumiMocks";

const slots: CredentialSlot[] = [
    { slot: 0, generation: 12, start: "2026-10-01T00:00:00Z", end: "2027-04-29T00:00:00Z" },
    { slot: 1, generation: 11, start: "2026-07-03T00:00:00Z", end: "2027-01-29T00:00:00Z" },
];
const applicationId = "/applications/5b0b4c0e-7f4e-4d2b-9a3e-0c1e2d3f4a5b";

let mocks: ProviderMocks;
beforeEach(async () => {
    mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "test", false);
});

async function build(keySize?: 2048 | 3072 | 4096): Promise<ClientCertificate> {
    const certificate = new ClientCertificate("calendar-sync-web", { applicationId, slots, credentialName: "web", ...(keySize ? { keySize } : {}) });
    await valueOf(certificate.served.keyId);
    await settle();
    return certificate;
}

describe("ClientCertificate", () => {
    it("generates an RSA key and a self-signed certificate per slot, valid for the slot's whole lifetime", async () => {
        await build();
        expect(mocks.ofType(types.privateKey).map((r) => ({ name: r.name, ...r.inputs }))).toEqual([
            { name: "calendar-sync-web-slot0-key", algorithm: "RSA", rsaBits: 2048 },
            { name: "calendar-sync-web-slot1-key", algorithm: "RSA", rsaBits: 2048 },
        ]);
        const certs = mocks.ofType(types.selfSignedCert);
        expect(certs.map((r) => r.name)).toEqual(["calendar-sync-web-slot0-cert", "calendar-sync-web-slot1-cert"]);
        expect(certs[0]!.inputs).toMatchObject({
            subject: { commonName: "web", organizationalUnit: "entra-rotor slot 0 generation 12" },
            validityPeriodHours: 210 * 24,
            earlyRenewalHours: 0,
            allowedUses: ["digital_signature"],
        });
        expect(certificateValidityHours(slots[1]!)).toBe(210 * 24);
    });

    it("uploads each certificate as an AsymmetricX509Cert that ends with its slot, never after the certificate", async () => {
        await build();
        const credentials = mocks.ofType(types.applicationCertificate);
        const certs = mocks.ofType(types.selfSignedCert);
        expect(credentials.map((r) => ({ name: r.name, ...r.inputs }))).toEqual([
            { name: "calendar-sync-web-slot0", applicationId, type: "AsymmetricX509Cert", encoding: "pem", value: expect.objectContaining({ value: certs[0]!.state["certPem"] }), endDate: "2027-04-29T00:00:00Z" },
            { name: "calendar-sync-web-slot1", applicationId, type: "AsymmetricX509Cert", encoding: "pem", value: expect.objectContaining({ value: certs[1]!.state["certPem"] }), endDate: "2027-01-29T00:00:00Z" },
        ]);
        // The certificate is created at or after the slot's start and lives its whole lifetime, so it outlives the credential.
        for (const [i, cert] of certs.entries()) {
            expect(Date.parse(String(cert.state["validityStartTime"]))).toBeGreaterThanOrEqual(Date.parse(slots[i]!.start));
            expect(Date.parse(String(cert.state["validityEndTime"]))).toBeGreaterThanOrEqual(Date.parse(slots[i]!.end));
        }
    });

    it("serves the newest slot as a secret PEM bundle of key and certificate", async () => {
        const certificate = await build(3072);
        expect(certificate.served).toMatchObject({ slot: 0, generation: 12 });
        expect(await pulumi.isSecret(certificate.served.pemBundle)).toBe(true);
        const bundle = await valueOf(certificate.served.pemBundle);
        expect(bundle).toMatch(/^-----BEGIN PRIVATE KEY-----\n.*\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n.*\n-----END CERTIFICATE-----\n$/s);
        expect(containsMockSecret(bundle)).toBe(true);
        expect(await pulumi.isSecret(certificate.keys[0].privateKeyPem)).toBe(true);
        expect(mocks.ofType(types.privateKey)[0]!.inputs["rsaBits"]).toBe(3072);
    });

    it("derives a PKCS#12 of the served slot only when asked, as secrets", async () => {
        expect((await build()).served.pkcs12).toBeUndefined();
        const certificate = new ClientCertificate("calendar-sync-web2", { applicationId, slots, credentialName: "web", pfx: true });
        const pkcs12 = certificate.served.pkcs12!;
        expect(await pulumi.isSecret(pkcs12.value)).toBe(true);
        expect(await pulumi.isSecret(pkcs12.password)).toBe(true);
        const [value, password, key] = await Promise.all([valueOf(pkcs12.value), valueOf(pkcs12.password), valueOf(certificate.keys[0].privateKeyPemPkcs8)]);
        expect(password).toBe(pkcs12Password(key));
        expect(value).toBe(toPkcs12({ privateKeyPem: key, certificatePem: await valueOf(certificate.certificates[0].certPem), password, friendlyName: "web" }));
        await settle();
    });

    it("replaces a slot's key, certificate and credential exactly when its generation changes", async () => {
        const parent = await build();
        expect(slotReplacement(parent, slots[0]!)).toEqual({ parent, replacementTrigger: "generation 12" });
        expect(slotReplacement(parent, { ...slots[0]!, generation: 14 }).replacementTrigger).toBe("generation 14");
    });

    it("throws before registering anything for invalid slots", () => {
        expect(() => new ClientCertificate("bad", { applicationId, slots: [slots[0]!], credentialName: "web" })).toThrow(/exactly two slots/);
        expect(mocks.resources).toEqual([]);
    });
});
