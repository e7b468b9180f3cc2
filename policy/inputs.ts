import { UnknownValueError } from "@pulumi/policy";
import { visible } from "../rotation/text";

/**
 * During `pulumi preview`, an input computed from a resource that does not exist yet is unknown, and
 * @pulumi/policy hands policies a proxy that throws UnknownValueError when such an input is read. Left alone,
 * that turns the whole policy into an advisory "can't run during preview" for the resource; that is right for
 * most inputs, which the policy cannot judge without. `readInput` is for the few inputs a rule can reason about
 * while unknown (e.g. the start of a certificate that is about to be generated is "now or later").
 */
export const unknownDuringPreview: unique symbol = Symbol("unknown during preview");

// @pulumi/policy exports the class at runtime (index.js) but its typings for it are stripped (proxy.d.ts is
// empty), so the import is untyped: give it the one shape this module relies on.
const UnknownValue: abstract new (...args: never[]) => Error = UnknownValueError;

/** One input of a resource, or `unknownDuringPreview` when Pulumi cannot know it yet. */
export function readInput(props: object, key: string): unknown {
    try {
        return (props as Record<string, unknown>)[key];
    } catch (error) {
        if (error instanceof UnknownValue) return unknownDuringPreview;
        throw error;
    }
}

/** Whether an error is @pulumi/policy's "this input is unknown during preview". */
export function isUnknownValueError(error: unknown): boolean {
    return error instanceof UnknownValue;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The longest echo of a value in a message. Inputs come from whoever wrote the stack; a megabyte "date" would
 * otherwise become a megabyte of preview output and PR comment.
 */
const maxShown = 120;

/**
 * A value as a message shows it: strings quoted, anything else as JSON; control and invisible characters as
 * escapes (`\n`, `\u202e`), so that a value cannot end the message's line or reorder what a reader sees; long
 * values cut. Only for values that cannot be secret (dates, names, ids): @pulumi/policy hands policies secret
 * inputs unwrapped, so a rule that may meet a secret says what kind of value it found instead (`describeValue`).
 */
export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    let text: string;
    if (typeof value === "string") text = `"${value}"`;
    else {
        try {
            text = JSON.stringify(value) ?? String(value);
        } catch {
            text = String(value);
        }
    }
    if (text.length > maxShown) text = `${text.slice(0, maxShown)}... (${text.length} characters)`;
    return visible(text);
}

/** What kind of value an input holds, without its content: for inputs that may hold a secret. */
export function describeValue(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === null) return "null";
    if (typeof value === "string") return `a string of ${value.length} character${value.length === 1 ? "" : "s"}`;
    if (typeof value === "number") return Number.isFinite(value) ? "a number" : "a non-finite number";
    if (Array.isArray(value)) return `a list of ${value.length}`;
    return `a ${typeof value}`;
}

/**
 * Text with every character outside printable ASCII written as `\uXXXX`: for a look-alike host, whose point is that
 * `githubuserc\u043entent.com` reads exactly like the real one when shown as it is.
 */
export function asciiOnly(text: string): string {
    return text.replace(/[^\x20-\x7e]/gu, (c) => {
        const code = c.codePointAt(0) ?? 0;
        return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
    });
}
