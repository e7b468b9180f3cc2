import { plural } from "../../output/table";
import type { BreakingChange, CredentialChange, DirectoryRoleChange, PermissionChange, SlotAction, SlotChange, Summary } from "./summaryTypes";

/**
 * What every format shows of a summary, derived once: the warnings, the headline and the tables read the
 * same lists, so a number in the headline is the number of rows of its table and an escalation in the
 * warning is a row of the permissions table. Format-free: no markdown, no escaping.
 */

/** One credential slot: a row of the credentials table. */
export interface SlotRow {
    readonly credential: CredentialChange;
    readonly slot: SlotChange;
}

/** One count of the headline: `3 credential slots rotated (2 scheduled, 1 by a change)`. */
export interface HeadlineCount {
    /** Which table's rows it counts. */
    readonly table: "credentials" | "permissions" | "directoryRoles" | "federatedCredentials" | "keyVaultSecrets" | "apps";
    readonly count: number;
    /** The count in words, the summary's own (nothing of the preview). */
    readonly words: string;
}

export interface SummaryView {
    /** Privileged permissions added (tier 0, then tier 1): the first thing a reviewer sees. */
    readonly escalations: readonly PermissionChange[];
    /** Directory roles handed out that are privileged, tier 0 or unrecognised: beside the permissions, as escalations. */
    readonly roleEscalations: readonly DirectoryRoleChange[];
    /** What breaks consumers. */
    readonly breaking: readonly BreakingChange[];
    /** The credentials table: one row per slot that changes. */
    readonly slots: readonly SlotRow[];
    /** The headline, counting the rows of every table. */
    readonly headline: readonly HeadlineCount[];
}

const slotWords: Record<SlotAction, string> = { rotated: "rotated", created: "created", retired: "retired", updated: "updated in place", changed: "changed" };
const slotOrder: readonly SlotAction[] = ["rotated", "created", "retired", "updated", "changed"];

export function summaryView(summary: Summary): SummaryView {
    const slots = summary.credentials.flatMap((credential) => credential.slots.map((slot): SlotRow => ({ credential, slot })));
    const headline: HeadlineCount[] = [];
    for (const action of slotOrder) {
        const rows = slots.filter((row) => row.slot.action === action);
        if (rows.length === 0) continue;
        let words = `${plural(rows.length, "credential slot")} ${slotWords[action]}`;
        if (action === "rotated") {
            const causes = (["scheduled", "change", "unknown"] as const)
                .map((cause) => [cause, rows.filter((row) => row.slot.cause === cause).length] as const)
                .filter(([, n]) => n > 0)
                .map(([cause, n]) => `${n} ${cause === "change" ? "by a change" : cause === "unknown" ? "cause unknown" : "scheduled"}`);
            if (causes.length > 0) words += ` (${causes.join(", ")})`;
        }
        headline.push({ table: "credentials", count: rows.length, words });
    }
    const added = summary.permissions.filter((p) => p.change === "added").length;
    const removed = summary.permissions.length - added;
    if (added) headline.push({ table: "permissions", count: added, words: `${plural(added, "permission")} added` });
    if (removed) headline.push({ table: "permissions", count: removed, words: `${plural(removed, "permission")} removed` });
    const changed = (table: HeadlineCount["table"], count: number, what: string) => {
        if (count) headline.push({ table, count, words: `${plural(count, what)} changed` });
    };
    changed("directoryRoles", (summary.directoryRoles ?? []).length, "directory role assignment");
    changed("federatedCredentials", summary.federatedCredentials.length, "federated credential");
    changed("keyVaultSecrets", summary.keyVaultSecrets.length, "Key Vault secret");
    changed("apps", summary.apps.length, "app registration");
    return {
        escalations: summary.permissions.filter((p) => p.escalation),
        roleEscalations: (summary.directoryRoles ?? []).filter((r) => r.escalation),
        breaking: summary.breaking,
        slots,
        headline,
    };
}
