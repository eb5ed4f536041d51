import type { Tx } from '../db/client.ts';
import { appendAudit, type AuditEvent } from '../db/repositories/audit.ts';
import { findChange, updateChange, type ChangeGuard, type ChangeUpdate } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import type { Deps } from './ports.ts';

/**
 * The one way a registered change changes state: under its row lock, one conditional UPDATE whose
 * new state is read back (`RETURNING`, never rebuilt by hand), its audit events, and its
 * notifications (outbox rows), all in one transaction.
 */

/** What a flow decided to do to a locked change. */
export interface Transition {
  set: ChangeUpdate;
  /** What must still hold (e.g. `{ status: 'pending' }`); the update does nothing when it does not. */
  guard?: ChangeGuard;
  /** Audit events (written only when the update happened). */
  events: AuditEvent[];
  /** Side effects of the new state (Slack writes), given the state read back and the state before. */
  notify?(tx: Tx, after: Change, before: Change): Promise<void>;
}

/** Runs `fn` with the change locked (`SELECT … FOR UPDATE`); null when there is no such change. */
export function withLockedChange<R>(deps: Deps, id: number, fn: (tx: Tx, change: Change, now: Date) => Promise<R>): Promise<R | null> {
  return deps.database.db.transaction(async (tx) => {
    const change = await findChange(tx, id, { forUpdate: true });
    if (!change) return null;
    return fn(tx, change, deps.clock.now());
  });
}

/** Applies a transition to a locked change: the new state, or null when its guard no longer held (nothing written). */
export async function applyTransition(tx: Tx, before: Change, now: Date, t: Transition): Promise<Change | null> {
  const after = await updateChange(tx, before.id, { ...t.set, updatedAt: now }, t.guard);
  if (!after) return null;
  await appendAudit(tx, now, t.events);
  await t.notify?.(tx, after, before);
  return after;
}
