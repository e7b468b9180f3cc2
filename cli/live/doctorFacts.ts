import type { TokenCredential } from "@azure/core-auth";
import type { SecretClient } from "@azure/keyvault-secrets";
import type { StackModel } from "../../infra/model/model";
import type { DoctorFacts, LifetimeRestriction, SignedIn } from "./doctor";
import { durationDays } from "./doctor";
import { stackApplications } from "./collect";
import { mapConcurrent } from "./concurrency";
import { GraphError, type GraphClient } from "./graph";

/** The claims of an access token: read, not verified (the token is ours, fresh from Entra; we only describe it). */
export function tokenClaims(token: string): Record<string, unknown> {
    const payload = token.split(".")[1];
    if (!payload) return {};
    try {
        return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
        return {};
    }
}

export function signedInFrom(claims: Record<string, unknown>): SignedIn {
    const list = (key: string) => (Array.isArray(claims[key]) ? (claims[key] as unknown[]).map(String) : typeof claims[key] === "string" ? String(claims[key]).split(" ").filter(Boolean) : []);
    const user = typeof claims["scp"] === "string" && claims["idtyp"] !== "app";
    return {
        kind: user ? "user" : "app",
        tenantId: String(claims["tid"] ?? ""),
        objectId: String(claims["oid"] ?? ""),
        name: String(user ? (claims["upn"] ?? claims["unique_name"] ?? claims["preferred_username"] ?? claims["oid"]) : (claims["appid"] ?? claims["azp"] ?? claims["oid"])),
        roles: list("roles"),
        scopes: list("scp"),
        directoryRoles: list("wids"),
    };
}

interface RestrictionEntry {
    readonly restrictionType?: string;
    readonly maxLifetime?: string | null;
    readonly state?: string;
}
interface Restrictions {
    readonly passwordCredentials?: readonly RestrictionEntry[];
    readonly keyCredentials?: readonly RestrictionEntry[];
}

/** The lifetime restrictions of a policy's `restrictions` (or `applicationRestrictions`), disabled ones left out. */
export function lifetimeRestrictions(policy: string, restrictions: Restrictions | undefined, appliesTo: LifetimeRestriction["appliesTo"]): LifetimeRestriction[] {
    const out: LifetimeRestriction[] = [];
    for (const entry of [...(restrictions?.passwordCredentials ?? []), ...(restrictions?.keyCredentials ?? [])]) {
        if (entry.state === "disabled") continue;
        const kind = entry.restrictionType;
        if (kind !== "passwordLifetime" && kind !== "asymmetricKeyLifetime" && kind !== "passwordAddition") continue;
        out.push({ policy, kind, maxLifetimeDays: entry.maxLifetime ? (durationDays(entry.maxLifetime) ?? null) : null, appliesTo });
    }
    return out;
}

async function readPolicies(graph: GraphClient): Promise<{ restrictions?: LifetimeRestriction[]; policyError?: string }> {
    try {
        const tenantDefault = await graph.get<{ displayName?: string; isEnabled?: boolean; applicationRestrictions?: Restrictions }>("/policies/defaultAppManagementPolicy");
        const custom = await graph.list<{ displayName?: string; isEnabled?: boolean; restrictions?: Restrictions; appliesTo?: { id: string }[] }>("/policies/appManagementPolicies?$expand=appliesTo($select=id)");
        const restrictions = [
            ...(tenantDefault.isEnabled === false ? [] : lifetimeRestrictions(tenantDefault.displayName ?? "tenant default", tenantDefault.applicationRestrictions, "all")),
            ...custom.filter((p) => p.isEnabled !== false).flatMap((p) => lifetimeRestrictions(p.displayName ?? "app management policy", p.restrictions, (p.appliesTo ?? []).map((a) => a.id))),
        ];
        return { restrictions };
    } catch (error) {
        return { policyError: error instanceof GraphError ? `${error.status} ${error.code}` : String(error) };
    }
}

async function probeVault(vault: SecretClient, url: string): Promise<NonNullable<DoctorFacts["vault"]>> {
    try {
        await vault.listPropertiesOfSecrets().byPage({ maxPageSize: 1 }).next();
        return { url, result: "ok" };
    } catch (error) {
        const e = error as { statusCode?: number; code?: string; message?: string };
        if (e.statusCode === 403) return { url, result: "forbidden", detail: e.code ?? "Forbidden" };
        if (e.statusCode === 404 || e.code === "ENOTFOUND") return { url, result: "not-found" };
        return { url, result: "error", detail: (e.message ?? String(error)).split("\n")[0] };
    }
}

export async function collectDoctorFacts(model: StackModel, graph: GraphClient, graphScope: string, credential: TokenCredential, vault: { client: SecretClient; url: string } | undefined): Promise<DoctorFacts> {
    let signedIn: SignedIn | undefined;
    let signInError: string | undefined;
    try {
        const token = await credential.getToken(graphScope);
        if (!token) throw new Error("no token");
        signedIn = signedInFrom(tokenClaims(token.token));
    } catch (error) {
        signInError = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    }
    const existingApps = new Map<string, { objectId: string; owners: readonly string[] | null; federatedNames: readonly string[] }>();
    let policies: Awaited<ReturnType<typeof readPolicies>> = { policyError: "not signed in" };
    let vaultFact: DoctorFacts["vault"];
    if (signedIn) {
        const found = [...(await stackApplications(model, graph))].map(([name, application]) => ({ name, id: application.id }));
        const details = await mapConcurrent(found, 8, async ({ name, id }) => {
            const [owners, federated] = await Promise.all([
                graph.list<{ id: string }>(`/applications/${encodeURIComponent(id)}/owners?$select=id`).then((o) => o.map((x) => x.id), () => null),
                graph.federatedCredentials(id),
            ]);
            return [name, { objectId: id, owners, federatedNames: federated.map((f) => f.name) }] as const;
        });
        for (const [name, detail] of details) existingApps.set(name, detail);
        [policies, vaultFact] = await Promise.all([readPolicies(graph), vault ? probeVault(vault.client, vault.url) : Promise.resolve(undefined)]);
    }
    return {
        ...(signedIn ? { signedIn } : {}),
        ...(signInError ? { signInError } : {}),
        existingApps,
        ...policies,
        ...(vaultFact ? { vault: vaultFact } : {}),
    };
}
