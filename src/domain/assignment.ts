/** Load-aware reviewer assignment: pure decisions from the current load. */

export interface ReviewerLoad {
  user: string;
  /** Pending changes currently assigned to them. */
  open: number;
  /** How many were assigned to them today (in the escalation timezone). */
  today: number;
  /** When they were last assigned anything (null: never). */
  lastAssignedAt: Date | null;
}

/**
 * The senior to ask first: among the eligible (not the author, not away), the one with the fewest
 * open assigned reviews, ties broken by who was assigned least recently (never first). People at
 * the daily cap are skipped unless everyone is at the cap. Null when nobody is eligible.
 */
export function pickAssignee(input: { eligible: Iterable<string>; author: string | null; away: ReadonlySet<string>; loads: ReadonlyMap<string, ReviewerLoad>; maxPerDay: number }): string | null {
  const candidates = [...new Set(input.eligible)].filter((u) => u !== input.author && !input.away.has(u)).sort();
  if (candidates.length === 0) return null;
  const load = (u: string): ReviewerLoad => input.loads.get(u) ?? { user: u, open: 0, today: 0, lastAssignedAt: null };
  const underCap = candidates.filter((u) => load(u).today < input.maxPerDay);
  const pool = underCap.length > 0 ? underCap : candidates;
  return pool.reduce((best, u) => {
    const a = load(u);
    const b = load(best);
    if (a.open !== b.open) return a.open < b.open ? u : best;
    const at = a.lastAssignedAt?.getTime() ?? -Infinity;
    const bt = b.lastAssignedAt?.getTime() ?? -Infinity;
    return at < bt ? u : best;
  });
}
