import { awayReviewers, reviewerLoads } from '../db/repositories/assignments.ts';
import { pickAssignee } from '../domain/assignment.ts';
import type { AuthorRef } from '../domain/types.ts';
import type { Deps } from './ports.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Start of the current day in the escalation timezone, as an instant. */
export function startOfDay(now: Date, timeZone: string): Date {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  const sinceMidnight = (Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)) * 1000 + now.getMilliseconds();
  return new Date(now.getTime() - sinceMidnight);
}

/**
 * With `review.assignment: least_loaded`, the one senior asked first for a new change: fewest open
 * assigned reviews, least recently assigned, skipping the author, the away and the capped.
 */
export async function chooseReviewer(deps: Deps, team: string, author: AuthorRef): Promise<string | null> {
  const review = deps.config.review;
  if (review.assignment !== 'least_loaded') return null;
  const eligible = [...(await deps.reviewers.eligibleFor(team))];
  const now = deps.clock.now();
  // Two independent reads, issued together.
  const [awayNow, loads] = await Promise.all([awayReviewers(deps.database.db), reviewerLoads(deps.database.db, eligible, startOfDay(now, deps.config.escalation.timezone))]);
  const away = new Set([...review.away, ...awayNow]);
  return pickAssignee({ eligible, author: author.slack_id ?? null, away, loads, maxPerDay: review.max_assigned_per_day });
}
