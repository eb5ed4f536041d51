import { and, eq, lt } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { webhookDeliveries } from '../schema.ts';

/** How long delivery ids are remembered: GitHub redelivers by hand within days, not weeks. */
export const DELIVERY_MEMORY_MS = 7 * 24 * 3_600_000;

/**
 * Claims a delivery id before it is applied: true for the first caller, false when it was claimed
 * before (a replay, a redelivery, or the same delivery arriving twice at once: one atomic insert
 * decides). Also forgets ids older than the memory window.
 */
export async function claimDelivery(db: DbOrTx, source: string, id: string, at: Date): Promise<boolean> {
  const claimed = await db.insert(webhookDeliveries).values({ source, id, receivedAt: at }).onConflictDoNothing().returning({ id: webhookDeliveries.id });
  await db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, new Date(at.getTime() - DELIVERY_MEMORY_MS)));
  return claimed.length === 1;
}

/** Gives a claimed delivery id back when applying it failed, so GitHub's redelivery is applied. */
export async function releaseDelivery(db: DbOrTx, source: string, id: string): Promise<void> {
  await db.delete(webhookDeliveries).where(and(eq(webhookDeliveries.source, source), eq(webhookDeliveries.id, id)));
}
