import { ClientCertificateCredential, ClientSecretCredential } from "@azure/identity";
import { backOff } from "exponential-backoff";
import { type SignInAnswer, signInObserver } from "./signInAnswer";

/**
 * Proving a credential works before Key Vault serves it. Key Vault does not enforce `nbf`: whatever is
 * written is live for consumers at once, so an unproven value must never reach it. Entra replicates new
 * credentials over seconds to minutes, so a fresh one is retried with backoff before it is declared broken;
 * a failure that waiting cannot fix stops the gate at once.
 */

/** What to sign in as. `secret` is the credential value; it is only handed to the probe, never printed. */
export interface ProbeTarget {
    /** Names the credential in messages, e.g. `mail-sender/main`. */
    readonly label: string;
    readonly tenantId: string;
    readonly clientId: string;
    /** `secret`: a client secret; `certificate`: a PEM bundle of private key and certificate. */
    readonly kind: "secret" | "certificate";
    readonly secret: string;
    /**
     * When Entra made the credential (its start date: the program sends none, so Entra starts it when it is
     * created), ISO-8601. Entra's replication explains a refusal only for a while after it; default: the
     * gate's first attempt.
     */
    readonly createdAt?: string;
}

/**
 * Acquires a client-credentials token with the target, resolving on success and throwing otherwise. The error
 * may carry what the sign-in service answered (`signInAnswer`), which the SDK's own errors lose.
 */
export type CredentialProbe = (target: ProbeTarget) => Promise<void>;

export interface VerifyOptions {
    /** Attempts in all, the first included. Default 8: about four minutes with the default delays. */
    readonly attempts?: number;
    /** Delay before the second attempt, in milliseconds; doubled each time. Default 2,000. */
    readonly initialDelayMs?: number;
    /** Upper bound of one delay, in milliseconds. Default 60,000. */
    readonly maxDelayMs?: number;
    /** How long after its creation a refusal of the credential may be Entra's replication (default 10 minutes). */
    readonly replicationWindowMs?: number;
}

/**
 * Entra documents replication of a new credential as taking "seconds to minutes" (the team's DESIGN.md,
 * "Admin consent"); ten minutes is past every delay reported, and well past the gate's own four minutes.
 */
export const defaultReplicationWindowMs = 10 * 60_000;

export class CredentialVerificationError extends Error {
    constructor(
        readonly label: string,
        readonly attempts: number,
        readonly lastError: string,
        /** Why waiting could not fix it, when the gate stopped at once; undefined when the attempts ran out. */
        readonly permanent?: string,
    ) {
        super(
            permanent
                ? `${label}: the new credential cannot authenticate (${permanent}), so Key Vault keeps serving the previous one; stopped after ${attempts} attempt${attempts === 1 ? "" : "s"}. ` +
                      `Last error: ${lastError.replace(/\.+$/, "")}. Check the app's credentials in Entra (rotor verify), then run pulumi up again.`
                : `${label}: the new credential did not authenticate after ${attempts} attempt${attempts === 1 ? "" : "s"}, so Key Vault keeps serving the previous one. ` +
                      `Last error: ${lastError.replace(/\.+$/, "")}. Check the app's credentials in Entra (rotor verify), then run pulumi up again.`,
        );
        this.name = "CredentialVerificationError";
    }
}

/** How the gate takes one failed attempt: retry it (Entra still replicating, the service unwell), or stop. */
export type ProbeFailureKind = { readonly kind: "replicating" } | { readonly kind: "transient" } | { readonly kind: "permanent"; readonly reason: string };

/** AADSTS codes that no wait fixes, with what they mean for the credential. */
const permanentCodes: Readonly<Record<string, string>> = {
    AADSTS90002: "the tenant does not exist in this cloud",
    AADSTS900023: "the tenant id is malformed",
    AADSTS7000222: "the credential has expired",
    AADSTS7000112: "the application is disabled",
    AADSTS53003: "a Conditional Access policy blocks the sign-in",
};

/**
 * Codes Entra answers for a credential (or an application) it does not know yet: replication for a while
 * after it was made, and after that a credential that is not the application's (deleted by hand, or the
 * application replaced).
 */
const replicationCodes: Readonly<Record<string, string>> = {
    AADSTS7000215: "Entra does not know this client secret",
    AADSTS700027: "Entra does not know this certificate",
    AADSTS700016: "Entra does not know this application",
};

/**
 * Classifies one failed attempt from what the SDK raised (its message's first line) and what the sign-in
 * service answered, `sinceCreatedMs` after the credential was made. Pure, so each case is tested alone.
 *
 * An unknown tenant reaches the caller in two forms: on the public and national clouds, whose metadata MSAL
 * has built in, the token endpoint answers AADSTS90002; on any other authority, MSAL first reads the tenant's
 * OpenID metadata, which answers 400 `invalid_tenant`, and raises `endpoints_resolution_error` without the
 * answer: the observed answer tells it from a metadata outage (5xx), which is worth retrying.
 */
export function classifyProbeFailure(text: string, answer: SignInAnswer | undefined, sinceCreatedMs: number, replicationWindowMs = defaultReplicationWindowMs): ProbeFailureKind {
    const codes = [...text.matchAll(/AADSTS\d+/g)].map((m) => m[0]);
    if (answer?.entra) codes.push(...(/AADSTS\d+/.exec(answer.entra) ?? []));
    for (const code of codes) {
        const reason = permanentCodes[code];
        if (reason) return { kind: "permanent", reason: `${reason}, ${code}` };
    }
    if (answer?.error === "invalid_tenant" || (/endpoints_resolution_error/.test(text) && answer?.status !== undefined && answer.status >= 400 && answer.status < 500)) {
        return { kind: "permanent", reason: `the tenant does not exist in this cloud: its sign-in metadata answered ${answer?.status ?? 400}${answer?.error ? ` ${answer.error}` : ""}` };
    }
    for (const code of codes) {
        const meaning = replicationCodes[code];
        if (!meaning) continue;
        if (sinceCreatedMs <= replicationWindowMs) return { kind: "replicating" };
        const minutes = Math.round(sinceCreatedMs / 60_000);
        return { kind: "permanent", reason: `${meaning} ${minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${minutes} minutes`} after it was made, past Entra's replication, ${code}` };
    }
    return { kind: "transient" };
}

/**
 * Runs the probe until it succeeds, a failure that no wait fixes comes back, or the attempts are spent.
 * Errors are reduced to their first line with the target's secret removed, so nothing of a value can reach a
 * log or a Pulumi diagnostic.
 */
export async function verifyCredential(probe: CredentialProbe, target: ProbeTarget, options: VerifyOptions = {}): Promise<number> {
    const attempts = options.attempts ?? 8;
    const createdAt = target.createdAt !== undefined && !Number.isNaN(Date.parse(target.createdAt)) ? Date.parse(target.createdAt) : Date.now();
    let made = 0;
    let last = "";
    let permanent: string | undefined;
    try {
        await backOff(
            async () => {
                made++;
                await probe(target);
            },
            {
                numOfAttempts: attempts,
                startingDelay: options.initialDelayMs ?? 2_000,
                maxDelay: options.maxDelayMs ?? 60_000,
                timeMultiple: 2,
                jitter: "full",
                retry: (error: unknown) => {
                    const answer = (error as { signInAnswer?: SignInAnswer } | null)?.signInAnswer;
                    last = describeProbeError(error, target.secret, answer);
                    const kind = classifyProbeFailure(last, answer, Date.now() - createdAt, options.replicationWindowMs);
                    if (kind.kind === "permanent") permanent = kind.reason;
                    return kind.kind !== "permanent";
                },
            },
        );
        return made;
    } catch (error) {
        throw new CredentialVerificationError(target.label, made, last || describeError(error, target.secret), permanent);
    }
}

/**
 * The attempt's error in one line, with the service's answer when the SDK's message lost it (an
 * `endpoints_resolution_error` says nothing of the 400 or 503 behind it).
 */
export function describeProbeError(error: unknown, secret: string, answer?: SignInAnswer): string {
    const line = describeError(error, secret);
    if (!answer || /AADSTS\d+/.test(line)) return line;
    const said = answer.status !== undefined ? `the sign-in service answered ${answer.status}${answer.error ? ` ${answer.error}` : ""}${answer.entra ? ` (${answer.entra})` : ""}` : `no answer (${answer.network ?? "no answer"})`;
    const text = `${line} [${said}]`;
    return secret ? text.split(secret).join("[secret]") : text;
}

/**
 * The first line of an error, with the secret taken out. Entra's error descriptions break lines with CRLF
 * ("AADSTS7000215: ...\r\nTrace ID: ...\r\nCorrelation ID: ..."): the first line is the message, and no
 * carriage return may reach a table or a log.
 */
export function describeError(error: unknown, secret: string): string {
    const text = error instanceof Error ? error.message : String(error);
    const firstLine = (text.split(/\r?\n|\r/).find((line) => line.trim() !== "") ?? "unknown error").trim();
    return secret ? firstLine.split(secret).join("[secret]") : firstLine;
}

/** Where tokens come from: public Azure unless the stack or the environment says otherwise (sovereign clouds, tests). */
export interface ProbeEndpoints {
    /** e.g. `https://login.microsoftonline.com`. */
    readonly authorityHost?: string;
    /** The scope to request; any resource the tenant knows works for a client-credentials grant. */
    readonly scope?: string;
    /** For authorities MSAL cannot look up in the public cloud's instance discovery (sovereign proxies, emulators). */
    readonly disableInstanceDiscovery?: boolean;
}

/**
 * The real probe: a client-credentials token for Microsoft Graph with @azure/identity, with a client
 * secret or a certificate (client assertion). A new credential object per attempt: a cached token would
 * prove nothing about a new value. The SDK makes no retries of its own: the gate's backoff is the one
 * schedule of attempts, and each attempt's answer is observed for the classification above.
 */
export function entraProbe(endpoints: ProbeEndpoints = {}): CredentialProbe {
    return async (target) => {
        const observer = signInObserver();
        const options = {
            ...(endpoints.authorityHost ? { authorityHost: endpoints.authorityHost } : {}),
            ...(endpoints.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
            retryOptions: { maxRetries: 0 },
            ...observer.credentialOptions,
        };
        const credential =
            target.kind === "certificate"
                ? new ClientCertificateCredential(target.tenantId, target.clientId, { certificate: target.secret }, options)
                : new ClientSecretCredential(target.tenantId, target.clientId, target.secret, options);
        try {
            await credential.getToken(endpoints.scope ?? "https://graph.microsoft.com/.default");
        } catch (error) {
            const answer = observer.last();
            if (answer && error !== null && typeof error === "object") Object.defineProperty(error, "signInAnswer", { value: answer, enumerable: false });
            throw error;
        }
    };
}

/** The environment variables that tune the gate, for a pipeline whose tenant replicates slowly (or a test). */
export const verifyVariables = { attempts: "ROTOR_VERIFY_ATTEMPTS", initialDelayMs: "ROTOR_VERIFY_FIRST_DELAY_MS" } as const;

/** The gate's options from the environment; throws a RangeError naming the variable and its bounds. */
export function verifyOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): VerifyOptions {
    const read = (name: string, min: number, max: number): number | undefined => {
        const raw = env[name];
        if (raw === undefined || raw === "") return undefined;
        const value = Number(raw);
        if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`);
        return value;
    };
    const attempts = read(verifyVariables.attempts, 1, 20);
    const initialDelayMs = read(verifyVariables.initialDelayMs, 1, 60_000);
    return { ...(attempts !== undefined ? { attempts } : {}), ...(initialDelayMs !== undefined ? { initialDelayMs } : {}) };
}
