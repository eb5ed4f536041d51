import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { buildChangeInput } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, press, startSlackHarness, waitFor, waitForCard, workspaceUsers, type SlackHarness } from '../support/slack.ts';

/**
 * Ways around the sign-off rules through Slack, tried as an attacker would: signing off your own
 * change under another identity, clicking outdated cards, posting digests where they do not
 * belong, and requests signed ahead of time. Everything goes through signed requests and the fake Slack.
 */

let h: SlackHarness;
let slack: SlackStandin;
let db: Database;
const PAY = 'C0PAYSEN';

beforeAll(async () => {
  db = await createTestDatabase();
  // Bob's Slack profile carries a private address the config does not know.
  const users = workspaceUsers().map((u) => (u.id === 'U0BOB' ? { ...u, email: 'Bob.Private@example.net' } : u));
  slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: ['U0GRACE'] }, users });
  h = await startSlackHarness({ database: db, slack });
});
afterAll(async () => {
  await h?.stop();
  await slack?.stop();
});
beforeEach(async () => {
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
  await truncateAll(db);
  slack.reset();
});

const register = async (overrides: Record<string, unknown>) => {
  const res = await h.app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  return res.body.key as string;
};
const gate = async (key: string) => (await h.app.api('GET', `/api/changes/${key}/gate`)).status;
const lastResponseTo = (user: string) => slack.responses.filter((r) => r.context.user === user).at(-1)?.body as { text?: string } | undefined;
const refusals = async (key: string) =>
  (await db.rows<{ actor: string; code: string }>(sql`select actor, data->>'code' as code from audit_events where action = 'sign_off_refused' and change_id = ${Number(key.slice(4))} order by id`)).map((r) => [r.actor, r.code]);
const SENSITIVE = { ai_assisted: true, diff: { files_changed: 1, additions: 3, deletions: 0, paths: ['src/auth/session.ts'] } };

describe('signing off your own change under another identity', () => {
  it('when Alice registers her change by email only (another case), then the card is hers and her Approve is refused as self-approval', async () => {
    const key = await register({ ...SENSITIVE, author: { email: 'ALICE@example.com' } });
    const card = await waitForCard(slack, PAY, key);
    await press(h, card, 'Approve', 'U0ALICE');
    await waitFor(() => lastResponseTo('U0ALICE')?.text?.includes('you are the author'), 5_000, 'refusal');
    expect(await gate(key)).toBe(202);
    expect(await refusals(key)).toEqual([['U0ALICE', 'self_approval']]);
  });

  it('when the author is known only by an email that is on Bob’s Slack profile, then Bob cannot sign it off (users.info)', async () => {
    const key = await register({ ...SENSITIVE, author: { github: 'bob-side-account', email: 'bob.private@EXAMPLE.net' } });
    const card = await waitForCard(slack, PAY, key);
    await press(h, card, 'Approve', 'U0BOB');
    await waitFor(() => lastResponseTo('U0BOB')?.text?.includes('you are the author'), 5_000, 'refusal');
    expect(slack.callsTo('users.info').map((c) => c.args.user)).toContain('U0BOB');
    expect(await gate(key)).toBe(202);
    // Alice, whose profile email differs, signs it off.
    await press(h, card, 'Approve', 'U0ALICE');
    await waitFor(async () => (await gate(key)) === 200, 5_000, 'gate opens');
  });

  it('when the Slack profile cannot be read, then the sign-off is refused (fail closed) and can be retried', async () => {
    const key = await register({ ...SENSITIVE, author: { github: 'outsider', email: 'outsider@example.org' } });
    const card = await waitForCard(slack, PAY, key);
    slack.failNext(1, { status: 500 }, { method: 'users.info' });
    await press(h, card, 'Approve', 'U0GRACE');
    await waitFor(() => lastResponseTo('U0GRACE')?.text?.includes('could not check that you are not the author'), 5_000, 'refusal');
    expect(await gate(key)).toBe(202);
    expect(await refusals(key)).toEqual([['U0GRACE', 'identity_unverified']]);
    await press(h, card, 'Approve', 'U0GRACE');
    await waitFor(async () => (await gate(key)) === 200, 5_000, 'gate opens on retry');
  });

  it('when a card rendered for another review round is clicked, then the refusal is audited as stale_card', async () => {
    const key = await register(SENSITIVE);
    const card = await waitForCard(slack, PAY, key);
    const approve = buttonsOf(card).find((b) => b.text === 'Approve')!;
    const outdated = JSON.stringify({ ...JSON.parse(approve.value), round: 2 });
    await slack.sendAction(h.events, { user_id: 'U0ALICE', channel_id: PAY, message_ts: card.ts, action: { action_id: approve.action_id, block_id: approve.block_id, value: outdated } });
    await waitFor(async () => (await refusals(key)).length === 1, 5_000, 'refusal audited');
    expect(await refusals(key)).toEqual([['U0ALICE', 'stale_card']]);
  });
});

describe('/change digest', () => {
  const digest = async (user: string, channel: string) => {
    const res = await slack.sendCommand(h.events, { command: '/change', text: 'digest', user_id: user, channel_id: channel });
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as { text: string; blocks?: unknown[] };
  };

  it('when someone asks outside a card channel, or is not a senior of it, then the digest is shown to them alone; a senior in the channel posts it', async () => {
    const key = await register({ title: 'Secret <!channel> plan' });
    await waitForCard(slack, PAY, key);
    for (const [user, channel] of [['U0JUNIOR', PAY], ['U0ALICE', 'C0RANDOM'], ['U0CAROL', PAY]]) {
      const answer = await digest(user, channel);
      expect(answer.text).toContain('1 change(s) waiting for sign-off');
      expect(JSON.stringify(answer.blocks)).toContain('Only you can see this');
    }
    await new Promise((r) => setTimeout(r, 300));
    const posted = () => slack.messagesIn(PAY).concat(slack.messagesIn('C0RANDOM')).filter((m) => JSON.stringify(m.blocks ?? []).includes('waiting for sign-off'));
    expect(posted()).toHaveLength(0);
    expect((await digest('U0ALICE', PAY)).text).toContain('Posting the digest here');
    await waitFor(() => posted().length === 1, 5_000, 'digest posted');
    expect(JSON.stringify(posted()[0].blocks)).toContain('Secret &lt;!channel&gt; plan');
  });
});

describe('request signatures', () => {
  it('when a request is signed with a timestamp more than 5 minutes in the future, then 401; one a minute ahead (clock skew) passes', async () => {
    const send = async (offsetS: number) => {
      const body = new URLSearchParams({ command: '/change', text: 'help', user_id: 'U0ALICE', channel_id: PAY, team_id: 'T0SANDBOX' }).toString();
      const ts = Math.floor(Date.now() / 1000) + offsetS;
      const res = await fetch(h.events, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(slack.signingSecret, ts, body) }, body });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await send(10 * 60)).toBe(401);
    expect(await send(60)).toBe(200);
  });
});
