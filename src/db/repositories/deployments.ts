import { and, between, desc, eq, inArray, sql } from 'drizzle-orm';
import { changeKey } from '../../domain/change.ts';
import type { Deployment } from '../../domain/incident.ts';
import { SUSPECT_ENVIRONMENT, type SuspectDeployment } from '../../domain/suspects.ts';
import type { AiAssessment, ResolvedAuthor } from '../../domain/types.ts';
import type { DbOrTx } from '../client.ts';
import { changes, deployments, signOffs, type DeploymentRow } from '../schema.ts';

export function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    change_id: row.changeId,
    change_key: changeKey(row.changeId),
    service: row.service,
    environment: row.environment,
    status: row.status,
    ungated: row.ungated,
    shadow: row.shadow,
    freeze: row.frozenBy,
    deployed_at: row.deployedAt,
    created_at: row.createdAt,
  };
}

export async function insertDeployment(db: DbOrTx, d: Omit<DeploymentRow, 'id'>): Promise<Deployment> {
  const [row] = await db.insert(deployments).values(d).returning();
  return toDeployment(row);
}

/** A suspect candidate plus the change facts the broadcast shows. */
export interface SuspectCandidate {
  deployment: SuspectDeployment;
  change_id: number;
  team: string;
  author: ResolvedAuthor;
  ai: AiAssessment;
  url: string | null;
}

/** At most this many candidates (the most recent) are ranked; far more than any real window holds. */
const MAX_CANDIDATES = 5_000;

/**
 * Suspect candidates in ONE query: production deployments of `services` deployed in [from, to],
 * joined to their change, with the approvers of the change's current review round aggregated.
 * The filter matches the `deployments_env_service_time_idx` index (environment, service, deployed_at).
 */
export async function suspectCandidates(db: DbOrTx, q: { services: string[]; from: Date; to: Date }): Promise<SuspectCandidate[]> {
  if (q.services.length === 0) return [];
  const approvers = sql<string | null>`(select string_agg(${signOffs.reviewer}, ',' order by ${signOffs.at}, ${signOffs.id}) from ${signOffs}
    where ${signOffs.changeId} = ${changes.id} and ${signOffs.round} = ${changes.round} and ${signOffs.decision} = 'approved')`;
  const rows = await db
    .select({
      id: deployments.id,
      service: deployments.service,
      environment: deployments.environment,
      status: deployments.status,
      ungated: deployments.ungated,
      deployedAt: deployments.deployedAt,
      changeId: changes.id,
      title: changes.title,
      team: changes.team,
      riskLevel: changes.riskLevel,
      aiAssisted: changes.aiAssisted,
      ai: changes.ai,
      author: changes.author,
      url: changes.url,
      approvalsRequired: changes.approvalsRequired,
      approvers,
    })
    .from(deployments)
    .innerJoin(changes, eq(changes.id, deployments.changeId))
    .where(and(eq(deployments.environment, SUSPECT_ENVIRONMENT), inArray(deployments.service, q.services), between(deployments.deployedAt, q.from, q.to)))
    .orderBy(desc(deployments.deployedAt), desc(deployments.id))
    .limit(MAX_CANDIDATES);
  return rows.map((r) => {
    const list = r.approvers ? r.approvers.split(',') : [];
    return {
      deployment: {
        deployment_id: r.id,
        change_key: changeKey(r.changeId),
        change_title: r.title,
        service: r.service,
        environment: r.environment,
        status: r.status,
        ungated: r.ungated,
        deployed_at: r.deployedAt,
        risk_level: r.riskLevel,
        ai_assisted: r.aiAssisted,
        approvals_required: r.approvalsRequired,
        approvals: list.length,
        approvers: list,
      },
      change_id: r.changeId,
      team: r.team,
      author: r.author,
      ai: r.ai,
      url: r.url,
    };
  });
}
