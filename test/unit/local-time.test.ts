import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../../src/domain/local-time.ts';

describe('startOfLocalDay', () => {
  it('when the clocks went forward that morning (Berlin, 2026-03-29), then the day still began at local midnight (23:00 UTC the day before)', () => {
    expect(startOfLocalDay(new Date('2026-03-29T15:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
  });

  it('when the clocks went back that morning (New York, 2026-11-01), then the day began at 04:00 UTC, not 05:00', () => {
    expect(startOfLocalDay(new Date('2026-11-01T18:00:00Z'), 'America/New_York').toISOString()).toBe('2026-11-01T04:00:00.000Z');
  });

  it('when it is an ordinary day, or UTC, or just after midnight, then it is that midnight', () => {
    expect(startOfLocalDay(new Date('2026-06-10T12:34:56Z'), 'Europe/Berlin').toISOString()).toBe('2026-06-09T22:00:00.000Z');
    expect(startOfLocalDay(new Date('2026-06-10T12:34:56Z'), 'UTC').toISOString()).toBe('2026-06-10T00:00:00.000Z');
    expect(startOfLocalDay(new Date('2026-06-09T22:00:30Z'), 'Europe/Berlin').toISOString()).toBe('2026-06-09T22:00:00.000Z');
    expect(startOfLocalDay(new Date('2026-06-10T03:00:00Z'), 'Asia/Kolkata').toISOString()).toBe('2026-06-09T18:30:00.000Z');
  });

  it('when asked again and again as time moves (the last day is remembered), then every answer is the local midnight at or before now, across both daylight-saving switches', () => {
    const hhmm = (at: Date, timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
    for (const timeZone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'UTC']) {
      // Every 37 minutes through March and through October–November 2026, forwards and then backwards.
      const instants: number[] = [];
      for (const [from, to] of [['2026-03-01', '2026-04-10'], ['2026-10-01', '2026-11-10']]) {
        for (let t = Date.parse(from); t < Date.parse(to); t += 37 * 60_000) instants.push(t);
      }
      for (const t of [...instants, ...instants.reverse()]) {
        const start = startOfLocalDay(new Date(t), timeZone);
        expect(start.getTime()).toBeLessThanOrEqual(t);
        expect(t - start.getTime()).toBeLessThan(25 * 3_600_000);
        expect(hhmm(start, timeZone)).toBe('00:00');
        // Nothing later in the same local day: one second before it is the day before.
        expect(startOfLocalDay(new Date(start.getTime() - 1000), timeZone).getTime()).toBeLessThan(start.getTime());
      }
    }
  });
});
