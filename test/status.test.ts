import { describe, expect, it } from "vitest";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { appTag, certificateKeyId, passwordDisplayName, stackTag } from "../rotation/identifiers";
import type { GraphApplication, GraphFederatedCredential } from "../azure/graph";
import { assessStatus, type LiveApp, type StatusRow, thresholdsFor, type VaultSecretProperties } from "../cli/live/status";
import { scheduleAt } from "../rotation/schedule";
import { sampleStack } from "./support/program";

/** The live state `pulumi up` at `deployedAt` leaves behind, as Graph and Key Vault would show it. */
function deployed(model: StackModel, deployedAt: Date): { apps: Map<string, LiveApp>; vaultSecrets: Map<string, VaultSecretProperties> } {
    const apps = new Map<string, LiveApp>();
    const vaultSecrets = new Map<string, VaultSecretProperties>();
    for (const app of model.apps) {
        const appId = `0000000${model.apps.indexOf(app)}-0000-4000-8000-000000000000`;
        const application: GraphApplication = {
            id: `obj-${app.name}`,
            appId,
            displayName: app.displayName,
            tags: [stackTag(model.project, model.stack), appTag(model.project, model.stack, app.name)],
            passwordCredentials: [],
            keyCredentials: [],
        };
        const passwords = application.passwordCredentials as GraphApplication["passwordCredentials"][number][];
        const keys = application.keyCredentials as GraphApplication["keyCredentials"][number][];
        for (const credential of app.credentials) {
            const schedule = scheduleAt(deployedAt, credential.policy, credential.phase);
            for (const s of [schedule.served, schedule.previous]) {
                if (credential.type === "secret") {
                    passwords.push({ keyId: `pw-${credential.name}-${s.generation}`, displayName: passwordDisplayName(credential.name, s.slot, s.generation), startDateTime: s.start, endDateTime: s.end, hint: "abc" });
                } else {
                    keys.push({ keyId: certificateKeyId(model.project, model.stack, app.name, credential.name, s.generation), displayName: null, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: s.start, endDateTime: s.end, customKeyIdentifier: null });
                }
            }
            const servedKeyId = credential.type === "secret" ? `pw-${credential.name}-${schedule.served.generation}` : certificateKeyId(model.project, model.stack, app.name, credential.name, schedule.served.generation);
            vaultSecrets.set(credential.keyVaultSecretName.toLowerCase(), {
                name: credential.keyVaultSecretName,
                enabled: true,
                expires: schedule.served.end,
                contentType: "text/plain",
                tags: { keyId: servedKeyId, generation: String(schedule.served.generation), slot: String(schedule.served.slot) },
            });
        }
        for (const file of app.certificateFiles) {
            keys.push({ keyId: `file-${file.name}`, displayName: file.info.subject, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: file.info.notBefore, endDateTime: file.info.notAfter, customKeyIdentifier: Buffer.from(file.info.thumbprint, "hex").toString("base64") });
        }
        const federated: GraphFederatedCredential[] = app.federatedCredentials.map((f) => ({ id: `fic-${f.name}`, name: f.name, issuer: f.issuer, subject: f.subject, audiences: [f.audience] }));
        apps.set(app.name, { application, federated });
    }
    return { apps, vaultSecrets };
}

const now = new Date("2027-03-01T06:00:00Z");
const model = buildModelOrThrow(sampleStack(), now);
const problems = (rows: readonly StatusRow[]) => rows.filter((r) => r.status !== "ok").map((r) => `${r.app}/${r.credential}: ${r.status}`);

describe("rotor status: the live state held against the stack", () => {
    it("finds nothing to do right after a deployment: every credential ok, exit 0", () => {
        const report = assessStatus(model, deployed(model, now), now);
        expect(problems(report.rows)).toEqual([]);
        expect(report.exitCode).toBe(0);
        const served = report.rows.filter((r) => r.served);
        expect(served.map((r) => `${r.app}/${r.credential}`)).toEqual(["mail-sender/main", "device-inventory/importer", "calendar-sync/web"]);
        // Two slots per rotating credential, a certificate file, a federated credential.
        expect(report.rows.filter((r) => r.owner === "stack" && r.kind !== "federated")).toHaveLength(6);
        expect(report.rows.find((r) => r.owner === "file")).toMatchObject({ credential: "partner", status: "ok", daysLeft: 304 });
        expect(report.thresholds).toEqual([30, 14, 7]);
    });

    it("calls a rotation overdue when Key Vault still serves a replaced generation after a day's grace", () => {
        // The importer rotates every 30 days: deployed 40 days ago, nothing since.
        const stale = deployed(model, new Date("2027-01-20T06:00:00Z"));
        const report = assessStatus(model, stale, now);
        const importer = report.rows.find((r) => r.credential === "importer" && r.served)!;
        expect(importer.status).toBe("overdue");
        expect(importer.message).toMatch(/^generation \d+ was due 2027-02-04 and Key Vault still serves \d+: the pipeline has not run since; run pulumi up$/);
        expect(report.exitCode).toBe(2);
    });

    it("measures overdue from the served generation's successor, so an outage longer than a period is not hidden", () => {
        // The importer (R = 30): deployed 2027-03-01 serving generation 37. On 2027-04-05 at 06:00 generation 39
        // started six hours ago (inside the grace), but 38 was due 2027-03-06, thirty days ago.
        const live = deployed(model, now);
        const late = new Date("2027-04-05T06:00:00Z");
        const importer = assessStatus(model, live, late).rows.find((r) => r.credential === "importer" && r.served)!;
        expect(importer).toMatchObject({ generation: 37, status: "overdue" });
        expect(importer.message).toBe("generation 38 was due 2027-03-06 and Key Vault still serves 37: the pipeline has not run since; run pulumi up");
        // Inside the grace of the successor, it is not overdue yet.
        expect(assessStatus(model, live, new Date("2027-03-06T12:00:00Z")).rows.find((r) => r.credential === "importer" && r.served)!.status).not.toBe("overdue");
    });

    it("says a run made the new generation but did not serve it, when the application already holds it", () => {
        const live = deployed(model, now);
        const app = live.apps.get("device-inventory")!;
        const passwords = app.application.passwordCredentials as GraphApplication["passwordCredentials"][number][];
        // A run on 2027-03-06 replaced slot 0 with generation 38, and its proof failed: Key Vault still serves 37.
        const index = passwords.findIndex((p) => p.displayName === passwordDisplayName("importer", 0, 36));
        passwords[index] = { keyId: "pw-importer-38", displayName: passwordDisplayName("importer", 0, 38), startDateTime: "2027-03-06T06:00:00Z", endDateTime: "2027-06-04T00:00:00Z", hint: "abc" };
        const importer = assessStatus(model, live, new Date("2027-03-08T06:00:00Z")).rows.find((r) => r.credential === "importer" && r.served)!;
        expect(importer.status).toBe("overdue");
        expect(importer.message).toMatch(/^the application already has generation 38, but Key Vault still serves 37 \(generation 38 was due 2027-03-06\): a run created it and stopped before serving it/);
        expect(importer.message).not.toContain("has not run");
    });

    it("calls the served value expired or expiring by the thresholds, and --within widens them", () => {
        // A year without runs: everything the vault serves has expired.
        const report = assessStatus(model, deployed(model, new Date("2026-03-01T06:00:00Z")), now);
        expect(report.rows.filter((r) => r.served).map((r) => r.status)).toEqual(["expired", "expired", "expired"]);
        const fresh = deployed(model, now);
        expect(assessStatus(model, fresh, now, { withinDays: 70 }).rows.find((r) => r.credential === "importer" && r.served)).toMatchObject({ status: "expiring", daysLeft: 64 });
        expect(thresholdsFor(10)).toEqual([10, 7]);
    });

    it("calls Key Vault stale when it serves a key the app no longer has, or lacks the secret", () => {
        const live = deployed(model, now);
        const main = live.vaultSecrets.get("mail-sender-main")!;
        live.vaultSecrets.set("mail-sender-main", { ...main, tags: { ...main.tags, keyId: "deleted-key" } });
        live.vaultSecrets.delete("device-inventory-importer");
        const report = assessStatus(model, live, now);
        expect(problems(report.rows)).toEqual(["mail-sender/main: stale", "device-inventory/importer: stale"]);
        expect(report.rows.find((r) => r.status === "stale" && r.app === "mail-sender")!.message).toContain("Key Vault serves key deleted-key, which the application no longer has");
    });

    it("reports credentials added in the portal as unmanaged, and alerts only as they near expiry", () => {
        const live = deployed(model, now);
        const app = live.apps.get("mail-sender")!;
        const portal = { keyId: "portal-1", displayName: "added by Bob", startDateTime: "2026-06-01T00:00:00Z", endDateTime: "2028-06-01T00:00:00Z", hint: "Xy~" };
        const old = { ...portal, keyId: "portal-2", displayName: null, endDateTime: "2027-03-10T00:00:00Z" };
        live.apps.set("mail-sender", { ...app, application: { ...app.application, passwordCredentials: [...app.application.passwordCredentials, portal, old] } });
        const report = assessStatus(model, live, now);
        expect(report.rows.find((r) => r.keyId === "portal-1")).toMatchObject({ owner: "unmanaged", status: "unmanaged", credential: "added by Bob" });
        expect(report.rows.find((r) => r.keyId === "portal-2")).toMatchObject({ owner: "unmanaged", status: "expiring", credential: "portal-2", daysLeft: 8 });
        expect(report.exitCode).toBe(2);
    });

    it("reports a missing application, a changed federated credential and one added by hand", () => {
        const live = deployed(model, now);
        live.apps.delete("calendar-sync");
        const ci = live.apps.get("ci-deployer")!;
        live.apps.set("ci-deployer", {
            ...ci,
            federated: [
                { ...ci.federated[0]!, subject: "repo:contoso/identity:ref:refs/heads/main" },
                ...ci.federated.slice(1),
                { id: "fic-x", name: "laptop", issuer: "https://token.actions.githubusercontent.com", subject: "repo:someone/fork:pull_request", audiences: ["api://AzureADTokenExchange"] },
            ],
        });
        const report = assessStatus(model, live, now);
        expect(problems(report.rows)).toEqual(["calendar-sync/(application): missing", "ci-deployer/github-production: missing", "ci-deployer/laptop: unmanaged"]);
    });

    it("lists, with --all-apps, only the other applications' credentials that need attention", () => {
        const live = deployed(model, now);
        const other = (i: number, end: string): GraphApplication => ({
            id: `o${i}`,
            appId: `a${i}`,
            displayName: `Legacy ${i}`,
            passwordCredentials: [{ keyId: `k${i}`, displayName: null, startDateTime: "2025-01-01T00:00:00Z", endDateTime: end, hint: null }],
            keyCredentials: [],
        });
        const tenantApps = [...[...live.apps.values()].map((a) => a.application), other(1, "2027-03-05T00:00:00Z"), other(2, "2029-01-01T00:00:00Z"), other(3, "2026-01-01T00:00:00Z")];
        const report = assessStatus(model, { ...live, tenantApps }, now);
        expect(report.applicationsScanned).toBe(8);
        expect(report.rows.filter((r) => r.owner === "tenant").map((r) => `${r.app}: ${r.status}`)).toEqual(["Legacy 1: expiring", "Legacy 3: expired"]);
    });

    it("is a pure function: the same live state and instant give the same report", () => {
        expect(assessStatus(model, deployed(model, now), now)).toEqual(assessStatus(model, deployed(model, now), now));
    });
});
