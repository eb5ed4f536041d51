import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { deliver, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { generateAppKeyPair, startFakeGitHub, type FakeGitHub } from '../fakes/fake-github.ts';
import { createTestDatabase, onRealPostgres } from '../support/db.ts';
import { callApi, spawnApp, writeConfigFile } from '../support/processes.ts';
import { waitFor } from '../support/slack.ts';

/**
 * A process killed with SIGKILL while GitHub is slow to answer: the restarted process (on the same
 * real Postgres) finishes the work, and GitHub ends with exactly one check run per head.
 */
describe.runIf(onRealPostgres())('kill -9 during GitHub delivery', () => {
  const REPO = 'acme/shop';
  const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  const keys = generateAppKeyPair();
  let gh: FakeGitHub;
  let db: Database & { url?: string };
  beforeAll(async () => {
    gh = await startFakeGitHub({ appId: 77, publicKey: keys.publicKeyPem, installations: [{ id: 9, account: 'acme', repos: [REPO] }] });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
    await gh?.stop();
  });

  it('when the process dies while GitHub is creating the check run, then after restart there is exactly one check run, and it is current', async () => {
    const env = {
      DATABASE_URL: db.url!,
      COUNTERSIGN_CONFIG: writeConfigFile({ github: { repos: [{ repo: REPO, service: 'checkout' }] } }),
      COUNTERSIGN_SANDBOX: 'off',
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITHUB_APP_ID: '77',
      GITHUB_APP_PRIVATE_KEY: keys.privateKeyPem,
      GITHUB_API_URL: gh.baseUrl,
    };
    gh.setPullRequest(REPO, 5, { files: [{ filename: 'README.md' }], commits: [{ message: 'docs', sha: SHA }], pr: { head_sha: SHA } });
    // Creating the check run takes 3 s: the process is killed while GitHub is still answering.
    gh.failNext(1, { delayMs: 3_000 }, { method: 'POST', path: /check-runs$/ });
    const first = await spawnApp(env);
    onTestFinished(() => first.kill('SIGKILL'));
    const res = await deliver(first.url, 'pull_request', pullRequestEvent('opened', { number: 5, login: 'alice', labels: [], sha: SHA, installation: 9 }));
    expect(res.status).toBe(201);
    await waitFor(() => gh.callsTo('POST', /check-runs$/).length >= 1, 15_000, 'check run creation started');
    await first.kill('SIGKILL');
    // GitHub finishes the creation the dead process asked for.
    await waitFor(() => gh.checkRuns(REPO).length === 1, 10_000, 'GitHub created it');

    const second = await spawnApp(env);
    try {
      await waitFor(() => gh.checkRuns(REPO).some((r) => r.conclusion === 'success'), 30_000, 'check run completed after restart');
      expect(gh.checkRuns(REPO)).toHaveLength(1);
      expect((await callApi(second.url, 'GET', `/api/changes/${res.body.change}/gate`)).status).toBe(200);
    } finally {
      await second.kill('SIGTERM');
    }
  }, 120_000);
});
