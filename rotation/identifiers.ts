import { createHash } from "node:crypto";

/**
 * How the live tenant's objects are tied back to the stack without Pulumi's state: tags on each
 * application, the display name of each client secret, and the key id of each generated certificate. The
 * program writes them and `rotor status` reads them, so both take them from here.
 */

/** On every application of a stack: finds them all with one Graph query. */
export function stackTag(project: string, stack: string): string {
    return `entra-rotor:${project}/${stack}`;
}

/** On the application of `app`: tells the stack's applications apart. */
export function appTag(project: string, stack: string, app: string): string {
    return `${stackTag(project, stack)}/${app}`;
}

/** The app name in an application's tags, if it belongs to the stack. */
export function appFromTags(tags: readonly string[], project: string, stack: string): string | undefined {
    const prefix = `${stackTag(project, stack)}/`;
    return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}

/** A client secret's display name in Entra: the slot and generation it holds, readable in the admin center. */
export function passwordDisplayName(credential: string, slot: 0 | 1, generation: number): string {
    return `${credential} slot ${slot} generation ${generation}`;
}

/** The credential, slot and generation of a client secret the stack made, or undefined for anything else. */
export function parsePasswordDisplayName(displayName: string | null | undefined): { credential: string; slot: 0 | 1; generation: number } | undefined {
    const match = /^([a-z][a-z0-9-]*) slot ([01]) generation (-?\d+)$/.exec(displayName ?? "");
    if (!match) return undefined;
    return { credential: match[1]!, slot: Number(match[2]) as 0 | 1, generation: Number(match[3]) };
}

/**
 * The key id of a generated certificate's generation: a name-based UUID (RFC 9562 version 8) of the
 * stack, app, credential and generation. Certificates carry no display name through the provider, so the
 * key id is what lets `rotor status` recognise them (and their generation) in the tenant.
 */
export function certificateKeyId(project: string, stack: string, app: string, credential: string, generation: number): string {
    const hash = createHash("sha256").update(`entra-rotor certificate ${project}/${stack}/${app}/${credential}/${generation}`).digest();
    hash[6] = (hash[6]! & 0x0f) | 0x80;
    hash[8] = (hash[8]! & 0x3f) | 0x80;
    const hex = hash.subarray(0, 16).toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
