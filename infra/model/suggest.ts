/**
 * "Did you mean" suggestions for config errors. Names in Graph's catalog are short, so a plain
 * edit distance over a few thousand candidates costs well under a millisecond per lookup.
 */
export function editDistance(a: string, b: string): number {
    const previous = new Array<number>(b.length + 1);
    for (let j = 0; j <= b.length; j++) previous[j] = j;
    for (let i = 1; i <= a.length; i++) {
        let diagonal = previous[0]!;
        previous[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = previous[j]!;
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
            diagonal = above;
        }
    }
    return previous[b.length]!;
}

/** The longest input a suggestion is searched for: Graph's longest permission name is under 80 characters. */
export const maxSuggestedLength = 128;

/** The closest candidate to `input`, or undefined when nothing is close enough to be a typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
    // Nothing we suggest is this long; a longer input is not a typo of it, and the distance would cost
    // its length times each candidate's (a pull request's megabyte "permission name" against the catalog).
    if (input.length > maxSuggestedLength) return undefined;
    const lowered = input.toLowerCase();
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        // A case-only difference is the most likely mistake of all.
        const distance = candidate.toLowerCase() === lowered ? 0 : editDistance(lowered, candidate.toLowerCase());
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    const tolerance = Math.max(2, Math.floor(input.length / 4));
    return bestDistance <= tolerance ? best : undefined;
}

/** ` (did you mean "X"?)` or the empty string, ready to append to a message. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
    const suggestion = closest(input, candidates);
    return suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`;
}
