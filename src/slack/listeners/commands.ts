import type { App } from '@slack/bolt';
import { listChanges } from '../../use-cases/list-changes.ts';
import { findChangeByKey } from '../../use-cases/get-change.ts';
import { buildChangeCard } from '../views/change-card.ts';
import { buildChangeHelp, buildPendingList } from '../views/change-list.ts';
import type { SlackMessage } from '../views/change-card.ts';
import type { ListenerContext } from './context.ts';

/** `/change …`: answered in the ack itself, as an ephemeral message. */
export function registerCommands(app: App, ctx: ListenerContext): void {
  app.command('/change', async ({ command, ack, logger }) => {
    try {
      const reply = await changeCommand(ctx, command.text ?? '');
      await ack({ response_type: 'ephemeral', ...reply });
    } catch (err) {
      logger.error(err);
      await ack({ response_type: 'ephemeral', text: 'Sorry, that did not work. Please try again in a moment.' });
    }
  });
}

/** Parses and answers `/change` text. */
export async function changeCommand(ctx: ListenerContext, text: string): Promise<SlackMessage> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? 'help').toLowerCase();
  if (verb === 'help') return buildChangeHelp();
  if (verb === 'list' && words.length === 1) {
    const pending = await listChanges(ctx.deps, { status: 'pending', limit: 200, oldestFirst: true });
    const teams = [...new Set(pending.map((c) => c.team))];
    const eligible = new Map(await Promise.all(teams.map(async (t) => [t, await ctx.deps.reviewers.eligibleFor(t)] as const)));
    return buildPendingList(pending, ctx.deps.clock.now(), eligible);
  }
  if (/^CHG-\d+$/i.test(verb) && words.length === 1) {
    const change = await findChangeByKey(ctx.deps, verb.toUpperCase());
    if (!change) return { text: `There is no change ${verb.toUpperCase()}.`, blocks: [] };
    return buildChangeCard(change);
  }
  return buildChangeHelp(text.trim());
}
