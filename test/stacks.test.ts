import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import type { StacksPlan } from "../cli/review/planStacks";
import { projectDir, rotor } from "./support/cli";
import { repoRoot } from "./support/program";
import { rawHtmlOf } from "./support/hostile";

/** Several stacks, one per tenant, as a service provider keeps them: one table and one JSON document. */

const at = new Date("2027-03-01T06:00:00Z");
const tenants = { contoso: "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7", fabrikam: "0f8fad5b-d4e0-4f3a-9c22-7b1c5e0c3a11" };

function tenantStack(tenant: string, vault: string, apps: unknown[]): Record<string, unknown> {
    return { config: { "azuread:tenantId": tenant, "entra-rotor:keyVault": { name: vault, resourceGroup: "rg-identity" }, "entra-rotor:apps": apps } };
}

function provider(): string {
    const mail = { name: "mail-sender", permissions: [{ api: "Microsoft Graph", application: ["Mail.Send"] }], allowPrivileged: [{ permission: "Mail.Send", justification: "Sends invoices from one mailbox; an access policy limits it." }], credentials: [{ name: "main", type: "secret" }] };
    const deployer = { name: "deployer", permissions: [{ api: "Microsoft Graph", application: ["Application.ReadWrite.OwnedBy"] }], allowPrivileged: [{ permission: "Application.ReadWrite.OwnedBy", justification: "Deploys this tenant's registrations; owns only its own apps." }], credentials: [{ name: "ci", type: "secret" }] };
    return projectDir({
        contoso: tenantStack(tenants.contoso, "kv-contoso-id", [mail, deployer]),
        fabrikam: tenantStack(tenants.fabrikam, "kv-fabrikam-id", [mail]),
        broken: { config: { "entra-rotor:apps": [{ name: "x" }] } },
    });
}

describe("rotor plan over several stacks", () => {
    it("prints one table of the stacks and one of the credentials, the stack first, and exits 1 for the invalid one without hiding the others", async () => {
        const dir = provider();
        const run = await rotor(["plan", "--all-stacks"], { cwd: dir, now: at });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^rotor: broken: Pulumi\.broken\.yaml: 1 config error:\n {2}apps\[0\]\.name: /);
        const lines = run.stdout.split("\n");
        expect(lines[0]).toBe("3 stacks at 2027-03-01T06:00:00Z: 3 apps, 3 rotating credentials; 1 with an invalid config");
        expect(run.stdout).toContain("Privileged application permissions:\n  contoso/deployer: Application.ReadWrite.OwnedBy on Microsoft Graph (tier 0, justified)\n  contoso/mail-sender: Mail.Send on Microsoft Graph (tier 1, justified)\n  fabrikam/mail-sender: Mail.Send");
        expect(run.stdout).toMatch(/ {2}STACK +TENANT +APPS/);
        expect(run.stdout).toMatch(/ {2}broken +- .* INVALID: 1 error/);
        expect(run.stdout).toMatch(new RegExp(`  contoso +${tenants.contoso} +2 `));
        expect(run.stdout).toMatch(/ {2}fabrikam +mail-sender +main +secret/);
    });

    it("gives one JSON document: each stack's plan, or its errors", async () => {
        const run = await rotor(["plan", "--stacks", "fabrikam,contoso", "--format", "json"], { cwd: provider(), now: at });
        expect(run.code).toBe(0);
        const doc = JSON.parse(run.stdout) as StacksPlan;
        expect(doc.schemaVersion).toBe(1);
        expect(doc.at).toBe("2027-03-01T06:00:00Z");
        expect(doc.stacks.map((s) => [s.stack, s.tenantId, s.plan?.totals.apps])).toEqual([
            ["fabrikam", tenants.fabrikam, 1],
            ["contoso", tenants.contoso, 2],
        ]);
        const broken = JSON.parse((await rotor(["plan", "--stacks", "broken", "--format", "json"], { cwd: provider(), now: at })).stdout) as StacksPlan;
        expect(broken.stacks[0]).toMatchObject({ stack: "broken", plan: null, errors: [{ path: "apps[0].name", message: expect.any(String) }] });
    });

    it("puts what needs attention first in markdown, across stacks", async () => {
        const run = await rotor(["plan", "--all-stacks", "--format", "markdown"], { cwd: provider(), now: at });
        const lines = run.stdout.split("\n");
        expect(lines.slice(0, 4)).toEqual(["## Credential plan: several stacks", "", "> [!WARNING]", "> **Privileged application permissions:**"]);
        expect(run.stdout).toContain("> **Invalid config:**\n> - broken: apps\\[0\\].name:");
        expect(rawHtmlOf(run.stdout)).toEqual([]);
    });

    it("asks for exactly one way of naming stacks, refuses names that are paths, and keeps --base to one stack", async () => {
        const dir = provider();
        expect((await rotor(["plan"], { cwd: dir, now: at })).stderr).toContain("say which stack: --stack <name>, --stacks <a,b,c> or --all-stacks");
        expect((await rotor(["plan", "--stack", "contoso", "--all-stacks"], { cwd: dir, now: at })).stderr).toContain("give one of --stack, --stacks and --all-stacks");
        const path = await rotor(["plan", "--stacks", "contoso,../../etc/x"], { cwd: dir, now: at });
        expect(path.code).toBe(1);
        expect(path.stderr).toContain("is not a stack name");
        const base = await rotor(["plan", "--all-stacks", "--base", "main"], { cwd: dir, now: at });
        expect(base.code).toBe(1);
        expect(base.stderr).toContain("--base compares one stack's config");
        const none = projectDir({});
        expect((await rotor(["plan", "--all-stacks"], { cwd: none, now: at })).stderr).toContain("no stacks here");
    });

    it("finds the stacks under the project's stackConfigDir", async () => {
        const dir = projectDir({}, { name: "entra-rotor", runtime: "nodejs", stackConfigDir: "stacks" });
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.one.yaml"), stringify({ config: { "entra-rotor:apps": [] } }));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.two.yml"), stringify({ config: { "entra-rotor:apps": [] } }));
        const doc = JSON.parse((await rotor(["plan", "--all-stacks", "--format", "json"], { cwd: dir, now: at })).stdout) as StacksPlan;
        expect(doc.stacks.map((s) => s.stack)).toEqual(["one", "two"]);
    });

    it("with one stack, --stack keeps the single-stack plan the README shows", async () => {
        const run = await rotor(["plan", "--stack", "dev", "--at", "2027-03-01"], { cwd: repoRoot });
        expect(run.stdout.split("\n")[0]).toMatch(/^entra-rotor \/ dev at 2027-03-01T00:00:00Z:/);
    });
});
