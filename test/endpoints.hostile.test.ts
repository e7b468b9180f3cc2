import * as https from "node:https";
import { once } from "node:events";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { EndpointError, type EndpointOverrides, resolveEndpoints } from "../azure/endpoints";
import type { CliIo } from "../cli/io";
import type { StackModel } from "../infra/model/model";
import { main } from "../cli/main";
import { type Deployment, emulatorIo, grantSecretWriter } from "./support/deployedStack";
import type { Emulator } from "./support/emulator";
import { resolveTls } from "./support/emulator/tls";
import { repoRoot, runProgram, sampleStack } from "./support/program";
import { deploySample } from "./support/sampleTenant";

/**
 * A bearer token is sent only to hosts of its own service in the cloud in use (shared/DESIGN.md). Each
 * attack below points an endpoint of the live commands (or the program's verify gate) somewhere a token or
 * a secret would leak to, over the wire: the real @azure/identity signs in at the emulator, and hostile
 * listeners on 127.0.0.1 record whatever reaches them. Nothing is sent off this machine, also on code
 * that would accept the attack: every hostile host is a loopback address.
 */

const deployedAt = new Date("2027-03-01T06:00:00Z");
const arm = "https://management.azure.com";
const graph = "https://graph.microsoft.com";

let emulator: Emulator;
let deployment: Deployment;
/** The sample stack's vault (keyVault.name). */
let vaultName: string;
let reader: { appId: string; secret: string };
/** Scopes the live commands asked the operator's credential for, in order. */
let asked: string[];
let hostiles: Hostile[];
/** The run's certificate for 127.0.0.1 (globalSetup's, which the workers trust), for the hostile listeners. */
const tls = resolveTls();
afterAll(() => tls.dispose());

beforeEach(async () => {
    let model: StackModel;
    ({ emulator, deployment, model } = await deploySample(deployedAt));
    vaultName = model.keyVault!.name;
    const app = emulator.state.addApplication({ displayName: "rotor-operator-recorded", graphPermissions: ["Application.Read.All", "Policy.Read.All"] });
    reader = { appId: app.appId, secret: emulator.state.addPassword(app, { lifetimeDays: 365 }).secretText };
    grantSecretWriter(emulator, emulator.state.servicePrincipalIdOf(app));
    asked = [];
    hostiles = [];
});
afterEach(async () => {
    // A command that failed on one service leaves its reads of the others in flight (they are not cancelled):
    // let them land, or the emulator's close waits out a TLS handshake under way.
    for (let quiet = 0, rounds = 0; quiet < 4 && rounds < 100; rounds++) {
        const before = emulator.requests.entries.length;
        await new Promise((resolve) => setTimeout(resolve, 50));
        quiet = emulator.requests.entries.length === before ? quiet + 1 : 0;
    }
    await Promise.all(hostiles.map((h) => h.close()));
    await emulator.close();
});

interface Seen {
    readonly method: string;
    readonly path: string;
    readonly authorization: string | undefined;
}

interface Hostile {
    /** `https://127.0.0.1:{port}` */
    readonly url: string;
    readonly port: number;
    readonly seen: Seen[];
    close(): Promise<void>;
}

type Answer = (request: Seen, hostile: Hostile) => { status: number; headers?: Record<string, string>; body?: unknown };

/** A listener on 127.0.0.1 with the emulator's certificate (trusted by the workers), recording every request. */
async function hostile(answer: Answer = () => ({ status: 404, body: {} })): Promise<Hostile> {
    const seen: Seen[] = [];
    let self: Hostile;
    const server = https.createServer({ key: tls.material.privateKeyPem, cert: tls.material.certificatePem }, (req, res) => {
        req.resume();
        req.on("end", () => {
            const request = { method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization };
            seen.push(request);
            const { status, headers = {}, body } = answer(request, self);
            res.writeHead(status, { "content-type": "application/json", ...headers });
            res.end(body === undefined ? "" : JSON.stringify(body));
        });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    self = {
        url: `https://127.0.0.1:${port}`,
        port,
        seen,
        // The SDKs keep connections alive: end them, or close waits for their idle timeout.
        close: () =>
            new Promise((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
    hostiles.push(self);
    return self;
}

/** A "vault" whose 401 challenge names another resource than Key Vault's, and that lists nothing to a token. */
function challengeNaming(resource: string): Answer {
    return (request) =>
        request.authorization
            ? { status: 200, body: { value: [], nextLink: null } }
            : {
                  status: 401,
                  headers: { "WWW-Authenticate": `Bearer authorization="${emulator.authorityHost}/${emulator.tenantId}", resource="${resource}"` },
                  body: { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } },
              };
}

/** The operator's credential, recording the scopes asked for; it signs in at the authority the command resolved. */
const recording: NonNullable<CliIo["credential"]> = (endpoints) => {
    const credential = new ClientSecretCredential(emulator.tenantId, reader.appId, reader.secret, { ...emulator.credentialOptions, authorityHost: endpoints.authorityHost, retryOptions: { maxRetries: 0 } });
    return {
        getToken: (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> => {
            asked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
            return credential.getToken(scopes, options);
        },
    };
};

async function rotor(args: readonly string[], env: Record<string, string> = {}) {
    const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
    emulator.clock.set(deployedAt);
    const io = emulatorIo(emulator, deployment, null as unknown as TokenCredential, deployedAt, out);
    const code = await main([...args, "--dir", repoRoot], { ...io, credential: recording, env: { ...io.env, ...env } });
    return { code, ...out };
}

const bearers = (h: Hostile) => h.seen.filter((s) => s.authorization !== undefined);

describe("a vault whose 401 challenge names another resource than Key Vault", () => {
    it.each([
        ["Azure Resource Manager", arm],
        ["Microsoft Graph", graph],
        ["Azure Resource Manager, with a trailing slash", `${arm}/`],
        ["a host of its own", "https://127.0.0.1"],
    ])("gets no token for %s: rotor status refuses the challenge before asking for one", async (_name, resource) => {
        const vault = await hostile(challengeNaming(resource));
        const run = await rotor(["status", "--stack", "dev", "--key-vault-url", vault.url]);
        expect(bearers(vault)).toEqual([]);
        expect(asked.filter((scope) => !scope.startsWith(graph))).toEqual([]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`${vault.url}`);
        expect(run.stderr).toContain("https://vault.azure.net");
        expect(run.stderr).toMatch(/challenge/);
    });

    it.each(["verify", "doctor"])("gets no token from rotor %s either", async (command) => {
        const vault = await hostile(challengeNaming(arm));
        const run = await rotor([command, "--stack", "dev", "--key-vault-url", `${vaultName}=${vault.url}`]);
        expect(bearers(vault)).toEqual([]);
        expect(vault.seen.length).toBeGreaterThan(0);
        expect(run.code).not.toBe(0);
        expect(run.stdout + run.stderr).toMatch(/challenge/);
    });

    it("is served when the challenge names Key Vault: the emulator's own vault, through the emulator setting", async () => {
        const run = await rotor(["status", "--stack", "dev"]);
        expect(run.code).toBe(0);
        expect(asked).toContain("https://vault.azure.net/.default");
        expect(asked.every((scope) => scope === "https://vault.azure.net/.default" || scope === `${graph}/.default`)).toBe(true);
    });
});

describe("a page link to another host", () => {
    it("never takes Graph's token there", async () => {
        const elsewhere = await hostile(() => ({ status: 200, body: { value: [] } }));
        const fakeGraph = await hostile(() => ({ status: 200, body: { value: [], "@odata.nextLink": `${elsewhere.url}/v1.0/applications?$skiptoken=x` } }));
        const run = await rotor(["status", "--stack", "dev", "--graph-endpoint", fakeGraph.url]);
        expect(fakeGraph.seen.length).toBeGreaterThan(0);
        expect(elsewhere.seen).toEqual([]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(elsewhere.url);
    });

    it("never takes Key Vault's token there", async () => {
        const elsewhere = await hostile(() => ({ status: 200, body: { value: [] } }));
        const vault = await hostile((request) =>
            request.authorization
                ? { status: 200, body: { value: [], nextLink: `${elsewhere.url}/secrets?api-version=7.5&$skiptoken=x` } }
                : challengeNaming("https://vault.azure.net")(request, vault),
        );
        const run = await rotor(["status", "--stack", "dev", "--key-vault-url", vault.url]);
        expect(bearers(vault).length).toBeGreaterThan(0);
        expect(elsewhere.seen).toEqual([]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(elsewhere.url);
    });

    it("never takes Resource Manager's token there", async () => {
        const elsewhere = await hostile(() => ({ status: 200, body: { value: [] } }));
        const fakeArm = await hostile(() => ({ status: 200, body: { value: [], nextLink: `${elsewhere.url}/next?api-version=2022-04-01` } }));
        const run = await rotor(["doctor", "--stack", "dev", "--management-endpoint", fakeArm.url]);
        expect(fakeArm.seen.length).toBeGreaterThan(0);
        expect(elsewhere.seen).toEqual([]);
        expect(run.code).not.toBe(0);
        expect(run.stdout + run.stderr).toContain(elsewhere.url);
    });
});

/** The four endpoints, their flag and variable, and a command that uses each. */
const endpoints = [
    { name: "authority", flag: "--authority-host", variable: "AZURE_AUTHORITY_HOST", command: "status" },
    { name: "graph", flag: "--graph-endpoint", variable: "ROTOR_GRAPH_ENDPOINT", command: "status" },
    { name: "vault", flag: "--key-vault-url", variable: "ROTOR_KEY_VAULT_URL", command: "status" },
    { name: "management", flag: "--management-endpoint", variable: "ROTOR_MANAGEMENT_ENDPOINT", command: "doctor" },
] as const;

/** URLs that would reach the hostile listener `h` while reading like something else, or leaking. */
const attacks = [
    { attack: "user info that reads like Graph", url: (h: Hostile) => `https://graph.microsoft.com@127.0.0.1:${h.port}`, said: /user info/ },
    { attack: "user info with a password", url: (h: Hostile) => `https://vault.azure.net:x@127.0.0.1:${h.port}`, said: /user info/ },
    { attack: "an empty user info", url: (h: Hostile) => `https://@127.0.0.1:${h.port}`, said: /user info/ },
    { attack: "a query", url: (h: Hostile) => `${h.url}/?x=1`, said: /query/ },
    { attack: "an empty query", url: (h: Hostile) => `${h.url}?`, said: /query/ },
    { attack: "a fragment", url: (h: Hostile) => `${h.url}#graph.microsoft.com`, said: /fragment/ },
    { attack: "http", url: (h: Hostile) => `http://127.0.0.1:${h.port}`, said: /must use https/ },
] as const;

describe("endpoint URLs with user info, a query, a fragment, or without https", () => {
    for (const endpoint of endpoints) {
        for (const source of ["flag", "variable"] as const) {
            it.each(attacks)(`are refused for ${endpoint.flag} given as a ${source}: $attack, before any request or token`, async ({ url, said }) => {
                const target = await hostile();
                const value = url(target);
                const run = await rotor([endpoint.command, "--stack", "dev", ...(source === "flag" ? [endpoint.flag, value] : [])], source === "variable" ? { [endpoint.variable]: value } : {});
                expect(target.seen).toEqual([]);
                expect(asked).toEqual([]);
                expect(emulator.requests.entries).toEqual([]);
                expect(run.code).toBe(1);
                expect(run.stderr).toMatch(said);
                expect(run.stderr).toContain(`${endpoint.flag} (${endpoint.variable})`);
            });
        }
    }

    it("refuses each pair of --key-vault-url name=url the same way", async () => {
        const target = await hostile();
        for (const value of [`${vaultName}=https://graph.microsoft.com@127.0.0.1:${target.port}`, `${vaultName}=${target.url}?x`, `${vaultName}=${target.url}#x`, `other=${target.url},${vaultName}=http://127.0.0.1:${target.port}`]) {
            const run = await rotor(["status", "--stack", "dev", "--key-vault-url", value]);
            expect(run.code).toBe(1);
            expect(run.stderr).toContain("--key-vault-url (ROTOR_KEY_VAULT_URL)");
        }
        expect(target.seen).toEqual([]);
        expect(asked).toEqual([]);
    });

    it("names the host a user-info URL really reaches, not the one it reads like", async () => {
        const run = await rotor(["status", "--stack", "dev", "--graph-endpoint", "https://graph.microsoft.com@127.0.0.1:48443"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("127.0.0.1:48443");
        expect(run.stderr).not.toContain("https://graph.microsoft.com@");
        expect(asked).toEqual([]);
    });
});

describe("endpoints on this machine without the emulator setting (ROTOR_ALLOW_LOCAL_ENDPOINTS)", () => {
    it.each(["status", "verify", "doctor"])("rotor %s refuses them before any request or token", async (command) => {
        const target = await hostile(challengeNaming("https://vault.azure.net"));
        const run = await rotor([command, "--stack", "dev", "--graph-endpoint", target.url, "--key-vault-url", target.url, ...(command === "doctor" ? ["--management-endpoint", target.url] : [])], {
            ROTOR_ALLOW_LOCAL_ENDPOINTS: "",
            AZURE_AUTHORITY_HOST: target.url,
        });
        expect(target.seen).toEqual([]);
        expect(asked).toEqual([]);
        expect(emulator.requests.entries).toEqual([]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/ROTOR_ALLOW_LOCAL_ENDPOINTS=1/);
    });

    it.each(endpoints)("are refused for $flag alone, the others being the cloud's", ({ flag, variable }) => {
        const cloudsOwn: Record<string, string> = { AZURE_AUTHORITY_HOST: "", ROTOR_GRAPH_ENDPOINT: "", ROTOR_KEY_VAULT_URL: "", ROTOR_MANAGEMENT_ENDPOINT: "" };
        const cases: [EndpointOverrides, Record<string, string>][] = [
            [{ [keyOf(flag)]: "https://127.0.0.1:8443" }, cloudsOwn],
            [{}, { ...cloudsOwn, [variable]: "https://127.0.0.1:8443" }],
            [{ [keyOf(flag)]: "https://[::1]:8443" }, cloudsOwn],
        ];
        for (const [flags, env] of cases) {
            expect(() => resolveEndpoints(flags, env)).toThrow(EndpointError);
            expect(() => resolveEndpoints(flags, env)).toThrow(`${flag} (${variable})`);
            expect(() => resolveEndpoints(flags, env)).toThrow(/ROTOR_ALLOW_LOCAL_ENDPOINTS=1/);
            expect(() => resolveEndpoints(flags, { ...env, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" })).not.toThrow();
        }
    });
});

function keyOf(flag: (typeof endpoints)[number]["flag"]): "authorityHost" | "graphEndpoint" | "keyVaultUrl" | "managementEndpoint" {
    return ({ "--authority-host": "authorityHost", "--graph-endpoint": "graphEndpoint", "--key-vault-url": "keyVaultUrl", "--management-endpoint": "managementEndpoint" } as const)[flag];
}

describe("hosts outside the service's domain for the cloud in use", () => {
    const refused: [string, EndpointOverrides, Record<string, string>][] = [
        ["a Graph look-alike", { graphEndpoint: "https://graph.microsoft.com.contoso.example" }, {}],
        ["a proxy for Graph", { graphEndpoint: "https://proxy.contoso.com/graph" }, {}],
        ["Resource Manager as Graph", { graphEndpoint: arm }, {}],
        ["public Graph in the US Government cloud", { cloud: "AzureUSGovernment", graphEndpoint: graph }, {}],
        ["a vault of another cloud", { keyVaultUrl: "https://kv-rotor.vault.azure.cn" }, {}],
        ["a vault host that only ends like one", { keyVaultUrl: "https://kv-rotor.evilvault.azure.net" }, {}],
        ["a vault suffix with no vault", { keyVaultUrl: "https://vault.azure.net" }, {}],
        ["a vault under a vault", { keyVaultUrl: "https://a.kv-rotor.vault.azure.net" }, {}],
        ["a managed HSM, which holds no secrets", { keyVaultUrl: "https://hsm.managedhsm.azure.net" }, {}],
        ["Graph as the vault", { keyVaultUrl: graph }, {}],
        ["a look-alike vault among pairs", { keyVaultUrl: "kv-a=https://kv-a.vault.azure.net,kv-b=https://kv-b.vault.azure.net.contoso.example" }, {}],
        ["Graph as Resource Manager", { managementEndpoint: graph }, {}],
        ["China's Resource Manager in public Azure", { managementEndpoint: "https://management.chinacloudapi.cn" }, {}],
        ["an authority of another cloud", { authorityHost: "https://login.microsoftonline.us" }, {}],
        ["an authority look-alike", { authorityHost: "https://login.microsoftonline.com.contoso.example" }, {}],
        ["a remote host, even with the emulator setting", { graphEndpoint: "https://contoso.example" }, { ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" }],
        ["a name that resolves to anything, even with the emulator setting", { keyVaultUrl: "https://localhost:8443" }, { ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" }],
        ["a variable of the same kind", {}, { ROTOR_MANAGEMENT_ENDPOINT: "https://management.azure.com.contoso.example" }],
    ];
    it.each(refused)("refuses %s", (_case, flags, env) => {
        expect(() => resolveEndpoints(flags, env)).toThrow(EndpointError);
    });

    it("accepts the cloud's own hosts, its authority's aliases, and vaults of its domain", () => {
        expect(resolveEndpoints({ graphEndpoint: `${graph}/`, managementEndpoint: `${arm}/`, keyVaultUrl: "https://KV-Rotor.vault.azure.net/", authorityHost: "https://login.microsoft.com" }, {})).toMatchObject({
            graph,
            management: arm,
            keyVaultUrl: "https://kv-rotor.vault.azure.net",
            authorityHost: "https://login.microsoft.com",
            keyVaultScope: "https://vault.azure.net/.default",
        });
        expect(resolveEndpoints({ cloud: "usgov", keyVaultUrl: "kv-a=https://kv-a.vault.usgovcloudapi.net", authorityHost: "https://login.usgovcloudapi.net" }, {})).toMatchObject({ keyVaultUrls: { "kv-a": "https://kv-a.vault.usgovcloudapi.net" }, keyVaultScope: "https://vault.usgovcloudapi.net/.default" });
        expect(resolveEndpoints({ cloud: "china", authorityHost: "https://login.partner.microsoftonline.cn" }, {})).toMatchObject({ keyVaultScope: "https://vault.azure.cn/.default" });
    });

    it("takes only 1 as the emulator setting", () => {
        expect(() => resolveEndpoints({ graphEndpoint: "https://127.0.0.1:1" }, { ROTOR_ALLOW_LOCAL_ENDPOINTS: "yes" })).toThrow(/ROTOR_ALLOW_LOCAL_ENDPOINTS/);
        expect(() => resolveEndpoints({ graphEndpoint: "https://127.0.0.1:1" }, { ROTOR_ALLOW_LOCAL_ENDPOINTS: "0" })).toThrow(/ROTOR_ALLOW_LOCAL_ENDPOINTS=1/);
        expect(resolveEndpoints({ graphEndpoint: "https://127.0.0.2:1" }, { ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" }).graph).toBe("https://127.0.0.2:1");
    });
});

describe("the program's verify gate", () => {
    it("refuses the emulator's authority without the emulator setting, before signing in anywhere", async () => {
        await expect(runProgram(sampleStack().values as Record<string, unknown>, { now: deployedAt, env: { ROTOR_ALLOW_LOCAL_ENDPOINTS: "" } })).rejects.toThrow(/--authority-host \(AZURE_AUTHORITY_HOST\).*ROTOR_ALLOW_LOCAL_ENDPOINTS=1/);
    });

    it.each([
        ["user info", (port: string) => `https://login.microsoftonline.com@127.0.0.1:${port}`, /user info/],
        ["a query", (port: string) => `https://127.0.0.1:${port}/?x`, /query/],
        ["a fragment", (port: string) => `https://127.0.0.1:${port}#x`, /fragment/],
    ])("refuses an authority with %s", async (_case, url, said) => {
        const port = new URL(emulator.authorityHost).port;
        await expect(runProgram(sampleStack().values as Record<string, unknown>, { now: deployedAt, emulator, env: { AZURE_AUTHORITY_HOST: url(port) } })).rejects.toThrow(said);
        expect(emulator.requests.count({ service: "login" })).toBe(0);
    });
});
