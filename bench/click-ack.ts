import { signSlackRequest } from '../src/sandbox/slack-signing.ts';
import { SlackStandin } from '../src/sandbox/slack-standin.ts';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { spawnServer } from './spawn.ts';
import { freshDatabase, median, percentile, runConcurrent, type Figure } from './lib.ts';

const CONCURRENCY = 8;
const CLICKS = 1_500;
const ROUNDS = 3;

/**
 * Sign-off click ack latency: signed `block_actions` Approve clicks against the real app on real
 * Postgres, 8 at a time. Each click records a sign-off (row lock, insert, audit, outbox) before the ack.
 */
export async function benchClickAck(): Promise<Figure> {
  const db = await freshDatabase('click');
  const slack = new SlackStandin();
  await slack.start();
  // The server runs in its own process, as in production, so the load generator does not share its event loop.
  const app = await spawnServer({ DATABASE_URL: db.url, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl, COUNTERSIGN_API_TOKENS: 'bench:bench-token-1' });
  try {
    // Critical changes (2 sign-offs each), so every measured click records and none decides.
    const keys: string[] = [];
    const plan = JSON.parse(readFileSync(new URL('../test/fixtures/plan-destructive.json', import.meta.url), 'utf8'));
    for (let i = 0; i < CLICKS * ROUNDS; i++) {
      const res = await fetch(`${app.url}/api/changes`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-token-1', 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'bench', external_id: `c-${i}`, title: `Bench change ${i}`, service: 'checkout', environment: 'production', author: { github: 'jdoe' }, ai_assisted: true, terraform_plan: plan }),
      });
      keys.push(((await res.json()) as { key: string }).key);
    }
    const responseUrl = slack.createResponseUrl({ channel: 'C0PAYSEN', user: 'U0ALICE' });
    const click = async (key: string) => {
      const payload = {
        type: 'block_actions',
        user: { id: 'U0ALICE', username: 'alice', team_id: 'T0SANDBOX' },
        api_app_id: 'A0SANDBOX',
        token: 'x',
        team: { id: 'T0SANDBOX', domain: 'sandbox' },
        channel: { id: 'C0PAYSEN', name: 'payments-seniors' },
        container: { type: 'message', message_ts: '1.1', channel_id: 'C0PAYSEN' },
        trigger_id: '1.2.3',
        response_url: responseUrl,
        actions: [{ type: 'button', action_id: 'change_approve', block_id: 'change_card_actions', value: JSON.stringify({ key, round: 1 }), action_ts: '1.1' }],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(`${app.url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(slack.signingSecret, ts, body) },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`click answered ${res.status}`);
    };
    // Warm up, then measure rounds and take medians.
    await runConcurrent(100, CONCURRENCY, (i) => click(keys[i]));
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const offset = 100 + r * ((keys.length - 100) / ROUNDS);
      const { latencies } = await runConcurrent(Math.floor((keys.length - 100) / ROUNDS), CONCURRENCY, (i) => click(keys[Math.floor(offset) + i]));
      p50s.push(percentile(latencies, 50));
      p99s.push(percentile(latencies, 99));
    }
    // Clicks are acked after their durable receipt; report how soon the last sign-off was applied.
    const pg = postgres(db.url, { max: 1, onnotice: () => {} });
    const t0 = performance.now();
    while ((await pg<{ n: number }[]>`select count(*)::int as n from slack_inbox where processed_at is null`)[0].n > 0) await new Promise((r) => setTimeout(r, 50));
    const applySeconds = (performance.now() - t0) / 1000;
    const [{ n: signOffs }] = await pg<{ n: number }[]>`select count(*)::int as n from sign_offs`;
    await pg.end();
    const p99 = median(p99s);
    return {
      figure: `sign-off click ack latency, ${CONCURRENCY} concurrent`,
      value: `p50 ${median(p50s).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
      baseline: '—',
      goal: 'p99 ≤ 30 ms',
      met: p99 <= 30,
      detail: { p50_ms: p50s, p99_ms: p99s, rounds: ROUNDS, sign_offs_recorded: signOffs, backlog_applied_within_s_after_last_click: Number(applySeconds.toFixed(2)) },
    };
  } finally {
    await app.stop();
    await slack.stop();
    await db.drop();
  }
}
