import { parseChangeKey, type Change } from '../domain/change.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import type { Deps } from './ports.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';

/** The submitter withdraws a pending change. A final status never changes. `via`: how the request came in (audited). */
export async function cancelChange(deps: Deps, key: string, actor: string, reason?: string, via?: string): Promise<{ ok: true; change: Change } | Refusal> {
  const id = parseChangeKey(key);
  if (id === null) return refuse('not_found', `There is no change ${key}.`);
  const result = await withLockedChange(deps, id, async (tx, change, now) => {
    const decided = refuse('already_decided', `${change.key} is already ${change.status}; it cannot be cancelled.`);
    if (change.status !== 'pending') return decided;
    const after = await applyTransition(tx, change, now, {
      set: { status: 'cancelled', decidedAt: now },
      guard: { status: 'pending' },
      events: [{ actor, via, action: 'status_changed', changeId: id, data: { from: 'pending', to: 'cancelled', reason: reason ?? 'withdrawn by the submitter' } }],
      notify: (tx, after) => deps.notifier.statusChanged(tx, after, 'pending', actor, reason ?? null),
    });
    return after ? { ok: true as const, change: after } : decided;
  });
  return result ?? refuse('not_found', `There is no change ${key}.`);
}
