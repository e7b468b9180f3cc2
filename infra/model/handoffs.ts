import { generationWindow, scheduleAt } from "../../rotation/schedule";
import type { ConsumerModel } from "./consumers";
import type { RotatingCredentialModel } from "./credentials";
import type { EntraCloud } from "./federated";
import type { AppModel, StackModel } from "./model";

/**
 * Hand-offs: at each rotation of a credential a person copies by hand (a `manual` consumer), what that person
 * must do and by when. A pure function of the model and the instant, like the schedule: the served generation's
 * hand-off is open from its start until the deadline, the start of the next generation, when the slot holding
 * the previous value is replaced and that value stops working. Value-free: where to get the value (the Key Vault
 * secret, a link to it in the Azure portal), never the value.
 */

export interface Handoff {
    /** Stable across runs and machines: `<project>/<stack>/<app>/<credential>/g<generation>/<consumer>`. */
    readonly id: string;
    readonly project: string;
    readonly stack: string;
    readonly app: string;
    readonly credential: string;
    readonly kind: "secret" | "certificate";
    readonly generation: number;
    readonly consumer: string;
    /** Who acts: as the stack gives it (`@octocat`, a team, an email). */
    readonly owner: string;
    /** The GitHub login of an `@login` owner, to assign an issue to. */
    readonly githubLogin: string | null;
    /** The link to what the owner does with the value. */
    readonly instructions: string;
    /** The Key Vault secret that serves the value, and its vault (null when the stack names none). */
    readonly keyVaultSecretName: string;
    readonly vault: string | null;
    /** `https://<vault>.<suffix>/secrets/<name>`: the secret; its newest version is generation `generation`. */
    readonly secretUrl: string | null;
    /** The same secret in the Azure portal of the stack's cloud. */
    readonly portalUrl: string | null;
    /** When the generation starts, ISO-8601: the run that day serves the value. */
    readonly servedFrom: string;
    /** When the previous value stops working: the next generation's start, which replaces its slot. */
    readonly deadline: string;
    /** Where the consumer is declared, e.g. `apps[0].credentials[0].consumers[1]`. */
    readonly path: string;
}

/** The portal and the vault suffix of each cloud (azure/endpoints.ts has the vault suffixes too). */
const clouds: Readonly<Record<EntraCloud, { portal: string; vaultSuffix: string }>> = {
    global: { portal: "https://portal.azure.com", vaultSuffix: "vault.azure.net" },
    usgovernment: { portal: "https://portal.azure.us", vaultSuffix: "vault.usgovcloudapi.net" },
    china: { portal: "https://portal.azure.cn", vaultSuffix: "vault.azure.cn" },
};

/**
 * A Key Vault secret (or one version of it) in the Azure portal of the cloud: the portal opens a secret by its
 * identifier, `<portal>/#@<tenant>/asset/Microsoft_Azure_KeyVault/Secret/<secret id>`.
 */
export function portalLink(cloud: EntraCloud, tenantId: string | undefined, secretId: string): string {
    return `${clouds[cloud].portal}/#${tenantId ? `@${tenantId}` : ""}/asset/Microsoft_Azure_KeyVault/Secret/${secretId}`;
}

/** A consumer's part of the id: lower case, runs of anything but letters and digits as one '-'. */
export function consumerSlug(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "consumer";
}

/** The hand-off of one generation of a credential to one manual consumer. */
export function handoffOf(model: StackModel, app: AppModel, credential: RotatingCredentialModel, consumer: ConsumerModel, generation: number): Handoff {
    const { policy, phase } = credential;
    const window = generationWindow(generation, policy, phase);
    const next = generationWindow(generation + 1, policy, phase);
    const cloud = clouds[model.cloud];
    const vault = model.keyVault?.name ?? null;
    const secretUrl = vault ? `https://${vault}.${cloud.vaultSuffix}/secrets/${credential.keyVaultSecretName}` : null;
    const portalUrl = secretUrl ? portalLink(model.cloud, model.tenantId, secretUrl) : null;
    return {
        id: `${model.project}/${model.stack}/${app.name}/${credential.name}/g${generation}/${consumerSlug(consumer.name)}`,
        project: model.project,
        stack: model.stack,
        app: app.name,
        credential: credential.name,
        kind: credential.type,
        generation,
        consumer: consumer.name,
        owner: consumer.owner ?? "",
        githubLogin: consumer.githubLogin ?? null,
        instructions: consumer.instructions ?? "",
        keyVaultSecretName: credential.keyVaultSecretName,
        vault,
        secretUrl,
        portalUrl,
        servedFrom: window.start,
        deadline: next.start,
        path: consumer.path,
    };
}

/** The open hand-offs at `at`: each manual consumer's, for the generation served then; by deadline, then id. */
export function openHandoffs(model: StackModel, at: Date): Handoff[] {
    const handoffs: Handoff[] = [];
    for (const app of model.apps) {
        for (const credential of app.credentials) {
            const manual = credential.consumers.filter((c) => c.reads === "manual");
            if (manual.length === 0) continue;
            const { generation } = scheduleAt(at, credential.policy, credential.phase);
            for (const consumer of manual) handoffs.push(handoffOf(model, app, credential, consumer, generation));
        }
    }
    return handoffs.sort((a, b) => a.deadline.localeCompare(b.deadline) || a.id.localeCompare(b.id));
}

/** The hand-offs whose generation starts in [from, to): what rotor calendar shows. */
export function handoffsBetween(model: StackModel, from: Date, to: Date): Handoff[] {
    const handoffs: Handoff[] = [];
    for (const app of model.apps) {
        for (const credential of app.credentials) {
            const manual = credential.consumers.filter((c) => c.reads === "manual");
            if (manual.length === 0) continue;
            const first = scheduleAt(from, credential.policy, credential.phase).generation;
            for (let g = first; ; g++) {
                const start = Date.parse(generationWindow(g, credential.policy, credential.phase).start);
                if (start >= to.getTime()) break;
                if (start < from.getTime()) continue;
                for (const consumer of manual) handoffs.push(handoffOf(model, app, credential, consumer, g));
            }
        }
    }
    return handoffs.sort((a, b) => a.servedFrom.localeCompare(b.servedFrom) || a.id.localeCompare(b.id));
}
