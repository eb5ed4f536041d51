import type { Change } from '../../domain/change.ts';
import type { Refusal } from '../../domain/errors.ts';
import type { SignOff } from '../../domain/types.ts';
import { progressLine } from './change-card.ts';
import { mention, safeText } from '../mrkdwn.ts';

/** The short reply in a card's thread for each sign-off, so the channel keeps a visible trail. */
export function signOffThreadReply(change: Change, s: SignOff): string {
  if (s.decision === 'rejected') return `:x: ${mention(s.reviewer)} rejected ${change.key}: ${safeText(s.reason ?? '', 1500)}`;
  return `:white_check_mark: ${mention(s.reviewer)} signed off ${change.key} (${progressLine(change).split(':')[0]})`;
}

/** The DM to the author when their change is decided. */
export function authorDecisionDm(change: Change, actor: string, reason: string | null): string | null {
  const title = `*${change.key}* ${safeText(change.title, 300)}`;
  switch (change.status) {
    case 'approved':
      return `:white_check_mark: ${title} was signed off by ${change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => mention(s.reviewer)).join(', ')}. The deploy gate is open.`;
    case 'rejected':
      return `:x: ${title} was rejected by ${mention(actor)}.\n>${safeText(reason ?? 'No reason given.', 1500).replace(/\n/g, '\n>')}\nAddress the feedback and submit a new change, or reply to the reviewer in the card's thread.`;
    case 'expired':
      return `:alarm_clock: ${title} expired without a sign-off, so the gate stays closed. Resubmit it, or ask the ${safeText(change.team, 100)} seniors to look at it.`;
    default:
      return null;
  }
}

/** The friendly sentence for a refusal (the domain already words it for people). */
export function refusalText(r: Refusal): string {
  return `:no_entry: ${r.message}`;
}
