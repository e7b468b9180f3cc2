import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { ClientSecret } from "../components/clientSecret";
import { type CredentialSlot, servedSlot, validateSlots } from "../components/slots";
import { ProviderMocks, settle, valueOf } from "./support/pulumiMocks";

const slots: CredentialSlot[] = [
    { slot: 0, generation: 12, start: "2026-10-01T00:00:00Z", end: "2027-04-29T00:00:00Z" },
    { slot: 1, generation: 11, start: "2026-07-03T00:00:00Z", end: "2027-01-29T00:00:00Z" },
];
const applicationId = "/applications/5b0b4c0e-7f4e-4d2b-9a3e-0c1e2d3f4a5b";
const passwordType = "azuread:index/applicationPassword:ApplicationPassword";

let mocks: ProviderMocks;
beforeEach(async () => {
    mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, "entra-rotor", "test", false);
});

describe("validateSlots", () => {
    it("accepts consecutive generations in their parity slots", () => {
        expect(validateSlots(slots)).toEqual([]);
        expect(servedSlot(slots)).toBe(slots[0]);
    });

    it.each([
        ["one slot", [slots[0]!], "exactly two slots, 0 and 1, are required"],
        ["same slot twice", [slots[0]!, { ...slots[0]!, generation: 13 }], "exactly two slots, 0 and 1, are required"],
        ["generation in the wrong slot", [{ ...slots[0]!, generation: 13 }, { ...slots[1]!, generation: 12 }], "slot 0 cannot hold generation 13"],
        ["generations not consecutive", [slots[0]!, { ...slots[1]!, generation: 9 }], "the slots must hold consecutive generations"],
        ["end before start", [{ ...slots[0]!, end: "2026-09-01T00:00:00Z" }, slots[1]!], "slot 0: end 2026-09-01T00:00:00Z is not after start"],
        ["longer than two years", [{ ...slots[0]!, end: "2028-10-01T00:00:00Z" }, slots[1]!], "slot 0: lifetime of 731 days exceeds 730 days"],
        ["dates with milliseconds", [{ ...slots[0]!, start: "2026-10-01T00:00:00.000Z" }, slots[1]!], "ISO-8601 UTC to the second"],
    ])("refuses %s", (_title, input, message) => {
        expect(validateSlots(input as CredentialSlot[]).join("\n")).toContain(message);
    });
});

describe("ClientSecret", () => {
    it("registers one password per slot, replaced by its generation, ending when the schedule says and starting when created", async () => {
        const secret = new ClientSecret("mail-sender-main", { applicationId, slots, credentialName: "main" });
        await valueOf(secret.served.keyId);
        await settle();
        const passwords = mocks.ofType(passwordType);
        expect(passwords.map((p) => ({ name: p.name, ...p.inputs }))).toEqual([
            {
                name: "mail-sender-main-slot0",
                applicationId,
                displayName: "main slot 0 generation 12",
                endDate: "2027-04-29T00:00:00Z",
                rotateWhenChanged: { generation: "12" },
            },
            {
                name: "mail-sender-main-slot1",
                applicationId,
                displayName: "main slot 1 generation 11",
                endDate: "2027-01-29T00:00:00Z",
                rotateWhenChanged: { generation: "11" },
            },
        ]);
        expect(await valueOf(secret.urn)).toBe("urn:pulumi:test::entra-rotor::entra-rotor:index:ClientSecret::mail-sender-main");
        expect(await valueOf(secret.passwords[0].urn)).toContain("entra-rotor:index:ClientSecret$azuread:index/applicationPassword:ApplicationPassword::mail-sender-main-slot0");
    });

    it("serves the newest generation, and its value is a secret", async () => {
        const secret = new ClientSecret("app-main", { applicationId, slots, credentialName: "main" });
        expect(secret.served).toMatchObject({ slot: 0, generation: 12, end: "2027-04-29T00:00:00Z" });
        expect(await valueOf(secret.served.keyId)).toBe(await valueOf(secret.passwords[0].keyId));
        expect(await pulumi.isSecret(secret.served.value)).toBe(true);
        expect(await pulumi.isSecret(secret.passwords[1].value)).toBe(true);
    });

    it("throws before registering anything for invalid slots", () => {
        expect(() => new ClientSecret("bad", { applicationId, slots: [slots[0]!], credentialName: "main" })).toThrow(/exactly two slots/);
        expect(mocks.resources).toEqual([]);
    });
});
