import { describe, expect, it } from "vitest";
import { formatHours, manualRotateEveryDays, windowDaysFor } from "../infra/model/consumers";
import { manualDefaults, type RotationSettings } from "../infra/model/credentials";
import { buildModel } from "../infra/model/model";

/**
 * Consumers in the model: each kind's rules, the pickup window checked against every consumer's refresh, and the
 * longer default window of a credential a person hands on by hand.
 */

const now = new Date("2027-03-01T06:00:00Z");
const keyVault = { name: "kv-contoso-identity", resourceGroup: "rg-identity" };

function plan(credential: Record<string, unknown>, rotation?: Record<string, unknown>) {
    const values = { apps: [{ name: "mail-sender", credentials: [{ name: "main", type: "secret", ...credential }] }], keyVault, ...(rotation ? { rotation } : {}) };
    const result = buildModel({ project: "entra-rotor", stack: "dev", values, source: "t" }, now);
    const errors = result.issues.filter((i) => i.severity === "error");
    const credentialModel = result.model?.apps[0]!.credentials[0];
    return { errors, credential: credentialModel };
}

const zendesk = { name: "Zendesk", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" };

describe("consumers of a credential", () => {
    it("takes each kind with its refresh: declared, or the platform's", () => {
        const { errors, credential } = plan({
            consumers: [
                { name: "mail-relay", reads: "keyVault", refreshHours: 24 },
                { name: "web", reads: "appServiceReference" },
                { name: "aks-importer", reads: "csiDriver" },
                { name: "aks-env", reads: "csiDriver", refreshHours: 168 },
                zendesk,
            ],
        });
        expect(errors).toEqual([]);
        expect(credential!.consumers.map((c) => [c.name, c.reads, c.refreshHours, c.refreshDeclared, c.windowDays])).toEqual([
            ["mail-relay", "keyVault", 24, true, 2],
            ["web", "appServiceReference", 24, false, 2],
            ["aks-importer", "csiDriver", 2 / 60, false, 2],
            ["aks-env", "csiDriver", 168, true, 8],
            ["Zendesk", "manual", 336, false, 15],
        ]);
        expect(credential!.consumers[4]).toMatchObject({ owner: "@octocat", githubLogin: "octocat", instructions: "https://wiki.contoso.com/zendesk-secret", path: "apps[0].credentials[0].consumers[4]" });
    });

    it("refuses a window shorter than a consumer needs, naming the consumer and the window", () => {
        const { errors } = plan({ rotateEveryDays: 30, lifetimeDays: 67, consumers: [{ name: "nightly-batch", reads: "keyVault", refreshHours: 30 * 24 }, { name: "web", reads: "appServiceReference" }] });
        expect(errors).toEqual([
            {
                severity: "error",
                path: "apps[0].credentials[0].consumers[0]",
                message:
                    "nightly-batch (keyVault) takes up to 30 days to use a new value, so the pickup window must be at least 31 days (its refresh and a day's margin for a late pipeline), but the credential rotates every 30 days: raise rotateEveryDays to at least 31 (lifetimeDays to at least 69), or make nightly-batch read more often",
            },
        ]);
        // Exactly at the boundary: refresh plus a day fits.
        expect(plan({ rotateEveryDays: 31, lifetimeDays: 69, consumers: [{ name: "nightly-batch", reads: "keyVault", refreshHours: 30 * 24 }] }).errors).toEqual([]);
    });

    it("asks each kind for what it needs, all at once", () => {
        const { errors } = plan({
            consumers: [
                { name: "relay", reads: "keyVault" },
                { name: "Vendor", reads: "manual" },
                { name: "web", reads: "appServiceReference", refreshHours: 1 },
                { name: "relay", reads: "csiDriver" },
                { name: "Other", reads: "manual", owner: "ops\u202e@contoso.com", instructions: "http://wiki.contoso.com/x" },
                { name: "Third", reads: "manual", owner: "ops", instructions: "https://user:pw@wiki.contoso.com/x" },
                { name: "bad", reads: "email" },
            ],
        });
        // The stack-wide check of raw input reports the control character first, before the schema runs.
        expect(errors.map((e) => e.path)).toEqual([
            "apps[0].credentials[0].consumers[4].owner",
            "apps[0].credentials[0].consumers[0].refreshHours",
            "apps[0].credentials[0].consumers[1].owner",
            "apps[0].credentials[0].consumers[1].instructions",
            "apps[0].credentials[0].consumers[2].refreshHours",
            "apps[0].credentials[0].consumers[3].name",
            "apps[0].credentials[0].consumers[4].instructions",
            "apps[0].credentials[0].consumers[5].instructions",
            "apps[0].credentials[0].consumers[6].reads",
        ]);
        expect(errors.find((e) => e.path.endsWith("[2].refreshHours"))!.message).toContain("every 24 hours");
        expect(errors.find((e) => e.path.endsWith("[3].name"))!.message).toContain('"relay" is listed twice');
        // The refused owner is never echoed with its control character.
        for (const e of errors) expect(e.message).not.toContain("\u202e");
    });

    it("is not for a brought certificate: the stack does not serve it", () => {
        const values = { apps: [{ name: "partner", credentials: [{ name: "cert", type: "certificate", file: "certs/device-inventory-partner.cer", consumers: [zendesk] }] }] };
        const result = buildModel({ project: "entra-rotor", stack: "dev", values, source: "t", baseDir: `${__dirname}/..` }, now);
        expect(result.issues.filter((i) => i.severity === "error").map((i) => i.path)).toContain("apps[0].credentials[0].consumers");
    });
});

describe("the pickup window of a credential a person hands on", () => {
    it(`defaults to ${manualRotateEveryDays} days and a lifetime of two periods and a month, unless the credential says otherwise`, () => {
        expect(plan({ consumers: [zendesk] }).credential!.policy).toMatchObject({ rotateEveryDays: 180, lifetimeDays: 390 });
        expect(plan({ consumers: [{ name: "relay", reads: "keyVault", refreshHours: 1 }] }).credential!.policy).toMatchObject({ rotateEveryDays: 90, lifetimeDays: 210 });
        expect(plan({ rotateEveryDays: 60, lifetimeDays: 127, consumers: [zendesk] }).credential!.policy).toMatchObject({ rotateEveryDays: 60, lifetimeDays: 127 });
        // A stack default longer than 180 days wins.
        expect(plan({ consumers: [zendesk] }, { rotateEveryDays: 200, lifetimeDays: 500 }).credential!.policy).toMatchObject({ rotateEveryDays: 200, lifetimeDays: 500 });
    });

    it("fits the tenant's cap on lifetimes", () => {
        const settings = (maxLifetimeDays: number): RotationSettings => ({ maxLifetimeDays, raw: {} }) as unknown as RotationSettings;
        expect(manualDefaults(settings(730))).toEqual({ rotateEveryDays: 180, lifetimeDays: 390 });
        expect(manualDefaults(settings(365))).toEqual({ rotateEveryDays: 167, lifetimeDays: 364 });
        expect(manualDefaults(settings(180))).toEqual({ rotateEveryDays: 75, lifetimeDays: 180 });
        expect(plan({ consumers: [zendesk] }, { maxLifetimeDays: 365 }).credential!.policy).toMatchObject({ rotateEveryDays: 167, lifetimeDays: 364 });
    });
});

describe("windows and hours", () => {
    it("needs the refresh and a day, rounded up to whole days", () => {
        expect(windowDaysFor(2 / 60)).toBe(2);
        expect(windowDaysFor(24)).toBe(2);
        expect(windowDaysFor(25)).toBe(3);
        expect(windowDaysFor(336)).toBe(15);
    });

    it("prints hours as a person reads them", () => {
        expect(formatHours(2 / 60)).toBe("2 minutes");
        expect(formatHours(1)).toBe("1 hour");
        expect(formatHours(24)).toBe("24 hours");
        expect(formatHours(336)).toBe("14 days");
    });
});
