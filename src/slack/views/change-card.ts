import type { KnownBlock } from '@slack/types';
import { authorLabel } from '../../domain/authors.ts';
import type { Change } from '../../domain/change.ts';
import { countApprovals } from '../../domain/sign-off.ts';
import type { RiskLevel } from '../../domain/types.ts';
import { ActionId, BlockId, type ChangeButtonValue } from '../ids.ts';
import { buildReviewBrief, describeBlastRadius, type AreaPattern } from '../../domain/review-brief.ts';
import { fitMrkdwn, formatTime, link, mention, safeText, slackTime, truncate } from '../mrkdwn.ts';
import type { FreezePeriod } from '../../domain/freezes.ts';
import type { GateContext } from '../../domain/status.ts';

export const RISK_EMOJI: Record<RiskLevel, string> = { low: ':large_green_circle:', medium: ':large_yellow_circle:', high: ':large_orange_circle:', critical: ':red_circle:' };
const STATUS_LINE: Record<Change['status'], string> = {
  pending: ':hourglass_flowing_sand: Waiting for sign-off',
  approved: ':white_check_mark: Approved',
  approved_breakglass: ':rotating_light: Approved under break-glass',
  rejected: ':x: Rejected',
  expired: ':alarm_clock: Expired without sign-off',
  cancelled: ':no_entry_sign: Cancelled by the submitter',
};

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Where a change's card lives: its channel, and its permalink once posted (null before, or when Slack gave none). */
export interface CardLocation {
  channel: string;
  permalink: string | null;
}

/** "The card is in #channel", with the card itself linked when its permalink is known. */
export function cardPlace(card: CardLocation): string {
  return card.permalink ? `${link(card.permalink, 'The card')} is in <#${card.channel}>` : `The card is in <#${card.channel}>`;
}

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: fitMrkdwn(text, 3000) } });
const context = (texts: string[]): KnownBlock => ({ type: 'context', elements: texts.slice(0, 10).map((t) => ({ type: 'mrkdwn', text: fitMrkdwn(t, 3000) })) });

/** The author as a mention when we know their Slack id, else their escaped name. */
export function authorRef(change: Change): string {
  return change.author.slack_id ? mention(change.author.slack_id) : safeText(authorLabel(change.author), 100);
}

/** "1 of 2 sign-offs: @alice" for the current review round. */
export function progressLine(change: Change): string {
  const approvers = change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => mention(s.reviewer));
  const n = countApprovals(change.sign_offs, change.round);
  return `${n} of ${change.approvals_required} sign-off${change.approvals_required === 1 ? '' : 's'}${approvers.length ? `: ${approvers.join(', ')}` : ''}`;
}

/** Notification text of a card (the top-level `text`), escaped like everything else. */
export function cardText(change: Change): string {
  const what =
    change.status === 'pending'
      ? 'needs senior sign-off'
      : change.status === 'approved_breakglass' && change.breakglass
        ? 'was deployed under break-glass and needs retroactive sign-off'
        : STATUS_LINE[change.status].replace(/^:[a-z_]+: /, '').toLowerCase();
  return `${change.key} ${safeText(change.title, 300)} ${what}`;
}

/**
 * The approval card, rendered only from the change's current state: the first post and every later
 * update use this one builder, so the card can never drift from the database.
 */
export function buildChangeCard(change: Change, opts: { showButtons?: boolean; areas?: AreaPattern[]; gate?: GateContext } = {}): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (opts.gate?.shadow) blocks.push(context([`:test_tube: *${SHADOW_LINE}*: everything else happens as it will when enforced`]));
  blocks.push({ type: 'header', text: { type: 'plain_text', text: truncate(`${change.key} · ${change.title}`, 150), emoji: false } });

  const services = change.services.map((s) => safeText(s, 100)).join(', ');
  blocks.push({
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Author*\n${authorRef(change)} (${change.author.level})` },
      { type: 'mrkdwn', text: `*Service${change.services.length > 1 ? 's' : ''}*\n${fitMrkdwn(services, 1900)}` },
      { type: 'mrkdwn', text: `*Environment*\n${safeText(change.environment, 100)}` },
      { type: 'mrkdwn', text: `*Risk*\n${RISK_EMOJI[change.risk.level]} ${change.risk.level}` },
      ...(change.blast_radius.length > 1
        ? [{ type: 'mrkdwn' as const, text: `*Blast radius*\n${change.blast_radius.length} services: ${safeText(describeBlastRadius(change.blast_radius), 1800)}` }]
        : []),
    ],
  });

  if (change.risk.reasons.length) {
    const reasons = change.risk.reasons.map((r) => `• *${safeText(r.rule, 100)}*: ${safeText(r.facts.join('; '), 600)}`);
    blocks.push(section(`*Why it needs review*\n${reasons.join('\n')}`));
  }

  const brief = reviewBriefBlock(change, opts.areas);
  if (brief) blocks.push(brief);

  const facts: string[] = [];
  if (change.ai.assisted) {
    const bits = [':robot_face: *AI-assisted*'];
    if (change.ai.tool) bits.push(safeText(change.ai.tool, 60));
    if (change.ai.share !== null) bits.push(`${Math.round(change.ai.share * 100)}% AI-generated`);
    facts.push(bits.join(' · '));
  }
  if (change.diff) facts.push(`:page_facing_up: +${change.diff.additions} −${change.diff.deletions} in ${change.diff.files_changed} file${change.diff.files_changed === 1 ? '' : 's'}`);
  if (change.url) facts.push(`:link: ${link(change.url, 'View change')}`);
  if (facts.length) blocks.push(context(facts));

  if (change.infra) {
    const i = change.infra;
    let text = `:building_construction: *Terraform:* ${i.creates} to create, ${i.updates} to update, ${i.destroys} to destroy`;
    if (i.destroys) {
      const shown = i.destroyed.slice(0, 5).map((d) => `\`${safeText(d.address, 200)}\` (${d.action})`);
      text += `\n${shown.join(', ')}${i.destroys > shown.length ? `, +${i.destroys - shown.length} more` : ''}`;
    }
    blocks.push(section(text));
  }

  if (change.description) blocks.push(section(`>${safeText(change.description, 600).replace(/\n/g, '\n>')}`));

  blocks.push({ type: 'divider' });
  const freeze = opts.gate?.freeze;
  if (freeze && (change.status === 'pending' || change.status === 'approved')) blocks.push(context([freezeLine(freeze)]));
  blocks.push(...statusBlocks(change, opts.showButtons ?? true));
  return { text: cardText(change), blocks: blocks.slice(0, 50) };
}

/** The first line of every card of a team in shadow mode (pinned). */
export const SHADOW_LINE = 'Shadow mode: not blocking deploys yet';

/** "Freeze: black-friday until 2026-11-28 00:00:00 UTC" (pinned start), with its reason. */
export function freezeLine(f: FreezePeriod): string {
  return `:snowflake: *Freeze: ${safeText(f.name, 60)} until ${slackTime(f.until)}*: ${safeText(f.reason, 300)}. Deploys wait until it ends (break-glass is the audited way through).`;
}

/** Why a pending change needs sign-off again, when it does: new commits after a sign-off, or a risk that rose after one. */
function reviewAgainLine(change: Change): string | null {
  const earlier = change.sign_offs.some((s) => s.round < change.round);
  if (earlier) return `:arrows_counterclockwise: New commits since sign-off: re-approval needed${change.head_sha ? ` (now at \`${safeText(change.head_sha.slice(0, 7), 7)}\`)` : ''}`;
  if (change.approvals_required > 0 && countApprovals(change.sign_offs, change.round) >= change.approvals_required) {
    return ':arrow_up: Its risk rose after sign-off: one more sign-off is needed';
  }
  return null;
}

/** "Deployed under break-glass by @x: reason". */
export function breakGlassLine(change: Change): string {
  const bg = change.breakglass;
  return `:rotating_light: Deployed under break-glass by ${mention(bg?.by)}: ${safeText(bg?.reason ?? '', 1000)}`;
}

function statusBlocks(change: Change, showButtons: boolean): KnownBlock[] {
  if (change.status === 'pending') {
    const claim = change.claimed_by
      ? ` · :eyes: ${mention(change.claimed_by)} is reviewing`
      : change.assigned_to
        ? ` · :bust_in_silhouette: asked ${mention(change.assigned_to)} first`
        : '';
    const again = reviewAgainLine(change);
    const out: KnownBlock[] = [section(`${again ? `${again}\n` : ''}${STATUS_LINE.pending} · ${progressLine(change)}${claim}`)];
    if (showButtons) out.push(cardActions(change));
    return out;
  }
  if (change.status === 'approved_breakglass' && change.breakglass) {
    // The gate is open, but normal sign-offs are still due: the buttons stay for the retroactive review.
    const out: KnownBlock[] = [section(`${breakGlassLine(change)}; needs retroactive sign-off\n${progressLine(change)}`)];
    if (showButtons) out.push(cardActions(change));
    return out;
  }
  const current = change.sign_offs.filter((s) => s.round === change.round);
  const when = change.decided_at ? ` at ${formatTime(change.decided_at)}` : '';
  let line = STATUS_LINE[change.status];
  if (change.status === 'approved') {
    const by = current.filter((s) => s.decision === 'approved').map((s) => mention(s.reviewer));
    line += by.length ? ` by ${by.join(', ')}${when}` : ` on arrival: its risk needs no sign-off${when}`;
  } else if (change.status === 'rejected') {
    const r = current.find((s) => s.decision === 'rejected');
    line += `${r ? ` by ${mention(r.reviewer)}` : ''}${when}`;
    if (r?.reason) line += `\n>${safeText(r.reason, 1500).replace(/\n/g, '\n>')}`;
  } else {
    line += when;
  }
  if (change.breakglass && (change.status === 'approved' || change.status === 'rejected')) {
    line += `\n${breakGlassLine(change)} (${formatTime(change.breakglass.at)}); this was its retroactive review`;
  }
  return [section(line)];
}

/** The buttons of a change that takes sign-offs: Approve, Reject, and (pending only) Claim review or Release claim. Shared by the card and the App Home. */
export function cardActions(change: Change): KnownBlock {
  const value = JSON.stringify({ key: change.key, round: change.round } satisfies ChangeButtonValue);
  return {
    type: 'actions',
    block_id: BlockId.cardActions,
    elements: [
      { type: 'button', action_id: ActionId.approve, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value },
      { type: 'button', action_id: ActionId.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value },
      // Claiming is for pending changes; a break-glass change only takes its retroactive sign-offs.
      ...(change.status !== 'pending'
        ? []
        : change.claimed_by
          ? [{ type: 'button' as const, action_id: ActionId.release, text: { type: 'plain_text' as const, text: 'Release claim' }, value }]
          : [{ type: 'button' as const, action_id: ActionId.claim, text: { type: 'plain_text' as const, text: 'Claim review' }, value }]),
    ],
  };
}

/** The review brief: changed files by area (riskiest first) and one-line flags, essentials first. */
function reviewBriefBlock(change: Change, areas?: AreaPattern[]): KnownBlock | null {
  const brief = buildReviewBrief({ diff: change.diff, ai: change.ai, infra: change.infra }, areas);
  if (brief.areas.length === 0 && brief.flags.length === 0) return null;
  const lines: string[] = [];
  if (brief.flags.length) lines.push(brief.flags.map((f) => `:warning: ${safeText(f, 300)}`).join('\n'));
  if (brief.areas.length) {
    const shown = brief.areas.slice(0, 6).map((a) => `${safeText(a.name, 60)} ${a.count}`);
    lines.push(`*Files by area:* ${shown.join(' · ')}${brief.areas.length > 6 ? `, +${brief.areas.length - 6} more` : ''}`);
  }
  return section(`*Review brief*\n${lines.join('\n')}`);
}
