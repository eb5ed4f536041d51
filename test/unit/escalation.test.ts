import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  STEP,
  activeClaim,
  dueStep,
  escalationTimings,
  isBusinessTime,
  nextStepAt,
  parseBusinessHours,
  reminderTargets,
  sweepThresholds,
  type BusinessHours,
  type EscalationStep,
  type EscalationSubject,
  type EscalationTimings,
} from '../../src/domain/escalation.ts';
import { CHANGE_STATUSES, RISK_LEVELS } from '../../src/domain/types.ts';
import type { Config } from '../../src/config/schema.ts';
import { buildConfig } from '../factories/config.ts';

const MIN = 60_000;
const H = 60 * MIN;
const MON_FRI_9_18 = parseBusinessHours({ days: 'mon-fri', from: '09:00', to: '18:00' })!;
const NIGHT_SHIFT = parseBusinessHours({ days: 'mon-fri', from: '22:00', to: '06:00' })!;

function timings(over: Partial<EscalationTimings> = {}): EscalationTimings {
  return { remindAfterMs: 30 * MIN, escalateAfterMs: 2 * H, expireAfterMs: 72 * H, businessHours: null, timezone: 'UTC', ...over };
}
const officeHours = (timezone = 'UTC'): EscalationTimings => timings({ businessHours: MON_FRI_9_18, timezone });

/** Monday 2026-03-02 08:00 UTC. */
const CREATED = new Date('2026-03-02T08:00:00Z');
function subject(over: Partial<EscalationSubject> = {}): EscalationSubject {
  return { status: 'pending', risk_level: 'low', round_started_at: CREATED, escalation_step: STEP.none, ...over };
}
const after = (ms: number, from: Date = CREATED): Date => new Date(from.getTime() + ms);
const utc = (iso: string): Date => new Date(iso);
const days = (bh: BusinessHours): number[] => [...bh.days].sort((a, b) => a - b);

describe('escalationTimings', () => {
  it('when the config uses the defaults, then the timings are 30m / 2h / 72h in UTC without business hours', () => {
    const t = escalationTimings(buildConfig().escalation);
    expect(t).toEqual({ remindAfterMs: 30 * MIN, escalateAfterMs: 2 * H, expireAfterMs: 72 * H, businessHours: null, timezone: 'UTC' });
  });

  it('when the config sets durations, a timezone and business hours, then all are resolved', () => {
    const cfg = buildConfig({ escalation: { remind_after: '45s', escalate_after: '3h', expire_after: '5d', timezone: 'Europe/Berlin', business_hours: { days: 'mon-fri', from: '08:30', to: '17:00' } } });
    const t = escalationTimings(cfg.escalation);
    expect(t).toMatchObject({ remindAfterMs: 45_000, escalateAfterMs: 3 * H, expireAfterMs: 5 * 24 * H, timezone: 'Europe/Berlin' });
    expect(days(t.businessHours!)).toEqual([1, 2, 3, 4, 5]);
    expect(t.businessHours).toMatchObject({ fromMinutes: 8 * 60 + 30, toMinutes: 17 * 60 });
  });

  it('when a duration is malformed (bypassing the schema), then it throws naming the key', () => {
    const bad = { ...buildConfig().escalation, escalate_after: 'soon' } as Config['escalation'];
    expect(() => escalationTimings(bad)).toThrow(/escalate_after/);
  });
});

describe('parseBusinessHours', () => {
  it('when there are no business hours, then it returns null', () => {
    expect(parseBusinessHours(undefined)).toBeNull();
  });

  it('when the days are mon-fri 09:00–18:00, then Monday..Friday and the minutes are parsed', () => {
    expect(days(MON_FRI_9_18)).toEqual([1, 2, 3, 4, 5]);
    expect(MON_FRI_9_18).toMatchObject({ fromMinutes: 540, toMinutes: 1080 });
  });

  it('when a range wraps (fri-mon), then it covers fri, sat, sun and mon', () => {
    expect(days(parseBusinessHours({ days: 'fri-mon', from: '09:00', to: '18:00' })!)).toEqual([0, 1, 5, 6]);
  });

  it('when the range is sat-sun, then it covers the weekend only', () => {
    expect(days(parseBusinessHours({ days: 'sat-sun', from: '09:00', to: '18:00' })!)).toEqual([0, 6]);
  });

  it('when days are a list (mon,wed,fri), then exactly those days are covered', () => {
    expect(days(parseBusinessHours({ days: 'mon,wed,fri', from: '09:00', to: '18:00' })!)).toEqual([1, 3, 5]);
  });

  it('when a list mixes days and ranges (sun,tue-thu), then their union is covered', () => {
    expect(days(parseBusinessHours({ days: 'sun,tue-thu', from: '09:00', to: '18:00' })!)).toEqual([0, 2, 3, 4]);
  });

  it('when a range starts and ends on the same day (mon-mon), then only that day is covered', () => {
    expect(days(parseBusinessHours({ days: 'mon-mon', from: '09:00', to: '18:00' })!)).toEqual([1]);
  });

  it('when from equals to, then business days are business time all day and other days are not', () => {
    const allDay = parseBusinessHours({ days: 'mon-fri', from: '00:00', to: '00:00' })!;
    expect(isBusinessTime(allDay, 'UTC', utc('2026-03-02T00:00:00Z'))).toBe(true);
    expect(isBusinessTime(allDay, 'UTC', utc('2026-03-02T23:59:00Z'))).toBe(true);
    expect(isBusinessTime(allDay, 'UTC', utc('2026-03-07T12:00:00Z'))).toBe(false);
  });

  it('when a day name is unknown, then it throws', () => {
    expect(() => parseBusinessHours({ days: 'mon-fry', from: '09:00', to: '18:00' })).toThrow(/fry/);
  });
});

describe('isBusinessTime', () => {
  it('when there are no business hours, then any moment is business time', () => {
    expect(isBusinessTime(null, 'UTC', utc('2026-03-08T03:00:00Z'))).toBe(true);
  });

  it('when mon-fri 09:00–18:00 in UTC, then 09:00 is in, 18:00 is out and the edges are exact', () => {
    const at = (hhmm: string) => isBusinessTime(MON_FRI_9_18, 'UTC', utc(`2026-03-02T${hhmm}:00Z`));
    expect([at('08:59'), at('09:00'), at('12:00'), at('17:59'), at('18:00'), at('23:00')]).toEqual([false, true, true, true, false, false]);
  });

  it('when it is the weekend, then it is not business time in UTC, Berlin or New York', () => {
    for (const iso of ['2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z', '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z']) {
      for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York']) expect(isBusinessTime(MON_FRI_9_18, tz, utc(iso))).toBe(false);
    }
  });

  it('when in Europe/Berlin before the DST switch (CET, UTC+1), then 09:00–18:00 local is 08:00–17:00 UTC', () => {
    const at = (iso: string) => isBusinessTime(MON_FRI_9_18, 'Europe/Berlin', utc(iso));
    expect([at('2026-03-27T07:59:00Z'), at('2026-03-27T08:00:00Z'), at('2026-03-27T16:59:00Z'), at('2026-03-27T17:00:00Z')]).toEqual([false, true, true, false]);
  });

  it('when in Europe/Berlin after the DST switch of 2026-03-29 (CEST, UTC+2), then 09:00–18:00 local is 07:00–16:00 UTC', () => {
    const at = (iso: string) => isBusinessTime(MON_FRI_9_18, 'Europe/Berlin', utc(iso));
    expect([at('2026-03-30T06:59:00Z'), at('2026-03-30T07:00:00Z'), at('2026-03-30T15:59:00Z'), at('2026-03-30T16:00:00Z')]).toEqual([false, true, true, false]);
  });

  it('when the Berlin clock jumps from 02:00 to 03:00 on 2026-03-29, then 01:00 UTC is already 03:00 local and outside a Sunday 01:00–03:00 window', () => {
    const sunday = parseBusinessHours({ days: 'sun', from: '01:00', to: '03:00' })!;
    const at = (iso: string) => isBusinessTime(sunday, 'Europe/Berlin', utc(iso));
    expect([at('2026-03-28T23:59:00Z'), at('2026-03-29T00:00:00Z'), at('2026-03-29T00:59:00Z'), at('2026-03-29T01:00:00Z')]).toEqual([false, true, true, false]);
  });

  it('when in Europe/Berlin on the autumn switch of 2026-10-25, then 09:00 local moves back to 08:00 UTC', () => {
    const everyDay = parseBusinessHours({ days: 'mon-sun', from: '09:00', to: '18:00' })!;
    const at = (iso: string) => isBusinessTime(everyDay, 'Europe/Berlin', utc(iso));
    expect([at('2026-10-24T06:59:00Z'), at('2026-10-24T07:00:00Z'), at('2026-10-25T07:59:00Z'), at('2026-10-25T08:00:00Z')]).toEqual([false, true, false, true]);
  });

  it('when in America/New_York around its DST switch (2026-03-08), then 09:00 local is 14:00 UTC before and 13:00 UTC after', () => {
    const at = (iso: string) => isBusinessTime(MON_FRI_9_18, 'America/New_York', utc(iso));
    expect([at('2026-03-06T13:59:00Z'), at('2026-03-06T14:00:00Z'), at('2026-03-06T22:59:00Z'), at('2026-03-06T23:00:00Z')]).toEqual([false, true, true, false]);
    expect([at('2026-03-09T12:59:00Z'), at('2026-03-09T13:00:00Z'), at('2026-03-09T21:59:00Z'), at('2026-03-09T22:00:00Z')]).toEqual([false, true, true, false]);
  });

  it('when it is Monday in UTC but still Sunday in New York, then the weekday is taken from the time zone', () => {
    const allDay = parseBusinessHours({ days: 'mon-fri', from: '00:00', to: '00:00' })!;
    expect(isBusinessTime(allDay, 'UTC', utc('2026-03-09T02:00:00Z'))).toBe(true);
    expect(isBusinessTime(allDay, 'America/New_York', utc('2026-03-09T02:00:00Z'))).toBe(false);
  });

  it('when the window crosses midnight (22:00–06:00 mon-fri), then Saturday early morning belongs to Friday night', () => {
    const at = (iso: string) => isBusinessTime(NIGHT_SHIFT, 'UTC', utc(iso));
    expect(at('2026-03-06T21:59:00Z')).toBe(false); // Fri before the window
    expect(at('2026-03-06T22:00:00Z')).toBe(true); // Fri night
    expect(at('2026-03-07T03:00:00Z')).toBe(true); // Sat early morning, Friday's window
    expect(at('2026-03-07T05:59:00Z')).toBe(true);
    expect(at('2026-03-07T06:00:00Z')).toBe(false);
    expect(at('2026-03-07T22:00:00Z')).toBe(false); // Sat night: Saturday is not a business day
    expect(at('2026-03-08T23:00:00Z')).toBe(false); // Sun night
    expect(at('2026-03-09T03:00:00Z')).toBe(false); // Mon early morning belongs to Sunday's (absent) window
    expect(at('2026-03-09T12:00:00Z')).toBe(false); // Mon midday
    expect(at('2026-03-09T22:00:00Z')).toBe(true); // Mon night
    expect(at('2026-03-10T05:59:00Z')).toBe(true); // Tue early morning, Monday's window
  });

  it('when a midnight-crossing window is in Europe/Berlin, then Saturday 03:00 local after a Friday night is in', () => {
    expect(isBusinessTime(NIGHT_SHIFT, 'Europe/Berlin', utc('2026-03-07T02:00:00Z'))).toBe(true); // Sat 03:00 CET
    expect(isBusinessTime(NIGHT_SHIFT, 'Europe/Berlin', utc('2026-03-07T05:00:00Z'))).toBe(false); // Sat 06:00 CET
  });
});

describe('dueStep thresholds', () => {
  const t = timings();
  const cases: Array<[string, number, EscalationStep, EscalationStep | null]> = [
    ['just before remind_after', 30 * MIN - 1, 0, null],
    ['exactly at remind_after', 30 * MIN, 0, STEP.reminded],
    ['between reminder and escalation', H, 0, STEP.reminded],
    ['just before escalate_after (already reminded)', 2 * H - 1, 1, null],
    ['exactly at escalate_after (already reminded)', 2 * H, 1, STEP.escalated],
    ['just before expire_after (already escalated)', 72 * H - 1, 2, null],
    ['exactly at expire_after (already escalated)', 72 * H, 2, STEP.expired],
  ];
  for (const [label, age, step, expected] of cases) {
    it(`when the age is ${label} at step ${step}, then dueStep is ${expected}`, () => {
      expect(dueStep(subject({ escalation_step: step }), t, after(age))).toBe(expected);
    });
  }

  it('when the round started in the future (clock skew), then nothing is due', () => {
    expect(dueStep(subject(), t, after(-H))).toBeNull();
  });
});

describe('dueStep for non-pending changes', () => {
  const nonPending = CHANGE_STATUSES.filter((s) => s !== 'pending');
  it('when listing the non-pending statuses, then they are approved, approved_breakglass, rejected, expired and cancelled', () => {
    expect([...nonPending].sort()).toEqual(['approved', 'approved_breakglass', 'cancelled', 'expired', 'rejected']);
  });
  for (const status of nonPending) {
    it(`when the change is ${status}, then no step is ever due, even critical and long past expiry`, () => {
      for (const ageH of [1, 3, 100]) expect(dueStep(subject({ status, risk_level: 'critical' }), timings(), after(ageH * H))).toBeNull();
      expect(nextStepAt(subject({ status }), timings())).toBeNull();
    });
  }
});

describe('dueStep when already at a step', () => {
  const t = timings();
  it('when already reminded and only the reminder threshold passed, then nothing fires again', () => {
    expect(dueStep(subject({ escalation_step: STEP.reminded }), t, after(H))).toBeNull();
  });
  it('when already escalated, then neither a reminder nor the escalation fires again', () => {
    expect(dueStep(subject({ escalation_step: STEP.escalated }), t, after(H))).toBeNull();
    expect(dueStep(subject({ escalation_step: STEP.escalated }), t, after(3 * H))).toBeNull();
  });
  it('when already expired, then nothing fires', () => {
    expect(dueStep(subject({ escalation_step: STEP.expired }), t, after(500 * H))).toBeNull();
  });
  it('when reminded and the expiry passed too, then expired fires', () => {
    expect(dueStep(subject({ escalation_step: STEP.reminded }), t, after(80 * H))).toBe(STEP.expired);
  });
});

describe('dueStep after downtime', () => {
  it('when reminder, escalation and expiry are all due, then only expired fires', () => {
    expect(dueStep(subject(), timings(), after(100 * H))).toBe(STEP.expired);
  });
  it('when reminder and escalation are both due, then escalated fires without a reminder', () => {
    expect(dueStep(subject(), timings(), after(5 * H))).toBe(STEP.escalated);
  });
  it('when a sweep applies each due step, then exactly one step fires and repeated sweeps fire nothing more', () => {
    const c = subject();
    const fired: EscalationStep[] = [];
    for (let i = 0; i < 5; i++) {
      const s = dueStep(c, officeHours(), after(100 * H));
      if (s === null) continue;
      fired.push(s);
      c.escalation_step = s;
    }
    expect(fired).toEqual([STEP.expired]);
  });
});

describe('dueStep and business hours', () => {
  // Friday 2026-03-06 17:50 UTC: the reminder falls due at 18:20, just after closing.
  const friday = utc('2026-03-06T17:50:00Z');
  it('when a low-risk reminder falls due after hours, then it waits', () => {
    expect(dueStep(subject({ round_started_at: friday }), officeHours(), after(30 * MIN, friday))).toBeNull();
  });
  it('when a weekend passes before business hours, then Monday 09:00 fires the highest due step (escalated), not a reminder', () => {
    expect(dueStep(subject({ round_started_at: friday }), officeHours(), utc('2026-03-09T08:59:00Z'))).toBeNull();
    expect(dueStep(subject({ round_started_at: friday }), officeHours(), utc('2026-03-09T09:00:00Z'))).toBe(STEP.escalated);
  });
  it('when the highest due step is escalated and it is after hours, then it returns null rather than a reminder', () => {
    expect(dueStep(subject({ round_started_at: friday }), officeHours(), utc('2026-03-07T12:00:00Z'))).toBeNull();
  });
  it('when risk is low, medium or high, then reminders and escalations wait for business hours', () => {
    for (const risk_level of ['low', 'medium', 'high'] as const) {
      expect(dueStep(subject({ round_started_at: friday, risk_level }), officeHours(), after(30 * MIN, friday))).toBeNull();
      expect(dueStep(subject({ round_started_at: friday, risk_level }), officeHours(), after(3 * H, friday))).toBeNull();
    }
  });
  it('when risk is critical, then reminders and escalations go at once outside business hours', () => {
    const c = subject({ round_started_at: friday, risk_level: 'critical' });
    expect(dueStep(c, officeHours(), after(30 * MIN, friday))).toBe(STEP.reminded);
    expect(dueStep(c, officeHours(), after(3 * H, friday))).toBe(STEP.escalated);
  });
  it('when expiry falls due outside business hours, then it is never delayed', () => {
    // Created Wed 2026-03-04 02:00 UTC: expires Sat 2026-03-07 02:00 UTC.
    const wed = utc('2026-03-04T02:00:00Z');
    expect(dueStep(subject({ round_started_at: wed, escalation_step: STEP.escalated }), officeHours(), after(72 * H, wed))).toBe(STEP.expired);
    expect(dueStep(subject({ round_started_at: wed }), officeHours('America/New_York'), after(72 * H, wed))).toBe(STEP.expired);
  });
  it('when a step falls due inside business hours, then it fires', () => {
    expect(dueStep(subject(), officeHours(), after(2 * H))).toBe(STEP.escalated); // Mon 10:00 UTC
    expect(dueStep(subject(), officeHours(), after(H))).toBe(STEP.reminded); // Mon 09:00 UTC
  });
  it('when business hours are in Europe/Berlin across the DST switch, then the reminder waits until 09:00 local (07:00 UTC)', () => {
    const sun = utc('2026-03-29T20:00:00Z');
    const c = subject({ round_started_at: sun });
    expect(dueStep(c, officeHours('Europe/Berlin'), utc('2026-03-30T06:59:00Z'))).toBeNull();
    expect(dueStep(c, officeHours('Europe/Berlin'), utc('2026-03-30T07:00:00Z'))).toBe(STEP.escalated);
  });
  it('when the window crosses midnight, then a reminder due Saturday 03:00 after a Friday night fires', () => {
    const satEarly = utc('2026-03-07T02:30:00Z'); // Sat 02:30, inside Friday night's window
    const t = timings({ businessHours: NIGHT_SHIFT });
    expect(dueStep(subject({ round_started_at: satEarly }), t, after(30 * MIN, satEarly))).toBe(STEP.reminded);
    expect(dueStep(subject({ round_started_at: satEarly }), t, after(4 * H, satEarly))).toBeNull(); // Sat 06:30
  });
});

describe('nextStepAt', () => {
  const t = timings();
  it('when nothing has happened yet, then the reminder is next at created_at + remind_after', () => {
    expect(nextStepAt(subject(), t)).toEqual({ step: STEP.reminded, at: after(30 * MIN) });
  });
  it('when reminded, then the escalation is next at created_at + escalate_after', () => {
    expect(nextStepAt(subject({ escalation_step: STEP.reminded }), t)).toEqual({ step: STEP.escalated, at: after(2 * H) });
  });
  it('when escalated, then the expiry is next at created_at + expire_after', () => {
    expect(nextStepAt(subject({ escalation_step: STEP.escalated }), t)).toEqual({ step: STEP.expired, at: after(72 * H) });
  });
  it('when already expired, then there is no next step', () => {
    expect(nextStepAt(subject({ escalation_step: STEP.expired }), t)).toBeNull();
  });
  it('when business hours are set, then nextStepAt ignores them', () => {
    const sat = utc('2026-03-07T12:00:00Z');
    expect(nextStepAt(subject({ round_started_at: sat }), officeHours())).toEqual({ step: STEP.reminded, at: after(30 * MIN, sat) });
  });
});

describe('sweepThresholds', () => {
  const t = timings();
  const now = utc('2026-03-10T12:00:00Z');
  it('when computed, then each cutoff is now minus its threshold', () => {
    expect(sweepThresholds(t, now)).toEqual({ remindBefore: after(-30 * MIN, now), escalateBefore: after(-2 * H, now), expireBefore: after(-72 * H, now) });
  });
  it('when created_at equals a cutoff, then that step is due; one millisecond later it is not', () => {
    const cut = sweepThresholds(t, now);
    expect(dueStep(subject({ round_started_at: cut.remindBefore }), t, now)).toBe(STEP.reminded);
    expect(dueStep(subject({ round_started_at: after(1, cut.remindBefore) }), t, now)).toBeNull();
    expect(dueStep(subject({ round_started_at: cut.expireBefore }), t, now)).toBe(STEP.expired);
    expect(dueStep(subject({ round_started_at: after(1, cut.expireBefore) }), t, now)).toBe(STEP.escalated);
  });

  const base = Date.parse('2026-01-01T00:00:00Z');
  const arbCase = fc.record({
    created: fc.integer({ min: 0, max: 365 * 24 * H }).map((ms) => new Date(base + ms)),
    ageMs: fc.oneof(fc.integer({ min: -H, max: 100 * H }), fc.constantFrom(30 * MIN, 2 * H, 72 * H, 30 * MIN - 1, 2 * H - 1, 72 * H - 1)),
    step: fc.constantFrom<EscalationStep>(0, 1, 2, 3),
    status: fc.constantFrom(...CHANGE_STATUSES),
    risk: fc.constantFrom(...RISK_LEVELS),
    bh: fc.constantFrom<BusinessHours | null>(null, MON_FRI_9_18, NIGHT_SHIFT),
    tz: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
  });

  it('when dueStep returns a step for random inputs, then created_at <= that step\'s cutoff and the step is above the current one', () => {
    fc.assert(
      fc.property(arbCase, ({ created, ageMs, step, status, risk, bh, tz }) => {
        const t2 = timings({ businessHours: bh, timezone: tz });
        const now = after(ageMs, created);
        const due = dueStep({ status, risk_level: risk, round_started_at: created, escalation_step: step }, t2, now);
        if (due === null) return true;
        const cut = sweepThresholds(t2, now);
        const cutoff = due === 1 ? cut.remindBefore : due === 2 ? cut.escalateBefore : cut.expireBefore;
        expect(status).toBe('pending');
        expect(due).toBeGreaterThan(step);
        expect(created.getTime()).toBeLessThanOrEqual(cutoff.getTime());
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('when random inputs are swept, then dueStep is only ever the highest step whose cutoff passed, and always it when critical or without business hours', () => {
    fc.assert(
      fc.property(arbCase, ({ created, ageMs, step, risk, bh, tz }) => {
        const t2 = timings({ businessHours: bh, timezone: tz });
        const now = after(ageMs, created);
        const cut = sweepThresholds(t2, now);
        const c = created.getTime();
        const highest: EscalationStep = c <= cut.expireBefore.getTime() ? 3 : c <= cut.escalateBefore.getTime() ? 2 : c <= cut.remindBefore.getTime() ? 1 : 0;
        const due = dueStep({ status: 'pending', risk_level: risk, round_started_at: created, escalation_step: step }, t2, now);
        const expected = highest > step ? highest : null;
        if (risk === 'critical' || bh === null || highest === 3) expect(due).toBe(expected);
        else expect([null, expected]).toContain(due);
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

describe('activeClaim', () => {
  const claimedAt = utc('2026-03-02T10:00:00Z');
  const claim = { claimed_by: 'U0ALICE', claimed_at: claimedAt };
  it('when nobody claimed the change, then there is no active claim', () => {
    expect(activeClaim({ claimed_by: null, claimed_at: null }, H, claimedAt)).toBeNull();
    expect(activeClaim({ claimed_by: 'U0ALICE', claimed_at: null }, H, claimedAt)).toBeNull();
  });
  it('when the claim is younger than the timeout, then the claimer is returned', () => {
    expect(activeClaim(claim, H, claimedAt)).toBe('U0ALICE');
    expect(activeClaim(claim, H, after(H - 1, claimedAt))).toBe('U0ALICE');
  });
  it('when the claim is exactly at the timeout, then it has lapsed', () => {
    expect(activeClaim(claim, H, after(H, claimedAt))).toBeNull();
  });
  it('when the claim is past the timeout, then it has lapsed', () => {
    expect(activeClaim(claim, H, after(5 * H, claimedAt))).toBeNull();
  });
});

describe('reminderTargets', () => {
  it('when nobody claimed the change, then unsigned eligible seniors except the author are mentioned, sorted and unique', () => {
    const out = reminderTargets({ eligible: ['U0DAVE', 'U0BOB', 'U0ALICE', 'U0ALICE', 'U0ERIN'], signed: ['U0ERIN'], author: 'U0BOB', claimer: null });
    expect(out).toEqual(['U0ALICE', 'U0DAVE']);
  });
  it('when there is an active claim, then only the claimer is mentioned', () => {
    expect(reminderTargets({ eligible: ['U0ALICE', 'U0BOB'], signed: [], author: null, claimer: 'U0BOB' })).toEqual(['U0BOB']);
  });
  it('when everyone eligible has signed or is the author, then nobody is mentioned (never channel-wide)', () => {
    const out = reminderTargets({ eligible: new Set(['U0ALICE', 'U0BOB']), signed: new Set(['U0ALICE']), author: 'U0BOB', claimer: null });
    expect(out).toEqual([]);
  });
  it('when the author is unknown and inputs are generic iterables, then every unsigned eligible senior is mentioned', () => {
    function* eligible() {
      yield 'U0CAROL';
      yield 'U0ALICE';
    }
    expect(reminderTargets({ eligible: eligible(), signed: new Set<string>(), author: null, claimer: null })).toEqual(['U0ALICE', 'U0CAROL']);
  });
});
