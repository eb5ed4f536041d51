/** Domain refusals are values with codes; adapters turn them into HTTP answers or friendly Slack text. */
export type RefusalCode =
  | 'not_eligible'
  | 'self_approval'
  | 'already_decided'
  | 'already_signed'
  | 'reason_required'
  | 'stale_card'
  | 'already_claimed'
  | 'not_found'
  /** Break-glass by someone not in `break_glass.allowed`. */
  | 'not_allowed';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

export const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });
