import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { changeKey } from '../../domain/change.ts';
import { incidentKey, type Incident, type IncidentCause, type Severity } from '../../domain/incident.ts';
import type { DbOrTx } from '../client.ts';
import { changes, incidentCauses, incidents, signOffs, type IncidentRow } from '../schema.ts';

export function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    key: incidentKey(row.id),
    title: row.title,
    severity: row.severity,
    services: row.services,
    status: row.status,
    source: row.source,
    external_id: row.externalId,
    started_at: row.startedAt,
    resolved_at: row.resolvedAt,
    declared_by: row.declaredBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export interface NewIncident {
  title: string;
  severity: Severity;
  services: string[];
  source: string;
  externalId: string | null;
  startedAt: Date;
  declaredBy: string;
  at: Date;
}

export async function insertIncident(db: DbOrTx, i: NewIncident): Promise<Incident> {
  const [row] = await db
    .insert(incidents)
    .values({ title: i.title, severity: i.severity, services: i.services, status: 'open', source: i.source, externalId: i.externalId, startedAt: i.startedAt, declaredBy: i.declaredBy, createdAt: i.at, updatedAt: i.at })
    .returning();
  return toIncident(row);
}

/**
 * Serialises everything keyed by one `source` + `external_id` until the transaction ends (the
 * incidents table has no unique key on it: Alertmanager reuses a group key after a resolution).
 * A transaction-scoped advisory lock works on Postgres and on PGlite alike.
 */
export async function lockExternalId(db: DbOrTx, source: string, externalId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${`${source}:${externalId}`}::text))::text as locked`);
}

/** Loads an incident; `forUpdate` locks its row so changes to it are serialised. */
export async function findIncident(db: DbOrTx, id: number, opts: { forUpdate?: boolean } = {}): Promise<Incident | null> {
  const q = db.select().from(incidents).where(eq(incidents.id, id));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return row ? toIncident(row) : null;
}

/** The newest incident with this idempotency key, whatever its status (or only open ones). */
export async function findByExternalId(db: DbOrTx, source: string, externalId: string, opts: { openOnly?: boolean } = {}): Promise<Incident | null> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.source, source), eq(incidents.externalId, externalId), opts.openOnly ? eq(incidents.status, 'open') : undefined))
    .orderBy(desc(incidents.id))
    .limit(1);
  return row ? toIncident(row) : null;
}

/** Newest first (by start), optionally by status. */
export async function incidentRows(db: DbOrTx, opts: { status?: Incident['status']; limit: number }): Promise<Incident[]> {
  const rows = await db
    .select()
    .from(incidents)
    .where(opts.status ? eq(incidents.status, opts.status) : undefined)
    .orderBy(desc(incidents.startedAt), desc(incidents.id))
    .limit(opts.limit);
  return rows.map(toIncident);
}

/** Open incidents that started within [from, to] (candidates for a new deployment to be a suspect of). */
export async function openIncidentsStartedBetween(db: DbOrTx, from: Date, to: Date): Promise<Incident[]> {
  const rows = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.status, 'open'), gte(incidents.startedAt, from), lte(incidents.startedAt, to)))
    .orderBy(asc(incidents.id))
    .limit(500);
  return rows.map(toIncident);
}

export async function updateIncident(db: DbOrTx, id: number, set: Partial<Pick<IncidentRow, 'title' | 'severity' | 'services' | 'status' | 'resolvedAt' | 'updatedAt'>>): Promise<Incident> {
  const [row] = await db.update(incidents).set(set).where(eq(incidents.id, id)).returning();
  return toIncident(row);
}

/** Records a confirmed cause; false when this change was already confirmed for this incident. */
export async function insertCause(db: DbOrTx, incidentId: number, changeId: number, confirmedBy: string, at: Date): Promise<boolean> {
  const rows = await db.insert(incidentCauses).values({ incidentId, changeId, confirmedBy, at }).onConflictDoNothing().returning({ id: incidentCauses.id });
  return rows.length === 1;
}

/** Confirmed causes of each incident, in the order they were confirmed, with each change's current approvers. */
export async function causesOf(db: DbOrTx, ids: number[]): Promise<Map<number, IncidentCause[]>> {
  const out = new Map<number, IncidentCause[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const approvers = sql<string | null>`(select string_agg(${signOffs.reviewer}, ',' order by ${signOffs.at}, ${signOffs.id}) from ${signOffs}
    where ${signOffs.changeId} = ${changes.id} and ${signOffs.round} = ${changes.round} and ${signOffs.decision} = 'approved')`;
  const rows = await db
    .select({ incidentId: incidentCauses.incidentId, changeId: changes.id, title: changes.title, confirmedBy: incidentCauses.confirmedBy, at: incidentCauses.at, approvers })
    .from(incidentCauses)
    .innerJoin(changes, eq(changes.id, incidentCauses.changeId))
    .where(inArray(incidentCauses.incidentId, ids))
    .orderBy(asc(incidentCauses.at), asc(incidentCauses.id));
  for (const r of rows) {
    out.get(r.incidentId)!.push({ change_id: r.changeId, change: changeKey(r.changeId), title: r.title, confirmed_by: r.confirmedBy, at: r.at, approvers: r.approvers ? r.approvers.split(',') : [] });
  }
  return out;
}
