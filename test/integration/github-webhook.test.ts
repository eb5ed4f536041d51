import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { planDigest } from '../../src/domain/canonical.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { deliver, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { fakeClock, ONCALL_TOKEN, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, onRealPostgres, truncateAll } from '../support/db.ts';

let app: TestApp;
let db: Database;
const clock = fakeClock();

const config = buildConfig({
  github: { repos: [{ repo: 'acme/shop', service: 'checkout' }] },
  break_glass: { allowed: ['U0CAROL'], review_within: '24h' },
});

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db, clock, config, env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET } });
});
afterAll(() => app?.stop());
beforeEach(() => truncateAll(db));

const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const count = async (table: string) => (await db.rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0].n;
const send = (event: string, payload: unknown, opts?: Parameters<typeof deliver>[3]) => deliver(app.url, event, payload, opts);
const detail = async (key: string) => (await app.api('GET', `/api/changes/${key}`)).body;
const gate = (key: string, query = '') => app.api('GET', `/api/changes/${key}/gate${query}`);
const approve = (key: string, reviewer: string) => recordSignOff(app.deps, { key, reviewer, decision: 'approved' });

/** A pull request by the junior jdoe, labelled ai-assisted: high risk, one sign-off. */
async function openAiPr(o: Parameters<typeof pullRequestEvent>[1] = {}): Promise<string> {
  const res = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1, ...o }));
  expect(res.status).toBe(201);
  return res.body.change;
}

describe('POST /webhooks/github: signature', () => {
  it('when the signature is made with another secret, missing or malformed, then 401 and nothing is stored', async () => {
    const payload = pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'] });
    const forged = await send('pull_request', payload, { secret: 'not-the-secret' });
    const missing = await send('pull_request', payload, { headers: { 'x-hub-signature-256': '' } });
    const garbage = await send('pull_request', payload, { headers: { 'x-hub-signature-256': 'sha1=deadbeef' } });
    expect([forged.status, missing.status, garbage.status]).toEqual([401, 401, 401]);
    expect(forged.body.error).toBe('invalid_signature');
    expect(await count('changes')).toBe(0);
    expect(await count('audit_events')).toBe(0);
  });

  it('when the body was changed after signing, then 401', async () => {
    const payload = pullRequestEvent('opened', { login: 'jdoe' });
    const body = JSON.stringify(payload);
    const { githubHeaders } = await import('../factories/github.ts');
    const headers = await githubHeaders('pull_request', body);
    const res = await fetch(`${app.url}/webhooks/github`, { method: 'POST', headers, body: body.replace('"jdoe"', '"alice"') });
    expect(res.status).toBe(401);
    expect(await count('changes')).toBe(0);
  });

  it('when a bearer token is sent but no signature, then it is still 401: the signature alone authenticates', async () => {
    const res = await fetch(`${app.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', authorization: 'Bearer test-token-123456' },
      body: JSON.stringify(pullRequestEvent('opened')),
    });
    expect(res.status).toBe(401);
  });

  it('when an unknown event arrives signed, then 202 ignored; a ping answers 200', async () => {
    const push = await send('push', { ref: 'refs/heads/main' });
    expect(push).toMatchObject({ status: 202, body: { event: 'push', outcome: 'ignored' } });
    const ping = await send('ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
    expect(ping).toMatchObject({ status: 200, body: { outcome: 'pong' } });
    expect(await count('changes')).toBe(0);
  });

  it('when the repository is not configured, then 202 ignored and nothing is stored', async () => {
    const res = await send('pull_request', pullRequestEvent('opened', { repo: 'acme/other', labels: ['ai-assisted'] }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ outcome: 'ignored', change: null });
    expect(res.body.reason).toContain('acme/other');
    expect(await count('changes')).toBe(0);
  });
});

describe('POST /webhooks/github: without GITHUB_WEBHOOK_SECRET', () => {
  it('then 503 with a clear message, and nothing is read', async () => {
    const other = await startTestApp({ database: db, config, keepDatabase: true });
    try {
      const res = await deliver(other.url, 'pull_request', pullRequestEvent('opened'));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'github_webhook_not_configured' });
      expect(res.body.message).toContain('GITHUB_WEBHOOK_SECRET');
    } finally {
      await other.stop();
    }
    expect(await count('changes')).toBe(0);
  });
});

describe('pull requests become changes', () => {
  it('when a real opened payload arrives, then a change is registered from it with source github and <owner>/<repo>#<number>', async () => {
    const res = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted', 'bug'], sha: SHA1, title: 'Retry capture', number: 42, changedFiles: 3, additions: 120, deletions: 14 }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ event: 'pull_request', action: 'opened', outcome: 'registered', change: 'CHG-1' });
    const c = await detail('CHG-1');
    expect(c).toMatchObject({
      source: 'github',
      external_id: 'acme/shop#42',
      title: 'Retry capture',
      url: 'https://github.com/acme/shop/pull/42',
      service: 'checkout',
      team: 'payments',
      environment: 'production',
      author: { github: 'jdoe', slack_id: 'U0JUNIOR', level: 'junior' },
      labels: ['ai-assisted', 'bug'],
      diff: { files_changed: 3, additions: 120, deletions: 14, paths: [] },
      head_sha: SHA1,
      plan_sha256: null,
      merged_at: null,
      breakglass: null,
      ai_assisted: true,
      ai_reasons: ['labelled ai-assisted'],
      status: 'pending',
      risk: { level: 'high' },
      approvals_required: 1,
      submitted_by: 'github:jdoe',
    });
    // The same delivery again (GitHub's "redeliver"): the stored change, nothing new.
    const again = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1, number: 42 }));
    expect(again).toMatchObject({ status: 200, body: { outcome: 'exists', change: 'CHG-1' } });
    expect(await count('changes')).toBe(1);
  });

  it('when the PR body ticks the AI-assisted checkbox (any case), then it counts as AI-assisted; an unticked one does not', async () => {
    const body = '## Checklist\r\n- [X] ai-assisted\r\n- [ ] Tests added';
    const ticked = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body, number: 1 }));
    expect((await detail(ticked.body.change)).ai_reasons).toEqual(['the pull request body says "- [x] AI-assisted"']);
    const marker = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: 'Fixes #3\n\nAI-assisted: yes\n', number: 2 }));
    expect((await detail(marker.body.change)).ai_assisted).toBe(true);
    const unticked = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: '- [ ] AI-assisted\n<!-- - [x] AI-assisted -->', number: 3 }));
    const c = await detail(unticked.body.change);
    expect(c).toMatchObject({ ai_assisted: false, status: 'approved', risk: { level: 'low' } });
  });

  it('when the author is a bot ([bot] login, or user.type Bot), then it counts as AI-assisted', async () => {
    const app1 = await send('pull_request', pullRequestEvent('opened', { login: 'renovate[bot]', userType: 'Bot', labels: [], body: null, number: 7 }));
    expect((await detail(app1.body.change)).ai_reasons).toEqual(['authored by the bot account renovate[bot]']);
    const typed = await send('pull_request', pullRequestEvent('opened', { login: 'acme_automation', userType: 'Bot', labels: [], body: null, number: 8 }));
    const c = await detail(typed.body.change);
    expect(c.author).toMatchObject({ github: 'acme_automation', bot: true });
    expect(c.ai_assisted).toBe(true);
    expect(c.risk.level).toBe('high');
  });

  it('when a draft is opened, then it is ignored; ready_for_review registers it', async () => {
    const draft = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], draft: true, number: 9 }));
    expect(draft).toMatchObject({ status: 202, body: { outcome: 'ignored' } });
    expect(await count('changes')).toBe(0);
    const pushToDraft = await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], draft: true, number: 9, sha: SHA2 }));
    expect(pushToDraft.status).toBe(202);
    expect(await count('changes')).toBe(0);
    const ready = await send('pull_request', pullRequestEvent('ready_for_review', { login: 'jdoe', labels: ['ai-assisted'], number: 9, sha: SHA2 }));
    expect(ready).toMatchObject({ status: 201, body: { outcome: 'registered' } });
    expect(await detail(ready.body.change)).toMatchObject({ external_id: 'acme/shop#9', status: 'pending', head_sha: SHA2 });
  });

  it('when the signed payload is not a pull request GitHub would send, then 400 names the field', async () => {
    const payload = pullRequestEvent('opened');
    delete payload.pull_request.head;
    const res = await send('pull_request', payload);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain('pull_request.head');
    expect(await count('changes')).toBe(0);
  });
});

describe('synchronize: new commits start a new review round', () => {
  it('when an approved change gets new commits, then the gate answers 202 again, the old approval stays as not current, and a new approval opens it for the new head', async () => {
    const key = await openAiPr();
    expect(await approve(key, 'U0ALICE')).toMatchObject({ ok: true, decided: true });
    expect((await gate(key)).status).toBe(200);
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(200);

    const sync = await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 }));
    expect(sync).toMatchObject({ status: 200, body: { outcome: 'new_round', change: key } });
    expect((await gate(key)).status).toBe(202);
    // Pending: 202 whatever SHA is asked.
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(202);
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(202);

    let c = await detail(key);
    expect(c).toMatchObject({ status: 'pending', head_sha: SHA2, approvals_received: 0, decided_at: null, escalation: { step: 'none', claimed_by: null } });
    expect(c.approvals).toEqual([expect.objectContaining({ reviewer: 'U0ALICE', decision: 'approved', round: 1, head_sha: SHA1, current: false })]);
    expect(c.history.map((h: { action: string }) => h.action)).toContain('review_round_started');
    expect(c.status_history.at(-1)).toMatchObject({ from: 'approved', to: 'pending', by: 'github:jdoe' });

    // The same delivery again: nothing changes.
    const again = await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 }));
    expect(again.body.outcome).toBe('unchanged');
    expect((await detail(key)).history.filter((h: { action: string }) => h.action === 'review_round_started')).toHaveLength(1);

    // Alice may sign again in the new round; it covers the new head.
    expect(await approve(key, 'U0ALICE')).toMatchObject({ ok: true, decided: true });
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(200);
    expect((await gate(key, `?sha=${SHA2.slice(0, 7).toUpperCase()}`)).status).toBe(200);
    c = await detail(key);
    expect(c.approvals.map((a: { head_sha: string; current: boolean }) => [a.head_sha, a.current])).toEqual([[SHA1, false], [SHA2, true]]);
    const recorded = c.history.filter((h: { action: string }) => h.action === 'sign_off_recorded').map((h: { head_sha: string }) => h.head_sha);
    expect(recorded).toEqual([SHA1, SHA2]);

    // Asking for the old head now: approved, but for another artifact.
    const stale = await gate(key, `?sha=${SHA1}`);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'stale_approval', key, status: 'approved', approved_sha: SHA2, requested_sha: SHA1 });
  });

  it('when a rejected change gets new commits, then it is pending again; rejected answers 403 whatever SHA before that', async () => {
    const key = await openAiPr();
    expect(await recordSignOff(app.deps, { key, reviewer: 'U0BOB', decision: 'rejected', reason: 'needs idempotency keys' })).toMatchObject({ ok: true });
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(403);
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(403);
    await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 }));
    expect(await detail(key)).toMatchObject({ status: 'pending', head_sha: SHA2 });
    // Bob can review the new round.
    expect(await approve(key, 'U0BOB')).toMatchObject({ ok: true, decided: true });
  });

  it('when a cancelled change gets new commits, then it stays cancelled (and keeps answering 403)', async () => {
    const key = await openAiPr();
    await send('pull_request', pullRequestEvent('closed', { login: 'jdoe', merged: false }));
    await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', sha: SHA2 }));
    expect(await detail(key)).toMatchObject({ status: 'cancelled', head_sha: SHA2 });
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(403);
  });

  it('when a low-risk change (no sign-off needed) gets new commits, then it stays approved for the new head', async () => {
    const opened = await send('pull_request', pullRequestEvent('opened', { login: 'alice', labels: [], body: null, sha: SHA1 }));
    const key = opened.body.change;
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(200);
    await send('pull_request', pullRequestEvent('synchronize', { login: 'alice', labels: [], sha: SHA2 }));
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(200);
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(409);
  });

  it.runIf(onRealPostgres())('when the same synchronize is delivered many times at once, then exactly one new round starts', async () => {
    const key = await openAiPr();
    await approve(key, 'U0ALICE');
    const payload = pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 });
    const results = await Promise.all(Array.from({ length: 8 }, () => send('pull_request', payload)));
    expect(results.map((r) => r.body.outcome).sort()).toEqual(['new_round', ...Array(7).fill('unchanged')]);
    const c = await detail(key);
    expect(c.history.filter((h: { action: string }) => h.action === 'review_round_started')).toHaveLength(1);
    expect(c.status).toBe('pending');
  });
});

describe('out-of-order and replayed deliveries', () => {
  const SHA3 = 'c3d4e5f60718293a4b5c6d7e8f90123456789012';

  it('when pushes A→B and B→C arrive out of order, then the older one is 202 stale_event and the head stays at C', async () => {
    const key = await openAiPr();
    const toB = pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 });
    const toC = pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA3 });
    expect((await send('pull_request', toC)).body.outcome).toBe('new_round');
    const late = await send('pull_request', toB);
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ outcome: 'ignored', reason: 'stale_event', change: key });
    expect(await detail(key)).toMatchObject({ head_sha: SHA3, round: 2 });
  });

  it('when a delivery was lost, then a newer event still applies although its before is not the stored head', async () => {
    const key = await openAiPr();
    pullRequestEvent('synchronize', { sha: SHA2 }); // built (and sent by GitHub) but never delivered
    const next = pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA3 });
    next.before = SHA2;
    expect((await send('pull_request', next)).body.outcome).toBe('new_round');
    expect(await detail(key)).toMatchObject({ head_sha: SHA3 });
  });

  it('when the same delivery id comes again (a replay), then 200 duplicate_delivery and nothing is applied', async () => {
    const opened = pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1 });
    const delivery = crypto.randomUUID();
    expect((await send('pull_request', opened, { headers: { 'x-github-delivery': delivery } })).status).toBe(201);
    const key = (await app.api('GET', '/api/changes')).body.changes[0].key;
    expect((await send('pull_request', pullRequestEvent('closed', { sha: SHA1 }))).body.outcome).toBe('cancelled');
    const replay = await send('pull_request', opened, { headers: { 'x-github-delivery': delivery } });
    expect(replay).toMatchObject({ status: 200, body: { outcome: 'duplicate_delivery', delivery } });
    expect(await detail(key)).toMatchObject({ status: 'cancelled', round: 1 });
  });

  it('when the same delivery arrives several times at once (a replay race), then exactly one is applied and the others answer duplicate_delivery', async () => {
    const opened = pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1 });
    const delivery = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send('pull_request', opened, { headers: { 'x-github-delivery': delivery } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(answers.filter((a) => a.body.outcome === 'duplicate_delivery')).toHaveLength(4);
  });

  it('when a delivery is refused, then it is not remembered: its redelivery is checked again, not answered duplicate_delivery', async () => {
    const delivery = crypto.randomUUID();
    const broken = pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1 });
    broken.pull_request.title = 'x'.repeat(5000);
    const first = await send('pull_request', broken, { headers: { 'x-github-delivery': delivery } });
    expect(first.status).toBe(400);
    const again = await send('pull_request', broken, { headers: { 'x-github-delivery': delivery } });
    expect(again.status).toBe(400);
    expect(again.body.outcome).toBeUndefined();
  });

  it('when new commits start a new round on an old pull request, then escalation counts from the round’s start, not from registration', async () => {
    const key = await openAiPr();
    clock.advance(71 * 3_600_000);
    expect((await send('pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA3 }))).body.outcome).toBe('new_round');
    clock.advance(2 * 3_600_000 + 60_000);
    // 73 h after registration, but the round is 2 h old: escalated, not expired.
    expect(await escalateStaleRequests(app.deps)).toMatchObject({ expired: 0, escalated: 1 });
    expect(await detail(key)).toMatchObject({ status: 'pending', escalation: { step: 'escalated' } });
    clock.advance(70 * 3_600_000);
    expect(await escalateStaleRequests(app.deps)).toMatchObject({ expired: 1 });
    expect((await detail(key)).status).toBe('expired');
  });

  it('when a closed pull request is reopened, then its cancelled change starts a new round in pending', async () => {
    const key = await openAiPr();
    expect((await send('pull_request', pullRequestEvent('closed', { sha: SHA1 }))).body.outcome).toBe('cancelled');
    expect((await gate(key)).status).toBe(403);
    const reopened = await send('pull_request', pullRequestEvent('reopened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1 }));
    expect(reopened).toMatchObject({ status: 200, body: { outcome: 'reopened', change: key } });
    expect(await detail(key)).toMatchObject({ status: 'pending', round: 2, decided_at: null });
    expect((await gate(key)).status).toBe(202);
    expect((await approve(key, 'U0ALICE')).ok).toBe(true);
    expect((await gate(key, `?sha=${SHA1}`)).status).toBe(200);
  });
});

describe('labels, closing and merging', () => {
  it('when an approved low-risk change is labelled ai-assisted, then its risk rises and it is pending again; removing the label never lowers it', async () => {
    const opened = await send('pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: null, sha: SHA1 }));
    const key = opened.body.change;
    expect(await detail(key)).toMatchObject({ status: 'approved', risk: { level: 'low' }, approvals_required: 0 });
    const labeled = await send('pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted'], label: 'ai-assisted' }));
    expect(labeled).toMatchObject({ status: 200, body: { outcome: 'risk_raised', change: key } });
    expect(await detail(key)).toMatchObject({ status: 'pending', risk: { level: 'high' }, approvals_required: 1, ai_assisted: true, labels: ['ai-assisted'] });
    expect((await gate(key)).status).toBe(202);
    const redelivered = await send('pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted'], label: 'ai-assisted' }));
    expect(redelivered.body.outcome).toBe('unchanged');
    expect((await detail(key)).history.filter((h: { action: string }) => h.action === 'labels_changed')).toHaveLength(1);

    const unlabeled = await send('pull_request', pullRequestEvent('unlabeled', { login: 'jdoe', labels: [], label: 'ai-assisted' }));
    expect(unlabeled.body.outcome).toBe('labels_updated');
    expect(await detail(key)).toMatchObject({ status: 'pending', risk: { level: 'high' }, approvals_required: 1, labels: [] });
  });

  describe('with a policy where size and AI assistance add up', () => {
    const policy = {
      rules: [
        { name: 'large-change', description: 'a large change', when: { lines_changed_at_least: 100 }, level: 'medium' },
        { name: 'ai-change', description: 'an AI-assisted change', when: { ai_assisted: true }, level: 'high' },
        { name: 'large-ai-change', description: 'a large AI-assisted change', when: { ai_assisted: true, lines_changed_at_least: 1000 }, level: 'critical' },
      ],
      approvals: { low: 0, medium: 1, high: 1, critical: 2 },
    };
    let sized: TestApp;
    beforeAll(async () => {
      sized = await startTestApp({ database: db, clock, config: buildConfig({ github: { repos: [{ repo: 'acme/shop', service: 'checkout' }] }, policy }), env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }, keepDatabase: true });
    });
    afterAll(() => sized?.stop());
    const sizedDetail = async (key: string) => (await sized.api('GET', `/api/changes/${key}`)).body;
    const sizedGate = async (key: string) => (await sized.api('GET', `/api/changes/${key}/gate`)).status;
    const sizedApprove = (key: string, reviewer: string) => recordSignOff(sized.deps, { key, reviewer, decision: 'approved' });

    it('when an approved change becomes riskier than its sign-offs cover, then it is pending again and earlier approvals still count', async () => {
      const opened = await deliver(sized.url, 'pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: null, additions: 1100, deletions: 100 }));
      const key = opened.body.change;
      expect(await sizedDetail(key)).toMatchObject({ risk: { level: 'medium' }, approvals_required: 1 });
      await sizedApprove(key, 'U0ALICE');
      expect(await sizedGate(key)).toBe(200);
      const labeled = await deliver(sized.url, 'pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted'], label: 'ai-assisted' }));
      expect(labeled.body.outcome).toBe('risk_raised');
      expect(await sizedDetail(key)).toMatchObject({ status: 'pending', risk: { level: 'critical' }, approvals_required: 2, approvals_received: 1 });
      expect(await sizedGate(key)).toBe(202);
      expect(await sizedApprove(key, 'U0BOB')).toMatchObject({ ok: true, decided: true, change: { status: 'approved' } });
    });

    it('when an approved change\'s risk level rises but its approvals still cover the count, then it is pending until one more senior signs', async () => {
      const opened = await deliver(sized.url, 'pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: null, additions: 120, deletions: 14 }));
      const key = opened.body.change;
      await sizedApprove(key, 'U0ALICE');
      await deliver(sized.url, 'pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted'], label: 'ai-assisted' }));
      const c = await sizedDetail(key);
      expect(c).toMatchObject({ status: 'pending', risk: { level: 'high' }, approvals_required: 1, approvals_received: 1 });
      expect(c.status_history.at(-1).reason).toContain('risk rose from medium to high');
      expect(await sizedGate(key)).toBe(202);
      expect(await sizedApprove(key, 'U0BOB')).toMatchObject({ ok: true, decided: true });
      expect(await sizedGate(key)).toBe(200);
      // A label that changes nothing leaves it approved.
      const same = await deliver(sized.url, 'pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted', 'bug'], label: 'bug' }));
      expect(same.body.outcome).toBe('labels_updated');
      expect(await sizedGate(key)).toBe(200);
    });
  });

  it('when a pending PR is closed without merging, then the change is cancelled; a merged PR records merged_at', async () => {
    const key = await openAiPr();
    const closed = await send('pull_request', pullRequestEvent('closed', { login: 'jdoe', merged: false, mergedAt: null }));
    expect(closed).toMatchObject({ status: 200, body: { outcome: 'cancelled', change: key } });
    expect(await detail(key)).toMatchObject({ status: 'cancelled', merged_at: null });
    expect((await detail(key)).status_history.at(-1)).toMatchObject({ from: 'pending', to: 'cancelled', reason: 'the pull request was closed without merging' });
    expect((await gate(key)).status).toBe(403);

    const other = await openAiPr({ number: 77 });
    await approve(other, 'U0ALICE');
    const merged = await send('pull_request', pullRequestEvent('closed', { login: 'jdoe', number: 77, merged: true, mergedAt: '2026-11-02T10:05:00Z' }));
    expect(merged).toMatchObject({ status: 200, body: { outcome: 'merged', change: other } });
    expect(await detail(other)).toMatchObject({ status: 'approved', merged_at: '2026-11-02T10:05:00.000Z' });
    const twice = await send('pull_request', pullRequestEvent('closed', { login: 'jdoe', number: 77, merged: true, mergedAt: '2026-11-02T10:05:00Z' }));
    expect(twice.body.outcome).toBe('unchanged');
  });

  it('when an approved PR is closed without merging, then its status stays', async () => {
    const key = await openAiPr();
    await approve(key, 'U0ALICE');
    const closed = await send('pull_request', pullRequestEvent('closed', { login: 'jdoe', merged: false }));
    expect(closed.body.outcome).toBe('ignored');
    expect((await detail(key)).status).toBe('approved');
  });
});

describe('gate pinned to the artifact', () => {
  it('when a change with a terraform plan is approved, then ?plan_sha256= opens only for that plan; pending and rejected answer 202/403 whatever is asked', async () => {
    const plan = loadPlan('plan-destructive');
    const digest = planDigest(plan);
    const reg = await app.api('POST', '/api/changes', buildChangeInput({ terraform_plan: plan, head_sha: SHA1 }));
    const key = reg.body.key;
    expect(reg.body).toMatchObject({ plan_sha256: digest, approvals_required: 2 });
    expect((await gate(key, `?plan_sha256=${'0'.repeat(64)}`)).status).toBe(202);
    await approve(key, 'U0ALICE');
    const bob = await approve(key, 'U0BOB');
    expect(bob).toMatchObject({ ok: true, decided: true });

    expect((await gate(key, `?plan_sha256=${digest}`)).status).toBe(200);
    expect((await gate(key, `?plan_sha256=${digest.toUpperCase()}`)).status).toBe(200);
    expect((await gate(key, `?plan_sha256=${digest}&sha=${SHA1}`)).status).toBe(200);
    const other = await gate(key, `?plan_sha256=${'ab'.repeat(32)}`);
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: 'stale_approval', key, status: 'approved', approved_plan_sha256: digest, requested_plan_sha256: 'ab'.repeat(32) });
    const c = await detail(key);
    expect(c.approvals.map((a: { plan_sha256: string }) => a.plan_sha256)).toEqual([digest, digest]);
    expect(c.history.find((h: { action: string }) => h.action === 'sign_off_recorded').plan_sha256).toBe(digest);

    const rej = await app.api('POST', '/api/changes', buildChangeInput({ terraform_plan: plan }));
    await recordSignOff(app.deps, { key: rej.body.key, reviewer: 'U0ALICE', decision: 'rejected', reason: 'no' });
    expect((await gate(rej.body.key, `?plan_sha256=${digest}`)).status).toBe(403);
  });

  it('when the gate is asked with a malformed or too short SHA, or an unknown parameter, then 400 names it', async () => {
    const key = await openAiPr();
    const short = await gate(key, '?sha=abc12');
    expect(short.status).toBe(400);
    expect(short.body.issues.map((i: { path: string }) => i.path)).toEqual(['sha']);
    expect((await gate(key, '?plan_sha256=xyz')).status).toBe(400);
    expect((await gate(key, '?shaa=abc1234')).body.issues[0].path).toBe('shaa');
  });

  it('when an approved change has no recorded head SHA, then ?sha= answers 409 with approved_sha null', async () => {
    const reg = await app.api('POST', '/api/changes', buildChangeInput());
    await approve(reg.body.key, 'U0ALICE');
    const res = await gate(reg.body.key, `?sha=${SHA1}`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'stale_approval', approved_sha: null, requested_sha: SHA1 });
  });
});

describe('POST /api/changes/:key/breakglass', () => {
  const breakglass = (key: string, body: unknown, headers: Record<string, string> = {}) => app.api('POST', `/api/changes/${key}/breakglass`, body, { authorization: `Bearer ${ONCALL_TOKEN}`, ...headers });

  it('when the CI token (no breakglass scope) claims to be an allowed person, then 403 insufficient_scope and the gate stays shut', async () => {
    const key = await openAiPr();
    const res = await app.api('POST', `/api/changes/${key}/breakglass`, { by: 'U0CAROL', reason: 'trust me' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'insufficient_scope', required_scope: 'breakglass' });
    expect(res.body.message).toContain('"ci"');
    expect((await gate(key)).status).toBe(202);
  });

  it('when an oncall token breaks the glass as U0CAROL, then the audit names U0CAROL and the token that really called', async () => {
    const key = await openAiPr();
    expect((await breakglass(key, { by: 'U0CAROL', reason: 'outage' })).status).toBe(200);
    const events = (await detail(key)).history.filter((h: { action: string }) => h.action === 'break_glass' || h.action === 'status_changed');
    expect(events.at(-1)).toMatchObject({ actor: 'U0CAROL', via: 'token:oncall' });
    expect(events.find((e: { action: string }) => e.action === 'break_glass')).toMatchObject({ actor: 'U0CAROL', via: 'token:oncall' });
  });

  it('when someone allowed breaks the glass with a reason, then the gate opens at once as approved_breakglass, and normal sign-off later makes it approved', async () => {
    const key = await openAiPr();
    const res = await breakglass(key, { by: 'U0CAROL', reason: 'checkout is down <!channel>' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key, status: 'approved_breakglass', breakglass: { by: 'U0CAROL', reason: 'checkout is down <!channel>', at: clock.now().toISOString() } });
    const g = await gate(key, `?sha=${SHA1}`);
    expect(g).toMatchObject({ status: 200, body: { status: 'approved_breakglass', allowed: true } });
    expect((await gate(key, `?sha=${SHA2}`)).status).toBe(409);
    const c = await detail(key);
    expect(c.history.map((h: { action: string }) => h.action)).toContain('break_glass');

    // Retroactive review: a normal sign-off turns it into approved.
    expect(await approve(key, 'U0ALICE')).toMatchObject({ ok: true, decided: true, change: { status: 'approved' } });
    expect(await detail(key)).toMatchObject({ status: 'approved', breakglass: { by: 'U0CAROL' } });
    const again = await breakglass(key, { by: 'U0CAROL', reason: 'again' });
    expect(again).toMatchObject({ status: 409, body: { error: 'already_decided' } });
  });

  it('when someone not allowed tries, then 403 with the reason in the body; no reason is 400 naming reason; unknown change 404', async () => {
    const key = await openAiPr();
    const denied = await breakglass(key, { by: 'U0ALICE', reason: 'urgent' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: 'not_allowed' });
    expect(denied.body.message).toContain('break_glass.allowed');
    const noReason = await breakglass(key, { by: 'U0CAROL', reason: '   ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issues.map((i: { path: string }) => i.path)).toEqual(['reason']);
    const missing = await breakglass(key, { by: 'U0CAROL' });
    expect(missing.body.issues.map((i: { path: string }) => i.path)).toEqual(['reason']);
    expect((await breakglass('CHG-999', { by: 'U0CAROL', reason: 'x' })).status).toBe(404);
    expect((await breakglass(key, { by: 'U0CAROL', reason: 'x' }, { authorization: '' })).status).toBe(401);
    expect((await gate(key)).status).toBe(202);
    expect((await detail(key)).history.map((h: { action: string }) => h.action)).toContain('break_glass_refused');
  });

  it('when break-glass uses happened, then the stats list them and count the unreviewed ones', async () => {
    const a = await openAiPr({ number: 1 });
    const b = await openAiPr({ number: 2 });
    await breakglass(a, { by: 'U0CAROL', reason: 'outage' });
    await breakglass(b, { by: 'U0CAROL', reason: 'security fix' });
    await approve(b, 'U0BOB');
    clock.advance(25 * 3_600_000);
    const stats = (await app.api('GET', '/api/stats?days=7')).body;
    expect(stats.break_glass).toMatchObject({ total: 2, unreviewed: 1, overdue: 1 });
    expect(stats.break_glass.uses.map((u: { change: string; reviewed: boolean }) => [u.change, u.reviewed]).sort()).toEqual([[a, false], [b, true]]);
  });
});
