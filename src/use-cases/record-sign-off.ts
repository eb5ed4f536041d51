import { appendAudit, type AuditEvent } from '../db/repositories/audit.ts';
import { markReceiptProcessed } from '../db/repositories/inbox.ts';
import { insertSignOff, teamOfChange } from '../db/repositories/changes.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import { acceptsSignOffs, decideSignOff, signOffSubject } from '../domain/sign-off.ts';
import type { Decision } from '../domain/types.ts';
import type { Deps } from './ports.ts';
import { reviewerAuthorship } from './reviewer-identity.ts';

export interface SignOffCommand {
  key: string;
  reviewer: string;
  decision: Decision;
  reason?: string | null;
  /** The review round the clicked card showed; a click on an outdated card is refused. */
  round?: number;
  /** The durable receipt of the click, marked processed in the same transaction as its outcome. */
  receipt?: number;
}

export type SignOffResult = { ok: true; change: Change; decided: boolean } | Refusal;

/**
 * Records an Approve or Reject. The change row is locked for the whole decision, so two seniors
 * approving at the same instant, or one senior clicking twice, end in exactly one outcome.
 * Refusals are audited too.
 */
export async function recordSignOff(deps: Deps, cmd: SignOffCommand): Promise<SignOffResult> {
  const id = parseChangeKey(cmd.key);
  const subject = id === null ? null : await teamOfChange(deps.database.db, id);
  if (id === null || subject === null) {
    if (cmd.receipt) await markReceiptProcessed(deps.database.db, cmd.receipt);
    return refuse('not_found', `There is no change ${cmd.key}.`);
  }
  // Eligibility and identity may ask Slack (user groups, profile email): resolve them before taking the row lock.
  const eligible = await deps.reviewers.eligibleFor(subject.team);
  const reviewerTeams = teamsOf(deps, cmd.reviewer);
  const identity = eligible.has(cmd.reviewer) ? await reviewerAuthorship(deps, cmd.reviewer, subject.author) : undefined;

  const result = await withLockedChange(deps, id, async (tx, change, now): Promise<SignOffResult> => {
    if (cmd.receipt) await markReceiptProcessed(tx, cmd.receipt);
    const refused = async (r: Refusal) => {
      await appendAudit(tx, now, [{ actor: cmd.reviewer, action: 'sign_off_refused', changeId: change.id, data: { decision: cmd.decision, code: r.code, ...(r.code === 'stale_card' && { card_round: cmd.round, round: change.round }) } }]);
      return r;
    };
    if (cmd.round !== undefined && cmd.round !== change.round && acceptsSignOffs(change.status)) {
      return refused(refuse('stale_card', `${change.key} has changed since that card was shown; use the updated card.`));
    }
    const d = decideSignOff(signOffSubject(change), change.sign_offs, { reviewer: cmd.reviewer, decision: cmd.decision, reason: cmd.reason, authorship: identity }, { eligible, reviewerTeams });
    if (!d.ok) return refused(d);
    // Each sign-off records the artifact it covered: the head SHA and the plan digest shown to the reviewer.
    const artifact = { head_sha: change.head_sha, plan_sha256: change.plan_sha256 };
    if (!(await insertSignOff(tx, change.id, { ...d.signOff, ...artifact }, now))) {
      return refuse('already_signed', `You already signed off ${change.key}; each person counts once.`);
    }
    const events: AuditEvent[] = [
      { actor: cmd.reviewer, action: 'sign_off_recorded', changeId: change.id, data: { decision: d.signOff.decision, reason: d.signOff.reason, round: d.signOff.round, head_sha: change.head_sha, plan_sha256: change.plan_sha256, approvals: d.approvals, required: change.approvals_required } },
    ];
    if (d.decides) {
      const retroactive = change.status === 'approved_breakglass' ? { reason: `retroactive sign-off of the break-glass by ${change.breakglass?.by ?? 'someone'}` } : {};
      events.push({ actor: cmd.reviewer, action: 'status_changed', changeId: change.id, data: { from: change.status, to: d.decides, ...retroactive } });
    }
    const signOff = { ...d.signOff, ...artifact, at: now };
    const after = await applyTransition(tx, change, now, {
      set: d.decides ? { status: d.decides, decidedAt: now } : {},
      events,
      notify: async (tx, after, before) => {
        await deps.notifier.signOffRecorded(tx, after, signOff);
        if (d.decides) await deps.notifier.statusChanged(tx, after, before.status, cmd.reviewer, d.signOff.reason);
      },
    });
    return { ok: true as const, change: after!, decided: d.decides !== null };
  });
  if (result?.ok && result.change.status === 'approved' && result.decided) deps.observe.approved(result.change);
  return result ?? refuse('not_found', `There is no change ${cmd.key}.`);
}

/** Teams whose config lists this person as a senior (to explain a refusal). */
export function teamsOf(deps: Deps, user: string): string[] {
  return deps.config.teams.filter((t) => t.seniors.includes(user)).map((t) => t.name);
}
