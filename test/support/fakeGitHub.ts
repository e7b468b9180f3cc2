import * as http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the few GitHub REST endpoints `rotor handoff-issues` calls, over plain HTTP on 127.0.0.1 (the
 * client allows that only for a loopback address with ROTOR_ALLOW_LOCAL_ENDPOINTS=1). It answers as GitHub's
 * REST reference says: the repository's issues filtered by labels (all of them) and state, newest first, paged
 * with a Link header (`rel="next"`, `rel="last"`) and pull requests listed among them; create (labels made on
 * the fly, an assignee who is not a collaborator refused with 422 Validation Failed); comment; update
 * (state, state_reason); add labels. Switches: a token other than the one given is 401; `dropLabels` drops the
 * labels of a new issue as GitHub does for a token without push access; `fail` injects 5xx, 429 or a secondary
 * rate limit (403 with retry-after) for the next N requests of a route. Every request is logged, with its
 * Authorization header, so a test can tell where the token went.
 */

export interface FakeIssue {
    number: number;
    title: string;
    body: string;
    state: "open" | "closed";
    stateReason: "completed" | "not_planned" | "reopened" | null;
    labels: string[];
    assignees: string[];
    comments: string[];
    /** A pull request, which the issues list includes too. */
    pullRequest?: boolean;
}

export interface FakeRequest {
    readonly method: string;
    readonly path: string;
    readonly query: Record<string, string>;
    readonly authorization: string | undefined;
    readonly body: unknown;
    readonly status: number;
}

/**
 * `serverError`: 502 and nothing done; `serverErrorAfter`: the request is carried out, then answered 502 (GitHub
 * failing after it acted); `throttle`: 429 with retry-after; `secondaryRateLimit`: 403 saying so, with retry-after.
 */
export type FakeFault = "serverError" | "serverErrorAfter" | "throttle" | "secondaryRateLimit";

export interface FakeGitHubOptions {
    readonly owner?: string;
    readonly repo?: string;
    readonly token?: string;
    /** Logins that may be assigned (GitHub: users with access to the repository). */
    readonly collaborators?: readonly string[];
    /** The API's path under the origin: "" as on github.com, `/api/v3` as on GitHub Enterprise Server. */
    readonly basePath?: string;
    /** The most per_page honours (GitHub: 100); smaller to test paging. */
    readonly maxPerPage?: number;
    /** A retry-after for injected 5xx answers (GitHub sends none), so a test need not wait for the client's backoff. */
    readonly serverErrorRetryAfter?: string;
}

export interface FakeGitHub {
    /** GITHUB_API_URL for the client: `http://127.0.0.1:<port><basePath>`. */
    readonly apiUrl: string;
    readonly repository: string;
    readonly token: string;
    readonly issues: FakeIssue[];
    readonly requests: FakeRequest[];
    readonly collaborators: Set<string>;
    /** Drop the labels of new issues silently (a token without push access). */
    dropLabels: boolean;
    /** Makes the next `times` requests matching `route` (e.g. `POST /issues`, `GET /issues`; any when omitted) fail. */
    fail(fault: FakeFault, times: number, route?: string): void;
    addIssue(issue: Partial<FakeIssue> & { title: string }): FakeIssue;
    /** The environment the client reads: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN and the loopback setting. */
    env(): Record<string, string>;
    close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const owner = options.owner ?? "contoso";
    const repo = options.repo ?? "identity";
    const token = options.token ?? "ghs_fakeGitHubToken0123456789abcdefABCDEF";
    const basePath = options.basePath ?? "";
    const maxPerPage = options.maxPerPage ?? 100;
    const issues: FakeIssue[] = [];
    const requests: FakeRequest[] = [];
    const collaborators = new Set((options.collaborators ?? ["octocat"]).map((l) => l.toLowerCase()));
    const faults: { fault: FakeFault; remaining: number; route?: string }[] = [];
    let origin = "";

    const issueJson = (issue: FakeIssue) => ({
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: issue.state,
        state_reason: issue.stateReason,
        labels: issue.labels.map((name) => ({ name })),
        assignees: issue.assignees.map((login) => ({ login })),
        assignee: issue.assignees[0] ? { login: issue.assignees[0] } : null,
        html_url: `https://github.com/${owner}/${repo}/issues/${issue.number}`,
        ...(issue.pullRequest ? { pull_request: { url: `${origin}${basePath}/repos/${owner}/${repo}/pulls/${issue.number}` } } : {}),
    });

    const addIssue = (issue: Partial<FakeIssue> & { title: string }): FakeIssue => {
        const made: FakeIssue = { number: issues.length + 1, body: "", state: "open", stateReason: null, labels: [], assignees: [], comments: [], ...issue };
        issues.push(made);
        return made;
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://fake");
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            try {
                body = text ? JSON.parse(text) : undefined;
            } catch {
                body = text;
            }
            const log = (status: number) =>
                requests.push({ method: req.method ?? "", path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization, body, status });
            let failAfter = false;
            const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
                if (failAfter && status < 300) {
                    log(502);
                    return json(res, 502, { message: "Server Error" });
                }
                log(status);
                json(res, status, payload, headers);
            };

            if (req.headers.authorization !== `Bearer ${token}` && req.headers.authorization !== `token ${token}`) {
                return answer(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
            }
            const prefix = `${basePath}/repos/${owner}/${repo}/issues`;
            if (!url.pathname.startsWith(prefix)) return answer(404, { message: "Not Found" });
            const rest = url.pathname.slice(prefix.length);
            const route = `${req.method} /issues${rest.replace(/^\/\d+/, "/{n}")}`;

            const fault = faults.find((f) => f.remaining > 0 && (f.route === undefined || f.route === route));
            if (fault?.fault === "serverErrorAfter") {
                fault.remaining--;
                failAfter = true;
            } else if (fault) {
                fault.remaining--;
                if (fault.fault === "serverError") return answer(502, { message: "Server Error" }, options.serverErrorRetryAfter !== undefined ? { "retry-after": options.serverErrorRetryAfter } : {});
                if (fault.fault === "throttle") return answer(429, { message: "Too Many Requests" }, { "retry-after": "0" });
                return answer(
                    403,
                    { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits" },
                    { "retry-after": "0", "x-ratelimit-remaining": "4999" },
                );
            }

            if (req.method === "GET" && rest === "") {
                const wanted = (url.searchParams.get("labels") ?? "").split(",").map((l) => l.trim().toLowerCase()).filter(Boolean);
                const state = url.searchParams.get("state") ?? "open";
                const perPage = Math.min(Number(url.searchParams.get("per_page") ?? "30"), maxPerPage);
                const page = Number(url.searchParams.get("page") ?? "1");
                const matching = issues
                    .filter((i) => state === "all" || i.state === state)
                    .filter((i) => wanted.every((l) => i.labels.some((have) => have.toLowerCase() === l)))
                    .sort((a, b) => b.number - a.number);
                const pages = Math.max(1, Math.ceil(matching.length / perPage));
                const link = (n: number) => {
                    const next = new URL(url.toString());
                    next.searchParams.set("page", String(n));
                    return `<${origin}${next.pathname}${next.search}>`;
                };
                const links = [...(page < pages ? [`${link(page + 1)}; rel="next"`, `${link(pages)}; rel="last"`] : []), ...(page > 1 ? [`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`] : [])];
                return answer(200, matching.slice((page - 1) * perPage, page * perPage).map(issueJson), links.length ? { link: links.join(", ") } : {});
            }
            if (req.method === "POST" && rest === "") {
                const input = (body ?? {}) as { title?: unknown; body?: unknown; labels?: unknown; assignees?: unknown };
                if (typeof input.title !== "string" || input.title === "") return answer(422, { message: "Validation Failed", errors: [{ resource: "Issue", field: "title", code: "missing_field" }] });
                const assignees = Array.isArray(input.assignees) ? (input.assignees as string[]) : [];
                const unknown = assignees.find((login) => !collaborators.has(login.toLowerCase()));
                if (unknown !== undefined) return answer(422, { message: "Validation Failed", errors: [{ value: unknown, resource: "Issue", field: "assignees", code: "invalid" }], documentation_url: "https://docs.github.com/rest/issues/issues#create-an-issue" });
                const made = addIssue({
                    title: input.title,
                    body: typeof input.body === "string" ? input.body : "",
                    labels: fakeGitHub.dropLabels || !Array.isArray(input.labels) ? [] : (input.labels as string[]),
                    assignees,
                });
                return answer(201, issueJson(made));
            }
            const number = Number(/^\/(\d+)/.exec(rest)?.[1]);
            const issue = issues.find((i) => i.number === number);
            if (!issue) return answer(404, { message: "Not Found" });
            if (req.method === "POST" && rest === `/${number}/comments`) {
                const input = (body ?? {}) as { body?: unknown };
                if (typeof input.body !== "string" || input.body === "") return answer(422, { message: "Validation Failed" });
                issue.comments.push(input.body);
                return answer(201, { id: issue.comments.length, body: input.body });
            }
            if (req.method === "PATCH" && rest === `/${number}`) {
                const input = (body ?? {}) as { state?: unknown; state_reason?: unknown };
                if (input.state === "closed" || input.state === "open") issue.state = input.state;
                if (input.state_reason === "completed" || input.state_reason === "not_planned" || input.state_reason === "reopened") issue.stateReason = input.state_reason;
                return answer(200, issueJson(issue));
            }
            if (req.method === "POST" && rest === `/${number}/labels`) {
                const input = (body ?? {}) as { labels?: unknown };
                for (const label of Array.isArray(input.labels) ? (input.labels as string[]) : []) if (!issue.labels.includes(label)) issue.labels.push(label);
                return answer(200, issue.labels.map((name) => ({ name })));
            }
            return answer(404, { message: "Not Found" });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const fakeGitHub: FakeGitHub = {
        apiUrl: `${origin}${basePath}`,
        repository: `${owner}/${repo}`,
        token,
        issues,
        requests,
        collaborators,
        dropLabels: false,
        fail(fault, times, route) {
            faults.push({ fault, remaining: times, ...(route ? { route } : {}) });
        },
        addIssue,
        env() {
            return { GITHUB_API_URL: fakeGitHub.apiUrl, GITHUB_REPOSITORY: fakeGitHub.repository, GITHUB_TOKEN: token, ROTOR_ALLOW_LOCAL_ENDPOINTS: "1" };
        },
        close() {
            // fetch keeps connections alive: close them too, or close() waits for their timeout.
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            return closed;
        },
    };
    return fakeGitHub;
}
