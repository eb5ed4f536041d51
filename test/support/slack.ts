import { expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Clock } from '../../src/domain/types.ts';
import type { Config } from '../../src/config/schema.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { startFakeSlack, type SlackStandin, type StandinUser, type StoredMessage } from '../fakes/fake-slack.ts';
import { TEST_CONFIG_RAW } from '../factories/config.ts';
import { startTestApp, type TestApp } from './app.ts';

export interface SlackHarness {
  app: TestApp;
  slack: SlackStandin;
  events: string;
  stop(): Promise<void>;
}

/** The people of the test config as the fake Slack workspace knows them (users.info answers their profile email). */
export function workspaceUsers(): StandinUser[] {
  return [...TEST_CONFIG_RAW.engineers, { slack: 'U0GRACE', github: 'grace', name: 'Grace' } as (typeof TEST_CONFIG_RAW.engineers)[number]].map((e) => ({
    id: e.slack,
    name: e.github ?? e.slack,
    real_name: e.name,
    email: e.email,
  }));
}

/** The whole app in-process, in Slack HTTP mode, talking to a fake Slack over real HTTP. */
export async function startSlackHarness(opts: { database: Database; clock?: Clock; slack?: SlackStandin; env?: Record<string, string>; outbox?: Record<string, number>; keepDatabase?: boolean; config?: Config; scheduler?: boolean }): Promise<SlackHarness> {
  const slack = opts.slack ?? (await startFakeSlack({ usergroups: { S0PAYSENIORS: ['U0GRACE'] }, users: workspaceUsers() }));
  const app = await startTestApp({
    database: opts.database,
    clock: opts.clock,
    env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl, ...opts.env },
    outbox: { pollMs: 20, backoffBaseMs: 50, backoffMaxMs: 300, postIntervalMs: 5, ...opts.outbox },
    keepDatabase: opts.keepDatabase,
    config: opts.config,
    scheduler: opts.scheduler,
  });
  return {
    app,
    slack,
    events: `${app.url}/slack/events`,
    async stop() {
      await app.stop();
      if (!opts.slack) await slack.stop();
    },
  };
}

/** Polls until `check` returns a truthy value (or throws after `ms`). */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function waitFor<T>(check: () => T | Promise<T>, ms = 8_000, what = 'condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Truthy<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Top-level cards for a change key in a channel (there must never be more than one). */
export function cardsFor(slack: SlackStandin, channel: string, key: string): StoredMessage[] {
  return slack.messagesIn(channel).filter((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(`"${key} · `));
}

export async function waitForCard(slack: SlackStandin, channel: string, key: string): Promise<StoredMessage> {
  return waitFor(() => cardsFor(slack, channel, key)[0], 8_000, `card ${key} in ${channel}`);
}

interface Button {
  action_id: string;
  block_id: string;
  value: string;
  text: string;
}

/** The buttons a message shows, read from its blocks as Slack would render them. */
export function buttonsOf(message: { blocks?: unknown[] }): Button[] {
  const out: Button[] = [];
  for (const b of (message.blocks ?? []) as { type: string; block_id?: string; elements?: { type: string; action_id: string; value: string; text: { text: string } }[] }[]) {
    if (b.type !== 'actions') continue;
    for (const e of b.elements ?? []) if (e.type === 'button') out.push({ action_id: e.action_id, block_id: b.block_id!, value: e.value, text: e.text.text });
  }
  return out;
}

/** Presses a button on a stored message as `user`, the way Slack delivers it (signed block_actions). */
export async function press(h: SlackHarness, message: StoredMessage, label: string, user: string) {
  const button = buttonsOf(message).find((b) => b.text === label);
  expect(button, `button "${label}" on the card`).toBeTruthy();
  return h.slack.sendAction(h.events, { user_id: user, channel_id: message.channel, message_ts: message.ts, action: { action_id: button!.action_id, block_id: button!.block_id, value: button!.value } });
}

/** The text of every block of a message, joined: what a person reads. */
export function textOf(message: { text?: string; blocks?: unknown[] }): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string') parts.push(o.text);
      for (const [k, x] of Object.entries(o)) if (k !== 'text' || typeof x !== 'string') walk(x);
    }
  };
  walk(message.blocks ?? []);
  return parts.join('\n');
}

/** Delivers an Events API callback (e.g. app_home_opened) to the app, signed as Slack signs it. */
export async function sendEvent(h: SlackHarness, event: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify({ token: 'x', team_id: 'T0SANDBOX', api_app_id: 'A0SANDBOX', type: 'event_callback', event_id: `Ev${Date.now()}${Math.random().toString(36).slice(2, 8)}`, event_time: Math.floor(Date.now() / 1000), event });
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(h.events, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(h.slack.signingSecret, ts, body) }, body });
  await res.arrayBuffer();
  return res.status;
}
