import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    type CertificateInfo,
    CertificateProblem,
    certificateProblems,
    daysUntil,
    maxCertificateFileBytes,
    parseCertificate,
    readCertificateFile,
} from "../infra/model/certificateFile";

const fixtures = path.join(__dirname, "fixtures", "certificates");
const fixture = (name: string): Buffer => fs.readFileSync(path.join(fixtures, name));
const text = (name: string): string => fixture(name).toString("utf8");

// From `openssl x509 -noout -fingerprint -sha1 / -sha256` when the fixtures were made (see fixtures/certificates/README.md).
const rsa2048Sha1 = "D0:8E:1B:22:C2:B6:47:1C:C3:DE:E3:B3:A0:28:1E:23:45:C8:09:CD".replace(/:/g, "");
const rsa2048Sha256 = "CA:60:70:F7:65:4A:B1:F3:B4:52:73:D8:C2:13:8B:98:61:A7:6C:04:30:BE:87:96:1F:75:31:82:66:8E:09:91".replace(/:/g, "");
const rsa1024Sha1 = "F0:7B:EE:99:57:5F:A7:59:F7:4C:5C:C7:64:81:08:57:52:F9:68:4A".replace(/:/g, "");
const ecSha1 = "CA:9B:CA:F1:9D:BB:36:D0:17:54:D9:51:42:FA:52:23:97:70:DB:9B".replace(/:/g, "");
const notBefore = "2025-01-01T00:00:00Z";
const notAfter = "2035-01-01T00:00:00Z";
const inside = new Date("2026-06-15T12:00:00Z");

/** The base64 body of the first PEM block with this label, decoded: DER without needing openssl. */
function pemBody(pem: string, label: string): Buffer {
    const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
    if (!match?.[1]) throw new Error(`no ${label} block`);
    return Buffer.from(match[1].replace(/\s+/g, ""), "base64");
}

function problemOf(bytes: Buffer): string {
    try {
        parseCertificate(bytes);
    } catch (error) {
        expect(error).toBeInstanceOf(CertificateProblem);
        return (error as Error).message;
    }
    throw new Error("expected a CertificateProblem");
}

describe("parseCertificate", () => {
    it("reads the PEM certificate", () => {
        const info = parseCertificate(fixture("rsa2048.pem"));
        expect(info).toEqual({
            subject: "CN=entra-rotor test rsa2048, O=entra-rotor fixtures",
            issuer: "CN=entra-rotor test rsa2048, O=entra-rotor fixtures",
            notBefore,
            notAfter,
            thumbprint: rsa2048Sha1,
            thumbprintSha256: rsa2048Sha256,
            keyType: "rsa",
            keyBits: 2048,
            selfSigned: true,
            encoding: "pem",
            pem: text("rsa2048.pem"),
        });
    });

    it("reads the same certificate in DER to the same facts, and gives it back as PEM", () => {
        const pem = parseCertificate(fixture("rsa2048.pem"));
        const der = parseCertificate(fixture("rsa2048.cer"));
        expect(der.encoding).toBe("der");
        expect({ ...der, encoding: "pem" }).toEqual(pem);
        expect(der.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
        expect(der.pem.match(/-----BEGIN/g)).toHaveLength(1);
        expect(parseCertificate(Buffer.from(der.pem))).toEqual(pem);
    });

    it("reads key type and size", () => {
        const rsa1024 = parseCertificate(fixture("rsa1024.pem"));
        expect(rsa1024).toMatchObject({ keyType: "rsa", keyBits: 1024, thumbprint: rsa1024Sha1, selfSigned: true, notBefore, notAfter });
        const ec = parseCertificate(fixture("ec-p256.crt"));
        expect(ec).toMatchObject({ keyType: "ec", keyBits: 256, thumbprint: ecSha1, selfSigned: true, subject: "CN=entra-rotor test ec-p256" });
    });

    it("accepts text around the block, CRLF line ends and a UTF-8 byte order mark", () => {
        const pem = text("rsa2048.pem");
        const expected = parseCertificate(fixture("rsa2048.pem"));
        const decorated = `\ufeffsubject=CN = entra-rotor test rsa2048\r\n${pem.replace(/\n/g, "\r\n")}\r\ntrailing notes\r\n`;
        expect(parseCertificate(Buffer.from(decorated, "utf8"))).toEqual(expected);
    });

    it("tells a self-signed certificate from an issued one", () => {
        const ca = parseCertificate(Buffer.from(`-----BEGIN CERTIFICATE-----${text("chain.pem").split("-----BEGIN CERTIFICATE-----")[2]}`));
        expect(ca).toMatchObject({ subject: "CN=entra-rotor test CA", selfSigned: true });
        const leaf = parseCertificate(Buffer.from(text("chain.pem").split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"));
        expect(leaf).toMatchObject({ subject: "CN=entra-rotor test leaf", issuer: "CN=entra-rotor test CA", selfSigned: false });
    });

    describe("refuses", () => {
        it("a PEM with a private key, whatever else it holds", () => {
            const message = problemOf(fixture("cert-and-key.pem"));
            expect(message).toContain("the file contains a private key");
            // The file's own text (its PEM labels) is never echoed.
            expect(message).not.toContain("BEGIN PRIVATE KEY");
            expect(message).toContain("a private key must never be in config or the repository");
            expect(message).toContain("openssl x509");
            expect(problemOf(Buffer.from(pemKeyOnly()))).toContain("a private key must never be in config or the repository");
            const encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
            expect(problemOf(Buffer.from(text("rsa2048.pem") + encrypted))).toContain("the file contains a private key");
        });

        it("a DER private key and a PKCS#12 archive", () => {
            expect(problemOf(pemBody(text("cert-and-key.pem"), "PRIVATE KEY"))).toContain("private key (DER): a private key must never be in config or the repository");
            // PFX = SEQUENCE { INTEGER 3, ... }: the header is enough to recognise one.
            const pfx = Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x00]);
            expect(problemOf(pfx)).toContain("PKCS#12 archive (.pfx/.p12)");
        });

        it("a chain", () => {
            const message = problemOf(fixture("chain.pem"));
            expect(message).toContain("holds 2 certificates (a chain or bundle)");
            expect(message).not.toContain("CN=entra-rotor test leaf");
            expect(message).toContain("not a chain");
        });

        it("two DER certificates in one file", () => {
            const der = fixture("rsa2048.cer");
            expect(problemOf(Buffer.concat([der, der]))).toContain(`${der.length} bytes after the certificate`);
        });

        it("a certificate signing request, PEM or DER", () => {
            expect(problemOf(fixture("request.csr"))).toContain("certificate signing request (CSR)");
            expect(problemOf(pemBody(text("request.csr"), "CERTIFICATE REQUEST"))).toContain("DER but not an X.509 certificate");
        });

        it("a bare public key, PEM or DER", () => {
            expect(problemOf(fixture("public-key.pem"))).toContain("bare public key");
            expect(problemOf(pemBody(text("public-key.pem"), "PUBLIC KEY"))).toContain("bare public key (DER)");
        });

        it("a certificate next to something else", () => {
            expect(problemOf(Buffer.from(text("rsa2048.pem") + text("request.csr")))).toContain("besides the certificate, the file holds a certificate signing request");
            const pkcs7 = "-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n";
            expect(problemOf(Buffer.from(pkcs7))).toContain("PKCS#7 bundle");
        });

        it("random bytes", () => {
            expect(problemOf(fixture("garbage.bin"))).toContain("neither PEM (`-----BEGIN CERTIFICATE-----`) nor DER");
            expect(problemOf(Buffer.from([0x30, 0x03, 0x01, 0x01, 0xff]))).toContain("DER but not an X.509 certificate");
            expect(problemOf(Buffer.alloc(0))).toContain("the file is empty");
        });

        it("unreadable PEM", () => {
            const pem = text("rsa2048.pem");
            expect(problemOf(Buffer.from(pem.replace("-----END CERTIFICATE-----", "")))).toContain("unreadable PEM: a -----BEGIN----- line has no matching -----END----- line");
            expect(problemOf(Buffer.from(pem.replace("-----END CERTIFICATE-----", "-----END PUBLIC KEY-----")))).toContain("a -----BEGIN----- line and its -----END----- line name different things");
            const lines = pem.split("\n");
            lines[3] = `${lines[3]?.slice(0, 10)}!${lines[3]?.slice(11)}`;
            expect(problemOf(Buffer.from(lines.join("\n")))).toContain("unreadable PEM: the CERTIFICATE block is not valid base64");
            expect(problemOf(Buffer.from(pem.replace("-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n")))).toContain("has headers");
            const csrAsCertificate = text("request.csr").replace(/CERTIFICATE REQUEST/g, "CERTIFICATE");
            expect(problemOf(Buffer.from(csrAsCertificate))).toContain("unreadable PEM: the CERTIFICATE block is not an X.509 certificate");
            expect(problemOf(Buffer.from("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))).toContain("not valid base64");
        });

        it("base64 without armour, and UTF-16 text, with the fix", () => {
            const bare = text("rsa2048.pem").replace(/-----[A-Z ]+-----/g, "");
            expect(problemOf(Buffer.from(bare))).toContain("add a `-----BEGIN CERTIFICATE-----` line");
            const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text("rsa2048.pem"), "utf16le")]);
            expect(problemOf(utf16)).toContain("UTF-16");
        });
    });
});

function pemKeyOnly(): string {
    const pem = text("cert-and-key.pem");
    return pem.slice(pem.indexOf("-----BEGIN PRIVATE KEY-----"));
}

describe("certificateProblems", () => {
    const rsa2048 = parseCertificate(fixture("rsa2048.pem"));

    it("has none inside the validity window, bounds included", () => {
        expect(certificateProblems(rsa2048, inside)).toEqual([]);
        expect(certificateProblems(rsa2048, new Date(notBefore))).toEqual([]);
        expect(certificateProblems(rsa2048, new Date(notAfter))).toEqual([]);
    });

    it("refuses a certificate not yet valid", () => {
        expect(certificateProblems(rsa2048, new Date("2024-12-31T23:59:59Z"))).toEqual([
            "the certificate is not valid until 2025-01-01T00:00:00Z: wait for that date, or issue a certificate that is valid now and update the file",
        ]);
    });

    it("refuses an expired certificate", () => {
        expect(certificateProblems(rsa2048, new Date("2035-01-01T00:00:01Z"))).toEqual([
            "the certificate expired on 2035-01-01T00:00:00Z: issue a new certificate and update the file",
        ]);
    });

    it("refuses RSA below 2048 bits, or below the bits asked for", () => {
        const [problem, ...rest] = certificateProblems(parseCertificate(fixture("rsa1024.pem")), inside);
        expect(rest).toEqual([]);
        expect(problem).toContain("a 1024-bit RSA key: Entra client assertions need RSA >= 2048 bits");
        expect(certificateProblems(rsa2048, inside, { minRsaBits: 3072 })[0]).toContain("a 2048-bit RSA key: Entra client assertions need RSA >= 3072 bits");
    });

    it("refuses keys other than RSA", () => {
        expect(certificateProblems(parseCertificate(fixture("ec-p256.crt")), inside)).toEqual([
            "the certificate has an EC key (256 bits): Entra accepts only RSA certificates for client assertions (RS256/PS256); issue a certificate with a 2048-bit (or larger) RSA key",
        ]);
        const synthetic = (keyType: string, keyBits?: number): CertificateInfo => ({ ...rsa2048, keyType, keyBits });
        expect(certificateProblems(synthetic("ed25519"), inside)[0]).toContain("an ED25519 key: Entra accepts only RSA certificates");
        expect(certificateProblems(synthetic("dsa", 2048), inside)[0]).toContain("a DSA key (2048 bits)");
        expect(certificateProblems(synthetic("unknown"), inside)[0]).toContain("a key of a type that cannot be read");
        expect(certificateProblems(synthetic("rsa-pss", 2048), inside)[0]).toContain("restricted to RSA-PSS");
    });

    it("reports every problem at once", () => {
        const problems = certificateProblems(parseCertificate(fixture("rsa1024.pem")), new Date("2040-01-01T00:00:00Z"));
        expect(problems).toHaveLength(2);
        expect(problems[0]).toContain("expired on 2035-01-01T00:00:00Z");
        expect(problems[1]).toContain("1024-bit RSA key");
    });
});

describe("daysUntil", () => {
    it("counts whole days left, negative once expired", () => {
        expect(daysUntil(notAfter, new Date("2034-12-31T00:00:00Z"))).toBe(1);
        expect(daysUntil(notAfter, new Date("2034-12-31T00:00:01Z"))).toBe(0);
        expect(daysUntil(notAfter, new Date(notAfter))).toBe(0);
        expect(daysUntil(notAfter, new Date("2035-01-01T00:00:01Z"))).toBe(-1);
        expect(daysUntil(notAfter, new Date(notBefore))).toBe(3652);
        expect(() => daysUntil("soon", inside)).toThrow(RangeError);
    });
});

describe("readCertificateFile", () => {
    let project: string;
    let outside: string;

    beforeAll(() => {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-cert-"));
        outside = fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-outside-"));
        fs.mkdirSync(path.join(project, "certs"));
        fs.copyFileSync(path.join(fixtures, "rsa2048.cer"), path.join(project, "certs", "app.cer"));
        fs.copyFileSync(path.join(fixtures, "rsa1024.pem"), path.join(project, "certs", "small.pem"));
        fs.copyFileSync(path.join(fixtures, "chain.pem"), path.join(project, "certs", "chain.pem"));
        fs.copyFileSync(path.join(fixtures, "ec-p256.crt"), path.join(outside, "ec.crt"));
        fs.writeFileSync(path.join(project, "certs", "big.pem"), Buffer.alloc(maxCertificateFileBytes + 1, 0x41));
        fs.writeFileSync(path.join(project, "certs", "limit.pem"), Buffer.concat([fixture("rsa2048.pem"), Buffer.alloc(maxCertificateFileBytes - fixture("rsa2048.pem").length, 0x0a)]));
    });

    afterAll(() => {
        fs.rmSync(project, { recursive: true, force: true });
        fs.rmSync(outside, { recursive: true, force: true });
    });

    it("reads a file relative to the project directory", () => {
        const result = readCertificateFile("certs/app.cer", project, inside);
        expect(result.problems).toEqual([]);
        expect(result.info).toMatchObject({ thumbprint: rsa2048Sha1, encoding: "der", notAfter });
        expect(readCertificateFile("./certs/../certs/app.cer", project, inside).info?.thumbprint).toBe(rsa2048Sha1);
    });

    it("reads an absolute path inside the project, and refuses every path outside it without looking", () => {
        expect(readCertificateFile(path.join(project, "certs", "app.cer"), project, inside).info?.thumbprint).toBe(rsa2048Sha1);
        const refused = "is outside the project directory: a certificate file is read only from inside the project";
        for (const file of [path.join(outside, "ec.crt"), "/etc/shadow", "/etc/passwd", "../../../../etc/passwd", "/proc/self/environ", `${outside}/nope.pem`, ".", "certs/../.."]) {
            const result = readCertificateFile(file, project, inside);
            expect(result.info, file).toBeUndefined();
            // The same words whether the file exists or not: nothing outside is even looked at.
            expect(result.problems, file).toEqual([`${file}: ${refused}; copy the public certificate into it and give its path relative to the project`]);
        }
    });

    it("follows a symbolic link only when it ends inside the project", () => {
        fs.symlinkSync(path.join(outside, "ec.crt"), path.join(project, "certs", "out.crt"));
        fs.symlinkSync("/etc/passwd", path.join(project, "certs", "passwd.pem"));
        fs.symlinkSync(outside, path.join(project, "linked-dir"));
        fs.symlinkSync("app.cer", path.join(project, "certs", "in.cer"));
        for (const file of ["certs/out.crt", "certs/passwd.pem", "linked-dir/ec.crt"]) {
            const result = readCertificateFile(file, project, inside);
            expect(result.info, file).toBeUndefined();
            expect(result.problems[0], file).toContain("is outside the project directory");
            expect(result.problems[0], file).toContain("symbolic link");
        }
        expect(readCertificateFile("certs/in.cer", project, inside).info?.thumbprint).toBe(rsa2048Sha1);
    });

    it.skipIf(process.platform === "win32")("refuses what is not a regular file without blocking on it (a FIFO)", () => {
        const fifo = path.join(project, "certs", "fifo.pem");
        execFileSync("mkfifo", [fifo]);
        expect(readCertificateFile("certs/fifo.pem", project, inside).problems).toEqual([
            `certs/fifo.pem: is not a regular file (looked for ${fifo}): point at the file itself`,
        ]);
    });

    it("reports a missing file with where it looked", () => {
        const result = readCertificateFile("certs/nope.pem", project, inside);
        expect(result.info).toBeUndefined();
        expect(result.problems).toEqual([
            `certs/nope.pem: no such file (looked for ${path.join(project, "certs", "nope.pem")}): check the path; relative paths are relative to the project directory ${project}`,
        ]);
        expect(readCertificateFile("certs/app.cer/inner.pem", project, inside).problems[0]).toContain("no such file");
        expect(readCertificateFile("", project, inside).problems[0]).toContain("no certificate file given");
    });

    it("reports a directory", () => {
        const result = readCertificateFile("certs", project, inside);
        expect(result.info).toBeUndefined();
        expect(result.problems[0]).toMatch(/^certs: is a directory \(looked for .*\), not a certificate file/);
    });

    it("reports a file larger than 64 KiB, and takes one of exactly 64 KiB", () => {
        const result = readCertificateFile("certs/big.pem", project, inside);
        expect(result.info).toBeUndefined();
        expect(result.problems).toEqual([
            `certs/big.pem: is ${maxCertificateFileBytes + 1} bytes, more than 64 KiB: a public certificate is a few KiB; point at the certificate itself, not a bundle or archive`,
        ]);
        expect(readCertificateFile("certs/limit.pem", project, inside)).toMatchObject({ problems: [], info: { thumbprint: rsa2048Sha1 } });
    });

    it.skipIf(process.getuid?.() === 0)("reports a file it may not read", () => {
        const file = path.join(project, "certs", "locked.pem");
        fs.copyFileSync(path.join(fixtures, "rsa2048.pem"), file);
        fs.chmodSync(file, 0o000);
        expect(readCertificateFile("certs/locked.pem", project, inside).problems[0]).toContain("permission denied");
    });

    it("reports what the certificate is, prefixed with the file, without throwing", () => {
        expect(readCertificateFile("certs/chain.pem", project, inside)).toEqual({
            problems: [expect.stringMatching(/^certs\/chain\.pem: the file holds 2 certificates/)],
        });
        const small = readCertificateFile("certs/small.pem", project, new Date("2036-01-01T00:00:00Z"));
        expect(small.info?.keyBits).toBe(1024);
        expect(small.problems).toEqual([
            "certs/small.pem: the certificate expired on 2035-01-01T00:00:00Z: issue a new certificate and update the file",
            expect.stringContaining("certs/small.pem: the certificate has a 1024-bit RSA key"),
        ]);
    });
});
