import { visible } from "../../output/escape";

/**
 * Bounds on what `rotor summarize` reads. A pull request from a fork decides what its preview holds, so
 * the document is refused, with a message that names where and by how much, rather than left to exhaust
 * the stack or the heap of a CI runner.
 */

/**
 * The largest preview read: 256 MiB. A step with its old and new state is 2-5 KB, so this holds over
 * 50,000 steps, where a first deploy of 1,000 apps (some 20,000 steps) is tens of MiB. Summarizing 200 MiB
 * (100,000 steps) takes seconds and peaks at 1.2 GB of memory, inside Node's default heap limit; a string
 * in V8 stops at 512 MiB anyway.
 */
export const maxPreviewBytes = 256 * 1024 * 1024;

/**
 * How deeply objects and arrays may nest, counting the document itself as level 1. Pulumi's own envelope
 * takes 5 levels (document, steps, step, state, inputs) and real property values a few dozen more (a
 * Kubernetes CRD's schema is among the deepest); the summary's readers are far from the stack's limit here.
 */
export const maxPreviewDepth = 256;

/** A JSON path segment: an object key or an array index. */
export type PreviewPathSegment = string | number;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
/** Keys come from the document: long ones are cut, so a message stays a line. */
const maxKeyShown = 40;

/**
 * `steps[3].newState.inputs["odd key"]`: keys that are not identifiers are quoted as JSON strings, and
 * control characters shown as escapes, so a key can neither forge the path nor reach the terminal raw.
 */
export function formatPreviewPath(segments: readonly PreviewPathSegment[]): string {
    let path = "";
    for (const segment of segments) {
        if (typeof segment === "number") path += `[${segment}]`;
        else {
            const key = segment.length > maxKeyShown ? `${segment.slice(0, maxKeyShown)}…` : segment;
            path += identifier.test(key) ? `${path === "" ? "" : "."}${key}` : `[${JSON.stringify(key)}]`;
        }
    }
    return visible(path);
}

/** `1.5 MiB`, `300 KiB`, `512 B`. */
export function formatBytes(bytes: number): string {
    if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "")} MiB`;
    if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, "")} KiB`;
    return `${bytes} B`;
}

/**
 * Why a preview is refused for its size: `bytes` when known (a file), undefined when only "more than the
 * bound" is (standard input and pipes, read until the bound).
 */
export function tooLargeProblem(bytes: number | undefined): string {
    const size = bytes === undefined ? "" : `${formatBytes(bytes)} (${bytes.toLocaleString("en-US")} bytes), `;
    return `${size}more than the ${formatBytes(maxPreviewBytes)} rotor summarize reads (a preview of 1,000 apps is tens of MiB); summarize a smaller stack, or a targeted preview (pulumi preview --target)`;
}

/** Segments shown of a path that is too deep: enough to say which step and which property, not all 256. */
const shownSegments = 6;

/**
 * The path to the first value nested deeper than `max` levels, or undefined. Recursive, but never deeper
 * than `max` + 1 calls: that is the point of the bound.
 */
export function pathTooDeep(root: unknown, max = maxPreviewDepth): PreviewPathSegment[] | undefined {
    const path: PreviewPathSegment[] = [];
    const walk = (value: unknown, depth: number): boolean => {
        if (typeof value !== "object" || value === null) return false;
        if (depth > max) return true;
        if (Array.isArray(value)) {
            for (let i = 0; i < value.length; i++) {
                const item: unknown = value[i];
                if (typeof item !== "object" || item === null) continue;
                path.push(i);
                if (walk(item, depth + 1)) return true;
                path.pop();
            }
            return false;
        }
        const record = value as Record<string, unknown>;
        for (const key in record) {
            const item = record[key];
            if (typeof item !== "object" || item === null) continue;
            path.push(key);
            if (walk(item, depth + 1)) return true;
            path.pop();
        }
        return false;
    };
    return walk(root, 1) ? path : undefined;
}

/** How a too-deep path is named: its first segments, then an ellipsis. */
export function tooDeepProblem(path: readonly PreviewPathSegment[], max = maxPreviewDepth): { path: string; problem: string } {
    const shown = formatPreviewPath(path.slice(0, shownSegments));
    return {
        path: path.length > shownSegments ? `${shown}…` : shown,
        problem: `nested deeper than ${max} levels of objects and arrays; a preview nests a few dozen at most, so this one is refused rather than read`,
    };
}
