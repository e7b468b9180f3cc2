import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { isoSeconds } from "../../rotation/instants";
import { type ProjectFileRules, readInsideProject } from "./projectFiles";

/**
 * Bring-your-own certificates: config points at a public certificate file (`.cer`, `.pem`, `.crt`; PEM or DER)
 * that is uploaded to the app registration as is (ApplicationCertificate, type AsymmetricX509Cert). This module
 * reads the file and says, before anything is deployed, whether Entra can use it for client assertions.
 * Node's `crypto.X509Certificate` (OpenSSL) does the X.509 parsing; the code here only recognises what kind of
 * file a user gave us, so that the message says what to do instead.
 */

export interface CertificateInfo {
    /** The subject's RDNs as OpenSSL prints them, in certificate order, joined with ", " (e.g. `CN=app, O=Contoso`). */
    readonly subject: string;
    readonly issuer: string;
    /** ISO-8601 UTC to the second, e.g. `2025-01-01T00:00:00Z`. */
    readonly notBefore: string;
    /** ISO-8601 UTC to the second; the certificate is valid through this instant. */
    readonly notAfter: string;
    /** SHA-1 of the DER encoding, hex uppercase without separators, as Entra shows it. */
    readonly thumbprint: string;
    /** SHA-256 of the DER encoding, hex uppercase without separators (`x5t#S256` in client assertions). */
    readonly thumbprintSha256: string;
    /** Node's asymmetricKeyType: "rsa", "rsa-pss", "ec", "ed25519", ...; "unknown" when Node cannot read the key. */
    readonly keyType: string;
    /** Modulus length for RSA (and DSA), curve size for the common EC curves. */
    readonly keyBits?: number;
    /** Issuer equals subject and the certificate's signature verifies with its own key. */
    readonly selfSigned: boolean;
    /** How the file was encoded. */
    readonly encoding: "pem" | "der";
    /** The certificate as PEM text (one CERTIFICATE block), what we upload with encoding "pem". */
    readonly pem: string;
}

/** A file that is not one usable certificate; the message says what is wrong and what to do. */
export class CertificateProblem extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CertificateProblem";
    }
}

/** A public certificate is 1-3 KiB; anything much larger is a bundle, an archive or the wrong file. */
export const maxCertificateFileBytes = 64 * 1024;

/** Entra needs RSA >= 2048 bits for client assertions (DESIGN.md, "Facts the code must respect"). */
export const defaultMinRsaBits = 2048;

const publicCertificateOnly = "export the public certificate only (e.g. `openssl x509 -in <file> -out app.pem`)";

const pemBlockPattern = /-----BEGIN ([^\r\n]*?)-----([\s\S]*?)-----END ([^\r\n]*?)-----/g;
const pemBeginPattern = /-----BEGIN ([^\r\n]*?)-----/g;

interface PemBlock {
    readonly label: string;
    readonly body: string;
}

/** Reads a certificate file's bytes: PEM with exactly one CERTIFICATE block, or DER. */
export function parseCertificate(bytes: Buffer): CertificateInfo {
    if (bytes.length === 0) throw new CertificateProblem("the file is empty: point at the certificate file (.cer, .pem or .crt)");
    const text = bytes.toString("latin1");
    if (text.includes("-----BEGIN ")) return parsePem(text);
    if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) {
        // Windows PowerShell 5 writes UTF-16 with `>` and Out-File; OpenSSL (and Node) read neither.
        throw new CertificateProblem("the file is UTF-16 text: save it as ASCII/UTF-8 (e.g. `Set-Content -Encoding ascii`), or export it again as Base-64 or DER");
    }
    if (bytes[0] === 0x30) return parseDer(bytes);
    if (/^[A-Za-z0-9+/=\s]+$/.test(text) && readsAsCertificate(Buffer.from(text.replace(/\s+/g, ""), "base64"))) {
        throw new CertificateProblem(
            "the file holds base64 without PEM armour: add a `-----BEGIN CERTIFICATE-----` line before it and `-----END CERTIFICATE-----` after it",
        );
    }
    throw new CertificateProblem(
        "not a certificate: the file is neither PEM (`-----BEGIN CERTIFICATE-----`) nor DER; point at the public certificate (.cer, .pem or .crt) the app signs with",
    );
}

function parsePem(text: string): CertificateInfo {
    const labels = [...text.matchAll(pemBeginPattern)].map((match) => match[1] ?? "");
    const keyLabel = labels.find((label) => label.includes("PRIVATE KEY"));
    if (keyLabel !== undefined) {
        throw new CertificateProblem(
            `the file contains a private key: a private key must never be in config or the repository; ` +
                `${publicCertificateOnly}, keep the key with the application that signs, and if this file was ever committed or shared, treat the key as leaked and issue a new certificate`,
        );
    }

    const blocks: PemBlock[] = [];
    for (const match of text.matchAll(pemBlockPattern)) {
        const [, label = "", body = "", endLabel = ""] = match;
        if (label !== endLabel) {
            throw new CertificateProblem("unreadable PEM: a -----BEGIN----- line and its -----END----- line name different things; export the certificate again");
        }
        blocks.push({ label, body });
    }
    if (blocks.length !== labels.length) {
        throw new CertificateProblem("unreadable PEM: a -----BEGIN----- line has no matching -----END----- line (truncated or edited?); export the certificate again");
    }

    const certificates = blocks.filter((block) => block.label === "CERTIFICATE");
    if (certificates.length > 1) {
        throw new CertificateProblem(
            `the file holds ${certificates.length} certificates (a chain or bundle): Entra takes the one certificate the app signs with, not a chain; ` +
                "keep only that certificate's -----BEGIN CERTIFICATE----- block",
        );
    }
    const other = blocks.find((block) => block.label !== "CERTIFICATE");
    if (other) throw new CertificateProblem(otherBlockMessage(other.label, certificates.length === 1));
    const block = certificates[0];
    if (!block) throw new CertificateProblem("not a certificate: the PEM has no -----BEGIN CERTIFICATE----- block");

    const der = decodeBase64Body(block);
    const certificate = readCertificate(der, "unreadable PEM: the CERTIFICATE block is not an X.509 certificate; export the certificate again");
    return describe(certificate, "pem");
}

function otherBlockMessage(label: string, withCertificate: boolean): string {
    const alongside = withCertificate ? "besides the certificate, the file holds " : "";
    if (label.includes("CERTIFICATE REQUEST")) {
        return withCertificate
            ? `${alongside}a certificate signing request: keep only the -----BEGIN CERTIFICATE----- block`
            : "not a certificate: this is a certificate signing request (CSR); have it signed by your CA (or self-sign it) and point at the issued certificate";
    }
    if (label.includes("PUBLIC KEY")) {
        return withCertificate
            ? `${alongside}a bare public key: keep only the -----BEGIN CERTIFICATE----- block`
            : "not a certificate: this is a bare public key; Entra takes an X.509 certificate, so create one for the key pair (e.g. `openssl req -x509 -key <private key> ...`) and point at it";
    }
    if (label === "PKCS7" || label === "CMS") {
        return `${alongside}a PKCS#7 bundle: extract the one certificate the app signs with (\`openssl pkcs7 -print_certs -in <file>\`) and point at it`;
    }
    // The label is the file's content: it is named by kind above, never echoed.
    return `${alongside}a PEM block of another kind: the file must hold exactly one -----BEGIN CERTIFICATE----- block and nothing else`;
}

function decodeBase64Body(block: PemBlock): Buffer {
    if (block.body.includes(":")) {
        throw new CertificateProblem("unreadable PEM: the CERTIFICATE block has headers (`Name: value` lines), which certificates never have; export the certificate again");
    }
    const base64 = block.body.replace(/\s+/g, "");
    if (base64 === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
        throw new CertificateProblem("unreadable PEM: the CERTIFICATE block is not valid base64 (truncated or edited?); export the certificate again");
    }
    return Buffer.from(base64, "base64");
}

function parseDer(bytes: Buffer): CertificateInfo {
    if (readsAsCertificate(bytes)) return describe(readCertificate(bytes, ""), "der");
    throw new CertificateProblem(derMessage(bytes));
}

/** What a DER file that is not a certificate most likely is, and what to do about it. */
function derMessage(bytes: Buffer): string {
    if (isPrivateKeyDer(bytes)) {
        return `the file is a private key (DER): a private key must never be in config or the repository; ${publicCertificateOnly}, and treat the key as leaked if this file was ever committed or shared`;
    }
    if (isPkcs12(bytes)) {
        return "the file looks like a PKCS#12 archive (.pfx/.p12), which carries the private key: a private key must never be in config or the repository; export the public certificate only (e.g. `openssl pkcs12 -in <file> -clcerts -nokeys -out app.pem`)";
    }
    if (isPublicKeyDer(bytes)) {
        return "not a certificate: this is a bare public key (DER); Entra takes an X.509 certificate, so create one for the key pair and point at it";
    }
    return "not a certificate: the file is DER but not an X.509 certificate (a CSR, a key or another structure?); point at the public certificate (.cer, .pem or .crt) the app signs with";
}

/** Refuses a DER file that holds more than the certificate, such as two certificates written one after the other. */
function readCertificate(der: Buffer, prefix: string): X509Certificate {
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(der);
    } catch {
        throw new CertificateProblem(prefix || "not a certificate: the file is not an X.509 certificate");
    }
    const extra = der.length - certificate.raw.length;
    if (extra > 0) {
        throw new CertificateProblem(
            `the file has ${extra} bytes after the certificate (several certificates in one DER file?): keep only the certificate the app signs with`,
        );
    }
    return certificate;
}

function readsAsCertificate(der: Buffer): boolean {
    try {
        new X509Certificate(der);
        return true;
    } catch {
        return false;
    }
}

function isPrivateKeyDer(der: Buffer): boolean {
    for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
        try {
            createPrivateKey({ key: der, format: "der", type });
            return true;
        } catch (error) {
            // An encrypted PKCS#8 key fails for want of a passphrase: it is still a private key.
            if (type === "pkcs8" && /passphrase/i.test(String((error as Error).message))) return true;
        }
    }
    return false;
}

function isPublicKeyDer(der: Buffer): boolean {
    for (const type of ["spki", "pkcs1"] as const) {
        try {
            createPublicKey({ key: der, format: "der", type });
            return true;
        } catch {
            // try the next encoding
        }
    }
    return false;
}

/** PFX = SEQUENCE { INTEGER 3, ... } (RFC 7292); a certificate starts SEQUENCE { SEQUENCE { ... } }. */
function isPkcs12(der: Buffer): boolean {
    const first = der[1];
    if (first === undefined) return false;
    const lengthBytes = first < 0x80 ? 0 : first & 0x7f;
    const start = 2 + lengthBytes;
    return der[start] === 0x02 && der[start + 1] === 0x01 && der[start + 2] === 0x03;
}

const ecCurveBits: Readonly<Record<string, number>> = {
    prime256v1: 256,
    secp256k1: 256,
    secp384r1: 384,
    secp521r1: 521,
};

function describe(certificate: X509Certificate, encoding: "pem" | "der"): CertificateInfo {
    let keyType = "unknown";
    let keyBits: number | undefined;
    let selfSigned = false;
    try {
        const key = certificate.publicKey;
        keyType = key.asymmetricKeyType ?? "unknown";
        const details = key.asymmetricKeyDetails;
        if (details?.modulusLength !== undefined) keyBits = details.modulusLength;
        else if (details?.namedCurve !== undefined) keyBits = ecCurveBits[details.namedCurve];
        // Self-signed, not merely self-issued: OpenSSL's checkIssued also wants keyCertSign, which leaf certificates lack.
        selfSigned = certificate.subject === certificate.issuer && certificate.verify(key);
    } catch {
        // A key algorithm Node cannot load (e.g. GOST): reported through keyType "unknown".
    }
    return {
        subject: oneLine(certificate.subject),
        issuer: oneLine(certificate.issuer),
        notBefore: opensslTimeToIso(certificate.validFrom),
        notAfter: opensslTimeToIso(certificate.validTo),
        thumbprint: hexThumbprint(certificate.fingerprint),
        thumbprintSha256: hexThumbprint(certificate.fingerprint256),
        keyType,
        ...(keyBits !== undefined ? { keyBits } : {}),
        selfSigned,
        encoding,
        pem: certificate.toString(),
    };
}

function oneLine(name: string): string {
    return name.split("\n").join(", ");
}

function hexThumbprint(fingerprint: string): string {
    return fingerprint.replace(/:/g, "").toUpperCase();
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Jan  1 00:00:00 2025 GMT` (OpenSSL's ASN1_TIME_print, what Node 20 gives) -> `2025-01-01T00:00:00Z`. */
function opensslTimeToIso(value: string): string {
    const match = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4}) GMT$/.exec(value);
    const month = match ? months.indexOf(match[1] ?? "") : -1;
    if (!match || month < 0) throw new CertificateProblem(`the certificate has a validity date that cannot be read (${value}); export the certificate again`);
    const [, , day, hours, minutes, seconds, year] = match;
    const instant = Date.UTC(Number(year), month, Number(day), Number(hours), Number(minutes), Number(seconds));
    return isoSeconds(instant);
}

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
    return prefix.every((byte, index) => bytes[index] === byte);
}

/**
 * Why Entra would not take this certificate for client assertions at `now`; empty when it would.
 * Entra verifies client assertions signed with RSA only (RS256/PS256): an EC certificate uploads, but no token
 * can be acquired with it, so it is refused here rather than discovered by the consumer.
 */
export function certificateProblems(info: CertificateInfo, now: Date, options: { minRsaBits?: number } = {}): string[] {
    const problem = certificateValidityProblem(info, now);
    return [...(problem ? [problem] : []), ...certificateKeyProblems(info, options)];
}

/**
 * Why the certificate cannot be used at `now` although the file itself is fine: it has expired, or is not yet
 * valid. Such a problem arises with time, on a morning nobody changed anything, so it is the credential's own
 * error (the rest of the stack still plans and deploys), not a mistake in the stack file.
 */
export function certificateValidityProblem(info: CertificateInfo, now: Date): string | undefined {
    const time = now.getTime();
    if (time > Date.parse(info.notAfter)) return `the certificate expired on ${info.notAfter}: issue a new certificate and update the file`;
    if (time < Date.parse(info.notBefore)) return `the certificate is not valid until ${info.notBefore}: wait for that date, or issue a certificate that is valid now and update the file`;
    return undefined;
}

/** Why Entra would never take this certificate's key for client assertions, whatever the date; empty when it would. */
export function certificateKeyProblems(info: CertificateInfo, options: { minRsaBits?: number } = {}): string[] {
    const minRsaBits = options.minRsaBits ?? defaultMinRsaBits;
    const problems: string[] = [];
    if (info.keyType === "rsa") {
        if (info.keyBits === undefined || info.keyBits < minRsaBits) {
            const size = info.keyBits === undefined ? "an RSA key of unknown size" : `a ${info.keyBits}-bit RSA key`;
            problems.push(`the certificate has ${size}: Entra client assertions need RSA >= ${minRsaBits} bits; issue a new certificate with a ${minRsaBits}-bit (or larger) RSA key`);
        }
    } else if (info.keyType === "rsa-pss") {
        problems.push(
            "the certificate's RSA key is restricted to RSA-PSS (id-RSASSA-PSS): Entra expects a plain RSA key (rsaEncryption) for client assertions; " +
                `issue a certificate with a ${minRsaBits}-bit (or larger) RSA key`,
        );
    } else {
        const size = info.keyBits === undefined ? "" : ` (${info.keyBits} bits)`;
        const type = info.keyType.toUpperCase();
        const name = info.keyType === "unknown" ? "a key of a type that cannot be read" : `${/^[AEIOU]/.test(type) ? "an" : "a"} ${type} key${size}`;
        problems.push(
            `the certificate has ${name}: Entra accepts only RSA certificates for client assertions (RS256/PS256); ` +
                `issue a certificate with a ${minRsaBits}-bit (or larger) RSA key`,
        );
    }
    return problems;
}

/**
 * Reads the certificate file config points at. `file` is relative to `baseDir` (the project directory) unless
 * absolute. User errors come back as problems, each starting with `file`; nothing here throws for them.
 */
export function readCertificateFile(file: string, baseDir: string, now: Date): { info?: CertificateInfo; problems: string[] } {
    const read = readCertificateInfo(file, baseDir);
    if (!read.info) return read;
    return { info: read.info, problems: certificateProblems(read.info, now).map((problem) => `${file}: ${problem}`) };
}

/**
 * Reads and parses the certificate file config points at, with the problems of the file itself (where it is,
 * what it holds, its key), but not its dates: see certificateValidityProblem.
 */
export function readCertificateInfo(file: string, baseDir: string): { info?: CertificateInfo; problems: string[] } {
    if (file.trim() === "") return { problems: ["no certificate file given: set the path of the public certificate (.cer, .pem or .crt)"] };
    const read = readInsideProject(file, baseDir, certificateFileRules);
    if ("problem" in read) return { problems: [`${file}: ${read.problem}`] };

    let info: CertificateInfo;
    try {
        info = parseCertificate(read.bytes);
    } catch (error) {
        if (error instanceof CertificateProblem) return { problems: [`${file}: ${error.message}`] };
        throw error;
    }
    return { info, problems: certificateKeyProblems(info).map((problem) => `${file}: ${problem}`) };
}

const certificateFileRules: ProjectFileRules = {
    maxBytes: maxCertificateFileBytes,
    what: "a certificate file",
    outsideFix: "copy the public certificate into it and give its path relative to the project",
    tooLarge: (size) => `is ${size} bytes, more than ${maxCertificateFileBytes / 1024} KiB: a public certificate is a few KiB; point at the certificate itself, not a bundle or archive`,
};

/** Whole days from `now` to `notAfter`, rounded down; negative once the certificate has expired. */
export function daysUntil(notAfter: string, now: Date): number {
    const end = Date.parse(notAfter);
    if (Number.isNaN(end)) throw new RangeError(`daysUntil: not an ISO-8601 instant: ${notAfter}`);
    return Math.floor((end - now.getTime()) / 86_400_000);
}
