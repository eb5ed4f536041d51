import postgres from 'postgres';
import { buildConfigFromFile } from './config.ts';
import { openPostgres } from '../src/db/client.ts';
import { createLogger } from '../src/logger.ts';
import { slackNotifier } from '../src/slack/notifier.ts';
import { configReviewers, silentIncidentNotifier, silentObserver, type Deps } from '../src/use-cases/ports.ts';
import { escalateStaleRequests } from '../src/use-cases/escalate-stale-requests.ts';
import { freshDatabase, median, type Figure } from './lib.ts';
import { seedChanges } from './seed.ts';

const TOTAL = 1_000_000;
const PENDING = 100_000;
const DUE = 50;
const ROUNDS = 5;

/** Escalation sweep time with 100k pending and 1M total changes, of which a few are due. */
export async function benchSweep(): Promise<Figure> {
  const db = await freshDatabase('sweep');
  const database = openPostgres(db.url);
  try {
    await database.migrate();
    const now = new Date();
    await seedChanges(db.url, { total: TOTAL, pending: PENDING, now });
    const raw = postgres(db.url, { max: 1, onnotice: () => {} });
    const config = buildConfigFromFile();
    const deps: Deps = { database, config, clock: { now: () => now }, reviewers: configReviewers(config), notifier: slackNotifier(config), incidents: silentIncidentNotifier, logger: createLogger('silent', { pretty: false }), observe: silentObserver };
    const times: number[] = [];
    let steps = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // Make DUE pending changes 31 minutes old and not yet reminded: exactly what a tick finds.
      // Escalation counts from the review round's start (round_started_at).
      await raw.unsafe(`update changes set created_at = $1::timestamptz - interval '31 minutes', round_started_at = $1::timestamptz - interval '31 minutes', escalation_step = 0 where id in (select id from changes where status = 'pending' order by id limit ${DUE} offset ${r * DUE})`, [now.toISOString()]);
      const t0 = performance.now();
      const res = await escalateStaleRequests(deps);
      times.push(performance.now() - t0);
      steps += res.reminded;
    }
    const part = (step: number, ago: string) => `(select id, round_started_at from changes where status = 'pending' and escalation_step = ${step} and round_started_at <= now() - interval '${ago}' order by round_started_at limit 500)`;
    const plan = await raw.unsafe(`explain analyze select id from (${part(0, '30 minutes')} union all ${part(1, '2 hours')} union all ${part(2, '72 hours')}) d order by round_started_at, id limit 500`);
    await raw.end();
    const med = median(times);
    // A sweep that found nothing due measured nothing: say so rather than report a fast empty query.
    if (steps !== ROUNDS * DUE) throw new Error(`the sweep benchmark reminded ${steps} changes, expected ${ROUNDS * DUE}: the seeded data no longer makes them due`);
    return {
      figure: `escalation sweep, ${PENDING / 1000}k pending / ${TOTAL / 1e6}M total, ${DUE} due`,
      value: `median ${med.toFixed(1)} ms per sweep (${steps} reminders in ${ROUNDS} sweeps)`,
      baseline: '—',
      goal: '≤ 200 ms',
      met: med <= 200,
      detail: { sweep_ms: times.map((t) => Number(t.toFixed(1))), query_plan: plan.map((p) => Object.values(p)[0]).slice(0, 8) },
    };
  } finally {
    await database.close();
    await db.drop();
  }
}
