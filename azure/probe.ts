import { ClientCertificateCredential, ClientSecretCredential } from "@azure/identity";
import { backOff } from "exponential-backoff";

/**
 * Proving a credential works before Key Vault serves it. Key Vault does not enforce `nbf`: whatever is
 * written is live for consumers at once, so an unproven value must never reach it. Entra replicates new
 * credentials over seconds to minutes, so a fresh one is retried with backoff before it is declared broken.
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
}

/** Acquires a client-credentials token with the target, resolving on success and throwing Entra's error otherwise. */
export type CredentialProbe = (target: ProbeTarget) => Promise<void>;

export interface VerifyOptions {
    /** Attempts in all, the first included. Default 8: about four minutes with the default delays. */
    readonly attempts?: number;
    /** Delay before the second attempt, in milliseconds; doubled each time. Default 2,000. */
    readonly initialDelayMs?: number;
    /** Upper bound of one delay, in milliseconds. Default 60,000. */
    readonly maxDelayMs?: number;
}

export class CredentialVerificationError extends Error {
    constructor(
        readonly label: string,
        readonly attempts: number,
        readonly lastError: string,
    ) {
        super(
            `${label}: the new credential did not authenticate after ${attempts} attempt${attempts === 1 ? "" : "s"}, so Key Vault keeps serving the previous one. ` +
                `Last error: ${lastError.replace(/\.+$/, "")}. Check the app's credentials in Entra (rotor verify), then run pulumi up again.`,
        );
        this.name = "CredentialVerificationError";
    }
}

/**
 * Errors that more waiting cannot fix: the app or tenant does not exist, the request itself is wrong, the app
 * is disabled (AADSTS7000112), or a Conditional Access policy blocks the sign-in (AADSTS53003).
 */
const permanentCodes = ["AADSTS700016", "AADSTS90002", "AADSTS900023", "AADSTS7000222", "AADSTS7000112", "AADSTS53003"];

/**
 * Runs the probe until it succeeds or the attempts are spent. Errors are reduced to their first line with
 * the target's secret removed, so nothing of a value can reach a log or a Pulumi diagnostic.
 */
export async function verifyCredential(probe: CredentialProbe, target: ProbeTarget, options: VerifyOptions = {}): Promise<number> {
    const attempts = options.attempts ?? 8;
    let made = 0;
    let last = "";
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
                    last = describeError(error, target.secret);
                    return !permanentCodes.some((code) => last.includes(code));
                },
            },
        );
        return made;
    } catch (error) {
        throw new CredentialVerificationError(target.label, made, last || describeError(error, target.secret));
    }
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
 * prove nothing about a new value.
 */
export function entraProbe(endpoints: ProbeEndpoints = {}): CredentialProbe {
    return async (target) => {
        const options = {
            ...(endpoints.authorityHost ? { authorityHost: endpoints.authorityHost } : {}),
            ...(endpoints.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
        };
        const credential =
            target.kind === "certificate"
                ? new ClientCertificateCredential(target.tenantId, target.clientId, { certificate: target.secret }, options)
                : new ClientSecretCredential(target.tenantId, target.clientId, target.secret, options);
        await credential.getToken(endpoints.scope ?? "https://graph.microsoft.com/.default");
    };
}
