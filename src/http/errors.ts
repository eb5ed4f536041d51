import type { FieldIssue, Refusal, RefusalCode } from '../domain/errors.ts';

/** An HTTP answer raised from anywhere in a handler; the server turns it into JSON. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error: string; message?: string; issues?: FieldIssue[]; [k: string]: unknown },
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message ?? body.error);
  }
}

export const badRequest = (issues: FieldIssue[], message = 'the request is invalid') =>
  new HttpError(400, { error: 'validation_failed', message: `${message}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`.slice(0, 2000), issues });

export const notFound = (what: string) => new HttpError(404, { error: 'not_found', message: `${what} was not found` });

/** How each refusal code is answered over HTTP (the one table; Slack words its own answers). */
const REFUSAL_STATUS: Record<RefusalCode, number> = {
  not_found: 404,
  not_allowed: 403,
  invalid: 400,
  reason_required: 400,
  change_not_found: 400,
  not_eligible: 409,
  self_approval: 409,
  already_decided: 409,
  already_signed: 409,
  stale_card: 409,
  already_claimed: 409,
  identity_unverified: 409,
};

/**
 * A use case's refusal as an HTTP error. `subject` names what a 404 is about (`change CHG-9`);
 * field refusals become 400 `validation_failed` naming the field.
 */
export function refusalError(r: Refusal, subject = 'it'): HttpError {
  switch (r.code) {
    case 'not_found':
      return notFound(subject);
    case 'invalid':
      return badRequest(r.issues ?? [{ path: '(root)', message: r.message }]);
    case 'reason_required':
      return badRequest([{ path: 'reason', message: r.message }]);
    case 'change_not_found':
      return badRequest([{ path: 'change', message: r.message }]);
    default:
      return new HttpError(REFUSAL_STATUS[r.code], { error: r.code, message: r.message });
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** True when an error means the database is out of reach (answer 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: string }).code;
    if (code && CONNECTION_CODES.has(code)) return true;
    if (e instanceof Error && /PGlite is closed|database system is (starting up|shutting down)/i.test(e.message)) return true;
  }
  return false;
}
