import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type TlsMaterial, createTlsMaterial, readTlsMaterial, writeTlsMaterial } from "./certificates";

/**
 * How clients come to trust the emulator without turning TLS verification off.
 *
 * Node reads NODE_EXTRA_CA_CERTS once, at process start, so it must be set before the test workers exist:
 * the vitest globalSetup (globalSetup.ts) creates the CA and server certificate once per run, writes them
 * to a temporary directory and sets NODE_EXTRA_CA_CERTS and ENTRA_ROTOR_EMULATOR_TLS_DIR in the main
 * process; the forks pool starts its workers with that environment, and so does anything they spawn.
 * Every client in them (the Azure SDKs, fetch, https) then trusts the emulator.
 *
 * Without the globalSetup (a worker started some other way), the emulator makes its own CA: in-process
 * clients must then be given it explicitly (`tlsOptions: { ca }` for the Azure SDKs), and child processes
 * get it through NODE_EXTRA_CA_CERTS in `emulator.environment()`.
 */

export const tlsDirVariable = "ENTRA_ROTOR_EMULATOR_TLS_DIR";
export const caFileName = "ca.pem";

export interface ResolvedTls {
    readonly material: TlsMaterial;
    /** A file holding the CA certificate, for NODE_EXTRA_CA_CERTS of child processes. */
    readonly caPath: string;
    /** Whether this process trusts the CA already (it was started with NODE_EXTRA_CA_CERTS naming it). */
    readonly trustedByEnvironment: boolean;
    /** Removes what was created for this emulator alone. */
    dispose(): void;
}

function environmentTrusts(caPem: string): boolean {
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (!extra) return false;
    try {
        return fs.readFileSync(extra, "utf8").includes(caPem.trim());
    } catch {
        return false;
    }
}

export function resolveTls(given?: TlsMaterial): ResolvedTls {
    const shared = process.env[tlsDirVariable];
    if (!given && shared && fs.existsSync(path.join(shared, caFileName))) {
        const material = readTlsMaterial(shared);
        return { material, caPath: path.join(shared, caFileName), trustedByEnvironment: environmentTrusts(material.caCertificatePem), dispose: () => undefined };
    }
    const material = given ?? createTlsMaterial();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-emulator-"));
    const { caPath } = writeTlsMaterial(dir, material);
    return {
        material,
        caPath,
        trustedByEnvironment: environmentTrusts(material.caCertificatePem),
        dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
