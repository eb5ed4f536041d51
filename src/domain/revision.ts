import { maxLevel, type PolicyOutcome } from './policy.ts';
import { countApprovals } from './sign-off.ts';
import { RISK_LEVELS, type AiAssessment, type ChangeStatus, type Risk, type SignOff } from './types.ts';

/**
 * Pure rules for revising a registered change: new commits start a new review round, and label
 * changes can raise (never lower) its risk.
 */

/**
 * The status of a change when new commits start a new review round: `approved`, `rejected` and
 * `approved_breakglass` go back to `pending` (unless the change needs no sign-off at all);
 * `pending` stays pending; `expired` and `cancelled` stay as they are.
 */
export function statusForNewRound(status: ChangeStatus, approvalsRequired: number): ChangeStatus {
  if (status === 'expired' || status === 'cancelled') return status;
  return approvalsRequired === 0 ? 'approved' : 'pending';
}

/** True when `a` and `b` are the same full commit SHA, ignoring case (abbreviations never match). */
export function sameCommit(a: string | null | undefined, b: string | null | undefined): boolean {
  return Boolean(a && b) && a!.toLowerCase() === b!.toLowerCase();
}

export interface RiskSubject {
  status: ChangeStatus;
  risk: Risk;
  ai: AiAssessment;
  approvals_required: number;
  round: number;
  sign_offs: readonly SignOff[];
}

export interface RiskRevision {
  /** True when the re-evaluated risk is higher (level or sign-offs needed) than the stored one. */
  raised: boolean;
  risk: Risk;
  ai: AiAssessment;
  approvals_required: number;
  status: ChangeStatus;
  /** Why the status went back to pending, when it did. */
  reopened: string | null;
}

const rank = (l: Risk['level']) => RISK_LEVELS.indexOf(l);

/**
 * Applies a re-evaluated policy outcome (e.g. after labels changed) to a change. A label change
 * only ever raises the risk: removing a label such as `ai-assisted` must not dodge review, so a
 * lower outcome keeps the stored risk. When the risk rose beyond what the current round's sign-offs
 * cover (more approvals required than given, or an approved change whose level rose), an approved
 * change goes back to `pending` in the same round: its approvals still count towards the new
 * requirement. Other statuses keep their status and take the new requirement.
 */
export function reviseRisk(change: RiskSubject, outcome: PolicyOutcome, ai: AiAssessment): RiskRevision {
  const levelRose = rank(outcome.risk.level) > rank(change.risk.level);
  const requiredRose = outcome.approvals_required > change.approvals_required;
  if (!levelRose && !requiredRose) {
    return { raised: false, risk: change.risk, ai: change.ai, approvals_required: change.approvals_required, status: change.status, reopened: null };
  }
  const risk: Risk = levelRose ? { level: maxLevel(change.risk.level, outcome.risk.level), reasons: outcome.risk.reasons } : change.risk;
  const required = Math.max(change.approvals_required, outcome.approvals_required);
  // A lower AI assessment never replaces a higher one (see above).
  const nextAi = ai.assisted || !change.ai.assisted ? ai : change.ai;
  const approvals = countApprovals(change.sign_offs, change.round);
  let status = change.status;
  let reopened: string | null = null;
  if (change.status === 'approved' && (required > approvals || levelRose)) {
    status = 'pending';
    reopened = levelRose
      ? `risk rose from ${change.risk.level} to ${risk.level}; needs ${required} sign-off(s)`
      : `now needs ${required} sign-off(s), has ${approvals}`;
  }
  return { raised: true, risk, ai: nextAi, approvals_required: required, status, reopened };
}
