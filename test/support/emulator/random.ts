import { randomBytes, randomUUID } from "node:crypto";

/**
 * Identifiers and secret values shaped like Entra's and Key Vault's, so that code under test that parses or
 * validates them (GUIDs, 32-hex versions, secret hints) sees what it would see against Azure.
 */

export function guid(): string {
    return randomUUID();
}

/** A Key Vault secret version: 32 lower-case hex digits. */
export function secretVersion(): string {
    return randomBytes(16).toString("hex");
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";

/**
 * A client secret as Entra generates it today: 40 characters, the first three are the `hint` Graph
 * returns, followed by a version marker (`8Q~`) and random characters.
 */
export function clientSecretText(): string {
    const bytes = randomBytes(37);
    let text = "";
    for (let i = 0; i < 37; i++) text += secretAlphabet[(bytes[i] ?? 0) % secretAlphabet.length];
    return `${text.slice(0, 3)}8Q~${text.slice(3, 37)}`;
}

/**
 * A small seeded PRNG (mulberry32). Fault injection by rate must be reproducible: a flaky test that
 * cannot be replayed is worse than no test.
 */
export function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** A GUID's 16 bytes in the order .NET lays them out (the first three fields little-endian), as Entra's composite ids hold them. */
function guidBytes(id: string): Buffer {
    const b = Buffer.from(id.replace(/-/g, ""), "hex");
    if (b.length !== 16) throw new Error(`not a GUID: ${id}`);
    return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

/**
 * An appRoleAssignment id as Graph makes one: 43 base64url characters whose first 16 bytes are the assignee's
 * object id (the example of "Grant an appRoleAssignment to a service principal": principalId
 * cdb555e3-b33e-4fd5-a427-17fadacbdfa7, id `41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE`); the rest is random here.
 */
export function appRoleAssignmentId(principalId: string): string {
    return Buffer.concat([guidBytes(principalId), randomBytes(16)]).toString("base64url");
}

/**
 * An oAuth2PermissionGrant id as Graph makes one: base64url of the client's and the resource's object ids
 * (and the user's, for a `Principal` grant), e.g. `AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0` for client
 * 263a5b01-03e5-408e-8557-bab681df104c and resource 1804a6f8-e623-4520-8f40-ba1b0c11c42d ("List
 * oauth2PermissionGrants"). So one client has at most one grant per resource and user.
 */
export function permissionGrantId(clientId: string, resourceId: string, principalId?: string | null): string {
    return Buffer.concat([guidBytes(clientId), guidBytes(resourceId), ...(principalId ? [guidBytes(principalId)] : [])]).toString("base64url");
}
