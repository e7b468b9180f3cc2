import { createHash, createPrivateKey, sign, X509Certificate } from "node:crypto";
import type { ExistingCredentialModel } from "../../infra/model/existing";
import type { AppModel, StackModel } from "../../infra/model/model";
import type { GraphKeyCredential, GraphPasswordCredential } from "../../azure/graph";
import { parsePasswordDisplayName } from "../../rotation/identifiers";
import { dateToIsoSeconds } from "../../rotation/instants";
import { assessStatus, type LiveState, thumbprintOf } from "./status";
import { signInEvidence, unavailableText, type UsageEvidence, type UsageUnavailable } from "./usage";

export { unavailableText };

/**
 * `rotor retire`: removes the credentials a stack lists under `existing` with `retire: true` (made before the
 * stack, in the portal; marked in a reviewed pull request), and nothing else. Pure: the live part
 * (live/commands.ts) reads the tenant, the vault and Entra's sign-in evidence, and removes what this module
 * decides. A marked credential is removed only when:
 *
 * - it is not one of the stack's own (a slot of a rotating credential, a certificate file, what Key Vault
 *   serves), as the live state tells: such a key id is never removed, whatever the config says;
 * - no sign-in with it within `--used-within` days is on record. A recorded sign-in is never overridden;
 *   evidence that cannot be read at all (no Entra ID P1/P2, no AuditLog.Read.All) is overridden only by
 *   `--force`, which the output says loudly;
 * - for a certificate, a proof can be signed: Graph's removeKey takes a JWT signed with the private key of one
 *   of the application's valid certificates (removeKeyProof, below), which rotor has only for the stack's own
 *   generated certificates, served from Key Vault.
 */

/**
 * - `removed`: Graph removed it (`--yes`);
 * - `would-remove`: a dry run: `--yes` removes it;
 * - `gone`: the application no longer has it (removed earlier): nothing to do; delete the entry from the stack;
 * - `in-use`: a sign-in within `--used-within` days is on record;
 * - `no-evidence`: Entra's sign-in evidence could not be read, and `--force` was not given;
 * - `managed`: the key id is one of the stack's own credentials: never removed;
 * - `not-found`: the stack's application is not in the tenant;
 * - `no-proof`: a certificate, and no valid certificate of the application to sign removeKey's proof with;
 * - `failed`: Graph refused the removal.
 */
export type RetireOutcome = "removed" | "would-remove" | "gone" | "in-use" | "no-evidence" | "managed" | "not-found" | "no-proof" | "failed";

export const retireOutcomes: readonly RetireOutcome[] = ["removed", "would-remove", "gone", "in-use", "no-evidence", "managed", "not-found", "no-proof", "failed"];

/** Outcomes that leave a marked credential in place for a reason someone must act on: exit 2. */
export const refusedOutcomes: readonly RetireOutcome[] = ["in-use", "no-evidence", "managed", "not-found", "no-proof"];

export interface RetireRow {
    readonly app: string;
    readonly keyId: string;
    /** As the application holds it (the stack's `kind` when the application no longer has it). */
    readonly kind: "secret" | "certificate";
    /** Entra's display name, else the stack's. */
    readonly displayName: string | null;
    readonly expires: string;
    /** Where the stack marks it, e.g. `apps[2].existing[0]`. */
    readonly path: string;
    readonly outcome: RetireOutcome;
    /** The last sign-in with it on record; null when none is (or no evidence could be read). */
    readonly lastSignIn: string | null;
    /** What the evidence says of it, in words (`none in Entra's credential sign-in report`); null without evidence. */
    readonly evidence: string | null;
    /** Removed (or to be removed) without evidence, because of `--force`. */
    readonly forced: boolean;
    /** Why, and what to do; for a removal, what was done. */
    readonly message: string;
}

export interface RetireReport {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    /** Without `--yes`: nothing is removed. */
    readonly dryRun: boolean;
    readonly force: boolean;
    readonly usedWithinDays: number;
    /** Where the evidence came from, or why there is none; null when nothing is marked (nothing was read). */
    readonly usage: { readonly source: UsageEvidence["source"]; readonly since: string | null; readonly unavailable: UsageUnavailable | null; readonly notes: readonly string[] } | null;
    readonly rows: readonly RetireRow[];
    readonly counts: Readonly<Record<RetireOutcome, number>>;
    /** 0 done (or nothing to do), 2 when a marked credential could not be retired, 1 when Graph failed a removal. */
    readonly exitCode: 0 | 1 | 2;
}

export interface RetireOptions {
    /** A sign-in within this many days keeps a credential. */
    readonly usedWithinDays: number;
    /** Remove without evidence when none can be read. */
    readonly force: boolean;
}

/** What Key Vault serves that can sign removeKey's proof: a generated certificate of the app, valid on it now. */
export interface ProofSigner {
    readonly credential: string;
    readonly keyVaultSecretName: string;
    /** The key credential on the application that the served certificate is. */
    readonly key: GraphKeyCredential;
}

/** One marked credential and what to do with it: `remove` it, or the outcome it already has. */
export interface RetireDecision {
    readonly app: AppModel;
    readonly entry: ExistingCredentialModel;
    /** The application's object id, when it is in the tenant. */
    readonly objectId: string | null;
    readonly row: RetireRow;
    /** Whether it is to be removed (with `--yes`) or would be (without). */
    readonly remove: boolean;
    /** For a certificate to remove: the certificates of the stack that may sign the proof, newest first. */
    readonly signers: readonly ProofSigner[];
}

const dayMs = 86_400_000;

/** The credentials the stack marks `retire: true`, app by app. */
export function markedForRetirement(model: StackModel): { app: AppModel; entry: ExistingCredentialModel }[] {
    return model.apps.flatMap((app) => app.existing.filter((entry) => entry.retire).map((entry) => ({ app, entry })));
}

/**
 * The key ids of the stack's own credentials on the app, lower case: the slots and certificate files status
 * recognises, whatever Key Vault serves, and any secret whose display name is one of the app's credentials'.
 */
function managedKeyIds(model: StackModel, live: LiveState, now: Date): Map<string, Set<string>> {
    const byApp = new Map<string, Set<string>>();
    const add = (app: string, keyId: string) => {
        if (!byApp.has(app)) byApp.set(app, new Set());
        byApp.get(app)!.add(keyId.toLowerCase());
    };
    for (const row of assessStatus(model, live, now).rows) if ((row.owner === "stack" || row.owner === "file") && row.keyId) add(row.app, row.keyId);
    for (const app of model.apps) {
        for (const credential of app.credentials) {
            const served = live.vaultSecrets?.get(credential.keyVaultSecretName.toLowerCase())?.tags["keyId"];
            if (served) add(app.name, served);
        }
        const names = new Set(app.credentials.map((c) => c.name));
        for (const p of live.apps.get(app.name)?.application.passwordCredentials ?? []) if (names.has(parsePasswordDisplayName(p.displayName)?.credential ?? "")) add(app.name, p.keyId);
    }
    return byApp;
}

/** The app's generated certificates that Key Vault serves and the application holds, valid at `now`. */
export function proofSigners(app: AppModel, live: LiveState, now: Date): ProofSigner[] {
    const application = live.apps.get(app.name)?.application;
    if (!application) return [];
    const signers: ProofSigner[] = [];
    for (const credential of app.credentials) {
        if (credential.type !== "certificate") continue;
        const served = live.vaultSecrets?.get(credential.keyVaultSecretName.toLowerCase());
        const keyId = served?.enabled ? served.tags["keyId"]?.toLowerCase() : undefined;
        const key = keyId ? application.keyCredentials.find((k) => k.keyId.toLowerCase() === keyId) : undefined;
        if (!key) continue;
        const valid = (!key.startDateTime || Date.parse(key.startDateTime) <= now.getTime()) && (!key.endDateTime || Date.parse(key.endDateTime) > now.getTime());
        if (valid) signers.push({ credential: credential.name, keyVaultSecretName: credential.keyVaultSecretName, key });
    }
    return signers;
}

/**
 * What to do with each marked credential, from the live state and the evidence: everything but the removal
 * itself (and the proof, which needs the served certificate's private key).
 */
export function decideRetirements(model: StackModel, live: LiveState, evidence: UsageEvidence, now: Date, options: RetireOptions): RetireDecision[] {
    const managed = managedKeyIds(model, live, now);
    const available = evidence.source !== null;
    return markedForRetirement(model).map(({ app, entry }): RetireDecision => {
        const application = live.apps.get(app.name)?.application;
        const base = { app: app.name, keyId: entry.keyId, kind: entry.kind, displayName: entry.displayName, expires: dateToIsoSeconds(new Date(entry.expires)), path: entry.path, lastSignIn: null, evidence: null, forced: false };
        const decided = (outcome: RetireOutcome, message: string, extra: Partial<RetireRow> = {}): RetireDecision => ({
            app,
            entry,
            objectId: application?.id ?? null,
            row: { ...base, ...extra, outcome, message },
            remove: false,
            signers: [],
        });
        if (!application) return decided("not-found", "the stack's application is not in the tenant (run rotor status): nothing was removed");
        if (managed.get(app.name)?.has(entry.keyId)) {
            return decided("managed", "this key id is one of the stack's own credentials, not one made before it: never removed; correct the stack's existing list");
        }
        const password: GraphPasswordCredential | undefined = application.passwordCredentials.find((p) => p.keyId.toLowerCase() === entry.keyId);
        const key: GraphKeyCredential | undefined = application.keyCredentials.find((k) => k.keyId.toLowerCase() === entry.keyId);
        const found = password ?? key;
        if (!found) return decided("gone", "the application no longer has it: nothing to do; delete the entry from the stack's existing list");
        const kind = password ? "secret" : "certificate";
        const facts = { kind, displayName: found.displayName ?? entry.displayName, expires: found.endDateTime ? dateToIsoSeconds(new Date(found.endDateTime)) : base.expires } as const;
        const lastSignIn = available ? (evidence.lastSignIns.get(application.appId.toLowerCase())?.get(entry.keyId) ?? null) : null;
        const said = available ? signInEvidence(lastSignIn, evidence, now) : null;
        const known = { ...facts, lastSignIn, evidence: said };
        if (lastSignIn !== null && now.getTime() - Date.parse(lastSignIn) <= options.usedWithinDays * dayMs) {
            return decided("in-use", `a sign-in with it within ${options.usedWithinDays} days is on record (${said}): kept; move its consumers to Key Vault's value first (--force does not override a recorded sign-in)`, known);
        }
        if (!available && !options.force) {
            return decided("no-evidence", `no usage evidence could be read (${unavailableText(evidence.unavailable)}): kept, since nothing shows it is unused (--force removes it anyway)`, known);
        }
        const forced = !available;
        const why = forced ? `FORCED: removed without evidence that nobody uses it (${unavailableText(evidence.unavailable)})` : `no sign-in within ${options.usedWithinDays} days (${said})`;
        const signers = kind === "certificate" ? proofSigners(app, live, now) : [];
        if (kind === "certificate" && signers.length === 0) {
            return decided(
                "no-proof",
                `Graph removes a certificate only with a proof signed by a valid certificate of the application, and Key Vault serves none for this app (no generated certificate of the stack is valid on it): kept; remove it in the Entra admin center`,
                { ...known, forced },
            );
        }
        return { app, entry, objectId: application.id, row: { ...base, ...known, forced, outcome: "would-remove", message: why }, remove: true, signers };
    });
}

/**
 * The audience of removeKey's proof: "aud - Audience needs to be 00000002-0000-0000-c000-000000000000" in
 * Microsoft Graph's "application: removeKey" (learn.microsoft.com/graph/api/application-removekey) and "Generate
 * proof of possession tokens for rolling keys" (learn.microsoft.com/graph/application-rollkey-prooftoken).
 */
export const removeKeyProofAudience = "00000002-0000-0000-c000-000000000000";

/** How long a proof is valid: Graph's pages ask for `exp` = `nbf` + 10 minutes at most. */
export const removeKeyProofLifetimeSeconds = 600;

function base64url(data: Buffer | string): string {
    return Buffer.from(data).toString("base64url");
}

/**
 * The proof `POST /applications/{id}/removeKey` requires: a self-signed JWT (RS256) over `aud`
 * (removeKeyProofAudience), `iss` (the application's object id, not its client id), `nbf` and `exp` (`nbf` + 10
 * minutes), signed with the private key of one of the application's valid certificates. The header names the
 * certificate as Microsoft's sample (X509SigningCredentials) does: `x5t`, the base64url SHA-1 thumbprint, and
 * `kid`, the thumbprint in hex. Base64url without `=` padding: with it Graph answers
 * Authentication_MissingOrMalformed (the proof token page).
 *
 * `pemBundle` is what Key Vault serves for a generated certificate (PKCS#8 private key, then the certificate).
 * It must be the certificate the application holds as `key` and valid at `now`; every problem is said without
 * any of the value. `nbf` and `exp` are stamped from `stampedAt`, the machine's clock by default: Graph judges
 * them by its own, as it does a client assertion's (which @azure/identity stamps with Date.now() too).
 */
export function removeKeyProof(objectId: string, pemBundle: string, key: GraphKeyCredential, now: Date, stampedAt: Date = new Date()): { proof: string } | { problem: string } {
    const keyBlock = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA )?PRIVATE KEY-----/.exec(pemBundle)?.[0];
    const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pemBundle)?.[0];
    if (!keyBlock || !certificateBlock) return { problem: "what Key Vault serves is not a PEM bundle of a private key and a certificate" };
    let certificate: X509Certificate;
    let privateKey: ReturnType<typeof createPrivateKey>;
    try {
        certificate = new X509Certificate(certificateBlock);
        privateKey = createPrivateKey(keyBlock);
    } catch {
        return { problem: "the served private key or certificate cannot be read" };
    }
    if (!certificate.checkPrivateKey(privateKey)) return { problem: "the served private key is not the served certificate's" };
    const thumbprint = createHash("sha1").update(certificate.raw).digest();
    const registered = thumbprintOf(key);
    if (registered !== undefined && registered !== thumbprint.toString("hex").toUpperCase()) return { problem: `the served certificate is not the one the application holds as key ${key.keyId}` };
    if (Date.parse(certificate.validTo) <= now.getTime() || Date.parse(certificate.validFrom) > now.getTime()) return { problem: "the served certificate is not valid now" };
    const nbf = Math.floor(stampedAt.getTime() / 1000);
    const header = { alg: "RS256", typ: "JWT", x5t: base64url(thumbprint), kid: thumbprint.toString("hex").toUpperCase() };
    const payload = { aud: removeKeyProofAudience, iss: objectId, nbf, exp: nbf + removeKeyProofLifetimeSeconds };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    return { proof: `${input}.${base64url(sign("RSA-SHA256", Buffer.from(input), privateKey))}` };
}

/** The report of the decisions, with the outcomes the live part gave them. */
export function retireReport(model: StackModel, rows: readonly RetireRow[], evidence: UsageEvidence | null, now: Date, options: RetireOptions & { readonly dryRun: boolean }): RetireReport {
    const counts = Object.fromEntries(retireOutcomes.map((o) => [o, rows.filter((r) => r.outcome === o).length])) as Record<RetireOutcome, number>;
    return {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: dateToIsoSeconds(now),
        dryRun: options.dryRun,
        force: options.force,
        usedWithinDays: options.usedWithinDays,
        usage: evidence ? { source: evidence.source, since: evidence.since, unavailable: evidence.unavailable, notes: [...evidence.notes] } : null,
        rows,
        counts,
        exitCode: counts.failed > 0 ? 1 : rows.some((r) => refusedOutcomes.includes(r.outcome)) ? 2 : 0,
    };
}
