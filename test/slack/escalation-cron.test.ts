import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/client.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, onRealPostgres } from '../support/db.ts';
import { buttonsOf, cardsFor, startSlackHarness, textOf, waitFor, type SlackHarness, workspaceUsers } from '../support/slack.ts';

// Two replicas on one Postgres, the real node-cron schedule at a one-second cadence, real time.
describe.runIf(onRealPostgres())('escalation with the real schedule and two replicas', () => {
  const config = buildConfig({ escalation: { schedule: '* * * * * *', remind_after: '2s', escalate_after: '5s', expire_after: '9s' } });
  let slack: SlackStandin;
  let db: Database & { url?: string };
  let second: Database;
  let a: SlackHarness;
  let b: SlackHarness;

  beforeAll(async () => {
    slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: [] }, users: workspaceUsers() });
    db = await createTestDatabase();
    second = openPostgres(db.url!);
    a = await startSlackHarness({ database: db, slack, config, scheduler: true });
    b = await startSlackHarness({ database: second, slack, config, scheduler: true });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await slack?.stop();
  });

  it('when a request is ignored, then exactly one reminder, one escalation post and one expiry happen', async () => {
    const res = await a.app.api('POST', '/api/changes', buildChangeInput());
    const key = res.body.key as string;
    const card = await waitFor(() => cardsFor(slack, 'C0PAYSEN', key)[0], 8_000, 'card');
    await waitFor(async () => (await b.app.api('GET', `/api/changes/${key}/gate`)).status === 403, 20_000, 'expired');
    // Let both replicas tick a few more times and flush their outboxes.
    await new Promise((r) => setTimeout(r, 2_500));
    await waitFor(async () => (await a.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'outbox drained');

    const replies = slack.threadOf('C0PAYSEN', card.ts).filter((m) => m.thread_ts);
    expect(replies.filter((m) => m.text.includes(':bell:'))).toHaveLength(1);
    expect(slack.messagesIn('C0ESCALATE').filter((m) => textOf(m).includes(key))).toHaveLength(1);
    expect(cardsFor(slack, 'C0PAYSEN', key)).toHaveLength(1);
    const final = slack.messagesIn('C0PAYSEN').find((m) => m.ts === card.ts)!;
    expect(buttonsOf(final)).toHaveLength(0);
    expect(textOf(final)).toContain('Expired');
    expect(slack.dmsTo('U0JUNIOR').filter((m) => m.text.includes('expired'))).toHaveLength(1);
    const history = (await a.app.api('GET', `/api/changes/${key}`)).body.history as { action: string; to?: number }[];
    expect(history.filter((e) => e.action === 'escalation_step').map((e) => e.to)).toEqual([1, 2, 3]);
  }, 40_000);
});
