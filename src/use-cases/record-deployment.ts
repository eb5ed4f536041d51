import { invalid, refuse, type Refusal } from '../domain/errors.ts';
import type { Tx } from '../db/client.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findChange } from '../db/repositories/changes.ts';
import { insertDeployment } from '../db/repositories/deployments.ts';
import { openIncidentsStartedBetween } from '../db/repositories/incidents.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import type { Deployment, DeploymentStatus, Incident } from '../domain/incident.ts';
import { gateOf } from '../domain/status.ts';
import { gateContext } from './check-gate.ts';
import { SUSPECT_ENVIRONMENT } from '../domain/suspects.ts';
import type { Deps } from './ports.ts';
import { environmentIssue, serviceIssue } from './decide-intake.ts';

export interface DeploymentInput {
  environment: string;
  service?: string;
  deployed_at?: Date;
  status: DeploymentStatus;
}

export type RecordDeploymentResult = { ok: true; deployment: Deployment; change: Change } | Refusal;

/**
 * Records that a change was deployed. A deployment is always recorded, even when the change's gate
 * is not open: it is then marked `ungated` and a loud alert goes out in the same transaction.
 * Open incidents whose suspect window and services cover it get their broadcast re-rendered.
 */
export async function recordDeployment(deps: Deps, key: string, input: DeploymentInput, deployer: string, via?: string): Promise<RecordDeploymentResult> {
  const id = parseChangeKey(key);
  const missing = refuse('not_found', `There is no change ${key}.`);
  if (id === null) return missing;
  const { config } = deps;

  return deps.database.db.transaction(async (tx) => {
    const change = await findChange(tx, id);
    if (!change) return missing;
    const envIssue = environmentIssue(config, input.environment);
    if (envIssue) return invalid([envIssue]);
    const service = input.service ?? change.services[0];
    const serviceProblem = serviceIssue(config, service, 'service');
    if (serviceProblem) return invalid([serviceProblem]);
    const now = deps.clock.now();
    const environment = input.environment.toLowerCase();
    // Ungated: deployed without the sign-off it needs; and whether a freeze held that environment.
    const ctx = gateContext(deps, change, environment);
    const ungated = !gateOf(change).allowed;
    const freeze = ctx.freeze && change.status !== 'approved_breakglass' ? ctx.freeze.name : null;
    const deployment = await insertDeployment(tx, { changeId: change.id, service, environment, status: input.status, ungated, shadow: ctx.shadow, frozenBy: freeze, deployedAt: input.deployed_at ?? now, createdAt: now });
    await appendAudit(tx, now, [
      {
        actor: deployer,
        via,
        action: 'deployment_recorded',
        changeId: change.id,
        data: { deployment_id: deployment.id, service, environment: deployment.environment, status: deployment.status, ungated, ...(ctx.shadow && { shadow: true }), ...(freeze && { freeze }), gate_status: change.status, deployed_at: deployment.deployed_at.toISOString() },
      },
    ]);
    const incidents = deployment.environment === SUSPECT_ENVIRONMENT ? await incidentsTouchedBy(deps, tx, deployment) : [];
    await deps.incidents.deploymentRecorded(tx, deployment, change, incidents, deployer);
    return { ok: true as const, deployment, change };
  });
}

/** Open incidents whose suspect set could now include this deployment (window and service graph). */
async function incidentsTouchedBy(deps: Deps, tx: Tx, d: Deployment): Promise<Incident[]> {
  const w = deps.config.resolved.suspectWindow;
  const t = d.deployed_at.getTime();
  // started_at − lookback ≤ deployed_at ≤ started_at + grace  ⇔  deployed_at − grace ≤ started_at ≤ deployed_at + lookback
  const open = await openIncidentsStartedBetween(tx, new Date(t - w.graceMs), new Date(t + w.lookbackMs));
  const graph = deps.config.resolved.graph;
  return open.filter((i) => graph.nearestDependent(i.services, d.service) !== null);
}
