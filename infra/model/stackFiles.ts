import * as fs from "node:fs";
import * as path from "node:path";
import { Composer, type Document, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser } from "yaml";
import { unsafeTextProblem } from "../../rotation/text";
import { ConfigError, type ConfigIssue } from "./issues";
import type { StackConfigInput } from "./model";
import { projectNameProblem, stackNameProblem } from "./names";
import { type ProjectFileRules, insideProject, readInsideProject } from "./projectFiles";
import { maxConfigDepth, nullPrototype } from "./rawInput";

export { stackNameProblem } from "./names";

/**
 * The files are the ones Pulumi reads, found as Pulumi finds them (pulumi/pulumi at 1b5949891b3c, 2026-08-21):
 * - the project file: `findProjectInDir` (sdk/go/common/workspace/paths.go, through `DetectProjectPathFrom`)
 *   tries `Pulumi` with each of `encoding.Exts` in order, `.json`, `.yaml`, `.yml`
 *   (sdk/go/common/encoding/marshal.go), and reads the first that is a file (`isMarkupFile`);
 * - the stack file: `ProjectStackPath` (paths.go) names it `Pulumi.<stack>` with the project file's own
 *   extension (`filepath.Ext(projPath)`), in `stackConfigDir` when the project sets one, else beside the
 *   project file: next to a Pulumi.yaml, a Pulumi.dev.yml or Pulumi.dev.json is never read;
 * - `LoadProject` and `LoadProjectStack` (sdk/go/common/workspace/loaders.go) strip a UTF-8 byte order mark
 *   and parse by extension; `RewriteConfigPathIntoStackConfigDir` (project.go) reads a project's string
 *   `config:` as the deprecated spelling of `stackConfigDir`.
 * Pulumi silently takes the first of several project files and ignores stack files of another extension, so
 * a review that read another file would not be what is deployed. More than one project file, more than one
 * stack file for a stack, or a stack file Pulumi would not read is refused: the ambiguity is the finding.
 */
const configExtensions = [".json", ".yaml", ".yml"] as const;
type ConfigExtension = (typeof configExtensions)[number];

/**
 * Reads a stack's config straight from the project file and the stack's file (`Pulumi.yaml` and
 * `Pulumi.<stack>.yaml`, or their JSON or `.yml` forms, above), so the CLI computes the same model as the
 * program without the Pulumi CLI, a backend or any secret. Project-level values and defaults apply first,
 * the stack file overrides them, as Pulumi does.
 */
export function readStackConfig(dir: string, stack: string, options: { readonly cwd?: string } = {}): StackConfigInput {
    const cwd = options.cwd ?? process.cwd();
    const badStack = stackNameProblem(stack);
    if (badStack) throw new Error(`--stack ${badStack}`);
    const shown = (file: string) => displayPath(file, cwd);
    const projectFile = readProject(dir, cwd);
    const project = projectFile.doc;
    const projectName = project["name"];
    if (typeof projectName !== "string" || projectName === "") throw fileError(projectFile.shown, "name: required: the Pulumi project name");
    const badProject = projectNameProblem(projectName);
    if (badProject) throw fileError(projectFile.shown, `name: ${badProject}`);

    const stackFile = stackFileOf(projectFile, stack, cwd);

    // Null-prototype: a key named __proto__ is a key like any other (and reported as unknown), never the
    // object's prototype, so the offline plan reads exactly what the program would.
    const values: Record<string, unknown> = Object.create(null);
    const secureKeys: string[] = [];
    const provider: { tenantId?: unknown; environment?: unknown } = {};
    const projectConfig = project["config"];
    // A string is the stack config folder (stackConfigDir below), not config.
    if (projectConfig !== undefined && projectConfig !== null && typeof projectConfig !== "string") {
        for (const [key, declared] of Object.entries(asMapping(projectConfig, projectFile.shown, projectFile.ext))) {
            const own = ownKey(key, projectName);
            if (own === undefined) {
                readProviderKey(key, declaredValue(declared), provider);
                continue;
            }
            // Project config is either a plain value or a declaration with `value` or `default`.
            if (typeof declared === "object" && declared !== null && !Array.isArray(declared)) {
                const declaration = declared as Record<string, unknown>;
                if ("value" in declaration) values[own] = declaration["value"];
                else if ("default" in declaration) values[own] = declaration["default"];
            } else {
                values[own] = declared;
            }
        }
    }

    const stackExt = path.extname(stackFile) as ConfigExtension;
    const stackDoc = asMapping(readConfigFile(stackFile, dir, shown(stackFile)) ?? {}, shown(stackFile), stackExt);
    const escEnvironments = readEscEnvironments(stackDoc["environment"], path.basename(stackFile), shown(stackFile));
    const stackConfig = stackDoc["config"];
    if (stackConfig !== undefined && stackConfig !== null) {
        for (const [key, value] of Object.entries(asMapping(stackConfig, shown(stackFile), stackExt))) {
            const own = ownKey(key, projectName);
            if (own === undefined) {
                readProviderKey(key, value, provider);
                continue;
            }
            // Encrypted values are never needed offline; leaving them out keeps them out of every output. Their
            // keys still count: an unknown or misplaced one is reported like any other.
            if (typeof value === "object" && value !== null && Object.hasOwn(value, "secure")) {
                secureKeys.push(own);
                continue;
            }
            values[own] = value;
        }
    }
    return { project: projectName, stack, values, secureKeys, provider, source: displayPath(stackFile, cwd), baseDir: dir, escEnvironments };
}

/** The azuread provider's keys the model reads (its tenant and cloud); encrypted values stay unread. */
const providerKeys: Readonly<Record<string, "tenantId" | "environment">> = { "azuread:tenantId": "tenantId", "azuread:environment": "environment" };

function readProviderKey(key: string, value: unknown, provider: { tenantId?: unknown; environment?: unknown }): void {
    const field = providerKeys[key];
    if (field === undefined || value === undefined) return;
    if (typeof value === "object" && value !== null && Object.hasOwn(value, "secure")) return;
    provider[field] = value;
}

/** A project-level config entry: a plain value, or a declaration with `value` or `default`. */
function declaredValue(declared: unknown): unknown {
    if (typeof declared === "object" && declared !== null && !Array.isArray(declared)) {
        const declaration = declared as Record<string, unknown>;
        if (Object.hasOwn(declaration, "value")) return declaration["value"];
        if (Object.hasOwn(declaration, "default")) return declaration["default"];
        return undefined;
    }
    return declared;
}

/** Relative to the working directory when inside it, else absolute: the shortest unambiguous name. */
function displayPath(file: string, cwd: string): string {
    const relative = path.relative(cwd, file);
    if (relative === "") return ".";
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** `entra-rotor:apps` -> `apps` for the project's namespace; keys of other namespaces are not ours. */
function ownKey(key: string, project: string): string | undefined {
    const colon = key.indexOf(":");
    if (colon < 0) return key;
    return key.slice(0, colon) === project ? key.slice(colon + 1) : undefined;
}

/** The project file, read: where it is, its format, its mapping and the folder of its stack files. */
interface ProjectFile {
    readonly file: string;
    /** The file as messages name it. */
    readonly shown: string;
    readonly ext: ConfigExtension;
    readonly doc: Record<string, unknown>;
    readonly configDir: string;
}

/** The one project file of `dir` (above), read; a config error when there are several. */
function readProject(dir: string, cwd: string): ProjectFile {
    const present = configExtensions.map((ext) => path.join(dir, `Pulumi${ext}`)).filter(isFileEntry);
    if (present.length === 0) {
        throw new StackNotFoundError(displayPath(path.join(dir, "Pulumi.yaml"), cwd), `no Pulumi.yaml in ${displayPath(dir, cwd)} (nor Pulumi.yml or Pulumi.json); run rotor from the project directory or pass --dir`);
    }
    const file = present[0]!;
    const shown = displayPath(file, cwd);
    if (present.length > 1) {
        throw fileError(
            shown,
            `the project has ${present.length} project files (${baseNames(present)}): Pulumi reads only ${path.basename(file)} (it looks for Pulumi.json, Pulumi.yaml and Pulumi.yml in that order) and ignores the others, so a review of another is not what is deployed; keep one project file and delete the others`,
        );
    }
    const ext = path.extname(file) as ConfigExtension;
    const doc = asMapping(readConfigFile(file, dir, shown), shown, ext);
    return { file, shown, ext, doc, configDir: stackConfigDir(doc, dir, shown) };
}

/** The stack's file: `Pulumi.<stack>` with the project file's extension, the only one Pulumi reads (above). */
function stackFileOf(project: ProjectFile, stack: string, cwd: string): string {
    const expected = path.join(project.configDir, `Pulumi.${stack}${project.ext}`);
    const present = configExtensions.map((ext) => path.join(project.configDir, `Pulumi.${stack}${ext}`)).filter(isFileEntry);
    if (present.length === 0) {
        const available = listStacks(project.configDir);
        throw new StackNotFoundError(
            displayPath(expected, cwd),
            `no config for stack "${stack}"; ${available.length ? `stacks here: ${available.join(", ")}` : `create Pulumi.<stack>${project.ext}`}`,
        );
    }
    const reads = `Pulumi reads the stack's config from ${path.basename(expected)} only (the stack file takes the extension of the project file ${path.basename(project.file)})`;
    if (present.length > 1) {
        throw fileError(displayPath(present.includes(expected) ? expected : present[0]!, cwd), `stack "${stack}" has ${present.length} stack files (${baseNames(present)}): ${reads}, so a review of another is not what is deployed; keep one, named ${path.basename(expected)}, and delete the others`);
    }
    if (present[0] !== expected) throw fileError(displayPath(present[0]!, cwd), `is not read by Pulumi: ${reads}; rename it to ${path.basename(expected)}`);
    return expected;
}

/** Whether there is something at `file` that is not a folder; links count without being followed (nothing outside the project is looked at). */
function isFileEntry(file: string): boolean {
    const stats = fs.lstatSync(file, { throwIfNoEntry: false });
    return stats !== undefined && !stats.isDirectory();
}

function baseNames(files: readonly string[]): string {
    return files
        .map((file) => path.basename(file))
        .sort()
        .join(", ");
}

/**
 * The stacks of a project: every `Pulumi.<stack>.<ext>` of the three formats in its stack config directory
 * whose name is a stack name, sorted. For `--all-stacks`: a stack file in a format Pulumi would not read, or
 * two files for one stack, is listed, and then refused when read, instead of left out of the review.
 */
export function projectStacks(dir: string, options: { readonly cwd?: string } = {}): string[] {
    const project = readProject(dir, options.cwd ?? process.cwd());
    return listStacks(project.configDir).filter((stack) => stackNameProblem(stack) === undefined);
}

function listStacks(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    const stacks = fs
        .readdirSync(dir)
        .map((file) => /^Pulumi\.(.+)\.(?:ya?ml|json)$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined);
    return [...new Set(stacks)].sort();
}

/**
 * The largest stack or project file read. A stack of 5,000 app registrations is about 3.5 MB; a file from a
 * pull request larger than this is refused before it is read, so parsing time and memory stay bounded.
 */
export const maxConfigFileBytes = 16 * 1024 * 1024;

/**
 * Where the stack files are: the project's `stackConfigDir`, which must stay inside the project (a
 * Pulumi.yaml from a pull request could point it anywhere), else the project directory.
 */
function stackConfigDir(project: Record<string, unknown>, dir: string, shownProjectFile: string): string {
    let configured = project["stackConfigDir"];
    // The deprecated spelling, as Pulumi reads it (RewriteConfigPathIntoStackConfigDir, above); both is Pulumi's error too.
    if (typeof project["config"] === "string") {
        if (Object.hasOwn(project, "stackConfigDir")) throw fileError(shownProjectFile, "config: names the stack config folder, and so does stackConfigDir: Pulumi refuses both; keep stackConfigDir only");
        configured = project["config"];
    }
    if (typeof configured !== "string") return dir;
    const configDir = path.resolve(dir, configured);
    if (!insideProject(configDir, dir)) throw fileError(shownProjectFile, "stackConfigDir: is outside the project directory: stack files are read only from inside the project; give a folder of the project");
    return configDir;
}

const stackFileRules: ProjectFileRules = {
    maxBytes: maxConfigFileBytes,
    what: "a stack config file",
    outsideFix: "keep Pulumi.yaml and the stack files in the project, not linked from elsewhere",
    tooLarge: (size) => `is ${size} bytes; a stack config is at most ${maxConfigFileBytes} bytes (16 MiB), far more than thousands of app registrations need`,
};

/**
 * The most tokens read from one file: the lexer's tokens of YAML (every value, key, indicator, indentation
 * and line break), the values and keys of JSON. The byte cap alone does not bound the work: the YAML
 * library's tree costs hundreds of bytes per token, so 16 MiB of `- a` lines took 39 s and 2 GB, and 16 MiB
 * of `0,` in a flow list exhausted the heap. A stack of 5,000 apps (bench/stacks.ts: a secret, a certificate,
 * two federated credentials and two permissions each) is about 910,000 YAML tokens, 8,000 such apps fit; a
 * file past the bound is refused as it is read, after at most this many tokens' work, whatever its size: at most
 * about 4.5 s and 500 MB for the costliest shapes (`[],` repeated, `- - - a` nested) on a 2-core machine.
 */
export const maxConfigTokens = 1_500_000;

/**
 * The most keys in one mapping. No entra-rotor setting has more than a dozen keys and `config:` holds a few
 * per namespace, so 10,000 is far above any real stack; it keeps the report of a hostile one short.
 */
export const maxMappingKeys = 10_000;

/**
 * Flow collections (`[`, `{`) open at once: refused while reading, before the parser's recursion meets them.
 * A config is a few levels deep (rawInput.ts reports past maxConfigDepth with the path); other namespaces'
 * values in the same file may be deeper, never this deep.
 */
const maxNesting = 1_000;

/** Problems reported at most per file: a file with 40,000 duplicate keys needs no 40,000 lines to say so. */
const maxReported = 20;

const tooDeep = `nested too deeply to read; a stack config is a few levels deep (entra-rotor refuses more than ${maxConfigDepth})`;
const tooLarge = (format: "YAML" | "JSON") =>
    `too large to read: more than ${maxConfigTokens.toLocaleString("en-US")} ${format} tokens (${format === "YAML" ? "values, keys, indicators, line breaks" : "values and keys"}), where a stack of 5,000 apps has fewer than 1,000,000; split the stack, or remove what is not config`;
const tooManyKeys = (keys: number) => `is a mapping of ${keys} keys; entra-rotor reads at most ${maxMappingKeys.toLocaleString("en-US")} in one mapping (no setting has more than a dozen): remove the keys that are not config`;
const duplicateKey = (first: string) => `Map keys must be unique: this key is already set at ${first}; only one of them would count: remove the other`;

/** The file's content: a project or stack file, inside the project, parsed by its extension as Pulumi does. */
function readConfigFile(file: string, projectDir: string, shownAs: string): unknown {
    const read = readInsideProject(file, projectDir, stackFileRules);
    if ("problem" in read) throw fileError(shownAs, read.problem);
    let text = read.bytes.toString("utf8");
    // Pulumi strips a UTF-8 byte order mark before parsing either format (readFileStripUTF8BOM, loaders.go).
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return path.extname(file) === ".json" ? parseJson(text, shownAs) : parseYaml(text, shownAs);
}

/**
 * YAML in time linear in its size: the library's own duplicate-key check compares each key with every key
 * before it (40,000 keys took 10 s, 80,000 in flow style 82 s), so it is off, and one pass over the document
 * below finds duplicates with a set per mapping. The lexer's tokens go to the parser one by one, as
 * `Parser.parse` does, counted on the way (maxConfigTokens).
 */
function parseYaml(text: string, shownAs: string): unknown {
    const lines = new LineCounter();
    lines.addNewLine(0);
    const at = (offset: number) => {
        const { line, col } = lines.linePos(offset);
        return `line ${line}, column ${col}`;
    };
    const parser = new Parser(lines.addNewLine);
    function* tokens() {
        let count = 0;
        let open = 0;
        for (const lexeme of new Lexer().lex(text)) {
            if (++count > maxConfigTokens) throw fileError(shownAs, tooLarge("YAML"));
            if (lexeme === "[" || lexeme === "{") {
                if (++open > maxNesting) throw fileError(shownAs, tooDeep);
            } else if ((lexeme === "]" || lexeme === "}") && open > 0) open--;
            yield* parser.next(lexeme);
        }
        yield* parser.end();
    }
    let doc: Document.Parsed | undefined;
    let documents = 0;
    try {
        for (const next of new Composer({ uniqueKeys: false }).compose(tokens(), true, text.length)) {
            doc ??= next;
            if (++documents > 1) break;
        }
    } catch (error) {
        // The composer is recursive: block nesting thousands deep (`- - - - a`) ends its descent here.
        if (error instanceof RangeError) throw fileError(shownAs, tooDeep);
        throw error;
    }
    if (doc === undefined) return null;
    if (doc.errors.length > 0) {
        throw new ConfigError(
            doc.errors.slice(0, maxReported).map((error): ConfigIssue => {
                const message = /Maximum call stack/.test(error.message) ? tooDeep : error.message.split("\n")[0]!;
                return { path: error.pos[0] >= 0 ? at(error.pos[0]) : "", message, severity: "error" };
            }),
            shownAs,
        );
    }
    // Pulumi's YAML reader takes the first document (yaml.v3's Unmarshal): a second one would be config no one reads.
    if (documents > 1) throw fileError(shownAs, "holds more than one YAML document (a `---` line after the first): Pulumi reads only the first; keep one");
    // Under %YAML 1.1 this library reads yes/no as booleans, 0777 as octal and merges `<<`; Pulumi's reader does not switch.
    if (doc.directives.yaml.version !== "1.2") throw fileError(shownAs, `a %YAML ${doc.directives.yaml.version} directive changes how values are read (yes and no as booleans, for one), and Pulumi does not read it so: remove it`);
    const keyIssues = yamlKeyIssues(doc.contents, at);
    if (keyIssues.length > 0) throw new ConfigError(keyIssues, shownAs);
    try {
        // Every mapping as a null-prototype object, made as the tree is converted (the reviver replaces each
        // mapping in its parent as it goes), so that rawInput.ts can take the config as it is instead of
        // holding a second copy of it (a 5,000-app stack's tree is tens of megabytes). yaml refuses alias
        // expansion past maxAliasCount (a "billion laughs" file) with an error of its own.
        return doc.toJS({ maxAliasCount: 100, reviver: (_key, value) => nullPrototype(value) });
    } catch (error) {
        if (error instanceof RangeError) throw fileError(shownAs, tooDeep);
        throw fileError(shownAs, (error as Error).message.split("\n")[0]!);
    }
}

/**
 * Keys the reading would lose or read otherwise than Pulumi, in one pass over the document (a set per
 * mapping): a key twice (the library's own check is off, above), also when JavaScript would make one of two
 * keys YAML tells apart (`1` and `"1"`, `~` and `""`: both become one property); a mapping past
 * maxMappingKeys; a merge key `<<`, which Pulumi's reader merges and this one would keep as a key; a key that
 * is a list, a mapping or an alias, which no config has. In the file's order.
 */
function yamlKeyIssues(root: unknown, at: (offset: number) => string): ConfigIssue[] {
    const found: { offset: number; message: string }[] = [];
    const nodes: unknown[] = [root];
    while (nodes.length > 0 && found.length < maxReported) {
        const node = nodes.pop();
        if (isSeq(node)) {
            for (let i = node.items.length - 1; i >= 0; i--) nodes.push(node.items[i]);
            continue;
        }
        if (isPair(node)) {
            nodes.push(node.value, node.key);
            continue;
        }
        if (isScalar(node)) {
            const problem = node.type === "PLAIN" && typeof node.source === "string" ? readOtherwiseByPulumi(node.source) : undefined;
            if (problem) found.push({ offset: node.range?.[0] ?? 0, message: problem });
            continue;
        }
        if (!isMap(node)) continue;
        const offset = node.range?.[0] ?? 0;
        if (node.items.length > maxMappingKeys) {
            found.push({ offset, message: tooManyKeys(node.items.length) });
            continue;
        }
        const seen = new Map<string, number>();
        for (const { key, value } of node.items) {
            const keyOffset = (key as { range?: readonly number[] } | null)?.range?.[0] ?? offset;
            if (key !== null && !isScalar(key)) {
                found.push({ offset: keyOffset, message: "a key that is a list, a mapping or an alias: Pulumi config keys are plain names; write the key out" });
                continue;
            }
            const scalar = key === null ? null : key.value;
            // As the library names a key of a JavaScript object (stringifyKey): null is "", the rest its string.
            const name = scalar === null || scalar === undefined ? "" : String(scalar);
            if (name === "<<") {
                found.push({ offset: keyOffset, message: "a merge key (<<): Pulumi's YAML reader merges the mapping it names into this one, entra-rotor's would read a key named <<; write the keys out" });
                continue;
            }
            const first = seen.get(name);
            if (first === undefined) seen.set(name, keyOffset);
            else found.push({ offset: keyOffset, message: duplicateKey(at(first)) });
            nodes.push(value);
        }
    }
    return found
        .sort((a, b) => a.offset - b.offset)
        .slice(0, maxReported)
        .map(({ offset, message }) => ({ path: at(offset), message, severity: "error" }));
}

/** A date and time as Pulumi passes an unquoted one on: RFC 3339, as Go writes a time.Time in JSON. */
const goTimeText = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d*[1-9])?(Z|[+-](?!00:00)\d{2}:\d{2})$/;

/**
 * Why an unquoted value means one thing here and another to Pulumi, or undefined. This reader takes YAML 1.2's
 * core schema; Pulumi's (yaml.v3, decoding config objects into Go values: go-yaml's resolve.go) also reads a
 * number with a leading zero as octal (0123 is 83, "Octals from the 1.1 spec, spelled as 0777, are still decoded
 * by default in v3"), 0b101 as binary and 1_000 as 1000 (it drops underscores), and a date or time as a
 * timestamp that reaches the program as RFC 3339 (`2027-05-01` becomes `2027-05-01T00:00:00Z`). A review that
 * read 0100 as 100 while the deployment rotates every 64 days would be a review of something else: quoting says
 * which is meant.
 */
export function readOtherwiseByPulumi(source: string): string | undefined {
    if (/^[-+]?0[0-9_]+$/.test(source)) {
        return `${source} has a leading zero: Pulumi's reader takes it as an octal number (0123 is 83), this one as decimal: write it without the zero, or quote it as text`;
    }
    if (/^[-+]?0b[01_]+$/i.test(source) || (/^[-+]?(0x[0-9a-f_]+|0o[0-7_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)$/i.test(source) && source.includes("_"))) {
        return `${source}: Pulumi's reader takes it as a number (it reads 0b as binary and drops underscores), this one as text: write the number plainly, or quote it as text`;
    }
    if (/^\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?$/.test(source) && !goTimeText.test(source)) {
        return `${source}: Pulumi's reader takes an unquoted date or time as a timestamp and passes it on as RFC 3339 (2027-05-01 becomes 2027-05-01T00:00:00Z), this one as the text written: quote it, or write it in full (2027-05-01T00:00:00Z)`;
    }
    return undefined;
}

/**
 * JSON, with the bounds of YAML: one pass over the text counts its values and keys (maxConfigTokens), the
 * nesting and the keys of each object, and finds duplicate keys, which JSON.parse (and Pulumi's reader)
 * would resolve silently by keeping the last; then JSON.parse builds null-prototype objects.
 */
function parseJson(text: string, shownAs: string): unknown {
    const keyIssues = jsonKeyIssues(text, shownAs);
    let value: unknown;
    try {
        value = JSON.parse(text, (_key, parsed: unknown) => nullPrototype(parsed));
    } catch (error) {
        if (error instanceof RangeError) throw fileError(shownAs, tooDeep);
        const message = (error as Error).message;
        const position = /at position (\d+)/.exec(message);
        // V8 quotes the text around the error (`Unexpected token 'x', "..." is not valid JSON`): the line and column say where instead.
        const what = message.replace(/, ".*" is not valid JSON$/s, "").replace(/ (in JSON )?at position \d+[\s\S]*$/, "");
        throw new ConfigError([{ path: position ? lineAndColumn(text, Number(position[1])) : "", message: `not valid JSON: ${what}`, severity: "error" }], shownAs);
    }
    if (keyIssues.length > 0) throw new ConfigError(keyIssues, shownAs);
    return value;
}

/** See parseJson. Any text is scanned in linear time; what is not JSON is left to JSON.parse to report. */
function jsonKeyIssues(text: string, shownAs: string): ConfigIssue[] {
    const found: { offset: number; path: string; message: string }[] = [];
    // One entry per open object or array: an object's keys with where each was first, or undefined for an array.
    const open: ({ readonly keys: Map<string, string>; readonly offset: number; readonly at: string } | undefined)[] = [];
    let tokens = 0;
    let line = 1;
    let lineStart = 0;
    const where = (offset: number) => `line ${line}, column ${offset - lineStart + 1}`;
    const length = text.length;
    let i = 0;
    while (i < length) {
        const c = text.charCodeAt(i);
        if (c === 0x0a) {
            line++;
            lineStart = ++i;
            continue;
        }
        // Spaces, tabs, carriage returns, commas and colons.
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x2c || c === 0x3a) {
            i++;
            continue;
        }
        if (c === 0x7d || c === 0x5d) {
            const closed = open.pop();
            if (closed !== undefined && closed.keys.size > maxMappingKeys) found.push({ offset: closed.offset, path: closed.at, message: tooManyKeys(closed.keys.size) });
            i++;
            continue;
        }
        if (++tokens > maxConfigTokens) throw fileError(shownAs, tooLarge("JSON"));
        if (c === 0x7b || c === 0x5b) {
            if (open.length >= maxNesting) throw fileError(shownAs, tooDeep);
            open.push(c === 0x7b ? { keys: new Map(), offset: i, at: where(i) } : undefined);
            i++;
            continue;
        }
        if (c === 0x22) {
            const start = i;
            for (i++; i < length; i++) {
                const d = text.charCodeAt(i);
                if (d === 0x5c) i++;
                else if (d === 0x22 || d === 0x0a) break;
            }
            i++;
            let next = i;
            while (next < length && (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09 || text.charCodeAt(next) === 0x0d || text.charCodeAt(next) === 0x0a)) next++;
            const object = open[open.length - 1];
            if (object !== undefined && text.charCodeAt(next) === 0x3a) {
                let key: string;
                try {
                    key = JSON.parse(text.slice(start, i)) as string;
                } catch {
                    continue; // Not a JSON string: JSON.parse says so.
                }
                const first = object.keys.get(key);
                if (first !== undefined) found.push({ offset: start, path: where(start), message: duplicateKey(first) });
                // Past the bound the object is reported when it closes; its keys are counted, not kept.
                else object.keys.set(key, object.keys.size < maxMappingKeys ? where(start) : "");
            }
            continue;
        }
        // A number, true, false or null (or what JSON.parse will refuse): one token, to the next delimiter.
        for (i++; i < length; i++) {
            const d = text.charCodeAt(i);
            if (d === 0x20 || d === 0x09 || d === 0x0d || d === 0x0a || d === 0x2c || d === 0x3a || d === 0x5d || d === 0x7d || d === 0x5b || d === 0x7b || d === 0x22) break;
        }
    }
    return found
        .sort((a, b) => a.offset - b.offset)
        .slice(0, maxReported)
        .map(({ path: where, message }) => ({ path: where, message, severity: "error" }));
}

function lineAndColumn(text: string, offset: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
        line++;
        lineStart = i + 1;
    }
    return `line ${line}, column ${offset - lineStart + 1}`;
}

function asMapping(value: unknown, file: string, ext: ConfigExtension): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw fileError(file, ext === ".json" ? "expected a JSON object at the top level" : "expected a YAML mapping at the top level");
    return value as Record<string, unknown>;
}

/**
 * The most ESC environments one stack file names. Pulumi merges them in order into the stack's config; each
 * is named in the review as unreviewed, so a pull request must not make that list (or a name) unbounded.
 */
export const maxEscEnvironments = 100;
/** Longer than any `project/environment@version` of ESC; bounds what the review repeats. */
export const maxEscNameLength = 256;

/**
 * The Pulumi ESC environments a stack file's `environment:` imports, as Pulumi reads the key (pulumi/pulumi
 * sdk/go/common/workspace/project.go at 1b5949891b3c: `ProjectStack.Environment`, its `UnmarshalYAML` and
 * `UnmarshalJSON`, `Definition` and `Imports`): either a list of environment names, or an inline environment
 * definition, a mapping of `imports` (each a name, or a mapping of one name to its import options such as
 * `merge: false`) and `values`. Inline values are config from outside the review as much as an import (ESC
 * evaluates them when Pulumi deploys): they are named too, as `inline definition in <file>`. Names come from
 * a pull request and reach the review: bounded, no control or invisible characters; any other shape is an
 * error rather than something the review cannot name.
 */
function readEscEnvironments(environment: unknown, fileName: string, shownAs: string): string[] {
    if (environment === undefined || environment === null) return [];
    const names: string[] = [];
    const issues: ConfigIssue[] = [];
    const problem = (where: string, message: string): void => void issues.push({ path: where, message, severity: "error" });
    const name = (value: unknown, where: string): void => {
        if (typeof value !== "string" || value === "") return problem(where, "expected the name of an ESC environment, e.g. my-project/prod");
        if (value.length > maxEscNameLength) return problem(where, `is ${value.length} characters; an ESC environment name is at most ${maxEscNameLength}: shorten it`);
        const unsafe = unsafeTextProblem(value);
        if (unsafe) return problem(where, unsafe);
        names.push(value);
    };
    const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
    let count = 0;
    if (Array.isArray(environment)) {
        count = environment.length;
        if (count <= maxEscEnvironments) environment.forEach((item, i) => name(item, `environment[${i}]`));
    } else if (isMapping(environment)) {
        const imports = environment["imports"];
        if (Array.isArray(imports)) {
            count = imports.length;
            if (count <= maxEscEnvironments) {
                imports.forEach((item, i) => {
                    const keys = isMapping(item) ? Object.keys(item) : [];
                    name(isMapping(item) ? (keys.length === 1 ? keys[0] : undefined) : item, `environment.imports[${i}]`);
                });
            }
        } else if (imports !== undefined && imports !== null) problem("environment.imports", "expected a list of ESC environment names");
        for (const key of Object.keys(environment)) {
            if (key !== "imports" && key !== "values") problem(`environment.${key.length > 60 ? `${key.slice(0, 57)}...` : key}`, "is not part of an ESC environment definition (imports, values): remove it");
        }
        const values = environment["values"];
        if (values !== undefined && values !== null && !(isMapping(values) && Object.keys(values).length === 0)) names.push(`inline definition in ${fileName}`);
    } else {
        problem("environment", "expected a list of ESC environment names, or an environment definition (imports, values)");
    }
    if (count > maxEscEnvironments) problem("environment", `names ${count} ESC environments; entra-rotor reads at most ${maxEscEnvironments}: a stack imports a few`);
    if (issues.length > 0) throw new ConfigError(issues, shownAs);
    return names;
}

/** The project or the stack's file does not exist (as opposed to existing and being invalid). */
export class StackNotFoundError extends ConfigError {
    constructor(file: string, message: string) {
        super([{ path: "", message, severity: "error" }], file);
        this.name = "StackNotFoundError";
    }
}

function fileError(file: string, message: string): ConfigError {
    return new ConfigError([{ path: "", message, severity: "error" }], file);
}
