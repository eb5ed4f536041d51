import { invalid, type FieldIssue, type Refusal } from '../domain/errors.ts';
import type { AuditEvent } from '../db/repositories/audit.ts';
import { findIntake, insertChangeWithEffects, toChange } from '../db/repositories/changes.ts';
import type { ChangeRow } from '../db/schema.ts';
import type { Change } from '../domain/change.ts';
import { canonicalJson, planDigest } from '../domain/canonical.ts';
import { createHash } from 'node:crypto';
import type { ChangeInput } from './change-input.ts';
import { decideIntake } from './decide-intake.ts';

export { environmentIssue, intakeIssues } from './decide-intake.ts';
import { chooseReviewer } from './assign-reviewer.ts';
import type { Deps } from './ports.ts';

export type RegisterResult =
  /** `conflict`: the idempotency key exists with a different body (the stored change is not it). */
  | { ok: true; created: boolean; conflict: boolean; change: Change }
  | Refusal;

/** What an adapter knows beyond the API body (the GitHub webhook: the PR body, a Bot account). */
export interface IntakeHints {
  /** The pull request body, read for `github.ai_body_markers`. */
  body?: string | null;
  /** The author is a bot account (GitHub `user.type: Bot`) even without a `[bot]` login. */
  bot?: boolean;
  /** How the request came in (`token:<name>` for the API), recorded on every audit event. */
  via?: string;
  /** `pull_request.updated_at` of the event that registers it (GitHub), for ordering later events. */
  prUpdatedAt?: Date | null;
  /**
   * A pull request registered through the GitHub App: its installation, and whether its files and
   * commits will be read before it is decided (then it stays pending until the read).
   */
  github?: { installationId: number | null; read: boolean };
}

/** SHA-256 of the validated intake body in canonical JSON: a retry must send the same change. */
export const intakeDigest = (input: ChangeInput): string => createHash('sha256').update(canonicalJson(input)).digest('hex');

/**
 * Registers a change: resolves the author, detects AI assistance, summarises the terraform plan,
 * applies the policy and stores the change with its audit trail and its card's outbox row in one
 * statement. The same `source` + `external_id` returns the stored change (with `conflict` when the
 * body differs) instead of a second one.
 */
export async function registerChange(deps: Deps, input: ChangeInput, submittedBy: string, hints: IntakeHints = {}): Promise<RegisterResult> {
  const { config, clock } = deps;
  // A pull request that will be read is not decided until then: it never passes as low risk because GitHub was slow.
  const awaitingRead = hints.github?.read === true;
  const decision = decideIntake(config, input, { body: hints.body, bot: hints.bot, awaitingRead });
  if (!decision.ok) return decision;
  const { services, author, ai, diff, labels, infra, blastRadius, outcome, status } = decision;
  const team = config.resolved.teamOf(services[0])!;
  const assignee = status === 'pending' ? await chooseReviewer(deps, team, author) : null;
  const now = clock.now();
  const planSha256 = input.terraform_plan ? planDigest(input.terraform_plan) : null;
  const inputSha256 = intakeDigest(input);

  const values: Omit<ChangeRow, 'id' | 'round' | 'escalationStep' | 'claimedBy' | 'claimedAt' | 'mergedAt' | 'breakglassBy' | 'breakglassReason' | 'breakglassAt'> = {
    source: input.source,
    externalId: input.external_id,
    title: input.title,
    description: input.description ?? null,
    url: input.url ?? null,
    services,
    environment: input.environment,
    team,
    author,
    authorSlackId: author.slack_id ?? null,
    ai,
    aiAssisted: ai.assisted,
    labels,
    commits: input.commits ?? [],
    headSha: input.head_sha ?? null,
    planSha256: planSha256,
    diff,
    infra,
    blastRadius,
    assignedTo: assignee,
    assignedAt: assignee ? now : null,
    riskLevel: outcome.risk.level,
    riskReasons: outcome.risk.reasons,
    approvalsRequired: outcome.approvals_required,
    status,
    submittedBy,
    createdAt: now,
    roundStartedAt: now,
    updatedAt: now,
    decidedAt: status === 'approved' ? now : null,
    inputSha256,
    prUpdatedAt: hints.prUpdatedAt ?? null,
    githubInstallationId: hints.github?.installationId ?? null,
    mergeCommitSha: null,
    awaitingRead,
    shadow: config.resolved.enforcementOf(team) === 'shadow',
  };
  const events: AuditEvent[] = [
    {
      actor: submittedBy,
      action: 'change_registered',
      via: hints.via,
      data: { risk: outcome.risk.level, approvals_required: outcome.approvals_required, ai_assisted: ai.assisted, plan_sha256: planSha256, head_sha: input.head_sha ?? null },
    },
    {
      actor: 'policy',
      action: 'status_changed',
      via: hints.via,
      data: { from: null, to: status, reason: awaitingRead ? 'reading the pull request from GitHub before deciding' : status === 'approved' ? 'needs no sign-off' : `needs ${outcome.approvals_required} sign-off(s)` },
    },
  ];
  // One statement allocates the id and writes the change, its audit trail and its card's outbox row (one round trip, atomic).
  const rows = deps.notifier.registrationRows({ status, team, awaiting_read: awaitingRead, github_installation_id: values.githubInstallationId });
  const id = await insertChangeWithEffects(deps.database, values, now, events, rows);
  if (id === null) {
    const existing = await findIntake(deps.database.db, input.source, input.external_id);
    return { ok: true, created: false, conflict: existing!.inputSha256 !== inputSha256, change: existing!.change };
  }
  const row: ChangeRow = {
    ...values,
    id,
    round: 1,
    escalationStep: 0,
    claimedBy: null,
    claimedAt: null,
    mergedAt: null,
    breakglassBy: null,
    breakglassReason: null,
    breakglassAt: null,
  };
  // A new change has no sign-offs yet.
  return { ok: true, created: true, conflict: false, change: toChange(row, []) };
}
