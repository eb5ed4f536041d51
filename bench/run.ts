// `npm run bench`: prints a table of figures with their baselines and goals, and writes bench/results.json.
// Needs real Postgres: BENCH_DATABASE_URL (or DATABASE_URL), default postgres://postgres@127.0.0.1:5432/postgres.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchClickAck } from './click-ack.ts';
import { benchSweep } from './sweep.ts';
import { benchIntake } from './intake.ts';
import { benchSuspects } from './suspects.ts';
import { benchOutboxDrain } from './outbox-drain.ts';
import { benchPaths } from './paths.ts';
import { benchRss } from './rss.ts';
import type { Figure } from './lib.ts';

const only = process.argv.slice(2);
const benches: [string, () => Promise<Figure | Figure[]>][] = [
  ['intake', benchIntake],
  ['click', benchClickAck],
  ['sweep', benchSweep],
  ['suspects', benchSuspects],
  ['outbox', benchOutboxDrain],
  ['paths', benchPaths],
  ['rss', benchRss],
];

const figures: Figure[] = [];
for (const [name, run] of benches) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  figures.push(...[await run()].flat());
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, at: new Date().toISOString() };
const rows = figures.map((f) => `| ${f.figure} | ${f.value} | ${f.baseline} | ${f.goal} | ${f.met === null ? '—' : f.met ? 'met' : 'NOT met'} |`);
process.stdout.write(['| figure | measured | baseline (same run) | goal | |', '|---|---|---|---|---|', ...rows].join('\n') + `\n\nmachine: ${machine.cpus} cores (${machine.cpu}), ${machine.memory_gb} GB, Node ${machine.node}\n`);
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ machine, figures }, null, 2));
process.exit(0);
