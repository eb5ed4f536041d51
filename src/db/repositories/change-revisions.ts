import { and, asc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Change } from '../../domain/change.ts';
import type { Database, DbOrTx } from '../client.ts';
import { changes } from '../schema.ts';
import { findChange, withSignOffsMany } from './changes.ts';

/** Writes beyond the locked-change flow (src/use-cases/locked-change.ts): event ordering and break-glass reviews. */

/** Moves `pr_updated_at` forward to the time of the GitHub event just applied (never back). */
export async function notePullRequestTime(db: DbOrTx, id: number, at: Date): Promise<void> {
  await db
    .update(changes)
    .set({ prUpdatedAt: sql`greatest(coalesce(${changes.prUpdatedAt}, ${at.toISOString()}::timestamptz), ${at.toISOString()}::timestamptz)` })
    .where(eq(changes.id, id));
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
export async function escalateBreakGlassReviews(db: DbOrTx, ids: number[], at: Date): Promise<Change[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(changes)
    .set({ escalationStep: BREAKGLASS_ESCALATED_STEP, updatedAt: at })
    .where(and(inArray(changes.id, ids), eq(changes.status, 'approved_breakglass'), lt(changes.escalationStep, BREAKGLASS_ESCALATED_STEP)))
    .returning();
  return withSignOffsMany(db, rows);
}
