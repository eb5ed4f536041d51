/**
 * Property-based fuzzing of `POST /slack/events` through real HTTP, with the whole app in Slack HTTP mode
 * (the guard, then Bolt's custom receiver, mounted on the API server) talking to the fake Slack, on a database of its own.
 *
 * Invariants:
 * - unsigned or badly signed requests (no headers, wrong secret, stale or non-numeric timestamps, a signature of
 *   another body, malformed signatures) always get 401 and write nothing (sign_offs, slack_inbox, audit_events,
 *   outbox unchanged), Slack's `ssl_check=1` included: Countersign verifies before Bolt sees anything;
 * - correctly signed garbage never gets a 5xx and is always answered (Bolt answers 200, or 400/404 for what it
 *   cannot parse or route), never records a sign-off, and the app stays healthy (/healthz 200) and ready;
 * - signed `/change <random text>` (and `/incident <random text>`) answers 200 with an ephemeral message and no stack trace.
 *
 * A pending change (CHG-1, by a junior of payments) exists throughout, so that near-valid clicks reach the sign-off
 * code; the clickers are never eligible reviewers (U0ALICE, U0BOB, U0GRACE), so no sign-off may ever be recorded.
 * Signed deliveries are sent in concurrent batches: Bolt answers what no listener acknowledges only after 3 s.
 * Bugs found are pinned under "known bugs found by fuzzing"; the broad properties skip those inputs (`knownBug`),
 * FUZZ_KNOWN_BUGS=1 lets them through. `FUZZ_RUNS`, `FUZZ_SEED` override the budget and the seed; FUZZ_DEBUG=1 logs slow answers.
 */
import { parse as parseQuery } from 'node:querystring';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { buildChangeInput } from '../factories/change.ts';
import { createTestDatabase } from '../support/db.ts';
import { startSlackHarness, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns = RUNS) => ({ numRuns, ...(SEED !== undefined && { seed: SEED }) });
const TIMEOUT = 120_000;
/** Bolt answers a request no listener acknowledges with 404 after 3 s: anything slower than this is a hang. */
const ANSWER_WITHIN_MS = 6_000;

const FORM = 'application/x-www-form-urlencoded';
const ELIGIBLE = new Set(['U0ALICE', 'U0BOB', 'U0GRACE']);
const PAY = 'C0PAYSEN';

let h: SlackHarness;
let db: Database;
let key: string;

beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db });
  const res = await h.app.api('POST', '/api/changes', buildChangeInput({ external_id: 'slack-fuzz-1' }));
  expect(res.status).toBe(201);
  key = res.body.key;
  await waitForCard(h.slack, PAY, key);
});
afterAll(() => h?.stop());

// ——— counting rows ———

const TABLES = ['sign_offs', 'slack_inbox', 'audit_events', 'outbox', 'changes', 'incidents', 'incident_causes'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

async function counts(): Promise<Counts> {
  const [row] = await db.rows<Counts>(
    sql`select (select count(*)::int from sign_offs) as sign_offs, (select count(*)::int from slack_inbox) as slack_inbox,
               (select count(*)::int from audit_events) as audit_events, (select count(*)::int from outbox) as outbox,
               (select count(*)::int from changes) as changes, (select count(*)::int from incidents) as incidents,
               (select count(*)::int from incident_causes) as incident_causes`,
  );
  return row;
}
const delta = (before: Counts, after: Counts) => Object.fromEntries(TABLES.map((t) => [t, after[t] - before[t]])) as Counts;
const NOTHING = Object.fromEntries(TABLES.map((t) => [t, 0])) as Counts;

/** Waits until every click receipt has been applied (the queue runs right after the ack; recovery every 5 s). */
async function receiptsSettled(): Promise<void> {
  await waitFor(
    async () => (await db.rows<{ n: number }>(sql`select count(*)::int as n from slack_inbox where processed_at is null`))[0].n === 0,
    20_000,
    'every click receipt applied (a receipt that is never applied is retried by recovery forever)',
  );
}

/** No sign-off was ever recorded, and the change still waits for one. */
async function expectNoSignOff(): Promise<void> {
  await receiptsSettled();
  const [{ n }] = await db.rows<{ n: number }>(sql`select count(*)::int as n from sign_offs`);
  expect(n, 'no garbage delivery may record a sign-off').toBe(0);
  const change = await h.app.api('GET', `/api/changes/${key}`);
  expect(change.body).toMatchObject({ status: 'pending', approvals: [] });
}

// ——— delivering to /slack/events ———

interface Delivery {
  body: string;
  contentType: string;
}
type Signing =
  | { kind: 'none' }
  | { kind: 'wrong-secret'; secret: string }
  | { kind: 'stale'; seconds: number }
  | { kind: 'other-body'; suffix: string }
  | { kind: 'malformed'; signature: string }
  | { kind: 'bad-timestamp'; timestamp: string }
  | { kind: 'only-signature' }
  | { kind: 'only-timestamp' };

interface Reply {
  status: number;
  text: string;
}

async function deliver(d: Delivery, headers: Record<string, string>): Promise<Reply> {
  let res: Response;
  try {
    res = await fetch(h.events, { method: 'POST', headers: { 'content-type': d.contentType, ...headers }, body: d.body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  } catch (e) {
    throw new Error(`POST /slack/events was not answered within ${ANSWER_WITHIN_MS} ms (${(e as Error).message}); body ${JSON.stringify(d.body.slice(0, 300))} as ${d.contentType}`);
  }
  return { status: res.status, text: await res.text() };
}

const now = () => Math.floor(Date.now() / 1000);

/** Delivers signed with the harness's secret and a fresh timestamp, as Slack does. */
async function deliverSigned(d: Delivery): Promise<Reply> {
  const ts = now();
  const t0 = Date.now();
  const r = await deliver(d, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(h.slack.signingSecret, ts, d.body) });
  if (process.env.FUZZ_DEBUG && Date.now() - t0 > 2_000) console.log('slow answer', r.status, Date.now() - t0, decodeURIComponent(d.body.replace(/\+/g, ' ')).slice(0, 600));
  return r;
}

function badHeaders(d: Delivery, s: Signing): Record<string, string> {
  const ts = now();
  const secret = h.slack.signingSecret;
  switch (s.kind) {
    case 'none':
      return {};
    case 'wrong-secret':
      return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(s.secret, ts, d.body) };
    case 'stale':
      return { 'x-slack-request-timestamp': String(ts - s.seconds), 'x-slack-signature': signSlackRequest(secret, ts - s.seconds, d.body) };
    case 'other-body':
      return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(secret, ts, d.body + s.suffix) };
    case 'malformed':
      return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': s.signature };
    case 'bad-timestamp':
      return { 'x-slack-request-timestamp': s.timestamp, 'x-slack-signature': signSlackRequest(secret, Number(s.timestamp), d.body) };
    case 'only-signature':
      return { 'x-slack-signature': signSlackRequest(secret, ts, d.body) };
    case 'only-timestamp':
      return { 'x-slack-request-timestamp': String(ts) };
  }
}

// ——— generators ———

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const oddString = fc.constantFrom('', ' ', '\u0000', 'a\u0000b', ...LONE, '\ufeff', '\u202e', '💥', '<!channel>', '<@U0ALICE>', '&amp;', '%00', '%', '+', '&', '=', 'null', '{}', '[]', 'undefined', 'CHG-1', 'chg-1', 'CHG-999999999');
const text = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, { weight: 2, arbitrary: oddString }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 100, maxLength: 3_000 }) });
const anyJson: fc.Arbitrary<unknown> = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) }, { weight: 1, arbitrary: text });

const ACTION_IDS = ['change_approve', 'change_reject', 'change_claim', 'change_release', 'incident_confirm_cause'];
const CALLBACK_IDS = ['change_reject_modal'];
/** Someone who must never be able to sign: the author, another team's senior, a mid, strangers, or not a string at all. */
const clicker: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('U0JUNIOR', 'U0ERIN', 'U0CAROL', 'U0MIA', 'U0NOBODY', 'W0STRANGER', 'u0alice', 'U0ALICE ', ' U0BOB', 'U0GRACE\u0000') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).filter((s) => !ELIGIBLE.has(s)) },
  { weight: 1, arbitrary: anyJson.filter((v) => typeof v !== 'string' || !ELIGIBLE.has(v)) },
);
/** A button value: often near-valid (the real change, another round, another key), sometimes garbage. */
const buttonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ key: fc.constantFrom('CHG-1', 'CHG-2', 'CHG-999999999', 'chg-1', 'CHG-1 ', 'CHG-01'), round: fc.oneof(fc.constant(1), fc.integer(), fc.double()) }).map((v) => JSON.stringify(v)),
  fc.record({ incident: fc.constantFrom('INC-1', 'INC-0'), change: fc.constantFrom('CHG-1', 'CHG-2') }).map((v) => JSON.stringify(v)),
  anyJson.map((v) => JSON.stringify(v)),
  text,
  anyJson,
  fc.constant(undefined),
);
const responseUrl: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, '', 'not a url', 'http://127.0.0.1:9/closed', 'ftp://127.0.0.1/x', 'http://[::1', 'mailto:x@example.com'),
  fc.constant('standin'),
  anyJson,
);
const standinUrl = (v: unknown) => (v === 'standin' ? h.slack.createResponseUrl({ channel: PAY, user: 'U0NOBODY' }) : v);

/** Envelope fields as Slack sends them (what Bolt itself reads); the contents Countersign reads are fuzzed. */
const team = fc.record({ id: fc.constantFrom('T0SANDBOX', 'T0OTHER'), domain: fc.constant('sandbox') }, { requiredKeys: ['id'] });
const user = fc.record({ id: clicker, username: fc.string({ maxLength: 8 }), team_id: fc.constant('T0SANDBOX') }, { requiredKeys: ['id'] });

/** A clicked button: mostly Countersign's own buttons with near-valid values (so clicks reach the sign-off code), or anything. */
const changeValue = fc
  .record({ key: fc.constantFrom('CHG-1', 'CHG-1', 'CHG-2', 'CHG-999999999', 'chg-1', 'CHG-1 ', 'CHG-01'), round: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.double() }) })
  .map((v) => JSON.stringify(v));
const action = fc.oneof(
  { weight: 2, arbitrary: fc.record({ action_id: fc.constantFrom(...ACTION_IDS), block_id: fc.constant('change_card_actions'), value: changeValue, type: fc.constant('button'), action_ts: fc.constant('1.2') }) },
  { weight: 1, arbitrary: fc.record({ action_id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ACTION_IDS) }, { weight: 3, arbitrary: text }, { weight: 1, arbitrary: anyJson }), block_id: fc.oneof(fc.constantFrom('change_card_actions', 'incident_suspect:CHG-1'), text), value: buttonValue, type: fc.constantFrom('button', 'static_select', 'x'), action_ts: fc.constant('1.2') }, { requiredKeys: ['action_id'] }) },
);

/** A block_actions payload: buttons Countersign knows and does not know, with random values and clickers. */
const blockActions = fc
  .record(
    {
      team,
      user,
      actions: fc.array(action, { minLength: 1, maxLength: 2 }),
      response_url: responseUrl,
      trigger_id: fc.oneof(fc.constant('123.456.abc'), anyJson),
      // Mostly Slack-shaped envelopes (so clicks reach the handlers), sometimes garbage (refused with 400).
      container: fc.oneof({ arbitrary: fc.record({ type: fc.constantFrom('message', 'view'), message_ts: fc.constantFrom('1.0001', 'x'), channel_id: fc.constantFrom(PAY, 'C0NOPE') }), weight: 5 }, { arbitrary: anyJson, weight: 1 }),
      channel: fc.record({ id: fc.oneof({ arbitrary: fc.constantFrom(PAY, 'C0NOPE', 'D0DM'), weight: 5 }, { arbitrary: anyJson, weight: 1 }) }),
      view: fc.record({ type: fc.oneof(fc.constantFrom('home', 'modal'), anyJson), id: fc.constant('V1') }),
      message: fc.oneof({ arbitrary: fc.record({ ts: fc.constant('1.0001'), text, blocks: fc.array(anyJson, { maxLength: 2 }) }), weight: 5 }, { arbitrary: anyJson, weight: 1 }),
      state: fc.oneof(fc.record({ values: fc.dictionary(text, anyJson, { maxKeys: 2 }) }), anyJson),
      api_app_id: fc.constant('A0SANDBOX'),
      token: fc.constant('x'),
    },
    { requiredKeys: ['team', 'user', 'actions'] },
  )
  .map((p) => ({ type: 'block_actions', ...p, response_url: standinUrl(p.response_url) }));

/** A view_submission payload: the reject modal with near-valid or garbage metadata and reasons, or unknown callbacks. */
const viewSubmission = fc
  .record(
    {
      team,
      user,
      view: fc.record({
        id: fc.constant('V0FUZZ'),
        type: fc.constant('modal'),
        callback_id: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CALLBACK_IDS) }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: anyJson }),
        private_metadata: fc.oneof(
          fc.record({ key: fc.constantFrom('CHG-1', 'CHG-2', 'nope'), round: fc.oneof(fc.constant(1), fc.integer()), channel: fc.oneof(fc.constant(null), fc.constant(PAY), anyJson) }).map((v) => JSON.stringify(v)),
          text,
          anyJson,
        ),
        state: fc.oneof(
          { weight: 3, arbitrary: fc.record({ values: fc.record({ reject_reason: fc.record({ reason: fc.record({ type: fc.constant('plain_text_input'), value: fc.oneof(text, anyJson) }) }) }) }) },
          { weight: 1, arbitrary: fc.record({ values: fc.oneof(fc.dictionary(text, anyJson, { maxKeys: 3 }), anyJson) }) },
          { weight: 1, arbitrary: anyJson },
        ),
        app_installed_team_id: fc.constant('T0SANDBOX'),
      }, { requiredKeys: ['callback_id', 'id', 'type'] }),
      api_app_id: fc.constant('A0SANDBOX'),
      trigger_id: fc.constant('123.456.abc'),
      response_urls: fc.oneof(fc.constant([]), fc.array(fc.record({ response_url: responseUrl.map(standinUrl) }), { maxLength: 1 })),
    },
    { requiredKeys: ['team', 'user', 'view'] },
  )
  .map((p) => ({ type: 'view_submission', ...p }));

/** Other payloads: events, shortcuts, options, unknown types, and plain garbage. */
const otherPayload: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ type: fc.constantFrom('event_callback', 'url_verification', 'app_rate_limited'), event: fc.oneof(fc.record({ type: fc.constantFrom('app_home_opened', 'message', 'app_mention', 'tokens_revoked'), user: clicker, tab: fc.constantFrom('home', 'messages'), channel: fc.constantFrom('D0DM', PAY) }), anyJson), challenge: text, team_id: fc.constant('T0SANDBOX'), event_id: text }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constantFrom('shortcut', 'message_action', 'block_suggestion', 'view_closed', 'interactive_message', 'dialog_submission'), callback_id: text, user: fc.record({ id: clicker }), team: fc.record({ id: fc.constant('T0SANDBOX') }) }),
  fc.record({ type: text, user: fc.record({ id: clicker }) }),
  fc.dictionary(text, anyJson, { maxKeys: 4 }),
  anyJson,
);

/**
 * Slack always sends these envelope fields with these shapes, and Bolt dereferences them before any listener runs:
 * a malformed one makes Bolt answer 500 (or, for a null body, never answer). Returns what is malformed, or null.
 */
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const ROUTED_TYPES = ['block_actions', 'block_suggestion', 'dialog_submission', 'interactive_message', 'shortcut', 'message_action', 'view_submission', 'view_closed'];
function envelopeProblem(v: unknown): string | null {
  if (v === null) return 'the body is null';
  if (!isObj(v)) return null;
  if (v.event !== undefined) {
    if (!isObj(v.event)) return 'event';
    if (v.event.item !== undefined && !isObj(v.event.item)) return 'event.item';
    if (v.authorizations !== undefined && !(Array.isArray(v.authorizations) && v.authorizations.every(isObj))) return 'authorizations';
    return null;
  }
  if (v.command !== undefined) return null;
  const routed = v.name !== undefined || v.actions !== undefined || ROUTED_TYPES.includes(v.type as string);
  if (!routed) return null;
  if (v.function_data !== undefined) return 'function_data';
  if (!isObj(v.team)) return 'team';
  if (v.user !== undefined && !isObj(v.user)) return 'user';
  if (v.enterprise !== undefined && v.enterprise !== null && !isObj(v.enterprise)) return 'enterprise';
  if (v.channel !== undefined && !isObj(v.channel)) return 'channel';
  if (v.actions !== undefined && !(Array.isArray(v.actions) && v.actions.every(isObj))) return 'actions';
  if ((v.type === 'view_submission' || v.type === 'view_closed') && !isObj(v.view)) return 'view';
  if (v.view !== undefined && !isObj(v.view)) return 'view';
  if (!v.response_url && v.response_urls !== undefined && !(Array.isArray(v.response_urls) && v.response_urls.every(isObj))) return 'response_urls';
  return null;
}

/** A payload as Slack posts interactive payloads: form-encoded `payload=<json>`. */
const asPayloadForm = (p: unknown): Delivery => ({ body: new URLSearchParams({ payload: JSON.stringify(p) ?? 'null' }).toString(), contentType: FORM });

/** Whole request bodies: interactive payloads, slash-command-like forms, raw JSON (the Events API), random forms, bytes. */
const delivery: fc.Arbitrary<Delivery> = fc.oneof(
  { weight: 3, arbitrary: blockActions.map(asPayloadForm) },
  { weight: 2, arbitrary: viewSubmission.map(asPayloadForm) },
  { weight: 2, arbitrary: otherPayload.map(asPayloadForm) },
  { weight: 1, arbitrary: fc.record({ command: fc.oneof(fc.constantFrom('/change', '/incident', '/nope', ''), text), text, user_id: clicker.map(String), channel_id: fc.constantFrom(PAY, 'C0NOPE'), response_url: fc.constantFrom('http://127.0.0.1:9/closed', ''), trigger_id: fc.constant('1.2.3'), team_id: fc.constant('T0SANDBOX') }, { requiredKeys: [] }).map((f) => ({ body: new URLSearchParams(f as Record<string, string>).toString(), contentType: FORM })) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 5 }).map((f) => ({ body: new URLSearchParams(f).toString(), contentType: FORM })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ body: `payload=${s}`, contentType: FORM })) },
  { weight: 2, arbitrary: fc.oneof(otherPayload, blockActions, viewSubmission).map((p) => ({ body: JSON.stringify(p) ?? 'null', contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom(FORM, 'application/json', 'text/plain', `${FORM}; charset=utf-8`, 'multipart/form-data', '')).map(([body, contentType]) => ({ body, contentType })) },
);

const signing: fc.Arbitrary<Signing> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.string({ minLength: 0, maxLength: 40 }).map((secret) => ({ kind: 'wrong-secret' as const, secret })),
  fc.integer({ min: 310, max: 10 * 365 * 86_400 }).map((seconds) => ({ kind: 'stale' as const, seconds })),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).map((suffix) => ({ kind: 'other-body' as const, suffix })),
  fc.oneof(
    fc.constantFrom('', 'v0=', 'v1=abc', 'v0=zz', 'v0=' + '0'.repeat(64), 'V0=' + 'a'.repeat(64), 'sha256=' + 'a'.repeat(64)),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
    fc.stringMatching(/^v0=[0-9a-f]{64}$/),
  ).map((signature) => ({ kind: 'malformed' as const, signature })),
  fc.constantFrom('', 'abc', '1e9', '-1', '0', 'NaN', '1.5', ' ', '0x10').map((timestamp) => ({ kind: 'bad-timestamp' as const, timestamp })),
  fc.constant({ kind: 'only-signature' as const }),
  fc.constant({ kind: 'only-timestamp' as const }),
);


// ——— bugs already found ———

/**
 * Signed bodies known to break the receiver (each pinned by a failing test in "known bugs" below). The broad
 * properties skip them so that they keep finding other problems; FUZZ_KNOWN_BUGS=1 lets them through.
 */
// Every bug fuzzing found is fixed, so the broad properties include those inputs again (FUZZ_KNOWN_BUGS=0 skips them).
const INCLUDE_KNOWN = process.env.FUZZ_KNOWN_BUGS !== '0';
function parsedLikeBolt(d: Delivery): { ok: true; value: unknown } | { ok: false } {
  try {
    if (d.contentType === FORM) {
      const q = parseQuery(d.body);
      return { ok: true, value: typeof q.payload === 'string' ? JSON.parse(q.payload) : q };
    }
    return { ok: true, value: JSON.parse(d.body) };
  } catch {
    return { ok: false };
  }
}
function knownBug(d: Delivery): string | null {
  if (INCLUDE_KNOWN) return null;
  const p = parsedLikeBolt(d);
  if (!p.ok) return null;
  const problem = envelopeProblem(p.value);
  if (problem === 'the body is null') return 'null-body-crashes';
  if (problem) return `malformed-envelope:${problem}`;
  return null;
}

// ——— properties ———

describe('POST /slack/events, unsigned or badly signed', () => {
  it('when a random body arrives unsigned or badly signed, then 401 and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(delivery, signing, async (d, s) => {
        const before = await counts();
        const res = await deliver(d, badHeaders(d, s));
        const written = delta(before, await counts());
        expect(res.status, `${s.kind} → ${res.status} ${res.text.slice(0, 200)}`).toBe(401);
        expect(written, `${s.kind} wrote rows`).toEqual(NOTHING);
      }),
      params(),
    );
    await expectNoSignOff();
  });

  it("when an unsigned ssl_check=1 arrives with a smuggled payload, then 401 like every unsigned request, and nothing is written", { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(blockActions, viewSubmission), signing, async (payload, s) => {
        const d = { body: `ssl_check=1&${new URLSearchParams({ payload: JSON.stringify(payload) })}`, contentType: FORM };
        const before = await counts();
        const res = await deliver(d, badHeaders(d, s));
        // Countersign verifies every request before Bolt sees it, so Bolt's unsigned ssl_check exception never applies.
        expect(res.status).toBe(401);
        await receiptsSettled();
        expect(delta(before, await counts())).toEqual(NOTHING);
      }),
      params(20),
    );
    await expectNoSignOff();
  });
});

describe('POST /slack/events, signed garbage', () => {
  /** Sends a batch concurrently (Bolt takes 3 s to give up on what no listener acks), checking every answer. */
  async function checkSigned(batch: Delivery[], hunting = false) {
    if (!hunting) fc.pre(batch.every((d) => knownBug(d) === null));
    const replies = await Promise.all(batch.map(deliverSigned));
    replies.forEach((r, i) => {
      const what = `signed ${batch[i].contentType} ${JSON.stringify(batch[i].body.slice(0, 300))} → ${r.status} ${r.text.slice(0, 200)}`;
      expect(r.status, what).toBeLessThan(500);
      expect([200, 400, 404], what).toContain(r.status);
    });
  }

  it('when signed block_actions carry random action ids, values, clickers and response URLs, then never 5xx and no sign-off is recorded', { timeout: TIMEOUT }, async () => {
    const before = await counts();
    await fc.assert(
      fc.asyncProperty(fc.array(blockActions.map(asPayloadForm), { minLength: 2, maxLength: 10 }), async (batch) => checkSigned(batch)),
      { ...params(Math.ceil(RUNS / 5)), interruptAfterTimeLimit: 40_000 },
    );
    // However the dice fell, one well-formed Approve by someone ineligible must reach the durable receipts
    // and the sign-off code (where it is refused): the path the fuzzed clicks aim at is really exercised.
    await checkSigned([asPayloadForm({ type: 'block_actions', team: { id: 'T0SANDBOX' }, user: { id: 'U0MIA' }, actions: [{ action_id: 'change_approve', block_id: 'change_card_actions', value: JSON.stringify({ key: 'CHG-1', round: 1 }), type: 'button', action_ts: '1.2' }] })]);
    await expectNoSignOff();
    expect((await counts()).slack_inbox, 'Approve clicks were received as receipts').toBeGreaterThan(before.slack_inbox);
    expect((await h.app.api('GET', '/healthz')).status).toBe(200);
  });

  it('when signed view submissions carry random callbacks, metadata and reasons, then never 5xx and no rejection is recorded', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(viewSubmission.map(asPayloadForm), { minLength: 4, maxLength: 16 }), async (batch) => checkSigned(batch)),
      { ...params(Math.ceil(RUNS / 15)), interruptAfterTimeLimit: 40_000 },
    );
    await expectNoSignOff();
    expect((await h.app.api('GET', '/healthz')).status).toBe(200);
  });

  it('when any signed body arrives (random forms, payload JSON, events, raw JSON, bytes), then never 5xx, always answered, and no sign-off', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(delivery.filter((d) => knownBug(d) === null), { minLength: 4, maxLength: 16 }), async (batch) => checkSigned(batch)),
      { ...params(Math.ceil(RUNS / 15)), interruptAfterTimeLimit: 40_000 },
    );
    await expectNoSignOff();
    expect((await h.app.api('GET', '/healthz')).status).toBe(200);
    expect((await h.app.api('GET', '/readyz')).status).toBe(200);
  });
});

describe('signed slash commands with random text', () => {
  const commandText = fc
    .oneof(
      { weight: 3, arbitrary: text },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom('list', 'help', 'stats', 'CHG-1', 'chg-1', 'CHG-999999999', 'CHG-9999999999', 'digest', 'declare', 'resolve', 'link', 'LIST'), fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0'), text).map(([a, b, c]) => a + b + c) },
      { weight: 1, arbitrary: fc.constantFrom('stats 0', 'stats 366', 'stats -1', 'stats 1e3', 'stats 30', 'list list', 'help me', '<!channel> <!here>', '`x`', '*bold* _it_', '```', 'a'.repeat(5_000)) },
    )
    // The help reply quotes what was typed; keep stack-trace markers out of the input so that an echo is not mistaken for one.
    .filter((t) => !/Error:|\.ts:|\bat\s/.test(t));

  it('when /change or /incident is typed with random text, then 200 with an ephemeral answer and never a stack trace', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/change', '/incident'), commandText, fc.constantFrom('U0ALICE', 'U0JUNIOR', 'U0NOBODY'), fc.constantFrom(PAY, 'C0NOPE', 'D0DM'), async (command, t, user, channel) => {
        const res = await h.slack.sendCommand(h.events, { command, text: t, user_id: user, channel_id: channel });
        const what = `${command} ${JSON.stringify(t.slice(0, 200))} → ${res.status} ${res.body.slice(0, 300)}`;
        expect(res.status, what).toBe(200);
        const body = JSON.parse(res.body) as { response_type?: string; text?: unknown };
        expect(body.response_type, what).toBe('ephemeral');
        expect(typeof body.text === 'string' && body.text.length > 0, `${what}: has a text`).toBe(true);
        expect(res.body, what).not.toMatch(/\bat [^\n]*\.ts:\d+/);
        expect(res.body, what).not.toMatch(/Error:/);
        expect(res.body, what).not.toContain('Sorry, that did not work');
      }),
      params(),
    );
    await expectNoSignOff();
  });
});

/**
 * Bugs the fuzzing found, pinned (they fail until fixed). The broad properties above skip these inputs (see
 * `knownBug`) so that they keep finding other problems; FUZZ_KNOWN_BUGS=1 lets them through.
 */
describe('regressions found by fuzzing (fixed)', () => {
  // Bolt's HTTPReceiver reads `body.ssl_check` outside its try/catch: for a null body that throws inside a floating
  // promise, so the request is never answered and an unhandled rejection escapes. Under plain Node (npm start, no
  // unhandledRejection handler) that rejection terminates the process: one signed request takes the server down.
  // Countersign's receiver (src/slack/receiver.ts) dispatches like HTTPReceiver but answers a non-object body 400.
  it('when a signed body is JSON null (payload=null, or a JSON body null), then it is answered (not left hanging) and never 5xx', { timeout: TIMEOUT }, async () => {
    const replies = await Promise.allSettled([asPayloadForm(null), { body: 'null', contentType: 'application/json' }].map(deliverSigned));
    const outcomes = replies.map((r) => (r.status === 'fulfilled' ? r.value.status : (r.reason as Error).message.slice(0, 80)));
    expect(outcomes).toEqual([expect.any(Number), expect.any(Number)]);
    for (const o of outcomes) expect(o as number).toBeLessThan(500);
  });
});

describe('regressions found by fuzzing (fixed) (Bolt envelope)', () => {
  it('when a signed interactive payload or event has a malformed envelope field (team, actions, event, view, response_urls …), then never 5xx', { timeout: TIMEOUT }, async () => {
    const broken = fc
      .tuple(
        fc.oneof(blockActions, viewSubmission, fc.constant({ type: 'event_callback', team_id: 'T0SANDBOX', event: { type: 'app_home_opened', user: 'U0NOBODY', tab: 'home' } })),
        fc.constantFrom('team', 'actions', 'event', 'view', 'channel', 'user', 'response_urls', 'function_data'),
        fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.string({ maxLength: 5 }), fc.constant([1])),
      )
      .map(([p, field, value]) => ({ ...(p as Record<string, unknown>), [field]: value }))
      .filter((p) => envelopeProblem(p) !== null && envelopeProblem(p) !== 'the body is null');
    await fc.assert(
      fc.asyncProperty(broken, async (p) => {
        const reply = await deliverSigned(asPayloadForm(p));
        expect(reply.status, `malformed ${envelopeProblem(p)} → ${reply.status}`).toBeLessThan(500);
      }),
      { ...params(20), interruptAfterTimeLimit: 30_000 },
    );
  });
});

describe('after the fuzzing', () => {
  it('when every property has run, then the app is healthy, ready, and the change still waits for its sign-off', { timeout: 30_000 }, async () => {
    expect((await h.app.api('GET', '/healthz')).status).toBe(200);
    expect((await h.app.api('GET', '/readyz')).status).toBe(200);
    await expectNoSignOff();
  });
});
