/**
 * What text from a stack config may contain. Names, subjects, issuers, display names and descriptions are
 * single-line identifiers: Entra has no use for control characters in them, and a pull request can use them
 * to rewrite what a reviewer reads (a newline that ends a markdown table, an ANSI escape that erases a
 * terminal line, a bidirectional override that shows `prod` for `dorp`). So the model refuses them, the
 * policy pack refuses them, and every renderer shows them as escapes if they arrive some other way.
 */

/**
 * C0 controls (newline, carriage return, tab, NUL, ESC), DEL, C1 controls, zero-width characters, line and
 * paragraph separators, and the bidirectional embeddings, overrides and isolates that reorder what a reader
 * sees (Trojan Source, CVE-2021-42574), plus the byte-order mark.
 */
export const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const unsafeGlobal = new RegExp(unsafeCharacters.source, "g");

/** A code point as the Unicode standard writes it: `U+000A`. */
export function codePoint(character: string): string {
    return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The first unsafe character of a text, as `U+000A`, or undefined. */
export function firstUnsafe(text: string): string | undefined {
    const found = unsafeCharacters.exec(text)?.[0];
    return found === undefined ? undefined : codePoint(found);
}

/** Why a config string is refused for its characters, or undefined: names the character, never echoes the text. */
export function unsafeTextProblem(text: string): string | undefined {
    const found = firstUnsafe(text);
    if (found === undefined) return undefined;
    return `contains the control or invisible character ${found} (a line break, escape sequence, zero-width or bidirectional mark); Entra has no use for it and it could disguise what a reviewer reads: remove it`;
}

const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001b": "\\e" };

/** Unsafe characters shown as escapes (`\n`, `\e`, `\u202e`): visible, inert, and the text stays one line. */
export function visible(text: string): string {
    if (!unsafeCharacters.test(text)) return text;
    return text.replace(unsafeGlobal, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A host name written with anything but ASCII letters, digits, '-' and '.': `githubuserc\u043entent.com`
 * (a Cyrillic o) looks like GitHub's token host and is not. Entra compares the issuer exactly, so such a
 * credential trusts whoever controls the look-alike domain. `new URL` turns Unicode hosts into punycode
 * (`xn--`), so the check reads both the written host and the parsed one.
 */
export function nonAsciiHostProblem(url: string): string | undefined {
    const written = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
    const host = written.replace(/^[^@]*@/, "").replace(/:\d*$/, "");
    let parsed = "";
    try {
        parsed = new URL(url).hostname;
    } catch {
        // Not a URL: the caller says so.
    }
    const foreign = [...host].find((c) => c.charCodeAt(0) > 0x7e);
    if (foreign !== undefined) {
        return `has a host with the non-ASCII character ${codePoint(foreign)}, which can imitate a trusted issuer (a look-alike letter); write the host in ASCII exactly as the token's iss claim has it`;
    }
    if (/(^|\.)xn--/i.test(parsed)) {
        return `has an internationalised (punycode xn--) host, which can imitate a trusted issuer; write the host in ASCII exactly as the token's iss claim has it`;
    }
    return undefined;
}
