import { between, sql } from 'drizzle-orm';
import type { ChangeStatus } from '../../domain/types.ts';
import type { Database } from '../client.ts';
import { incidents } from '../schema.ts';

/** Seconds as a comma-separated text aggregate: both drivers return text the same way (arrays differ). */
const secs = (s: string | null): number[] => (s ? s.split(',').map(Number).filter(Number.isFinite) : []);

export interface ChangeAggregates {
  total: number;
  by_risk: { low: number; medium: number; high: number; critical: number };
  ai_assisted: number;
  /** created_at → decided_at of approved changes that needed sign-off, in seconds. */
  sign_off_seconds: number[];
}

export interface FailureAggregates {
  ai_assisted: boolean;
  deployed: number;
  failed: number;
}

export interface ApproverAggregates {
  approver: string;
  sign_offs: number;
  approvals: number;
  rejections: number;
  /** change created_at → sign-off, in seconds. */
  seconds: number[];
  confirmed_causes: number;
}

export interface BreakGlassUse {
  id: number;
  title: string;
  by: string;
  reason: string;
  at: Date;
  status: ChangeStatus;
}

/** The few aggregate queries behind the stats report, over [from, to]. Timestamps go in as ISO text. */
export async function statsAggregates(database: Database, from: Date, to: Date) {
  const f = from.toISOString();
  const t = to.toISOString();
  const [changes] = await database.rows<{ total: number; low: number; medium: number; high: number; critical: number; ai: number; signoff: string | null; shadow: number; shadow_waited: number }>(sql`
    select count(*)::int as total,
           count(*) filter (where shadow)::int as shadow,
           count(*) filter (where shadow and approvals_required > 0)::int as shadow_waited,
           count(*) filter (where risk_level = 'low')::int as low,
           count(*) filter (where risk_level = 'medium')::int as medium,
           count(*) filter (where risk_level = 'high')::int as high,
           count(*) filter (where risk_level = 'critical')::int as critical,
           count(*) filter (where ai_assisted)::int as ai,
           string_agg(case when status = 'approved' and approvals_required > 0 and decided_at is not null
                           then extract(epoch from (decided_at - created_at))::float8::text end, ',') as signoff
    from changes where created_at between ${f}::timestamptz and ${t}::timestamptz`);

  const [deploys] = await database.rows<{ total: number; ungated: number; production: number; shadow_blocked: number }>(sql`
    select count(*)::int as total, count(*) filter (where ungated)::int as ungated,
           count(*) filter (where shadow and (ungated or frozen_by is not null))::int as shadow_blocked,
           count(*) filter (where lower(environment) = 'production')::int as production
    from deployments where deployed_at between ${f}::timestamptz and ${t}::timestamptz`);

  // Deployed changes: at least one production deployment in the window. Failed: confirmed as a cause of any incident.
  const failure = await database.rows<{ ai_assisted: boolean; deployed: number; failed: number }>(sql`
    select c.ai_assisted, count(*)::int as deployed,
           count(*) filter (where exists (select 1 from incident_causes ic where ic.change_id = c.id))::int as failed
    from changes c
    where exists (select 1 from deployments d where d.change_id = c.id and lower(d.environment) = 'production'
                  and d.deployed_at between ${f}::timestamptz and ${t}::timestamptz)
    group by c.ai_assisted`);

  const approvers = await database.rows<{ approver: string; sign_offs: number; approvals: number; rejections: number; seconds: string | null; causes: number }>(sql`
    select s.reviewer as approver, count(*)::int as sign_offs,
           count(*) filter (where s.decision = 'approved')::int as approvals,
           count(*) filter (where s.decision = 'rejected')::int as rejections,
           string_agg(extract(epoch from (s.at - c.created_at))::float8::text, ',') as seconds,
           count(distinct c.id) filter (where s.decision = 'approved' and exists (select 1 from incident_causes ic where ic.change_id = c.id))::int as causes
    from sign_offs s join changes c on c.id = s.change_id
    where s.at between ${f}::timestamptz and ${t}::timestamptz
    group by s.reviewer
    order by count(*) desc, s.reviewer`);

  // Open assigned reviews right now (load-aware assignment), so a lead can see if one person carries the team.
  const assigned = await database.rows<{ reviewer: string; open: number }>(sql`
    select assigned_to as reviewer, count(*)::int as open from changes
    where status = 'pending' and assigned_to is not null group by assigned_to`);

  // Break-glass uses in the window (the latest per change: a change is break-glassed at most once while pending).
  const breakglass = await database.rows<{ id: number; title: string; by: string; reason: string | null; at: string | Date; status: string }>(sql`
    select id, title, breakglass_by as by, breakglass_reason as reason, breakglass_at as at, status
    from changes where breakglass_at between ${f}::timestamptz and ${t}::timestamptz
    order by breakglass_at desc, id desc limit 500`);

  const incidentRows = await database.db
    .select({ started_at: incidents.startedAt, resolved_at: incidents.resolvedAt })
    .from(incidents)
    .where(between(incidents.startedAt, from, to));

  return {
    changes: {
      total: changes.total,
      by_risk: { low: changes.low, medium: changes.medium, high: changes.high, critical: changes.critical },
      ai_assisted: changes.ai,
      sign_off_seconds: secs(changes.signoff),
    } satisfies ChangeAggregates,
    deployments: deploys,
    shadow: { changes: changes.shadow, would_have_waited: changes.shadow_waited, would_have_blocked_deploys: deploys.shadow_blocked },
    failure: failure.map((r) => ({ ai_assisted: Boolean(r.ai_assisted), deployed: r.deployed, failed: r.failed })) satisfies FailureAggregates[],
    approvers: approvers.map((r) => ({ approver: r.approver, sign_offs: r.sign_offs, approvals: r.approvals, rejections: r.rejections, seconds: secs(r.seconds), confirmed_causes: r.causes })) satisfies ApproverAggregates[],
    open_assigned: new Map(assigned.map((r) => [r.reviewer, Number(r.open)])),
    /** Incidents that started in the window. */
    incidents: incidentRows,
    breakglass: breakglass.map((r) => ({ id: Number(r.id), title: r.title, by: r.by, reason: r.reason ?? '', at: new Date(r.at), status: r.status as ChangeStatus })) satisfies BreakGlassUse[],
  };
}
