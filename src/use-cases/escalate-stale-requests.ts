import { appendAudit } from '../db/repositories/audit.ts';
import { advanceEscalation, dueForEscalation, lapsedClaims, setClaim, transitionStatus } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import { parseDuration } from '../domain/duration.ts';
import { activeClaim, dueStep, escalationTimings, nextStepAt, reminderTargets, STEP, sweepThresholds } from '../domain/escalation.ts';
import type { Deps } from './ports.ts';

export interface SweepResult {
  reminded: number;
  escalated: number;
  expired: number;
  claimsLapsed: number;
}

const BATCH = 500;

/**
 * The escalation sweep: a query for pending changes past a threshold and not yet at that step,
 * then one conditional update per step (`… WHERE escalation_step = previous`), so each step happens
 * exactly once however many replicas sweep, and a missed tick or a restart is harmless.
 */
export async function escalateStaleRequests(deps: Deps): Promise<SweepResult> {
  const now = deps.clock.now();
  const timings = escalationTimings(deps.config.escalation);
  const claimTimeout = parseDuration(deps.config.escalation.claim_timeout)!;
  const result: SweepResult = { reminded: 0, escalated: 0, expired: 0, claimsLapsed: 0 };

  for (const change of await lapsedClaims(deps.database.db, new Date(now.getTime() - claimTimeout), BATCH)) {
    if (await releaseLapsedClaim(deps, change, now)) result.claimsLapsed++;
  }

  const due = await dueForEscalation(deps.database.db, sweepThresholds(timings, now), BATCH);
  const eligibleByTeam = new Map<string, Set<string>>();
  for (const change of due) {
    const step = dueStep({ status: change.status, risk_level: change.risk.level, created_at: change.created_at, escalation_step: change.escalation_step }, timings, now);
    if (step === null) continue;
    if (!eligibleByTeam.has(change.team)) eligibleByTeam.set(change.team, await deps.reviewers.eligibleFor(change.team));
    const eligible = eligibleByTeam.get(change.team)!;
    const signed = change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer);
    const claimer = activeClaim(change, claimTimeout, now);
    const info = {
      targets: reminderTargets({ eligible, signed, author: change.author.slack_id ?? null, claimer }),
      waitingOn: reminderTargets({ eligible, signed, author: change.author.slack_id ?? null, claimer: null }),
      ageMs: now.getTime() - change.created_at.getTime(),
      next: nextStepAt({ status: change.status, risk_level: change.risk.level, created_at: change.created_at, escalation_step: step }, timings),
    };
    const applied = await deps.database.db.transaction(async (tx) => {
      if (!(await advanceEscalation(tx, change.id, change.escalation_step, step, now))) return false;
      await appendAudit(tx, now, [{ actor: 'escalation', action: 'escalation_step', changeId: change.id, data: { from: change.escalation_step, to: step } }]);
      if (step === STEP.expired) {
        await transitionStatus(tx, change.id, 'pending', 'expired', now);
        await appendAudit(tx, now, [{ actor: 'escalation', action: 'status_changed', changeId: change.id, data: { from: 'pending', to: 'expired', reason: `no sign-off within ${deps.config.escalation.expire_after}` } }]);
        const after: Change = { ...change, status: 'expired', escalation_step: STEP.expired, decided_at: now, updated_at: now };
        await deps.notifier.statusChanged(tx, after, 'pending', 'escalation', null);
      } else {
        await deps.notifier.escalated(tx, { ...change, escalation_step: step }, step as 1 | 2, info);
      }
      return true;
    });
    if (!applied) continue;
    if (step === STEP.reminded) result.reminded++;
    else if (step === STEP.escalated) result.escalated++;
    else result.expired++;
  }
  if (result.reminded + result.escalated + result.expired + result.claimsLapsed > 0) deps.logger.info({ ...result }, 'escalation sweep');
  return result;
}

async function releaseLapsedClaim(deps: Deps, change: Change, now: Date): Promise<boolean> {
  return deps.database.db.transaction(async (tx) => {
    await setClaim(tx, change.id, null, now);
    await appendAudit(tx, now, [{ actor: 'escalation', action: 'claim_lapsed', changeId: change.id, data: { claimed_by: change.claimed_by } }]);
    await deps.notifier.claimChanged(tx, { ...change, claimed_by: null, claimed_at: null });
    return true;
  });
}
