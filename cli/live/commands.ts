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
import { applyHandoffEvidence, assessStatus, type StatusReport } from "./status";
import { applyUsage, retireUsedWithinDays } from "./usage";
import { probeUsageEvidence, readUsageEvidence, usageTargets } from "./usageEvidence";
import { entraProbe } from "../../azure/probe";
import { type VerifyReport, vaultReader, verifyServed } from "./verify";
import { GraphError } from "../../azure/graph";
import { decideRetirements, markedForRetirement, removeKeyProof, type RetireReport, type RetireRow, retireReport } from "./retire";

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
    // applyUsage decides the rows' exit code; the hand-offs' evidence (picked up or not) adds theirs.
    return applyHandoffEvidence(model, applyUsage(model, report, live, evidence, now, { usedWithinDays, withinDays: flags.within ?? 30 }), live, evidence, now, usedWithinDays);
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

/**
 * `rotor retire`: the credentials the stack marks `retire: true`, held against the live state and Entra's
 * sign-in evidence (live/retire.ts decides), and with `yes` removed one by one: a secret with removePassword, a
 * certificate with removeKey and a proof signed by the certificate Key Vault serves for the app (read here,
 * used for the signature, never printed). Nothing marked: nothing is read, not even a sign-in. One removal that
 * Graph refuses is that credential's row; the others still run.
 */
export async function retireCommand(model: StackModel, flags: LiveFlags & { usedWithin?: number; yes?: boolean; force?: boolean }, io: LiveIo, now: Date): Promise<RetireReport> {
    const options = { usedWithinDays: flags.usedWithin ?? retireUsedWithinDays, force: flags.force ?? false, dryRun: !flags.yes };
    if (markedForRetirement(model).length === 0) return retireReport(model, [], null, now, options);
    const context = await liveContext(model, flags, io);
    const graph = new GraphClient(context.endpoints.graph, context.credential, context.endpoints.graphScope, { onRequest: () => io.onRequest?.("graph") });
    const vault = context.vaultUrl
        ? vaultClient(context.vaultUrl, context.credential, { onRequest: () => io.onRequest?.("keyVault"), scope: context.endpoints.keyVaultScope })
        : undefined;
    const live = await reading(context, () => collectLiveState(model, graph, vault, { progress: io.progress?.() ?? silentProgress }));
    // Evidence for the applications that have something marked, and only them.
    const marked = new Set(markedForRetirement(model).flatMap(({ app }) => (live.apps.get(app.name) ? [live.apps.get(app.name)!.application.appId] : [])));
    const targets = usageTargets(live).filter((t) => marked.has(t.appId));
    const evidence = await readUsageEvidence(graph, targets, { cloud: context.endpoints.cloud, now, usedWithinDays: options.usedWithinDays, progress: io.progress?.() ?? silentProgress });
    const read = vault ? vaultReader(vault) : undefined;
    const rows: RetireRow[] = [];
    for (const decision of decideRetirements(model, live, evidence, now, options)) {
        if (!decision.remove) {
            rows.push(decision.row);
            continue;
        }
        let proof: string | undefined;
        if (decision.row.kind === "certificate") {
            const problems: string[] = [];
            for (const signer of decision.signers) {
                let served: Awaited<ReturnType<NonNullable<typeof read>>>;
                try {
                    served = read ? await read(signer.keyVaultSecretName) : undefined;
                } catch (error) {
                    // One credential's problem: the identity may list secrets but not read values (Key Vault Secrets User).
                    const status = (error as { statusCode?: number }).statusCode;
                    problems.push(`${signer.credential}: Key Vault refused to read ${signer.keyVaultSecretName}${status ? ` (${status})` : ""}; signing the proof needs Key Vault Secrets User on the vault`);
                    continue;
                }
                const made = served && !("disabled" in served) ? removeKeyProof(decision.objectId!, served.value, signer.key, now) : { problem: `Key Vault serves no readable ${signer.keyVaultSecretName}` };
                if ("proof" in made) {
                    proof = made.proof;
                    break;
                }
                problems.push(`${signer.credential}: ${made.problem}`);
            }
            if (proof === undefined) {
                rows.push({ ...decision.row, outcome: "no-proof", message: `no proof for Graph's removeKey could be signed (${problems.join("; ")}): kept; remove it in the Entra admin center` });
                continue;
            }
        }
        if (!flags.yes) {
            rows.push(decision.row);
            continue;
        }
        rows.push(await removeOne(graph, decision.objectId!, decision.row, proof));
    }
    return retireReport(model, rows, evidence, now, options);
}

/**
 * Removes one credential. A failed request may still have removed it (the pipeline retries a 500 or a dropped
 * connection, and Graph may have acted on the first attempt): the application is read again to tell.
 */
async function removeOne(graph: GraphClient, objectId: string, row: RetireRow, proof: string | undefined): Promise<RetireRow> {
    try {
        if (proof === undefined) await graph.removePassword(objectId, row.keyId);
        else await graph.removeKey(objectId, row.keyId, proof);
        return { ...row, outcome: "removed", message: `removed: ${row.message}` };
    } catch (error) {
        const answer = error instanceof GraphError ? `${error.status} ${error.code}: ${error.message.replace(/^Microsoft Graph answered \d+ \S+: /, "")}` : error instanceof Error ? error.message : String(error);
        const after = await graph.application(objectId).catch(() => undefined);
        const still = after ? [...after.passwordCredentials, ...after.keyCredentials].some((c) => c.keyId.toLowerCase() === row.keyId) : true;
        if (!still) return { ...row, outcome: "removed", message: `removed (Graph answered ${answer}, and the application no longer has it): ${row.message}` };
        return { ...row, outcome: "failed", message: `Graph refused the removal (${answer}): kept` };
    }
}
