import type { StackModel } from "../../infra/model/model";
import { ArmClient } from "../../azure/arm";
import { assessDoctor, type DoctorReport } from "./doctor";
import { collectDoctorFacts } from "./doctorFacts";
import { collectLiveState } from "./collect";
import { GraphClient } from "../../azure/graph";
import { vaultClient } from "../../azure/keyVault";
import { silentProgress } from "./progress";
import { type LiveContext, type LiveFlags, type LiveIo, liveContext } from "./context";
import { describeServiceFailure } from "./serviceErrors";
import { assessStatus, type StatusReport } from "./status";
import { applyUsage } from "./usage";
import { probeUsageEvidence, readUsageEvidence, usageTargets } from "./usageEvidence";
import { entraProbe } from "../../azure/probe";
import { type VerifyReport, vaultReader, verifyServed } from "./verify";

/** The live commands, from a model and flags to a report; the CLI renders it and exits with its code. */

/** Runs a command's reads, turning a service's failure into one that names the service and the next step. */
async function reading<T>(context: LiveContext, work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (error) {
        throw (
            describeServiceFailure(error, {
                graph: context.endpoints.graph,
                authorityHost: context.endpoints.authorityHost,
                management: context.endpoints.management,
                ...(context.vaultUrl ? { vaultUrl: context.vaultUrl } : {}),
                ...(context.tenantId ? { tenantId: context.tenantId } : {}),
                signInAnswer: context.signInAnswer,
            }) ?? error
        );
    }
}

export async function statusReport(model: StackModel, flags: LiveFlags & { within?: number; allApps?: boolean; usage?: boolean; usedWithin?: number }, io: LiveIo, now: Date): Promise<StatusReport> {
    const context = await liveContext(model, flags, io);
    const graph = new GraphClient(context.endpoints.graph, context.credential, context.endpoints.graphScope, { onRequest: () => io.onRequest?.("graph") });
    const vault = context.vaultUrl
        ? vaultClient(context.vaultUrl, context.credential, { onRequest: () => io.onRequest?.("keyVault"), scope: context.endpoints.keyVaultScope })
        : undefined;
    const live = await reading(context, () => collectLiveState(model, graph, vault, { allApps: flags.allApps ?? false, progress: io.progress?.() ?? silentProgress }));
    const report = assessStatus(model, live, now, flags.within !== undefined ? { withinDays: flags.within } : {});
    if (!flags.usage) return report;
    // Usage evidence never fails the command: what cannot be read becomes a note (live/usage.ts).
    const usedWithinDays = flags.usedWithin ?? 7;
    const evidence = await readUsageEvidence(graph, usageTargets(live), { cloud: context.endpoints.cloud, now, usedWithinDays, progress: io.progress?.() ?? silentProgress });
    return applyUsage(model, report, live, evidence, now, { usedWithinDays, withinDays: flags.within ?? 30 });
}

export async function verifyReport(model: StackModel, flags: LiveFlags & { app?: string }, io: LiveIo, now: Date): Promise<VerifyReport> {
    const context = await liveContext(model, flags, io);
    if (!context.vaultUrl) throw new Error("the stack has no keyVault: there is nothing served to verify");
    const vault = vaultClient(context.vaultUrl, context.credential, { onRequest: () => io.onRequest?.("keyVault"), scope: context.endpoints.keyVaultScope });
    const probe = entraProbe({ ...context.identityOptions, scope: context.endpoints.graphScope });
    return reading(context, () => verifyServed(model, vaultReader(vault), probe, { ...(flags.app ? { app: flags.app } : {}), now }));
}

export async function doctorReport(model: StackModel, flags: LiveFlags & { subscription?: string }, io: LiveIo): Promise<DoctorReport> {
    const context = await liveContext(model, flags, io);
    const subscriptionId = flags.subscription ?? (io.env["ARM_SUBSCRIPTION_ID"] || io.env["AZURE_SUBSCRIPTION_ID"] || undefined);
    const arm = { client: new ArmClient(context.endpoints.management, context.credential, context.endpoints.managementScope, { onRequest: () => io.onRequest?.("arm") }), subscriptionId };
    const graph = new GraphClient(context.endpoints.graph, context.credential, context.endpoints.graphScope, { onRequest: () => io.onRequest?.("graph") });
    const vault = context.vaultUrl
        ? { url: context.vaultUrl, client: vaultClient(context.vaultUrl, context.credential, { maxRetries: 2, onRequest: () => io.onRequest?.("keyVault"), scope: context.endpoints.keyVaultScope }) }
        : undefined;
    const [facts, usage] = await reading(context, () =>
        Promise.all([collectDoctorFacts(model, graph, context.endpoints.graphScope, context.credential, vault, arm), probeUsageEvidence(graph, context.endpoints.cloud)]),
    );
    return assessDoctor(model, facts.signedIn ? { ...facts, usage } : facts);
}
