import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type BufferedIncomingMessage, isValidSlackRequest } from '@slack/bolt';
import { z } from 'zod';
import { readBody, unstorable } from '../http/server.ts';

const MAX_SLACK_BODY = 1024 * 1024;
const MAX_CLOCK_SKEW_S = 5 * 60;
const str = z.string().min(1).max(500);
const user = z.looseObject({ id: str });
const ref = z.looseObject({ id: z.string().max(500) }).nullable().optional();
// Fields Bolt reads before any listener runs: when present they must have Slack's shape.
const envelope = { event: z.undefined().optional(), command: z.undefined().optional(), team: ref, enterprise: ref, channel: z.looseObject({ id: z.string().max(500) }).optional(), container: z.looseObject({}).optional(), message: z.looseObject({}).optional(), actions: z.array(z.looseObject({})).optional(), response_urls: z.array(z.looseObject({})).optional() };

/** The envelope shapes Countersign handles; anything else is refused with 400 before it reaches Bolt. */
const interactive = z.discriminatedUnion('type', [
  z.looseObject({ ...envelope, type: z.literal('block_actions'), user, actions: z.array(z.looseObject({ action_id: str, block_id: str.optional() })).min(1).max(25)}),
  z.looseObject({ ...envelope, type: z.literal('view_submission'), user, view: z.looseObject({ id: z.string().max(100).optional(), callback_id: z.string().max(255), private_metadata: z.string().max(3000).optional(), state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), z.looseObject({}))) }) }) }),
  z.looseObject({ ...envelope, type: z.literal('view_closed'), user, view: z.looseObject({ callback_id: z.string().max(255) }) }),
]);
const command = z.looseObject({ command: z.string().regex(/^\/[a-z0-9_-]{1,32}$/i), user_id: str, channel_id: str, text: z.string().max(40_000).optional() });
const event = z.union([
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string().max(500) }),
  z.looseObject({ type: z.literal('event_callback'), team_id: z.string().max(100).optional(), event: z.looseObject({ type: str, user: z.string().max(100).optional() }) }),
]);

/** Checks a verified Slack body; returns an error message, or null when Bolt may have it. */
export function checkSlackBody(raw: string, contentType: string): string | null {
  try {
    if (contentType.startsWith('application/json')) {
      const value: unknown = JSON.parse(raw);
      return unstorable(value) ? 'text that cannot be stored' : event.safeParse(value).success ? null : 'unsupported event envelope';
    }
    const form = new URLSearchParams(raw);
    if (form.get('ssl_check') === '1') return null;
    const payload = form.get('payload');
    if (payload !== null) {
      const value: unknown = JSON.parse(payload);
      return unstorable(value) ? 'text that cannot be stored' : interactive.safeParse(value).success ? null : 'unsupported interaction payload';
    }
    // Slash command text is cleaned by the command handlers (cleanText), not refused: Slack shows a refusal as an error.
    return command.safeParse(Object.fromEntries(form)).success ? null : 'unsupported slash command';
  } catch {
    return 'malformed body';
  }
}

/** Hands a request the guard has passed (body read, signature verified, envelope checked) to Bolt. */
export type GuardedDispatch = (req: BufferedIncomingMessage, res: ServerResponse) => Promise<void>;

// Requests that passed every check: the receiver behind the guard answers anything else 401 (fail closed).
const passed = new WeakSet<IncomingMessage>();

/** True when `req` went through `guardSlackListener` and passed every check. */
export function passedGuard(req: IncomingMessage): req is BufferedIncomingMessage {
  return passed.has(req);
}

/**
 * In front of Bolt, and the only place a Slack signature is verified: 401 with an empty body (as Bolt answers)
 * for a bad or missing signature or a timestamp more than 5 minutes off, 413 over 1 MiB, a clear 400 for
 * envelopes Countersign does not handle (Bolt can throw on some malformed-but-signed bodies). A request that
 * passes goes, with its raw body already read, to the receiver (`VerifiedRequestReceiver.dispatch`).
 */
export function guardSlackListener(signingSecret: string, dispatch: GuardedDispatch): RequestListener {
  return async (req: IncomingMessage, res: ServerResponse) => {
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_SLACK_BODY);
    } catch {
      res.writeHead(413).end();
      return;
    }
    const body = raw.toString('utf8');
    const signature = req.headers['x-slack-signature'];
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    // Bolt refuses timestamps over 5 minutes old but not ones from the future: a request signed ahead
    // of time (by a leaked secret, or a skewed clock) would stay replayable for as long as it is early.
    const future = timestamp - Date.now() / 1000 > MAX_CLOCK_SKEW_S;
    if (typeof signature !== 'string' || !Number.isFinite(timestamp) || future || !isValidSlackRequest({ signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } })) {
      res.writeHead(401).end();
      return;
    }
    const problem = checkSlackBody(body, String(req.headers['content-type'] ?? '').toLowerCase());
    if (problem) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad_request', message: problem }));
      return;
    }
    passed.add(req);
    await dispatch(Object.assign(req, { rawBody: raw }), res);
  };
}

/** Typed text (slash commands) without what Postgres cannot store: NUL characters and lone surrogates. */
export function cleanText(text: string): string {
  return text.replace(/\u0000/g, '').toWellFormed();
}
