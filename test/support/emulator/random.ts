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
