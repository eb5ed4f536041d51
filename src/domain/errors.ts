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
  | 'not_allowed'
  /** Whether the reviewer is the author could not be checked (a Slack lookup failed): refused, fail closed. */
  | 'identity_unverified';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

export const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });
