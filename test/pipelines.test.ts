import * as fs from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { rotor } from "./support/cli";
import { repoRoot } from "./support/program";

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
        for (const s of azureSteps) expect(s.inputs).toMatchObject({ azureSubscription: "entra-rotor-deployer", addSpnToEnvironment: true });
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
