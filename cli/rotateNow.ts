import * as fs from "node:fs";
import * as path from "node:path";
import type { UpOptions } from "@pulumi/pulumi/automation";
import type { StackModel } from "../infra/model/model";
import { scheduleAt } from "../rotation/schedule";
import { type CliIo, exitCodes } from "./io";
import { loadStackModel } from "./stackModel";

/**
 * `rotor rotate-now`: the emergency rotation of a leaked credential. The served slot's resources are
 * replaced at once (`pulumi up --replace <urn>`); the same generation gets a new value, proven and
 * written to Key Vault by the usual gate. The other slot keeps the previous generation, valid until its
 * turn, unless it is revoked too, which leaves consumers that still hold it nothing that works.
 */

export interface RotateNowPlan {
    readonly stack: string;
    readonly app: string;
    readonly credential: string;
    readonly type: "secret" | "certificate";
    readonly servedSlot: 0 | 1;
    readonly otherSlot: 0 | 1;
    /** The resources to replace, as the Pulumi engine names them. */
    readonly urns: readonly string[];
    /** The command that does it, for a person to run or a pipeline to log. */
    readonly command: string;
    readonly revokePrevious: boolean;
    /** What happens to consumers, in words. */
    readonly consequences: readonly string[];
}

export class RotateNowError extends Error {
    override readonly name = "RotateNowError";
}

/** An engine URN: the parent's type chain, `$`-joined, before the resource's own type. */
export function urnOf(stack: string, project: string, typeChain: readonly string[], name: string): string {
    return `urn:pulumi:${stack}::${project}::${typeChain.join("$")}::${name}`;
}

const types = {
    registration: "entra-rotor:index:AppRegistration",
    clientSecret: "entra-rotor:index:ClientSecret",
    clientCertificate: "entra-rotor:index:ClientCertificate",
    password: "azuread:index/applicationPassword:ApplicationPassword",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    certificate: "azuread:index/applicationCertificate:ApplicationCertificate",
} as const;

/** The URNs of one slot's resources, as infra/program.ts and the components register them. */
export function slotUrns(model: StackModel, app: string, credential: { name: string; type: "secret" | "certificate" }, slot: 0 | 1): string[] {
    const component = `${app}-${credential.name}`;
    const urn = (type: string, name: string, parent: string) => urnOf(model.stack, model.project, [types.registration, parent, type], name);
    if (credential.type === "secret") return [urn(types.password, `${component}-slot${slot}`, types.clientSecret)];
    // The key is what leaked with a certificate: a new key forces a new certificate and a new key credential anyway; naming all three makes the plan explicit.
    return [
        urn(types.privateKey, `${component}-slot${slot}-key`, types.clientCertificate),
        urn(types.selfSignedCert, `${component}-slot${slot}-cert`, types.clientCertificate),
        urn(types.certificate, `${component}-slot${slot}`, types.clientCertificate),
    ];
}

function shellQuote(value: string): string {
    return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

export function planRotateNow(model: StackModel, appName: string, credentialName: string, revokePrevious: boolean, now: Date): RotateNowPlan {
    const app = model.apps.find((a) => a.name === appName);
    if (!app) throw new RotateNowError(`--app: the stack has no app "${appName}"; its apps are ${model.apps.map((a) => a.name).join(", ")}`);
    const credential = app.credentials.find((c) => c.name === credentialName);
    if (!credential) {
        const others = [...app.certificateFiles.map((c) => c.name), ...app.federatedCredentials.map((c) => c.name)];
        const hint = others.includes(credentialName)
            ? `"${credentialName}" is a ${app.certificateFiles.some((c) => c.name === credentialName) ? "certificate file: replace the file and its key with its owner" : "federated credential: it has no secret to leak; remove or narrow it"}`
            : `its rotating credentials are ${app.credentials.map((c) => c.name).join(", ") || "none"}`;
        throw new RotateNowError(`--credential: ${appName} has no rotating credential "${credentialName}"; ${hint}`);
    }
    const schedule = scheduleAt(now, credential.policy, credential.phase);
    const served = schedule.served.slot;
    const other: 0 | 1 = served === 0 ? 1 : 0;
    const urns = [...slotUrns(model, app.name, credential, served), ...(revokePrevious ? slotUrns(model, app.name, credential, other) : [])];
    const consequences = [
        `slot ${served} (generation ${schedule.served.generation}, served) gets a new value at once; the leaked one is deleted from the application. Key Vault serves the new value once it signs in.`,
        revokePrevious
            ? `BREAKING: slot ${other} (generation ${schedule.previous.generation}) is replaced too, so consumers that have not read Key Vault since the last rotation have no working credential until they do.`
            : `slot ${other} (generation ${schedule.previous.generation}) is kept: it stays valid until ${schedule.nextRotation.slice(0, 10)}, its next turn. If it leaked as well, add --revoke-previous (breaking for consumers that still use it).`,
        "Consumers that cache the value must read Key Vault again now; the schedule is unchanged.",
    ];
    const command = `pulumi up --stack ${shellQuote(model.stack)} ${urns.map((u) => `--replace ${shellQuote(u)}`).join(" ")} --continue-on-error`;
    return { stack: model.stack, app: app.name, credential: credential.name, type: credential.type, servedSlot: served, otherSlot: other, urns, command, revokePrevious, consequences };
}

/**
 * How the Automation API runs the replacement: the same `pulumi up` the printed command is. With
 * `continueOnError` (`--continue-on-error`, Pulumi 3.114 and later: "[engine] Add a --continue-on-error flag to
 * pulumi up", #15740, and its Automation API option, #15953, in https://github.com/pulumi/pulumi/blob/master/CHANGELOG.md;
 * https://www.pulumi.com/docs/iac/cli/commands/pulumi_up/), a failure elsewhere in the stack (another app's
 * verify gate, a Graph error) does not stop the engine before the leaked credential is replaced; the update
 * still fails at the end, so the failure is seen.
 */
export function automationUpOptions(plan: RotateNowPlan, onOutput: (line: string) => void): UpOptions {
    return { replace: [...plan.urns], continueOnError: true, onOutput };
}

/** Runs the replacement; injectable so tests need no Pulumi CLI. */
export type RotateNowRunner = (plan: RotateNowPlan, workDir: string, onOutput: (line: string) => void) => Promise<void>;

/** Through the Pulumi Automation API, with the CLI and credentials of the machine. */
export const automationRunner: RotateNowRunner = async (plan, workDir, onOutput) => {
    // A plain require: the Automation API is JavaScript, and loading it lazily keeps the other commands fast.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.selectStack({ stackName: plan.stack, workDir });
    await stack.up(automationUpOptions(plan, onOutput));
};

export interface RotateNowOptions {
    readonly stack: string;
    readonly app: string;
    readonly credential: string;
    readonly revokePrevious?: boolean;
    readonly yes?: boolean;
    readonly dir: string;
}

/** The file `name` would run as from PATH, if any (PATHEXT's extensions on Windows). */
export function findOnPath(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
    const extensions = process.platform === "win32" ? (env["PATHEXT"] ?? ".EXE;.CMD;.BAT").split(";") : [""];
    for (const dir of (env["PATH"] ?? env["Path"] ?? "").split(path.delimiter)) {
        if (!dir) continue;
        for (const extension of extensions) {
            const candidate = path.join(dir, `${name}${extension}`);
            try {
                if (fs.statSync(candidate).isFile()) return candidate;
            } catch {
                // Not here.
            }
        }
    }
    return undefined;
}

/** `rotor rotate-now`: prints the replacement of the served slot, or with `--yes` runs it. */
export async function runRotateNow(options: RotateNowOptions, io: CliIo): Promise<number> {
    const projectDir = path.resolve(io.cwd, options.dir);
    const now = io.now();
    const plan = planRotateNow(loadStackModel(projectDir, options.stack, now, io.cwd), options.app, options.credential, options.revokePrevious ?? false, now);
    // The Automation API drives the Pulumi CLI: without it, say so before claiming to run anything.
    if (options.yes && !io.rotateNowRunner && !findOnPath("pulumi", io.env ?? process.env)) {
        throw new RotateNowError(`--yes runs pulumi, which is not installed or not on PATH: install the Pulumi CLI (https://www.pulumi.com/docs/install/), or run this yourself: ${plan.command}`);
    }
    const text = [
        `Emergency rotation of ${plan.app}/${plan.credential} (${plan.type}) in stack ${plan.stack}:`,
        ...plan.consequences.map((c) => `  - ${c}`),
        "",
        options.yes ? "Running:" : "Run:",
        `  ${plan.command}`,
        "",
    ].join("\n");
    if (plan.revokePrevious) io.stderr("WARNING: --revoke-previous replaces both slots: consumers holding the previous value lose access now.\n");
    io.stdout(text);
    if (options.yes) await (io.rotateNowRunner ?? automationRunner)(plan, projectDir, (line) => io.stderr(line.endsWith("\n") ? line : `${line}\n`));
    return exitCodes.ok;
}
