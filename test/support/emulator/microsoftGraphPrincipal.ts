import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The Microsoft Graph service principal as a real tenant returns it (test/fixtures/graph-service-principal.json),
 * so that app role assignments carry Graph's real appRoleIds and `rotor doctor` can map them back to
 * permission names the way it would against Azure: through the resource's appRoles.
 */

export const microsoftGraphAppId = "00000003-0000-0000-c000-000000000000";
export const keyVaultResource = "https://vault.azure.net";
export const graphResource = "https://graph.microsoft.com";

export interface AppRole {
    readonly id: string;
    readonly value: string;
    readonly displayName: string;
    readonly allowedMemberTypes: readonly string[];
}

export interface GraphServicePrincipalDocument {
    readonly id: string;
    readonly appId: string;
    readonly displayName: string;
    readonly appRoles: readonly AppRole[];
    readonly [property: string]: unknown;
}

let cached: GraphServicePrincipalDocument | undefined;

export function microsoftGraphServicePrincipal(): GraphServicePrincipalDocument {
    if (!cached) {
        const file = path.join(__dirname, "..", "..", "fixtures", "graph-service-principal.json");
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { value: GraphServicePrincipalDocument[] };
        const principal = parsed.value[0];
        if (!principal || principal.appId !== microsoftGraphAppId) throw new Error(`${file} does not hold the Microsoft Graph service principal`);
        cached = principal;
    }
    return cached;
}

/** The id of a Graph application permission (app role), e.g. `Application.Read.All`. */
export function graphApplicationPermission(value: string): AppRole {
    const role = microsoftGraphServicePrincipal().appRoles.find((r) => r.value === value && r.allowedMemberTypes.includes("Application"));
    if (!role) throw new Error(`"${value}" is not a Microsoft Graph application permission (see test/fixtures/graph-service-principal.json)`);
    return role;
}
