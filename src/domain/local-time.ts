/** Wall-clock time in an IANA time zone, computed with Intl (no tz database of our own). */

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(at: number, timeZone: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year, m: p.month, d: p.day, h: p.hour, min: p.minute, s: p.second };
}

/** The zone's offset from UTC at an instant, in ms (e.g. +3,600,000 for Europe/Berlin in winter). */
function offsetMs(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant the local day of `now` began in `timeZone`. Correct on daylight-saving days: the
 * offset is taken at midnight itself, not at `now` (which may be an hour off after the switch).
 */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  // Intake asks for today's start on every request: the last day seen per zone answers without Intl.
  const at = now.getTime();
  const last = lastDay.get(timeZone);
  if (last && last.start <= at && at < last.end) return new Date(last.start);
  const start = computeStartOfLocalDay(at, timeZone);
  // 36 h after a local midnight is always within the next local day (days last 23 to 25 h).
  lastDay.set(timeZone, { start: start.getTime(), end: computeStartOfLocalDay(start.getTime() + 36 * 3_600_000, timeZone).getTime() });
  return start;
}

const lastDay = new Map<string, { start: number; end: number }>();

function computeStartOfLocalDay(at: number, timeZone: string): Date {
  const w = wallClock(at, timeZone);
  const midnightAsUtc = Date.UTC(w.y, w.m - 1, w.d);
  // Two rounds settle the offset that applies at local midnight.
  let t = midnightAsUtc - offsetMs(midnightAsUtc, timeZone);
  t = midnightAsUtc - offsetMs(t, timeZone);
  return new Date(t);
}
