import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/client.ts';
import { claimOutbox, completeOutbox, failOutbox, findMessage, hasLaterOfKind, rememberMessage } from '../db/repositories/outbox.ts';
import type { OutboxRow } from '../db/schema.ts';
import type { SlackMessage } from './views/change-card.ts';
import { OutboxKind } from './notifier.ts';

export interface OutboxSenderOptions {
  database: Database;
  client: WebClient;
  logger: Logger;
  /** Renders a message Countersign owns (a card) from current state; null when its subject is gone. */
  render(ref: string): Promise<{ channel: string; message: SlackMessage } | null>;
  pollMs?: number;
  leaseMs?: number;
  batchSize?: number;
  /** Minimum gap between posts to one channel (Slack allows about 1 per second). */
  postIntervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Called after each delivery attempt (metrics). */
  onResult?(kind: string, outcome: 'delivered' | 'failed' | 'rate_limited' | 'superseded', error?: string): void;
}

type Outcome = { ok: true } | { ok: false; retryInMs: number; error: string; rateLimited: boolean };
type Finish = (extra?: (tx: Tx) => Promise<void>) => Promise<Outcome>;

/**
 * Delivers outbox rows to Slack. Rows are leased with FOR UPDATE SKIP LOCKED, so any number of
 * replicas deliver each row once; each group (one card) goes in order; posts to one channel are
 * paced; 429 Retry-After is honoured; failures back off and are kept, never dropped.
 */
export class OutboxSender {
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private nextPostAt = new Map<string, number>();
  private pausedUntil = new Map<string, number>();
  private readonly o: Required<Omit<OutboxSenderOptions, 'onResult'>> & Pick<OutboxSenderOptions, 'onResult'>;

  constructor(opts: OutboxSenderOptions) {
    this.o = { pollMs: 250, leaseMs: 60_000, batchSize: 25, postIntervalMs: 1_000, backoffBaseMs: 1_000, backoffMaxMs: 300_000, ...opts };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; the row being delivered is finished first. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Delivers now instead of at the next poll (after a commit that enqueued rows). */
  nudge(): void {
    this.wake?.();
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

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.drainOnce();
      } catch (err) {
        this.o.logger.warn({ err: { message: (err as Error).message } }, 'outbox: claim failed; retrying');
      }
      if (claimed === 0 && this.running) await this.sleep(this.o.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async deliverChannel(rows: OutboxRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!this.running && this.loop) {
        // Shutting down: finish nothing more than the current row; give the rest back at once.
        for (const r of rows.slice(i)) await failOutbox(this.o.database.db, r.id, this.owner, 'released at shutdown', 0, false);
        return;
      }
      const paused = this.pausedUntil.get(row.channel) ?? 0;
      if (paused > Date.now()) {
        // The channel is rate-limited: give the rest back, due when the pause ends.
        for (const r of rows.slice(i)) await failOutbox(this.o.database.db, r.id, this.owner, 'waiting for Slack rate limit', paused - Date.now(), false);
        return;
      }
      const outcome = await this.deliver(row).catch((err: unknown) => classify(err, row.attempts, this.o));
      if (outcome.ok) continue;
      if (outcome.rateLimited) this.pausedUntil.set(row.channel, Date.now() + outcome.retryInMs);
      await failOutbox(this.o.database.db, row.id, this.owner, outcome.error, outcome.retryInMs, !outcome.rateLimited);
      this.o.onResult?.(row.kind, outcome.rateLimited ? 'rate_limited' : 'failed', outcome.error);
      this.o.logger.warn({ outbox_id: row.id, kind: row.kind, channel: row.channel, attempts: row.attempts + 1, error: outcome.error, retry_in_ms: outcome.retryInMs }, 'outbox: delivery failed');
      // Later rows of this channel may belong to the same group; keep order by retrying them after this one.
      for (const r of rows.slice(i + 1)) await failOutbox(this.o.database.db, r.id, this.owner, 'waiting behind a failed row', Math.min(outcome.retryInMs, 1_000), false);
      return;
    }
  }

  /**
   * Waits for the channel's next slot. The slot after a post is counted from when Slack answered,
   * so request jitter never squeezes two posts to one channel closer than the interval.
   */
  private async pace(channel: string): Promise<void> {
    const at = this.nextPostAt.get(channel) ?? 0;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.nextPostAt.set(channel, Date.now() + this.o.postIntervalMs);
  }

  private posted(channel: string): void {
    this.nextPostAt.set(channel, Math.max(this.nextPostAt.get(channel) ?? 0, Date.now() + this.o.postIntervalMs));
  }

  private async deliver(row: OutboxRow): Promise<Outcome> {
    const { client, database } = this.o;
    const p = row.payload as Record<string, string | undefined>;
    const finish: Finish = async (extra) => {
      await database.db.transaction(async (tx) => {
        if (extra) await extra(tx);
        await completeOutbox(tx, row.id, this.owner);
      });
      this.o.onResult?.(row.kind, 'delivered');
      return { ok: true } as const;
    };

    switch (row.kind) {
      // Messages Countersign owns (cards, incident broadcasts): posted once, then edited in place.
      case OutboxKind.cardPost:
        return this.postOwned(row, `card:${p.change_id}`, finish);
      case OutboxKind.cardUpdate:
        return this.updateOwned(row, `card:${p.change_id}`, finish);
      case OutboxKind.incidentPost:
        return this.postOwned(row, `incident:${p.incident_id}`, finish);
      case OutboxKind.incidentUpdate:
        return this.updateOwned(row, `incident:${p.incident_id}`, finish);
      case OutboxKind.threadReply: {
        const msg = await findMessage(database.db, p.ref!);
        if (!msg) return finish();
        await this.pace(row.channel);
        await client.chat.postMessage({ channel: msg.channel, thread_ts: msg.ts, text: p.text!, unfurl_links: false });
        this.posted(row.channel);
        return finish();
      }
      case OutboxKind.dm: {
        // An author known only by email is found with users.lookupByEmail; nobody by that email: nothing to send.
        let user = p.user;
        if (!user && p.email) {
          const found = await client.users.lookupByEmail({ email: p.email }).catch((err: { data?: { error?: string } }) => {
            if (err.data?.error === 'users_not_found') return null;
            throw err;
          });
          if (!found?.user?.id) {
            this.o.logger.info({ outbox_id: row.id }, 'outbox: no Slack user has that email; the DM is dropped');
            return finish();
          }
          user = found.user.id;
        }
        const open = await client.conversations.open({ users: user! });
        await this.pace(row.channel);
        await client.chat.postMessage({ channel: open.channel!.id!, text: p.text!, unfurl_links: false });
        this.posted(row.channel);
        return finish();
      }
      case OutboxKind.message: {
        const payload = row.payload as { text: string; blocks?: SlackMessage['blocks']; ref?: string };
        if (payload.ref && (await findMessage(database.db, payload.ref))) return finish();
        await this.pace(row.channel);
        const res = await client.chat.postMessage({ channel: row.channel, text: payload.text, blocks: payload.blocks, unfurl_links: false });
        this.posted(row.channel);
        return finish(payload.ref ? (tx) => rememberMessage(tx, payload.ref!, res.channel ?? row.channel, res.ts!) : undefined);
      }
      default:
        this.o.logger.error({ outbox_id: row.id, kind: row.kind }, 'outbox: unknown kind; kept for inspection');
        return { ok: false, retryInMs: this.o.backoffMaxMs, error: `unknown kind ${row.kind}`, rateLimited: false };
    }
  }

  /** Posts a message rendered from current state, once: a ts remembered by an earlier attempt means it is already there. */
  private async postOwned(row: OutboxRow, ref: string, finish: Finish): Promise<Outcome> {
    if (await findMessage(this.o.database.db, ref)) return finish();
    const r = await this.o.render(ref);
    if (!r) return finish();
    await this.pace(row.channel);
    const res = await this.o.client.chat.postMessage({ channel: r.channel, text: r.message.text, blocks: r.message.blocks, unfurl_links: false, unfurl_media: false });
    this.posted(row.channel);
    return finish((tx) => rememberMessage(tx, ref, res.channel ?? r.channel, res.ts!));
  }

  /** Edits a posted message to show current state; skipped when a later update of it is already queued. */
  private async updateOwned(row: OutboxRow, ref: string, finish: Finish): Promise<Outcome> {
    if (await hasLaterOfKind(this.o.database.db, row)) {
      this.o.onResult?.(row.kind, 'superseded');
      return finish();
    }
    const msg = await findMessage(this.o.database.db, ref);
    const r = msg && (await this.o.render(ref));
    if (!msg || !r) return finish();
    await this.o.client.chat.update({ channel: msg.channel, ts: msg.ts, text: r.message.text, blocks: r.message.blocks });
    return finish();
  }
}

/** Maps a Slack client error to a retry decision: Retry-After for 429s, capped exponential backoff otherwise. */
function classify(err: unknown, attempts: number, o: { backoffBaseMs: number; backoffMaxMs: number }): Outcome {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  const backoff = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** Math.min(attempts, 20)) * (0.75 + Math.random() * 0.5);
  switch (e.code) {
    case 'slack_webapi_rate_limited_error':
      return { ok: false, rateLimited: true, retryInMs: Math.max(1, e.retryAfter ?? 1) * 1000, error: `rate limited (Retry-After ${e.retryAfter ?? '?'}s)` };
    case 'slack_webapi_http_error':
      return { ok: false, rateLimited: false, retryInMs: backoff, error: `HTTP ${e.statusCode ?? '?'} from Slack` };
    case 'slack_webapi_platform_error':
      return { ok: false, rateLimited: false, retryInMs: backoff, error: `Slack error: ${e.data?.error ?? 'unknown'}` };
    default:
      return { ok: false, rateLimited: false, retryInMs: backoff, error: (e.message ?? String(err)).slice(0, 300) };
  }
}
