import type { PreviewDocument, PreviewStep, ResourceState } from "./previewDocument";

/**
 * The resources a preview touches, one entry per URN however many steps Pulumi printed for it, and
 * readers that only ever return values known to be free of secrets.
 */

/** `urn:pulumi:STACK::PROJECT::parentType$parentType$type::name`, taken apart. */
export interface ParsedUrn {
    readonly urn: string;
    readonly stack: string;
    readonly project: string;
    /** Types from the outermost parent to the resource itself (the root stack is never part of it). */
    readonly typeChain: readonly string[];
    /** The resource's own type token. */
    readonly type: string;
    /** The resource's Pulumi name. */
    readonly name: string;
}

/** Parses a URN; the name may itself contain `::`, so it is everything after the type. */
export function parseUrn(urn: string): ParsedUrn | undefined {
    if (!urn.startsWith("urn:pulumi:")) return undefined;
    const parts = urn.slice("urn:pulumi:".length).split("::");
    if (parts.length < 4) return undefined;
    const [stack, project, qualifiedType] = parts as [string, string, string];
    const typeChain = qualifiedType.split("$");
    return { urn, stack, project, typeChain, type: typeChain[typeChain.length - 1]!, name: parts.slice(3).join("::") };
}

/** The URN of a resource's parent, from the URN alone (used when the state does not name it). */
export function parentUrnOf(urn: ParsedUrn, parentName: string): string | undefined {
    if (urn.typeChain.length < 2) return undefined;
    return `urn:pulumi:${urn.stack}::${urn.project}::${urn.typeChain.slice(0, -1).join("$")}::${parentName}`;
}

/** What a resource goes through in this preview, once the steps for its URN are merged. */
export type Change = "create" | "update" | "replace" | "delete" | "none";

/** One resource of the preview with all of its steps folded together. */
export interface ResourceChange {
    readonly urn: ParsedUrn;
    readonly change: Change;
    /** The operations Pulumi printed for this URN, in document order. */
    readonly ops: readonly string[];
    readonly old?: ResourceState;
    readonly new?: ResourceState;
    /** Top-level property names that differ. */
    readonly diffReasons: readonly string[];
    /** Property names that force the replacement. */
    readonly replaceReasons: readonly string[];
    /** Property paths with a difference (the keys of Pulumi's detailedDiff), or undefined if no step had one. */
    readonly detailedDiff?: readonly string[];
}

const replacementOps = new Set(["replace", "create-replacement", "delete-replaced", "read-replacement", "import-replacement"]);

function changeOf(ops: readonly string[]): Change {
    if (ops.some((op) => replacementOps.has(op))) return "replace";
    if (ops.includes("create") || ops.includes("import")) return "create";
    if (ops.includes("delete")) return "delete";
    if (ops.includes("update")) return "update";
    return "none";
}

/**
 * Folds the steps of each URN into one change. A replacement printed as one `replace` step and one printed
 * as `create-replacement`, `replace` and `delete-replaced` give the same result: old state from whichever
 * step carries it, new state likewise, reasons united.
 */
export function resourceChanges(doc: PreviewDocument): ResourceChange[] {
    const byUrn = new Map<string, PreviewStep[]>();
    for (const step of doc.steps ?? []) {
        const list = byUrn.get(step.urn);
        if (list) list.push(step);
        else byUrn.set(step.urn, [step]);
    }
    const changes: ResourceChange[] = [];
    for (const [urnText, steps] of byUrn) {
        const urn = parseUrn(urnText);
        if (!urn) continue;
        const ops = steps.map((s) => s.op);
        const old = steps.find((s) => s.oldState)?.oldState ?? undefined;
        // delete-replaced carries no new state; the replacement's new state is on replace/create-replacement.
        const fresh = steps.find((s) => s.newState)?.newState ?? undefined;
        const union = (pick: (s: PreviewStep) => readonly string[] | null | undefined) => [...new Set(steps.flatMap((s) => pick(s) ?? []))].sort();
        const withDetail = steps.filter((s) => s.detailedDiff);
        changes.push({
            urn,
            change: changeOf(ops),
            ops,
            ...(old ? { old } : {}),
            ...(fresh ? { new: fresh } : {}),
            diffReasons: union((s) => s.diffReasons),
            replaceReasons: union((s) => s.replaceReasons),
            ...(withDetail.length > 0 ? { detailedDiff: [...new Set(withDetail.flatMap((s) => Object.keys(s.detailedDiff!)))].sort() } : {}),
        });
    }
    return changes;
}

/** What Pulumi writes for a value not known until the update runs. */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** What `pulumi preview --json` writes for a secret. */
export const maskedSecret = "[secret]";
/** The signature key of a secret in Pulumi's state and RPC encodings: `{sig: secretSig, value | ciphertext | plaintext}`. */
const signatureKey = "4dabf18193072939515e22adb298388d";

/** True for a secret in any of Pulumi's encodings; such a value is never read. */
export function isSecretValue(value: unknown): boolean {
    return value === maskedSecret || (typeof value === "object" && value !== null && signatureKey in value);
}

/** A property of a state by path (`["subject", "organizationalUnit"]`); undefined when absent, secret or unknown. */
export function readProperty(props: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
    let value: unknown = props;
    for (const key of path) {
        if (typeof value !== "object" || value === null || Array.isArray(value) || isSecretValue(value)) return undefined;
        value = (value as Record<string, unknown>)[key];
    }
    if (value === undefined || value === unknownValue || isSecretValue(value)) return undefined;
    return value;
}

/** Shapes of the value-free facts the summary prints; a string that does not match is treated as absent. */
export const patterns = {
    guid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    date: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    integer: /^-?\d{1,9}$/,
    /** Permission values (scopes and app roles): `Mail.Send`, `offline_access`, `user_impersonation`. */
    permission: /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/,
    /** Pulumi names, app and credential names, Key Vault secret and vault names. */
    name: /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/,
    /** Property names and paths as Pulumi reports them in diffs: `endDate`, `properties.value`, `tags["slot"]`. */
    property: /^[A-Za-z0-9_$][A-Za-z0-9_$.[\]"-]{0,199}$/,
} as const;

/** A string property that matches `pattern`, else undefined. */
export function readMatching(props: Readonly<Record<string, unknown>> | undefined, path: readonly string[], pattern: RegExp): string | undefined {
    const value = readProperty(props, path);
    return typeof value === "string" && pattern.test(value) ? value : undefined;
}

/**
 * A plain, non-secret string an owner wrote in config (display name, issuer, subject, audience).
 * These are not credentials, but a length cap and a single-line rule keep a misplaced blob out of a comment.
 */
export function readText(props: Readonly<Record<string, unknown>> | undefined, path: readonly string[], maxLength = 600): string | undefined {
    const value = readProperty(props, path);
    return typeof value === "string" && value.length > 0 && value.length <= maxLength && !/[\r\n]/.test(value) && !value.includes("-----BEGIN") ? value : undefined;
}

/** A list of strings (e.g. audiences, claim values) where every item matches; undefined if any does not. */
export function readStringList(props: Readonly<Record<string, unknown>> | undefined, path: readonly string[], accept: (item: string) => boolean): string[] | undefined {
    const value = readProperty(props, path);
    if (!Array.isArray(value)) return undefined;
    return value.every((item): item is string => typeof item === "string" && accept(item)) ? [...value] : undefined;
}

/** `generation 13`, as the components write it into display names, subjects and replacement triggers. */
export function generationIn(text: unknown): number | undefined {
    if (typeof text !== "string") return undefined;
    const match = /\bgeneration (-?\d{1,9})\b/.exec(text);
    return match ? Number(match[1]) : undefined;
}

/** Every URN a state mentions (its own, its parent, its dependencies), to learn names of unchanged components. */
export function urnsMentioned(state: ResourceState | undefined): string[] {
    if (!state) return [];
    const urns = [state.urn, ...(state.parent ? [state.parent] : []), ...(state.dependencies ?? [])];
    for (const deps of Object.values(state.propertyDependencies ?? {})) urns.push(...(deps ?? []));
    return urns;
}
