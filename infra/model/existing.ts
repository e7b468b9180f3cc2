import type { IssueList } from "./issues";
import { existingCredentialSchema, parseWith } from "./schema";

/**
 * A credential the application had before the stack took it over (a client secret or certificate made in the
 * portal), as `rotor import` writes it down. The program never reads, serves, changes or deletes it: azuread
 * cannot import an ApplicationPassword into Pulumi's state. It stays valid beside the stack's own credentials
 * until a reviewed `retire: true` lets `rotor retire` remove it, once no sign-in with it is on record.
 */
export interface ExistingCredentialModel {
    /** Its key id, as Graph lists it (lower case). */
    readonly keyId: string;
    readonly kind: "secret" | "certificate";
    readonly displayName: string | null;
    /** When it expires, ISO-8601 as written. */
    readonly expires: string;
    /** Whether a pull request marked it for removal. */
    readonly retire: boolean;
    /** Where it is declared, e.g. `apps[2].existing[0]`. */
    readonly path: string;
}

/** The app's `existing` entries, each parsed on its own (so one broken entry hides no other), key ids unique. */
export function resolveExisting(raw: unknown, appPath: string, issues: IssueList): ExistingCredentialModel[] {
    if (!Array.isArray(raw)) return [];
    const existing: ExistingCredentialModel[] = [];
    const firstByKeyId = new Map<string, string>();
    raw.forEach((entry: unknown, i) => {
        const path = `${appPath}.existing[${i}]`;
        const parsed = parseWith(existingCredentialSchema, entry, [path]);
        issues.add(parsed.issues);
        if (!parsed.value) return;
        const keyId = parsed.value.keyId.toLowerCase();
        const first = firstByKeyId.get(keyId);
        if (first) {
            issues.error(`${path}.keyId`, `key id ${keyId} is listed twice (first at ${first}); remove one`);
            return;
        }
        firstByKeyId.set(keyId, path);
        existing.push({ keyId, kind: parsed.value.kind, displayName: parsed.value.displayName ?? null, expires: parsed.value.expires, retire: parsed.value.retire ?? false, path });
    });
    return existing;
}
