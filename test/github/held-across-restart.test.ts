import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/types.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { buildConfig } from '../factories/config.ts';
import { deliver, protectionRuleEvent, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { truncateAll } from '../support/db.ts';
import { useFakeGitHub } from '../support/github.ts';
import { waitFor } from '../support/slack.ts';

/**
 * A deployment protection rule held for a pending change, whose decision lands while the process
 * that held it is down: after the restart, on two replicas sharing the database, GitHub gets the
 * answer exactly once. Real HTTP in and out (signed webhooks, the real Octokit against the fake
 * GitHub REST API); the decision is the sign-off use case, run while no app is up.
 */

const REPO = 'acme/shop';
const INSTALLATION = 4242;
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const config = buildConfig({ github: { repos: [{ repo: REPO, service: 'checkout' }] } });

const running: TestApp[] = [];

const world = useFakeGitHub({ installation: INSTALLATION, repo: REPO });
const { keys } = world;
beforeEach(async () => {
  await truncateAll(world.db);
  world.gh.reset();
  world.gh.clearFaults();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

/** One app process on the shared database (Slack off: the GitHub App is its only outside party). */
async function startApp(): Promise<TestApp> {
  const app = await startTestApp({
    database: world.db,
    keepDatabase: true,
    config,
    env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GITHUB_APP_ID: '123', GITHUB_APP_PRIVATE_KEY: keys.privateKeyPem, GITHUB_API_URL: world.gh.baseUrl },
  });
  running.push(app);
  return app;
}
async function stopApp(app: TestApp): Promise<void> {
  running.splice(running.indexOf(app), 1);
  await app.stop();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answers = (run: number) => world.gh.protectionRuleAnswers(REPO).filter((a) => a.runId === run);
const request = (app: TestApp, run: number, pr: number) =>
  deliver(app.url, 'deployment_protection_rule', protectionRuleEvent({ sha: SHA, callbackUrl: world.gh.deploymentCallbackUrl(REPO, run), installation: INSTALLATION, pullRequests: [pr] }));

/** An AI-assisted PR by alice touching src/auth/: once read, it waits for one payments senior. */
async function pendingChange(app: TestApp, number: number): Promise<string> {
  world.gh.setPullRequest(REPO, number, {
    files: [{ filename: 'src/auth/session.ts', additions: 10, deletions: 2 }],
    commits: [{ message: 'Tighten session checks\n\nAssisted-by: Claude <noreply@anthropic.com>', sha: SHA }],
    pr: { head_sha: SHA, user: 'alice' },
  });
  const res = await deliver(app.url, 'pull_request', pullRequestEvent('opened', { number, login: 'alice', labels: [], sha: SHA, installation: INSTALLATION }));
  expect(res.status).toBe(201);
  const key: string = res.body.change;
  // Read and decided: waiting for a senior, not for the pull request to be read.
  await waitFor(async () => {
    const g = await app.api('GET', `/api/changes/${key}/gate`);
    return g.status === 202 && g.body.reason === undefined && g.body.status === 'pending';
  }, 10_000, 'read and waiting for sign-off');
  expect((await app.api('GET', `/api/changes/${key}`)).body).toMatchObject({ risk: { level: 'high' }, approvals_required: 1 });
  return key;
}

/** Until the outbox is empty, then long enough for each replica's sender (polling every 20 ms) to poll dozens of times more. */
async function settled(app: TestApp): Promise<void> {
  await waitFor(async () => (await app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
  await sleep(1_000);
}

describe('a held protection rule decided while the process is down', () => {
  it.each([
    ['approved', 'U0BOB', undefined, 'signed off by U0BOB'],
    ['rejected', 'U0BOB', 'no tests for the new checks', 'rejected by U0BOB: no tests for the new checks'],
  ] as const)('when the change is %s while no process runs, then after a restart on two replicas GitHub gets exactly one answer with that state', async (decision: Decision, reviewer, reason, comment) => {
    const first = await startApp();
    const key = await pendingChange(first, 40);
    expect((await request(first, 201, 40)).body).toMatchObject({ outcome: 'held', change: key });
    await sleep(300);
    expect(answers(201)).toHaveLength(0);

    await stopApp(first);
    // The decision lands while nothing runs (the use case on the same database, as another replica's click would).
    const decided = await recordSignOff(first.deps, { key, reviewer, decision, reason });
    expect(decided).toMatchObject({ ok: true, decided: true, change: { status: decision } });
    await sleep(300);
    expect(answers(201)).toHaveLength(0);

    // Two replicas come up at once on the same database; both senders race for the answer.
    const [a, b] = await Promise.all([startApp(), startApp()]);
    const [answer] = await waitFor(() => answers(201).length > 0 && answers(201), 10_000, 'answered after the restart');
    expect(answer).toMatchObject({ state: decision, environment_name: 'production', installation: INSTALLATION });
    expect(answer.comment).toContain(comment);
    await settled(a);
    expect(answers(201)).toHaveLength(1);

    // GitHub redelivers the webhook to the other replica: answered from what was stored, not again.
    expect((await request(b, 201, 40)).body).toMatchObject({ outcome: 'answered_before', change: key });
    await settled(b);
    expect(answers(201)).toHaveLength(1);
  }, 40_000);
});
