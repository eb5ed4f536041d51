import cron, { type ScheduledTask } from 'node-cron';
import type { Change } from '../domain/change.ts';
import { escalateStaleRequests } from '../use-cases/escalate-stale-requests.ts';
import { postDigest } from '../use-cases/post-digest.ts';
import type { Deps } from '../use-cases/ports.ts';
import { watchFreezes } from '../use-cases/watch-freezes.ts';
import { runEvery } from '../periodic.ts';

export interface Scheduler {
  stop(): Promise<void>;
}

/**
 * node-cron jobs that call use cases. The sweep runs on `escalation.schedule` with noOverlap; its
 * effects are exactly-once by conditional updates, so every replica may run it. The digest runs on
 * `escalation.digest` in `escalation.timezone`; a slot row makes one replica post it. The freeze
 * watcher runs every `freezeEveryMs` (default 5 s): slot rows make each freeze boundary announced once.
 */
export function startScheduler(deps: Deps, channelOf: (c: Change) => string, opts: { freezeEveryMs?: number } = {}): Scheduler {
  const { schedule, digest, timezone } = deps.config.escalation;
  const tasks: ScheduledTask[] = [
    cron.schedule(schedule, () => escalateStaleRequests(deps), { name: 'escalation-sweep', noOverlap: true, timezone }),
    cron.schedule(digest, (ctx) => postDigest(deps, channelOf, { slot: ctx.date.toISOString().slice(0, 16) }), { name: 'digest', noOverlap: true, timezone }),
  ];
  for (const t of tasks) {
    t.on('execution:failed', (ctx) => deps.logger.warn({ job: t.name, error: ctx.execution?.error?.message }, 'scheduled job failed; the next tick retries'));
  }
  const freezes = runEvery('freeze watcher', opts.freezeEveryMs ?? 5_000, async () => void (await watchFreezes(deps)), deps.logger);
  return {
    async stop() {
      for (const t of tasks) await t.destroy();
      await freezes.stop();
    },
  };
}
