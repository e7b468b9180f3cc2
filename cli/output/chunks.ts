/**
 * Output in pieces. A plan of thousands of apps is tens of megabytes of text; built as one string it is held
 * twice (the string and the buffer written), so commands render an iterable of chunks and write them as they
 * come. Writes to a pipe or file are synchronous on Linux, so a chunk is gone before the next is made.
 */
export type Chunks = Iterable<string>;

/** The whole text, for callers that want a string (tests, small outputs). */
export function joinChunks(chunks: Chunks): string {
    let text = "";
    for (const chunk of chunks) text += chunk;
    return text;
}

/** A list whose items are made when read, each time: what a large document streams instead of holding. */
export class LazyList<T> implements Iterable<T> {
    constructor(
        readonly length: number,
        private readonly item: (index: number) => T,
    ) {}

    *[Symbol.iterator](): Iterator<T> {
        for (let i = 0; i < this.length; i++) yield this.item(i);
    }
}

/**
 * `JSON.stringify(value, null, 2) + "\n"`, byte for byte (a LazyList written as an array), with each element
 * of the top-level object's arrays a chunk of its own. Values must be plain data (no `toJSON`, no
 * `undefined` inside arrays).
 */
export function* jsonChunks(value: object): Generator<string> {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol");
    if (entries.length === 0) {
        yield "{}\n";
        return;
    }
    yield "{\n";
    for (let i = 0; i < entries.length; i++) {
        const [key, v] = entries[i]!;
        const comma = i < entries.length - 1 ? "," : "";
        const prefix = `  ${JSON.stringify(key)}: `;
        if ((Array.isArray(v) || v instanceof LazyList) && v.length > 0) {
            yield `${prefix}[\n`;
            let j = 0;
            for (const item of v as Iterable<unknown>) yield `    ${indent(JSON.stringify(item ?? null, null, 2), "    ")}${++j < v.length ? "," : ""}\n`;
            yield `  ]${comma}\n`;
        } else if (v instanceof LazyList) {
            yield `${prefix}[]${comma}\n`;
        } else {
            yield `${prefix}${indent(JSON.stringify(v, null, 2), "  ")}${comma}\n`;
        }
    }
    yield "}\n";
}

/** JSON text never holds a raw line break inside a string, so every one is between tokens. */
function indent(json: string, pad: string): string {
    return json.includes("\n") ? json.replace(/\n/g, `\n${pad}`) : json;
}

/** Blocks of lines, as `blocks.flat().join("\n")` would print them, one chunk per block. */
export function* joinedLines(blocks: Iterable<readonly string[]>): Generator<string> {
    let first = true;
    for (const block of blocks) {
        if (block.length === 0) continue;
        yield `${first ? "" : "\n"}${block.join("\n")}`;
        first = false;
    }
}
