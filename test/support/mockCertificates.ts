import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

/**
 * Real RSA keys and self-signed certificates for the tls provider mocks: anything derived from them
 * (PEM bundles, PKCS#12 files) must parse as it would in a real deployment. Generating a key per resource
 * would make large programs slow, so keys come from a small pool, handed out in order of first request and
 * remembered by resource, which keeps two evaluations in one process identical.
 */

const poolSize = 6;
const pool: { pkcs1: string; pkcs8: string; publicPem: string }[] = [];
const assigned = new Map<string, number>();
const certificates = new Map<string, string>();

export interface MockKey {
    /** `-----BEGIN RSA PRIVATE KEY-----`, as the provider's privateKeyPem. */
    readonly pkcs1: string;
    /** `-----BEGIN PRIVATE KEY-----`, as privateKeyPemPkcs8. */
    readonly pkcs8: string;
    readonly publicPem: string;
}

/** The key of the resource named `owner`: the same one every time it is asked for. */
export function mockKey(owner: string): MockKey {
    let index = assigned.get(owner);
    if (index === undefined) {
        index = assigned.size % poolSize;
        assigned.set(owner, index);
    }
    while (pool.length <= index) {
        const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        pool.push({
            pkcs1: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
            pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        });
    }
    return pool[index]!;
}

/** Whether a text holds any pool key's private material. */
export function containsMockKey(text: string): boolean {
    return pool.some((key) => [key.pkcs1, key.pkcs8].some((pem) => text.includes(pemBodyStart(pem))));
}

function pemBodyStart(pem: string): string {
    return pem.split("\n")[1]!;
}

/**
 * A self-signed certificate of `privateKeyPem` valid from `start` for `hours`, signed like the provider's (SHA-256).
 * It depends only on the pool key, the common name, `start` and `hours`: the program's subject also carries a
 * per-generation organizational unit, and signing with node-forge costs ~70 ms, so keying on it made a
 * 1,000-app program under mocks sign ~2,000 certificates instead of a handful. Nothing reads the OU back
 * from the mock's certificate (the preview reads it from the resource's inputs).
 */
export function mockSelfSignedCertificate(privateKeyPem: string, subject: { readonly commonName?: string }, start: string, hours: number): string {
    const commonName = subject.commonName;
    const cacheKey = JSON.stringify([privateKeyPem.slice(-80), commonName ?? null, start, hours]);
    const cached = certificates.get(cacheKey);
    if (cached) return cached;
    const key = forge.pki.privateKeyFromPem(privateKeyPem);
    const certificate = forge.pki.createCertificate();
    certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    certificate.serialNumber = forge.util.bytesToHex(forge.md.sha1.create().update(cacheKey).digest().getBytes()).replace(/^[89a-f]/, "7");
    certificate.validity.notBefore = new Date(start);
    certificate.validity.notAfter = new Date(Date.parse(start) + hours * 3_600_000);
    const attributes = commonName ? [{ name: "commonName", value: commonName }] : [];
    certificate.setSubject(attributes);
    certificate.setIssuer(attributes);
    certificate.sign(key, forge.md.sha256.create());
    const pem = forge.pki.certificateToPem(certificate).replace(/\r\n/g, "\n");
    certificates.set(cacheKey, pem);
    return pem;
}
