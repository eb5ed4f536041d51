import type { App } from '@slack/bolt';
import { recordSignOff } from '../../use-cases/record-sign-off.ts';
import { BlockId, CallbackId, InputId, parsePayload, rejectModalMetadata } from '../ids.ts';
import type { ListenerContext } from './context.ts';
import { publishHome } from './events.ts';

/** The reject modal: a reason is required; a refusal is shown in the modal, never lost. */
export function registerViews(app: App, ctx: ListenerContext): void {
  app.view(CallbackId.rejectModal, async ({ ack, body, view, client }) => {
    const meta = parsePayload(rejectModalMetadata, view.private_metadata);
    const reason = view.state.values[BlockId.rejectReason]?.[InputId.rejectReason]?.value?.trim() ?? '';
    if (!meta) {
      await ack({ response_action: 'errors', errors: { [BlockId.rejectReason]: 'This form is out of date; press Reject on the card again.' } });
      return;
    }
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [BlockId.rejectReason]: 'Please say why, so the author can learn from it.' } });
      return;
    }
    const result = await recordSignOff(ctx.deps, { key: meta.key, reviewer: body.user.id, decision: 'rejected', reason, round: meta.round });
    if (!result.ok) {
      await ack({ response_action: 'errors', errors: { [BlockId.rejectReason]: result.message.slice(0, 150) } });
      return;
    }
    await ack();
    ctx.nudge();
    // A Reject pressed in the App Home (no channel) leaves the Home to be re-published with the new state.
    if (meta.channel === null) await publishHome(ctx, client, body.user.id);
  });
}
