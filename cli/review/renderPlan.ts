import { type Chunks, joinedLines, jsonChunks } from "../output/chunks";
import { capitalize, markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import type { PlanApp, PlanCertificateFile, PlanCredential, PlanDocument, PlanFederatedCredential, PlanPermission, PlanStream } from "./plan";

/** A plan held whole, or made app by app as it is written. */
type Plan = PlanDocument | PlanStream;

function tierLabel(p: PlanPermission): string {
    if (p.type === "delegated") return "-";
    const tier = p.tier === null ? "?" : String(p.tier);
    return p.justification ? `${tier} (justified)` : tier;
}

function consentLabel(p: PlanPermission): string {
    if (p.type === "application") return "admin: app role assignment";
    return `admin, all users: delegated grant${p.adminConsentRequired ? "" : " (user-consentable)"}`;
}

const permissionHeader = ["TYPE", "API", "PERMISSION", "TIER", "CONSENT"];

function permissionRows(permissions: readonly PlanPermission[]): string[][] {
    return permissions.map((p) => [p.type, p.api, p.name, tierLabel(p), consentLabel(p)]);
}

const credentialHeader = ["CREDENTIAL", "TYPE", "SLOT 0", "SLOT 1", "SERVED", "NEXT ROTATION", "DAYS LEFT", "STATUS", "KEY VAULT SECRET"];

/** `g12 2026-10-01 -> 2027-04-29`: dates only, the times are in the JSON; a slot this run creates says so. */
function slotLabel(c: PlanCredential, slot: 0 | 1): string {
    const s = c.slots.find((x) => x.slot === slot)!;
    const label = `g${s.generation} ${s.start.slice(0, 10)} -> ${s.end.slice(0, 10)}`;
    return s.credentialStart ? `${label} (new, from ${s.credentialStart.slice(0, 10)})` : label;
}

const statusLabels: Record<PlanCredential["status"], string> = {
    ok: "ok",
    rotates: "rotates",
    breaking: "BREAKING: both slots",
    expired: "EXPIRED: consumers failing",
};

function secretNames(c: PlanCredential): string {
    return c.pfx ? `${c.keyVaultSecretName} (+ ${c.pfx.secretName}, ${c.pfx.passwordSecretName})` : c.keyVaultSecretName;
}

function credentialRows(credentials: readonly PlanCredential[]): string[][] {
    return credentials.map((c) => [c.name, c.type, slotLabel(c, 0), slotLabel(c, 1), `slot ${c.servedSlot}`, c.nextRotation.slice(0, 10), String(c.daysLeft), statusLabels[c.status], secretNames(c)]);
}

/** The credentials a run would break for consumers, loudly, before anything else. */
function alarms(plan: Plan): string[] {
    const lastRun = plan.since.slice(0, 10);
    if (plan.totals.breaking + plan.totals.expired === 0) return [];
    return [...plan.apps].flatMap((app: PlanApp) =>
        app.credentials.flatMap((c) => {
            if (c.status === "expired") return [`${app.name}/${c.name}: the value served since the last run (${lastRun}) has expired; consumers fail until this run serves a new one.`];
            if (c.status === "breaking") return [`${app.name}/${c.name}: both slots are replaced because the last run was ${lastRun}, more than ${c.rotateEveryDays} days ago; consumers holding the value served until now lose it at once.`];
            return [];
        }),
    );
}

const certificateFileHeader = ["CERTIFICATE FILE", "FILE", "THUMBPRINT", "EXPIRES", "DAYS LEFT", "STATUS"];

function certificateFileRows(files: readonly PlanCertificateFile[]): string[][] {
    return files.map((c) => [c.name, c.file, c.thumbprint, c.notAfter.slice(0, 10), String(c.daysLeft), c.status === "expiring" ? "expiring: replace the file" : "ok"]);
}

const federatedHeader = ["FEDERATED", "PRESET", "ISSUER", "SUBJECT", "AUDIENCE"];

function federatedRows(credentials: readonly PlanFederatedCredential[]): string[][] {
    return credentials.map((c) => [c.name, c.preset, c.issuer, c.subject, c.audience]);
}

function headline(plan: Plan): string {
    const t = plan.totals;
    return (
        `${plan.project} / ${plan.stack} at ${plan.at}: ${plural(t.apps, "app")}, ` +
        `${plural(t.permissions, "permission")} (${t.application} application, ${t.delegated} delegated; ` +
        `${t.tier0} tier 0, ${t.tier1} tier 1), ${plural(t.credentials, "rotating credential")} (${t.rotating} rotating on this run` +
        `${t.breaking ? `, ${t.breaking} breaking` : ""}${t.expired ? `, ${t.expired} expired` : ""}), ${t.federatedCredentials} federated`
    );
}

/** The plan as text, markdown or the documented JSON, in chunks: one per app. */
export function renderPlan(plan: Plan, format: OutputFormat): Chunks {
    if (format === "json") return jsonChunks(plan);
    return joinedLines(format === "markdown" ? markdownBlocks(plan) : textBlocks(plan));
}

function* markdownBlocks(plan: Plan): Generator<string[]> {
    const alarm = alarms(plan);
    yield [`## Credential plan: ${plan.project} / ${plan.stack}`, "", headline(plan), ""];
    if (alarm.length) yield ["> [!CAUTION]", "> Breaking for consumers:", ...alarm.map((a) => `> - ${a}`), ""];
    for (const app of plan.apps) {
        const out: string[] = [`### ${app.name} (${app.displayName})`, ""];
        out.push(app.permissions.length ? markdownTable(permissionHeader.map(capitalize), permissionRows(app.permissions)) : "_No API permissions._", "");
        if (app.credentials.length) out.push(markdownTable(credentialHeader.map(capitalize), credentialRows(app.credentials)), "");
        if (app.certificateFiles.length) out.push(markdownTable(certificateFileHeader.map(capitalize), certificateFileRows(app.certificateFiles)), "");
        if (app.federatedCredentials.length) out.push(markdownTable(federatedHeader.map(capitalize), federatedRows(app.federatedCredentials)), "");
        yield out;
    }
    if (plan.warnings.length) yield ["### Warnings", "", ...plan.warnings.map((w) => `- \`${w.path}\`: ${w.message}`), ""];
}

function* textBlocks(plan: Plan): Generator<string[]> {
    const alarm = alarms(plan);
    yield [headline(plan), ""];
    if (alarm.length) yield ["BREAKING FOR CONSUMERS:", ...alarm.map((a) => `  ${a}`), ""];
    for (const app of plan.apps) {
        const out: string[] = [`${app.name}  ${app.displayName}  (${app.signInAudience}${app.redirectUris.length ? `, ${app.redirectUris.length} redirect URI${app.redirectUris.length === 1 ? "" : "s"}` : ""})`];
        out.push(app.permissions.length ? textTable(permissionHeader, permissionRows(app.permissions)) : "  no API permissions");
        if (app.credentials.length) out.push("", textTable(credentialHeader, credentialRows(app.credentials)));
        if (app.certificateFiles.length) out.push("", textTable(certificateFileHeader, certificateFileRows(app.certificateFiles)));
        if (app.federatedCredentials.length) out.push("", textTable(federatedHeader, federatedRows(app.federatedCredentials)));
        out.push("");
        yield out;
    }
    if (plan.warnings.length) yield ["Warnings:", ...plan.warnings.map((w) => `  ${w.path}: ${w.message}`), ""];
}
