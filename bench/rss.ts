// Idle memory and start-up time of the production build (`node dist/main.js`) on Postgres, next to the
// smallest app on the same stack (bench/bare-app.mjs: Bolt + postgres.js), started in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freshDatabase, median, type Figure } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RSS_RUNS ?? 3);
/** "Idle a few seconds", the figure with the goal; and once more when V8 has shrunk its young generation (~30-45 s). */
const IDLE_MS = Number(process.env.BENCH_RSS_IDLE_MS ?? 5_000);
const SETTLED_MS = Number(process.env.BENCH_RSS_SETTLED_MS ?? 60_000);
const GOAL = 1.4;

interface Running {
  readyMs: number;
  readyAt: number;
  rssMb(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (t: number) => sleep(Math.max(0, t - performance.now()));

/** Spawns `node <args>` on a fresh database and times spawn → first /readyz 200. */
async function launch(args: string[], env: Record<string, string>): Promise<Running> {
  const db = await freshDatabase('rss');
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_URL: db.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    await db.drop();
  };
  try {
    let url: string | undefined;
    while (performance.now() - t0 < 60_000) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
      url ??= /"url":"([^"]+)"/.exec(out)?.[1];
      // The port is bound before the database is opened; /readyz says when the app is ready.
      const status = url ? await fetch(`${url}/readyz`).then((r) => r.status, () => 0) : 0;
      if (status === 200) {
        const readyAt = performance.now();
        return { readyMs: readyAt - t0, readyAt, rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024, stop };
      }
      await sleep(10);
    }
    throw new Error(`${args.join(' ')}: /readyz not 200 within 60 s:\n${out}`);
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Sample {
  readyMs: number;
  rssMb: number;
  settledRssMb?: number;
}

/** Starts the build and the bare app one after the other, reads each one's RSS after IDLE_MS; with `settled`, again after SETTLED_MS. */
async function round(settled: boolean): Promise<{ app: Sample; bare: Sample }> {
  const started: Running[] = [];
  try {
    const samples: Sample[] = [];
    for (const [args, env] of [
      [['dist/main.js'], { COUNTERSIGN_SANDBOX: 'off' }],
      [['bench/bare-app.mjs'], {}],
    ] as const) {
      const p = await launch([...args], env);
      started.push(p);
      await sleepUntil(p.readyAt + IDLE_MS);
      samples.push({ readyMs: Math.round(p.readyMs), rssMb: Math.round(p.rssMb()) });
    }
    if (settled) {
      for (const [i, p] of started.entries()) {
        await sleepUntil(p.readyAt + SETTLED_MS);
        samples[i].settledRssMb = Math.round(p.rssMb());
      }
    }
    return { app: samples[0], bare: samples[1] };
  } finally {
    for (const p of started) await p.stop();
  }
}

const med = (xs: Sample[], k: 'readyMs' | 'rssMb') => Math.round(median(xs.map((x) => x[k])));

/** Builds dist/ (npm run build), then RUNS rounds of the build and the bare app (the last one also settled); medians. */
export async function benchRss(): Promise<Figure[]> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const app: Sample[] = [];
  const bare: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await round(i === RUNS - 1);
    app.push(r.app);
    bare.push(r.bare);
  }
  // For comparison: the same server through tsx from the sources (what `npm start` runs), one run.
  const tsx = await launch(['--import', 'tsx', 'src/main.ts'], { COUNTERSIGN_SANDBOX: 'off' });
  await sleepUntil(tsx.readyAt + IDLE_MS);
  const viaTsx = { readyMs: Math.round(tsx.readyMs), rssMb: Math.round(tsx.rssMb()) };
  await tsx.stop();

  const a = { rssMb: med(app, 'rssMb'), readyMs: med(app, 'readyMs') };
  const b = { rssMb: med(bare, 'rssMb'), readyMs: med(bare, 'readyMs') };
  const ratio = a.rssMb / b.rssMb;
  const settledApp = app.at(-1)!.settledRssMb!;
  const settledBare = bare.at(-1)!.settledRssMb!;
  return [
    {
      figure: `idle RSS ${IDLE_MS / 1000} s after /readyz, node dist/main.js on Postgres (Slack off)`,
      value: `${a.rssMb} MB (${ratio.toFixed(2)}× the bare app); after ${SETTLED_MS / 1000} s idle ${settledApp} MB (${(settledApp / settledBare).toFixed(2)}×)`,
      baseline: `bare Bolt HTTPReceiver + postgres.js: ${b.rssMb} MB, after ${SETTLED_MS / 1000} s ${settledBare} MB; the same server via tsx: ${viaTsx.rssMb} MB`,
      goal: `≤ ${GOAL}× the bare app`,
      met: ratio <= GOAL,
      detail: { app, bare, via_tsx: viaTsx, runs: RUNS, idle_ms: IDLE_MS, settled_ms: SETTLED_MS },
    },
    {
      figure: 'spawn → /readyz 200, node dist/main.js on Postgres (fresh database: all migrations)',
      value: `${a.readyMs} ms`,
      baseline: `bare app: ${b.readyMs} ms; the same server via tsx: ${viaTsx.readyMs} ms`,
      goal: '—',
      met: null,
    },
  ];
}
