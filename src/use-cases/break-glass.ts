import { appendAudit } from '../db/repositories/audit.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import type { Deps } from './ports.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';

export const MAX_BREAKGLASS_REASON = 2000;

export interface BreakGlassCommand {
  key: string;
  /** The Slack user id of the person who opens the gate; must be in `break_glass.allowed`. */
  by: string;
  reason: string;
  /** How the request came in (`token:<name>` from the API); audited next to `by`, which the API only claims. */
  via?: string;
}

/**
 * Break-glass: someone in `break_glass.allowed` opens the gate of a pending change at once, with a
 * mandatory reason. The change becomes `approved_breakglass` (the gate answers 200); the escalation
 * channel is alerted and the card says so; normal sign-offs are still due within
 * `break_glass.review_within` (the escalation sweep posts once when they are late). Refusals are audited.
 */
export async function breakGlass(deps: Deps, cmd: BreakGlassCommand): Promise<{ ok: true; change: Change } | Refusal> {
  const id = parseChangeKey(cmd.key);
  if (id === null) return refuse('not_found', `There is no change ${cmd.key}.`);
  const reason = cmd.reason.trim().slice(0, MAX_BREAKGLASS_REASON);
  const result = await withLockedChange(deps, id, async (tx, change, now) => {
    const refused = async (r: Refusal) => {
      await appendAudit(tx, now, [{ actor: cmd.by, via: cmd.via, action: 'break_glass_refused', changeId: change.id, data: { code: r.code, reason: reason || null } }]);
      return r;
    };
    if (!deps.config.break_glass.allowed.includes(cmd.by)) {
      return refused(refuse('not_allowed', `Only the people in break_glass.allowed can use break-glass; ${cmd.by} is not one of them. Ask a ${change.team} senior to sign off ${change.key}.`));
    }
    if (!reason) return refused(refuse('reason_required', `Break-glass on ${change.key} needs a reason: it goes to the escalation channel and the audit trail.`));
    const notPending = refuse('already_decided', `${change.key} is ${change.status.replace('_', ' ')}; break-glass only opens the gate of a pending change.`);
    if (change.status !== 'pending') return refused(notPending);
    const after = await applyTransition(tx, change, now, {
      // The escalation ladder starts over for the retroactive review.
      set: { status: 'approved_breakglass', decidedAt: now, breakglassBy: cmd.by, breakglassReason: reason, breakglassAt: now, escalationStep: 0, claimedBy: null, claimedAt: null },
      guard: { status: 'pending' },
      events: [
        { actor: cmd.by, via: cmd.via, action: 'break_glass', changeId: id, data: { reason, head_sha: change.head_sha, plan_sha256: change.plan_sha256, review_within: deps.config.break_glass.review_within } },
        { actor: cmd.by, via: cmd.via, action: 'status_changed', changeId: id, data: { from: 'pending', to: 'approved_breakglass', reason: `break-glass: ${reason}` } },
      ],
      notify: (tx, after) => deps.notifier.breakGlassUsed(tx, after),
    });
    return after ? { ok: true as const, change: after } : notPending;
  });
  return result ?? refuse('not_found', `There is no change ${cmd.key}.`);
}
