import { teamOfChange } from '../db/repositories/changes.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import { activeClaim } from '../domain/escalation.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import type { Deps } from './ports.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';
import { markReceiptProcessed } from '../db/repositories/inbox.ts';
import { reviewerAuthorship } from './reviewer-identity.ts';

/**
 * Claims a review ("Alice is reviewing"), or releases one. Claiming is not signing: it only
 * narrows reminders to the claimer. Only eligible seniors (not the author) may claim.
 */
export async function claimReview(deps: Deps, key: string, user: string, action: 'claim' | 'release', receipt?: number): Promise<{ ok: true; change: Change } | Refusal> {
  const id = parseChangeKey(key);
  const subject = id === null ? null : await teamOfChange(deps.database.db, id);
  if (id === null || !subject) {
    if (receipt) await markReceiptProcessed(deps.database.db, receipt);
    return refuse('not_found', `There is no change ${key}.`);
  }
  // Eligibility and identity may ask Slack: they are resolved before the row lock.
  const eligible = await deps.reviewers.eligibleFor(subject.team);
  const identity = action === 'claim' && eligible.has(user) ? await reviewerAuthorship(deps, user, subject.author) : 'other';
  const claimTimeout = deps.config.resolved.escalation.claimTimeoutMs;
  const result = await withLockedChange(deps, id, async (tx, change, now) => {
    // The click's receipt is processed with its outcome, whatever it is.
    if (receipt) await markReceiptProcessed(tx, receipt);
    if (change.status !== 'pending') return refuse('already_decided', `${change.key} is already ${change.status.replace('_', ' ')}.`);
    const current = activeClaim(change, claimTimeout, now);
    if (action === 'claim') {
      if (user === change.author.slack_id || identity === 'author') return refuse('self_approval', `You are the author of ${change.key}; a ${change.team} senior reviews it.`);
      if (identity === 'unknown') return refuse('identity_unverified', `Countersign could not check that you are not the author of ${change.key}; try again in a moment.`);
      if (!eligible.has(user)) return refuse('not_eligible', `Only ${change.team} seniors can review ${change.key}.`);
      if (current && current !== user) return refuse('already_claimed', `${change.key} is already being reviewed by <@${current}>.`);
      if (current === user) return { ok: true as const, change };
    } else if (current !== user) {
      return refuse('not_eligible', current ? `Only <@${current}> can release their claim on ${change.key}.` : `Nobody is reviewing ${change.key}.`);
    }
    const claimedBy = action === 'claim' ? user : null;
    const after = await applyTransition(tx, change, now, {
      // Claiming makes the claimer the assignee (reminders follow them).
      set: claimedBy ? { claimedBy, claimedAt: now, assignedTo: claimedBy, assignedAt: now } : { claimedBy: null, claimedAt: null },
      events: [{ actor: user, action: action === 'claim' ? 'review_claimed' : 'claim_released', changeId: id }],
      notify: (tx, after) => deps.notifier.claimChanged(tx, after),
    });
    return { ok: true as const, change: after! };
  });
  return result ?? refuse('not_found', `There is no change ${key}.`);
}
