import * as fs from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildModelOrThrow } from "../infra/model/model";
import { rotor } from "./support/cli";
import { repoRoot, sampleStack } from "./support/program";
import { pipingSteps, type Workflow, type WorkflowJob } from "./support/workflows";

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
        for (const [name, job] of Object.entries(doc.jobs)) {
            const logsIn = job.steps.some((s) => s.uses?.startsWith("azure/login@"));
            if (logsIn) expect(job.permissions?.["id-token"], `${name} needs id-token: write for OIDC`).toBe("write");
        }
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
        const azureSteps = doc.stages.flatMap((s) => s.jobs.flatMap((j) => j.steps)).filter((s) => s.task === "AzureCLI@2");
        expect(azureSteps).toHaveLength(2);
        expect(azureSteps.map((s) => s.inputs?.["azureSubscription"])).toEqual(["entra-rotor-preview", "entra-rotor-deployer"]);
        for (const s of azureSteps) expect(s.inputs).toMatchObject({ addSpnToEnvironment: true });
        expect(read(azureDevOps)).not.toMatch(/clientSecret|AZURE_CLIENT_SECRET|\$\(\w*[Ss]ecret\w*\)/);
    });
});

describe("rotor commands in the pipelines", () => {
    const commands = [...workflows.map((f) => read(path.join(githubDir, f))), read(azureDevOps)].flatMap(rotorCommands);

    it("cover plan --base, summarize, verify and status", () => {
        expect(new Set(commands.map((c) => c[0]))).toEqual(new Set(["plan", "summarize", "verify", "status"]));
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
        for (const step of steps) expect(step.pipefail, `${file} ${step.job}: ${step.run}`).toBe(true);
        if (file === "entra-rotor-rotate.yml") expect(steps.length).toBeGreaterThanOrEqual(2);
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
        const connections = [...read(azureDevOps).matchAll(/azureSubscription: ([\w-]+)/g)].map((m) => m[1]!);
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
