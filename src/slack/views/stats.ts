import type { KnownBlock } from '@slack/types';
import type { FailureRate, StatsReport } from '../../use-cases/report-stats.ts';
import { fitMrkdwn, mention, safeText } from '../mrkdwn.ts';
import type { SlackMessage } from './change-card.ts';

const pct = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x * 1000) / 10}%`);
const mins = (m: number | null) => (m === null ? 'n/a' : m < 60 ? `${m} min` : `${Math.round((m / 60) * 10) / 10} h`);
const cfr = (r: FailureRate) => `${pct(r.rate)} (${r.failed_changes} of ${r.deployed_changes})`;
const who = (id: string) => (/^[UW][A-Z0-9]+$/.test(id) ? mention(id) : `\`${safeText(id, 60)}\``);

/** `/change stats [days]`: the stats report as a short ephemeral message. */
export function buildStatsReport(r: StatsReport): SlackMessage {
  const c = r.changes;
  const lines = [
    `*Changes:* ${c.total} (low ${c.by_risk.low} · medium ${c.by_risk.medium} · high ${c.by_risk.high} · critical ${c.by_risk.critical}) · AI-assisted ${c.ai_assisted} (${pct(c.ai_assisted_share)})`,
    `*Time to sign-off:* median ${mins(r.time_to_sign_off.median_minutes)} · p90 ${mins(r.time_to_sign_off.p90_minutes)} (${r.time_to_sign_off.approved_changes} approved)`,
    `*Deployments:* ${r.deployments.total} (${r.deployments.production} to production) · ungated ${r.deployments.ungated}`,
    `*Change failure rate:* ${cfr(r.change_failure_rate.overall)} · AI-assisted ${cfr(r.change_failure_rate.ai_assisted)} · not AI-assisted ${cfr(r.change_failure_rate.not_ai_assisted)}`,
    `*Incidents:* ${r.incidents.total} · resolved ${r.incidents.resolved} · MTTR ${mins(r.incidents.mttr_minutes)}`,
  ];
  const s = r.shadow;
  if (s.changes > 0 || s.would_have_blocked_deploys > 0) {
    lines.push(`*Shadow mode:* ${s.changes} change${s.changes === 1 ? '' : 's'} · ${s.would_have_waited} would have waited for sign-off · ${s.would_have_blocked_deploys} deploy${s.would_have_blocked_deploys === 1 ? '' : 's'} would have been blocked`);
  }
  const approvers = r.approvers
    .slice(0, 30)
    .map((a) => `• ${who(a.approver)}: ${a.sign_offs} sign-off${a.sign_offs === 1 ? '' : 's'} (${a.approvals} approved, ${a.rejections} rejected) · median ${mins(a.median_minutes_to_sign_off)} · ${a.confirmed_causes} confirmed cause${a.confirmed_causes === 1 ? '' : 's'} · ${a.open_assigned_reviews} open assigned`);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `Countersign stats: last ${r.days} day${r.days === 1 ? '' : 's'}` } },
    { type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(lines.join('\n'), 3000) } },
    { type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(`*Approvers*\n${approvers.join('\n') || 'No sign-offs in this period.'}`, 3000) } },
  ];
  const bg = r.break_glass;
  if (bg && bg.total > 0) {
    const uses = bg.uses
      .slice(0, 15)
      .map((u) => `• *${u.change}* ${safeText(u.title, 80)} · by ${who(u.by)} · ${safeText(u.reason, 200)} · ${u.reviewed ? `reviewed (${u.status})` : u.overdue ? ':warning: unreviewed, overdue' : 'awaiting retroactive sign-off'}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(`*Break-glass:* ${bg.total} use${bg.total === 1 ? '' : 's'} · ${bg.unreviewed} unreviewed (${bg.overdue} overdue)\n${uses.join('\n')}`, 3000) } });
  }
  return { text: `Countersign stats for the last ${r.days} days: ${c.total} changes, change failure rate ${pct(r.change_failure_rate.overall.rate)}`, blocks };
}
