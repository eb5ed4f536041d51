import type { Logger } from 'pino';

/** A background loop's handle: wake it early, or stop it (waiting for the pass in flight). */
export interface PeriodicJob {
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `everyMs`, one pass at a time, until stopped: the one way background loops run
 * (outbox sender, click-receipt recovery, audit sealer). A pass that returns true had work and runs
 * again at once; a failing pass is logged once per failure streak and retried at the next tick.
 * `stop()` waits for the pass in flight, so shutdown never cuts one in half.
 */
export function runEvery(name: string, everyMs: number, pass: () => Promise<boolean | void>, logger: Logger): PeriodicJob {
  let stopped = false;
  let failing = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  const loop = (async () => {
    // Let the caller finish starting up before the first pass.
    await sleep(0);
    while (!stopped) {
      let again = false;
      try {
        again = (await pass()) === true;
        if (failing) logger.info({ job: name }, `${name} recovered`);
        failing = false;
      } catch (err) {
        if (!failing) logger.warn({ job: name, err: { message: (err as Error).message } }, `${name} failed; retrying`);
        failing = true;
      }
      if (!again && !stopped) await sleep(everyMs);
    }
  })();
  return {
    nudge: () => wake?.(),
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
