import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { claimStaleReceipts, recordReceipt } from '../db/repositories/inbox.ts';
import { countApprovals } from '../domain/sign-off.ts';
import { recordSignOff, type SignOffResult } from '../use-cases/record-sign-off.ts';
import type { ListenerContext } from './listeners/context.ts';
import { refusalText } from './views/notices.ts';

export const RECEIPT_APPROVE = 'approve';

export interface ApproveClick {
  key: string;
  round: number;
  reviewer: string;
  response_url?: string;
}

/** Stores the click durably: the only write before Slack gets its ack. */
export function receiveApprove(database: Database, click: ApproveClick): Promise<number> {
  return recordReceipt(database.db, RECEIPT_APPROVE, { ...click });
}

/** Applies a received Approve click; the receipt is marked processed with the outcome. */
export function applyApprove(ctx: ListenerContext, click: ApproveClick, receipt: number): Promise<SignOffResult> {
  return recordSignOff(ctx.deps, { key: click.key, reviewer: click.reviewer, decision: 'approved', round: click.round, receipt });
}

/** What the clicker is told (ephemeral). */
export function approveOutcomeText(result: SignOffResult): string {
  if (!result.ok) return refusalText(result);
  const c = result.change;
  return result.decided
    ? `You signed off ${c.key}; it is approved and the gate is open.`
    : `You signed off ${c.key} (${countApprovals(c.sign_offs, c.round)} of ${c.approvals_required}).`;
}

/**
 * Applies received clicks in the background, a few at a time, so acks (one INSERT each) are never
 * queued behind the heavier sign-off transactions. FIFO; a crash leaves receipts for recovery.
 */
export class ClickQueue {
  private queue: (() => Promise<void>)[] = [];
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly concurrency = 2) {}

  push(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  /** Resolves when every queued job has finished (graceful shutdown). */
  drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      void job()
        .catch(() => {})
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
        });
    }
  }
}

/**
 * Processes click receipts a crashed process left behind (received, acked, not yet applied).
 * Receipts are leased, so replicas never apply one twice; applying is idempotent anyway.
 */
export class ReceiptRecovery {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ctx: ListenerContext,
    private readonly logger: Logger,
    private readonly opts: { everyMs?: number; olderThanMs?: number } = {},
  ) {}

  start(): void {
    const every = this.opts.everyMs ?? 5_000;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .finally(() => (this.running = null));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass over stale receipts; returns how many were applied. */
  async sweep(): Promise<number> {
    let applied = 0;
    try {
      const receipts = await claimStaleReceipts(this.ctx.deps.database, this.opts.olderThanMs ?? 10_000, 50, 60_000);
      for (const r of receipts) {
        if (r.kind !== RECEIPT_APPROVE) continue;
        const click = r.payload as unknown as ApproveClick;
        const result = await applyApprove(this.ctx, click, r.id);
        applied++;
        this.ctx.nudge();
        this.logger.info({ receipt: r.id, key: click.key, ok: result.ok }, 'recovered an unprocessed click');
        if (click.response_url) {
          await fetch(click.response_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: approveOutcomeText(result) }) }).catch(() => {});
        }
      }
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'click recovery failed; will retry');
    }
    return applied;
  }
}
