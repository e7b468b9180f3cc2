import { describe, expect, it, vi } from "vitest";
import { mapConcurrent } from "../cli/live/concurrency";
import { EndpointError, resolveEndpoints, vaultUrl } from "../azure/endpoints";
import { terminalProgress } from "../cli/live/progress";
import { explainEntraError } from "../azure/entraErrors";
import { GraphError } from "../azure/graph";
import { describeServiceFailure } from "../cli/live/serviceErrors";

describe("endpoints", () => {
    it("default to public Azure, follow --cloud, and let flags win over variables", () => {
        expect(resolveEndpoints({}, {})).toMatchObject({ cloud: "AzureCloud", authorityHost: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com", graphScope: "https://graph.microsoft.com/.default" });
        const gov = resolveEndpoints({ cloud: "usgov" }, {});
        expect(gov).toMatchObject({ cloud: "AzureUSGovernment", authorityHost: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us" });
        expect(vaultUrl(gov, "kv-contoso")).toBe("https://kv-contoso.vault.usgovcloudapi.net");
        expect(resolveEndpoints({}, { ROTOR_CLOUD: "AzureChinaCloud" }).graph).toBe("https://microsoftgraph.chinacloudapi.cn");
        const overridden = resolveEndpoints({ graphEndpoint: "https://127.0.0.1:9443/graph/" }, { ROTOR_GRAPH_ENDPOINT: "https://ignored", ROTOR_KEY_VAULT_URL: "https://127.0.0.1:8443", ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" });
        expect(overridden).toMatchObject({ graph: "https://127.0.0.1:9443/graph", graphScope: "https://graph.microsoft.com/.default", keyVaultUrl: "https://127.0.0.1:8443" });
        expect(vaultUrl(overridden, "kv-contoso")).toBe("https://127.0.0.1:8443");
    });

    it("refuses unknown clouds and non-https endpoints, naming the flag and variable", () => {
        expect(() => resolveEndpoints({ cloud: "mars" }, {})).toThrow(new EndpointError('unknown cloud "mars"; use AzureCloud, AzureUSGovernment or AzureChinaCloud'));
        expect(() => resolveEndpoints({}, { AZURE_AUTHORITY_HOST: "http://login.local" })).toThrow('--authority-host (AZURE_AUTHORITY_HOST): "http://login.local" must use https');
        expect(() => resolveEndpoints({ keyVaultUrl: "not a url" }, {})).toThrow("--key-vault-url (ROTOR_KEY_VAULT_URL)");
    });
});

describe("mapConcurrent", () => {
    it("keeps input order and never runs more than the limit at once", async () => {
        let running = 0;
        let most = 0;
        const out = await mapConcurrent([5, 1, 4, 2, 3, 0], 2, async (n) => {
            most = Math.max(most, ++running);
            await new Promise((resolve) => setTimeout(resolve, n));
            running--;
            return n * 10;
        });
        expect(out).toEqual([50, 10, 40, 20, 30, 0]);
        expect(most).toBe(2);
        expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
    });
});

describe("progress", () => {
    const stream = (isTTY: boolean) => ({ isTTY, write: vi.fn() }) as unknown as NodeJS.WriteStream & { write: ReturnType<typeof vi.fn> };

    it("writes nothing when stderr is not a terminal", () => {
        const s = stream(false);
        const p = terminalProgress(s, 0);
        p.tick("applications", 999);
        p.done();
        expect(s.write).not.toHaveBeenCalled();
    });

    it("shows counts on a terminal once the scan takes longer than the delay, and clears the line", () => {
        vi.useFakeTimers();
        try {
            const s = stream(true);
            const p = terminalProgress(s, 500);
            p.tick("applications", 999);
            expect(s.write).not.toHaveBeenCalled();
            vi.advanceTimersByTime(600);
            p.tick("applications", 999);
            expect(s.write).toHaveBeenLastCalledWith("\r\x1b[K  reading: 1998 applications");
            p.done();
            expect(s.write).toHaveBeenLastCalledWith("\r\x1b[K");
        } finally {
            vi.useRealTimers();
        }
    });
});

describe("Entra errors", () => {
    it("explains known codes and links unknown ones", () => {
        expect(explainEntraError("invalid_client: Error(s): 7000222 - Description: AADSTS7000222: The provided client secret keys for app 'x' are expired.")).toMatchObject({ code: "AADSTS7000222", meaning: "the client secret has expired" });
        expect(explainEntraError("AADSTS99999: new")).toEqual({ code: "AADSTS99999", meaning: "Entra refused the sign-in", fix: "look up AADSTS99999 at https://login.microsoftonline.com/error?code=99999" });
        expect(explainEntraError("ECONNRESET")).toBeUndefined();
    });
});

describe("verifyServed", () => {
    it("reports a credential unavailable when its ids cannot be read, and goes on with the others", async () => {
        const { buildModelOrThrow } = await import("../infra/model/model");
        const { verifyServed } = await import("../cli/live/verify");
        const { sampleStack } = await import("./support/program");
        const input = sampleStack();
        const model = buildModelOrThrow({ ...input, values: { ...input.values, keyVault: { name: "kv-contoso-identity", resourceGroup: "rg-identity", identity: "json" } } }, new Date("2027-03-01T06:00:00Z"));
        const secrets: Record<string, { value: string; tags: Record<string, string> }> = {
            "mail-sender-main": { value: "s3cr3t", tags: {} },
            "mail-sender-identity": { value: "not json", tags: {} },
            "device-inventory-importer": { value: "s3cr3t-2", tags: { clientId: "c", tenantId: "t" } },
        };
        const probed: string[] = [];
        const report = await verifyServed(model, async (name) => secrets[name], async (target) => void probed.push(target.label), { now: new Date("2027-03-01T06:00:00Z") });
        expect(report.rows.map((r) => [r.credential, r.result])).toEqual([["main", "unavailable"], ["importer", "ok"], ["web", "unavailable"]]);
        expect(probed).toEqual(["device-inventory/importer"]);
        expect(report.exitCode).toBe(2);
        expect(JSON.stringify(report)).not.toContain("s3cr3t");
    });
});

describe("service failures in words", () => {
    const endpoints = { graph: "https://graph.microsoft.com", authorityHost: "https://login.microsoftonline.com", vaultUrl: "https://kv-contoso.vault.azure.net" };
    const named = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...extra });

    it("names the service, its answer and the next step", () => {
        expect(describeServiceFailure(new GraphError(403, "Authorization_RequestDenied", "Insufficient privileges"), endpoints)?.message).toBe(
            "Microsoft Graph (https://graph.microsoft.com) answered 403 Authorization_RequestDenied: the signed-in identity needs Application.Read.All (and Policy.Read.All for doctor). Detail: Insufficient privileges",
        );
        const socket = named("RestError", "connect ECONNREFUSED 10.0.0.4:443", { code: "ECONNREFUSED", request: { url: "https://kv-contoso.vault.azure.net/secrets" } });
        expect(describeServiceFailure(socket, endpoints)?.message).toMatch(/^Key Vault \(https:\/\/kv-contoso\.vault\.azure\.net\) could not be reached \(ECONNREFUSED\): check the URL/);
    });

    it("does not call a credential that refuses another tenant unreachable", () => {
        const refused = named("CredentialUnavailableError", "The current credential is not configured to acquire tokens for tenant 6f1a2b3c-0000-0000-0000-000000000001.");
        const message = describeServiceFailure(refused, endpoints)?.message ?? "";
        expect(message).toMatch(/^Microsoft Entra sign-in \(https:\/\/login\.microsoftonline\.com\) gave no token: the signed-in identity may not sign in to this tenant/);
        expect(message).not.toContain("could not be reached");
        const offline = named("AuthenticationError", "getaddrinfo ENOTFOUND login.microsoftonline.com");
        expect(describeServiceFailure(offline, endpoints)?.message).toContain("could not be reached");
    });
});
