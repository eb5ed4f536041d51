import type { HistoryEntry } from '../db/repositories/audit.ts';
import type { Change } from '../domain/change.ts';
import type { FreezePeriod } from '../domain/freezes.ts';
import { countApprovals } from '../domain/sign-off.ts';
import { describeBlastRadius } from '../domain/review-brief.ts';

/** A person's name from the config's engineers, by Slack id (null when unknown). */
export type NameOf = (slackId: string) => string | null;

/** Names by Slack id from `engineers` (for `reviewer_name` and `by_name`). */
export function namesFrom(engineers: readonly { slack?: string; name?: string }[]): NameOf {
  const byId = new Map(engineers.filter((e) => e.slack && e.name).map((e) => [e.slack!, e.name!]));
  return (id) => byId.get(id) ?? null;
}

/** The API's JSON for a change. `nameOf` adds people's names next to their ids. */
export function presentChange(c: Change, history?: HistoryEntry[], nameOf: NameOf = () => null) {
  return {
    key: c.key,
    status: c.status,
    title: c.title,
    description: c.description,
    url: c.url,
    source: c.source,
    external_id: c.external_id,
    service: c.services[0],
    services: c.services,
    team: c.team,
    environment: c.environment,
    author: { slack_id: c.author.slack_id ?? null, github: c.author.github ?? null, email: c.author.email ?? null, name: c.author.name ?? null, level: c.author.level, bot: c.author.bot },
    ai_assisted: c.ai.assisted,
    ai_tool: c.ai.tool,
    ai_share: c.ai.share,
    ai_reasons: c.ai.reasons,
    labels: c.labels,
    head_sha: c.head_sha,
    plan_sha256: c.plan_sha256,
    merged_at: c.merged_at?.toISOString() ?? null,
    breakglass: c.breakglass ? { by: c.breakglass.by, reason: c.breakglass.reason, at: c.breakglass.at.toISOString() } : null,
    diff: c.diff,
    infrastructure: c.infra,
    risk: c.risk,
    blast_radius: { count: c.blast_radius.length, services: c.blast_radius, summary: describeBlastRadius(c.blast_radius) },
    approvals_required: c.approvals_required,
    round: c.round,
    assigned_to: c.assigned_to,
    approvals_received: countApprovals(c.sign_offs, c.round),
    approvals: c.sign_offs.map((s) => ({ reviewer: s.reviewer, reviewer_name: nameOf(s.reviewer), decision: s.decision, reason: s.reason ?? undefined, at: s.at.toISOString(), round: s.round, head_sha: s.head_sha ?? null, plan_sha256: s.plan_sha256 ?? null, current: s.round === c.round })),
    escalation: { step: ['none', 'reminded', 'escalated', 'expired'][c.escalation_step], claimed_by: c.claimed_by, claimed_at: c.claimed_at?.toISOString() ?? null },
    submitted_by: c.submitted_by,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
    decided_at: c.decided_at?.toISOString() ?? null,
    ...(history && {
      status_history: history
        .filter((h) => h.action === 'status_changed')
        .map((h) => ({ from: h.data.from ?? null, to: h.data.to, by: h.actor, by_name: nameOf(h.actor), at: h.at.toISOString(), reason: h.data.reason ?? undefined })),
      history: history.map((h) => ({ at: h.at.toISOString(), actor: h.actor, action: h.action, ...h.data })),
    }),
  };
}

/** A freeze as the gate shows it (pinned: name, reason, until). */
export const presentFreeze = (f: FreezePeriod) => ({ name: f.name, reason: f.reason, until: f.until.toISOString() });

/** A freeze period as `GET /api/freezes` lists it. */
export const presentFreezePeriod = (f: FreezePeriod & { active: boolean }) => ({
  ...presentFreeze(f),
  from: f.from.toISOString(),
  active: f.active,
  environments: f.environments,
  services: f.services,
});
