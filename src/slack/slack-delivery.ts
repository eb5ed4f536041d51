import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/client.ts';
import { findMessage, hasLaterOfKind, rememberMessage } from '../db/repositories/outbox.ts';
import type { OutboxRow } from '../db/schema.ts';
import { refOf, type OwnedRef, type ParsedFor } from '../delivery/messages.ts';
import type { SlackMessage } from './views/change-card.ts';

/**
 * Delivers one parsed outbox row to Slack. Owned messages (cards, broadcasts) are rendered from
 * current state and posted once, then edited in place; every top-level post carries message
 * metadata naming its outbox row, so an attempt whose outcome is unknown is looked up
 * (`conversations.history`) instead of posted twice.
 */

export const MESSAGE_EVENT_TYPE = 'countersign_message';

/** A Slack error that retrying cannot fix: the row is given up (`dead`). */
export class PermanentError extends Error {}

export interface DeliveryContext {
  database: Database;
  client: WebClient;
  logger: Logger;
  render(ref: OwnedRef): Promise<{ channel: string; message: SlackMessage } | null>;
  /** Waits for the channel's next posting slot (shared by every replica). */
  pace(channel: string): Promise<void>;
  /** Marks the row delivered, with `extra` writes in the same transaction. */
  finish(extra?: (tx: Tx) => Promise<void>): Promise<void>;
  /** Says a later edit of the same message superseded this one. */
  superseded(): void;
}

/** Slack's error code of a Web API failure, if it is one. */
export const slackError = (err: unknown): string | undefined => (err as { code?: string; data?: { error?: string } }).code === 'slack_webapi_platform_error' ? (err as { data: { error?: string } }).data.error : undefined;

/** Delivers one row of a Slack kind; the switch covers every Slack kind (the compiler checks it). */
export async function deliverToSlack(ctx: DeliveryContext, row: OutboxRow, m: ParsedFor<'slack'>): Promise<void> {
  switch (m.kind) {
    case 'card_post':
      return postOwned(ctx, row, { kind: 'card', id: m.payload.change_id });
    case 'incident_post':
      return postOwned(ctx, row, { kind: 'incident', id: m.payload.incident_id });
    case 'card_update':
      return updateOwned(ctx, row, { kind: 'card', id: m.payload.change_id });
    case 'incident_update':
      return updateOwned(ctx, row, { kind: 'incident', id: m.payload.incident_id });
    case 'thread_reply': {
      const msg = await findMessage(ctx.database.db, m.payload.ref);
      if (!msg) return ctx.finish();
      await ctx.pace(row.channel);
      await post(ctx, { channel: msg.channel, thread_ts: msg.ts, text: m.payload.text, unfurl_links: false });
      return ctx.finish();
    }
    case 'dm': {
      // An author known only by email is found with users.lookupByEmail; nobody by that email: nothing to send.
      let user = m.payload.user;
      if (!user && m.payload.email) {
        const found = await ctx.client.users.lookupByEmail({ email: m.payload.email }).catch((err: unknown) => {
          if (slackError(err) === 'users_not_found') return null;
          throw err;
        });
        if (!found?.user?.id) {
          ctx.logger.info({ outbox_id: row.id }, 'outbox: no Slack user has that email; the DM is dropped');
          return ctx.finish();
        }
        user = found.user.id;
      }
      const open = await ctx.client.conversations.open({ users: user! });
      await ctx.pace(row.channel);
      await ctx.client.chat.postMessage({ channel: open.channel!.id!, text: m.payload.text, unfurl_links: false });
      return ctx.finish();
    }
    case 'message': {
      const { text, blocks, ref } = m.payload;
      if (ref && (await findMessage(ctx.database.db, ref))) return ctx.finish();
      const ts = (row.inDoubt && (await findPosted(ctx, row.channel, row.id))) || (await postPaced(ctx, row, { channel: row.channel, text, blocks }));
      return ctx.finish(ref ? (tx) => rememberMessage(tx, ref, row.channel, ts) : undefined);
    }
    default: {
      // Unreachable for a parsed Slack row; fail closed (dead, nothing sent) rather than report it delivered.
      const unknown: never = m;
      throw new PermanentError(`no Slack delivery for ${(unknown as { kind: string }).kind}`);
    }
  }
}

/** Posts a message rendered from current state, once: a ts remembered by an earlier attempt means it is already there. */
async function postOwned(ctx: DeliveryContext, row: OutboxRow, owned: OwnedRef): Promise<void> {
  const ref = refOf(owned);
  if (await findMessage(ctx.database.db, ref)) return ctx.finish();
  const r = await ctx.render(owned);
  if (!r) return ctx.finish();
  const ts = (row.inDoubt && (await findPosted(ctx, r.channel, row.id))) || (await postPaced(ctx, row, { channel: r.channel, text: r.message.text, blocks: r.message.blocks, unfurl_media: false }));
  const permalink = await permalinkFor(ctx, r.channel, ts);
  return ctx.finish((tx) => rememberMessage(tx, ref, r.channel, ts, permalink));
}

/**
 * Edits a posted message to show current state; skipped when a later edit of it is already queued.
 * A message someone deleted (`message_not_found`) is posted again, and its new ts recorded.
 */
async function updateOwned(ctx: DeliveryContext, row: OutboxRow, owned: OwnedRef): Promise<void> {
  if (await hasLaterOfKind(ctx.database.db, row)) {
    ctx.superseded();
    return ctx.finish();
  }
  const ref = refOf(owned);
  const msg = await findMessage(ctx.database.db, ref);
  const r = msg && (await ctx.render(owned));
  if (!msg || !r) return ctx.finish();
  try {
    await ctx.client.chat.update({ channel: msg.channel, ts: msg.ts, text: r.message.text, blocks: r.message.blocks });
    return ctx.finish();
  } catch (err) {
    if (slackError(err) !== 'message_not_found') throw err;
    ctx.logger.warn({ outbox_id: row.id, ref }, 'outbox: the message was deleted in Slack; posting it again');
    const ts = await postPaced(ctx, row, { channel: r.channel, text: r.message.text, blocks: r.message.blocks, unfurl_media: false });
    const permalink = await permalinkFor(ctx, r.channel, ts);
    return ctx.finish((tx) => rememberMessage(tx, ref, r.channel, ts, permalink));
  }
}

type PostArgs = { channel: string; text: string; blocks?: SlackMessage['blocks']; thread_ts?: string; unfurl_links?: boolean; unfurl_media?: boolean };

/** A top-level post, paced, tagged with the outbox row it delivers; returns its ts. */
async function postPaced(ctx: DeliveryContext, row: OutboxRow, args: PostArgs): Promise<string> {
  await ctx.pace(row.channel);
  const res = await post(ctx, { unfurl_links: false, ...args, metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { outbox_id: row.id } } });
  return res.ts!;
}

/**
 * chat.postMessage; when the bot is not in a public channel, it joins once and posts again. Still
 * not in (or a private channel it cannot join): a permanent error.
 */
async function post(ctx: DeliveryContext, args: PostArgs & { metadata?: { event_type: string; event_payload: Record<string, string | number> } }): Promise<{ ts?: string }> {
  try {
    return await ctx.client.chat.postMessage(args);
  } catch (err) {
    if (slackError(err) !== 'not_in_channel') throw err;
    if (!args.channel.startsWith('C')) throw new PermanentError('not_in_channel (a private channel: invite the app)');
    try {
      await ctx.client.conversations.join({ channel: args.channel });
    } catch (joinErr) {
      throw new PermanentError(`not_in_channel, and joining failed: ${slackError(joinErr) ?? (joinErr as Error).message}`);
    }
    ctx.logger.info({ channel: args.channel }, 'outbox: joined the channel to post in it');
    try {
      return await ctx.client.chat.postMessage(args);
    } catch (again) {
      if (slackError(again) === 'not_in_channel') throw new PermanentError('not_in_channel after joining');
      throw again;
    }
  }
}

/**
 * Looks for a message a previous attempt of this row may have posted (its metadata names the row),
 * in the channel's last hour. A failed lookup answers null: posting twice beats never posting.
 */
async function findPosted(ctx: DeliveryContext, channel: string, outboxId: number): Promise<string | null> {
  let cursor: string | undefined;
  const oldest = String(Math.floor(Date.now() / 1000) - 3600);
  try {
    for (let page = 0; page < 10; page++) {
      const res = await ctx.client.conversations.history({ channel, oldest, limit: 200, include_all_metadata: true, cursor });
      const hit = res.messages?.find((msg) => msg.metadata?.event_type === MESSAGE_EVENT_TYPE && Number((msg.metadata.event_payload as { outbox_id?: unknown })?.outbox_id) === outboxId);
      if (hit?.ts) {
        ctx.logger.info({ outbox_id: outboxId, channel }, 'outbox: an earlier attempt had posted; recorded instead of posting again');
        return hit.ts;
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return null;
    }
  } catch (err) {
    ctx.logger.warn({ outbox_id: outboxId, error: slackError(err) ?? (err as Error).message }, 'outbox: could not look for an earlier post; posting');
  }
  return null;
}

/** The message's permalink (for links in escalations, digests and broadcasts); null when Slack does not give one. */
async function permalinkFor(ctx: DeliveryContext, channel: string, ts: string): Promise<string | null> {
  try {
    return (await ctx.client.chat.getPermalink({ channel, message_ts: ts })).permalink ?? null;
  } catch {
    return null;
  }
}
