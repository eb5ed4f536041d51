import type { App } from '@slack/bolt';
import { listChanges } from '../../use-cases/list-changes.ts';
import { findChangeByKey } from '../../use-cases/get-change.ts';
import { buildChangeCard } from '../views/change-card.ts';
import { buildChangeHelp, buildPendingList } from '../views/change-list.ts';
import type { SlackMessage } from '../views/change-card.ts';
import type { ListenerContext } from './context.ts';
import { postDigest } from '../../use-cases/post-digest.ts';
import { cardChannel } from '../notifier.ts';
import { parseStatsDays, reportStats } from '../../use-cases/report-stats.ts';
import { buildStatsReport } from '../views/stats.ts';

/** `/change …`: answered in the ack itself, as an ephemeral message. */
export function registerCommands(app: App, ctx: ListenerContext): void {
  app.command('/change', async ({ command, ack, logger }) => {
    try {
      const reply = await changeCommand(ctx, command.text ?? '', command.channel_id);
      await ack({ response_type: 'ephemeral', text: reply.text, ...(reply.blocks.length > 0 && { blocks: reply.blocks }) });
    } catch (err) {
      logger.error(err);
      await ack({ response_type: 'ephemeral', text: 'Sorry, that did not work. Please try again in a moment.' });
    }
  });
}

/** Parses and answers `/change` text. */
export async function changeCommand(ctx: ListenerContext, text: string, channel = ''): Promise<SlackMessage> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? 'help').toLowerCase();
  if (verb === 'help') return buildChangeHelp();
  if (verb === 'list' && words.length === 1) {
    const pending = await listChanges(ctx.deps, { status: 'pending', limit: 200, oldestFirst: true });
    const teams = [...new Set(pending.map((c) => c.team))];
    const eligible = new Map(await Promise.all(teams.map(async (t) => [t, await ctx.deps.reviewers.eligibleFor(t)] as const)));
    return buildPendingList(pending, ctx.deps.clock.now(), eligible);
  }
  if (verb === 'digest' && words.length === 1) {
    const posted = await postDigest(ctx.deps, (c) => cardChannel(ctx.deps.config, c), { to: channel });
    if (posted === 0) return { text: ':tada: Nothing is waiting for sign-off, so there is no digest to post.', blocks: [] };
    ctx.nudge();
    return { text: 'Posting the digest here.', blocks: [] };
  }
  if (verb === 'stats' && words.length <= 2) {
    const days = parseStatsDays(words[1]);
    if (days !== null) return buildStatsReport(await reportStats(ctx.deps, { days }));
  }
  if (/^CHG-\d+$/i.test(verb) && words.length === 1) {
    const change = await findChangeByKey(ctx.deps, verb.toUpperCase());
    if (!change) return { text: `There is no change ${verb.toUpperCase()}.`, blocks: [] };
    return buildChangeCard(change);
  }
  return buildChangeHelp(text.trim());
}
