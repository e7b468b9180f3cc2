import * as fs from "node:fs";
import * as path from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseDocument } from "yaml";
import { type GraphApplicationRecord, type GraphClient, importPaths } from "../azure/graph";
import type { TenantApp } from "../cli/adopt/facts";
import { readTenant } from "../cli/adopt/read";
import type { CliIo } from "../cli/io";
import { main } from "../cli/main";
import { graphCatalog } from "../infra/model/catalog";
import { delegatedTier } from "../infra/model/privilege";
import { projectDir } from "./support/cli";
import { operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import type { GeneratedApplication } from "./support/emulator/state";

/**
 * `rotor import` end to end against the local emulator: a tenant of portal-made applications (tier-0
 * permissions requested, consent granted for some, secrets and certificates of mixed ages, federated
 * credentials), read through the real Graph client, written as a stack that `rotor plan` then judges.
 */

const now = new Date("2027-03-01T06:00:00Z");
const graphAppId = graphCatalog.resourceAppId;
const roleNames = new Map(Object.entries(graphCatalog.application).map(([name, entry]) => [entry.id, name]));
const scopeNames = new Map(Object.entries(graphCatalog.delegated).map(([name, entry]) => [entry.id, name]));

let emulator: Emulator;
let generated: GeneratedApplication[];
let reader: ReturnType<typeof operator>;
let policyReader: ReturnType<typeof operator>;
let applicationReader: ReturnType<typeof operator>;

beforeAll(async () => {
    emulator = await startEmulator({ now });
    generated = emulator.state.generateApplications(12, {
        // Tier-0 delegated permissions among the requested ones: app-04 and app-08 ask for one each (portalTenant.ts takes them by index).
        portal: { ownerCount: 3, delegatedPermissions: ["Mail.Read", "Files.Read.All", "offline_access", "Directory.AccessAsUser.All", "Application.ReadWrite.All"] },
        secrets: 2,
        tenantId: emulator.tenantId,
    });
    // Every identity is made here, so each test sees the same tenant whatever runs first.
    reader = operator(emulator, ["Directory.Read.All"]);
    policyReader = operator(emulator, ["Policy.Read.All"]);
    applicationReader = operator(emulator, ["Application.Read.All"]);
});

afterAll(async () => {
    await emulator?.close();
});

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly dir: string;
}

async function rotor(args: readonly string[], options: { dir?: string; credential?: TokenCredential } = {}): Promise<Run> {
    const dir = options.dir ?? projectDir({});
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        cwd: dir,
        now: () => now,
        env: { AZURE_AUTHORITY_HOST: emulator.authorityHost, ROTOR_GRAPH_ENDPOINT: emulator.graphEndpoint, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" },
        credential: () => options.credential ?? reader.credential,
    };
    const code = await main(args, io);
    return { code, stdout, stderr, dir };
}

const stackFile = (dir: string, stack = "adopted") => path.join(dir, `Pulumi.${stack}.yaml`);

interface Entry {
    readonly name: string;
    readonly displayName: string;
    readonly allowPrivileged?: { permission: string; justification: string }[];
    readonly adopt: { application: string };
}

function entriesOf(yaml: string): Entry[] {
    const doc = parseDocument(yaml);
    expect(doc.errors).toEqual([]);
    return (doc.toJS() as { config: Record<string, Entry[]> }).config["entra-rotor:apps"]!;
}

/** The tier-0 permissions each application of the tenant requests, from the emulator's state and the catalog. */
function tier0Requested(): Map<string, Set<string>> {
    const byObjectId = new Map<string, Set<string>>();
    for (const application of emulator.state.applications.values()) {
        if (application.tenantId !== emulator.tenantId) continue;
        const tier0 = new Set<string>();
        for (const access of application.requiredResourceAccess) {
            if (access.resourceAppId !== graphAppId) continue;
            for (const { id, type } of access.resourceAccess) {
                const name = type === "Role" ? roleNames.get(id) : scopeNames.get(id);
                if (name === undefined) continue;
                if (type === "Role" ? graphCatalog.application[name]!.tier === 0 : delegatedTier(name) === 0) tier0.add(name);
            }
        }
        byObjectId.set(application.id, tier0);
    }
    return byObjectId;
}

function tenantApplications(): string[] {
    return [...emulator.state.applications.values()].filter((a) => a.tenantId === emulator.tenantId).map((a) => a.displayName);
}

/** The paths a config error names, from rotor's stderr (the lines before the warnings). */
function errorPaths(stderr: string): string[] {
    const errors = stderr.split("\nwarnings:")[0]!;
    return [...errors.matchAll(/^ {2}(apps\[\d+\][^:\s]*): /gm)].map((m) => m[1]!);
}

describe("rotor import against the emulator", () => {
    it("writes the stack, which rotor plan refuses until every tier-0 permission is justified", async () => {
        const run = await rotor(["import", "--stack", "adopted"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const total = tenantApplications().length;
        expect(run.stdout).toMatch(new RegExp(`^Wrote Pulumi\\.adopted\\.yaml: ${total} of ${total} applications adopted, 0 left out;`));
        const yaml = fs.readFileSync(stackFile(run.dir), "utf8");
        const apps = entriesOf(yaml);
        expect(apps.map((a) => a.displayName).sort()).toEqual(tenantApplications().sort());

        // Each app's allowPrivileged lists exactly the tier-0 permissions it requests in the tenant.
        const requested = tier0Requested();
        const expectedPaths: string[] = [];
        const tier0Apps: string[] = [];
        apps.forEach((app, i) => {
            const tier0 = requested.get(app.adopt.application)!;
            expect(new Set((app.allowPrivileged ?? []).map((a) => a.permission)), app.name).toEqual(tier0);
            (app.allowPrivileged ?? []).forEach((allowance, j) => {
                expect(allowance.justification).toBe("");
                expectedPaths.push(`apps[${i}].allowPrivileged[${j}].justification`);
            });
            if (tier0.size > 0) tier0Apps.push(app.name);
        });
        // The tenant holds application and delegated tier-0 requests both, or this test proves little.
        expect(tier0Apps).toEqual(expect.arrayContaining(["app-04", "app-07", "app-08", "app-09"]));
        expect(apps.find((a) => a.name === "app-08")!.allowPrivileged!.map((a) => a.permission)).toEqual(["Directory.AccessAsUser.All"]);

        const plan = await rotor(["plan", "--stack", "adopted"], { dir: run.dir });
        expect(plan.code).toBe(1);
        expect(plan.stderr).toMatch(new RegExp(`Pulumi\\.adopted\\.yaml: ${expectedPaths.length} config errors:`));
        expect(errorPaths(plan.stderr).sort()).toEqual([...expectedPaths].sort());

        // A person writes each justification; then the stack plans.
        const doc = parseDocument(yaml);
        const seq = doc.getIn(["config", "entra-rotor:apps"]) as { items: unknown[] };
        seq.items.forEach((_, i) => {
            const allowances = (doc.getIn(["config", "entra-rotor:apps", i, "allowPrivileged"]) as { items: unknown[] } | undefined)?.items ?? [];
            allowances.forEach((__, j) => doc.setIn(["config", "entra-rotor:apps", i, "allowPrivileged", j, "justification"], "Provisions the HR integration's own registrations; reviewed quarterly by IAM."));
        });
        fs.writeFileSync(stackFile(run.dir), doc.toString());
        const justified = await rotor(["plan", "--stack", "adopted"], { dir: run.dir });
        expect(justified.stderr).not.toMatch(/config error/);
        expect(justified.code).toBe(0);
    });

    it("never writes or prints a secret value or a certificate's private key", async () => {
        const run = await rotor(["import", "--stack", "adopted", "--format", "json"]);
        expect(run.code).toBe(0);
        const dry = await rotor(["import", "--stack", "adopted", "--dry-run", "--format", "table"], { dir: run.dir });
        expect(dry.code).toBe(0);
        const everything = [fs.readFileSync(stackFile(run.dir), "utf8"), run.stdout, run.stderr, dry.stdout, dry.stderr].join("\n");
        const secrets = generated.flatMap((g) => g.secrets);
        const certificates = generated.flatMap((g) => g.certificates);
        expect(secrets.length).toBe(24);
        expect(certificates.length).toBeGreaterThan(0);
        for (const secret of secrets) expect(everything).not.toContain(secret);
        expect(everything).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
        for (const certificate of certificates) {
            // A line from the middle of each PEM body: neither the key nor the certificate's bytes are copied.
            for (const pem of [certificate.privateKeyPem, certificate.certificatePem]) {
                const lines = pem.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
                expect(everything).not.toContain(lines[Math.floor(lines.length / 2)]!);
            }
        }
        // Key ids are what the stack keeps of them.
        const keyIds = generated.flatMap((g) => g.application.passwordCredentials.map((p) => p.keyId));
        for (const keyId of keyIds) expect(everything).toContain(keyId);
    });

    it("refuses to overwrite an existing stack, before reading anything, and writes nothing", async () => {
        for (const existing of ["Pulumi.adopted.yaml", "Pulumi.adopted.yml", "Pulumi.adopted.json"]) {
            const dir = projectDir({});
            fs.writeFileSync(path.join(dir, existing), existing.endsWith(".json") ? "{}" : "config: {}\n");
            const before = emulator.requests.entries.length;
            const run = await rotor(["import", "--stack", "adopted"], { dir });
            expect(run.code).toBe(1);
            expect(run.stderr).toContain(`${existing} exists: stack adopted is already configured`);
            expect(run.stdout).toBe("");
            expect(emulator.requests.entries.length).toBe(before);
            expect(fs.readdirSync(dir).sort()).toEqual([existing, "Pulumi.yaml"].sort());
            expect(fs.readFileSync(path.join(dir, existing), "utf8")).toBe(existing.endsWith(".json") ? "{}" : "config: {}\n");
        }
    });

    it("--dry-run --format yaml prints the stack file to stdout and the summary to stderr, and writes nothing", async () => {
        const written = await rotor(["import", "--stack", "adopted"]);
        const dir = projectDir({});
        // An existing stack is no refusal for a dry run: nothing is written.
        fs.writeFileSync(stackFile(dir), "config: {}\n");
        const dry = await rotor(["import", "--stack", "adopted", "--dry-run", "--format", "yaml"], { dir });
        expect(dry.code).toBe(0);
        expect(dry.stdout).toBe(fs.readFileSync(stackFile(written.dir), "utf8"));
        const tier0 = [...tier0Requested().values()].reduce((n, s) => n + s.size, 0);
        expect(dry.stderr).toMatch(new RegExp(`^rotor import --dry-run: (\\d+) of \\1 applications adopted, 0 left out; ${tier0} tier-0 permissions to justify\\.`));
        expect(dry.stderr).toContain("TO ACT ON BEFORE THE FIRST PULUMI UP");
        expect(dry.stdout).not.toContain("TO ACT ON");
        expect(fs.readdirSync(dir).sort()).toEqual(["Pulumi.adopted.yaml", "Pulumi.yaml"]);
        expect(fs.readFileSync(stackFile(dir), "utf8")).toBe("config: {}\n");
    });

    it("--format table lists credentials and applications by soonest expiry", async () => {
        const run = await rotor(["import", "--stack", "adopted", "--dry-run", "--format", "table"]);
        expect(run.code).toBe(0);
        expect(fs.readdirSync(run.dir)).toEqual(["Pulumi.yaml"]);
        const sections = run.stdout.split("\n\n");
        const credentials = sections.find((s) => s.startsWith("CREDENTIALS"))!.split("\n").slice(2);
        const applications = sections.find((s) => s.startsWith("APPLICATIONS"))!.split("\n").slice(2);
        const order = (values: string[]) => values.map((v) => (v === "never" || v === "-" ? Number.POSITIVE_INFINITY : Date.parse(v)));
        const expires = order(credentials.map((line) => line.trim().split(/\s+/)[0]!));
        expect(expires.length).toBe(generated.reduce((n, g) => n + g.secrets.length + g.certificates.length + g.application.federatedIdentityCredentials.length, 0) + 3);
        expect(expires).toEqual([...expires].sort((a, b) => a - b));
        expect(expires.some((t) => t < now.getTime())).toBe(true);
        expect(run.stdout).toMatch(/expired \d+d ago/);
        const firsts = order(applications.map((line) => line.trim().split(/\s+/)[2]!));
        expect(firsts.length).toBe(tenantApplications().length);
        expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    });

    it("--format json parses, with totals that add up", async () => {
        const run = await rotor(["import", "--stack", "adopted", "--format", "json"]);
        expect(run.code).toBe(0);
        const report = JSON.parse(run.stdout) as { stackFile: string; totals: Record<string, number>; imported: { name: string; tier0: string[] }[]; leftOut: unknown[] };
        const total = tenantApplications().length;
        expect(report.stackFile).toBe("Pulumi.adopted.yaml");
        // 24 portal secrets, 3 certificates (every 4th app), one secret per operator.
        expect(report.totals).toMatchObject({ listed: total, read: total, imported: total, leftOut: 0, existingCredentials: 24 + 3 + 3, federatedCredentials: 4 });
        expect(report.imported).toHaveLength(total);
        expect(report.totals["tier0"]).toBe(report.imported.reduce((n, a) => n + a.tier0.length, 0));
        expect(report.totals["tier0"]).toBe([...tier0Requested().values()].reduce((n, s) => n + s.size, 0));
    });

    it("selects applications by --app-id, --filter and --owned-by", async () => {
        const names = async (args: string[]) => {
            const run = await rotor(["import", "--stack", "adopted", "--dry-run", "--format", "json", ...args]);
            expect(run.stderr).toBe("");
            expect(run.code).toBe(0);
            return (JSON.parse(run.stdout) as { imported: { displayName: string }[] }).imported.map((a) => a.displayName).sort();
        };
        expect(await names(["--app-id", generated[3]!.application.appId, generated[10]!.application.appId.toUpperCase()])).toEqual(["app-03", "app-10"]);
        expect(await names(["--app-id", `${generated[5]!.application.appId},${generated[6]!.application.appId}`])).toEqual(["app-05", "app-06"]);
        expect(await names(["--filter", "startswith(displayName,'app-01')"])).toEqual(["app-01"]);
        const owner = generated[1]!.application.owners[0]!;
        const owned = generated.filter((g) => g.application.owners.includes(owner)).map((g) => g.application.displayName).sort();
        expect(owned.length).toBeGreaterThan(1);
        expect(owned.length).toBeLessThan(generated.length - 1);
        expect(await names(["--owned-by", owner])).toEqual(owned);
        expect(await names(["--owned-by", owner, "--filter", "startswith(displayName,'app-0')"])).toEqual(owned.filter((name) => name.startsWith("app-0")));
    });

    it("says so when Graph refuses the filter, and writes nothing", async () => {
        const run = await rotor(["import", "--stack", "adopted", "--filter", "startswith(displayName,"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: Microsoft Graph refused the selection \(\w+\): check --filter/);
        expect(fs.readdirSync(run.dir)).toEqual(["Pulumi.yaml"]);
    });

    it("exits 1 naming the permission it needs when the signed-in identity cannot read, and writes nothing", async () => {
        for (const who of [policyReader, applicationReader]) {
            const run = await rotor(["import", "--stack", "adopted"], { credential: who.credential });
            expect(run.code).toBe(1);
            expect(run.stderr).toMatch(/answered 403 Authorization_RequestDenied: rotor import reads with Directory\.Read\.All/);
            expect(run.stdout).toBe("");
            expect(fs.readdirSync(run.dir)).toEqual(["Pulumi.yaml"]);
        }
    });

    it("writes the same file when Graph throttles and fails some requests", async () => {
        const calm = await rotor(["import", "--stack", "adopted"]);
        expect(calm.code).toBe(0);
        // Graph's Retry-After of 2 s: the clients' waits of exactly that long are observed and run at once.
        const real = globalThis.setTimeout;
        let waited = 0;
        const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((handler: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
            if (delay !== 2000) return real(handler, delay, ...args);
            waited++;
            return real(handler, 0, ...args);
        }) as unknown as typeof setTimeout);
        emulator.requests.clear();
        try {
            emulator.setFaults({ throttle: { every: 4, retryAfterSeconds: 2, services: ["graph"] }, serverError: { status: 503, rate: 0.1, seed: 11, retryAfterSeconds: 2, services: ["graph"] } });
            const stormy = await rotor(["import", "--stack", "adopted"]);
            expect(stormy.stderr).toBe("");
            expect(stormy.code).toBe(0);
            expect(emulator.requests.filter({ status: 429 }).length).toBeGreaterThan(5);
            expect(emulator.requests.filter({ status: 429, batched: true }).length).toBeGreaterThan(0);
            expect(emulator.requests.filter({ status: 503 }).length).toBeGreaterThan(0);
            expect(waited).toBeGreaterThan(0);
            expect(fs.readFileSync(stackFile(stormy.dir), "utf8")).toBe(fs.readFileSync(stackFile(calm.dir), "utf8"));
        } finally {
            emulator.clearFaults();
            spy.mockRestore();
        }
    });
});

// --- one page at a time ----------------------------------------------------------------------------------------

describe("readTenant", () => {
    const hex = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

    it("hands every application of a page to onApp before it asks for the next page", async () => {
        const pageSizes = [8, 1, 13];
        let n = 0;
        const pages: GraphApplicationRecord[][] = pageSizes.map((size) =>
            Array.from({ length: size }, () => {
                n++;
                return {
                    id: hex("0a0a0a0a", n),
                    appId: hex("1b1b1b1b", n),
                    displayName: `app-${n}`,
                    keyCredentials: [{ keyId: hex("5e5e5e5e", n), type: "AsymmetricX509Cert", usage: "Verify", key: "TUlJQ2VydGlmaWNhdGVCeXRlcw==" } as never],
                };
            }),
        );
        const owner = hex("3c3c3c3c", 1);
        const answers = new Map<string, unknown>();
        for (const app of pages.flat()) {
            const sp = hex("2c2c2c2c", Number.parseInt(app.id.slice(-12), 16));
            answers.set(importPaths.owners("applications", app.id), { value: [{ id: owner.toUpperCase() }] });
            answers.set(importPaths.servicePrincipalOf(app.appId), { value: [{ id: sp, appId: app.appId }] });
            answers.set(importPaths.federatedCredentials(app.id), { value: [] });
            answers.set(importPaths.owners("servicePrincipals", sp), { value: [{ id: owner }] });
            answers.set(importPaths.appRoleAssignments(sp), { value: [] });
            answers.set(importPaths.delegatedGrants(sp), { value: [] });
        }
        const log: string[] = [];
        let batches = 0;
        const graph = {
            async *importApplicationPages(filter?: string) {
                expect(filter).toBeUndefined();
                for (let p = 0; p < pages.length; p++) {
                    log.push(`page ${p}`);
                    yield pages[p]!;
                }
                log.push("end");
            },
            async batchGet(paths: readonly string[]) {
                // Later batches answer sooner, so the order kept is the reader's, not the network's.
                const delay = 20 - 3 * batches++;
                await new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
                return paths.map((p) => {
                    const body = answers.get(p);
                    if (body === undefined) throw new Error(`unexpected read ${p}`);
                    return { status: 200, body };
                });
            },
            servicePrincipalByAppId: async () => undefined,
            servicePrincipalById: async () => undefined,
            rest: async () => [],
        } as unknown as GraphClient;
        const seen: TenantApp[] = [];
        const summary = await readTenant(
            graph,
            {},
            (app) => {
                log.push(app.application.displayName!);
                seen.push(app);
            },
            { concurrency: 3 },
        );
        const names = (from: number, count: number) => Array.from({ length: count }, (_, i) => `app-${from + i}`);
        expect(log).toEqual(["page 0", ...names(1, 8), "page 1", ...names(9, 1), "page 2", ...names(10, 13), "end"]);
        expect(summary).toEqual({ listed: 22, read: 22 });
        expect(batches).toBeGreaterThanOrEqual(2 * (2 + 1 + 3));
        for (const app of seen) {
            expect(app.owners).toEqual([owner]);
            expect(app.servicePrincipal?.appId).toBe(app.application.appId);
            // A certificate's bytes are dropped as the page arrives.
            expect(app.application.keyCredentials![0]).not.toHaveProperty("key");
        }
    });

    it("skips an application deleted while it is read (404), hands it to onGone, and reads every other one", async () => {
        const apps: GraphApplicationRecord[] = [1, 2, 3].map((i) => ({ id: hex("0a0a0a0a", i), appId: hex("1b1b1b1b", i), displayName: `app-${i}` }));
        const sp = (i: number) => hex("2c2c2c2c", i);
        const notFound = { status: 404, body: { error: { code: "Request_ResourceNotFound", message: "Resource does not exist" } } };
        const graph = {
            async *importApplicationPages() {
                yield apps;
            },
            async batchGet(paths: readonly string[]) {
                return paths.map((p) => {
                    // app-2 was deleted after the page was listed; app-3's service principal after it was read.
                    if (p.includes(apps[1]!.id)) return notFound;
                    if (p === importPaths.owners("servicePrincipals", sp(3))) return notFound;
                    const i = apps.findIndex((a) => p.includes(a.appId)) + 1;
                    if (p.startsWith("/servicePrincipals?")) return { status: 200, body: { value: [{ id: sp(i), appId: apps[i - 1]!.appId }] } };
                    return { status: 200, body: { value: [] } };
                });
            },
            servicePrincipalByAppId: async () => undefined,
            servicePrincipalById: async () => undefined,
        } as unknown as GraphClient;
        const seen: string[] = [];
        const gone: string[] = [];
        const summary = await readTenant(graph, {}, (app) => seen.push(app.application.displayName!), { onGone: (app) => gone.push(app.displayName!) });
        expect(seen).toEqual(["app-1"]);
        expect(gone.sort()).toEqual(["app-2", "app-3"]);
        expect(summary).toEqual({ listed: 3, read: 1 });
    });

    it("keeps only the applications --owned-by owns, counting every one listed", async () => {
        const apps: GraphApplicationRecord[] = [1, 2, 3].map((i) => ({ id: hex("0a0a0a0a", i), appId: hex("1b1b1b1b", i), displayName: `app-${i}` }));
        const mine = hex("3c3c3c3c", 9);
        const graph = {
            async *importApplicationPages() {
                yield apps;
            },
            async batchGet(paths: readonly string[]) {
                return paths.map((p) => ({
                    status: 200,
                    body: { value: p.includes("/owners") ? (p.includes(apps[1]!.id) ? [{ id: mine }] : [{ id: hex("3c3c3c3c", 1) }]) : p.startsWith("/servicePrincipals?") ? [{ id: hex("2c2c2c2c", 1), appId: "x" }] : [] },
                }));
            },
            servicePrincipalByAppId: async () => undefined,
            servicePrincipalById: async () => undefined,
        } as unknown as GraphClient;
        const seen: string[] = [];
        const summary = await readTenant(graph, { ownedBy: mine }, (app) => seen.push(app.application.displayName!));
        expect(seen).toEqual(["app-2"]);
        expect(summary).toEqual({ listed: 3, read: 1 });
    });
});
