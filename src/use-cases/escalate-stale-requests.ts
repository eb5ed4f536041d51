import { appendAudit } from '../db/repositories/audit.ts';
import { advanceEscalations, dueForEscalation, lapsedClaims, setClaim } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import { parseDuration } from '../domain/duration.ts';
import { activeClaim, dueStep, escalationTimings, nextStepAt, reminderTargets, STEP, sweepThresholds, type EscalationStep } from '../domain/escalation.ts';
import type { Deps, EscalationInfo } from './ports.ts';

export interface SweepResult {
  reminded: number;
  escalated: number;
  expired: number;
  claimsLapsed: number;
}

const BATCH = 500;

/**
 * The escalation sweep: a query for pending changes past a threshold and not yet at that step,
 * then a conditional update per transition (`… WHERE escalation_step = previous AND status =
 * 'pending'`) whose RETURNING says which changes this replica moved: each step happens exactly
 * once however many replicas sweep, and a missed tick or a restart is harmless.
 */
export async function escalateStaleRequests(deps: Deps): Promise<SweepResult> {
  const now = deps.clock.now();
  const timings = escalationTimings(deps.config.escalation);
  const claimTimeout = parseDuration(deps.config.escalation.claim_timeout)!;
  const result: SweepResult = { reminded: 0, escalated: 0, expired: 0, claimsLapsed: 0 };

  for (const change of await lapsedClaims(deps.database.db, new Date(now.getTime() - claimTimeout), BATCH)) {
    if (await releaseLapsedClaim(deps, change, now)) result.claimsLapsed++;
  }

  const due = await dueForEscalation(deps.database, sweepThresholds(timings, now), BATCH);
  const eligibleByTeam = new Map<string, Set<string>>();
  // Group the due changes by transition, then apply each group in one transaction with one conditional update.
  const groups = new Map<string, { from: number; to: EscalationStep; items: { change: Change; info: EscalationInfo }[] }>();
  for (const change of due) {
    const step = dueStep({ status: change.status, risk_level: change.risk.level, created_at: change.created_at, escalation_step: change.escalation_step }, timings, now);
    if (step === null) continue;
    if (!eligibleByTeam.has(change.team)) eligibleByTeam.set(change.team, await deps.reviewers.eligibleFor(change.team));
    const eligible = eligibleByTeam.get(change.team)!;
    const signed = change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer);
    const author = change.author.slack_id ?? null;
    const info: EscalationInfo = {
      targets: reminderTargets({ eligible, signed, author, claimer: activeClaim(change, claimTimeout, now) }),
      waitingOn: reminderTargets({ eligible, signed, author, claimer: null }),
      ageMs: now.getTime() - change.created_at.getTime(),
      next: nextStepAt({ status: change.status, risk_level: change.risk.level, created_at: change.created_at, escalation_step: step }, timings),
    };
    const k = `${change.escalation_step}>${step}`;
    if (!groups.has(k)) groups.set(k, { from: change.escalation_step, to: step, items: [] });
    groups.get(k)!.items.push({ change, info });
  }
  for (const { from, to, items } of groups.values()) {
    const moved = await deps.database.db.transaction(async (tx) => {
      const ids = new Set(await advanceEscalations(tx, items.map((i) => i.change.id), from, to, now));
      const mine = items.filter((i) => ids.has(i.change.id));
      await appendAudit(tx, now, mine.flatMap(({ change }) => [
        { actor: 'escalation', action: 'escalation_step', changeId: change.id, data: { from, to } },
        ...(to === STEP.expired ? [{ actor: 'escalation', action: 'status_changed', changeId: change.id, data: { from: 'pending', to: 'expired', reason: `no sign-off within ${deps.config.escalation.expire_after}` } }] : []),
      ]));
      for (const { change, info } of mine) {
        if (to === STEP.expired) {
          await deps.notifier.statusChanged(tx, { ...change, status: 'expired', escalation_step: STEP.expired, decided_at: now, updated_at: now }, 'pending', 'escalation', null);
        } else {
          await deps.notifier.escalated(tx, { ...change, escalation_step: to }, to as 1 | 2, info);
        }
      }
      return mine.length;
    });
    if (to === STEP.reminded) result.reminded += moved;
    else if (to === STEP.escalated) result.escalated += moved;
    else result.expired += moved;
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
