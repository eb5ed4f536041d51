import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { buildChangeInput } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase, onRealPostgres } from '../support/db.ts';
import { callApi, spawnApp, writeConfigFile } from '../support/processes.ts';
import { buttonsOf, cardsFor, press, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness, workspaceUsers } from '../support/slack.ts';

describe('slow Slack', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness({ database: await createTestDatabase() });
  });
  afterAll(() => h?.stop());

  it('when every Slack call takes 5 s, then clicks and commands are still acked within 3 s, and the work completes later', async () => {
    const key = (await h.app.api('POST', '/api/changes', buildChangeInput())).body.key as string;
    const card = structuredClone(await waitForCard(h.slack, 'C0PAYSEN', key));
    h.slack.setLatency(5_000);
    try {
      let t = Date.now();
      const click = await press(h, card, 'Approve', 'U0ALICE');
      expect(click.status).toBe(200);
      expect(Date.now() - t).toBeLessThan(3_000);

      t = Date.now();
      const reject = await press(h, card, 'Reject', 'U0BOB');
      expect(reject.status).toBe(200);
      expect(Date.now() - t).toBeLessThan(3_000);

      t = Date.now();
      const list = await h.slack.sendCommand(h.events, { command: '/change', text: 'list', user_id: 'U0ALICE', channel_id: 'C0PAYSEN' });
      expect(list.status).toBe(200);
      expect(Date.now() - t).toBeLessThan(3_000);

      await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}/gate`)).status === 200, 10_000, 'sign-off applied');
      await waitFor(() => textOf(h.slack.messagesIn('C0PAYSEN').find((m) => m.ts === card.ts)!).includes('Approved by'), 25_000, 'card updated through slow Slack');
    } finally {
      h.slack.setLatency(0);
    }
  }, 60_000);
});

describe.runIf(onRealPostgres())('kill -9 during a sign-off', () => {
  let slack: SlackStandin;
  let db: Database & { url?: string };
  beforeAll(async () => {
    slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: [] }, users: workspaceUsers() });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
    await slack?.stop();
  });

  /** Registers `n` changes in a fresh process, presses `label` on each card as `user`, and kills the process right after the acks. */
  async function clickThenKill(n: number, label: string, user: string): Promise<{ env: Record<string, string>; keys: string[] }> {
    const env = { DATABASE_URL: db.url!, COUNTERSIGN_CONFIG: writeConfigFile(), SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl };
    const first = await spawnApp(env);
    onTestFinished(() => first.kill('SIGKILL'));
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push((await callApi(first.url, 'POST', '/api/changes', buildChangeInput({ external_id: `${label}-${i}` }))).body.key);
    await waitFor(() => keys.every((k) => cardsFor(slack, 'C0PAYSEN', k).length === 1), 45_000, 'cards');
    // Slack's answers to the clicker are slow, so the process is still busy when it dies.
    slack.setLatency(2_000);
    const acks = await Promise.all(
      keys.map((k) => {
        const card = cardsFor(slack, 'C0PAYSEN', k)[0];
        const b = buttonsOf(card).find((x) => x.text === label)!;
        return slack.sendAction(`${first.url}/slack/events`, { user_id: user, channel_id: 'C0PAYSEN', message_ts: card.ts, action: { action_id: b.action_id, block_id: b.block_id, value: b.value } });
      }),
    );
    expect(acks.every((a) => a.status === 200)).toBe(true);
    await first.kill('SIGKILL');
    slack.setLatency(0);
    return { env, keys };
  }

  it('when the process dies right after acking Approve clicks, then after restart every acked sign-off is there and every card is right', async () => {
    const { env, keys } = await clickThenKill(8, 'Approve', 'U0ALICE');
    const second = await spawnApp(env);
    try {
      for (const k of keys) await waitFor(async () => (await callApi(second.url, 'GET', `/api/changes/${k}/gate`)).status === 200, 45_000, `${k} approved after restart`);
      for (const k of keys) {
        const detail = (await callApi(second.url, 'GET', `/api/changes/${k}`)).body;
        expect(detail.approvals.map((a: { reviewer: string }) => a.reviewer)).toEqual(['U0ALICE']);
      }
      await waitFor(() => keys.every((k) => textOf(cardsFor(slack, 'C0PAYSEN', k)[0]).includes('Approved by')), 45_000, 'cards right');
      for (const k of keys) expect(cardsFor(slack, 'C0PAYSEN', k)).toHaveLength(1);
    } finally {
      await second.kill('SIGTERM');
    }
  }, 180_000);

  it('when the process dies right after acking Claim clicks, then after restart every acked claim is there', async () => {
    const { env, keys } = await clickThenKill(4, 'Claim review', 'U0BOB');
    const second = await spawnApp(env);
    try {
      for (const k of keys) await waitFor(async () => (await callApi(second.url, 'GET', `/api/changes/${k}`)).body.escalation.claimed_by === 'U0BOB', 45_000, `${k} claimed after restart`);
    } finally {
      await second.kill('SIGTERM');
    }
  }, 180_000);
});
