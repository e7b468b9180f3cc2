import { z } from "zod";
import { firstUnsafe } from "../../rotation/text";
import type { IssueList, PathSegment } from "./issues";
import { nonEmpty, parseWith } from "./schema";

/**
 * Who reads a rotating credential's value, and how soon each picks up a new one: the schedule's pickup window
 * (the rotation period, R days: the previous value stays valid until its slot is replaced one rotation after
 * the new one is served) must outlast every consumer's refresh, or the consumer still holds the previous value
 * when Entra deletes it. A `manual` consumer is a person who copies the value into another system (a vendor's
 * admin panel): each rotation hands it off (cli/review/handoffs.ts).
 */

export const consumerKinds = ["keyVault", "appServiceReference", "csiDriver", "manual"] as const;
export type ConsumerKind = (typeof consumerKinds)[number];

/**
 * How often the platform itself refreshes a value, in hours, where it decides:
 * - `appServiceReference`: App Service and Functions cache a versionless Key Vault reference and fetch it again
 *   every 24 hours ("Use Key Vault references as app settings", learn.microsoft.com/azure/app-service/
 *   app-service-key-vault-references, section Rotation); a configuration change, or the
 *   `config/configreferences/appsettings/refresh` call of Resource Manager, fetches at once.
 * - `csiDriver`: the Secrets Store CSI driver's Azure Key Vault provider polls every 2 minutes with rotation
 *   enabled ("Use the Azure Key Vault provider for Secrets Store CSI Driver in an AKS cluster",
 *   learn.microsoft.com/azure/aks/csi-secrets-store-driver, `--rotation-poll-interval`, default 2m); the mounted
 *   file changes then, but an environment variable from a synced Kubernetes Secret only when the pod restarts:
 *   declare `refreshHours` for such a consumer.
 * - `manual`: a person, with a ticket, a change window and leave: two weeks.
 */
export const platformRefreshHours: Readonly<Record<Exclude<ConsumerKind, "keyVault">, number>> = {
    appServiceReference: 24,
    csiDriver: 2 / 60,
    manual: 14 * 24,
};

/** Added to every consumer's refresh: a daily pipeline may run a day late, which shortens the window by that much. */
export const windowMarginHours = 24;

/** The default rotation period of a credential with a manual consumer: a person's work each time, so half as often. */
export const manualRotateEveryDays = 180;

/** A GitHub login as an owner, `@octocat`: the hand-off's issue is assigned to it. */
export const githubOwnerPattern = /^@([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})$/;

const maxRefreshHours = 730 * 24;

export const consumerSchema = z.strictObject({
    name: nonEmpty("who reads it, e.g. mail-relay or Zendesk").max(64, { error: "is at most 64 characters" }),
    reads: z.enum(consumerKinds, { error: "how it reads the value: keyVault (itself), appServiceReference, csiDriver or manual (a person copies it)" }),
    refreshHours: z
        .number({ error: "hours, a number: how long it may take to use a value Key Vault newly serves" })
        .positive({ error: "must be more than 0 hours" })
        .max(maxRefreshHours, { error: `is at most ${maxRefreshHours} hours (two years)` })
        .optional(),
    owner: z.string({ error: "who acts on a hand-off: a GitHub login (@octocat), a team or an email" }).min(1, { error: "must not be empty" }).max(256, { error: "is at most 256 characters" }).optional(),
    instructions: z.string({ error: "a link (https://...) to what the owner does with a new value" }).max(2048, { error: "is at most 2048 characters" }).optional(),
});

export type ConsumerConfig = z.infer<typeof consumerSchema>;

export interface ConsumerModel {
    readonly name: string;
    readonly reads: ConsumerKind;
    /** Hours within which it uses a newly served value: `refreshHours`, else the platform's (platformRefreshHours). */
    readonly refreshHours: number;
    /** Whether refreshHours was declared, or is the platform's. */
    readonly refreshDeclared: boolean;
    /** Days the pickup window must last for it: its refresh plus the margin, rounded up. */
    readonly windowDays: number;
    readonly owner?: string;
    /** The GitHub login of an `@login` owner. */
    readonly githubLogin?: string;
    readonly instructions?: string;
    /** e.g. `apps[0].credentials[1].consumers[0]`. */
    readonly path: string;
}

/** Days a pickup window needs for a refresh of `hours`. */
export function windowDaysFor(hours: number): number {
    return Math.ceil((hours + windowMarginHours) / 24);
}

function httpsLinkProblem(value: string): string | undefined {
    if (firstUnsafe(value)) return "contains a control or invisible character: write the link as it is";
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "is not a URL: give a link, e.g. https://wiki.contoso.com/zendesk-secret";
    }
    if (url.protocol !== "https:") return "must be an https:// link";
    if (url.username || url.password) return "must not carry a user name or password";
    return undefined;
}

/**
 * The consumers of one rotating credential, checked: names unique, each kind's required fields, and the pickup
 * window (`rotateEveryDays`) long enough for every one. Errors name the consumer and the window it needs.
 */
export function resolveConsumers(raw: readonly unknown[], credentialPath: string, rotateEveryDays: number | undefined, issues: IssueList): ConsumerModel[] {
    const consumers: ConsumerModel[] = [];
    const names = new Set<string>();
    raw.forEach((input, i) => {
        const path = `${credentialPath}.consumers[${i}]`;
        const parsed = parseWith(consumerSchema, input, [path as PathSegment]);
        issues.add(parsed.issues);
        const entry = parsed.value;
        if (!entry) return;
        let ok = true;
        const fail = (field: string, message: string) => {
            issues.error(field ? `${path}.${field}` : path, message);
            ok = false;
        };
        if (firstUnsafe(entry.name)) fail("name", "contains a control or invisible character: name the consumer in plain text");
        if (names.has(entry.name.toLowerCase())) fail("name", `"${entry.name}" is listed twice for this credential: give each consumer once`);
        names.add(entry.name.toLowerCase());
        if (entry.owner !== undefined && firstUnsafe(entry.owner)) fail("owner", "contains a control or invisible character: write the owner in plain text");
        if (entry.instructions !== undefined) {
            const problem = httpsLinkProblem(entry.instructions);
            if (problem) fail("instructions", problem);
        }
        if (entry.reads === "keyVault" && entry.refreshHours === undefined) {
            fail("refreshHours", "required for a consumer that reads Key Vault itself: how often it reads the secret again, in hours (e.g. 24 for a daily restart, 1 for an hourly cache)");
        }
        if (entry.reads === "manual") {
            if (entry.owner === undefined) fail("owner", "required for a manual consumer: who copies the new value at each rotation (a GitHub login like @octocat, a team or an email)");
            if (entry.instructions === undefined) fail("instructions", "required for a manual consumer: a link to what the owner does with a new value (https://...)");
        }
        if (entry.reads === "appServiceReference" && entry.refreshHours !== undefined && entry.refreshHours < platformRefreshHours.appServiceReference) {
            fail(
                "refreshHours",
                `App Service fetches a versionless Key Vault reference again only every ${platformRefreshHours.appServiceReference} hours (unless a configuration change or the refresh call forces it): leave refreshHours out, or give ${platformRefreshHours.appServiceReference} or more`,
            );
        }
        if (!ok) return;
        const refreshHours = entry.refreshHours ?? (entry.reads === "keyVault" ? 0 : platformRefreshHours[entry.reads]);
        const windowDays = windowDaysFor(refreshHours);
        const login = entry.owner !== undefined ? githubOwnerPattern.exec(entry.owner)?.[1] : undefined;
        const consumer: ConsumerModel = {
            name: entry.name,
            reads: entry.reads,
            refreshHours,
            refreshDeclared: entry.refreshHours !== undefined,
            windowDays,
            ...(entry.owner !== undefined ? { owner: entry.owner } : {}),
            ...(login ? { githubLogin: login } : {}),
            ...(entry.instructions !== undefined ? { instructions: entry.instructions } : {}),
            path,
        };
        if (rotateEveryDays !== undefined && rotateEveryDays < windowDays) {
            issues.error(
                path,
                `${entry.name} (${entry.reads}) takes up to ${formatHours(refreshHours)} to use a new value, so the pickup window must be at least ${windowDays} days (its refresh and a day's margin for a late pipeline), but the credential rotates every ${rotateEveryDays} days: raise rotateEveryDays to at least ${windowDays} (lifetimeDays to at least ${2 * windowDays + 7}), or make ${entry.name} read more often`,
            );
        }
        consumers.push(consumer);
    });
    return consumers;
}

/** Hours as a person reads them: `2 minutes`, `24 hours`, `14 days`. */
export function formatHours(hours: number): string {
    if (hours < 1) return `${Math.round(hours * 60)} minute${Math.round(hours * 60) === 1 ? "" : "s"}`;
    if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
    return `${hours} hour${hours === 1 ? "" : "s"}`;
}
