import { z } from "zod";
import { type ConfigIssue, formatPath, type PathSegment } from "./issues";
import { didYouMean } from "./suggest";

/**
 * The structure of the stack config. Meaning (permission names, tiers, duplicates across entries) is
 * checked in model.ts, on whatever parsed here, so one run reports structural and semantic errors together.
 */

export const appNamePattern = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
export const appNameRule = "3-40 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit";
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A redirect URI for the web platform: https, or http on localhost only (as Entra requires). */
export function redirectUriProblem(uri: string): string | undefined {
    let url: URL;
    try {
        url = new URL(uri);
    } catch {
        return `"${uri}" is not an absolute URI; write it as https://host/path`;
    }
    if (uri.length > 256) return "a redirect URI is at most 256 characters";
    if (uri.includes("*")) return `"${uri}" contains a wildcard, which Entra does not allow for web redirect URIs; list each URI`;
    const localhost = url.hostname === "localhost" || url.hostname === "127.0.0.1";
    if (url.protocol === "https:" || (url.protocol === "http:" && localhost)) return undefined;
    return `"${uri}" must use https (http is allowed for localhost only)`;
}

/**
 * Why Entra would refuse a redirect URI of the mobile and desktop platform (public client): custom schemes are
 * how native apps receive the code (`msal<client id>://auth`, `myapp://callback`), http only for localhost,
 * no wildcard, at most 256 characters ("Redirect URI (reply URL) outline and restrictions", Microsoft Learn).
 */
export function publicClientRedirectUriProblem(uri: string): string | undefined {
    let url: URL;
    try {
        url = new URL(uri);
    } catch {
        return `"${uri}" is not an absolute URI; write it as scheme://host/path, e.g. msal<client id>://auth or http://localhost`;
    }
    if (uri.length > 256) return "a redirect URI is at most 256 characters";
    if (uri.includes("*")) return `"${uri}" contains a wildcard, which Entra does not allow in redirect URIs; list each URI`;
    const localhost = url.hostname === "localhost" || url.hostname === "127.0.0.1";
    if (url.protocol === "http:" && !localhost) return `"${uri}" must not use http except for localhost`;
    return undefined;
}

/** Tags the stack writes itself, which config may not set: the stack's and the app's (rotation/identifiers.ts). */
export const reservedTagPrefix = "entra-rotor:";

export const nonEmpty = (what: string) =>
    z.string({ error: (issue) => (issue.input === undefined ? `required: ${what}` : `must be a string: ${what}`) });

const permissionName = z
    .string({ error: "a permission name must be a string, e.g. Mail.Send" })
    .min(1, { error: "a permission name must not be empty", abort: true })
    .regex(/^\S+$/, { error: "a permission name has no spaces, e.g. Mail.Send" });

export const permissionEntrySchema = z.strictObject({
    api: nonEmpty(`the API, "Microsoft Graph" or the API's appId`).min(1, { error: `name the API, "Microsoft Graph" or the API's appId` }),
    application: z.array(permissionName, { error: "a list of application permission names, e.g. [Mail.Send]" }).optional(),
    delegated: z.array(permissionName, { error: "a list of delegated permission names, e.g. [Calendars.Read]" }).optional(),
});

export const privilegedEntrySchema = z.strictObject({
    permission: nonEmpty("the tier-0 or tier-1 permission being allowed (application, or delegated and consented for all users), e.g. Application.ReadWrite.OwnedBy").min(1, {
        error: "name the permission being allowed",
    }),
    justification: nonEmpty("why the app needs this permission and what limits its use").trim(),
}).superRefine((entry, context) => {
    // Checked on the entry, not the field, so the message names the permission: rotor import writes an empty
    // justification for each tier-0 permission it finds, and the plan must say which ones await a person.
    if (entry.justification.length < 20) {
        context.addIssue({
            code: "custom",
            path: ["justification"],
            message: `write a justification of at least 20 characters for ${entry.permission}: why the app needs it and what limits its use`,
        });
    }
});

export const appSchema = z.strictObject({
    name: nonEmpty(`a stable name for the app, ${appNameRule}`).regex(appNamePattern, {
        error: `must be ${appNameRule} (it names resources and Key Vault secrets)`,
    }),
    displayName: z
        .string({ error: "must be a string" })
        .trim()
        .min(1, { error: "must not be empty; omit it to use the app's name" })
        .max(256, { error: "is at most 256 characters" })
        .optional(),
    description: z.string({ error: "must be a string" }).max(1024, { error: "is at most 1024 characters" }).optional(),
    notes: z.string({ error: "must be a string" }).max(1024, { error: "is at most 1024 characters" }).optional(),
    signInAudience: z
        .enum(["AzureADMyOrg", "AzureADMultipleOrgs"], {
            error: "must be AzureADMyOrg (single tenant, the default) or AzureADMultipleOrgs",
        })
        .optional(),
    redirectUris: z
        .array(
            z.string({ error: "a redirect URI must be a string" }).superRefine((uri, ctx) => {
                const problem = redirectUriProblem(uri);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            }),
            { error: "a list of https redirect URIs (web platform)" },
        )
        .max(256, { error: "Entra allows at most 256 redirect URIs" })
        .optional(),
    spaRedirectUris: z
        .array(
            z.string({ error: "a redirect URI must be a string" }).superRefine((uri, ctx) => {
                const problem = redirectUriProblem(uri);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            }),
            { error: "a list of https redirect URIs (single-page application platform)" },
        )
        .max(256, { error: "Entra allows at most 256 redirect URIs" })
        .optional(),
    publicClientRedirectUris: z
        .array(
            z.string({ error: "a redirect URI must be a string" }).superRefine((uri, ctx) => {
                const problem = publicClientRedirectUriProblem(uri);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            }),
            { error: "a list of redirect URIs of the mobile and desktop platform, e.g. msal<client id>://auth" },
        )
        .max(256, { error: "Entra allows at most 256 redirect URIs" })
        .optional(),
    tags: z
        .array(
            z
                .string({ error: "a tag must be a string" })
                .min(1, { error: "a tag must not be empty" })
                .max(256, { error: "a tag is at most 256 characters" })
                .refine((tag) => !tag.toLowerCase().startsWith(reservedTagPrefix), { error: `tags starting with "${reservedTagPrefix}" are the stack's own: remove it` }),
            { error: "a list of tags of the application (strings), besides the stack's own" },
        )
        .max(50, { error: "at most 50 tags besides the stack's own" })
        .optional(),
    /**
     * Credentials the application already has, made outside the stack (the portal): listed, never changed by
     * the program; `retire: true` lets `rotor retire` remove one once nobody uses it.
     */
    existing: z.array(z.unknown(), { error: "a list of existing credentials, each {keyId, kind, displayName, expires, retire}" }).optional(),
    owners: z
        .array(z.string({ error: "must be a string" }).regex(guidPattern, { error: "an owner is the object id (a GUID) of a user or service principal" }), {
            error: "a list of owner object ids (GUIDs)",
        })
        .optional(),
    /** Take over an app registration made elsewhere (the portal): its object ids, imported on the next up. */
    adopt: z
        .strictObject(
            {
                application: nonEmpty("the application's object id (a GUID), from the Entra admin center's Overview").regex(guidPattern, { error: "the application's object id, a GUID (not its client id)" }),
                servicePrincipal: nonEmpty("the service principal's object id (a GUID), under Enterprise applications").regex(guidPattern, { error: "the service principal's object id, a GUID" }),
                /** Admin consent granted in the portal, imported instead of granted again (Entra refuses a second identical assignment). */
                appRoleAssignments: z
                    .array(
                        z.strictObject({
                            api: nonEmpty(`the API, as in permissions`).min(1, { error: "name the API, as in permissions" }),
                            permission: nonEmpty("the application permission the assignment grants").min(1, { error: "name the permission" }),
                            id: nonEmpty("the app role assignment's id").regex(/^[A-Za-z0-9_-]{10,64}$/, { error: "the app role assignment's id, as Graph gives it" }),
                            resource: nonEmpty("the object id of the API's service principal (the assignment's resourceId)").regex(guidPattern, { error: "the resource service principal's object id, a GUID" }),
                        }),
                        { error: "a list of {api, permission, id, resource}: the app role assignments to import" },
                    )
                    .optional(),
                delegatedGrants: z
                    .array(
                        z.strictObject({
                            api: nonEmpty(`the API, as in permissions`).min(1, { error: "name the API, as in permissions" }),
                            id: nonEmpty("the delegated permission grant's id").regex(/^[A-Za-z0-9_-]{10,64}$/, { error: "the delegated permission grant's id (oauth2PermissionGrant), as Graph gives it" }),
                        }),
                        { error: "a list of {api, id}: the tenant-wide delegated permission grants to import" },
                    )
                    .optional(),
                /** Federated credentials Entra holds (Entra refuses a second one of the same name or issuer and subject). */
                federatedCredentials: z
                    .array(
                        z.strictObject({
                            name: nonEmpty("the federated credential's name, as under credentials").min(1, { error: "name the credential, as under credentials" }),
                            id: nonEmpty("the federated credential's id (a GUID), as Graph lists it").regex(guidPattern, { error: "the federated credential's id, a GUID" }),
                        }),
                        { error: "a list of {name, id}: the federated credentials to import" },
                    )
                    .optional(),
                /** The order Entra holds an API's requested permissions in, when it is not application then delegated. */
                permissionOrder: z
                    .array(
                        z.strictObject({
                            api: nonEmpty(`the API, as in permissions`).min(1, { error: "name the API, as in permissions" }),
                            order: z.array(
                                z.string({ error: "application:<name> or delegated:<name>" }).regex(/^(application|delegated):\S+$/, { error: "application:<name> or delegated:<name>, e.g. delegated:User.Read" }),
                                { error: "every permission the app requests on the API, once each, as application:<name> or delegated:<name>" },
                            ),
                        }),
                        { error: "a list of {api, order}: the order Entra holds each API's permissions in" },
                    )
                    .optional(),
            },
            { error: "{application, servicePrincipal}: the object ids of the app registration and its service principal to take over" },
        )
        .optional(),
    permissions: z.array(permissionEntrySchema, { error: "a list of {api, application, delegated} entries" }).optional(),
    allowPrivileged: z
        .array(privilegedEntrySchema, { error: "a list of {permission, justification} entries" })
        .optional(),
    // Each entry is parsed by its type in credentials.ts, so its errors name the type's own keys.
    credentials: z.array(z.unknown(), { error: "a list of credentials, each with a name and a type" }).optional(),
});

/** One credential the application had before the stack: what `rotor import` wrote down, and whether to retire it. */
export const existingCredentialSchema = z.strictObject({
    keyId: nonEmpty("the credential's key id (a GUID), as Graph lists it under passwordCredentials or keyCredentials").regex(guidPattern, { error: "the key id, a GUID" }),
    kind: z.enum(["secret", "certificate"], { error: "secret (a client secret) or certificate" }),
    displayName: z.string({ error: "must be a string, or null" }).max(256, { error: "is at most 256 characters" }).nullable().optional(),
    expires: nonEmpty("when it expires, ISO-8601 (endDateTime in Graph)").refine((value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)), {
        error: "an ISO-8601 instant with its zone, e.g. 2027-05-01T00:00:00Z",
    }),
    retire: z.boolean({ error: "true to have rotor retire remove it once nobody uses it, false (the default) to keep it" }).optional(),
});

export type RawApp = z.infer<typeof appSchema>;
export type RawPermissionEntry = z.infer<typeof permissionEntrySchema>;
export type RawPrivilegedEntry = z.infer<typeof privilegedEntrySchema>;

/**
 * The entries of a list that parse on their own, by index (undefined where an entry is invalid), so that
 * a broken field elsewhere in an app does not hide the errors of its valid entries.
 */
export function parseEntries<T>(schema: z.ZodType<T>, list: unknown): (T | undefined)[] {
    if (!Array.isArray(list)) return [];
    return list.map((item) => {
        const result = schema.safeParse(item);
        return result.success ? result.data : undefined;
    });
}

/** The keys the object schema at `path` accepts, found by walking the schema, for "did you mean" on unknown keys. */
function keysAt(schema: z.ZodType, path: readonly PathSegment[]): readonly string[] {
    let current: z.ZodType = schema;
    for (let i = 0; ; i++) {
        while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
        if (i === path.length) break;
        if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(path[i])] ?? current;
        else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
        else break;
    }
    return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/**
 * What a value is, never what it holds: in the program, `secure:` config is decrypted before it is checked,
 * so a secret set under the wrong key would otherwise be printed in the error.
 */
export function describe(input: unknown): string {
    if (input === null) return "null";
    if (Array.isArray(input)) return "a list";
    if (typeof input === "object") return "a mapping";
    if (typeof input === "string") return input === "" ? "an empty string" : "a string";
    if (typeof input === "number") return Number.isInteger(input) ? "a whole number" : "a number";
    if (typeof input === "boolean") return "true or false";
    return `a ${typeof input}`;
}

/** Turns zod's issues into config issues with paths and fixes. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[], schema: z.ZodType): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    for (const issue of issues) {
        const path = [...prefix, ...(issue.path as PathSegment[])];
        if (issue.code === "unrecognized_keys") {
            const known = keysAt(schema, issue.path as PathSegment[]);
            for (const key of issue.keys) {
                out.push({
                    path: formatPath([...path, key]),
                    message: `unknown key "${key}"${didYouMean(key, known)}; allowed keys: ${known.join(", ")}`,
                    severity: "error",
                });
            }
            continue;
        }
        out.push({ path: formatPath(path), message: issue.message, severity: "error" });
    }
    return out;
}

/** Messages for what the schema's own messages do not cover. */
export const fallbackErrors: z.core.$ZodErrorMap = (issue) => {
    if (issue.code === "invalid_type") {
        if (issue.input === undefined) return "required";
        return `expected ${issue.expected === "object" ? "a mapping" : issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${describe(issue.input)}`;
    }
    return undefined;
};

export function parseWith<T>(schema: z.ZodType<T>, input: unknown, prefix: readonly PathSegment[]): { value?: T; issues: ConfigIssue[] } {
    const result = schema.safeParse(input, { error: fallbackErrors });
    if (result.success) return { value: result.data, issues: [] };
    return { issues: toConfigIssues(result.error.issues, prefix, schema) };
}
