/**
 * The slice of OData $filter that the product's Graph lookups use: `prop eq|ne 'v'`, `prop in ('a','b')`,
 * `startswith(prop,'v')`, on collections `prop/any(x:x eq 'v')` (also written `any(x: x eq 'v')`), and on
 * dates `prop ge|gt|le|lt 2027-03-01T00:00:00Z` (an unquoted DateTimeOffset, as the sign-in log takes it),
 * joined by `and`/`or` (no parentheses; `and` binds tighter). Anything else is a FilterSyntaxError that names
 * what the emulator supports, so an unsupported query fails loudly.
 */

/** One comparison of a parsed $filter. */
export type Clause =
    | { readonly kind: "eq" | "ne"; readonly property: string; readonly value: string }
    | { readonly kind: "in"; readonly property: string; readonly values: readonly string[] }
    | { readonly kind: "startswith"; readonly property: string; readonly value: string }
    | { readonly kind: "any"; readonly property: string; readonly value: string }
    | { readonly kind: "ge" | "gt" | "le" | "lt"; readonly property: string; readonly value: string };

const dateTimeOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A parsed $filter: a disjunction of conjunctions of clauses. */
export interface Filter {
    readonly anyOf: readonly (readonly Clause[])[];
    /** Clauses counted as Graph counts them against its limit of 15 ORed expressions. */
    readonly orCount: number;
}

export class FilterSyntaxError extends Error {}

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const ch = text[i] ?? "";
        if (/\s/.test(ch)) {
            i++;
        } else if (ch === "'") {
            let value = "";
            i++;
            for (;;) {
                if (i >= text.length) throw new FilterSyntaxError("unterminated string literal");
                if (text[i] === "'" && text[i + 1] === "'") {
                    value += "'";
                    i += 2;
                } else if (text[i] === "'") {
                    i++;
                    break;
                } else {
                    value += text[i];
                    i++;
                }
            }
            tokens.push(`'${value}`);
        } else if ("(),".includes(ch)) {
            tokens.push(ch);
            i++;
        } else {
            let word = "";
            while (i < text.length && !/[\s(),']/.test(text[i] ?? "")) word += text[i++];
            tokens.push(word);
        }
    }
    return tokens;
}

export function parseFilter(text: string, properties: readonly string[]): Filter {
    const tokens = tokenize(text);
    let position = 0;
    const peek = () => tokens[position];
    const take = () => {
        const token = tokens[position++];
        if (token === undefined) throw new FilterSyntaxError("unexpected end of expression");
        return token;
    };
    const literal = () => {
        const token = take();
        if (!token.startsWith("'")) throw new FilterSyntaxError(`expected a string literal, found '${token}'`);
        return token.slice(1);
    };
    const property = (name: string) => {
        const found = properties.find((p) => p.toLowerCase() === name.toLowerCase());
        if (!found) throw new FilterSyntaxError(`filtering on '${name}' is not supported by the entra-rotor emulator (supported: ${properties.join(", ")})`);
        return found;
    };
    const clause = (): Clause => {
        const first = take();
        if (first.toLowerCase() === "startswith") {
            if (take() !== "(") throw new FilterSyntaxError("expected '(' after startswith");
            const name = property(take());
            if (take() !== ",") throw new FilterSyntaxError("expected ','");
            const value = literal();
            if (take() !== ")") throw new FilterSyntaxError("expected ')'");
            return { kind: "startswith", property: name, value };
        }
        const lambda = /^([A-Za-z]+)\/any$/i.exec(first);
        if (lambda) {
            // `tags/any(t:t eq 'v')`: the lambda variable must be compared with eq, as Graph allows on string collections.
            const name = property(lambda[1]!);
            if (take() !== "(") throw new FilterSyntaxError("expected '(' after any");
            // `t:t` is one token; `t: t` (as Graph's own examples write it) is two.
            const head = take();
            const variable = /^([a-z]\w*):(\1)?$/i.exec(head);
            if (!variable || (variable[2] === undefined && take() !== variable[1])) throw new FilterSyntaxError("expected a lambda such as t:t");
            if (take().toLowerCase() !== "eq") throw new FilterSyntaxError("only eq is supported inside any()");
            const value = literal();
            if (take() !== ")") throw new FilterSyntaxError("expected ')'");
            return { kind: "any", property: name, value };
        }
        const name = property(first);
        const operator = take().toLowerCase();
        if (operator === "eq" || operator === "ne") return { kind: operator, property: name, value: literal() };
        if (operator === "in") {
            if (take() !== "(") throw new FilterSyntaxError("expected '(' after in");
            const values = [literal()];
            while (peek() === ",") {
                take();
                values.push(literal());
            }
            if (take() !== ")") throw new FilterSyntaxError("expected ')'");
            return { kind: "in", property: name, values };
        }
        if (operator === "ge" || operator === "gt" || operator === "le" || operator === "lt") {
            const value = take();
            if (!dateTimeOffset.test(value) || Number.isNaN(Date.parse(value))) throw new FilterSyntaxError(`expected a DateTimeOffset such as 2027-03-01T00:00:00Z after ${operator}, found '${value}'`);
            return { kind: operator, property: name, value };
        }
        throw new FilterSyntaxError(`operator '${operator}' is not supported by the entra-rotor emulator (eq, ne, in, startswith, and ge, gt, le, lt on dates)`);
    };
    const anyOf: Clause[][] = [[clause()]];
    while (position < tokens.length) {
        const joiner = take().toLowerCase();
        if (joiner === "and") (anyOf[anyOf.length - 1] as Clause[]).push(clause());
        else if (joiner === "or") anyOf.push([clause()]);
        else throw new FilterSyntaxError(`unexpected '${joiner}'`);
    }
    // Graph counts each ORed expression, and each value of an `in` as one.
    const orCount = anyOf.reduce((total, all) => total + all.reduce((n, c) => Math.max(n, c.kind === "in" ? c.values.length : 1), 1), 0);
    return { anyOf, orCount };
}

export function matchesFilter(filter: Filter, read: (property: string) => string | readonly string[] | undefined): boolean {
    return filter.anyOf.some((all) =>
        all.every((c) => {
            const raw = read(c.property);
            if (c.kind === "any") return Array.isArray(raw) && raw.some((v: string) => v.toLowerCase() === c.value.toLowerCase());
            if (c.kind === "ge" || c.kind === "gt" || c.kind === "le" || c.kind === "lt") {
                const actualMs = typeof raw === "string" ? Date.parse(raw) : NaN;
                const boundMs = Date.parse(c.value);
                if (Number.isNaN(actualMs)) return false;
                return c.kind === "ge" ? actualMs >= boundMs : c.kind === "gt" ? actualMs > boundMs : c.kind === "le" ? actualMs <= boundMs : actualMs < boundMs;
            }
            const actual = (typeof raw === "string" ? raw : "").toLowerCase();
            switch (c.kind) {
                case "eq":
                    return actual === c.value.toLowerCase();
                case "ne":
                    return actual !== c.value.toLowerCase();
                case "in":
                    return c.values.some((v) => v.toLowerCase() === actual);
                case "startswith":
                    return actual.startsWith(c.value.toLowerCase());
                default:
                    return false;
            }
        }),
    );
}
