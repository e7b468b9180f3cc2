import * as fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HandoffIssuesReport } from "../cli/github/handoffIssues";
import { main } from "../cli/main";
import { openHandoffs } from "../infra/model/handoffs";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { passwordDisplayName } from "../rotation/identifiers";
import { scheduleAt } from "../rotation/schedule";
import { projectDir } from "./support/cli";
import { type Deployment, deployToEmulator, emulatorIo, operator } from "./support/deployedStack";
import { type Emulator, startEmulator } from "./support/emulator";
import { type FakeGitHub, startFakeGitHub } from "./support/fakeGitHub";

/**
 * `rotor handoff-issues` end to end: a stack whose client secret a person copies into a vendor's admin panel (a
 * manual consumer), deployed into the local Azure emulator as `pulumi up` leaves it on the morning its generation
 * starts, and the local GitHub stand-in. The rotation opens exactly one issue with the deadline; a rerun opens
 * none; once the emulator records a sign-in with the new generation's key id, `--usage` closes it; the next
 * generation's rotation opens the next one and closes nothing twice. No secret value ever reaches GitHub or the
 * output. The real Graph client over HTTPS and the product's own GitHub client; nothing of the product is mocked.
 */

const hour = 3_600_000;
const day = 24 * hour;
const stackFile = (owner: string) => ({
    config: {
        "entra-rotor:keyVault": { name: "kv-contoso-identity", resourceGroup: "rg-identity" },
        "entra-rotor:apps": [
            {
                name: "vendor-sync",
                credentials: [
                    {
                        name: "main",
                        type: "secret",
                        consumers: [
                            { name: "mail-relay", reads: "keyVault", refreshHours: 24 },
                            { name: "Zendesk", reads: "manual", owner, instructions: "https://wiki.contoso.com/zendesk-secret" },
                        ],
                    },
                ],
            },
            // No manual consumer: its evidence is never read.
            { name: "mail-sender", credentials: [{ name: "main", type: "secret" }] },
        ],
    },
});

let dir: string;
let model: StackModel;
let emulator: Emulator;
let deployment: Deployment;
let github: FakeGitHub;
let identity: ReturnType<typeof operator>;
/** The morning of a rotation: the generation served at `rotation` started six hours before. */
let rotation: Date;
let generation: number;

async function setUp(owner = "@octocat", collaborators = ["octocat"]): Promise<void> {
    dir = projectDir({ dev: stackFile(owner) });
    const probe = buildModelOrThrow(readStackConfig(dir, "dev"), new Date("2027-03-01T00:00:00Z"));
    const credential = probe.apps[0]!.credentials[0]!;
    // The next generation's start after 2027-03-01, and the daily run six hours later.
    const start = Date.parse(scheduleAt(new Date("2027-03-01T00:00:00Z"), credential.policy, credential.phase).nextRotation);
    rotation = new Date(start + 6 * hour);
    model = buildModelOrThrow(readStackConfig(dir, "dev"), rotation);
    generation = model.apps[0]!.credentials[0]!.schedule.generation;
    emulator = await startEmulator({ now: rotation });
    deployment = await deployToEmulator(emulator, model, rotation);
    identity = operator(emulator, ["Application.Read.All", "AuditLog.Read.All"]);
    github = await startFakeGitHub({ collaborators, serverErrorRetryAfter: "0" });
}

beforeEach(async () => {
    await setUp();
});
afterEach(async () => {
    await emulator.close();
    await github.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** `rotor handoff-issues --stack dev --format json ...` at `now`, signed in to the emulator, GitHub's stand-in in the environment. */
async function handoffIssues(now: Date, ...args: string[]): Promise<Run & { report: HandoffIssuesReport }> {
    const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
    emulator.clock.set(now);
    const io = emulatorIo(emulator, deployment, identity.credential, now, out);
    const code = await main(["handoff-issues", "--stack", "dev", "--format", "json", "--dir", dir, ...args], { ...io, env: { ...io.env, ...github.env() } });
    runs.push(out);
    return { code, stdout: out.stdout, stderr: out.stderr, report: (out.stdout ? JSON.parse(out.stdout) : undefined) as HandoffIssuesReport };
}
const runs: { stdout: string; stderr: string }[] = [];
beforeEach(() => void (runs.length = 0));

const writes = () => github.requests.filter((r) => r.method !== "GET");
const newKey = () => deployment.served.get("vendor-sync/main")!.keyId;
/** The previous generation's key id: the value the consumer holds until it copies the new one. */
const oldKey = () =>
    deployment.apps.get("vendor-sync")!.passwordCredentials.find((p) => p.displayName === passwordDisplayName("main", ((generation - 1) % 2) as 0 | 1, generation - 1))!.keyId;

/** Every secret value the tenant and the vault hold: client secret texts and served values (PEM lines too). */
function secretValues(): string[] {
    const values = [...emulator.state.applications.values()].flatMap((a) => a.passwordCredentials.map((p) => p.secretText));
    for (const served of deployment.served.values()) values.push(served.value);
    return values.flatMap((v) => (v.includes("-----BEGIN") ? v.split("\n").filter((line) => line.length > 16 && !line.startsWith("-----")) : [v]));
}

/** Nothing GitHub holds, nothing rotor printed, carries a secret value or the GitHub token where it does not belong. */
function expectNoLeaks(): void {
    const values = secretValues();
    expect(values.length).toBeGreaterThanOrEqual(4);
    const texts = [
        ...github.issues.flatMap((i) => [i.title, i.body, ...i.comments]),
        ...github.requests.map((r) => JSON.stringify(r.body ?? "")),
        ...runs.flatMap((r) => [r.stdout, r.stderr]),
    ];
    expect(texts.length).toBeGreaterThan(3);
    for (const text of texts) {
        for (const value of values) expect(text.includes(value), "a secret value reached GitHub or the output").toBe(false);
        expect(text.includes(github.token), "the GitHub token reached GitHub's content or the output").toBe(false);
    }
    // The token went with every request to the stand-in, and only there: no other server exists in these tests but the emulator, which the client never calls.
    expect(new Set(github.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${github.token}`]));
}

describe("rotor handoff-issues against the emulator and GitHub's stand-in", () => {
    it("opens one issue at the rotation, none on a rerun, closes it on evidence of pickup, and opens the next generation's", async () => {
        const [handoff] = openHandoffs(model, rotation);
        expect(handoff!.generation).toBe(generation);

        // The rotation's morning: exactly one issue, assigned, labelled, with the deadline.
        const first = await handoffIssues(rotation);
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        expect(first.report.actions).toEqual([expect.objectContaining({ action: "open", handoffId: handoff!.id, issue: 1, result: "done" })]);
        expect(github.issues).toHaveLength(1);
        const issue = github.issues[0]!;
        expect(issue).toMatchObject({ state: "open", labels: ["entra-rotor-handoff"], assignees: ["octocat"] });
        expect(issue.title).toBe(`Hand-off: copy vendor-sync/main generation ${generation} to Zendesk by ${handoff!.deadline.slice(0, 10)}`);
        expect(issue.body).toContain(`<!-- entra-rotor-handoff: ${handoff!.id} -->`);
        expect(issue.body).toContain(`**${handoff!.deadline} (`);
        expect(issue.body).toContain("`vendor-sync-main`");
        expect(first.report.handoffs).toEqual([expect.objectContaining({ id: handoff!.id, issue: 1, usage: null })]);

        // The next day's run, and the one after with --usage before anyone copied the value: nothing opened twice.
        const rerun = await handoffIssues(new Date(rotation.getTime() + day));
        expect(rerun.code).toBe(0);
        expect(rerun.report.actions).toEqual([expect.objectContaining({ action: "keep", issue: 1, result: "none" })]);
        // The deployment's proof and rotor verify sign in with the new value; the vendor still uses the previous one.
        const app = deployment.apps.get("vendor-sync")!;
        emulator.state.recordSignIn(app, newKey(), new Date(rotation.getTime() + hour));
        emulator.state.recordSignIn(app, oldKey(), new Date(rotation.getTime() + day + hour));
        const waiting = await handoffIssues(new Date(rotation.getTime() + 2 * day), "--usage");
        expect(waiting.code).toBe(0);
        expect(waiting.report.actions[0]).toMatchObject({ action: "keep", issue: 1 });
        expect(waiting.report.handoffs[0]!.usage).toMatchObject({ state: "waiting", keyId: newKey().toLowerCase(), previousKeyId: oldKey().toLowerCase() });
        // Evidence read for the application with a hand-off, and only for it.
        expect(emulator.requests.filter({ route: "GET /beta/reports/appCredentialSignInActivities" }).length).toBe(1);
        expect(github.issues).toHaveLength(1);
        expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual(["POST /repos/contoso/identity/issues"]);

        // The vendor's admin panel switches on day 3: its last sign-in with the previous value is then; a week on
        // with nothing more from it (--used-within, default 7), --usage closes the issue, saying with what.
        const signedIn = new Date(rotation.getTime() + 3 * day);
        emulator.state.recordSignIn(app, oldKey(), new Date(signedIn.getTime() - hour));
        emulator.state.recordSignIn(app, newKey(), signedIn);
        const tooSoon = await handoffIssues(new Date(signedIn.getTime() + day), "--usage");
        expect(tooSoon.report.actions[0]).toMatchObject({ action: "keep", issue: 1 });
        const picked = await handoffIssues(new Date(signedIn.getTime() + 8 * day), "--usage");
        expect(picked.stderr).toBe("");
        expect(picked.code).toBe(0);
        expect(picked.report.actions).toEqual([expect.objectContaining({ action: "close", issue: 1, result: "done" })]);
        expect(issue).toMatchObject({ state: "closed", stateReason: "completed" });
        expect(issue.comments).toHaveLength(1);
        expect(issue.comments[0]).toContain(`\`${newKey().toLowerCase()}\``);
        expect(issue.comments[0]).toContain(signedIn.toISOString().replace(/\.000Z$/, "Z"));
        expect(issue.comments[0]).toContain("nobody signs in with the previous value any more");
        // ... once: a rerun finds it closed and leaves it.
        const after = await handoffIssues(new Date(signedIn.getTime() + 9 * day), "--usage");
        expect(after.report.actions).toEqual([expect.objectContaining({ action: "keep", issue: 1 })]);
        expect(issue.comments).toHaveLength(1);

        // The next generation's rotation: the pipeline made generation g + 1 (written into the emulator as the
        // program would), and the run opens its issue; the closed one is not touched again.
        const next = new Date(Date.parse(handoff!.deadline) + 6 * hour);
        const application = deployment.apps.get("vendor-sync")!;
        const slot = ((generation + 1) % 2) as 0 | 1;
        const made = emulator.state.addPassword(application, { displayName: passwordDisplayName("main", slot, generation + 1), startDateTime: handoff!.deadline, endDateTime: new Date(next.getTime() + 300 * day).toISOString() });
        const [nextHandoff] = openHandoffs(model, next);
        const rotated = await handoffIssues(next, "--usage");
        expect(rotated.code).toBe(0);
        expect(rotated.report.actions).toEqual([expect.objectContaining({ action: "open", handoffId: nextHandoff!.id, issue: 2, result: "done" })]);
        expect(rotated.report.handoffs[0]!.usage).toMatchObject({ state: "waiting", keyId: made.credential.keyId.toLowerCase() });
        expect(github.issues.map((i) => [i.number, i.state])).toEqual([[1, "closed"], [2, "open"]]);
        expect(github.issues[1]!.title).toContain(`generation ${generation + 1}`);
        expect(writes().filter((r) => r.method === "PATCH")).toHaveLength(1);
        expect(issue.comments).toHaveLength(1);
        expectNoLeaks();
    });

    it("closes a hand-off nobody picked up when the next generation supersedes it, naming the new issue", async () => {
        const [handoff] = openHandoffs(model, rotation);
        await handoffIssues(rotation);
        const next = new Date(Date.parse(handoff!.deadline) + 6 * hour);
        const run = await handoffIssues(next);
        expect(run.code).toBe(0);
        expect(run.report.actions.map((a) => [a.action, a.issue, a.result])).toEqual([
            ["open", 2, "done"],
            ["close", 1, "done"],
        ]);
        expect(github.issues[0]).toMatchObject({ state: "closed", stateReason: "not_planned" });
        const [nextHandoff] = openHandoffs(model, next);
        expect(github.issues[0]!.comments).toEqual([
            `Superseded by generation ${generation + 1}; the value it named (generation ${generation}) stops working on ${nextHandoff!.deadline}. Hand on generation ${generation + 1} instead: #2.\n\nClosed by \`rotor handoff-issues\`.`,
        ]);
        // A second run that day: nothing more.
        const again = await handoffIssues(new Date(next.getTime() + hour));
        expect(again.report.actions.map((a) => a.action)).toEqual(["keep"]);
        expect(github.issues).toHaveLength(2);
        expectNoLeaks();
    });

    it("--dry-run reads and says, and writes nothing", async () => {
        const run = await handoffIssues(rotation, "--dry-run", "--usage");
        expect(run.code).toBe(0);
        expect(run.report).toMatchObject({ dryRun: true, actions: [expect.objectContaining({ action: "open", issue: null, result: "dry-run" })] });
        expect(writes()).toEqual([]);
        expect(github.issues).toEqual([]);
    });

    it("opens the issue unassigned, saying so, when GitHub will not assign the owner", async () => {
        await emulator.close();
        await github.close();
        fs.rmSync(dir, { recursive: true, force: true });
        await setUp("@vendor-admin", ["octocat"]);
        const run = await handoffIssues(rotation);
        expect(run.code).toBe(0);
        expect(run.report.actions[0]).toMatchObject({ action: "open", issue: 1, result: "done", note: expect.stringContaining("GitHub would not assign @vendor-admin") });
        expect(github.issues).toHaveLength(1);
        expect(github.issues[0]!.assignees).toEqual([]);
        expect(github.issues[0]!.body).toContain("> GitHub would not assign this issue to `@vendor-admin`");
        expect(github.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([422, 201]);
    });

    it("exits 1 when a GitHub call fails for good, after doing the rest; a 5xx or a secondary rate limit alone is retried", async () => {
        github.fail("secondaryRateLimit", 1, "POST /issues");
        github.fail("serverError", 1, "GET /issues");
        const retried = await handoffIssues(rotation);
        expect(retried.code).toBe(0);
        expect(github.issues).toHaveLength(1);

        const [handoff] = openHandoffs(model, rotation);
        const next = new Date(Date.parse(handoff!.deadline) + 6 * hour);
        // Opening the next one fails every time; closing the superseded one still runs.
        github.fail("serverError", 10, "POST /issues");
        const failed = await handoffIssues(next);
        expect(failed.code).toBe(1);
        expect(failed.report.actions.map((a) => [a.action, a.result])).toEqual([
            ["open", "failed"],
            ["close", "done"],
        ]);
        expect(failed.report.actions[0]!.note).toMatch(/POST \/repos\/contoso\/identity\/issues: GitHub answered 502/);
        expect(github.issues[0]!.comments[0]).toContain(`Hand on generation ${generation + 1} instead.`);
        expectNoLeaks();
    });

    it("never opens twice when GitHub opened the issue and still answered 502: it looks again instead of retrying", async () => {
        github.fail("serverErrorAfter", 1, "POST /issues");
        const run = await handoffIssues(rotation);
        expect(run.code).toBe(0);
        expect(run.report.actions).toEqual([expect.objectContaining({ action: "open", issue: 1, result: "done" })]);
        expect(github.issues).toHaveLength(1);
        expect(github.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "POST 502", "GET 200"]);
        // A 502 before anything was done: looked again, nothing there, opened on the second try.
        const [handoff] = openHandoffs(model, rotation);
        github.fail("serverError", 1, "POST /issues");
        const next = await handoffIssues(new Date(Date.parse(handoff!.deadline) + 6 * hour));
        expect(next.code).toBe(0);
        expect(github.issues.map((i) => i.number)).toEqual([1, 2]);
        expectNoLeaks();
    });

    it("without GitHub's settings it stops before reading anything, saying what to set", async () => {
        const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
        const code = await main(["handoff-issues", "--stack", "dev", "--dir", dir], emulatorIo(emulator, deployment, identity.credential, rotation, out));
        expect(code).toBe(1);
        expect(out.stderr).toBe("rotor: GITHUB_REPOSITORY is not set: give the repository as owner/name (GitHub Actions sets it)\n");
        expect(github.requests).toEqual([]);
    });

    it("prints a table and markdown for the run's summary", async () => {
        const out = { stdout: "", stderr: "", requests: {} as Record<string, number> };
        const io = emulatorIo(emulator, deployment, identity.credential, rotation, out);
        const env = { ...io.env, ...github.env() };
        expect(await main(["handoff-issues", "--stack", "dev", "--dir", dir, "--dry-run"], { ...io, env })).toBe(0);
        expect(out.stdout.split("\n")[0]).toBe(`entra-rotor / dev at ${rotation.toISOString().replace(/\.000Z$/, "Z")}, GitHub contoso/identity: 1 open hand-off, 1 issue to open, 0 to close, 0 kept (dry run: nothing was changed on GitHub)`);
        expect(out.stdout).toMatch(/ACTION\s+ISSUE\s+RESULT\s+HAND-OFF\s+REASON\n\s+open\s+-\s+dry-run\s+entra-rotor\/dev\/vendor-sync\/main\/g\d+\/zendesk/);
        out.stdout = "";
        expect(await main(["handoff-issues", "--stack", "dev", "--dir", dir, "--format", "markdown"], { ...io, env })).toBe(0);
        expect(out.stdout).toMatch(/^## Hand-off issues: entra-rotor \/ dev\n/);
        expect(out.stdout).toContain("| open | #1 | done | `entra-rotor/dev/vendor-sync/main/g");
    });
});
