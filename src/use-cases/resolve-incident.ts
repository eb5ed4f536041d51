import { appendAudit } from '../db/repositories/audit.ts';
import { updateIncident } from '../db/repositories/incidents.ts';
import type { Incident, IncidentView } from '../domain/incident.ts';
import type { Tx } from '../db/client.ts';
import { findIncidentByKey, incidentView } from './get-incident.ts';
import type { Deps } from './ports.ts';
import { refuse, type Refusal } from '../domain/errors.ts';

export type ResolveResult = { ok: true; resolved: boolean; view: IncidentView } | Refusal;

/**
 * Resolves an incident (resolved_at = now) and re-renders its broadcast with the duration.
 * Idempotent: resolving a resolved incident changes nothing and answers it as it is.
 */
export async function resolveIncident(deps: Deps, key: string, actor: string, via?: string): Promise<ResolveResult> {
  return deps.database.db.transaction(async (tx) => {
    const incident = await findIncidentByKey(tx, key, { forUpdate: true });
    if (!incident) return refuse('not_found', `There is no incident ${key}.`);
    if (incident.status === 'resolved') return { ok: true as const, resolved: false, view: await incidentView(tx, deps.config, incident) };
    const after = await markResolved(deps, tx, incident, actor, via ? { via } : {});
    return { ok: true as const, resolved: true, view: await incidentView(tx, deps.config, after) };
  });
}

/** Resolves an open incident inside `tx` (its row is locked by the caller): update, audit, broadcast update. */
export async function markResolved(deps: Deps, tx: Tx, incident: Incident, actor: string, extra: Record<string, unknown> = {}): Promise<Incident> {
  const now = deps.clock.now();
  const after = await updateIncident(tx, incident.id, { status: 'resolved', resolvedAt: now, updatedAt: now });
  const durationMs = Math.max(0, now.getTime() - incident.started_at.getTime());
  await appendAudit(tx, now, [{ actor, action: 'incident_resolved', data: { incident: incident.key, duration_ms: durationMs, ...extra } }]);
  await deps.incidents.incidentChanged(tx, after);
  return after;
}
