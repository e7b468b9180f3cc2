import type { TokenCredential } from "@azure/core-auth";
import type { StackModel } from "../../infra/model/model";
import { type EndpointOverrides, identityOptions as identityOptionsFor, type ResolvedEndpoints, resolveEndpoints, vaultUrl } from "../../azure/endpoints";
import type { Progress } from "./progress";
import { defaultCredential, type SignInAnswer, type SignInObserver, signIn, signInObserver } from "./signIn";

/**
 * What the live commands (status, verify, doctor) need from their surroundings: the environment, how to
 * sign in, and where progress goes. The CLI builds it from the process; tests point it at the emulator.
 */
export interface LiveIo {
    readonly env: Readonly<Record<string, string | undefined>>;
    /**
     * The identity the commands read the tenant and the vault as, in `tenantId` when the stack or the flags
     * name one; by default the chain of signIn.ts. A credential of @azure/identity made here should take
     * `observed` into its options: then a failed sign-in says what the sign-in service answered.
     */
    readonly credential?: (endpoints: ResolvedEndpoints, tenantId?: string, observed?: SignInObserver["credentialOptions"]) => TokenCredential;
    readonly progress?: () => Progress;
    /** Called once per HTTP request to Graph or Key Vault; tests and benchmarks count them. */
    readonly onRequest?: (service: "graph" | "keyVault" | "arm") => void;
}

export interface LiveFlags extends EndpointOverrides {
    readonly tenant?: string;
}

export interface LiveContext {
    readonly endpoints: ResolvedEndpoints;
    readonly credential: TokenCredential;
    /** Options for @azure/identity credentials made by the commands: the authority, and no instance discovery off the public cloud. */
    readonly identityOptions: ReturnType<typeof identityOptionsFor>;
    readonly vaultUrl?: string;
    /** The tenant signed in to: the stack's `azuread:tenantId`, else `--tenant` or AZURE_TENANT_ID; undefined for the credential's own. */
    readonly tenantId?: string;
    /** What the sign-in service last answered with an error, when the credential was observed (signIn.ts). */
    readonly signInAnswer: () => SignInAnswer | undefined;
}

/**
 * Endpoints, then a credential that has signed in: a first token is acquired here, within a deadline, so a
 * command that cannot sign in says how to in one line (exit 1) before it reads anything.
 */
export async function liveContext(model: StackModel, flags: LiveFlags, io: LiveIo): Promise<LiveContext> {
    const endpoints = resolveEndpoints(flags, io.env);
    const identityOptions = identityOptionsFor(endpoints);
    const tenantId = tenantOf(model, flags, io.env);
    const observer = signInObserver();
    const credential = io.credential ? io.credential(endpoints, tenantId, observer.credentialOptions) : await defaultCredential(io.env, { ...identityOptions, ...(tenantId ? { tenantId } : {}) }, observer);
    await signIn(credential, endpoints.graphScope, undefined, { authorityHost: endpoints.authorityHost, ...(tenantId ? { tenantId } : {}), answer: observer.last });
    return {
        endpoints,
        credential,
        identityOptions,
        signInAnswer: observer.last,
        ...(tenantId ? { tenantId } : {}),
        ...(model.keyVault ? { vaultUrl: vaultUrl(endpoints, model.keyVault.name) } : {}),
    };
}

/** A flag that contradicts the stack; named as main.ts names usage errors (it points to --help). */
class UsageError extends Error {
    override readonly name = "UsageError";
}

/**
 * The tenant to read: a stack that names its tenant (`azuread:tenantId`, the provider's own key) is read
 * there, so one run over several stacks signs in to each stack's tenant; `--tenant` must then agree.
 */
export function tenantOf(model: StackModel, flags: LiveFlags, env: Readonly<Record<string, string | undefined>>): string | undefined {
    if (model.tenantId !== undefined) {
        if (flags.tenant !== undefined && flags.tenant.toLowerCase() !== model.tenantId) {
            throw new UsageError(`--tenant ${flags.tenant} is not the stack's tenant (azuread:tenantId ${model.tenantId}): leave --tenant out`);
        }
        return model.tenantId;
    }
    return flags.tenant ?? (env["AZURE_TENANT_ID"] || undefined);
}

/** The live part of the CLI's surroundings; the environment is empty unless given. */
export function liveIo(io: Partial<LiveIo>): LiveIo {
    return {
        env: io.env ?? {},
        ...(io.credential ? { credential: io.credential } : {}),
        ...(io.progress ? { progress: io.progress } : {}),
        ...(io.onRequest ? { onRequest: io.onRequest } : {}),
    };
}
