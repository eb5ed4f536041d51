import { cleanText } from '../guard.ts';
import type { App } from '@slack/bolt';
import { listChanges } from '../../use-cases/list-changes.ts';
import { findChangeByKey } from '../../use-cases/get-change.ts';
import { gateContext } from '../../use-cases/check-gate.ts';
import { buildChangeCard } from '../views/change-card.ts';
import { buildChangeHelp, buildPendingList } from '../views/change-list.ts';
import type { SlackMessage } from '../views/change-card.ts';
import type { ListenerContext } from './context.ts';
import { pendingDigest, postDigest } from '../../use-cases/post-digest.ts';
import { buildDigest } from '../views/escalation.ts';
import type { Change } from '../../domain/change.ts';
import { setAway } from '../../use-cases/set-away.ts';
import { cardChannel } from '../notifier.ts';
import { parseStatsDays, reportStats } from '../../use-cases/report-stats.ts';
import { buildStatsReport } from '../views/stats.ts';
import { buildFreezeList } from '../views/freezes.ts';
import { listFreezes } from '../../use-cases/watch-freezes.ts';
import { breakGlass } from '../../use-cases/break-glass.ts';
import { refusalText } from '../views/notices.ts';

/** `/change …`: answered in the ack itself, as an ephemeral message. */
export function registerCommands(app: App, ctx: ListenerContext): void {
  app.command('/change', async ({ command, ack, logger }) => {
    try {
      const reply = await changeCommand(ctx, cleanText(command.text ?? ''), command.channel_id, command.user_id);
      await ack({ response_type: 'ephemeral', text: reply.text, ...(reply.blocks.length > 0 && { blocks: reply.blocks }) });
    } catch (err) {
      logger.error(err);
      await ack({ response_type: 'ephemeral', text: 'Sorry, that did not work. Please try again in a moment.' });
    }
  });
}

/** A senior channel's (or the approvals channel's) own eligible seniors may post its digest for everyone. */
async function maySeePublicDigest(ctx: ListenerContext, channel: string, user: string): Promise<boolean> {
  const { config } = ctx.deps;
  const teams = config.teams.filter((t) => cardChannel(config, { team: t.name }) === channel);
  for (const t of teams) if ((await ctx.deps.reviewers.eligibleFor(t.name)).has(user)) return true;
  return false;
}

/** Parses and answers `/change` text. */
export async function changeCommand(ctx: ListenerContext, text: string, channel = '', user = ''): Promise<SlackMessage> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? 'help').toLowerCase();
  if (verb === 'help') return buildChangeHelp();
  if (verb === 'list' && words.length === 1) {
    const pending = await listChanges(ctx.deps, { status: 'pending', limit: 200, oldestFirst: true });
    const teams = [...new Set(pending.map((c) => c.team))];
    const eligible = new Map(await Promise.all(teams.map(async (t) => [t, await ctx.deps.reviewers.eligibleFor(t)] as const)));
    return buildPendingList(pending, ctx.deps.clock.now(), eligible);
  }
  if (verb === 'away' && words.length === 2 && ['on', 'off'].includes(words[1].toLowerCase())) {
    const on = words[1].toLowerCase() === 'on';
    await setAway(ctx.deps, user, on);
    return { text: on ? 'You are marked away: new reviews are assigned to others (you can still sign off).' : 'Welcome back: you can be assigned reviews again.', blocks: [] };
  }
  if (verb === 'digest' && words.length === 1) {
    const channelOf = (c: Change) => cardChannel(ctx.deps.config, c);
    // Public only where cards live, asked by a senior who signs off there; elsewhere only the asker sees it.
    if (await maySeePublicDigest(ctx, channel, user)) {
      const posted = await postDigest(ctx.deps, channelOf, { to: channel });
      if (posted === 0) return { text: ':tada: Nothing is waiting for sign-off here, so there is no digest to post.', blocks: [] };
      ctx.nudge();
      return { text: 'Posting the digest here.', blocks: [] };
    }
    const items = [...(await pendingDigest(ctx.deps, channelOf)).values()].flat().sort((a, b) => b.ageMs - a.ageMs);
    if (items.length === 0) return { text: ':tada: Nothing is waiting for sign-off.', blocks: [] };
    const digest = buildDigest(items);
    return { text: digest.text, blocks: [...digest.blocks, { type: 'context', elements: [{ type: 'mrkdwn', text: 'Only you can see this. A senior can post the digest in a senior or approvals channel.' }] }] };
  }
  if (verb === 'stats' && words.length <= 2) {
    const days = parseStatsDays(words[1]);
    if (days !== null) return buildStatsReport(await reportStats(ctx.deps, { days }));
  }
  if (verb === 'freezes' && words.length === 1) return buildFreezeList(listFreezes(ctx.deps));
  if (verb === 'breakglass' && words.length >= 2 && /^CHG-\d+$/i.test(words[1])) {
    // `/change breakglass CHG-12 <reason>`: the reason is the rest of the text, as typed.
    const reason = text.trim().replace(/^\S+\s+\S+\s*/, '');
    const result = await breakGlass(ctx.deps, { key: words[1].toUpperCase(), by: user, reason });
    if (!result.ok) return { text: refusalText(result), blocks: [] };
    ctx.nudge();
    return { text: `:rotating_light: ${result.change.key}'s gate is open under break-glass. The escalation channel was told; ${result.change.team} seniors must still sign it off within ${ctx.deps.config.break_glass.review_within}.`, blocks: [] };
  }
  if (/^CHG-\d+$/i.test(verb) && words.length === 1) {
    const change = await findChangeByKey(ctx.deps, verb.toUpperCase());
    if (!change) return { text: `There is no change ${verb.toUpperCase()}.`, blocks: [] };
    return buildChangeCard(change, { areas: ctx.deps.config.review.areas, gate: gateContext(ctx.deps, change) });
  }
  return buildChangeHelp(text.trim());
}
