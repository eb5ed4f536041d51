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
  | 'identity_unverified'
  /** The input names things the config does not know, or breaks a rule only the config can tell. */
  | 'invalid'
  /** A link names a change that does not exist (the incident does). */
  | 'change_not_found';

/** One problem with one field of an input, named by its path (`services[1]`, `author`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
  /** With `invalid`: every field problem, at once. */
  issues?: FieldIssue[];
}

export const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });

/** An `invalid` refusal listing every field problem. */
export const invalid = (issues: FieldIssue[]): Refusal => ({ ok: false, code: 'invalid', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues });
