import type { KnownBlock } from '@slack/types';
import type { Change } from '../../domain/change.ts';
import { countApprovals } from '../../domain/sign-off.ts';
import { formatMinutes } from '../../domain/suspects.ts';
import { incidentDurationMs, type Deployment, type Incident } from '../../domain/incident.ts';
import { fitMrkdwn, formatTime, mention, safeText } from '../mrkdwn.ts';
import { authorRef, type SlackMessage } from './change-card.ts';

/** The reply in a suspect's card thread when an incident is declared. */
export function suspectThreadReply(incident: Incident): string {
  return `:mag: Suspect in ${incident.key}: ${safeText(incident.title, 300)}`;
}

/** The reply in a change's card thread when it is confirmed as a cause. */
export function causeThreadReply(incident: Incident, confirmedBy: string): string {
  return `:rotating_light: Confirmed as a cause of ${incident.key}: ${safeText(incident.title, 300)} (by ${actorRef(confirmedBy)})`;
}

/** The DM to each approver of a change confirmed as a cause. */
export function causeDm(incident: Incident, change: Change, confirmedBy: string): string {
  return `:rotating_light: *${change.key}* ${safeText(change.title, 300)}, which you signed off, was confirmed as a cause of *${incident.key}* ${safeText(incident.title, 300)} by ${actorRef(confirmedBy)}. A look at what the review missed would help.`;
}

/** A Slack user as a mention; anything else (an API token name, `alertmanager`) as escaped text. */
export function actorRef(actor: string): string {
  return /^[UW][A-Z0-9]+$/.test(actor) ? mention(actor) : `\`${safeText(actor, 100)}\``;
}

/** The loud alert in the escalation channel when a change is deployed while its gate is closed (no sign-off, or a freeze). */
export function ungatedDeployAlert(deployment: Deployment, change: Change, deployer: string): SlackMessage {
  const env = safeText(deployment.environment, 100);
  const how = [deployment.ungated && 'without sign-off', deployment.freeze && `during freeze ${safeText(deployment.freeze, 60)}`].filter(Boolean).join(' and ');
  const head = `:rotating_light: ${change.key} was deployed to ${env} ${how}`;
  const progress = `${countApprovals(change.sign_offs, change.round)} of ${change.approvals_required} sign-off${change.approvals_required === 1 ? '' : 's'}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(`*${head}*\n*${change.key}* ${safeText(change.title, 500)}`, 3000) } },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `Status: *${change.status}* (${progress}) · risk ${change.risk.level}` },
        { type: 'mrkdwn', text: `Deployed by ${actorRef(deployer)} to ${safeText(deployment.service, 100)} at ${formatTime(deployment.deployed_at)} (${deployment.status.replace('_', ' ')})` },
        { type: 'mrkdwn', text: `Author ${authorRef(change)}${change.ai.assisted ? ' · :robot_face: AI-assisted' : ''}` },
      ],
    },
  ];
  return { text: `${head}: ${safeText(change.title, 300)}`, blocks };
}

const SEVERITY_EMOJI: Record<Incident['severity'], string> = { sev1: ':red_circle:', sev2: ':large_orange_circle:', sev3: ':large_yellow_circle:', sev4: ':white_circle:' };
export const severityBadge = (s: Incident['severity']) => `${SEVERITY_EMOJI[s]} ${s.toUpperCase()}`;

/** `/incident list`: open incidents, newest first. */
export function buildIncidentList(open: Incident[], now: Date): SlackMessage {
  if (open.length === 0) return { text: 'No incident is open.', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: No incident is open.' } }] };
  const lines = open.map((i) => {
    const services = i.services.length ? i.services.map((s) => safeText(s, 100)).join(', ') : 'no service given';
    return `${severityBadge(i.severity)} *${i.key}* ${safeText(i.title, 150)} · ${services} · open for ${formatMinutes(incidentDurationMs(i, now))}`;
  });
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${open.length} open incident${open.length === 1 ? '' : 's'}*` } }];
  for (let i = 0; i < lines.length && blocks.length < 49; i += 10) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(lines.slice(i, i + 10).join('\n'), 3000) } });
  return { text: `${open.length} open incident(s)`, blocks };
}

/** `/incident help`, optionally naming what was not understood. */
export function buildIncidentHelp(notUnderstood?: string): SlackMessage {
  const lines = [
    '*`/incident`*: declare incidents and find the changes that caused them',
    '• `/incident declare sev2 checkout,payments-api Checkout returns 500s`: declare (severity sev1–sev4, services comma-separated or `-` for none, then a title)',
    '• `/incident list`: open incidents',
    '• `/incident link INC-3 CHG-12`: confirm a change as a cause',
    '• `/incident resolve INC-3`: resolve',
    '• `/incident help`: this help',
  ];
  const head = notUnderstood ? `Sorry, I did not understand \`${safeText(notUnderstood, 200)}\`.\n` : '';
  return { text: `${head}${lines.join('\n')}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(head + lines.join('\n'), 3000) } }] };
}

/** A one-line ephemeral answer. */
export const notice = (text: string): SlackMessage => ({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(text, 3000) } }] });
