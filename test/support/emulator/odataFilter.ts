/**
 * The slice of OData $filter that the product's Graph lookups use: `prop eq|ne 'v'`, `prop in ('a','b')`,
 * `startswith(prop,'v')`, on collections `prop/any(x:x eq 'v')` (also written `any(x: x eq 'v')`),
 * `prop/any(x:startswith(x,'v'))` and, on collections of objects, `prop/any(x:x/member eq 'v')` (read as the
 * property `prop/member`), and on dates `prop eq|ge|gt|le|lt 2027-03-01T00:00:00Z` (an unquoted
 * DateTimeOffset, as the sign-in log and `createdDateTime` take it), joined by `and`/`or` (no parentheses;
 * `and` binds tighter). Anything else is a FilterSyntaxError that names what the emulator supports, so an
 * unsupported query fails loudly.
 *
 * Which property takes which operator, and which need Graph's advanced query parameters, is Graph's table
 * per directory object ("Advanced query capabilities on Microsoft Entra ID objects",
 * learn.microsoft.com/graph/aad-advanced-queries, its "filter-directory-objects" tables): callers pass it as
 * FilterRules and ask checkFilter.
 */

/** One comparison of a parsed $filter. */
export type Clause =
    /** `date`: the value was an unquoted DateTimeOffset, compared as an instant. */
    | { readonly kind: "eq" | "ne"; readonly property: string; readonly value: string; readonly date?: true }
    | { readonly kind: "in"; readonly property: string; readonly values: readonly string[] }
    | { readonly kind: "startswith"; readonly property: string; readonly value: string }
    /** `operator`: what the lambda applies to each member (default eq). */
    | { readonly kind: "any"; readonly property: string; readonly value: string; readonly operator?: "eq" | "startswith" }
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
        const lambda = /^([A-Za-z][\w/]*)\/any$/i.exec(first);
        if (lambda) {
            // `tags/any(t:t eq 'v')`, `tags/any(t:startswith(t,'v'))`, `requiredResourceAccess/any(r:r/resourceAppId eq 'v')`.
            const collection = lambda[1]!;
            if (take() !== "(") throw new FilterSyntaxError("expected '(' after any");
            // `t:t` is one token; `t: t` (as Graph's own examples write it) is two.
            const head = /^([a-z]\w*):(.*)$/i.exec(take());
            if (!head) throw new FilterSyntaxError("expected a lambda such as t:t");
            const variable = head[1]!;
            const body = head[2] ? head[2] : take();
            // The lambda variable alone (`t`), or one member of it (`r/resourceAppId`).
            const member = (token: string): string | undefined => {
                if (token === variable) return undefined;
                const path = new RegExp(`^${variable}/(\\w+)$`).exec(token);
                if (!path) throw new FilterSyntaxError(`expected the lambda variable '${variable}' or one of its members, found '${token}'`);
                return path[1];
            };
            const named = (m: string | undefined) => property(m === undefined ? collection : `${collection}/${m}`);
            if (body.toLowerCase() === "startswith") {
                if (take() !== "(") throw new FilterSyntaxError("expected '(' after startswith");
                const name = named(member(take()));
                if (take() !== ",") throw new FilterSyntaxError("expected ','");
                const value = literal();
                if (take() !== ")" || take() !== ")") throw new FilterSyntaxError("expected ')'");
                return { kind: "any", property: name, value, operator: "startswith" };
            }
            const name = named(member(body));
            if (take().toLowerCase() !== "eq") throw new FilterSyntaxError("only eq and startswith are supported inside any()");
            const value = literal();
            if (take() !== ")") throw new FilterSyntaxError("expected ')'");
            return { kind: "any", property: name, value };
        }
        const name = property(first);
        const operator = take().toLowerCase();
        if (operator === "eq" || operator === "ne") {
            // `createdDateTime eq 2026-11-23T06:00:00Z`: a DateTimeOffset is written without quotes.
            const next = peek();
            if (next !== undefined && !next.startsWith("'") && dateTimeOffset.test(next)) {
                take();
                if (Number.isNaN(Date.parse(next))) throw new FilterSyntaxError(`'${next}' is not a valid DateTimeOffset`);
                return { kind: operator, property: name, value: next, date: true };
            }
            return { kind: operator, property: name, value: literal() };
        }
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
            if (c.kind === "any") {
                const wanted = c.value.toLowerCase();
                return Array.isArray(raw) && raw.some((v: string) => (c.operator === "startswith" ? v.toLowerCase().startsWith(wanted) : v.toLowerCase() === wanted));
            }
            if ((c.kind === "eq" || c.kind === "ne") && c.date) {
                const same = typeof raw === "string" && Date.parse(raw) === Date.parse(c.value);
                return c.kind === "eq" ? same : !same;
            }
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

/** Whether Graph answers an operator on a property by default, or only with its advanced query parameters. */
export type FilterSupport = "default" | "advanced";

/**
 * What Graph allows on one property, from its table per directory object: `eq` (and `in`, "supported by
 * default whenever eq is"; `ne` always needs the advanced parameters), `startswith`, `range` (ge/le, and
 * gt/lt), and whether the property is a collection, filtered only through `any()`.
 */
export interface FilterRule {
    readonly eq?: FilterSupport;
    readonly startswith?: FilterSupport;
    readonly range?: FilterSupport;
    readonly collection?: true;
}

export type FilterRules = Readonly<Record<string, FilterRule>>;

/** The first clause Graph would refuse outright, or the first operator that needs the advanced query parameters. */
export type FilterVerdict = { readonly ok: true } | { readonly unsupported: string } | { readonly advanced: string };

export function checkFilter(filter: Filter, rules: FilterRules): FilterVerdict {
    let advanced: string | undefined;
    for (const all of filter.anyOf) {
        for (const c of all) {
            const rule = rules[c.property] ?? {};
            const isLambda = c.kind === "any";
            if (isLambda !== (rule.collection === true)) return { unsupported: c.property };
            const [support, operator] =
                c.kind === "any"
                    ? [c.operator === "startswith" ? rule.startswith : rule.eq, "any"]
                    : c.kind === "eq" || c.kind === "in"
                      ? [rule.eq, c.kind]
                      : c.kind === "ne"
                        ? [rule.eq ? "advanced" : undefined, "ne"]
                        : c.kind === "startswith"
                          ? [rule.startswith, "startsWith"]
                          : [rule.range, c.kind];
            if (support === undefined) return { unsupported: c.property };
            if (support === "advanced") advanced ??= operator;
        }
    }
    return advanced === undefined ? { ok: true } : { advanced };
}
