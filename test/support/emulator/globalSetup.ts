import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createTlsMaterial, writeTlsMaterial } from "./certificates";
import { tlsDirVariable } from "./tls";

/**
 * vitest globalSetup: one throwaway CA and server certificate for the whole run, trusted by every test
 * worker and every process they spawn through NODE_EXTRA_CA_CERTS (see tls.ts for why it must happen
 * here, before the workers start). TLS verification stays on everywhere.
 */
export default function setup(): () => void {
    const previousExtra = process.env.NODE_EXTRA_CA_CERTS;
    const previousDir = process.env[tlsDirVariable];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-tls-"));
    const material = createTlsMaterial();
    writeTlsMaterial(dir, material);
    // Keep whatever extra CAs the machine already relies on (a corporate proxy, say) next to ours.
    let bundle = material.caCertificatePem;
    if (previousExtra && fs.existsSync(previousExtra)) bundle = `${fs.readFileSync(previousExtra, "utf8").trim()}\n${bundle}`;
    const bundlePath = path.join(dir, "node-extra-ca-certs.pem");
    fs.writeFileSync(bundlePath, bundle);
    process.env.NODE_EXTRA_CA_CERTS = bundlePath;
    process.env[tlsDirVariable] = dir;
    return () => {
        if (previousExtra === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
        else process.env.NODE_EXTRA_CA_CERTS = previousExtra;
        if (previousDir === undefined) delete process.env[tlsDirVariable];
        else process.env[tlsDirVariable] = previousDir;
        fs.rmSync(dir, { recursive: true, force: true });
    };
}
