import type { TokenCredential } from "@azure/core-auth";
import type { SecretClient } from "@azure/keyvault-secrets";
import type { StackModel } from "../../infra/model/model";
import type { DoctorFacts, LifetimeRestriction, SignedIn } from "./doctor";
import { durationDays } from "./doctor";
import { stackApplications } from "./collect";
import { mapConcurrent } from "./concurrency";
import { ArmClient, ArmError } from "../../azure/arm";
import { GraphError, type GraphClient } from "../../azure/graph";

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

/** The restrictions of a policy's `restrictions` (or `applicationRestrictions`) that can refuse the stack's credentials, disabled ones left out. */
export function lifetimeRestrictions(policy: string, restrictions: Restrictions | undefined, appliesTo: LifetimeRestriction["appliesTo"]): LifetimeRestriction[] {
    const out: LifetimeRestriction[] = [];
    for (const entry of [...(restrictions?.passwordCredentials ?? []), ...(restrictions?.keyCredentials ?? [])]) {
        if (entry.state === "disabled") continue;
        const kind = entry.restrictionType;
        if (kind !== "passwordLifetime" && kind !== "asymmetricKeyLifetime" && kind !== "passwordAddition" && kind !== "trustedCertificateAuthority") continue;
        out.push({ policy, kind, maxLifetimeDays: entry.maxLifetime ? (durationDays(entry.maxLifetime) ?? null) : null, appliesTo });
    }
    return out;
}

interface PolicyObject {
    readonly id: string;
    readonly displayName?: string;
    readonly isEnabled?: boolean;
    readonly restrictions?: Restrictions;
}

interface PolicyFacts {
    readonly restrictions?: LifetimeRestriction[];
    readonly policyError?: string;
    readonly policyNotes?: string[];
}

function graphErrorText(error: unknown): string {
    return error instanceof GraphError ? `${error.status} ${error.code}` : String(error);
}

/**
 * What custom policies apply to: `GET /policies/appManagementPolicies/{id}/appliesTo` (documented on v1.0;
 * `$expand=appliesTo` on the list is not), or, when that is refused, each of the stack's applications'
 * `GET /applications/{id}/appManagementPolicies`.
 */
async function appliesTo(graph: GraphClient, policies: readonly PolicyObject[], appObjectIds: readonly string[]): Promise<Map<string, string[]> | undefined> {
    const byPolicy = new Map<string, string[]>();
    try {
        for (const policy of policies) byPolicy.set(policy.id, (await graph.list<{ id: string }>(`/policies/appManagementPolicies/${encodeURIComponent(policy.id)}/appliesTo?$select=id`)).map((o) => o.id));
        return byPolicy;
    } catch {
        byPolicy.clear();
    }
    try {
        for (const objectId of appObjectIds) {
            for (const policy of await graph.list<{ id: string }>(`/applications/${encodeURIComponent(objectId)}/appManagementPolicies`)) {
                byPolicy.set(policy.id, [...(byPolicy.get(policy.id) ?? []), objectId]);
            }
        }
        return byPolicy;
    } catch {
        return undefined;
    }
}

/**
 * The tenant's default policy (which applies to every application), its custom policies with what they
 * apply to, and (Graph beta only) their trusted certificate authority restrictions. What can be read is
 * used; what cannot is said, so one refused query does not hide the tenant default.
 */
async function readPolicies(graph: GraphClient, appObjectIds: readonly string[]): Promise<PolicyFacts> {
    let tenantDefault: { displayName?: string; isEnabled?: boolean; applicationRestrictions?: Restrictions };
    try {
        tenantDefault = await graph.get("/policies/defaultAppManagementPolicy");
    } catch (error) {
        return { policyError: graphErrorText(error) };
    }
    const defaultName = tenantDefault.displayName ?? "tenant default";
    const restrictions = tenantDefault.isEnabled === false ? [] : lifetimeRestrictions(defaultName, tenantDefault.applicationRestrictions, "all");
    const notes: string[] = [];
    let custom: PolicyObject[] = [];
    try {
        custom = (await graph.list<PolicyObject>("/policies/appManagementPolicies")).filter((p) => p.isEnabled !== false);
    } catch (error) {
        notes.push(`custom app management policies could not be read (${graphErrorText(error)}): only the tenant default was checked`);
    }
    const targets = custom.length ? await appliesTo(graph, custom, appObjectIds) : new Map<string, string[]>();
    if (!targets && custom.length) notes.push("what the custom app management policies apply to could not be read: they were checked as if they applied to every app");
    for (const policy of custom) restrictions.push(...lifetimeRestrictions(policy.displayName ?? "app management policy", policy.restrictions, targets?.get(policy.id) ?? "all"));

    // Trusted certificate authorities are on beta only: v1.0 shows them as unknownFutureValue.
    try {
        const betaDefault = await graph.get<{ isEnabled?: boolean; applicationRestrictions?: Restrictions }>("/policies/defaultAppManagementPolicy", {}, "beta");
        const trusted = (r: LifetimeRestriction) => r.kind === "trustedCertificateAuthority";
        if (betaDefault.isEnabled !== false) restrictions.push(...lifetimeRestrictions(defaultName, betaDefault.applicationRestrictions, "all").filter(trusted));
        if (custom.length) {
            for (const policy of (await graph.list<PolicyObject>("/policies/appManagementPolicies", undefined, "beta")).filter((p) => p.isEnabled !== false)) {
                restrictions.push(...lifetimeRestrictions(policy.displayName ?? "app management policy", policy.restrictions, targets?.get(policy.id) ?? "all").filter(trusted));
            }
        }
    } catch (error) {
        notes.push(`trusted certificate authority restrictions (Graph beta) could not be read (${graphErrorText(error)}): generated certificates were not checked against them`);
    }
    return { restrictions, ...(notes.length ? { policyNotes: notes } : {}) };
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

/**
 * The signed-in identity's permissions where the program writes secrets: the vault, or its resource group
 * when the stack creates the vault and it does not exist yet.
 */
export async function readVaultPermissions(model: StackModel, arm: ArmClient | undefined, subscriptionId: string | undefined): Promise<DoctorFacts["vaultPermissions"]> {
    const kv = model.keyVault;
    if (!kv) return undefined;
    if (!arm || !subscriptionId) return { skipped: "the subscription is unknown: pass --subscription (or set ARM_SUBSCRIPTION_ID) to check what the deploying identity may do on the vault" };
    const group = `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(kv.resourceGroup)}`;
    try {
        return { scope: "vault", blocks: await arm.permissions(`${group}/providers/Microsoft.KeyVault/vaults/${encodeURIComponent(kv.name)}`) };
    } catch (error) {
        if (!(error instanceof ArmError)) throw error;
        if (error.code === "ResourceGroupNotFound") return { missingResourceGroup: kv.resourceGroup };
        if (error.code !== "ResourceNotFound" || !kv.create) return { skipped: `cannot read the permissions on the vault (${error.status} ${error.code})` };
    }
    try {
        return { scope: "resourceGroup", blocks: await arm.permissions(group) };
    } catch (error) {
        if (!(error instanceof ArmError)) throw error;
        if (error.code === "ResourceGroupNotFound") return { missingResourceGroup: kv.resourceGroup };
        return { skipped: `cannot read the permissions on the resource group (${error.status} ${error.code})` };
    }
}

export async function collectDoctorFacts(
    model: StackModel,
    graph: GraphClient,
    graphScope: string,
    credential: TokenCredential,
    vault: { client: SecretClient; url: string } | undefined,
    arm?: { client: ArmClient; subscriptionId: string | undefined },
): Promise<DoctorFacts> {
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
    let policies: PolicyFacts = { policyError: "not signed in" };
    let vaultFact: DoctorFacts["vault"];
    let vaultPermissions: DoctorFacts["vaultPermissions"];
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
        [policies, vaultFact, vaultPermissions] = await Promise.all([
            readPolicies(graph, [...existingApps.values()].map((a) => a.objectId)),
            vault ? probeVault(vault.client, vault.url) : Promise.resolve(undefined),
            readVaultPermissions(model, arm?.client, arm?.subscriptionId),
        ]);
    }
    return {
        ...(signedIn ? { signedIn } : {}),
        ...(signInError ? { signInError } : {}),
        existingApps,
        ...policies,
        ...(vaultFact ? { vault: vaultFact } : {}),
        ...(vaultPermissions ? { vaultPermissions } : {}),
    };
}
