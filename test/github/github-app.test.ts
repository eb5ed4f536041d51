import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { buildConfig } from '../factories/config.ts';
import { deliver, deploymentStatusEvent, protectionRuleEvent, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { generateAppKeyPair, startFakeGitHub, type FakeGitHub } from '../fakes/fake-github.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { fakeClock, ONCALL_TOKEN, startTestApp } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, press, startSlackHarness, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

/**
 * Countersign as a GitHub App, end to end over real HTTP: signed webhooks in, the real Octokit out
 * to a fake GitHub REST API that checks the App's JWT and installation tokens, and the fake Slack
 * for the cards. Nothing of our own is mocked.
 */

const REPO = 'acme/shop';
const INSTALLATION = 4242;
const PAY = 'C0PAYSEN';
const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const MERGE = 'c3d4e5f60718293a4b5c6d7e8f90123456789012';
const UNKNOWN = 'dddddddddddddddddddddddddddddddddddddddd';
const PUBLIC_URL = 'https://countersign.example.com';
const HOUR = 3_600_000;

let gh: FakeGitHub;
let h: SlackHarness;
let db: Database;
const keys = generateAppKeyPair();
// Stands still unless a test moves it (expiry); starts at the real time, as deployment statuses carry it.
const clock = fakeClock(new Date());

beforeAll(async () => {
  gh = await startFakeGitHub({ appId: 123, publicKey: keys.publicKeyPem, installations: [{ id: INSTALLATION, account: 'acme', repos: [REPO] }] });
  db = await createTestDatabase();
  h = await startSlackHarness({
    database: db,
    keepDatabase: true,
    clock,
    config: buildConfig({ github: { repos: [{ repo: REPO, service: 'checkout' }], environments: { 'prod-eu': 'staging' } }, break_glass: { allowed: ['U0CAROL'], review_within: '24h' } }),
    env: { ...githubEnv(), COUNTERSIGN_PUBLIC_URL: `${PUBLIC_URL}/` },
  });
});
afterAll(async () => {
  await h?.stop();
  await gh?.stop();
  await db?.close().catch(() => {});
});

// The key with literal \n sequences, as it is usually put in an env file.
const githubEnv = () => ({ GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GITHUB_APP_ID: '123', GITHUB_APP_PRIVATE_KEY: keys.privateKeyPem.replace(/\n/g, '\\n'), GITHUB_API_URL: gh.baseUrl });
beforeEach(async () => {
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
  await truncateAll(db);
  clock.set(new Date());
  gh.reset();
  gh.clearFaults();
  h.slack.reset();
});

const send = (event: string, payload: unknown) => deliver(h.app.url, event, payload);
const detail = async (key: string) => (await h.app.api('GET', `/api/changes/${key}`)).body;
const gate = (key: string, q = '') => h.app.api('GET', `/api/changes/${key}/gate${q}`);
const checkRuns = () => gh.checkRuns(REPO);

/** A pull request by a senior, with no AI label: only its commits and files can make it risky. */
function seedPullRequest(number: number, o: { sha?: string; files?: string[]; trailer?: boolean } = {}) {
  gh.setPullRequest(REPO, number, {
    files: (o.files ?? ['src/auth/session.ts', 'src/auth/session.test.ts']).map((filename) => ({ filename, additions: 10, deletions: 2 })),
    commits: [{ message: `Tighten session checks${o.trailer === false ? '' : '\n\nAssisted-by: Claude <noreply@anthropic.com>'}`, sha: o.sha ?? SHA1 }],
    pr: { head_sha: o.sha ?? SHA1, user: 'alice' },
  });
}

async function openPr(number = 7, o: { sha?: string; files?: string[]; trailer?: boolean } = {}): Promise<string> {
  seedPullRequest(number, o);
  const res = await send('pull_request', pullRequestEvent('opened', { number, login: 'alice', labels: [], sha: o.sha ?? SHA1, installation: INSTALLATION }));
  expect(res.status).toBe(201);
  return res.body.change;
}

describe('reading the pull request', () => {
  it('when a senior’s PR has an Assisted-by trailer and touches src/auth/, then the fetched data makes it high risk (the webhook alone would say low)', async () => {
    const key = await openPr();
    const decided = await waitFor(async () => {
      const c = await detail(key);
      return c.risk.level === 'high' && c;
    }, 10_000, 'read and decided');
    expect(decided).toMatchObject({ status: 'pending', ai_assisted: true, approvals_required: 1, diff: { files_changed: 2, paths: ['src/auth/session.ts', 'src/auth/session.test.ts'] } });
    expect(decided.risk.reasons.map((r: { rule: string }) => r.rule)).toEqual(['ai-change-to-sensitive-paths']);
    expect(gh.callsTo('GET', /\/pulls\/7\/files/).every((c) => c.installation === INSTALLATION)).toBe(true);
    await waitForCard(h.slack, PAY, key);
  });

  it('when reading fails (GitHub 500s), then the change is not decided: the gate answers 202 reading_pull_request until a read succeeds', async () => {
    gh.failNext(3, { status: 500 }, { path: /\/pulls\/8\/files/ });
    const key = await openPr(8, { files: ['README.md'], trailer: false });
    const g = await gate(key);
    expect(g).toMatchObject({ status: 202, body: { reason: 'reading_pull_request', status: 'pending', allowed: false } });
    // A docs change by a senior needs no sign-off: it is approved, but only after the read.
    await waitFor(async () => (await gate(key)).status === 200, 15_000, 'approved after the read');
    expect(gh.callsTo('GET', /\/pulls\/8\/files/).filter((c) => c.status === 500)).toHaveLength(3);
  });

  it('when many files and commits are served in pages, then all are read (files across pages, renames by both names)', async () => {
    const files = Array.from({ length: 150 }, (_, i) => ({ filename: `docs/page-${i}.md`, additions: 1, deletions: 0 }));
    files.push({ filename: 'k8s/deploy.yaml', previous_filename: 'docs/old.md', additions: 1, deletions: 1 } as never);
    gh.setPullRequest(REPO, 9, { files, commits: Array.from({ length: 120 }, (_, i) => ({ message: i === 119 ? 'fix\n\nCo-authored-by: Codex <noreply@openai.com>' : `commit ${i}`, sha: SHA1 })), pr: { head_sha: SHA1 } });
    const res = await send('pull_request', pullRequestEvent('opened', { number: 9, login: 'alice', labels: [], sha: SHA1, installation: INSTALLATION }));
    const key = res.body.change;
    const c = await waitFor(async () => {
      const d = await detail(key);
      return !d.diff || d.diff.files_changed !== 151 ? null : d;
    }, 10_000, 'read');
    expect(c.diff.paths).toContain('k8s/deploy.yaml');
    expect(c.diff.paths).toContain('docs/old.md');
    expect(c).toMatchObject({ ai_assisted: true, risk: { level: 'high' } });
    expect(gh.callsTo('GET', /\/pulls\/9\/files/).length).toBeGreaterThanOrEqual(2);
  });
});

describe('the required check', () => {
  it('when a PR goes through approval, new commits and rejection, then the Countersign check goes in_progress → success → a new in_progress on the new head → failure', async () => {
    const key = await openPr();
    const first = await waitFor(() => checkRuns().find((r) => r.head_sha === SHA1 && r.output?.title === 'Waiting for senior sign-off'), 10_000, 'check run in progress');
    expect(first).toMatchObject({ name: 'Countersign', status: 'in_progress' });
    expect(first.output!.summary).toContain('0 of 1 sign-offs');

    const card = await waitForCard(h.slack, PAY, key);
    await press(h, card, 'Approve', 'U0BOB');
    await waitFor(() => checkRuns().find((r) => r.id === first.id && r.conclusion === 'success'), 10_000, 'success');
    expect(gh.checkRunHistory(first.id).at(-1)!.output!.summary).toContain('U0BOB');

    seedPullRequest(7, { sha: SHA2 });
    expect((await send('pull_request', pullRequestEvent('synchronize', { number: 7, login: 'alice', labels: [], sha: SHA2, installation: INSTALLATION }))).body.outcome).toBe('new_round');
    const second = await waitFor(() => checkRuns().find((r) => r.head_sha === SHA2 && r.status === 'in_progress' && r.output?.title === 'Waiting for senior sign-off'), 10_000, 'new check run on the new head');
    expect(second.id).not.toBe(first.id);

    const updated = await waitFor(() => {
      const c = h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!;
      return buttonsOf(c).some((b) => b.text === 'Reject' && JSON.parse(b.value).round === 2) && c;
    }, 10_000, 'card buttons back for round 2');
    await press(h, updated, 'Reject', 'U0BOB');
    const modal = await waitFor(() => h.slack.views.find((v) => !v.closed), 5_000, 'reject modal');
    await h.slack.sendViewSubmission(h.events, { user_id: 'U0BOB', view: { callback_id: String(modal.view.callback_id), private_metadata: String(modal.view.private_metadata), state: { values: { reject_reason: { reason: { type: 'plain_text_input', value: 'no tests for the new checks' } } } } } });
    await waitFor(() => checkRuns().find((r) => r.id === second.id && r.conclusion === 'failure'), 10_000, 'failure');
    // Exactly one check run per head.
    expect(checkRuns().filter((r) => r.head_sha === SHA1)).toHaveLength(1);
    expect(checkRuns().filter((r) => r.head_sha === SHA2)).toHaveLength(1);
  });

  it('when a check run is created for a change with no card, then its details_url is the change’s API URL under COUNTERSIGN_PUBLIC_URL', async () => {
    const key = await openPr(16, { files: ['README.md'], trailer: false });
    const run = await waitFor(() => checkRuns().find((r) => r.conclusion === 'success'), 10_000, 'check run');
    expect(run.details_url).toBe(`${PUBLIC_URL}/api/changes/${key}`);
    expect(gh.callsTo('POST', /check-runs$/)[0].body).toMatchObject({ details_url: `${PUBLIC_URL}/api/changes/${key}` });
  });

  it('when a change expires unanswered, then its check run fails saying it expired without sign-off', async () => {
    const key = await openPr(17);
    await waitFor(() => checkRuns().find((r) => r.output?.title === 'Waiting for senior sign-off'), 10_000, 'in progress');
    clock.advance(73 * HOUR);
    await waitFor(async () => (await escalateStaleRequests(h.app.deps), (await detail(key)).status === 'expired'), 10_000, 'expired');
    const run = await waitFor(() => checkRuns().find((r) => r.conclusion === 'failure'), 10_000, 'failure');
    expect(run.output).toMatchObject({ title: 'Expired without sign-off' });
    expect(run.output.summary).toContain(`**${key}** expired unanswered: no senior signed off in time`);
  });

  it('when a change is cancelled, then its check run fails naming who cancelled it and why', async () => {
    const key = await openPr(18);
    await waitFor(() => checkRuns().find((r) => r.output?.title === 'Waiting for senior sign-off'), 10_000, 'in progress');
    expect((await h.app.api('POST', `/api/changes/${key}/cancel`, { by: 'alice', reason: 'superseded by #19' })).status).toBe(200);
    const run = await waitFor(() => checkRuns().find((r) => r.conclusion === 'failure'), 10_000, 'failure');
    expect(run.output).toMatchObject({ title: 'Cancelled', summary: `**${key}** was cancelled by alice: superseded by #19` });
  });

  it('when the glass is broken, then the check run succeeds naming who broke it and why', async () => {
    const key = await openPr(19);
    await waitFor(() => checkRuns().find((r) => r.output?.title === 'Waiting for senior sign-off'), 10_000, 'in progress');
    const opened = await h.app.api('POST', `/api/changes/${key}/breakglass`, { by: 'U0CAROL', reason: 'checkout is down' }, { authorization: `Bearer ${ONCALL_TOKEN}` });
    expect(opened.status).toBe(200);
    const run = await waitFor(() => checkRuns().find((r) => r.conclusion === 'success'), 10_000, 'success');
    expect(run.output.title).toBe('Opened under break-glass');
    expect(run.output.summary).toContain('U0CAROL opened the gate under break-glass: checkout is down');
  });

  it('when GitHub rate-limits and fails for a while, then delivery waits, and nothing is lost or created twice', async () => {
    gh.failNext(1, { secondaryRateLimit: 1 }, { method: 'POST', path: /check-runs$/ });
    gh.failNext(2, { status: 502 }, { method: 'POST', path: /check-runs$/ });
    const key = await openPr(11, { files: ['README.md'], trailer: false });
    await waitFor(() => checkRuns().find((r) => r.conclusion === 'success'), 20_000, 'check run after the faults');
    expect(checkRuns()).toHaveLength(1);
    expect((await gate(key)).status).toBe(200);
    await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'all delivered');
    expect((await h.app.api('GET', '/api/outbox/stats')).body).toMatchObject({ pending: 0, dead: 0 });
  });
});

describe('rate limits', () => {
  it.each([
    ['primary (x-ratelimit-remaining: 0 until x-ratelimit-reset)', { primaryRateLimit: 2 }],
    ['secondary (403 with retry-after)', { secondaryRateLimit: 2 }],
  ] as const)('when GitHub hits a %s limit, then every delivery for that installation waits until it ends, not only the limited row', async (_, fault) => {
    gh.failNext(1, fault, { method: 'POST', path: /check-runs$/ });
    await openPr(23, { files: ['README.md'], trailer: false });
    const limited = await waitFor(() => gh.callsTo('POST', /check-runs$/).find((c) => c.status === 403), 10_000, 'the rate-limited call');
    const until = 'primaryRateLimit' in fault ? (Math.floor(limited.at / 1000) + fault.primaryRateLimit) * 1000 : limited.at + fault.secondaryRateLimit * 1000;
    // Another change of the same installation, registered while the limit holds: its read waits too.
    await openPr(24, { files: ['docs/intro.md'], trailer: false });
    await waitFor(() => checkRuns().filter((r) => r.conclusion === 'success').length === 2, 15_000, 'both check runs after the limit');
    const after = gh.calls.filter((c) => c.installation === INSTALLATION && c.at > limited.at);
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after.map((c) => c.at))).toBeGreaterThanOrEqual(until - 5);
    expect(checkRuns()).toHaveLength(2);
  });
});

describe('deployment protection rules', () => {
  const request = (sha: string, run: number, o: { pullRequests?: number[]; environment?: string } = {}) =>
    send('deployment_protection_rule', protectionRuleEvent({ sha, callbackUrl: gh.deploymentCallbackUrl(REPO, run), installation: INSTALLATION, ...o }));
  const answers = (run: number) => gh.protectionRuleAnswers(REPO).filter((a) => a.runId === run);

  it('when the change is approved, then the rule is approved within seconds, naming the approvers', async () => {
    const key = await openPr(12, { files: ['README.md'], trailer: false });
    await waitFor(async () => (await gate(key)).status === 200, 10_000, 'approved');
    expect((await request(SHA1, 101)).body).toMatchObject({ outcome: 'approved', change: key });
    const [a] = await waitFor(() => answers(101).length === 1 && answers(101), 10_000, 'answer');
    expect(a).toMatchObject({ environment_name: 'production', state: 'approved', installation: INSTALLATION });
    expect(a.comment).toContain(`${key} needs no sign-off`);
  });

  it('when the change is pending, then the rule is held and answered only after sign-off, exactly once', async () => {
    const key = await openPr(13);
    const card = await waitForCard(h.slack, PAY, key);
    expect((await request(SHA1, 102, { pullRequests: [13] })).body).toMatchObject({ outcome: 'held', change: key });
    await new Promise((r) => setTimeout(r, 300));
    expect(answers(102)).toHaveLength(0);
    await press(h, card, 'Approve', 'U0BOB');
    const [a] = await waitFor(() => answers(102).length === 1 && answers(102), 10_000, 'answered after sign-off');
    expect(a).toMatchObject({ state: 'approved' });
    expect(a.comment).toContain('signed off by U0BOB');
    // A redelivery of the same request is answered from what was stored, not again.
    expect((await request(SHA1, 102, { pullRequests: [13] })).body.outcome).toBe('answered_before');
    await new Promise((r) => setTimeout(r, 300));
    expect(answers(102)).toHaveLength(1);
  });

  it('when the change is rejected or the SHA is unknown, then the rule is rejected with the reason', async () => {
    const key = await openPr(14);
    const card = await waitForCard(h.slack, PAY, key);
    await press(h, card, 'Reject', 'U0BOB');
    const modal = await waitFor(() => h.slack.views.find((v) => !v.closed), 5_000, 'reject modal');
    await h.slack.sendViewSubmission(h.events, { user_id: 'U0BOB', view: { callback_id: String(modal.view.callback_id), private_metadata: String(modal.view.private_metadata), state: { values: { reject_reason: { reason: { type: 'plain_text_input', value: 'unsafe' } } } } } });
    await waitFor(async () => (await gate(key)).status === 403, 5_000, 'rejected');
    expect((await request(SHA1, 103)).body.outcome).toBe('rejected');
    expect((await request(UNKNOWN, 104)).body).toMatchObject({ outcome: 'rejected', comment: `no Countersign change for ${UNKNOWN}` });
    await waitFor(() => answers(103).length === 1 && answers(104).length === 1, 10_000, 'answers');
    expect(answers(103)[0]).toMatchObject({ state: 'rejected', comment: expect.stringContaining('rejected by U0BOB: unsafe') });
    expect(answers(104)[0]).toMatchObject({ state: 'rejected', comment: `no Countersign change for ${UNKNOWN}` });
  });

  it('when a deployment lists an approved PR but ships another commit, then the rule is rejected as a stale approval', async () => {
    const key = await openPr(20, { files: ['README.md'], trailer: false });
    await waitFor(async () => (await gate(key)).status === 200, 10_000, 'approved');
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(409);
    expect((await request(SHA2, 106, { pullRequests: [20] })).body).toMatchObject({ outcome: 'rejected', change: key });
    const [a] = await waitFor(() => answers(106).length === 1 && answers(106), 10_000, 'answer');
    expect(a).toMatchObject({ state: 'rejected', comment: `${key} is approved for ${SHA1}, not ${SHA2}: that commit needs its own sign-off` });
  });

  it('when a GitHub environment is mapped in github.environments, then the answer names GitHub’s environment and the deployment is recorded under ours', async () => {
    const key = await openPr(21, { files: ['README.md'], trailer: false });
    await waitFor(async () => (await gate(key)).status === 200, 10_000, 'approved');
    expect((await request(SHA1, 107, { environment: 'prod-eu' })).body.outcome).toBe('approved');
    const [a] = await waitFor(() => answers(107).length === 1 && answers(107), 10_000, 'answer');
    expect(a.environment_name).toBe('prod-eu');
    expect((await send('deployment_status', deploymentStatusEvent({ sha: SHA1, environment: 'prod-eu', state: 'success' }))).body.outcome).toBe('recorded');
    const recorded = (await detail(key)).history.find((e: { action: string }) => e.action === 'deployment_recorded');
    expect(recorded).toMatchObject({ environment: 'staging', status: 'succeeded', ungated: false });
  });

  it.each(['failure', 'error'])('when a deployment of a change still waiting for sign-off ends in %s, then a failed deployment is recorded and flagged ungated', async (state) => {
    const key = await openPr(22);
    await waitForCard(h.slack, PAY, key);
    const recorded = await send('deployment_status', deploymentStatusEvent({ sha: SHA1, environment: 'production', state }));
    expect(recorded.body).toMatchObject({ outcome: 'recorded', change: key, ungated: true });
    const event = (await detail(key)).history.find((e: { action: string }) => e.action === 'deployment_recorded');
    expect(event).toMatchObject({ environment: 'production', status: 'failed', ungated: true, gate_status: 'pending' });
  });

  it('when a merged PR’s merge commit is deployed, then the approval covers it, and its deployment_status records a deployment', async () => {
    const key = await openPr(15, { files: ['README.md'], trailer: false });
    await waitFor(async () => (await gate(key)).status === 200, 10_000, 'approved');
    expect((await send('pull_request', pullRequestEvent('closed', { number: 15, merged: true, sha: SHA1, mergeCommitSha: MERGE, installation: INSTALLATION }))).body.outcome).toBe('merged');
    expect((await gate(key, `?sha=${MERGE}`)).status).toBe(200);
    expect((await request(MERGE, 105)).body.outcome).toBe('approved');
    const recorded = await send('deployment_status', deploymentStatusEvent({ sha: MERGE, environment: 'production', state: 'success' }));
    expect(recorded.body).toMatchObject({ outcome: 'recorded', change: key, ungated: false });
    expect((await detail(key)).history.map((e: { action: string }) => e.action)).toContain('deployment_recorded');
  });
});

describe('deployment protection rules with github.unknown_deployments: approve', () => {
  let lenient: SlackHarness;
  beforeAll(async () => {
    lenient = await startSlackHarness({ database: db, keepDatabase: true, config: buildConfig({ github: { repos: [{ repo: REPO, service: 'checkout' }], unknown_deployments: 'approve' } }), env: githubEnv() });
  });
  afterAll(() => lenient?.stop());

  it('when a deployment’s SHA has no change, then the rule is approved, saying why', async () => {
    const res = await deliver(lenient.app.url, 'deployment_protection_rule', protectionRuleEvent({ sha: UNKNOWN, callbackUrl: gh.deploymentCallbackUrl(REPO, 108), installation: INSTALLATION }));
    expect(res.body).toMatchObject({ outcome: 'approved', change: null });
    const [a] = await waitFor(() => gh.protectionRuleAnswers(REPO).filter((x) => x.runId === 108).length === 1 && gh.protectionRuleAnswers(REPO).filter((x) => x.runId === 108), 10_000, 'answer');
    expect(a).toMatchObject({ state: 'approved', comment: `no Countersign change for ${UNKNOWN}; approved because github.unknown_deployments is approve` });
  });
});

describe('the App’s private key', () => {
  const keyFile = (pem: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'countersign-key-')), 'app.pem');
    writeFileSync(file, pem);
    return file;
  };
  const startWith = async (env: Record<string, string>) => {
    const own = await createTestDatabase();
    return startTestApp({ database: own, config: buildConfig({ github: { repos: [{ repo: REPO, service: 'checkout' }] } }), env: { ...githubEnv(), GITHUB_APP_PRIVATE_KEY: '', ...env } }).catch(async (err: Error) => {
      await own.close().catch(() => {});
      throw err;
    });
  };
  const garbled = '-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n';

  it('when the key is given as GITHUB_APP_PRIVATE_KEY_FILE, then the App authenticates with it and reads the pull request', async () => {
    const app = await startWith({ GITHUB_APP_PRIVATE_KEY_FILE: keyFile(keys.privateKeyPem) });
    try {
      seedPullRequest(30);
      const res = await deliver(app.url, 'pull_request', pullRequestEvent('opened', { number: 30, login: 'alice', labels: [], sha: SHA1, installation: INSTALLATION }));
      await waitFor(async () => (await app.api('GET', `/api/changes/${res.body.change}`)).body.risk.level === 'high', 10_000, 'read with the key from the file');
      expect(gh.callsTo('GET', /\/pulls\/30\/files/).every((c) => c.installation === INSTALLATION && c.status === 200)).toBe(true);
    } finally {
      await app.stop();
    }
  });

  it.each([
    ['GITHUB_APP_PRIVATE_KEY', () => ({ GITHUB_APP_PRIVATE_KEY: garbled })],
    ['GITHUB_APP_PRIVATE_KEY_FILE', () => ({ GITHUB_APP_PRIVATE_KEY_FILE: keyFile(garbled) })],
  ])('when %s holds something that is not a private key, then the start fails naming the variable', async (variable, env) => {
    await expect(startWith(env())).rejects.toThrow(new RegExp(`^${variable}\\b.*: not a valid private key`));
  });

  it('when GITHUB_APP_PRIVATE_KEY_FILE cannot be read, then the start fails naming the variable and the file', async () => {
    await expect(startWith({ GITHUB_APP_PRIVATE_KEY_FILE: '/nonexistent/app.pem' })).rejects.toThrow('GITHUB_APP_PRIVATE_KEY_FILE: cannot read /nonexistent/app.pem (ENOENT)');
  });
});
