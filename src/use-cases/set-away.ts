import { appendAudit } from '../db/repositories/audit.ts';
import { setAway as store } from '../db/repositories/assignments.ts';
import { forgetReviewerLoads } from './assign-reviewer.ts';
import type { Deps } from './ports.ts';

/** `/change away on|off`: an away senior is skipped by assignment (they can still sign off). */
export async function setAway(deps: Deps, user: string, away: boolean): Promise<void> {
  const now = deps.clock.now();
  await deps.database.db.transaction(async (tx) => {
    await store(tx, user, away, now);
    await appendAudit(tx, now, [{ actor: user, action: away ? 'reviewer_away' : 'reviewer_back' }]);
  });
  forgetReviewerLoads(deps);
}
