import { describe, expect, it } from "vitest";
import { runProgram, sampleStack } from "./support/program";
import { types } from "./support/pulumiMocks";

/**
 * The hand-offs a run yields: each rotating credential with a manual consumer exports, per consumer, what to copy
 * (the Key Vault secret version the run serves, and its portal link), what to do and by when. Value-free, and the
 * export is not marked secret (it would read [secret] and be useless to the workflow that opens the issues).
 */

const now = new Date("2027-03-01T06:00:00Z");

function withManualConsumer(): Record<string, unknown> {
    const values = structuredClone(sampleStack().values) as { apps: { name: string; credentials?: Record<string, unknown>[] }[] };
    const mail = values.apps.find((a) => a.name === "mail-sender")!;
    const main = mail.credentials!.find((c) => c["name"] === "main")!;
    main["consumers"] = [
        { name: "mail-relay", reads: "keyVault", refreshHours: 24 },
        { name: "Zendesk", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" },
    ];
    // The period is the credential's own here, so the schedule (and every other expectation) stays the sample's.
    return values as unknown as Record<string, unknown>;
}

describe("the hand-offs a run yields", () => {
    it("exports each manual consumer's hand-off with the served version's link, never a value, and nothing secret", async () => {
        const { exports, secretExports, mocks, registrationErrors } = await runProgram(withManualConsumer(), { now });
        expect(registrationErrors).toEqual([]);
        expect(secretExports).toEqual([]);
        const apps = exports["apps"] as Record<string, { credentials: Record<string, { servedGeneration: number; handoffs?: Record<string, unknown>[] }> }>;
        const main = apps["mail-sender"]!.credentials["main"]!;
        const served = mocks.ofType(types.keyVaultSecret).find((r) => r.name === "mail-sender-keyvault-mail-sender-main")!;
        const version = (served.state["properties"] as { secretUriWithVersion: string }).secretUriWithVersion;
        expect(version).toMatch(/^https:\/\/kv-contoso-identity\.vault\.azure\.net\/secrets\/mail-sender-main\/[0-9a-f]{32}$/);
        expect(main.handoffs).toEqual([
            {
                id: `entra-rotor/dev/mail-sender/main/g${main.servedGeneration}/zendesk`,
                consumer: "Zendesk",
                owner: "@octocat",
                instructions: "https://wiki.contoso.com/zendesk-secret",
                generation: main.servedGeneration,
                servedFrom: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
                deadline: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
                secretVersionUrl: version,
                portalUrl: expect.stringMatching(new RegExp(`^https://portal\\.azure\\.com/#(@[0-9a-f-]+)?/asset/Microsoft_Azure_KeyVault/Secret/${version.replace(/[.]/g, "\\.")}$`)),
            },
        ]);
        // Only manual consumers are handed anything; the other credentials export as before.
        expect(apps["device-inventory"]!.credentials["importer"]).not.toHaveProperty("handoffs");
        // No value anywhere in the exports: every secret the mocks made is absent.
        const everything = JSON.stringify(exports);
        const values = mocks.ofType(types.applicationPassword).map((r) => String((r.state["value"] as { value?: unknown } | undefined)?.value ?? r.state["value"]));
        expect(values.length).toBeGreaterThan(0);
        for (const value of values) expect(everything).not.toContain(value);
    });

    it("exports the sample stack, with no manual consumer, as before and unmarked", async () => {
        const { exports, secretExports } = await runProgram(sampleStack().values as Record<string, unknown>, { now });
        expect(secretExports).toEqual([]);
        expect(JSON.stringify(exports)).not.toContain("handoffs");
    });
});
