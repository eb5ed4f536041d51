import { appendAudit } from '../db/repositories/audit.ts';
import { advanceEscalations, dueForEscalation, lapsedClaims } from '../db/repositories/changes.ts';
import { applyTransition } from './locked-change.ts';
import type { Change } from '../domain/change.ts';
import { activeClaim, breakGlassReviewDue, dueStep, nextStepAt, reminderTargets, STEP, sweepThresholds, type EscalationStep, type EscalationTimings } from '../domain/escalation.ts';
import { escalateBreakGlassReviews, overdueBreakGlass } from '../db/repositories/change-revisions.ts';
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
 * once however many replicas sweep, and a missed tick or a restart is harmless. Changes deployed
 * under break-glass whose retroactive review is overdue get one escalation too (counted in `escalated`).
 */
export async function escalateStaleRequests(deps: Deps): Promise<SweepResult> {
  const now = deps.clock.now();
  const timings = deps.config.resolved.escalation;
  const claimTimeout = timings.claimTimeoutMs;
  const result: SweepResult = { reminded: 0, escalated: 0, expired: 0, claimsLapsed: 0 };

  for (const change of await lapsedClaims(deps.database.db, new Date(now.getTime() - claimTimeout), BATCH)) {
    if (await releaseLapsedClaim(deps, change, now)) result.claimsLapsed++;
  }

  const due = await dueForEscalation(deps.database, sweepThresholds(timings, now), BATCH);
  const eligibleByTeam = new Map<string, Set<string>>();
  // Group the due changes by transition, then apply each group in one transaction with one conditional update.
  const groups = new Map<string, { from: number; to: EscalationStep; items: { change: Change; info: EscalationInfo }[] }>();
  for (const change of due) {
    const step = dueStep({ status: change.status, risk_level: change.risk.level, round_started_at: change.round_started_at, escalation_step: change.escalation_step }, timings, now);
    if (step === null) continue;
    if (!eligibleByTeam.has(change.team)) eligibleByTeam.set(change.team, await deps.reviewers.eligibleFor(change.team));
    const eligible = eligibleByTeam.get(change.team)!;
    const signed = change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer);
    const author = change.author.slack_id ?? null;
    const info: EscalationInfo = {
      // The reminder goes to the claimer, else to the assigned reviewer (least_loaded), else to every eligible senior.
      targets: reminderTargets({ eligible, signed, author, claimer: activeClaim(change, claimTimeout, now) ?? assignedAndWaiting(deps, change, eligible, signed) }),
      waitingOn: reminderTargets({ eligible, signed, author, claimer: null }),
      ageMs: now.getTime() - change.round_started_at.getTime(),
      next: nextStepAt({ status: change.status, risk_level: change.risk.level, round_started_at: change.round_started_at, escalation_step: step }, timings),
    };
    const k = `${change.escalation_step}>${step}`;
    if (!groups.has(k)) groups.set(k, { from: change.escalation_step, to: step, items: [] });
    groups.get(k)!.items.push({ change, info });
  }
  for (const { from, to, items } of groups.values()) {
    const moved = await deps.database.db.transaction(async (tx) => {
      // One conditional update for the group; what comes back is what this sweep moved, read back.
      const mine = await advanceEscalations(tx, items.map((i) => i.change.id), from, to, now);
      const infoOf = new Map(items.map((i) => [i.change.id, i.info]));
      await appendAudit(tx, now, mine.flatMap((change) => [
        { actor: 'escalation', action: 'escalation_step', changeId: change.id, data: { from, to } },
        ...(to === STEP.expired ? [{ actor: 'escalation', action: 'status_changed', changeId: change.id, data: { from: 'pending', to: 'expired', reason: `no sign-off within ${deps.config.escalation.expire_after}` } }] : []),
      ]));
      for (const after of mine) {
        if (to === STEP.expired) await deps.notifier.statusChanged(tx, after, 'pending', 'escalation', null);
        else await deps.notifier.escalated(tx, after, to as 1 | 2, infoOf.get(after.id)!);
      }
      return mine.length;
    });
    if (to === STEP.reminded) result.reminded += moved;
    else if (to === STEP.escalated) result.escalated += moved;
    else result.expired += moved;
  }
  result.escalated += await escalateOverdueBreakGlass(deps, timings, claimTimeout, now);
  // Counted after the transactions committed.
  deps.observe.escalationSteps('reminded', result.reminded);
  deps.observe.escalationSteps('escalated', result.escalated);
  deps.observe.escalationSteps('expired', result.expired);
  if (result.reminded + result.escalated + result.expired + result.claimsLapsed > 0) deps.logger.info({ ...result }, 'escalation sweep');
  return result;
}

/**
 * Changes deployed under break-glass still need their normal sign-offs within
 * `break_glass.review_within`; past it, each gets one post in the escalation channel, like a stale
 * request (the conditional update on `escalation_step` makes it exactly once across replicas).
 */
async function escalateOverdueBreakGlass(deps: Deps, timings: EscalationTimings, claimTimeout: number, now: Date): Promise<number> {
  const reviewWithin = deps.config.resolved.breakGlassReviewMs;
  const overdue = (await overdueBreakGlass(deps.database, new Date(now.getTime() - reviewWithin), BATCH)).filter((c) =>
    breakGlassReviewDue({ status: c.status, risk_level: c.risk.level, breakglass_at: c.breakglass?.at ?? null, escalation_step: c.escalation_step }, reviewWithin, timings, now),
  );
  if (overdue.length === 0) return 0;
  const items: { change: Change; info: EscalationInfo }[] = [];
  for (const change of overdue) {
    const eligible = await deps.reviewers.eligibleFor(change.team);
    const signed = change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer);
    const author = change.author.slack_id ?? null;
    items.push({
      change,
      info: {
        targets: reminderTargets({ eligible, signed, author, claimer: activeClaim(change, claimTimeout, now) }),
        waitingOn: reminderTargets({ eligible, signed, author, claimer: null }),
        ageMs: now.getTime() - change.breakglass!.at.getTime(),
        next: null,
      },
    });
  }
  return deps.database.db.transaction(async (tx) => {
    const mine = await escalateBreakGlassReviews(tx, items.map((i) => i.change.id), now);
    const before = new Map(items.map((i) => [i.change.id, i]));
    await appendAudit(tx, now, mine.map((after) => ({
      actor: 'escalation',
      action: 'escalation_step',
      changeId: after.id,
      data: { from: before.get(after.id)!.change.escalation_step, to: STEP.escalated, reason: `no retroactive sign-off within ${deps.config.break_glass.review_within} of the break-glass` },
    })));
    for (const after of mine) await deps.notifier.escalated(tx, after, 2, before.get(after.id)!.info);
    return mine.length;
  });
}

/**
 * Lets a lapsed claim go, exactly once: a conditional update on the claim as it was read, so two
 * sweeps record one `claim_lapsed`, and a claim made (or renewed) since the read is left alone.
 */
async function releaseLapsedClaim(deps: Deps, change: Change, now: Date): Promise<boolean> {
  return deps.database.db.transaction(async (tx) => {
    const after = await applyTransition(tx, change, now, {
      set: { claimedBy: null, claimedAt: null },
      guard: { status: 'pending', claimedBy: change.claimed_by, claimedAt: change.claimed_at },
      events: [{ actor: 'escalation', action: 'claim_lapsed', changeId: change.id, data: { claimed_by: change.claimed_by } }],
      notify: (tx, after) => deps.notifier.claimChanged(tx, after),
    });
    return after !== null;
  });
}

/** The assigned reviewer, while assignment is least_loaded and they are still eligible and have not signed. */
function assignedAndWaiting(deps: Deps, change: Change, eligible: Set<string>, signed: string[]): string | null {
  const a = change.assigned_to;
  return deps.config.review.assignment === 'least_loaded' && a && eligible.has(a) && !signed.includes(a) ? a : null;
}
