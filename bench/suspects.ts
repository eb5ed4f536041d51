import { openPostgres } from '../src/db/client.ts';
import { suspectsFor } from '../src/use-cases/get-incident.ts';
import { buildConfigFromFile } from './config.ts';
import { freshDatabase, median, percentile, type Figure } from './lib.ts';
import { seedChanges } from './seed.ts';

const TOTAL = 1_000_000;
const DEPLOYMENTS = 100_000;
const RUNS = 30;

/** Suspect search for an incident on checkout (which depends on payments-api → checkout-db) with 1M changes and 100k deployments. */
export async function benchSuspects(): Promise<Figure> {
  const db = await freshDatabase('suspects');
  const database = openPostgres(db.url);
  try {
    await database.migrate();
    const now = new Date();
    await seedChanges(db.url, { total: TOTAL, pending: 1_000, deployments: DEPLOYMENTS, now });
    const config = buildConfigFromFile();
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < RUNS; i++) {
      // Incidents at different moments of the last 30 days, so each run reads a different window.
      const started_at = new Date(now.getTime() - (i * 23 + 5) * 3_600_000);
      const t0 = performance.now();
      const suspects = await suspectsFor(database.db, config, { services: ['checkout'], started_at });
      times.push(performance.now() - t0);
      found += suspects.length;
    }
    const med = median(times);
    return {
      figure: `suspect search, ${TOTAL / 1e6}M changes / ${DEPLOYMENTS / 1000}k deployments`,
      value: `median ${med.toFixed(1)} ms, p90 ${percentile([...times].sort((a, b) => a - b), 90).toFixed(1)} ms (${(found / RUNS).toFixed(1)} suspects on average)`,
      baseline: '—',
      goal: '≤ 50 ms',
      met: med <= 50,
      detail: { ms: times.map((t) => Number(t.toFixed(1))) },
    };
  } finally {
    await database.close();
    await db.drop();
  }
}
