import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { buildConfig } from '../factories/config.ts';
import { deliver, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { fakeClock } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, cardsFor, press, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

const PAY = 'C0PAYSEN';
const ESC = 'C0ESCALATE';
const HOUR = 3_600_000;
const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
// 2026-11-02 is a Monday; 10:00 UTC.
const clock = fakeClock(new Date('2026-11-02T10:00:00Z'));
const config = buildConfig({
  github: { repos: [{ repo: 'acme/shop', service: 'checkout' }] },
  break_glass: { allowed: ['U0CAROL'], review_within: '24h' },
});

let h: SlackHarness;
let db: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db, clock, config, env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET } });
});
afterAll(() => h?.stop());
beforeEach(async () => {
  await settle();
  await truncateAll(db);
  h.slack.reset();
  clock.set(new Date('2026-11-02T10:00:00Z'));
});

function settle() {
  return waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
}
const gate = async (key: string, query = '') => (await h.app.api('GET', `/api/changes/${key}/gate${query}`)).status;
const current = (ts: string) => h.slack.messagesIn(PAY).find((m) => m.ts === ts)!;
const lastResponseTo = (user: string) => h.slack.responses.filter((r) => r.context.user === user).at(-1)?.body as { text?: string } | undefined;
const threadTexts = (ts: string) => h.slack.threadOf(PAY, ts).filter((m) => m.thread_ts).map((m) => m.text ?? '');
const command = async (user: string, text: string) => {
  const res = await h.slack.sendCommand(h.events, { command: '/change', text, user_id: user, channel_id: PAY });
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { response_type: string; text: string };
};

async function openAiPr(): Promise<string> {
  const res = await deliver(h.app.url, 'pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA1, title: 'Retry payment capture' }));
  expect(res.status).toBe(201);
  return res.body.change;
}

describe('a pull request through Slack', () => {
  it('when new commits land after sign-off, then the card says re-approval is needed, has its buttons back, and only the new card counts', async () => {
    const key = await openAiPr();
    const card = structuredClone(await waitForCard(h.slack, PAY, key));
    await press(h, card, 'Approve', 'U0ALICE');
    await waitFor(() => buttonsOf(current(card.ts)).length === 0, 5_000, 'final card');
    expect(await gate(key)).toBe(200);

    const sync = await deliver(h.app.url, 'pull_request', pullRequestEvent('synchronize', { login: 'jdoe', labels: ['ai-assisted'], sha: SHA2 }));
    expect(sync.body.outcome).toBe('new_round');
    const updated = await waitFor(() => {
      const m = current(card.ts);
      return textOf(m).includes('New commits since sign-off: re-approval needed') && m;
    }, 5_000, 'card says re-approval needed');
    expect(buttonsOf(updated).map((b) => b.text)).toContain('Approve');
    expect(textOf(updated)).toContain('0 of 1 sign-off');
    expect(textOf(updated)).toContain('`b2c3d4e`');
    expect(await gate(key)).toBe(202);
    await waitFor(() => threadTexts(card.ts).some((t) => t.includes('earlier sign-offs no longer count')), 5_000, 'thread note');
    expect(cardsFor(h.slack, PAY, key)).toHaveLength(1);

    // A click on the card as it was before the new commits is refused; the updated card works.
    await press(h, card, 'Approve', 'U0BOB');
    await waitFor(() => lastResponseTo('U0BOB')?.text?.includes('has changed since that card was shown'), 5_000, 'stale click refused');
    expect(await gate(key)).toBe(202);
    await press(h, structuredClone(updated), 'Approve', 'U0ALICE');
    await waitFor(async () => (await gate(key, `?sha=${SHA2}`)) === 200, 5_000, 'gate open for the new head');
    expect(await gate(key, `?sha=${SHA1}`)).toBe(409);
  });

  it('when labels make an approved-on-arrival change risky, then its card is posted for sign-off', async () => {
    const res = await deliver(h.app.url, 'pull_request', pullRequestEvent('opened', { login: 'jdoe', labels: [], body: null, sha: SHA1 }));
    const key = res.body.change;
    await settle();
    expect(cardsFor(h.slack, PAY, key)).toHaveLength(0);
    await deliver(h.app.url, 'pull_request', pullRequestEvent('labeled', { login: 'jdoe', labels: ['ai-assisted'], label: 'ai-assisted' }));
    const card = await waitForCard(h.slack, PAY, key);
    expect(buttonsOf(card).map((b) => b.text)).toEqual(['Approve', 'Reject', 'Claim review']);
    expect(textOf(card)).toContain('ai-change-by-non-senior');
  });
});

describe('/change breakglass', () => {
  it('when someone not allowed tries, then they are refused in an ephemeral message and the gate stays closed', async () => {
    const key = await openAiPr();
    await waitForCard(h.slack, PAY, key);
    const refused = await command('U0ALICE', `breakglass ${key} the deploy is urgent`);
    expect(refused.response_type).toBe('ephemeral');
    expect(refused.text).toContain('break_glass.allowed');
    const noReason = await command('U0CAROL', `breakglass ${key}`);
    expect(noReason.text).toContain('needs a reason');
    expect(await gate(key)).toBe(202);
    await settle();
    expect(h.slack.messagesIn(ESC)).toHaveLength(0);
  });

  it('when an allowed person breaks the glass, then the gate opens, the escalation channel is alerted, the card says so with its buttons, and a retroactive approval makes it approved', async () => {
    const key = await openAiPr();
    const card = await waitForCard(h.slack, PAY, key);
    const ok = await command('U0CAROL', `breakglass ${key} checkout is down <!channel> & payments fail`);
    expect(ok.response_type).toBe('ephemeral');
    expect(ok.text).toContain('gate is open under break-glass');
    expect(await gate(key, `?sha=${SHA1}`)).toBe(200);

    const alert = await waitFor(() => h.slack.messagesIn(ESC)[0], 5_000, 'escalation channel alert');
    expect(alert.text).toBe(`${key} was deployed under break-glass by <@U0CAROL>: checkout is down &lt;!channel&gt; &amp; payments fail`);
    expect(textOf(alert)).toContain('within 24h');
    expect(JSON.stringify(alert)).not.toContain('<!channel>');

    const updated = await waitFor(() => {
      const m = current(card.ts);
      return textOf(m).includes('Deployed under break-glass by <@U0CAROL>') && m;
    }, 5_000, 'card line');
    expect(textOf(updated)).toContain('Deployed under break-glass by <@U0CAROL>: checkout is down &lt;!channel&gt; &amp; payments fail; needs retroactive sign-off');
    expect(buttonsOf(updated).map((b) => b.text)).toEqual(['Approve', 'Reject']);

    await press(h, structuredClone(updated), 'Approve', 'U0ALICE');
    const final = await waitFor(() => {
      const m = current(card.ts);
      return buttonsOf(m).length === 0 && m;
    }, 5_000, 'final card');
    expect(textOf(final)).toContain(':white_check_mark: Approved by <@U0ALICE>');
    expect(textOf(final)).toContain('this was its retroactive review');
    expect((await h.app.api('GET', `/api/changes/${key}`)).body.status).toBe('approved');
  });

  it('when the retroactive sign-off does not come within review_within, then it escalates once', async () => {
    const key = await openAiPr();
    await waitForCard(h.slack, PAY, key);
    await command('U0CAROL', `breakglass ${key} hotfix for the outage`);
    await waitFor(() => h.slack.messagesIn(ESC).length === 1, 5_000, 'break-glass alert');

    clock.advance(23 * HOUR);
    expect((await escalateStaleRequests(h.app.deps)).escalated).toBe(0);
    clock.advance(2 * HOUR);
    expect((await escalateStaleRequests(h.app.deps)).escalated).toBe(1);
    expect((await escalateStaleRequests(h.app.deps)).escalated).toBe(0);
    const posts = await waitFor(() => h.slack.messagesIn(ESC).length === 2 && h.slack.messagesIn(ESC), 5_000, 'overdue escalation');
    expect(posts[1].text).toContain(`${key} Retry payment capture was deployed under break-glass by <@U0CAROL> 1d 1h ago and still has no retroactive sign-off`);
    expect(textOf(posts[1])).toContain('<@U0ALICE>');
    // Still open: break-glass is not undone by a late review.
    expect(await gate(key)).toBe(200);
  });
});
