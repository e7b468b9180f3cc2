import { performance } from "node:perf_hooks";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Outcomes } from "../infra/outcomes";
import { defaultAppsInFlight } from "../infra/program";
import { mockKey } from "../test/support/mockCertificates";
import { ProviderMocks, settle, types } from "../test/support/pulumiMocks";
import { report } from "./measure";
import { benchProject, benchStack } from "./stacks";

/**
 * The floors the program under mocks is compared with, in a process of its own like the program: the same
 * number of resources registered under the same mocks, with none of the program (no model, no components
 * wiring outputs into inputs, no proofs), in the same window of apps in flight.
 *
 * - `typed`: per app, the same resources of the same provider types (the SDK classes the program uses),
 *   each with constant inputs. What any program registering these resources pays.
 * - `plain`: per app, as many plain `pulumi.CustomResource`s with one input. What registering that many
 *   resources costs at the least; the SDK makes an output, with its promises, per declared property, so
 *   the provider classes (an azuread Application declares 70) cost several times a plain resource.
 *
 * Usage: node --require tsx/cjs bench/floorChild.ts <typed|plain> <apps> <per-app types as JSON>
 */

type Make = (name: string) => pulumi.Resource;

/** A component with no children: the program's components, as resources of their own. */
class Group extends pulumi.ComponentResource {}

/** The least a custom resource can be: one input, no declared outputs. */
class Plain extends pulumi.CustomResource {}

/** A resource of each type the program registers, with inputs the mocks accept. */
function typedMakers(): Record<string, Make> {
    const key = mockKey("bench-floor").pkcs1;
    return {
        [types.application]: (name) => new azuread.Application(name, { displayName: name }),
        [types.servicePrincipal]: (name) => new azuread.ServicePrincipal(name, { clientId: "00000000-0000-0000-0000-000000000001" }),
        [types.appRoleAssignment]: (name) => new azuread.AppRoleAssignment(name, { appRoleId: "r", principalObjectId: "p", resourceObjectId: "o" }),
        [types.delegatedGrant]: (name) => new azuread.ServicePrincipalDelegatedPermissionGrant(name, { servicePrincipalObjectId: "s", resourceServicePrincipalObjectId: "r", claimValues: ["User.Read"] }),
        [types.applicationPassword]: (name) => new azuread.ApplicationPassword(name, { applicationId: "/applications/x" }),
        [types.privateKey]: (name) => new tls.PrivateKey(name, { algorithm: "RSA" }),
        [types.selfSignedCert]: (name) => new tls.SelfSignedCert(name, { privateKeyPem: key, validityPeriodHours: 24, allowedUses: ["digital_signature"] }),
        [types.applicationCertificate]: (name) => new azuread.ApplicationCertificate(name, { applicationId: "/applications/x", value: "x" }),
        [types.keyVaultSecret]: (name) => new keyvault.Secret(name, { resourceGroupName: "rg", vaultName: "kv", secretName: name, properties: { value: "v" } }),
        [types.federatedIdentityCredential]: (name) =>
            new azuread.ApplicationFederatedIdentityCredential(name, { applicationId: "/applications/x", displayName: name, issuer: "https://i", subject: "s", audiences: ["a"] }),
        [types.keyVault]: (name) => new keyvault.Vault(name, { resourceGroupName: "rg", vaultName: name, properties: { tenantId: "t", sku: { family: "A", name: "standard" } } }),
    };
}

async function main(): Promise<void> {
    const [mode, appsArg, perAppJson] = process.argv.slice(2);
    if ((mode !== "typed" && mode !== "plain") || !appsArg || !perAppJson) throw new Error("usage: floorChild.ts <typed|plain> <apps> <per-app types as JSON>");
    const apps = Number(appsArg);
    const perApp = JSON.parse(perAppJson) as Record<string, number>;
    const mocks = new ProviderMocks();
    await pulumi.runtime.setMocks(mocks, benchProject, benchStack, false);
    const makers = typedMakers();
    const make = (type: string, name: string): pulumi.Resource => {
        if (mode === "plain") return new Plain("bench:index:Plain", name, { value: name });
        const maker = makers[type];
        return maker ? maker(name) : new Group(type, name);
    };

    const started = performance.now();
    const pending = new Set<Promise<void>>();
    for (let app = 0; app < apps; app++) {
        while (pending.size >= defaultAppsInFlight) await Promise.race(pending);
        // Waited on as the program waits on its resources, each settled by its registration.
        const outcomes = new Outcomes();
        for (const [type, count] of Object.entries(perApp)) {
            for (let i = 0; i < count; i++) {
                const name = `a${app}-${type.replace(/\W+/g, "-")}-${i}`;
                outcomes.resource(make(type, name), `a${app}`, name);
            }
        }
        const done: Promise<void> = outcomes.settled().then(() => void pending.delete(done));
        pending.add(done);
    }
    await Promise.all(pending);
    await settle();
    report({ mode, apps, evaluationMs: performance.now() - started, resources: mocks.resources.length });
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
    });
}
