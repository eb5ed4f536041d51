import { CronExpressionParser } from 'cron-parser';

/**
 * Deploy freezes: while one is active for a change's environment (and one of its services), the
 * gate answers 403 `frozen`, except for a change opened under break-glass. Pure: times come from
 * the caller's clock; recurring freezes are computed with their cron in their time zone (DST-correct).
 */

export interface Freeze {
  name: string;
  reason: string;
  environments: string[];
  /** null: every service. */
  services: string[] | null;
  when: { kind: 'window'; from: Date; to: Date } | { kind: 'recurring'; cron: string; durationMs: number; timezone: string };
}

/** An occurrence of a freeze: it holds from `from` until `until` (exclusive). */
export interface FreezePeriod {
  name: string;
  reason: string;
  environments: string[];
  services: string[] | null;
  from: Date;
  until: Date;
}

/** Whether `expr` is a cron expression freezes can compute starts from (5 fields, or 6 with seconds). */
export function isFreezeCron(expr: string): boolean {
  try {
    CronExpressionParser.parse(expr, { strict: false });
    return expr.trim().split(/\s+/).length >= 5;
  } catch {
    return false;
  }
}

const period = (f: Freeze, from: Date, until: Date): FreezePeriod => ({ name: f.name, reason: f.reason, environments: f.environments, services: f.services, from, until });

/**
 * The occurrences of a freeze that overlap [from, to), oldest first, at most `limit` of them: the
 * soonest ones, or with `newest` the latest ones (walking back from `to`, so a cron that starts
 * every minute never makes a caller walk a week of starts to reach now).
 */
export function freezePeriods(f: Freeze, from: Date, to: Date, opts: { limit?: number; newest?: boolean } = {}): FreezePeriod[] {
  const limit = opts.limit ?? 500;
  if (f.when.kind === 'window') return f.when.from < to && f.when.to > from ? [period(f, f.when.from, f.when.to)] : [];
  const { cron, durationMs, timezone } = f.when;
  // A start up to one duration before `from` may still hold at `from`.
  const earliest = new Date(from.getTime() - durationMs);
  const out: FreezePeriod[] = [];
  if (opts.newest) {
    const it = CronExpressionParser.parse(cron, { currentDate: to, startDate: earliest, tz: timezone });
    while (out.length < limit && it.hasPrev()) {
      const start = it.prev().toDate();
      const until = new Date(start.getTime() + durationMs);
      if (until <= from) break;
      if (start < to) out.push(period(f, start, until));
    }
    return out.reverse();
  }
  const it = CronExpressionParser.parse(cron, { currentDate: new Date(earliest.getTime() - 1), endDate: to, tz: timezone });
  while (out.length < limit && it.hasNext()) {
    const start = it.next().toDate();
    if (start >= to) break;
    const until = new Date(start.getTime() + durationMs);
    if (until > from) out.push(period(f, start, until));
  }
  return out;
}

/** True when a freeze period covers this change's environment and at least one of its services. */
export const covers = (p: FreezePeriod, target: { environment: string; services: readonly string[] }): boolean =>
  p.environments.includes(target.environment.toLowerCase()) && (p.services === null || target.services.some((s) => p.services!.includes(s)));

/**
 * The freeze holding at `now` for a change's environment and services, or null. When several
 * hold, the one that ends last (a deploy may go only when none holds).
 */
export function activeFreeze(freezes: readonly Freeze[], target: { environment: string; services: readonly string[] }, now: Date): FreezePeriod | null {
  let found: FreezePeriod | null = null;
  for (const f of freezes) {
    // The latest start at or before now ends last: if it does not hold now, no earlier one does.
    for (const p of freezePeriods(f, now, new Date(now.getTime() + 1), { limit: 1, newest: true })) {
      if (p.from <= now && now < p.until && covers(p, target) && (!found || p.until > found.until)) found = p;
    }
  }
  return found;
}

/** Freezes active at `now` or starting within `horizonMs`, soonest first (for GET /api/freezes and /change freezes). */
export function freezesAround(freezes: readonly Freeze[], now: Date, horizonMs: number): (FreezePeriod & { active: boolean })[] {
  const to = new Date(now.getTime() + horizonMs);
  return freezes
    .flatMap((f) => freezePeriods(f, now, to, { limit: 50 }))
    .map((p) => ({ ...p, active: p.from <= now && now < p.until }))
    .sort((a, b) => a.from.getTime() - b.from.getTime() || a.name.localeCompare(b.name));
}
