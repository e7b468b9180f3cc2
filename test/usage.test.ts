import { describe, expect, it } from "vitest";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { appTag, certificateKeyId, passwordDisplayName, stackTag } from "../rotation/identifiers";
import { scheduleAt } from "../rotation/schedule";
import { GraphError, type GraphApplication } from "../azure/graph";
import { assessStatus, type LiveApp, type LiveState, type StatusReport, type StatusRow, type VaultSecretProperties } from "../cli/live/status";
import { ago, applyUsage, graphInstant, type UsageEvidence } from "../cli/live/usage";
import { classifyUsageFailure } from "../cli/live/usageEvidence";
import { renderStatus } from "../cli/live/renderStatus";
import { sampleStack } from "./support/program";

/**
 * The rules of `rotor status --usage` on plain data, with the instant injected: which value consumers still
 * use as it is about to be replaced, which served value nobody picked up, and what missing evidence changes
 * (nothing but a note).
 */

const now = new Date("2027-03-01T06:00:00Z");
const model = buildModelOrThrow(sampleStack(), now);
const hour = 3_600_000;
const day = 24 * hour;
const before = (ms: number) => new Date(now.getTime() - ms).toISOString();

/** The state `pulumi up` at `at` leaves: both slots of each rotating credential, Key Vault serving the newest. */
function deployed(stack: StackModel, at: Date = now): LiveState {
    const apps = new Map<string, LiveApp>();
    const vaultSecrets = new Map<string, VaultSecretProperties>();
    stack.apps.forEach((app, index) => {
        const passwordCredentials: GraphApplication["passwordCredentials"][number][] = [];
        const keyCredentials: GraphApplication["keyCredentials"][number][] = [];
        for (const credential of app.credentials) {
            const schedule = scheduleAt(at, credential.policy, credential.phase);
            for (const s of [schedule.served, schedule.previous]) {
                if (credential.type === "secret") passwordCredentials.push({ keyId: keyIdOf(app.name, credential.name, s.generation), displayName: passwordDisplayName(credential.name, s.slot, s.generation), startDateTime: s.start, endDateTime: s.end, hint: "abc" });
                else keyCredentials.push({ keyId: keyIdOf(app.name, credential.name, s.generation), displayName: null, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: s.start, endDateTime: s.end, customKeyIdentifier: null });
            }
            vaultSecrets.set(credential.keyVaultSecretName.toLowerCase(), {
                name: credential.keyVaultSecretName,
                enabled: true,
                expires: schedule.served.end,
                contentType: null,
                tags: { keyId: keyIdOf(app.name, credential.name, schedule.served.generation), generation: String(schedule.served.generation) },
            });
        }
        for (const file of app.certificateFiles) {
            keyCredentials.push({ keyId: `f11e0000-0000-4000-8000-00000000000${index}`, displayName: file.info.subject, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: file.info.notBefore, endDateTime: file.info.notAfter, customKeyIdentifier: Buffer.from(file.info.thumbprint, "hex").toString("base64") });
        }
        const application: GraphApplication = { id: `obj-${app.name}`, appId: appIdOf(index), displayName: app.displayName, tags: [stackTag(stack.project, stack.stack), appTag(stack.project, stack.stack, app.name)], passwordCredentials, keyCredentials };
        apps.set(app.name, { application, federated: app.federatedCredentials.map((f) => ({ id: f.name, name: f.name, issuer: f.issuer, subject: f.subject, audiences: [f.audience] })) });
    });
    return { apps, vaultSecrets };
}

const appIdOf = (index: number) => `0000000${index}-0000-4000-8000-00000000000${index}`;
const appIdByName = (name: string) => appIdOf(model.apps.findIndex((a) => a.name === name));

/** Secrets get made-up key ids; certificates the deterministic ones the program gives them. */
function keyIdOf(app: string, credential: string, generation: number): string {
    const declared = model.apps.find((a) => a.name === app)!.credentials.find((c) => c.name === credential)!;
    return declared.type === "certificate" ? certificateKeyId(model.project, model.stack, app, credential, generation) : `5ec0${generation.toString(16).padStart(4, "0")}-0000-4000-8000-${app.length.toString(16).padStart(4, "0")}${credential.length.toString(16).padStart(8, "0")}`;
}

/** Evidence from the credential report: `[app, credential, generation, last sign-in]`. */
function evidence(signIns: readonly (readonly [string, string, number, string])[], overrides: Partial<UsageEvidence> = {}): UsageEvidence {
    const lastSignIns = new Map<string, Map<string, string>>();
    for (const [app, credential, generation, at] of signIns) {
        const appId = appIdByName(app);
        if (!lastSignIns.has(appId)) lastSignIns.set(appId, new Map());
        lastSignIns.get(appId)!.set(keyIdOf(app, credential, generation).toLowerCase(), at);
    }
    return { source: "appCredentialSignInActivities", lastSignIns, since: null, unavailable: null, notes: [], ...overrides };
}

function withUsage(usage: UsageEvidence, options: { usedWithinDays?: number; withinDays?: number; at?: Date } = {}): StatusReport {
    const at = options.at ?? now;
    const live = deployed(model);
    return applyUsage(model, assessStatus(model, live, at, options.withinDays ? { withinDays: options.withinDays } : {}), live, usage, at, { usedWithinDays: options.usedWithinDays ?? 7, withinDays: options.withinDays ?? 30 });
}

const row = (report: StatusReport, credential: string, generation: number) => report.rows.find((r) => r.credential === credential && r.generation === generation)!;
const flagged = (report: StatusReport) => report.rows.filter((r: StatusRow) => r.status !== "ok").map((r) => `${r.app}/${r.credential} g${r.generation}: ${r.status}`);

describe("rotor status --usage: the rules", () => {
    it("flags a value that is replaced within --within days and was used within --used-within days, and exits 2", () => {
        // The importer (R = 30) serves generation 37; generation 36's slot is replaced on 2027-03-06.
        const report = withUsage(evidence([["device-inventory", "importer", 36, before(2 * hour)], ["device-inventory", "importer", 37, before(hour)]]));
        expect(flagged(report)).toEqual(["device-inventory/importer g36: still-used"]);
        expect(row(report, "importer", 36).message).toBe(
            "consumers still use generation 36 (last sign-in 2 h ago); it is replaced on 2027-03-06: make them read generation 37 from Key Vault (device-inventory-importer) before then",
        );
        expect(row(report, "importer", 36).usage).toEqual({ lastSignIn: before(2 * hour), replacedOn: "2027-03-06T00:00:00Z" });
        expect(row(report, "importer", 37).usage).toEqual({ lastSignIn: before(hour), replacedOn: "2027-04-05T00:00:00Z" });
        expect(report.counts["still-used"]).toBe(1);
        expect(report.exitCode).toBe(2);
    });

    it("leaves a retiring value alone when its last use is older than --used-within, or its replacement beyond --within", () => {
        const eightDays = evidence([["device-inventory", "importer", 36, before(8 * day)], ["device-inventory", "importer", 37, before(hour)]]);
        expect(flagged(withUsage(eightDays))).toEqual([]);
        expect(withUsage(eightDays).exitCode).toBe(0);
        expect(flagged(withUsage(eightDays, { usedWithinDays: 10 }))).toEqual(["device-inventory/importer g36: still-used"]);
        // Replaced in 4 days 18 hours: outside --within 3, inside --within 5.
        const recent = evidence([["device-inventory", "importer", 36, before(hour)], ["device-inventory", "importer", 37, before(hour)]]);
        expect(flagged(withUsage(recent, { withinDays: 3 }))).toEqual([]);
        expect(flagged(withUsage(recent, { withinDays: 5 }))).toEqual(["device-inventory/importer g36: still-used"]);
        // mail-sender's previous value is replaced in 42 days: in use, but not about to be retired.
        expect(flagged(withUsage(evidence([["mail-sender", "main", 11, before(hour)], ["mail-sender", "main", 12, before(hour)]])))).toEqual([]);
    });

    it("matches certificates by the key id the program derives from the generation", () => {
        // calendar-sync/web's generation 11 is replaced on 2027-03-20.
        const report = withUsage(evidence([["calendar-sync", "web", 11, before(30 * 60_000)], ["calendar-sync", "web", 12, before(hour)]]));
        expect(flagged(report)).toEqual(["calendar-sync/web g11: still-used"]);
        expect(row(report, "web", 11).message).toMatch(/^consumers still use generation 11 \(last sign-in 30 min ago\); it is replaced on 2027-03-20: make them read generation 12 from Key Vault \(calendar-sync-web\)/);
    });

    it("flags a served value nobody has used since it was served while the previous one is still used", () => {
        // mail-sender serves generation 12 since 2027-01-12; generation 11 (replaced 2027-04-12, beyond --within) is still used.
        const report = withUsage(evidence([["mail-sender", "main", 11, before(3 * hour)]]));
        expect(flagged(report)).toEqual(["mail-sender/main g12: not-picked-up"]);
        expect(row(report, "main", 12).message).toBe(
            "nobody has signed in with generation 12 since it was served on 2027-01-12, while generation 11 was used 3 h ago: consumers have not picked up the new value from Key Vault (mail-sender-main); generation 11 is replaced on 2027-04-12",
        );
        expect(report.exitCode).toBe(2);
        // A sign-in with the served value since it was served: picked up (by someone).
        expect(flagged(withUsage(evidence([["mail-sender", "main", 11, before(3 * hour)], ["mail-sender", "main", 12, before(5 * day)]])))).toEqual([]);
        // Nobody uses either: nothing to flag, and the evidence says it recorded nothing.
        expect(flagged(withUsage(evidence([])))).toEqual([]);
        expect(withUsage(evidence([])).usage!.notes).toEqual(["Entra recorded no sign-in with any credential of the stack's applications"]);
    });

    it("gives consumers a day after a value is served before calling it not picked up", () => {
        // The importer's generation 37 is served from 2027-02-04; ten hours later consumers still use 36.
        const at = new Date("2027-02-04T10:00:00Z");
        const early = (previousAt: string) => {
            const live = deployed(model, at);
            const usage = evidence([["device-inventory", "importer", 36, previousAt]]);
            return applyUsage(model, assessStatus(model, live, at), live, usage, at, { usedWithinDays: 7, withinDays: 30 });
        };
        expect(flagged(early("2027-02-04T09:00:00Z"))).toEqual([]);
        // Two days on, still only generation 36: both flagged (36 is replaced on 2027-03-06, inside --within 30).
        const later = new Date("2027-02-06T10:00:00Z");
        const live = deployed(model, later);
        const report = applyUsage(model, assessStatus(model, live, later), live, evidence([["device-inventory", "importer", 36, "2027-02-06T09:00:00Z"]]), later, { usedWithinDays: 7, withinDays: 30 });
        expect(flagged(report)).toEqual(["device-inventory/importer g37: not-picked-up", "device-inventory/importer g36: still-used"]);
    });

    it("says what the sign-in log covered when it was read back less far than the value has been served", () => {
        const report = withUsage(evidence([["mail-sender", "main", 11, before(3 * hour)]], { source: "signIns", since: before(7 * day) }));
        expect(row(report, "main", 12).message).toMatch(/^nobody has signed in with generation 12 in the last 7 days \(served since 2027-01-12\), while generation 11 was used 3 h ago/);
        expect(report.usage).toMatchObject({ source: "signIns", since: before(7 * day), usedWithinDays: 7, replacedWithinDays: 30 });
    });

    it("puts a usage flag before expiry, saying both", () => {
        // With --within 50 the importer's generation 36 (expires 2027-04-05) is expiring and replaced in 5 days.
        const report = withUsage(evidence([["device-inventory", "importer", 36, before(hour)], ["device-inventory", "importer", 37, before(hour)]]), { withinDays: 50 });
        expect(row(report, "importer", 36).status).toBe("still-used");
        expect(row(report, "importer", 36).message).toMatch(/before then; expires in 34 days \(2027-04-05\)$/);
    });

    it("changes nothing but the notes when there is no evidence: no licence, no permission", () => {
        const live = deployed(model);
        const plain = assessStatus(model, live, now);
        for (const unavailable of [
            { reason: "licence", missing: "Microsoft Entra ID P1 or P2", detail: "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" },
            { reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" },
        ] as const) {
            const report = applyUsage(model, plain, live, { source: null, lastSignIns: new Map(), since: null, unavailable, notes: [] }, now, { usedWithinDays: 7, withinDays: 30 });
            expect(report.rows.map((r) => r.status)).toEqual(plain.rows.map((r) => r.status));
            expect(report.exitCode).toBe(plain.exitCode);
            expect(report.usage!.unavailable).toEqual(unavailable);
            expect(report.rows.filter((r) => r.usage).every((r) => r.usage!.lastSignIn === null)).toBe(true);
            const table = renderStatus(report, "table");
            expect(table).toContain(unavailable.reason === "licence" ? "Usage: no evidence, no licence: the tenant has no Microsoft Entra ID P1 or P2" : "Usage: no evidence, missing permission AuditLog.Read.All: grant it to the identity that runs rotor status");
            expect(table).toContain("The exit code does not depend on it.");
        }
    });

    it("adds last sign-ins to the table and the JSON, and states the evidence's limits", () => {
        const report = withUsage(evidence([["device-inventory", "importer", 36, before(2 * hour)], ["device-inventory", "importer", 37, before(hour)]]));
        const table = renderStatus(report, "table");
        expect(table.split("\n")[0]).toBe("entra-rotor / dev at 2027-03-01T06:00:00Z: 5 applications read, 1 still-used (thresholds 30/14/7 days)");
        expect(table).toMatch(/STATUS\s+APP\s+CREDENTIAL\s+KIND\s+OWNER\s+SLOT\s+EXPIRES\s+DAYS LEFT\s+LAST SIGN-IN\s+NOTE/);
        expect(table.split("\n")[3]).toMatch(/^ {2}still-used\s+device-inventory\s+importer\s+secret\s+stack\s+slot 0 g36\s+2027-04-05\s+34\s+2 h ago\s+consumers still use generation 36/);
        expect(table).toContain("Limits: a sign-in proves use; no sign-in proves nothing beyond what Entra keeps (7 days free, 30 days with Entra ID P1/P2)");
        const json = JSON.parse(renderStatus(report, "json")) as StatusReport;
        expect(json.usage).toEqual({ source: "appCredentialSignInActivities", usedWithinDays: 7, replacedWithinDays: 30, since: null, unavailable: null, notes: [] });
        expect(json.rows.find((r) => r.kind === "federated")!.usage).toBeUndefined();
        expect(renderStatus(report, "markdown")).toContain("| Status | App | Credential | Kind | Owner | Slot | Expires | Days left | Last sign-in | Note |");
        // Without --usage, neither the column nor the fields.
        expect(renderStatus(assessStatus(model, deployed(model), now), "table")).not.toContain("LAST SIGN-IN");
    });

    it("is a pure function of the live state, the evidence and the instant", () => {
        const usage = evidence([["mail-sender", "main", 11, before(3 * hour)]]);
        expect(withUsage(usage)).toEqual(withUsage(usage));
    });
});

describe("usage evidence: reading Graph's answers", () => {
    it("names the licence or the permission a refusal means, and falls back when the report is not served", () => {
        expect(classifyUsageFailure(new GraphError(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license"))).toEqual({
            reason: "licence",
            missing: "Microsoft Entra ID P1 or P2",
            detail: "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        });
        expect(classifyUsageFailure(new GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))).toEqual({ reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" });
        expect(classifyUsageFailure(new GraphError(404, "NotFound", ""))).toBe("notServed");
        expect(classifyUsageFailure(new GraphError(400, "BadRequest", "Resource not found for the segment 'appCredentialSignInActivities'."))).toBe("notServed");
        expect(classifyUsageFailure(new GraphError(503, "serviceNotAvailable", ""))).toEqual({ reason: "error", missing: null, detail: "503 serviceNotAvailable" });
    });

    it("reads Graph's instants, including the report's own examples' offsets", () => {
        expect(graphInstant("2021-03-18T00:00:00-8:00")).toBe("2021-03-18T08:00:00Z");
        expect(graphInstant("2027-02-28T23:59:59.1234567Z")).toBe("2027-02-28T23:59:59Z");
        expect(graphInstant(null)).toBeUndefined();
        expect(graphInstant("yesterday")).toBeUndefined();
        expect(ago("2027-03-01T05:59:30Z", now)).toBe("just now");
        expect(ago("2027-03-01T05:25:00Z", now)).toBe("35 min ago");
        expect(ago("2027-02-27T07:00:00Z", now)).toBe("47 h ago");
        expect(ago("2027-02-20T06:00:00Z", now)).toBe("9 days ago");
    });
});
