import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { postDigest } from '../../src/use-cases/post-digest.ts';
import { cardChannel } from '../../src/slack/notifier.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { buildConfig, TEST_CONFIG_RAW } from '../factories/config.ts';
import { fakeClock } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, cardsFor, press, sendEvent, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

const PAY = 'C0PAYSEN';
const ESC = 'C0ESCALATE';
const MIN = 60_000;
// 2026-11-02 is a Monday; 10:00 UTC is inside business hours.
const clock = fakeClock(new Date('2026-11-02T10:00:00Z'));
const teams = structuredClone(TEST_CONFIG_RAW.teams) as Record<string, unknown>[];
teams[0].escalation_contacts = ['U0LEAD'];
teams[0].escalation_usergroup = 'S0PAYLEADS';
// Everyone is asked here (assignment has its own tests), so reminders name every eligible senior.
const config = buildConfig({ teams, escalation: { business_hours: { days: 'mon-fri', from: '09:00', to: '18:00' } }, review: { assignment: 'everyone' } });

let h: SlackHarness;
let db: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db, clock, config });
});
afterAll(() => h?.stop());
beforeEach(async () => {
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
  await truncateAll(db);
  h.slack.reset();
  clock.set(new Date('2026-11-02T10:00:00Z'));
});

const sweep = () => escalateStaleRequests(h.app.deps);
const register = async (overrides: Record<string, unknown> = {}) => (await h.app.api('POST', '/api/changes', buildChangeInput(overrides))).body.key as string;
const threadTexts = (ts: string) => h.slack.threadOf(PAY, ts).filter((m) => m.thread_ts).map((m) => m.text);
const settle = () => waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');

describe('escalation steps', () => {
  it('when a request waits, then it gets one reminder, one escalation, and then expires, each exactly once', async () => {
    const key = await register();
    const card = await waitForCard(h.slack, PAY, key);

    clock.advance(29 * MIN);
    expect(await sweep()).toMatchObject({ reminded: 0, escalated: 0, expired: 0 });

    clock.advance(1 * MIN);
    expect(await sweep()).toMatchObject({ reminded: 1 });
    expect(await sweep()).toMatchObject({ reminded: 0 });
    await settle();
    const reminders = threadTexts(card.ts);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toContain('<@U0ALICE> <@U0BOB> <@U0GRACE>');
    expect(reminders[0]).toContain(`${key} has waited 30m for sign-off`);
    expect(reminders[0]).toContain('It escalates at 2026-11-02 12:00 UTC');
    expect(reminders[0]).not.toMatch(/<!(channel|here|everyone)>/);

    clock.advance(90 * MIN);
    expect(await sweep()).toMatchObject({ escalated: 1 });
    expect(await sweep()).toMatchObject({ escalated: 0 });
    await settle();
    const posts = h.slack.messagesIn(ESC);
    expect(posts).toHaveLength(1);
    const text = textOf(posts[0]);
    expect(text).toContain(`*${key}* Retry payment capture on timeout has waited 2h for sign-off`);
    expect(text).toContain('*Team* payments');
    expect(text).toContain('high');
    expect(text).toContain('*Waits on* <@U0ALICE> <@U0BOB> <@U0GRACE>');
    expect(text).toContain(`<#${PAY}>`);
    expect(text).toContain('<@U0LEAD> <!subteam^S0PAYLEADS>');

    clock.advance(70 * 60 * MIN);
    expect(await sweep()).toMatchObject({ expired: 1 });
    expect(await sweep()).toMatchObject({ expired: 0 });
    expect((await h.app.api('GET', `/api/changes/${key}/gate`)).status).toBe(403);
    await settle();
    const final = h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!;
    expect(buttonsOf(final)).toHaveLength(0);
    expect(textOf(final)).toContain('Expired without sign-off');
    const dm = h.slack.dmsTo('U0JUNIOR')[0];
    expect(dm.text).toContain('expired without a sign-off');
    expect(dm.text).toContain('Resubmit it');
    expect(threadTexts(card.ts)).toHaveLength(1);
    expect(h.slack.messagesIn(ESC)).toHaveLength(1);

    const detail = (await h.app.api('GET', `/api/changes/${key}`)).body;
    expect(detail.escalation).toMatchObject({ step: 'expired', claimed_by: null });
  });

  it('when everything is due at once after downtime, then only expiry happens, with a single notice', async () => {
    const key = await register();
    const card = await waitForCard(h.slack, PAY, key);
    clock.advance(80 * 60 * MIN);
    expect(await sweep()).toEqual({ reminded: 0, escalated: 0, expired: 1, claimsLapsed: 0 });
    await settle();
    expect(threadTexts(card.ts)).toHaveLength(0);
    expect(h.slack.messagesIn(ESC)).toHaveLength(0);
    expect(h.slack.dmsTo('U0JUNIOR')).toHaveLength(1);
  });

  it('when a change is approved, rejected or cancelled before a step, then it never gets that step', async () => {
    const approved = await register();
    const cancelled = await register();
    const card = await waitForCard(h.slack, PAY, approved);
    await press(h, card, 'Approve', 'U0ALICE');
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${approved}/gate`)).status === 200, 5_000, 'approved');
    await h.app.api('POST', `/api/changes/${cancelled}/cancel`);
    clock.advance(3 * 60 * MIN);
    expect(await sweep()).toEqual({ reminded: 0, escalated: 0, expired: 0, claimsLapsed: 0 });
    await settle();
    expect(h.slack.messagesIn(ESC)).toHaveLength(0);
  });

  it('when a non-critical reminder falls due at night, then it waits for business hours; a critical one goes at once', async () => {
    clock.set(new Date('2026-11-02T17:50:00Z'));
    const normal = await register();
    const critical = await register({ terraform_plan: loadPlan('plan-destructive') });
    await waitForCard(h.slack, PAY, critical);
    clock.set(new Date('2026-11-02T18:30:00Z'));
    const night = await sweep();
    expect(night.reminded).toBe(1);
    const c = await h.app.api('GET', `/api/changes/${critical}`);
    const n = await h.app.api('GET', `/api/changes/${normal}`);
    expect(c.body.escalation.step).toBe('reminded');
    expect(n.body.escalation.step).toBe('none');
    clock.set(new Date('2026-11-03T09:00:00Z'));
    const morning = await sweep();
    // By the next morning the normal change is past escalate_after: only the highest due step fires.
    expect(morning.escalated).toBe(2);
    expect((await h.app.api('GET', `/api/changes/${normal}`)).body.escalation.step).toBe('escalated');
  });
});

describe('claiming a review', () => {
  it('when a senior claims, then the card says so, reminders go to the claimer only, and release restores everyone', async () => {
    const key = await register();
    const card = structuredClone(await waitForCard(h.slack, PAY, key));
    await press(h, card, 'Claim review', 'U0MIA');
    await waitFor(() => h.slack.responses.some((r) => String((r.body as { text: string }).text).includes(`Only payments seniors can review ${key}`)), 5_000, 'non-senior refused');
    await press(h, card, 'Claim review', 'U0BOB');
    await waitFor(() => textOf(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!).includes('<@U0BOB> is reviewing'), 5_000, 'claimed on card');
    expect(buttonsOf(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!).map((b) => b.text)).toEqual(['Approve', 'Reject', 'Release claim']);
    expect((await h.app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by).toBe('U0BOB');

    clock.advance(30 * MIN);
    await sweep();
    await settle();
    const reminder = threadTexts(card.ts)[0];
    expect(reminder).toContain('<@U0BOB>');
    expect(reminder).not.toContain('<@U0ALICE>');

    const claimed = structuredClone(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!);
    await press(h, claimed, 'Release claim', 'U0ALICE');
    await waitFor(() => h.slack.responses.some((r) => String((r.body as { text: string }).text).includes('Only <@U0BOB> can release')), 5_000, 'only the claimer releases');
    await press(h, claimed, 'Release claim', 'U0BOB');
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by === null, 5_000, 'released');
  });

  it('when a claim is older than claim_timeout, then the sweep lets it lapse and the card drops it', async () => {
    const key = await register();
    const card = structuredClone(await waitForCard(h.slack, PAY, key));
    await press(h, card, 'Claim review', 'U0ALICE');
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by === 'U0ALICE', 5_000, 'claimed');
    clock.advance(61 * MIN);
    expect((await sweep()).claimsLapsed).toBe(1);
    await settle();
    expect(textOf(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!)).not.toContain('is reviewing');
  });
});

describe('digest', () => {
  it('when changes are pending, then one digest per senior channel lists them oldest first; a second replica for the same slot posts nothing', async () => {
    const first = await register({ title: 'Older <b>one</b>' });
    clock.advance(5 * MIN);
    await register({ title: 'Newer one' });
    await register({ service: 'infra', terraform_plan: loadPlan('plan-destructive') });
    const channelOf = (c: Parameters<typeof cardChannel>[1]) => cardChannel(config, c);
    expect(await postDigest(h.app.deps, channelOf, { slot: '2026-11-02T09:00' })).toBe(2);
    expect(await postDigest(h.app.deps, channelOf, { slot: '2026-11-02T09:00' })).toBe(0);
    await settle();
    const pay = h.slack.messagesIn(PAY).filter((m) => JSON.stringify(m.blocks).includes('waiting for sign-off'));
    expect(pay).toHaveLength(1);
    const text = textOf(pay[0]);
    expect(text).toContain('2 changes waiting for sign-off');
    expect(text.indexOf(first)).toBeLessThan(text.indexOf('Newer one'));
    expect(text).toContain('Older &lt;b&gt;one&lt;/b&gt;');
    expect(text).toContain('waits on <@U0ALICE> <@U0BOB> <@U0GRACE>');
    expect(h.slack.messagesIn('C0PLATSEN').filter((m) => JSON.stringify(m.blocks).includes('waiting for sign-off'))).toHaveLength(1);
  });

  it('when nothing is pending, then no digest is posted, and /change digest answers privately', async () => {
    expect(await postDigest(h.app.deps, (c) => cardChannel(config, c), { slot: 'x' })).toBe(0);
    const res = await h.slack.sendCommand(h.events, { command: '/change', text: 'digest', user_id: 'U0ALICE', channel_id: PAY });
    expect(JSON.parse(res.body).text).toContain('Nothing is waiting for sign-off');
    await register();
    const again = await h.slack.sendCommand(h.events, { command: '/change', text: 'digest', user_id: 'U0ALICE', channel_id: PAY });
    expect(JSON.parse(again.body).text).toContain('Posting the digest here');
    await waitFor(() => h.slack.messagesIn(PAY).some((m) => JSON.stringify(m.blocks).includes('1 change waiting for sign-off')), 5_000, 'digest posted');
  });
});

describe('App Home', () => {
  it('when a senior opens the Home tab, then it lists what waits for them with working buttons, and their own changes', async () => {
    const key = await register();
    await register({ author: { slack_id: 'U0ALICE' }, ai_assisted: false, terraform_plan: loadPlan('plan-destructive'), title: 'Alice own change' });
    expect(await sendEvent(h, { type: 'app_home_opened', user: 'U0BOB', channel: 'DU0BOB', tab: 'home' })).toBe(200);
    const home = await waitFor(() => h.slack.homeOf('U0BOB'), 5_000, 'home published') as { blocks: { type: string; text?: { text: string }; elements?: { action_id: string; value: string }[]; block_id?: string }[] };
    const text = JSON.stringify(home.blocks);
    expect(text).toContain('Waiting for your sign-off');
    expect(text).toContain(key);
    expect(text).toContain('Alice own change');
    const actions = home.blocks.find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => e.action_id)).toEqual(['change_approve', 'change_reject', 'change_claim']);

    expect(text).toContain(`*${key}*`);
    // Pressing Approve in the Home tab uses the same handler; the Home is re-published after.
    const approve = actions.elements![0];
    await h.slack.sendAction(h.events, { user_id: 'U0BOB', channel_id: 'DU0BOB', action: { action_id: approve.action_id, block_id: actions.block_id!, value: approve.value }, view: { id: 'VHOME', type: 'home' } });
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}/gate`)).status === 200, 5_000, 'approved from home');
    await waitFor(() => !JSON.stringify((h.slack.homeOf('U0BOB') as { blocks: unknown[] }).blocks).includes(`*${key}*`), 5_000, 'home refreshed');

    await sendEvent(h, { type: 'app_home_opened', user: 'U0JUNIOR', channel: 'DU0JUNIOR', tab: 'home' });
    const junior = await waitFor(() => h.slack.homeOf('U0JUNIOR'), 5_000, 'junior home') as { blocks: unknown[] };
    const jt = JSON.stringify(junior.blocks);
    expect(jt).not.toContain('Waiting for your sign-off');
    expect(jt).toContain('Your changes');
    expect(jt).toContain(`*${key}*`);
    expect(jt).toContain('approved');
  });
});
