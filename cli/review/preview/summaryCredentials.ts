import { generationIn, parseUrn, patterns, readMatching, readProperty, type ResourceChange } from "./previewResources";
import type { ResourceState } from "./previewDocument";
import { actionOf, AppIndex, credentialTypes, propertyNames, slotOfName, tokens } from "./stackResources";
import type { CredentialChange, RotationCause, SlotAction, SlotChange, SlotVersion } from "./summaryTypes";

/**
 * Credentials in a preview: the resources of each ClientSecret / ClientCertificate slot folded into one
 * slot change, and each rotation classified as scheduled or caused by a change.
 *
 * Why the generation decides, not the replace reasons: a scheduled rotation moves the slot from
 * generation g - 1 to g + 1, and with it the display name, start and end dates (every one of them forces a
 * replacement of an ApplicationPassword). So `endDate` among the reasons is normal; what is not normal is a
 * replacement without the generation moving by exactly 2, or with the lifetime changing.
 */

interface Member {
    readonly change: ResourceChange;
    readonly slot: 0 | 1 | null;
}

interface Group {
    readonly app: string | null;
    readonly component: string;
    readonly type: CredentialChange["type"];
    readonly members: Member[];
}

const day = 86_400_000;

function placeOf(change: ResourceChange): { component: string; slot: 0 | 1 | null; type: CredentialChange["type"] } {
    const { urn } = change;
    const parentType = urn.typeChain.length >= 2 ? urn.typeChain[urn.typeChain.length - 2] : undefined;
    if (parentType === tokens.clientSecret || parentType === tokens.clientCertificate) {
        const type = parentType === tokens.clientSecret ? "secret" : "certificate";
        const named = slotOfName(urn.name);
        if (named) return { component: named.component, slot: named.slot, type };
        // Not named like a slot (a newer component?): group it under its parent, without a slot.
        const parent = parseUrn((change.old ?? change.new)?.parent ?? "");
        return { component: parent?.name ?? urn.name, slot: null, type };
    }
    if (parentType === tokens.appRegistration && urn.type === tokens.applicationCertificate) return { component: urn.name, slot: null, type: "certificate-file" };
    return { component: urn.name, slot: null, type: "other" };
}

function generationOf(type: string, state: ResourceState): number | undefined {
    const inputs = state.inputs;
    const fromTrigger = readMatching(inputs, ["rotateWhenChanged", "generation"], patterns.integer);
    if (fromTrigger !== undefined) return Number(fromTrigger);
    if (type === tokens.applicationPassword) return generationIn(readProperty(inputs, ["displayName"]));
    if (type === tokens.selfSignedCert) return generationIn(readProperty(inputs, ["subject", "organizationalUnit"]));
    // Newer Pulumi versions may record the replacementTrigger resource option on the state.
    const trigger = (state as Record<string, unknown>)["replacementTrigger"];
    return typeof trigger === "string" ? generationIn(trigger) : undefined;
}

type Side = "old" | "new";

function statesOf(members: readonly Member[], side: Side): { type: string; state: ResourceState }[] {
    return members.flatMap((m) => {
        const state = m.change[side];
        return state ? [{ type: m.change.urn.type, state }] : [];
    });
}

function versionOf(members: readonly Member[], side: Side): SlotVersion | null {
    const states = statesOf(members, side);
    if (states.length === 0) return null;
    const first = <T>(pick: (type: string, state: ResourceState) => T | undefined): T | null => {
        for (const { type, state } of states) {
            const value = pick(type, state);
            if (value !== undefined) return value;
        }
        return null;
    };
    const holdsDates = (type: string) => type === tokens.applicationPassword || type === tokens.applicationCertificate;
    return {
        generation: first(generationOf),
        start: first((type, state) => (holdsDates(type) ? readMatching(state.inputs, ["startDate"], patterns.date) : undefined)),
        end: first((type, state) => (holdsDates(type) ? readMatching(state.inputs, ["endDate"], patterns.date) : undefined)),
        keyId: first((type, state) => (holdsDates(type) ? readMatching(state.outputs, ["keyId"], patterns.guid) : undefined)),
    };
}

/** The slot's lifetime in days: the certificate's validity, or the password's end minus start. */
function lifetimeDays(members: readonly Member[], side: Side): number | undefined {
    for (const { type, state } of statesOf(members, side)) {
        if (type !== tokens.selfSignedCert) continue;
        const hours = readProperty(state.inputs, ["validityPeriodHours"]);
        if (typeof hours === "number") return Number((hours / 24).toFixed(2));
    }
    for (const { type, state } of statesOf(members, side)) {
        if (type !== tokens.applicationPassword) continue;
        const start = readMatching(state.inputs, ["startDate"], patterns.date);
        const end = readMatching(state.inputs, ["endDate"], patterns.date);
        if (start && end) return Number(((Date.parse(end) - Date.parse(start)) / day).toFixed(2));
    }
    return undefined;
}

function slotAction(members: readonly Member[]): SlotAction {
    const changes = members.map((m) => m.change.change);
    if (changes.includes("replace")) return "rotated";
    if (changes.every((c) => c === "create")) return "created";
    if (changes.every((c) => c === "delete")) return "retired";
    if (changes.every((c) => c === "update")) return "updated";
    return "changed";
}

/**
 * Properties a scheduled rotation changes: the generation trigger, and what the components derive from the
 * generation (display name, certificate subject, dates) or from the new key (certificate, its PEM).
 */
const scheduledReasons = new Set(["rotateWhenChanged", "replacementTrigger", "displayName", "startDate", "endDate", "subject", "privateKeyPem", "value"]);

function classify(members: readonly Member[], before: SlotVersion | null, after: SlotVersion | null, reasons: readonly string[]): { cause: RotationCause; explanation: string } {
    const from = before?.generation ?? null;
    const to = after?.generation ?? null;
    const lifeBefore = lifetimeDays(members, "old");
    const lifeAfter = lifetimeDays(members, "new");
    const lifetimeChange = lifeBefore !== undefined && lifeAfter !== undefined && lifeBefore !== lifeAfter ? `the lifetime changes from ${lifeBefore} to ${lifeAfter} days` : undefined;
    const reasonText = reasons.length > 0 ? reasons.join(", ") : "no property named";
    if (from === null || to === null) return { cause: "unknown", explanation: `replaced (${reasonText}); the preview does not show the slot's generation` };
    const unexpected = reasons.filter((reason) => !scheduledReasons.has(reason.split(/[.[]/)[0]!));
    if (to - from === 2 && !lifetimeChange && unexpected.length > 0) {
        return { cause: "change", explanation: `generation ${from} -> ${to}, and ${unexpected.join(", ")} also change${unexpected.length === 1 ? "s" : ""}` };
    }
    if (to - from === 2 && !lifetimeChange) return { cause: "scheduled", explanation: `generation ${from} -> ${to}: the slot's scheduled turn` };
    if (to === from) return { cause: "change", explanation: `replaced without a new generation (${reasonText})${lifetimeChange ? `: ${lifetimeChange}` : ""}` };
    if (to - from === 2) return { cause: "change", explanation: `generation ${from} -> ${to}, and ${lifetimeChange}` };
    return {
        cause: "change",
        explanation: `generation ${from} -> ${to}, not the scheduled + 2: the rotation period or epoch changed, or scheduled runs were missed${lifetimeChange ? `; ${lifetimeChange}` : ""}`,
    };
}

function slotChange(slot: 0 | 1 | null, members: readonly Member[]): SlotChange {
    const action = slotAction(members);
    const before = versionOf(members, "old");
    const after = versionOf(members, "new");
    const replaceReasons = propertyNames([...new Set(members.flatMap((m) => m.change.replaceReasons))].sort());
    const rotation = action === "rotated" ? classify(members, before, after, replaceReasons) : undefined;
    return {
        slot,
        action,
        cause: rotation?.cause ?? null,
        explanation: rotation?.explanation ?? null,
        before,
        after,
        replaceReasons,
        resources: members
            .map((m) => ({ type: m.change.urn.type, name: m.change.urn.name, action: actionOf(m.change.change)! }))
            .sort((a, b) => a.name.localeCompare(b.name)),
    };
}

/** Every credential resource that changes, grouped per app and credential, slots folded. */
export function credentialChanges(changes: readonly ResourceChange[], apps: AppIndex): CredentialChange[] {
    const groups = new Map<string, Group>();
    for (const change of changes) {
        if (!credentialTypes.has(change.urn.type) || change.change === "none") continue;
        const place = placeOf(change);
        const key = `${change.urn.stack}\n${change.urn.typeChain.slice(0, -1).join("$")}\n${place.component}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { app: apps.appOf(change.urn), component: place.component, type: place.type, members: [] }));
        group.members.push({ change, slot: place.slot });
    }
    const credentials = [...groups.values()].map((group): CredentialChange => {
        const bySlot = new Map<string, Member[]>();
        for (const m of group.members) {
            // Resources without a slot each stand alone.
            const key = m.slot === null ? `name:${m.change.urn.name}` : `slot:${m.slot}`;
            const members = bySlot.get(key);
            if (members) members.push(m);
            else bySlot.set(key, [m]);
        }
        const slots = [...bySlot.values()]
            .map((members) => slotChange(members[0]!.slot, members))
            .sort((a, b) => (a.slot ?? 9) - (b.slot ?? 9) || (a.resources[0]?.name ?? "").localeCompare(b.resources[0]?.name ?? ""));
        return { app: group.app, credential: AppIndex.strip(group.app, group.component), component: group.component, type: group.type, slots };
    });
    return credentials.sort((a, b) => (a.app ?? "").localeCompare(b.app ?? "") || a.credential.localeCompare(b.credential) || a.component.localeCompare(b.component));
}
