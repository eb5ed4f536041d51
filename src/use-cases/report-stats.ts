import { statsAggregates } from '../db/repositories/stats.ts';
import { changeFailureRate, median, mttrMs, percentile } from '../domain/stats.ts';
import { changeKey } from '../domain/change.ts';
import type { ChangeStatus } from '../domain/types.ts';
import type { Deps } from './ports.ts';

const DAY_MS = 86_400_000;
const minutes = (secondsOrNull: number | null) => (secondsOrNull === null ? null : Math.round((secondsOrNull / 60) * 10) / 10);
const share = (part: number, total: number) => (total > 0 ? Math.round((part / total) * 1000) / 1000 : null);

/** `days` for the report: an integer 1–365 (default 30); null when the text is not one. */
export function parseStatsDays(text: string | undefined | null): number | null {
  if (text === undefined || text === null || text === '') return 30;
  if (!/^\d{1,3}$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 365 ? n : null;
}

export interface FailureRate {
  deployed_changes: number;
  failed_changes: number;
  /** 0–1, 3 decimals; null when nothing was deployed. */
  rate: number | null;
}

export interface StatsReport {
  days: number;
  from: string;
  to: string;
  changes: { total: number; by_risk: { low: number; medium: number; high: number; critical: number }; ai_assisted: number; ai_assisted_share: number | null };
  time_to_sign_off: { approved_changes: number; median_minutes: number | null; p90_minutes: number | null };
  deployments: { total: number; production: number; ungated: number };
  /**
   * Shadow mode (a dry run of the gate): changes registered while their team was in shadow mode,
   * those that would have waited for sign-off, and deployments the gate would have blocked
   * (no sign-off yet, or a freeze).
   */
  shadow: { changes: number; would_have_waited: number; would_have_blocked_deploys: number };
  change_failure_rate: { overall: FailureRate; ai_assisted: FailureRate; not_ai_assisted: FailureRate };
  incidents: { total: number; resolved: number; mttr_minutes: number | null };
  approvers: { approver: string; sign_offs: number; approvals: number; rejections: number; median_minutes_to_sign_off: number | null; confirmed_causes: number; open_assigned_reviews: number }[];
  /**
   * Gates opened under break-glass in the window. A use is reviewed once normal sign-off decided the
   * change afterwards (approved or rejected); `overdue` uses are unreviewed past `break_glass.review_within`.
   */
  break_glass: { total: number; unreviewed: number; overdue: number; uses: BreakGlassUseReport[] };
}

export interface BreakGlassUseReport {
  change: string;
  title: string;
  by: string;
  reason: string;
  at: string;
  status: ChangeStatus;
  reviewed: boolean;
  overdue: boolean;
}

/**
 * The delivery and review report over the last `days` days: changes by risk and AI share, time to
 * sign-off, deployments (ungated ones too), change failure rate split by AI assistance, MTTR, and
 * per approver sign-offs, speed and confirmed causes among what they approved.
 */
export async function reportStats(deps: Deps, opts: { days: number }): Promise<StatsReport> {
  const to = deps.clock.now();
  const from = new Date(to.getTime() - opts.days * DAY_MS);
  const a = await statsAggregates(deps.database, from, to);
  const rate = (rows: typeof a.failure): FailureRate => {
    const deployed = rows.reduce((n, r) => n + r.deployed, 0);
    const failed = rows.reduce((n, r) => n + r.failed, 0);
    return { deployed_changes: deployed, failed_changes: failed, rate: changeFailureRate(deployed, failed) };
  };
  const mttr = mttrMs(a.incidents);
  const reviewWithinMs = deps.config.resolved.breakGlassReviewMs;
  const uses: BreakGlassUseReport[] = a.breakglass.map((u) => {
    const reviewed = u.status === 'approved' || u.status === 'rejected';
    return { change: changeKey(u.id), title: u.title, by: u.by, reason: u.reason, at: u.at.toISOString(), status: u.status, reviewed, overdue: !reviewed && to.getTime() - u.at.getTime() > reviewWithinMs };
  });
  return {
    days: opts.days,
    from: from.toISOString(),
    to: to.toISOString(),
    changes: { total: a.changes.total, by_risk: a.changes.by_risk, ai_assisted: a.changes.ai_assisted, ai_assisted_share: share(a.changes.ai_assisted, a.changes.total) },
    time_to_sign_off: {
      approved_changes: a.changes.sign_off_seconds.length,
      median_minutes: minutes(median(a.changes.sign_off_seconds)),
      p90_minutes: minutes(percentile(a.changes.sign_off_seconds, 90)),
    },
    deployments: { total: a.deployments.total, production: a.deployments.production, ungated: a.deployments.ungated },
    shadow: a.shadow,
    change_failure_rate: {
      overall: rate(a.failure),
      ai_assisted: rate(a.failure.filter((r) => r.ai_assisted)),
      not_ai_assisted: rate(a.failure.filter((r) => !r.ai_assisted)),
    },
    incidents: { total: a.incidents.length, resolved: a.incidents.filter((i) => i.resolved_at).length, mttr_minutes: mttr === null ? null : minutes(mttr / 1000) },
    approvers: [
      ...a.approvers.map((r) => ({
        approver: r.approver,
        sign_offs: r.sign_offs,
        approvals: r.approvals,
        rejections: r.rejections,
        median_minutes_to_sign_off: minutes(median(r.seconds)),
        confirmed_causes: r.confirmed_causes,
        open_assigned_reviews: a.open_assigned.get(r.approver) ?? 0,
      })),
      // Reviewers with assigned work but no sign-off in the window still show up.
      ...[...a.open_assigned]
        .filter(([u]) => !a.approvers.some((r) => r.approver === u))
        .map(([u, open]) => ({ approver: u, sign_offs: 0, approvals: 0, rejections: 0, median_minutes_to_sign_off: null, confirmed_causes: 0, open_assigned_reviews: open })),
    ],
    break_glass: { total: uses.length, unreviewed: uses.filter((u) => !u.reviewed).length, overdue: uses.filter((u) => u.overdue).length, uses },
  };
}
