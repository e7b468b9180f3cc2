import { z } from "zod";
import { visible } from "../../output/escape";
import { formatPreviewPath, maxPreviewBytes, pathTooDeep, tooDeepProblem, tooLargeProblem } from "./previewLimits";

/**
 * The JSON that `pulumi preview --json` writes: Pulumi's `PreviewDigest` (sdk/go/common/display/json.go).
 * Only what `rotor summarize` reads is described; every object is loose, because Pulumi adds fields
 * over time and a summary must not break on a newer CLI.
 *
 * Facts the summary relies on (checked against pulumi/pulumi's display code):
 * - `steps` holds one entry per resource step. Unchanged resources appear only with `--show-sames`
 *   (the root stack always does). A replacement is one `replace` step, or with `--show-replacement-steps`
 *   the physical steps `create-replacement` and `delete-replaced` as well (and `replace` in between).
 * - `oldState`/`newState` are `apitype.ResourceV3`; secret values are written as the string "[secret]",
 *   values not known until the update as "04da6b54-80e4-46f7-96ec-b56ff0331ba9". A provider that did not
 *   mark an output secret leaves it in plain text: nothing here may be printed unless it is known to be
 *   value-free.
 * - `detailedDiff` is always present on a step, `null` when the provider gave none.
 * - `changeSummary` counts the logical operations (replacement steps are counted once, as `replace`).
 * - `duration` is nanoseconds (Go's time.Duration).
 */

/** Operations a step may carry. Unknown operations are accepted (newer CLIs) and treated as no change. */
export const knownStepOps = [
    "same",
    "create",
    "update",
    "delete",
    "replace",
    "create-replacement",
    "delete-replaced",
    "read",
    "read-replacement",
    "refresh",
    "discard",
    "discard-replaced",
    "remove-pending-replace",
    "import",
    "import-replacement",
] as const;

export type StepOp = (typeof knownStepOps)[number];

const urn = z.string({ error: "expected a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)" }).startsWith("urn:pulumi:", {
    error: "expected a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)",
});

const propertyMap = z.record(z.string(), z.unknown(), { error: "expected an object of properties" });

const resourceStateSchema = z.looseObject({
    urn,
    type: z.string({ error: "expected the resource's type token" }),
    custom: z.boolean().optional(),
    id: z.string().optional(),
    inputs: propertyMap.optional(),
    outputs: propertyMap.optional(),
    parent: z.string().optional(),
    dependencies: z.array(z.string()).optional(),
    propertyDependencies: z.record(z.string(), z.array(z.string()).nullable()).optional(),
});

const propertyDiffSchema = z.looseObject({
    kind: z.string({ error: "expected the kind of difference (add, update, delete, ...-replace)" }),
    inputDiff: z.boolean().optional(),
});

const stepSchema = z.looseObject({
    op: z.string({ error: "expected the step's operation, e.g. create or replace" }),
    urn,
    provider: z.string().optional(),
    oldState: resourceStateSchema.nullish(),
    newState: resourceStateSchema.nullish(),
    diffReasons: z.array(z.string()).nullish(),
    replaceReasons: z.array(z.string()).nullish(),
    detailedDiff: z.record(z.string(), propertyDiffSchema).nullish(),
});

const diagnosticSchema = z.looseObject({
    urn: z.string().optional(),
    prefix: z.string().optional(),
    message: z.string().optional(),
    severity: z.string().optional(),
});

export const previewDocumentSchema = z
    .looseObject({
        config: z.record(z.string(), z.unknown()).optional(),
        steps: z.array(stepSchema, { error: "expected the list of resource steps" }).optional(),
        diagnostics: z.array(diagnosticSchema).optional(),
        duration: z.number().optional(),
        changeSummary: z.record(z.string(), z.number({ error: "expected a count of resources" }), { error: "expected counts per operation" }).optional(),
        maybeCorrupt: z.boolean().optional(),
    })
    .refine((doc) => doc.steps !== undefined || doc.changeSummary !== undefined, {
        error: "has neither `steps` nor `changeSummary`, which every `pulumi preview --json` document has",
    });

export type PreviewDocument = z.infer<typeof previewDocumentSchema>;
export type PreviewStep = NonNullable<PreviewDocument["steps"]>[number];
export type ResourceState = NonNullable<PreviewStep["oldState"]>;

/**
 * A file that is not a preview: names the file and where in it, never quotes its content (it may hold
 * secrets). The path's keys come from the document, so they are shown with control characters escaped.
 */
export class PreviewDocumentError extends Error {
    constructor(
        readonly source: string,
        /** Where the document departs from a preview, e.g. `steps[3].urn`; empty for the whole document. */
        readonly path: string,
        readonly problem: string,
    ) {
        super(visible(`${source}: not the JSON of \`pulumi preview --json\`: ${path === "" ? "" : `${path}: `}${problem}`));
        this.name = "PreviewDocumentError";
    }
}

/** A preview refused for its size or its nesting (see previewLimits.ts): it may well be one, but too big to read safely. */
export class PreviewLimitError extends PreviewDocumentError {
    constructor(source: string, path: string, problem: string) {
        super(source, path, problem);
        this.message = visible(`${source}: ${path === "" ? "" : `${path}: `}${problem}`);
        this.name = "PreviewLimitError";
    }
}

const hint = "run `pulumi preview --json > preview.json` and pass that file";

/** Other Pulumi JSON documents people pass by mistake, recognised by their top-level keys. */
function recogniseOtherDocument(value: unknown): string | undefined {
    if (Array.isArray(value)) return `the file holds a JSON array; a preview is one object with \`steps\` and \`changeSummary\` (${hint})`;
    if (typeof value !== "object" || value === null) return `the file holds a JSON ${value === null ? "null" : typeof value}, not an object (${hint})`;
    const has = (key: string) => Object.prototype.hasOwnProperty.call(value, key);
    if (has("resourcePlans") || (has("manifest") && !has("steps"))) {
        return `this is a deployment plan (\`pulumi preview --save-plan\`), which holds goals rather than steps (${hint})`;
    }
    if (has("deployment") && has("version")) return `this is a stack export (\`pulumi stack export\`), the state rather than a preview (${hint})`;
    if (has("sequence") && has("timestamp")) return `this is one engine event of a JSON event stream (\`pulumi up --json\`) (${hint})`;
    if (has("isPreview") && has("version")) return `this is a \`pulumi events summary\` document, not a preview digest (${hint})`;
    if (has("result") && has("summary") && !has("steps")) return `this is the result of an update (\`pulumi up --output json\`), not a preview (${hint})`;
    return undefined;
}

/** A JSON event stream (one event per line) is not one JSON document: recognise it to say what it is. */
function looksLikeEventStream(text: string): boolean {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
    if (lines.length < 2) return false;
    try {
        const first = JSON.parse(lines[0]!) as unknown;
        return typeof first === "object" && first !== null && "sequence" in first && "timestamp" in first;
    } catch {
        return false;
    }
}

/**
 * Parses and validates the output of `pulumi preview --json`. Lenient about fields it does not read;
 * strict about the shape of those it does. Throws PreviewDocumentError naming `source` and the JSON path.
 */
export function parsePreviewDocument(text: string, source: string): PreviewDocument {
    // Characters never outnumber UTF-8 bytes: a text this long is over the byte bound too.
    if (text.length > maxPreviewBytes) throw new PreviewLimitError(source, "", tooLargeProblem(Buffer.byteLength(text, "utf8")));
    let value: unknown;
    try {
        value = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
        if (looksLikeEventStream(text)) {
            throw new PreviewDocumentError(source, "", `this is a JSON event stream (\`pulumi up --json\`, or a preview with PULUMI_ENABLE_STREAMING_JSON_PREVIEW set) (${hint})`);
        }
        // JSON.parse's message quotes the text around the error, which may be a secret: keep the position only.
        const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
        throw new PreviewDocumentError(source, "", `not valid JSON${position ? ` (syntax error at character ${position})` : ""}; ${hint}`);
    }
    const other = recogniseOtherDocument(value);
    if (other) throw new PreviewDocumentError(source, "", other);
    // Before zod and every reader after it: none of them then meets more than maxPreviewDepth levels.
    const deep = pathTooDeep(value);
    if (deep) {
        const { path, problem } = tooDeepProblem(deep);
        throw new PreviewLimitError(source, path, problem);
    }
    const parsed = previewDocumentSchema.safeParse(value);
    if (!parsed.success) {
        const issues = parsed.error.issues;
        const first = issues[0]!;
        const path = formatPreviewPath(first.path.map((segment) => (typeof segment === "number" ? segment : String(segment))));
        const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length === 2 ? "" : "s"})` : "";
        throw new PreviewDocumentError(source, path, `${first.message}${more}`);
    }
    return parsed.data;
}
