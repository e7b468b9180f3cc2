import { Document, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { unsafeCharacters } from "../../rotation/text";
import type { ImportReport } from "./report";
import { said } from "./toConfig";

/**
 * The stack file `rotor import` writes, with the yaml library's Document (as `rotor init` writes its own):
 * every string double-quoted, so no reader takes a display name of `yes`, `null` or `1e3` for anything but the
 * text the tenant holds; comments say what the tenant holds that a person must act on (a tier-0 permission's
 * empty justification, consent the first `pulumi up` grants, permission ids that name nothing), and which
 * applications were left out and why. A comment is one line of the tenant's text with control characters as
 * escapes: no display name can end a comment and start YAML.
 */

/**
 * Each string on one line: without `doubleQuotedMinMultiLineLength` the yaml library writes a line break of a
 * string of 40 characters or more as a real one (a folded double-quoted scalar), so tenant text would begin a
 * line of the file, inside the quotes but not to a reader's eye.
 */
const yamlOutput = {
    lineWidth: 0,
    flowCollectionPadding: false,
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    doubleQuotedMinMultiLineLength: Number.POSITIVE_INFINITY,
} as const;

/** Every unsafe character but the line feed, which the document's own lines end with (matching it cost a call per line). */
const unsafeGlobal = new RegExp(`(?!\\n)(?:${unsafeCharacters.source})`, "g");

/**
 * The document's text with every control or invisible character but its own line breaks written as an escape.
 * The yaml library escapes C0 controls in double-quoted strings but writes NEL, the line and paragraph
 * separators, bidirectional marks and zero-width characters as they are: YAML 1.1 readers (go-yaml among
 * them) take NEL, U+2028 and U+2029 for line breaks, and a reviewer's diff shows text after a U+202E reversed.
 * Comments hold none (said()) and keys are the stack's own, so each one left is inside a double-quoted
 * string, where `\uXXXX` means the same character to every reader.
 */
function inert(text: string): string {
    return text.replace(unsafeGlobal, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function commentLines(lines: readonly string[]): string {
    return lines.map((line) => ` ${said(line, 2000)}`).join("\n");
}

function pairOf(map: unknown, key: string): Pair<Node, Node> | undefined {
    if (!isMap(map)) return undefined;
    return (map as YAMLMap<Node, Node>).items.find((item) => isScalar(item.key) && item.key.value === key);
}

function valueOf(map: unknown, key: string): Node | undefined {
    return pairOf(map, key)?.value ?? undefined;
}

export function renderStackYaml(report: ImportReport): string {
    const config: Record<string, unknown> = {};
    if (report.tenantId) config["azuread:tenantId"] = report.tenantId;
    if (report.cloud !== "global") config["azuread:environment"] = report.cloud;
    config[`${report.project}:apps`] = report.imported.map((app) => app.entry);
    const doc = new Document({ config });
    const read = report.imported.length + report.leftOut.length;
    doc.commentBefore = commentLines([
        `Stack "${report.stack}" of ${report.project}, written by rotor import at ${report.at} from tenant ${report.tenantId ?? "(the signed-in one)"}:`,
        `${report.imported.length} of ${read} application${read === 1 ? "" : "s"} adopted as the tenant holds them${report.leftOut.length ? `, ${report.leftOut.length} left out (listed at the end)` : ""}.`,
        "Next (docs/runbook.md#adopting-an-existing-tenant): write every empty justification (rotor plan fails naming each until then),",
        `read the ACT comments, then npx rotor plan --stack ${report.stack} and pulumi preview: the applications and their consent are imported, not created.`,
        "The stack serves no credential yet: add each app's own (credentials: [{name: main, type: secret}]) and entra-rotor:keyVault when you move its consumers.",
    ]);
    const root = doc.contents;
    const configNode = valueOf(root, "config");
    const apps = valueOf(configNode, `${report.project}:apps`);
    if (!isSeq(apps)) return inert(doc.toString(yamlOutput));
    report.imported.forEach((app, i) => {
        const node = (apps as YAMLSeq<Node>).items[i];
        if (!isMap(node)) return;
        node.commentBefore = commentLines(app.comments.app);
        const permissions = valueOf(node, "permissions");
        if (isSeq(permissions)) {
            permissions.items.forEach((item, j) => {
                const lines = app.comments.permissions.get(j);
                if (lines && isMap(item)) item.commentBefore = commentLines(lines);
                for (const kind of ["application", "delegated"]) {
                    const list = valueOf(item, kind);
                    if (isSeq(list)) list.flow = true;
                }
            });
            if (app.comments.permissionsAfter.length > 0) permissions.comment = commentLines(app.comments.permissionsAfter);
        } else if (app.comments.permissionsAfter.length > 0) {
            node.commentBefore = commentLines([...app.comments.app, ...app.comments.permissionsAfter]);
        }
        const allow = valueOf(node, "allowPrivileged");
        if (isSeq(allow)) {
            for (const item of allow.items) {
                const justification = pairOf(item, "justification");
                const permission = valueOf(item, "permission");
                if (justification?.value && isScalar(permission)) {
                    justification.value.comment = ` tier 0: write why the app needs ${said(String(permission.value))} and what limits its use (rotor plan refuses it until then)`;
                }
            }
        }
        const existing = pairOf(node, "existing");
        if (existing && isScalar(existing.key)) {
            existing.key.commentBefore = commentLines(["Made outside the stack: listed, never read, changed or deleted by it. Set retire: true in a pull request", "once rotor status --usage shows nobody signs in with one; rotor retire then removes it."]);
        }
    });
    if (report.leftOut.length > 0) {
        apps.comment = commentLines([
            `Left out: ${report.leftOut.length} application${report.leftOut.length === 1 ? "" : "s"} the stack cannot declare as the tenant holds them (pulumi up would change them):`,
            ...report.leftOut.map((app) => `- ${app.displayName} (client id ${app.appId}, object id ${app.objectId}): ${app.reasons.join("; ")}`),
        ]);
    }
    return inert(doc.toString(yamlOutput));
}
