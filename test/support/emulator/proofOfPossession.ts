import { constants, verify } from "node:crypto";
import type { Application, KeyCredential } from "./state";

/**
 * The proof `removeKey` (and `addKey`) ask for, checked as Microsoft documents it:
 *
 * - "application: removeKey" (learn.microsoft.com/graph/api/application-removekey): `proof` is "a self-signed
 *   JWT token used as a proof of possession of the existing keys. This JWT token must be signed using the
 *   private key of one of the application's existing valid certificates", with `aud`
 *   `00000002-0000-0000-c000-000000000000`, `iss` "the id of the application on which the call is made",
 *   `nbf`, and `exp` "nbf + 10 mins";
 * - "Generate proof of possession tokens for rolling keys" (learn.microsoft.com/graph/application-rollkey-prooftoken):
 *   applications without a valid certificate "can't use this service action"; the padding character `=` "must
 *   not be included in the JWT header and payload or an Authentication_MissingOrMalformed error is returned".
 *   Its sample signs with .NET's X509SigningCredentials, whose header names the certificate by `kid` (the
 *   SHA-1 thumbprint in hex) and `x5t` (the same thumbprint, base64url), with alg RS256.
 *
 * Every refusal is Graph's 401 `Authentication_MissingOrMalformed` "Access Token missing or malformed."
 * (microsoftgraph/microsoft-graph-docs#10686 and #22076 report exactly that for proofs with the wrong
 * audience or signer); `reason` says which check failed, for the request log only: Graph does not say.
 *
 * Which certificate signed: the one the header names (x5t, x5t#S256 or a hex-thumbprint kid), else any of the
 * app's. It must be one of the app's key credentials, valid now on the emulator clock (the key being removed
 * may sign its own removal: nothing documented forbids it). `nbf`/`exp` are judged on the wall clock with
 * five minutes' skew, like client assertions (token.ts): the code under test stamps them with Date.now().
 */

export const proofAudience = "00000002-0000-0000-c000-000000000000";
/** The longest proof the documentation allows: exp = nbf + 10 minutes. */
export const proofMaxLifetimeSeconds = 600;
const allowedSkewSeconds = 300;

export type ProofCheck = { readonly ok: true; readonly signedWith: KeyCredential } | { readonly ok: false; readonly reason: string };

function decodeJson(segment: string): Record<string, unknown> | undefined {
    try {
        const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
        return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

function signatureValid(alg: string, signingInput: Buffer, signature: Buffer, key: KeyCredential): boolean {
    if (alg === "RS256") return verify("sha256", signingInput, key.certificate.publicKey, signature);
    if (alg === "PS256") return verify("sha256", signingInput, { key: key.certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    return false;
}

/** The certificates the header names, or undefined when it names none. */
function namedKeys(header: Record<string, unknown>, app: Application): KeyCredential[] | undefined {
    const x5tS256 = typeof header["x5t#S256"] === "string" ? Buffer.from(header["x5t#S256"], "base64url").toString("hex").toUpperCase() : undefined;
    const x5t = typeof header.x5t === "string" ? Buffer.from(header.x5t, "base64url").toString("hex").toUpperCase() : undefined;
    const kid = typeof header.kid === "string" && /^[0-9a-f]{40}$/i.test(header.kid) ? header.kid.toUpperCase() : undefined;
    if (!x5tS256 && !x5t && !kid) return undefined;
    return app.keyCredentials.filter(
        (k) => (x5tS256 === undefined || k.certificate.thumbprintSha256 === x5tS256) && (x5t === undefined || k.certificate.thumbprintSha1 === x5t) && (kid === undefined || k.certificate.thumbprintSha1 === kid),
    );
}

export function checkProof(proof: unknown, app: Application, now: Date): ProofCheck {
    if (typeof proof !== "string" || proof.length === 0) return { ok: false, reason: "no proof" };
    const parts = proof.split(".");
    if (parts.length !== 3) return { ok: false, reason: "the proof is not a JWS in compact serialization" };
    const [headerText, payloadText, signatureText] = parts as [string, string, string];
    if (/=/.test(headerText) || /=/.test(payloadText)) return { ok: false, reason: "padding '=' in the JWT header or payload" };
    if (![headerText, payloadText, signatureText].every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: "a segment is not base64url" };
    const header = decodeJson(headerText);
    const payload = decodeJson(payloadText);
    if (!header || !payload) return { ok: false, reason: "the header or payload is not JSON" };
    const alg = typeof header.alg === "string" ? header.alg : "";
    if (alg !== "RS256" && alg !== "PS256") return { ok: false, reason: `alg ${alg || "(none)"} is not a certificate signature (RS256, PS256)` };

    const clockMs = now.getTime();
    const valid = (k: KeyCredential) => k.startDateTime.getTime() <= clockMs && clockMs <= k.endDateTime.getTime();
    const named = namedKeys(header, app);
    if (named && named.length === 0) return { ok: false, reason: "the certificate the header names is not a key credential of this application" };
    const candidates = (named ?? app.keyCredentials).filter(valid);
    if (candidates.length === 0) return { ok: false, reason: named ? "the certificate the header names is not valid now" : "the application has no valid certificate" };
    const signingInput = Buffer.from(`${headerText}.${payloadText}`);
    const signature = Buffer.from(signatureText, "base64url");
    const signedWith = candidates.find((k) => signatureValid(alg, signingInput, signature, k));
    if (!signedWith) return { ok: false, reason: "the signature does not verify with a valid certificate of this application" };

    if (payload.aud !== proofAudience) return { ok: false, reason: `aud is ${JSON.stringify(payload.aud)}, not ${proofAudience}` };
    if (typeof payload.iss !== "string" || payload.iss.toLowerCase() !== app.id) return { ok: false, reason: `iss is ${JSON.stringify(payload.iss)}, not the application's object id ${app.id}` };
    const nbf = payload.nbf;
    const exp = payload.exp;
    if (typeof nbf !== "number" || typeof exp !== "number") return { ok: false, reason: "nbf and exp must be numbers (seconds since the epoch)" };
    if (exp <= nbf || exp - nbf > proofMaxLifetimeSeconds) return { ok: false, reason: `exp - nbf is ${exp - nbf} s; a proof lives at most ${proofMaxLifetimeSeconds} s` };
    const wallSeconds = Math.floor(Date.now() / 1000);
    if (wallSeconds < nbf - allowedSkewSeconds) return { ok: false, reason: "the proof is not valid yet (nbf)" };
    if (wallSeconds > exp + allowedSkewSeconds) return { ok: false, reason: "the proof has expired (exp)" };
    return { ok: true, signedWith };
}
