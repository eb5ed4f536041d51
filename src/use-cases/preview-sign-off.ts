import { refuse, type Refusal } from '../domain/errors.ts';
import { decideSignOff, signOffSubject } from '../domain/sign-off.ts';
import type { Decision } from '../domain/types.ts';
import type { Change } from '../domain/change.ts';
import { findChangeByKey } from './get-change.ts';
import { teamsOf } from './record-sign-off.ts';
import type { Deps } from './ports.ts';
import { reviewerAuthorship } from './reviewer-identity.ts';

/**
 * Checks whether a person could sign off now, without recording anything (e.g. before opening
 * the reject modal, so an ineligible person is told at once instead of after typing a reason).
 */
export async function previewSignOff(deps: Deps, key: string, reviewer: string, decision: Decision): Promise<{ ok: true; change: Change } | Refusal> {
  const change = await findChangeByKey(deps, key);
  if (!change) return refuse('not_found', `There is no change ${key}.`);
  const eligible = await deps.reviewers.eligibleFor(change.team);
  const reviewerTeams = teamsOf(deps, reviewer);
  const identity = eligible.has(reviewer) ? await reviewerAuthorship(deps, reviewer, change.author) : undefined;
  const d = decideSignOff(
    signOffSubject(change),
    change.sign_offs,
    { reviewer, decision, reason: decision === 'rejected' ? 'preview' : null, authorship: identity },
    { eligible, reviewerTeams },
  );
  return d.ok ? { ok: true, change } : d;
}
