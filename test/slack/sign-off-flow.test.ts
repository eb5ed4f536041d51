import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, cardsFor, press, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

let h: SlackHarness;
let db: Database;

beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db });
});
afterAll(() => h?.stop());
beforeEach(async () => {
  // Let the sender finish anything in flight, then start from empty tables and an empty Slack.
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
  await truncateAll(db);
  h.slack.reset();
});

const PAY = 'C0PAYSEN';
const register = async (overrides: Record<string, unknown> = {}) => {
  const res = await h.app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  return res.body as { key: string; status: string };
};
const gate = async (key: string) => (await h.app.api('GET', `/api/changes/${key}/gate`)).status;
const approvals = async (key: string) => (await h.app.api('GET', `/api/changes/${key}`)).body.approvals as unknown[];
const lastResponseTo = (user: string) => h.slack.responses.filter((r) => r.context.user === user).at(-1)?.body as { text?: string } | undefined;
const count = async (q: string) => (await db.rows<{ n: number }>(sql.raw(q)))[0].n;

describe('the approval card', () => {
  it('when a risky change arrives, then one card is posted to the team channel with Approve and Reject', async () => {
    const { key } = await register();
    const card = await waitForCard(h.slack, PAY, key);
    expect(buttonsOf(card).map((b) => b.text)).toEqual(['Approve', 'Reject', 'Claim review']);
    const text = textOf(card);
    expect(text).toContain(`${key} · Retry payment capture on timeout`);
    expect(text).toContain('<@U0JUNIOR> (junior)');
    expect(text).toContain('ai-change-by-non-senior');
    expect(text).toContain(':robot_face: *AI-assisted* · Copilot');
    expect(text).toContain('+120 −14 in 3 files');
    expect(text).toContain('0 of 1 sign-off');
    expect(card.text).toBe(`${key} Retry payment capture on timeout needs senior sign-off`);
    await new Promise((r) => setTimeout(r, 200));
    expect(cardsFor(h.slack, PAY, key)).toHaveLength(1);
  });

  it('when a change needs no sign-off, then no card is posted', async () => {
    const { status } = await register({ ai_assisted: false, author: { github: 'alice' } });
    expect(status).toBe('approved');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('when a team has no channel, then the card goes to the approvals channel', async () => {
    const { key } = await register({ service: 'search-api' });
    await waitForCard(h.slack, 'C0APPROVALS', key);
  });

  it('when a title carries mrkdwn, then it is escaped everywhere and pings nobody', async () => {
    const { key } = await register({ title: 'Fix <!channel> <https://evil.example|docs> & more', description: 'See <!here> and <@U0MALLORY>' });
    const card = await waitForCard(h.slack, PAY, key);
    // plain_text (the header) is never expanded by Slack; every mrkdwn text and the top-level text must be escaped.
    const mrkdwn: string[] = [];
    JSON.stringify(card.blocks, (k, v) => (v && v.type === 'mrkdwn' && mrkdwn.push(v.text), v));
    const raw = mrkdwn.join('\n') + card.text;
    expect(mrkdwn.length).toBeGreaterThan(3);
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<!here>');
    expect(raw).not.toContain('<https://evil');
    expect(raw).not.toContain('<@U0MALLORY>');
    expect(card.text).toContain('Fix &lt;!channel&gt; &lt;https://evil.example|docs&gt; &amp; more');
  });

  it('when the title is very long, then the card still posts within Block Kit limits', async () => {
    const { key } = await register({ title: 'x'.repeat(300), description: 'y'.repeat(10_000) });
    const card = await waitFor(() => h.slack.messagesIn(PAY).find((m) => !m.thread_ts), 8_000, 'card');
    const header = (card.blocks as { type: string; text: { text: string } }[])[0];
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(header.text.text.endsWith('…')).toBe(true);
    expect(key).toMatch(/^CHG-/);
  });
});

describe('sign-off through the buttons', () => {
  it('when the author, a non-senior or a senior of another team presses Approve, then each is told why and nothing is recorded', async () => {
    const { key } = await register();
    const card = await waitForCard(h.slack, PAY, key);
    for (const [user, expected] of [
      ['U0JUNIOR', 'you are the author'],
      ['U0MIA', 'you are not a payments senior'],
      ['U0CAROL', 'you are a senior of platform, not payments'],
    ] as const) {
      const res = await press(h, card, 'Approve', user);
      expect(res.status).toBe(200);
      await waitFor(() => lastResponseTo(user)?.text?.includes(expected), 5_000, `refusal for ${user}`);
    }
    expect(await approvals(key)).toEqual([]);
    expect(await gate(key)).toBe(202);
  });

  it('when a member of the seniors user group approves, then it counts', async () => {
    const { key } = await register();
    const card = await waitForCard(h.slack, PAY, key);
    await press(h, card, 'Approve', 'U0GRACE');
    await waitFor(async () => (await gate(key)) === 200, 5_000, 'gate open');
  });

  it('when two seniors approve a 2-of-M change, then the card shows progress, then turns final; the thread keeps a trail; the author gets a DM', async () => {
    const { key } = await register({ terraform_plan: loadPlan('plan-destructive') });
    const card = await waitForCard(h.slack, PAY, key);
    expect(textOf(card)).toContain('2 to destroy');
    expect(textOf(card)).toContain('`terraform_data.cache` (delete)');

    await press(h, card, 'Approve', 'U0ALICE');
    await waitFor(() => textOf(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!).includes('1 of 2 sign-offs: <@U0ALICE>'), 5_000, 'progress on the card');
    expect(await gate(key)).toBe(202);
    expect(buttonsOf(h.slack.messagesIn(PAY).find((m) => m.ts === card.ts)!)).toHaveLength(3);

    await press(h, card, 'Approve', 'U0BOB');
    const final = await waitFor(() => {
      const m = h.slack.messagesIn(PAY).find((x) => x.ts === card.ts)!;
      return buttonsOf(m).length === 0 && m;
    }, 5_000, 'final card');
    expect(textOf(final)).toContain(':white_check_mark: Approved by <@U0ALICE>, <@U0BOB>');
    expect(await gate(key)).toBe(200);

    const thread = await waitFor(() => {
      const t = h.slack.threadOf(PAY, card.ts).filter((m) => m.thread_ts);
      return t.length >= 2 && t;
    }, 5_000, 'thread replies');
    expect(thread.map((m) => m.text)).toEqual([
      `:white_check_mark: <@U0ALICE> signed off ${key} (1 of 2 sign-offs)`,
      `:white_check_mark: <@U0BOB> signed off ${key} (2 of 2 sign-offs)`,
    ]);
    const dm = await waitFor(() => h.slack.dmsTo('U0JUNIOR')[0], 5_000, 'author DM');
    expect(dm.text).toContain(`*${key}* Retry payment capture on timeout was signed off by <@U0ALICE>, <@U0BOB>`);
    expect(cardsFor(h.slack, PAY, key)).toHaveLength(1);
  });

  it('when the same click arrives twice at once, then it counts once', async () => {
    const { key } = await register({ terraform_plan: loadPlan('plan-destructive') });
    const card = await waitForCard(h.slack, PAY, key);
    const results = await Promise.all([press(h, card, 'Approve', 'U0ALICE'), press(h, card, 'Approve', 'U0ALICE')]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(() => lastResponseTo('U0ALICE') && h.slack.responses.filter((r) => r.context.user === 'U0ALICE').length === 2, 5_000, 'both answered');
    expect(await approvals(key)).toHaveLength(1);
    const texts = h.slack.responses.filter((r) => r.context.user === 'U0ALICE').map((r) => (r.body as { text: string }).text).sort();
    expect(texts[0]).toContain('already signed off');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.threadOf(PAY, card.ts).filter((m) => m.thread_ts)).toHaveLength(1);
  });

  it('when a senior rejects through the modal, then a reason is required, the change is rejected, the author learns why, and a late Approve changes nothing', async () => {
    const { key } = await register();
    // A snapshot: the stored message is edited in place later, and a late click comes from the old card.
    const card = structuredClone(await waitForCard(h.slack, PAY, key));
    await press(h, card, 'Reject', 'U0ALICE');
    const modal = await waitFor(() => h.slack.views.find((v) => v.view.callback_id === 'change_reject_modal' && !v.closed), 5_000, 'reject modal');
    const inputBlock = (modal.view.blocks as { type: string; block_id: string; element?: { action_id: string } }[]).find((b) => b.type === 'input')!;
    const submit = (value: string) =>
      h.slack.sendViewSubmission(h.events, {
        user_id: 'U0ALICE',
        view: { callback_id: 'change_reject_modal', private_metadata: modal.view.private_metadata as string, state: { values: { [inputBlock.block_id]: { [inputBlock.element!.action_id]: { type: 'plain_text_input', value } } } } },
      });
    const empty = await submit('   ');
    expect(empty.errors?.[inputBlock.block_id]).toContain('Please say why');
    expect(await gate(key)).toBe(202);

    const ok = await submit('Retries without idempotency keys <!channel> can double-charge');
    expect(ok.status).toBe(200);
    expect(ok.errors).toBeUndefined();
    expect(await gate(key)).toBe(403);
    const final = await waitFor(() => {
      const m = h.slack.messagesIn(PAY).find((x) => x.ts === card.ts)!;
      return buttonsOf(m).length === 0 && m;
    }, 5_000, 'final card');
    expect(textOf(final)).toContain(':x: Rejected by <@U0ALICE>');
    expect(textOf(final)).toContain('Retries without idempotency keys &lt;!channel&gt; can double-charge');
    const dm = await waitFor(() => h.slack.dmsTo('U0JUNIOR')[0], 5_000, 'author DM');
    expect(dm.text).toContain('was rejected by <@U0ALICE>');
    expect(dm.text).toContain('&lt;!channel&gt;');

    await press(h, card, 'Approve', 'U0BOB');
    await waitFor(() => lastResponseTo('U0BOB')?.text?.includes('already rejected'), 5_000, 'late approve refused');
    expect(await gate(key)).toBe(403);
  });

  it('when an ineligible person presses Reject, then no modal opens and they are told why', async () => {
    const { key } = await register();
    const card = await waitForCard(h.slack, PAY, key);
    await press(h, card, 'Reject', 'U0MIA');
    await waitFor(() => lastResponseTo('U0MIA')?.text?.includes('not a payments senior'), 5_000, 'refusal');
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
    expect((await h.app.api('GET', `/api/changes/${key}`)).body.status).toBe('pending');
  });
});

describe('signatures', () => {
  const body = () => new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0ALICE' }, actions: [{ action_id: 'change_approve', block_id: 'change_card_actions', value: JSON.stringify({ key: 'CHG-1', round: 1 }) }], team: { id: 'T1' }, api_app_id: 'A1', token: 't', trigger_id: '1', response_url: 'http://127.0.0.1:9/x' }) }).toString();
  const post = (headers: Record<string, string>, raw = body()) =>
    fetch(h.events, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: raw });

  it('when a request is signed with the wrong secret, is stale, or is unsigned, then 401 and nothing is recorded', async () => {
    const { key } = await register();
    expect(key).toBe('CHG-1');
    await waitForCard(h.slack, PAY, key);
    const now = Math.floor(Date.now() / 1000);
    const forged = await post({ 'x-slack-request-timestamp': String(now), 'x-slack-signature': signSlackRequest('not-the-secret', now, body()) });
    const stale = await post({ 'x-slack-request-timestamp': String(now - 600), 'x-slack-signature': signSlackRequest(h.slack.signingSecret, now - 600, body()) });
    const unsigned = await post({});
    expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(await approvals(key)).toEqual([]);
    expect(await count(`select count(*)::int as n from audit_events where action like 'sign_off%'`)).toBe(0);
  });
});

describe('/change', () => {
  it('when a person runs /change list, /change CHG-n, /change help or nonsense, then each gets an ephemeral answer', async () => {
    const first = await register();
    await register({ title: 'Second <b>change</b>' });
    await waitFor(() => h.slack.messagesIn(PAY).filter((m) => !m.thread_ts).length === 2, 5_000, 'two cards');
    const cmd = async (text: string) => {
      const res = await h.slack.sendCommand(h.events, { command: '/change', text, user_id: 'U0ALICE', channel_id: PAY });
      expect(res.status).toBe(200);
      return JSON.parse(res.body) as { response_type: string; text: string; blocks: unknown[] };
    };
    const list = await cmd('list');
    expect(list.response_type).toBe('ephemeral');
    const listText = textOf(list);
    expect(listText).toContain('2 changes waiting for sign-off');
    expect(listText.indexOf(first.key)).toBeLessThan(listText.indexOf('Second'));
    expect(listText).toContain('Second &lt;b&gt;change&lt;/b&gt;');
    expect(listText).toContain('<@U0ALICE> <@U0BOB> <@U0GRACE>');

    const one = await cmd(first.key.toLowerCase());
    expect(textOf(one)).toContain(`${first.key} · Retry payment capture`);
    expect((await cmd('')).text).toContain('/change list');
    const nonsense = await cmd('approve everything <!channel>');
    expect(nonsense.text).toContain('did not understand `approve everything &lt;!channel&gt;`');
    expect((await cmd('CHG-999')).text).toContain('There is no change CHG-999');
  });
});
