import { graphCatalog } from "../../infra/model/catalog";
import {
    type BatchAnswer,
    type GraphAppRoleAssignmentRecord,
    type GraphApplicationRecord,
    type GraphClient,
    type GraphDelegatedGrantRecord,
    GraphError,
    type GraphPage,
    type GraphServicePrincipalRecord,
    importPaths,
} from "../../azure/graph";
import { mapConcurrent } from "../live/concurrency";
import { type Progress, silentProgress } from "../live/progress";
import { type ApiDirectory, compactApplication, type FederatedRecord, type ResourceApi, resourceApiOf, type TenantApp } from "./facts";
import type { Selection } from "./selection";

/**
 * Reads the applications `rotor import` takes, a page at a time: each page of applications (999, Graph's
 * largest) is read in full, its entries' certificates dropped at once, then each application's other reads
 * are made in JSON batches (owners, service principal and federated credentials; then the service principal's
 * owners, app role assignments and delegated grants), a few batches in flight, and every application of the
 * page is handed to `onApp` in Graph's order before the next page is asked for. So at most one page of raw
 * answers is held, whatever the tenant's size; what `onApp` keeps is its own business.
 */

export interface ReadOptions {
    /** Batches in flight at once; default 8. Graph throttles per caller: a few at a time is faster than one and gentler than all. */
    readonly concurrency?: number;
    readonly progress?: Progress;
    /**
     * An application listed but deleted before its other reads (they answered 404): it is skipped and handed
     * here, so one deletion during a long import costs that application, not the import.
     */
    readonly onGone?: (application: GraphApplicationRecord) => void;
}

/** Applications per batch: three reads each, so two rounds of at most 18 requests (Graph's limit is 20). */
export const appsPerBatch = 6;

export interface ReadSummary {
    /** Applications Graph listed. */
    readonly listed: number;
    /** Applications handed to `onApp` (those `ownedBy` owns, when set). */
    readonly read: number;
}

/** What Microsoft Graph's appId is, from the catalog: its ids are known without reading its service principal. */
const graphAppId = graphCatalog.resourceAppId;
const catalogRoleIds = new Set(Object.values(graphCatalog.application).map((entry) => entry.id.toLowerCase()));
const catalogScopeIds = new Set(Object.values(graphCatalog.delegated).map((entry) => entry.id.toLowerCase()));

export async function readTenant(graph: GraphClient, selection: Selection, onApp: (app: TenantApp, apis: ApiDirectory) => void, options: ReadOptions = {}): Promise<ReadSummary> {
    const progress = options.progress ?? silentProgress;
    const concurrency = options.concurrency ?? 8;
    const apis = new ApiCache(graph);
    let listed = 0;
    let read = 0;
    // Several filters (an --app-id list in groups of 15) are read one after another: an application matches one.
    for (const filter of selection.filters ?? [undefined]) {
        for await (const page of graph.importApplicationPages(filter)) {
            listed += page.length;
            progress.tick("applications listed", page.length);
            const applications = page.map(compactApplication);
            const groups: GraphApplicationRecord[][] = [];
            for (let i = 0; i < applications.length; i += appsPerBatch) groups.push(applications.slice(i, i + appsPerBatch));
            const done = await mapConcurrent(groups, concurrency, async (group) => {
                const apps = await readGroup(graph, group, selection.ownedBy, options.onGone ?? (() => undefined));
                await apis.prepare(apps);
                progress.tick("applications read", group.length);
                return apps;
            });
            for (const apps of done) {
                for (const app of apps) {
                    onApp(app, apis);
                    read++;
                }
            }
        }
    }
    progress.done();
    return { listed, read };
}

/** The reads of a group of applications: two batches (the second needs the service principals' ids). */
async function readGroup(graph: GraphClient, group: readonly GraphApplicationRecord[], ownedBy: string | undefined, onGone: (application: GraphApplicationRecord) => void): Promise<TenantApp[]> {
    const first = await graph.batchGet(group.flatMap((app) => [importPaths.owners("applications", app.id), importPaths.servicePrincipalOf(app.appId), importPaths.federatedCredentials(app.id)]));
    // Deleted since the page was listed: its owners and federated credentials answer 404.
    const gone = new Set(group.filter((_, i) => first[i * 3]!.status === 404 || first[i * 3 + 2]!.status === 404).map((app) => app.id));
    for (const application of group) if (gone.has(application.id)) onGone(application);
    const listed = group.map((application, i) => ({ application, i })).filter(({ application }) => !gone.has(application.id));
    const partial = await Promise.all(
        listed.map(async ({ application, i }) => {
            const [owners, principals, federated] = await Promise.all([
                collection<{ id: string }>(graph, first[i * 3]!, `the owners of application ${application.id}`),
                collection<GraphServicePrincipalRecord>(graph, first[i * 3 + 1]!, `the service principal of application ${application.appId}`),
                collection<FederatedRecord>(graph, first[i * 3 + 2]!, `the federated credentials of application ${application.id}`),
            ]);
            return { application, owners: owners.map((o) => o.id.toLowerCase()), servicePrincipal: principals[0], federated };
        }),
    );
    const kept = ownedBy === undefined ? partial : partial.filter((app) => app.owners.includes(ownedBy));
    const withPrincipal = kept.filter((app) => app.servicePrincipal !== undefined);
    const second = withPrincipal.length
        ? await graph.batchGet(
              withPrincipal.flatMap((app) => {
                  const id = app.servicePrincipal!.id;
                  return [importPaths.owners("servicePrincipals", id), importPaths.appRoleAssignments(id), importPaths.delegatedGrants(id)];
              }),
          )
        : [];
    const details = new Map<string, { owners: string[]; assignments: GraphAppRoleAssignmentRecord[]; grants: GraphDelegatedGrantRecord[] }>();
    // A service principal deleted since it was read (its owners answer 404): the application goes with it.
    const principalGone = new Set(withPrincipal.filter((_, i) => second[i * 3]!.status === 404).map((app) => app.application.id));
    for (const app of withPrincipal) if (principalGone.has(app.application.id)) onGone(app.application);
    await Promise.all(
        withPrincipal.map(async (app, i) => {
            if (principalGone.has(app.application.id)) return;
            const id = app.servicePrincipal!.id;
            const [owners, assignments, grants] = await Promise.all([
                collection<{ id: string }>(graph, second[i * 3]!, `the owners of service principal ${id}`),
                collection<GraphAppRoleAssignmentRecord>(graph, second[i * 3 + 1]!, `the app role assignments of service principal ${id}`),
                collection<GraphDelegatedGrantRecord>(graph, second[i * 3 + 2]!, `the delegated permission grants of service principal ${id}`),
            ]);
            details.set(app.application.id, { owners: owners.map((o) => o.id.toLowerCase()), assignments, grants });
        }),
    );
    return kept.filter((app) => !principalGone.has(app.application.id)).map((app) => {
        const more = details.get(app.application.id);
        return {
            application: app.application,
            owners: app.owners,
            federated: app.federated,
            ...(app.servicePrincipal ? { servicePrincipal: app.servicePrincipal } : {}),
            servicePrincipalOwners: more?.owners ?? [],
            assignments: more?.assignments ?? [],
            grants: more?.grants ?? [],
        };
    });
}

/** The items of a batch's answer, and the rest of the collection when Graph paged it; an error answer throws. */
async function collection<T>(graph: GraphClient, answer: BatchAnswer, what: string): Promise<T[]> {
    if (answer.status !== 200) {
        const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
        throw new GraphError(answer.status, error?.code ?? "Unknown", `reading ${what}: ${error?.message ?? "no detail"}`);
    }
    const page = answer.body as GraphPage<T>;
    const items = [...(page.value ?? [])];
    const next = page["@odata.nextLink"];
    if (next) items.push(...(await graph.rest<T>(next)));
    return items;
}

/**
 * The APIs the applications request permissions on or were granted consent on, each read once (by appId or by
 * its service principal's object id) however many applications name it. Microsoft Graph's permissions are named
 * from the offline catalog; its service principal is read only for an id the catalog lacks, or for consent.
 */
class ApiCache implements ApiDirectory {
    private readonly byApp = new Map<string, ResourceApi | null>();
    private readonly byObject = new Map<string, ResourceApi | null>();
    private readonly pending = new Map<string, Promise<void>>();

    constructor(private readonly graph: GraphClient) {}

    byAppId(appId: string): ResourceApi | null | undefined {
        return this.byApp.get(appId.toLowerCase());
    }

    byObjectId(objectId: string): ResourceApi | null | undefined {
        return this.byObject.get(objectId.toLowerCase());
    }

    /** Reads every API the apps need that is not known yet. */
    async prepare(apps: readonly TenantApp[]): Promise<void> {
        const loads: Promise<void>[] = [];
        for (const app of apps) {
            for (const access of app.application.requiredResourceAccess ?? []) {
                const appId = access.resourceAppId.toLowerCase();
                const needed = appId !== graphAppId || (access.resourceAccess ?? []).some((a) => !(a.type === "Role" ? catalogRoleIds : catalogScopeIds).has(a.id.toLowerCase()));
                if (needed) loads.push(this.load(`app:${appId}`, () => this.graph.servicePrincipalByAppId(appId)));
            }
            for (const consent of [...app.assignments, ...app.grants]) {
                const objectId = consent.resourceId.toLowerCase();
                loads.push(this.load(`object:${objectId}`, () => this.graph.servicePrincipalById(objectId), objectId));
            }
        }
        await Promise.all(loads);
    }

    private load(key: string, read: () => Promise<GraphServicePrincipalRecord | undefined>, objectId?: string): Promise<void> {
        const known = key.startsWith("app:") ? this.byApp.has(key.slice(4)) : this.byObject.has(key.slice(7));
        if (known) return Promise.resolve();
        let loading = this.pending.get(key);
        if (!loading) {
            loading = read().then((principal) => {
                if (principal) {
                    const api = resourceApiOf(principal);
                    this.byApp.set(api.appId, api);
                    this.byObject.set(api.objectId, api);
                } else if (objectId !== undefined) this.byObject.set(objectId, null);
                else this.byApp.set(key.slice(4), null);
            });
            this.pending.set(key, loading);
        }
        return loading;
    }
}
