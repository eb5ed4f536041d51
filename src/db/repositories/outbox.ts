import { and, eq, gt, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../client.ts';
import { outbox, slackMessages, type OutboxRow } from '../schema.ts';

export interface OutboxMessage {
  kind: string;
  groupKey: string;
  channel: string;
  payload: Record<string, unknown>;
}

/** Enqueues Slack writes; call inside the transaction of the state change that causes them. */
export async function enqueue(db: DbOrTx, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await db.insert(outbox).values(messages.map((m) => ({ ...m, nextAttemptAt: sql`now()`, createdAt: sql`now()` })));
}

/**
 * Leases up to `limit` deliverable rows: due, not leased by anyone, and first pending row of their
 * group (so a card's post goes before its updates). `FOR UPDATE SKIP LOCKED` keeps replicas apart.
 */
export async function claimOutbox(database: Database, owner: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const rows = await database.rows<Record<string, unknown>>(sql`
    update outbox set locked_until = now() + make_interval(secs => ${leaseMs / 1000}), locked_by = ${owner}
    where id in (
      select o.id from outbox o
      where o.status = 'pending' and o.next_attempt_at <= now()
        and (o.locked_until is null or o.locked_until < now())
        and not exists (select 1 from outbox p where p.group_key = o.group_key and p.status = 'pending' and p.id < o.id)
      order by o.id
      limit ${limit}
      for update skip locked
    )
    returning *`);
  return rows.map(fromRaw).sort((a, b) => a.id - b.id);
}

function fromRaw(r: Record<string, unknown>): OutboxRow {
  const date = (v: unknown) => (v == null ? null : v instanceof Date ? v : new Date(String(v)));
  return {
    id: Number(r.id),
    kind: String(r.kind),
    groupKey: String(r.group_key),
    channel: String(r.channel),
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    status: r.status as OutboxRow['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: date(r.next_attempt_at)!,
    lockedUntil: date(r.locked_until),
    lockedBy: (r.locked_by as string) ?? null,
    lastError: (r.last_error as string) ?? null,
    createdAt: date(r.created_at)!,
    deliveredAt: date(r.delivered_at),
  };
}

/** Marks a leased row delivered (only while we still hold its lease). */
export async function completeOutbox(db: DbOrTx, id: number, owner: string): Promise<boolean> {
  const done = await db
    .update(outbox)
    .set({ status: 'done', deliveredAt: sql`now()`, lockedUntil: null, lastError: null })
    .where(and(eq(outbox.id, id), eq(outbox.lockedBy, owner), eq(outbox.status, 'pending')))
    .returning({ id: outbox.id });
  return done.length === 1;
}

/** Records a failed attempt and schedules the next one; the row is kept, never dropped. */
export async function failOutbox(db: DbOrTx, id: number, owner: string, error: string, retryInMs: number, countAttempt = true): Promise<void> {
  await db
    .update(outbox)
    .set({
      attempts: countAttempt ? sql`${outbox.attempts} + 1` : outbox.attempts,
      lastError: error.slice(0, 500),
      nextAttemptAt: sql`now() + make_interval(secs => ${retryInMs / 1000})`,
      lockedUntil: null,
    })
    .where(and(eq(outbox.id, id), eq(outbox.lockedBy, owner)));
}

/** True when a later card update of the same group is waiting, so this one can be skipped. */
export async function hasLaterOfKind(db: DbOrTx, row: OutboxRow): Promise<boolean> {
  const later = await db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.groupKey, row.groupKey), eq(outbox.kind, row.kind), eq(outbox.status, 'pending'), gt(outbox.id, row.id)))
    .limit(1);
  return later.length > 0;
}

export async function rememberMessage(db: DbOrTx, ref: string, channel: string, ts: string): Promise<void> {
  await db.insert(slackMessages).values({ ref, channel, ts, postedAt: sql`now()` }).onConflictDoNothing();
}

export async function findMessage(db: DbOrTx, ref: string): Promise<{ channel: string; ts: string } | null> {
  const [row] = await db.select().from(slackMessages).where(eq(slackMessages.ref, ref));
  return row ? { channel: row.channel, ts: row.ts } : null;
}

export interface OutboxStats {
  pending: number;
  failing: number;
  oldest_pending_age_seconds: number;
  delivered: number;
}

/** Depth and oldest age, for /api/outbox/stats, /readyz details and metrics. */
export async function outboxStats(database: Database): Promise<OutboxStats> {
  const [r] = await database.rows<{ pending: number; failing: number; oldest: number | null; delivered: number }>(sql`
    select count(*) filter (where status = 'pending')::int as pending,
           count(*) filter (where status = 'pending' and attempts > 0)::int as failing,
           extract(epoch from now() - min(created_at) filter (where status = 'pending'))::float8 as oldest,
           count(*) filter (where status = 'done')::int as delivered
    from outbox`);
  return { pending: r.pending, failing: r.failing, oldest_pending_age_seconds: Math.round(Number(r.oldest ?? 0)), delivered: r.delivered };
}

/** Rows still failing, newest error first (visible, never dropped). */
export async function failingRows(database: Database, limit = 20): Promise<{ id: number; kind: string; channel: string; attempts: number; last_error: string | null }[]> {
  return database.rows(sql`select id::int as id, kind, channel, attempts, last_error from outbox where status = 'pending' and attempts > 0 order by id limit ${limit}`);
}
