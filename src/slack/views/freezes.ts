import type { KnownBlock } from '@slack/types';
import type { FreezePeriod } from '../../domain/freezes.ts';
import { fitMrkdwn, safeText, slackTime } from '../mrkdwn.ts';
import type { SlackMessage } from './change-card.ts';

const scope = (f: FreezePeriod): string =>
  `${f.environments.map((e) => safeText(e, 60)).join(', ')}${f.services ? ` · ${f.services.map((s) => safeText(s, 60)).join(', ')}` : ' · every service'}`;

/** The post in the escalation channel when a freeze starts or ends (once per boundary). */
export function freezeNotice(boundary: 'started' | 'ended', f: FreezePeriod, waiting: number): SlackMessage {
  const name = safeText(f.name, 60);
  const head =
    boundary === 'started'
      ? `:snowflake: Freeze *${name}* started: deploys to ${scope(f)} wait until ${slackTime(f.until)}`
      : `:sunny: Freeze *${name}* ended: deploys to ${scope(f)} may go again`;
  const detail =
    boundary === 'started'
      ? `${safeText(f.reason, 300)}\nThe gate answers 403 \`frozen\` (break-glass is the audited way through); GitHub deployments are held until it ends.${waiting ? ` ${waiting} waiting change${waiting === 1 ? '' : 's'} covered.` : ''}`
      : `Held GitHub deployments of approved changes are answered now.${waiting ? ` ${waiting} waiting change${waiting === 1 ? '' : 's'} covered.` : ''}`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(`${head}\n${detail}`, 3000) } }];
  const text = boundary === 'started' ? `Freeze ${name} started: deploys to ${scope(f)} wait` : `Freeze ${name} ended`;
  return { text, blocks };
}

/** `/change freezes`: active freezes and those starting in the next 30 days (like GET /api/freezes). */
export function buildFreezeList(periods: (FreezePeriod & { active: boolean })[]): SlackMessage {
  if (!periods.length) return { text: 'No freeze is active, and none starts in the next 30 days.', blocks: [] };
  const line = (p: FreezePeriod & { active: boolean }) =>
    `• ${p.active ? ':snowflake: *active*' : ':calendar: upcoming'} *${safeText(p.name, 60)}* ${p.active ? '' : `from ${slackTime(p.from)} `}until ${slackTime(p.until)} · ${scope(p)}\n   ${safeText(p.reason, 200)}`;
  const shown = periods.slice(0, 40).map(line);
  const more = periods.length > shown.length ? `\n…and ${periods.length - shown.length} more (GET /api/freezes lists them all)` : '';
  return {
    text: `${periods.filter((p) => p.active).length} active freeze(s), ${periods.filter((p) => !p.active).length} upcoming in the next 30 days`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Deploy freezes' } },
      { type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(shown.join('\n') + more, 3000) } },
    ],
  };
}
