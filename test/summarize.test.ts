import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parsePreviewDocument, PreviewDocumentError, renderSummary, type Summary, summarizePreview } from "../cli/review/preview/summarize";

/**
 * `rotor summarize` on previews of the sample stack (Pulumi.dev.yaml), written as `pulumi preview --json`
 * prints them for this program: the URNs, type tokens and child names of components/*.ts, secrets as
 * "[secret]", values unknown until the update as Pulumi's unknown sentinel.
 */

const fixtures = path.join(__dirname, "fixtures", "preview");
const read = (name: string) => fs.readFileSync(path.join(fixtures, name), "utf8");
const summarize = (name: string, text = read(name)): Summary => summarizePreview(parsePreviewDocument(text, name), { source: name });

describe("a first deploy", () => {
    const summary = summarize("create.json");

    it("lists every app registration, credential slot, secret and federated credential as created, and nothing as breaking", () => {
        expect(summary.project).toBe("entra-rotor");
        expect(summary.stack).toBe("dev");
        expect(summary.hasIdentityChanges).toBe(true);
        expect(summary.breaking).toEqual([]);
        expect(summary.apps.map((a) => [a.app, a.application, a.servicePrincipal, a.clientId])).toEqual([
            ["calendar-sync", "created", "created", null],
            ["ci-deployer", "created", "created", null],
            ["device-inventory", "created", "created", null],
            ["mail-sender", "created", "created", null],
        ]);
        expect(summary.credentials.map((c) => [c.app, c.credential, c.type, c.slots.map((s) => [s.slot, s.action, s.after?.generation ?? null])])).toEqual([
            ["calendar-sync", "web", "certificate", [[0, "created", 12], [1, "created", 11]]],
            ["device-inventory", "importer", "secret", [[0, "created", 36], [1, "created", 37]]],
            ["device-inventory", "partner", "certificate-file", [[null, "created", null]]],
            ["mail-sender", "main", "secret", [[0, "created", 12], [1, "created", 11]]],
        ]);
        const main = summary.credentials.find((c) => c.credential === "main")!;
        expect(main.slots[0]!.after).toEqual({ generation: 12, start: "2027-01-12T00:00:00Z", end: "2027-08-10T00:00:00Z", keyId: null });
        expect(summary.federatedCredentials).toEqual([
            {
                app: "ci-deployer",
                name: "github-production",
                action: "created",
                before: null,
                after: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/identity:environment:production", audiences: ["api://AzureADTokenExchange"] },
                changed: [],
            },
        ]);
        expect(summary.keyVaultSecrets).toHaveLength(9);
        // The vault is created in the same run, so its name is not known to the secrets yet.
        expect(summary.keyVaultSecrets.find((s) => s.secretName === "mail-sender-main")).toEqual({
            app: "mail-sender",
            secretName: "mail-sender-main",
            vault: null,
            action: "created",
            value: "new",
            credential: "main",
            servedBefore: null,
            servedAfter: { slot: 0, generation: 12 },
        });
        expect(summary.counts).toEqual({ create: 47 });
    });

    it("lists the permissions the apps gain, requested and consented, privileged ones first", () => {
        expect(summary.permissions.map((p) => [p.app, p.kind, p.permission, p.tier, p.requested, p.consent])).toEqual([
            ["ci-deployer", "application", "Application.ReadWrite.OwnedBy", 0, true, "appRoleAssignment"],
            ["mail-sender", "application", "Mail.Send", 1, true, "appRoleAssignment"],
            ["calendar-sync", "delegated", "Calendars.ReadWrite", null, true, "delegatedGrant"],
            ["calendar-sync", "delegated", "offline_access", null, true, "delegatedGrant"],
            ["calendar-sync", "delegated", "openid", null, true, "delegatedGrant"],
            ["device-inventory", "application", "Device.Read.All", 2, true, "appRoleAssignment"],
            ["device-inventory", "application", "DeviceManagementManagedDevices.Read.All", 2, true, "appRoleAssignment"],
        ]);
        expect(summary.permissions.every((p) => p.change === "added" && p.inCatalog && p.api === "Microsoft Graph")).toBe(true);
    });
});

describe("a scheduled rotation", () => {
    const summary = summarize("rotation-scheduled.json");

    it("rotates one slot to its next generation (+ 2), and the vault serves it", () => {
        expect(summary.breaking).toEqual([]);
        expect(summary.apps).toEqual([]);
        expect(summary.permissions).toEqual([]);
        expect(summary.credentials).toHaveLength(1);
        const credential = summary.credentials[0]!;
        expect([credential.app, credential.credential, credential.component, credential.type]).toEqual(["mail-sender", "main", "mail-sender-main", "secret"]);
        expect(credential.slots).toEqual([
            {
                slot: 1,
                action: "rotated",
                cause: "scheduled",
                explanation: "generation 11 -> 13: the slot's scheduled turn",
                before: { generation: 11, start: "2026-10-14T00:00:00Z", end: "2027-05-12T00:00:00Z", keyId: "a9a4c163-a526-4004-a817-2b3d0b3be0b0" },
                after: { generation: 13, start: "2027-04-12T00:00:00Z", end: "2027-11-08T00:00:00Z", keyId: null },
                // The dates move with the generation: endDate among the reasons is normal for a scheduled rotation.
                replaceReasons: ["displayName", "endDate", "rotateWhenChanged", "startDate"],
                resources: [{ type: "azuread:index/applicationPassword:ApplicationPassword", name: "mail-sender-main-slot1", action: "replaced" }],
            },
        ]);
        expect(summary.keyVaultSecrets).toEqual([
            {
                app: "mail-sender",
                secretName: "mail-sender-main",
                vault: "kv-contoso-identity",
                action: "updated",
                value: "changes",
                credential: "main",
                servedBefore: { slot: 0, generation: 12 },
                servedAfter: { slot: 1, generation: 13 },
            },
        ]);
        expect(summary.counts).toEqual({ update: 1, replace: 1, same: 45 });
    });

    it("reads as a short, calm comment", () => {
        const markdown = renderSummary(summary, "markdown");
        expect(markdown.startsWith("## Identity changes: entra-rotor / dev\n")).toBe(true);
        expect(markdown).not.toContain("[!CAUTION]");
        expect(markdown).toContain("1 credential slot rotated (1 scheduled) · 1 Key Vault secret changed");
        expect(markdown).toContain(
            "| mail-sender | main | secret | 1 | rotated (scheduled) | g11, 2026-10-14 → 2027-05-12, key `a9a4c163-a526-4004-a817-2b3d0b3be0b0` | g13, 2027-04-12 → 2027-11-08 | generation 11 -&gt; 13: the slot's scheduled turn |",
        );
        expect(markdown).toContain("| mail-sender | mail-sender-main | kv-contoso-identity | updated | value changes | main | slot 0 g12 → slot 1 g13 |");
        expect(markdown).toContain("Pulumi resources: 1 to update, 1 to replace, 45 unchanged.");
    });

    it("gives the same summary whether Pulumi prints one replace step or the three replacement steps", () => {
        const threeSteps = parsePreviewDocument(read("rotation-scheduled-replacement-steps.json"), "preview.json");
        expect(threeSteps.steps!.map((s) => s.op)).toEqual(["same", "create-replacement", "replace", "update", "delete-replaced"]);
        const oneStep = parsePreviewDocument(read("rotation-scheduled.json"), "preview.json");
        expect(summarizePreview(threeSteps)).toEqual(summarizePreview(oneStep));
        expect(renderSummary(summarizePreview(threeSteps), "markdown")).toBe(renderSummary(summarizePreview(oneStep), "markdown"));
    });

    it("rotates a certificate slot (key, certificate and key credential together) on schedule", () => {
        const certificate = summarize("leaky-certificate-rotation.json");
        expect(certificate.breaking).toEqual([]);
        expect(certificate.credentials).toHaveLength(1);
        const slot = certificate.credentials[0]!.slots[0]!;
        expect([certificate.credentials[0]!.app, certificate.credentials[0]!.credential, certificate.credentials[0]!.type]).toEqual(["calendar-sync", "web", "certificate"]);
        expect([slot.slot, slot.action, slot.cause, slot.before?.generation, slot.after?.generation]).toEqual([1, "rotated", "scheduled", 11, 13]);
        expect(slot.resources.map((r) => r.name)).toEqual(["calendar-sync-web-slot1", "calendar-sync-web-slot1-cert", "calendar-sync-web-slot1-key"]);
        // The new certificate's start is stamped by the provider at creation: unknown in a preview.
        expect(slot.after).toEqual({ generation: 13, start: null, end: "2027-10-16T00:00:00Z", keyId: null });
    });

    it("calls a rotation that skips generations a change, not the schedule", () => {
        // The pipeline did not run for two rotation periods: the slot jumps from 11 to 15.
        const text = read("rotation-scheduled.json").replace(/"13"/g, '"15"').replace(/main slot 1 generation 13/g, "main slot 1 generation 15");
        const slot = summarize("late.json", text).credentials[0]!.slots[0]!;
        expect(slot.cause).toBe("change");
        expect(slot.explanation).toBe("generation 11 -> 15, not the scheduled + 2: the rotation period or epoch changed, or scheduled runs were missed");
    });

    it("calls a rotation that also changes another property a change", () => {
        const doc = JSON.parse(read("rotation-scheduled.json")) as { steps: { replaceReasons?: string[] }[] };
        doc.steps[1]!.replaceReasons = [...doc.steps[1]!.replaceReasons!, "applicationId"];
        const slot = summarize("moved.json", JSON.stringify(doc)).credentials[0]!.slots[0]!;
        expect([slot.cause, slot.explanation]).toEqual(["change", "generation 11 -> 13, and applicationId also changes"]);
    });
});

describe("a change that replaces both slots", () => {
    const summary = summarize("both-slots-replaced.json");

    it("is breaking, and says why", () => {
        expect(summary.credentials[0]!.slots.map((s) => [s.slot, s.action, s.cause, s.explanation])).toEqual([
            [0, "rotated", "change", "replaced without a new generation (endDate): the lifetime changes from 210 to 200 days"],
            [1, "rotated", "change", "replaced without a new generation (endDate): the lifetime changes from 210 to 200 days"],
        ]);
        expect(summary.breaking).toEqual([
            {
                kind: "both-slots-replaced",
                app: "mail-sender",
                subject: "main",
                message:
                    "mail-sender/main: both slots of the client secret are replaced in one run: replaced without a new generation (endDate): the lifetime changes from 210 to 200 days. " +
                    "Consumers still using the served value lose access when it is deleted, with no pickup window. Apply in a maintenance window.",
            },
        ]);
        // Same slot and generation served, but a new value behind it.
        expect(summary.keyVaultSecrets.map((s) => [s.secretName, s.value, s.servedBefore, s.servedAfter])).toEqual([
            ["mail-sender-main", "changes", { slot: 0, generation: 12 }, { slot: 0, generation: 12 }],
        ]);
    });

    it("puts the warning at the top of the comment, before any table", () => {
        const markdown = renderSummary(summary, "markdown");
        const lines = markdown.split("\n");
        expect(lines.slice(0, 4)).toEqual([
            "## Identity changes: entra-rotor / dev",
            "",
            "> [!CAUTION]",
            "> **Breaking for consumers.** Applying this preview:",
        ]);
        expect(lines[4]).toMatch(/^> - mail-sender\/main: both slots of the client secret are replaced in one run/);
        expect(markdown.indexOf("[!CAUTION]")).toBeLessThan(markdown.indexOf("| App |"));
    });
});

describe("an app removed from config", () => {
    const summary = summarize("app-deleted.json");

    it("retires its credentials, removes its permissions and secrets, and is breaking", () => {
        expect(summary.apps).toEqual([
            {
                app: "calendar-sync",
                displayName: "Contoso Calendar Sync",
                application: "deleted",
                servicePrincipal: "deleted",
                clientId: "d8d3a78e-88cd-4c39-a640-0712a254ebe5",
                changedProperties: [],
            },
        ]);
        expect(summary.credentials.map((c) => [c.app, c.credential, c.slots.map((s) => [s.slot, s.action, s.before?.generation])])).toEqual([
            ["calendar-sync", "web", [[0, "retired", 12], [1, "retired", 11]]],
        ]);
        expect(summary.permissions.map((p) => [p.change, p.kind, p.permission, p.requested, p.consent])).toEqual([
            ["removed", "delegated", "Calendars.ReadWrite", true, "delegatedGrant"],
            ["removed", "delegated", "offline_access", true, "delegatedGrant"],
            ["removed", "delegated", "openid", true, "delegatedGrant"],
        ]);
        expect(summary.keyVaultSecrets.map((s) => [s.secretName, s.action, s.value])).toEqual([
            ["calendar-sync-client-id", "deleted", "removed"],
            ["calendar-sync-tenant-id", "deleted", "removed"],
            ["calendar-sync-web", "deleted", "removed"],
        ]);
        expect(summary.breaking.map((b) => [b.kind, b.subject])).toEqual([
            ["app-registration-deleted", "calendar-sync"],
            ["served-secret-deleted", "calendar-sync-client-id"],
            ["served-secret-deleted", "calendar-sync-tenant-id"],
            ["served-secret-deleted", "calendar-sync-web"],
        ]);
        expect(summary.breaking[3]!.message).toBe("Key Vault secret calendar-sync-web in kv-contoso-identity is deleted; consumers reading it fail.");
        expect(renderSummary(summary, "markdown")).toContain("> [!CAUTION]");
    });
});

describe("a preview without changes", () => {
    it('says "no identity changes" and gives the counts', () => {
        const summary = summarize("no-changes.json");
        expect(summary.hasIdentityChanges).toBe(false);
        expect(summary.breaking).toEqual([]);
        expect(summary.counts).toEqual({ same: 47 });
        expect(renderSummary(summary, "markdown")).toBe(
            [
                "## Identity changes: entra-rotor / dev",
                "",
                "No identity changes: no app registration, credential, permission, directory role, federated credential or Key Vault secret changes.",
                "",
                "Pulumi resources: 47 unchanged.",
                "",
            ].join("\n"),
        );
    });
});

describe("permission changes", () => {
    const summary = summarize("permission-escalation.json");

    it("ranks escalations first: tier 0, then tier 1 additions, then other additions, then removals", () => {
        expect(summary.permissions.map((p) => [p.change, p.app, p.kind, p.api, p.permission, p.tier, p.escalation])).toEqual([
            ["added", "ci-deployer", "application", "Microsoft Graph", "RoleManagement.ReadWrite.Directory", 0, true],
            ["added", "mail-sender", "application", "Microsoft Graph", "Mail.ReadWrite", 1, true],
            ["added", "calendar-sync", "delegated", "Microsoft Graph", "User.Read", null, false],
            ["added", "mail-sender", "application", "Office 365 Exchange Online", "full_access_as_app", null, false],
            ["removed", "device-inventory", "application", "Microsoft Graph", "Device.Read.All", 2, false],
        ]);
        // Requested on the app registration and consented by its own resource: one entry, not two.
        expect(summary.permissions.every((p) => p.requested && p.consent !== null)).toBe(true);
        const exchange = summary.permissions[3]!;
        expect([exchange.id, exchange.inCatalog, exchange.apiAppId]).toEqual(["dc890d15-9560-4a4c-9b7f-a736ec74ec40", false, "00000002-0000-0ff1-ce00-000000000000"]);
    });

    it("shows ids outside the Microsoft Graph catalog as ids, and privileged additions in a warning above the tables", () => {
        const markdown = renderSummary(summary, "markdown");
        // Names are markdown-escaped (`\_`): GitHub shows them as written.
        expect(markdown).toContain(
            "| added | mail-sender | application | Office 365 Exchange Online | full\\_access\\_as\\_app `dc890d15-9560-4a4c-9b7f-a736ec74ec40` (not in the Microsoft Graph catalog) | - | yes | app role assignment |",
        );
        expect(markdown).toContain("| **added** | ci-deployer | application | Microsoft Graph | RoleManagement.ReadWrite.Directory | **0** (a known path to Global Administrator) | yes | app role assignment |");
        expect(markdown.split("\n").slice(0, 7)).toEqual([
            "## Identity changes: entra-rotor / dev",
            "",
            "> [!WARNING]",
            "> **2 privileged permissions added:**",
            "> - Microsoft Graph RoleManagement.ReadWrite.Directory: tier **0** (a known path to Global Administrator), added to ci-deployer",
            "> - Microsoft Graph Mail.ReadWrite: tier **1** (high impact), added to mail-sender",
            "",
        ]);
        expect(markdown.indexOf("[!WARNING]")).toBeLessThan(markdown.indexOf("### Permissions"));
    });

    it("names an id the catalog does not know by its id alone", () => {
        const text = read("permission-escalation.json").replace(/mail-sender-role-exchange-full_access_as_app/g, "mail-sender-role-exchange-");
        const exchange = summarize("unnamed.json", text).permissions.find((p) => p.api === "Office 365 Exchange Online")!;
        expect(exchange.permission).toBeNull();
        expect(renderSummary(summarize("unnamed.json", text), "markdown")).toContain("| `dc890d15-9560-4a4c-9b7f-a736ec74ec40` (not in the Microsoft Graph catalog) |");
    });

    it("shows federated credential changes and app registration updates, and counts diagnostics without quoting them", () => {
        expect(summary.federatedCredentials).toEqual([
            {
                app: "ci-deployer",
                name: "github-production",
                action: "updated",
                before: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/identity:environment:production", audiences: ["api://AzureADTokenExchange"] },
                after: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/identity-platform:environment:production", audiences: ["api://AzureADTokenExchange"] },
                changed: ["subject"],
            },
        ]);
        expect(summary.apps.map((a) => [a.app, a.application, a.changedProperties])).toEqual([
            ["calendar-sync", "updated", ["requiredResourceAccesses"]],
            ["ci-deployer", "updated", ["requiredResourceAccesses"]],
            ["device-inventory", "updated", ["requiredResourceAccesses"]],
            ["mail-sender", "updated", ["requiredResourceAccesses"]],
        ]);
        expect(summary.diagnostics).toEqual({ errors: 0, warnings: 1 });
        expect(renderSummary(summary, "markdown")).toContain(
            "| ci-deployer | github-production | updated | `https://token.actions.githubusercontent.com` | `repo:contoso/identity:environment:production` → `repo:contoso/identity-platform:environment:production` | `api://AzureADTokenExchange` |",
        );
    });
});

/** Every string a fixture's resource states hold as credential material: what the provider should have marked secret. */
function credentialMaterial(doc: { steps: { oldState?: { inputs?: unknown; outputs?: unknown }; newState?: { inputs?: unknown; outputs?: unknown } }[] }): string[] {
    const sensitive = /^(value|plaintext|privateKeyPem|privateKeyPemPkcs8|privateKeyOpenssh)$/;
    const out: string[] = [];
    const walk = (value: unknown, key: string): void => {
        if (typeof value === "string") {
            const placeholder = value === "[secret]" || value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9" || value === "1b47061264138c4ac30d75fd1eb44270";
            if (sensitive.test(key) && !placeholder && !value.startsWith("-----BEGIN CERTIFICATE-----")) out.push(value);
        } else if (Array.isArray(value)) {
            for (const item of value) walk(item, key);
        } else if (typeof value === "object" && value !== null) {
            for (const [k, v] of Object.entries(value)) walk(v, sensitive.test(key) ? key : k);
        }
    };
    for (const step of doc.steps) for (const state of [step.oldState, step.newState]) walk([state?.inputs, state?.outputs], "");
    return out;
}

describe("values a provider left unmasked", () => {
    for (const name of ["leaky-secret-rotation.json", "leaky-certificate-rotation.json"]) {
        it(`never appear in the summary of ${name}, in any format`, () => {
            const material = credentialMaterial(JSON.parse(read(name)));
            // The fixture really does leak: client secrets (plain and in a secret envelope), private keys (PEM, PKCS#8,
            // OpenSSH, in an envelope) and the served PEM bundle.
            expect(material.length).toBeGreaterThanOrEqual(3);
            const summary = summarize(name);
            expect(summary.credentials[0]!.slots[0]!.cause).toBe("scheduled");
            for (const format of ["markdown", "json"] as const) {
                const text = renderSummary(summary, format);
                for (const secret of material) {
                    expect(text).not.toContain(secret);
                    // Nor any recognisable piece of it.
                    for (const line of secret.split("\n").filter((l) => l.length >= 12 && !l.startsWith("-----"))) expect(text).not.toContain(line);
                }
                expect(text).not.toMatch(/s3cr3t|FAKE|BEGIN [A-Z ]*PRIVATE KEY/);
            }
        });
    }

    it("are redacted even where an id is expected", () => {
        // A provider that returns the secret value where the key id belongs.
        const doc = JSON.parse(read("leaky-secret-rotation.json")) as { steps: { oldState?: { outputs?: Record<string, unknown> } }[] };
        const outputs = doc.steps[1]!.oldState!.outputs!;
        outputs["value"] = outputs["keyId"];
        const text = renderSummary(summarize("odd.json", JSON.stringify(doc)), "json");
        expect(text).not.toContain(String(outputs["keyId"]));
        expect(text).toContain("[redacted]");
    });
});

describe("a file that is not a preview", () => {
    const rejects = (text: string, source = "preview.json") => {
        try {
            parsePreviewDocument(text, source);
        } catch (error) {
            expect(error).toBeInstanceOf(PreviewDocumentError);
            return (error as Error).message;
        }
        throw new Error("accepted");
    };

    it("names the file and what it is instead: a deployment plan", () => {
        expect(rejects(read("plan-file.json"), "plan.json")).toBe(
            "plan.json: not the JSON of `pulumi preview --json`: this is a deployment plan (`pulumi preview --save-plan`), which holds goals rather than steps (run `pulumi preview --json > preview.json` and pass that file)",
        );
    });

    it("recognises a stack export, an update's event stream and its JSON result", () => {
        expect(rejects(JSON.stringify({ version: 3, deployment: { manifest: {}, resources: [] } }))).toContain("this is a stack export (`pulumi stack export`)");
        const events = [{ sequence: 0, timestamp: 1807941600, cancelEvent: null }, { sequence: 1, timestamp: 1807941601, summaryEvent: {} }].map((e) => JSON.stringify(e)).join("\n");
        expect(rejects(events, "up.json")).toMatch(/^up\.json: not the JSON of `pulumi preview --json`: this is a JSON event stream \(`pulumi up --json`/);
        expect(rejects(JSON.stringify({ result: "succeeded", duration: 12, summary: { create: 1 } }))).toContain("`pulumi up --output json`");
        expect(rejects("[]")).toContain("a JSON array");
    });

    it("gives the JSON path of the first problem", () => {
        expect(rejects(JSON.stringify({ steps: [{ op: "create", urn: "urn:pulumi:dev::p::t::n" }, { op: "create", urn: "mail-sender" }] }))).toBe(
            "preview.json: not the JSON of `pulumi preview --json`: steps[1].urn: expected a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)",
        );
        expect(rejects(JSON.stringify({ changeSummary: { create: "two" } }))).toContain("changeSummary.create: expected a count of resources");
        expect(rejects(JSON.stringify({ name: "entra-rotor" }))).toBe(
            "preview.json: not the JSON of `pulumi preview --json`: has neither `steps` nor `changeSummary`, which every `pulumi preview --json` document has",
        );
    });

    it("never quotes the file, which may hold secrets", () => {
        const message = rejects('{"value": s3cr3t-FAKE-not-json}');
        expect(message).toMatch(/^preview\.json: not the JSON of `pulumi preview --json`: not valid JSON/);
        expect(message).not.toContain("s3cr3t");
    });

    it("accepts fields and operations it does not know, as newer Pulumi versions write them", () => {
        const doc = JSON.parse(read("rotation-scheduled.json")) as { steps: Record<string, unknown>[]; [key: string]: unknown };
        doc["policyPacks"] = { "entra-guard": "1.0.0" };
        doc.steps.push({ op: "refresh-v2", urn: "urn:pulumi:dev::entra-rotor::pulumi:pulumi:Stack::entra-rotor-dev", newField: true, detailedDiff: null });
        const summary = summarize("newer.json", JSON.stringify(doc));
        expect(summary.credentials).toHaveLength(1);
    });
});

describe("the JSON format", () => {
    it("is the summary itself, schemaVersion 1, with a stable key order", () => {
        const summary = summarize("permission-escalation.json");
        const parsed = JSON.parse(renderSummary(summary, "json")) as Summary;
        expect(parsed).toEqual(summary);
        expect(Object.keys(parsed)).toEqual([
            "schemaVersion",
            "source",
            "project",
            "stack",
            "hasIdentityChanges",
            "breaking",
            "apps",
            "credentials",
            "permissions",
            "directoryRoles",
            "federatedCredentials",
            "keyVaultSecrets",
            "counts",
            "diagnostics",
        ]);
        expect(parsed.schemaVersion).toBe(1);
    });
});
