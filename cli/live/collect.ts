import type { SecretClient } from "@azure/keyvault-secrets";
import type { StackModel } from "../../infra/model/model";
import { appFromTags, stackTag } from "../../rotation/identifiers";
import type { LiveApp, LiveState } from "./status";
import { mapConcurrent } from "./concurrency";
import { expandedItemsLimit, type GraphApplication, type GraphClient } from "../../azure/graph";
import { listSecretProperties } from "../../azure/keyVault";
import { type Progress, silentProgress } from "./progress";

export interface CollectOptions {
    /** Also read every application of the tenant. */
    readonly allApps?: boolean;
    /** Requests in flight at once for per-app reads; default 8. */
    readonly concurrency?: number;
    readonly progress?: Progress;
}

/**
 * The stack's applications in the tenant, by app name: one paged query for the stack's tag; with
 * `federated`, each with its federated credentials expanded.
 */
export async function stackApplications(model: StackModel, graph: GraphClient, onPage?: (items: readonly GraphApplication[]) => void, options: { federated?: boolean } = {}): Promise<Map<string, GraphApplication>> {
    const byName = new Map<string, GraphApplication>();
    for (const application of await graph.applicationsTagged(stackTag(model.project, model.stack), onPage, options)) {
        const name = appFromTags(application.tags ?? [], model.project, model.stack);
        if (name) byName.set(name, application);
    }
    // An adopted app carries none of the stack's tags until `adopt` is removed (infra/program.ts,
    // applicationTags): it is found by the object id config names.
    const adopted = model.apps.filter((app) => app.adopt && !byName.has(app.name));
    const found = await mapConcurrent(adopted, 8, (app) => graph.application(app.adopt!.application).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error))));
    adopted.forEach((app, i) => {
        const application = found[i];
        if (application) byName.set(app.name, application);
    });
    return byName;
}

function isNotFound(error: unknown): boolean {
    return (error as { status?: number } | null)?.status === 404;
}

/**
 * Reads what `rotor status` compares: the stack's applications (found by their stack tag, one paged query)
 * with their federated credentials expanded (an app whose expansion may be cut short, or comes without it
 * because Graph ignored or refused the expansion, is read on its own, with bounded concurrency; see
 * GraphClient.applicationsTagged), the vault's secret properties, and
 * with `allApps` the whole tenant. The independent page chains run side by side: the scan takes as long
 * as the longest chain, not their sum.
 */
export async function collectLiveState(model: StackModel, graph: GraphClient, vault: SecretClient | undefined, options: CollectOptions = {}): Promise<LiveState> {
    const progress = options.progress ?? silentProgress;
    const tenant = options.allApps ? graph.allApplications((page) => progress.tick("applications", page.length)) : Promise.resolve(undefined);
    const secrets = vault ? listSecretProperties(vault, (n) => progress.tick("Key Vault secrets", n)) : Promise.resolve(undefined);

    const stackApps = (async () => {
        const byName = await stackApplications(model, graph, (page) => progress.tick("stack applications", page.length), { federated: true });
        const found = model.apps.filter((app) => byName.has(app.name));
        // Every app, not only those declaring federated credentials: one added by hand is what status must see.
        const federated = await mapConcurrent(found, options.concurrency ?? 8, async (app) => {
            const application = byName.get(app.name)!;
            const expanded = application.federatedIdentityCredentials;
            if (expanded !== undefined && expanded.length < expandedItemsLimit) return expanded;
            const list = await graph.federatedCredentials(application.id);
            progress.tick("federated credential lists");
            return list;
        });
        return new Map<string, LiveApp>(found.map((app, i) => [app.name, { application: byName.get(app.name)!, federated: federated[i]! }]));
    })();
    const [apps, tenantApps, vaultSecrets] = await Promise.all([stackApps, tenant, secrets]);
    progress.done();
    return { apps, ...(vaultSecrets ? { vaultSecrets } : {}), ...(tenantApps ? { tenantApps } : {}) };
}
