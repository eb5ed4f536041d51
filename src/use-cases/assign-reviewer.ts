import { awayReviewers, reviewerLoads } from '../db/repositories/assignments.ts';
import { pickAssignee, type ReviewerLoad } from '../domain/assignment.ts';
import type { AuthorRef } from '../domain/types.ts';
import type { Deps } from './ports.ts';
import { startOfLocalDay } from '../domain/local-time.ts';
import { authorship } from '../domain/authors.ts';

/** How long a replica reuses the reviewer loads it read (assignment is a fairness heuristic, not a lock). */
const LOAD_TTL_MS = 2_000;
const loadCache = new WeakMap<Deps, Map<string, { until: number; day: number; loads: Map<string, ReviewerLoad>; away: Set<string> }>>();

/**
 * With `review.assignment: least_loaded`, the one senior asked first for a new change: fewest open
 * assigned reviews, least recently assigned, skipping the author, the away and the capped.
 * Loads are read from the database at most every 2 s per team and kept current locally in between,
 * so intake does not pay two extra queries per change under load.
 */
export async function chooseReviewer(deps: Deps, team: string, author: AuthorRef): Promise<string | null> {
  const review = deps.config.review;
  if (review.assignment !== 'least_loaded') return null;
  // Never assign the author under another of their identities (no Slack lookups at intake).
  const eligible = [...(await deps.reviewers.eligibleFor(team))].filter((u) => authorship(u, author, deps.config.engineers, null) !== 'author');
  const now = deps.clock.now();
  const dayStart = startOfLocalDay(now, deps.config.escalation.timezone);
  let perTeam = loadCache.get(deps);
  if (!perTeam) loadCache.set(deps, (perTeam = new Map()));
  let cached = perTeam.get(team);
  if (!cached || cached.until < Date.now() || cached.day !== dayStart.getTime()) {
    // Two independent reads, issued together.
    const [awayNow, loads] = await Promise.all([awayReviewers(deps.database.db), reviewerLoads(deps.database.db, eligible, dayStart)]);
    cached = { until: Date.now() + LOAD_TTL_MS, day: dayStart.getTime(), loads, away: awayNow };
    perTeam.set(team, cached);
  }
  const away = new Set([...review.away, ...cached.away]);
  const chosen = pickAssignee({ eligible, author: author.slack_id ?? null, away, loads: cached.loads, maxPerDay: review.max_assigned_per_day });
  if (chosen) {
    const l = cached.loads.get(chosen) ?? { user: chosen, open: 0, today: 0, lastAssignedAt: null };
    cached.loads.set(chosen, { ...l, open: l.open + 1, today: l.today + 1, lastAssignedAt: now });
  }
  return chosen;
}

/** Forgets cached loads (after `/change away`, so the change shows at once). */
export function forgetReviewerLoads(deps: Deps): void {
  loadCache.delete(deps);
}
