import { isGuid } from "../../infra/model/catalog";
import { firstUnsafe } from "../../rotation/text";

/**
 * Which applications `rotor import` reads: all of the tenant's, those of `--app-id`, those an OData `--filter`
 * selects, each narrowed to those `--owned-by` owns. A filter is passed to Microsoft Graph as written, so it is
 * bounded and checked first: it comes from a command line, perhaps a pipeline's variable.
 */

/** Longer than any filter a person writes; Graph's URLs are bounded too (about 2,000 characters in all). */
export const maxFilterLength = 1024;
/** More ids than this is a filter's job, or the whole tenant's. */
export const maxAppIds = 1000;
/** Graph allows at most 15 values in one `in` (ORed expressions count against a limit of 15). */
export const appIdsPerFilter = 15;

export interface Selection {
    /** OData `$filter`s whose results together are the applications; undefined: every application. */
    readonly filters?: readonly string[];
    /** Only the applications this object (a user or service principal) owns. */
    readonly ownedBy?: string;
}

export interface SelectionFlags {
    readonly appId?: readonly string[];
    readonly filter?: string;
    readonly ownedBy?: string;
}

/** Why a `--filter` is refused, or undefined: never echoes it (a control character would reach the terminal). */
export function filterProblem(filter: string): string | undefined {
    if (filter.trim() === "") return "--filter is empty: give an OData filter, e.g. \"startswith(displayName,'HR')\", or leave it out for every application";
    if (filter.length > maxFilterLength) return `--filter is ${filter.length} characters; at most ${maxFilterLength} (Graph's URLs are bounded): select fewer applications at once`;
    const unsafe = firstUnsafe(filter);
    if (unsafe) return `--filter contains the control or invisible character ${unsafe}; an OData filter has no use for it: remove it`;
    return undefined;
}

/** The applications to read, or the problems of the flags (each a line). */
export function selectionOf(flags: SelectionFlags): { selection: Selection } | { problems: string[] } {
    const problems: string[] = [];
    const ids = (flags.appId ?? []).flatMap((value) => value.split(",")).map((value) => value.trim()).filter((value) => value !== "");
    if (flags.appId !== undefined && flags.filter !== undefined) {
        problems.push("--app-id and --filter select applications each their own way: give one (a filter can name ids: \"appId in ('...','...')\")");
    }
    const badIds = ids.filter((id) => !isGuid(id));
    if (badIds.length > 0) problems.push(`--app-id takes client ids (GUIDs, the application's Application (client) ID); ${badIds.length === 1 ? "this is not one" : `${badIds.length} are not`}: ${badIds.slice(0, 3).map((id) => JSON.stringify(shown(id))).join(", ")}`);
    if (flags.appId !== undefined && ids.length === 0) problems.push("--app-id names no client id");
    if (ids.length > maxAppIds) problems.push(`--app-id names ${ids.length} applications; at most ${maxAppIds}: use --filter, or import the whole tenant`);
    if (flags.filter !== undefined) {
        const problem = filterProblem(flags.filter);
        if (problem) problems.push(problem);
    }
    if (flags.ownedBy !== undefined && !isGuid(flags.ownedBy)) problems.push("--owned-by takes the object id (a GUID) of a user or service principal");
    if (problems.length > 0) return { problems };
    const distinct = [...new Set(ids.map((id) => id.toLowerCase()))];
    const filters =
        distinct.length > 0
            ? chunks(distinct, appIdsPerFilter).map((chunk) => `appId in (${chunk.map((id) => `'${id}'`).join(",")})`)
            : flags.filter !== undefined
              ? [flags.filter]
              : undefined;
    return { selection: { ...(filters ? { filters } : {}), ...(flags.ownedBy ? { ownedBy: flags.ownedBy.toLowerCase() } : {}) } };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}

/** A value as a message shows it: cut, control characters never printed. */
function shown(value: string): string {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return firstUnsafe(cut) ? cut.replace(/[^\x20-\x7e]/g, "?") : cut;
}
