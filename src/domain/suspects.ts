import type { ServiceGraph } from './service-graph.ts';
import type { RiskLevel } from './types.ts';

/**
 * Incident suspects: which recent production deployments most likely caused an incident.
 * Pure: the deployments, the graph and the incident's start time are passed in.
 */

export interface SuspectDeployment {
  deployment_id: number;
  change_key: string;
  change_title: string;
  service: string;
  environment: string;
  status: 'succeeded' | 'failed' | 'rolled_back';
  /** Deployed without passing the sign-off gate. */
  ungated: boolean;
  deployed_at: Date;
  risk_level: RiskLevel;
  ai_assisted: boolean;
  approvals_required: number;
  approvals: number;
  approvers: string[];
}

export interface IncidentSubject {
  services: string[];
  started_at: Date;
}

export interface SuspectWindow {
  lookbackMs: number;
  graceMs: number;
}

export interface Suspect {
  change: string;
  title: string;
  score: number;
  reasons: string[];
  deployment_id: number;
  service: string;
  deployed_at: Date;
  /** Whole minutes between the deploy and the incident start; negative when deployed after the start. */
  minutes_before: number;
  approvers: string[];
}

/** Only deployments to this environment are suspects. */
export const SUSPECT_ENVIRONMENT = 'production';

const MS_PER_MIN = 60_000;

/** True when `started_at - lookback <= d <= started_at + grace` (both ends inclusive). */
export function inWindow(d: Date, incident: IncidentSubject, w: SuspectWindow): boolean {
  const t = d.getTime();
  const start = incident.started_at.getTime();
  return start - w.lookbackMs <= t && t <= start + w.graceMs;
}

/*
 * Suspect score
 * -------------
 * Candidates are deployments to production of the incident's services or of any service they
 * depend on (directly or transitively), deployed between `lookback` before the incident started
 * and `grace` after it, whatever their status. Each candidate gets a score that is the sum of:
 *
 * - Time proximity: 40 × e^(−minutes before / 120). A deploy at the incident start scores 40,
 *   one 2 h before about 14.7, one 24 h before almost 0. Deploys after the start (within grace)
 *   count as 0 minutes before, i.e. the full 40.
 * - Graph distance: 30 for a deploy to one of the incident's own services, 18 for a direct
 *   dependency of one, 10 at distance 2, 5 further away.
 * - Risk level of the change: low 0, medium 5, high 10, critical 15.
 * - AI-assisted change: +8.
 * - Sign-off: deployed ungated (without passing the sign-off gate) +15; otherwise, approved with
 *   fewer sign-offs than its risk level requires +10.
 * - Deploy status: failed +10, rolled back +12.
 *
 * The sum is rounded to one decimal. A change deployed several times is listed once, with its
 * best-scoring deployment. Suspects are ordered by score (highest first), then by the most recent
 * deploy, then by change key, and the list is cut to `max_suspects`.
 */

const TIME_WEIGHT = 40;
const TIME_DECAY_MIN = 120;
const RISK_POINTS: Record<RiskLevel, number> = { low: 0, medium: 5, high: 10, critical: 15 };
const AI_POINTS = 8;
const UNGATED_POINTS = 15;
const UNDER_APPROVED_POINTS = 10;
const STATUS_POINTS: Record<SuspectDeployment['status'], number> = { succeeded: 0, failed: 10, rolled_back: 12 };

function distancePoints(distance: number): number {
  if (distance === 0) return 30;
  if (distance === 1) return 18;
  if (distance === 2) return 10;
  return 5;
}

/** Ranks the deployments that may have caused the incident; see the score description above. */
export function rankSuspects(
  incident: IncidentSubject,
  deployments: readonly SuspectDeployment[],
  graph: ServiceGraph,
  w: SuspectWindow,
  max = 5,
): Suspect[] {
  if (incident.services.length === 0 || max <= 0) return [];
  const best = new Map<string, Suspect>();
  for (const d of deployments) {
    if (d.environment.toLowerCase() !== SUSPECT_ENVIRONMENT) continue;
    if (!inWindow(d.deployed_at, incident, w)) continue;
    const near = graph.nearestDependent(incident.services, d.service);
    if (!near) continue;
    const s = toSuspect(d, incident, near);
    const prev = best.get(s.change);
    if (!prev || compareSuspects(s, prev) < 0) best.set(s.change, s);
  }
  return [...best.values()].sort(compareSuspects).slice(0, max);
}

function toSuspect(d: SuspectDeployment, incident: IncidentSubject, near: { service: string; distance: number }): Suspect {
  const msBefore = incident.started_at.getTime() - d.deployed_at.getTime();
  const minutesBefore = Math.max(0, msBefore / MS_PER_MIN);
  let score = TIME_WEIGHT * Math.exp(-minutesBefore / TIME_DECAY_MIN) + distancePoints(near.distance) + RISK_POINTS[d.risk_level];

  const where = near.distance === 0 ? `deployed to ${d.service}` : `deployed to ${d.service}, which ${near.service} depends on,`;
  const when = msBefore >= 0 ? `${formatMinutes(msBefore)} before the incident` : `${formatMinutes(-msBefore)} after the incident started`;
  const reasons = [`${where} ${when}`];

  if (d.ai_assisted) {
    score += AI_POINTS;
    reasons.push('AI-assisted');
  }
  if (d.risk_level !== 'low') reasons.push(`${d.risk_level} risk`);
  if (d.ungated) {
    score += UNGATED_POINTS;
    reasons.push('deployed without sign-off (ungated)');
  } else if (d.approvals < d.approvals_required) {
    score += UNDER_APPROVED_POINTS;
    reasons.push(`approved with ${d.approvals} of ${d.approvals_required} sign-offs`);
  }
  score += STATUS_POINTS[d.status];
  if (d.status === 'failed') reasons.push('deploy failed');
  if (d.status === 'rolled_back') reasons.push('rolled back');

  return {
    change: d.change_key,
    title: d.change_title,
    score: Math.round(score * 10) / 10,
    reasons,
    deployment_id: d.deployment_id,
    service: d.service,
    deployed_at: d.deployed_at,
    minutes_before: Math.sign(msBefore) * Math.round(Math.abs(msBefore) / MS_PER_MIN) || 0,
    approvers: [...d.approvers],
  };
}

/** Score desc, then most recent deploy, then change key, then deployment id (for a stable choice within a change). */
function compareSuspects(a: Suspect, b: Suspect): number {
  return (
    b.score - a.score ||
    b.deployed_at.getTime() - a.deployed_at.getTime() ||
    (a.change < b.change ? -1 : a.change > b.change ? 1 : 0) ||
    a.deployment_id - b.deployment_id
  );
}

/** `20 min`, `2 h 5 min`, `2 h`; under half a minute is `less than 1 min`. */
export function formatMinutes(ms: number): string {
  const total = Math.round(Math.abs(ms) / MS_PER_MIN);
  if (total < 1) return 'less than 1 min';
  if (total < 60) return `${total} min`;
  const h = Math.floor(total / 60);
  const m = total % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}
