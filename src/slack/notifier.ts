import type { Config } from '../config/schema.ts';
import type { Tx } from '../db/client.ts';
import { enqueue, permalinkOf, permalinksOf } from '../db/repositories/outbox.ts';
import { cardRef, outboxMessage, type OutboxMessage } from '../delivery/messages.ts';
import type { CardLocation, SlackMessage } from './views/change-card.ts';
import type { Change } from '../domain/change.ts';
import type { ChangeNotifier } from '../use-cases/ports.ts';
import { buildDigest, escalationMessage, reminderText } from './views/escalation.ts';
import { authorDecisionDm, signOffThreadReply } from './views/notices.ts';
import { freezeNotice } from './views/freezes.ts';
import { breakGlassAlert, breakGlassThreadReply, revisionThreadReply } from './views/break-glass.ts';

/** The channel a change's card goes to: its team's senior channel, else the approvals channel. */
export function cardChannel(config: Config, change: Pick<Change, 'team'>): string {
  return config.resolved.cardChannel(change.team);
}

export const cardPost = (config: Config, change: Change): OutboxMessage => outboxMessage('card_post', cardRef(change), cardChannel(config, change), { change_id: change.id });

export const cardUpdate = (config: Config, change: Change): OutboxMessage => outboxMessage('card_update', cardRef(change), cardChannel(config, change), { change_id: change.id });

export const threadReply = (config: Config, change: Pick<Change, 'id' | 'team'>, text: string): OutboxMessage =>
  outboxMessage('thread_reply', cardRef(change), cardChannel(config, change), { ref: cardRef(change), text });

export const directMessage = (user: string, text: string): OutboxMessage => outboxMessage('dm', `dm:${user}`, user, { user, text });

/** A message posted as rendered to a channel, in order with the channel's other such posts. */
export const channelMessage = (channel: string, message: SlackMessage, groupKey = `chan:${channel}`): OutboxMessage =>
  outboxMessage('message', groupKey, channel, { text: message.text, blocks: message.blocks });

/** A DM to the author: by Slack id, or by email (resolved with users.lookupByEmail at delivery). */
export function authorMessage(author: Change['author'], text: string): OutboxMessage | null {
  if (author.slack_id) return directMessage(author.slack_id, text);
  if (author.email) return outboxMessage('dm', `dm:${author.email}`, `email:${author.email}`, { email: author.email, text });
  return null;
}

/** Where a change's card is, for links: its channel, and its permalink once the card is posted. */
export async function cardLocation(tx: Tx, config: Config, change: Pick<Change, 'id' | 'team'>): Promise<CardLocation> {
  return { channel: cardChannel(config, change), permalink: await permalinkOf(tx, cardRef(change)) };
}

/** A change that needed sign-off has (or will have) a card; one approved on arrival has none. */
const hasCard = (change: Change) => change.approvals_required > 0;

/**
 * Turns state changes into Slack writes, enqueued in the same transaction as the change.
 * Cards are rendered at delivery from the current state, so rows carry ids, not blocks.
 */
export function slackNotifier(config: Config): ChangeNotifier {
  return {
    registrationRows(change) {
      // A pull request still being read gets its card once it is read (and only if it needs one).
      return change.status === 'pending' && !change.awaiting_read ? [{ kind: 'card_post', groupPrefix: 'card', channel: cardChannel(config, change) }] : [];
    },
    async signOffRecorded(tx, change, signOff) {
      await enqueue(tx, [cardUpdate(config, change), threadReply(config, change, signOffThreadReply(change, signOff))]);
    },
    async statusChanged(tx, change, _from, actor, reason) {
      const out: OutboxMessage[] = [];
      if (hasCard(change)) out.push(cardUpdate(config, change));
      const dm = authorDecisionDm(change, actor, reason ?? null);
      const toAuthor = dm ? authorMessage(change.author, dm) : null;
      if (toAuthor) out.push(toAuthor);
      await enqueue(tx, out);
    },
    async escalated(tx, change, step, info) {
      if (step === 1) {
        await enqueue(tx, [threadReply(config, change, reminderText(change, info))]);
        return;
      }
      const team = config.resolved.team(change.team);
      const message = escalationMessage(change, info, { card: await cardLocation(tx, config, change), contacts: team?.escalation_contacts ?? [], usergroup: team?.escalation_usergroup });
      await enqueue(tx, [channelMessage(config.slack.escalation_channel, message)]);
    },
    async claimChanged(tx, change) {
      await enqueue(tx, [cardUpdate(config, change)]);
    },
    async digest(tx, channel, items) {
      const links = await permalinksOf(tx, items.map((i) => cardRef(i.change)));
      await enqueue(tx, [channelMessage(channel, buildDigest(items.map((i) => ({ ...i, permalink: links.get(cardRef(i.change)) ?? null }))))]);
    },
    async changeRevised(tx, change, before, revision) {
      const out: OutboxMessage[] = [];
      const waiting = change.status === 'pending' || change.status === 'approved_breakglass';
      // A change that now needs sign-off gets its card if it has none yet (approved on arrival, or just
      // read from GitHub); posting is a no-op when the card exists, and the update shows the new state.
      if (hasCard(change) && waiting && !change.awaiting_read) out.push(cardPost(config, change));
      if (hasCard(before) || out.length) out.push(cardUpdate(config, change));
      if (out.length) out.push(threadReply(config, change, revisionThreadReply(change, revision)));
      await enqueue(tx, out);
    },
    async breakGlassUsed(tx, change) {
      await enqueue(tx, [
        channelMessage(config.slack.escalation_channel, breakGlassAlert(change, { text: config.break_glass.review_within, ms: config.resolved.breakGlassReviewMs }, await cardLocation(tx, config, change))),
        cardUpdate(config, change),
        threadReply(config, change, breakGlassThreadReply(change)),
      ]);
    },
    async freezeBoundary(tx, boundary, freeze, covered) {
      const notice = freezeNotice(boundary, freeze, covered.length);
      // One message per boundary (its ref makes it an owned message, posted once even if enqueued twice).
      const ref = `freeze-${boundary}:${freeze.name}@${freeze.from.toISOString()}`;
      await enqueue(tx, [
        outboxMessage('message', `chan:${config.slack.escalation_channel}`, config.slack.escalation_channel, { text: notice.text, blocks: notice.blocks, ref }),
        ...covered.filter(hasCard).map((c) => cardUpdate(config, c)),
      ]);
    },
  };
}
