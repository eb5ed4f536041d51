import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { runEvery, type PeriodicJob } from '../../src/periodic.ts';
import { waitFor } from '../support/slack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A logger that keeps its lines (level and message) for assertions. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  return { lines, logger: createLogger('debug', { destination: { write: (l: string) => void lines.push(JSON.parse(l)) } }) };
}

let job: PeriodicJob | null = null;
afterEach(async () => {
  await job?.stop();
  job = null;
});

describe('runEvery', () => {
  it('when a pass is slower than the interval, then passes never overlap', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    job = runEvery('slow', 1, async () => {
      running++;
      most = Math.max(most, running);
      await sleep(30);
      running--;
      passes++;
    }, capturingLogger().logger);
    await waitFor(() => passes >= 4, 5_000, 'four passes');
    job.nudge();
    job.nudge();
    await waitFor(() => passes >= 6, 5_000, 'six passes');
    expect(most).toBe(1);
  });

  it('when stop() is called during a pass, then it resolves only after that pass ends, and no pass starts after it', async () => {
    let release!: () => void;
    let started = 0;
    let ended = false;
    job = runEvery('stoppable', 1, async () => {
      started++;
      await new Promise<void>((r) => (release = r));
      ended = true;
      return true; // "had work": would run again at once if not stopped
    }, capturingLogger().logger);
    await waitFor(() => started === 1, 5_000, 'first pass');
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(ended).toBe(true);
    await sleep(50);
    expect(started).toBe(1);
  });

  it('when passes keep failing, then the failure is logged once per streak, the recovery once, and the loop keeps going', async () => {
    const { lines, logger } = capturingLogger();
    // Calls 1-3 fail, 4 succeeds, 5-6 fail, then every call succeeds.
    const failing = new Set([1, 2, 3, 5, 6]);
    let calls = 0;
    job = runEvery('flaky', 1, async () => {
      calls++;
      if (failing.has(calls)) throw new Error(`boom ${calls}`);
    }, logger);
    await waitFor(() => calls >= 9, 5_000, 'nine passes');
    const mine = lines.filter((l) => l.msg.startsWith('flaky'));
    expect(mine.map((l) => [l.level, l.msg])).toEqual([
      [40, 'flaky failed; retrying'],
      [30, 'flaky recovered'],
      [40, 'flaky failed; retrying'],
      [30, 'flaky recovered'],
    ]);
  });

  it('when a pass had work, then the next runs at once; when it had none, then it waits for the interval or a nudge', async () => {
    let calls = 0;
    job = runEvery('busy', 60_000, async () => ++calls <= 3, capturingLogger().logger);
    await waitFor(() => calls === 4, 5_000, 'three busy passes and one idle one');
    await sleep(50);
    expect(calls).toBe(4);
    job.nudge();
    await waitFor(() => calls === 5, 5_000, 'a nudged pass');
  });
});
