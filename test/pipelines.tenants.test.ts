import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildModelOrThrow } from "../infra/model/model";
import { projectStacks, readStackConfig } from "../infra/model/stackFiles";
import { rotor } from "./support/cli";
import { mockKey, mockSelfSignedCertificate } from "./support/mockCertificates";
import { repoRoot } from "./support/program";
import { pipingSteps, runScript, type Workflow, type WorkflowStep } from "./support/workflows";

/**
 * The many-tenants example (examples/many-tenants): one stack per tenant, one multi-tenant deployer with one
 * federated credential, and a workflow that rotates every tenant's stack as a matrix. It must work when
 * copied: the workflow passes GitHub's schema, pins its actions as the other examples do, signs in with OIDC
 * only, lists the stacks with the command it runs, and signs in as the identity the home stack declares.
 */

const exampleDir = path.join(repoRoot, "examples", "many-tenants");
const workflowFile = path.join(exampleDir, "entra-rotor-rotate-tenants.yml");
const read = (file: string) => fs.readFileSync(file, "utf8");
const workflowText = read(workflowFile);

const workflow = parse(workflowText) as Workflow;

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The stack that holds the deployer; an administrator deploys it, the matrix leaves it out. */
const homeStack = "home";
const at = new Date("2026-11-23T06:00:00Z");
const model = (stack: string) => buildModelOrThrow(readStackConfig(exampleDir, stack, { cwd: repoRoot }), at);
const tenantStacks = projectStacks(exampleDir).filter((stack) => stack !== homeStack);


describe("the tenants workflow", () => {
    it("passes the workflow validator", () => {
        expect(validateWorkflow(workflowText).errors).toEqual([]);
    });

    it("pins every action to the version the other examples use", () => {
        const usesOf = (text: string) => [...text.matchAll(/uses: ([^\s#]+)/g)].map((m) => m[1]!);
        const pinned = new Set(fs.readdirSync(path.join(repoRoot, "examples", "github")).flatMap((f) => usesOf(read(path.join(repoRoot, "examples", "github", f)))));
        const uses = usesOf(workflowText);
        expect(uses.length).toBeGreaterThan(0);
        for (const action of uses) {
            expect(action, action).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
            expect(pinned, `${action}: pin it as examples/github does`).toContain(action);
        }
    });

    it("signs in to Azure with OIDC only: no stored secret, id-token: write wherever it signs in", () => {
        expect(workflowText).not.toMatch(/secrets\.(?!GITHUB_TOKEN)/);
        const signingIn = Object.entries(workflow.jobs).filter(([, job]) => job.steps.some((s) => s.uses?.startsWith("azure/login@")));
        expect(signingIn.map(([name]) => name)).toEqual(["rotate"]);
        for (const [name, job] of Object.entries(workflow.jobs)) {
            const logsIn = job.steps.some((s) => s.uses?.startsWith("azure/login@"));
            if (logsIn) expect(job.permissions?.["id-token"], `${name} needs id-token: write for OIDC`).toBe("write");
            else expect(job.permissions?.["id-token"], `${name} signs in nowhere: no token`).toBeUndefined();
        }
        // The workflow's own permissions give no token to a job that does not ask.
        expect(parse(workflowText).permissions).toEqual({ contents: "read" });
    });

    it("runs every step with a pipe under bash -eo pipefail", () => {
        const steps = pipingSteps(workflow);
        for (const step of steps) expect(step.pipefail, `${step.job}: ${step.run}`).toBe(true);
        // The listing, verify and status.
        expect(steps.length).toBeGreaterThanOrEqual(3);
    });

    it("runs its commands in the example's folder, npm ci at the repository's root", () => {
        expect(path.resolve(repoRoot, workflow.defaults?.run?.["working-directory"] ?? ".")).toBe(exampleDir);
        for (const job of Object.values(workflow.jobs)) {
            const install = job.steps.find((s) => s.run === "npm ci");
            expect(install?.["working-directory"]).toBe(".");
        }
    });

    it("deploys each tenant's stack as a matrix job: one tenant failing never cancels the others", () => {
        const rotate = workflow.jobs["rotate"]!;
        expect(rotate.needs).toBe("stacks");
        expect(workflow.jobs["stacks"]!.outputs?.["stacks"]).toBe("${{ steps.list.outputs.stacks }}");
        expect(rotate.strategy?.["fail-fast"]).toBe(false);
        expect(rotate.strategy?.["max-parallel"]).toBeGreaterThan(0);
        expect(rotate.strategy?.matrix).toEqual({ include: "${{ fromJSON(needs.stacks.outputs.stacks) }}" });
        // Never two deployments of one stack at once, and a queued one is not cancelled.
        expect(rotate.concurrency).toEqual({ group: "entra-rotor-rotate-${{ matrix.stack }}", "cancel-in-progress": false });
        expect(rotate.env).toMatchObject({ ARM_USE_OIDC: "true", ARM_TENANT_ID: "${{ matrix.tenant }}", STACK: "${{ matrix.stack }}" });
        expect(rotate.env?.["ARM_SUBSCRIPTION_ID"]).toBeUndefined();
        const deploy = rotate.steps.find((s) => s.run?.startsWith("pulumi up"))!;
        expect(deploy.run).toBe('pulumi up --stack "$STACK" --refresh --yes --skip-preview --continue-on-error');
    });

    it("signs in to the home tenant before Pulumi (state, secrets key), then to the stack's tenant before rotor", () => {
        const steps = workflow.jobs["rotate"]!.steps;
        const logins = steps.map((s, i) => ({ s, i })).filter(({ s }) => s.uses?.startsWith("azure/login@"));
        expect(logins).toHaveLength(2);
        const [home, tenant] = logins as [{ s: WorkflowStep; i: number }, { s: WorkflowStep; i: number }];
        const index = (match: (s: WorkflowStep) => boolean) => steps.findIndex(match);
        expect(home.i).toBeLessThan(index((s) => s.uses?.startsWith("pulumi/actions@") === true));
        expect(home.i).toBeLessThan(index((s) => s.run?.startsWith("pulumi up") === true));
        expect(tenant.i).toBeGreaterThan(index((s) => s.run?.startsWith("pulumi up") === true));
        expect(tenant.i).toBeLessThan(index((s) => s.run?.includes("rotor verify") === true));
        expect(home.s.with?.["tenant-id"]).toBe("${{ vars.AZURE_HOME_TENANT_ID }}");
        expect(tenant.s.with).toMatchObject({ "tenant-id": "${{ matrix.tenant }}", "allow-no-subscriptions": true });
        // One identity for both, and for the providers: the multi-tenant deployer.
        const clientIds = new Set([home.s.with?.["client-id"], tenant.s.with?.["client-id"], workflow.jobs["rotate"]!.env?.["ARM_CLIENT_ID"]]);
        expect([...clientIds]).toEqual(["${{ vars.AZURE_TENANTS_CLIENT_ID }}"]);
    });

    it("retires what the tenant's stack marks after its deployment succeeded, signed in to its tenant, before verify and status", () => {
        const steps = workflow.jobs["rotate"]!.steps;
        const index = (match: (s: WorkflowStep) => boolean) => steps.findIndex(match);
        const retire = index((s) => s.run?.includes("npx rotor retire") === true);
        expect(retire).toBeGreaterThan(index((s) => s.run?.startsWith("pulumi up") === true));
        expect(retire).toBeGreaterThan(index((s) => s.id === "tenant-login"));
        expect(retire).toBeLessThan(index((s) => s.run?.includes("rotor verify") === true));
        const step = steps[retire]!;
        expect(step.run).toBe('npx rotor retire --stack "$STACK" --yes --format markdown | tee -a "$GITHUB_STEP_SUMMARY"');
        expect(step.if).toBe("${{ success() && steps.deploy.outcome == 'success' && steps.tenant-login.outcome == 'success' }}");
        // The listing, retire, verify and status pipe; each fails its step with rotor's exit code.
        expect(pipingSteps(workflow).filter((p) => p.run === step.run)).toEqual([{ job: "rotate", run: step.run, pipefail: true }]);
    });
});

/** What the listing step writes: the matrix (`stacks=` in $GITHUB_OUTPUT), its annotations and its step summary. */
interface Listing {
    readonly code: number;
    readonly output: string;
    readonly matrix: { stack: string; tenant: string | null; valid: boolean }[] | undefined;
    readonly summary: string;
}

/** Runs the workflow's listing step, as GitHub would, in a copy of the example with these stack files added. */
function runListing(extraStacks: Record<string, string> = {}, extraFiles: Record<string, string> = {}): Listing {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-tenants-"));
    fs.cpSync(exampleDir, dir, { recursive: true });
    for (const [stack, text] of Object.entries(extraStacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    for (const [file, text] of Object.entries(extraFiles)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
    const [outputFile, summaryFile] = [path.join(temp, "output"), path.join(temp, "summary")];
    fs.writeFileSync(outputFile, "");
    fs.writeFileSync(summaryFile, "");
    const step = workflow.jobs["stacks"]!.steps.find((s) => s.id === "list")!;
    const run = runScript(step.run!, {
        shell: "github",
        cwd: dir,
        env: { RUNNER_TEMP: temp, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile },
        rotor: path.join(repoRoot, "bin", "rotor.js"),
        now: at,
    });
    const line = fs.readFileSync(outputFile, "utf8").split("\n").find((l) => l.startsWith("stacks="));
    return { code: run.code, output: run.output, matrix: line === undefined ? undefined : JSON.parse(line.slice("stacks=".length)), summary: fs.readFileSync(summaryFile, "utf8") };
}

/** A tenant's stack as a pull request might break it: an unknown permission (a config error, found offline). */
const brokenStack = () => read(path.join(exampleDir, "Pulumi.contoso.yaml")).replace("User.Read.All", "User.Read.Alll");

describe("the matrix the workflow lists", () => {
    it("the listing step runs rotor plan --all-stacks --format json and writes the matrix to $GITHUB_OUTPUT", () => {
        const step = workflow.jobs["stacks"]!.steps.find((s) => s.id === "list")!;
        expect(step.run).toContain("npx rotor plan --all-stacks --format json");
        expect(step.run).toContain('>> "$GITHUB_OUTPUT"');
    });

    it("holds every tenant's stack, each with its tenant's GUID, and not the home stack", async () => {
        const run = await rotor(["plan", "--all-stacks", "--format", "json", "--dir", exampleDir], { cwd: repoRoot, now: at });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const listed = runListing();
        expect(listed.code, listed.output).toBe(0);
        expect(listed.matrix!.map((m) => m.stack)).toEqual(tenantStacks);
        expect(listed.matrix!.length).toBeGreaterThanOrEqual(2);
        for (const { stack, tenant, valid } of listed.matrix!) {
            expect(tenant, stack).toMatch(guid);
            expect(tenant, stack).toBe(model(stack).tenantId);
            expect(valid, stack).toBe(true);
        }
        expect(listed.output).not.toContain("::error::");
    });

    it("one invalid stack is reported and still listed, so its own job fails; the listing and the other tenants go on", () => {
        expect(brokenStack()).toContain("User.Read.Alll");
        const listed = runListing({ broken: brokenStack() });
        expect(listed.code, listed.output).toBe(0);
        expect(listed.matrix).toEqual([
            { stack: "broken", tenant: null, valid: false },
            ...tenantStacks.map((stack) => ({ stack, tenant: model(stack).tenantId, valid: true })),
        ]);
        // An annotation per error, naming the stack and the config path; and rotor's own markdown in the summary.
        expect(listed.output).toMatch(/^::error::stack broken is invalid and is not deployed until it is fixed: apps\[\d+\]\.permissions\[\d+\]\.application\[\d+\]: unknown Microsoft Graph application permission "User\.Read\.Alll"/m);
        expect(listed.summary).toContain("> **Invalid config:**");
        expect(listed.summary).toContain("broken");
    });

    it("a stack whose certificate file expired is listed to deploy (the rest of it rotates), with an annotation naming the certificate", () => {
        const key = mockKey("expired-partner");
        const expired = mockSelfSignedCertificate(key.pkcs1, { commonName: "Fabrikam export" }, "2026-01-01T00:00:00Z", 24 * 300);
        const stack = read(path.join(exampleDir, "Pulumi.contoso.yaml")).replace(
            "  entra-rotor:apps:\n",
            "  entra-rotor:apps:\n    - name: partner-import\n      credentials:\n        - name: partner\n          type: certificate\n          file: certs/partner.cer\n",
        );
        expect(stack).toContain("certs/partner.cer");
        const listed = runListing({ expiring: stack.replace(/kv-contoso-corp-rotor/g, "kv-expiring-rotor") }, { "certs/partner.cer": expired });
        expect(listed.code, listed.output).toBe(0);
        expect(listed.matrix).toContainEqual({ stack: "expiring", tenant: model("contoso").tenantId, valid: true });
        expect(listed.output).toMatch(/^::error::stack expiring has a credential in error, left as deployed while the rest deploys: apps\[0\]\.credentials\[0\]\.file: certs\/partner\.cer: the certificate expired on 2026-10-28T00:00:00Z/m);
        expect(listed.output).not.toContain("is invalid");
    });

    it("fails only when there is no list at all, saying so", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-tenants-"));
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const step = workflow.jobs["stacks"]!.steps.find((s) => s.id === "list")!;
        const run = runScript(step.run!, { shell: "github", cwd: dir, env: { RUNNER_TEMP: temp, GITHUB_OUTPUT: path.join(temp, "o"), GITHUB_STEP_SUMMARY: path.join(temp, "s") }, rotor: path.join(repoRoot, "bin", "rotor.js"), now: at });
        expect(run.code).toBe(1);
        expect(run.output).toContain("::error::rotor plan --all-stacks listed no stacks (exit 1)");
    });

    it("escapes an error's line breaks in its annotation, so a message cannot end the workflow command", () => {
        const step = workflow.jobs["stacks"]!.steps.find((s) => s.id === "list")!;
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rotor-runner-temp-"));
        const listing = { schemaVersion: 1, at: "2026-11-23T06:00:00Z", stacks: [{ stack: "x", tenantId: null, plan: null, errors: [{ path: "a", message: "one\n::error::forged 100%" }], source: "Pulumi.x.yaml" }] };
        // The stand-in rotor prints this document and exits 1, as rotor does for an invalid stack.
        const script = step.run!.replace(/npx rotor plan --all-stacks --format json/, `(printf '%s' '${JSON.stringify(listing)}'; false)`).replace(/npx rotor plan --stacks [^\n]*/, "true");
        const run = runScript(script, { shell: "github", cwd: temp, env: { RUNNER_TEMP: temp, GITHUB_OUTPUT: path.join(temp, "o"), GITHUB_STEP_SUMMARY: path.join(temp, "s") } });
        expect(run.code, run.output).toBe(0);
        expect(run.output).toContain("::error::stack x is invalid and is not deployed until it is fixed: a: one%0A::error::forged 100%25\n");
        expect(run.output.match(/^::error::/gm)).toHaveLength(1);
    });

    it("the matrix job of an invalid stack, or of one without a tenant, fails at its first check, before signing in anywhere", () => {
        const steps = workflow.jobs["rotate"]!.steps;
        const check = steps.find((s) => s.id === "config")!;
        expect(steps.indexOf(check)).toBeLessThan(steps.findIndex((s) => s.uses?.startsWith("azure/login@")));
        expect(check.env).toEqual({ VALID: "${{ matrix.valid }}" });
        const run = (env: Record<string, string>) => runScript(check.run!, { shell: "github", cwd: os.tmpdir(), env: { STACK: "contoso", ...env } });
        const invalid = run({ VALID: "false", ARM_TENANT_ID: "" });
        expect(invalid.code).toBe(1);
        expect(invalid.output).toMatch(/^::error::stack contoso is invalid/);
        const tenantless = run({ VALID: "true", ARM_TENANT_ID: "" });
        expect(tenantless.code).toBe(1);
        expect(tenantless.output).toMatch(/^::error::stack contoso names no azuread:tenantId/);
        expect(run({ VALID: "true", ARM_TENANT_ID: model("contoso").tenantId! }).code).toBe(0);
    });
});

describe("rotor commands in the tenants workflow", () => {
    const commands = [...workflowText.matchAll(/npx rotor ([^\n|>]+)/g)].map((m) => m[1]!.trim().split(/\s+/));

    it("cover plan (the listing, and the invalid stacks' summary), retire, verify, status and handoff-issues", () => {
        expect(commands.map((c) => c[0])).toEqual(["plan", "plan", "retire", "verify", "status", "handoff-issues"]);
    });

    it.each(commands.map((c) => [c.join(" "), c] as const))("rotor %s is accepted by the CLI", async (_line, command) => {
        const run = await rotor([command[0]!, "--help"], { cwd: repoRoot });
        expect(run.code).toBe(0);
        for (const option of command.filter((a) => a.startsWith("--"))) expect(run.stdout, `${command[0]} ${option}`).toContain(option);
    });
});

describe("the stacks the workflow deploys", () => {
    /** The example repository as its OIDC tokens name it: GitHub's immutable subject, owner and repository ids. */
    const repository = "contoso@5544123/entra-tenants@903318274";
    const home = model(homeStack);

    it("the matrix job's token is trusted by one federated credential of the home stack's multi-tenant deployer", () => {
        const job = workflow.jobs["rotate"]!;
        const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
        expect(environment).toBe("production");
        const subject = `repo:${repository}:environment:${environment}`;
        const matches = home.apps.flatMap((app) => app.federatedCredentials.filter((c) => c.issuer === "https://token.actions.githubusercontent.com" && c.subject === subject).map(() => app));
        expect(matches.map((app) => app.name)).toEqual(["tenants-deployer"]);
        const deployer = matches[0]!;
        expect(deployer.signInAudience).toBe("AzureADMultipleOrgs");
        // One credential for every tenant: the credential is the application's, wherever it is consented.
        expect(deployer.federatedCredentials).toHaveLength(1);
        expect(deployer.credentials).toEqual([]);
        expect(deployer.permissions.map((p) => p.name)).toEqual(["Application.ReadWrite.OwnedBy"]);
    });

    it("each tenant's stack has a tenant and a vault of its own, neither the home tenant's", () => {
        expect(tenantStacks.length).toBeGreaterThanOrEqual(2);
        const models = tenantStacks.map(model);
        const tenants = models.map((m) => m.tenantId);
        for (const tenant of tenants) expect(tenant).toMatch(guid);
        expect(new Set(tenants).size).toBe(tenants.length);
        expect(tenants).not.toContain(home.tenantId);
        const vaults = models.map((m) => m.keyVault?.name.toLowerCase());
        for (const [i, vault] of vaults.entries()) expect(vault, tenantStacks[i]).toBeDefined();
        expect(new Set(vaults).size).toBe(vaults.length);
        for (const m of models) expect(m.apps.some((app) => app.credentials.length > 0), m.stack).toBe(true);
    });

    it("each tenant's stack points both providers at its tenant, and azure-native at its own subscription", () => {
        const subscriptions: string[] = [];
        for (const stack of tenantStacks) {
            const config = (parse(read(path.join(exampleDir, `Pulumi.${stack}.yaml`))) as { config: Record<string, unknown> }).config;
            // Stack config wins over ARM_TENANT_ID: this is what keeps a job inside its tenant.
            expect(config["azure-native:tenantId"], stack).toBe(config["azuread:tenantId"]);
            expect(config["azure-native:subscriptionId"], stack).toMatch(guid);
            subscriptions.push(config["azure-native:subscriptionId"] as string);
        }
        expect(new Set(subscriptions).size).toBe(subscriptions.length);
    });
});
