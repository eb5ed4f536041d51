import { WebClient } from '@slack/web-api';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { webClientOptions } from '../../src/slack/app.ts';
import { OutboxSender } from '../../src/slack/outbox-sender.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';

/**
 * The typed outbox's failure path: rows written by hand (an older or newer release, an operator's
 * INSERT) that do not fit the contract are given up with an error naming why, never delivered half-read.
 */

const CH = 'C0CONTRACT';
let db: Database;
let slack: SlackStandin;
let logs: { level: number; msg: string; kind?: string; error?: string }[];
let sender: OutboxSender;

beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack({});
});
afterAll(async () => {
  await db?.close();
  await slack?.stop();
});
beforeEach(async () => {
  await truncateAll(db);
  slack.reset();
  logs = [];
  const logger = createLogger('info', { destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  sender = new OutboxSender({ database: db, client: new WebClient('xoxb-test', webClientOptions(slack.apiUrl)), logger, render: async () => null, postIntervalMs: 5 });
});

/** Inserts a row as raw SQL, bypassing the typed `enqueue`. */
async function insertRow(kind: string, payload: unknown, channel = CH): Promise<number> {
  const [r] = await db.rows<{ id: number }>(sql`insert into outbox (kind, group_key, channel, payload, next_attempt_at, created_at) values (${kind}, ${`hand:${kind}:${Math.random()}`}, ${channel}, ${JSON.stringify(payload)}::jsonb, now(), now()) returning id`);
  return Number(r.id);
}

const rowOf = async (id: number) => (await db.rows<{ status: string; last_error: string | null }>(sql`select status, last_error from outbox where id = ${id}`))[0];

describe('rows that do not fit the outbox contract', () => {
  it('when a row has an unknown kind, a malformed payload, or a payload missing what its kind needs, then each is dead with an error naming the kind and field, nothing of it reaches Slack, and a good row still goes out', async () => {
    const unknown = await insertRow('carrier_pigeon', { text: 'coo' });
    const malformed = await insertRow('message', { text: 42 });
    const halfRead = await insertRow('dm', { text: 'no one to send it to' });
    const good = await insertRow('message', { text: 'still goes out' });

    while ((await sender.drainOnce()) > 0);

    expect(await rowOf(unknown)).toEqual({ status: 'dead', last_error: 'unknown outbox kind "carrier_pigeon"' });
    expect(await rowOf(malformed)).toMatchObject({ status: 'dead', last_error: expect.stringMatching(/^malformed message payload: text: /) });
    expect(await rowOf(halfRead)).toEqual({ status: 'dead', last_error: 'malformed dm payload: (root): needs user or email' });
    expect(await rowOf(good)).toMatchObject({ status: 'done' });
    expect(slack.messagesIn(CH).map((m) => m.text)).toEqual(['still goes out']);
    expect(slack.callsTo('conversations.open')).toHaveLength(0);

    const errors = logs.filter((l) => l.level === 50);
    expect(errors.map((l) => [l.kind, l.error])).toEqual([
      ['carrier_pigeon', 'unknown outbox kind "carrier_pigeon"'],
      ['message', expect.stringMatching(/^malformed message payload: text: /)],
      ['dm', 'malformed dm payload: (root): needs user or email'],
    ]);
    for (const l of errors) expect(l.msg).toMatch(/^outbox: unreadable row/);
    expect(logs.some((l) => /Slack error/.test(l.msg))).toBe(false);
  });

  it('when a Slack-target row carries a GitHub kind, then it is dead with an error saying so, never left pending as if delivered', async () => {
    const misrouted = await insertRow('github_check_run', { change_id: 1 });
    const good = await insertRow('message', { text: 'after the misrouted row' });

    while ((await sender.drainOnce()) > 0);

    expect(await rowOf(misrouted)).toEqual({ status: 'dead', last_error: 'github_check_run rows are delivered to github, not slack' });
    expect(await rowOf(good)).toMatchObject({ status: 'done' });
    expect(slack.messagesIn(CH).map((m) => m.text)).toEqual(['after the misrouted row']);
    expect(logs.filter((l) => l.level === 50).map((l) => [l.kind, l.msg])).toEqual([['github_check_run', expect.stringMatching(/^outbox: unreadable row/)]]);
  });
});
