import { describe, it, expect } from 'vitest';
import { changeFailureRate, median, mttrMs, percentile } from '../../src/domain/stats.ts';

const t = (iso: string) => new Date(`2025-03-10T${iso}Z`);

describe('median', () => {
  it('when the list is empty, then the median is null', () => {
    expect(median([])).toBeNull();
  });

  it('when the count is odd, then it is the middle value of the sorted list', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([7])).toBe(7);
  });

  it('when the count is even, then it is the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('when computing the median, then the input is not reordered', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('percentile (nearest rank)', () => {
  const xs = [15, 20, 35, 40, 50];

  it('when the list is empty, then the percentile is null', () => {
    expect(percentile([], 90)).toBeNull();
  });

  it('when p is a textbook case, then it returns the nearest-rank value', () => {
    expect(percentile(xs, 5)).toBe(15);
    expect(percentile(xs, 30)).toBe(20);
    expect(percentile(xs, 40)).toBe(20);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 100)).toBe(50);
  });

  it('when p is 0, then it is the smallest value', () => {
    expect(percentile([3, 2, 1], 0)).toBe(1);
  });

  it('when the input is unsorted, then it is sorted numerically first', () => {
    expect(percentile([100, 9, 20, 3], 75)).toBe(20);
  });

  it('when p is outside 0–100, then it throws a RangeError', () => {
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(() => percentile(xs, -1)).toThrow(RangeError);
    expect(() => percentile(xs, Number.NaN)).toThrow(RangeError);
  });
});

describe('changeFailureRate', () => {
  it('when nothing was deployed, then the rate is null', () => {
    expect(changeFailureRate(0, 0)).toBeNull();
  });

  it('when some deployed changes caused incidents, then it is their share rounded to 3 decimals', () => {
    expect(changeFailureRate(3, 1)).toBe(0.333);
    expect(changeFailureRate(8, 2)).toBe(0.25);
    expect(changeFailureRate(10, 0)).toBe(0);
  });

  it('when causes outnumber deployed changes, then the rate is capped at 1', () => {
    expect(changeFailureRate(2, 5)).toBe(1);
  });
});

describe('mttrMs', () => {
  it('when there are no incidents, then the MTTR is null', () => {
    expect(mttrMs([])).toBeNull();
  });

  it('when no incident is resolved, then the MTTR is null', () => {
    expect(mttrMs([{ started_at: t('10:00:00'), resolved_at: null }])).toBeNull();
  });

  it('when some incidents are resolved, then it is the mean duration of the resolved ones only', () => {
    expect(
      mttrMs([
        { started_at: t('10:00:00'), resolved_at: t('10:30:00') },
        { started_at: t('11:00:00'), resolved_at: t('12:30:00') },
        { started_at: t('12:00:00'), resolved_at: null },
      ]),
    ).toBe(60 * 60_000);
  });

  it('when the mean is fractional, then it is rounded to whole milliseconds', () => {
    expect(
      mttrMs([
        { started_at: new Date(0), resolved_at: new Date(1) },
        { started_at: new Date(0), resolved_at: new Date(2) },
      ]),
    ).toBe(2);
  });
});
