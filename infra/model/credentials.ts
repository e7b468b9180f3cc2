import { z } from "zod";
import {
    absoluteMaxLifetimeDays,
    epochBoundsProblem,
    phaseDays,
    type PolicyInput,
    type RotationPolicy,
    type Schedule,
    scheduleAt,
    validateMaxLifetimeDays,
    validatePolicy,
} from "../../rotation/schedule";
import { type ConfigIssue, IssueList, type PathSegment } from "./issues";
import { type CertificateInfo, certificateValidityProblem, readCertificateFile, readCertificateInfo } from "./certificateFile";
import { type ConsumerModel, manualRotateEveryDays, resolveConsumers } from "./consumers";
import { credentialSecretName } from "./keyVault";
import { describe, fallbackErrors, nonEmpty, toConfigIssues } from "./schema";
import { didYouMean } from "./suggest";

/**
 * Credentials in config: their structure, their rotation policy (stack-wide `rotation` defaults, overridable
 * per credential) and, for rotating credentials, their schedule at the model's instant.
 */

export const credentialNamePattern = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const credentialNameRule = "2-32 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit";

/** Policy knobs as config gives them; validatePolicy reports their problems with the fix. */
const policyFields = {
    rotateEveryDays: z.unknown().optional(),
    lifetimeDays: z.unknown().optional(),
};

/** Who reads the value (consumers.ts): at most 50, more than any credential should have. */
const consumersField = {
    // Each consumer is parsed on its own (consumers.ts), so one bad entry neither hides the others' errors nor the credential's.
    consumers: z.array(z.unknown(), { error: "a list of {name, reads, refreshHours?, owner?, instructions?}: who reads the value" }).max(50, { error: "at most 50 consumers" }).optional(),
};

/** `entra-rotor:rotation`: stack-wide defaults for every rotating credential, and the tenant's cap. */
export const rotationSettingsSchema = z.strictObject({
    ...policyFields,
    /** Rarely set: moving it moves every credential's schedule (and replaces both slots, once). */
    epoch: z.unknown().optional(),
    /** The tenant's app management policy cap (passwordLifetime), when lower than 730 days. */
    maxLifetimeDays: z.unknown().optional(),
});

export const secretCredentialSchema = z.strictObject({
    name: nonEmpty(`a name for the credential, ${credentialNameRule}`).regex(credentialNamePattern, { error: `must be ${credentialNameRule}` }),
    type: z.literal("secret"),
    description: z.string({ error: "must be a string" }).max(200, { error: "is at most 200 characters" }).optional(),
    keyVaultSecretName: z.string({ error: "must be a string" }).optional(),
    ...policyFields,
    ...consumersField,
});

export type SecretCredentialConfig = z.infer<typeof secretCredentialSchema>;

export const certificateCredentialSchema = z.strictObject({
    name: nonEmpty(`a name for the credential, ${credentialNameRule}`).regex(credentialNamePattern, { error: `must be ${credentialNameRule}` }),
    type: z.literal("certificate"),
    description: z.string({ error: "must be a string" }).max(200, { error: "is at most 200 characters" }).optional(),
    /** Bring your own: the public certificate, PEM or DER, relative to the project directory. */
    file: z.string({ error: "the path of a public certificate file (.cer, .pem, .crt), relative to the project" }).min(1).optional(),
    keySize: z.union([z.literal(2048), z.literal(3072), z.literal(4096)], { error: "the RSA key size: 2048 (default), 3072 or 4096" }).optional(),
    keyVaultSecretName: z.string({ error: "must be a string" }).optional(),
    /** Also serve a PKCS#12 file and its password, for consumers that cannot read PEM. */
    pfx: z.boolean({ error: "true to also serve the certificate as a PKCS#12 (PFX) file with a generated password, or false" }).optional(),
    ...policyFields,
    ...consumersField,
});

export type CertificateCredentialConfig = z.infer<typeof certificateCredentialSchema>;

/** Credential types a config entry may have; federated credentials are resolved in federated.ts. */
export const credentialTypes = ["secret", "certificate", "federated"] as const;

/** A client secret in two slots, rotated by the schedule. */
export interface SecretCredentialModel {
    readonly type: "secret";
    readonly name: string;
    readonly description?: string;
    readonly policy: RotationPolicy;
    /** Days added to the epoch for this credential, from a hash of `<stack>/<app>/<credential>`. */
    readonly phase: number;
    /** Both slots, the served one and the next rotation, at the model's instant. */
    readonly schedule: Schedule;
    /** The Key Vault secret that serves it: `{app}-{credential}` unless overridden. */
    readonly keyVaultSecretName: string;
    /** e.g. `apps[0].credentials[1]`. */
    readonly path: string;
    /** Who reads the value (consumers.ts); empty when none is declared. */
    readonly consumers: readonly ConsumerModel[];
    /** Present when the rotation period is the manual consumers' default (manualDefaults), not one the stack wrote. */
    readonly manualDefault?: true;
}

/** A certificate generated by the stack in two slots: RSA key and self-signed certificate per slot, rotated like a secret. */
export interface GeneratedCertificateModel extends Omit<SecretCredentialModel, "type"> {
    readonly type: "certificate";
    readonly keySize: 2048 | 3072 | 4096;
    /** With `pfx: true`: the Key Vault secrets of the PKCS#12 file and of its password. */
    readonly pfx?: PfxSecretNames;
}

export interface PfxSecretNames {
    /** `{served secret}-pfx`: the PKCS#12 file, base64, content type `application/x-pkcs12`. */
    readonly secretName: string;
    /** `{served secret}-pfx-password`: the password that opens it. */
    readonly passwordSecretName: string;
}

/** The PFX secrets' names, next to the credential's served secret so they sort together in the vault. */
export function pfxSecretNames(servedSecretName: string): PfxSecretNames {
    return { secretName: `${servedSecretName}-pfx`, passwordSecretName: `${servedSecretName}-pfx-password` };
}

/** A rotating credential: its value is created by the stack, replaced by the schedule and served from Key Vault. */
export type RotatingCredentialModel = SecretCredentialModel | GeneratedCertificateModel;

/**
 * A certificate the owner brings: only its public part is in the repository and uploaded; it cannot rotate
 * by itself, so the plan shows when the owner must replace the file.
 */
export interface FileCertificateModel {
    readonly type: "certificate";
    readonly name: string;
    readonly description?: string;
    /** As written in config, relative to the project directory. */
    readonly file: string;
    readonly info: CertificateInfo;
    readonly path: string;
    /**
     * Why the certificate cannot be used at the model's instant (expired, not yet valid), with the fix. Such a
     * problem arises with time, so it is this credential's error: the program leaves what is deployed for it
     * as it is and fails the run at the end, and every other credential still plans and rotates.
     */
    readonly error?: string;
}

export type CredentialModel = RotatingCredentialModel;

/** Stack-wide rotation settings, validated once. */
export interface RotationSettings {
    /** Policy defaults; undefined when they are invalid (their errors are reported at `rotation.*`). */
    readonly defaults?: RotationPolicy;
    readonly maxLifetimeDays: number;
    readonly epoch?: unknown;
    readonly raw: PolicyInput;
}

export function resolveRotationSettings(raw: unknown, issues: IssueList, now: Date): RotationSettings {
    const parsed = rotationSettingsSchema.safeParse(raw ?? {}, { error: fallbackErrors });
    if (!parsed.success) {
        issues.add(toConfigIssues(parsed.error.issues, ["rotation"], rotationSettingsSchema));
        return { maxLifetimeDays: absoluteMaxLifetimeDays, raw: {} };
    }
    const settings = parsed.data;
    let maxLifetimeDays = absoluteMaxLifetimeDays;
    if (settings.maxLifetimeDays !== undefined) {
        const problem = validateMaxLifetimeDays(settings.maxLifetimeDays);
        if (problem) issues.error("rotation.maxLifetimeDays", `${problem}: set it to the tenant's passwordLifetime in days, or remove it`);
        else maxLifetimeDays = settings.maxLifetimeDays as number;
    }
    const input: PolicyInput = { rotateEveryDays: settings.rotateEveryDays, lifetimeDays: settings.lifetimeDays, epoch: settings.epoch };
    const result = validatePolicy(input, maxLifetimeDays);
    for (const problem of result.problems) issues.error(`rotation.${problem.field}`, problem.message);
    const epochProblem = result.policy ? epochBoundsProblem(result.policy.epoch, now) : undefined;
    if (epochProblem) {
        issues.error("rotation.epoch", epochProblem);
        return { maxLifetimeDays, raw: input };
    }
    return { ...(result.policy ? { defaults: result.policy } : {}), maxLifetimeDays, epoch: settings.epoch, raw: input };
}

/** A client secret or generated certificate with its policy and its schedule at `now`. */
export function resolveRotating(
    entry: SecretCredentialConfig | CertificateCredentialConfig,
    path: string,
    context: { stack: string; app: string; now: Date; settings: RotationSettings },
    issues: IssueList,
): RotatingCredentialModel | undefined {
    const { settings } = context;
    const manual = (entry.consumers ?? []).some((c) => (c as { reads?: unknown } | null)?.reads === "manual");
    const input: PolicyInput = {
        rotateEveryDays: entry.rotateEveryDays ?? (manual ? manualDefaults(settings).rotateEveryDays : settings.raw.rotateEveryDays),
        lifetimeDays: entry.lifetimeDays ?? (manual && entry.rotateEveryDays === undefined ? manualDefaults(settings).lifetimeDays : settings.raw.lifetimeDays),
        epoch: settings.epoch,
    };
    const result = validatePolicy(input, settings.maxLifetimeDays);
    for (const problem of result.problems) {
        // With valid stack defaults, the credential's override made the problem: fix it there (even when the
        // field named is the one it did not override). Otherwise the defaults are reported at rotation.*
        // once, and only what the credential itself writes is reported here.
        const overridden = problem.field !== "epoch" && entry[problem.field] !== undefined;
        if (settings.defaults || overridden) issues.error(`${path}.${problem.field}`, problem.message);
    }
    const consumers = resolveConsumers(entry.consumers ?? [], path, result.policy?.rotateEveryDays, issues);
    if (!result.policy) return undefined;
    const phase = phaseDays(`${context.stack}/${context.app}/${entry.name}`, result.policy.rotateEveryDays);
    const common = {
        name: entry.name,
        ...(entry.description !== undefined ? { description: entry.description } : {}),
        policy: result.policy,
        phase,
        schedule: scheduleAt(context.now, result.policy, phase),
        keyVaultSecretName: entry.keyVaultSecretName ?? credentialSecretName(context.app, entry.name),
        path,
        consumers,
        ...(manual && entry.rotateEveryDays === undefined ? { manualDefault: true as const } : {}),
    };
    if (entry.type === "certificate") {
        return { ...common, type: "certificate", keySize: entry.keySize ?? 2048, ...(entry.pfx ? { pfx: pfxSecretNames(common.keyVaultSecretName) } : {}) };
    }
    return { ...common, type: "secret" };
}

/** Days the previous value outlives its replacement: as in the default policy (210 = 2 x 90 + 30), so it never alerts as expiring while it exists. */
const manualLifetimeMarginDays = 30;

/**
 * The policy a credential with a manual consumer gets unless it sets its own: a rotation period of at least
 * manualRotateEveryDays (each rotation is a person's work, so half as often as the default 90, and a window long
 * enough for leave and a change process), the stack's if that is longer, and a lifetime of two periods and a
 * month, like the default policy's; both lowered to fit the tenant's cap (docs/rotation.md).
 */
export function manualDefaults(settings: RotationSettings): { rotateEveryDays: number; lifetimeDays: number } {
    const stackRotate = typeof settings.raw.rotateEveryDays === "number" ? settings.raw.rotateEveryDays : 0;
    const stackLifetime = typeof settings.raw.lifetimeDays === "number" ? settings.raw.lifetimeDays : 0;
    const fits = Math.floor((settings.maxLifetimeDays - manualLifetimeMarginDays) / 2);
    const rotateEveryDays = Math.max(1, Math.min(Math.max(manualRotateEveryDays, stackRotate), fits));
    const lifetimeDays = Math.min(Math.max(2 * rotateEveryDays + manualLifetimeMarginDays, stackLifetime), settings.maxLifetimeDays);
    return { rotateEveryDays, lifetimeDays };
}

/** A bring-your-own certificate: read, parsed and checked (validity at `now`, RSA >= 2048) from the project. */
export function resolveCertificateFile(
    entry: CertificateCredentialConfig & { file: string },
    path: string,
    context: { now: Date; baseDir: string },
    issues: IssueList,
): FileCertificateModel | undefined {
    for (const key of ["rotateEveryDays", "lifetimeDays", "keySize", "keyVaultSecretName", "pfx", "consumers"] as const) {
        if (entry[key] !== undefined) {
            issues.error(`${path}.${key}`, `does not apply to a certificate from a file (it cannot rotate by itself, and its private key is not ours to serve): remove ${key}, or remove file to let the stack generate the certificate`);
        }
    }
    const { info, problems } = readCertificateInfo(entry.file, context.baseDir);
    for (const problem of problems) issues.error(`${path}.file`, problem);
    if (!info || problems.length > 0) return undefined;
    const expired = certificateValidityProblem(info, context.now);
    return {
        type: "certificate",
        name: entry.name,
        ...(entry.description !== undefined ? { description: entry.description } : {}),
        file: entry.file,
        info,
        path,
        ...(expired ? { error: `${entry.file}: ${expired}` } : {}),
    };
}

/** The file of a certificate entry that is invalid otherwise: its problems are reported all the same. */
export function checkCertificateFile(file: string, path: string, context: { now: Date; baseDir: string }, issues: IssueList): void {
    for (const problem of readCertificateFile(file, context.baseDir, context.now).problems) issues.error(`${path}.file`, problem);
}

/** The type of a raw credential entry, or an issue saying what types exist. */
export function credentialType(raw: unknown, path: readonly PathSegment[], allowed: readonly string[]): { type?: string; issue?: ConfigIssue } {
    // Every credential of a large stack passes here: the path is written out only for an issue.
    const given = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>)["type"] : undefined;
    if (typeof given === "string" && allowed.includes(given)) return { type: given };
    const where = [...path].map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("").replace(/^\./, "");
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        return { issue: { path: where, message: `a credential is a mapping with a name and a type (${allowed.join(", ")}), got ${describe(raw)}`, severity: "error" } };
    }
    const type = (raw as Record<string, unknown>)["type"];
    if (type === undefined) return { issue: { path: `${where}.type`, message: `required: the credential's type, one of ${allowed.join(", ")}`, severity: "error" } };
    if (typeof type !== "string" || !allowed.includes(type)) {
        const hint = typeof type === "string" ? didYouMean(type, allowed) : "";
        return { issue: { path: `${where}.type`, message: `unknown credential type ${JSON.stringify(type)}${hint}; use one of ${allowed.join(", ")}`, severity: "error" } };
    }
    return { type };
}
