import type { Tier } from "../../../infra/model/catalog";

/**
 * The identity summary of a `pulumi preview --json`, value-free: names, types, non-secret ids (key ids,
 * client ids, permission ids), dates, generations and permission names, never a credential value. The JSON
 * form is a stable interface: fields are only ever added; `schemaVersion` changes if one is removed or
 * changes meaning. Every list is sorted, so the same preview always gives the same document. Names and
 * other strings read from the preview are kept as written, control characters and markup included: the
 * renderers escape them (the JSON writes invisible and reordering characters as `\u` escapes).
 */
export interface Summary {
    /** Version of this document's shape. */
    readonly schemaVersion: 1;
    /** The preview file, as the caller named it. */
    readonly source: string;
    /** The Pulumi project, from the URNs; null when the preview names no resource. */
    readonly project: string | null;
    /** The Pulumi stack, from the URNs; null when the preview names no resource. */
    readonly stack: string | null;
    /** False when nothing below changes: the comment then says "no identity changes". */
    readonly hasIdentityChanges: boolean;
    /** What breaks consumers if this preview is applied; empty when nothing does. Shown first, after the escalations. */
    readonly breaking: readonly BreakingChange[];
    /** App registrations (application and service principal) created, updated, replaced or deleted. */
    readonly apps: readonly AppChange[];
    /** Credentials created, rotated (slot replaced) or retired, per app and credential. */
    readonly credentials: readonly CredentialChange[];
    /** Permissions added or removed, escalations (tier 0, then tier 1 additions) first. */
    readonly permissions: readonly PermissionChange[];
    /**
     * Directory roles assigned, made eligible or given a member, or taken away: every one, escalations (a role that
     * is a path to privilege, or one that cannot be recognised) first.
     */
    readonly directoryRoles: readonly DirectoryRoleChange[];
    /** Federated identity credentials created, changed or deleted. */
    readonly federatedCredentials: readonly FederatedCredentialChange[];
    /** Key Vault secrets created, updated, replaced or deleted, and whether their value changes. */
    readonly keyVaultSecrets: readonly KeyVaultSecretChange[];
    /** Pulumi's changeSummary for the whole stack: resources per operation (create, update, replace, delete, same, ...). */
    readonly counts: Readonly<Record<string, number>>;
    /** Diagnostics in the preview, counted only: their messages may quote values. */
    readonly diagnostics: { readonly errors: number; readonly warnings: number };
}

/** What Pulumi does to a resource. */
export type Action = "created" | "updated" | "replaced" | "deleted";

export type BreakingKind = "both-slots-replaced" | "served-secret-deleted" | "app-registration-deleted" | "app-registration-replaced";

/** One reason the preview breaks consumers. */
export interface BreakingChange {
    /** Which rule: both slots of one credential replaced at once, a served Key Vault secret deleted, an app registration deleted or replaced. */
    readonly kind: BreakingKind;
    /** The app concerned, when known. */
    readonly app: string | null;
    /** What breaks: a credential name, a Key Vault secret name or an app name. */
    readonly subject: string;
    /** One sentence for the reviewer: what happens and who it hurts. */
    readonly message: string;
}

/** An app registration's own resources. */
export interface AppChange {
    /** The app's name in config (the AppRegistration component's name). */
    readonly app: string;
    /** Its display name, when the preview shows it. */
    readonly displayName: string | null;
    /** What happens to the Entra application; null when it is unchanged. */
    readonly application: Action | null;
    /** What happens to its service principal; null when it is unchanged. */
    readonly servicePrincipal: Action | null;
    /** The application (client) id it has today; null for a new app. */
    readonly clientId: string | null;
    /** Names of the application's properties that change (for an update). */
    readonly changedProperties: readonly string[];
}

/** What happens to one slot of a credential. */
export type SlotAction = "created" | "rotated" | "retired" | "updated" | "changed";

/** Why a slot is rotated. */
export type RotationCause = "scheduled" | "change" | "unknown";

/** A slot's credential, before or after the preview. */
export interface SlotVersion {
    /** The rotation generation it holds; null when the preview does not show it. */
    readonly generation: number | null;
    /** When it starts to work (ISO-8601); null when unknown until the update. */
    readonly start: string | null;
    /** When it stops working (ISO-8601); null when unknown. */
    readonly end: string | null;
    /** Its key id on the application (as Graph lists it); null until the update creates it. */
    readonly keyId: string | null;
}

/** One slot of a credential (or the single credential of a brought certificate file, slot null). */
export interface SlotChange {
    /** 0 or 1; null for credentials without slots. */
    readonly slot: 0 | 1 | null;
    /** Created, rotated (replaced), retired (deleted), updated in place, or a mix. */
    readonly action: SlotAction;
    /** For a rotation: `scheduled` (the slot's next generation, + 2), `change` (config or a missed schedule), `unknown`; null otherwise. */
    readonly cause: RotationCause | null;
    /** Why, in words, for rotations: e.g. "generation 11 -> 13: the slot's scheduled turn". */
    readonly explanation: string | null;
    /** The slot before the preview; null when created. */
    readonly before: SlotVersion | null;
    /** The slot after the preview; null when retired. */
    readonly after: SlotVersion | null;
    /** Property names that force the replacement (value-free: names only). */
    readonly replaceReasons: readonly string[];
    /** The Pulumi resources of the slot and what happens to each. */
    readonly resources: readonly { readonly type: string; readonly name: string; readonly action: Action }[];
}

/** A rotating credential, a brought certificate, or a credential resource outside the components. */
export interface CredentialChange {
    /** The app it belongs to; null when the preview does not show it. */
    readonly app: string | null;
    /** The credential's name in config (`main`), or the resource name when it is not one of ours. */
    readonly credential: string;
    /** The Pulumi name of its component (`mail-sender-main`). */
    readonly component: string;
    /** `secret` (ClientSecret), `certificate` (ClientCertificate), `certificate-file` (brought certificate), or `other`. */
    readonly type: "secret" | "certificate" | "certificate-file" | "other";
    /** The slots that change, by slot number. */
    readonly slots: readonly SlotChange[];
}

/** A permission requested or consented, added or removed. */
export interface PermissionChange {
    /** The app whose permission changes; null when unknown. */
    readonly app: string | null;
    /** Whether the app gains or loses it. */
    readonly change: "added" | "removed";
    /** `application` (app role) or `delegated` (scope). */
    readonly kind: "application" | "delegated";
    /** The API's display name, or its appId when it is not one we know. */
    readonly api: string;
    /** The API's appId, when known. */
    readonly apiAppId: string | null;
    /** The permission's name (from the catalog, or as the program names it); null when only its id is known. */
    readonly permission: string | null;
    /** The permission's id; null when only its name is known (delegated grants list names). */
    readonly id: string | null;
    /** Whether the offline Microsoft Graph catalog knows it. */
    readonly inCatalog: boolean;
    /**
     * Privilege tier (0 = a path to Global Administrator): of a Microsoft Graph application permission, and of a
     * delegated permission by its name (tier 0 or untiered: infra/model/privilege.ts); null otherwise.
     */
    readonly tier: Tier;
    /**
     * True for an application permission of tier 0 or 1 being added, and for a tier-0 delegated permission being
     * requested, or granted for every user of the tenant.
     */
    readonly escalation: boolean;
    /** Whether the app registration's requested permissions (requiredResourceAccess) change. */
    readonly requested: boolean;
    /** The admin consent resource that changes: an app role assignment, a delegated grant, or none. */
    readonly consent: "appRoleAssignment" | "delegatedGrant" | null;
    /**
     * Whom a delegated grant consents for: `allUsers` (no userObjectId, or one not known until the update: consent
     * type AllPrincipals), `oneUser`; null when no delegated grant changes.
     */
    readonly grantedTo: "allUsers" | "oneUser" | null;
}

/** What a directory role resource does. */
export type DirectoryRoleKind = "assignment" | "eligibility" | "member";

/**
 * A directory role handed to a principal, or taken away: an azuread DirectoryRoleAssignment, a
 * DirectoryRoleEligibilityScheduleRequest (one activation away from the role) or a DirectoryRoleMember.
 */
export interface DirectoryRoleChange {
    /** The app it belongs to, when it is part of one; null otherwise (usually). */
    readonly app: string | null;
    /** The Pulumi resource's name. */
    readonly resource: string;
    readonly kind: DirectoryRoleKind;
    /** What happens to it. */
    readonly action: Action;
    /** The role as the resource names it (a template id, or an object id); null when not known until the update. */
    readonly roleId: string | null;
    /** The built-in role's name, when `roleId` is a built-in role's template id; null otherwise. */
    readonly role: string | null;
    /** Microsoft labels the role PRIVILEGED. */
    readonly privileged: boolean;
    /** azure-tiering's tier 0: a known path to Global Administrator. */
    readonly tier0: boolean;
    /** Who gets it: a user's, group's or service principal's object id; null when not known until the update. */
    readonly principal: string | null;
    /**
     * True when a role is handed out (not deleted) that is privileged, tier 0, or cannot be recognised (a custom
     * role's or an activated role's object id, or an id not known until the update, can stand for any role).
     */
    readonly escalation: boolean;
}

/** Who may sign in as the app with a federated credential: issuer, subject, audiences (not secret). */
export interface FederatedIdentity {
    /** The external identity provider's issuer URL; null when the preview does not show it. */
    readonly issuer: string | null;
    /** The workload's subject claim, e.g. `repo:contoso/identity:environment:production`. */
    readonly subject: string | null;
    /** The audiences the external token must carry (Entra allows one). */
    readonly audiences: readonly string[] | null;
}

export interface FederatedCredentialChange {
    /** The app it lets sign in; null when unknown. */
    readonly app: string | null;
    /** Its name in Entra (displayName). */
    readonly name: string;
    /** What happens to it. */
    readonly action: Action;
    /** Before the preview; null when created. */
    readonly before: FederatedIdentity | null;
    /** After the preview; null when deleted. */
    readonly after: FederatedIdentity | null;
    /** Which of issuer, subject, audiences change (for an update or replacement). */
    readonly changed: readonly ("issuer" | "subject" | "audiences")[];
}

/** Which slot and generation a Key Vault secret serves, from its tags. */
export interface ServedSlot {
    /** The slot whose value the secret holds (its `slot` tag). */
    readonly slot: 0 | 1 | null;
    /** The generation of that value (its `generation` tag). */
    readonly generation: number | null;
}

export interface KeyVaultSecretChange {
    /** The app whose credential or identity it serves; null when unknown. */
    readonly app: string | null;
    /** The secret's name in the vault. */
    readonly secretName: string;
    /** The vault's name; null when not known until the update (a vault created in this run). */
    readonly vault: string | null;
    /** What happens to the secret. */
    readonly action: Action;
    /** `new` (created), `changes`, `unchanged`, `unknown` (the provider gave no detail), `removed` (deleted). Never the value. */
    readonly value: "new" | "changes" | "unchanged" | "unknown" | "removed";
    /** The credential it serves (its `credential` tag); null for identity secrets (client and tenant ids). */
    readonly credential: string | null;
    /** Slot and generation served before, from the tags; null when created or untagged. */
    readonly servedBefore: ServedSlot | null;
    /** Slot and generation served after; null when deleted or untagged. */
    readonly servedAfter: ServedSlot | null;
}
