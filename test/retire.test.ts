import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { GraphApplication, GraphKeyCredential } from "../azure/graph";
import { decideRetirements, markedForRetirement, removeKeyProof, removeKeyProofAudience, type RetireOutcome, retireReport, type RetireRow } from "../cli/live/retire";
import { renderRetire } from "../cli/live/renderRetire";
import type { LiveApp, LiveState, VaultSecretProperties } from "../cli/live/status";
import type { UsageEvidence } from "../cli/live/usage";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { appTag, certificateKeyId, passwordDisplayName, stackTag } from "../rotation/identifiers";
import { scheduleAt } from "../rotation/schedule";
import { createClientCertificate, EmulatorState, generateRsaKeyPair } from "./support/emulator";
import type { Application, KeyCredential } from "./support/emulator";
import { checkProof } from "./support/emulator/proofOfPossession";
import { sampleStack } from "./support/program";

/**
 * `rotor retire` on plain data (cli/live/retire.ts), the instant injected: which marked credential is removed,
 * which is kept and why, the proof Graph's removeKey asks for (checked by the emulator's own reading of
 * Microsoft's documentation, proofOfPossession.ts), and the exit code.
 */

const now = new Date("2027-03-01T06:00:00Z");
const hour = 3_600_000;
const day = 24 * hour;
const before = (ms: number) => new Date(now.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const portalSecret = { keyId: "0f6e1f4e-8a51-4a1d-9a33-2f1d7c7f9a10", kind: "secret", displayName: "Portal secret (Bob)", expires: "2027-09-01T00:00:00Z" };
const portalCertificate = { keyId: "6b2d5c3a-1f0e-4b8c-9d7a-5e4f3c2b1a09", kind: "certificate", displayName: "CN=legacy-calendar", expires: "2027-12-01T00:00:00Z" };
const mailCertificate = { keyId: "7c3e6d4b-2a1f-4c9d-8e6b-4f5a3d2c1b08", kind: "certificate", displayName: "CN=legacy-mailer", expires: "2027-12-01T00:00:00Z" };
const goneSecret = { keyId: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", kind: "secret", displayName: "Removed by hand", expires: "2027-06-01T00:00:00Z" };
const keptSecret = { keyId: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", kind: "secret", displayName: "Not marked", expires: "2027-06-01T00:00:00Z" };

/** Secret slots get made-up key ids; certificates the deterministic ones the program gives them. */
function slotKeyId(stack: StackModel, app: string, credential: string, generation: number): string {
    const declared = stack.apps.find((a) => a.name === app)!.credentials.find((c) => c.name === credential)!;
    if (declared.type === "certificate") return certificateKeyId(stack.project, stack.stack, app, credential, generation);
    return `5ec00000-0000-4000-8000-${createHash("sha1").update(`${app}/${credential}/${generation}`).digest("hex").slice(0, 12)}`;
}
const fileKeyId = (index: number) => `f11e0000-0000-4000-8000-00000000000${index}`;
const appIdOf = (index: number) => `0000000${index}-0000-4000-8000-00000000000${index}`;

/** The sample stack with `existing` entries (as rotor import writes them) on some apps. */
function stackWith(existing: Record<string, readonly Record<string, unknown>[]>): StackModel {
    const input = sampleStack();
    const apps = structuredClone(input.values["apps"]) as Record<string, unknown>[];
    for (const [name, entries] of Object.entries(existing)) apps.find((a) => a["name"] === name)!["existing"] = entries;
    return buildModelOrThrow({ ...input, values: { ...input.values, apps } }, now);
}

/** What `pulumi up` at `now` leaves, plus the portal-made credentials named per app. */
function deployed(stack: StackModel, portal: Record<string, readonly (typeof portalSecret)[]> = {}): LiveState {
    const apps = new Map<string, LiveApp>();
    const vaultSecrets = new Map<string, VaultSecretProperties>();
    stack.apps.forEach((app, index) => {
        const passwordCredentials: GraphApplication["passwordCredentials"][number][] = [];
        const keyCredentials: GraphKeyCredential[] = [];
        for (const credential of app.credentials) {
            const schedule = scheduleAt(now, credential.policy, credential.phase);
            for (const s of [schedule.served, schedule.previous]) {
                const keyId = slotKeyId(stack, app.name, credential.name, s.generation);
                if (credential.type === "secret") passwordCredentials.push({ keyId, displayName: passwordDisplayName(credential.name, s.slot, s.generation), startDateTime: s.start, endDateTime: s.end, hint: "abc" });
                else keyCredentials.push({ keyId, displayName: `CN=${credential.name}`, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: s.start, endDateTime: s.end, customKeyIdentifier: null });
            }
            vaultSecrets.set(credential.keyVaultSecretName.toLowerCase(), {
                name: credential.keyVaultSecretName,
                enabled: true,
                expires: schedule.served.end,
                contentType: null,
                tags: { keyId: slotKeyId(stack, app.name, credential.name, schedule.served.generation), generation: String(schedule.served.generation) },
            });
        }
        for (const file of app.certificateFiles) {
            keyCredentials.push({ keyId: fileKeyId(index), displayName: file.info.subject, type: "AsymmetricX509Cert", usage: "Verify", startDateTime: file.info.notBefore, endDateTime: file.info.notAfter, customKeyIdentifier: Buffer.from(file.info.thumbprint, "hex").toString("base64") });
        }
        for (const made of portal[app.name] ?? []) {
            const dates = { startDateTime: "2026-01-10T09:00:00Z", endDateTime: made.expires };
            if (made.kind === "secret") passwordCredentials.push({ keyId: made.keyId, displayName: made.displayName, hint: "Xy~", ...dates });
            else keyCredentials.push({ keyId: made.keyId, displayName: made.displayName, type: "AsymmetricX509Cert", usage: "Verify", customKeyIdentifier: null, ...dates });
        }
        const application: GraphApplication = { id: `0b1ec700-0000-4000-8000-00000000000${index}`, appId: appIdOf(index), displayName: app.displayName, tags: [stackTag(stack.project, stack.stack), appTag(stack.project, stack.stack, app.name)], passwordCredentials, keyCredentials };
        apps.set(app.name, { application, federated: [] });
    });
    return { apps, vaultSecrets };
}

/** Evidence from Entra's credential report: `[app, keyId, last sign-in]`. */
function report(stack: StackModel, signIns: readonly (readonly [string, string, string])[] = []): UsageEvidence {
    const lastSignIns = new Map<string, Map<string, string>>();
    for (const app of stack.apps) lastSignIns.set(appIdOf(stack.apps.indexOf(app)), new Map());
    for (const [app, keyId, at] of signIns) lastSignIns.get(appIdOf(stack.apps.findIndex((a) => a.name === app)))!.set(keyId, at);
    return { source: "appCredentialSignInActivities", lastSignIns, since: null, unavailable: null, notes: [] };
}

const noLicence: UsageEvidence = {
    source: null,
    lastSignIns: new Map(),
    since: null,
    unavailable: { reason: "licence", missing: "Microsoft Entra ID P1 or P2", detail: "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" },
    notes: [],
};

const options = { usedWithinDays: 30, force: false };
const outcomes = (decisions: ReturnType<typeof decideRetirements>) => decisions.map((d) => `${d.row.app} ${d.row.keyId}: ${d.row.outcome}${d.remove ? " (remove)" : ""}${d.row.forced ? " FORCED" : ""}`);

describe("rotor retire decides, per marked credential", () => {
    const stack = stackWith({
        "mail-sender": [{ ...portalSecret, retire: true }, { ...keptSecret }],
        "calendar-sync": [{ ...portalCertificate, retire: true }],
    });
    const live = deployed(stack, { "mail-sender": [portalSecret, keptSecret], "calendar-sync": [portalCertificate] });

    it("considers only the entries marked retire: true", () => {
        expect(markedForRetirement(stack).map(({ app, entry }) => `${app.name} ${entry.keyId}`)).toEqual([`mail-sender ${portalSecret.keyId}`, `calendar-sync ${portalCertificate.keyId}`]);
    });

    it("would-remove: no sign-in within --used-within days, a secret; a certificate with the stack's served certificate to sign the proof", () => {
        const decisions = decideRetirements(stack, live, report(stack), now, options);
        expect(outcomes(decisions)).toEqual([`mail-sender ${portalSecret.keyId}: would-remove (remove)`, `calendar-sync ${portalCertificate.keyId}: would-remove (remove)`]);
        const [secret, certificate] = decisions as [(typeof decisions)[number], (typeof decisions)[number]];
        expect(secret.row).toEqual({
            app: "mail-sender",
            keyId: portalSecret.keyId,
            kind: "secret",
            displayName: "Portal secret (Bob)",
            expires: "2027-09-01T00:00:00Z",
            path: "apps[0].existing[0]",
            outcome: "would-remove",
            lastSignIn: null,
            evidence: "none in Entra's credential sign-in report",
            forced: false,
            message: "no sign-in within 30 days (none in Entra's credential sign-in report)",
        });
        expect(secret.objectId).toBe(live.apps.get("mail-sender")!.application.id);
        expect(secret.signers).toEqual([]);
        // The proof is signed by calendar-sync/web, the generated certificate Key Vault serves (generation 12).
        expect(certificate.row).toMatchObject({ kind: "certificate", outcome: "would-remove", forced: false });
        expect(certificate.signers.map((s) => [s.credential, s.keyVaultSecretName, s.key.keyId])).toEqual([["web", "calendar-sync-web", certificateKeyId(stack.project, stack.stack, "calendar-sync", "web", 12)]]);
    });

    it("would-remove when the last sign-in on record is older than the window, and says when it was", () => {
        const decisions = decideRetirements(stack, live, report(stack, [["mail-sender", portalSecret.keyId, before(31 * day)]]), now, options);
        expect(decisions[0]!.row).toMatchObject({ outcome: "would-remove", lastSignIn: before(31 * day), evidence: "last sign-in 31 days ago (2027-01-29)", message: "no sign-in within 30 days (last sign-in 31 days ago (2027-01-29))" });
        expect(decisions[0]!.remove).toBe(true);
        // A wider window keeps it.
        const wider = decideRetirements(stack, live, report(stack, [["mail-sender", portalSecret.keyId, before(31 * day)]]), now, { ...options, usedWithinDays: 45 });
        expect(wider[0]!.row.outcome).toBe("in-use");
    });

    it("in-use: a sign-in within the window keeps it, and --force never overrides a recorded sign-in", () => {
        const evidence = report(stack, [["mail-sender", portalSecret.keyId, before(2 * hour)], ["calendar-sync", portalCertificate.keyId, before(29 * day)]]);
        for (const force of [false, true]) {
            const decisions = decideRetirements(stack, live, evidence, now, { ...options, force });
            expect(outcomes(decisions)).toEqual([`mail-sender ${portalSecret.keyId}: in-use`, `calendar-sync ${portalCertificate.keyId}: in-use`]);
            expect(decisions[0]!.row.message).toBe(
                "a sign-in with it within 30 days is on record (last sign-in 2 h ago (2027-03-01)): kept; move its consumers to Key Vault's value first (--force does not override a recorded sign-in)",
            );
            expect(decisions[0]!.row.lastSignIn).toBe(before(2 * hour));
            expect(decisions.every((d) => !d.row.forced && d.signers.length === 0)).toBe(true);
        }
    });

    it("no-evidence: nothing could be read, and without --force it is kept, saying why", () => {
        const decisions = decideRetirements(stack, live, noLicence, now, options);
        expect(outcomes(decisions)).toEqual([`mail-sender ${portalSecret.keyId}: no-evidence`, `calendar-sync ${portalCertificate.keyId}: no-evidence`]);
        expect(decisions[0]!.row.message).toBe(
            "no usage evidence could be read (the tenant has no Microsoft Entra ID P1 or P2; Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant): kept, since nothing shows it is unused (--force removes it anyway)",
        );
        expect(decisions[0]!.row).toMatchObject({ lastSignIn: null, evidence: null, forced: false });
        const permission = decideRetirements(stack, live, { ...noLicence, unavailable: { reason: "permission", missing: "AuditLog.Read.All", detail: "403 Authorization_RequestDenied" } }, now, options);
        expect(permission[0]!.row.message).toContain("(missing AuditLog.Read.All; Graph answered 403 Authorization_RequestDenied)");
    });

    it("forced: --force removes without evidence, and says so in the row", () => {
        const decisions = decideRetirements(stack, live, noLicence, now, { ...options, force: true });
        expect(outcomes(decisions)).toEqual([`mail-sender ${portalSecret.keyId}: would-remove (remove) FORCED`, `calendar-sync ${portalCertificate.keyId}: would-remove (remove) FORCED`]);
        expect(decisions[0]!.row.message).toBe("FORCED: removed without evidence that nobody uses it (the tenant has no Microsoft Entra ID P1 or P2; Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant)");
        // --force with evidence changes nothing: nothing is forced.
        expect(decideRetirements(stack, live, report(stack), now, { ...options, force: true }).map((d) => d.row.forced)).toEqual([false, false]);
    });

    it("gone: the application no longer has it; nothing to do", () => {
        const marked = stackWith({ "device-inventory": [{ ...goneSecret, retire: true }] });
        const decisions = decideRetirements(marked, deployed(marked), report(marked), now, options);
        expect(outcomes(decisions)).toEqual([`device-inventory ${goneSecret.keyId}: gone`]);
        expect(decisions[0]!.row).toMatchObject({ kind: "secret", displayName: "Removed by hand", expires: "2027-06-01T00:00:00Z", message: expect.stringContaining("delete the entry from the stack's existing list") });
    });

    it("managed: a key id of the stack's own (a slot, what Key Vault serves, a certificate file) is never removed, whatever the evidence or --force", () => {
        const mailServed = slotKeyId(stack, "mail-sender", "main", 12);
        const mailPrevious = slotKeyId(stack, "mail-sender", "main", 11);
        const webServed = slotKeyId(stack, "calendar-sync", "web", 12);
        const partnerFile = fileKeyId(1);
        const marked = stackWith({
            "mail-sender": [
                { keyId: mailServed, kind: "secret", expires: "2027-08-10T00:00:00Z", retire: true },
                { keyId: mailPrevious, kind: "secret", expires: "2027-05-10T00:00:00Z", retire: true },
            ],
            "calendar-sync": [{ keyId: webServed, kind: "certificate", expires: "2027-08-10T00:00:00Z", retire: true }],
            "device-inventory": [{ keyId: partnerFile, kind: "certificate", expires: "2027-08-10T00:00:00Z", retire: true }],
        });
        const state = deployed(marked);
        for (const [evidence, force] of [[report(marked), false], [noLicence, true]] as const) {
            const decisions = decideRetirements(marked, state, evidence, now, { ...options, force });
            expect(decisions.map((d) => d.row.outcome)).toEqual(["managed", "managed", "managed", "managed"]);
            expect(decisions.some((d) => d.remove)).toBe(false);
            expect(decisions[0]!.row.message).toBe("this key id is one of the stack's own credentials, not one made before it: never removed; correct the stack's existing list");
        }
        // A secret whose display name names one of the app's credentials is the stack's too, even if no slot claims it.
        const named = { keyId: "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f", kind: "secret", displayName: passwordDisplayName("main", 0, 10), expires: "2027-06-01T00:00:00Z" };
        const odd = stackWith({ "mail-sender": [{ ...named, retire: true }] });
        expect(decideRetirements(odd, deployed(odd, { "mail-sender": [named] }), report(odd), now, options).map((d) => d.row.outcome)).toEqual(["managed"]);
    });

    it("not-found: the stack's application is not in the tenant", () => {
        const state = deployed(stack, { "mail-sender": [portalSecret], "calendar-sync": [portalCertificate] });
        const apps = new Map(state.apps);
        apps.delete("mail-sender");
        const decisions = decideRetirements(stack, { ...state, apps }, report(stack), now, options);
        expect(outcomes(decisions)).toEqual([`mail-sender ${portalSecret.keyId}: not-found`, `calendar-sync ${portalCertificate.keyId}: would-remove (remove)`]);
        expect(decisions[0]!.objectId).toBeNull();
    });

    it("no-proof: a certificate on an app whose stack serves no valid generated certificate", () => {
        const marked = stackWith({ "mail-sender": [{ ...mailCertificate, retire: true }], "calendar-sync": [{ ...portalCertificate, retire: true }] });
        const state = deployed(marked, { "mail-sender": [mailCertificate], "calendar-sync": [portalCertificate] });
        const decisions = decideRetirements(marked, state, report(marked), now, options);
        // mail-sender rotates a secret only: nothing to sign removeKey's proof with.
        expect(outcomes(decisions)).toEqual([`mail-sender ${mailCertificate.keyId}: no-proof`, `calendar-sync ${portalCertificate.keyId}: would-remove (remove)`]);
        expect(decisions[0]!.row.message).toMatch(/^Graph removes a certificate only with a proof signed by a valid certificate of the application, and Key Vault serves none for this app .*: kept; remove it in the Entra admin center$/);
        // Key Vault's secret disabled, or the served certificate gone from the application: no signer either.
        const disabled = new Map(state.vaultSecrets);
        disabled.set("calendar-sync-web", { ...disabled.get("calendar-sync-web")!, enabled: false });
        expect(decideRetirements(marked, { ...state, vaultSecrets: disabled }, report(marked), now, options)[1]!.row.outcome).toBe("no-proof");
        const calendar = state.apps.get("calendar-sync")!;
        const served = slotKeyId(marked, "calendar-sync", "web", 12);
        const apps = new Map(state.apps);
        apps.set("calendar-sync", { ...calendar, application: { ...calendar.application, keyCredentials: calendar.application.keyCredentials.filter((k) => k.keyId !== served) } });
        expect(decideRetirements(marked, { ...state, apps }, report(marked), now, options)[1]!.row.outcome).toBe("no-proof");
        // Forced and without a proof: still no-proof, and the row keeps that it was forced.
        expect(decideRetirements(marked, state, noLicence, now, { ...options, force: true })[0]!.row).toMatchObject({ outcome: "no-proof", forced: true });
    });

    it("takes the kind from the application, and matches key ids whatever their case", () => {
        // Listed as a secret, held as a certificate; Graph writing the key id in upper case.
        const marked = stackWith({ "calendar-sync": [{ ...portalCertificate, keyId: portalCertificate.keyId.toUpperCase(), kind: "secret", retire: true }] });
        const state = deployed(marked, { "calendar-sync": [{ ...portalCertificate, keyId: portalCertificate.keyId.toUpperCase() }] });
        const decisions = decideRetirements(marked, state, report(marked), now, options);
        expect(decisions.map((d) => [d.row.keyId, d.row.kind, d.row.outcome])).toEqual([[portalCertificate.keyId, "certificate", "would-remove"]]);
    });
});

// ---------------------------------------------------------------------------------------------------------
// removeKey's proof of possession

/** An emulated application holding a certificate, as Graph lists it, and the PEM bundle Key Vault would serve. */
function appWithCertificate(state: EmulatorState, options: { notBefore?: Date; notAfter?: Date } = {}) {
    const app = state.addApplication({ displayName: "calendar-sync" });
    const added = state.addCertificate(app, { startDateTime: options.notBefore ?? new Date("2027-01-01T00:00:00Z"), endDateTime: options.notAfter ?? new Date("2027-08-01T00:00:00Z"), subject: "calendar-sync web" });
    return { app, pem: added.pem, privateKeyPem: added.privateKeyPem, certificatePem: added.certificatePem, key: asGraph(added.credential) };
}

function asGraph(key: KeyCredential): GraphKeyCredential {
    return { keyId: key.keyId, displayName: key.displayName, type: key.type, usage: key.usage, startDateTime: key.startDateTime.toISOString(), endDateTime: key.endDateTime.toISOString(), customKeyIdentifier: key.customKeyIdentifier };
}

const decode = (segment: string) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as Record<string, unknown>;

/** Every base64 line of a PEM's body: none may appear in a problem. */
const pemLines = (...pems: string[]) => pems.flatMap((pem) => pem.split("\n").filter((line) => line.length > 16 && !line.startsWith("-----")));

describe("removeKeyProof", () => {
    it("signs a proof the emulator's removeKey accepts for the right application, and for no other", () => {
        const state = new EmulatorState({ now });
        const { app, pem, key } = appWithCertificate(state);
        const made = removeKeyProof(app.id, pem, key, now);
        expect("proof" in made).toBe(true);
        const proof = (made as { proof: string }).proof;
        const check = checkProof(proof, app, now);
        expect(check).toMatchObject({ ok: true });
        expect((check as { signedWith: KeyCredential }).signedWith.keyId).toBe(key.keyId);

        // As Microsoft's pages say: RS256, named by x5t and kid; aud, iss = object id, exp = nbf + 10 minutes; no padding.
        const [header, payload] = proof.split(".") as [string, string, string];
        expect(proof).not.toContain("=");
        const thumbprint = app.keyCredentials[0]!.certificate.thumbprintSha1;
        expect(decode(header)).toEqual({ alg: "RS256", typ: "JWT", x5t: Buffer.from(thumbprint, "hex").toString("base64url"), kid: thumbprint });
        const claims = decode(payload);
        expect(claims).toMatchObject({ aud: removeKeyProofAudience, iss: app.id });
        expect((claims["exp"] as number) - (claims["nbf"] as number)).toBe(600);

        // Another application: the certificate is not its own; with the same certificate registered there, the issuer is not it.
        const other = state.addApplication({ displayName: "other" });
        expect(checkProof(proof, other, now)).toEqual({ ok: false, reason: "the certificate the header names is not a key credential of this application" });
        state.registerCertificate(other, app.keyCredentials[0]!.certificatePem);
        expect(checkProof(proof, other, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/^iss is .* not the application's object id/) });
        // Signed for the client id instead of the object id: refused, as Graph refuses it.
        const byClientId = removeKeyProof(app.appId, pem, key, now) as { proof: string };
        expect(checkProof(byClientId.proof, app, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/^iss is/) });
    });

    it("stamps nbf from the machine's clock (Graph judges it by its own), or from stampedAt", () => {
        const state = new EmulatorState({ now });
        const { app, pem, key } = appWithCertificate(state);
        const stampedAt = new Date("2027-03-01T05:59:00Z");
        const claims = decode((removeKeyProof(app.id, pem, key, now, stampedAt) as { proof: string }).proof.split(".")[1]!);
        expect(claims).toMatchObject({ nbf: stampedAt.getTime() / 1000, exp: stampedAt.getTime() / 1000 + 600 });
        const wall = decode((removeKeyProof(app.id, pem, key, now) as { proof: string }).proof.split(".")[1]!);
        expect(Math.abs((wall["nbf"] as number) - Date.now() / 1000)).toBeLessThan(60);
    });

    it("refuses a private key that is not the certificate's, another certificate than the application's, one not valid now, and what is not PEM", () => {
        const state = new EmulatorState({ now });
        const { app, pem, privateKeyPem, certificatePem, key } = appWithCertificate(state);
        const otherKeys = generateRsaKeyPair();
        const otherCertificate = createClientCertificate({ subject: "calendar-sync web", notBefore: new Date("2027-01-01T00:00:00Z"), notAfter: new Date("2027-08-01T00:00:00Z"), keyPair: otherKeys });
        const cases: [string, string, Date, string][] = [
            ["wrong key", `${otherKeys.privateKeyPem}${certificatePem}`, now, "the served private key is not the served certificate's"],
            ["wrong certificate", otherCertificate.pem, now, `the served certificate is not the one the application holds as key ${key.keyId}`],
            ["expired certificate", pem, new Date("2027-08-02T00:00:00Z"), "the served certificate is not valid now"],
            ["not yet valid", pem, new Date("2026-12-31T00:00:00Z"), "the served certificate is not valid now"],
            ["certificate only", certificatePem, now, "what Key Vault serves is not a PEM bundle of a private key and a certificate"],
            ["a client secret", "Xy~8Q~abcdefghijklmnopqrstuvwxyz0123456789", now, "what Key Vault serves is not a PEM bundle of a private key and a certificate"],
            ["PKCS#12 (base64)", Buffer.from(pem).toString("base64"), now, "what Key Vault serves is not a PEM bundle of a private key and a certificate"],
            ["broken PEM", `-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n${certificatePem}`, now, "the served private key or certificate cannot be read"],
        ];
        for (const [name, bundle, at, problem] of cases) {
            const made = removeKeyProof(app.id, bundle, key, at);
            expect(made, name).toEqual({ problem });
            // Never any of the value in what is said.
            for (const line of pemLines(pem, otherCertificate.pem, privateKeyPem)) expect((made as { problem: string }).problem, name).not.toContain(line);
            expect((made as { problem: string }).problem, name).not.toMatch(/BEGIN|Xy~8Q/);
        }
        // The key in PKCS#1 ("RSA PRIVATE KEY", as @pulumi/tls's privateKeyPem) signs too.
        const pkcs1 = state.addApplication({ displayName: "pkcs1" });
        const keys = generateRsaKeyPair();
        const generated = createClientCertificate({ subject: "pkcs1", notBefore: new Date("2027-01-01T00:00:00Z"), notAfter: new Date("2027-08-01T00:00:00Z"), keyPair: keys });
        const registered = state.registerCertificate(pkcs1, generated.certificatePem);
        const rsaKey = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const signed = removeKeyProof(pkcs1.id, `${rsaKey}${generated.certificatePem}`, asGraph(registered), now) as { proof: string };
        expect(checkProof(signed.proof, pkcs1 as Application, now)).toMatchObject({ ok: true });
    });
});

// ---------------------------------------------------------------------------------------------------------
// The report and its exit code

describe("retireReport", () => {
    const stack = stackWith({ "mail-sender": [{ ...portalSecret, retire: true }] });
    const row = (outcome: RetireOutcome): RetireRow => ({ app: "mail-sender", keyId: portalSecret.keyId, kind: "secret", displayName: null, expires: "2027-09-01T00:00:00Z", path: "apps[0].existing[0]", outcome, lastSignIn: null, evidence: null, forced: false, message: "" });
    const exit = (...rows: RetireOutcome[]) => retireReport(stack, rows.map(row), report(stack), now, { ...options, dryRun: false }).exitCode;

    it("exits 0 when everything marked was removed, would be, or was gone, and when nothing is marked", () => {
        expect(exit()).toBe(0);
        expect(exit("removed", "would-remove", "gone")).toBe(0);
        const empty = retireReport(stackWith({}), [], null, now, { ...options, dryRun: true });
        expect(empty).toMatchObject({ schemaVersion: 1, project: "entra-rotor", stack: "dev", at: "2027-03-01T06:00:00Z", dryRun: true, usage: null, rows: [], exitCode: 0 });
    });

    it("exits 2 when a marked credential was kept for a reason someone must act on", () => {
        for (const outcome of ["in-use", "no-evidence", "managed", "not-found", "no-proof"] as const) expect(exit("removed", outcome), outcome).toBe(2);
    });

    it("exits 1 when Graph failed a removal, whatever else happened", () => {
        expect(exit("failed")).toBe(1);
        expect(exit("in-use", "failed", "removed")).toBe(1);
    });

    it("counts every outcome and carries the evidence it went by", () => {
        const made = retireReport(stack, [row("removed"), row("removed"), row("in-use")], { ...noLicence, notes: ["a note"] }, now, { usedWithinDays: 14, force: true, dryRun: false });
        expect(made.counts).toEqual({ removed: 2, "would-remove": 0, gone: 0, "in-use": 1, "no-evidence": 0, managed: 0, "not-found": 0, "no-proof": 0, failed: 0 });
        expect(made).toMatchObject({ usedWithinDays: 14, force: true, dryRun: false, usage: { source: null, since: null, unavailable: noLicence.unavailable, notes: ["a note"] } });
    });
});

describe("renderRetire", () => {
    it("shows a display name from the tenant as written: never terminal control, never markup", () => {
        const hostile = "\u001b]8;;https://evil.example\u0007Portal\u001b]8;;\u0007 | <img src=x> **bold**\nnext";
        const stack = stackWith({ "mail-sender": [{ ...portalSecret, retire: true }] });
        const row: RetireRow = { app: "mail-sender", keyId: portalSecret.keyId, kind: "secret", displayName: hostile, expires: "2027-09-01T00:00:00Z", path: "apps[0].existing[0]", outcome: "would-remove", lastSignIn: null, evidence: "none in Entra's credential sign-in report", forced: true, message: "FORCED: ..." };
        const made = retireReport(stack, [row], noLicence, now, { ...options, force: true, dryRun: true });
        const table = renderRetire(made, "table");
        expect(table).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
        expect(table.split("\n")[0]).toMatch(/^WARNING: --force would remove 1 credential with no usage evidence at all/);
        const markdown = renderRetire(made, "markdown");
        expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
        expect(markdown).not.toContain("<img");
        const tableRow = markdown.split("\n").find((line) => line.includes(portalSecret.keyId) && line.startsWith("| would-remove"))!;
        // One row of eight cells: the name's pipe and line break end nothing.
        expect(tableRow.split(/(?<!\\)\|/).length - 2).toBe(8);
        expect(JSON.parse(renderRetire(made, "json")).rows[0].displayName).toBe(hostile);
    });
});
