import type { Logger } from 'pino';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { claimStaleReceipts, markReceiptProcessed, recordReceipt } from '../db/repositories/inbox.ts';
import { countApprovals } from '../domain/sign-off.ts';
import { claimReview } from '../use-cases/claim-review.ts';
import { confirmCause } from '../use-cases/confirm-cause.ts';
import { recordSignOff, type SignOffResult } from '../use-cases/record-sign-off.ts';
import type { ListenerContext } from './listeners/context.ts';
import { runEvery, type PeriodicJob } from '../periodic.ts';
import { refusalText } from './views/notices.ts';

/**
 * Clicks acked before they are applied: Approve, Claim review, Release claim and Confirm cause.
 * Each is one durable INSERT (its receipt) before Slack gets the ack, then applied in the
 * background; the use case marks the receipt processed in the transaction that applies it. A crash
 * in between leaves the receipt, and recovery applies it: an acked click is never lost.
 */

// Kept as Slack sent it: used only to answer the clicker, never trusted for anything else.
const responseUrl = z.string().max(3000).optional();
export const CLICKS = {
  approve: z.object({ key: z.string(), round: z.number().int(), reviewer: z.string(), response_url: responseUrl }),
  claim: z.object({ key: z.string(), user: z.string(), response_url: responseUrl }),
  release: z.object({ key: z.string(), user: z.string(), response_url: responseUrl }),
  confirm_cause: z.object({ incident: z.string(), change: z.string(), user: z.string(), response_url: responseUrl }),
} as const;

export type ClickKind = keyof typeof CLICKS;
export type Click<K extends ClickKind = ClickKind> = z.infer<(typeof CLICKS)[K]>;

/** Stores the click durably: the only write before Slack gets its ack. */
export function receiveClick<K extends ClickKind>(database: Database, kind: K, click: Click<K>): Promise<number> {
  return recordReceipt(database.db, kind, { ...click });
}

/** The approve outcome as the clicker reads it (ephemeral). */
export function approveOutcomeText(result: SignOffResult): string {
  if (!result.ok) return refusalText(result);
  const c = result.change;
  return result.decided
    ? `You signed off ${c.key}; it is approved and the gate is open.`
    : `You signed off ${c.key} (${countApprovals(c.sign_offs, c.round)} of ${c.approvals_required}).`;
}

/** Applies a received click (its receipt is marked processed with the outcome); returns what the clicker is told. */
export async function applyClick(ctx: ListenerContext, kind: ClickKind, payload: unknown, receipt: number): Promise<{ ok: boolean; text: string }> {
  const parsed = CLICKS[kind].safeParse(payload);
  if (!parsed.success) {
    // It can never be applied: close it (logged) instead of retrying it for ever.
    await markReceiptProcessed(ctx.deps.database.db, receipt);
    ctx.deps.logger.error({ kind, receipt }, 'a click receipt could not be read; it was closed without applying it');
    return { ok: false, text: 'Countersign could not read that click; please press the button again.' };
  }
  switch (kind) {
    case 'approve': {
      const c = parsed.data as Click<'approve'>;
      const result = await recordSignOff(ctx.deps, { key: c.key, reviewer: c.reviewer, decision: 'approved', round: c.round, receipt });
      return { ok: result.ok, text: approveOutcomeText(result) };
    }
    case 'claim':
    case 'release': {
      const c = parsed.data as Click<'claim'>;
      const result = await claimReview(ctx.deps, c.key, c.user, kind, receipt);
      if (!result.ok) return { ok: false, text: refusalText(result) };
      return {
        ok: true,
        text: kind === 'claim' ? `You are reviewing ${result.change.key}; reminders now go to you only.` : `You released ${result.change.key}; reminders go to every eligible senior again.`,
      };
    }
    case 'confirm_cause': {
      const c = parsed.data as Click<'confirm_cause'>;
      const result = await confirmCause(ctx.deps, { incident: c.incident, change: c.change, by: c.user, receipt });
      if (!result.ok) return { ok: false, text: `:no_entry: ${result.message}` };
      return {
        ok: true,
        text: result.created ? `:white_check_mark: You confirmed ${c.change} as a cause of ${c.incident}. Its approvers have been told.` : `${c.change} was already confirmed as a cause of ${c.incident}.`,
      };
    }
  }
}

/** Tells a clicker something after the ack (ephemeral, through the click's response_url). */
export async function tellByResponseUrl(url: string | undefined, text: string): Promise<void> {
  if (!url) return;
  await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }) }).catch(() => {});
}

const FAILED = 'Sorry, Countersign could not apply that click just now; it will be retried. If nothing changes within a minute, press the button again.';

/**
 * Applies received clicks in the background, a few at a time, so acks (one INSERT each) are never
 * queued behind the heavier transactions. FIFO; a crash leaves receipts for recovery. A job that
 * fails is logged and the clicker is told; its receipt stays for recovery to try again.
 */
export class ClickQueue {
  private queue: { job: () => Promise<void>; onError: (err: unknown) => Promise<void> }[] = [];
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly concurrency = 2) {}

  push(job: () => Promise<void>, onError: (err: unknown) => Promise<void>): void {
    this.queue.push({ job, onError });
    this.pump();
  }

  /** Resolves when every queued job has finished (graceful shutdown). */
  drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const { job, onError } = this.queue.shift()!;
      this.active++;
      void job()
        .catch((err: unknown) => onError(err).catch(() => {}))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
        });
    }
  }
}

/** Queues a received click to be applied, telling the clicker the outcome (or that it failed, logged). */
export function applyInBackground(ctx: ListenerContext, kind: ClickKind, click: Click, receipt: number, tell: (text: string) => Promise<void>): void {
  ctx.clicks.push(
    async () => {
      const result = await applyClick(ctx, kind, click, receipt);
      if (result.ok) ctx.nudge();
      await tell(result.text);
    },
    async (err) => {
      ctx.deps.logger.error({ err: { message: (err as Error).message }, kind, receipt }, 'applying a click failed; its receipt is kept for recovery');
      await tell(FAILED);
    },
  );
}

/**
 * Processes click receipts a crashed process left behind (received, acked, not yet applied).
 * Receipts are leased, so replicas never apply one twice; applying is idempotent anyway.
 */
export class ReceiptRecovery {
  private job: PeriodicJob | null = null;

  constructor(
    private readonly ctx: ListenerContext,
    private readonly logger: Logger,
    private readonly opts: { everyMs?: number; olderThanMs?: number } = {},
  ) {}

  start(): void {
    this.job ??= runEvery('click recovery', this.opts.everyMs ?? 5_000, async () => void (await this.sweep()), this.logger);
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    this.job = null;
  }

  /** One pass over stale receipts; returns how many were applied. */
  async sweep(): Promise<number> {
    let applied = 0;
    try {
      const receipts = await claimStaleReceipts(this.ctx.deps.database, this.opts.olderThanMs ?? 10_000, 50, 60_000);
      for (const r of receipts) {
        if (!Object.hasOwn(CLICKS, r.kind)) continue;
        const kind = r.kind as ClickKind;
        try {
          const result = await applyClick(this.ctx, kind, r.payload, r.id);
          applied++;
          this.ctx.nudge();
          this.logger.info({ receipt: r.id, kind, ok: result.ok }, 'recovered an unprocessed click');
          await tellByResponseUrl((r.payload as { response_url?: string }).response_url, result.text);
        } catch (err) {
          this.logger.error({ err: { message: (err as Error).message }, receipt: r.id, kind }, 'recovering a click failed; will retry');
        }
      }
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'click recovery failed; will retry');
    }
    return applied;
  }
}
