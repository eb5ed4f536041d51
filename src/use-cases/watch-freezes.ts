import { changesWithHeldRequests } from '../db/repositories/github.ts';
import { enqueue } from '../db/repositories/outbox.ts';
import { pendingChangesIn } from '../db/repositories/changes.ts';
import { claimSlot, hasSlot } from '../db/repositories/scheduled-runs.ts';
import { freezePeriods, freezesAround, type FreezePeriod } from '../domain/freezes.ts';
import { answerHeld } from './handle-github-deployment.ts';
import { withLockedChange } from './locked-change.ts';
import type { Deps } from './ports.ts';

/** How far back a freeze's end is still announced (after downtime); older boundaries pass silently. */
const LOOKBACK_MS = 7 * 24 * 3600_000;
/** Cards updated per boundary, and decided changes re-checked per pass (the next pass takes the rest). */
const BATCH = 500;

/** The slot of one occurrence of a freeze: its name and start, the same on every replica. */
const slotOf = (p: FreezePeriod) => `${p.name}@${p.from.toISOString()}`;

export interface FreezePass {
  started: string[];
  ended: string[];
  /** Deployment requests answered because nothing holds them any more. */
  answered: number;
}

/**
 * One pass of the freeze watcher (every few seconds on every replica; exactly-once by slots):
 * - a freeze holding now that was not announced is announced in the escalation channel, and the
 *   cards of the pending changes it covers show it;
 * - a freeze that ended (and was announced) is announced as ended, and those cards updated;
 * - deployment requests of decided changes that a freeze held are answered once nothing holds them.
 * The gate itself needs none of this: it reads the clock at each request, exact to the second.
 */
export async function watchFreezes(deps: Deps): Promise<FreezePass> {
  const now = deps.clock.now();
  const pass: FreezePass = { started: [], ended: [], answered: 0 };
  // The latest boundaries of each freeze (a cron that starts often cannot make a pass walk a week of starts).
  const periods = deps.config.resolved.freezes.flatMap((f) => freezePeriods(f, new Date(now.getTime() - LOOKBACK_MS), new Date(now.getTime() + 1), { limit: 20, newest: true }));
  for (const p of periods) {
    if (p.from <= now && now < p.until) {
      if (await announce(deps, 'started', p, now)) pass.started.push(slotOf(p));
    } else if (p.until <= now) {
      if (await announce(deps, 'ended', p, now)) pass.ended.push(slotOf(p));
    }
  }
  for (const id of await changesWithHeldRequests(deps.database.db, BATCH)) {
    const answered = await withLockedChange(deps, id, async (tx, change) => {
      const rows = await answerHeld(deps, tx, change);
      await enqueue(tx, rows);
      return rows.length;
    });
    pass.answered += answered ?? 0;
  }
  if (pass.started.length || pass.ended.length || pass.answered) deps.logger.info(pass, 'freezes: boundaries announced, held deployments answered');
  return pass;
}

/**
 * Claims the boundary's slot and, in the same transaction, tells the notifier (exactly once across
 * replicas). An end is announced only when its start was: a freeze that passed entirely while no
 * replica ran stays silent.
 */
async function announce(deps: Deps, boundary: 'started' | 'ended', p: FreezePeriod, now: Date): Promise<boolean> {
  return deps.database.db.transaction(async (tx) => {
    if (boundary === 'ended' && !(await hasSlot(tx, 'freeze-started', slotOf(p)))) return false;
    if (!(await claimSlot(tx, `freeze-${boundary}`, slotOf(p), now))) return false;
    const covered = await pendingChangesIn(tx, p.environments, p.services, BATCH);
    await deps.notifier.freezeBoundary(tx, boundary, p, covered);
    return true;
  });
}

/** Freezes active now or starting within 30 days (GET /api/freezes, `/change freezes`). */
export function listFreezes(deps: Pick<Deps, 'config' | 'clock'>) {
  return freezesAround(deps.config.resolved.freezes, deps.clock.now(), 30 * 24 * 3600_000);
}
