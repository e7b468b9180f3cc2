import { type EndpointOverrides, identityOptions, resolveEndpoints, type ResolvedEndpoints } from "../../azure/endpoints";
import { GraphClient, GraphError, type GraphApplicationRecord } from "../../azure/graph";
import type { EntraCloud } from "../../infra/model/federated";
import type { LiveIo } from "../live/context";
import { silentProgress } from "../live/progress";
import { describeServiceFailure, ServiceError } from "../live/serviceErrors";
import { defaultCredential, signIn, signInObserver } from "../live/signIn";
import { readTenant } from "./read";
import { assembleReport, type ImportReport } from "./report";
import type { Selection } from "./selection";
import { mapApplication, type MappedApp } from "./toConfig";

/**
 * `rotor import`'s online part: signs in as the live commands do (read-only), reads the chosen applications,
 * maps each to the stack's config as its page arrives, and returns the report. Application.Read.All reads
 * the applications, owners, service principals and app role assignments, but not the delegated permission
 * grants: Microsoft Graph's pages for listing oauth2PermissionGrants name Directory.Read.All as the least
 * permission (then DelegatedPermissionGrant.ReadWrite.All), not DelegatedPermissionGrant.Read.All, and the
 * emulator follows them. Directory.Read.All covers every read.
 */

export const importPermissions = "Directory.Read.All (Application.Read.All reads the applications and service principals, but listing their delegated permission grants needs Directory.Read.All)";

export interface ImportFlags extends EndpointOverrides {
    readonly tenant?: string;
}

/** The azuread provider's name of the cloud signed in to: a managed identity's issuer and audience depend on it. */
function entraCloudOf(endpoints: ResolvedEndpoints): EntraCloud {
    return endpoints.cloud === "AzureUSGovernment" ? "usgovernment" : endpoints.cloud === "AzureChinaCloud" ? "china" : "global";
}

/** The tenant a token was issued in (its `tid` claim), when it is a JWT that says so. */
export function tenantOfToken(token: string): string | undefined {
    const payload = token.split(".")[1];
    if (!payload) return undefined;
    try {
        const tid = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { tid?: unknown }).tid;
        return typeof tid === "string" && /^[0-9a-f-]{36}$/i.test(tid) ? tid.toLowerCase() : undefined;
    } catch {
        return undefined;
    }
}

export async function importTenant(
    selection: Selection,
    flags: ImportFlags,
    io: LiveIo,
    header: { project: string; stack: string; at: Date },
    options: { concurrency?: number } = {},
): Promise<ImportReport> {
    const endpoints = resolveEndpoints(flags, io.env);
    const requested = flags.tenant ?? (io.env["AZURE_TENANT_ID"] || undefined);
    const observer = signInObserver();
    const credential = io.credential
        ? io.credential(endpoints, requested, observer.credentialOptions)
        : await defaultCredential(io.env, { ...identityOptions(endpoints), ...(requested ? { tenantId: requested } : {}) }, observer);
    const token = await signIn(credential, endpoints.graphScope, undefined, { authorityHost: endpoints.authorityHost, ...(requested ? { tenantId: requested } : {}), answer: observer.last });
    const tenantId = tenantOfToken(token.token) ?? requested?.toLowerCase();
    const graph = new GraphClient(endpoints.graph, credential, endpoints.graphScope, { onRequest: () => io.onRequest?.("graph") });
    const cloud = entraCloudOf(endpoints);
    const mapped: MappedApp[] = [];
    let listed = 0;
    try {
        const summary = await readTenant(graph, selection, (app, apis) => mapped.push(mapApplication(app, apis, { cloud, ...(tenantId ? { tenantId } : {}) })), {
            ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
            progress: io.progress?.() ?? silentProgress,
            onGone: (application) => mapped.push(goneApplication(application)),
        });
        listed = summary.listed;
    } catch (error) {
        if (error instanceof GraphError && (error.status === 401 || error.status === 403)) {
            throw new ServiceError(`Microsoft Graph (${endpoints.graph}) answered ${error.status} ${error.code}: rotor import reads with ${importPermissions}; grant the signed-in identity that permission. Detail: ${error.message.replace(/^Microsoft Graph answered \d+ \S+: /, "")}`);
        }
        if (error instanceof GraphError && error.status === 400 && selection.filters !== undefined) {
            throw new ServiceError(`Microsoft Graph refused the selection (${error.code}): check --filter against Graph's filters for applications. Detail: ${error.message.replace(/^Microsoft Graph answered \d+ \S+: /, "")}`);
        }
        throw (
            describeServiceFailure(error, {
                graph: endpoints.graph,
                authorityHost: endpoints.authorityHost,
                ...(tenantId ? { tenantId } : {}),
                signInAnswer: observer.last,
            }) ?? error
        );
    }
    return assembleReport(mapped, { ...header, ...(tenantId ? { tenantId } : {}), cloud, listed });
}

/** An application deleted while import read it: reported among those left out, with nothing to adopt. */
function goneApplication(application: GraphApplicationRecord): MappedApp {
    return {
        displayName: application.displayName ?? "",
        appId: application.appId.toLowerCase(),
        objectId: application.id.toLowerCase(),
        reasons: ["deleted while rotor import read the tenant (Graph answered 404 for its owners or service principal): nothing to adopt; import again if it was restored"],
        findings: [],
        comments: { app: [], permissions: new Map(), permissionsAfter: [] },
        credentials: [],
        tier0: [],
    };
}
