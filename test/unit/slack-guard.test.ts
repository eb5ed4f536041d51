/**
 * Slack requests are verified once (issue 14 item 8): the guard in front of Bolt checks the signature, and the
 * custom receiver behind it hands the request to Bolt without a second check. Proven through real HTTP on the whole
 * app in Slack HTTP mode (fake Slack): every HMAC keyed with the signing secret is counted (`crypto.createHmac`,
 * which Bolt's verifier and the guard both end in), and so is every event that reaches Bolt (`App.processEvent`).
 */
import crypto from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type Logger } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { VerifiedRequestReceiver } from '../../src/slack/receiver.ts';
import { createTestDatabase } from '../support/db.ts';
import { startSlackHarness, type SlackHarness } from '../support/slack.ts';

const FORM = 'application/x-www-form-urlencoded';
const now = () => Math.floor(Date.now() / 1000);

let h: SlackHarness;
let hmac: MockInstance<typeof crypto.createHmac>;
let processEvent: MockInstance<App['processEvent']>;

beforeAll(async () => {
  h = await startSlackHarness({ database: await createTestDatabase() });
});
afterAll(() => h?.stop());
afterEach(() => vi.restoreAllMocks());

/** HMACs computed with the Slack signing secret since the counters were armed: one per verification. */
const verifications = () => hmac.mock.calls.filter(([, key]) => key === h.slack.signingSecret).length;

interface Delivery {
  body: string;
  contentType?: string;
  /** Seconds added to the signed timestamp. */
  skew?: number;
  secret?: string;
  headers?: Record<string, string>;
  path?: string;
}

/** Signs (before the counters are armed, so the test's own HMAC is not counted), then POSTs over real HTTP. */
async function deliver(d: Delivery): Promise<{ status: number; text: string; ms: number }> {
  const ts = now() + (d.skew ?? 0);
  const headers = { 'content-type': d.contentType ?? FORM, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(d.secret ?? h.slack.signingSecret, ts, d.body), ...d.headers };
  hmac = vi.spyOn(crypto, 'createHmac');
  processEvent = vi.spyOn(App.prototype, 'processEvent');
  const t0 = Date.now();
  const res = await fetch(`${new URL(h.events).origin}${d.path ?? '/slack/events'}`, { method: 'POST', headers, body: d.body });
  return { status: res.status, text: await res.text(), ms: Date.now() - t0 };
}

const command = (text: string) => new URLSearchParams({ command: '/change', text, user_id: 'U0ALICE', channel_id: 'C0PAYSEN', team_id: 'T0SANDBOX', trigger_id: '1.2.3', response_url: 'http://127.0.0.1:9/closed' }).toString();
const payload = (p: unknown) => new URLSearchParams({ payload: JSON.stringify(p) }).toString();
const event = (e: Record<string, unknown>) => JSON.stringify({ token: 'x', team_id: 'T0SANDBOX', api_app_id: 'A0SANDBOX', type: 'event_callback', event_id: `Ev${Date.now()}`, event_time: now(), event: e });

describe('a signed request is verified once', () => {
  it('when a signed slash command arrives, then its signature is checked once and Bolt gets it once, answering at ack', async () => {
    const res = await deliver({ body: command('help') });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.any(String) });
    expect(verifications()).toBe(1);
    expect(processEvent).toHaveBeenCalledTimes(1);
  });

  it('when a signed event is a retry, then it is verified once and Bolt sees the retry number and reason', async () => {
    const res = await deliver({ body: event({ type: 'app_home_opened', user: 'U0NOBODY', tab: 'home' }), contentType: 'application/json', headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' } });
    expect(res.status).toBe(200);
    expect(verifications()).toBe(1);
    expect(processEvent).toHaveBeenCalledTimes(1);
    expect(processEvent.mock.calls[0][0]).toMatchObject({ retryNum: 2, retryReason: 'http_timeout', body: { type: 'event_callback' } });
  });

  it('when Slack checks the request URL (url_verification), then the challenge is echoed after one verification, without a listener', async () => {
    const res = await deliver({ body: JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'x' }), contentType: 'application/json' });
    expect({ status: res.status, body: JSON.parse(res.text) }).toEqual({ status: 200, body: { challenge: 'c-123' } });
    expect(verifications()).toBe(1);
    expect(processEvent).not.toHaveBeenCalled();
  });

  it('when a signed view submission has no listener, then Bolt still answers 404 after its ~3 s ack timeout, verified once', { timeout: 10_000 }, async () => {
    const res = await deliver({ body: payload({ type: 'view_submission', team: { id: 'T0SANDBOX' }, user: { id: 'U0NOBODY' }, view: { id: 'V0X', callback_id: 'nobody_listens', state: { values: {} } } }) });
    expect(res.status).toBe(404);
    expect(res.ms).toBeGreaterThanOrEqual(2_900);
    expect(verifications()).toBe(1);
    expect(processEvent).toHaveBeenCalledTimes(1);
  });
});

describe('the guard still refuses, and a refused request never reaches Bolt', () => {
  const refusals: [string, Delivery, number][] = [
    ['signed with the wrong secret', { body: command('help'), secret: 'not-the-secret' }, 401],
    ['signed for another body', { body: command('help'), headers: { 'x-slack-signature': signSlackRequest('x', now(), 'other') } }, 401],
    ['unsigned', { body: command('help'), headers: { 'x-slack-signature': '' } }, 401],
    ['stale (6 minutes old)', { body: command('help'), skew: -360 }, 401],
    ['from more than 5 minutes in the future', { body: command('help'), skew: 360 }, 401],
  ];
  it.each(refusals)('when a request is %s, then 401 with an empty body and no listener runs', async (_what, d, status) => {
    const res = await deliver(d);
    expect({ status: res.status, text: res.text }).toEqual({ status, text: '' });
    expect(verifications()).toBeLessThanOrEqual(1);
    expect(processEvent).not.toHaveBeenCalled();
  });

  it('when a signed body is over 1 MiB, then 413 and no listener runs', async () => {
    const res = await deliver({ body: command('x'.repeat(1024 * 1024)) });
    expect(res.status).toBe(413);
    expect(processEvent).not.toHaveBeenCalled();
  });

  it('when a signed envelope is one Countersign does not handle, then 400 bad_request with a message, verified once, no listener', async () => {
    const res = await deliver({ body: payload({ type: 'block_actions', user: { id: 'U0NOBODY' }, actions: [] }) });
    expect({ status: res.status, body: JSON.parse(res.text) }).toEqual({ status: 400, body: { error: 'bad_request', message: 'unsupported interaction payload' } });
    expect(verifications()).toBe(1);
    expect(processEvent).not.toHaveBeenCalled();
  });

  it('when a signed request is sent to another /slack path, then 404 (as Bolt routes), verified once, no listener', async () => {
    const res = await deliver({ body: command('help'), path: '/slack/other' });
    expect(res.status).toBe(404);
    expect(verifications()).toBe(1);
    expect(processEvent).not.toHaveBeenCalled();
  });
});

describe('the receiver behind the guard', () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('when a correctly signed request reaches the receiver without passing the guard, then 401 and Bolt never sees it (fail closed)', async () => {
    const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error' as never, setName() {} };
    const receiver = new VerifiedRequestReceiver(quiet);
    const app = new App({ token: 'xoxb-test', receiver, botId: 'B0TEST', botUserId: 'U0TEST', logger: quiet });
    const seen = vi.spyOn(app, 'processEvent');
    const body = command('help');
    // Mounted bare, as by mistake: the body is read and attached the way the guard does, but nothing was checked.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => void receiver.dispatch(Object.assign(req, { rawBody: Buffer.concat(chunks) }), res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ts = now();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, { method: 'POST', headers: { 'content-type': FORM, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(h.slack.signingSecret, ts, body) }, body });
    expect({ status: res.status, text: await res.text() }).toEqual({ status: 401, text: '' });
    expect(seen).not.toHaveBeenCalled();
  });
});
