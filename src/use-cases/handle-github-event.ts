import { z } from 'zod';
import { fieldIssues, type FieldIssue } from '../config/issues.ts';
import type { AuditEvent } from '../db/repositories/audit.ts';
import { notePullRequestTime } from '../db/repositories/change-revisions.ts';
import type { Tx } from '../db/client.ts';
import { findChangeByExternalId } from '../db/repositories/changes.ts';
import { detectAiAssistance } from '../domain/ai-detection.ts';
import type { Change } from '../domain/change.ts';
import { evaluatePolicy } from '../domain/policy.ts';
import { reviseRisk, sameCommit, statusForNewRound } from '../domain/revision.ts';
import { changeInputSchema, LIMITS } from './change-input.ts';
import type { Deps } from './ports.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';
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
    merge_commit_sha: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/i).nullish(),
    changed_files: count.nullish(),
    additions: count.nullish(),
    deletions: count.nullish(),
  }),
  repository: z.looseObject({ full_name: z.string().min(3).max(200) }),
  sender: z.looseObject({ login: z.string().max(100) }).nullish(),
  /** The GitHub App installation the event came through (absent for a plain webhook). */
  installation: z.looseObject({ id: z.number().int().positive() }).nullish(),
});

/** What the GitHub adapter can do: read pull requests through the App (GITHUB_APP_ID set). */
export interface GithubContext {
  appConfigured: boolean;
}

/** The installation to read through, when the App is configured and the event names one. */
const installationOf = (e: PullRequestEvent, gh: GithubContext): number | null => (gh.appConfigured ? (e.installation?.id ?? null) : null);
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
async function applyInOrder(deps: Deps, event: PullRequestEvent, id: number, fn: (tx: Tx, change: Change, now: Date) => Promise<GithubOutcome>): Promise<GithubOutcome> {
  const out = await withLockedChange(deps, id, async (tx, change, now) => {
    const at = eventTime(event);
    if (at && change.pr_updated_at && at < change.pr_updated_at) {
      return { outcome: 'ignored' as const, change: change.key, reason: 'stale_event', message: `the event was updated at ${at.toISOString()}, before the last one applied (${change.pr_updated_at.toISOString()})` };
    }
    const applied = await fn(tx, change, now);
    if (at) await notePullRequestTime(tx, id, at);
    return applied;
  });
  return out ?? { outcome: 'ignored', change: null, reason: 'the change is gone' };
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
export async function handlePullRequest(deps: Deps, event: PullRequestEvent, gh: GithubContext = { appConfigured: false }): Promise<GithubOutcome> {
  const service = serviceForRepo(deps, event.repository.full_name);
  if (!service) return { outcome: 'ignored', change: null, reason: `repository ${event.repository.full_name} is not in github.repos` };
  const pr = event.pull_request;
  const externalId = pullRequestExternalId(event);
  switch (event.action) {
    case 'opened':
    case 'ready_for_review':
      return register(deps, event, service, gh);
    case 'reopened': {
      const found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
      if (found?.status === 'cancelled') return reopen(deps, event, found.id);
      return register(deps, event, service, gh);
    }
    case 'synchronize':
    case 'labeled':
    case 'unlabeled': {
      let found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, externalId);
      if (!found) {
        const registered = await register(deps, event, service, gh);
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

async function register(deps: Deps, event: PullRequestEvent, service: string, gh: GithubContext): Promise<GithubOutcome> {
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
  const installationId = installationOf(event, gh);
  const result = await registerChange(deps, parsed.data, actorOf(event), {
    body: pr.body ?? null,
    bot: isBotAccount(event),
    prUpdatedAt: eventTime(event),
    via: 'github_webhook',
    // Through the App, the pull request's files and commits are read before it is decided.
    github: installationId !== null ? { installationId, read: true } : undefined,
  });
  if (!result.ok) return { outcome: 'invalid', issues: result.issues ?? [{ path: 'pull_request', message: result.message }] };
  return { outcome: result.created ? 'registered' : 'exists', change: result.change.key };
}

/** New commits: the change's head moves and review round `round + 1` starts (see `statusForNewRound`). A repeated delivery is a no-op. */
async function newHead(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const sha = event.pull_request.head.sha.toLowerCase();
  return applyInOrder(deps, event, id, async (tx, change, now) => {
    const unchanged = { outcome: 'unchanged' as const, change: change.key };
    if (sameCommit(change.head_sha, sha)) return unchanged;
    // A pull request the App reads is read again for the new head before it is decided (fail closed).
    const reading = change.github_installation_id !== null && change.status !== 'expired' && change.status !== 'cancelled';
    const status = reading ? 'pending' : statusForNewRound(change.status, change.approvals_required);
    const actor = actorOf(event);
    const events: AuditEvent[] = [
      {
        actor,
        action: 'review_round_started',
        changeId: id,
        data: { round: change.round + 1, from_head_sha: change.head_sha, head_sha: sha, earlier_sign_offs: change.sign_offs.filter((s) => s.round === change.round).length },
      },
    ];
    if (status !== change.status) {
      events.push({ actor, action: 'status_changed', changeId: id, data: { from: change.status, to: status, reason: `new commits (${sha.slice(0, 7)}): earlier sign-offs cover ${change.head_sha?.slice(0, 7) ?? 'no head'} only` } });
    }
    const after = await applyTransition(tx, change, now, {
      set: { ...newRound(change, now, sha), status, awaitingRead: reading, decidedAt: status === change.status ? change.decided_at : status === 'pending' ? null : now },
      guard: { round: change.round, headShaNot: sha },
      events,
      notify: (tx, after, before) => deps.notifier.changeRevised(tx, after, before, { kind: 'new_round', from_sha: before.head_sha, to_sha: sha }),
    });
    return after ? { outcome: 'new_round' as const, change: change.key } : unchanged;
  });
}

/** A new review round at `headSha`: earlier sign-offs stop counting, the escalation clock, ladder and claim start over. */
function newRound(change: Change, now: Date, headSha: string) {
  return { round: change.round + 1, headSha, escalationStep: 0, claimedBy: null, claimedAt: null, roundStartedAt: now };
}

/** Labels changed: AI detection and the policy run again; a higher risk is stored (a lower one never is). */
async function relabel(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const { config } = deps;
  const labels = labelsOf(event);
  return applyInOrder(deps, event, id, async (tx, change, now) => {
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
    await applyTransition(tx, change, now, {
      set: { labels, ai: r.ai, aiAssisted: r.ai.assisted, riskLevel: r.risk.level, riskReasons: r.risk.reasons, approvalsRequired: r.approvals_required, status: r.status, decidedAt: r.status === change.status ? change.decided_at : null },
      events,
      notify: r.raised ? (tx, after, before) => deps.notifier.changeRevised(tx, after, before, { kind: 'risk_raised', reopened: r.reopened }) : undefined,
    });
    return { outcome: r.raised ? ('risk_raised' as const) : ('labels_updated' as const), change: change.key };
  });
}

/**
 * Reopened after it was closed unmerged: the cancelled change starts a new review round in
 * `pending` (or `approved` when it needs no sign-off) at the current head.
 */
async function reopen(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const sha = event.pull_request.head.sha.toLowerCase();
  return applyInOrder(deps, event, id, async (tx, change, now) => {
    const exists = { outcome: 'exists' as const, change: change.key };
    if (change.status !== 'cancelled') return exists;
    const reading = change.github_installation_id !== null;
    const status = change.approvals_required === 0 && !reading ? 'approved' : 'pending';
    const actor = actorOf(event);
    const after = await applyTransition(tx, change, now, {
      set: { ...newRound(change, now, sha), status, awaitingRead: reading, decidedAt: status === 'pending' ? null : now },
      guard: { round: change.round, status: 'cancelled' },
      events: [
        { actor, action: 'review_round_started', changeId: id, data: { round: change.round + 1, from_head_sha: change.head_sha, head_sha: sha, reason: 'the pull request was reopened' } },
        { actor, action: 'status_changed', changeId: id, data: { from: 'cancelled', to: status, reason: 'the pull request was reopened' } },
      ],
      notify: (tx, after, before) => deps.notifier.changeRevised(tx, after, before, { kind: 'new_round', from_sha: before.head_sha, to_sha: sha }),
    });
    return after ? { outcome: 'reopened' as const, change: change.key } : exists;
  });
}

/** Closed without merging: a pending change is cancelled; anything else stays as it is. */
async function closedUnmerged(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  return applyInOrder(deps, event, id, async (tx, change, now) => {
    const ignored = { outcome: 'ignored' as const, change: change.key, reason: `${change.key} is ${change.status}; closing the pull request changes nothing` };
    if (change.status !== 'pending') return ignored;
    const actor = actorOf(event);
    const reason = 'the pull request was closed without merging';
    const after = await applyTransition(tx, change, now, {
      set: { status: 'cancelled', decidedAt: now },
      guard: { status: 'pending' },
      events: [{ actor, action: 'status_changed', changeId: id, data: { from: 'pending', to: 'cancelled', reason } }],
      notify: (tx, after) => deps.notifier.statusChanged(tx, after, 'pending', actor, reason),
    });
    return after ? { outcome: 'cancelled' as const, change: change.key } : ignored;
  });
}

/** Merged: `merged_at` is recorded once (from the payload, else now). */
async function merged(deps: Deps, event: PullRequestEvent, id: number): Promise<GithubOutcome> {
  const parsed = event.pull_request.merged_at ? new Date(event.pull_request.merged_at) : null;
  const mergeSha = event.pull_request.merge_commit_sha?.toLowerCase() ?? null;
  return applyInOrder(deps, event, id, async (tx, change, now) => {
    const at = parsed && !Number.isNaN(parsed.getTime()) ? parsed : now;
    // The merge commit is what gets deployed: an approval covers it (CLARIFICATIONS).
    const after = await applyTransition(tx, change, now, {
      set: { mergedAt: at, mergeCommitSha: mergeSha },
      guard: { notMerged: true },
      events: [{ actor: actorOf(event), action: 'merged', changeId: id, data: { merged_at: at.toISOString(), status: change.status, head_sha: change.head_sha } }],
    });
    return { outcome: after ? ('merged' as const) : ('unchanged' as const), change: change.key };
  });
}
