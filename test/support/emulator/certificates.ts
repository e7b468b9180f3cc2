import { createHash, generateKeyPairSync, type KeyObject, createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import forge from "node-forge";

/**
 * Certificates made at test time: the emulator's throwaway CA and HTTPS server certificate, and the X.509
 * certificates that apps authenticate with (client assertions).
 *
 * node-forge builds the certificates (Node can parse X.509 but not create it); keys are generated and the
 * signatures made with node:crypto, which is native and some hundred times faster than forge's RSA. That
 * matters when a benchmark registers thousands of certificates.
 */

export interface RsaKeyPair {
    readonly privateKey: KeyObject;
    /** PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
    readonly privateKeyPem: string;
    /** SPKI PEM (`BEGIN PUBLIC KEY`). */
    readonly publicKeyPem: string;
}

/** RSA 2048 is the smallest size Entra accepts for client assertion certificates. */
export function generateRsaKeyPair(modulusLength = 2048): RsaKeyPair {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength });
    return {
        privateKey,
        privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
}

const sharedKeyPairs = new Map<string, RsaKeyPair>();

/**
 * One key pair per purpose and process, made on first use. A 2048-bit key takes 150-400 ms to generate;
 * tests that do not care which key a certificate or token is signed with should not pay that each time.
 */
export function sharedKeyPair(purpose: "certificates" | "token-signing"): RsaKeyPair {
    let keys = sharedKeyPairs.get(purpose);
    if (!keys) {
        keys = generateRsaKeyPair();
        sharedKeyPairs.set(purpose, keys);
    }
    return keys;
}

interface Issuer {
    readonly certificatePem: string;
    readonly privateKey: KeyObject;
}

interface CertificateSpec {
    readonly commonName: string;
    readonly publicKeyPem: string;
    readonly notBefore: Date;
    readonly notAfter: Date;
    /** Signs the certificate; self-signed with `selfKey` when absent. */
    readonly issuer?: Issuer;
    readonly selfKey?: KeyObject;
    readonly extensions: readonly object[];
}

// forge's typings omit getTBSCertificate, which lets us sign the TBS bytes with node:crypto.
const pkiInternals = forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };

function positiveSerial(): string {
    const bytes = randomBytes(16);
    // DER integers are signed; a clear top bit keeps the serial positive as RFC 5280 requires.
    bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
    return bytes.toString("hex");
}

function buildCertificate(spec: CertificateSpec): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKeyPem);
    cert.serialNumber = positiveSerial();
    cert.validity.notBefore = spec.notBefore;
    cert.validity.notAfter = spec.notAfter;
    const subject = [{ name: "commonName", value: spec.commonName }];
    cert.setSubject(subject);
    cert.setIssuer(spec.issuer ? forge.pki.certificateFromPem(spec.issuer.certificatePem).subject.attributes : subject);
    cert.setExtensions([...spec.extensions]);
    const signingKey = spec.issuer?.privateKey ?? spec.selfKey;
    if (!signingKey) throw new Error("a certificate needs an issuer or its own key to be signed with");
    cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption ?? "1.2.840.113549.1.1.11";
    cert.signatureOid = cert.siginfo.algorithmOid;
    cert.tbsCertificate = pkiInternals.getTBSCertificate(cert);
    const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), "binary");
    cert.signature = sign("sha256", tbs, signingKey).toString("binary");
    return forge.pki.certificateToPem(cert);
}

export interface CertificateAuthority {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
}

export function createCertificateAuthority(commonName = "entra-rotor test emulator CA"): CertificateAuthority {
    const keys = generateRsaKeyPair();
    const now = Date.now();
    const certificatePem = buildCertificate({
        commonName,
        publicKeyPem: keys.publicKeyPem,
        notBefore: new Date(now - 60 * 60 * 1000),
        notAfter: new Date(now + 7 * 24 * 60 * 60 * 1000),
        selfKey: keys.privateKey,
        extensions: [
            { name: "basicConstraints", cA: true, critical: true },
            { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
            { name: "subjectKeyIdentifier" },
        ],
    });
    return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

/** The material an HTTPS listener needs, and the CA its clients must trust. */
export interface TlsMaterial {
    readonly caCertificatePem: string;
    readonly certificatePem: string;
    readonly privateKeyPem: string;
}

/** A server certificate for 127.0.0.1, ::1 and localhost (IP SANs: clients connect by address). */
export function createTlsMaterial(ca: CertificateAuthority = createCertificateAuthority()): TlsMaterial {
    const keys = generateRsaKeyPair();
    const now = Date.now();
    const certificatePem = buildCertificate({
        commonName: "127.0.0.1",
        publicKeyPem: keys.publicKeyPem,
        notBefore: new Date(now - 60 * 60 * 1000),
        notAfter: new Date(now + 7 * 24 * 60 * 60 * 1000),
        issuer: { certificatePem: ca.certificatePem, privateKey: createPrivateKey(ca.privateKeyPem) },
        extensions: [
            { name: "basicConstraints", cA: false },
            { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
            { name: "extKeyUsage", serverAuth: true },
            {
                name: "subjectAltName",
                altNames: [
                    { type: 7, ip: "127.0.0.1" },
                    { type: 7, ip: "::1" },
                    { type: 2, value: "localhost" },
                ],
            },
        ],
    });
    return { caCertificatePem: ca.certificatePem, certificatePem, privateKeyPem: keys.privateKeyPem };
}

const tlsFiles = { ca: "ca.pem", certificate: "server-cert.pem", key: "server-key.pem" } as const;

export function writeTlsMaterial(dir: string, material: TlsMaterial): { readonly caPath: string } {
    fs.mkdirSync(dir, { recursive: true });
    const caPath = path.join(dir, tlsFiles.ca);
    fs.writeFileSync(caPath, material.caCertificatePem);
    fs.writeFileSync(path.join(dir, tlsFiles.certificate), material.certificatePem);
    fs.writeFileSync(path.join(dir, tlsFiles.key), material.privateKeyPem, { mode: 0o600 });
    return { caPath };
}

export function readTlsMaterial(dir: string): TlsMaterial {
    return {
        caCertificatePem: fs.readFileSync(path.join(dir, tlsFiles.ca), "utf8"),
        certificatePem: fs.readFileSync(path.join(dir, tlsFiles.certificate), "utf8"),
        privateKeyPem: fs.readFileSync(path.join(dir, tlsFiles.key), "utf8"),
    };
}

/** What Entra keeps of a certificate credential, and what the client holds. */
export interface ClientCertificate {
    /** The certificate alone (what is uploaded to the app registration). */
    readonly certificatePem: string;
    readonly privateKeyPem: string;
    /** Private key followed by certificate: what ClientCertificateCredential's `certificate` option takes. */
    readonly pem: string;
}

export interface ClientCertificateOptions {
    readonly subject?: string;
    readonly notBefore: Date;
    readonly notAfter: Date;
    /** Default: a fresh key pair. Reuse one when the key does not matter: generating it is the slow part. */
    readonly keyPair?: RsaKeyPair;
}

/** A self-signed certificate as `New-SelfSignedCertificate` or @pulumi/tls would make for an app. */
export function createClientCertificate(options: ClientCertificateOptions): ClientCertificate {
    const keys = options.keyPair ?? generateRsaKeyPair();
    const certificatePem = buildCertificate({
        commonName: options.subject ?? "entra-rotor-app",
        publicKeyPem: keys.publicKeyPem,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        selfKey: keys.privateKey,
        extensions: [
            { name: "basicConstraints", cA: false },
            { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
            { name: "extKeyUsage", clientAuth: true },
            { name: "subjectKeyIdentifier" },
        ],
    });
    return { certificatePem, privateKeyPem: keys.privateKeyPem, pem: `${keys.privateKeyPem}${certificatePem}` };
}

/** The facts about a certificate that Entra and Graph use. */
export interface CertificateFacts {
    /** DER bytes, what Graph returns base64-encoded as keyCredential.key. */
    readonly der: Buffer;
    readonly publicKey: KeyObject;
    /** Upper-case hex, as Entra prints it in AADSTS700027. */
    readonly thumbprintSha1: string;
    readonly thumbprintSha256: string;
    readonly subject: string;
    readonly notBefore: Date;
    readonly notAfter: Date;
}

export function certificateFacts(certificatePem: string): CertificateFacts {
    const x509 = new X509Certificate(certificatePem);
    return {
        der: x509.raw,
        publicKey: x509.publicKey,
        thumbprintSha1: createHash("sha1").update(x509.raw).digest("hex").toUpperCase(),
        thumbprintSha256: createHash("sha256").update(x509.raw).digest("hex").toUpperCase(),
        subject: x509.subject.replace(/\n/g, ", "),
        notBefore: new Date(x509.validFrom),
        notAfter: new Date(x509.validTo),
    };
}
