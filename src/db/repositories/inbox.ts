import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../client.ts';
import { slackInbox } from '../schema.ts';

export interface Receipt {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
}

/** Writes a click's receipt; the one write before the ack. */
export async function recordReceipt(db: DbOrTx, kind: string, payload: Record<string, unknown>): Promise<number> {
  const [row] = await db.insert(slackInbox).values({ kind, payload }).returning({ id: slackInbox.id });
  return row.id;
}

/** Marks a receipt processed; call it in the transaction that applies the click. */
export async function markReceiptProcessed(db: DbOrTx, id: number): Promise<void> {
  await db.update(slackInbox).set({ processedAt: sql`now()`, lockedUntil: null }).where(and(eq(slackInbox.id, id), isNull(slackInbox.processedAt)));
}

/** Leases receipts nobody processed within `olderThanMs` (their process died), for recovery. */
export async function claimStaleReceipts(database: Database, olderThanMs: number, limit: number, leaseMs: number): Promise<Receipt[]> {
  const rows = await database.rows<{ id: string | number; kind: string; payload: Record<string, unknown> | string }>(sql`
    update slack_inbox set locked_until = now() + make_interval(secs => ${leaseMs / 1000})
    where id in (
      select id from slack_inbox
      where processed_at is null and received_at <= now() - make_interval(secs => ${olderThanMs / 1000})
        and (locked_until is null or locked_until < now())
      order by id limit ${limit}
      for update skip locked)
    returning id, kind, payload`);
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
}
