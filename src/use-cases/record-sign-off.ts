import { appendAudit } from '../db/repositories/audit.ts';
import { findChange, insertSignOff, transitionStatus } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import { decideSignOff, signOffSubject } from '../domain/sign-off.ts';
import type { Decision } from '../domain/types.ts';
import { findChangeByKey } from './get-change.ts';
import type { Deps } from './ports.ts';

export interface SignOffCommand {
  key: string;
  reviewer: string;
  decision: Decision;
  reason?: string | null;
  /** The review round the clicked card showed; a click on an outdated card is refused. */
  round?: number;
}

export type SignOffResult = { ok: true; change: Change; decided: boolean } | Refusal;

/**
 * Records an Approve or Reject. The change row is locked for the whole decision, so two seniors
 * approving at the same instant, or one senior clicking twice, end in exactly one outcome.
 * Refusals are audited too.
 */
export async function recordSignOff(deps: Deps, cmd: SignOffCommand): Promise<SignOffResult> {
  const before = await findChangeByKey(deps, cmd.key);
  if (!before) return refuse('not_found', `There is no change ${cmd.key}.`);
  const eligible = await deps.reviewers.eligibleFor(before.team);
  const reviewerTeams = teamsOf(deps, cmd.reviewer);

  return deps.database.db.transaction(async (tx) => {
    const change = (await findChange(tx, before.id, { forUpdate: true }))!;
    const now = deps.clock.now();
    if (cmd.round !== undefined && cmd.round !== change.round && change.status === 'pending') {
      return refuse('stale_card', `${change.key} has changed since that card was shown; use the updated card.`);
    }
    const d = decideSignOff(
      signOffSubject(change),
      change.sign_offs,
      { reviewer: cmd.reviewer, decision: cmd.decision, reason: cmd.reason },
      { eligible, reviewerTeams },
    );
    if (!d.ok) {
      await appendAudit(tx, now, [{ actor: cmd.reviewer, action: 'sign_off_refused', changeId: change.id, data: { decision: cmd.decision, code: d.code } }]);
      return d;
    }
    if (!(await insertSignOff(tx, change.id, { ...d.signOff, head_sha: change.head_sha }, now))) {
      return refuse('already_signed', `You already signed off ${change.key}; each person counts once.`);
    }
    await appendAudit(tx, now, [
      { actor: cmd.reviewer, action: 'sign_off_recorded', changeId: change.id, data: { decision: d.signOff.decision, reason: d.signOff.reason, round: d.signOff.round, head_sha: change.head_sha, approvals: d.approvals, required: change.approvals_required } },
    ]);
    if (d.decides) {
      await transitionStatus(tx, change.id, change.status, d.decides, now);
      await appendAudit(tx, now, [{ actor: cmd.reviewer, action: 'status_changed', changeId: change.id, data: { from: change.status, to: d.decides } }]);
    }
    const after = (await findChange(tx, change.id))!;
    await deps.notifier.signOffRecorded(tx, after, after.sign_offs[after.sign_offs.length - 1]);
    if (d.decides) await deps.notifier.statusChanged(tx, after, change.status, cmd.reviewer, d.signOff.reason);
    return { ok: true as const, change: after, decided: d.decides !== null };
  });
}

/** Teams whose config lists this person as a senior (to explain a refusal). */
export function teamsOf(deps: Deps, user: string): string[] {
  return deps.config.teams.filter((t) => t.seniors.includes(user)).map((t) => t.name);
}
