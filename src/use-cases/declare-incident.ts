import type { Config } from '../config/schema.ts';
import { invalid, type FieldIssue, type Refusal } from '../domain/errors.ts';
import type { Tx } from '../db/client.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findByExternalId, insertIncident, lockExternalId } from '../db/repositories/incidents.ts';
import type { IncidentView, Severity } from '../domain/incident.ts';
import { serviceIssue } from './decide-intake.ts';
import { incidentView, suspectsFor } from './get-incident.ts';
import type { Deps } from './ports.ts';

export interface IncidentDeclaration {
  title: string;
  severity: Severity;
  services: string[];
  /** Default: now. */
  started_at?: Date;
  source: string;
  /** With `source`, the idempotency key: a repeat answers the stored incident. */
  external_id: string | null;
  /** A Slack user id, an API token name, or `alertmanager`. */
  declared_by: string;
  /** How the request came in (`token:<name>` from the API), audited. */
  via?: string;
}

export type DeclareResult = { ok: true; created: boolean; view: IncidentView } | Refusal;

/** `services[i]` issues for names the config does not know. */
export function unknownServiceIssues(config: Config, services: string[], path = 'services'): FieldIssue[] {
  return services.flatMap((s, i) => serviceIssue(config, s, `${path}[${i}]`) ?? []);
}

/**
 * Declares an incident (API, Slack or Alertmanager): stores it, audits it, and enqueues the
 * broadcast and the suspects' card-thread replies in the same transaction. The same `source` +
 * `external_id` (any status) answers the stored incident instead of a second one; creation is
 * serialised by a transaction-scoped advisory lock on that key.
 */
export async function declareIncident(deps: Deps, input: IncidentDeclaration): Promise<DeclareResult> {
  const issues = unknownServiceIssues(deps.config, input.services);
  if (issues.length) return invalid(issues);
  return deps.database.db.transaction(async (tx) => {
    if (input.external_id !== null) {
      await lockExternalId(tx, input.source, input.external_id);
      const existing = await findByExternalId(tx, input.source, input.external_id);
      if (existing) return { ok: true as const, created: false, view: await incidentView(tx, deps.config, existing) };
    }
    return { ok: true as const, created: true, view: await openIncident(deps, tx, input) };
  });
}

/** Inserts, audits and announces a new incident inside `tx` (the caller holds any idempotency lock). */
export async function openIncident(deps: Deps, tx: Tx, input: IncidentDeclaration): Promise<IncidentView> {
  const now = deps.clock.now();
  const services = [...new Set(input.services)];
  const incident = await insertIncident(tx, {
    title: input.title,
    severity: input.severity,
    services,
    source: input.source,
    externalId: input.external_id,
    startedAt: input.started_at ?? now,
    declaredBy: input.declared_by,
    at: now,
  });
  await appendAudit(tx, now, [
    { actor: input.declared_by, via: input.via, action: 'incident_declared', data: { incident: incident.key, title: incident.title, severity: incident.severity, services, source: incident.source, external_id: incident.external_id, started_at: incident.started_at.toISOString() } },
  ]);
  const suspects = await suspectsFor(tx, deps.config, incident);
  await deps.incidents.incidentDeclared(tx, incident, suspects);
  return { incident, suspects, causes: [] };
}
