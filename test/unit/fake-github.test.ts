import { App } from '@octokit/app';
import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateAppKeyPair, startFakeGitHub, type FakeGitHub } from '../fakes/fake-github.ts';

// The fake is proved against the real clients the app will use: @octokit/app signs JWTs and mints
// installation tokens, @octokit/rest paginates by following Link headers.

const APP_ID = 4242;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const keys = generateAppKeyPair();
const REPO = { owner: 'acme', repo: 'shop' };
const SHA = 'a'.repeat(40);

let github: FakeGitHub;
let app: ReturnType<typeof appFor>;
let octokit: Awaited<ReturnType<typeof app.getInstallationOctokit>>;

/** The Octokit class an App should use against a fake: @octokit/app has no baseUrl option, the class carries it. */
function octokitFor(baseUrl: string) {
  return Octokit.defaults({ baseUrl, log: quiet });
}

/** An App whose installation octokits are @octokit/rest ones, pointed at `baseUrl`. */
function appFor(baseUrl: string, privateKey = keys.privateKeyPem, appId: number = APP_ID) {
  return new App({ appId, privateKey, Octokit: octokitFor(baseUrl), log: quiet });
}

interface HttpFailure { status: number; message: string; response?: { headers: Record<string, string | number | undefined>; data: any } }

async function failure(p: Promise<unknown>): Promise<HttpFailure> {
  try {
    await p;
  } catch (err) {
    return err as HttpFailure;
  }
  throw new Error('expected the request to fail');
}

function files(n: number) {
  return Array.from({ length: n }, (_, i) => ({ filename: `src/f${i}.ts`, additions: 2, deletions: 1 }));
}

beforeAll(async () => {
  github = await startFakeGitHub({
    appId: APP_ID,
    publicKey: keys.publicKeyPem,
    installations: [
      { id: 1, account: 'acme', repos: ['acme/shop'] },
      { id: 2, account: 'other', repos: ['other/secret'] },
    ],
  });
  app = appFor(github.baseUrl);
  octokit = await app.getInstallationOctokit(1);
});
afterEach(() => github.reset());
afterAll(() => github.stop());

describe('app authentication', () => {
  it('when the app calls app routes with its JWT, then GitHub answers the app and its installations', async () => {
    const { data: me } = await app.octokit.request('GET /app');
    const { data: installations } = await app.octokit.request('GET /app/installations');
    const { data: forRepo } = await app.octokit.request('GET /repos/{owner}/{repo}/installation', REPO);
    expect(me).toMatchObject({ id: APP_ID, slug: 'countersign-test' });
    expect(installations.map((i) => i.id)).toEqual([1, 2]);
    expect(forRepo).toMatchObject({ id: 1, account: { login: 'acme' } });
    expect(github.calls.every((c) => c.app)).toBe(true);
  });

  it('when an installation octokit makes its first call, then it mints a ghs_ token with the JWT and the call is recorded against the installation', async () => {
    const fresh = await appFor(github.baseUrl).getInstallationOctokit(1);
    github.setPullRequest('acme/shop', 7, { pr: { title: 'Add cart', labels: ['ai-assisted'] } });
    const { data: pr } = await fresh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...REPO, pull_number: 7 });
    const [mint, get] = github.calls;
    expect(mint).toMatchObject({ method: 'POST', path: '/app/installations/1/access_tokens', app: true, status: 201 });
    expect(get).toMatchObject({ method: 'GET', path: '/repos/acme/shop/pulls/7', installation: 1, status: 200 });
    expect(get.token).toMatch(/^ghs_\w{36}$/);
    expect(pr).toMatchObject({ number: 7, title: 'Add cart', state: 'open', merged: false, labels: [{ name: 'ai-assisted' }] });
    expect(pr.head.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('when the access token is minted, then it expires in an hour and carries the installation permissions', async () => {
    const { data } = await app.octokit.request('POST /app/installations/{installation_id}/access_tokens', { installation_id: 1 });
    expect(Date.parse(data.expires_at) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(data).toMatchObject({ token: expect.stringMatching(/^ghs_/), repository_selection: 'all', permissions: { checks: 'write' } });
  });

  it('when the JWT is signed with a different key, then minting a token gets 401', async () => {
    const impostor = await appFor(github.baseUrl, generateAppKeyPair().privateKeyPem).getInstallationOctokit(1);
    const err = await failure(impostor.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...REPO, pull_number: 1 }));
    expect(err.status).toBe(401);
    expect(err.response?.data).toMatchObject({ message: 'A JSON web token could not be decoded', documentation_url: expect.any(String) });
    expect(github.callsTo('POST', '/app/installations/1/access_tokens')[0]).toMatchObject({ status: 401 });
    expect(github.callsTo('GET', /pulls/)).toEqual([]);
  });

  it('when the JWT names another app, or the installation is unknown, then GitHub refuses', async () => {
    const stranger = appFor(github.baseUrl, keys.privateKeyPem, 999);
    expect((await failure(stranger.octokit.request('GET /app'))).status).toBe(401);
    expect((await failure(app.octokit.request('POST /app/installations/{installation_id}/access_tokens', { installation_id: 77 }))).status).toBe(404);
  });

  it("when an installation token is used on another installation's repository, then GitHub answers 404", async () => {
    github.setPullRequest('other/secret', 1);
    const err = await failure(octokit.rest.pulls.get({ owner: 'other', repo: 'secret', pull_number: 1 }));
    expect(err.status).toBe(404);
    expect(err.response?.data).toMatchObject({ message: 'Not Found' });
  });

  it('when a made-up token or an installation token on an app route is used, then GitHub answers 401', async () => {
    const madeUp = new (octokitFor(github.baseUrl))({ auth: 'ghs_madeupmadeupmadeupmadeupmadeup1234' });
    const err = await failure(madeUp.rest.pulls.get({ ...REPO, pull_number: 1 }));
    expect(err.status).toBe(401);
    expect(err.response?.data).toMatchObject({ message: 'Bad credentials' });
    const { token } = (await octokit.auth({ type: 'installation' })) as { token: string };
    const asApp = new (octokitFor(github.baseUrl))({ auth: token });
    expect((await failure(asApp.request('GET /app/installations'))).status).toBe(401);
  });
});

describe('time', () => {
  let clock = Date.now();
  let timed: FakeGitHub;
  beforeAll(async () => {
    timed = await startFakeGitHub({ appId: APP_ID, publicKey: keys.publicKeyPem, installations: [{ id: 1, account: 'acme', repos: ['acme/shop'] }], now: () => clock });
  });
  afterAll(() => timed.stop());

  it('when an hour passes, then the installation token is refused with 401', async () => {
    clock = Date.now();
    const installation = await appFor(timed.baseUrl).getInstallationOctokit(1);
    const { token } = (await installation.auth({ type: 'installation' })) as { token: string };
    timed.setPullRequest('acme/shop', 1);
    const client = new (octokitFor(timed.baseUrl))({ auth: token });
    await client.rest.pulls.get({ ...REPO, pull_number: 1 });
    clock += 61 * 60_000;
    const err = await failure(client.rest.pulls.get({ ...REPO, pull_number: 1 }));
    expect(err.status).toBe(401);
    expect(err.response?.data).toMatchObject({ message: 'Bad credentials' });
  });

  it("when GitHub's clock is 20 minutes ahead, then the JWT is refused as expired and auth-app retries with the server's Date", async () => {
    clock = Date.now() + 20 * 60_000;
    const { data } = await appFor(timed.baseUrl).octokit.request('GET /app');
    expect(data?.id).toBe(APP_ID);
    expect(timed.callsTo('GET', '/app').map((c) => c.status)).toEqual([401, 200]);
  });
});

describe('pull request data', () => {
  it('when a PR has 250 files, then paginate reads three pages of 100 by following rel="next"', async () => {
    github.setPullRequest('acme/shop', 3, { files: files(250) });
    const all = await octokit.paginate(octokit.rest.pulls.listFiles, { ...REPO, pull_number: 3, per_page: 100 });
    expect(all).toHaveLength(250);
    expect(all[249]).toMatchObject({ filename: 'src/f249.ts', status: 'modified', additions: 2, deletions: 1, changes: 3 });
    expect(github.callsTo('GET', '/repos/acme/shop/pulls/3/files').map((c) => c.query.page)).toEqual([undefined, '2', '3']);
  });

  it('when a middle page is read, then the Link header has prev, next, last and first as absolute URLs', async () => {
    github.setPullRequest('acme/shop', 3, { files: files(250) });
    const page2 = await octokit.rest.pulls.listFiles({ ...REPO, pull_number: 3, per_page: 100, page: 2 });
    const url = (p: number) => `${github.baseUrl}/repos/acme/shop/pulls/3/files?per_page=100&page=${p}`;
    expect(page2.headers.link).toBe(`<${url(1)}>; rel="prev", <${url(3)}>; rel="next", <${url(3)}>; rel="last", <${url(1)}>; rel="first"`);
    const defaults = await octokit.rest.pulls.listFiles({ ...REPO, pull_number: 3 });
    expect(defaults.data).toHaveLength(30);
  });

  it('when a PR has more than 3000 files, then GitHub serves only the first 3000', async () => {
    github.setPullRequest('acme/shop', 4, { files: files(3500) });
    const all = await octokit.paginate(octokit.rest.pulls.listFiles, { ...REPO, pull_number: 4, per_page: 100 });
    expect(all).toHaveLength(3000);
    const { data: pr } = await octokit.rest.pulls.get({ ...REPO, pull_number: 4 });
    expect(pr.changed_files).toBe(3500);
  });

  it('when a PR has 300 commits, then paginate gets the first 250 with their authors', async () => {
    const commits = Array.from({ length: 300 }, (_, i) => ({ message: `step ${i}`, login: i === 0 ? null : 'dev', author: { name: 'Dev', email: 'dev@example.com' } }));
    github.setPullRequest('acme/shop', 5, { commits, files: [{ filename: 'old.ts', status: 'renamed', previous_filename: 'older.ts' }] });
    const all = await octokit.paginate(octokit.rest.pulls.listCommits, { ...REPO, pull_number: 5, per_page: 100 });
    expect(all).toHaveLength(250);
    expect(all[0]).toMatchObject({ commit: { message: 'step 0', author: { name: 'Dev', email: 'dev@example.com' } }, author: null });
    expect(all[1].author).toMatchObject({ login: 'dev', type: 'User' });
    const { data: pr } = await octokit.rest.pulls.get({ ...REPO, pull_number: 5 });
    expect(pr.commits).toBe(300);
    expect(all[1].parents).toEqual([{ sha: all[0].sha }]);
    const { data: renamed } = await octokit.rest.pulls.listFiles({ ...REPO, pull_number: 5 });
    expect(renamed[0]).toMatchObject({ status: 'renamed', previous_filename: 'older.ts' });
  });

  it('when the PR does not exist, then GitHub answers 404', async () => {
    expect((await failure(octokit.rest.pulls.get({ ...REPO, pull_number: 404 }))).status).toBe(404);
  });
});

describe('check runs', () => {
  it('when a check run is created and then completed, then both versions are kept and listing by ref finds it', async () => {
    const { data: created, status } = await octokit.rest.checks.create({ ...REPO, name: 'countersign', head_sha: SHA, status: 'in_progress', external_id: 'chg_1' });
    expect(status).toBe(201);
    expect(created).toMatchObject({ name: 'countersign', head_sha: SHA, status: 'in_progress', conclusion: null, external_id: 'chg_1', completed_at: null });
    expect(created.html_url).toBe(`https://github.com/acme/shop/runs/${created.id}`);
    const output = { title: 'Waiting for sign-off', summary: 'Needs a senior', annotations: [{ path: 'a.ts', start_line: 1, end_line: 1, annotation_level: 'warning' as const, message: 'risky' }] };
    const { data: done } = await octokit.rest.checks.update({ ...REPO, check_run_id: created.id, conclusion: 'neutral', output });
    expect(done).toMatchObject({ status: 'completed', conclusion: 'neutral', output: { title: 'Waiting for sign-off', annotations_count: 1 } });
    expect(done.completed_at).toMatch(/Z$/);
    expect(github.checkRunHistory(created.id).map((r) => r.status)).toEqual(['in_progress', 'completed']);
    expect(github.checkRunAnnotations(created.id)).toEqual(output.annotations);
    const { data: listed } = await octokit.rest.checks.listForRef({ ...REPO, ref: SHA, check_name: 'countersign' });
    expect(listed.total_count).toBe(1);
    expect(listed.check_runs[0]).toMatchObject({ id: created.id, conclusion: 'neutral' });
    expect(github.checkRuns('acme/shop')).toHaveLength(1);
  });

  it('when the body is invalid, then GitHub answers 422 Validation Failed', async () => {
    const completedWithout = await failure(octokit.rest.checks.create({ ...REPO, name: 'c', head_sha: SHA, status: 'completed' }));
    expect(completedWithout.status).toBe(422);
    expect(completedWithout.response?.data).toMatchObject({ message: 'Validation Failed', errors: [{ code: 'missing_field', field: 'conclusion' }] });
    const badConclusion = await failure(octokit.request('POST /repos/{owner}/{repo}/check-runs', { ...REPO, name: 'c', head_sha: SHA, conclusion: 'great' as 'success' }));
    expect(badConclusion.status).toBe(422);
    const noName = await failure(octokit.request('POST /repos/{owner}/{repo}/check-runs', { ...REPO, head_sha: SHA } as never));
    expect(noName.response?.data.errors).toEqual([{ resource: 'CheckRun', code: 'missing_field', field: 'name' }]);
    expect(github.checkRuns()).toEqual([]);
  });

  it('when an unknown check run is patched, then GitHub answers 404', async () => {
    expect((await failure(octokit.rest.checks.update({ ...REPO, check_run_id: 1, status: 'in_progress' }))).status).toBe(404);
  });
});

describe('deployment protection rules', () => {
  it('when the app answers the callback URL from the webhook, then GitHub records the answer with 204', async () => {
    const url = github.deploymentCallbackUrl('acme/shop', 555);
    const res = await octokit.request(`POST ${url}`, { environment_name: 'production', state: 'approved', comment: 'Signed off by @alice' });
    expect(res.status).toBe(204);
    expect(github.protectionRuleAnswers('acme/shop')).toEqual([
      { repo: 'acme/shop', runId: 555, environment_name: 'production', state: 'approved', comment: 'Signed off by @alice', installation: 1, at: expect.any(Number) },
    ]);
  });

  it('when the state is not approved or rejected, then GitHub answers 422 and records nothing', async () => {
    const err = await failure(octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', { ...REPO, run_id: 1, environment_name: 'production', state: 'maybe' as 'approved' }));
    expect(err.status).toBe(422);
    expect(github.protectionRuleAnswers()).toEqual([]);
  });
});

describe('faults', () => {
  const get = () => octokit.rest.pulls.get({ ...REPO, pull_number: 9 });
  const only = { method: 'GET', path: /\/pulls\/9$/ };

  it('when the next call fails with 500 or 502, then the status surfaces and the call after succeeds', async () => {
    github.setPullRequest('acme/shop', 9);
    github.failNext(1, { status: 500 }, only);
    github.failNext(1, { status: 502 }, only);
    expect((await failure(get())).status).toBe(500);
    expect((await failure(get())).status).toBe(502);
    expect((await get()).status).toBe(200);
    expect(github.callsTo('GET', /pulls\/9$/).map((c) => c.status)).toEqual([500, 502, 200]);
  });

  it('when a secondary rate limit hits, then GitHub answers 403 with retry-after', async () => {
    github.setPullRequest('acme/shop', 9);
    github.failNext(1, { secondaryRateLimit: 30 }, only);
    const err = await failure(get());
    expect(err.status).toBe(403);
    expect(err.response?.headers['retry-after']).toBe('30');
    expect(err.message).toMatch(/secondary rate limit/);
  });

  it('when the primary rate limit hits, then GitHub answers 403 with remaining 0 and the reset time', async () => {
    github.setPullRequest('acme/shop', 9);
    github.failNext(1, { primaryRateLimit: 120 }, only);
    const err = await failure(get());
    expect(err.status).toBe(403);
    expect(err.response?.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(err.response?.headers['x-ratelimit-reset']) - Date.now() / 1000).toBeCloseTo(120, -1);
    expect(err.message).toMatch(/API rate limit exceeded for installation ID 1/);
  });

  it('when GitHub answers 429, then retry-after is set', async () => {
    github.failNext(1, { status: 429, retryAfter: 5 }, only);
    const err = await failure(get());
    expect(err.status).toBe(429);
    expect(err.response?.headers['retry-after']).toBe('5');
  });

  it('when a call is slowed, then it answers normally after the delay', async () => {
    github.setPullRequest('acme/shop', 9);
    github.failNext(1, { delayMs: 150 }, only);
    const started = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('when a create is faulted, then no check run is stored', async () => {
    github.failNext(1, { status: 500 }, { method: 'POST' });
    await failure(octokit.rest.checks.create({ ...REPO, name: 'c', head_sha: SHA }));
    expect(github.checkRuns()).toEqual([]);
  });

  it('when GitHub answers normally, then it sends rate-limit, request-id and JSON headers', async () => {
    github.setPullRequest('acme/shop', 9);
    const first = await get();
    const second = await get();
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '5000', 'x-ratelimit-resource': 'core', 'content-type': 'application/json; charset=utf-8' });
    expect(Number(first.headers['x-ratelimit-remaining']) - Number(second.headers['x-ratelimit-remaining'])).toBe(1);
    expect(second.headers['x-ratelimit-used']).toBe('2');
    expect(first.headers['x-github-request-id']).toMatch(/^[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}$/);
  });
});

describe('routing', () => {
  it('when a route is unknown, then GitHub answers 404 Not Found in JSON', async () => {
    const res = await fetch(`${github.baseUrl}/repos/acme/shop/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toMatchObject({ message: 'Not Found', documentation_url: expect.any(String) });
  });

  it('when the base URL has the GitHub Enterprise /api/v3 prefix, then it is stripped and kept in Link URLs', async () => {
    const enterprise = await appFor(`${github.baseUrl}/api/v3`).getInstallationOctokit(1);
    github.setPullRequest('acme/shop', 3, { files: files(40) });
    const res = await enterprise.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { ...REPO, pull_number: 3 });
    expect(res.headers.link).toContain(`${github.baseUrl}/api/v3/repos/acme/shop/pulls/3/files?page=2`);
    expect(github.callsTo('GET', '/repos/acme/shop/pulls/3/files')).toHaveLength(1);
  });
});
