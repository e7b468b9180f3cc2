import { z } from "zod";
import {
    absoluteMaxLifetimeDays,
    phaseDays,
    type PolicyInput,
    type RotationPolicy,
    type Schedule,
    scheduleAt,
    validateMaxLifetimeDays,
    validatePolicy,
} from "../rotation/schedule";
import { type ConfigIssue, IssueList, type PathSegment } from "./issues";
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
});

export type SecretCredentialConfig = z.infer<typeof secretCredentialSchema>;

/** Credential types a config entry may have; federated credentials are resolved in federated.ts. */
export const credentialTypes = ["secret", "federated"] as const;

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
}

export type CredentialModel = SecretCredentialModel;

/** Stack-wide rotation settings, validated once. */
export interface RotationSettings {
    /** Policy defaults; undefined when they are invalid (their errors are reported at `rotation.*`). */
    readonly defaults?: RotationPolicy;
    readonly maxLifetimeDays: number;
    readonly epoch?: unknown;
    readonly raw: PolicyInput;
}

export function resolveRotationSettings(raw: unknown, issues: IssueList): RotationSettings {
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
    return { ...(result.policy ? { defaults: result.policy } : {}), maxLifetimeDays, epoch: settings.epoch, raw: input };
}

/** A client secret credential with its policy and its schedule at `now`. */
export function resolveSecret(
    entry: SecretCredentialConfig,
    path: string,
    context: { stack: string; app: string; now: Date; settings: RotationSettings },
    issues: IssueList,
): SecretCredentialModel | undefined {
    const { settings } = context;
    const input: PolicyInput = {
        rotateEveryDays: entry.rotateEveryDays ?? settings.raw.rotateEveryDays,
        lifetimeDays: entry.lifetimeDays ?? settings.raw.lifetimeDays,
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
    if (!result.policy) return undefined;
    const phase = phaseDays(`${context.stack}/${context.app}/${entry.name}`, result.policy.rotateEveryDays);
    return {
        type: "secret",
        name: entry.name,
        ...(entry.description !== undefined ? { description: entry.description } : {}),
        policy: result.policy,
        phase,
        schedule: scheduleAt(context.now, result.policy, phase),
        keyVaultSecretName: entry.keyVaultSecretName ?? credentialSecretName(context.app, entry.name),
        path,
    };
}

/** The type of a raw credential entry, or an issue saying what types exist. */
export function credentialType(raw: unknown, path: readonly PathSegment[], allowed: readonly string[]): { type?: string; issue?: ConfigIssue } {
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
