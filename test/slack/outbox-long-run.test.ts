import { WebClient } from '@slack/web-api';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { claimOutbox, enqueue } from '../../src/db/repositories/outbox.ts';
import { outboxMessage } from '../../src/delivery/messages.ts';
import { createLogger } from '../../src/logger.ts';
import { webClientOptions } from '../../src/slack/app.ts';
import { OutboxSender } from '../../src/slack/outbox-sender.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { buildChangeInput } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { ADMIN_TOKEN } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { cardsFor, startSlackHarness, textOf, waitFor, waitForCard, workspaceUsers, type SlackHarness } from '../support/slack.ts';

/**
 * A month in production, compressed: Slack errors that retrying cannot fix, messages deleted by
 * people, posts whose outcome was lost, and several replicas sharing one channel's rate limit.
 */

const PAY = 'C0PAYSEN';
const ESC = 'C0ESCALATE';
let h: SlackHarness;
let db: Database;
let slack: SlackStandin;

beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: [] }, users: workspaceUsers() });
  h = await startSlackHarness({ database: db, slack, keepDatabase: true });
});
afterAll(async () => {
  await h?.stop();
  await db?.close();
  await slack?.stop();
});
beforeEach(async () => {
  slack.clearFaults();
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
  await truncateAll(db);
  slack.reset();
});

const stats = async () => (await h.app.api('GET', '/api/outbox/stats')).body;
const register = async (o: Record<string, unknown> = {}) => (await h.app.api('POST', '/api/changes', buildChangeInput(o))).body.key as string;

describe('permanent Slack errors', () => {
  it('when the bot is not in a public channel, then it joins once and posts', async () => {
    slack.failNext(1, { error: 'not_in_channel' }, { method: 'chat.postMessage' });
    const key = await register();
    await waitForCard(slack, PAY, key);
    expect(slack.callsTo('conversations.join').map((c) => c.args.channel)).toEqual([PAY]);
    expect((await stats()).dead).toBe(0);
  });

  it('when it is still not in the channel after joining, then the row is dead after one attempt, listed, counted, and retried by an admin', async () => {
    slack.failNext(2, { error: 'not_in_channel' }, { method: 'chat.postMessage' });
    const key = await register();
    const s = await waitFor(async () => ((await stats()).dead === 1 ? stats() : null), 8_000, 'dead row');
    expect(s).toMatchObject({ pending: 0, failing: 0, dead: 1 });
    expect(s!.dead_rows[0]).toMatchObject({ kind: 'card_post', channel: PAY, attempts: 1, last_error: 'Slack error: not_in_channel after joining' });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(await (await fetch(`${h.app.url}/metrics`)).text()).toMatch(/countersign_outbox_dead_total\{kind="card_post"\} 1/);
    expect(((await (await fetch(`${h.app.url}/readyz`)).json()) as { outbox: unknown }).outbox).toMatchObject({ pending: 0, failing: 0 });

    const id = s!.dead_rows[0].id;
    expect((await h.app.api('POST', `/api/outbox/${id}/retry`)).status).toBe(403);
    const retry = await fetch(`${h.app.url}/api/outbox/${id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(retry.status).toBe(200);
    await waitForCard(slack, PAY, key);
    await waitFor(async () => (await stats()).pending === 0, 5_000, 'row delivered');
    expect(await stats()).toMatchObject({ dead: 0, pending: 0 });
    expect((await fetch(`${h.app.url}/api/outbox/${id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
  });

  for (const error of ['channel_not_found', 'is_archived', 'invalid_blocks', 'msg_too_long', 'invalid_auth', 'account_inactive']) {
    it(`when Slack answers ${error}, then the row is dead after one attempt and later rows of other groups still go`, async () => {
      slack.failNext(1, { error }, { method: 'chat.postMessage' });
      await register();
      // The other change comes once the fault is spent: its card (another channel) must not race for it.
      const s = await waitFor(async () => ((await stats()).dead === 1 ? stats() : null), 8_000, 'dead row');
      expect(s.dead_rows[0]).toMatchObject({ kind: 'card_post', channel: PAY, attempts: 1, last_error: `Slack error: ${error}` });
      const other = await register({ service: 'checkout-db' });
      await waitForCard(slack, 'C0PLATSEN', other);
      expect((await stats()).dead).toBe(1);
    });
  }
});

describe('a card deleted in Slack', () => {
  it('when an update finds the card gone (message_not_found), then the card is posted again and later updates edit the new one', async () => {
    const key = await register();
    const first = await waitForCard(slack, PAY, key);
    slack.messages.splice(slack.messages.indexOf(slack.messagesIn(PAY).find((m) => m.ts === first.ts)!), 1);
    await h.app.api('POST', `/api/changes/${key}/cancel`, { reason: 'superseded' });
    const again = await waitFor(() => cardsFor(slack, PAY, key).find((m) => textOf(m).includes('Cancelled')), 8_000, 'card posted again');
    expect(again.ts).not.toBe(first.ts);
    // The new location is recorded when the delivery commits, just after Slack answered.
    await waitFor(async () => (await db.rows<{ ts: string }>(sql`select ts from slack_messages where ref = ${`card:${key.slice(4)}`}`))[0]?.ts === again.ts, 5_000, 'new ts recorded');
    expect((await stats()).dead).toBe(0);
  });
});

describe('posts whose outcome was lost', () => {
  it('when Slack took a post but the answer never came back (timeout), then the retry finds it by its metadata and does not post twice', async () => {
    // A sender whose client gives up after 300 ms, while Slack takes 700 ms (and stores the message);
    // it retries after its backoff (≥ 750 ms), when Slack has the message.
    await h.app.sender!.stop();
    const impatient = new OutboxSender({
      database: db,
      client: new WebClient('xoxb-test', { ...webClientOptions(slack.apiUrl), timeout: 300 }),
      logger: createLogger('silent', { pretty: false }),
      render: async () => null,
      pollMs: 20,
      backoffBaseMs: 1_000,
      backoffMaxMs: 2_000,
      postIntervalMs: 5,
    });
    try {
      await enqueue(db.db, [outboxMessage('message', `chan:${ESC}`, ESC, { text: 'escalation: CHG-1 waits' })]);
      slack.failNext(1, { delayMs: 700 }, { method: 'chat.postMessage' });
      impatient.start();
      await waitFor(async () => (await stats()).delivered === 1, 10_000, 'delivered');
      await new Promise((r) => setTimeout(r, 800));
      expect(slack.messagesIn(ESC).map((m) => m.text)).toEqual(['escalation: CHG-1 waits']);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
      expect(slack.callsTo('conversations.history').length).toBeGreaterThanOrEqual(1);
      expect(slack.messagesIn(ESC)[0].metadata).toMatchObject({ event_type: 'countersign_message' });
    } finally {
      await impatient.stop();
      h.app.sender!.start();
    }
  });

  it('when a replica died holding a card it had already posted (lease ran out), then the next sender finds the post by its metadata, records its ts and does not post twice', async () => {
    await h.app.sender!.stop();
    try {
      const key = await register();
      // The dead replica: it leased the card row (its lease has since run out) and Slack accepted its
      // post, tagged with the row's id, but it died before recording the ts.
      const [row] = await claimOutbox(db, 'replica-that-died', 1, 1);
      expect(row).toMatchObject({ kind: 'card_post', channel: PAY, inDoubt: false });
      const dead = new WebClient('xoxb-test', webClientOptions(slack.apiUrl));
      const early = await dead.chat.postMessage({ channel: PAY, text: `${key} as the dead replica posted it`, metadata: { event_type: 'countersign_message', event_payload: { outbox_id: row.id } } });
      await new Promise((r) => setTimeout(r, 20));

      h.app.sender!.start();
      await waitFor(async () => (await stats()).delivered === 1, 8_000, 'card row delivered');
      const ref = `card:${key.slice(4)}`;
      expect(await db.rows(sql`select channel, ts from slack_messages where ref = ${ref}`)).toEqual([{ channel: PAY, ts: early.ts }]);
      // Looked up in the channel's last hour, with metadata (the form body carries it as a string).
      const [lookup] = slack.callsTo('conversations.history');
      expect(lookup.args).toMatchObject({ channel: PAY, include_all_metadata: 'true' });
      expect(Math.abs(Number(lookup.args.oldest) - (lookup.at / 1000 - 3600))).toBeLessThan(5);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
      expect(slack.messagesIn(PAY).filter((m) => (m.metadata as { event_payload?: { outbox_id?: number } })?.event_payload?.outbox_id === row.id)).toHaveLength(1);

      // Later updates edit that message: the recorded ts is the one in Slack.
      await h.app.api('POST', `/api/changes/${key}/cancel`, { reason: 'superseded' });
      await waitFor(() => textOf(slack.messagesIn(PAY).find((m) => m.ts === early.ts)!).includes('Cancelled'), 8_000, 'card edited in place');
      expect(slack.messagesIn(PAY)).toHaveLength(1);
    } finally {
      h.app.sender!.start();
    }
  });
});

describe('pacing across replicas', () => {
  it('when three senders (replicas) share one database, then no two posts reach one channel closer than the interval, and channels go in parallel', async () => {
    await h.app.sender!.stop();
    const interval = 400;
    // Each replica has its own token, so the fake Slack tells who posted what.
    const clients = Array.from({ length: 3 }, (_, i) => new WebClient(`xoxb-replica-${i}`, webClientOptions(slack.apiUrl)));
    const senders = clients.map((client) => new OutboxSender({ database: db, client, logger: createLogger('silent', { pretty: false }), render: async () => null, pollMs: 10, postIntervalMs: interval, batchSize: 2 }));
    try {
      const channels = ['C0PACE1', 'C0PACE2'];
      const perChannel = 6;
      // Warm each replica's connection to Slack first: a cold first request can run late, which says
      // nothing about pacing.
      await Promise.all(clients.map((c) => c.auth.test()));
      // Both channels are busy: each had a post just now, so every post waits for a slot reserved in
      // Postgres. (A channel's first post after a quiet spell takes the slot "now" and leaves once the
      // reservation is answered, a query's latency after it: on in-process PGlite, whose queries hold
      // the one thread, that alone can eat 250 ms of the first gap.)
      await db.db.execute(sql`insert into channel_pacing (channel, next_allowed_at) values ${sql.join(channels.map((ch) => sql`(${ch}, now() + make_interval(secs => ${(interval * 0.75) / 1000}))`), sql`, `)}`);
      // Each post is its own group, so any replica may take any row; the channels' rows interleave.
      await enqueue(db.db, Array.from({ length: perChannel }, (_, i) => channels.map((ch) => outboxMessage('message', `p:${ch}:${i}`, ch, { text: `${ch} ${i}` }))).flat());
      senders.forEach((s) => s.start());
      await waitFor(() => channels.every((ch) => slack.messagesIn(ch).length === perChannel), 15_000, 'all posted');
      const posts = slack.callsTo('chat.postMessage').filter((c) => c.status === 200);
      expect(new Set(posts.map((c) => c.token)).size, 'replicas that posted').toBe(3);
      for (const ch of channels) {
        const at = posts.filter((c) => c.args.channel === ch).map((c) => c.at).sort((a, b) => a - b);
        expect(at).toHaveLength(perChannel);
        // Slots are reserved one interval apart in Postgres (channel_pacing) and waited for on the same
        // clock, so what can squeeze two arrivals is only one post's timer or request running late:
        // 50 ms covers that. Twice the rate would show gaps near half the interval.
        const gaps = at.slice(1).map((t, i) => t - at[i]);
        expect(Math.min(...gaps), `smallest gap in ${ch} (${gaps.join(', ')})`).toBeGreaterThanOrEqual(interval - 50);
      }
      // Channels go in parallel: all 12 posts take about 5 intervals, where one channel after the other takes 11.
      const all = posts.map((c) => c.at);
      expect(Math.max(...all) - Math.min(...all)).toBeLessThan((perChannel + 1) * interval);
    } finally {
      await Promise.all(senders.map((s) => s.stop()));
      h.app.sender!.start();
    }
  });
});

describe('links go to the card', () => {
  it('when a card is posted, then its permalink is kept, and escalation posts and digests link to it', async () => {
    const key = await register();
    await waitForCard(slack, PAY, key);
    const [row] = await waitFor(async () => {
      const r = await db.rows<{ permalink: string | null }>(sql`select permalink from slack_messages where ref = ${`card:${key.slice(4)}`}`);
      return r[0]?.permalink ? r : null;
    }, 5_000, 'permalink');
    expect(row.permalink).toMatch(/^https:\/\/sandbox\.slack\.com\/archives\/C0PAYSEN\/p\d+$/);
    const digest = await slack.sendCommand(h.events, { command: '/change', text: 'digest', user_id: 'U0ALICE', channel_id: PAY });
    expect(digest.status).toBe(200);
    const posted = await waitFor(() => slack.messagesIn(PAY).find((m) => JSON.stringify(m.blocks ?? []).includes('waiting for sign-off')), 5_000, 'digest');
    expect(JSON.stringify(posted.blocks)).toContain(`<${row.permalink}|${key}>`);

    // The sweep runs two hours later (delivery keeps the database's clock).
    const later = { now: () => new Date(Date.now() + 2 * 3_600_000 + 60_000) };
    expect(await escalateStaleRequests({ ...h.app.deps, clock: later })).toMatchObject({ escalated: 1 });
    const escalation = await waitFor(() => slack.messagesIn(ESC).find((m) => (m.text ?? '').includes(`${key} `)), 5_000, 'escalation post');
    expect(textOf(escalation)).toContain(`<${row.permalink}|The card> is in <#${PAY}>`);
    expect(slack.callsTo('chat.getPermalink')).toHaveLength(1);
  });
});
