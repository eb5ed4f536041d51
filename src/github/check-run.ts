import type { Change } from '../domain/change.ts';
import { countApprovals } from '../domain/sign-off.ts';
import { readingHolds } from '../domain/status.ts';
import type { CheckRunState } from './client.ts';

/** The name branch protection requires (pinned): one check run of this name per head SHA. */
export const CHECK_NAME = 'Countersign';

/** The title of a check run that would block but does not, in shadow mode (pinned). */
export const SHADOW_TITLE = 'Shadow mode: would wait for sign-off';

/**
 * What the check run says about a change, rendered from its current state (like the Slack card).
 * In shadow mode a check run that would block (in progress or failing) completes `neutral` instead,
 * its summary saying what enforce mode would show.
 */
export interface CheckRunContext {
  waitingOn: string[];
  detailsUrl?: string;
  shadow?: boolean;
  /** Who cancelled the change and why (from its audit trail), for a cancelled change's summary. */
  cancelled?: { by: string; reason: string | null };
}

export function checkRunFor(change: Change, opts: CheckRunContext): CheckRunState {
  const state = enforcedCheckRun(change, opts);
  if (!opts.shadow || state.conclusion === 'success') return state;
  return {
    ...state,
    status: 'completed',
    conclusion: 'neutral',
    output: { title: SHADOW_TITLE, summary: `Countersign is in shadow mode for the ${change.team} team: it does not block merges or deploys yet. In enforce mode this check would show:\n\n**${state.output.title}**\n\n${state.output.summary}` },
  };
}

function enforcedCheckRun(change: Change, opts: CheckRunContext): CheckRunState {
  const base = { name: CHECK_NAME, ...(opts.detailsUrl && { details_url: opts.detailsUrl }) };
  const reasons = change.risk.reasons.length ? change.risk.reasons.map((r) => `- ${r.text}`).join('\n') : '- no rule matched';
  const signed = change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => s.reviewer);
  const progress = `${countApprovals(change.sign_offs, change.round)} of ${change.approvals_required} sign-offs`;
  if (readingHolds(change)) {
    return { ...base, status: 'in_progress', output: { title: 'Reading the pull request', summary: `${change.key}: Countersign is reading the files and commits of this pull request before deciding how much sign-off it needs.` } };
  }
  switch (change.status) {
    case 'pending':
      return {
        ...base,
        status: 'in_progress',
        output: {
          title: 'Waiting for senior sign-off',
          summary: `**${change.key}** · risk **${change.risk.level}** · ${progress}\n\n**Why**\n${reasons}\n\n**Waiting on** ${opts.waitingOn.length ? opts.waitingOn.join(', ') : `the ${change.team} seniors`}`,
        },
      };
    case 'approved':
      return {
        ...base,
        status: 'completed',
        conclusion: 'success',
        output: {
          title: change.approvals_required === 0 ? 'No sign-off needed' : 'Signed off',
          summary: change.approvals_required === 0 ? `**${change.key}** · risk **${change.risk.level}**: the policy needs no senior sign-off.` : `**${change.key}** · risk **${change.risk.level}** · signed off by ${signed.join(', ')}`,
        },
      };
    case 'approved_breakglass':
      return {
        ...base,
        status: 'completed',
        conclusion: 'success',
        output: { title: 'Opened under break-glass', summary: `**${change.key}**: ${change.breakglass?.by ?? 'someone'} opened the gate under break-glass: ${change.breakglass?.reason ?? ''}\n\nNormal sign-off is still due after the fact.` },
      };
    case 'rejected': {
      const r = change.sign_offs.filter((s) => s.round === change.round && s.decision === 'rejected').at(-1);
      return { ...base, status: 'completed', conclusion: 'failure', output: { title: 'Rejected', summary: `**${change.key}** was rejected${r ? ` by ${r.reviewer}: ${r.reason ?? ''}` : ''}` } };
    }
    case 'expired':
      return { ...base, status: 'completed', conclusion: 'failure', output: { title: 'Expired without sign-off', summary: `**${change.key}** expired unanswered: no senior signed off in time; push again or register a new change.` } };
    case 'cancelled': {
      const c = opts.cancelled;
      return { ...base, status: 'completed', conclusion: 'failure', output: { title: 'Cancelled', summary: `**${change.key}** was cancelled${c ? ` by ${c.by}${c.reason ? `: ${c.reason}` : ''}` : ''}` } };
    }
  }
}
