import type { KnownBlock } from '@slack/types';
import type { Change } from '../../domain/change.ts';
import { formatAge } from '../../domain/duration.ts';
import { countApprovals } from '../../domain/sign-off.ts';
import { fitMrkdwn, mention, safeText } from '../mrkdwn.ts';
import { RISK_EMOJI, type SlackMessage } from './change-card.ts';

/** Who a pending change still waits on: the eligible seniors who have not signed this round. */
export function waitingOn(change: Change, eligible: Iterable<string>): string[] {
  const signed = new Set(change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer));
  return [...eligible].filter((u) => !signed.has(u) && u !== change.author.slack_id);
}

/** `/change list`: pending changes, oldest first, with age, risk and who they wait on. */
export function buildPendingList(changes: Change[], now: Date, eligibleByTeam: Map<string, Set<string>>): SlackMessage {
  if (changes.length === 0) return { text: 'Nothing is waiting for sign-off.', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':tada: Nothing is waiting for sign-off.' } }] };
  const lines = changes.map((c) => {
    const need = c.approvals_required - countApprovals(c.sign_offs, c.round);
    const who = waitingOn(c, eligibleByTeam.get(c.team) ?? []).map(mention).join(' ') || 'nobody eligible';
    return `${RISK_EMOJI[c.risk.level]} *${c.key}* ${safeText(c.title, 120)} · ${formatAge(now.getTime() - c.created_at.getTime())} old · ${c.risk.level} · needs ${need} more from ${who}`;
  });
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${changes.length} change${changes.length === 1 ? '' : 's'} waiting for sign-off* (oldest first)` } }];
  for (let i = 0; i < lines.length && blocks.length < 49; i += 10) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(lines.slice(i, i + 10).join('\n'), 3000) } });
  }
  return { text: `${changes.length} change(s) waiting for sign-off`, blocks };
}

/** `/change help`, optionally naming what was not understood. */
export function buildChangeHelp(notUnderstood?: string): SlackMessage {
  const lines = [
    '*`/change`*: review changes that wait for senior sign-off',
    '• `/change list`: pending changes, oldest first',
    '• `/change CHG-12`: one change\'s card',
    '• `/change digest`: post the digest of pending changes in this channel',
    '• `/change away on|off`: skip me (or not) when assigning reviews',
    '• `/change stats [days]`: review and delivery stats (default 30 days)',
    '• `/change freezes`: deploy freezes active now and in the next 30 days',
    // `<` and `>` are Slack's own markup characters, even inside code: escaped, they show as typed.
    '• `/change breakglass CHG-12 &lt;reason&gt;`: emergency only: open the gate before sign-off (people in `break_glass.allowed`)',
    '• `/change help`: this help',
  ];
  const head = notUnderstood ? `Sorry, I did not understand \`${safeText(notUnderstood, 200)}\`.\n` : '';
  return { text: `${head}${lines.join('\n')}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: head + lines.join('\n') } }] };
}
