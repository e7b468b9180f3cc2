import { UnknownValueError } from "@pulumi/policy";

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

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as a message shows it: strings quoted, anything else as JSON. */
export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string") return `"${value}"`;
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}
