import type { KnownBlock } from '@slack/types';
import { authorLabel } from '../../domain/authors.ts';
import type { IncidentCause, IncidentSuspect, IncidentView } from '../../domain/incident.ts';
import { formatMinutes } from '../../domain/suspects.ts';
import { ActionId, BlockId, type ConfirmCauseValue } from '../ids.ts';
import { escapeMrkdwn, fitMrkdwn, formatTime, link, mention, safeText, truncate } from '../mrkdwn.ts';
import { RISK_EMOJI, type SlackMessage } from './change-card.ts';
import { actorRef, severityBadge } from './incident-notices.ts';

const MAX_BLOCKS = 50;
const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(text, 3000) } });

/** "1 h 5 min" between start and resolution. */
const durationOf = (v: IncidentView) => formatMinutes(Math.max(0, (v.incident.resolved_at?.getTime() ?? 0) - v.incident.started_at.getTime()));

function statusLine(v: IncidentView): string {
  const i = v.incident;
  if (i.status === 'resolved' && i.resolved_at) return `:white_check_mark: Resolved after ${durationOf(v)} (${formatTime(i.resolved_at)})`;
  return ':red_circle: Open';
}

/** Who signed a suspect off: mentions of its approvers, or that nobody did. */
function signedOffLine(s: IncidentSuspect): string {
  if (s.approvers.length && !s.ungated) return `Signed off by ${s.approvers.map(mention).join(', ')}`;
  if (s.ungated) return `:warning: *Deployed without sign-off* (the gate was not open)${s.approvers.length ? `; signed so far by ${s.approvers.map(mention).join(', ')}` : ''}`;
  return s.approvals_required === 0 ? 'Deployed without sign-off (its risk needed none)' : ':warning: *Deployed without sign-off*';
}

function whenLine(s: IncidentSuspect): string {
  const ms = Math.abs(s.minutes_before) * 60_000;
  return s.minutes_before >= 0 ? `${formatMinutes(ms)} before the incident` : `${formatMinutes(ms)} after the incident started`;
}

/** Card permalinks by change key: a suspect's key links to its card when the card is posted. */
export type CardLinks = ReadonlyMap<string, string>;

const keyLink = (key: string, links: CardLinks) => (links.get(key) ? `*${link(links.get(key), key)}*` : `*${key}*`);

function suspectText(s: IncidentSuspect, links: CardLinks): string {
  const author = s.author.slack_id ? mention(s.author.slack_id) : safeText(authorLabel(s.author), 100);
  const facts = [`by ${author}`];
  if (s.ai.assisted) facts.push(`:robot_face: AI-assisted${s.ai.tool ? ` (${safeText(s.ai.tool, 60)})` : ''}`);
  facts.push(`${RISK_EMOJI[s.risk_level]} ${s.risk_level} risk`, `score ${s.score}`);
  const deployed = `Deployed to ${safeText(s.service, 100)} ${whenLine(s)}${s.deploy_status !== 'succeeded' ? ` (${s.deploy_status.replace('_', ' ')})` : ''}${s.url ? ` · ${link(s.url, 'view change')}` : ''}`;
  const shown = [facts.join(' · '), signedOffLine(s), deployed];
  const why = newReasons(s, shown.join('\n'));
  return [`:mag: *Suspect* · ${keyLink(s.change, links)} ${safeText(s.title, 300)}`, ...shown, ...(why.length ? [`_Why: ${safeText(why.join('; '), 600)}_`] : [])].join('\n');
}

/**
 * The suspect's reasons that the lines above do not already show (AI-assisted, risk, ungated, deploy
 * status, where and when it was deployed). A deploy to a dependency keeps only that relation.
 */
function newReasons(s: IncidentSuspect, shown: string): string[] {
  const plain = (t: string) => t.replace(/[*_]/g, '').toLowerCase();
  const seen = plain(shown);
  const alsoShown = new Set([
    s.ungated && 'deployed without sign-off (ungated)',
    s.deploy_status === 'failed' && 'deploy failed',
  ].filter(Boolean));
  return s.reasons
    .map((r) => /^deployed to (.+), which (.+) depends on, /.exec(r)?.slice(1).reverse().join(' depends on ') ?? r)
    .filter((r) => !alsoShown.has(r) && !seen.includes(plain(escapeMrkdwn(r))));
}

function causeLine(c: IncidentCause, links: CardLinks): string {
  const approvers = c.approvers.length ? ` · signed off by ${c.approvers.map(mention).join(', ')}` : ' · deployed without sign-off';
  return `:rotating_light: *Confirmed cause* · ${keyLink(c.change, links)} ${safeText(c.title, 200)} · confirmed by ${actorRef(c.confirmed_by)} at ${formatTime(c.at)}${approvers}`;
}

/**
 * The incident broadcast, rendered only from current state (incident, computed suspects, confirmed
 * causes): the first post and every in-place update use this one builder. Everything from outside
 * is escaped; it stays within 50 blocks by showing as many suspects as fit.
 */
export function buildIncidentBroadcast(v: IncidentView, links: CardLinks = new Map()): SlackMessage {
  const i = v.incident;
  const blocks: KnownBlock[] = [];
  blocks.push({ type: 'header', text: { type: 'plain_text', text: truncate(`${i.key} · ${i.title}`, 150), emoji: false } });
  const services = i.services.length ? fitMrkdwn(i.services.map((s) => safeText(s, 100)).join(', '), 1900) : '_no service was given_';
  blocks.push({
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Severity*\n${severityBadge(i.severity)}` },
      { type: 'mrkdwn', text: `*Status*\n${statusLine(v)}` },
      { type: 'mrkdwn', text: `*Service${i.services.length === 1 ? '' : 's'}*\n${services}` },
      { type: 'mrkdwn', text: `*Started*\n${formatTime(i.started_at)}` },
    ],
  });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Declared by ${actorRef(i.declared_by)}${i.source !== 'slack' && i.source !== i.declared_by ? ` via ${safeText(i.source, 50)}` : ''} · Suspects are recent production deploys of these services and what they depend on, most likely first` }] });
  blocks.push({ type: 'divider' });

  if (v.causes.length) blocks.push(section(v.causes.map((c) => causeLine(c, links)).join('\n')));

  const confirmed = new Set(v.causes.map((c) => c.change));
  const suspects = v.suspects.filter((s) => !confirmed.has(s.change));
  if (i.services.length === 0) {
    blocks.push(section(':grey_question: No suspects: no service was given, so no deployment can be matched. Link a change with `/incident link` if you know it.'));
  } else if (suspects.length === 0) {
    blocks.push(section(v.causes.length ? 'No other suspects.' : ':grey_question: No suspects: no production deploy of these services (or their dependencies) in the window before the incident.'));
  } else {
    const room = Math.floor((MAX_BLOCKS - blocks.length - 1) / 2);
    const shown = suspects.slice(0, room);
    blocks.push(section(`*${suspects.length} suspect${suspects.length === 1 ? '' : 's'}*${shown.length < suspects.length ? ` (top ${shown.length} shown)` : ''}`));
    for (const s of shown) {
      const value: ConfirmCauseValue = { incident: i.key, change: s.change };
      blocks.push(section(suspectText(s, links)));
      blocks.push({
        type: 'actions',
        block_id: `${BlockId.incidentSuspect}:${s.change}`,
        elements: [{ type: 'button', action_id: ActionId.confirmCause, text: { type: 'plain_text', text: 'Confirm cause' }, value: JSON.stringify(value) }],
      });
    }
  }

  const state = i.status === 'resolved' ? `resolved after ${durationOf(v)}` : 'open';
  return { text: `:rotating_light: ${i.severity.toUpperCase()} ${i.key} ${safeText(i.title, 300)} (${state})`, blocks: blocks.slice(0, MAX_BLOCKS) };
}
