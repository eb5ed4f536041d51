import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postSigned, type AppReply } from './slack-signing.ts';

export { signSlackRequest, type AppReply } from './slack-signing.ts';

/** A person in the stand-in's workspace (answered by `users.info` / `users.lookupByEmail`). */
export interface StandinUser { id: string; name: string; real_name?: string; email?: string }

/** Constructor options; every field has a sandbox default. */
export interface StandinOptions {
  botUserId?: string;
  teamId?: string;
  users?: StandinUser[];
  /** Usergroup id → member user ids, for `usergroups.users.list`. */
  usergroups?: Record<string, string[]>;
  /** Secret that signs deliveries to an app (`sendCommand`, `sendAction`, `sendViewSubmission`, `sendEvent`). */
  signingSecret?: string;
}

/** One Web API request, recorded whether it succeeded, failed or was faulted. `args` excludes the token. */
export interface RecordedCall { method: string; args: Record<string, unknown>; at: number; status: number; token?: string }

/** A channel message (top level, or a thread reply when `thread_ts` is set). */
export interface StoredMessage {
  ts: string;
  channel: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  user?: string;
  /** How many times chat.update or a `replace_original` response changed it. */
  edits: number;
  edited?: { user: string; ts: string };
  metadata?: unknown;
  reply_count?: number;
}

/** An ephemeral message, visible only to `user`. */
export interface StoredEphemeral { ts: string; channel: string; user: string; text: string; blocks?: unknown[]; thread_ts?: string }

/** A modal (views.open/push, changed by views.update) or an App Home (views.publish). `user` is known when the trigger id came from here. */
export interface StoredView { id: string; user?: string; view: Record<string, unknown>; /** Set when a submission closed the modal. */ closed: boolean }

/** A fault for `failNext`: HTTP 429, HTTP 500, a Slack error body, or extra delay before a normal answer. */
export type Fault = { status: 429; retryAfter?: number } | { status: 500 } | { error: string } | { delayMs: number };

/** Where a response_url's messages land. `message_ts` is the original that `replace_original` / `delete_original` act on. */
export interface ResponseContext { channel: string; user: string; message_ts?: string }

/** One accepted POST to a hosted response_url. */
export interface ResponsePost { id: string; body: Record<string, unknown>; context: ResponseContext }

/** Emitted as `'change'` after every state change. */
export interface StandinChange { kind: 'message' | 'update' | 'ephemeral' | 'view' | 'home'; channel?: string; user?: string }

/** An app's answer to a view submission; `errors` is set when it answered `response_action: 'errors'`. */
export interface ViewSubmissionReply extends AppReply { response_action?: string; errors?: Record<string, string> }

/** A view submission as `sendViewSubmission` takes it. */
export interface SubmittedView {
  callback_id: string;
  private_metadata?: string;
  state: { values: Record<string, Record<string, { type: string; value: string | null }>> };
}

/**
 * A button click as `sendAction` takes it: on a stored message (`channel_id` + `message_ts`), or in a
 * view: `view_id` names a stored App Home or open modal, `view` passes a view object as it is.
 */
export interface ClickedAction {
  user_id: string;
  /** The clicked message's channel; a click in a view has none. */
  channel_id?: string;
  message_ts?: string;
  action: { action_id: string; block_id: string; value?: string };
  view_id?: string;
  view?: unknown;
}

/** An Events API event as `sendEvent` takes it (`event_ts` is filled in). */
export interface SentEvent { type: string; user?: string; channel?: string; [field: string]: unknown }

type Args = Record<string, unknown>;
type Method = (args: Args) => Args;

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
const RESPONSE_URL_USES = 5;
const TEAM_DOMAIN = 'sandbox';
const APP_ID = 'A0SANDBOX';
const VERIFICATION_TOKEN = 'sandbox-verification-token';

/** A Slack error answered as `{ ok: false, error }`. */
class SlackApiError extends Error {}
function fail(error: string): never {
  throw new SlackApiError(error);
}

/**
 * An in-process stand-in for Slack's Web API on node:http. Point the real WebClient at `apiUrl`.
 * It records every call, injects faults, hosts response_urls, and can deliver signed slash
 * commands, button clicks, view submissions and events (App Home opened) to an app the way Slack does.
 */
export class SlackStandin extends EventEmitter<{ change: [StandinChange] }> {
  readonly botUserId: string;
  readonly botId = 'B0SANDBOT';
  readonly teamId: string;
  readonly signingSecret: string;
  readonly calls: RecordedCall[] = [];
  readonly messages: StoredMessage[] = [];
  readonly ephemerals: StoredEphemeral[] = [];
  readonly views: StoredView[] = [];
  /** The latest published App Home per user. */
  readonly homes = new Map<string, StoredView>();
  readonly responses: ResponsePost[] = [];

  private readonly users = new Map<string, StandinUser>();
  private readonly usergroups: Record<string, string[]>;
  private readonly responseUrls = new Map<string, { context: ResponseContext; uses: number }>();
  private readonly triggers = new Map<string, string>();
  /** Channels the bot joined with conversations.join. */
  readonly joined = new Set<string>();
  private faults: { remaining: number; fault: Fault; method?: string }[] = [];
  private latencyMs = 0;
  private lastMicros = 0;
  private server?: Server;
  private base?: string;

  private readonly methods = new Map<string, Method>([
    ['auth.test', () => ({ url: `https://${TEAM_DOMAIN}.slack.com/`, team: 'Sandbox', user: 'countersign', team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId })],
    ['chat.postMessage', (a) => this.postMessage(a)],
    ['chat.update', (a) => this.updateMessage(a)],
    ['chat.postEphemeral', (a) => this.postEphemeral(a)],
    ['conversations.open', (a) => this.openConversation(a)],
    ['views.open', (a) => this.openView(a)],
    ['views.push', (a) => this.openView(a)],
    ['views.update', (a) => this.updateView(a)],
    ['views.publish', (a) => this.publishHome(a)],
    ['usergroups.users.list', (a) => ({ users: this.usergroups[str(a, 'usergroup') ?? ''] ?? fail('no_such_subteam') })],
    ['users.info', (a) => ({ user: this.userOut(this.users.get(str(a, 'user') ?? '') ?? fail('user_not_found')) })],
    ['users.lookupByEmail', (a) => ({ user: this.userOut([...this.users.values()].find((u) => u.email && u.email === str(a, 'email')) ?? fail('users_not_found')) })],
    ['conversations.join', (a) => this.joinConversation(a)],
    ['conversations.history', (a) => this.history(a)],
    ['chat.getPermalink', (a) => this.permalink(a)],
  ]);

  constructor(opts: StandinOptions = {}) {
    super();
    this.botUserId = opts.botUserId ?? 'U0SANDBOT';
    this.teamId = opts.teamId ?? 'T0SANDBOX';
    // Random per run: a constant secret would let anyone who knows it sign requests to the app.
    this.signingSecret = opts.signingSecret ?? randomBytes(32).toString('hex');
    this.usergroups = opts.usergroups ?? {};
    this.users.set(this.botUserId, { id: this.botUserId, name: 'countersign', real_name: 'Countersign' });
    for (const u of opts.users ?? []) this.users.set(u.id, u);
  }

  /** Listens (127.0.0.1 and an ephemeral port by default) and returns the base URL, e.g. `http://127.0.0.1:PORT`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('SlackStandin already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => reply(res, 500, String(err)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port: bound } = server.address() as AddressInfo;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    return this.base;
  }

  /** Closes the server and every open connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** `http://127.0.0.1:PORT` once started. */
  get baseUrl(): string {
    if (!this.base) throw new Error('SlackStandin not started');
    return this.base;
  }

  /** The WebClient `slackApiUrl`: `${baseUrl}/api/`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** Recorded calls to one Web API method. */
  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages in a channel (a user id means that user's DM), top level and thread replies, oldest first. */
  messagesIn(channel: string): StoredMessage[] {
    const id = dmFor(channel);
    return this.messages.filter((m) => m.channel === id);
  }

  /** The replies in the thread under `ts` (not the parent), oldest first. */
  threadOf(channel: string, ts: string): StoredMessage[] {
    return this.messagesIn(channel).filter((m) => m.thread_ts === ts);
  }

  /** Ephemeral messages shown to one user. */
  ephemeralsFor(user: string): StoredEphemeral[] {
    return this.ephemerals.filter((e) => e.user === user);
  }

  /** Messages in the bot's DM with a user. */
  dmsTo(userId: string): StoredMessage[] {
    return this.messagesIn(dmFor(userId));
  }

  /** The App Home view last published for a user. */
  homeOf(userId: string): Record<string, unknown> | undefined {
    return this.homes.get(userId)?.view;
  }

  /** Forgets all recorded calls, state, faults, latency and hosted response_urls (users and usergroups stay). */
  reset(): void {
    for (const list of [this.calls, this.messages, this.ephemerals, this.views, this.responses]) list.length = 0;
    this.homes.clear();
    this.responseUrls.clear();
    this.triggers.clear();
    this.joined.clear();
    this.faults = [];
    this.latencyMs = 0;
  }

  /** Shows an app's answer to a slash command (its ack body) the way Slack does: ephemeral unless `in_channel`. */
  showCommandAnswer(context: { channel: string; user: string }, body: Record<string, unknown>): void {
    if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return;
    this.applyResponse(body, { channel: dmFor(context.channel), user: context.user });
  }

  /** Closes a modal, as a person pressing its close button does. */
  closeView(id: string): void {
    const v = this.views.find((x) => x.id === id);
    if (v && !v.closed) {
      v.closed = true;
      this.changed({ kind: 'view', user: v.user });
    }
  }

  /** Drops every pending fault (Slack "comes back"). */
  clearFaults(): void {
    this.faults = [];
  }

  /** The next `n` Web API calls (only of `opts.method`, if given) answer with `fault`; faulted calls store nothing. */
  failNext(n: number, fault: Fault, opts: { method?: string } = {}): void {
    if (n > 0) this.faults.push({ remaining: n, fault, method: opts.method });
  }

  /** Delays every request by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Hosts a response_url whose messages land in `context` (5 uses, then HTTP 404 `used_url`). */
  createResponseUrl(context: ResponseContext): string {
    const id = randomBytes(9).toString('hex');
    this.responseUrls.set(id, { context: { ...context, channel: dmFor(context.channel) }, uses: 0 });
    return `${this.baseUrl}/response/${id}`;
  }

  /** Delivers a slash command to an app, signed, as Slack's form-encoded POST. */
  async sendCommand(appUrl: string, p: { command: string; text: string; user_id: string; channel_id: string }): Promise<AppReply> {
    const fields = {
      token: VERIFICATION_TOKEN, team_id: this.teamId, team_domain: TEAM_DOMAIN, api_app_id: APP_ID, is_enterprise_install: 'false',
      channel_id: p.channel_id, channel_name: channelName(p.channel_id), user_id: p.user_id, user_name: this.users.get(p.user_id)?.name ?? p.user_id,
      command: p.command, text: p.text,
      response_url: this.createResponseUrl({ channel: p.channel_id, user: p.user_id }),
      trigger_id: this.newTrigger(p.user_id),
    };
    return postSigned(appUrl, this.signingSecret, new URLSearchParams(fields).toString());
  }

  /**
   * Delivers a button click (`block_actions`) to an app, signed. On a message, the stored message and a
   * response_url are included; in a view (App Home or modal), the view is, and, as with Slack, neither a
   * channel nor a response_url.
   */
  async sendAction(appUrl: string, p: ClickedAction): Promise<AppReply> {
    const stored = p.view_id ? this.findView(p.view_id) ?? fail('view_not_found') : undefined;
    const view = stored ? this.viewOut(stored) : asRecord(p.view);
    const base = { ...this.envelope('block_actions', p.user_id), state: { values: {} } };
    if (view && !p.message_ts) {
      const element = findElement(Array.isArray(view.blocks) ? view.blocks : undefined, p.action);
      return this.deliver(appUrl, { ...base, container: { type: 'view', view_id: view.id }, view, actions: [this.actionOut(p.action, element)] });
    }
    const channel = dmFor(p.channel_id ?? fail('channel_not_found'));
    const original = p.message_ts ? this.findMessage(channel, p.message_ts) : undefined;
    const ephemeral = p.message_ts && !original ? this.ephemerals.find((e) => e.channel === channel && e.ts === p.message_ts) : undefined;
    const element = findElement(original?.blocks ?? ephemeral?.blocks, p.action);
    return this.deliver(appUrl, {
      ...base,
      container: { type: 'message', message_ts: p.message_ts, channel_id: channel, is_ephemeral: Boolean(ephemeral) },
      channel: { id: channel, name: channelName(channel) },
      ...(original ? { message: this.messageOut(original) } : {}),
      ...(view ? { view } : {}),
      response_url: this.createResponseUrl({ channel, user: p.user_id, message_ts: p.message_ts }),
      actions: [this.actionOut(p.action, element)],
    });
  }

  /** Delivers an Events API `event_callback` to an app, signed, as Slack's JSON POST. */
  async sendEvent(appUrl: string, event: SentEvent): Promise<AppReply> {
    const body = {
      token: VERIFICATION_TOKEN, team_id: this.teamId, api_app_id: APP_ID, type: 'event_callback',
      event: { ...event, event_ts: this.nextTs() },
      event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`, event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
    return postSigned(appUrl, this.signingSecret, JSON.stringify(body), 'application/json');
  }

  /** A person opens the app's Home tab: `app_home_opened` with `tab: 'home'`, carrying the Home last published for them. */
  async openHome(appUrl: string, userId: string): Promise<AppReply> {
    const home = this.homes.get(userId);
    return this.sendEvent(appUrl, { type: 'app_home_opened', user: userId, channel: dmFor(userId), tab: 'home', ...(home ? { view: this.viewOut(home) } : {}) });
  }

  /**
   * Delivers a modal submission (`view_submission`) to an app, signed. The latest open modal with the same
   * callback_id lends its id and blocks. A plain ack closes it; `response_action: 'update'` replaces it.
   */
  async sendViewSubmission(appUrl: string, p: { user_id: string; view: SubmittedView }): Promise<ViewSubmissionReply> {
    const open = this.views.findLast((v) => !v.closed && v.view.callback_id === p.view.callback_id && (!v.user || v.user === p.user_id));
    const view = {
      ...open?.view, id: open?.id ?? newViewId(), team_id: this.teamId, type: 'modal', callback_id: p.view.callback_id,
      private_metadata: p.view.private_metadata ?? open?.view.private_metadata ?? '', state: p.view.state,
    };
    const answer = await this.deliver(appUrl, { ...this.envelope('view_submission', p.user_id), view, response_urls: [] });
    const parsed = parseObject(answer.body);
    const action = typeof parsed?.response_action === 'string' ? parsed.response_action : undefined;
    if (action === 'errors') return { ...answer, response_action: action, errors: (asRecord(parsed?.errors) ?? {}) as Record<string, string> };
    if (answer.status === 200 && open && (!action || action === 'clear' || action === 'update')) {
      const replacement = asRecord(parsed?.view);
      if (action === 'update' && replacement) open.view = replacement;
      else open.closed = true;
      this.changed({ kind: 'view', user: p.user_id });
    }
    return { ...answer, ...(action ? { response_action: action } : {}) };
  }

  /** The fields every interactive payload carries. */
  private envelope(type: string, userId: string): Args {
    return {
      type, user: this.userRef(userId), api_app_id: APP_ID, token: VERIFICATION_TOKEN, trigger_id: this.newTrigger(userId),
      team: { id: this.teamId, domain: TEAM_DOMAIN }, enterprise: null, is_enterprise_install: false,
    };
  }

  /** POSTs an interactive payload as Slack does: form-encoded `payload=<json>`, signed. */
  private deliver(appUrl: string, payload: Args): Promise<AppReply> {
    return postSigned(appUrl, this.signingSecret, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  // ——— HTTP ———

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const raw = await readBody(req);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (url.pathname.startsWith('/api/')) return this.handleApi(url.pathname.slice(5), req, raw, url.searchParams, res);
    const response = /^\/response\/(\w+)$/.exec(url.pathname);
    if (response && req.method === 'POST') return this.handleResponseUrl(response[1], raw, res);
    reply(res, 404, 'not_found');
  }

  private async handleApi(method: string, req: IncomingMessage, raw: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const { args, token } = parseArgs(req, raw, query);
    const call: RecordedCall = { method, args, at: Date.now(), status: 200, ...(token ? { token } : {}) };
    this.calls.push(call);
    const rule = this.faults.find((f) => !f.method || f.method === method);
    if (rule && --rule.remaining === 0) this.faults.splice(this.faults.indexOf(rule), 1);
    const fault = rule?.fault;
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
    else if (fault && 'error' in fault) return reply(res, 200, { ok: false, error: fault.error });
    else if (fault?.status === 429) {
      call.status = 429;
      return reply(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter ?? 1) });
    } else if (fault) {
      call.status = 500;
      return reply(res, 500, 'internal_error');
    }
    reply(res, 200, this.invoke(method, args, token));
  }

  private invoke(method: string, args: Args, token: string | undefined): Args {
    const handler = this.methods.get(method);
    if (!handler) return { ok: false, error: 'unknown_method' };
    if (!token) return { ok: false, error: 'not_authed' };
    try {
      return { ok: true, ...handler(args) };
    } catch (err) {
      if (err instanceof SlackApiError) return { ok: false, error: err.message };
      throw err;
    }
  }

  private handleResponseUrl(id: string, raw: string, res: ServerResponse): void {
    const hosted = this.responseUrls.get(id);
    if (!hosted) return reply(res, 404, 'expired_url');
    if (hosted.uses >= RESPONSE_URL_USES) return reply(res, 404, 'used_url');
    const body = parseObject(raw);
    if (!body) return reply(res, 400, 'invalid_payload');
    try {
      this.applyResponse(body, hosted.context);
    } catch (err) {
      if (err instanceof SlackApiError) return reply(res, 400, err.message);
      throw err;
    }
    hosted.uses++;
    this.responses.push({ id, body, context: hosted.context });
    reply(res, 200, { ok: true });
  }

  // ——— Web API methods ———

  private postMessage(a: Args): Args {
    const channel = dmFor(str(a, 'channel') ?? fail('channel_not_found'));
    const msg = this.storeMessage({ channel, ...content(a), thread_ts: str(a, 'thread_ts'), metadata: a.metadata });
    return { channel, ts: msg.ts, message: this.messageOut(msg) };
  }

  private updateMessage(a: Args): Args {
    const channel = dmFor(str(a, 'channel') ?? fail('channel_not_found'));
    const msg = this.findMessage(channel, str(a, 'ts') ?? fail('message_not_found')) ?? fail('message_not_found');
    // Like Slack: omitted text or blocks keep their previous value.
    const { text, blocks } = content({ text: a.text ?? msg.text, blocks: a.blocks ?? msg.blocks });
    this.replaceMessage(msg, text, blocks, a.metadata);
    return { channel, ts: msg.ts, text: msg.text, message: this.messageOut(msg) };
  }

  private postEphemeral(a: Args): Args {
    const channel = dmFor(str(a, 'channel') ?? fail('channel_not_found'));
    const user = str(a, 'user') ?? fail('user_not_found');
    return { message_ts: this.storeEphemeral({ channel, user, ...content(a), thread_ts: str(a, 'thread_ts') }).ts };
  }

  private openConversation(a: Args): Args {
    const existing = str(a, 'channel');
    if (existing) return { channel: { id: existing } };
    const users = (str(a, 'users') ?? '').split(',').map((u) => u.trim()).filter(Boolean);
    if (users.length === 0) fail('users_list_not_supplied');
    if (users.length === 1) return { channel: { id: dmFor(users[0]) } };
    return { channel: { id: `G${createHash('sha1').update(users.sort().join(',')).digest('hex').slice(0, 10).toUpperCase()}` } };
  }

  private openView(a: Args): Args {
    const trigger = str(a, 'trigger_id') ?? fail('invalid_arguments');
    const stored: StoredView = { id: newViewId(), user: this.triggers.get(trigger), view: asRecord(a.view) ?? fail('invalid_arguments'), closed: false };
    this.views.push(stored);
    this.changed({ kind: 'view', user: stored.user });
    return { view: this.viewOut(stored) };
  }

  private updateView(a: Args): Args {
    const view = asRecord(a.view) ?? fail('invalid_arguments');
    const id = str(a, 'view_id');
    const external = str(a, 'external_id');
    const stored = this.views.find((v) => (id && v.id === id) || (external && v.view.external_id === external)) ?? fail('not_found');
    stored.view = view;
    this.changed({ kind: 'view', user: stored.user });
    return { view: this.viewOut(stored) };
  }

  private publishHome(a: Args): Args {
    const user = str(a, 'user_id') ?? fail('invalid_arguments');
    const stored: StoredView = { id: this.homes.get(user)?.id ?? newViewId(), user, view: asRecord(a.view) ?? fail('invalid_arguments'), closed: false };
    this.homes.set(user, stored);
    this.changed({ kind: 'home', user });
    return { view: this.viewOut(stored) };
  }

  // ——— state ———

  private storeMessage(m: { channel: string; text: string; blocks?: unknown[]; thread_ts?: string; metadata?: unknown }): StoredMessage {
    const parent = m.thread_ts ? this.findMessage(m.channel, m.thread_ts) : undefined;
    const thread_ts = parent?.thread_ts ?? m.thread_ts; // a reply to a reply joins the root's thread
    const root = thread_ts ? this.findMessage(m.channel, thread_ts) : undefined;
    if (root) root.reply_count = (root.reply_count ?? 0) + 1;
    const msg: StoredMessage = { ts: this.nextTs(), channel: m.channel, text: m.text, blocks: m.blocks, thread_ts, user: this.botUserId, edits: 0, metadata: m.metadata };
    this.messages.push(msg);
    this.changed({ kind: 'message', channel: msg.channel });
    return msg;
  }

  private storeEphemeral(e: Omit<StoredEphemeral, 'ts'>): StoredEphemeral {
    const stored = { ts: this.nextTs(), ...e };
    this.ephemerals.push(stored);
    this.changed({ kind: 'ephemeral', channel: e.channel, user: e.user });
    return stored;
  }

  private replaceMessage(msg: StoredMessage, text: string, blocks: unknown[] | undefined, metadata?: unknown): void {
    Object.assign(msg, { text, blocks, edits: msg.edits + 1, edited: { user: this.botUserId, ts: this.nextTs() } });
    if (metadata !== undefined) msg.metadata = metadata;
    this.changed({ kind: 'update', channel: msg.channel });
  }

  /** Applies a response_url POST the way Slack does. */
  private applyResponse(body: Args, { channel, user, message_ts }: ResponseContext): void {
    const original = message_ts ? this.findMessage(channel, message_ts) : undefined;
    const ephemeral = message_ts ? this.ephemerals.find((e) => e.channel === channel && e.ts === message_ts) : undefined;
    if (truthy(body.delete_original)) {
      if (original) this.messages.splice(this.messages.indexOf(original), 1);
      if (ephemeral) this.ephemerals.splice(this.ephemerals.indexOf(ephemeral), 1);
      this.changed({ kind: original ? 'update' : 'ephemeral', channel, user });
      return;
    }
    const { text, blocks } = content(body);
    if (truthy(body.replace_original) && original) return this.replaceMessage(original, text, blocks);
    if (truthy(body.replace_original) && ephemeral) {
      Object.assign(ephemeral, { text, blocks });
      return this.changed({ kind: 'ephemeral', channel, user });
    }
    const thread_ts = str(body, 'thread_ts');
    if (body.response_type === 'in_channel') this.storeMessage({ channel, text, blocks, thread_ts });
    else this.storeEphemeral({ channel, user, text, blocks, thread_ts });
  }

  /** A published App Home, or a modal that is still open. */
  private findView(id: string): StoredView | undefined {
    return [...this.homes.values()].find((h) => h.id === id) ?? this.views.find((v) => v.id === id && !v.closed);
  }

  private findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Unique, increasing Slack timestamps (`seconds.micros`) that track the wall clock. */
  private nextTs(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 100);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }

  private newTrigger(user: string): string {
    const trigger = `${Date.now()}.${randomBytes(5).readUIntBE(0, 5)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(trigger, user);
    return trigger;
  }

  private changed(change: StandinChange): void {
    this.emit('change', change);
  }

  // ——— response shapes ———

  /** Public channels (C…) can be joined; private ones (G…) cannot, like Slack. */
  private joinConversation(a: Args): Args {
    const channel = str(a, 'channel') ?? fail('channel_not_found');
    if (!channel.startsWith('C')) fail('method_not_supported_for_channel_type');
    this.joined.add(channel);
    return { channel: { id: channel, is_member: true } };
  }

  /** Top-level messages of a channel, newest first, after `oldest`; metadata only with `include_all_metadata`; paged by `cursor`. */
  private history(a: Args): Args {
    const channel = dmFor(str(a, 'channel') ?? fail('channel_not_found'));
    const oldest = Number(str(a, 'oldest') ?? 0);
    const limit = Math.min(Number(str(a, 'limit') ?? 100), 1000);
    const offset = Number(str(a, 'cursor') ?? 0);
    const withMetadata = truthy(a.include_all_metadata);
    const all = this.messages.filter((m) => m.channel === channel && !m.thread_ts && Number(m.ts) > oldest).reverse();
    const page = all.slice(offset, offset + limit).map((m) => {
      const { metadata, ...rest } = this.messageOut(m);
      return withMetadata && metadata ? { ...rest, metadata } : rest;
    });
    const more = offset + limit < all.length;
    return { messages: page, has_more: more, response_metadata: { next_cursor: more ? String(offset + limit) : '' } };
  }

  private permalink(a: Args): Args {
    const channel = dmFor(str(a, 'channel') ?? fail('channel_not_found'));
    const ts = str(a, 'message_ts') ?? fail('message_not_found');
    if (!this.findMessage(channel, ts)) fail('message_not_found');
    return { channel, permalink: `https://${TEAM_DOMAIN}.slack.com/archives/${channel}/p${ts.replace('.', '')}` };
  }

  private messageOut(m: StoredMessage): Args {
    const { channel: _channel, edits: _edits, ...rest } = m;
    return { type: 'message', ...rest, bot_id: this.botId, app_id: APP_ID, team: this.teamId };
  }

  private viewOut(v: StoredView): Args {
    return { id: v.id, team_id: this.teamId, state: { values: {} }, hash: randomBytes(8).toString('hex'), private_metadata: '', callback_id: '', app_id: APP_ID, bot_id: this.botId, ...v.view };
  }

  /** A clicked button as `actions[]` carries it; text and value come from the stored element when known. */
  private actionOut(action: ClickedAction['action'], element: Args | undefined): Args {
    return {
      type: 'button', ...(element?.text ? { text: element.text } : {}),
      action_id: action.action_id, block_id: action.block_id, value: action.value ?? element?.value, action_ts: this.nextTs(),
    };
  }

  private userOut(u: StandinUser): Args {
    const real_name = u.real_name ?? u.name;
    return { id: u.id, team_id: this.teamId, name: u.name, real_name, deleted: false, is_bot: u.id === this.botUserId, profile: { real_name, display_name: u.name, email: u.email } };
  }

  private userRef(id: string): Args {
    const name = this.users.get(id)?.name ?? id;
    return { id, username: name, name, team_id: this.teamId };
  }
}

// ——— helpers ———

/** A user id (U…/W…) stands for the bot's DM with that user, `D` + user id. */
function dmFor(channel: string): string {
  return /^[UW]/.test(channel) ? `D${channel}` : channel;
}

function channelName(channel: string): string {
  return channel.startsWith('D') ? 'directmessage' : channel.toLowerCase();
}

function newViewId(): string {
  return `V${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** A non-empty string (or number) argument. */
function str(a: Args, key: string): string | undefined {
  const v = a[key];
  return (typeof v === 'string' && v !== '') || typeof v === 'number' ? String(v) : undefined;
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

function asRecord(v: unknown): Args | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Args) : undefined;
}

/** Parsed JSON, or undefined when `raw` is not JSON. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function parseObject(raw: string): Args | undefined {
  return asRecord(parseJson(raw));
}

/** A message's text and blocks, validated like chat.postMessage. */
function content(a: Args): { text: string; blocks?: unknown[] } {
  const blocks = a.blocks;
  if (blocks !== undefined && !Array.isArray(blocks)) fail('invalid_blocks_format');
  if (blocks && blocks.length > 50) fail('invalid_blocks');
  const text = str(a, 'text') ?? '';
  if (!text && !blocks?.length && a.attachments === undefined) fail('no_text');
  return { text, blocks };
}

/** The interactive element `action` refers to in a message's blocks (for its text and value). */
function findElement(blocks: unknown[] | undefined, action: { action_id: string; block_id: string }): Args | undefined {
  const block = blocks?.map(asRecord).find((b) => b?.block_id === action.block_id);
  const elements = [...(Array.isArray(block?.elements) ? block.elements : []), block?.accessory].map(asRecord);
  return elements.find((e) => e?.action_id === action.action_id);
}

/** Request arguments as WebClient sends them (form or JSON body, plus query), JSON fields parsed. */
function parseArgs(req: IncomingMessage, raw: string, query: URLSearchParams): { args: Args; token?: string } {
  const args: Args = Object.fromEntries(query);
  if (String(req.headers['content-type'] ?? '').includes('application/json')) Object.assign(args, parseObject(raw));
  else Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  for (const key of JSON_FIELDS) {
    // Unparseable JSON stays a string, which the method answers with a *_format error.
    const v = args[key];
    if (typeof v === 'string') args[key] = parseJson(v) ?? v;
  }
  const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
  const token = bearer ?? str(args, 'token');
  delete args.token;
  return { args, token };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: Args | string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const json = typeof body !== 'string';
  res.writeHead(status, { 'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8', ...headers });
  res.end(json ? JSON.stringify(body) : body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
