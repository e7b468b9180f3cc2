import { visible } from "./escape";

/** The output formats every command accepts; `json` is the stable, documented one. */
export type OutputFormat = "table" | "markdown" | "json";

/** Plain-text columns, padded to the widest cell. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], indent = "  "): string {
    return textTableLines(header, rows, indent).join("\n");
}

/** The lines of a text table, header first; control characters in cells are shown as escapes, never sent to the terminal. */
export function textTableLines(header: readonly string[], rawRows: readonly (readonly string[])[], indent = "  "): string[] {
    const rows = rawRows.map((row) => row.map(visible));
    const widths = header.map((cell) => cell.length);
    // A loop, not Math.max(...spread): tens of thousands of rows would overflow the call's arguments.
    for (const row of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (row[i] ?? "").length);
    const line = (cells: readonly string[]) => indent + cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ");
    return [line(header), ...rows.map(line)];
}

/**
 * A GitHub-flavoured markdown table. Cells are the renderer's markdown (escape untrusted text with
 * markdownText or markdownCode first); here a pipe that is not escaped yet is, and no line break survives,
 * so no cell can end its row or the table.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    // A pipe after an even number of backslashes (none, or escaped backslashes) still splits the cell in GFM
    // (cmark-gfm reads `\\` as one escaped character); one more backslash makes every pipe an escaped one.
    const escape = (cell: string) => visible(cell).replace(/(\\*)\|/g, (match, slashes: string) => (slashes.length % 2 === 0 ? `${slashes}\\|` : match));
    return [
        `| ${header.map(escape).join(" | ")} |`,
        `| ${header.map(() => "---").join(" | ")} |`,
        ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
    ].join("\n");
}

/** `TYPE` -> `Type`: table headers in markdown. */
export function capitalize(word: string): string {
    return word.charAt(0) + word.slice(1).toLowerCase();
}

/** `1 app`, `2 apps`. */
export function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
}
