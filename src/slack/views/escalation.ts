import type { KnownBlock } from '@slack/types';
import type { Change } from '../../domain/change.ts';
import { formatAge } from '../../domain/duration.ts';
import type { DigestItem, EscalationInfo } from '../../use-cases/ports.ts';
import { fitMrkdwn, formatTime, link, mention, safeText } from '../mrkdwn.ts';
import { cardPlace, RISK_EMOJI, type CardLocation, type SlackMessage } from './change-card.ts';

const STEP_NAME: Record<number, string> = { 2: 'escalates', 3: 'expires' };

/** The one reminder, a reply in the card's thread mentioning individuals (never the channel). */
export function reminderText(change: Change, info: EscalationInfo): string {
  const who = info.targets.length ? info.targets.map(mention).join(' ') : `the ${safeText(change.team, 100)} seniors`;
  const next = info.next && STEP_NAME[info.next.step] ? ` It ${STEP_NAME[info.next.step]} at ${formatTime(info.next.at)}.` : '';
  return `:bell: ${who}: ${change.key} has waited ${formatAge(info.ageMs)} for sign-off.${next}`;
}

/** The one post in the escalation channel: key, title, team, age, risk, who it waits on, where the card is. */
export function escalationMessage(change: Change, info: EscalationInfo, opts: { card: CardLocation; contacts: string[]; usergroup?: string }): SlackMessage {
  const waiting = info.waitingOn.length ? info.waitingOn.map(mention).join(' ') : 'nobody eligible (check the team\'s seniors)';
  const extra = [...opts.contacts.map(mention), ...(opts.usergroup && /^S[A-Z0-9]+$/.test(opts.usergroup) ? [`<!subteam^${opts.usergroup}>`] : [])];
  if (change.status === 'approved_breakglass') {
    // An overdue retroactive review: deployed under break-glass, still without its normal sign-off.
    const bg = `deployed under break-glass by ${mention(change.breakglass?.by)} ${formatAge(info.ageMs)} ago and still has no retroactive sign-off`;
    const body =
      `:rotating_light: *${change.key}* ${safeText(change.title, 300)} was ${bg}\n` +
      `*Break-glass reason* ${safeText(change.breakglass?.reason ?? '', 1000)}\n` +
      `*Team* ${safeText(change.team, 100)} · *Risk* ${RISK_EMOJI[change.risk.level]} ${change.risk.level} · *Waits on* ${waiting}\n` +
      `${cardPlace(opts.card)}.${extra.length ? ` ${extra.join(' ')}` : ''}`;
    return { text: `${change.key} ${safeText(change.title, 300)} was ${bg}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(body, 3000) } }] };
  }
  const text =
    `:rotating_light: *${change.key}* ${safeText(change.title, 300)} has waited ${formatAge(info.ageMs)} for sign-off\n` +
    `*Team* ${safeText(change.team, 100)} · *Risk* ${RISK_EMOJI[change.risk.level]} ${change.risk.level} · *Waits on* ${waiting}\n` +
    `${cardPlace(opts.card)}.${extra.length ? ` ${extra.join(' ')}` : ''}`;
  return {
    text: `${change.key} ${safeText(change.title, 300)} has waited ${formatAge(info.ageMs)} for sign-off`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(text, 3000) } }],
  };
}

/** The digest for one channel: pending changes oldest first, with age, risk, claimer and who they wait on. */
export function buildDigest(items: DigestItem[]): SlackMessage {
  const lines = items.map((i) => {
    const claim = i.claimer ? ` · ${mention(i.claimer)} is reviewing` : '';
    const waiting = i.waitingOn.length ? i.waitingOn.map(mention).join(' ') : 'nobody eligible';
    const key = i.permalink ? `*${link(i.permalink, i.change.key)}*` : `*${i.change.key}*`;
    return `${RISK_EMOJI[i.change.risk.level]} ${key} ${safeText(i.change.title, 120)} · ${formatAge(i.ageMs)} · ${i.change.risk.level}${claim} · waits on ${waiting}`;
  });
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: `${items.length} change${items.length === 1 ? '' : 's'} waiting for sign-off` } }];
  for (let i = 0; i < lines.length && blocks.length < 49; i += 10) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(lines.slice(i, i + 10).join('\n'), 3000) } });
  }
  if (lines.length > 490) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `+${lines.length - 490} more; see /change list` }] });
  return { text: `Digest: ${items.length} change(s) waiting for sign-off`, blocks };
}
