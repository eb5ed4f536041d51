import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackRequest } from '@slack/bolt';
import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest, type SlackStandin, type StandinChange } from '../../src/sandbox/slack-standin.ts';
import { startFakeSlack } from '../fakes/fake-slack.ts';

let slack: SlackStandin;
let web: WebClient;

beforeAll(async () => {
  slack = await startFakeSlack({
    botUserId: 'U0BOT',
    users: [
      { id: 'U0ALICE', name: 'alice', real_name: 'Alice Senior', email: 'alice@example.com' },
      { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
    ],
    usergroups: { S0SENIORS: ['U0ALICE', 'U0BOB'] },
  });
  web = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });
});
afterAll(() => slack.stop());
afterEach(() => slack.reset());

async function thrown(p: Promise<unknown>): Promise<WebAPICallError> {
  try {
    await p;
  } catch (err) {
    return err as WebAPICallError;
  }
  throw new Error('expected the call to throw');
}

/** The Slack error code of a call that must fail with a platform error (`{ ok: false, error }`). */
async function platformError(p: Promise<unknown>): Promise<string> {
  const err = await thrown(p);
  if (err.code !== ErrorCode.PlatformError) throw err;
  return err.data.error;
}

const section = (text: string, block_id = 'b1') => ({ type: 'section', block_id, text: { type: 'mrkdwn', text } });

describe('Web API methods through the real WebClient', () => {
  it('when auth.test is called, then it answers with the bot user and team', async () => {
    const res = await web.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'U0BOT', team_id: 'T0SANDBOX' });
    expect(slack.calls[0]).toMatchObject({ method: 'auth.test', status: 200, token: 'xoxb-test' });
  });

  it('when a message is posted, then it is stored and its unique increasing ts is returned', async () => {
    const a = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'first' });
    const b = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'second' });
    expect(a).toMatchObject({ ok: true, channel: 'C0REVIEW', message: { text: 'first', user: 'U0BOT' } });
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(slack.messagesIn('C0REVIEW').map((m) => [m.ts, m.text])).toEqual([[a.ts, 'first'], [b.ts, 'second']]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('when blocks and metadata are posted, then they round-trip as objects', async () => {
    const blocks = [section('*CS-42* needs sign-off'), { type: 'actions', block_id: 'act', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'CS-42' }] }];
    const metadata = { event_type: 'change', event_payload: { key: 'CS-42' } };
    await web.chat.postMessage({ channel: 'C0REVIEW', text: 'fallback', blocks, metadata });
    expect(slack.messagesIn('C0REVIEW')[0]).toMatchObject({ blocks, metadata, edits: 0 });
    expect(slack.callsTo('chat.postMessage')[0].args.blocks).toEqual(blocks);
  });

  it('when a post has no channel, no text, or too many blocks, then Slack errors are returned and nothing is stored', async () => {
    expect(await platformError(web.chat.postMessage({ channel: '', text: 'x' }))).toBe('channel_not_found');
    expect(await platformError(web.chat.postMessage({ channel: 'C1', text: '' }))).toBe('no_text');
    const blocks = Array.from({ length: 51 }, (_, i) => section(`b${i}`, `b${i}`));
    expect(await platformError(web.chat.postMessage({ channel: 'C1', text: 'x', blocks }))).toBe('invalid_blocks');
    expect(slack.messages).toEqual([]);
    expect(slack.calls.map((c) => c.status)).toEqual([200, 200, 200]);
  });

  it('when a message is updated, then its text changes and the edit is counted; unknown ts is message_not_found', async () => {
    const { ts } = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'pending', blocks: [section('pending')] });
    const res = await web.chat.update({ channel: 'C0REVIEW', ts: ts!, text: 'approved' });
    expect(res).toMatchObject({ ok: true, channel: 'C0REVIEW', ts, text: 'approved' });
    expect(slack.messagesIn('C0REVIEW')[0]).toMatchObject({ text: 'approved', edits: 1, blocks: [section('pending')] });
    expect(await platformError(web.chat.update({ channel: 'C0REVIEW', ts: '1.000000', text: 'x' }))).toBe('message_not_found');
  });

  it('when replies are posted with thread_ts, then they are threaded and the parent counts them', async () => {
    const parent = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'card' });
    await web.chat.postMessage({ channel: 'C0REVIEW', text: 'reply 1', thread_ts: parent.ts });
    await web.chat.postMessage({ channel: 'C0REVIEW', text: 'reply 2', thread_ts: parent.ts });
    expect(slack.threadOf('C0REVIEW', parent.ts!).map((m) => m.text)).toEqual(['reply 1', 'reply 2']);
    expect(slack.messagesIn('C0REVIEW')[0].reply_count).toBe(2);
  });

  it('when an ephemeral is posted, then only that user sees it', async () => {
    const res = await web.chat.postEphemeral({ channel: 'C0REVIEW', user: 'U0ALICE', text: 'only you' });
    expect(res.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.ephemeralsFor('U0ALICE')).toMatchObject([{ channel: 'C0REVIEW', text: 'only you', ts: res.message_ts }]);
    expect(slack.ephemeralsFor('U0BOB')).toEqual([]);
    expect(slack.messagesIn('C0REVIEW')).toEqual([]);
  });

  it('when a DM is opened and posted to, or a user id is posted to, then both land in the user DM', async () => {
    const open = await web.conversations.open({ users: 'U0ALICE' });
    expect(open.channel?.id).toBe('DU0ALICE');
    await web.chat.postMessage({ channel: open.channel!.id!, text: 'via open' });
    const direct = await web.chat.postMessage({ channel: 'U0ALICE', text: 'via user id' });
    expect(direct.channel).toBe('DU0ALICE');
    expect(slack.dmsTo('U0ALICE').map((m) => m.text)).toEqual(['via open', 'via user id']);
  });

  it('when usergroups and users are looked up, then configured members answer and unknown ids error', async () => {
    expect((await web.usergroups.users.list({ usergroup: 'S0SENIORS' })).users).toEqual(['U0ALICE', 'U0BOB']);
    expect(await platformError(web.usergroups.users.list({ usergroup: 'S0NOPE' }))).toBe('no_such_subteam');
    expect((await web.users.info({ user: 'U0ALICE' })).user).toMatchObject({ id: 'U0ALICE', name: 'alice', profile: { real_name: 'Alice Senior', email: 'alice@example.com' } });
    expect((await web.users.lookupByEmail({ email: 'bob@example.com' })).user?.id).toBe('U0BOB');
    expect(await platformError(web.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
    expect(await platformError(web.users.lookupByEmail({ email: 'x@example.com' }))).toBe('users_not_found');
  });

  it('when views are opened, updated and published, then they are stored and change events fire', async () => {
    const changes: StandinChange[] = [];
    slack.on('change', (c) => changes.push(c));
    const view = { type: 'modal' as const, callback_id: 'reject', title: { type: 'plain_text' as const, text: 'Reject' }, blocks: [] };
    const opened = await web.views.open({ trigger_id: '1.2.abc', view });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), callback_id: 'reject' });
    await web.views.update({ view_id: opened.view!.id!, view: { ...view, title: { type: 'plain_text', text: 'Reject CS-42' } } });
    expect(slack.views[0].view).toMatchObject({ title: { text: 'Reject CS-42' } });
    await web.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: [section('home')] } });
    expect(slack.homeOf('U0ALICE')).toMatchObject({ type: 'home', blocks: [section('home')] });
    expect(changes.map((c) => c.kind)).toEqual(['view', 'view', 'home']);
    slack.removeAllListeners('change');
  });

  it('when a method is unknown, then it answers unknown_method with HTTP 200', async () => {
    expect(await platformError(web.apiCall('pins.add', { channel: 'C1' }))).toBe('unknown_method');
    expect(slack.calls[0]).toMatchObject({ method: 'pins.add', status: 200 });
  });
});

describe('faults', () => {
  it('when failNext 429 is set, then WebClient throws a rate-limited error with retryAfter and nothing is stored', async () => {
    slack.failNext(1, { status: 429, retryAfter: 7 });
    const err = await thrown(web.chat.postMessage({ channel: 'C0REVIEW', text: 'x' }));
    expect(err.code).toBe('slack_webapi_rate_limited_error');
    expect(err.code === ErrorCode.RateLimitedError && err.retryAfter).toBe(7);
    expect(slack.messages).toEqual([]);
    expect(slack.calls).toMatchObject([{ method: 'chat.postMessage', status: 429, args: { channel: 'C0REVIEW', text: 'x' } }]);
    await web.chat.postMessage({ channel: 'C0REVIEW', text: 'y' });
    expect(slack.messagesIn('C0REVIEW')).toHaveLength(1);
  });

  it('when failNext 500 is set, then WebClient throws an HTTP error and nothing is stored', async () => {
    slack.failNext(1, { status: 500 });
    const err = await thrown(web.chat.postMessage({ channel: 'C0REVIEW', text: 'x' }));
    expect(err.code).toBe('slack_webapi_http_error');
    expect(err.code === ErrorCode.HTTPError && err.statusCode).toBe(500);
    expect(slack.messages).toEqual([]);
  });

  it('when failNext carries a Slack error, then WebClient throws a platform error and nothing is stored', async () => {
    slack.failNext(1, { error: 'channel_not_found' });
    expect(await platformError(web.chat.postMessage({ channel: 'C0REVIEW', text: 'x' }))).toBe('channel_not_found');
    expect(slack.messages).toEqual([]);
  });

  it('when a fault names a method, then only that method is faulted, n times', async () => {
    slack.failNext(2, { error: 'ratelimited' }, { method: 'chat.update' });
    const { ts } = await web.chat.postMessage({ channel: 'C1', text: 'x' });
    await thrown(web.chat.update({ channel: 'C1', ts: ts!, text: 'y' }));
    await thrown(web.chat.update({ channel: 'C1', ts: ts!, text: 'y' }));
    await web.chat.update({ channel: 'C1', ts: ts!, text: 'z' });
    expect(slack.messagesIn('C1')[0]).toMatchObject({ text: 'z', edits: 1 });
  });

  it('when a delay fault is set, then the call is slow but still answered and stored', async () => {
    slack.failNext(1, { delayMs: 150 });
    const started = Date.now();
    await web.chat.postMessage({ channel: 'C1', text: 'slow' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(slack.messagesIn('C1')).toHaveLength(1);
  });
});

describe('response_url hosting', () => {
  it('when a response_url is posted to, then an ephemeral (default) or channel message appears, and after 5 uses it is 404', async () => {
    const url = slack.createResponseUrl({ channel: 'C0REVIEW', user: 'U0ALICE' });
    expect(url.startsWith(`${slack.baseUrl}/response/`)).toBe(true);
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ text: 'Only you can see this' })).status).toBe(200);
    expect(slack.ephemeralsFor('U0ALICE')).toMatchObject([{ channel: 'C0REVIEW', text: 'Only you can see this' }]);
    await post({ response_type: 'in_channel', text: 'Everyone sees this' });
    expect(slack.messagesIn('C0REVIEW').map((m) => m.text)).toEqual(['Everyone sees this']);
    expect(slack.responses).toHaveLength(2);
    for (let i = 0; i < 3; i++) await post({ text: `more ${i}` });
    const sixth = await post({ text: 'too many' });
    expect(sixth.status).toBe(404);
    expect(await sixth.text()).toBe('used_url');
  });

  it('when replace_original is posted for a message, then that message is replaced', async () => {
    const { ts } = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'card', blocks: [section('pending')] });
    const url = slack.createResponseUrl({ channel: 'C0REVIEW', user: 'U0ALICE', message_ts: ts });
    await fetch(url, { method: 'POST', body: JSON.stringify({ replace_original: true, text: 'approved' }) });
    expect(slack.messagesIn('C0REVIEW')).toMatchObject([{ ts, text: 'approved', edits: 1 }]);
    expect(slack.messagesIn('C0REVIEW')[0].blocks).toBeUndefined();
  });
});

describe('signed delivery to an app', () => {
  it("signSlackRequest matches Slack's documented example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  let app: Server;
  let appUrl: string;
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];
  let answer = '';

  beforeAll(async () => {
    app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.writeHead(200, answer ? { 'content-type': 'application/json' } : {}).end(answer);
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(() => new Promise<void>((r) => app.close(() => r())));
  afterEach(() => {
    received.length = 0;
    answer = '';
  });

  const verify = (r: { body: string; headers: IncomingHttpHeaders }) =>
    verifySlackRequest({
      signingSecret: slack.signingSecret,
      body: r.body,
      headers: { 'x-slack-signature': String(r.headers['x-slack-signature']), 'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']) },
    });

  it("when a slash command is sent, then Bolt's verifySlackRequest accepts its signature and the fields are Slack's", async () => {
    const res = await slack.sendCommand(appUrl, { command: '/countersign', text: 'status CS-42', user_id: 'U0ALICE', channel_id: 'C0REVIEW' });
    expect(res.status).toBe(200);
    const [req] = received;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(() => verify(req)).not.toThrow();
    expect(() => verify({ ...req, body: `${req.body}x` })).toThrow();
    const fields = Object.fromEntries(new URLSearchParams(req.body));
    expect(fields).toMatchObject({ command: '/countersign', text: 'status CS-42', user_id: 'U0ALICE', user_name: 'alice', channel_id: 'C0REVIEW', team_id: 'T0SANDBOX' });
    expect(fields.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    await fetch(fields.response_url, { method: 'POST', body: JSON.stringify({ text: 'Status: pending' }) });
    expect(slack.ephemeralsFor('U0ALICE')).toMatchObject([{ channel: 'C0REVIEW', text: 'Status: pending' }]);
  });

  it('when a button click is sent, then a signed block_actions payload carries the stored message', async () => {
    const blocks = [{ type: 'actions', block_id: 'act', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'CS-42' }] }];
    const { ts } = await web.chat.postMessage({ channel: 'C0REVIEW', text: 'card', blocks });
    await slack.sendAction(appUrl, { user_id: 'U0ALICE', channel_id: 'C0REVIEW', message_ts: ts, action: { action_id: 'approve', block_id: 'act' } });
    const [req] = received;
    expect(() => verify(req)).not.toThrow();
    const payload = JSON.parse(new URLSearchParams(req.body).get('payload')!);
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice', team_id: 'T0SANDBOX' },
      container: { type: 'message', message_ts: ts, channel_id: 'C0REVIEW', is_ephemeral: false },
      channel: { id: 'C0REVIEW' },
      message: { ts, text: 'card', blocks },
      actions: [{ action_id: 'approve', block_id: 'act', value: 'CS-42', type: 'button' }],
    });
    await fetch(payload.response_url, { method: 'POST', body: JSON.stringify({ replace_original: true, text: 'Approved by alice' }) });
    expect(slack.messagesIn('C0REVIEW')[0]).toMatchObject({ text: 'Approved by alice', edits: 1 });
  });

  it('when a person opens the Home tab, then a signed JSON event_callback carries app_home_opened and the Home last published', async () => {
    const first = await slack.openHome(appUrl, 'U0ALICE');
    expect(first.status).toBe(200);
    const [req] = received;
    expect(req.headers['content-type']).toBe('application/json');
    expect(() => verify(req)).not.toThrow();
    expect(() => verify({ ...req, body: req.body.replace('U0ALICE', 'U0BOB') })).toThrow();
    expect(JSON.parse(req.body)).toMatchObject({
      type: 'event_callback', team_id: 'T0SANDBOX', api_app_id: expect.any(String), event_id: expect.stringMatching(/^Ev/), event_time: expect.any(Number),
      event: { type: 'app_home_opened', user: 'U0ALICE', channel: 'DU0ALICE', tab: 'home', event_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
    });
    expect(JSON.parse(req.body).event.view).toBeUndefined();

    const published = await web.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: [section('Waiting for your sign-off')] } });
    await slack.openHome(appUrl, 'U0ALICE');
    expect(JSON.parse(received[1].body).event.view).toMatchObject({ id: published.view!.id, type: 'home', blocks: [section('Waiting for your sign-off')] });
  });

  it('when a button in an App Home is clicked, then block_actions names the view, with no channel and no response_url (as Slack sends it)', async () => {
    const blocks = [{ type: 'actions', block_id: 'chg', elements: [{ type: 'button', action_id: 'change_approve', text: { type: 'plain_text', text: 'Approve' }, value: '{"key":"CHG-1"}' }] }];
    const { view } = await web.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks } });
    await slack.sendAction(appUrl, { user_id: 'U0ALICE', view_id: view!.id!, action: { action_id: 'change_approve', block_id: 'chg' } });
    const [req] = received;
    expect(() => verify(req)).not.toThrow();
    const payload = JSON.parse(new URLSearchParams(req.body).get('payload')!);
    expect(payload).toMatchObject({
      type: 'block_actions', user: { id: 'U0ALICE' }, trigger_id: expect.any(String),
      container: { type: 'view', view_id: view!.id },
      view: { id: view!.id, type: 'home', blocks },
      actions: [{ type: 'button', action_id: 'change_approve', block_id: 'chg', value: '{"key":"CHG-1"}', text: { text: 'Approve' } }],
    });
    expect(payload).not.toHaveProperty('response_url');
    expect(payload).not.toHaveProperty('channel');
    await expect(slack.sendAction(appUrl, { user_id: 'U0ALICE', view_id: 'VNOSUCH', action: { action_id: 'x', block_id: 'y' } })).rejects.toThrow('view_not_found');
  });

  it('when a view submission is answered with errors, then they are returned; a plain ack closes the modal', async () => {
    await web.views.open({ trigger_id: 't', view: { type: 'modal', callback_id: 'reject', title: { type: 'plain_text', text: 'Reject' }, blocks: [] } });
    const view = { callback_id: 'reject', private_metadata: 'CS-42', state: { values: { reason: { input: { type: 'plain_text_input', value: null } } } } };
    answer = JSON.stringify({ response_action: 'errors', errors: { reason: 'A reason is required' } });
    const rejected = await slack.sendViewSubmission(appUrl, { user_id: 'U0ALICE', view });
    expect(rejected).toMatchObject({ status: 200, response_action: 'errors', errors: { reason: 'A reason is required' } });
    const payload = JSON.parse(new URLSearchParams(received[0].body).get('payload')!);
    expect(payload).toMatchObject({ type: 'view_submission', user: { id: 'U0ALICE' }, view: { id: slack.views[0].id, callback_id: 'reject', private_metadata: 'CS-42', state: view.state } });
    expect(() => verify(received[0])).not.toThrow();
    expect(slack.views[0].closed).toBe(false);
    answer = '';
    const accepted = await slack.sendViewSubmission(appUrl, { user_id: 'U0ALICE', view });
    expect(accepted.errors).toBeUndefined();
    expect(slack.views[0].closed).toBe(true);
  });
});
