import { createPrivateKey, X509Certificate } from "node:crypto";
import * as tls from "node:tls";
import forge from "node-forge";
import { describe, expect, it } from "vitest";
import { pkcs12Password, toPkcs12 } from "../components/pkcs12";
import { mockKey, mockSelfSignedCertificate } from "./support/mockCertificates";

const key = mockKey("pkcs12-test-a");
const other = mockKey("pkcs12-test-b");
const certificatePem = mockSelfSignedCertificate(key.pkcs1, { commonName: "web" }, "2026-11-23T06:00:00Z", 210 * 24);
const password = pkcs12Password(key.pkcs8);
const input = { privateKeyPem: key.pkcs8, certificatePem, password, friendlyName: "web" };

describe("pkcs12Password", () => {
    it("is 43 URL-safe characters, the same for the PKCS#1 and PKCS#8 forms of one key", () => {
        expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(pkcs12Password(key.pkcs1)).toBe(password);
    });

    it("differs between keys and reveals nothing of the key", () => {
        expect(pkcs12Password(other.pkcs8)).not.toBe(password);
        const body = key.pkcs8.split("\n").slice(1, -2).join("");
        expect(body).not.toContain(password);
    });
});

describe("toPkcs12", () => {
    it("gives equal bytes for equal inputs, so a rerun writes nothing new to Key Vault", () => {
        expect(toPkcs12(input)).toBe(toPkcs12(input));
        expect(toPkcs12({ ...input, privateKeyPem: key.pkcs1 })).toBe(toPkcs12(input));
    });

    it("differs when the key, the certificate or the password differs", () => {
        const base = toPkcs12(input);
        const otherCertificate = mockSelfSignedCertificate(other.pkcs1, { commonName: "web" }, "2026-11-23T06:00:00Z", 210 * 24);
        expect(toPkcs12({ ...input, privateKeyPem: other.pkcs8, certificatePem: otherCertificate, password: pkcs12Password(other.pkcs8) })).not.toBe(base);
        expect(toPkcs12({ ...input, password: "another-password" })).not.toBe(base);
    });

    it("opens in OpenSSL (through Node's TLS) with its password, and not without", () => {
        const pfx = Buffer.from(toPkcs12(input), "base64");
        expect(() => tls.createSecureContext({ pfx, passphrase: password })).not.toThrow();
        expect(() => tls.createSecureContext({ pfx, passphrase: "wrong" })).toThrow(/mac verify failure|bad decrypt|unsupported/i);
    });

    it("holds the same key and certificate, named, with strong algorithms", () => {
        const der = forge.util.decode64(toPkcs12(input));
        const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), password);
        const keyBags = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]!;
        const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!]!;
        expect(keyBags).toHaveLength(1);
        expect(certBags).toHaveLength(1);
        const keyPem = forge.pki.privateKeyToPem(keyBags[0]!.key!);
        expect(createPrivateKey(keyPem).export({ type: "pkcs8", format: "pem" })).toBe(createPrivateKey(key.pkcs8).export({ type: "pkcs8", format: "pem" }));
        expect(new X509Certificate(forge.pki.certificateToPem(certBags[0]!.cert!)).fingerprint256).toBe(new X509Certificate(certificatePem).fingerprint256);
        expect(certBags[0]!.attributes["friendlyName"]).toEqual(["web"]);
        // PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256: what current Windows, .NET and OpenSSL 3 expect.
        const hex = forge.util.bytesToHex(der);
        const oids = { pbes2: "2a864886f70d01050d", aes256Cbc: "60864801650304012a", hmacWithSha256: "2a864886f70d0209" };
        for (const oid of Object.values(oids)) expect(hex).toContain(oid);
    });

    it("leaves forge's random generator as it found it, even when it fails", () => {
        const before = forge.random.getBytesSync;
        expect(() => toPkcs12({ ...input, certificatePem: "not a certificate" })).toThrow();
        expect(forge.random.getBytesSync).toBe(before);
        toPkcs12(input);
        expect(forge.random.getBytesSync).toBe(before);
        expect(forge.random.getBytesSync(16)).not.toBe(forge.random.getBytesSync(16));
    });
});
