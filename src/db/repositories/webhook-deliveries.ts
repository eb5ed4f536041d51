import { and, eq, lt } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { webhookDeliveries } from '../schema.ts';

/** How long delivery ids are remembered: GitHub redelivers by hand within days, not weeks. */
export const DELIVERY_MEMORY_MS = 7 * 24 * 3_600_000;

/** True when this delivery id was already applied (within the memory window). */
export async function seenDelivery(db: DbOrTx, source: string, id: string): Promise<boolean> {
  const rows = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(and(eq(webhookDeliveries.source, source), eq(webhookDeliveries.id, id))).limit(1);
  return rows.length > 0;
}

/** Remembers an applied delivery, and forgets those older than the memory window. */
export async function rememberDelivery(db: DbOrTx, source: string, id: string, at: Date): Promise<void> {
  await db.insert(webhookDeliveries).values({ source, id, receivedAt: at }).onConflictDoNothing();
  await db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, new Date(at.getTime() - DELIVERY_MEMORY_MS)));
}
