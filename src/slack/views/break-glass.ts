import type { Change } from '../../domain/change.ts';
import type { Revision } from '../../use-cases/ports.ts';
import { fitMrkdwn, formatTime, mention, safeText } from '../mrkdwn.ts';
import { cardPlace, type CardLocation, type SlackMessage } from './change-card.ts';

/** The alert in the escalation channel when someone opens a gate under break-glass. Everything from outside is escaped. */
export function breakGlassAlert(change: Change, reviewWithin: { text: string; ms: number }, card: CardLocation): SlackMessage {
  const by = mention(change.breakglass?.by);
  const reason = safeText(change.breakglass?.reason ?? '', 1500);
  const due = change.breakglass ? ` (by ${formatTime(new Date(change.breakglass.at.getTime() + reviewWithin.ms))})` : '';
  const text =
    `:rotating_light: *${change.key}* was deployed under break-glass by ${by}: ${reason}\n` +
    `${safeText(change.title, 300)} · *Team* ${safeText(change.team, 100)} · *Risk* ${change.risk.level}\n` +
    `Normal sign-off is still required within ${safeText(reviewWithin.text, 20)}${due}. ${cardPlace(card)}.`;
  return {
    text: `${change.key} was deployed under break-glass by ${by}: ${reason}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(text, 3000) } }],
  };
}

/** The reply in the card's thread when break-glass opened the gate. */
export function breakGlassThreadReply(change: Change): string {
  return `:rotating_light: ${mention(change.breakglass?.by)} opened the gate of ${change.key} under break-glass: ${safeText(change.breakglass?.reason ?? '', 1500)}. Sign it off (or reject it) after the fact.`;
}

/** The reply in the card's thread when a change was revised from GitHub. */
export function revisionThreadReply(change: Change, revision: Revision): string {
  if (revision.kind === 'new_round') {
    const sha = `\`${safeText(revision.to_sha.slice(0, 7), 7)}\``;
    const had = change.sign_offs.some((s) => s.round < change.round);
    if (change.status === 'pending') {
      return had
        ? `:arrows_counterclockwise: New commits (now at ${sha}): earlier sign-offs no longer count; re-approval needed.`
        : `:arrows_counterclockwise: New commits (now at ${sha}).`;
    }
    return `:arrows_counterclockwise: New commits (now at ${sha}); ${change.key} stays ${change.status.replace('_', ' ')}.`;
  }
  if (revision.kind === 'pull_request_read') {
    const needs = change.approvals_required === 0 ? 'it needs no sign-off' : `${change.approvals_required} sign-off${change.approvals_required === 1 ? '' : 's'} needed`;
    return `:mag_right: Read the pull request: ${revision.files} file${revision.files === 1 ? '' : 's'}, ${revision.commits} commit${revision.commits === 1 ? '' : 's'}; risk ${change.risk.level}, ${needs}.`;
  }
  const why = revision.reopened ? ` It is pending again: ${safeText(revision.reopened, 300)}.` : '';
  return `:arrow_up: Labels changed and the risk of ${change.key} rose to ${change.risk.level} (${change.approvals_required} sign-off${change.approvals_required === 1 ? '' : 's'} needed).${why}`;
}

