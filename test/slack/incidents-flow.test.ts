import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { StoredMessage } from '../fakes/fake-slack.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildIncidentInput } from '../factories/incident.ts';
import { fakeClock } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import { buttonsOf, press, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

let h: SlackHarness;
let db: Database;
const T0 = new Date('2026-11-02T10:00:00Z');
const clock = fakeClock(T0);
const MIN = 60_000;
const iso = (minutes: number) => new Date(T0.getTime() + minutes * MIN).toISOString();

beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db, clock });
});
afterAll(() => h?.stop());
beforeEach(async () => {
  await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');
  await truncateAll(db);
  h.slack.reset();
  clock.set(T0);
});

const PAY = 'C0PAYSEN';
const INCIDENTS = 'C0INCIDENTS';
const HOSTILE = 'Checkout <!channel> returns 500s <https://evil.example|see> & more';

const cmd = async (command: string, text: string, user = 'U0MIA', channel = INCIDENTS) => {
  const res = await h.slack.sendCommand(h.events, { command, text, user_id: user, channel_id: channel });
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { response_type: string; text: string; blocks: unknown[] };
};
const broadcasts = () => h.slack.messagesIn(INCIDENTS).filter((m) => !m.thread_ts);
const current = (ts: string) => h.slack.messagesIn(INCIDENTS).find((m) => m.ts === ts)!;
const gate = async (key: string) => (await h.app.api('GET', `/api/changes/${key}/gate`)).status;

/** A risky change, its card approved by `approver` through the button. */
async function signedChange(overrides: Record<string, unknown>, approver: string): Promise<string> {
  const res = await h.app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  const card = await waitForCard(h.slack, PAY, res.body.key);
  await press(h, card, 'Approve', approver);
  await waitFor(async () => (await gate(res.body.key)) === 200, 5_000, `${res.body.key} approved`);
  return res.body.key;
}

async function deploy(key: string, body: Record<string, unknown> = {}) {
  const res = await h.app.api('POST', `/api/changes/${key}/deployments`, { environment: 'production', ...body });
  expect(res.status).toBe(201);
  return res.body;
}

/** Two signed-off production deploys (checkout and its dependency payments-api), then `/incident declare`. */
async function declareScenario() {
  const own = await signedChange({ title: 'Retry capture <b>now</b>' }, 'U0ALICE');
  const dep = await signedChange({ title: 'Payments pool size', service: 'payments-api' }, 'U0BOB');
  await deploy(own, { deployed_at: iso(-20) });
  await deploy(dep, { deployed_at: iso(-60) });
  const reply = await cmd('/incident', `declare sev2 checkout,payments-api ${HOSTILE}`);
  const broadcast = await waitFor(() => broadcasts()[0], 8_000, 'broadcast');
  return { own, dep, reply, broadcast };
}

/** Every mrkdwn text of a message plus its top-level text: what Slack would expand. */
function mrkdwnOf(m: StoredMessage): string {
  const out: string[] = [m.text];
  JSON.stringify(m.blocks ?? [], (_k, v) => (v && v.type === 'mrkdwn' && out.push(v.text), v));
  return out.join('\n');
}

describe('declaring an incident in Slack', () => {
  it('when /incident declare runs, then one broadcast lists the suspects with their approvers, escaped, and each suspect\'s card thread is told', async () => {
    const { own, dep, reply, broadcast } = await declareScenario();
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('Declared *INC-1* (sev2)');
    expect(reply.text).toContain('Checkout &lt;!channel&gt; returns 500s');

    const text = textOf(broadcast);
    expect(text).toContain('INC-1 · Checkout <!channel> returns 500s'); // the header is plain_text: never expanded
    expect(text).toContain(':large_orange_circle: SEV2');
    expect(text).toContain('checkout, payments-api');
    expect(text).toContain('2026-11-02 10:00 UTC');
    expect(text).toContain(':red_circle: Open');
    // The key links to the suspect's card (its permalink, kept when the card was posted).
    expect(text).toMatch(new RegExp(`:mag: \\*Suspect\\* · \\*<https://sandbox\\.slack\\.com/archives/C0PAYSEN/p\\d+\\|${own}>\\* Retry capture &lt;b&gt;now&lt;/b&gt;`));
    expect(text).toContain('Signed off by <@U0ALICE>');
    expect(text).toContain('Signed off by <@U0BOB>');
    expect(text).toContain('by <@U0JUNIOR> · :robot_face: AI-assisted');
    expect(text).toContain('high risk');
    expect(text).toContain('Deployed to checkout 20 min before the incident');
    expect(text).toContain('Deployed to payments-api 1 h before the incident');
    expect(text.indexOf(own)).toBeLessThan(text.indexOf(dep));
    expect(buttonsOf(broadcast).map((b) => [b.text, JSON.parse(b.value)])).toEqual([
      ['Confirm cause', { incident: 'INC-1', change: own }],
      ['Confirm cause', { incident: 'INC-1', change: dep }],
    ]);

    const raw = mrkdwnOf(broadcast);
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<https://evil');
    expect(broadcast.text).toContain('INC-1 Checkout &lt;!channel&gt; returns 500s &lt;https://evil.example|see&gt; &amp; more');
    expect(broadcast.blocks!.length).toBeLessThanOrEqual(50);

    const ownCard = await waitForCard(h.slack, PAY, own);
    const thread = await waitFor(() => h.slack.threadOf(PAY, ownCard.ts).find((m) => m.text.startsWith(':mag:')), 5_000, 'suspect thread reply');
    expect(thread.text).toBe(':mag: Suspect in INC-1: Checkout &lt;!channel&gt; returns 500s &lt;https://evil.example|see&gt; &amp; more');
    await new Promise((r) => setTimeout(r, 300));
    expect(broadcasts()).toHaveLength(1);
  });

  it('when someone presses Confirm cause, then the broadcast is updated in place, the approvers get a DM and the card thread is told', async () => {
    const { own, broadcast } = await declareScenario();
    // A snapshot: the stored message is edited in place later, and the double click comes from the old one.
    const shown = structuredClone(broadcast);
    const res = await press(h, shown, 'Confirm cause', 'U0MIA');
    expect(res.status).toBe(200);
    const updated = await waitFor(() => {
      const m = current(broadcast.ts);
      return m.edits > 0 && textOf(m).includes('Confirmed cause') && m;
    }, 8_000, 'broadcast updated');
    expect(broadcasts()).toHaveLength(1);
    expect(textOf(updated)).toMatch(new RegExp(`:rotating_light: \\*Confirmed cause\\* · \\*<https://\\S+\\|${own}>\\* Retry capture &lt;b&gt;now&lt;/b&gt; · confirmed by <@U0MIA>`));
    expect(buttonsOf(updated)).toHaveLength(1); // the confirmed one is no longer a mere suspect
    const dm = await waitFor(() => h.slack.dmsTo('U0ALICE')[0], 5_000, 'approver DM');
    expect(dm.text).toContain(`*${own}* Retry capture &lt;b&gt;now&lt;/b&gt;, which you signed off, was confirmed as a cause of *INC-1*`);
    expect(h.slack.dmsTo('U0BOB')).toHaveLength(0);
    const card = await waitForCard(h.slack, PAY, own);
    await waitFor(() => h.slack.threadOf(PAY, card.ts).some((m) => m.text.startsWith(':rotating_light: Confirmed as a cause of INC-1')), 5_000, 'cause thread reply');
    await waitFor(() => h.slack.responses.find((r) => r.context.user === 'U0MIA' && String(r.body.text).includes(`You confirmed ${own}`)), 5_000, 'ephemeral answer');

    // A second press (a double click) changes nothing.
    await press(h, shown, 'Confirm cause', 'U0MIA');
    await waitFor(() => h.slack.responses.find((r) => String(r.body.text).includes('already confirmed')), 5_000, 'already confirmed');
    const audit = await db.rows<{ actor: string; n: number }>(sql`select actor, count(*)::int as n from audit_events where action = 'cause_confirmed' group by actor`);
    expect(audit).toEqual([{ actor: 'U0MIA', n: 1 }]);
  });

  it('when a change is deployed to an affected service after the declaration, then the broadcast shows it as a new suspect', async () => {
    const { broadcast } = await declareScenario();
    clock.advance(5 * MIN);
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput({ title: 'Late hotfix', ai_assisted: false, author: { github: 'alice' } }))).body.key;
    await deploy(key);
    const updated = await waitFor(() => {
      const m = current(broadcast.ts);
      return textOf(m).includes(`*${key}* Late hotfix`) && m;
    }, 8_000, 'late suspect');
    expect(updated.edits).toBeGreaterThan(0);
    expect(textOf(updated)).toContain('Deployed to checkout 5 min after the incident started');
    expect(broadcasts()).toHaveLength(1);
  });

  it('when the incident is resolved, then the broadcast shows it resolved with its duration', async () => {
    const { broadcast } = await declareScenario();
    clock.advance(65 * MIN);
    const reply = await cmd('/incident', 'resolve inc-1');
    expect(reply.text).toContain('Resolved *INC-1*');
    const updated = await waitFor(() => {
      const m = current(broadcast.ts);
      return textOf(m).includes('Resolved after 1 h 5 min') && m;
    }, 8_000, 'resolved broadcast');
    expect(updated.text).toContain('(resolved after 1 h 5 min)');
    expect((await cmd('/incident', 'resolve INC-1')).text).toContain('already resolved');
    expect((await cmd('/incident', 'resolve INC-42')).text).toContain('There is no incident INC-42');
  });

  it('when an alert names no service, then the broadcast says so and has no suspects', async () => {
    const res = await h.app.api('POST', '/webhooks/alertmanager', { version: '4', groupKey: 'g1', status: 'firing', receiver: 'countersign', groupLabels: {}, commonLabels: { alertname: 'DiskFull' }, commonAnnotations: {}, alerts: [] });
    expect(res.body).toEqual({ incident: 'INC-1', action: 'opened' });
    const broadcast = await waitFor(() => broadcasts()[0], 8_000, 'broadcast');
    expect(textOf(broadcast)).toContain('no service was given');
    expect(textOf(broadcast)).toContain('No suspects');
    expect(buttonsOf(broadcast)).toHaveLength(0);
  });
});

describe('ungated deployments', () => {
  it('when a pending change is deployed, then a loud alert goes to the escalation channel', async () => {
    const res = await h.app.api('POST', '/api/changes', buildChangeInput({ title: 'Sneaky <!here> deploy' }));
    const key = res.body.key;
    const d = await deploy(key);
    expect(d.ungated).toBe(true);
    const alert = await waitFor(() => h.slack.messagesIn('C0ESCALATE')[0], 8_000, 'ungated alert');
    expect(alert.text).toBe(`:rotating_light: ${key} was deployed to production without sign-off: Sneaky &lt;!here&gt; deploy`);
    const text = textOf(alert);
    expect(text).toContain('Status: *pending* (0 of 1 sign-off)');
    expect(text).toContain('Deployed by `ci` to checkout');
    expect(mrkdwnOf(alert)).not.toContain('<!here>');
  });
});

describe('commands', () => {
  it('when /incident list, link, help or nonsense run, then each gets an ephemeral answer', async () => {
    const a = (await h.app.api('POST', '/api/incidents', buildIncidentInput({ title: 'Payments <down>' }))).body.key;
    await h.app.api('POST', '/api/incidents', buildIncidentInput({ title: 'Old one' }));
    await h.app.api('POST', '/api/incidents/INC-2/resolve');
    const list = await cmd('/incident', 'list');
    expect(list.response_type).toBe('ephemeral');
    expect(textOf(list)).toContain('1 open incident');
    expect(textOf(list)).toContain(`*${a}* Payments &lt;down&gt;`);
    expect(textOf(list)).not.toContain('Old one');

    const change = (await h.app.api('POST', '/api/changes', buildChangeInput({ ai_assisted: false, author: { github: 'alice' } }))).body.key;
    const link = await cmd('/incident', `link ${a} ${change.toLowerCase()}`);
    expect(link.text).toContain(`Confirmed ${change} as a cause of ${a}`);
    expect((await h.app.api('GET', `/api/incidents/${a}`)).body.causes[0]).toMatchObject({ change, confirmed_by: 'U0MIA' });
    expect((await cmd('/incident', `link ${a} CHG-999`)).text).toContain('There is no change CHG-999');

    expect((await cmd('/incident', '')).text).toContain('/incident declare sev2');
    expect((await cmd('/incident', 'help')).text).toContain('/incident resolve INC-3');
    expect((await cmd('/incident', 'explode <!channel>')).text).toContain('did not understand `explode &lt;!channel&gt;`');
    expect((await cmd('/incident', 'declare sev2 nope Broken')).text).toContain('unknown service "nope"');
    const none = await cmd('/incident', 'declare sev3 - Something odd');
    expect(none.text).toContain('Declared *INC-3* (sev3)');
  });

  it('when /change stats runs, then the report comes back as an ephemeral message', async () => {
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput())).body.key;
    await deploy(key);
    const stats = await cmd('/change', 'stats 7');
    expect(stats.response_type).toBe('ephemeral');
    const text = textOf(stats);
    expect(text).toContain('Countersign stats: last 7 days');
    expect(text).toContain('*Changes:* 1 (low 0 · medium 0 · high 1 · critical 0) · AI-assisted 1 (100%)');
    expect(text).toContain('*Deployments:* 1 (1 to production) · ungated 1');
    expect(text).toContain('*Change failure rate:* 0% (0 of 1)');
    expect(textOf(await cmd('/change', 'stats'))).toContain('last 30 days');
    expect((await cmd('/change', 'stats 999')).text).toContain('did not understand');
  });
});
