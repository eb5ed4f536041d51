import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of GitHub's REST API for a GitHub App, on node:http. Point the real Octokit at `baseUrl`
 * (as for GitHub Enterprise). It authenticates like GitHub (RS256 app JWTs, expiring `ghs_`
 * installation tokens scoped to their installation's repositories), serves pull request files and
 * commits with GitHub's pagination and caps, stores check runs and deployment protection rule
 * answers, records every call, and injects faults.
 */

export type Permission = 'read' | 'write';

/** An installation of the app: the account that installed it and the repositories (`owner/name`) it can reach. */
export interface FakeInstallation { id: number; account: string; repos: string[]; permissions?: Record<string, Permission> }

/** Constructor options. `publicKey` is the public half of the key whose private half signs the app's JWTs. */
export interface FakeGitHubOptions {
  appId: number | string;
  publicKey: string | KeyObject;
  slug?: string;
  installations?: FakeInstallation[];
  /** The fake's clock in ms (token expiry, JWT checks, timestamps); `Date.now` by default. */
  now?: () => number;
}

/** One request, recorded whether it succeeded, failed or was faulted. `token` is a non-JWT credential as sent. */
export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  installation?: number;
  token?: string;
  /** Set when a valid app JWT authenticated the call. */
  app?: true;
  status: number;
  at: number;
}

/** A fault for `failNext`. Rate-limit numbers are seconds; `delayMs` answers normally after the delay. */
export type Fault =
  | { status: 500 | 502 | 503 }
  | { status: 429; retryAfter?: number }
  | { secondaryRateLimit: number }
  | { primaryRateLimit: number }
  | { delayMs: number };

/** Which calls a fault hits: a method and a path (exact string, or RegExp) without `/api/v3` or query. */
export interface FaultMatch { method?: string; path?: string | RegExp }

export type FileStatus = 'added' | 'modified' | 'removed' | 'renamed';
export interface PullFileInput { filename: string; status?: FileStatus; additions?: number; deletions?: number; previous_filename?: string; patch?: string; sha?: string }
/** A commit of a pull request; `login: null` means the author's email maps to no GitHub account. */
export interface PullCommitInput { message: string; sha?: string; author?: { name: string; email: string; date?: string }; login?: string | null; type?: 'User' | 'Bot' }
export interface PullRequestInput {
  title?: string; body?: string | null; state?: 'open' | 'closed'; draft?: boolean; merged?: boolean; merge_commit_sha?: string | null;
  /** The author's login. */
  user?: string; labels?: string[]; head_sha?: string; head_ref?: string; base_ref?: string;
  created_at?: string; updated_at?: string; merged_at?: string | null; merged_by?: string;
}

export interface CheckRunOutput { title: string | null; summary: string | null; text: string | null; annotations_count: number; annotations_url: string }
/** A check run as GitHub answers it. */
export interface CheckRun {
  id: number; name: string; head_sha: string; status: string; conclusion: string | null; output: CheckRunOutput;
  details_url: string | null; html_url: string; url: string; external_id: string; started_at: string | null; completed_at: string | null;
  app: { id: number; slug: string }; pull_requests: unknown[];
}

/** One accepted POST to a deployment protection rule callback. */
export interface ProtectionRuleAnswer { repo: string; runId: number; environment_name: string; state: 'approved' | 'rejected'; comment?: string; installation: number; at: number }

type Args = Record<string, unknown>;
interface Answer { status: number; body?: unknown; headers?: Record<string, string> }
interface Installation { id: number; account: string; repos: Set<string>; permissions: Record<string, Permission> }
interface Who { app?: true; jwtProblem?: string; installation?: Installation; token?: string }
interface Ctx { params: string[]; repo: string; query: URLSearchParams; body: Args; url: URL; installation?: Installation }
interface Route { method: string; path: RegExp; auth: 'app' | 'installation'; perm?: [string, Permission]; run: (c: Ctx) => Answer }
interface PullData { pr: Args; files: Args[]; commits: Args[] }

const DOCS = 'https://docs.github.com/rest';
const RATE_DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';
const UNDECODABLE = 'A JSON web token could not be decoded';
// GitHub's wording for time-claim problems; @octokit/auth-app matches it to retry with the server's clock.
const IAT_PROBLEM = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
const EXP_PROBLEM = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const JWT_MAX_LIFETIME_S = 600;
const CLOCK_DRIFT_S = 60;
const TOKEN_TTL_MS = 3_600_000;
const MAX_PR_FILES = 3000;
const MAX_PR_COMMITS = 250;
const CHECK_STATUSES = ['queued', 'in_progress', 'completed'];
// 'stale' is missing on purpose: only GitHub itself may set it.
const CHECK_CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'timed_out'];
const DEFAULT_PERMISSIONS: Record<string, Permission> = { metadata: 'read', contents: 'read', pull_requests: 'read', checks: 'write', actions: 'read', deployments: 'write' };
const EPOCH = Date.parse('2024-01-01T00:00:00Z');

/** An error answer thrown from a route. */
class HttpError extends Error {
  constructor(readonly answer: Answer) {
    super(String((answer.body as Args | undefined)?.message));
  }
}
function notFound(): never {
  throw new HttpError(error(404, 'Not Found'));
}
function invalid(errors: Args[]): never {
  throw new HttpError({ status: 422, body: { message: 'Validation Failed', errors, documentation_url: DOCS, status: '422' } });
}

/**
 * The fake server. Tests tell it the installations and pull requests, then read back `calls`,
 * `checkRuns()` and `protectionRuleAnswers()`.
 */
export class FakeGitHub {
  readonly appId: string;
  readonly slug: string;
  readonly calls: RecordedCall[] = [];

  private readonly publicKey: KeyObject;
  private readonly now: () => number;
  private readonly installations = new Map<number, Installation>();
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly pulls = new Map<string, PullData>();
  private readonly runs = new Map<number, { repo: string; versions: CheckRun[]; annotations: unknown[] }>();
  private readonly answers: ProtectionRuleAnswer[] = [];
  private readonly budgets = new Map<string, { used: number; reset: number }>();
  private faults: { remaining: number; fault: Fault; match: FaultMatch }[] = [];
  private latencyMs = 0;
  private nextRunId = 20_000_000_001;
  private server?: Server;
  private base?: string;

  private readonly routes: Route[] = [
    app('GET', /^\/app$/, () => ok(this.appOut())),
    app('GET', /^\/app\/installations$/, (c) => paged(c, [...this.installations.values()].map((i) => this.installationOut(i)))),
    app('GET', /^\/app\/installations\/(\d+)$/, (c) => ok(this.installationOut(this.installations.get(Number(c.params[0])) ?? notFound()))),
    app('POST', /^\/app\/installations\/(\d+)\/access_tokens$/, (c) => this.mintToken(Number(c.params[0]))),
    app('GET', /^\/repos\/([^/]+)\/([^/]+)\/installation$/, (c) => ok(this.installationOut(this.installationOf(c.repo) ?? notFound()))),
    repo('GET', /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, ['pull_requests', 'read'], (c) => ok(this.pull(c).pr)),
    repo('GET', /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, ['pull_requests', 'read'], (c) => paged(c, this.pull(c).files.slice(0, MAX_PR_FILES))),
    repo('GET', /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/commits$/, ['pull_requests', 'read'], (c) => paged(c, this.pull(c).commits.slice(0, MAX_PR_COMMITS))),
    repo('POST', /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, ['checks', 'write'], (c) => this.createCheckRun(c)),
    repo('PATCH', /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/, ['checks', 'write'], (c) => this.updateCheckRun(c)),
    repo('GET', /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/, ['checks', 'read'], (c) => this.listCheckRuns(c)),
    repo('POST', /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/, ['deployments', 'write'], (c) => this.answerProtectionRule(c)),
  ];

  constructor(opts: FakeGitHubOptions) {
    this.appId = String(opts.appId);
    this.slug = opts.slug ?? 'countersign-test';
    const key = opts.publicKey;
    this.publicKey = typeof key === 'string' || key.type === 'private' ? createPublicKey(key) : key;
    this.now = opts.now ?? Date.now;
    for (const i of opts.installations ?? []) this.addInstallation(i);
  }

  /** Listens (127.0.0.1 and an ephemeral port by default) and returns the base URL, e.g. `http://127.0.0.1:PORT`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('FakeGitHub already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.base = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  /** Closes the server and every open connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** `http://127.0.0.1:PORT` once started; Octokit's `baseUrl`. */
  get baseUrl(): string {
    if (!this.base) throw new Error('FakeGitHub not started');
    return this.base;
  }

  /** Installs the app on an account for some repositories (replaces an installation with the same id). */
  addInstallation(i: FakeInstallation): void {
    const repos = new Set(i.repos.map((r) => r.toLowerCase()));
    this.installations.set(i.id, { id: i.id, account: i.account, repos, permissions: i.permissions ?? DEFAULT_PERMISSIONS });
  }

  /** Sets what GitHub answers about one pull request (its files, commits, and fields of the PR object). */
  setPullRequest(repo: string, number: number, data: { files?: PullFileInput[]; commits?: PullCommitInput[]; pr?: PullRequestInput } = {}): void {
    const commits = commitsOut(repo, number, data.commits ?? []);
    const input = data.pr ?? {};
    const headSha = input.head_sha ?? (commits.at(-1)?.sha as string | undefined) ?? sha1(`${repo}#${number}:head`);
    const files = (data.files ?? []).map((f) => fileOut(repo, headSha, f));
    this.pulls.set(`${repo.toLowerCase()}#${number}`, { pr: this.pullOut(repo, number, input, headSha, commits.length, files), files, commits });
  }

  /** The latest version of every check run (in one repository, if given), oldest first. */
  checkRuns(repo?: string): CheckRun[] {
    return [...this.runs.values()].filter((r) => !repo || r.repo === repo.toLowerCase()).map((r) => r.versions.at(-1)!);
  }

  /** Every version of one check run: as created, then after each PATCH. */
  checkRunHistory(id: number): CheckRun[] {
    return this.runs.get(id)?.versions ?? [];
  }

  /** All annotations sent for one check run; GitHub appends them across updates. */
  checkRunAnnotations(id: number): unknown[] {
    return this.runs.get(id)?.annotations ?? [];
  }

  /** Accepted deployment protection rule answers (in one repository, if given), oldest first. */
  protectionRuleAnswers(repo?: string): ProtectionRuleAnswer[] {
    return this.answers.filter((a) => !repo || a.repo === repo.toLowerCase());
  }

  /** The `deployment_callback_url` GitHub puts in a `deployment_protection_rule` webhook for this run. */
  deploymentCallbackUrl(repo: string, runId: number): string {
    return `${this.baseUrl}/repos/${repo}/actions/runs/${runId}/deployment_protection_rule`;
  }

  /** Recorded calls with this method whose path matches. */
  callsTo(method: string, path: RegExp | string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method.toUpperCase() && matches(path, c.path));
  }

  /** The next `n` matching calls answer with `fault` and change no state. */
  failNext(n: number, fault: Fault, match: FaultMatch = {}): void {
    if (n > 0) this.faults.push({ remaining: n, fault, match });
  }

  /** Drops every pending fault (GitHub "comes back"). */
  clearFaults(): void {
    this.faults = [];
  }

  /** Delays every request by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Expires the installation tokens minted so far (of one installation, if given), as an hour passing does. */
  expireTokens(installationId?: number): void {
    for (const t of this.tokens.values()) if (installationId === undefined || t.installationId === installationId) t.expiresAt = this.now();
  }

  /**
   * Forgets calls, pull requests, check runs, protection rule answers, faults, latency and rate-limit use.
   * Installations and minted tokens stay, because Octokit clients cache tokens across tests.
   */
  reset(): void {
    this.calls.length = 0;
    this.answers.length = 0;
    this.pulls.clear();
    this.runs.clear();
    this.budgets.clear();
    this.faults = [];
    this.latencyMs = 0;
  }

  // ——— HTTP ———

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const path = url.pathname.replace(/^\/api\/v3(?=\/|$)/, '') || '/';
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const who = this.identify(req.headers.authorization);
    const call: RecordedCall = {
      method, path, query: Object.fromEntries(url.searchParams), body: raw ? (parseJson(raw) ?? raw) : undefined, status: 0, at: this.now(),
      ...(who.installation ? { installation: who.installation.id } : {}), ...(who.token ? { token: who.token } : {}), ...(who.app ? { app: true as const } : {}),
    };
    this.calls.push(call);
    const fault = this.takeFault(method, path);
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
    const faulted = fault && !('delayMs' in fault) ? this.faultAnswer(fault, who) : undefined;
    const answer = faulted ?? this.answer(method, path, url, raw, who);
    call.status = answer.status;
    send(res, answer.status, answer.body, { ...this.standardHeaders(who, !faulted), ...answer.headers });
  }

  private answer(method: string, path: string, url: URL, raw: string, who: Who): Answer {
    try {
      const route = this.routes.find((r) => r.method === method && r.path.test(path)) ?? notFound();
      const params = route.path.exec(path)!.slice(1).map(decodeURIComponent);
      const repo = path.startsWith('/repos/') ? `${params[0]}/${params[1]}`.toLowerCase() : '';
      if (route.auth === 'app' && !who.app) return error(401, who.jwtProblem ?? UNDECODABLE);
      if (route.auth === 'installation') {
        if (!who.installation) return error(401, 'Bad credentials');
        // GitHub answers 404, not 403, so that private repositories stay invisible.
        if (!who.installation.repos.has(repo)) notFound();
        if (route.perm && !allows(who.installation.permissions, route.perm)) return error(403, 'Resource not accessible by integration');
      }
      const body = raw ? parseJson(raw) : {};
      if (body === undefined) return error(400, 'Problems parsing JSON');
      return route.run({ params, repo, query: url.searchParams, body: asRecord(body) ?? {}, url, installation: who.installation });
    } catch (err) {
      if (err instanceof HttpError) return err.answer;
      throw err;
    }
  }

  /** Who the Authorization header names. Read-only, so faulted calls can use it too. */
  private identify(header: string | undefined): Who {
    const [, scheme, credential] = /^(bearer|token)\s+(\S+)$/i.exec(header ?? '') ?? [];
    if (!credential) return {};
    const held = this.tokens.get(credential);
    if (held) return held.expiresAt > this.now() ? { installation: this.installations.get(held.installationId), token: credential } : { token: credential };
    if (scheme.toLowerCase() === 'bearer' && credential.split('.').length === 3) {
      const problem = jwtProblem(credential, this.publicKey, this.appId, Math.floor(this.now() / 1000));
      return problem ? { jwtProblem: problem } : { app: true };
    }
    return { token: credential };
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const rule = this.faults.find((f) => (!f.match.method || f.match.method.toUpperCase() === method) && (!f.match.path || matches(f.match.path, path)));
    if (rule && --rule.remaining === 0) this.faults.splice(this.faults.indexOf(rule), 1);
    return rule?.fault;
  }

  private faultAnswer(fault: Exclude<Fault, { delayMs: number }>, who: Who): Answer {
    const requestId = newRequestId();
    const secondary = { message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`, documentation_url: `${RATE_DOCS}#about-secondary-rate-limits` };
    const headers = { 'x-github-request-id': requestId };
    if ('secondaryRateLimit' in fault) return { status: 403, body: { ...secondary, status: '403' }, headers: { ...headers, 'retry-after': String(fault.secondaryRateLimit) } };
    if ('primaryRateLimit' in fault) {
      const { limit } = this.budget(who);
      const reset = Math.floor(this.now() / 1000) + fault.primaryRateLimit;
      const whom = who.installation ? `installation ID ${who.installation.id}` : '127.0.0.1';
      return {
        status: 403,
        body: { message: `API rate limit exceeded for ${whom}. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`, documentation_url: `${RATE_DOCS}#about-the-primary-rate-limit`, status: '403' },
        headers: { ...headers, 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': '0', 'x-ratelimit-used': String(limit), 'x-ratelimit-reset': String(reset) },
      };
    }
    if (fault.status === 429) return { status: 429, body: { ...secondary, status: '429' }, headers: { ...headers, 'retry-after': String(fault.retryAfter ?? 60) } };
    return { ...error(fault.status, 'Server Error'), headers };
  }

  /** The rate-limit window of whoever is calling: 5,000 an hour for the app and each installation, 60 unauthenticated. */
  private budget(who: Who): { limit: number; window: { used: number; reset: number } } {
    const key = who.installation ? `installation:${who.installation.id}` : who.app ? 'app' : 'anonymous';
    const nowS = Math.floor(this.now() / 1000);
    let window = this.budgets.get(key);
    if (!window || window.reset <= nowS) this.budgets.set(key, (window = { used: 0, reset: nowS + 3600 }));
    return { limit: key === 'anonymous' ? 60 : 5000, window };
  }

  /** Headers on every answer. `date` follows the fake's clock, which @octokit/auth-app reads to correct JWT clock skew. */
  private standardHeaders(who: Who, count: boolean): Record<string, string> {
    const { limit, window } = this.budget(who);
    if (count) window.used++;
    return {
      date: new Date(this.now()).toUTCString(),
      'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(Math.max(0, limit - window.used)), 'x-ratelimit-reset': String(window.reset),
      'x-ratelimit-used': String(window.used), 'x-ratelimit-resource': 'core', 'x-github-request-id': newRequestId(),
      'x-github-api-version-selected': '2022-11-28', 'x-github-media-type': 'github.v3; format=json',
    };
  }

  // ——— routes ———

  private mintToken(installationId: number): Answer {
    const installation = this.installations.get(installationId) ?? notFound();
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const expiresAt = Math.floor((this.now() + TOKEN_TTL_MS) / 1000) * 1000;
    this.tokens.set(token, { installationId, expiresAt });
    return { status: 201, body: { token, expires_at: iso(expiresAt), permissions: installation.permissions, repository_selection: 'all' } };
  }

  private installationOf(repo: string): Installation | undefined {
    return [...this.installations.values()].find((i) => i.repos.has(repo));
  }

  private pull(c: Ctx): PullData {
    return this.pulls.get(`${c.repo}#${Number(c.params[2])}`) ?? notFound();
  }

  private createCheckRun(c: Ctx): Answer {
    const b = c.body;
    const missing = (['name', 'head_sha'] as const).filter((k) => typeof b[k] !== 'string' || b[k] === '');
    invalidIfAny([...missing.map((field) => ({ resource: 'CheckRun', code: 'missing_field', field })), ...checkRunErrors(b)]);
    if (!/^[0-9a-f]{40}$/i.test(b.head_sha as string)) throw new HttpError(error(422, `No commit found for SHA: ${b.head_sha}`));
    const id = this.nextRunId++;
    const [owner, name] = [c.params[0], c.params[1]];
    const created: CheckRun = {
      id, name: '', head_sha: String(b.head_sha), status: 'queued', conclusion: null, details_url: null, external_id: '',
      output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${this.baseUrl}/repos/${owner}/${name}/check-runs/${id}/annotations` },
      html_url: `https://github.com/${owner}/${name}/runs/${id}`, url: `${this.baseUrl}/repos/${owner}/${name}/check-runs/${id}`,
      started_at: iso(this.now()), completed_at: null, app: { id: Number(this.appId), slug: this.slug }, pull_requests: [],
    };
    const stored = { repo: c.repo, versions: [] as CheckRun[], annotations: [] as unknown[] };
    this.runs.set(id, stored);
    return { status: 201, body: this.applyCheckRun(stored, created, b) };
  }

  private updateCheckRun(c: Ctx): Answer {
    const stored = this.runs.get(Number(c.params[2]));
    if (!stored || stored.repo !== c.repo) notFound();
    invalidIfAny(checkRunErrors(c.body));
    return ok(this.applyCheckRun(stored, stored.versions.at(-1)!, c.body));
  }

  /** Applies a create or update body the way GitHub does and stores the result as a new version. */
  private applyCheckRun(stored: { versions: CheckRun[]; annotations: unknown[] }, prev: CheckRun, b: Args): CheckRun {
    const next: CheckRun = { ...prev, output: { ...prev.output } };
    for (const k of ['name', 'details_url', 'external_id', 'started_at'] as const) if (typeof b[k] === 'string') next[k] = b[k];
    // Like GitHub: a conclusion completes the run; moving it back out of `completed` drops the conclusion.
    if (typeof b.conclusion === 'string') Object.assign(next, { status: 'completed', conclusion: b.conclusion });
    else if (typeof b.status === 'string') Object.assign(next, { status: b.status, conclusion: b.status === 'completed' ? next.conclusion : null });
    next.completed_at = next.status === 'completed' ? (typeof b.completed_at === 'string' ? b.completed_at : (next.completed_at ?? iso(this.now()))) : null;
    const output = asRecord(b.output);
    if (output) {
      const annotations = Array.isArray(output.annotations) ? output.annotations : [];
      stored.annotations.push(...annotations);
      Object.assign(next.output, { title: output.title, summary: output.summary, text: output.text ?? null, annotations_count: stored.annotations.length });
    }
    stored.versions.push(next);
    return next;
  }

  private listCheckRuns(c: Ctx): Answer {
    const ref = c.params[2];
    const name = c.query.get('check_name');
    const status = c.query.get('status');
    const newestFirst = this.checkRuns(c.repo).filter((r) => r.head_sha === ref && (!name || r.name === name) && (!status || r.status === status)).reverse();
    // filter=latest (the default) keeps only the newest run of each name.
    const runs = c.query.get('filter') === 'all' ? newestFirst : newestFirst.filter((r, i) => newestFirst.findIndex((o) => o.name === r.name) === i);
    return paged(c, runs, (check_runs) => ({ total_count: runs.length, check_runs }));
  }

  private answerProtectionRule(c: Ctx): Answer {
    const { environment_name, state, comment } = c.body;
    const errors: Args[] = [];
    if (typeof environment_name !== 'string' || !environment_name) errors.push({ resource: 'DeploymentProtectionRule', code: 'missing_field', field: 'environment_name' });
    if (state !== 'approved' && state !== 'rejected') errors.push({ resource: 'DeploymentProtectionRule', code: 'invalid', field: 'state', value: state ?? null });
    invalidIfAny(errors);
    this.answers.push({
      repo: c.repo, runId: Number(c.params[2]), environment_name: environment_name as string, state: state as 'approved' | 'rejected',
      ...(typeof comment === 'string' ? { comment } : {}), installation: c.installation!.id, at: this.now(),
    });
    return { status: 204 };
  }

  // ——— response shapes ———

  private appOut(): Args {
    const owner = this.installations.values().next().value?.account ?? 'countersign';
    return {
      id: Number(this.appId), slug: this.slug, client_id: `Iv1.${sha1(this.appId).slice(0, 16)}`, name: this.slug, description: '',
      owner: { login: owner, type: 'Organization' }, external_url: 'https://example.com', html_url: `https://github.com/apps/${this.slug}`,
      created_at: iso(EPOCH), updated_at: iso(EPOCH), permissions: DEFAULT_PERMISSIONS,
      events: ['check_run', 'pull_request', 'deployment_protection_rule'], installations_count: this.installations.size,
    };
  }

  private installationOut(i: Installation): Args {
    return {
      id: i.id, account: { login: i.account, id: accountId(i.account), type: 'Organization' }, repository_selection: 'all',
      access_tokens_url: `${this.baseUrl}/app/installations/${i.id}/access_tokens`, repositories_url: `${this.baseUrl}/installation/repositories`,
      html_url: `https://github.com/organizations/${i.account}/settings/installations/${i.id}`, app_id: Number(this.appId), app_slug: this.slug,
      target_id: accountId(i.account), target_type: 'Organization', permissions: i.permissions, events: ['check_run', 'pull_request', 'deployment_protection_rule'],
      created_at: iso(EPOCH), updated_at: iso(EPOCH), single_file_name: null, suspended_at: null, suspended_by: null,
    };
  }

  private pullOut(repo: string, number: number, p: PullRequestInput, headSha: string, commits: number, files: Args[]): Args {
    const [owner, name] = repo.split('/');
    const merged = p.merged ?? false;
    const state = p.state ?? (merged ? 'closed' : 'open');
    const updated = p.updated_at ?? iso(EPOCH + 3_600_000);
    const repoRef = { id: accountId(repo), name, full_name: repo, owner: { login: owner }, private: true, html_url: `https://github.com/${repo}` };
    const headRef = p.head_ref ?? `change-${number}`;
    const baseRef = p.base_ref ?? 'main';
    const sum = (k: string) => files.reduce((n, f) => n + (f[k] as number), 0);
    return {
      url: `${this.base ?? ''}/repos/${repo}/pulls/${number}`, id: accountId(`${repo}#${number}`), number, state, locked: false,
      title: p.title ?? `Change #${number}`, user: { login: p.user ?? 'octocat', type: 'User' }, body: p.body ?? null,
      labels: (p.labels ?? []).map((l) => ({ id: accountId(l), name: l, color: 'ededed', default: false })), draft: p.draft ?? false,
      created_at: p.created_at ?? iso(EPOCH), updated_at: updated, closed_at: state === 'closed' ? updated : null,
      merged_at: merged ? (p.merged_at ?? updated) : null, merged, merged_by: merged ? { login: p.merged_by ?? 'octocat', type: 'User' } : null,
      // Open PRs have one too: GitHub's test merge commit.
      merge_commit_sha: p.merge_commit_sha === undefined ? sha1(`${repo}#${number}:merge`) : p.merge_commit_sha,
      mergeable: merged ? null : true, author_association: 'MEMBER', html_url: `https://github.com/${repo}/pull/${number}`,
      head: { label: `${owner}:${headRef}`, ref: headRef, sha: headSha, user: { login: owner }, repo: repoRef },
      base: { label: `${owner}:${baseRef}`, ref: baseRef, sha: sha1(`${repo}#${number}:base`), user: { login: owner }, repo: repoRef },
      commits, additions: sum('additions'), deletions: sum('deletions'), changed_files: files.length, comments: 0, review_comments: 0,
    };
  }
}

/** Generates an app key pair the way GitHub hands it out: a PKCS#1 private key PEM, and its SPKI public key PEM. */
export function generateAppKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** A started fake GitHub on 127.0.0.1 (ephemeral port); point Octokit's `baseUrl` at `.baseUrl` and `stop()` it after. */
export async function startFakeGitHub(opts: FakeGitHubOptions): Promise<FakeGitHub> {
  const github = new FakeGitHub(opts);
  await github.start(0, '127.0.0.1');
  return github;
}

// ——— helpers ———

function app(method: string, path: RegExp, run: Route['run']): Route {
  return { method, path, auth: 'app', run };
}

function repo(method: string, path: RegExp, perm: [string, Permission], run: Route['run']): Route {
  return { method, path, auth: 'installation', perm, run };
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

function error(status: number, message: string): Answer {
  return { status, body: { message, documentation_url: DOCS, status: String(status) } };
}

function invalidIfAny(errors: Args[]): void {
  if (errors.length > 0) invalid(errors);
}

/** One page of `items` and GitHub's Link header (prev, next, last, first), built on the URL as requested. */
function paged(c: Ctx, items: unknown[], wrap: (page: unknown[]) => unknown = (page) => page): Answer {
  const perPage = Math.min(100, positiveInt(c.query.get('per_page')) ?? 30);
  const page = positiveInt(c.query.get('page')) ?? 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const u = new URL(c.url);
    u.searchParams.set('page', String(p));
    return `<${u}>; rel="${rel}"`;
  };
  const links = [
    ...(page > 1 ? [link(page - 1, 'prev')] : []),
    ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
    ...(page > 1 ? [link(1, 'first')] : []),
  ];
  return { status: 200, body: wrap(items.slice((page - 1) * perPage, page * perPage)), headers: links.length ? { link: links.join(', ') } : {} };
}

function checkRunErrors(b: Args): Args[] {
  const errors: Args[] = [];
  const err = (code: string, field: string) => errors.push({ resource: 'CheckRun', code, field });
  if (b.status !== undefined && !CHECK_STATUSES.includes(b.status as string)) err('invalid', 'status');
  if (b.conclusion !== undefined && b.conclusion !== null && !CHECK_CONCLUSIONS.includes(b.conclusion as string)) err('invalid', 'conclusion');
  if (b.status === 'completed' && typeof b.conclusion !== 'string') err('missing_field', 'conclusion');
  if (b.output !== undefined) {
    const output = asRecord(b.output);
    if (typeof output?.title !== 'string') err('missing_field', 'output.title');
    if (typeof output?.summary !== 'string') err('missing_field', 'output.summary');
    if (Array.isArray(output?.annotations) && output.annotations.length > 50) err('invalid', 'output.annotations');
  }
  return errors;
}

/** Why GitHub would refuse this app JWT now, or undefined when it is valid. */
function jwtProblem(jwt: string, key: KeyObject, appId: string, nowS: number): string | undefined {
  const [head, claims, signature] = jwt.split('.');
  const header = asRecord(parseJson(Buffer.from(head, 'base64url').toString('utf8')));
  const payload = asRecord(parseJson(Buffer.from(claims, 'base64url').toString('utf8')));
  if (header?.alg !== 'RS256' || !payload || !signature) return UNDECODABLE;
  let signed = false;
  try {
    signed = verify('sha256', Buffer.from(`${head}.${claims}`), key, Buffer.from(signature, 'base64url'));
  } catch {
    // A malformed signature is as undecodable as a wrong one.
  }
  if (!signed || String(payload.iss) !== appId) return UNDECODABLE;
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > nowS + CLOCK_DRIFT_S) return IAT_PROBLEM;
  if (typeof exp !== 'number' || exp <= nowS) return EXP_PROBLEM;
  if (exp - iat > JWT_MAX_LIFETIME_S + CLOCK_DRIFT_S || exp > nowS + JWT_MAX_LIFETIME_S + CLOCK_DRIFT_S) return EXP_TOO_FAR;
  return undefined;
}

function allows(granted: Record<string, Permission>, [name, level]: [string, Permission]): boolean {
  return granted[name] === 'write' || granted[name] === level;
}

function fileOut(repo: string, headSha: string, f: PullFileInput): Args {
  const additions = f.additions ?? 0;
  const deletions = f.deletions ?? 0;
  return {
    sha: f.sha ?? sha1(`blob:${f.filename}`), filename: f.filename, status: f.status ?? 'modified', additions, deletions, changes: additions + deletions,
    blob_url: `https://github.com/${repo}/blob/${headSha}/${encodeURI(f.filename)}`, raw_url: `https://github.com/${repo}/raw/${headSha}/${encodeURI(f.filename)}`,
    ...(f.patch !== undefined ? { patch: f.patch } : {}), ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
  };
}

/** Commits in order, each the parent of the next, with deterministic shas and dates. */
function commitsOut(repo: string, number: number, inputs: PullCommitInput[]): Args[] {
  const out: Args[] = [];
  inputs.forEach((c, i) => {
    const sha = c.sha ?? sha1(`${repo}#${number}:commit:${i}:${c.message}`);
    const actor = { name: c.author?.name ?? 'Octo Cat', email: c.author?.email ?? 'octocat@example.com', date: c.author?.date ?? iso(EPOCH + i * 60_000) };
    const login = c.login === undefined ? 'octocat' : c.login;
    const user = login === null ? null : { login, type: c.type ?? 'User' };
    const parents = out.length ? [{ sha: out[out.length - 1].sha }] : [];
    out.push({ sha, commit: { message: c.message, author: actor, committer: actor }, author: user, committer: user, parents, html_url: `https://github.com/${repo}/commit/${sha}` });
  });
  return out;
}

function matches(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern === 'string') return pattern === path;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

function positiveInt(v: string | null): number | undefined {
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

/** A stable, GitHub-sized numeric id for a name. */
function accountId(name: string): number {
  return parseInt(sha1(name).slice(0, 8), 16);
}

function newRequestId(): string {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
  return `${hex(2)}:${hex(2)}:${hex(4)}:${hex(4)}:${hex(4)}`;
}

function asRecord(v: unknown): Args | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Args) : undefined;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers JSON (nothing for 204), like GitHub's `application/json; charset=utf-8`. */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const hasBody = body !== undefined && status !== 204;
  res.writeHead(status, { ...(hasBody ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
  res.end(hasBody ? JSON.stringify(body) : undefined);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
