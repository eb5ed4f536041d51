import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgEnum, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { AiAssessment, Commit, DiffStats, InfraSummary, ResolvedAuthor, RiskReason } from '../domain/types.ts';

// Every pgEnum must be exported, or drizzle-kit silently leaves it out of the migration.
export const riskLevelEnum = pgEnum('risk_level', ['low', 'medium', 'high', 'critical']);
export const changeStatusEnum = pgEnum('change_status', ['pending', 'approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled']);
export const decisionEnum = pgEnum('decision', ['approved', 'rejected']);

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const changes = pgTable(
  'changes',
  {
    id: serial('id').primaryKey(),
    source: text('source').notNull(),
    externalId: text('external_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    url: text('url'),
    services: text('services').array().notNull(),
    environment: text('environment').notNull(),
    team: text('team').notNull(),
    author: jsonb('author').$type<ResolvedAuthor>().notNull(),
    authorSlackId: text('author_slack_id'),
    ai: jsonb('ai').$type<AiAssessment>().notNull(),
    aiAssisted: boolean('ai_assisted').notNull(),
    labels: jsonb('labels').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    commits: jsonb('commits').$type<Commit[]>().notNull().default(sql`'[]'::jsonb`),
    headSha: text('head_sha'),
    diff: jsonb('diff').$type<DiffStats>(),
    infra: jsonb('infra').$type<InfraSummary>(),
    riskLevel: riskLevelEnum('risk_level').notNull(),
    riskReasons: jsonb('risk_reasons').$type<RiskReason[]>().notNull(),
    approvalsRequired: integer('approvals_required').notNull(),
    status: changeStatusEnum('status').notNull(),
    round: integer('round').notNull().default(1),
    submittedBy: text('submitted_by').notNull(),
    /** Escalation steps taken: 0 none, 1 reminded, 2 escalated, 3 expired. Advanced by conditional update only. */
    escalationStep: integer('escalation_step').notNull().default(0),
    /** SHA-256 of the terraform plan's canonical JSON: sign-offs are pinned to it. */
    planSha256: text('plan_sha256'),
    mergedAt: ts('merged_at'),
    breakglassBy: text('breakglass_by'),
    breakglassReason: text('breakglass_reason'),
    breakglassAt: ts('breakglass_at'),
    /** The senior asked to review first (load-aware assignment). */
    assignedTo: text('assigned_to'),
    /** The touched services plus everything that transitively depends on them, at registration. */
    blastRadius: text('blast_radius').array().notNull().default(sql`'{}'::text[]`),
    assignedAt: ts('assigned_at'),
    claimedBy: text('claimed_by'),
    claimedAt: ts('claimed_at'),
    /** SHA-256 of the canonical intake body: a retry with the same idempotency key must send the same body. */
    inputSha256: text('input_sha256'),
    /** `pull_request.updated_at` of the last GitHub event applied: an older event is stale and ignored. */
    prUpdatedAt: ts('pr_updated_at'),
    /** The GitHub App installation a pull request change came through (its API calls use it). */
    githubInstallationId: integer('github_installation_id'),
    /** The merge commit of a merged pull request: a deployment of it ships this change. */
    mergeCommitSha: text('merge_commit_sha'),
    /**
     * A pull request change whose files and commits are still being read from GitHub: it is not
     * decided (the gate answers 202 `reading_pull_request`) until the read succeeds.
     */
    awaitingRead: boolean('awaiting_read').notNull().default(false),
    /** Registered while its team was in shadow mode (the gate did not block it): for shadow stats. */
    shadow: boolean('shadow').notNull().default(false),
    createdAt: ts('created_at').notNull(),
    /** When the current review round started (registration, new commits, a reopen): escalation counts from here. */
    roundStartedAt: ts('round_started_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    decidedAt: ts('decided_at'),
  },
  (t) => [
    uniqueIndex('changes_source_external_id_idx').on(t.source, t.externalId),
    index('changes_status_created_idx').on(t.status, t.createdAt),
    index('changes_created_idx').on(t.createdAt),
    // The escalation sweep reads only pending changes that are due: cost grows with what is due, not with the table.
    index('changes_author_idx').on(t.authorSlackId, t.createdAt),
    // Reviewer load for assignment: a range scan per eligible senior, not a table scan per intake.
    index('changes_assigned_idx').on(t.assignedTo, t.assignedAt),
    index('changes_escalation_round_due_idx').on(t.escalationStep, t.roundStartedAt).where(sql`status = 'pending'`),
  ],
);

export const signOffs = pgTable(
  'sign_offs',
  {
    id: serial('id').primaryKey(),
    changeId: integer('change_id').notNull().references(() => changes.id),
    reviewer: text('reviewer').notNull(),
    decision: decisionEnum('decision').notNull(),
    reason: text('reason'),
    round: integer('round').notNull(),
    headSha: text('head_sha'),
    /** The terraform plan digest this sign-off covered, when the change has a plan. */
    planSha256: text('plan_sha256'),
    at: ts('at').notNull(),
  },
  // One sign-off per person per review round: a double click can never count twice.
  (t) => [uniqueIndex('sign_offs_once_per_round_idx').on(t.changeId, t.round, t.reviewer)],
);

/** Append-only: who did what, when and why. A trigger refuses UPDATE and DELETE. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    changeId: integer('change_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** Tamper evidence: hash = sha256(prev_hash || canonical_json(event)); set by the sealer, in id order. */
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [index('audit_events_change_idx').on(t.changeId, t.id), index('audit_events_unsealed_idx').on(t.id).where(sql`hash is null`)],
);

/**
 * The first audit row ever sealed. Verification fails unless the chain starts there, so emptying
 * the table (or rewriting it from scratch) cannot pass for an intact log. Triggers make it write-once.
 */
export const auditGenesis = pgTable('audit_genesis', {
  id: integer('id').primaryKey(),
  firstId: bigint('first_id', { mode: 'number' }).notNull(),
  firstHash: text('first_hash').notNull(),
  at: ts('at').notNull(),
});

/** Webhook deliveries already applied (GitHub's X-GitHub-Delivery), kept 7 days: a replay is answered, not applied. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [uniqueIndex('webhook_deliveries_id_idx').on(t.source, t.id), index('webhook_deliveries_received_idx').on(t.receivedAt)],
);

export type ChangeRow = typeof changes.$inferSelect;
export type NewChangeRow = typeof changes.$inferInsert;
export type SignOffRow = typeof signOffs.$inferSelect;
export type AuditRow = typeof auditEvents.$inferSelect;

export const outboxStatusEnum = pgEnum('outbox_status', ['pending', 'done', 'dead']);

/**
 * Durable outbox: every Slack write is a row, inserted in the same transaction as the state change
 * that causes it. Rows of one `group_key` (e.g. one card: its post, updates and thread replies) are
 * delivered in id order; a sender leases rows (`locked_until`) so replicas never deliver one twice.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    groupKey: text('group_key').notNull(),
    /** Channel for pacing (1 post/s per channel); a user id for DMs until the DM channel is known. */
    channel: text('channel').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: outboxStatusEnum('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    lockedUntil: ts('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    /** Who delivers the row: `slack` or `github` (each has its own sender). */
    target: text('target').notNull().default('slack'),
    /**
     * A previous attempt may have reached Slack without its answer being recorded (its lease ran out,
     * or it timed out): look the message up by its metadata before posting again.
     */
    inDoubt: boolean('in_doubt').notNull().default(false),
    createdAt: ts('created_at').notNull(),
    deliveredAt: ts('delivered_at'),
    /** Set when the row was given up after a permanent error (status `dead`): kept for inspection and retry. */
    deadAt: ts('dead_at'),
  },
  (t) => [
    index('outbox_pending_idx').on(t.nextAttemptAt, t.id).where(sql`status = 'pending'`),
    index('outbox_group_pending_idx').on(t.groupKey, t.id).where(sql`status = 'pending'`),
  ],
);

/** Slack messages Countersign owns and edits later (a change's card, an incident broadcast). */
export const slackMessages = pgTable('slack_messages', {
  ref: text('ref').primaryKey(),
  channel: text('channel').notNull(),
  ts: text('ts').notNull(),
  postedAt: ts('posted_at').notNull(),
  /** `chat.getPermalink` of the message, fetched once after posting (links in escalations, digests and broadcasts). */
  permalink: text('permalink'),
});

/** The `Countersign` check run of each head of a pull request change: created once, then updated in place. */
export const githubCheckRuns = pgTable(
  'github_check_runs',
  {
    changeId: integer('change_id').notNull().references(() => changes.id),
    headSha: text('head_sha').notNull(),
    checkRunId: bigint('check_run_id', { mode: 'number' }).notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('github_check_runs_head_idx').on(t.changeId, t.headSha)],
);

/**
 * A deployment protection rule request from GitHub (`deployment_protection_rule`): answered at once
 * when its change is decided, else when the change is decided (exactly once: `answered_at`).
 */
export const deploymentRequests = pgTable(
  'deployment_requests',
  {
    id: serial('id').primaryKey(),
    changeId: integer('change_id').references(() => changes.id),
    installationId: integer('installation_id').notNull(),
    repo: text('repo').notNull(),
    callbackUrl: text('callback_url').notNull(),
    githubEnvironment: text('github_environment').notNull(),
    environment: text('environment').notNull(),
    sha: text('sha').notNull(),
    /** `approved` or `rejected`, once answered. */
    answer: text('answer'),
    comment: text('comment'),
    answeredAt: ts('answered_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('deployment_requests_open_idx').on(t.changeId).where(sql`answered_at is null`), uniqueIndex('deployment_requests_callback_idx').on(t.callbackUrl, t.githubEnvironment)],
);

/** Per-channel pacing shared by every replica: the earliest time the next post to a channel may go out. */
export const channelPacing = pgTable('channel_pacing', {
  channel: text('channel').primaryKey(),
  nextAllowedAt: ts('next_allowed_at').notNull(),
});

export type OutboxRow = typeof outbox.$inferSelect;

/**
 * Durable receipts of Slack clicks: a click is written here (one INSERT) before Slack gets its ack,
 * then processed; a receipt left unprocessed by a crash is processed on recovery.
 */
export const slackInbox = pgTable(
  'slack_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    processedAt: ts('processed_at'),
    lockedUntil: ts('locked_until'),
  },
  (t) => [index('slack_inbox_unprocessed_idx').on(t.receivedAt).where(sql`processed_at is null`)],
);

export const deploymentStatusEnum = pgEnum('deployment_status', ['succeeded', 'failed', 'rolled_back']);
export const severityEnum = pgEnum('severity', ['sev1', 'sev2', 'sev3', 'sev4']);
export const incidentStatusEnum = pgEnum('incident_status', ['open', 'resolved']);

/** A change deployed somewhere; `ungated` when its gate was not open at the time. */
export const deployments = pgTable(
  'deployments',
  {
    id: serial('id').primaryKey(),
    changeId: integer('change_id').notNull().references(() => changes.id),
    service: text('service').notNull(),
    environment: text('environment').notNull(),
    status: deploymentStatusEnum('status').notNull(),
    ungated: boolean('ungated').notNull(),
    /** Recorded while its team was in shadow mode: an ungated shadow deployment is one the gate would have blocked. */
    shadow: boolean('shadow').notNull().default(false),
    /** The freeze that held its environment when it was deployed (null: none). */
    frozenBy: text('frozen_by'),
    deployedAt: ts('deployed_at').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('deployments_env_service_time_idx').on(t.environment, t.service, t.deployedAt), index('deployments_change_idx').on(t.changeId)],
);

export const incidents = pgTable(
  'incidents',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    severity: severityEnum('severity').notNull(),
    services: text('services').array().notNull(),
    status: incidentStatusEnum('status').notNull(),
    source: text('source').notNull(),
    externalId: text('external_id'),
    startedAt: ts('started_at').notNull(),
    resolvedAt: ts('resolved_at'),
    declaredBy: text('declared_by').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('incidents_source_external_idx').on(t.source, t.externalId), index('incidents_status_idx').on(t.status, t.startedAt)],
);

/** A change a person confirmed as a cause of an incident (suspects are computed, never stored as causes). */
export const incidentCauses = pgTable(
  'incident_causes',
  {
    id: serial('id').primaryKey(),
    incidentId: integer('incident_id').notNull().references(() => incidents.id),
    changeId: integer('change_id').notNull().references(() => changes.id),
    confirmedBy: text('confirmed_by').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [uniqueIndex('incident_causes_once_idx').on(t.incidentId, t.changeId)],
);

export type DeploymentRow = typeof deployments.$inferSelect;
export type IncidentRow = typeof incidents.$inferSelect;

/** One row per scheduled job slot (e.g. the 09:00 digest): whoever inserts it runs it, so replicas never double-post. */
export const scheduledRuns = pgTable('scheduled_runs', {
  job: text('job').notNull(),
  slot: text('slot').notNull(),
  ranBy: text('ran_by').notNull(),
  at: ts('at').notNull(),
}, (t) => [uniqueIndex('scheduled_runs_slot_idx').on(t.job, t.slot)]);

/** Seniors who are away (`/change away on`): skipped by reviewer assignment. */
export const reviewerAway = pgTable('reviewer_away', {
  userId: text('user_id').primaryKey(),
  since: ts('since').notNull(),
});
