import type { KnownBlock, View } from '@slack/types';
import type { Change } from '../../domain/change.ts';
import { formatAge } from '../../domain/duration.ts';
import { buildReviewBrief, type AreaPattern } from '../../domain/review-brief.ts';
import { fitMrkdwn, mention, safeText } from '../mrkdwn.ts';
import { cardActions, progressLine, RISK_EMOJI } from './change-card.ts';

const STATUS_WORD: Record<Change['status'], string> = {
  pending: ':hourglass_flowing_sand: pending',
  approved: ':white_check_mark: approved',
  approved_breakglass: ':rotating_light: approved under break-glass',
  rejected: ':x: rejected',
  expired: ':alarm_clock: expired',
  cancelled: ':no_entry_sign: cancelled',
};

const MAX_TO_REVIEW = 25;
const MAX_MINE = 15;

/**
 * The App Home: for a senior, "Waiting for your sign-off" with the same Approve/Reject buttons as
 * the cards (same builder, same handlers); for everyone, "Your changes" with their status.
 */
export function buildHome(input: { toReview: Change[] | null; mine: Change[]; now: Date; areas?: AreaPattern[] }): View {
  const blocks: KnownBlock[] = [];
  const line = (c: Change) => {
    const flags = buildReviewBrief({ diff: c.diff, ai: c.ai, infra: c.infra }, input.areas).flags;
    return (
      `${RISK_EMOJI[c.risk.level]} *${c.key}* ${safeText(c.title, 150)}\n${c.risk.level} · ${formatAge(input.now.getTime() - c.created_at.getTime())} old · ${progressLine(c)}` +
      `${c.claimed_by ? ` · :eyes: ${mention(c.claimed_by)} is reviewing` : ''}` +
      `${flags.length ? `\n:warning: ${safeText(flags.join(' · '), 600)}` : ''}`
    );
  };
  if (input.toReview) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Waiting for your sign-off' } });
    if (input.toReview.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: ':tada: Nothing is waiting for you.' } });
    for (const c of input.toReview.slice(0, MAX_TO_REVIEW)) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(line(c), 3000) } }, cardActions(c));
    }
    if (input.toReview.length > MAX_TO_REVIEW) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `+${input.toReview.length - MAX_TO_REVIEW} more; see /change list` }] });
    blocks.push({ type: 'divider' });
  }
  blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Your changes' } });
  if (input.mine.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'You have not submitted any changes.' } });
  const mine = input.mine.slice(0, MAX_MINE).map((c) => `*${c.key}* ${safeText(c.title, 150)} · ${STATUS_WORD[c.status]} · ${c.risk.level} risk`);
  for (let i = 0; i < mine.length; i += 5) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(mine.slice(i, i + 5).join('\n'), 3000) } });
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
