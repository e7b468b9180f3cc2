import { unsafeTextProblem } from "../../rotation/text";
import { type ConfigIssue, formatPath, type PathSegment } from "./issues";

/**
 * The first look at a stack config, before any schema: the config may come from a pull request (a fork's
 * stack file), so its shape is bounded and its text checked here, once, for every value and key.
 *
 * - Keys `__proto__`, `constructor` and `prototype` are refused anywhere: assigned to a plain object,
 *   `__proto__` replaces its prototype, so the offline plan and the deployed program could read different
 *   configs from one file.
 * - No string may hold a control or invisible character (rotation/text.ts says which and why).
 * - No string may be longer than any setting of entra-rotor (Entra's own limits: 1,024 characters for a
 *   description, 600 for a federated subject, 256 for a display name or redirect URI), so nothing later
 *   (the "did you mean" search over the permission catalog above all) works on megabytes of text.
 * - Nesting deeper than any setting is refused, and the walk is iterative, so no input can exhaust the stack.
 *
 * What it returns is built from null-prototype objects, with the refused keys left out and over-long
 * strings cut to the bound, so the schema and the checks of meaning still run (and report every other error
 * at once) on bounded input; the issues here make the config invalid whatever else it holds. Input that is
 * already so (stackFiles.ts reads YAML into null-prototype objects) and has nothing to refuse is returned
 * as it is: a copy would double the memory a large stack's config takes.
 */

/** Longer than every string setting; see above. */
export const maxConfigStringLength = 1024;
/** A stack config is six levels deep (apps[].credentials[].github.environment); anything past this is not config. */
export const maxConfigDepth = 32;
/** Keys that name an object's prototype machinery in JavaScript. */
export const forbiddenKeys: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export interface RawInputResult {
    /** The config with refused keys left out, long strings cut and deep values dropped; null-prototype objects. */
    readonly values: Record<string, unknown>;
    readonly issues: readonly ConfigIssue[];
}

type Frame = { readonly source: unknown; readonly path: PathSegment[]; readonly assign: (value: unknown) => void };

/**
 * A plain object's own entries in a null-prototype object; anything else unchanged. As the reviver of a
 * parse (stackFiles.ts, infra/pulumiConfig.ts) it gives the config checkRawInput takes as it is. yaml and
 * JSON.parse define a `__proto__` key as an own property, and assigning it on a null-prototype object
 * makes an own property too (there is no inherited setter), so such a key is kept, to be refused below.
 */
export function nullPrototype(value: unknown): unknown {
    if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
    const copy: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) copy[key] = (value as Record<string, unknown>)[key];
    return copy;
}

/** Walks `values` (a config's top-level keys, without the project namespace); pure. */
export function checkRawInput(values: Readonly<Record<string, unknown>>): RawInputResult {
    if (acceptedAsIs(values)) return { values: values as Record<string, unknown>, issues: [] };
    const issues: ConfigIssue[] = [];
    const error = (path: readonly PathSegment[], message: string) => issues.push({ path: formatPath(path), message, severity: "error" });
    const root: Record<string, unknown> = Object.create(null);
    const stack: Frame[] = [];
    // Children are pushed last first, so they are popped (and reported) in the order the file reads.
    const topKeys = Object.keys(values).filter((key) => !keyRefused(key, [], error));
    for (const key of topKeys.reverse()) stack.push({ source: values[key], path: [key], assign: (value) => (root[key] = value) });
    while (stack.length > 0) {
        const { source, path, assign } = stack.pop()!;
        if (typeof source === "string") {
            assign(checkString(source, path, error));
            continue;
        }
        if (typeof source !== "object" || source === null || source instanceof Date) {
            assign(source);
            continue;
        }
        if (path.length > maxConfigDepth) {
            error(path, `is nested deeper than ${maxConfigDepth} levels, deeper than any entra-rotor setting: remove the nesting`);
            continue;
        }
        if (Array.isArray(source)) {
            const copy: unknown[] = new Array(source.length);
            assign(copy);
            for (let i = source.length - 1; i >= 0; i--) stack.push({ source: source[i], path: [...path, i], assign: (value) => (copy[i] = value) });
            continue;
        }
        const copy: Record<string, unknown> = Object.create(null);
        assign(copy);
        const keys = Object.keys(source).filter((key) => !keyRefused(key, path, error));
        for (const key of keys.reverse()) stack.push({ source: (source as Record<string, unknown>)[key], path: [...path, key], assign: (value) => (copy[key] = value) });
    }
    return { values: root, issues };
}

/**
 * Whether the walk below would find nothing to report or change: every object null-prototype, no refused
 * key, no over-long or unsafe string, nothing too deep. No paths and no copies: when it says no, the walk
 * below runs and says where.
 */
function acceptedAsIs(values: Readonly<Record<string, unknown>>): boolean {
    if (Object.getPrototypeOf(values) !== null) return false;
    const stack: { value: unknown; depth: number }[] = [];
    for (const key of Object.keys(values)) {
        if (!keyAccepted(key)) return false;
        stack.push({ value: values[key], depth: 1 });
    }
    while (stack.length > 0) {
        const { value, depth } = stack.pop()!;
        if (typeof value === "string") {
            if (value.length > maxConfigStringLength || unsafeTextProblem(value)) return false;
            continue;
        }
        if (typeof value !== "object" || value === null || value instanceof Date) continue;
        if (depth > maxConfigDepth) return false;
        if (Array.isArray(value)) {
            for (const item of value) stack.push({ value: item, depth: depth + 1 });
            continue;
        }
        if (Object.getPrototypeOf(value) !== null) return false;
        for (const key of Object.keys(value)) {
            if (!keyAccepted(key)) return false;
            stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
        }
    }
    return true;
}

function keyAccepted(key: string): boolean {
    return !forbiddenKeys.has(key) && key.length <= 128 && !unsafeTextProblem(key);
}

/** Reports a refused key at its own path (cut when long), so the report points at the line to change. */
function keyRefused(key: string, path: readonly PathSegment[], error: (path: readonly PathSegment[], message: string) => void): boolean {
    const at = [...path, key.length > 60 ? `${key.slice(0, 57)}...` : key];
    if (forbiddenKeys.has(key)) {
        error(at, `the key "${key}" is refused: it names JavaScript's prototype machinery and is no entra-rotor setting; remove it`);
        return true;
    }
    if (key.length > 128) {
        error(at, `a key of ${key.length} characters is refused: no entra-rotor setting has a name that long`);
        return true;
    }
    const unsafe = unsafeTextProblem(key);
    if (unsafe) {
        error(at, `the key ${unsafe}`);
        return true;
    }
    return false;
}

function checkString(text: string, path: readonly PathSegment[], error: (path: readonly PathSegment[], message: string) => void): string {
    if (text.length > maxConfigStringLength) {
        // The length is the only thing said about the text: it may be a secret set under the wrong key.
        error(path, `is ${text.length} characters, longer than any entra-rotor setting (at most ${maxConfigStringLength}): shorten it`);
        return text.slice(0, maxConfigStringLength);
    }
    const unsafe = unsafeTextProblem(text);
    if (unsafe) error(path, unsafe);
    return text;
}
