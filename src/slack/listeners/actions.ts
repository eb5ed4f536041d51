import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { previewSignOff } from '../../use-cases/preview-sign-off.ts';
import { applyInBackground, receiveClick } from '../click-inbox.ts';
import { ActionId, changeButtonValue, parsePayload } from '../ids.ts';
import { refusalText } from '../views/notices.ts';
import { buildRejectModal } from '../views/reject-modal.ts';
import type { ListenerContext } from './context.ts';
import { publishHome } from './events.ts';

const KNOWN = Object.values(ActionId).map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
const OUTDATED = 'That button is out of date; use the latest card.';

/**
 * Tells the clicker the outcome: ephemeral in the channel, or, for a click in the App Home (which
 * has no response_url), a fresh Home tab showing the new state.
 */
async function tell(ctx: ListenerContext, body: BlockButtonAction, respond: RespondFn, client: WebClient, text: string): Promise<void> {
  if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: false, text });
  else if (body.view?.type === 'home') await publishHome(ctx, client, body.user.id);
}

/** Approve, Reject, Claim review and Release claim, on cards and in the App Home (same buttons, same handlers). */
export function registerActions(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ActionId.approve, async ({ ack, body, action, respond, client }) => {
    const value = parsePayload(changeButtonValue, action.value);
    if (!value) {
      await ack();
      await tell(ctx, body, respond, client, OUTDATED);
      return;
    }
    // One durable write (the click's receipt), then the ack; the sign-off is applied right after.
    // A crash in between leaves the receipt for recovery, so an acked click is never lost.
    const click = { key: value.key, round: value.round, reviewer: body.user.id, response_url: body.response_url };
    const receipt = await receiveClick(ctx.deps.database, 'approve', click);
    await ack();
    applyInBackground(ctx, 'approve', click, receipt, (text) => tell(ctx, body, respond, client, text));
  });

  app.action<BlockButtonAction>(ActionId.reject, async ({ ack, body, action, respond, client }) => {
    await ack();
    const value = parsePayload(changeButtonValue, action.value);
    if (!value) return tell(ctx, body, respond, client, OUTDATED);
    const check = await previewSignOff(ctx.deps, value.key, body.user.id, 'rejected');
    if (!check.ok) return tell(ctx, body, respond, client, refusalText(check));
    await client.views.open({
      trigger_id: body.trigger_id,
      view: buildRejectModal({ key: value.key, round: value.round, channel: body.channel?.id ?? null }, `${check.change.key} · ${check.change.title}`),
    });
  });

  for (const [id, verb] of [[ActionId.claim, 'claim'], [ActionId.release, 'release']] as const) {
    app.action<BlockButtonAction>(id, async ({ ack, body, action, respond, client }) => {
      const value = parsePayload(changeButtonValue, action.value);
      if (!value) {
        await ack();
        return tell(ctx, body, respond, client, OUTDATED);
      }
      // Like Approve: the receipt first, then the ack, then the claim is applied.
      const click = { key: value.key, user: body.user.id, response_url: body.response_url };
      const receipt = await receiveClick(ctx.deps.database, verb, click);
      await ack();
      applyInBackground(ctx, verb, click, receipt, (text) => tell(ctx, body, respond, client, text));
    });
  }

  // Any other button (links, future actions) is acked so Slack never shows a timeout.
  app.action(new RegExp(`^(?!(${KNOWN})$).*`), async ({ ack }) => {
    await ack();
  });
}
