import { hostname } from 'node:os';
import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { scheduledRuns } from '../schema.ts';

/** Claims one run of a scheduled job's slot; true only for the first replica that asks. */
export async function claimSlot(db: DbOrTx, job: string, slot: string, at: Date): Promise<boolean> {
  const rows = await db.insert(scheduledRuns).values({ job, slot, ranBy: `${hostname()}-${process.pid}`, at }).onConflictDoNothing().returning({ slot: scheduledRuns.slot });
  return rows.length === 1;
}

/** Whether a job's slot was claimed (by any replica). */
export async function hasSlot(db: DbOrTx, job: string, slot: string): Promise<boolean> {
  const rows = await db.select({ slot: scheduledRuns.slot }).from(scheduledRuns).where(and(eq(scheduledRuns.job, job), eq(scheduledRuns.slot, slot))).limit(1);
  return rows.length === 1;
}
