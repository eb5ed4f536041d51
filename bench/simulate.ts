// Policy simulation: POST /api/policy/simulate over 100,000 changes registered in the last 30 days
// (goal ≤ 3 s). On PGlite by default, like `npm start`; BENCH_SIMULATE_DB=postgres (or both) runs it
// on a fresh database on real Postgres too.
import { sql } from 'drizzle-orm';
import { stringify } from 'yaml';
import { openPglite, openPostgres, type Database } from '../src/db/client.ts';
import { createLogger } from '../src/logger.ts';
import { start } from '../src/main.ts';
import { buildConfigFromFile } from './config.ts';
import { freshDatabase, median, type Figure } from './lib.ts';

const TOTAL = 100_000;
const RUNS = 5;
const TOKEN = 'bench-token-123456';

const ENGINEERS = [
  ['jdoe', 'U0JUNIOR', 'junior'],
  ['mia-k', 'U0MIA', 'mid'],
  ['alice', 'U0ALICE', 'senior'],
  ['bobr', 'U0BOB', 'senior'],
  ['carol', 'U0CAROL', 'principal'],
  ['dave', 'U0DAVE', 'senior'],
  ['erin', 'U0ERIN', 'senior'],
].map(([github, slack, level]) => `'${JSON.stringify({ github, slack_id: slack, email: `${github}@example.com`, level, bot: false })}'::jsonb`);

/**
 * 100k changes over the last ~29 days in one INSERT … SELECT, oldest first as intake writes them: the shipped config's services, teams
 * and engineers, a third AI-assisted, diffs of three paths (every ninth touches auth), every fiftieth
 * with a plan that destroys a resource, one in twenty still pending, the rest decided within 4 hours,
 * each assigned to a senior of its team.
 */
async function seed(database: Database, now: Date): Promise<void> {
  const at = `'${now.toISOString()}'::timestamptz`;
  await database.rows(sql.raw(`
    insert into changes (source, external_id, title, services, environment, team, author, author_slack_id, ai, ai_assisted, labels, diff, infra,
      risk_level, risk_reasons, approvals_required, status, submitted_by, created_at, round_started_at, updated_at, decided_at, assigned_to, assigned_at)
    select 'bench', 'sim-' || g, 'Simulated change ' || g,
      array[(array['checkout','payments-api','checkout-db','infra','search-api'])[1 + g % 5]],
      case when g % 10 = 0 then 'staging' else 'production' end,
      (array['payments','payments','platform','platform','search'])[1 + g % 5],
      (array[${ENGINEERS.join(',')}])[1 + g % 7], (array['U0JUNIOR','U0MIA','U0ALICE','U0BOB','U0CAROL','U0DAVE','U0ERIN'])[1 + g % 7],
      case when g % 3 = 0 then '{"assisted":true,"tool":"Copilot","share":null,"reasons":["declared"]}'::jsonb else '{"assisted":false,"tool":null,"share":null,"reasons":[]}'::jsonb end,
      g % 3 = 0, '[]'::jsonb,
      jsonb_build_object('files_changed', 3, 'additions', g % 1500, 'deletions', g % 70, 'paths',
        jsonb_build_array('src/module' || (g % 500) || '/file' || (g % 37) || '.ts', case when g % 9 = 0 then 'src/auth/session' || (g % 11) || '.ts' else 'test/module' || (g % 500) || '.test.ts' end, 'docs/module' || (g % 300) || '.md')),
      case when g % 50 = 0 then '{"format_version":"1.2","creates":1,"updates":0,"deletes":1,"replaces":0,"destroys":1,"destroyed":[{"address":"aws_instance.web","action":"delete","reason":null}]}'::jsonb end,
      'high', '[]'::jsonb, 1,
      case when g % 20 = 0 then 'pending'::change_status else 'approved'::change_status end, 'bench',
      ${at} - (${TOTAL} - g) * interval '25 seconds', ${at} - (${TOTAL} - g) * interval '25 seconds', ${at},
      case when g % 20 = 0 then null else ${at} - (${TOTAL} - g) * interval '25 seconds' + (g % 240) * interval '1 minute' end,
      (array['U0ALICE','U0BOB','U0CAROL','U0DAVE','U0ERIN'])[1 + g % 5], ${at} - (${TOTAL} - g) * interval '25 seconds'
    from generate_series(1, ${TOTAL}) g`));
  await database.rows(sql`analyze changes`);
}

/** The shipped config with a stricter policy: every production change is medium, 1,000 lines is high, high needs two. */
function candidateText(): string {
  const c = buildConfigFromFile();
  const { resolved: _, ...written } = c;
  written.policy = {
    rules: [...c.policy.rules, { name: 'any-production-change', description: 'anything going to production', when: { environment: ['production'] }, level: 'medium' }, { name: 'very-large-change', description: '1,000 lines or more', when: { lines_changed_at_least: 1000 }, level: 'high' }],
    approvals: { low: 0, medium: 1, high: 2, critical: 2 },
  };
  written.review = { ...c.review, max_assigned_per_day: 40 };
  return stringify(written);
}

async function measure(kind: 'pglite' | 'postgres'): Promise<Figure> {
  const fresh = kind === 'postgres' ? await freshDatabase('simulate') : null;
  const database = fresh ? openPostgres(fresh.url) : await openPglite(null);
  const app = await start({
    env: { COUNTERSIGN_API_TOKENS: `bench:${TOKEN}`, HOST: '127.0.0.1', LOG_LEVEL: 'silent', COUNTERSIGN_SANDBOX: 'off' },
    config: buildConfigFromFile(),
    database,
    logger: createLogger('silent', { pretty: false }),
    port: 0,
    scheduler: false,
  });
  try {
    const t0 = performance.now();
    await seed(database, new Date());
    const seedSeconds = (performance.now() - t0) / 1000;
    const body = JSON.stringify({ config: candidateText(), days: 30 });
    const times: number[] = [];
    let answer: { changes: number; changed_total: number; candidate: { needing_sign_off: number } } | null = null;
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      const res = await fetch(`${app.url}/api/policy/simulate`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
      answer = (await res.json()) as typeof answer;
      times.push(performance.now() - s);
      if (res.status !== 200) throw new Error(`simulate answered ${res.status}: ${JSON.stringify(answer)}`);
    }
    const med = median(times);
    return {
      figure: `policy simulation, POST /api/policy/simulate over ${TOTAL / 1000}k changes in 30 days (${kind === 'pglite' ? 'PGlite' : 'Postgres'})`,
      value: `median ${(med / 1000).toFixed(2)} s, first ${(times[0] / 1000).toFixed(2)} s (${answer!.changes} changes, ${answer!.changed_total} changed)`,
      baseline: '—',
      goal: '≤ 3 s',
      met: med <= 3000,
      detail: { ms: times.map((t) => Math.round(t)), seed_seconds: Number(seedSeconds.toFixed(1)), needing_sign_off_candidate: answer!.candidate.needing_sign_off },
    };
  } finally {
    await app.stop();
    await database.close();
    await fresh?.drop();
  }
}

export async function benchSimulate(): Promise<Figure[]> {
  const which = process.env.BENCH_SIMULATE_DB ?? 'pglite';
  const kinds = which === 'both' ? (['pglite', 'postgres'] as const) : which === 'postgres' ? (['postgres'] as const) : (['pglite'] as const);
  const figures: Figure[] = [];
  for (const kind of kinds) figures.push(await measure(kind));
  return figures;
}
