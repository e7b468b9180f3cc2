import type { SecretClient } from "@azure/keyvault-secrets";
import type { StackModel } from "../../infra/model/model";
import { type EntraErrorExplanation, explainEntraError } from "../../azure/entraErrors";
import { mapConcurrent } from "./concurrency";
import { type CredentialProbe, describeError } from "../../azure/probe";
import { dateToIsoSeconds } from "../../rotation/instants";

/**
 * `rotor verify`: for every rotating credential, what Key Vault serves is fetched and a client-credentials
 * token acquired with it, as a consumer would. Values are held only for the sign-in and never printed.
 */

export interface VerifyRow {
    readonly app: string;
    readonly credential: string;
    readonly kind: "secret" | "certificate";
    readonly keyVaultSecretName: string;
    readonly keyId: string | null;
    readonly generation: number | null;
    /**
     * `ok`: a token was acquired; `failed`: Entra refused it; `disabled`: the Key Vault secret is disabled, so
     * consumers cannot read it; `unavailable`: nothing to sign in with (secret missing, ids unknown).
     */
    readonly result: "ok" | "failed" | "disabled" | "unavailable";
    readonly error: string | null;
    readonly explanation: EntraErrorExplanation | null;
}

export interface VerifyReport {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly at: string;
    readonly rows: readonly VerifyRow[];
    /** 0 all ok, 2 when any credential fails or is unavailable. */
    readonly exitCode: 0 | 2;
}

/** A secret's value and tags; `disabled` when Key Vault refuses to read it because it is disabled. */
export type ReadSecret = { readonly value: string; readonly tags: Readonly<Record<string, string>> } | { readonly disabled: true };

/** Reads a secret; undefined when the vault has no such secret. */
export type SecretReader = (name: string) => Promise<ReadSecret | undefined>;

/**
 * Key Vault answers a read of a disabled secret with 403 `Forbidden`, inner error `SecretDisabled` ("Operation
 * get is not allowed on a disabled secret."): that is one credential's state, not the caller's permissions.
 */
export function isDisabledSecretError(error: unknown): boolean {
    const e = error as { statusCode?: number; message?: string; details?: { error?: { innerError?: { code?: string }; innererror?: { code?: string } } } };
    if (e.statusCode !== 403) return false;
    const inner = e.details?.error?.innerError?.code ?? e.details?.error?.innererror?.code;
    return inner === "SecretDisabled" || /disabled secret/i.test(e.message ?? "");
}

export function vaultReader(client: SecretClient): SecretReader {
    return async (name) => {
        try {
            const secret = await client.getSecret(name);
            return { value: secret.value ?? "", tags: { ...(secret.properties.tags ?? {}) } };
        } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 404) return undefined;
            if (isDisabledSecretError(error)) return { disabled: true };
            throw error;
        }
    };
}

/** The value of a secret read for an identity: nothing when it is missing or disabled. */
function usable(secret: ReadSecret | undefined): { value: string; tags: Readonly<Record<string, string>> } | undefined {
    return secret && !("disabled" in secret) ? secret : undefined;
}

async function identityOf(app: StackModel["apps"][number], tags: Readonly<Record<string, string>>, read: SecretReader): Promise<{ clientId?: string; tenantId?: string }> {
    if (tags["clientId"] && tags["tenantId"]) return { clientId: tags["clientId"], tenantId: tags["tenantId"] };
    // Older or hand-written secrets: fall back to the identity secrets published beside them.
    const ids = app.identitySecrets;
    if (ids.json) {
        const json = usable(await read(ids.json));
        try {
            return json ? (JSON.parse(json.value) as { clientId?: string; tenantId?: string }) : {};
        } catch {
            // Not JSON: reported as unavailable for this credential, like a missing secret.
            return {};
        }
    }
    const [clientId, tenantId] = await Promise.all([ids.clientId ? read(ids.clientId).then(usable) : undefined, ids.tenantId ? read(ids.tenantId).then(usable) : undefined]);
    return { ...(clientId ? { clientId: clientId.value } : {}), ...(tenantId ? { tenantId: tenantId.value } : {}) };
}

export async function verifyServed(model: StackModel, read: SecretReader, probe: CredentialProbe, options: { app?: string; concurrency?: number; now: Date }): Promise<VerifyReport> {
    const targets = model.apps.filter((app) => !options.app || app.name === options.app).flatMap((app) => app.credentials.map((credential) => ({ app, credential })));
    const rows = await mapConcurrent(targets, options.concurrency ?? 4, async ({ app, credential }): Promise<VerifyRow> => {
        const base = { app: app.name, credential: credential.name, kind: credential.type, keyVaultSecretName: credential.keyVaultSecretName };
        const found = await read(credential.keyVaultSecretName);
        if (!found) return { ...base, keyId: null, generation: null, result: "unavailable", error: `Key Vault has no secret ${credential.keyVaultSecretName}`, explanation: null };
        if ("disabled" in found) return { ...base, keyId: null, generation: null, result: "disabled", error: `Key Vault secret ${credential.keyVaultSecretName} is disabled: consumers cannot read it`, explanation: null };
        const served = found;
        const keyId = served.tags["keyId"] ?? null;
        const generation = served.tags["generation"] !== undefined ? Number(served.tags["generation"]) : null;
        const { clientId, tenantId } = await identityOf(app, served.tags, read);
        if (!clientId || !tenantId) return { ...base, keyId, generation, result: "unavailable", error: "the client id or tenant id is not in Key Vault (tags or identity secrets)", explanation: null };
        try {
            await probe({ label: `${app.name}/${credential.name}`, clientId, tenantId, kind: credential.type, secret: served.value });
            return { ...base, keyId, generation, result: "ok", error: null, explanation: null };
        } catch (error) {
            const text = describeError(error, served.value);
            return { ...base, keyId, generation, result: "failed", error: text, explanation: explainEntraError(text) ?? null };
        }
    });
    return {
        schemaVersion: 1,
        project: model.project,
        stack: model.stack,
        at: dateToIsoSeconds(options.now),
        rows,
        exitCode: rows.every((r) => r.result === "ok") ? 0 : 2,
    };
}
