import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { fakeClock } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

const PAY = 'C0PAYSEN';
const clock = fakeClock(new Date('2026-11-02T10:00:00Z'));
let h: SlackHarness;
let db: Database;

async function start(review: Record<string, unknown>) {
  await h?.stop();
  h = await startSlackHarness({ database: db, clock, config: buildConfig({ review }), keepDatabase: true });
}
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await h?.stop();
  await db?.close();
});
beforeEach(async () => {
  if (h) await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
  await truncateAll(db);
  clock.set(new Date('2026-11-02T10:00:00Z'));
});

const register = async (i: number) => {
  clock.advance(1_000);
  const res = await h.app.api('POST', '/api/changes', buildChangeInput({ external_id: `a-${i}-${Math.random()}` }));
  return res.body as { key: string; assigned_to?: string };
};
const assignees = async (keys: string[]) => Promise.all(keys.map(async (k) => (await h.app.api('GET', `/api/changes/${k}`)).body.assigned_to as string | null));

describe('load-aware assignment', () => {
  it('when ten changes arrive, then they spread evenly over the three seniors, each card names its reviewer, and the reminder mentions only them', async () => {
    await start({ assignment: 'least_loaded', max_assigned_per_day: 10 });
    const keys: string[] = [];
    for (let i = 0; i < 10; i++) keys.push((await register(i)).key);
    const who = await assignees(keys);
    const counts = new Map<string, number>();
    for (const w of who) counts.set(w!, (counts.get(w!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['U0ALICE', 'U0BOB', 'U0GRACE']);
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);

    const card = await waitForCard(h.slack, PAY, keys[0]);
    expect(textOf(card)).toContain(`asked <@${who[0]}> first`);

    // Stats show each reviewer's open assigned reviews.
    const stats = (await h.app.api('GET', '/api/stats?days=30')).body as { approvers: { approver: string; open_assigned_reviews: number }[] };
    for (const [u, n] of counts) expect(stats.approvers.find((a) => a.approver === u)?.open_assigned_reviews).toBe(n);

    clock.advance(31 * 60_000);
    await escalateStaleRequests(h.app.deps);
    await waitFor(() => h.slack.threadOf(PAY, card.ts).some((m) => m.thread_ts && m.text.includes(':bell:')), 8_000, 'reminder');
    const reminder = h.slack.threadOf(PAY, card.ts).find((m) => m.text.includes(':bell:'))!.text;
    expect(reminder).toContain(`<@${who[0]}>`);
    for (const other of ['U0ALICE', 'U0BOB', 'U0GRACE'].filter((u) => u !== who[0])) expect(reminder).not.toContain(`<@${other}>`);
  });

  it('when a senior is away or at the daily cap, then they are skipped', async () => {
    await start({ assignment: 'least_loaded', max_assigned_per_day: 2 });
    const away = await h.slack.sendCommand(h.events, { command: '/change', text: 'away on', user_id: 'U0BOB', channel_id: PAY });
    expect(JSON.parse(away.body).text).toContain('marked away');
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) keys.push((await register(i)).key);
    const who = await assignees(keys);
    expect(who).not.toContain('U0BOB');
    // Alice and Grace take two each (the cap); the fifth goes to someone at the cap because everyone is.
    expect(who.filter((w) => w === 'U0ALICE')).toHaveLength(2);
    expect(who.filter((w) => w === 'U0GRACE')).toHaveLength(2);
    const fifth = (await assignees([(await register(5)).key]))[0];
    expect(['U0ALICE', 'U0GRACE']).toContain(fifth);

    await h.slack.sendCommand(h.events, { command: '/change', text: 'away off', user_id: 'U0BOB', channel_id: PAY });
    const sixth = (await assignees([(await register(6)).key]))[0];
    expect(sixth).toBe('U0BOB');
  });

  it('when assignment is everyone, then no reviewer is named and reminders go to all eligible seniors', async () => {
    await start({ assignment: 'everyone' });
    const { key } = await register(1);
    expect((await assignees([key]))[0]).toBeNull();
    const card = await waitForCard(h.slack, PAY, key);
    clock.advance(31 * 60_000);
    await escalateStaleRequests(h.app.deps);
    await waitFor(() => h.slack.threadOf(PAY, card.ts).some((m) => m.text.includes(':bell:')), 8_000, 'reminder');
    expect(h.slack.threadOf(PAY, card.ts).find((m) => m.text.includes(':bell:'))!.text).toContain('<@U0ALICE> <@U0BOB> <@U0GRACE>');
  });
});

describe('blast radius', () => {
  it('when an AI-assisted change touches a service others depend on, then its blast radius raises the risk and shows on the API, the card and the service route', async () => {
    await start({ assignment: 'least_loaded' });
    const res = await h.app.api('POST', '/api/changes', buildChangeInput({ service: 'checkout-db', author: { github: 'alice' } }));
    expect(res.body.blast_radius).toEqual({ count: 3, services: ['checkout-db', 'payments-api', 'checkout'], summary: 'checkout-db → payments-api → checkout' });
    expect(res.body.risk.reasons.map((r: { rule: string }) => r.rule)).toContain('ai-change-with-wide-blast-radius');
    expect(res.body.risk.level).toBe('high');
    const card = await waitForCard(h.slack, 'C0PLATSEN', res.body.key);
    expect(textOf(card)).toContain('*Blast radius*\n3 services: checkout-db → payments-api → checkout');
    const route = await h.app.api('GET', '/api/services/checkout-db/blast-radius');
    expect(route.body).toMatchObject({ service: 'checkout-db', count: 3, summary: 'checkout-db → payments-api → checkout' });
    expect((await h.app.api('GET', '/api/services/nope/blast-radius')).status).toBe(404);
  });
});
