import { hostname } from 'node:os';
import type { DbOrTx } from '../client.ts';
import { scheduledRuns } from '../schema.ts';

/** Claims one run of a scheduled job's slot; true only for the first replica that asks. */
export async function claimSlot(db: DbOrTx, job: string, slot: string, at: Date): Promise<boolean> {
  const rows = await db.insert(scheduledRuns).values({ job, slot, ranBy: `${hostname()}-${process.pid}`, at }).onConflictDoNothing().returning({ slot: scheduledRuns.slot });
  return rows.length === 1;
}
