import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { claimOutbox, completeOutbox, failOutbox, markDead, reservePostSlot } from '../db/repositories/outbox.ts';
import type { OutboxRow } from '../db/schema.ts';
import { changeIdOf, kindLabel, parseOutboxRow, type OwnedRef, type ParsedFor } from '../delivery/messages.ts';
import { changeKey } from '../domain/change.ts';
import { deliverToSlack, PermanentError, slackError } from './slack-delivery.ts';
import { runEvery, type PeriodicJob } from '../periodic.ts';
import type { SlackMessage } from './views/change-card.ts';

export interface OutboxSenderOptions {
  database: Database;
  client: WebClient;
  logger: Logger;
  /** Renders a message Countersign owns (a card, a broadcast) from current state; null when its subject is gone. */
  render(ref: OwnedRef): Promise<{ channel: string; message: SlackMessage } | null>;
  pollMs?: number;
  leaseMs?: number;
  batchSize?: number;
  /** Minimum gap between posts to one channel, across every replica (Slack allows about 1 per second). */
  postIntervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Called after each delivery attempt (metrics), with a bounded reason code for failures. */
  onResult?(kind: string, outcome: OutboxOutcome, reason?: string): void;
}

export type OutboxOutcome = 'delivered' | 'failed' | 'rate_limited' | 'superseded' | 'dead';

type Outcome = { ok: true } | { ok: false; dead: true; error: string } | { ok: false; dead?: false; retryInMs: number; error: string; reason: string; rateLimited: boolean; inDoubt: boolean };

/**
 * Slack errors that retrying cannot fix: the row is marked dead after one attempt (kept, listed in
 * GET /api/outbox/stats, requeued by POST /api/outbox/:id/retry once the cause is fixed).
 */
const PERMANENT = new Set(['channel_not_found', 'is_archived', 'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'invalid_auth', 'account_inactive', 'token_revoked', 'no_text']);

/**
 * Delivers outbox rows. Rows are leased with FOR UPDATE SKIP LOCKED, so any number of replicas
 * deliver each row once; each group (one card) goes in order; posts to one channel are paced
 * across replicas (a slot per channel in Postgres); 429 Retry-After is honoured; transient
 * failures back off and are kept; permanent ones are marked dead.
 */
export class OutboxSender {
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private running = false;
  private job: PeriodicJob | null = null;
  private pausedUntil = new Map<string, number>();
  /** When this process last heard Slack answer a post to each channel (the slot is counted from the answer). */
  private answeredAt = new Map<string, number>();
  private readonly o: Required<Omit<OutboxSenderOptions, 'onResult'>> & Pick<OutboxSenderOptions, 'onResult'>;

  constructor(opts: OutboxSenderOptions) {
    this.o = { pollMs: 250, leaseMs: 60_000, batchSize: 25, postIntervalMs: 1_000, backoffBaseMs: 1_000, backoffMaxMs: 300_000, ...opts };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // A pass that claimed rows runs again at once; an empty one waits for the next poll (or a nudge).
    this.job = runEvery('outbox sender', this.o.pollMs, async () => (await this.drainOnce()) > 0, this.o.logger);
  }

  /** Stops claiming; the row being delivered is finished first. */
  async stop(): Promise<void> {
    this.running = false;
    await this.job?.stop();
  }

  /** Delivers now instead of at the next poll (after a commit that enqueued rows). */
  nudge(): void {
    this.job?.nudge();
  }

  /** Claims and delivers one batch; returns how many rows were claimed. Exposed for tests and the bench. */
  async drainOnce(): Promise<number> {
    const rows = await claimOutbox(this.o.database, this.owner, this.o.batchSize, this.o.leaseMs);
    if (rows.length === 0) return 0;
    const byChannel = new Map<string, OutboxRow[]>();
    for (const r of rows) byChannel.set(r.channel, [...(byChannel.get(r.channel) ?? []), r]);
    await Promise.all([...byChannel.values()].map((list) => this.deliverChannel(list)));
    return rows.length;
  }

  private async deliverChannel(rows: OutboxRow[]): Promise<void> {
    const db = this.o.database.db;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!this.running && this.job) {
        // Shutting down: finish nothing more than the current row; give the rest back at once.
        for (const r of rows.slice(i)) await failOutbox(db, r.id, this.owner, 'released at shutdown', 0, { countAttempt: false });
        return;
      }
      const paused = this.pausedUntil.get(row.channel) ?? 0;
      if (paused > Date.now()) {
        // The channel is rate-limited: give the rest back, due when the pause ends.
        for (const r of rows.slice(i)) await failOutbox(db, r.id, this.owner, 'waiting for Slack rate limit', paused - Date.now(), { countAttempt: false });
        return;
      }
      const parsed = parseOutboxRow(row, 'slack');
      if (!parsed.ok) {
        // Not the contract (an unknown kind, a malformed payload, another target's kind): nothing of it is sent.
        await markDead(db, row.id, this.owner, parsed.error);
        this.o.onResult?.(kindLabel(row.kind), 'dead', 'unreadable');
        this.o.logger.error({ outbox_id: row.id, kind: row.kind, channel: row.channel, error: parsed.error }, 'outbox: unreadable row (unknown kind or malformed payload); dead, nothing delivered (POST /api/outbox/:id/retry once fixed)');
        continue;
      }
      const outcome = await this.deliver(row, parsed.message).catch((err: unknown) => classify(err, row.attempts, this.o));
      if (outcome.ok) continue;
      if (outcome.dead) {
        await markDead(db, row.id, this.owner, outcome.error);
        this.o.onResult?.(row.kind, 'dead', 'permanent');
        const changeId = changeIdOf(parsed.message);
        this.o.logger.error({ outbox_id: row.id, kind: row.kind, channel: row.channel, change: changeId ? changeKey(changeId) : undefined, error: outcome.error }, 'outbox: permanent Slack error; the row is dead (POST /api/outbox/:id/retry once fixed)');
        continue;
      }
      if (outcome.rateLimited) this.pausedUntil.set(row.channel, Date.now() + outcome.retryInMs);
      await failOutbox(db, row.id, this.owner, outcome.error, outcome.retryInMs, { countAttempt: !outcome.rateLimited, inDoubt: outcome.inDoubt });
      this.o.onResult?.(row.kind, outcome.rateLimited ? 'rate_limited' : 'failed', outcome.reason);
      this.o.logger.warn({ outbox_id: row.id, kind: row.kind, channel: row.channel, attempts: row.attempts + 1, error: outcome.error, retry_in_ms: outcome.retryInMs }, 'outbox: delivery failed');
      // Later rows of this channel may belong to the same group; keep order by retrying them after this one.
      for (const r of rows.slice(i + 1)) await failOutbox(db, r.id, this.owner, 'waiting behind a failed row', Math.min(outcome.retryInMs, 1_000), { countAttempt: false });
      return;
    }
  }

  private async deliver(row: OutboxRow, message: ParsedFor<'slack'>): Promise<Outcome> {
    const { database } = this.o;
    let posted: string | null = null;
    await deliverToSlack(
      {
        database,
        client: this.o.client,
        logger: this.o.logger,
        render: this.o.render,
        pace: async (channel) => {
          // The slot shared by every replica, and, within this process, a full interval after Slack's last
          // answer, so request jitter never squeezes two posts closer than the interval.
          const answered = this.answeredAt.get(channel);
          const wait = await reservePostSlot(database, channel, this.o.postIntervalMs, answered ? new Date(answered + this.o.postIntervalMs) : undefined);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          posted = channel;
        },
        finish: async (extra) => {
          await database.db.transaction(async (tx) => {
            if (extra) await extra(tx);
            await completeOutbox(tx, row.id, this.owner);
          });
        },
        superseded: () => this.o.onResult?.(row.kind, 'superseded'),
      },
      row,
      message,
    ).finally(() => {
      if (posted) this.answeredAt.set(posted, Date.now());
    });
    this.o.onResult?.(row.kind, 'delivered');
    return { ok: true };
  }
}

/**
 * Maps a delivery error to what happens next: dead for permanent Slack errors, Retry-After for 429s,
 * capped exponential backoff otherwise. A timeout or a 5xx may have reached Slack: in doubt.
 */
function classify(err: unknown, attempts: number, o: { backoffBaseMs: number; backoffMaxMs: number }): Outcome {
  if (err instanceof PermanentError) return { ok: false, dead: true, error: `Slack error: ${err.message}` };
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; message?: string };
  const code = slackError(err);
  if (code && PERMANENT.has(code)) return { ok: false, dead: true, error: `Slack error: ${code}` };
  const backoff = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** Math.min(attempts, 20)) * (0.75 + Math.random() * 0.5);
  const retry = (error: string, reason: string, inDoubt: boolean) => ({ ok: false as const, rateLimited: false, retryInMs: backoff, error, reason, inDoubt });
  switch (e.code) {
    case 'slack_webapi_rate_limited_error':
      return { ok: false, rateLimited: true, retryInMs: Math.max(1, e.retryAfter ?? 1) * 1000, error: `rate limited (Retry-After ${e.retryAfter ?? '?'}s)`, reason: 'rate_limited', inDoubt: false };
    case 'slack_webapi_http_error':
      return retry(`HTTP ${e.statusCode ?? '?'} from Slack`, 'http_error', true);
    case 'slack_webapi_platform_error':
      return retry(`Slack error: ${code ?? 'unknown'}`, 'slack_error', false);
    case 'slack_webapi_request_error':
      return retry(`request to Slack failed: ${(e.message ?? '').slice(0, 200)}`, 'network', true);
    default:
      return retry((e.message ?? String(err)).slice(0, 300), 'other', false);
  }
}
