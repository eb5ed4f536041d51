import type { Deployment, IncidentView } from '../domain/incident.ts';

/** The API's JSON for a deployment. */
export function presentDeployment(d: Deployment) {
  return {
    id: d.id,
    change: d.change_key,
    service: d.service,
    environment: d.environment,
    status: d.status,
    ungated: d.ungated,
    deployed_at: d.deployed_at.toISOString(),
    created_at: d.created_at.toISOString(),
  };
}

/** The API's JSON for an incident: computed suspects (ranked) and confirmed causes (stored). */
export function presentIncident({ incident: i, suspects, causes }: IncidentView) {
  const confirmed = new Set(causes.map((c) => c.change));
  return {
    key: i.key,
    status: i.status,
    title: i.title,
    severity: i.severity,
    services: i.services,
    started_at: i.started_at.toISOString(),
    resolved_at: i.resolved_at?.toISOString() ?? null,
    duration_minutes: i.resolved_at ? Math.max(0, Math.round((i.resolved_at.getTime() - i.started_at.getTime()) / 60_000)) : null,
    source: i.source,
    external_id: i.external_id,
    declared_by: i.declared_by,
    created_at: i.created_at.toISOString(),
    updated_at: i.updated_at.toISOString(),
    suspects: suspects.map((s) => ({
      change: s.change,
      score: s.score,
      reasons: s.reasons,
      title: s.title,
      service: s.service,
      deployed_at: s.deployed_at.toISOString(),
      minutes_before: s.minutes_before,
      approvers: s.approvers,
      author: { slack_id: s.author.slack_id ?? null, github: s.author.github ?? null, email: s.author.email ?? null, name: s.author.name ?? null },
      ai_assisted: s.ai.assisted,
      risk: s.risk_level,
      deploy_status: s.deploy_status,
      ungated: s.ungated,
      confirmed: confirmed.has(s.change),
    })),
    causes: causes.map((c) => ({ change: c.change, title: c.title, confirmed_by: c.confirmed_by, at: c.at.toISOString(), approvers: c.approvers })),
  };
}
