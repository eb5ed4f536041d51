import { and, asc, desc, eq, inArray, isNotNull, lte, or } from 'drizzle-orm';
import { changeKey, type Change } from '../../domain/change.ts';
import type { ChangeStatus, SignOff } from '../../domain/types.ts';
import type { DbOrTx } from '../client.ts';
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
    diff: row.diff,
    infra: row.infra,
    risk: { level: row.riskLevel, reasons: row.riskReasons },
    approvals_required: row.approvalsRequired,
    status: row.status,
    round: row.round,
    escalation_step: row.escalationStep as Change['escalation_step'],
    claimed_by: row.claimedBy,
    claimed_at: row.claimedAt,
    submitted_by: row.submittedBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    decided_at: row.decidedAt,
    sign_offs: rows.map(toSignOff),
  };
}

const toSignOff = (r: SignOffRow): SignOff => ({ reviewer: r.reviewer, decision: r.decision, reason: r.reason, at: r.at, round: r.round });

/** Inserts a change unless its `source` + `external_id` exists; returns the new row or null. */
export async function insertChange(db: DbOrTx, row: NewChangeRow): Promise<ChangeRow | null> {
  const [inserted] = await db.insert(changes).values(row).onConflictDoNothing({ target: [changes.source, changes.externalId] }).returning();
  return inserted ?? null;
}

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

/** Moves a change to a new status only if it is still in `from`; returns false when it was not. */
export async function transitionStatus(db: DbOrTx, id: number, from: ChangeStatus, to: ChangeStatus, at: Date): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ status: to, updatedAt: at, decidedAt: to === 'pending' ? null : at })
    .where(and(eq(changes.id, id), eq(changes.status, from)))
    .returning({ id: changes.id });
  return done.length === 1;
}

/** Records a sign-off; returns false when this person already signed this round (unique index). */
export async function insertSignOff(db: DbOrTx, changeId: number, s: Omit<SignOff, 'at'> & { head_sha: string | null }, at: Date): Promise<boolean> {
  const rows = await db
    .insert(signOffs)
    .values({ changeId, reviewer: s.reviewer, decision: s.decision, reason: s.reason, round: s.round, headSha: s.head_sha, at })
    .onConflictDoNothing()
    .returning({ id: signOffs.id });
  return rows.length === 1;
}

/** The owning team of a change, or null (a cheap read before eligibility is resolved). */
export async function teamOfChange(db: DbOrTx, id: number): Promise<string | null> {
  const [row] = await db.select({ team: changes.team }).from(changes).where(eq(changes.id, id));
  return row?.team ?? null;
}

/**
 * Pending changes past at least one escalation threshold and not yet at that step, oldest first.
 * Reads the partial index on (escalation_step, created_at): the cost follows what is due, not the table.
 */
export async function dueForEscalation(db: DbOrTx, cutoffs: { remindBefore: Date; escalateBefore: Date; expireBefore: Date }, limit: number): Promise<Change[]> {
  const rows = await db
    .select()
    .from(changes)
    .where(
      and(
        eq(changes.status, 'pending'),
        or(
          and(eq(changes.escalationStep, 0), lte(changes.createdAt, cutoffs.remindBefore)),
          and(eq(changes.escalationStep, 1), lte(changes.createdAt, cutoffs.escalateBefore)),
          and(eq(changes.escalationStep, 2), lte(changes.createdAt, cutoffs.expireBefore)),
        ),
      ),
    )
    .orderBy(asc(changes.createdAt), asc(changes.id))
    .limit(limit);
  return withSignOffsMany(db, rows);
}

async function withSignOffsMany(db: DbOrTx, rows: ChangeRow[]): Promise<Change[]> {
  if (rows.length === 0) return [];
  const so = await db.select().from(signOffs).where(inArray(signOffs.changeId, rows.map((r) => r.id))).orderBy(asc(signOffs.id));
  return rows.map((r) => toChange(r, so.filter((s) => s.changeId === r.id)));
}

/** Moves a pending change from one escalation step to the next; false when someone else already did (exactly once). */
export async function advanceEscalation(db: DbOrTx, id: number, from: number, to: number, at: Date): Promise<boolean> {
  const done = await db
    .update(changes)
    .set({ escalationStep: to, updatedAt: at })
    .where(and(eq(changes.id, id), eq(changes.escalationStep, from), eq(changes.status, 'pending')))
    .returning({ id: changes.id });
  return done.length === 1;
}

/** Sets or clears the claim on a pending change. */
export async function setClaim(db: DbOrTx, id: number, user: string | null, at: Date): Promise<void> {
  await db.update(changes).set({ claimedBy: user, claimedAt: user ? at : null, updatedAt: at }).where(eq(changes.id, id));
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
