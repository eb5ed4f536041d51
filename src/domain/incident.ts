import type { Suspect } from './suspects.ts';
import type { AiAssessment, ResolvedAuthor, RiskLevel } from './types.ts';

/** Incidents and deployments as the domain sees them. Pure data, no I/O. */

export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DEPLOYMENT_STATUSES = ['succeeded', 'failed', 'rolled_back'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export interface Deployment {
  id: number;
  change_id: number;
  change_key: string;
  service: string;
  environment: string;
  status: DeploymentStatus;
  /** Deployed while the change's gate was not open (pending, rejected, expired, cancelled). */
  ungated: boolean;
  /** Deployed while its team was in shadow mode: an ungated one is a deploy the gate would have blocked. */
  shadow: boolean;
  /** The freeze that held its environment at the time (null: none). */
  freeze: string | null;
  deployed_at: Date;
  created_at: Date;
}

export interface Incident {
  id: number;
  key: string;
  title: string;
  severity: Severity;
  services: string[];
  status: 'open' | 'resolved';
  source: string;
  external_id: string | null;
  started_at: Date;
  resolved_at: Date | null;
  declared_by: string;
  created_at: Date;
  updated_at: Date;
}

/** A ranked suspect with what a person needs to judge it: author, AI assistance, risk, sign-off. */
export interface IncidentSuspect extends Suspect {
  change_id: number;
  team: string;
  author: ResolvedAuthor;
  ai: AiAssessment;
  risk_level: RiskLevel;
  url: string | null;
  deploy_status: DeploymentStatus;
  ungated: boolean;
  approvals_required: number;
}

/** A change a person confirmed as a cause. */
export interface IncidentCause {
  change_id: number;
  change: string;
  title: string;
  confirmed_by: string;
  at: Date;
  approvers: string[];
}

/** An incident with its current suspects (computed) and confirmed causes (stored). */
export interface IncidentView {
  incident: Incident;
  suspects: IncidentSuspect[];
  causes: IncidentCause[];
}

const KEY = /^INC-(\d{1,9})$/i;

export const incidentKey = (id: number): string => `INC-${id}`;

/** The numeric id in `INC-3` (case-insensitive), or null for anything else. */
export function parseIncidentKey(key: string): number | null {
  const m = KEY.exec(key.trim());
  if (!m) return null;
  const id = Number(m[1]);
  return id > 0 && id <= 2_147_483_647 ? id : null;
}

/** How long an incident lasted (resolved) or has lasted so far (`now`), never negative. */
export function incidentDurationMs(incident: Pick<Incident, 'started_at' | 'resolved_at'>, now: Date): number {
  return Math.max(0, (incident.resolved_at ?? now).getTime() - incident.started_at.getTime());
}

/**
 * Maps an Alertmanager `severity` label to an incident severity through the configured map
 * (exact key first, then lowercase); anything else is sev3.
 */
export function severityFromLabel(label: string | undefined, map: Record<string, Severity>): Severity {
  if (!label) return 'sev3';
  return map[label] ?? map[label.toLowerCase()] ?? 'sev3';
}

/** The most severe of several (sev1 is the most severe); sev3 when empty. */
export function mostSevere(severities: Severity[]): Severity {
  return severities.length ? [...severities].sort()[0] : 'sev3';
}
