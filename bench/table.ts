/** Markdown tables and the units the benchmark prints, so the README can carry the output as is. */

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    // Pipes inside a cell would split it: escape them, as GitHub's renderer expects.
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function seconds(ms: number): string {
    if (ms < 1_000) return `${Math.round(ms)} ms`;
    if (ms < 10_000) return `${(ms / 1_000).toFixed(2)} s`;
    return `${(ms / 1_000).toFixed(1)} s`;
}

/** Mebibytes, as `maxRSS` is usually read. */
export function megabytes(bytes: number): string {
    return `${count(Math.round(bytes / 1024 / 1024))} MB`;
}

export function kilobytes(bytes: number): string {
    return `${count(Math.round(bytes / 1024))} KB`;
}

export function ratio(value: number): string {
    return `${value.toFixed(2)}x`;
}

export function count(value: number): string {
    return value.toLocaleString("en-US");
}

export function met(ok: boolean): string {
    return ok ? "met" : "**missed**";
}

export function duration(ms: number): string {
    const total = Math.round(ms / 1_000);
    const minutes = Math.floor(total / 60);
    return minutes > 0 ? `${minutes} min ${total % 60} s` : `${total} s`;
}
