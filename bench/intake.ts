import { SlackStandin } from '../src/sandbox/slack-standin.ts';
import { buildChangeInput } from '../test/factories/change.ts';
import { freshDatabase, median, percentile, runConcurrent, type Figure } from './lib.ts';
import { spawnServer } from './spawn.ts';

const CONCURRENCY = 16;
const REQUESTS = 3_000;
const ROUNDS = 3;

/** The same realistic change the tests use (an AI-assisted change by a junior), with a unique external id. */
const body = (i: number, round: string) => buildChangeInput({ source: 'bench', external_id: `${round}-${i}`, title: `Bench change ${i}`, description: undefined, url: undefined });

async function measure(url: string, path: string, round: string, headers: Record<string, string>) {
  return runConcurrent(REQUESTS, CONCURRENCY, async (i) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body(i, round)) });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`intake answered ${res.status}`);
  });
}

/** Intake throughput and p99 at 16 concurrent, side by side with a thin node:http + postgres.js service, same database. */
export async function benchIntake(): Promise<Figure[]> {
  const db = await freshDatabase('intake');
  const slack = new SlackStandin();
  await slack.start();
  const app = await spawnServer({ DATABASE_URL: db.url, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl, COUNTERSIGN_API_TOKENS: 'bench:bench-token-1' });
  const thin = await spawnServer({ DATABASE_URL: db.url }, 'bench/thin-service.ts');
  try {
    const idleRss = app.rssMb();
    await measure(app.url, '/api/changes', 'warm', { authorization: 'Bearer bench-token-1' });
    await measure(thin.url, '/', 'warm', {});
    const ours: { rps: number; p99: number }[] = [];
    const base: { rps: number; p99: number }[] = [];
    let loadRss = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const a = await measure(app.url, '/api/changes', `r${r}`, { authorization: 'Bearer bench-token-1' });
      loadRss = Math.max(loadRss, app.rssMb());
      ours.push({ rps: REQUESTS / a.seconds, p99: percentile(a.latencies, 99) });
      const b = await measure(thin.url, '/', `r${r}`, {});
      base.push({ rps: REQUESTS / b.seconds, p99: percentile(b.latencies, 99) });
    }
    const oursRps = median(ours.map((x) => x.rps));
    const baseRps = median(base.map((x) => x.rps));
    const ratio = oursRps / baseRps;
    return [
      {
        figure: `intake throughput, ${CONCURRENCY} concurrent POST /api/changes`,
        value: `${Math.round(oursRps)}/s, p99 ${median(ours.map((x) => x.p99)).toFixed(1)} ms (${ratio.toFixed(2)}× the thin service)`,
        baseline: `thin node:http + postgres.js, one INSERT: ${Math.round(baseRps)}/s, p99 ${median(base.map((x) => x.p99)).toFixed(1)} ms`,
        goal: '≥ 0.8× the thin service',
        met: ratio >= 0.8,
        detail: { ours, thin: base, requests_per_round: REQUESTS, rounds: ROUNDS },
      },
      { figure: 'RSS of the server process', value: `idle ${idleRss} MB, under intake load ${loadRss} MB`, baseline: '—', goal: '—', met: null },
    ];
  } finally {
    await app.stop();
    await thin.stop();
    await slack.stop();
    await db.drop();
  }
}
