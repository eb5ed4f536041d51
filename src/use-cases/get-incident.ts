import type { Config } from '../config/schema.ts';
import type { DbOrTx } from '../db/client.ts';
import { suspectCandidates } from '../db/repositories/deployments.ts';
import { causesOf, findIncident, incidentRows } from '../db/repositories/incidents.ts';
import { parseIncidentKey, type Incident, type IncidentSuspect, type IncidentView } from '../domain/incident.ts';
import { rankSuspects } from '../domain/suspects.ts';
import type { Deps } from './ports.ts';

/** The incident's services plus everything they depend on, transitively: where a culprit may have been deployed. */
export function suspectServices(config: Config, services: readonly string[]): string[] {
  const graph = config.resolved.graph;
  const out = new Set(services);
  for (const s of services) for (const dep of graph.dependenciesOf(s).keys()) out.add(dep);
  return [...out];
}

/**
 * The current suspects of an incident, computed (never stored): candidates from one indexed query,
 * ranked by the pure `rankSuspects` (see the score in src/domain/suspects.ts).
 */
export async function suspectsFor(db: DbOrTx, config: Config, incident: Pick<Incident, 'services' | 'started_at'>): Promise<IncidentSuspect[]> {
  if (incident.services.length === 0) return [];
  const w = config.resolved.suspectWindow;
  const start = incident.started_at.getTime();
  const candidates = await suspectCandidates(db, { services: suspectServices(config, incident.services), from: new Date(start - w.lookbackMs), to: new Date(start + w.graceMs) });
  const ranked = rankSuspects(incident, candidates.map((c) => c.deployment), config.resolved.graph, w, config.incidents.max_suspects);
  const byDeployment = new Map(candidates.map((c) => [c.deployment.deployment_id, c]));
  return ranked.map((s) => {
    const c = byDeployment.get(s.deployment_id)!;
    return {
      ...s,
      change_id: c.change_id,
      team: c.team,
      author: c.author,
      ai: c.ai,
      risk_level: c.deployment.risk_level,
      url: c.url,
      deploy_status: c.deployment.status,
      ungated: c.deployment.ungated,
      approvals_required: c.deployment.approvals_required,
    };
  });
}

/** An incident with its current suspects and confirmed causes. */
export async function incidentView(db: DbOrTx, config: Config, incident: Incident): Promise<IncidentView> {
  const [suspects, causes] = [await suspectsFor(db, config, incident), (await causesOf(db, [incident.id])).get(incident.id)!];
  return { incident, suspects, causes };
}

/** `INC-3` with its suspects and causes, or null when the key is malformed or unknown. */
export async function getIncident(deps: Deps, key: string): Promise<IncidentView | null> {
  const incident = await findIncidentByKey(deps.database.db, key);
  return incident ? incidentView(deps.database.db, deps.config, incident) : null;
}

export async function findIncidentByKey(db: DbOrTx, key: string, opts: { forUpdate?: boolean } = {}): Promise<Incident | null> {
  const id = parseIncidentKey(key);
  return id === null ? null : findIncident(db, id, opts);
}

/** Incidents, newest first, each with its suspects and causes. */
export async function listIncidents(deps: Deps, opts: { status?: Incident['status']; limit: number; withSuspects?: boolean }): Promise<IncidentView[]> {
  const db = deps.database.db;
  const rows = await incidentRows(db, opts);
  const causes = await causesOf(db, rows.map((r) => r.id));
  const out: IncidentView[] = [];
  for (const incident of rows) {
    out.push({ incident, suspects: opts.withSuspects === false ? [] : await suspectsFor(db, deps.config, incident), causes: causes.get(incident.id)! });
  }
  return out;
}
