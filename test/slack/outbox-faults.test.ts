import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { claimStaleReceipts } from '../../src/db/repositories/inbox.ts';
import { ClickQueue, ReceiptRecovery, receiveClick } from '../../src/slack/click-inbox.ts';
import { buildChangeInput } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, onRealPostgres, truncateAll } from '../support/db.ts';
import { callApi, spawnApp, writeConfigFile } from '../support/processes.ts';
import { cardsFor, press, startSlackHarness, waitFor, type SlackHarness, workspaceUsers } from '../support/slack.ts';

const PAY = 'C0PAYSEN';

describe('outbox under Slack faults (in-process)', () => {
  let h: SlackHarness;
  let db: Database;
  let slack: SlackStandin;
  beforeAll(async () => {
    db = await createTestDatabase();
    slack = await startFakeSlack({ users: workspaceUsers() });
    h = await startSlackHarness({ database: db, slack, keepDatabase: true });
  });
  afterAll(async () => {
    await h?.stop();
    await db?.close();
    await slack?.stop();
  });
  beforeEach(async () => {
    h.slack.clearFaults();
    await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
    await truncateAll(db);
    h.slack.reset();
  });

  const registerMany = async (n: number) => {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push((await h.app.api('POST', '/api/changes', buildChangeInput({ title: `Change ${i}` }))).body.key);
    return keys;
  };

  it('when Slack answers 429 with Retry-After, then every card is posted exactly once, no sooner than Retry-After', async () => {
    h.slack.failNext(3, { status: 429, retryAfter: 1 }, { method: 'chat.postMessage' });
    const keys = await registerMany(3);
    await waitFor(() => keys.every((k) => cardsFor(h.slack, PAY, k).length === 1), 15_000, 'all cards');
    await new Promise((r) => setTimeout(r, 300));
    for (const k of keys) expect(cardsFor(h.slack, PAY, k)).toHaveLength(1);
    const posts = h.slack.callsTo('chat.postMessage');
    const limited = posts.filter((c) => c.status === 429);
    const firstOk = posts.find((c) => c.status === 200)!;
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(firstOk.at - limited[0].at).toBeGreaterThanOrEqual(950);
  });

  it('when Slack answers 500 for a while, then nothing is lost or duplicated and failures are visible meanwhile', async () => {
    h.slack.failNext(10_000, { status: 500 });
    const keys = await registerMany(4);
    const stats = await waitFor(async () => {
      const s = (await h.app.api('GET', '/api/outbox/stats')).body;
      return s.failing > 0 && s;
    }, 8_000, 'failing rows visible');
    expect(stats.pending).toBe(4);
    expect(stats.failing_rows[0].last_error).toBe('HTTP 500 from Slack');
    const ready = (await fetch(`${h.app.url}/readyz`).then((r) => r.json())) as { outbox: { pending: number } };
    expect(ready.outbox.pending).toBe(4);

    h.slack.clearFaults();
    await waitFor(() => keys.every((k) => cardsFor(h.slack, PAY, k).length === 1), 15_000, 'all cards after recovery');
    await new Promise((r) => setTimeout(r, 300));
    for (const k of keys) expect(cardsFor(h.slack, PAY, k)).toHaveLength(1);
    expect((await h.app.api('GET', '/api/outbox/stats')).body).toMatchObject({ pending: 0, failing: 0 });
  });

  it('when posts pile up for one channel, then they are paced at the configured interval', async () => {
    await h.stop();
    h = await startSlackHarness({ database: db, slack, keepDatabase: true, outbox: { postIntervalMs: 300 } });
    const keys = await registerMany(4);
    await waitFor(() => keys.every((k) => cardsFor(slack, PAY, k).length === 1), 15_000, 'all cards');
    const at = slack.callsTo('chat.postMessage').filter((c) => c.status === 200).map((c) => c.at);
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(280);
  });
});

// A separate process, killed with SIGKILL, sharing one real Postgres with its successor.
describe.runIf(onRealPostgres())('a process killed between commit and delivery', () => {
  let slack: SlackStandin;
  let db: Database & { url?: string };
  beforeAll(async () => {
    slack = await startFakeSlack({ users: workspaceUsers() });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
    await slack?.stop();
  });

  it('when the process dies after accepting a change but before Slack took the card, then the restarted process posts it exactly once', async () => {
    const env = { DATABASE_URL: db.url!, COUNTERSIGN_CONFIG: writeConfigFile(), SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl };
    slack.failNext(100_000, { status: 500 }, { method: 'chat.postMessage' });
    const first = await spawnApp(env);
    const res = await callApi(first.url, 'POST', '/api/changes', buildChangeInput());
    expect(res.status).toBe(201);
    await waitFor(async () => (await db.rows<{ n: number }>(sql`select max(attempts)::int as n from outbox`))[0].n >= 1, 10_000, 'a failed attempt');
    await first.kill('SIGKILL');
    expect(cardsFor(slack, PAY, res.body.key)).toHaveLength(0);

    slack.clearFaults();
    const second = await spawnApp(env);
    try {
      await waitFor(() => cardsFor(slack, PAY, res.body.key).length === 1, 20_000, 'card after restart');
      await new Promise((r) => setTimeout(r, 500));
      expect(cardsFor(slack, PAY, res.body.key)).toHaveLength(1);
      expect((await callApi(second.url, 'GET', '/api/outbox/stats')).body.pending).toBe(0);
    } finally {
      await second.kill('SIGTERM');
    }
  });
});

describe('click receipts', () => {
  let h: SlackHarness;
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startSlackHarness({ database: db });
  });
  afterAll(() => h?.stop());

  it('when a click was acked but its process died before applying it, then recovery applies it once and tells the clicker', async () => {
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput())).body.key;
    await waitFor(() => cardsFor(h.slack, PAY, key)[0], 8_000, 'card');
    const responseUrl = h.slack.createResponseUrl({ channel: PAY, user: 'U0ALICE' });
    // The receipt is what the Approve handler writes before its ack; nothing applied it.
    await receiveClick(db, 'approve', { key, round: 1, reviewer: 'U0ALICE', response_url: responseUrl });
    const ctx = { deps: h.app.deps, nudge: () => h.app.sender?.nudge(), clicks: new ClickQueue() };
    const recovery = new ReceiptRecovery(ctx, h.app.deps.logger, { olderThanMs: 0 });
    expect(await recovery.sweep()).toBe(1);
    expect(await recovery.sweep()).toBe(0);
    expect((await h.app.api('GET', `/api/changes/${key}/gate`)).status).toBe(200);
    await waitFor(() => h.slack.responses.some((r) => String((r.body as { text?: string }).text).includes(`You signed off ${key}`)), 5_000, 'clicker told');
    await waitFor(() => buttonsOfCard(key).length === 0, 5_000, 'card final');
  });

  it('when Claim and Release clicks were acked but never applied, then recovery applies them in order and tells the clicker', async () => {
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput())).body.key;
    await waitFor(() => cardsFor(h.slack, PAY, key)[0], 8_000, 'card');
    const responseUrl = h.slack.createResponseUrl({ channel: PAY, user: 'U0BOB' });
    await receiveClick(db, 'claim', { key, user: 'U0BOB', response_url: responseUrl });
    const ctx = { deps: h.app.deps, nudge: () => h.app.sender?.nudge(), clicks: new ClickQueue() };
    const recovery = new ReceiptRecovery(ctx, h.app.deps.logger, { olderThanMs: 0 });
    expect(await recovery.sweep()).toBe(1);
    expect((await h.app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by).toBe('U0BOB');
    await waitFor(() => h.slack.responses.some((r) => String((r.body as { text?: string }).text).includes(`You are reviewing ${key}`)), 5_000, 'clicker told');
    await receiveClick(db, 'release', { key, user: 'U0BOB' });
    expect(await recovery.sweep()).toBe(1);
    expect((await h.app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by).toBeNull();
    expect(await recovery.sweep()).toBe(0);
  });

  it('when applying an Approve click fails (the database refuses the sign-off), then the clicker is told ephemerally, the error is logged, and recovery applies it later', async () => {
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput())).body.key;
    const card = await waitFor(() => cardsFor(h.slack, PAY, key)[0], 8_000, 'card');
    const logged = vi.spyOn(h.app.deps.logger, 'error');
    await db.db.execute(sql.raw(`create function refuse_sign_off() returns trigger language plpgsql as $$ begin raise exception 'sign_offs is read-only for this test'; end $$`));
    await db.db.execute(sql.raw('create trigger refuse_sign_off before insert on sign_offs for each row execute function refuse_sign_off()'));
    try {
      expect((await press(h, card, 'Approve', 'U0ALICE')).status).toBe(200);
      const told = await waitFor(() => h.slack.responses.find((r) => String((r.body as { text?: string }).text).includes('could not apply that click')), 5_000, 'clicker told');
      expect(told.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(told.context).toMatchObject({ channel: PAY, user: 'U0ALICE' });
      await waitFor(() => logged.mock.calls.some((c) => c[1] === 'applying a click failed; its receipt is kept for recovery'), 5_000, 'error logged');
      const call = logged.mock.calls.find((c) => c[1] === 'applying a click failed; its receipt is kept for recovery')!;
      expect(call[0]).toMatchObject({ kind: 'approve', err: { message: expect.stringContaining('insert into "sign_offs"') } });
      expect((await h.app.api('GET', `/api/changes/${key}/gate`)).status).toBe(202);
    } finally {
      await db.db.execute(sql.raw('drop trigger if exists refuse_sign_off on sign_offs'));
      await db.db.execute(sql.raw('drop function if exists refuse_sign_off()'));
      logged.mockRestore();
    }
    const recovery = new ReceiptRecovery({ deps: h.app.deps, nudge: () => h.app.sender?.nudge(), clicks: new ClickQueue() }, h.app.deps.logger, { olderThanMs: 0 });
    expect(await recovery.sweep()).toBe(1);
    expect((await h.app.api('GET', `/api/changes/${key}/gate`)).status).toBe(200);
    await waitFor(() => h.slack.responses.some((r) => String((r.body as { text?: string }).text).includes(`You signed off ${key}`)), 5_000, 'clicker told the outcome');
  });

  it('when recovery looks with no grace period, then a receipt written the same millisecond is found (PGlite\'s clock ticks in milliseconds)', async () => {
    for (let i = 0; i < 20; i++) {
      const id = await receiveClick(db, 'release', { key: `CHG-${9000 + i}`, user: 'U0BOB' });
      const claimed = await claimStaleReceipts(db, 0, 50, 60_000);
      expect(claimed.map((r) => r.id)).toContain(id);
      await db.db.execute(sql`update slack_inbox set processed_at = now() where id = ${id}`);
    }
  });

  const buttonsOfCard = (key: string) => JSON.stringify(cardsFor(h.slack, PAY, key)[0]?.blocks ?? []).match(/"type":"button"/g) ?? [];
});
