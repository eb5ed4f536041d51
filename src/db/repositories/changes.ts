import { and, arrayOverlaps, asc, desc, eq, inArray, isNotNull, isNull, lte, sql, type SQL } from 'drizzle-orm';
import { changeKey, type Change } from '../../domain/change.ts';
import type { ChangeStatus, SignOff } from '../../domain/types.ts';
import type { Database, DbOrTx } from '../client.ts';
import { auditInsertSql, type AuditEvent } from './audit.ts';
import { outboxInsertSql } from './outbox.ts';
import type { IntakeRow } from '../../use-cases/ports.ts';
import { changes, signOffs, type ChangeRow, type NewChangeRow, type SignOffRow } from '../schema.ts';

/** Maps rows to the domain's Change. */
export function toChange(row: ChangeRow, rows: SignOffRow[]): Change {
  return {
    id: row.id,
    key: changeKey(row.id),
    source: row.source,
    external_id: row.externalId,
    title: row.title,
    description: row.description,
    url: row.url,
    services: row.services,
    environment: row.environment,
    team: row.team,
    author: row.author,
    ai: row.ai,
    labels: row.labels,
    commits: row.commits,
    head_sha: row.headSha,
    plan_sha256: row.planSha256,
    merged_at: row.mergedAt,
    pr_updated_at: row.prUpdatedAt,
    github_installation_id: row.githubInstallationId,
    merge_commit_sha: row.mergeCommitSha,
    awaiting_read: row.awaitingRead,
    shadow: row.shadow,
    breakglass: row.breakglassAt && row.breakglassBy ? { by: row.breakglassBy, reason: row.breakglassReason ?? '', at: row.breakglassAt } : null,
    diff: row.diff,
    infra: row.infra,
    risk: { level: row.riskLevel, reasons: row.riskReasons },
    blast_radius: row.blastRadius,
    approvals_required: row.approvalsRequired,
    status: row.status,
    round: row.round,
    escalation_step: row.escalationStep as Change['escalation_step'],
    claimed_by: row.claimedBy,
    claimed_at: row.claimedAt,
    assigned_to: row.assignedTo,
    submitted_by: row.submittedBy,
    created_at: row.createdAt,
    round_started_at: row.roundStartedAt,
    updated_at: row.updatedAt,
    decided_at: row.decidedAt,
    sign_offs: rows.map(toSignOff),
  };
}

const toSignOff = (r: SignOffRow): SignOff => ({ reviewer: r.reviewer, decision: r.decision, reason: r.reason, at: r.at, round: r.round, head_sha: r.headSha, plan_sha256: r.planSha256 });

async function withSignOffs(db: DbOrTx, row: ChangeRow | undefined): Promise<Change | null> {
  if (!row) return null;
  const so = await db.select().from(signOffs).where(eq(signOffs.changeId, row.id)).orderBy(asc(signOffs.id));
  return toChange(row, so);
}

/**
 * Loads a change with its sign-offs; `forUpdate` takes the row lock that serialises sign-offs.
 * The sign-offs are read by a second statement on purpose: under READ COMMITTED it sees what the
 * previous lock holder committed (a subquery in the locking statement would read a stale snapshot).
 */
export async function findChange(db: DbOrTx, id: number, opts: { forUpdate?: boolean } = {}): Promise<Change | null> {
  const q = db.select().from(changes).where(eq(changes.id, id));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return withSignOffs(db, row);
}

export async function findChangeByExternalId(db: DbOrTx, source: string, externalId: string): Promise<Change | null> {
  const [row] = await db.select().from(changes).where(and(eq(changes.source, source), eq(changes.externalId, externalId)));
  return withSignOffs(db, row);
}

/** The change registered under an idempotency key, with the digest of the body that registered it. */
export async function findIntake(db: DbOrTx, source: string, externalId: string): Promise<{ change: Change; inputSha256: string | null } | null> {
  const [row] = await db.select().from(changes).where(and(eq(changes.source, source), eq(changes.externalId, externalId)));
  const change = await withSignOffs(db, row);
  return change ? { change, inputSha256: row.inputSha256 } : null;
}

/** Newest first (or oldest first), optionally by status, with their sign-offs. */
export async function listChanges(db: DbOrTx, opts: { status?: ChangeStatus; limit: number; oldestFirst?: boolean }): Promise<Change[]> {
  const order = opts.oldestFirst ? [asc(changes.createdAt), asc(changes.id)] : [desc(changes.createdAt), desc(changes.id)];
  const rows = await db
    .select()
    .from(changes)
    .where(opts.status ? eq(changes.status, opts.status) : undefined)
    .orderBy(...order)
    .limit(opts.limit);
  return withSignOffsMany(db, rows);
}

/** Columns a state change may set on a change (everything but its identity and intake facts). */
export type ChangeUpdate = Partial<Omit<NewChangeRow, 'id' | 'source' | 'externalId' | 'createdAt' | 'submittedBy'>>;

/** What must still hold for a conditional update (each given field must equal the stored one). */
export interface ChangeGuard {
  status?: ChangeStatus;
  round?: number;
  escalationStep?: number;
  claimedBy?: string | null;
  claimedAt?: Date | null;
  /** The head SHA must differ from this one (a new head, not a repeat). */
  headShaNot?: string;
  /** The merge must not be recorded yet. */
  notMerged?: true;
  awaitingRead?: boolean;
}

function guardSql(g: ChangeGuard): SQL | undefined {
  const eqOrNull = <T>(col: Parameters<typeof eq>[0], v: T | null) => (v === null ? isNull(col) : eq(col, v));
  return and(
    g.status !== undefined ? eq(changes.status, g.status) : undefined,
    g.round !== undefined ? eq(changes.round, g.round) : undefined,
    g.escalationStep !== undefined ? eq(changes.escalationStep, g.escalationStep) : undefined,
    g.claimedBy !== undefined ? eqOrNull(changes.claimedBy, g.claimedBy) : undefined,
    // A Date holds milliseconds, Postgres microseconds: compare at the precision the caller read.
    g.claimedAt !== undefined ? (g.claimedAt === null ? isNull(changes.claimedAt) : sql`date_trunc('milliseconds', ${changes.claimedAt}) = ${g.claimedAt.toISOString()}::timestamptz`) : undefined,
    g.headShaNot !== undefined ? sql`${changes.headSha} is distinct from ${g.headShaNot}` : undefined,
    g.notMerged ? isNull(changes.mergedAt) : undefined,
    g.awaitingRead !== undefined ? eq(changes.awaitingRead, g.awaitingRead) : undefined,
  );
}

/**
 * Updates a change and reads the new state back (`RETURNING`, then its sign-offs), only if `guard`
 * still holds (a conditional update); null when it did not. Call it under the row lock.
 */
export async function updateChange(db: DbOrTx, id: number, set: ChangeUpdate, guard: ChangeGuard = {}): Promise<Change | null> {
  const [row] = await db
    .update(changes)
    .set(set)
    .where(and(eq(changes.id, id), guardSql(guard)))
    .returning();
  return withSignOffs(db, row);
}

/** Records a sign-off; returns false when this person already signed this round (unique index). */
export async function insertSignOff(db: DbOrTx, changeId: number, s: Omit<SignOff, 'at'> & { head_sha: string | null; plan_sha256?: string | null }, at: Date): Promise<boolean> {
  const rows = await db
    .insert(signOffs)
    .values({ changeId, reviewer: s.reviewer, decision: s.decision, reason: s.reason, round: s.round, headSha: s.head_sha, planSha256: s.plan_sha256 ?? null, at })
    .onConflictDoNothing()
    .returning({ id: signOffs.id });
  return rows.length === 1;
}

/** The owning team and the author of a change, or null (a cheap read before eligibility and identity are resolved). */
export async function teamOfChange(db: DbOrTx, id: number): Promise<{ team: string; author: Change['author'] } | null> {
  const [row] = await db.select({ team: changes.team, author: changes.author }).from(changes).where(eq(changes.id, id));
  return row ?? null;
}

/**
 * Pending changes past at least one escalation threshold (counted from the round's start) and not
 * yet at that step, oldest first. One index range scan per step on the partial index
 * (escalation_step, round_started_at) where pending: the cost follows what is due, not the table.
 */
export async function dueForEscalation(database: Database, cutoffs: { remindBefore: Date; escalateBefore: Date; expireBefore: Date }, limit: number): Promise<Change[]> {
  const part = (step: number, before: Date) =>
    sql`(select id, round_started_at from changes where status = 'pending' and escalation_step = ${step} and round_started_at <= ${before.toISOString()}::timestamptz order by round_started_at limit ${limit})`;
  const due = await database.rows<{ id: number }>(sql`
    select id from (${part(0, cutoffs.remindBefore)} union all ${part(1, cutoffs.escalateBefore)} union all ${part(2, cutoffs.expireBefore)}) d
    order by round_started_at, id limit ${limit}`);
  if (due.length === 0) return [];
  const ids = due.map((d) => Number(d.id));
  const rows = await database.db.select().from(changes).where(inArray(changes.id, ids));
  const changesById = new Map((await withSignOffsMany(database.db, rows)).map((c) => [c.id, c]));
  return ids.map((id) => changesById.get(id)!).filter(Boolean);
}

/**
 * Moves pending changes from one escalation step to the next in one conditional update; returns the
 * changes this call moved, read back (exactly once across replicas: a change another sweep moved, or
 * that was decided meanwhile, is not returned).
 */
export async function advanceEscalations(db: DbOrTx, ids: number[], from: number, to: number, at: Date): Promise<Change[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(changes)
    .set({ escalationStep: to, updatedAt: at, ...(to === 3 && { status: 'expired' as const, decidedAt: at }) })
    .where(and(inArray(changes.id, ids), eq(changes.escalationStep, from), eq(changes.status, 'pending')))
    .returning();
  return withSignOffsMany(db, rows);
}

/** Rows to domain changes, with their sign-offs (one query for all). */
export async function withSignOffsMany(db: DbOrTx, rows: ChangeRow[]): Promise<Change[]> {
  if (rows.length === 0) return [];
  const so = await db.select().from(signOffs).where(inArray(signOffs.changeId, rows.map((r) => r.id))).orderBy(asc(signOffs.id));
  return rows.map((r) => toChange(r, so.filter((s) => s.changeId === r.id)));
}

/** Pending changes whose claim is older than `before` (lapsed). */
export async function lapsedClaims(db: DbOrTx, before: Date, limit: number): Promise<Change[]> {
  const rows = await db
    .select()
    .from(changes)
    .where(and(eq(changes.status, 'pending'), isNotNull(changes.claimedBy), lte(changes.claimedAt, before)))
    .limit(limit);
  return withSignOffsMany(db, rows);
}

/** Changes a person authored, newest first. */
export async function changesByAuthor(db: DbOrTx, slackId: string, limit: number): Promise<Change[]> {
  const rows = await db.select().from(changes).where(eq(changes.authorSlackId, slackId)).orderBy(desc(changes.createdAt), desc(changes.id)).limit(limit);
  return withSignOffsMany(db, rows);
}

/**
 * Writes a new change, its audit events and its card's outbox row in ONE statement (data-modifying
 * CTEs): the id comes from the sequence inside the statement, so it is atomic without an explicit
 * transaction and costs one round trip. The audit and outbox inserts are the same builders
 * `appendAudit` and `enqueue` use. When `source` + `external_id` exists already, nothing at all is
 * written and null comes back; otherwise the new id.
 */
export async function insertChangeWithEffects(database: Database, row: Omit<NewChangeRow, 'id'>, at: Date, events: AuditEvent[], intakeRows: IntakeRow[]): Promise<number | null> {
  const insert = database.db
    .insert(changes)
    .values({ ...row, id: sql`(select id from new_id)` })
    .onConflictDoNothing({ target: [changes.source, changes.externalId] })
    .returning({ id: changes.id });
  const created = sql`(select id from c)`;
  const rows = await database.rows<{ id: number }>(sql`
    with new_id as (select nextval(pg_get_serial_sequence('changes', 'id'))::int as id),
    c as ${insert},
    a as (${auditInsertSql(at, events, { changeId: created, onlyIf: sql`exists (select 1 from c)` })}),
    o as (${outboxInsertSql(
      intakeRows.map((r) => ({ kind: r.kind, groupKey: sql`${`${r.groupPrefix}:`} || ${created}`, channel: r.channel, payload: sql`jsonb_build_object('change_id', ${created}) || ${JSON.stringify(r.extra ?? {})}::jsonb` })),
      sql`exists (select 1 from c)`,
    )})
    select id from c`, { prepared: true });
  return rows.length === 1 ? Number(rows[0].id) : null;
}

/** Pending changes to one of `environments` touching one of `services` (null: any), oldest first. */
export async function pendingChangesIn(db: DbOrTx, environments: string[], services: string[] | null, limit: number): Promise<Change[]> {
  const rows = await db
    .select()
    .from(changes)
    .where(and(eq(changes.status, 'pending'), inArray(changes.environment, environments), services ? arrayOverlaps(changes.services, services) : undefined))
    .orderBy(changes.id)
    .limit(limit);
  return withSignOffsMany(db, rows);
}
