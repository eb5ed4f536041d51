import { claimSlot } from '../db/repositories/scheduled-runs.ts';
import { listChanges } from '../db/repositories/changes.ts';
import { activeClaim, reminderTargets } from '../domain/escalation.ts';
import type { Change } from '../domain/change.ts';
import type { DigestItem, Deps } from './ports.ts';

/** Pending changes grouped by the channel their cards live in, oldest first, as digest items. */
export async function pendingDigest(deps: Deps, channelOf: (c: Change) => string): Promise<Map<string, DigestItem[]>> {
  const now = deps.clock.now();
  const claimTimeout = deps.config.resolved.escalation.claimTimeoutMs;
  const pending = await listChanges(deps.database.db, { status: 'pending', limit: 2_000, oldestFirst: true });
  const eligible = new Map<string, Set<string>>();
  const out = new Map<string, DigestItem[]>();
  for (const c of pending) {
    if (!eligible.has(c.team)) eligible.set(c.team, await deps.reviewers.eligibleFor(c.team));
    const signed = c.sign_offs.filter((s) => s.round === c.round).map((s) => s.reviewer);
    const item: DigestItem = {
      change: c,
      ageMs: now.getTime() - c.created_at.getTime(),
      claimer: activeClaim(c, claimTimeout, now),
      waitingOn: reminderTargets({ eligible: eligible.get(c.team)!, signed, author: c.author.slack_id ?? null, claimer: null }),
    };
    const ch = channelOf(c);
    out.set(ch, [...(out.get(ch) ?? []), item]);
  }
  return out;
}

/**
 * Posts the digest: one message per senior channel that has pending changes, none when nothing
 * is pending. With `slot`, only the first replica to claim that slot posts (scheduled digests).
 * With `to` (the `/change digest` command in a card channel), posts that channel's changes there.
 */
export async function postDigest(deps: Deps, channelOf: (c: Change) => string, opts: { slot?: string; to?: string } = {}): Promise<number> {
  const groups = await pendingDigest(deps, channelOf);
  let chosen: [string, DigestItem[]][] = [...groups];
  if (opts.to) {
    const items = groups.get(opts.to) ?? [];
    chosen = items.length ? [[opts.to, items]] : [];
  }
  return deps.database.db.transaction(async (tx) => {
    if (opts.slot) {
      if (!(await claimSlot(tx, 'digest', opts.slot, deps.clock.now()))) return 0;
    }
    for (const [channel, items] of chosen) await deps.notifier.digest(tx, channel, items);
    return chosen.length;
  });
}
