import { describe, expect, it } from "vitest";
import type { GraphApplication } from "../azure/graph";
import { assessStatus, type LiveState, type StatusRow } from "../cli/live/status";
import { buildModelOrThrow } from "../infra/model/model";

/**
 * `rotor status` calls a rotation overdue when Key Vault still serves a generation whose successor was due more
 * than the grace ago: 24 hours by default (docs/commands.md: "for more than a day"), `graceHours` otherwise. The
 * boundary is tested on both sides, to the second, with instants and identifiers worked out by hand and a live
 * state written out literally (no product function builds it).
 */

const model = buildModelOrThrow(
    {
        project: "entra-rotor",
        stack: "dev",
        source: "Pulumi.dev.yaml",
        values: {
            keyVault: { name: "kv-contoso-identity", resourceGroup: "rg-identity" },
            apps: [
                { name: "device-inventory", credentials: [{ name: "importer", type: "secret", rotateEveryDays: 30, lifetimeDays: 90 }] },
                { name: "calendar-sync", credentials: [{ name: "web", type: "certificate" }] },
            ],
        },
    },
    new Date("2027-03-01T06:00:00Z"),
);

/**
 * What `pulumi up` on 2027-03-01 left (windows derived in golden.schedule.test.ts):
 * - device-inventory/importer (R 30, L 90, phase 20): generation 37 in slot 1 (2027-02-04 to 2027-05-05), served;
 *   36 in slot 0 (2027-01-05 to 2027-04-05). Generation 38 is due 2027-02-04 + 30 days = 2027-03-06T00:00:00Z.
 * - calendar-sync/web (R 90, L 210, phase 4): generation 12 in slot 0 (2026-12-20 to 2027-07-18), served; 11 in
 *   slot 1 (2026-09-21 to 2027-04-19). Generation 13 is due 2026-12-20 + 90 days = 2027-03-20T00:00:00Z. Key ids
 *   are the golden ones of golden.identifiers.test.ts.
 */
function deployedOn20270301(): LiveState {
    const importer: GraphApplication = {
        id: "obj-device-inventory",
        appId: "00000001-0000-4000-8000-000000000000",
        displayName: "device-inventory",
        tags: ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/device-inventory"],
        passwordCredentials: [
            { keyId: "pw-36", displayName: "importer slot 0 generation 36", startDateTime: "2027-01-05T06:00:00Z", endDateTime: "2027-04-05T00:00:00Z", hint: "abc" },
            { keyId: "pw-37", displayName: "importer slot 1 generation 37", startDateTime: "2027-02-04T06:00:00Z", endDateTime: "2027-05-05T00:00:00Z", hint: "def" },
        ],
        keyCredentials: [],
    };
    const web: GraphApplication = {
        id: "obj-calendar-sync",
        appId: "00000002-0000-4000-8000-000000000000",
        displayName: "calendar-sync",
        tags: ["entra-rotor:entra-rotor/dev", "entra-rotor:entra-rotor/dev/calendar-sync"],
        passwordCredentials: [],
        keyCredentials: [
            { keyId: "73136964-62f7-8142-94cf-25d6cd6b8b36", displayName: "CN=web", type: "AsymmetricX509Cert", usage: "Verify", startDateTime: "2026-12-20T06:00:00Z", endDateTime: "2027-07-18T00:00:00Z", customKeyIdentifier: null },
            { keyId: "1369b67d-a0e2-8465-8623-72ca63420e2c", displayName: "CN=web", type: "AsymmetricX509Cert", usage: "Verify", startDateTime: "2026-09-21T06:00:00Z", endDateTime: "2027-04-19T00:00:00Z", customKeyIdentifier: null },
        ],
    };
    return {
        apps: new Map([
            ["device-inventory", { application: importer, federated: [] }],
            ["calendar-sync", { application: web, federated: [] }],
        ]),
        vaultSecrets: new Map([
            ["device-inventory-importer", { name: "device-inventory-importer", enabled: true, expires: "2027-05-05T00:00:00Z", contentType: "text/plain", tags: { keyId: "pw-37", slot: "1", generation: "37" } }],
            ["calendar-sync-web", { name: "calendar-sync-web", enabled: true, expires: "2027-07-18T00:00:00Z", contentType: "application/x-pem-file", tags: { keyId: "73136964-62f7-8142-94cf-25d6cd6b8b36", slot: "0", generation: "12" } }],
        ]),
    };
}

const servedRow = (at: string, credential: string, graceHours?: number): StatusRow =>
    assessStatus(model, deployedOn20270301(), new Date(at), graceHours === undefined ? {} : { graceHours }).rows.find((r) => r.credential === credential && r.served)!;

describe("rotor status: the overdue grace, to the second", () => {
    it("recognises the deployed secret and certificate by their display names and golden key ids", () => {
        const rows = assessStatus(model, deployedOn20270301(), new Date("2027-03-01T06:00:00Z")).rows;
        expect(rows.map((r) => [r.credential, r.keyId, r.slot, r.generation, r.served, r.status])).toEqual([
            ["importer", "pw-37", 1, 37, true, "ok"],
            ["importer", "pw-36", 0, 36, false, "ok"],
            ["web", "73136964-62f7-8142-94cf-25d6cd6b8b36", 0, 12, true, "ok"],
            ["web", "1369b67d-a0e2-8465-8623-72ca63420e2c", 1, 11, false, "ok"],
        ]);
    });

    it("gives a secret 24 hours after its successor was due: not overdue at 24 h, overdue one second later", () => {
        // Due 2027-03-06T00:00:00Z; the grace ends 2027-03-07T00:00:00Z.
        expect(servedRow("2027-03-06T00:00:00Z", "importer").status).toBe("ok");
        expect(servedRow("2027-03-06T23:59:59Z", "importer").status).toBe("ok");
        expect(servedRow("2027-03-07T00:00:00Z", "importer").status).toBe("ok");
        const late = servedRow("2027-03-07T00:00:01Z", "importer");
        expect(late).toMatchObject({ generation: 37, status: "overdue", message: "generation 38 was due 2027-03-06 and Key Vault still serves 37: the pipeline has not run since; run pulumi up" });
    });

    it("gives a certificate the same 24 hours", () => {
        // Due 2027-03-20T00:00:00Z; the grace ends 2027-03-21T00:00:00Z.
        expect(servedRow("2027-03-21T00:00:00Z", "web").status).toBe("ok");
        expect(servedRow("2027-03-21T00:00:01Z", "web")).toMatchObject({ generation: 12, status: "overdue", message: "generation 13 was due 2027-03-20 and Key Vault still serves 12: the pipeline has not run since; run pulumi up" });
    });

    it("takes another grace in hours, with the same boundary", () => {
        // 48 h: until 2027-03-08T00:00:00Z; 12 h: until 2027-03-06T12:00:00Z; 0 h: until the due instant itself.
        expect(servedRow("2027-03-08T00:00:00Z", "importer", 48).status).toBe("ok");
        expect(servedRow("2027-03-08T00:00:01Z", "importer", 48).status).toBe("overdue");
        expect(servedRow("2027-03-06T12:00:00Z", "importer", 12).status).toBe("ok");
        expect(servedRow("2027-03-06T12:00:01Z", "importer", 12).status).toBe("overdue");
        expect(servedRow("2027-03-06T00:00:00Z", "importer", 0).status).toBe("ok");
        expect(servedRow("2027-03-06T00:00:01Z", "importer", 0).status).toBe("overdue");
    });

    it("alerts (exit 2) once overdue, not before", () => {
        // Before the due instant nothing alerts (the previous slot, 36, expires 2027-04-05: 30 days at 2027-03-06T00:00:00Z).
        expect(assessStatus(model, deployedOn20270301(), new Date("2027-03-05T23:59:59Z")).exitCode).toBe(0);
        expect(assessStatus(model, deployedOn20270301(), new Date("2027-03-07T00:00:01Z")).exitCode).toBe(2);
    });
});
