import { describe, expect, it } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import { appFromTags, appTag, certificateKeyId, parsePasswordDisplayName, passwordDisplayName, stackTag } from "../rotation/identifiers";
import { types } from "./support/pulumiMocks";
import { runProgram, sampleStack } from "./support/program";

const now = new Date("2027-03-01T06:00:00Z");

describe("identifiers that tie the tenant back to the stack", () => {
    it("tags apps with their stack and name, and reads the name back only for that stack", () => {
        expect(stackTag("entra-rotor", "dev")).toBe("entra-rotor:entra-rotor/dev");
        expect(appTag("entra-rotor", "dev", "mail-sender")).toBe("entra-rotor:entra-rotor/dev/mail-sender");
        expect(appFromTags(["HideApp", appTag("entra-rotor", "dev", "mail-sender")], "entra-rotor", "dev")).toBe("mail-sender");
        expect(appFromTags([appTag("entra-rotor", "prod", "mail-sender")], "entra-rotor", "dev")).toBeUndefined();
    });

    it("names a client secret by slot and generation, and parses only such names", () => {
        expect(passwordDisplayName("main", 1, 37)).toBe("main slot 1 generation 37");
        expect(parsePasswordDisplayName("main slot 1 generation 37")).toEqual({ credential: "main", slot: 1, generation: 37 });
        for (const other of ["main", "Password uploaded on Tue Nov 03 2026", "main slot 2 generation 3", null, undefined]) expect(parsePasswordDisplayName(other)).toBeUndefined();
    });

    it("derives a certificate key id per generation: a stable version-8 UUID, unique per credential and generation", () => {
        const id = certificateKeyId("entra-rotor", "dev", "calendar-sync", "web", 12);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(certificateKeyId("entra-rotor", "dev", "calendar-sync", "web", 12)).toBe(id);
        const others = [
            certificateKeyId("entra-rotor", "dev", "calendar-sync", "web", 13),
            certificateKeyId("entra-rotor", "prod", "calendar-sync", "web", 12),
            certificateKeyId("entra-rotor", "dev", "calendar-sync", "api", 12),
        ];
        expect(new Set([id, ...others]).size).toBe(4);
    });

    it("are what the program writes: app tags, secret display names, certificate key ids", async () => {
        const model = buildModelOrThrow(sampleStack(), now);
        const { mocks } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        const app = mocks.ofType(types.application).find((r) => r.name === "mail-sender-app")!;
        expect(app.inputs["tags"]).toEqual([stackTag("entra-rotor", "dev"), appTag("entra-rotor", "dev", "mail-sender")]);
        const importer = model.apps[1]!.credentials[0]!;
        const passwords = mocks.ofType(types.applicationPassword).filter((r) => r.name.startsWith("device-inventory-importer-"));
        expect(passwords.map((r) => r.inputs["displayName"]).sort()).toEqual(
            [importer.schedule.served, importer.schedule.previous].map((s) => passwordDisplayName("importer", s.slot, s.generation)).sort(),
        );
        const web = model.apps[2]!.credentials[0]!;
        const certificates = mocks.ofType(types.applicationCertificate).filter((r) => r.name.startsWith("calendar-sync-web-slot"));
        expect(certificates.map((r) => r.inputs["keyId"]).sort()).toEqual(
            [web.schedule.served, web.schedule.previous].map((s) => certificateKeyId("entra-rotor", "dev", "calendar-sync", "web", s.generation)).sort(),
        );
    });
});
