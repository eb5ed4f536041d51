import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findByExternalId, findIncident, lockExternalId, updateIncident } from '../db/repositories/incidents.ts';
import { mostSevere, severityFromLabel, type Severity } from '../domain/incident.ts';
import { openIncident } from './declare-incident.ts';
import type { Deps } from './ports.ts';
import { markResolved } from './resolve-incident.ts';

/** Incidents opened by Alertmanager carry this source and the notification's `groupKey` as external_id. */
export const ALERTMANAGER_SOURCE = 'alertmanager';

// Alertmanager adds fields over time: objects are loose, and only what is used is validated.
const labelSet = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((v) => v ?? {});
const alert = z.looseObject({ status: z.string().nullish(), labels: labelSet, annotations: labelSet, startsAt: z.string().nullish() });

/** The Alertmanager webhook payload (version 4), as far as Countersign reads it. */
export const alertmanagerPayload = z.looseObject({
  groupKey: z.string().min(1, 'expected the group key').max(10_000).refine((k) => !k.includes('\u0000'), 'must not contain NUL characters'),
  status: z.enum(['firing', 'resolved'], { error: 'expected firing or resolved' }),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  alerts: z
    .array(alert)
    .max(10_000)
    .nullish()
    .transform((v) => v ?? []),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayload>;

export type AlertmanagerOutcome = { incident: string | null; action: 'opened' | 'updated' | 'resolved' | 'ignored' };

// Postgres text cannot hold NUL characters: they are dropped from anything stored.
const str = (v: unknown): string | undefined => {
  const t = typeof v === 'string' ? v.replace(/\u0000/g, '').trim() : '';
  return t || undefined;
};

/** What a notification says about the incident: services (known ones only), severity, title, start. */
export function alertFacts(config: Config, p: AlertmanagerPayload, now: Date): { services: string[]; severity: Severity; title: string; started_at: Date } {
  const label = config.incidents.service_label;
  const sets = [p.commonLabels, p.groupLabels, ...p.alerts.map((a) => a.labels)];
  const known = config.resolved.serviceNames;
  const services = [...new Set(sets.map((l) => str(l[label])).filter((s): s is string => !!s && known.has(s)))];
  const severityLabels = sets.map((l) => str(l.severity)).filter((s): s is string => !!s);
  const severity = mostSevere(severityLabels.map((l) => severityFromLabel(l, config.incidents.severity_map)));
  const title = (str(p.commonAnnotations.summary) ?? str(p.commonLabels.alertname) ?? str(p.groupLabels.alertname) ?? 'Alertmanager alert').slice(0, 300);
  // A firing alert's endsAt is 0001-01-01; only sane start times count.
  const starts = p.alerts.map((a) => Date.parse(a.startsAt ?? '')).filter((t) => Number.isFinite(t) && t > 0);
  return { services, severity, title, started_at: starts.length ? new Date(Math.min(...starts)) : now };
}

/**
 * Applies one Alertmanager notification. `firing` opens an incident, or updates the open one of the
 * same group (Alertmanager repeats notifications, and retries on 5xx); after a resolution the same
 * group opens a new incident. `resolved` resolves the open one, if any. Serialised per group key.
 */
export async function handleAlertmanager(deps: Deps, p: AlertmanagerPayload, via: string): Promise<AlertmanagerOutcome> {
  const facts = alertFacts(deps.config, p, deps.clock.now());
  return deps.database.db.transaction(async (tx): Promise<AlertmanagerOutcome> => {
    const groupId = groupIdentity(p.groupKey);
    await lockExternalId(tx, ALERTMANAGER_SOURCE, groupId);
    const found = await findByExternalId(tx, ALERTMANAGER_SOURCE, groupId, { openOnly: true });
    const open = found && (await findIncident(tx, found.id, { forUpdate: true }));
    if (p.status === 'resolved') {
      if (!open || open.status !== 'open') return { incident: null, action: 'ignored' };
      await markResolved(deps, tx, open, ALERTMANAGER_SOURCE, { via });
      return { incident: open.key, action: 'resolved' };
    }
    if (!open || open.status !== 'open') {
      const view = await openIncident(deps, tx, { ...facts, source: ALERTMANAGER_SOURCE, external_id: groupId, declared_by: ALERTMANAGER_SOURCE, via });
      return { incident: view.incident.key, action: 'opened' };
    }
    // Services only grow while the incident is open (an alert that cleared must not hide suspects); severity only rises.
    const services = [...new Set([...open.services, ...facts.services])];
    const severity = mostSevere([open.severity, facts.severity]);
    const changed = facts.title !== open.title || severity !== open.severity || services.length !== open.services.length;
    if (changed) {
      const now = deps.clock.now();
      const after = await updateIncident(tx, open.id, { title: facts.title, severity, services, updatedAt: now });
      await appendAudit(tx, now, [{ actor: ALERTMANAGER_SOURCE, action: 'incident_updated', data: { incident: open.key, title: after.title, severity, services, via } }]);
      await deps.incidents.incidentChanged(tx, after);
    }
    return { incident: open.key, action: 'updated' };
  });
}

/** The stored identity of a group: the groupKey itself, or its SHA-256 when it is too long to index. */
export function groupIdentity(groupKey: string): string {
  return groupKey.length <= 500 ? groupKey : `sha256:${createHash('sha256').update(groupKey).digest('hex')}`;
}
