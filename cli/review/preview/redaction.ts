import type { PreviewDocument } from "./previewDocument";
import { isSecretValue, maskedSecret, unknownValue } from "./previewResources";
import type { AppChange, CredentialChange, DirectoryRoleChange, FederatedCredentialChange, FederatedIdentity, KeyVaultSecretChange, PermissionChange, SlotVersion } from "./summaryTypes";

/**
 * The last guard of a value-free summary: the summary is built from fields that hold no credential, but
 * should a provider ever put a value where an id or a name is expected, that string is redacted rather
 * than printed. Credential material is every string a preview shows unmasked under a key for it (or
 * inside a secret envelope); a summary string is redacted when it contains a piece of it, or is one.
 *
 * Only strings read from the preview are redacted, never the summary's own words (catalog names, tiers,
 * explanations): a document could otherwise list "RoleManagement.ReadWrite.Directory" as a password and
 * erase the name of the escalation from the warning.
 *
 * Linear in the document: secrets are indexed once (by their first characters, and a bit set of every
 * piece), so each summary string costs its own length, not the number of secrets.
 */

/** Keys under which a provider keeps credential material; what they hold must never reach a summary. */
const sensitiveKey = /^(value|ciphertext|plaintext|secret|password|clientSecret|clientCertificate.*|.*[pP]rivateKey.*|pemBundle|pfx|certPem|.*[tT]oken)$/;

/** Shorter strings are too common to be told from names (`true`, `enabled`). */
const minSecretLength = 8;

/**
 * Every string in the document's resource states that is, or sits under a key for, credential material.
 * An explicit stack rather than recursion: a document nested thousands deep cannot overflow it.
 * Only property values: elsewhere property names are keys (propertyDependencies maps `value` to URNs).
 */
export function credentialMaterial(doc: PreviewDocument): Set<string> {
    const found = new Set<string>();
    // The same few dozen keys recur in every state: each is tested once.
    const keys = new Map<string, boolean>();
    const isSensitive = (key: string) => {
        let known = keys.get(key);
        if (known === undefined) keys.set(key, (known = sensitiveKey.test(key)));
        return known;
    };
    const values: unknown[] = [];
    const sensitive: boolean[] = [];
    for (const step of doc.steps ?? []) {
        for (const state of [step.oldState, step.newState]) {
            if (!state) continue;
            values.push(state.inputs, state.outputs);
            sensitive.push(false, false);
        }
    }
    while (values.length > 0) {
        const value = values.pop();
        const under = sensitive.pop()!;
        if (typeof value === "string") {
            if (under && value.length >= minSecretLength && value !== maskedSecret && value !== unknownValue) found.add(value);
        } else if (Array.isArray(value)) {
            for (const item of value) {
                values.push(item);
                sensitive.push(under);
            }
        } else if (typeof value === "object" && value !== null) {
            const secret = under || isSecretValue(value);
            const record = value as Record<string, unknown>;
            for (const key in record) {
                values.push(record[key]);
                sensitive.push(secret || isSensitive(key));
            }
        }
    }
    return found;
}

export const redacted = "[redacted]";

/** Length of the pieces secrets are indexed by: the shortest secret. */
const gram = minSecretLength;

/** Base of the rolling hash (odd, so multiplying by it loses no bits), and its `gram`-th power. */
const base = 0x01000193;
let power = 1;
for (let i = 0; i < gram; i++) power = Math.imul(power, base);
const baseToGram = power;

/**
 * Calls `visit` with a hash of every `gram`-long piece of `text`, in order, until it returns false: a
 * rolling hash, so each piece costs one step rather than `gram`. Returns false when stopped early.
 */
function everyPiece(text: string, visit: (hash: number) => boolean): boolean {
    if (text.length < gram) return true;
    let hash = 0;
    for (let i = 0; i < gram; i++) hash = (Math.imul(hash, base) + text.charCodeAt(i)) | 0;
    for (let i = gram; ; i++) {
        // Mixed, so that the low bits a bit set uses depend on every character.
        let mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
        mixed ^= mixed >>> 12;
        if (!visit(mixed >>> 0)) return false;
        if (i === text.length) return true;
        hash = (Math.imul(hash, base) + text.charCodeAt(i) - Math.imul(text.charCodeAt(i - gram), baseToGram)) | 0;
    }
}

export class Redactor {
    private readonly secrets: ReadonlySet<string>;
    /** Secrets by their first `gram` characters: a text holds a secret only where one of these starts. */
    private readonly byStart = new Map<string, string[]>();
    /** A bit per hash of every `gram`-long piece of every secret: a text inside a secret has all its pieces here. */
    private readonly pieces: Uint32Array;
    private readonly joined: string;
    /**
     * Work left for confirming candidates (in characters compared). A document built so that every name
     * nearly matches every secret would otherwise cost their product; past the budget, the guard fails
     * safe and redacts every string of `gram` characters or more that it has not cleared.
     */
    private budget: number;

    constructor(secrets: Iterable<string>) {
        this.secrets = new Set(secrets);
        let total = 0;
        for (const secret of this.secrets) {
            total += secret.length;
            const start = secret.slice(0, gram);
            const list = this.byStart.get(start);
            if (list) list.push(secret);
            else this.byStart.set(start, [secret]);
        }
        // About 16 bits per piece keeps false candidates rare; at least 64 Ki bits, at most 2^30.
        const bits = Math.min(2 ** 30, Math.max(2 ** 16, 2 ** Math.ceil(Math.log2(Math.max(1, total) * 16))));
        this.pieces = new Uint32Array(bits / 32);
        const mask = bits - 1;
        const pieces = this.pieces;
        for (const secret of this.secrets) {
            everyPiece(secret, (hash) => {
                const bit = hash & mask;
                pieces[bit >>> 5]! |= 1 << (bit & 31);
                return true;
            });
        }
        // A separator no name holds, so that a match never spans two secrets unless the text holds it too.
        this.joined = [...this.secrets].join("\u0000");
        this.budget = 64 * total + 1_000_000;
    }

    /** A redactor for a document: its credential material, indexed. */
    static of(doc: PreviewDocument): Redactor {
        return new Redactor(credentialMaterial(doc));
    }

    /** True when `text` is, contains, or (from `gram` characters on) is part of credential material. */
    leaks(text: string): boolean {
        if (this.secrets.size === 0) return false;
        if (this.secrets.has(text)) return true;
        if (text.length < gram) return false;
        if (this.budget <= 0) return true;
        return this.holdsSecret(text) || this.insideSecret(text);
    }

    private holdsSecret(text: string): boolean {
        for (let i = 0; i + gram <= text.length; i++) {
            const candidates = this.byStart.get(text.slice(i, i + gram));
            if (!candidates) continue;
            for (const secret of candidates) {
                this.budget -= secret.length;
                if (text.startsWith(secret, i)) return true;
            }
            if (this.budget <= 0) return true;
        }
        return false;
    }

    private insideSecret(text: string): boolean {
        const mask = this.pieces.length * 32 - 1;
        const pieces = this.pieces;
        const allPresent = everyPiece(text, (hash) => {
            const bit = hash & mask;
            return (pieces[bit >>> 5]! & (1 << (bit & 31))) !== 0;
        });
        if (!allPresent) return false;
        this.budget -= this.joined.length;
        return this.joined.includes(text);
    }

    /** The text, or "[redacted]". */
    clean(text: string): string {
        return this.leaks(text) ? redacted : text;
    }

    /** The text or null, or "[redacted]". */
    cleanNullable(text: string | null): string | null {
        return text === null ? null : this.clean(text);
    }
}

/*
 * What of each summary entry was read from the preview, and so passes the guard. Property names (changed
 * properties, replace reasons) are keys, not values, and explanations are the summary's own sentences
 * around them: neither is redacted.
 */

export function redactApp(a: AppChange, r: Redactor): AppChange {
    return { ...a, app: r.clean(a.app), displayName: r.cleanNullable(a.displayName), clientId: r.cleanNullable(a.clientId) };
}

function redactVersion(v: SlotVersion | null, r: Redactor): SlotVersion | null {
    return v && { ...v, start: r.cleanNullable(v.start), end: r.cleanNullable(v.end), keyId: r.cleanNullable(v.keyId) };
}

export function redactCredential(c: CredentialChange, r: Redactor): CredentialChange {
    return {
        ...c,
        app: r.cleanNullable(c.app),
        credential: r.clean(c.credential),
        component: r.clean(c.component),
        slots: c.slots.map((s) => ({
            ...s,
            before: redactVersion(s.before, r),
            after: redactVersion(s.after, r),
            resources: s.resources.map((res) => ({ ...res, type: r.clean(res.type), name: r.clean(res.name) })),
        })),
    };
}

/** The API's name and the permission's are the catalog's when it knows them: those stay. */
export function redactPermission(p: PermissionChange, r: Redactor): PermissionChange {
    return {
        ...p,
        app: r.cleanNullable(p.app),
        api: p.api === p.apiAppId ? r.clean(p.api) : p.api,
        apiAppId: r.cleanNullable(p.apiAppId),
        permission: p.inCatalog ? p.permission : r.cleanNullable(p.permission),
        id: r.cleanNullable(p.id),
    };
}

function redactIdentity(i: FederatedIdentity | null, r: Redactor): FederatedIdentity | null {
    return i && { issuer: r.cleanNullable(i.issuer), subject: r.cleanNullable(i.subject), audiences: i.audiences && i.audiences.map((a) => r.clean(a)) };
}

export function redactFederated(f: FederatedCredentialChange, r: Redactor): FederatedCredentialChange {
    return { ...f, app: r.cleanNullable(f.app), name: r.clean(f.name), before: redactIdentity(f.before, r), after: redactIdentity(f.after, r) };
}

export function redactKeyVaultSecret(s: KeyVaultSecretChange, r: Redactor): KeyVaultSecretChange {
    return { ...s, app: r.cleanNullable(s.app), secretName: r.clean(s.secretName), vault: r.cleanNullable(s.vault), credential: r.cleanNullable(s.credential) };
}

/** The role's name and flags are the catalog's: those stay. */
export function redactDirectoryRole(d: DirectoryRoleChange, r: Redactor): DirectoryRoleChange {
    return { ...d, app: r.cleanNullable(d.app), resource: r.clean(d.resource), roleId: r.cleanNullable(d.roleId), principal: r.cleanNullable(d.principal) };
}
