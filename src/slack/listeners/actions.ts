import type { App, BlockButtonAction } from '@slack/bolt';
import type { Refusal } from '../../domain/errors.ts';
import { countApprovals } from '../../domain/sign-off.ts';
import { previewSignOff } from '../../use-cases/preview-sign-off.ts';
import { recordSignOff, type SignOffResult } from '../../use-cases/record-sign-off.ts';
import { ActionId, changeButtonValue, parsePayload } from '../ids.ts';
import { buildRejectModal } from '../views/reject-modal.ts';
import { withinAckWindow, type ListenerContext } from './context.ts';

const KNOWN = Object.values(ActionId).map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

/** Approve and Reject buttons on approval cards (and anywhere the card builder renders them). */
export function registerActions(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ActionId.approve, async ({ ack, body, action, respond }) => {
    const value = parsePayload(changeButtonValue, action.value);
    if (!value) {
      await ack();
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is out of date; use the latest card.' });
      return;
    }
    // Record first, then ack: an acked click is a durable sign-off. Never wait past the ack window.
    const work = recordSignOff(ctx.deps, { key: value.key, reviewer: body.user.id, decision: 'approved', round: value.round });
    const early = await withinAckWindow(work);
    await ack();
    const result: SignOffResult = early.done ? early.value : await early.later;
    if (!result.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: refusalText(result) });
      return;
    }
    ctx.nudge();
    const c = result.change;
    const text = result.decided
      ? `You signed off ${c.key}; it is approved and the gate is open.`
      : `You signed off ${c.key} (${countApprovals(c.sign_offs, c.round)} of ${c.approvals_required}).`;
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  });

  app.action<BlockButtonAction>(ActionId.reject, async ({ ack, body, action, respond, client }) => {
    await ack();
    const value = parsePayload(changeButtonValue, action.value);
    if (!value) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is out of date; use the latest card.' });
      return;
    }
    const check = await previewSignOff(ctx.deps, value.key, body.user.id, 'rejected');
    if (!check.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: refusalText(check) });
      return;
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: buildRejectModal({ key: value.key, round: value.round, channel: body.channel?.id ?? null }, `${check.change.key} · ${check.change.title}`),
    });
  });

  // Any other button (links, future actions) is acked so Slack never shows a timeout.
  app.action(new RegExp(`^(?!(${KNOWN})$).*`), async ({ ack }) => {
    await ack();
  });
}

/** The friendly sentence for a refusal (the domain already words it for people). */
export function refusalText(r: Refusal): string {
  return `:no_entry: ${r.message}`;
}
