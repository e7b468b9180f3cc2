import { createHmac, createPrivateKey } from "node:crypto";
import forge from "node-forge";

/**
 * PKCS#12 (PFX) files for consumers that cannot read a PEM bundle (Windows certificate stores, .NET's
 * X509Certificate2, Java keystores). Everything here is a pure function of the slot's private key and
 * certificate: the program runs daily, and a PFX that differed on every run would rewrite its Key Vault
 * secret every time (a new version, a perpetual diff). PKCS#12 normally draws random salts and IVs, so they
 * are derived from the password instead, which is itself derived from the private key: as unpredictable as
 * the key to anyone without it, and fixed for the slot's life.
 */

const passwordLabel = "entra-rotor pkcs12 password v1";
const saltLabel = "entra-rotor pkcs12 salt v1";

/** The PFX's password: 43 URL-safe characters derived from the private key (PEM, PKCS#1 or PKCS#8). */
export function pkcs12Password(privateKeyPem: string): string {
    const der = createPrivateKey(privateKeyPem).export({ type: "pkcs8", format: "der" });
    return createHmac("sha256", der).update(passwordLabel).digest("base64url");
}

/** A deterministic byte stream (HMAC-SHA256 in counter mode) keyed by the password, standing in for forge's RNG. */
function derivedBytes(password: string): (count: number) => string {
    let counter = 0;
    let pool = Buffer.alloc(0);
    return (count) => {
        while (pool.length < count) {
            const block = createHmac("sha256", password).update(`${saltLabel} ${counter++}`).digest();
            pool = Buffer.concat([pool, block]);
        }
        const out = pool.subarray(0, count);
        pool = pool.subarray(count);
        return out.toString("binary");
    };
}

export interface Pkcs12Input {
    /** The private key, PEM (PKCS#1 or PKCS#8). */
    readonly privateKeyPem: string;
    /** The certificate, PEM. */
    readonly certificatePem: string;
    /** Protects the key and the file's integrity; see pkcs12Password. */
    readonly password: string;
    /** Shown by certificate stores, e.g. the credential's name. */
    readonly friendlyName: string;
}

/**
 * The PFX, base64 (as Key Vault stores PKCS#12 secrets): the key shrouded with PBES2 (AES-256-CBC,
 * PBKDF2-HMAC-SHA256), the certificate in clear, an HMAC-SHA1 integrity MAC (the only MAC every reader
 * accepts). Equal inputs give equal bytes.
 */
export function toPkcs12(input: Pkcs12Input): string {
    const key = forge.pki.privateKeyFromPem(input.privateKeyPem);
    const certificate = forge.pki.certificateFromPem(input.certificatePem);
    const random = forge.random as unknown as { getBytes: (n: number) => string; getBytesSync: (n: number) => string };
    const saved = { getBytes: random.getBytes, getBytesSync: random.getBytesSync };
    const next = derivedBytes(input.password);
    // forge reads salts and IVs from its global RNG; it is synchronous, so nothing else can draw from the
    // substitute before it is put back.
    random.getBytes = next;
    random.getBytesSync = next;
    try {
        // prfAlgorithm reaches forge's PBES2 encryption, though its typings omit it from toPkcs12Asn1.
        const options: Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3] & { prfAlgorithm: "sha256" } = {
            algorithm: "aes256",
            prfAlgorithm: "sha256",
            count: 10_000,
            saltSize: 16,
            friendlyName: input.friendlyName,
            generateLocalKeyId: true,
        };
        const asn1 = forge.pkcs12.toPkcs12Asn1(key as forge.pki.rsa.PrivateKey, [certificate], input.password, options);
        return forge.util.encode64(forge.asn1.toDer(asn1).getBytes());
    } finally {
        random.getBytes = saved.getBytes;
        random.getBytesSync = saved.getBytesSync;
    }
}
