import type { StackModel } from "../../infra/model/model";
import type { PermissionBlock } from "../../azure/arm";
import type { UsageSource, UsageUnavailable } from "./usage";

/**
 * `rotor doctor`: the preflight before the first `pulumi up`. The live part collects facts (who is signed
 * in, what they may do, the tenant's app management policy, the vault); this module judges them, so each
 * rule is tested on plain data.
 */

/** The signed-in identity, from its access token's claims. */
export interface SignedIn {
    /** `app` for a service principal or managed identity, `user` for a person. */
    readonly kind: "app" | "user";
    readonly tenantId: string;
    readonly objectId: string;
    /** The user's name, or the application's client id. */
    readonly name: string;
    /** Microsoft Graph application permissions granted to an app identity (`roles`). */
    readonly roles: readonly string[];
    /** Delegated scopes of a user token (`scp`). */
    readonly scopes: readonly string[];
    /** Directory role template ids of a user (`wids`). */
    readonly directoryRoles: readonly string[];
}

/** One restriction of an app management policy that can refuse the stack's credentials. */
export interface LifetimeRestriction {
    readonly policy: string;
    /**
     * `passwordLifetime`, `asymmetricKeyLifetime`: a cap in days (from its ISO-8601 duration);
     * `passwordAddition`: no new client secrets; `trustedCertificateAuthority`: only certificates that chain
     * to the tenant's trusted certificate authorities (Graph beta), so no self-signed one.
     */
    readonly kind: "passwordLifetime" | "asymmetricKeyLifetime" | "passwordAddition" | "trustedCertificateAuthority";
    readonly maxLifetimeDays: number | null;
    /** Whether it applies to every application (the tenant default) or to named ones (object ids). */
    readonly appliesTo: "all" | readonly string[];
}

export interface DoctorFacts {
    readonly signedIn?: SignedIn;
    readonly signInError?: string;
    /** The stack's applications already in the tenant, by app name: their object ids and owners' object ids. */
    readonly existingApps: ReadonlyMap<string, { objectId: string; owners: readonly string[] | null; federatedNames: readonly string[] }>;
    /** Lifetime restrictions of the tenant's policies; undefined when they cannot be read. */
    readonly restrictions?: readonly LifetimeRestriction[];
    /** Why the policies could not be read (`403 Authorization_RequestDenied`), when they could not. */
    readonly policyError?: string;
    /** Parts of the policies that could not be read, while the rest was (custom policies, trusted CAs). */
    readonly policyNotes?: readonly string[];
    /** `ok`: secrets listed; otherwise why not. Undefined when the stack has no vault. */
    readonly vault?: { readonly url: string; readonly result: "ok" | "forbidden" | "not-found" | "error"; readonly detail?: string };
    /**
     * The signed-in identity's permissions where the program writes: on the vault, or on its resource group
     * when the stack creates the vault. Undefined without a vault; `skipped` says why they were not read.
     */
    readonly vaultPermissions?: { readonly scope: "vault" | "resourceGroup"; readonly blocks: readonly PermissionBlock[] } | { readonly skipped: string } | { readonly missingResourceGroup: string };
    /** Whether the signed-in identity can read usage evidence (live/usageEvidence.ts); undefined when not probed. */
    readonly usage?: { readonly source: UsageSource | null; readonly unavailable: UsageUnavailable | null };
}

/** The block of an Azure role that matches `operation`: `*` matches any characters, case-insensitively. */
function matches(pattern: string, operation: string): boolean {
    const expression = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*");
    return new RegExp(`^${expression}$`, "i").test(operation);
}

/** Whether the roles' blocks allow an operation (an action, or a data action with `data`). */
export function allows(blocks: readonly PermissionBlock[], operation: string, data = false): boolean {
    return blocks.some((b) => (data ? b.dataActions : b.actions).some((p) => matches(p, operation)) && !(data ? b.notDataActions : b.notActions).some((p) => matches(p, operation)));
}

/**
 * What the program calls on the vault, and so what the deploying identity needs: azure-native's
 * keyvault.Secret reads and writes secrets through Resource Manager (management-plane actions; a data-plane
 * role such as Key Vault Secrets Officer does not grant them, pulumi/pulumi-azure-native#3000), and deletes
 * the ones the stack stops serving through the data plane (Resource Manager cannot delete a secret).
 */
export const vaultOperations = {
    actions: ["Microsoft.KeyVault/vaults/secrets/read", "Microsoft.KeyVault/vaults/secrets/write"],
    dataActions: ["Microsoft.KeyVault/vaults/secrets/delete"],
    /** With `keyVault.create`: creating and reading the vault, on its resource group. */
    createActions: ["Microsoft.KeyVault/vaults/read", "Microsoft.KeyVault/vaults/write"],
} as const;

export type CheckResult = "ok" | "warn" | "fail" | "skipped";

export interface DoctorCheck {
    readonly check: string;
    readonly result: CheckResult;
    readonly detail: string;
}

export interface DoctorReport {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly checks: readonly DoctorCheck[];
    /** 0 when nothing fails, 2 otherwise. */
    readonly exitCode: 0 | 2;
}

/** Directory role template ids (stable across tenants). */
export const directoryRoles = {
    globalAdministrator: "62e90394-69f5-4237-9190-012177145e10",
    applicationAdministrator: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    cloudApplicationAdministrator: "158c047a-c907-4556-b7ef-446551a6b5f7",
    applicationDeveloper: "cf1c38e5-3621-4004-a7cb-879624dced7c",
    privilegedRoleAdministrator: "e8611ab8-c189-46e8-94e1-60213ab1f814",
} as const;

/** Days in an ISO-8601 duration such as `P90D`, `P1Y`, `P2Y6M`, `PT720H`; undefined when it is not one. */
export function durationDays(iso: string): number | undefined {
    const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
    if (!match || iso === "P" || iso.endsWith("T")) return undefined;
    const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number, number];
    // Entra counts a year as 365 days and a month as 30 for these policies.
    return years * 365 + months * 30 + weeks * 7 + days + (hours + minutes / 60 + seconds / 3600) / 24;
}

function identityChecks(model: StackModel, facts: DoctorFacts): DoctorCheck[] {
    const me = facts.signedIn;
    if (!me) return [{ check: "signed-in identity", result: "fail", detail: `cannot sign in: ${facts.signInError ?? "unknown error"}; az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID with a federated token or secret` }];
    const checks: DoctorCheck[] = [{ check: "signed-in identity", result: "ok", detail: `${me.kind} ${me.name} (object ${me.objectId}) in tenant ${me.tenantId}` }];
    const has = (role: string) => me.roles.includes(role) || me.scopes.includes(role);
    const inRole = (...ids: string[]) => ids.some((id) => me.directoryRoles.includes(id));
    const r = directoryRoles;

    // Managing the registrations.
    const all = has("Application.ReadWrite.All") || inRole(r.globalAdministrator, r.applicationAdministrator, r.cloudApplicationAdministrator);
    const ownedBy = has("Application.ReadWrite.OwnedBy") || inRole(r.applicationDeveloper) || (me.kind === "user" && me.scopes.includes("Application.ReadWrite.All"));
    const notOwned = [...facts.existingApps].filter(([, app]) => app.owners !== null && !app.owners.includes(me.objectId)).map(([name]) => name);
    const unknownOwners = [...facts.existingApps].filter(([, app]) => app.owners === null).map(([name]) => name);
    if (all) checks.push({ check: "manage app registrations", result: "ok", detail: "may create and update any application" });
    else if (ownedBy && notOwned.length === 0 && unknownOwners.length > 0)
        checks.push({ check: "manage app registrations", result: "warn", detail: `may only update applications it owns, and the owners of ${unknownOwners.join(", ")} cannot be read: make sure it owns them` });
    else if (ownedBy && notOwned.length === 0) checks.push({ check: "manage app registrations", result: "ok", detail: "may create applications and update those it owns (it owns every one of the stack's that exists)" });
    else if (ownedBy) checks.push({ check: "manage app registrations", result: "fail", detail: `may only update applications it owns, and does not own ${notOwned.join(", ")}: add it as an owner (owners in config), or use an identity with Application.ReadWrite.All` });
    else checks.push({ check: "manage app registrations", result: "fail", detail: "cannot create or update applications: grant Application.ReadWrite.OwnedBy (apps) or the Application Developer role (people)" });

    // Admin consent.
    const applicationPermissions = model.apps.some((app) => app.permissions.some((p) => p.kind === "application"));
    const delegatedPermissions = model.apps.some((app) => app.permissions.some((p) => p.kind === "delegated"));
    if (applicationPermissions) {
        const can = has("AppRoleAssignment.ReadWrite.All") || inRole(r.globalAdministrator, r.privilegedRoleAdministrator);
        checks.push({ check: "grant application permissions", result: can ? "ok" : "warn", detail: can ? "may create app role assignments" : "cannot create app role assignments: a run that adds an application permission fails; have a Privileged Role Administrator run it, or grant AppRoleAssignment.ReadWrite.All" });
    }
    if (delegatedPermissions) {
        const can = has("DelegatedPermissionGrant.ReadWrite.All") || inRole(r.globalAdministrator, r.cloudApplicationAdministrator, r.applicationAdministrator);
        checks.push({ check: "grant delegated permissions", result: can ? "ok" : "warn", detail: can ? "may create delegated permission grants" : "cannot grant delegated permissions: a run that adds one fails; grant DelegatedPermissionGrant.ReadWrite.All or use a Cloud Application Administrator" });
    }
    return checks;
}

function policyChecks(model: StackModel, facts: DoctorFacts): DoctorCheck[] {
    if (!facts.restrictions) {
        // Only advise the permission when the identity does not already have it.
        const hasPolicyRead = facts.signedIn ? facts.signedIn.roles.includes("Policy.Read.All") || facts.signedIn.scopes.includes("Policy.Read.All") : false;
        const advice = hasPolicyRead ? "lifetimes are not checked against them" : "grant Policy.Read.All to check lifetimes before Entra refuses them";
        return [{ check: "app management policy", result: "skipped", detail: `cannot read the tenant's policies (${facts.policyError ?? "no access"}): ${advice}` }];
    }
    const checks: DoctorCheck[] = [];
    const objectIdOf = (app: string) => facts.existingApps.get(app)?.objectId;
    for (const app of model.apps) {
        const applies = (r: LifetimeRestriction) => r.appliesTo === "all" || (objectIdOf(app.name) !== undefined && r.appliesTo.includes(objectIdOf(app.name)!));
        for (const credential of app.credentials) {
            const kind = credential.type === "secret" ? "passwordLifetime" : "asymmetricKeyLifetime";
            if (credential.type === "secret") {
                const blocked = facts.restrictions.find((r) => r.kind === "passwordAddition" && applies(r));
                if (blocked) checks.push({ check: `${app.name}/${credential.name}`, result: "fail", detail: `policy "${blocked.policy}" forbids adding client secrets: use a certificate or a federated credential` });
            } else {
                const trusted = facts.restrictions.find((r) => r.kind === "trustedCertificateAuthority" && applies(r));
                if (trusted) {
                    checks.push({
                        check: `${app.name}/${credential.name}`,
                        result: "fail",
                        detail: `policy "${trusted.policy}" accepts only certificates from the tenant's trusted certificate authorities: this generated certificate is self-signed, so Entra refuses it at its first rotation; use a federated credential, a client secret, or a certificate your CA issues (file:)`,
                    });
                }
            }
            for (const restriction of facts.restrictions.filter((r) => r.kind === kind && applies(r) && r.maxLifetimeDays !== null)) {
                if (credential.policy.lifetimeDays > restriction.maxLifetimeDays!) {
                    checks.push({
                        check: `${app.name}/${credential.name}`,
                        result: "fail",
                        detail: `lifetime ${credential.policy.lifetimeDays} days exceeds policy "${restriction.policy}" (${kind} ${Math.floor(restriction.maxLifetimeDays!)} days): Entra refuses the credential; set rotation.maxLifetimeDays to ${Math.floor(restriction.maxLifetimeDays!)} and lower lifetimeDays`,
                    });
                }
            }
        }
        for (const file of app.certificateFiles) {
            const trusted = facts.restrictions.find((r) => r.kind === "trustedCertificateAuthority" && applies(r));
            if (trusted) checks.push({ check: `${app.name}/${file.name}`, result: "warn", detail: `policy "${trusted.policy}" accepts only certificates from trusted certificate authorities: ${file.file} (issued by ${file.info.issuer}) must chain to one of them` });
        }
    }
    for (const note of facts.policyNotes ?? []) checks.push({ check: "app management policy", result: "warn", detail: note });
    if (checks.length === 0) {
        const summary = facts.restrictions.filter((r) => r.maxLifetimeDays !== null).map((r) => `${r.kind} ${Math.floor(r.maxLifetimeDays!)}d (${r.policy})`);
        checks.push({ check: "app management policy", result: "ok", detail: summary.length ? `every lifetime fits: ${summary.join(", ")}` : "no lifetime restriction" });
    }
    return checks;
}

function limitChecks(model: StackModel, facts: DoctorFacts): DoctorCheck[] {
    const checks: DoctorCheck[] = [];
    let most = 0;
    for (const app of model.apps) {
        const declared = new Set(app.federatedCredentials.map((f) => f.name));
        // Federated credentials added by hand stay, and count against Entra's limit of 20 too.
        const unmanaged = (facts.existingApps.get(app.name)?.federatedNames ?? []).filter((name) => !declared.has(name));
        const after = declared.size + unmanaged.length;
        most = Math.max(most, after);
        if (after > 20) {
            checks.push({ check: `${app.name} federated credentials`, result: "fail", detail: `${declared.size} declared and ${unmanaged.length} added by hand (${unmanaged.join(", ")}) make ${after}, over Entra's limit of 20: remove unmanaged ones` });
        }
    }
    if (checks.length === 0) checks.push({ check: "limits", result: "ok", detail: `federated credentials per app: at most ${most} of 20` });
    return checks;
}

function vaultChecks(model: StackModel, facts: DoctorFacts): DoctorCheck[] {
    if (!model.keyVault || !facts.vault) return [];
    const checks: DoctorCheck[] = [];
    const { url, result, detail } = facts.vault;
    const create = model.keyVault.create !== undefined;
    switch (result) {
        case "ok":
            checks.push({ check: "Key Vault", result: "ok", detail: `${url}: reachable, secrets listed` });
            break;
        case "not-found":
            checks.push({ check: "Key Vault", result: create ? "ok" : "fail", detail: create ? `${url} does not exist yet: the stack creates it` : `${url} does not exist: create it, or set keyVault.create: true` });
            break;
        case "forbidden":
            // Listing needs a data-plane role; writing does not. Only the permission check below decides.
            checks.push({ check: "Key Vault", result: "ok", detail: `${url}: reachable (listing secrets is refused: ${detail ?? "Forbidden"}, which the deployment does not need)` });
            break;
        default:
            checks.push({ check: "Key Vault", result: "fail", detail: `${url}: ${detail ?? "unreachable"}` });
    }
    checks.push(vaultPermissionCheck(model, facts));
    return checks;
}

function vaultPermissionCheck(model: StackModel, facts: DoctorFacts): DoctorCheck {
    const kv = model.keyVault!;
    const check = "Key Vault permissions";
    const found = facts.vaultPermissions;
    if (!found) return { check, result: "skipped", detail: "not read" };
    if ("skipped" in found) return { check, result: "skipped", detail: found.skipped };
    if ("missingResourceGroup" in found) {
        return { check, result: "fail", detail: `the resource group ${found.missingResourceGroup} does not exist: the program does not create it; az group create --name ${found.missingResourceGroup} --location <region>` };
    }
    const where = found.scope === "vault" ? `the vault ${kv.name}` : `the resource group ${kv.resourceGroup}`;
    const missing = [
        ...vaultOperations.actions.filter((a) => !allows(found.blocks, a)),
        ...(found.scope === "resourceGroup" ? vaultOperations.createActions.filter((a) => !allows(found.blocks, a)) : []),
        ...vaultOperations.dataActions.filter((a) => !allows(found.blocks, a, true)).map((a) => `${a} (data action)`),
    ];
    if (missing.length === 0) return { check, result: "ok", detail: `may write and delete the stack's secrets through Resource Manager on ${where}` };
    const role = found.scope === "vault" ? 'the custom role "entra-rotor Key Vault secret writer" (docs/pipelines.md)' : "Key Vault Contributor and the custom role's data action (docs/pipelines.md)";
    return { check, result: "fail", detail: `lacks ${missing.join(", ")} on ${where}: pulumi up writes the served secrets through Resource Manager; assign ${role} to the deploying identity there` };
}

/**
 * Whether `rotor status --usage` can tell which credential consumers sign in with. Optional: without it the
 * schedule still gives consumers their pickup window, so it never fails the preflight.
 */
function usageCheck(facts: DoctorFacts): DoctorCheck[] {
    const usage = facts.usage;
    if (!usage) return [];
    const check = "usage evidence";
    if (usage.source) {
        const from = usage.source === "appCredentialSignInActivities" ? "Entra's credential sign-in report (Graph beta)" : "the sign-in log (Graph beta; the credential report is not served here)";
        return [{ check, result: "ok", detail: `available from ${from}: rotor status --usage shows which credential consumers sign in with` }];
    }
    const why = usage.unavailable;
    switch (why?.reason) {
        case "licence":
            return [{ check, result: "skipped", detail: `no licence: the tenant has no Microsoft Entra ID P1 or P2 (Graph answered ${why.detail}), so rotor status --usage cannot tell which credential consumers use` }];
        case "permission":
            return [{ check, result: "skipped", detail: `missing AuditLog.Read.All (Graph answered ${why.detail}): grant this application permission to the identity that runs rotor status --usage (optional)` }];
        case "cloud":
            return [{ check, result: "skipped", detail: `not served in this cloud (Graph answered ${why.detail})` }];
        default:
            return [{ check, result: "skipped", detail: `could not be read (${why?.detail ?? "unknown"})` }];
    }
}

/**
 * Whether `rotor retire` can remove what the stack marks `retire: true`: it needs usage evidence (without it,
 * nothing is removed unless --force), the write permission the manage check above judges, and for a
 * certificate a generated certificate of the same app to sign Graph's removeKey proof with. Only for a stack
 * that marks something; warnings, never failures: the deployment does not need any of it.
 */
function retireCheck(model: StackModel, facts: DoctorFacts): DoctorCheck[] {
    const marked = model.apps.flatMap((app) => app.existing.filter((e) => e.retire).map((entry) => ({ app, entry })));
    if (marked.length === 0 || !facts.signedIn) return [];
    const check = "retire existing credentials";
    const checks: DoctorCheck[] = [];
    const count = `${marked.length} credential${marked.length === 1 ? "" : "s"} marked retire: true`;
    if (facts.usage && !facts.usage.source) checks.push({ check, result: "warn", detail: `${count}, and no usage evidence can be read (the usage evidence check says why): rotor retire removes none of them without --force` });
    const unsigned = marked.filter(({ app, entry }) => entry.kind === "certificate" && !app.credentials.some((c) => c.type === "certificate"));
    for (const { app, entry } of unsigned) {
        checks.push({ check, result: "warn", detail: `${app.name}: certificate ${entry.keyId} can be removed only with a proof signed by a valid certificate of the app (Graph's removeKey), and the stack generates none for it: remove it in the Entra admin center` });
    }
    if (checks.length === 0) checks.push({ check, result: "ok", detail: `${count}: ${facts.usage?.source ? "rotor retire can read usage evidence; " : ""}it writes with the permission the manage check judges (Application.ReadWrite.OwnedBy on apps it owns, or Application.ReadWrite.All)` });
    return checks;
}

export function assessDoctor(model: StackModel, facts: DoctorFacts): DoctorReport {
    const checks = [...identityChecks(model, facts), ...policyChecks(model, facts), ...limitChecks(model, facts), ...vaultChecks(model, facts), ...usageCheck(facts), ...retireCheck(model, facts)];
    return { schemaVersion: 1, project: model.project, stack: model.stack, checks, exitCode: checks.some((c) => c.result === "fail") ? 2 : 0 };
}
