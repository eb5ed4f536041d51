import { z } from 'zod';

/** Every action, block and callback id Countersign uses, in one place. */
export const ActionId = {
  approve: 'change_approve',
  reject: 'change_reject',
  claim: 'change_claim',
  release: 'change_release',
  confirmCause: 'incident_confirm_cause',
} as const;

export const BlockId = {
  cardActions: 'change_card_actions',
  rejectReason: 'reject_reason',
  /** Prefix of the actions block under each suspect of an incident broadcast (`incident_suspect:CHG-12`). */
  incidentSuspect: 'incident_suspect',
} as const;

export const CallbackId = {
  rejectModal: 'change_reject_modal',
} as const;

/** Input element ids inside modals. */
export const InputId = {
  rejectReason: 'reason',
} as const;

/** A button's value: which change and which review round it was rendered for. */
export const changeButtonValue = z.object({ key: z.string().regex(/^CHG-\d+$/), round: z.number().int().min(1) });
export type ChangeButtonValue = z.infer<typeof changeButtonValue>;

/** The reject modal's private_metadata: the change, and where the click came from. */
export const rejectModalMetadata = z.object({ key: z.string().regex(/^CHG-\d+$/), round: z.number().int().min(1), channel: z.string().nullable() });
export type RejectModalMetadata = z.infer<typeof rejectModalMetadata>;

/** The "Confirm cause" button on an incident broadcast: which incident and which suspected change. */
export const confirmCauseValue = z.object({ incident: z.string().regex(/^INC-\d+$/), change: z.string().regex(/^CHG-\d+$/) });
export type ConfirmCauseValue = z.infer<typeof confirmCauseValue>;

/** Parses a small JSON payload (button value, private_metadata) with a schema; null when it does not fit. */
export function parsePayload<T>(schema: z.ZodType<T>, raw: string | undefined): T | null {
  if (!raw) return null;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
