import { visible } from "../../rotation/text";

/**
 * Text from input we do not control (a pull request's stack config, a preview's URNs and properties) made
 * safe where it is shown. Markdown from `rotor plan --base` and `rotor summarize` becomes a review comment:
 * a name must not be able to close a table, open an HTML comment that swallows the warnings after it, fake
 * an alert box, mention a team or cross-reference an issue, or make the comment too long for GitHub to post. A
 * terminal must not receive escape sequences or reordering marks.
 */

export { firstUnsafe, visible } from "../../rotation/text";

/** What a terminal may print: the same as visible. */
export const terminalText = visible;

/** Characters with a meaning in CommonMark or GitHub's markdown (`$` for its math), escaped with a backslash. */
const markdownPunctuation = /[\\`*_~[\]|!#$]/g;

/**
 * Inline markdown text: shown as written, never as markup. Backslash escapes for emphasis, code, links,
 * tables and headings; `<`, `>` and `&` as entities (no HTML, no comment, no autolink, no blockquote);
 * `@` followed by a zero-width space (as an entity, so that no later pass shows the character itself) so
 * GitHub mentions no one; `$` escaped, since GitHub reads `$...$` as math; a leading list marker escaped.
 *
 * Issue references are broken the same way as mentions: GitHub links `#12`, `GH-12` and `org/repo#12` to issues
 * and pull requests, and a link to another repository's issue also posts a cross-reference there
 * (https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/autolinked-references-and-urls).
 * It finds them in the rendered text, after markdown's own escapes are gone, so a backslash does not stop it; a
 * zero-width space between `#` (or `GH-`) and the number does.
 */
export function markdownText(text: string): string {
    let out = visible(text)
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(markdownPunctuation, "\\$&")
        .replace(/@/g, "@&#8203;")
        .replace(/\\#(?=\d)/g, "\\#&#8203;")
        .replace(/(gh-)(?=\d)/gi, "$1&#8203;");
    // A value at the start of a list item or line must not start a list, a thematic break or a setext underline.
    out = out.replace(/^([-+=])/, "\\$1").replace(/^(\d+)([.)])/, "$1\\$2");
    return out;
}

/**
 * An inline code span: for ids, URLs, subjects. Its content is literal in markdown (GitHub mentions no one
 * and links nothing inside it), but a backtick would end it, a line break would end the paragraph, and in a
 * table `|` still splits the cell (markdownTable escapes it), so those are replaced.
 */
export function markdownCode(text: string): string {
    return `\`${visible(text).replace(/`/g, "'")}\``;
}

// --- what a comment may hold ------------------------------------------------------------------------------
