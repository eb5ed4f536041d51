import { appendAudit } from '../db/repositories/audit.ts';
import { findChange, transitionStatus } from '../db/repositories/changes.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import type { Deps } from './ports.ts';

/** The submitter withdraws a pending change. A final status never changes. `via`: how the request came in (audited). */
export async function cancelChange(deps: Deps, key: string, actor: string, reason?: string, via?: string): Promise<{ ok: true; change: Change } | Refusal> {
  const id = parseChangeKey(key);
  if (id === null) return refuse('not_found', `There is no change ${key}.`);
  return deps.database.db.transaction(async (tx) => {
    const change = await findChange(tx, id, { forUpdate: true });
    if (!change) return refuse('not_found', `There is no change ${key}.`);
    if (change.status !== 'pending') return refuse('already_decided', `${change.key} is already ${change.status}; it cannot be cancelled.`);
    const now = deps.clock.now();
    await transitionStatus(tx, id, 'pending', 'cancelled', now);
    await appendAudit(tx, now, [{ actor, via, action: 'status_changed', changeId: id, data: { from: 'pending', to: 'cancelled', reason: reason ?? 'withdrawn by the submitter' } }]);
    const after = (await findChange(tx, id))!;
    await deps.notifier.statusChanged(tx, after, 'pending', actor, reason ?? null);
    return { ok: true as const, change: after };
  });
}
