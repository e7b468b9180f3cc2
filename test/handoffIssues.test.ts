import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitHubClient, GitHubError, gitHubApiUrl, gitHubSettings, nextLink } from "../cli/github/client";
import {
    decideIssueActions,
    type ExistingIssue,
    handoffLabel,
    handoffMarker,
    httpsLink,
    issueBody,
    issueTitle,
    markerOf,
    parseHandoffId,
    type CloseIssueAction,
    type OpenIssueAction,
} from "../cli/github/handoffIssues";
import type { HandoffUsage } from "../cli/live/handoffEvidence";
import { type Handoff, openHandoffs } from "../infra/model/handoffs";
import { buildModelOrThrow, type StackModel } from "../infra/model/model";
import { type FakeGitHub, startFakeGitHub } from "./support/fakeGitHub";
import { markupFragments, rawHtmlOf, renderComment, tableRowCounts } from "./support/hostile";

/**
 * `rotor handoff-issues`' decisions, as a pure function of the open hand-offs, the issues carrying the hand-off
 * label and the sign-in evidence: open once, never twice, never reopen; close on pickup or when a newer
 * generation supersedes; the text escaped like every comment. And its GitHub client against the local stand-in:
 * paging, retries, the token sent to the API's origin only.
 */

const at = new Date("2027-03-01T06:00:00Z");
const keyVault = { name: "kv-contoso-identity", resourceGroup: "rg-identity" };
const zendesk = { name: "Zendesk", reads: "manual", owner: "@octocat", instructions: "https://wiki.contoso.com/zendesk-secret" };

function modelWith(consumers: readonly Record<string, unknown>[], when = at): StackModel {
    return buildModelOrThrow({ project: "entra-rotor", stack: "dev", values: { keyVault, apps: [{ name: "vendor-sync", credentials: [{ name: "main", type: "secret", consumers }] }] }, source: "t" }, when);
}

const model = modelWith([zendesk]);
const [handoff] = openHandoffs(model, at) as [Handoff];
const decide = (issues: readonly ExistingIssue[], usage?: ReadonlyMap<string, HandoffUsage>, handoffs: readonly Handoff[] = [handoff], when = at) =>
    decideIssueActions({ project: "entra-rotor", stack: "dev", handoffs, issues, ...(usage ? { usage } : {}), at: when });
const issue = (number: number, body: string, state: "open" | "closed" = "open"): ExistingIssue => ({ number, title: "t", body, state, labels: [handoffLabel], assignees: [] });

describe("which issue to open, keep or close", () => {
    it("opens one issue for an open hand-off with no issue: marker, deadline, owner assigned", () => {
        const actions = decide([]);
        expect(actions).toHaveLength(1);
        const open = actions[0] as OpenIssueAction;
        expect(open).toMatchObject({ action: "open", handoffId: handoff.id, issue: null, labels: [handoffLabel], assignees: ["octocat"] });
        expect(handoff.id).toMatch(/^entra-rotor\/dev\/vendor-sync\/main\/g\d+\/zendesk$/);
        expect(open.body.startsWith(`${handoffMarker(handoff.id)}\n`)).toBe(true);
        expect(markerOf(open.body)).toBe(handoff.id);
        expect(open.body).toContain(`**${handoff.deadline}`);
        expect(open.body).toMatch(/\(\d+ days left on 2027-03-01\)/);
        expect(open.title).toBe(`Hand-off: copy vendor-sync/main generation ${handoff.generation} to Zendesk by ${handoff.deadline.slice(0, 10)}`);
        expect(open.reason).toContain(handoff.deadline);
    });

    it("a rerun finds the issue by its marker and opens none; a closed one is never reopened", () => {
        const body = (decide([])[0] as OpenIssueAction).body;
        expect(decide([issue(7, body)])).toEqual([expect.objectContaining({ action: "keep", issue: 7 })]);
        expect(decide([issue(7, body, "closed")])).toEqual([expect.objectContaining({ action: "keep", issue: 7, reason: expect.stringContaining("never reopened") })]);
        // Whatever else the body says: only the marker counts, and only this hand-off's.
        expect(decide([issue(8, `edited by hand\n\n${handoffMarker(handoff.id)}\n`)])[0]).toMatchObject({ action: "keep", issue: 8 });
        expect(decide([issue(9, handoffMarker(handoff.id.replace("/dev/", "/prod/")))])[0]).toMatchObject({ action: "open" });
        // Two issues with the marker (one copied by hand): the open one is the hand-off's; nothing is opened.
        const twice = decide([issue(3, body, "closed"), issue(5, body), issue(6, body)]);
        expect(twice).toEqual([expect.objectContaining({ action: "keep", issue: 5, reason: expect.stringContaining("#3, #6 carry the same marker") })]);
    });

    it("closes the issue once the evidence shows the new value in use (completed), with the key id and the sign-in, never a value", () => {
        const body = (decide([])[0] as OpenIssueAction).body;
        const keyId = "4b0b6b5e-1111-4222-8333-944444444444";
        const picked = new Map([[handoff.id, { state: "picked-up", keyId, lastSignIn: "2027-03-01T05:00:00Z" } as HandoffUsage]]);
        const [close] = decide([issue(7, body)], picked) as [CloseIssueAction];
        expect(close).toMatchObject({ action: "close", issue: 7, stateReason: "completed", why: "picked-up" });
        expect(close.comment).toContain(`\`${keyId}\``);
        expect(close.comment).toContain("2027-03-01T05:00:00Z");
        const waiting = new Map([[handoff.id, { state: "waiting", keyId, lastSignIn: null } as HandoffUsage]]);
        expect(decide([issue(7, body)], waiting)[0]).toMatchObject({ action: "keep", reason: expect.stringContaining(`no sign-in with generation ${handoff.generation}'s key id ${keyId}`) });
        const none = new Map([[handoff.id, { state: "no-evidence", keyId: null, lastSignIn: null } as HandoffUsage]]);
        expect(decide([issue(7, body)], none)[0]).toMatchObject({ action: "keep", reason: expect.stringContaining("no sign-in evidence") });
        // A closed issue stays closed, evidence or not; and no issue yet: it is opened (the person is told either way).
        expect(decide([issue(7, body, "closed")], picked)[0]).toMatchObject({ action: "keep" });
        expect(decide([], picked)[0]).toMatchObject({ action: "open" });
    });

    it("closes a past generation's open issue as superseded (not planned), saying when its value stops working", () => {
        const later = new Date(Date.parse(handoff.deadline) + 3_600_000);
        const [next] = openHandoffs(model, later) as [Handoff];
        expect(next.generation).toBe(handoff.generation + 1);
        const oldBody = (decide([])[0] as OpenIssueAction).body;
        const actions = decide([issue(7, oldBody)], undefined, [next], later);
        expect(actions.map((a) => [a.action, a.handoffId, a.issue])).toEqual([
            ["open", next.id, null],
            ["close", handoff.id, 7],
        ]);
        const close = actions[1] as CloseIssueAction;
        expect(close).toMatchObject({ stateReason: "not_planned", why: "superseded", superseded: { generation: handoff.generation, by: next } });
        // Generation g's value stops working when its slot is replaced: at the start of g + 2, the new hand-off's deadline.
        expect(close.comment).toContain(`Superseded by generation ${next.generation}; the value it named (generation ${handoff.generation}) stops working on ${next.deadline}`);
        // Already closed past issues are left alone; so are other stacks' and projects' issues.
        expect(decide([issue(7, oldBody, "closed")], undefined, [next], later).map((a) => a.action)).toEqual(["open"]);
        const other = handoffMarker(handoff.id.replace("entra-rotor/dev/", "entra-rotor/prod/"));
        expect(decide([issue(9, other)], undefined, [next], later).map((a) => a.action)).toEqual(["open"]);
    });

    it("leaves an open issue whose consumer the stack no longer hands off, saying to close it by hand", () => {
        const body = (decide([])[0] as OpenIssueAction).body;
        expect(decide([issue(7, body)], undefined, [])).toEqual([expect.objectContaining({ action: "keep", issue: 7, reason: expect.stringContaining("close it by hand") })]);
    });

    it("assigns only a GitHub login: a team or an email owner is shown, never assigned", () => {
        const [team, mail] = openHandoffs(modelWith([{ ...zendesk, owner: "@contoso/identity-team" }, { ...zendesk, name: "Payroll", owner: "payroll@contoso.com" }]), at);
        expect(team!.githubLogin).toBeNull();
        for (const h of [team!, mail!]) expect((decide([], undefined, [h])[0] as OpenIssueAction).assignees).toEqual([]);
    });

    it("parses the ids it writes, and nothing else", () => {
        expect(parseHandoffId(handoff.id)).toMatchObject({ project: "entra-rotor", stack: "dev", generation: handoff.generation, series: "entra-rotor/dev/vendor-sync/main/zendesk" });
        expect(parseHandoffId("a/b/c")).toBeNull();
        expect(markerOf("<!-- entra-rotor-handoff: a b -->")).toBeNull();
        expect(markerOf("no marker")).toBeNull();
    });
});

describe("the issue's text is escaped like every comment", () => {
    /** A hand-off as a stack file could never give it (the model refuses control characters): the renderer holds on its own. */
    const hostile = (consumer: string, owner: string): Handoff => ({ ...handoff, consumer, owner });

    it.each([...markupFragments, "@contoso/security-team please look", "see #12 and GH-7 and contoso/identity#3", "x](https://attacker.example)", "<!-- entra-rotor-handoff: entra-rotor/dev/x/y/g1/z -->"])(
        "a consumer and owner named %j neither mention, link, nor add HTML or table rows",
        (text) => {
            const h = hostile(`${text} consumer`, `${text} owner`);
            const body = issueBody(h, at);
            // The marker is the body's only HTML, its links the model's two https ones; the table keeps its rows.
            expect(rawHtmlOf(body)).toEqual([`${handoffMarker(h.id)}\n`, `link_open ${h.portalUrl}`, "link_open https://wiki.contoso.com/zendesk-secret"]);
            expect(tableRowCounts(body)).toEqual([8]);
            expect(markerOf(body)).toBe(h.id);
            const html = renderComment(body);
            expect(html).not.toMatch(/@contoso\/security-team/);
            expect(html).not.toMatch(/(^|[^\w])#12\b/);
            expect(html).not.toMatch(/GH-7/);
            const title = issueTitle(h);
            expect(title).not.toContain("@contoso");
            expect(title).not.toMatch(/#\d/);
            expect(title).not.toMatch(/[\n\r]/);
        },
    );

    it("an @login owner is shown without mentioning (the assignment notifies)", () => {
        const body = issueBody(handoff, at);
        expect(renderComment(body)).not.toMatch(/@octocat/);
        expect(body).toContain("@&#8203;octocat");
    });

    it("links only https URLs; anything else is shown as code", () => {
        expect(httpsLink("x", "https://wiki.contoso.com/a b(c)")).toBe("[x](https://wiki.contoso.com/a%20b%28c%29)");
        expect(httpsLink("x", "http://wiki.contoso.com/")).toBe("`http://wiki.contoso.com/`");
        expect(httpsLink("x", "javascript:alert(1)")).toBe("`javascript:alert(1)`");
        expect(httpsLink("x", "https://user:pw@wiki.contoso.com/")).toBe("`https://user:pw@wiki.contoso.com/`");
        expect(httpsLink("x", null)).toBe("-");
        const body = issueBody({ ...handoff, instructions: "http://wiki.contoso.com/x" }, at);
        expect(rawHtmlOf(body).filter((t) => t.startsWith("link_open"))).toEqual([`link_open ${handoff.portalUrl}`]);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// The client

describe("where the GitHub client talks to", () => {
    const env = { GITHUB_REPOSITORY: "contoso/identity", GITHUB_TOKEN: "ghs_x" };

    it("takes GitHub's API, or GitHub Enterprise Server's, over https", () => {
        expect(gitHubSettings(env)).toEqual({ apiUrl: "https://api.github.com", owner: "contoso", repo: "identity", token: "ghs_x" });
        expect(gitHubApiUrl("https://github.contoso.com/api/v3/", {})).toBe("https://github.contoso.com/api/v3");
    });

    it.each([
        ["http://api.github.com", /must use https/],
        ["https://api.github.com@127.0.0.1", /user info/],
        ["https://x@api.github.com", /user info/],
        ["https://api.github.com/?x=1", /query/],
        ["https://api.github.com/#x", /fragment/],
        ["https://api.github.com /x", /not a URL/],
        ["ftp://api.github.com", /https/],
        ["http://127.0.0.1:8080", /ROTOR_ALLOW_LOCAL_ENDPOINTS=1/],
        ["https://127.0.0.1:8080", /ROTOR_ALLOW_LOCAL_ENDPOINTS=1/],
    ])("refuses GITHUB_API_URL=%s", (url, message) => {
        expect(() => gitHubApiUrl(url, {})).toThrow(message);
    });

    it("takes http only for a loopback address with the emulator setting, never a name", () => {
        const local = { ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" };
        expect(gitHubApiUrl("http://127.0.0.1:8080/api", local)).toBe("http://127.0.0.1:8080/api");
        expect(() => gitHubApiUrl("http://localhost:8080", local)).toThrow(/must use https/);
        expect(() => gitHubApiUrl("http://10.0.0.1", local)).toThrow(/must use https/);
        expect(() => gitHubApiUrl("https://api.github.com", { ROTOR_ALLOW_LOCAL_ENDPOINTS: "yes" })).not.toThrow(); // only read for a local URL
        expect(() => gitHubApiUrl("http://127.0.0.1", { ROTOR_ALLOW_LOCAL_ENDPOINTS: "yes" })).toThrow(/set it to 1/);
    });

    it("needs GITHUB_REPOSITORY as owner/name and a token, and never shows the token", () => {
        expect(() => gitHubSettings({ GITHUB_TOKEN: "t" })).toThrow(/GITHUB_REPOSITORY is not set/);
        for (const bad of ["contoso", "contoso/identity/x", "-contoso/identity", "contoso/..", "contoso/a b"]) expect(() => gitHubSettings({ ...env, GITHUB_REPOSITORY: bad })).toThrow(/is not owner\/name/);
        expect(() => gitHubSettings({ GITHUB_REPOSITORY: "contoso/identity" })).toThrow(/GITHUB_TOKEN is not set/);
        try {
            gitHubSettings({ ...env, GITHUB_TOKEN: "ghs_secret\nInjected: 1" });
            expect.unreachable();
        } catch (error) {
            expect((error as Error).message).not.toContain("ghs_secret");
        }
    });

    it("reads the next page from a Link header", () => {
        expect(nextLink('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"')).toBe("https://api.github.com/x?page=2");
        expect(nextLink('<https://api.github.com/x?page=1>; rel="prev"')).toBeUndefined();
        expect(nextLink(null)).toBeUndefined();
    });
});

describe("the GitHub client against the local stand-in", () => {
    let github: FakeGitHub;
    const sleeps: number[] = [];
    beforeEach(async () => {
        github = await startFakeGitHub({ maxPerPage: 2 });
        sleeps.length = 0;
    });
    afterEach(async () => {
        await github.close();
    });
    const client = (options: ConstructorParameters<typeof GitHubClient>[1] = {}) => new GitHubClient(gitHubSettings(github.env()), { sleep: async (ms) => void sleeps.push(ms), ...options });

    it("lists the labelled issues, open and closed, page after page, leaving pull requests out", async () => {
        for (let i = 1; i <= 5; i++) github.addIssue({ title: `i${i}`, labels: [handoffLabel], state: i === 2 ? "closed" : "open" });
        github.addIssue({ title: "unlabelled" });
        github.addIssue({ title: "a pull request", labels: [handoffLabel], pullRequest: true });
        const issues = await client().listIssues(handoffLabel);
        expect(issues.map((i) => [i.number, i.state])).toEqual([[5, "open"], [4, "open"], [3, "open"], [2, "closed"], [1, "open"]]);
        const gets = github.requests.filter((r) => r.method === "GET");
        expect(gets).toHaveLength(3);
        expect(gets[0]!.query).toMatchObject({ labels: handoffLabel, state: "all", per_page: "100" });
        // A bound, not a partial list: more pages than allowed is an error.
        await expect(client().listIssues(handoffLabel, 2)).rejects.toThrow(/more than 200 issues carry the label entra-rotor-handoff/);
    });

    it("retries a 502, a 429 and a secondary rate limit, waiting as GitHub says, then goes on", async () => {
        github.fail("serverError", 1, "GET /issues");
        github.fail("throttle", 1, "GET /issues");
        github.fail("secondaryRateLimit", 1, "GET /issues");
        await expect(client({ baseDelayMs: 7 }).listIssues(handoffLabel)).resolves.toEqual([]);
        expect(github.requests.map((r) => r.status)).toEqual([502, 429, 403, 200]);
        expect(sleeps).toEqual([7, 0, 0]);
    });

    it("gives up after its retries, or when GitHub asks for a longer wait than it takes, without the token in the error", async () => {
        github.fail("serverError", 10);
        const error = await client({ maxRetries: 2 }).listIssues(handoffLabel).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GitHubError);
        expect((error as Error).message).toMatch(/GET \/repos\/contoso\/identity\/issues: GitHub answered 502: Server Error/);
        expect((error as Error).message).not.toContain(github.token);
        expect(github.requests).toHaveLength(3);
        // A secondary rate limit without retry-after: a minute at least, longer than this client waits.
        const server = http.createServer((_req, res) => {
            res.writeHead(403, { "content-type": "application/json" });
            res.end(JSON.stringify({ message: "You have exceeded a secondary rate limit." }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const other = new GitHubClient(gitHubSettings({ ...github.env(), GITHUB_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }), { maxWaitMs: 10, sleep: async () => undefined });
            await expect(other.listIssues(handoffLabel)).rejects.toThrow(/asks to wait 60 s, longer than rotor waits/);
        } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    });

    it("sends the token to the API's origin only: a page link or a redirect elsewhere is refused before anything is sent", async () => {
        const trap: { authorization: string | undefined }[] = [];
        const elsewhere = http.createServer((req, res) => {
            trap.push({ authorization: req.headers.authorization });
            res.writeHead(200, { "content-type": "application/json" });
            res.end("[]");
        });
        await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
        const trapUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/repos/contoso/identity/issues?page=2`;
        // A stand-in whose Link points at another origin, and one that redirects there.
        const linking = http.createServer((req, res) => {
            if (req.url?.startsWith("/redirect")) {
                res.writeHead(302, { location: trapUrl });
                res.end();
                return;
            }
            res.writeHead(200, { "content-type": "application/json", link: `<${trapUrl}>; rel="next"` });
            res.end("[]");
        });
        await new Promise<void>((resolve) => linking.listen(0, "127.0.0.1", resolve));
        try {
            const base = `http://127.0.0.1:${(linking.address() as AddressInfo).port}`;
            const settings = gitHubSettings({ ...github.env(), GITHUB_API_URL: base });
            const error = await new GitHubClient(settings, { sleep: async () => undefined }).listIssues(handoffLabel).catch((e: unknown) => e);
            expect((error as Error).message).toMatch(/linked to .*another host: refused, so the token goes nowhere else/);
            const redirected = await new GitHubClient(gitHubSettings({ ...github.env(), GITHUB_API_URL: `${base}/redirect` }), { sleep: async () => undefined }).listIssues(handoffLabel).catch((e: unknown) => e);
            expect((redirected as Error).message).toMatch(/GitHub answered 302.*\(not followed\)/);
            expect(trap).toEqual([]);
        } finally {
            for (const server of [elsewhere, linking]) {
                server.closeAllConnections();
                await new Promise((resolve) => server.close(resolve));
            }
        }
    });

    it("creates, comments, closes with a reason, adds a label; a 422 for an unknown assignee says so", async () => {
        const c = client();
        const made = await c.createIssue({ title: "t", body: "b", labels: [handoffLabel], assignees: ["octocat"] });
        expect(made).toMatchObject({ number: 1, state: "open", labels: [handoffLabel], assignees: ["octocat"] });
        await c.comment(1, "hello");
        expect(await c.close(1, "not_planned")).toMatchObject({ state: "closed" });
        await c.addLabels(1, ["x"]);
        expect(github.issues[0]).toMatchObject({ comments: ["hello"], state: "closed", stateReason: "not_planned", labels: [handoffLabel, "x"] });
        // A create or a comment is not retried after a 5xx: GitHub may have acted (the command looks again instead).
        github.fail("serverError", 1, "POST /issues");
        await expect(c.createIssue({ title: "t", body: "b", labels: [], assignees: [] })).rejects.toMatchObject({ status: 502 });
        github.fail("serverError", 1, "POST /issues/{n}/comments");
        await expect(c.comment(1, "again")).rejects.toMatchObject({ status: 502 });
        expect(github.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([201, 201, 200, 502, 502]);
        const refused = await c.createIssue({ title: "t", body: "b", labels: [], assignees: ["nobody-here"] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(GitHubError);
        expect(refused).toMatchObject({ status: 422, errors: [{ field: "assignees", code: "invalid" }] });
        // Every request carried the token, to the stand-in: and nowhere else (the stand-in is the only server).
        expect(new Set(github.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${github.token}`]));
    });
});
