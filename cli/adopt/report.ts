import { buildModel } from "../../infra/model/model";
import type { EntraCloud } from "../../infra/model/federated";
import type { CredentialFact, EntryComments, Finding, MappedApp } from "./toConfig";
import { NameAllocator } from "./names";

/**
 * What `rotor import` found: the applications the stack takes over (their config entries, names given in
 * Graph's order) and those it leaves out, with why. The stack file, the tenant report and the JSON document
 * are all renderings of it.
 */

export interface ImportedApp {
    readonly name: string;
    readonly displayName: string;
    readonly appId: string;
    readonly objectId: string;
    readonly servicePrincipal: string;
    /** The config entry, `name` first. */
    readonly entry: Record<string, unknown>;
    readonly findings: readonly Finding[];
    readonly comments: EntryComments;
    readonly credentials: readonly CredentialFact[];
    readonly tier0: readonly string[];
}

export interface LeftOutApp {
    readonly displayName: string;
    readonly appId: string;
    readonly objectId: string;
    readonly reasons: readonly string[];
    readonly findings: readonly Finding[];
    readonly credentials: readonly CredentialFact[];
    readonly tier0: readonly string[];
}

export interface ImportReport {
    readonly project: string;
    readonly stack: string;
    /** ISO-8601, to the second. */
    readonly at: string;
    /** The tenant read, from the sign-in's token (or --tenant). */
    readonly tenantId?: string;
    readonly cloud: EntraCloud;
    /** Applications Graph listed (before --owned-by). */
    readonly listed: number;
    readonly imported: readonly ImportedApp[];
    readonly leftOut: readonly LeftOutApp[];
}

/** What a justification holds while the stack is checked: anything the rule takes, never written out. */
const checkOnly = "Checked by rotor import before a person writes the reason.";

/**
 * The report from the mapped applications, in the order read: every entry the stack would hold is checked by
 * the model itself (the empty justifications filled for the check only), so an application whose entry the
 * model refuses (a redirect URI Entra once took and the stack refuses, a control character in a name) is
 * left out with the model's words rather than written into a stack that cannot plan. Names are given after
 * the check, so none is spent on an application left out.
 */
export function assembleReport(
    mapped: readonly MappedApp[],
    header: { project: string; stack: string; at: Date; tenantId?: string; cloud: EntraCloud; listed: number },
): ImportReport {
    const candidates = mapped.filter((app) => app.entry !== undefined);
    const values = {
        apps: candidates.map((app, i) => {
            const entry = app.entry!;
            const allow = entry["allowPrivileged"] as { permission: string }[] | undefined;
            return { name: `import-${i}`, ...entry, ...(allow ? { allowPrivileged: allow.map((a) => ({ permission: a.permission, justification: checkOnly })) } : {}) };
        }),
    };
    const provider = { ...(header.tenantId ? { tenantId: header.tenantId } : {}), environment: header.cloud };
    const result = buildModel({ project: header.project, stack: header.stack, values, provider, source: `Pulumi.${header.stack}.yaml` }, header.at);
    const refused = new Map<number, string[]>();
    for (const issue of result.issues) {
        if (issue.severity !== "error") continue;
        const match = /^apps\[(\d+)\]\.?(.*)$/.exec(issue.path);
        if (!match) continue;
        const list = refused.get(Number(match[1])) ?? [];
        list.push(`${match[2] ? `${match[2]}: ` : ""}${issue.message}`);
        refused.set(Number(match[1]), list);
    }
    const names = new NameAllocator();
    const imported: ImportedApp[] = [];
    const leftOut: LeftOutApp[] = [];
    let candidate = 0;
    for (const app of mapped) {
        const reasons = app.entry === undefined ? [...app.reasons] : (refused.get(candidate++) ?? []).map((r) => `the stack refuses what Entra holds: ${r}`);
        const base = { displayName: app.displayName, appId: app.appId, objectId: app.objectId, findings: app.findings, credentials: app.credentials, tier0: app.tier0 };
        if (reasons.length > 0 || app.entry === undefined || app.servicePrincipal === undefined) {
            leftOut.push({ ...base, reasons });
            continue;
        }
        const name = names.allocate(app.displayName);
        imported.push({ ...base, name, servicePrincipal: app.servicePrincipal, entry: { name, ...app.entry }, comments: app.comments });
    }
    return {
        project: header.project,
        stack: header.stack,
        at: header.at.toISOString().replace(/\.\d{3}Z$/, "Z"),
        ...(header.tenantId ? { tenantId: header.tenantId } : {}),
        cloud: header.cloud,
        listed: header.listed,
        imported,
        leftOut,
    };
}

/** The first expiry among an application's credentials, or null. */
export function firstExpiry(credentials: readonly CredentialFact[]): string | null {
    let first: string | null = null;
    for (const c of credentials) if (c.expires && (first === null || Date.parse(c.expires) < Date.parse(first))) first = c.expires;
    return first;
}

/** The document `--format json` prints: the report, stable and value-free. */
export function reportDocument(report: ImportReport, stackFile?: string): Record<string, unknown> {
    const summary = (app: ImportedApp | LeftOutApp) => ({
        displayName: app.displayName,
        appId: app.appId,
        objectId: app.objectId,
        firstExpiry: firstExpiry(app.credentials),
        credentials: app.credentials,
        tier0: app.tier0,
        findings: app.findings,
    });
    return {
        schemaVersion: 1,
        project: report.project,
        stack: report.stack,
        at: report.at,
        tenantId: report.tenantId ?? null,
        ...(stackFile !== undefined ? { stackFile } : {}),
        totals: totals(report),
        imported: report.imported.map((app) => ({ name: app.name, ...summary(app), servicePrincipal: app.servicePrincipal, entry: app.entry })),
        leftOut: report.leftOut.map((app) => ({ ...summary(app), reasons: app.reasons })),
    };
}

export function totals(report: ImportReport): Record<string, number> {
    const all = [...report.imported, ...report.leftOut];
    return {
        listed: report.listed,
        read: all.length,
        imported: report.imported.length,
        leftOut: report.leftOut.length,
        tier0: report.imported.reduce((n, app) => n + app.tier0.length, 0),
        toAct: report.imported.reduce((n, app) => n + app.findings.filter((f) => f.level === "act").length, 0),
        existingCredentials: report.imported.reduce((n, app) => n + app.credentials.filter((c) => c.kind !== "federated").length, 0),
        federatedCredentials: report.imported.reduce((n, app) => n + app.credentials.filter((c) => c.kind === "federated").length, 0),
    };
}
