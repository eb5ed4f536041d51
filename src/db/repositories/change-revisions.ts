import { and, asc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Change } from '../../domain/change.ts';
import type { AiAssessment, ChangeStatus, RiskLevel, RiskReason } from '../../domain/types.ts';
import type { Database, DbOrTx } from '../client.ts';
import { changes } from '../schema.ts';
import { findChange } from './changes.ts';

/**
 * Writes that revise a registered change after intake: a new review round on new commits, a risk
 * re-evaluation on label changes, the merge, and break-glass. Each is a conditional update, called
 * under the change's row lock (`findChange(tx, id, { forUpdate: true })`), so concurrent deliveries
 * of the same event end in one outcome.
 */

/**
 * Starts review round `fromRound + 1` for a new head SHA: earlier sign-offs stop counting, the
 * escalation ladder and the claim start over. Only if the change is still in `fromRound` and not
 * already at that head; returns false otherwise.
 */
export async function startReviewRound(db: DbOrTx, id: number, r: { fromRound: number; headSha: string; status: ChangeStatus; decidedAt: Date | null; at: Date }): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ round: r.fromRound + 1, headSha: r.headSha, status: r.status, decidedAt: r.decidedAt, escalationStep: 0, claimedBy: null, claimedAt: null, roundStartedAt: r.at, updatedAt: r.at })
    .where(and(eq(changes.id, id), eq(changes.round, r.fromRound), sql`${changes.headSha} is distinct from ${r.headSha}`))
    .returning({ id: changes.id });
  return done.length === 1;
}

/** Stores new labels and, when the risk rose, the new assessment, requirement and status. */
export async function reviseRisk(
  db: DbOrTx,
  id: number,
  r: { labels: string[]; ai: AiAssessment; riskLevel: RiskLevel; riskReasons: RiskReason[]; approvalsRequired: number; status: ChangeStatus; decidedAt: Date | null; at: Date },
): Promise<void> {
  await db
    .update(changes)
    .set({ labels: r.labels, ai: r.ai, aiAssisted: r.ai.assisted, riskLevel: r.riskLevel, riskReasons: r.riskReasons, approvalsRequired: r.approvalsRequired, status: r.status, decidedAt: r.decidedAt, updatedAt: r.at })
    .where(eq(changes.id, id));
}

/** Moves `pr_updated_at` forward to the time of the GitHub event just applied (never back). */
export async function notePullRequestTime(db: DbOrTx, id: number, at: Date): Promise<void> {
  await db
    .update(changes)
    .set({ prUpdatedAt: sql`greatest(coalesce(${changes.prUpdatedAt}, ${at.toISOString()}::timestamptz), ${at.toISOString()}::timestamptz)` })
    .where(eq(changes.id, id));
}

/**
 * Reopens a cancelled change for a reopened pull request: review round `fromRound + 1` at `headSha`,
 * in `status`, with the escalation ladder and the claim starting over. False when no longer cancelled.
 */
export async function reopenCancelled(db: DbOrTx, id: number, r: { fromRound: number; headSha: string; status: ChangeStatus; at: Date }): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ round: r.fromRound + 1, headSha: r.headSha, status: r.status, decidedAt: r.status === 'pending' ? null : r.at, escalationStep: 0, claimedBy: null, claimedAt: null, roundStartedAt: r.at, updatedAt: r.at })
    .where(and(eq(changes.id, id), eq(changes.round, r.fromRound), eq(changes.status, 'cancelled')))
    .returning({ id: changes.id });
  return done.length === 1;
}

/** Records the merge once; returns false when it was already recorded. */
export async function markMerged(db: DbOrTx, id: number, mergedAt: Date, at: Date): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ mergedAt, updatedAt: at })
    .where(and(eq(changes.id, id), isNull(changes.mergedAt)))
    .returning({ id: changes.id });
  return done.length === 1;
}

/**
 * Opens the gate of a pending change under break-glass: `approved_breakglass`, with who, why and
 * when; the escalation ladder starts over for the retroactive review. False when no longer pending.
 */
export async function recordBreakGlass(db: DbOrTx, id: number, r: { by: string; reason: string; at: Date }): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ status: 'approved_breakglass', decidedAt: r.at, updatedAt: r.at, breakglassBy: r.by, breakglassReason: r.reason, breakglassAt: r.at, escalationStep: 0, claimedBy: null, claimedAt: null })
    .where(and(eq(changes.id, id), eq(changes.status, 'pending')))
    .returning({ id: changes.id });
  return done.length === 1;
}

/** The escalation step an overdue break-glass review is moved to (once). */
export const BREAKGLASS_ESCALATED_STEP = 2;

/** Changes deployed under break-glass at or before `before` whose retroactive review has not been escalated yet, oldest first. */
export async function overdueBreakGlass(database: Database, before: Date, limit: number): Promise<Change[]> {
  const rows = await database.db
    .select({ id: changes.id })
    .from(changes)
    .where(and(eq(changes.status, 'approved_breakglass'), lt(changes.escalationStep, BREAKGLASS_ESCALATED_STEP), lte(changes.breakglassAt, before)))
    .orderBy(asc(changes.breakglassAt), asc(changes.id))
    .limit(limit);
  const out: Change[] = [];
  for (const { id } of rows) {
    const c = await findChange(database.db, id);
    if (c) out.push(c);
  }
  return out;
}

/** Marks overdue break-glass reviews escalated; returns the ids this call moved (exactly once across replicas). */
export async function escalateBreakGlassReviews(db: DbOrTx, ids: number[], at: Date): Promise<number[]> {
  if (ids.length === 0) return [];
  const done = await db
    .update(changes)
    .set({ escalationStep: BREAKGLASS_ESCALATED_STEP, updatedAt: at })
    .where(and(inArray(changes.id, ids), eq(changes.status, 'approved_breakglass'), lt(changes.escalationStep, BREAKGLASS_ESCALATED_STEP)))
    .returning({ id: changes.id });
  return done.map((d) => d.id);
}
