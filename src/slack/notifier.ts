import type { Config } from '../config/schema.ts';
import { enqueue, type OutboxMessage } from '../db/repositories/outbox.ts';
import type { Change } from '../domain/change.ts';
import type { ChangeNotifier } from '../use-cases/ports.ts';
import { buildDigest, escalationMessage, reminderText } from './views/escalation.ts';
import { authorDecisionDm, signOffThreadReply } from './views/notices.ts';
import { breakGlassAlert, breakGlassThreadReply, revisionThreadReply } from './views/break-glass.ts';

/** Outbox kinds; the sender knows how to deliver each. */
export const OutboxKind = {
  cardPost: 'card_post',
  cardUpdate: 'card_update',
  threadReply: 'thread_reply',
  dm: 'dm',
  message: 'message',
  incidentPost: 'incident_post',
  incidentUpdate: 'incident_update',
} as const;

export const cardRef = (change: Pick<Change, 'id'>) => `card:${change.id}`;

/** The channel a change's card goes to: its team's senior channel, else the approvals channel. */
export function cardChannel(config: Config, change: Pick<Change, 'team'>): string {
  return config.teams.find((t) => t.name === change.team)?.channel ?? config.slack.approvals_channel;
}

export const cardUpdate = (config: Config, change: Change): OutboxMessage => ({
  kind: OutboxKind.cardUpdate,
  groupKey: cardRef(change),
  channel: cardChannel(config, change),
  payload: { change_id: change.id },
});

export const threadReply = (config: Config, change: Pick<Change, 'id' | 'team'>, text: string): OutboxMessage => ({
  kind: OutboxKind.threadReply,
  groupKey: cardRef(change),
  channel: cardChannel(config, change),
  payload: { ref: cardRef(change), text },
});

export const directMessage = (user: string, text: string): OutboxMessage => ({ kind: OutboxKind.dm, groupKey: `dm:${user}`, channel: user, payload: { user, text } });

/** A DM to the author: by Slack id, or by email (resolved with users.lookupByEmail at delivery). */
export function authorMessage(author: Change['author'], text: string): OutboxMessage | null {
  if (author.slack_id) return directMessage(author.slack_id, text);
  if (author.email) return { kind: OutboxKind.dm, groupKey: `dm:${author.email}`, channel: `email:${author.email}`, payload: { email: author.email, text } };
  return null;
}

/** A change that needed sign-off has (or will have) a card; one approved on arrival has none. */
const hasCard = (change: Change) => change.approvals_required > 0;

/**
 * Turns state changes into Slack writes, enqueued in the same transaction as the change.
 * Cards are rendered at delivery from the current state, so rows carry ids, not blocks.
 */
export function slackNotifier(config: Config): ChangeNotifier {
  return {
    registrationMessages(change) {
      if (change.status !== 'pending') return [];
      return [{ kind: OutboxKind.cardPost, groupKey: cardRef(change), channel: cardChannel(config, change), payload: { change_id: change.id } }];
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
      const team = config.teams.find((t) => t.name === change.team);
      const message = escalationMessage(change, info, { cardChannel: cardChannel(config, change), contacts: team?.escalation_contacts ?? [], usergroup: team?.escalation_usergroup });
      const channel = config.slack.escalation_channel;
      await enqueue(tx, [{ kind: OutboxKind.message, groupKey: `chan:${channel}`, channel, payload: { ...message } }]);
    },
    async claimChanged(tx, change) {
      await enqueue(tx, [cardUpdate(config, change)]);
    },
    async digest(tx, channel, items) {
      await enqueue(tx, [{ kind: OutboxKind.message, groupKey: `chan:${channel}`, channel, payload: { ...buildDigest(items) } }]);
    },
    async changeRevised(tx, change, before, revision) {
      const out: OutboxMessage[] = [];
      if (hasCard(before)) out.push(cardUpdate(config, change));
      // Approved on arrival (no card) and now in need of sign-off: its card is posted now.
      else if (hasCard(change) && (change.status === 'pending' || change.status === 'approved_breakglass')) {
        out.push({ kind: OutboxKind.cardPost, groupKey: cardRef(change), channel: cardChannel(config, change), payload: { change_id: change.id } });
      }
      if (out.length) out.push(threadReply(config, change, revisionThreadReply(change, revision)));
      await enqueue(tx, out);
    },
    async breakGlassUsed(tx, change) {
      const channel = config.slack.escalation_channel;
      await enqueue(tx, [
        { kind: OutboxKind.message, groupKey: `chan:${channel}`, channel, payload: { ...breakGlassAlert(change, config.break_glass.review_within, cardChannel(config, change)) } },
        cardUpdate(config, change),
        threadReply(config, change, breakGlassThreadReply(change)),
      ]);
    },
  };
}
