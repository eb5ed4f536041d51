/** Pure helpers for the stats report. Empty inputs give null rather than NaN. */

/** The median of `xs` (mean of the two middle values for an even count), or null when empty. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The nearest-rank percentile: the smallest value such that at least `p`% of `xs` are at or
 * below it (rank ⌈p/100 × n⌉, at least 1). `p` is 0–100; null when `xs` is empty.
 */
export function percentile(xs: number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

/**
 * Change failure rate: the share of deployed changes confirmed as the cause of an incident,
 * 0–1 rounded to 3 decimals (capped at 1). Null when nothing was deployed.
 */
export function changeFailureRate(deployedChanges: number, confirmedCauses: number): number | null {
  if (deployedChanges <= 0) return null;
  const rate = Math.min(1, Math.max(0, confirmedCauses) / deployedChanges);
  return Math.round(rate * 1000) / 1000;
}

/** Mean time to resolve, in whole milliseconds, over the resolved incidents; null when none is resolved. */
export function mttrMs(incidents: { started_at: Date; resolved_at: Date | null }[]): number | null {
  let total = 0;
  let n = 0;
  for (const i of incidents) {
    if (!i.resolved_at) continue;
    total += i.resolved_at.getTime() - i.started_at.getTime();
    n++;
  }
  return n === 0 ? null : Math.round(total / n);
}
