import type { Config } from '../config/schema.ts';
import { parseDuration } from './duration.ts';
import type { ChangeStatus, RiskLevel } from './types.ts';

/** Escalation steps in order; a change only ever moves up this ladder. */
export const STEP = { none: 0, reminded: 1, escalated: 2, expired: 3 } as const;
/** A change's position on the escalation ladder (see `STEP`). */
export type EscalationStep = 0 | 1 | 2 | 3;

/** Business hours in local time; when fromMinutes > toMinutes the window crosses midnight and belongs to the day it starts on. */
export interface BusinessHours {
  /** Weekdays (0=Sunday..6) on which a window starts. */
  days: Set<number>;
  fromMinutes: number;
  toMinutes: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function dayIndex(name: string): number {
  const i = DAY_NAMES.indexOf(name.trim().toLowerCase() as (typeof DAY_NAMES)[number]);
  if (i < 0) throw new Error(`unknown day "${name}" (expected mon, tue, wed, thu, fri, sat or sun)`);
  return i;
}

function minutesOf(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`expected a time like 09:00, got "${hhmm}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Parses the config's business hours; day ranges wrap (`fri-mon`), lists combine (`mon,wed-fri`), `from === to` means all day. */
export function parseBusinessHours(cfg: { days: string; from: string; to: string } | undefined): BusinessHours | null {
  if (!cfg) return null;
  const days = new Set<number>();
  for (const part of cfg.days.split(',')) {
    const [a, b, ...rest] = part.split('-');
    if (rest.length > 0 || !a) throw new Error(`expected days like mon-fri or mon,wed,fri, got "${cfg.days}"`);
    const start = dayIndex(a);
    const end = b === undefined ? start : dayIndex(b);
    for (let d = start; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === end) break;
    }
  }
  return { days, fromMinutes: minutesOf(cfg.from), toMinutes: minutesOf(cfg.to) };
}

/** The escalation config resolved to milliseconds and parsed business hours. */
export interface EscalationTimings {
  remindAfterMs: number;
  escalateAfterMs: number;
  expireAfterMs: number;
  businessHours: BusinessHours | null;
  timezone: string;
}

function durationMs(key: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`escalation.${key}: expected a duration like 30m, got "${text}"`);
  return ms;
}

/** Resolves the `escalation` config section into timings; throws on a malformed duration. */
export function escalationTimings(cfg: Config['escalation']): EscalationTimings {
  return {
    remindAfterMs: durationMs('remind_after', cfg.remind_after),
    escalateAfterMs: durationMs('escalate_after', cfg.escalate_after),
    expireAfterMs: durationMs('expire_after', cfg.expire_after),
    businessHours: parseBusinessHours(cfg.business_hours),
    timezone: cfg.timezone,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localWeekdayAndMinutes(timezone: string, at: Date): { day: number; minutes: number } {
  let fmt = formatters.get(timezone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, fmt);
  }
  const parts = fmt.formatToParts(at);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAY_INDEX[get('weekday')];
  if (day === undefined) throw new Error(`could not read the weekday in ${timezone}`);
  return { day, minutes: (Number(get('hour')) % 24) * 60 + Number(get('minute')) };
}

/** True when `at` falls inside the business hours in `timezone` (DST-aware); no business hours means always. */
export function isBusinessTime(bh: BusinessHours | null, timezone: string, at: Date): boolean {
  if (!bh) return true;
  const { day, minutes } = localWeekdayAndMinutes(timezone, at);
  const { fromMinutes: from, toMinutes: to } = bh;
  if (from === to) return bh.days.has(day);
  if (from < to) return bh.days.has(day) && minutes >= from && minutes < to;
  // Across midnight: the evening part belongs to today, the early-morning part to yesterday's window.
  return (bh.days.has(day) && minutes >= from) || (bh.days.has((day + 6) % 7) && minutes < to);
}

/** The part of a change the escalation rules look at. */
export interface EscalationSubject {
  status: ChangeStatus;
  risk_level: RiskLevel;
  /** When the current review round started: the clock of every step. */
  round_started_at: Date;
  escalation_step: EscalationStep;
}

function thresholdMs(t: EscalationTimings, step: 1 | 2 | 3): number {
  return step === 1 ? t.remindAfterMs : step === 2 ? t.escalateAfterMs : t.expireAfterMs;
}

function highestPassed(t: EscalationTimings, ageMs: number): EscalationStep {
  if (ageMs >= t.expireAfterMs) return STEP.expired;
  if (ageMs >= t.escalateAfterMs) return STEP.escalated;
  if (ageMs >= t.remindAfterMs) return STEP.reminded;
  return STEP.none;
}

/** The single step to take now (only the highest due one), or null; non-critical reminders/escalations wait for business hours, expiry never does. */
export function dueStep(c: EscalationSubject, t: EscalationTimings, now: Date): EscalationStep | null {
  if (c.status !== 'pending') return null;
  const highest = highestPassed(t, now.getTime() - c.round_started_at.getTime());
  if (highest <= c.escalation_step) return null;
  if (highest === STEP.expired || c.risk_level === 'critical') return highest;
  return isBusinessTime(t.businessHours, t.timezone, now) ? highest : null;
}

/** When the step after the current one is due, ignoring business hours; null when expired or not pending. */
export function nextStepAt(c: EscalationSubject, t: EscalationTimings): { step: EscalationStep; at: Date } | null {
  if (c.status !== 'pending' || c.escalation_step >= STEP.expired) return null;
  const step = (c.escalation_step + 1) as 1 | 2 | 3;
  return { step, at: new Date(c.round_started_at.getTime() + thresholdMs(t, step)) };
}

/** round_started_at cutoffs per step: a change whose round started at or before the cutoff has passed that step's threshold. */
export function sweepThresholds(t: EscalationTimings, now: Date): { remindBefore: Date; escalateBefore: Date; expireBefore: Date } {
  const ms = now.getTime();
  return { remindBefore: new Date(ms - t.remindAfterMs), escalateBefore: new Date(ms - t.escalateAfterMs), expireBefore: new Date(ms - t.expireAfterMs) };
}

/** The claimer while the claim is younger than `claimTimeoutMs`, else null. */
export function activeClaim(c: { claimed_by: string | null; claimed_at: Date | null }, claimTimeoutMs: number, now: Date): string | null {
  if (!c.claimed_by || !c.claimed_at) return null;
  return now.getTime() - c.claimed_at.getTime() < claimTimeoutMs ? c.claimed_by : null;
}

/** Who a reminder mentions: only the active claimer, else eligible seniors who have not signed this round minus the author; sorted, unique. */
export function reminderTargets(input: { eligible: Iterable<string>; signed: Iterable<string>; author: string | null; claimer: string | null }): string[] {
  if (input.claimer) return [input.claimer];
  const skip = new Set(input.signed);
  if (input.author) skip.add(input.author);
  return [...new Set(input.eligible)].filter((id) => !skip.has(id)).sort();
}

/**
 * True when the retroactive review of a change deployed under break-glass is overdue and not yet
 * escalated: `approved_breakglass` for at least `reviewWithinMs` since the break-glass, below the
 * escalated step. Like other escalations below `critical`, it waits for business hours.
 */
export function breakGlassReviewDue(
  c: { status: ChangeStatus; risk_level: RiskLevel; breakglass_at: Date | null; escalation_step: EscalationStep },
  reviewWithinMs: number,
  t: EscalationTimings,
  now: Date,
): boolean {
  if (c.status !== 'approved_breakglass' || !c.breakglass_at || c.escalation_step >= STEP.escalated) return false;
  if (now.getTime() - c.breakglass_at.getTime() < reviewWithinMs) return false;
  return c.risk_level === 'critical' || isBusinessTime(t.businessHours, t.timezone, now);
}
