import { refuse, type Refusal } from './errors.ts';
import { isFinal } from './status.ts';
import type { ChangeStatus, Decision, SignOff } from './types.ts';
import type { Authorship } from './authors.ts';

export interface SignOffSubject {
  key: string;
  status: ChangeStatus;
  team: string;
  author_slack_id: string | null;
  approvals_required: number;
  round: number;
}

/** The part of a change the sign-off rules look at. */
export function signOffSubject(c: { key: string; status: ChangeStatus; team: string; author: { slack_id?: string }; approvals_required: number; round: number }): SignOffSubject {
  return { key: c.key, status: c.status, team: c.team, author_slack_id: c.author.slack_id ?? null, approvals_required: c.approvals_required, round: c.round };
}

export interface SignOffRequest {
  reviewer: string;
  decision: Decision;
  reason?: string | null;
  /** Whether the reviewer is the author by any of the author's identities (see `authorship`); default: by Slack id only. */
  authorship?: Authorship;
}

/** Who may sign off: the owning team's seniors ∪ its user group's members (resolved by the caller). */
export interface Eligibility {
  eligible: ReadonlySet<string>;
  /** Teams the reviewer is a senior of, to explain a refusal ("you sign off for search"). */
  reviewerTeams?: readonly string[];
}

export interface SignOffAccepted {
  ok: true;
  signOff: Omit<SignOff, 'at'>;
  /** The new status when this sign-off decides the change, else null. */
  decides: 'approved' | 'rejected' | null;
  approvals: number;
}

export const MAX_REASON_LENGTH = 2000;

/** Pending changes, and changes deployed under break-glass (retroactive sign-off), take sign-offs; other final statuses refuse them. */
export function acceptsSignOffs(status: ChangeStatus): boolean {
  return status === 'pending' || status === 'approved_breakglass';
}

/** Distinct approvers in the current round. */
export function countApprovals(signOffs: readonly SignOff[], round: number): number {
  return new Set(signOffs.filter((s) => s.round === round && s.decision === 'approved').map((s) => s.reviewer)).size;
}

/**
 * The sign-off rules. Refuses the author, anyone not eligible for the owning team, a second
 * sign-off by the same person, a rejection without a reason, and anything after a final status
 * except `approved_breakglass`, which still needs its sign-offs: enough approvals turn it into
 * `approved`, a rejection into `rejected`.
 */
export function decideSignOff(
  change: SignOffSubject,
  existing: readonly SignOff[],
  req: SignOffRequest,
  who: Eligibility,
): SignOffAccepted | Refusal {
  // A change deployed under break-glass still needs its normal sign-offs, after the fact.
  if (isFinal(change.status) && !acceptsSignOffs(change.status)) {
    return refuse('already_decided', `${change.key} is already ${change.status.replace('_', ' ')}; nothing was recorded.`);
  }
  if ((change.author_slack_id && req.reviewer === change.author_slack_id) || req.authorship === 'author') {
    return refuse('self_approval', `Only ${change.team} seniors other than the author can sign off ${change.key}; you are the author.`);
  }
  if (!who.eligible.has(req.reviewer)) {
    const other = who.reviewerTeams?.filter((t) => t !== change.team) ?? [];
    const why = other.length ? `you are a senior of ${other.join(', ')}, not ${change.team}` : `you are not a ${change.team} senior`;
    return refuse('not_eligible', `Only ${change.team} seniors can sign off ${change.key}; ${why}.`);
  }
  if (req.authorship === 'unknown') {
    return refuse('identity_unverified', `Countersign could not check that you are not the author of ${change.key} (your Slack profile could not be read); nothing was recorded. Try again in a moment.`);
  }
  if (existing.some((s) => s.round === change.round && s.reviewer === req.reviewer)) {
    return refuse('already_signed', `You already signed off ${change.key}; each person counts once.`);
  }
  const reason = req.reason?.trim() || null;
  if (req.decision === 'rejected' && !reason) {
    return refuse('reason_required', `A rejection of ${change.key} needs a reason, so the author can learn from it.`);
  }
  const signOff = { reviewer: req.reviewer, decision: req.decision, reason: reason?.slice(0, MAX_REASON_LENGTH) ?? null, round: change.round };
  if (req.decision === 'rejected') return { ok: true, signOff, decides: 'rejected', approvals: countApprovals(existing, change.round) };
  const approvals = countApprovals([...existing, { ...signOff, at: new Date(0) }], change.round);
  return { ok: true, signOff, decides: approvals >= change.approvals_required ? 'approved' : null, approvals };
}
