import { version } from "../../package.json";
import { allowLocalEndpointsVariable as localEndpointsVariable, isLoopback, localEndpointsAllowed } from "../../azure/endpoints";
import { visible } from "../output/escape";

/**
 * The few GitHub REST calls `rotor handoff-issues` makes, on the platform's fetch: list a repository's issues with
 * a label (state all, paged by the Link header, a bounded number of pages), create one, comment, close, add a
 * label. Where it talks to and with what:
 *
 * - `GITHUB_API_URL` (Actions sets it; https://api.github.com by default, `https://<host>/api/v3` on GitHub
 *   Enterprise Server): https, no user info, query or fragment; plain http only for a loopback address (127.0.0.0/8,
 *   [::1], never a name) with ROTOR_ALLOW_LOCAL_ENDPOINTS=1, the rule (and the code) of the Azure endpoints (azure/endpoints.ts),
 *   for the tests' local stand-in.
 * - `GITHUB_TOKEN`, sent as a bearer token to that origin only: a page link or a redirect elsewhere is refused
 *   before anything is sent, and no error message carries the token.
 * - `GITHUB_REPOSITORY`, `owner/name`.
 *
 * 429, 5xx and GitHub's rate limits (a 403 or 429 saying so) are retried a few times, waiting as GitHub asks
 * (`retry-after`, else `x-ratelimit-reset` when none remain, else a minute: GitHub's "Rate limits for the REST
 * API"), and never longer than `maxWaitMs` at once.
 */

const defaultApiUrl = "https://api.github.com";

/** GITHUB_* or the loopback setting is missing or wrong: said before anything is sent. */
export class GitHubConfigError extends Error {
    override readonly name = "GitHubConfigError";
}

/** A refused or failed call: GitHub's status and message, never the token. */
export class GitHubError extends Error {
    override readonly name = "GitHubError";
    constructor(
        message: string,
        readonly status: number | null,
        /** GitHub's validation errors of a 422: `{ resource, field, code }`. */
        readonly errors: readonly { readonly resource?: string; readonly field?: string; readonly code?: string }[] = [],
    ) {
        super(message);
    }
}

export interface GitHubSettings {
    /** The API root as parsed: origin and path, no trailing slash. */
    readonly apiUrl: string;
    readonly owner: string;
    readonly repo: string;
    readonly token: string;
}

export interface GitHubIssue {
    readonly number: number;
    readonly title: string;
    readonly body: string;
    readonly state: "open" | "closed";
    readonly labels: readonly string[];
    readonly assignees: readonly string[];
    readonly htmlUrl: string | null;
}

/** A value as an error may show it: one line, bounded, the token (when known) blotted out. */
function shown(value: string, token?: string): string {
    const safe = visible(token ? value.split(token).join("***") : value);
    return safe.length > 300 ? `${safe.slice(0, 297)}...` : safe;
}

/** The emulator setting, read as for the Azure endpoints; a wrong value is a GitHub setting's mistake here. */
function localAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
    try {
        return localEndpointsAllowed(env);
    } catch (error) {
        throw new GitHubConfigError((error as Error).message);
    }
}

/** GITHUB_API_URL checked: what was checked is what is used. */
export function gitHubApiUrl(value: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
    if (value === undefined || value === "") return defaultApiUrl;
    const what = "GITHUB_API_URL";
    if (/[\s\\]/.test(value)) throw new GitHubConfigError(`${what}: "${shown(value)}" is not a URL; use https://host[:port][/path]`);
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new GitHubConfigError(`${what}: "${shown(value)}" is not a URL; use https://host[:port][/path]`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new GitHubConfigError(`${what}: "${shown(value)}" must use https`);
    const authority = /^https?:\/\/([^/?#]*)/i.exec(value)?.[1] ?? "";
    if (url.username !== "" || url.password !== "" || authority.includes("@")) {
        throw new GitHubConfigError(`${what}: a URL with user info (text before "@") is refused: it would send the token to ${shown(url.host)}, not to the host it reads like`);
    }
    if (value.includes("?")) throw new GitHubConfigError(`${what}: "${shown(value)}" has a query ("?"); give https://host[:port][/path] without one`);
    if (value.includes("#")) throw new GitHubConfigError(`${what}: "${shown(value)}" has a fragment ("#"); give https://host[:port][/path] without one`);
    const local = isLoopback(url.hostname);
    if (local && !localAllowed(env)) throw new GitHubConfigError(`${what}: ${shown(url.host)} is on this machine; set ${localEndpointsVariable}=1 to use a local stand-in`);
    if (url.protocol === "http:" && !local) throw new GitHubConfigError(`${what}: "${shown(value)}" must use https (the token travels over it); http is only for a loopback address with ${localEndpointsVariable}=1`);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** GitHub's rules for an owner (a user or organisation login) and a repository name. */
const ownerPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const repoPattern = /^[A-Za-z0-9._-]{1,100}$/;

/** Where and as whom: from GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_TOKEN, each checked. */
export function gitHubSettings(env: Readonly<Record<string, string | undefined>>): GitHubSettings {
    const apiUrl = gitHubApiUrl(env["GITHUB_API_URL"], env);
    const repository = env["GITHUB_REPOSITORY"];
    if (!repository) throw new GitHubConfigError("GITHUB_REPOSITORY is not set: give the repository as owner/name (GitHub Actions sets it)");
    const [owner, repo, ...rest] = repository.split("/");
    if (rest.length > 0 || !owner || !repo || !ownerPattern.test(owner) || !repoPattern.test(repo) || repo === "." || repo === "..") {
        throw new GitHubConfigError(`GITHUB_REPOSITORY="${shown(repository)}" is not owner/name: e.g. contoso/identity`);
    }
    const token = env["GITHUB_TOKEN"];
    if (!token) throw new GitHubConfigError("GITHUB_TOKEN is not set: the workflow passes it (secrets.GITHUB_TOKEN) to this step, with permissions: issues: write");
    // A header value cannot carry these, and a token never does: say so without showing it.
    if (/[^\x21-\x7e]/.test(token)) throw new GitHubConfigError("GITHUB_TOKEN holds a space, line break or non-ASCII character: it is not a token");
    return { apiUrl, owner, repo, token };
}

export interface GitHubClientOptions {
    /** Retries of one call after 429, 5xx, a rate limit or a network error; default 3. */
    readonly maxRetries?: number;
    /** The first backoff without a retry-after, doubled each time; default 1,000 ms. */
    readonly baseDelayMs?: number;
    /** The longest single wait; GitHub asking for longer fails the call instead. Default 120,000 ms. */
    readonly maxWaitMs?: number;
    /** Per request; default 30,000 ms. */
    readonly timeoutMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly now?: () => number;
    /** Called once per request sent. */
    readonly onRequest?: () => void;
}

/** The next page of a Link header: `<url>; rel="next"`. */
export function nextLink(header: string | null): string | undefined {
    if (!header) return undefined;
    for (const part of header.split(",")) {
        const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
        if (!match) continue;
        const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(match[2]!);
        const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
        if (relations.includes("next")) return match[1]!;
    }
    return undefined;
}

interface RawIssue {
    number?: unknown;
    title?: unknown;
    body?: unknown;
    state?: unknown;
    labels?: unknown;
    assignees?: unknown;
    html_url?: unknown;
    pull_request?: unknown;
}

function issueOf(raw: RawIssue): GitHubIssue {
    const names = (list: unknown, key: string) =>
        Array.isArray(list) ? list.flatMap((item) => (typeof item === "string" ? [item] : item && typeof item === "object" && typeof (item as Record<string, unknown>)[key] === "string" ? [(item as Record<string, string>)[key]!] : [])) : [];
    if (typeof raw.number !== "number") throw new GitHubError("GitHub answered an issue without a number", null);
    return {
        number: raw.number,
        title: typeof raw.title === "string" ? raw.title : "",
        body: typeof raw.body === "string" ? raw.body : "",
        state: raw.state === "closed" ? "closed" : "open",
        labels: names(raw.labels, "name"),
        assignees: names(raw.assignees, "login"),
        htmlUrl: typeof raw.html_url === "string" ? raw.html_url : null,
    };
}

export class GitHubClient {
    private readonly origin: string;
    private readonly repoPath: string;
    private readonly options: Required<Omit<GitHubClientOptions, "onRequest">> & Pick<GitHubClientOptions, "onRequest">;

    constructor(
        private readonly settings: GitHubSettings,
        options: GitHubClientOptions = {},
    ) {
        this.origin = new URL(settings.apiUrl).origin;
        this.repoPath = `${settings.apiUrl}/repos/${encodeURIComponent(settings.owner)}/${encodeURIComponent(settings.repo)}`;
        this.options = {
            maxRetries: options.maxRetries ?? 3,
            baseDelayMs: options.baseDelayMs ?? 1_000,
            maxWaitMs: options.maxWaitMs ?? 120_000,
            timeoutMs: options.timeoutMs ?? 30_000,
            sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
            now: options.now ?? Date.now,
            ...(options.onRequest ? { onRequest: options.onRequest } : {}),
        };
    }

    get repository(): string {
        return `${this.settings.owner}/${this.settings.repo}`;
    }

    /**
     * The repository's issues (pull requests left out) carrying `label`, open and closed, newest first. More than
     * `maxPages` pages of 100 is an error, not a partial list: what is missing could be an issue that exists.
     */
    async listIssues(label: string, maxPages = 30): Promise<GitHubIssue[]> {
        const issues: GitHubIssue[] = [];
        let url: string | undefined = `${this.repoPath}/issues?labels=${encodeURIComponent(label)}&state=all&per_page=100`;
        for (let page = 0; url; page++) {
            if (page === maxPages) throw new GitHubError(`more than ${maxPages * 100} issues carry the label ${label}: rotor reads at most ${maxPages} pages; close and relabel old ones`, null);
            const response = await this.request("GET", url);
            const items = (await response.json()) as unknown;
            if (!Array.isArray(items)) throw new GitHubError("GitHub answered the issue list with something that is not a list", response.status);
            for (const item of items as RawIssue[]) if (item && typeof item === "object" && item.pull_request === undefined) issues.push(issueOf(item));
            url = nextLink(response.headers.get("link"));
        }
        return issues;
    }

    /**
     * Not retried after a 5xx or a lost connection: GitHub may have opened the issue before it failed, and a retry
     * would open a second one. The caller looks again (createdOrFailed in cli/handoffIssues.ts). A rate limit is
     * retried: GitHub refused the request, it did nothing.
     */
    async createIssue(issue: { title: string; body: string; labels: readonly string[]; assignees: readonly string[] }): Promise<GitHubIssue> {
        const response = await this.request("POST", `${this.repoPath}/issues`, issue, false);
        return issueOf((await response.json()) as RawIssue);
    }

    /** Not retried after a 5xx either, for the same reason: a comment posted twice. */
    async comment(issue: number, body: string): Promise<void> {
        await this.request("POST", `${this.repoPath}/issues/${issue}/comments`, { body }, false);
    }

    async close(issue: number, reason: "completed" | "not_planned"): Promise<GitHubIssue> {
        const response = await this.request("PATCH", `${this.repoPath}/issues/${issue}`, { state: "closed", state_reason: reason });
        return issueOf((await response.json()) as RawIssue);
    }

    async addLabels(issue: number, labels: readonly string[]): Promise<void> {
        await this.request("POST", `${this.repoPath}/issues/${issue}/labels`, { labels });
    }

    /**
     * One call, retried as the header comment says (`idempotent` false: only after a rate limit, which GitHub
     * answers without acting); the token only ever goes to the API's origin.
     */
    private async request(method: string, url: string, body?: unknown, idempotent = true): Promise<Response> {
        let to: string;
        try {
            to = new URL(url).origin;
        } catch {
            to = "";
        }
        if (to !== this.origin) throw new GitHubError(`GitHub (${this.origin}) linked to ${shown(url.slice(0, 200), this.settings.token)}, another host: refused, so the token goes nowhere else`, null);
        const what = `${method} ${new URL(url).pathname}`;
        for (let attempt = 0; ; attempt++) {
            let response: Response;
            try {
                this.options.onRequest?.();
                response = await fetch(url, {
                    method,
                    // A redirect is an answer here, never followed: it could lead the token elsewhere.
                    redirect: "manual",
                    signal: AbortSignal.timeout(this.options.timeoutMs),
                    headers: {
                        accept: "application/vnd.github+json",
                        authorization: `Bearer ${this.settings.token}`,
                        "user-agent": `entra-rotor/${version}`,
                        "x-github-api-version": "2022-11-28",
                        ...(body === undefined ? {} : { "content-type": "application/json" }),
                    },
                    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
                });
            } catch (error) {
                const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
                if (idempotent && attempt < this.options.maxRetries) {
                    await this.options.sleep(this.backoff(attempt));
                    continue;
                }
                throw new GitHubError(`${what}: GitHub could not be reached (${shown(cause, this.settings.token)})`, null);
            }
            if (response.ok) return response;
            const text = await response.text().catch(() => "");
            let parsed: { message?: unknown; errors?: unknown } = {};
            try {
                parsed = JSON.parse(text) as typeof parsed;
            } catch {
                parsed = {};
            }
            const message = typeof parsed.message === "string" ? parsed.message : text.slice(0, 200);
            const wait = this.retryWait(response, message, attempt, idempotent);
            if (wait !== undefined && attempt < this.options.maxRetries) {
                if (wait > this.options.maxWaitMs) {
                    throw new GitHubError(`${what}: GitHub answered ${response.status} and asks to wait ${Math.ceil(wait / 1000)} s, longer than rotor waits: the next run goes on`, response.status);
                }
                await this.options.sleep(wait);
                continue;
            }
            const errors = Array.isArray(parsed.errors) ? (parsed.errors.filter((e) => e && typeof e === "object") as GitHubError["errors"]) : [];
            const location = response.status >= 300 && response.status < 400 ? `, to ${shown(response.headers.get("location") ?? "?", this.settings.token)} (not followed)` : "";
            throw new GitHubError(`${what}: GitHub answered ${response.status}${message ? `: ${shown(message, this.settings.token)}` : ""}${location}`, response.status, errors);
        }
    }

    /** How long to wait before retrying this answer, or undefined when it is final. */
    private retryWait(response: Response, message: string, attempt: number, idempotent: boolean): number | undefined {
        const rateLimited = response.status === 429 || (response.status === 403 && (/rate limit/i.test(message) || response.headers.get("x-ratelimit-remaining") === "0"));
        if (!rateLimited && (response.status < 500 || !idempotent)) return undefined;
        const retryAfter = response.headers.get("retry-after");
        if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim()) * 1000;
        if (rateLimited && response.headers.get("x-ratelimit-remaining") === "0") {
            const reset = Number(response.headers.get("x-ratelimit-reset"));
            if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - this.options.now());
        }
        // A secondary rate limit without either header: at least a minute, longer each time (GitHub's advice).
        if (rateLimited) return 60_000 * 2 ** attempt;
        return this.backoff(attempt);
    }

    private backoff(attempt: number): number {
        return this.options.baseDelayMs * 2 ** attempt;
    }
}
