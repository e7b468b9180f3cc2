import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import type { StackModel } from "../../infra/model/model";
import { appTag, certificateKeyId, passwordDisplayName, stackTag } from "../../rotation/identifiers";
import { scheduleAt } from "../../rotation/schedule";
import type { CliIo } from "../../cli/io";
import type { Emulator } from "./emulator";
import type { Application } from "./emulator/state";

/** What `pulumi up` at `deployedAt` leaves in a tenant and vault: written into the emulator as Graph and Key Vault would hold it. */
export interface Deployment {
    readonly apps: ReadonlyMap<string, Application>;
    /** Key Vault URL of the stack's vault. */
    readonly vaultUrl: string;
    /** The served value of each rotating credential, by `app/credential` (for tests that break it on purpose). */
    readonly served: ReadonlyMap<string, { keyId: string; value: string }>;
}

export async function deployToEmulator(emulator: Emulator, model: StackModel, deployedAt: Date, options: { owners?: readonly string[]; tenantId?: string } = {}): Promise<Deployment> {
    const vaultName = model.keyVault!.name;
    const tenantId = options.tenantId ?? emulator.tenantId;
    const vaultUrl = await emulator.addVault(vaultName, { tenantId });
    const apps = new Map<string, Application>();
    const served = new Map<string, { keyId: string; value: string }>();
    for (const app of model.apps) {
        const application = emulator.state.addApplication({ tenantId, displayName: app.displayName, owners: options.owners ?? [], tags: [stackTag(model.project, model.stack), appTag(model.project, model.stack, app.name)] });
        apps.set(app.name, application);
        for (const credential of app.credentials) {
            const schedule = scheduleAt(deployedAt, credential.policy, credential.phase);
            for (const slot of [schedule.previous, schedule.served]) {
                const dates = { startDateTime: slot.start, endDateTime: slot.end };
                let keyId: string;
                let value: string;
                if (credential.type === "secret") {
                    const added = emulator.state.addPassword(application, { ...dates, displayName: passwordDisplayName(credential.name, slot.slot, slot.generation) });
                    keyId = added.credential.keyId;
                    value = added.secretText;
                } else {
                    const added = emulator.state.addCertificate(application, { ...dates, subject: credential.name, keyId: certificateKeyId(model.project, model.stack, app.name, credential.name, slot.generation) });
                    keyId = added.credential.keyId;
                    value = added.pem;
                }
                if (slot === schedule.served) {
                    served.set(`${app.name}/${credential.name}`, { keyId, value });
                    emulator.state.setSecret(vaultName, credential.keyVaultSecretName, value, {
                        contentType: credential.type === "secret" ? "text/plain" : "application/x-pem-file",
                        expiresOn: slot.end,
                        notBefore: slot.start,
                        tags: { "managed-by": "entra-rotor", app: app.name, credential: credential.name, clientId: application.appId, tenantId, keyId, slot: String(slot.slot), generation: String(slot.generation), nextRotation: schedule.nextRotation },
                    });
                }
            }
        }
        for (const file of app.certificateFiles) emulator.state.registerCertificate(application, file.info.pem);
        for (const f of app.federatedCredentials) emulator.state.addFederatedCredential(application, { name: f.name, issuer: f.issuer, subject: f.subject, audiences: [f.audience] });
        if (app.credentials.length > 0) {
            emulator.state.setSecret(vaultName, app.identitySecrets.clientId!, application.appId);
            emulator.state.setSecret(vaultName, app.identitySecrets.tenantId!, tenantId);
        }
    }
    return { apps, vaultUrl, served };
}

/** The identity the live commands run as: an app with the Graph permissions a pipeline would have. */
export function operator(
    emulator: Emulator,
    permissions: readonly string[] = ["Application.Read.All", "Policy.Read.All"],
    tenantId: string = emulator.tenantId,
): { credential: ClientSecretCredential; objectId: string; keyId: string; servicePrincipalId: string } {
    const app = emulator.state.addApplication({ tenantId, displayName: "rotor-operator", graphPermissions: permissions });
    const { secretText, credential } = emulator.state.addPassword(app, { lifetimeDays: 365 });
    return {
        keyId: credential.keyId,
        credential: new ClientSecretCredential(tenantId, app.appId, secretText, { ...emulator.credentialOptions, retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } }),
        objectId: app.id,
        servicePrincipalId: emulator.state.servicePrincipalIdOf(app),
    };
}

/**
 * CLI surroundings that point the live commands at the emulator, as a pipeline would with flags or variables,
 * with the emulator setting (ROTOR_ALLOW_LOCAL_ENDPOINTS=1) that lets endpoints on 127.0.0.1 stand in for the cloud's.
 */
export function emulatorIo(emulator: Emulator, deployment: Deployment, credential: TokenCredential, now: Date, out: { stdout: string; stderr: string; requests: Record<string, number> }): CliIo {
    return {
        stdout: (text) => void (out.stdout += text),
        stderr: (text) => void (out.stderr += text),
        cwd: process.cwd(),
        now: () => now,
        env: {
            AZURE_AUTHORITY_HOST: emulator.authorityHost,
            ROTOR_GRAPH_ENDPOINT: emulator.graphEndpoint,
            ROTOR_KEY_VAULT_URL: deployment.vaultUrl,
            ROTOR_MANAGEMENT_ENDPOINT: emulator.managementEndpoint,
            ARM_SUBSCRIPTION_ID: emulator.subscriptionId,
            ROTOR_ALLOW_LOCAL_ENDPOINTS: "1",
        },
        credential: () => credential,
        onRequest: (service) => void (out.requests[service] = (out.requests[service] ?? 0) + 1),
    };
}

/** The custom role docs/pipelines.md asks for: what the program calls on the vault, nothing more. */
export const secretWriterRole = {
    roleName: "entra-rotor Key Vault secret writer",
    actions: ["Microsoft.KeyVault/vaults/secrets/read", "Microsoft.KeyVault/vaults/secrets/write"],
    dataActions: ["Microsoft.KeyVault/vaults/secrets/delete"],
} as const;

/**
 * Gives a deploying identity the custom role on the vault's resource group, as docs/pipelines.md says. At
 * resource-group scope it counts for Resource Manager, and leaves the vault's data plane open as before.
 */
export function grantSecretWriter(emulator: Emulator, principalId: string, resourceGroup = "rg-identity"): void {
    if (!emulator.state.roleDefinition(secretWriterRole.roleName)) emulator.state.addRoleDefinition({ roleName: secretWriterRole.roleName, actions: [...secretWriterRole.actions], dataActions: [...secretWriterRole.dataActions] });
    emulator.state.assignRole(principalId, secretWriterRole.roleName, { resourceGroup });
}
