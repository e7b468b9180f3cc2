import type { FaultController } from "./faults";
import type { EmulatorRequest } from "./http";
import type { RequestLog } from "./requestLog";
import type { EmulatorState } from "./state";
import type { TokenService } from "./token";

/** What every emulated service can reach: the shared state, the switches, and where the others live. */
export interface EmulatorEnvironment {
    readonly state: EmulatorState;
    readonly faults: FaultController;
    readonly tokens: TokenService;
    /** Services that answer several requests in one (Graph $batch) log the inner ones here. */
    readonly requests: RequestLog;
    /** e.g. `https://127.0.0.1:40123`, the `authorityHost` for @azure/identity. */
    readonly authorityHost: string;
    /** e.g. `https://127.0.0.1:40124`; paths below it are Graph's (`/v1.0/applications`). */
    readonly graphEndpoint: string;
    /** e.g. `https://127.0.0.1:40125`, Azure Resource Manager's stand-in for `https://management.azure.com`. */
    readonly managementEndpoint: string;
    keyVaultUrl(vaultName: string): string;
    /** Graph answers 403 unless the token's roles include a permission the endpoint accepts. */
    readonly graphPermissionsEnforced: boolean;
}

export interface HandlerContext {
    readonly env: EmulatorEnvironment;
    readonly request: EmulatorRequest;
}
