// `npm run bench`: prints a table of figures with their baselines and goals, and writes bench/results.json.
// Needs real Postgres: BENCH_DATABASE_URL (or DATABASE_URL), default postgres://postgres@127.0.0.1:5432/postgres
// (`simulate` runs on PGlite unless BENCH_SIMULATE_DB=postgres or both).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchClickAck } from './click-ack.ts';
import { benchSweep } from './sweep.ts';
import { benchIntake } from './intake.ts';
import { benchSuspects } from './suspects.ts';
import { benchOutboxDrain } from './outbox-drain.ts';
import { benchPaths } from './paths.ts';
import { benchRss } from './rss.ts';
import { benchSimulate } from './simulate.ts';
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
  ['simulate', benchSimulate],
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
// A partial run (`npm run bench simulate`) replaces its own figures (by name) and keeps the others'.
const resultsFile = new URL('./results.json', import.meta.url);
const kept: Figure[] = only.length && existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { figures: Figure[] }).figures : [];
const fresh = new Map(figures.map((f) => [f.figure, f]));
const merged = [...kept.map((f) => fresh.get(f.figure) ?? f), ...figures.filter((f) => !kept.some((k) => k.figure === f.figure))];
writeFileSync(resultsFile, JSON.stringify({ machine, figures: merged }, null, 2));
process.exit(0);
