import { and, eq, gt, inArray, sql, SQL } from 'drizzle-orm';
import { TARGET, type DeliveryTarget, type OutboxKind, type OutboxMessage } from '../../delivery/messages.ts';
import type { Database, DbOrTx } from '../client.ts';
import { outbox, slackMessages, type OutboxRow } from '../schema.ts';

/** An outbox row whose fields may be SQL (intake's card names the id the same statement allocates). */
export interface OutboxRowSql {
  kind: OutboxKind;
  groupKey: string | SQL;
  channel: string;
  payload: Record<string, unknown> | SQL;
}

/**
 * The INSERT of outbox rows, due now: used by `enqueue` and by intake's one-statement insert
 * (`onlyIf` skips it when the change was not created). With no rows it inserts nothing.
 */
export function outboxInsertSql(rows: OutboxRowSql[], onlyIf: SQL = sql`true`): SQL {
  if (rows.length === 0) return sql`select 1 where false`;
  const value = (v: string | SQL) => (typeof v === 'string' ? sql`${v}` : v);
  const payload = (p: Record<string, unknown> | SQL) => (isSql(p) ? p : sql`${JSON.stringify(p)}::jsonb`);
  const values = sql.join(rows.map((r) => sql`(${r.kind}, ${TARGET[r.kind]}, ${value(r.groupKey)}, ${r.channel}, ${payload(r.payload)})`), sql`, `);
  return sql`insert into outbox (kind, target, group_key, channel, payload, next_attempt_at, created_at)
    select v.kind, v.target, v.group_key, v.channel, v.payload, now(), now() from (values ${values}) as v(kind, target, group_key, channel, payload)
    where ${onlyIf}`;
}

const isSql = (v: unknown): v is SQL => v instanceof SQL;

/** Enqueues durable writes (Slack today); call inside the transaction of the state change that causes them. */
export async function enqueue(db: DbOrTx, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await db.execute(outboxInsertSql(messages.map((m) => ({ kind: m.kind, groupKey: m.groupKey, channel: m.channel, payload: m.payload as Record<string, unknown> }))));
}

/**
 * Leases up to `limit` deliverable rows: due, not leased by anyone, and first pending row of their
 * group (so a card's post goes before its updates). `FOR UPDATE SKIP LOCKED` keeps replicas apart.
 * A row whose previous lease ran out (`locked_until` still set: its holder died mid-delivery) comes
 * back `in_doubt`: its post may already be in Slack.
 */
export async function claimOutbox(database: Database, owner: string, limit: number, leaseMs: number, target: DeliveryTarget = 'slack'): Promise<OutboxRow[]> {
  const rows = await database.rows<Record<string, unknown>>(sql`
    update outbox set in_doubt = in_doubt or locked_until is not null,
      locked_until = now() + make_interval(secs => ${leaseMs / 1000}), locked_by = ${owner}
    where id in (
      select o.id from outbox o
      where o.status = 'pending' and o.target = ${target} and o.next_attempt_at <= now()
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
    target: String(r.target),
    inDoubt: r.in_doubt === true || r.in_doubt === 't',
    createdAt: date(r.created_at)!,
    deliveredAt: date(r.delivered_at),
    deadAt: date(r.dead_at),
  };
}

/** Marks a leased row delivered (only while we still hold its lease). */
export async function completeOutbox(db: DbOrTx, id: number, owner: string): Promise<boolean> {
  const done = await db
    .update(outbox)
    .set({ status: 'done', deliveredAt: sql`now()`, lockedUntil: null, lastError: null, inDoubt: false })
    .where(and(eq(outbox.id, id), eq(outbox.lockedBy, owner), eq(outbox.status, 'pending')))
    .returning({ id: outbox.id });
  return done.length === 1;
}

/**
 * Records a failed attempt and schedules the next one; the row is kept, never dropped. `inDoubt`:
 * the request may have reached Slack (a timeout), so the next attempt looks before it posts.
 */
export async function failOutbox(db: DbOrTx, id: number, owner: string, error: string, retryInMs: number, opts: { countAttempt?: boolean; inDoubt?: boolean } = {}): Promise<void> {
  await db
    .update(outbox)
    .set({
      attempts: opts.countAttempt === false ? outbox.attempts : sql`${outbox.attempts} + 1`,
      lastError: error.slice(0, 500),
      nextAttemptAt: sql`now() + make_interval(secs => ${retryInMs / 1000})`,
      lockedUntil: null,
      inDoubt: opts.inDoubt ? true : outbox.inDoubt,
    })
    .where(and(eq(outbox.id, id), eq(outbox.lockedBy, owner)));
}

/** Gives a row up after a permanent error: status `dead`, kept with its error for inspection and `retryDead`. */
export async function markDead(db: DbOrTx, id: number, owner: string, error: string): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'dead', deadAt: sql`now()`, lastError: error.slice(0, 500), attempts: sql`${outbox.attempts} + 1`, lockedUntil: null })
    .where(and(eq(outbox.id, id), eq(outbox.lockedBy, owner), eq(outbox.status, 'pending')));
}

/** Requeues a dead row (after the cause was fixed); false when there is no dead row with that id. */
export async function retryDead(db: DbOrTx, id: number): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ status: 'pending', deadAt: null, attempts: 0, nextAttemptAt: sql`now()`, lockedUntil: null, lockedBy: null, inDoubt: false })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'dead')))
    .returning({ id: outbox.id });
  return rows.length === 1;
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

/** Records where an owned message is (a repost replaces the old location, whose message is gone). */
export async function rememberMessage(db: DbOrTx, ref: string, channel: string, ts: string, permalink: string | null = null): Promise<void> {
  await db
    .insert(slackMessages)
    .values({ ref, channel, ts, postedAt: sql`now()`, permalink })
    .onConflictDoUpdate({ target: slackMessages.ref, set: { channel, ts, postedAt: sql`now()`, permalink } });
}

export async function findMessage(db: DbOrTx, ref: string): Promise<{ channel: string; ts: string } | null> {
  const [row] = await db.select().from(slackMessages).where(eq(slackMessages.ref, ref));
  return row ? { channel: row.channel, ts: row.ts } : null;
}

/** The permalink of an owned message, or null when it is not posted yet (or Slack gave none). */
export async function permalinkOf(db: DbOrTx, ref: string): Promise<string | null> {
  const [row] = await db.select({ permalink: slackMessages.permalink }).from(slackMessages).where(eq(slackMessages.ref, ref));
  return row?.permalink ?? null;
}

/** Permalinks of several owned messages, by ref (those not known are left out). */
export async function permalinksOf(db: DbOrTx, refs: string[]): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  const rows = await db.select({ ref: slackMessages.ref, permalink: slackMessages.permalink }).from(slackMessages).where(inArray(slackMessages.ref, refs));
  return new Map(rows.filter((r) => r.permalink).map((r) => [r.ref, r.permalink!]));
}

/**
 * Reserves the next posting slot of a channel, shared by every replica: one atomic upsert moves the
 * channel's `next_allowed_at` one interval past max(now, its previous value, `notBefore`) and returns
 * how long to wait for the reserved slot. So N replicas together post at most once per interval to a channel.
 * `notBefore`: this replica's own floor (an interval after Slack last answered it), so a slot is never
 * reserved and then overshot.
 */
export async function reservePostSlot(database: Database, channel: string, intervalMs: number, notBefore?: Date): Promise<number> {
  const interval = sql`make_interval(secs => ${intervalMs / 1000})`;
  const floor = notBefore ? sql`greatest(now(), ${notBefore.toISOString()}::timestamptz)` : sql`now()`;
  const [r] = await database.rows<{ slot_ms: number }>(sql`
    insert into channel_pacing (channel, next_allowed_at) values (${channel}, ${floor} + ${interval})
    on conflict (channel) do update
      set next_allowed_at = greatest(channel_pacing.next_allowed_at, ${floor}) + ${interval}
    returning (extract(epoch from next_allowed_at - ${interval}) * 1000)::float8 as slot_ms`);
  // Waited for by the local clock (hosts keep time by NTP), so the query's own latency does not shift the post.
  return Math.max(0, Number(r.slot_ms) - Date.now());
}

export interface OutboxStats {
  pending: number;
  failing: number;
  oldest_pending_age_seconds: number;
  delivered: number;
  /** Rows given up after a permanent error (not counted as pending or failing). */
  dead: number;
}

/** Depth and oldest age, for /api/outbox/stats, /readyz details and metrics. */
export async function outboxStats(database: Database): Promise<OutboxStats> {
  const [r] = await database.rows<{ pending: number; failing: number; oldest: number | null; delivered: number; dead: number }>(sql`
    select count(*) filter (where status = 'pending')::int as pending,
           count(*) filter (where status = 'pending' and attempts > 0)::int as failing,
           extract(epoch from now() - min(created_at) filter (where status = 'pending'))::float8 as oldest,
           count(*) filter (where status = 'done')::int as delivered,
           count(*) filter (where status = 'dead')::int as dead
    from outbox`);
  return { pending: r.pending, failing: r.failing, oldest_pending_age_seconds: Math.round(Number(r.oldest ?? 0)), delivered: r.delivered, dead: r.dead };
}

type ProblemRow = { id: number; kind: string; channel: string; attempts: number; last_error: string | null };

/** Rows still failing, oldest first (visible, never dropped). */
export async function failingRows(database: Database, limit = 20): Promise<ProblemRow[]> {
  return database.rows(sql`select id::int as id, kind, channel, attempts, last_error from outbox where status = 'pending' and attempts > 0 order by id limit ${limit}`);
}

/** Dead rows, newest first, with what killed them. */
export async function deadRows(database: Database, limit = 50): Promise<(ProblemRow & { dead_at: string; payload: Record<string, unknown> })[]> {
  return database.rows(sql`select id::int as id, kind, channel, attempts, last_error, dead_at, payload from outbox where status = 'dead' order by id desc limit ${limit}`);
}
