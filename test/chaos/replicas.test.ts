import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, onRealPostgres } from '../support/db.ts';
import { callApi, spawnApp, writeConfigFile, type AppProcess } from '../support/processes.ts';
import { buttonsOf, cardsFor, textOf, waitFor, workspaceUsers } from '../support/slack.ts';

// Three app processes on one Postgres behave as one: cards once, escalation steps once, right final states.
describe.runIf(onRealPostgres())('three replicas on one Postgres', () => {
  let slack: SlackStandin;
  let db: Database & { url?: string };
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: [] }, users: workspaceUsers() });
    db = await createTestDatabase();
    const config = writeConfigFile({ escalation: { schedule: '* * * * * *', remind_after: '3s', escalate_after: '6s', expire_after: '10s' } });
    const env = { DATABASE_URL: db.url!, COUNTERSIGN_CONFIG: config, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl };
    apps.push(...(await Promise.all([spawnApp(env), spawnApp(env), spawnApp(env)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.kill('SIGTERM')));
    await db?.close();
    await slack?.stop();
  });

  it('when intake, clicks and a burst of stale changes hit all three, then every card and every escalation step happens exactly once', async () => {
    // Intake: 30 changes, round-robin over the replicas, half of them needing 2 sign-offs.
    const keys: { key: string; critical: boolean }[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const critical = i % 2 === 0;
        const res = await callApi(apps[i % 3].url, 'POST', '/api/changes', buildChangeInput({ external_id: `r-${i}`, title: `Replica change ${i}`, ...(critical && { terraform_plan: loadPlan('plan-destructive') }) }));
        expect(res.status).toBe(201);
        keys.push({ key: res.body.key, critical });
      }),
    );
    await waitFor(() => keys.every(({ key }) => cardsFor(slack, 'C0PAYSEN', key).length >= 1), 30_000, 'all cards');

    // Clicks: the first 10 changes get every approval they need, each click sent to a different replica.
    const approved = keys.slice(0, 10);
    await Promise.all(
      approved.flatMap(({ key, critical }, i) => {
        const card = cardsFor(slack, 'C0PAYSEN', key)[0];
        const approve = buttonsOf(card).find((b) => b.text === 'Approve')!;
        const seniors = critical ? ['U0ALICE', 'U0BOB'] : ['U0ALICE'];
        return seniors.map((user, j) =>
          slack.sendAction(`${apps[(i + j) % 3].url}/slack/events`, { user_id: user, channel_id: 'C0PAYSEN', message_ts: card.ts, action: { action_id: approve.action_id, block_id: approve.block_id, value: approve.value } }),
        );
      }),
    );
    for (const { key } of approved) await waitFor(async () => (await callApi(apps[0].url, 'GET', `/api/changes/${key}/gate`)).status === 200, 15_000, `${key} approved`);

    // The other 20 go stale: the one-second sweeps on all three replicas remind, escalate and expire them.
    const stale = keys.slice(10);
    for (const { key } of stale) await waitFor(async () => (await callApi(apps[1].url, 'GET', `/api/changes/${key}/gate`)).status === 403, 30_000, `${key} expired`);
    await new Promise((r) => setTimeout(r, 3_000));
    await waitFor(async () => (await callApi(apps[2].url, 'GET', '/api/outbox/stats')).body.pending === 0, 20_000, 'outbox drained');

    for (const { key } of keys) expect(cardsFor(slack, 'C0PAYSEN', key), `one card for ${key}`).toHaveLength(1);
    for (const { key } of approved) {
      const card = cardsFor(slack, 'C0PAYSEN', key)[0];
      expect(textOf(card)).toContain('Approved by');
      expect(buttonsOf(card)).toHaveLength(0);
    }
    for (const { key } of stale) {
      const card = cardsFor(slack, 'C0PAYSEN', key)[0];
      const reminders = slack.threadOf('C0PAYSEN', card.ts).filter((m) => m.thread_ts && m.text.includes(':bell:'));
      expect(reminders, `one reminder for ${key}`).toHaveLength(1);
      expect(slack.messagesIn('C0ESCALATE').filter((m) => textOf(m).includes(`*${key}*`)), `one escalation for ${key}`).toHaveLength(1);
      expect(textOf(card)).toContain('Expired');
    }
    const [steps] = await db.rows<{ dup: number }>(sql`select count(*)::int as dup from (select change_id, data->>'to' from audit_events where action = 'escalation_step' group by 1, 2 having count(*) > 1) d`);
    expect(steps.dup).toBe(0);
    const [delivered] = await db.rows<{ dup: number }>(sql`select count(*)::int as dup from (select ref from slack_messages group by ref having count(*) > 1) d`);
    expect(delivered.dup).toBe(0);
  }, 120_000);
});
