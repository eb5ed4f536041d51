import type { Change } from './change.ts';
import { gateOf, type GateContext } from './status.ts';

/** What Countersign answers GitHub for a deployment protection rule, or that it holds the deployment for now. */
export type ProtectionAnswer = { state: 'approved' | 'rejected'; comment: string } | { state: 'wait' };

const ENFORCE: GateContext = { shadow: false, freeze: null };

/**
 * The answer for a deployment of `sha`: the same rule as the gate (an approval covers its head or
 * recorded merge commit; a stale one does not open), held while the change is pending or being read,
 * and held while a freeze covers the deployment's environment (except break-glass) until it ends;
 * a rejected (expired, cancelled) change is rejected at once, freeze or not. In shadow mode every
 * request is approved, its comment saying what enforce mode would have done.
 * No change at all is rejected, unless `github.unknown_deployments: approve`.
 */
export function protectionAnswer(change: Change | null, sha: string, opts: { unknownDeployments: 'approve' | 'reject' }, ctx: GateContext = ENFORCE): ProtectionAnswer {
  if (!change) {
    return opts.unknownDeployments === 'approve'
      ? { state: 'approved', comment: `no Countersign change for ${sha}; approved because github.unknown_deployments is approve` }
      : { state: 'rejected', comment: `no Countersign change for ${sha}` };
  }
  const enforced = enforceAnswer(change, sha, ctx);
  if (!ctx.shadow || enforced.state === 'approved') return enforced;
  const would =
    enforced.state === 'rejected'
      ? `would have been rejected (${enforced.comment})`
      : ctx.freeze && gateOf(change, { sha }).allowed
        ? `would have waited for freeze ${ctx.freeze.name} to end (${ctx.freeze.until.toISOString()})`
        : 'would have waited for sign-off';
  return { state: 'approved', comment: `Shadow mode: ${change.key} ${would}; Countersign is not blocking deploys yet` };
}

function enforceAnswer(change: Change, sha: string, ctx: GateContext): ProtectionAnswer {
  const gate = gateOf(change, { sha });
  if (gate.httpStatus === 202) return { state: 'wait' };
  if (gate.allowed) {
    // Held until the freeze ends; break-glass is the audited way through.
    if (ctx.freeze && change.status !== 'approved_breakglass') return { state: 'wait' };
    const approvers = [...new Set(change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => s.reviewer))];
    const who =
      change.status === 'approved_breakglass'
        ? `opened under break-glass by ${change.breakglass?.by ?? 'someone'}: ${change.breakglass?.reason ?? ''}`
        : change.approvals_required === 0
          ? 'needs no sign-off'
          : `signed off by ${approvers.join(', ')}`;
    return { state: 'approved', comment: `${change.key} ${who}` };
  }
  if (gate.stale) return { state: 'rejected', comment: `${change.key} is approved for ${gate.stale.approved ?? 'another commit'}, not ${sha}: that commit needs its own sign-off` };
  const rejection = change.sign_offs.filter((s) => s.round === change.round && s.decision === 'rejected').at(-1);
  const why = change.status === 'rejected' && rejection ? `rejected by ${rejection.reviewer}: ${rejection.reason ?? ''}` : change.status.replace('_', ' ');
  return { state: 'rejected', comment: `${change.key} is ${why}` };
}
