import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildModelOrThrow } from "../infra/model/model";
import { rotor } from "./support/cli";
import { repoRoot, sampleStack } from "./support/program";
import {
    allSteps,
    type AzurePipeline,
    commentAbove,
    azureScript,
    azureSteps,
    declaredVariables,
    expandMacros,
    expressionsInScripts,
    jobCanWrite,
    macros,
    pipingSteps,
    predefinedVariable,
    pulumiUpLines,
    rotorLines,
    runScript,
    runsAfterFailure,
    usesLines,
    variableGroups,
    type Workflow,
    type WorkflowJob,
} from "./support/workflows";

/**
 * The pipelines we ship must work when copied: GitHub workflows pass a workflow validator (the schema
 * GitHub enforces), actions are pinned, cloud access goes through OIDC only, and every `rotor` command in
 * them is one the CLI accepts.
 */

const githubDir = path.join(repoRoot, "examples", "github");
const workflows = fs.readdirSync(githubDir).filter((f) => f.endsWith(".yml"));
const azureDevOps = path.join(repoRoot, "examples", "azure-devops", "azure-pipelines.yml");
const read = (file: string) => fs.readFileSync(file, "utf8");

/** Every `npx rotor ...` invocation in a text, with shell variables and redirections removed. */
function rotorCommands(text: string): string[][] {
    return [...text.matchAll(/npx rotor ([^\n|>]+)/g)].map((m) =>
        m[1]!
            .trim()
            .replace(/"[^"]*\$[^"]*"/g, "main")
            .replace(/\$\(stack\)/g, "dev")
            .split(/\s+/),
    );
}

describe("GitHub workflows", () => {
    it("ships the review and the rotation workflows", () => {
        expect(workflows.sort()).toEqual(["entra-rotor-pull-request.yml", "entra-rotor-rotate.yml"]);
    });

    it.each(workflows)("%s passes the workflow validator", (file) => {
        const result = validateWorkflow(read(path.join(githubDir, file)));
        expect(result.errors).toEqual([]);
    });

    it("the validator refuses a broken workflow (so the check above can fail)", () => {
        const broken = read(path.join(githubDir, workflows[0]!)).replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest");
        expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
    });

    it.each(workflows)("%s pins every action to a version and signs in to Azure with OIDC only", (file) => {
        const text = read(path.join(githubDir, file));
        const uses = [...text.matchAll(/uses: ([^\s#]+)/g)].map((m) => m[1]!);
        expect(uses.length).toBeGreaterThan(0);
        for (const action of uses) expect(action, action).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
        // No stored credential: only the token GitHub mints for the job.
        expect(text).not.toMatch(/secrets\.(?!GITHUB_TOKEN)/);
        const doc = parse(text) as { jobs: Record<string, { permissions?: Record<string, string>; steps: { uses?: string }[] }> };
        const signingIn = Object.entries(doc.jobs).filter(([, job]) => job.steps.some((s) => s.uses?.startsWith("azure/login@")));
        // Each signs in somewhere (the review's preview, the rotation): the OIDC rule has a job to hold.
        expect(signingIn.length, file).toBeGreaterThan(0);
        for (const [name, job] of signingIn) expect(job.permissions?.["id-token"], `${name} needs id-token: write for OIDC`).toBe("write");
    });

    it("never gives a fork's pull request cloud access", () => {
        const doc = parse(read(path.join(githubDir, "entra-rotor-pull-request.yml"))) as { on: Record<string, unknown>; jobs: Record<string, { if?: string; permissions?: Record<string, string> }> };
        expect(Object.keys(doc.on)).toEqual(["pull_request"]); // never pull_request_target
        expect(doc.jobs["plan"]!.permissions?.["id-token"]).toBeUndefined();
        expect(doc.jobs["preview"]!.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    });
});

const step = z.object({ task: z.string().optional(), script: z.string().optional(), checkout: z.string().optional(), displayName: z.string().optional(), inputs: z.record(z.string(), z.unknown()).optional() }).loose();
const azurePipeline = z.object({
    trigger: z.unknown(),
    pr: z.object({ branches: z.object({ include: z.array(z.string()) }).loose() }).loose(),
    schedules: z.array(z.object({ cron: z.string().regex(/^(\S+\s){4}\S+$/), branches: z.object({ include: z.array(z.string()) }).loose() }).loose()).min(1),
    pool: z.object({ vmImage: z.string() }),
    stages: z.array(z.object({ stage: z.string(), condition: z.string(), jobs: z.array(z.object({ job: z.string(), steps: z.array(step).min(1) }).loose()).min(1) }).loose()).length(2),
}).loose();

describe("Azure DevOps pipeline", () => {
    it("has the review and rotation stages, and signs in with the workload identity federation connection", () => {
        const doc = azurePipeline.parse(parse(read(azureDevOps)));
        expect(doc.stages.map((s) => s.stage)).toEqual(["review", "rotate"]);
        const signingIn = doc.stages.map((s) => ({ stage: s.stage, steps: s.jobs.flatMap((j) => j.steps).filter((step) => step.task === "AzureCLI@2") }));
        // The review signs in once, read only; the rotation signs in for the deployment, retire, verify and status, each its own step.
        expect(signingIn.map((s) => s.steps.length)).toEqual([1, 4]);
        expect(signingIn[0]!.steps.map((s) => s.inputs?.["azureSubscription"])).toEqual(["entra-rotor-preview"]);
        for (const s of signingIn[1]!.steps) expect(s.inputs?.["azureSubscription"]).toBe("entra-rotor-deployer");
        for (const s of signingIn.flatMap((x) => x.steps)) expect(s.inputs).toMatchObject({ addSpnToEnvironment: true });
        expect(read(azureDevOps)).not.toMatch(/clientSecret|AZURE_CLIENT_SECRET|\$\(\w*[Ss]ecret\w*\)/);
    });
});

describe("rotor commands in the pipelines", () => {
    const commands = [...workflows.map((f) => read(path.join(githubDir, f))), read(azureDevOps)].flatMap(rotorCommands);

    it("cover plan --base, summarize, retire, verify, status, handoff-issues and handoffs", () => {
        expect(new Set(commands.map((c) => c[0]))).toEqual(new Set(["plan", "summarize", "retire", "verify", "status", "handoff-issues", "handoffs"]));
    });

    it.each(commands.map((c) => [c.join(" "), c] as const))("rotor %s is accepted by the CLI", async (_line, command) => {
        // The subcommand exists and its help lists every option the pipeline passes.
        const run = await rotor([command[0]!, "--help"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        for (const option of command.filter((a) => a.startsWith("--"))) expect(run.stdout, `${command[0]} ${option}`).toContain(option);
    });
});

/** The sample's federated credentials, by the app that holds them. */
const sample = buildModelOrThrow(sampleStack(), new Date("2027-03-01T00:00:00Z"));
const federated = sample.apps.flatMap((app) => app.federatedCredentials.map((credential) => ({ app, credential })));
/** The sample repository as its OIDC tokens name it: GitHub's immutable subject, with the owner and repository ids. */
const sampleRepository = "contoso@5544123/identity@821093847";

describe("pipelines fail when a command fails", () => {
    it.each(workflows)("%s: every run step with a pipe runs under bash -eo pipefail", (file) => {
        const steps = pipingSteps(parse(read(path.join(githubDir, file))) as Workflow);
        // The steps known to pipe (the review's plan loop; the rotation's verify and status into tee): a loop over none would check nothing.
        const piping: Record<string, number> = { "entra-rotor-pull-request.yml": 1, "entra-rotor-rotate.yml": 2 };
        expect(steps.length, file).toBeGreaterThanOrEqual(piping[file] ?? 1);
        for (const step of steps) expect(step.pipefail, `${file} ${step.job}: ${step.run}`).toBe(true);
    });

    it("the rule catches the step that hid exit 2 behind tee", () => {
        const before = read(path.join(githubDir, "entra-rotor-rotate.yml")).replace(/\ndefaults:\n {2}run:\n {4}shell: bash\n/, "\n");
        const step = pipingSteps(parse(before) as Workflow).find((s) => s.run.includes("rotor status"));
        expect(step).toMatchObject({ job: "rotate", pipefail: false });
    });

    it("Azure Pipelines scripts of more than one command set -euo pipefail first (Azure Pipelines runs plain bash)", () => {
        const doc = parse(read(azureDevOps)) as { stages: { jobs: { steps: { script?: string; inputs?: { inlineScript?: string } }[] }[] }[] };
        const scripts = doc.stages.flatMap((s) => s.jobs.flatMap((j) => j.steps.flatMap((step) => [step.script, step.inputs?.inlineScript]))).filter((x): x is string => x !== undefined);
        const multi = scripts.filter((script) => script.trim().split("\n").length > 1);
        expect(multi.length).toBeGreaterThanOrEqual(3);
        for (const script of multi) expect(script.trim().split("\n")[0], script).toBe("set -euo pipefail");
    });
});

describe("pipelines sign in as identities the sample stack declares", () => {
    /** The `sub` of a job's GitHub OIDC token, as GitHub documents it. */
    function githubSubject(doc: Workflow, job: WorkflowJob): string {
        const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
        if (environment) return `repo:${sampleRepository}:environment:${environment}`;
        if ("pull_request" in doc.on) return `repo:${sampleRepository}:pull_request`;
        // schedule and workflow_dispatch run on the default branch.
        return `repo:${sampleRepository}:ref:refs/heads/main`;
    }

    it.each(workflows)("%s: every job that signs in to Azure has a federated credential of the sample for its token", (file) => {
        const doc = parse(read(path.join(githubDir, file))) as Workflow;
        const signingIn = Object.entries(doc.jobs).filter(([, job]) => job.steps.some((s) => s.uses?.startsWith("azure/login@")));
        expect(signingIn.length).toBeGreaterThan(0);
        for (const [name, job] of signingIn) {
            const subject = githubSubject(doc, job);
            const match = federated.find(({ credential }) => credential.issuer === "https://token.actions.githubusercontent.com" && credential.subject === subject);
            expect(match, `${file} ${name}: no federated credential for ${subject}`).toBeDefined();
        }
    });

    it("the pull-request preview signs in as the read-only preview identity", () => {
        const doc = parse(read(path.join(githubDir, "entra-rotor-pull-request.yml"))) as Workflow;
        const match = federated.find(({ credential }) => credential.subject === githubSubject(doc, doc.jobs["preview"]!))!;
        expect(match.app.name).toBe("ci-preview");
        // Read only: Graph reads, nothing that writes, and nothing served from Key Vault.
        expect(match.app.permissions.map((p) => p.name)).toEqual(["Application.Read.All"]);
        expect(match.app.credentials).toEqual([]);
    });

    it("every Azure DevOps service connection is a federated credential of the sample, with the Entra issuer", () => {
        const connections = [...new Set([...read(azureDevOps).matchAll(/azureSubscription: ([\w-]+)/g)].map((m) => m[1]!))];
        expect(connections).toEqual(["entra-rotor-preview", "entra-rotor-deployer"]);
        for (const connection of connections) {
            const match = federated.find(({ credential }) => credential.name === connection && credential.preset === "azureDevOps");
            expect(match, connection).toBeDefined();
            expect(match!.credential.issuer).toMatch(/^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0$/);
            expect(match!.credential.subject).toMatch(/\/sc\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
        }
        expect(federated.find(({ credential }) => credential.name === "entra-rotor-preview")!.app.name).toBe("ci-preview");
    });
});

// ---------------------------------------------------------------------------------------------------------
// A failure stays small and loud (issue 17): the rules every shipped pipeline keeps

const tenantsWorkflow = path.join(repoRoot, "examples", "many-tenants", "entra-rotor-rotate-tenants.yml");
/** Every GitHub workflow shipped, the many-tenants one included. */
const allWorkflows = [...workflows.map((f) => path.join(githubDir, f)), tenantsWorkflow];
const shortName = (file: string) => path.relative(repoRoot, file);
const workflowDoc = (file: string) => parse(read(file)) as Workflow;
const azureDoc = () => parse(read(azureDevOps)) as AzurePipeline;
/** Every script of every shipped pipeline, with where it is. */
const allScripts = (): { where: string; script: string }[] => [
    ...allWorkflows.flatMap((file) => allSteps(workflowDoc(file)).flatMap(({ job, step }) => (step.run ? [{ where: `${shortName(file)} ${job}: ${step.name ?? step.run}`, script: step.run }] : []))),
    ...azureSteps(azureDoc()).flatMap(({ stage, step }) => {
        const script = azureScript(step);
        return script ? [{ where: `azure-pipelines.yml ${stage}: ${step.displayName ?? script}`, script }] : [];
    }),
];

describe("rotation pipelines rotate everything that can rotate, and always report", () => {
    it("every pulumi up of a pipeline runs with --continue-on-error (Pulumi 3.114+), so one failed resource stops no other", () => {
        const ups = allScripts().flatMap(({ where, script }) => pulumiUpLines(script).map((line) => ({ where, line })));
        // GitHub's rotation, Azure Pipelines' rotation, the many-tenants matrix.
        expect(ups.length).toBeGreaterThanOrEqual(3);
        for (const { where, line } of ups) expect(line, where).toMatch(/\s--continue-on-error(\s|$)/);
    });

    it.each(allWorkflows.map(shortName))("%s: a job that runs pulumi up --refresh --continue-on-error installs Pulumi 3.124 or later", (file) => {
        // With --refresh it panicked before 3.116.1 and could fail the snapshot's integrity check before 3.124.0.
        const doc = workflowDoc(path.join(repoRoot, file));
        const deploying = Object.entries(doc.jobs).filter(([, job]) => job.steps.some((step) => step.run !== undefined && pulumiUpLines(step.run).length > 0));
        // The rotations deploy, each in one job; the review never does (so there it has nothing else to check).
        expect(deploying.map(([name]) => name), file).toHaveLength(file.includes("rotate") ? 1 : 0);
        for (const [name, job] of deploying) {
            const install = job.steps.find((step) => step.uses?.startsWith("pulumi/actions@"));
            const wanted = String(install?.with?.["pulumi-version"] ?? "");
            const [major, minor] = (/^\^?(\d+)\.(\d+)\.\d+$/.exec(wanted) ?? []).slice(1).map(Number);
            expect(major === 3 && minor! >= 124, `${name}: pulumi-version ${wanted}`).toBe(true);
        }
    });

    it.each(allWorkflows.map(shortName))("%s: rotor status runs after a failed deployment (not after a cancel), its own step", (file) => {
        const doc = workflowDoc(path.join(repoRoot, file));
        const steps = allSteps(doc).filter(({ step }) => step.run?.includes("rotor status"));
        if (!file.includes("rotate")) return expect(steps).toEqual([]);
        expect(steps.length).toBeGreaterThan(0);
        for (const { job, step } of steps) {
            expect(runsAfterFailure(step.if), `${job}: ${step.if}`).toBe(true);
            expect(step.if ?? "", job).not.toMatch(/always\(\)/); // !cancelled(): a cancelled run reports nothing
            const deploy = doc.jobs[job]!.steps.find((s) => s.run !== undefined && pulumiUpLines(s.run).length > 0);
            expect(deploy, job).toBeDefined();
            expect(deploy!.run).not.toContain("rotor status");
            if (deploy!.id) expect(step.if, `${job}: status must not wait for the deployment's success`).not.toContain(`steps.${deploy!.id}.`);
        }
    });

    it("Azure Pipelines: pulumi up, verify and status are separate steps, and status runs after a failed up", () => {
        const rotate = azureSteps(azureDoc()).filter(({ stage }) => stage === "rotate");
        const scriptOf = (name: string) => rotate.filter(({ step }) => (azureScript(step) ?? "").includes(name));
        const [up, verify, status] = [scriptOf("pulumi up"), scriptOf("rotor verify"), scriptOf("rotor status")];
        expect([up.length, verify.length, status.length]).toEqual([1, 1, 1]);
        expect(new Set([up[0]!.step, verify[0]!.step, status[0]!.step]).size).toBe(3);
        // succeededOrFailed(): after a failed step, not after a cancel (always() would also run on a cancel).
        // https://learn.microsoft.com/azure/devops/pipelines/process/conditions
        expect(status[0]!.step.condition).toBe("succeededOrFailed()");
        expect(runsAfterFailure(verify[0]!.step.condition)).toBe(true);
    });

    it("every matrix job runs all its entries even when one fails (fail-fast: false)", () => {
        const matrices = allWorkflows.flatMap((file) => Object.entries(workflowDoc(file).jobs).filter(([, job]) => job.strategy?.matrix).map(([name, job]) => ({ where: `${shortName(file)} ${name}`, job })));
        expect(matrices.length).toBeGreaterThanOrEqual(1);
        for (const { where, job } of matrices) expect(job.strategy?.["fail-fast"], where).toBe(false);
    });

    it("the fail-fast rule catches a matrix that leaves it at GitHub's default (true)", () => {
        const text = read(tenantsWorkflow).replace(/\n\s*fail-fast: false\n/, "\n");
        const job = Object.values((parse(text) as Workflow).jobs).find((j) => j.strategy?.matrix);
        expect(job?.strategy?.["fail-fast"]).not.toBe(false);
    });
});

describe("rotation pipelines retire what a reviewed change marked, only after a successful deployment (issue 19)", () => {
    const rotations = [path.join(githubDir, "entra-rotor-rotate.yml"), tenantsWorkflow].map(shortName);
    const retireLine = (line: string) => {
        expect(line).toMatch(/\s--yes(\s|$)/);
        expect(line).not.toContain("--force"); // a pipeline never removes without evidence
        expect(line).toMatch(/--stack ("\$STACK"|dev|\$\(stack\))(\s|$)/);
    };
    const documentsPermission = (comment: string) => {
        expect(comment).toContain("Application.ReadWrite.All");
        expect(comment).toMatch(/removePassword and removeKey/);
        expect(comment).toContain("AuditLog.Read.All");
        expect(comment).toContain("Key Vault Secrets User");
    };

    it.each(rotations)("%s: one rotor retire --yes step after pulumi up, skipped unless the deployment succeeded, failing the job visibly", (file) => {
        const text = read(path.join(repoRoot, file));
        const doc = workflowDoc(path.join(repoRoot, file));
        const [name, job] = Object.entries(doc.jobs).find(([, j]) => j.steps.some((s) => s.run !== undefined && pulumiUpLines(s.run).length > 0))!;
        const steps = job.steps;
        const deployAt = steps.findIndex((s) => s.run !== undefined && pulumiUpLines(s.run).length > 0);
        const retiring = steps.flatMap((step, index) => (step.run !== undefined && rotorLines(step.run, "retire").length > 0 ? [{ step, index }] : []));
        expect(retiring, name).toHaveLength(1);
        expect(allSteps(doc).filter(({ step }) => step.run !== undefined && rotorLines(step.run, "retire").length > 0)).toHaveLength(1);
        const { step, index } = retiring[0]!;
        expect(index, "after pulumi up").toBeGreaterThan(deployAt);
        retireLine(rotorLines(step.run!, "retire")[0]!);
        // Only after a successful deployment: no status function that runs after a failure, and the deployment's outcome named.
        const deploy = steps[deployAt]!;
        expect(deploy.id).toBeDefined();
        expect(runsAfterFailure(step.if), step.if).toBe(false);
        expect(step.if).toContain(`steps.${deploy.id}.outcome == 'success'`);
        // Its exit 2 fails the job: not hidden by continue-on-error, nor by tee (pipefail).
        expect(step["continue-on-error"]).toBeUndefined();
        const piped = pipingSteps(doc).find((p) => p.run === step.run);
        if (piped) expect(piped.pipefail).toBe(true);
        // ... and hides nothing: the reports after it still run when it failed.
        const reports = steps.slice(index + 1).filter((s) => s.run !== undefined && /rotor (verify|status)/.test(s.run));
        expect(reports.map((s) => s.name)).toHaveLength(2);
        for (const later of reports) expect(runsAfterFailure(later.if), `${later.name}: ${later.if}`).toBe(true);
        documentsPermission(commentAbove(text, "npx rotor retire"));
    });

    it.each(rotations)("%s: the retire step's exit 2 fails it through the pipe, after its summary is written", (file) => {
        const doc = workflowDoc(path.join(repoRoot, file));
        const step = allSteps(doc).find(({ step }) => step.run !== undefined && rotorLines(step.run, "retire").length > 0)!.step;
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const summary = path.join(temp, "summary");
        for (const code of [0, 2]) {
            const run = runScript(step.run!, { shell: "github", cwd: temp, env: { STACK: "contoso", GITHUB_STEP_SUMMARY: summary }, fakes: { npx: code } });
            expect(run.code, run.output).toBe(code);
            expect(run.calls).toEqual([`npx rotor retire --stack ${file.includes("tenants") ? "contoso" : "dev"} --yes --format markdown`]);
        }
        expect(fs.existsSync(summary)).toBe(true);
    });

    it("Azure Pipelines: rotor retire --yes is its own step right after pulumi up, only when it succeeded; verify and status still run after it", () => {
        const rotate = azureSteps(azureDoc()).filter(({ stage }) => stage === "rotate").map(({ step }) => step);
        const deployAt = rotate.findIndex((s) => pulumiUpLines(azureScript(s) ?? "").length > 0);
        const retiring = rotate.flatMap((step, index) => (rotorLines(azureScript(step) ?? "", "retire").length > 0 ? [{ step, index }] : []));
        expect(retiring).toHaveLength(1);
        expect(azureSteps(azureDoc()).filter(({ step }) => rotorLines(azureScript(step) ?? "", "retire").length > 0)).toHaveLength(1);
        const { step, index } = retiring[0]!;
        expect(index).toBe(deployAt + 1);
        retireLine(rotorLines(azureScript(step)!, "retire")[0]!);
        // succeeded() (a step's default): every step before it, the deployment included, succeeded.
        // https://learn.microsoft.com/azure/devops/pipelines/process/conditions
        expect(step.condition).toBe("succeeded()");
        expect(step.continueOnError).toBeUndefined();
        expect(step.task).toBe("AzureCLI@2");
        expect(step.inputs?.["azureSubscription"]).toBe("entra-rotor-deployer");
        const reports = rotate.slice(index + 1).filter((s) => /rotor (verify|status)/.test(azureScript(s) ?? ""));
        expect(reports.map((s) => rotorLines(azureScript(s) ?? "", "verify").length + rotorLines(azureScript(s) ?? "", "status").length)).toEqual([1, 1]);
        for (const later of reports) expect(runsAfterFailure(later.condition), later.displayName).toBe(true);
        documentsPermission(commentAbove(read(azureDevOps), "npx rotor retire"));
        // Plain bash on the agent: rotor's exit code is the step's.
        const script = expandMacros(azureScript(step)!, declaredVariables(azureDoc()));
        for (const code of [0, 2]) {
            const run = runScript(script, { shell: "azure", cwd: os.tmpdir(), fakes: { npx: code } });
            expect(run.code).toBe(code);
            expect(run.calls).toEqual(["npx rotor retire --stack dev --yes"]);
        }
    });

    it("the rules catch a retire step that would run after a failed deployment, or before it", () => {
        const text = read(path.join(githubDir, "entra-rotor-rotate.yml"));
        const loose = parse(text.replace("if: ${{ success() && steps.deploy.outcome == 'success' }}", "if: ${{ !cancelled() }}")) as Workflow;
        const step = allSteps(loose).find(({ step }) => step.run?.includes("rotor retire"))!.step;
        expect(runsAfterFailure(step.if)).toBe(true);
        expect(rotorLines("# npx rotor retire --stack dev --yes\necho done", "retire")).toEqual([]);
        expect(rotorLines("npx rotor retire --stack dev --yes | tee -a x", "retire")).toHaveLength(1);
        expect(commentAbove("# no\n- name: a\n  run: x\n# says Application.ReadWrite.All\n- name: b\n  id: b\n  run: npx rotor retire", "npx rotor retire")).toBe("says Application.ReadWrite.All");
    });
});

describe("pipelines are hardened as GitHub's and Microsoft's guides advise", () => {
    it.each(allWorkflows.map(shortName))("%s: every action in a job that can write is pinned to a full commit SHA, with its version in a comment", (file) => {
        // https://docs.github.com/en/actions/reference/security/secure-use#using-third-party-actions
        const text = read(path.join(repoRoot, file));
        const doc = parse(text) as Workflow;
        const pinnedLines = usesLines(text);
        const writing = Object.entries(doc.jobs).filter(([, job]) => jobCanWrite(doc, job));
        // Every shipped workflow has such a job (they comment, or sign in to deploy): the loop below checks something.
        expect(writing.flatMap(([, job]) => job.steps.filter((s) => s.uses)).length, file).toBeGreaterThan(0);
        for (const [name, job] of writing) {
            for (const step of job.steps.filter((s) => s.uses)) {
                const [action, ref] = step.uses!.split("@") as [string, string];
                expect(ref, `${file} ${name}: ${step.uses}`).toMatch(/^[0-9a-f]{40}$/);
                const line = pinnedLines.find((l) => l.action === action && l.ref === ref);
                expect(line?.comment, `${file} ${name}: ${step.uses} needs # vX.Y.Z`).toMatch(/^v\d+\.\d+\.\d+\b/);
            }
        }
    });

    it("one commit per action and version across every workflow", () => {
        const bySha = new Map<string, string>();
        const byVersion = new Map<string, string>();
        for (const { action, ref, comment } of allWorkflows.flatMap((file) => usesLines(read(file)))) {
            if (!/^[0-9a-f]{40}$/.test(ref)) continue;
            const version = /^v\d+\.\d+\.\d+/.exec(comment)?.[0] ?? "";
            expect(bySha.get(`${action}@${ref}`) ?? version, `${action}@${ref}`).toBe(version);
            expect(byVersion.get(`${action} ${version}`) ?? ref, `${action} ${version}`).toBe(ref);
            bySha.set(`${action}@${ref}`, version);
            byVersion.set(`${action} ${version}`, ref);
        }
        expect(byVersion.size).toBeGreaterThanOrEqual(5);
    });

    it("the pinning rule applies to the pull-request jobs: they may write comments, and the preview signs in", () => {
        const doc = workflowDoc(path.join(githubDir, "entra-rotor-pull-request.yml"));
        expect(jobCanWrite(doc, doc.jobs["plan"]!)).toBe(true);
        expect(jobCanWrite(doc, doc.jobs["preview"]!)).toBe(true);
        expect(jobCanWrite(doc, { permissions: { contents: "read" }, steps: [] })).toBe(false);
    });

    it.each(allWorkflows.map(shortName))("%s: no ${{ }} expression is pasted into a script; values come in through env:", (file) => {
        // A branch name or title can carry shell: https://docs.github.com/en/actions/reference/security/secure-use#use-an-intermediate-environment-variable
        expect(expressionsInScripts(workflowDoc(path.join(repoRoot, file)))).toEqual([]);
    });

    it("the pull request's base branch reaches the plan through env:", () => {
        const doc = workflowDoc(path.join(githubDir, "entra-rotor-pull-request.yml"));
        const plan = doc.jobs["plan"]!.steps.find((s) => s.run?.includes("npx rotor plan"))!;
        expect(plan.env?.["BASE_REF"]).toBe("${{ github.base_ref }}");
        expect(plan.run).toMatch(/"[^"\n]*\$BASE_REF[^"\n]*"/); // quoted: one word, whatever the name
    });

    it("no pipeline pipes a download into a shell", () => {
        const scripts = allScripts();
        expect(scripts.length).toBeGreaterThanOrEqual(5);
        for (const { where, script } of scripts) {
            for (const line of script.split("\n").filter((l) => !/^\s*#/.test(l))) expect(line, where).not.toMatch(/\|\s*(sudo\s+)?(ba|z|da)?sh\b/);
        }
    });

    it("Azure Pipelines: every $(variable) of a script is declared in the pipeline or predefined", () => {
        const doc = azureDoc();
        const declared = declaredVariables(doc);
        const used = azureSteps(doc).flatMap(({ step }) => [azureScript(step) ?? "", ...Object.values(step.env ?? {})].flatMap(macros));
        expect(used.length).toBeGreaterThan(0);
        for (const name of used) expect(declared.has(name) || predefinedVariable.test(name), `$(${name}) is neither declared nor predefined`).toBe(true);
    });

    it("Azure Pipelines: installs a pinned Pulumi CLI (3.124 or later, for --refresh --continue-on-error) from a downloaded file", () => {
        const doc = azureDoc();
        const installs = azureSteps(doc).map(({ step }) => azureScript(step) ?? "").filter((script) => script.includes("get.pulumi.com"));
        expect(installs.length).toBe(2); // the review's preview and the rotation
        for (const script of installs) {
            const version = /--version "?([^\s"]+)"?/.exec(expandMacros(script, declaredVariables(doc)))?.[1];
            expect(version, script).toMatch(/^\d+\.\d+\.\d+$/);
            const [major, minor] = version!.split(".").map(Number) as [number, number];
            expect(major > 3 || (major === 3 && minor >= 124), version).toBe(true);
        }
    });

    /** The pipeline's declared variables, and what the agent sets for a scheduled run. */
    const agentVariables = () => new Map([...declaredVariables(azureDoc()), ["System.DefaultWorkingDirectory", "/agent/s"], ["System.PullRequest.TargetBranchName", "main"]]);
    const azureEnv = { idToken: "token", servicePrincipalId: "client", tenantId: "tenant" };
    /** A fresh agent: its own working and temporary directories. */
    const agentDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "rotor-agent-"));
    const cloudTools = { curl: 0, pulumi: 0, npx: 0, az: 0 };

    it("Azure Pipelines: a failed Pulumi download fails its step before anything else runs", () => {
        const scripts = azureSteps(azureDoc()).map(({ step }) => azureScript(step) ?? "").filter((script) => script.includes("get.pulumi.com"));
        expect(scripts.length).toBeGreaterThan(0);
        for (const script of scripts) {
            const dir = agentDir();
            const run = runScript(expandMacros(script, agentVariables()), { shell: "azure", cwd: dir, env: { ...azureEnv, AGENT_TEMPDIRECTORY: dir, PULUMI_BACKEND_URL: "azblob://state" }, fakes: { ...cloudTools, curl: 22 } });
            expect(run.code, `${run.output}\n${script}`).not.toBe(0);
            expect(run.calls.filter((call) => !call.startsWith("curl ")), script).toEqual([]);
        }
    });

    it("Azure Pipelines: an unset PULUMI_BACKEND_URL stops before pulumi login, saying what to set (it is never run as $(...))", () => {
        const doc = azureDoc();
        expect(variableGroups(doc)).toEqual(["entra-rotor"]);
        const logins = azureSteps(doc).map(({ step }) => azureScript(step) ?? "").filter((script) => script.includes("pulumi login"));
        expect(logins.length).toBe(2);
        for (const script of logins) {
            const expanded = expandMacros(script, agentVariables());
            const unset = runScript(expanded, { shell: "azure", cwd: agentDir(), env: azureEnv, fakes: cloudTools });
            expect(unset.code, unset.output).toBe(1);
            expect(unset.output).toContain("PULUMI_BACKEND_URL is not set");
            expect(unset.calls.filter((call) => call.startsWith("pulumi "))).toEqual([]);
            const set = runScript(expanded, { shell: "azure", cwd: agentDir(), env: { ...azureEnv, PULUMI_BACKEND_URL: "azblob://state?storage_account=contoso" }, fakes: cloudTools });
            expect(set.calls[0], set.output).toBe("pulumi login azblob://state?storage_account=contoso");
        }
    });

    it("Azure Pipelines: a scheduled or manual run of main rotates; a pull request reviews", () => {
        const stages = new Map(azureDoc().stages.map((s) => [s.stage, s.condition ?? ""]));
        expect(stages.get("review")).toBe("eq(variables['Build.Reason'], 'PullRequest')");
        const rotate = stages.get("rotate")!;
        for (const reason of ["'Schedule'", "'Manual'"]) expect(rotate).toContain(reason);
        expect(rotate).toContain("eq(variables['Build.SourceBranch'], 'refs/heads/main')");
        // The file says what a manual run does.
        expect(read(azureDevOps)).toMatch(/#.*[Mm]anual run/);
    });
});

describe("the pull-request review is never left stale", () => {
    const file = path.join(githubDir, "entra-rotor-pull-request.yml");
    const doc = () => workflowDoc(file);

    it("every comment step runs whatever happened before it (not after a cancel) and posts a file the job's first step wrote", () => {
        expect(Object.keys(doc().jobs)).toEqual(["plan", "preview"]);
        for (const [name, job] of Object.entries(doc().jobs)) {
            const comments = job.steps.filter((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
            expect(comments, name).toHaveLength(1);
            const comment = comments[0]!;
            expect(runsAfterFailure(comment.if), `${name}: ${comment.if}`).toBe(true);
            // The file lives under runner.temp, which checkout never cleans; the first step writes a failure
            // notice there, so even a job that fails before the plan replaces the old comment.
            const posted = String(comment.with?.["path"]);
            expect(posted).toMatch(/^\$\{\{ runner\.temp \}\}\/[\w.-]+\.md$/);
            const first = job.steps[0]!;
            expect(first.uses, name).toBeUndefined();
            const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
            const run = runScript(first.run!, { shell: "github", cwd: temp, env: { RUNNER_TEMP: temp } });
            expect(run.code, run.output).toBe(0);
            const notice = fs.readFileSync(path.join(temp, posted.replace("${{ runner.temp }}/", "")), "utf8");
            expect(notice).toMatch(/^## .* failed\n\n> \[!CAUTION\]\n/);
        }
    });

    /** A repository whose pull request changes stack a, breaks stack b, deletes stack c and leaves d alone. */
    function pullRequestRepository(): string {
        const valid = (name: string) => ({ config: { "entra-rotor:apps": [{ name, permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }] }] } });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-pr-"));
        const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
        const write = (name: string, doc: unknown) => fs.writeFileSync(path.join(dir, name), JSON.stringify(doc));
        git("init", "-q", "-b", "feature");
        write("Pulumi.yaml", { name: "entra-rotor", runtime: "nodejs" });
        for (const stack of ["a", "b", "c", "d"]) write(`Pulumi.${stack}.yaml`, valid(`${stack}-app`));
        git("add", ".");
        git("commit", "-q", "-m", "base");
        git("update-ref", "refs/remotes/origin/main", "HEAD");
        write("Pulumi.a.yaml", { config: { "entra-rotor:apps": [...valid("a-app").config["entra-rotor:apps"], { name: "a-new" }] } });
        write("Pulumi.b.yaml", { config: { "entra-rotor:apps": [{ name: "b-app", permissions: [{ api: "Microsoft Graph", application: ["Mail.Sendd"] }] }] } });
        fs.rmSync(path.join(dir, "Pulumi.c.yaml"));
        git("add", "-A");
        git("commit", "-q", "-m", "change");
        return dir;
    }

    it("plans every stack the pull request touches into one comment, says a deleted stack is deleted, and fails after writing it", () => {
        const job = doc().jobs["plan"]!;
        const step = job.steps.find((s) => s.run?.includes("npx rotor plan"))!;
        const repo = pullRequestRepository();
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, v === "${{ github.base_ref }}" ? "main" : v]));
        const run = runScript(step.run!, { shell: "github", cwd: repo, env: { ...env, RUNNER_TEMP: temp }, rotor: path.join(repoRoot, "bin", "rotor.js"), now: new Date("2026-11-23T06:00:00Z") });
        // Stack b cannot be planned: the step fails, after the comment is written.
        expect(run.code, run.output).toBe(1);
        const posted = String(job.steps.find((s) => s.uses?.startsWith("marocchino/"))!.with?.["path"]).replace("${{ runner.temp }}/", "");
        const comment = fs.readFileSync(path.join(temp, posted), "utf8");
        expect(comment).toContain("### Stack `a`\n\n## Identity plan");
        expect(comment).toContain("entra-rotor / a, origin/main -> working tree");
        expect(comment).toContain("Apps added: a-new");
        expect(comment).toContain("### Stack `b`\n\n## rotor plan failed\n\n> [!CAUTION]");
        expect(comment).toContain('unknown Microsoft Graph application permission "Mail.Sendd"');
        expect(comment).toMatch(/### Stack `c`\n\n> \[!CAUTION\]\n> \*\*`Pulumi\.c\.yaml` is deleted by this pull request\.\*\*/);
        expect(comment).not.toContain("Stack `d`");
        // The order: what was planned, then what was deleted.
        expect(comment.indexOf("Stack `a`")).toBeLessThan(comment.indexOf("Stack `b`"));
        expect(comment.indexOf("Stack `b`")).toBeLessThan(comment.indexOf("Stack `c`"));
    });
});

describe("the review triggers on and plans every file Pulumi reads (issue 18)", () => {
    // Pulumi reads Pulumi.json, Pulumi.yaml or Pulumi.yml as the project, and Pulumi.<stack> in the project
    // file's extension (infra/model/stackFiles.ts): a pull request changing any of them is a change to review.
    const files = ["Pulumi.yaml", "Pulumi.yml", "Pulumi.json", "Pulumi.dev.yaml", "Pulumi.dev.yml", "Pulumi.dev.json"];
    /** A path filter's glob, as GitHub and Azure Pipelines read it: `*` within a folder, `**` across folders. */
    const globMatches = (glob: string, file: string) =>
        new RegExp(`^${glob.split("**").map((part) => part.split("*").map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")).join(".*")}$`).test(file);

    it("the pull-request workflow and the Azure pipeline trigger on each of them", () => {
        const github = (parse(read(path.join(githubDir, "entra-rotor-pull-request.yml"))) as { on: { pull_request: { paths: string[] } } }).on.pull_request.paths;
        const azure = (parse(read(azureDevOps)) as { pr: { paths: { include: string[] } } }).pr.paths.include;
        for (const [name, globs] of [["GitHub", github], ["Azure Pipelines", azure]] as const) {
            for (const file of files) expect(globs.some((glob) => globMatches(glob, file)), `${name}: ${file}`).toBe(true);
            expect(globs.some((glob) => globMatches(glob, "README.md")), name).toBe(false);
        }
    });

    function repository(): { dir: string; git: (...args: string[]) => string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-pr-formats-"));
        const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
        git("init", "-q", "-b", "feature");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), JSON.stringify({ name: "entra-rotor", runtime: "nodejs" }));
        for (const stack of ["a", "b", "c"]) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), JSON.stringify({ config: { "entra-rotor:apps": [{ name: `${stack}-app` }] } }));
        git("add", ".");
        git("commit", "-q", "-m", "base");
        git("update-ref", "refs/remotes/origin/main", "HEAD");
        return { dir, git };
    }

    function planStep(repo: string): { code: number; output: string; comment: string } {
        const job = workflowDoc(path.join(githubDir, "entra-rotor-pull-request.yml")).jobs["plan"]!;
        const step = job.steps.find((s) => s.run?.includes("npx rotor plan"))!;
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, v === "${{ github.base_ref }}" ? "main" : v]));
        const run = runScript(step.run!, { shell: "github", cwd: repo, env: { ...env, RUNNER_TEMP: temp }, rotor: path.join(repoRoot, "bin", "rotor.js"), now: new Date("2026-11-23T06:00:00Z") });
        const posted = String(job.steps.find((s) => s.uses?.startsWith("marocchino/"))!.with?.["path"]).replace("${{ runner.temp }}/", "");
        return { ...run, comment: fs.readFileSync(path.join(temp, posted), "utf8") };
    }

    it("plans every stack when a pull request adds Pulumi.json and a JSON stack file beside the YAML ones (observed: no identity changes)", () => {
        const { dir, git } = repository();
        const tier0 = "RoleManagement.ReadWrite.Directory";
        fs.writeFileSync(path.join(dir, "Pulumi.json"), JSON.stringify({ name: "entra-rotor", runtime: "nodejs" }));
        fs.writeFileSync(path.join(dir, "Pulumi.a.json"), JSON.stringify({ config: { "entra-rotor:apps": [{ name: "a-app", permissions: [{ api: "Microsoft Graph", application: [tier0] }] }] } }));
        git("add", "-A");
        git("commit", "-q", "-m", "change");
        const run = planStep(dir);
        expect(run.code, run.output).toBe(1);
        for (const stack of ["a", "b", "c"]) expect(run.comment).toContain(`### Stack \`${stack}\`\n\n## rotor plan failed`);
        expect(run.comment).toContain("2 project files");
        expect(run.comment).not.toContain("no identity changes");
    });

    it("plans a stack whose .yml or .json file alone changes, and names a deleted stack file of any format", () => {
        const { dir, git } = repository();
        fs.writeFileSync(path.join(dir, "Pulumi.b.yml"), JSON.stringify({ config: { "entra-rotor:apps": [] } }));
        fs.rmSync(path.join(dir, "Pulumi.c.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.d.json"), JSON.stringify({ config: { "entra-rotor:apps": [] } }));
        git("add", "-A");
        git("commit", "-q", "-m", "change");
        const run = planStep(dir);
        expect(run.code, run.output).toBe(1);
        // Pulumi.b.yml beside Pulumi.b.yaml, and Pulumi.d.json beside Pulumi.yaml: both refused, neither left out.
        expect(run.comment).toContain("### Stack `b`\n\n## rotor plan failed");
        expect(run.comment).toContain("2 stack files");
        expect(run.comment).toContain("### Stack `d`\n\n## rotor plan failed");
        expect(run.comment).toContain("is not read by Pulumi");
        expect(run.comment).toMatch(/### Stack `c`\n\n> \[!CAUTION\]\n> \*\*`Pulumi\.c\.yaml` is deleted by this pull request\.\*\*/);
        expect(run.comment).not.toContain("Stack `a`");
    });
});

describe("rotation pipelines hand off to manual consumers (issue 20)", () => {
    const rotations = [path.join(githubDir, "entra-rotor-rotate.yml"), tenantsWorkflow].map(shortName);
    const handoffSteps = (doc: Workflow) => allSteps(doc).filter(({ step }) => step.run !== undefined && rotorLines(step.run, "handoff-issues").length > 0);

    it.each(rotations)("%s: one rotor handoff-issues --usage step after pulumi up and retire, whatever the deployment did, with issues: write", (file) => {
        const text = read(path.join(repoRoot, file));
        const doc = workflowDoc(path.join(repoRoot, file));
        const found = handoffSteps(doc);
        expect(found).toHaveLength(1);
        const { job, definition, step } = found[0]!;
        const steps = definition.steps;
        const at = steps.indexOf(step);
        const deployAt = steps.findIndex((s) => s.run !== undefined && pulumiUpLines(s.run).length > 0);
        const retireAt = steps.findIndex((s) => s.run !== undefined && rotorLines(s.run, "retire").length > 0);
        expect(deployAt, job).toBeGreaterThanOrEqual(0);
        expect(at).toBeGreaterThan(deployAt);
        expect(at).toBeGreaterThan(retireAt);
        const line = rotorLines(step.run!, "handoff-issues")[0]!;
        expect(line).toMatch(/--stack ("\$STACK"|dev)(\s|$)/);
        expect(line).toMatch(/\s--usage(\s|$)/);
        expect(line).not.toContain("--dry-run");
        // Hand-offs follow the schedule, not the deployment: after a failed one too, never in a cancelled run.
        expect(runsAfterFailure(step.if), step.if).toBe(true);
        expect(step.if ?? "").not.toMatch(/always\(\)/);
        expect(step.if ?? "").not.toContain(`steps.${steps[deployAt]!.id}.`);
        expect(step["continue-on-error"]).toBeUndefined();
        // The job's token, to this step only, which may write issues and nothing more than the job already could.
        expect(definition.permissions?.["issues"], job).toBe("write");
        expect(step.env?.["GITHUB_TOKEN"]).toMatch(/^\$\{\{ (secrets\.GITHUB_TOKEN|github\.token) \}\}$/);
        for (const { step: other } of allSteps(doc).filter(({ step: s }) => s !== step)) expect(JSON.stringify(other.env ?? {}), other.name).not.toMatch(/GITHUB_TOKEN|github\.token/);
        expect(definition.env?.["GITHUB_TOKEN"]).toBeUndefined();
        expect(doc.permissions).toEqual({ contents: "read" });
        // Its exit code is the step's, through tee.
        expect(pipingSteps(doc).find((p) => p.run === step.run)?.pipefail).toBe(true);
        const comment = commentAbove(text, "npx rotor handoff-issues");
        for (const words of ["issues: write", "entra-rotor-handoff", "marker", "--usage", "docs/pipelines.md#hand-off-issues"]) expect(comment, words).toContain(words);
    });

    it.each(rotations)("%s: the hand-off step fails with rotor, after its summary is written", (file) => {
        const step = handoffSteps(workflowDoc(path.join(repoRoot, file)))[0]!.step;
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const summary = path.join(temp, "summary");
        for (const code of [0, 1]) {
            const run = runScript(step.run!, { shell: "github", cwd: temp, env: { STACK: "contoso", GITHUB_STEP_SUMMARY: summary }, fakes: { npx: code }, fakeOutput: { npx: "## Hand-off issues\n" } });
            expect(run.code, run.output).toBe(code);
            expect(run.calls).toEqual([`npx rotor handoff-issues --stack ${file.includes("tenants") ? "contoso" : "dev"} --usage --format markdown`]);
        }
        expect(fs.readFileSync(summary, "utf8")).toBe("## Hand-off issues\n## Hand-off issues\n");
    });

    it("the rule catches a hand-off step that waits for the deployment, or that the whole job's token reaches", () => {
        const text = read(path.join(githubDir, "entra-rotor-rotate.yml"));
        const waiting = parse(text.replace(/(- name: Open and close hand-off issues\n\s+if: )\$\{\{ !cancelled\(\) \}\}/, "$1${{ success() }}")) as Workflow;
        expect(runsAfterFailure(handoffSteps(waiting)[0]!.step.if)).toBe(false);
        const everywhere = parse(text.replace("      ARM_USE_OIDC: \"true\"\n", "      ARM_USE_OIDC: \"true\"\n      GITHUB_TOKEN: ${{ github.token }}\n")) as Workflow;
        expect(everywhere.jobs["rotate"]!.env?.["GITHUB_TOKEN"]).toBeDefined();
    });

    const agentDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "rotor-agent-"));
    /** The hand-off step of the Azure pipeline: offline, so a plain script. */
    const adoHandoffs = (doc = azureDoc()) => azureSteps(doc).filter(({ step }) => rotorLines(azureScript(step) ?? "", "handoffs").length > 0);

    it("Azure Pipelines: the rotation lists the open hand-offs offline, whatever the deployment did, never the value", () => {
        const doc = azureDoc();
        const found = adoHandoffs(doc);
        expect(found).toHaveLength(1);
        const { stage, step } = found[0]!;
        expect(stage).toBe("rotate");
        const rotate = azureSteps(doc).filter((s) => s.stage === "rotate").map((s) => s.step);
        expect(rotate.indexOf(step)).toBeGreaterThan(rotate.findIndex((s) => pulumiUpLines(azureScript(s) ?? "").length > 0));
        expect(step.condition).toBe("succeededOrFailed()");
        // Offline: no service connection, no token.
        expect(step.task).toBeUndefined();
        expect(step.script).toBeDefined();
        expect(rotorLines(step.script!, "handoffs")[0]).toMatch(/npx rotor handoffs --stack \$\(stack\) --format json /);
        expect(azureSteps(azureDoc()).filter(({ step: s }) => rotorLines(azureScript(s) ?? "", "handoff-issues").length > 0)).toEqual([]);
        expect(commentAbove(read(azureDevOps), "npx rotor handoffs")).toContain("docs/pipelines.md#hand-off-issues");
    });

    it("Azure Pipelines: each open hand-off becomes one warning, its text escaped so it cannot end the logging command", () => {
        const script = expandMacros(adoHandoffs()[0]!.step.script!, declaredVariables(azureDoc()));
        const handoff = (consumer: string, generation: number) => ({
            id: `entra-rotor/dev/vendor-sync/main/g${generation}/zendesk`,
            app: "vendor-sync",
            credential: "main",
            generation,
            consumer,
            owner: "@octocat",
            instructions: "https://wiki.contoso.com/zendesk-secret",
            keyVaultSecretName: "vendor-sync-main",
            deadline: "2027-06-01T00:00:00Z",
        });
        const document = { schemaVersion: 1, handoffs: [handoff("Zendesk", 12), handoff("Evil 100%\n##vso[task.setvariable variable=x]y\r", 13)] };
        const dir = agentDir();
        const run = runScript(script, { shell: "azure", cwd: dir, env: { AGENT_TEMPDIRECTORY: dir }, fakes: { npx: 0 }, fakeOutput: { npx: JSON.stringify(document) } });
        expect(run.code, run.output).toBe(0);
        expect(run.calls).toEqual(["npx rotor handoffs --stack dev --format json"]);
        const lines = run.output.split("\n").filter((l) => l !== "");
        expect(lines).toEqual([
            "##vso[task.logissue type=warning]hand-off entra-rotor/dev/vendor-sync/main/g12/zendesk: @octocat copies generation 12 of vendor-sync/main (Key Vault secret vendor-sync-main) into Zendesk before 2027-06-01T00:00:00Z: https://wiki.contoso.com/zendesk-secret",
            "##vso[task.logissue type=warning]hand-off entra-rotor/dev/vendor-sync/main/g13/zendesk: @octocat copies generation 13 of vendor-sync/main (Key Vault secret vendor-sync-main) into Evil 100%AZP25%0A##vso[task.setvariable variable=x]y%0D before 2027-06-01T00:00:00Z: https://wiki.contoso.com/zendesk-secret",
        ]);
        // rotor failing fails the step (plain bash on the agent: the script sets -e itself).
        const failed = runScript(script, { shell: "azure", cwd: dir, env: { AGENT_TEMPDIRECTORY: dir }, fakes: { npx: 1 } });
        expect(failed.code).not.toBe(0);
    });
});
