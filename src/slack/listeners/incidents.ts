import { cleanText } from '../guard.ts';
import type { App, BlockButtonAction } from '@slack/bolt';
import { SEVERITIES, type Severity } from '../../domain/incident.ts';
import { confirmCause } from '../../use-cases/confirm-cause.ts';
import { declareIncident } from '../../use-cases/declare-incident.ts';
import { listIncidents } from '../../use-cases/get-incident.ts';
import { resolveIncident } from '../../use-cases/resolve-incident.ts';
import { ActionId, confirmCauseValue, parsePayload } from '../ids.ts';
import { applyInBackground, receiveClick } from '../click-inbox.ts';
import { safeText } from '../mrkdwn.ts';
import type { SlackMessage } from '../views/change-card.ts';
import { buildIncidentHelp, buildIncidentList, notice } from '../views/incident-notices.ts';
import type { ListenerContext } from './context.ts';

/** `/incident …` (answered in the ack, ephemeral) and the "Confirm cause" button on broadcasts. */
export function registerIncidentListeners(app: App, ctx: ListenerContext): void {
  app.command('/incident', async ({ command, ack, logger }) => {
    try {
      const reply = await incidentCommand(ctx, cleanText(command.text ?? ''), command.user_id);
      await ack({ response_type: 'ephemeral', ...reply });
    } catch (err) {
      logger.error(err);
      await ack({ response_type: 'ephemeral', text: 'Sorry, that did not work. Please try again in a moment.' });
    }
  });

  // Anyone in the incident channel may confirm a cause; it is audited under their id.
  // A durable receipt before the ack, like Approve: an acked confirmation is never lost.
  app.action<BlockButtonAction>(ActionId.confirmCause, async ({ ack, body, action, respond }) => {
    const value = parsePayload(confirmCauseValue, action.value);
    if (!value) {
      await ack();
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is out of date; use the latest broadcast.' });
      return;
    }
    const click = { incident: value.incident, change: value.change, user: body.user.id, response_url: body.response_url };
    const receipt = await receiveClick(ctx.deps.database, 'confirm_cause', click);
    await ack();
    applyInBackground(ctx, 'confirm_cause', click, receipt, (text) => respond({ response_type: 'ephemeral', replace_original: false, text }).then(() => undefined));
  });
}

/** Parses and answers `/incident` text as `user`. */
export async function incidentCommand(ctx: ListenerContext, text: string, user: string): Promise<SlackMessage> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? 'help').toLowerCase();
  if (verb === 'help' && words.length <= 1) return buildIncidentHelp();
  if (verb === 'list' && words.length === 1) {
    const open = await listIncidents(ctx.deps, { status: 'open', limit: 100, withSuspects: false });
    return buildIncidentList(open.map((v) => v.incident), ctx.deps.clock.now());
  }
  if (verb === 'declare' && words.length >= 4 && SEVERITIES.includes(words[1].toLowerCase() as Severity)) {
    const services = words[2] === '-' || words[2].toLowerCase() === 'none' ? [] : words[2].split(',').filter(Boolean);
    const title = text.trim().split(/\s+/).slice(3).join(' ').slice(0, 300);
    const result = await declareIncident(ctx.deps, { title, severity: words[1].toLowerCase() as Severity, services, source: 'slack', external_id: null, declared_by: user });
    if (!result.ok) return notice(`:no_entry: ${(result.issues ?? [result]).map((i) => safeText(i.message, 500)).join('\n')}`);
    ctx.nudge();
    const { incident, suspects } = result.view;
    const channel = ctx.deps.config.slack.incidents_channel;
    return notice(`:rotating_light: Declared *${incident.key}* (${incident.severity}): ${safeText(incident.title, 300)}. The broadcast goes to <#${channel}> with ${suspects.length} suspect${suspects.length === 1 ? '' : 's'}.`);
  }
  if (verb === 'resolve' && words.length === 2) {
    const result = await resolveIncident(ctx.deps, words[1], user);
    if (!result.ok) return notice(`:no_entry: There is no incident ${safeText(words[1].toUpperCase(), 40)}.`);
    if (result.resolved) ctx.nudge();
    const i = result.view.incident;
    return notice(result.resolved ? `:white_check_mark: Resolved *${i.key}* ${safeText(i.title, 300)}.` : `*${i.key}* was already resolved.`);
  }
  if (verb === 'link' && words.length === 3) {
    const result = await confirmCause(ctx.deps, { incident: words[1], change: words[2], by: user });
    if (!result.ok) return notice(`:no_entry: ${safeText(result.message, 300)}`);
    if (result.created) ctx.nudge();
    const [inc, chg] = [result.view.incident.key, words[2].toUpperCase()];
    return notice(result.created ? `:white_check_mark: Confirmed ${safeText(chg, 40)} as a cause of ${inc}.` : `${safeText(chg, 40)} was already confirmed as a cause of ${inc}.`);
  }
  return buildIncidentHelp(text.trim());
}
