import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import { badRequest } from '../http/errors.ts';
import type { HttpServer } from '../http/server.ts';
import { cardChannel } from '../slack/notifier.ts';
import { buildPresets } from './presets.ts';
import type { SlackStandin } from './slack-standin.ts';

// A Map, not an object literal: `constructor` or `__proto__` must not look like a file.
const STATIC = new Map<string, string>([
  ['app.js', 'text/javascript; charset=utf-8'],
  ['blockkit.js', 'text/javascript; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
]);
const publicFile = (name: string) => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');

/** Human names for the configured channels, as the sandbox shows them. */
export function sandboxChannels(config: Config, me: string): { id: string; name: string; kind: 'channel' | 'dm' }[] {
  const out = new Map<string, string>();
  for (const t of config.teams) if (t.channel) out.set(t.channel, `${t.name}-seniors`);
  out.set(config.slack.approvals_channel, out.get(config.slack.approvals_channel) ?? 'approvals');
  out.set(config.slack.escalation_channel, out.get(config.slack.escalation_channel) ?? 'escalations');
  out.set(config.slack.incidents_channel, out.get(config.slack.incidents_channel) ?? 'incidents');
  return [...[...out].map(([id, name]) => ({ id, name, kind: 'channel' as const })), { id: `D${me}`, name: 'Countersign', kind: 'dm' as const }];
}

const userId = z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a user id from the config');
const channelId = z.string().regex(/^[CGD][A-Z0-9]+$/, 'expected a channel id');
// A click is on a message (channel + message_ts) or in a view (view_id: the person's App Home or open modal).
const actionBody = z.strictObject({ user: userId, channel: channelId.optional(), message_ts: z.string().max(40).optional(), view_id: z.string().min(1).max(40).optional(), action_id: z.string().min(1).max(255), block_id: z.string().min(1).max(255), value: z.string().max(2000).optional() })
  .refine((b) => b.channel || b.view_id, { path: ['channel'], message: 'give the channel of the message clicked, or the view_id of the view' });
const homeBody = z.strictObject({ user: userId });
const commandBody = z.strictObject({ user: userId, channel: channelId, text: z.string().trim().regex(/^\/(change|incident)\b/, 'only /change and /incident are understood').max(3000) });
const viewBody = z.strictObject({ user: userId, view_id: z.string().min(1).max(40), values: z.record(z.string(), z.record(z.string(), z.string().max(3000).nullable())).default({}) });
const closeBody = z.strictObject({ user: userId, view_id: z.string().min(1).max(40) });

/**
 * The sandbox page and its JSON: state for "who am I", and a person's actions, which the stand-in
 * delivers to the app's own /slack/events as signed Slack requests (no shortcut into domain code).
 */
export function registerSandboxRoutes(server: HttpServer, opts: { standin: SlackStandin; config: Config; appEvents: () => string; apiToken: string }): { closeStreams(): void } {
  const streams = new Set<ServerResponse>();
  const { standin, config } = opts;
  const people = config.engineers.filter((e) => e.slack).map((e) => ({ id: e.slack!, name: e.name ?? e.github ?? e.slack!, level: e.level }));
  const known = new Set(people.map((p) => p.id));
  // Where each team's approval cards go (its senior channel, else the approvals channel), so the page can follow a submit.
  const cardChannels = { teams: Object.fromEntries(config.teams.map((t) => [t.name, cardChannel(config, { team: t.name })])), fallback: config.slack.approvals_channel };
  const mustKnow = (user: string) => {
    if (!known.has(user)) throw badRequest([{ path: 'user', message: `unknown person ${user}; pick one from the config's engineers` }]);
  };

  server.route('GET', '/', async () => ({ status: 200, text: publicFile('index.html'), headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } }), { auth: false });
  server.route('GET', '/sandbox/static/:file', async (ctx) => {
    const type = STATIC.get(ctx.params.file);
    if (!type) return { status: 404, body: { error: 'not_found', message: `no sandbox file ${ctx.params.file.slice(0, 100)}` } };
    return { status: 200, text: publicFile(ctx.params.file), headers: { 'content-type': type, 'cache-control': 'no-store' } };
  }, { auth: false });

  server.route('GET', '/sandbox/api/state', async (ctx) => {
    const requested = ctx.query.get('user') ?? '';
    const me = known.has(requested) ? requested : (people.find((p) => p.level === 'senior') ?? people[0])?.id ?? 'U0NOBODY';
    const channels = sandboxChannels(config, me);
    const messages: Record<string, unknown[]> = {};
    const ephemerals: Record<string, unknown[]> = {};
    for (const c of channels) {
      messages[c.id] = standin.messagesIn(c.id).map(({ ts, text, blocks, thread_ts, reply_count, edits, user }) => ({ ts, text, blocks, thread_ts, reply_count, edits, user }));
      ephemerals[c.id] = standin.ephemeralsFor(me).filter((e) => e.channel === c.id).map(({ ts, text, blocks }) => ({ ts, text, blocks }));
    }
    const modal = standin.views.filter((v) => !v.closed && v.user === me).at(-1);
    const home = standin.homes.get(me);
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: {
        me, people, bot: { id: standin.botUserId, name: 'Countersign' }, channels, messages, ephemerals,
        modal: modal ? { id: modal.id, view: modal.view } : null, home: home ? { id: home.id, view: home.view } : null,
        card_channels: cardChannels, api: { token: opts.apiToken }, presets: buildPresets(config),
      },
    };
  }, { auth: false });

  server.route('POST', '/sandbox/api/action', async (ctx) => {
    const b = await ctx.body(actionBody);
    mustKnow(b.user);
    const action = { action_id: b.action_id, block_id: b.block_id, value: b.value };
    if (b.view_id && !b.message_ts) {
      const mine = standin.homes.get(b.user)?.id === b.view_id || standin.views.some((v) => v.id === b.view_id && !v.closed && v.user === b.user);
      if (!mine) return { status: 409, body: { ok: false, error: 'that view is no longer open' } };
      const r = await standin.sendAction(opts.appEvents(), { user_id: b.user, view_id: b.view_id, action });
      return { status: 200, body: { ok: r.status === 200, status: r.status } };
    }
    if (!b.channel) throw badRequest([{ path: 'channel', message: 'a click on a message needs its channel' }]);
    const r = await standin.sendAction(opts.appEvents(), { user_id: b.user, channel_id: b.channel, message_ts: b.message_ts, action });
    return { status: 200, body: { ok: r.status === 200, status: r.status } };
  }, { auth: false });

  // Opening the Home tab: Slack sends the app `app_home_opened`, and the app publishes the Home with views.publish.
  server.route('POST', '/sandbox/api/home', async (ctx) => {
    const b = await ctx.body(homeBody);
    mustKnow(b.user);
    const r = await standin.openHome(opts.appEvents(), b.user);
    return { status: 200, body: { ok: r.status === 200, status: r.status } };
  }, { auth: false });

  server.route('POST', '/sandbox/api/command', async (ctx) => {
    const b = await ctx.body(commandBody);
    mustKnow(b.user);
    const [command, ...rest] = b.text.split(/\s+/);
    const r = await standin.sendCommand(opts.appEvents(), { command, text: rest.join(' '), user_id: b.user, channel_id: b.channel });
    let answer: Record<string, unknown> | null = null;
    try {
      answer = r.body ? (JSON.parse(r.body) as Record<string, unknown>) : null;
    } catch {
      answer = r.body ? { text: r.body } : null;
    }
    if (r.status === 200 && answer) standin.showCommandAnswer({ channel: b.channel, user: b.user }, answer);
    return { status: 200, body: { ok: r.status === 200, status: r.status } };
  }, { auth: false });

  server.route('POST', '/sandbox/api/view', async (ctx) => {
    const b = await ctx.body(viewBody);
    mustKnow(b.user);
    const open = standin.views.find((v) => v.id === b.view_id && !v.closed && v.user === b.user);
    if (!open) return { status: 409, body: { ok: false, error: 'that form is no longer open' } };
    const values = Object.fromEntries(Object.entries(b.values).map(([block, actions]) => [block, Object.fromEntries(Object.entries(actions).map(([a, v]) => [a, { type: 'plain_text_input', value: v }]))]));
    const r = await standin.sendViewSubmission(opts.appEvents(), {
      user_id: b.user,
      view: { callback_id: String(open.view.callback_id), private_metadata: String(open.view.private_metadata ?? ''), state: { values } },
    });
    return { status: 200, body: { ok: r.status === 200 && !r.errors, errors: r.errors } };
  }, { auth: false });

  server.route('POST', '/sandbox/api/modal/close', async (ctx) => {
    const b = await ctx.body(closeBody);
    standin.closeView(b.view_id);
    return { status: 200, body: { ok: true } };
  }, { auth: false });

  server.mount('/sandbox/api/events', (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const send = (change: unknown) => res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    standin.on('change', send);
    streams.add(res);
    req.on('close', () => {
      clearInterval(beat);
      standin.off('change', send);
      streams.delete(res);
    });
  });
  return {
    closeStreams: () => {
      for (const r of streams) r.end();
    },
  };
}
