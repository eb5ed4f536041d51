import { and, eq, gte, inArray, sql } from 'drizzle-orm';
import type { ReviewerLoad } from '../../domain/assignment.ts';
import type { DbOrTx } from '../client.ts';
import { changes, reviewerAway } from '../schema.ts';

/** Open assigned reviews, assignments since `dayStart`, and the last assignment, per reviewer. */
export async function reviewerLoads(db: DbOrTx, users: string[], dayStart: Date): Promise<Map<string, ReviewerLoad>> {
  if (users.length === 0) return new Map();
  const rows = await db
    .select({
      user: changes.assignedTo,
      open: sql<number>`count(*) filter (where ${changes.status} = 'pending')::int`,
      today: sql<number>`count(*) filter (where ${changes.assignedAt} >= ${dayStart.toISOString()}::timestamptz)::int`,
      last: sql<string | null>`max(${changes.assignedAt})`,
    })
    .from(changes)
    .where(and(inArray(changes.assignedTo, users), gte(changes.assignedAt, new Date(dayStart.getTime() - 30 * 86_400_000))))
    .groupBy(changes.assignedTo);
  return new Map(rows.map((r) => [r.user!, { user: r.user!, open: Number(r.open), today: Number(r.today), lastAssignedAt: r.last ? new Date(r.last) : null }]));
}

/** Seniors who said `/change away on`. */
export async function awayReviewers(db: DbOrTx): Promise<Set<string>> {
  return new Set((await db.select({ u: reviewerAway.userId }).from(reviewerAway)).map((r) => r.u));
}

export async function setAway(db: DbOrTx, user: string, away: boolean, at: Date): Promise<void> {
  if (away) await db.insert(reviewerAway).values({ userId: user, since: at }).onConflictDoNothing();
  else await db.delete(reviewerAway).where(eq(reviewerAway.userId, user));
}

