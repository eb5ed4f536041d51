import type { App, BlockButtonAction } from '@slack/bolt';
import { previewSignOff } from '../../use-cases/preview-sign-off.ts';
import { applyApprove, approveOutcomeText, receiveApprove } from '../click-inbox.ts';
import { refusalText } from '../views/notices.ts';
import { ActionId, changeButtonValue, parsePayload } from '../ids.ts';
import { buildRejectModal } from '../views/reject-modal.ts';
import type { ListenerContext } from './context.ts';

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
    // One durable write (the click's receipt), then the ack; the sign-off is applied right after.
    // A crash in between leaves the receipt for recovery, so an acked click is never lost.
    const click = { key: value.key, round: value.round, reviewer: body.user.id, response_url: body.response_url };
    const receipt = await receiveApprove(ctx.deps.database, click);
    await ack();
    ctx.clicks.push(async () => {
      const result = await applyApprove(ctx, click, receipt);
      if (result.ok) ctx.nudge();
      await respond({ response_type: 'ephemeral', replace_original: false, text: approveOutcomeText(result) });
    });
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
