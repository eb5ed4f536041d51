import type { View } from '@slack/types';
import { BlockId, CallbackId, InputId, type RejectModalMetadata } from '../ids.ts';
import { truncate } from '../mrkdwn.ts';

/** The modal that asks a senior why they reject a change (the reason is required). */
export function buildRejectModal(meta: RejectModalMetadata, title: string): View {
  return {
    type: 'modal',
    callback_id: CallbackId.rejectModal,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: truncate(`Reject ${meta.key}`, 24) },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'plain_text', text: truncate(title, 2900) } },
      {
        type: 'input',
        block_id: BlockId.rejectReason,
        label: { type: 'plain_text', text: 'Why? The author will read this.' },
        element: { type: 'plain_text_input', action_id: InputId.rejectReason, multiline: true, min_length: 1, max_length: 2000 },
      },
    ],
  };
}
