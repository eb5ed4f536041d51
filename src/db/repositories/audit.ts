import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { StoredChainRow } from '../../domain/audit-chain.ts';
import type { DbOrTx } from '../client.ts';
import { auditEvents, auditGenesis, type AuditRow } from '../schema.ts';

export interface AuditEvent {
  /** Who acted: a Slack user id, a token name, `policy`, `escalation`… (a `by` a body claims is data, not this). */
  actor: string;
  action: string;
  changeId?: number | null;
  data?: Record<string, unknown>;
  /** How the request came in (`token:<name>` for API calls); stored as `data.via` next to any claimed `by`. */
  via?: string;
}

/** The event as stored: its data, with `via` when known. */
export function auditData(e: AuditEvent): AuditEvent {
  return e.via ? { ...e, data: { ...e.data, via: e.via } } : e;
}

/**
 * The INSERT of audit events, from one JSON parameter: used by `appendAudit` and by intake's
 * one-statement insert (where `changeId` is the new change's id, and `onlyIf` skips it all when the
 * change was not created).
 */
export function auditInsertSql(at: Date, events: AuditEvent[], opts: { changeId?: SQL; onlyIf?: SQL } = {}): SQL {
  const json = JSON.stringify(events.map(auditData));
  return sql`insert into audit_events (at, actor, action, change_id, data)
    select ${at.toISOString()}::timestamptz, e->>'actor', e->>'action', ${opts.changeId ?? sql`(e->>'changeId')::int`}, coalesce(e->'data', '{}'::jsonb)
    from jsonb_array_elements(${json}::jsonb) e
    where ${opts.onlyIf ?? sql`true`}`;
}

/** Appends audit events; call it inside the transaction that makes the change it records. */
export async function appendAudit(db: DbOrTx, at: Date, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.execute(auditInsertSql(at, events));
}

export interface HistoryEntry {
  at: Date;
  actor: string;
  action: string;
  data: Record<string, unknown>;
}

/** A change's audit trail, oldest first, optionally only some actions. */
export async function historyOf(db: DbOrTx, changeId: number, actions?: string[]): Promise<HistoryEntry[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.changeId, changeId), actions ? inArray(auditEvents.action, actions) : undefined))
    .orderBy(asc(auditEvents.id));
  return rows.map((r) => ({ at: r.at, actor: r.actor, action: r.action, data: r.data }));
}

// ---------------------------------------------------------------------------------------------
// The tamper-evident chain. The sealer (src/use-cases/seal-audit-chain.ts) sets `prev_hash` and
// `hash` once per row, in id order; the append-only trigger allows exactly that update.

/** Advisory lock key that serialises audit sealers across replicas ("csse" as an int). */
const AUDIT_SEALER_LOCK = 0x63737365;

async function rowsOf<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const r = (await db.execute(query)) as unknown;
  return (Array.isArray(r) ? r : (r as { rows: T[] }).rows) as T[];
}

/**
 * Takes the sealer's transaction-scoped advisory lock without waiting; false when another sealer
 * (another replica) holds it. Released when the transaction ends.
 */
export async function tryLockAuditSealer(tx: DbOrTx): Promise<boolean> {
  const [r] = await rowsOf<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${AUDIT_SEALER_LOCK}::bigint) as locked`);
  return r.locked === true;
}

export function toChainRow(r: AuditRow): StoredChainRow {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, change_id: r.changeId, data: r.data, prev_hash: r.prevHash, hash: r.hash };
}

/** The last sealed row (the chain's head), or null before the first seal. */
export async function auditChainHead(db: DbOrTx): Promise<{ id: number; hash: string } | null> {
  const [r] = await db.select({ id: auditEvents.id, hash: auditEvents.hash }).from(auditEvents).where(isNotNull(auditEvents.hash)).orderBy(desc(auditEvents.id)).limit(1);
  return r ? { id: r.id, hash: r.hash! } : null;
}

/** Unsealed rows after `afterId`, in id order (the partial index `audit_events_unsealed_idx`). */
export async function unsealedAuditRows(db: DbOrTx, afterId: number, limit: number): Promise<StoredChainRow[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(isNull(auditEvents.hash), gt(auditEvents.id, afterId)))
    .orderBy(asc(auditEvents.id))
    .limit(limit);
  return rows.map(toChainRow);
}

/** Sets `prev_hash` and `hash` on still-unsealed rows in one statement; throws (rolling back) if any row was already sealed. */
export async function sealAuditRows(tx: DbOrTx, rows: { id: number; prevHash: string; hash: string }[]): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(
    rows.map((r) => sql`(${r.id}::bigint, ${r.prevHash}::text, ${r.hash}::text)`),
    sql`, `,
  );
  const updated = await rowsOf<{ id: number }>(
    tx,
    sql`update audit_events a set prev_hash = v.prev_hash, hash = v.hash from (values ${values}) as v(id, prev_hash, hash) where a.id = v.id and a.hash is null returning a.id`,
  );
  if (updated.length !== rows.length) throw new Error(`audit sealing raced: ${rows.length - updated.length} of ${rows.length} rows were sealed by someone else`);
}

/**
 * Are audit ids `fromId..toId` (a gap before a committed row) still held by an open transaction?
 * Whoever took one of those ids took it before the committed row after the gap got its id, so it
 * is one of the transactions running right now. This waits (up to `waitMs`) for every client
 * transaction running in this database to end, then looks again:
 * - `free`: they all ended and none of the ids is there: they were rolled back; skip the gap for good.
 * - `committed`: one of the ids has appeared: seal it in order on the next pass.
 * - `in_flight`: some transaction is still running: stop before the gap and try again later.
 * Real Postgres only (PGlite runs one transaction at a time, so a gap there is always a rollback).
 */
export async function gapStatus(tx: DbOrTx, fromId: number, toId: number, waitMs = 300): Promise<'free' | 'in_flight' | 'committed'> {
  const running = await rowsOf<{ vxid: string }>(
    tx,
    sql`select l.virtualxid as vxid from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'virtualxid' and l.granted and l.pid <> pg_backend_pid()
          and a.datname = current_database() and a.backend_type = 'client backend'`,
  );
  const vxids = running.map((r) => r.vxid).filter(Boolean);
  const deadline = Date.now() + waitMs;
  while (vxids.length > 0) {
    const [r] = await rowsOf<{ n: number }>(
      tx,
      sql`select count(*)::int as n from pg_locks where locktype = 'virtualxid' and virtualxid in (${sql.join(
        vxids.map((v) => sql`${v}`),
        sql`, `,
      )})`,
    );
    if (Number(r.n) === 0) break;
    if (Date.now() >= deadline) return 'in_flight';
    await new Promise((res) => setTimeout(res, 20));
  }
  const [seen] = await rowsOf<{ n: number }>(tx, sql`select count(*)::int as n from audit_events where id between ${fromId} and ${toId}`);
  return Number(seen.n) > 0 ? 'committed' : 'free';
}

/** The first row ever sealed, or null before the first seal. */
export async function auditGenesisRecord(db: DbOrTx): Promise<{ id: number; hash: string } | null> {
  const [r] = await db.select().from(auditGenesis).limit(1);
  return r ? { id: Number(r.firstId), hash: r.firstHash } : null;
}

/** Records the first sealed row, once (write-once by trigger; a second call changes nothing). */
export async function recordAuditGenesis(tx: DbOrTx, first: { id: number; hash: string }, at: Date): Promise<void> {
  await tx.insert(auditGenesis).values({ id: 1, firstId: first.id, firstHash: first.hash, at }).onConflictDoNothing();
}

/** One page of the chain in id order, for verification. */
export async function auditChainPage(db: DbOrTx, afterId: number, limit: number): Promise<StoredChainRow[]> {
  const rows = await db.select().from(auditEvents).where(gt(auditEvents.id, afterId)).orderBy(asc(auditEvents.id)).limit(limit);
  return rows.map(toChainRow);
}

/** Rows after the chain's head that are not sealed yet, and the oldest one's time. */
export async function unsealedAfterHead(db: DbOrTx, headId: number): Promise<{ count: number; oldestAt: Date | null }> {
  const [r] = await db
    .select({ count: sql<number>`count(*)::int`, oldestAt: sql<Date | string | null>`min(${auditEvents.at})` })
    .from(auditEvents)
    .where(and(isNull(auditEvents.hash), gt(auditEvents.id, headId)));
  return { count: Number(r?.count ?? 0), oldestAt: r?.oldestAt ? new Date(r.oldestAt) : null };
}

export interface AuditRange {
  /** Inclusive lower bound: an audit id or a time. */
  from: { id: number } | { at: Date };
  /** Exclusive upper bound: an audit id or a time; none = up to the newest row. */
  to?: { id: number } | { at: Date };
  limit: number;
}

/** Audit rows in a range, in id order, at most `limit`. */
export async function auditRowsInRange(db: DbOrTx, range: AuditRange): Promise<StoredChainRow[]> {
  const lower = 'id' in range.from ? gte(auditEvents.id, range.from.id) : gte(auditEvents.at, range.from.at);
  const upper = range.to ? ('id' in range.to ? lt(auditEvents.id, range.to.id) : lt(auditEvents.at, range.to.at)) : undefined;
  const rows = await db.select().from(auditEvents).where(and(lower, upper)).orderBy(asc(auditEvents.id)).limit(range.limit);
  return rows.map(toChainRow);
}
