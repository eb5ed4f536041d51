import { z } from 'zod';
import { fieldIssues, type FieldIssue } from '../config/issues.ts';
import { appendAudit, type AuditEvent } from '../db/repositories/audit.ts';
import { markMerged, notePullRequestTime, reopenCancelled, reviseRisk as storeRisk, startReviewRound } from '../db/repositories/change-revisions.ts';
import type { Tx } from '../db/client.ts';
import { findChange, findChangeByExternalId, transitionStatus } from '../db/repositories/changes.ts';
import { detectAiAssistance } from '../domain/ai-detection.ts';
import type { Change } from '../domain/change.ts';
import { evaluatePolicy } from '../domain/policy.ts';
import { reviseRisk, sameCommit, statusForNewRound } from '../domain/revision.ts';
import { changeInputSchema, LIMITS } from './change-input.ts';
import type { Deps } from './ports.ts';
import { registerChange } from './register-change.ts';

/**
 * GitHub `pull_request` webhook events → changes. Only what is used is validated; GitHub adds
 * fields over time, so unknown ones are tolerated.
 */
const count = z.number().int().min(0).max(10_000_000);
export const pullRequestEvent = z.looseObject({
  action: z.string().min(1).max(100),
  pull_request: z.looseObject({
    number: z.number().int().positive(),
    html_url: z.string().max(LIMITS.url),
    title: z.string(),
    body: z.string().nullish(),
    draft: z.boolean().nullish(),
    merged: z.boolean().nullish(),
    merged_at: z.string().nullish(),
    user: z.looseObject({ login: z.string().min(1).max(100), type: z.string().nullish() }),
    labels: z.array(z.looseObject({ name: z.string() })).nullish(),
    head: z.looseObject({ sha: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/i, 'expected a full hex commit SHA') }),
    // Orders deliveries: an event older than the last one applied is stale (out of order, or replayed).
    updated_at: z.iso.datetime({ offset: true }).nullish(),
    changed_files: count.nullish(),
    additions: count.nullish(),
    deletions: count.nullish(),
  }),
  repository: z.looseObject({ full_name: z.string().min(3).max(200) }),
  sender: z.looseObject({ login: z.string().max(100) }).nullish(),
});
export type PullRequestEvent = z.infer<typeof pullRequestEvent>;

export type GithubOutcome =
  | { outcome: 'registered' | 'exists' | 'new_round' | 'reopened' | 'unchanged' | 'risk_raised' | 'labels_updated' | 'cancelled' | 'merged'; change: string }
  | { outcome: 'ignored'; change: string | null; reason: string; message?: string }
  | { outcome: 'invalid'; issues: FieldIssue[] };

export const GITHUB_SOURCE = 'github';

/** `acme/shop#42`: the idempotency key of a pull request's change. */
export const pullRequestExternalId = (e: PullRequestEvent) => `${e.repository.full_name}#${e.pull_request.number}`;

const labelsOf = (e: PullRequestEvent) => (e.pull_request.labels ?? []).map((l) => l.name.trim()).filter(Boolean).slice(0, LIMITS.labels);
const sameLabels = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const isBotAccount = (e: PullRequestEvent) => e.pull_request.user.type === 'Bot';
const actorOf = (e: PullRequestEvent) => `github:${e.sender?.login ?? e.pull_request.user.login}`;

/** When GitHub last updated the pull request, per the event (null when the payload has no time). */
const eventTime = (e: PullRequestEvent): Date | null => (e.pull_request.updated_at ? new Date(e.pull_request.updated_at) : null);

/**
 * Applies `fn` to a registered change under its row lock, unless the event is older than the last
 * one applied (`pr_updated_at`): pushes A→B and B→C delivered in the wrong order, or a replayed
 * body, must not move the pull request back in time. A lost delivery does not freeze it either:
 * any newer event applies. The event's time is recorded with what it changed.
 */
async function applyInOrder(deps: Deps, event: PullRequestEvent, id: number, fn: (tx: Tx, change: Change) => Promise<GithubOutcome>): Promise<GithubOutcome> {
  return deps.database.db.transaction(async (tx) => {
    const change = (await findChange(tx, id, { forUpdate: true }))!;
    const at = eventTime(event);
    if (at && change.pr_updated_at && at < change.pr_updated_at) {
      return { outcome: 'ignored' as const, change: change.key, reason: 'stale_event', message: `the event was updated at ${at.toISOString()}, before the last one applied (${change.pr_updated_at.toISOString()})` };
    }
    const out = await fn(tx, change);
    if (at) await notePullRequestTime(tx, id, at);
    return out;
  });
}

/** The service configured for a repository (`github.repos`), case-insensitively; null when not configured. */
export function serviceForRepo(deps: Deps, fullName: string): string | null {
  const name = fullName.toLowerCase();
  return deps.config.github.repos.find((r) => r.repo.toLowerCase() === name)?.service ?? null;
}

/**
 * Applies one `pull_request` event:
 * - `opened` / `reopened` / `ready_for_review` register the change (drafts wait for ready_for_review);
 * - `synchronize` (new head SHA) starts a new review round;
 * - `labeled` / `unlabeled` re-evaluate the risk, which can only rise;
 * - `closed` cancels a pending change when not merged, and records `merged_at` when merged.
 * A new head, a label change or a closing for a pull request Countersign has not registered yet
 * (a missed delivery: GitHub does not redeliver) registers it, unless it is a draft.
 */
export async function handlePullRequest(deps: Deps, event: PullRequestEvent): Promise<GithubOutcome> {
  const service = serviceForRepo(deps, event.repository.full_name);
  if (!service) return { outcome: 'ignored', change: null, reason: `repository ${event.repository.full_name} is not in github.repos` };
  const pr = event.pull_request;
  const externalId = pullRequestExternalId(event);
  switch (event.action) {
    case 'opened':
    case 'ready_for_review':
      return register(deps, event, service);
    case 'reopened': {
      const found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
      if (found?.status === 'cancelled') return reopen(deps, event, found.id);
      return register(deps, event, service);
    }
    case 'synchronize':
    case 'labeled':
    case 'unlabeled': {
      let found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
      if (!found) {
        const registered = await register(deps, event, service);
        // Lost a race with another delivery (e.g. `opened` with an older head): revise what it stored.
        if (registered.outcome !== 'exists') return registered;
        found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
        if (!found) return registered;
      }
      return event.action === 'synchronize' ? newHead(deps, event, found.id) : relabel(deps, event, found.id);
    }
    case 'closed': {
      const found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
      if (!found) return { outcome: 'ignored', change: null, reason: `pull request ${externalId} was never registered` };
      return pr.merged ? merged(deps, event, found.id) : closedUnmerged(deps, event, found.id);
    }
    default:
      return { outcome: 'ignored', change: null, reason: `pull_request action ${event.action} does not change anything` };
  }
}

async function register(deps: Deps, event: PullRequestEvent, service: string): Promise<GithubOutcome> {
  const pr = event.pull_request;
  if (pr.draft) return { outcome: 'ignored', change: null, reason: 'draft pull requests are registered when they are ready for review' };
  const input = {
    source: GITHUB_SOURCE,
    external_id: pullRequestExternalId(event),
    title: pr.title,
    url: pr.html_url,
    service,
    environment: deps.config.github.environment,
    author: { github: pr.user.login },
    labels: labelsOf(event),
    diff: { files_changed: pr.changed_files ?? 0, additions: pr.additions ?? 0, deletions: pr.deletions ?? 0, paths: [] },
    head_sha: pr.head.sha.toLowerCase(),
  };
  const parsed = changeInputSchema.safeParse(input);
  if (!parsed.success) return { outcome: 'invalid', issues: fieldIssues(parsed.error).map((i) => ({ ...i, path: `pull_request.${i.path}` })) };
  const result = await registerChange(deps, parsed.data, actorOf(event), { body: pr.body ?? null, bot: isBotAccount(event), prUpdatedAt: eventTime(event), via: 'github_webhook' });
  if (!result.ok) return { outcome: 'invalid', issues: result.issues };
  return { outcome: result.created ? 'registered' : 'exists', change: result.change.key };
}

/** New commits: the change's head moves and review round `round + 1` starts (see `statusForNewRound`). A repeated delivery is a no-op. */
async function newHead(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const sha = event.pull_request.head.sha.toLowerCase();
  return applyInOrder(deps, event, id, async (tx, change) => {
    if (sameCommit(change.head_sha, sha)) return { outcome: 'unchanged' as const, change: change.key };
    const now = deps.clock.now();
    const status = statusForNewRound(change.status, change.approvals_required);
    const decidedAt = status === change.status ? change.decided_at : status === 'pending' ? null : now;
    if (!(await startReviewRound(tx, id, { fromRound: change.round, headSha: sha, status, decidedAt, at: now }))) {
      return { outcome: 'unchanged' as const, change: change.key };
    }
    const after: Change = { ...change, round: change.round + 1, head_sha: sha, status, decided_at: decidedAt, escalation_step: 0, claimed_by: null, claimed_at: null, round_started_at: now, updated_at: now };
    const actor = actorOf(event);
    const events: AuditEvent[] = [
      {
        actor,
        action: 'review_round_started',
        changeId: id,
        data: { round: after.round, from_head_sha: change.head_sha, head_sha: sha, earlier_sign_offs: change.sign_offs.filter((s) => s.round === change.round).length },
      },
    ];
    if (status !== change.status) {
      events.push({ actor, action: 'status_changed', changeId: id, data: { from: change.status, to: status, reason: `new commits (${sha.slice(0, 7)}): earlier sign-offs cover ${change.head_sha?.slice(0, 7) ?? 'no head'} only` } });
    }
    await appendAudit(tx, now, events);
    await deps.notifier.changeRevised(tx, after, change, { kind: 'new_round', from_sha: change.head_sha, to_sha: sha });
    return { outcome: 'new_round' as const, change: change.key };
  });
}

/** Labels changed: AI detection and the policy run again; a higher risk is stored (a lower one never is). */
async function relabel(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const { config } = deps;
  const labels = labelsOf(event);
  return applyInOrder(deps, event, id, async (tx, change) => {
    const now = deps.clock.now();
    // A repeated delivery (or a label event that lost a race with a newer one) changes nothing.
    if (sameLabels(change.labels, labels)) return { outcome: 'unchanged' as const, change: change.key };
    const ai = detectAiAssistance(
      { commits: change.commits, labels, author: change.author, body: event.pull_request.body ?? null },
      { ...config.ai_detection, bodyMarkers: config.github.ai_body_markers },
    );
    const outcome = evaluatePolicy(config.policy, {
      services: change.services,
      environment: change.environment,
      author: change.author,
      ai,
      diff: change.diff,
      infra: change.infra,
      labels,
      blast_radius: change.blast_radius,
    });
    const r = reviseRisk(change, outcome, ai);
    const decidedAt = r.status === change.status ? change.decided_at : null;
    await storeRisk(tx, id, { labels, ai: r.ai, riskLevel: r.risk.level, riskReasons: r.risk.reasons, approvalsRequired: r.approvals_required, status: r.status, decidedAt, at: now });
    const actor = actorOf(event);
    const events: AuditEvent[] = [
      {
        actor,
        action: 'labels_changed',
        changeId: id,
        data: {
          labels,
          risk: { from: change.risk.level, to: r.risk.level },
          approvals_required: { from: change.approvals_required, to: r.approvals_required },
          ...(!r.raised && { note: 'a label change never lowers the risk of a registered change' }),
        },
      },
    ];
    if (r.status !== change.status) events.push({ actor, action: 'status_changed', changeId: id, data: { from: change.status, to: r.status, reason: r.reopened } });
    await appendAudit(tx, now, events);
    if (!r.raised) return { outcome: 'labels_updated' as const, change: change.key };
    const after: Change = { ...change, labels, ai: r.ai, risk: r.risk, approvals_required: r.approvals_required, status: r.status, decided_at: decidedAt, updated_at: now };
    await deps.notifier.changeRevised(tx, after, change, { kind: 'risk_raised', reopened: r.reopened });
    return { outcome: 'risk_raised' as const, change: change.key };
  });
}

/**
 * Reopened after it was closed unmerged: the cancelled change starts a new review round in
 * `pending` (or `approved` when it needs no sign-off) at the current head.
 */
async function reopen(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const sha = event.pull_request.head.sha.toLowerCase();
  return applyInOrder(deps, event, id, async (tx, change) => {
    if (change.status !== 'cancelled') return { outcome: 'exists' as const, change: change.key };
    const now = deps.clock.now();
    const status = change.approvals_required === 0 ? 'approved' : 'pending';
    if (!(await reopenCancelled(tx, id, { fromRound: change.round, headSha: sha, status, at: now }))) return { outcome: 'exists' as const, change: change.key };
    const after: Change = { ...change, round: change.round + 1, head_sha: sha, status, decided_at: status === 'pending' ? null : now, escalation_step: 0, claimed_by: null, claimed_at: null, round_started_at: now, updated_at: now };
    const actor = actorOf(event);
    await appendAudit(tx, now, [
      { actor, action: 'review_round_started', changeId: id, data: { round: after.round, from_head_sha: change.head_sha, head_sha: sha, reason: 'the pull request was reopened' } },
      { actor, action: 'status_changed', changeId: id, data: { from: 'cancelled', to: status, reason: 'the pull request was reopened' } },
    ]);
    await deps.notifier.changeRevised(tx, after, change, { kind: 'new_round', from_sha: change.head_sha, to_sha: sha });
    return { outcome: 'reopened' as const, change: change.key };
  });
}

/** Closed without merging: a pending change is cancelled; anything else stays as it is. */
async function closedUnmerged(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  return applyInOrder(deps, event, id, async (tx, change) => {
    if (change.status !== 'pending') return { outcome: 'ignored' as const, change: change.key, reason: `${change.key} is ${change.status}; closing the pull request changes nothing` };
    const now = deps.clock.now();
    const actor = actorOf(event);
    await transitionStatus(tx, id, 'pending', 'cancelled', now);
    await appendAudit(tx, now, [{ actor, action: 'status_changed', changeId: id, data: { from: 'pending', to: 'cancelled', reason: 'the pull request was closed without merging' } }]);
    const after: Change = { ...change, status: 'cancelled', decided_at: now, updated_at: now };
    await deps.notifier.statusChanged(tx, after, 'pending', actor, 'the pull request was closed without merging');
    return { outcome: 'cancelled' as const, change: change.key };
  });
}

/** Merged: `merged_at` is recorded once (from the payload, else now). */
async function merged(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const parsed = event.pull_request.merged_at ? new Date(event.pull_request.merged_at) : null;
  return applyInOrder(deps, event, id, async (tx, change) => {
    const now = deps.clock.now();
    const at = parsed && !Number.isNaN(parsed.getTime()) ? parsed : now;
    if (!(await markMerged(tx, id, at, now))) return { outcome: 'unchanged' as const, change: change.key };
    await appendAudit(tx, now, [{ actor: actorOf(event), action: 'merged', changeId: id, data: { merged_at: at.toISOString(), status: change.status, head_sha: change.head_sha } }]);
    return { outcome: 'merged' as const, change: change.key };
  });
}
