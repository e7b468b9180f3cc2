/**
 * What a review comment may hold. GitHub refuses a comment body over 65,536 characters, so a plan or summary
 * that grows with the pull request is cut to a budget: what must be seen first whole, long names shortened
 * with a marker, and what is left out counted.
 */

/**
 * GitHub refuses a comment whose body is longer than 65,536 characters: `POST
 * /repos/{owner}/{repo}/issues/{issue_number}/comments` answers 422 "Body is too long (maximum is 65536
 * characters)" (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment). A review that does not
 * fit is not posted at all, and the comment of an earlier push stays up; so the markdown of `rotor plan` and
 * `rotor summarize` is cut to a budget. Lengths here are JavaScript's (UTF-16 code units), never fewer than the
 * characters GitHub counts.
 */
export const githubCommentLimit = 65_536;

/** The default budget of a review comment: under GitHub's limit, with room for what a pipeline adds around it. */
export const defaultCommentBudget = 60_000;

/**
 * The longest name a comment shows whole. No stack file string is longer (the config readers refuse more than
 * 1,024 characters), so only a preview's names are ever cut, and a name still says how long it was.
 */
export const maxShownLength = 1_024;

/** `text`, or its first `max` characters and `…(1,048,576 characters)`: cut between code points, never inside one. */
export function shortened(text: string, max = maxShownLength): string {
    if (text.length <= max) return text;
    let cut = max;
    const last = text.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    return `${text.slice(0, cut)}…(${text.length.toLocaleString("en-US")} characters)`;
}

/** `1 more row`, `2 more apps`: what a cut leaves out, and where the rest is. */
export function moreNote(count: number, what: string): string {
    return `${count.toLocaleString("en-US")} more ${what}${count === 1 ? "" : "s"}: see the run summary.`;
}

/**
 * The characters left for a markdown comment (unlimited with 0), spent block by block in the order the comment
 * is written. Each line counts with its line break, so the text written is never longer than what was taken.
 * (It sits with the escaping because a hostile name can make a comment unpostable as surely as unreadable.)
 */
export class CommentBudget {
    private left: number;

    constructor(maxChars: number) {
        this.left = maxChars > 0 ? maxChars : Number.POSITIVE_INFINITY;
    }

    /** Characters still free when `keep` are kept (Infinity with no limit). */
    room(keep = 0): number {
        return this.left - keep;
    }

    static size(lines: readonly string[]): number {
        let size = 0;
        for (const line of lines) size += line.length + 1;
        return size;
    }

    /** Takes the lines when they fit with `keep` characters to spare; says whether they did. */
    take(lines: readonly string[], keep = 0): boolean {
        const size = CommentBudget.size(lines);
        if (size > this.left - keep) return false;
        this.left -= size;
        return true;
    }

    /**
     * Lines that must be shown (escalations, what breaks consumers): all of them when they fit; otherwise as many
     * whole lines as fit (keeping `keep` characters for what closes the comment), and a paragraph saying the rest
     * is cut.
     */
    takeAll(lines: readonly string[], keep = 0): string[] {
        if (this.take(lines, keep)) return [...lines];
        const marker = (n: number) => ["", `**The comment is cut here: ${moreNote(n, "line")}**`, ""];
        const kept: string[] = [];
        const room = this.left - keep - CommentBudget.size(marker(lines.length));
        let used = 0;
        for (const line of lines) {
            if (used + line.length + 1 > room) break;
            kept.push(line);
            used += line.length + 1;
        }
        const out = [...kept, ...marker(lines.length - kept.length)];
        this.left -= CommentBudget.size(out);
        return out;
    }

    /**
     * A block whose first `fixed` lines (a heading, a table's header) go together with at least one of the rest:
     * as many of the rest as fit with `keep` to spare. Returns the lines taken (none when not even the first
     * fits) and how many of the rest were left out.
     */
    takeRows(lines: readonly string[], fixed: number, keep = 0): { lines: string[]; omitted: number } {
        const rows = lines.length - fixed;
        if (this.take(lines, keep)) return { lines: [...lines], omitted: 0 };
        const room = this.left - keep;
        let used = CommentBudget.size(lines.slice(0, fixed));
        let end = fixed;
        while (end < lines.length && used + lines[end]!.length + 1 <= room) used += lines[end++]!.length + 1;
        if (end === fixed) return { lines: [], omitted: rows };
        this.left -= used;
        return { lines: lines.slice(0, end), omitted: lines.length - end };
    }
}
