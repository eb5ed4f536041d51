import { describe, expect, it } from 'vitest';
import { redecider, replayLeastLoaded, simulationReport, workingDays, type SimulatedReview, type SimulationRow } from '../../src/domain/simulation.ts';
import { evaluatePolicy } from '../../src/domain/policy.ts';
import { buildConfig } from '../factories/config.ts';

const T0 = new Date('2026-11-02T10:00:00Z'); // a Monday
const MIN = 60_000;
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);

/** A stored change as the repository reads it: by default a junior's AI-assisted change to checkout, decided after 30 minutes. */
function row(id: number, overrides: Partial<SimulationRow> = {}): SimulationRow {
  return {
    id,
    title: `change ${id}`,
    services: ['checkout'],
    environment: 'production',
    team: 'payments',
    author: { github: 'jdoe', slack_id: 'U0JUNIOR', email: 'jdoe@example.com', name: 'Jordan Doe', level: 'junior', bot: false },
    ai_assisted: true,
    ai_share: null,
    labels: [],
    diff: { files_changed: 1, additions: 10, deletions: 2, paths: ['src/payments/capture.ts'] },
    infra: null,
    assigned_to: null,
    created_at: at(id * 10),
    decided_at: at(id * 10 + 30),
    ...overrides,
  };
}

const review = (start: number, end: number, eligible = ['U0ALICE', 'U0BOB']): SimulatedReview => ({ start: at(start), end: at(end), eligible, authorSlackId: 'U0JUNIOR' });

describe('replayLeastLoaded', () => {
  it('when reviews open and close over time, then each goes to the senior with the fewest open reviews, ties to the least recently assigned', () => {
    const config = buildConfig();
    // 10:00–10:30 → alice (both idle, never assigned: the first by id)
    // 10:10–12:00 → bob (alice has 1 open, bob 0)
    // 10:40–11:00 → alice (hers closed at 10:30: 0 open against bob's 1)
    // 10:50–11:30 → bob (1 open each; bob was assigned at 10:10, alice at 10:40)
    // 11:05–11:10 → alice (alice 0 open since 11:00, bob 2)
    const assigned = replayLeastLoaded([review(0, 30), review(10, 120), review(40, 60), review(50, 90), review(65, 70)], config);
    expect(Object.fromEntries(assigned)).toEqual({ U0ALICE: 3, U0BOB: 2 });
  });

  it('when a senior reaches max_assigned_per_day, then the other is asked until everyone is capped, and the count starts again the next local day', () => {
    const config = buildConfig({ review: { max_assigned_per_day: 1 }, escalation: { timezone: 'Europe/Berlin' } });
    const day = 24 * 60;
    // Day 1 (all reviews stay open): alice (idle, first by id); bob (alice capped); then both capped, so
    // the fewest open (1 each), least recently assigned: alice. Day 2 (Berlin midnight is 23:00 UTC):
    // nobody capped, alice has 2 open and bob 1: bob.
    const assigned = replayLeastLoaded([review(0, 5000), review(10, 5000), review(20, 5000), review(day, 5000)], config);
    expect(Object.fromEntries(assigned)).toEqual({ U0ALICE: 2, U0BOB: 2 });
  });

  it('when a senior is away, then nobody assigns them; when nobody is eligible, then the review is not assigned', () => {
    const config = buildConfig({ review: { away: ['U0BOB'] } });
    const assigned = replayLeastLoaded([review(0, 100), review(10, 100), review(20, 100, [])], config);
    expect(Object.fromEntries(assigned)).toEqual({ U0ALICE: 2 });
  });
});

describe('workingDays', () => {
  it('when a week crosses the start of daylight saving (Berlin, Sunday 2026-03-29), then it is 5 working days plus the hour the clocks skipped', () => {
    // Wed 25 Mar 12:00 CET (11:00Z) → Wed 1 Apr 13:00 CEST (11:00Z, 7 × 24 h later):
    // Wed ½ + Thu 1 + Fri 1 + Mon 1 + Tue 1 + Wed 13/24 = 5.041666…
    expect(workingDays(new Date('2026-03-25T11:00:00Z'), new Date('2026-04-01T11:00:00Z'), 'Europe/Berlin')).toBeCloseTo(4.5 + 13 / 24, 10);
  });

  it('when the window is noon Friday to noon Monday local time across the switch, then it is exactly 1 (UTC days would give 0.96)', () => {
    // Fri 27 Mar 12:00 CET = 11:00Z; Mon 30 Mar 12:00 CEST = 10:00Z.
    expect(workingDays(new Date('2026-03-27T11:00:00Z'), new Date('2026-03-30T10:00:00Z'), 'Europe/Berlin')).toBeCloseTo(1, 10);
  });

  it('when a weekday itself is 23 or 25 hours long (Cairo: Friday 24 Apr, Thursday 29 Oct 2026), then it still counts as one day', () => {
    expect(workingDays(new Date('2026-04-23T22:00:00Z'), new Date('2026-04-24T21:00:00Z'), 'Africa/Cairo')).toBeCloseTo(1, 10);
    expect(workingDays(new Date('2026-10-28T21:00:00Z'), new Date('2026-10-29T22:00:00Z'), 'Africa/Cairo')).toBeCloseTo(1, 10);
  });

  it('when the window is a weekend, then it has no working days', () => {
    expect(workingDays(new Date('2026-10-31T00:00:00Z'), new Date('2026-11-02T00:00:00Z'), 'UTC')).toBe(0);
  });
});

describe('redecider', () => {
  it('when the candidate no longer knows a change\'s services, then they count alone in the blast radius and the stored team stays', () => {
    const candidate = buildConfig({
      services: [{ name: 'search-api', team: 'search' }],
      policy: { rules: [{ name: 'wide', description: 'x', when: { blast_radius_at_least: 2 }, level: 'critical' }, { name: 'any-ai', description: 'x', when: { ai_assisted: true }, level: 'medium' }], approvals: { low: 0, medium: 1, high: 1, critical: 2 } },
    });
    // checkout and payments-api are unknown to the candidate: a radius of 2 (themselves), no dependents.
    const d = redecider(candidate)(row(1, { services: ['checkout', 'payments-api'] }));
    expect(d).toMatchObject({ level: 'critical', approvals_required: 2, team: 'payments', rules: ['wide', 'any-ai'] });
  });

  it('when the candidate lists the author at another level, then the policy sees that level; when it does not list them, the stored author stays', () => {
    const engineers = [{ slack: 'U0JUNIOR', github: 'jdoe', level: 'senior' }];
    const promoted = redecider(buildConfig({ engineers }))(row(1));
    expect(promoted).toMatchObject({ level: 'low', approvals_required: 0, rules: [] });
    expect(promoted.author.level).toBe('senior');
    const forgotten = redecider(buildConfig({ engineers: [] }))(row(1));
    expect(forgotten).toMatchObject({ level: 'high', rules: ['ai-change-by-non-senior'] });
    expect(forgotten.author.level).toBe('junior');
  });
});

describe('redecider against evaluatePolicy', () => {
  it('when conditions are shared between rules and checked once per change, then every decision is the one evaluatePolicy makes', () => {
    const config = buildConfig({
      policy: {
        rules: [
          { name: 'ai-junior', description: 'x', when: { ai_assisted: true, author_level: ['junior', 'mid', 'unknown'] }, level: 'high' },
          { name: 'ai-sensitive', description: 'x', when: { ai_assisted: true, paths_match: ['**/auth/**', '**/*.tf'] }, level: 'high' },
          { name: 'prod-destroys', description: 'x', when: { infra_destroys_at_least: 1, environment: ['production'] }, level: 'critical' },
          { name: 'wide', description: 'x', when: { blast_radius_at_least: 2, environment: ['production'] }, level: 'medium' },
          { name: 'big', description: 'x', when: { lines_changed_at_least: 500 }, level: 'medium' },
          { name: 'mostly-ai', description: 'x', when: { ai_share_at_least: 0.5, services: ['checkout-db', 'infra'] }, level: 'high' },
          { name: 'not-ai-prod', description: 'x', when: { ai_assisted: false, environment: ['production'] }, level: 'low' },
        ],
        approvals: { low: 0, medium: 1, high: 1, critical: 2 },
      },
    });
    const decide = redecider(config);
    const authors = [row(0).author, { github: 'alice', slack_id: 'U0ALICE', level: 'senior' as const, bot: false }, { github: 'stranger', level: 'unknown' as const, bot: false }];
    const infra = { format_version: '1.2', creates: 0, updates: 0, deletes: 1, replaces: 0, destroys: 1, destroyed: [{ address: 'aws_s3_bucket.b', action: 'delete' as const, reason: null }] };
    let n = 0;
    for (const author of authors)
      for (const ai_assisted of [true, false])
        for (const environment of ['production', 'staging'])
          for (const services of [['checkout'], ['checkout-db'], ['payments-api', 'infra']])
            for (const paths of [['src/app.ts'], ['src/auth/x.ts', 'main.tf']])
              for (const additions of [10, 900])
                for (const destroys of [false, true]) {
                  const r = row(++n, { author, ai_assisted, ai_share: ai_assisted ? 0.7 : null, environment, services, diff: { files_changed: paths.length, additions, deletions: 0, paths }, infra: destroys ? infra : null });
                  const d = decide(r);
                  const facts = { services, environment, author: d.author, ai: { assisted: ai_assisted, share: r.ai_share, tool: null, reasons: [] }, diff: r.diff, infra: r.infra, labels: [], blast_radius: config.resolved.graph.blastRadius(services) };
                  const outcome = evaluatePolicy(config.policy, facts);
                  expect({ level: d.level, approvals_required: d.approvals_required, rules: d.rules }).toEqual({ level: outcome.risk.level, approvals_required: outcome.approvals_required, rules: outcome.risk.reasons.map((x) => x.rule) });
                }
    expect(n).toBe(288);
  });

  it('when both configs share a rule but see another author level or blast radius, then each config gets its own answer', () => {
    const rules = [
      { name: 'junior', description: 'x', when: { author_level: ['junior'] }, level: 'high' },
      { name: 'wide', description: 'x', when: { blast_radius_at_least: 2 }, level: 'critical' },
    ];
    const policy = { rules, approvals: { low: 0, medium: 1, high: 1, critical: 2 } };
    const current = buildConfig({ policy });
    // The candidate promotes jdoe and makes search-api depend on checkout (checkout's blast radius becomes 2).
    const candidate = buildConfig({
      policy,
      engineers: [{ slack: 'U0JUNIOR', github: 'jdoe', level: 'senior' }],
      services: [
        { name: 'checkout', team: 'payments' },
        { name: 'search-api', team: 'search', depends_on: ['checkout'] },
        { name: 'infra', team: 'platform' },
      ],
    });
    const report = simulationReport({ rows: [row(1)], current, candidate, from: at(-60), to: at(60), actualFrom: 'assigned_to' });
    expect(report.changed).toEqual([{ key: 'CHG-1', title: 'change 1', from: { level: 'high', approvals_required: 1 }, to: { level: 'critical', approvals_required: 2 }, rules: ['wide'] }]);
  });
});

describe('simulationReport', () => {
  it('when the candidate moves a service to another team and requires more sign-offs, then totals, changes and load say so', () => {
    const current = buildConfig();
    const candidate = buildConfig({
      services: [
        { name: 'checkout', team: 'platform', depends_on: ['payments-api'] },
        { name: 'payments-api', team: 'payments', depends_on: ['checkout-db'] },
        { name: 'checkout-db', team: 'platform' },
        { name: 'infra', team: 'platform' },
        { name: 'search-api', team: 'search' },
      ],
      policy: { rules: [{ name: 'ai', description: 'x', when: { ai_assisted: true }, level: 'critical' }], approvals: { low: 0, medium: 1, high: 1, critical: 2 } },
    });
    // Three changes to checkout by jdoe (high, 1 sign-off now), one by alice not AI-assisted (low).
    const rows = [row(1, { assigned_to: 'U0ALICE' }), row(2, { assigned_to: 'U0BOB' }), row(3, { assigned_to: 'U0ALICE', decided_at: null }), row(4, { author: { github: 'alice', slack_id: 'U0ALICE', level: 'senior', bot: false }, ai_assisted: false })];
    const report = simulationReport({ rows, current, candidate, from: at(-7 * 24 * 60), to: at(0 + 24 * 60), actualFrom: 'assigned_to' });
    expect(report.changes).toBe(4);
    expect(report.current).toEqual({ by_level: { low: 1, medium: 0, high: 3, critical: 0 }, needing_sign_off: 3, by_team: { payments: { needing_sign_off: 3 }, platform: { needing_sign_off: 0 }, search: { needing_sign_off: 0 } } });
    expect(report.candidate).toEqual({ by_level: { low: 1, medium: 0, high: 0, critical: 3 }, needing_sign_off: 3, by_team: { payments: { needing_sign_off: 0 }, platform: { needing_sign_off: 3 }, search: { needing_sign_off: 0 } } });
    expect(report.changed_total).toBe(3);
    expect(report.changed.map((c) => [c.key, c.from.level, c.to.level, c.to.approvals_required, c.rules])).toEqual([
      ['CHG-1', 'high', 'critical', 2, ['ai']],
      ['CHG-2', 'high', 'critical', 2, ['ai']],
      ['CHG-3', 'high', 'critical', 2, ['ai']],
    ]);
    // Window Mon 26 Oct 10:00 → Tue 3 Nov 10:00 UTC: Mon 14/24 + Tue–Fri 4 + Mon 1 + Tue 10/24 = 6.
    expect(report.window.working_days).toBe(6);
    // Platform reviews: 10:10–10:40 carol; 10:20–10:50 dave (carol 1 open); 10:30–end carol (1 open each, carol less recent).
    expect(report.load).toEqual([
      { senior: 'U0ALICE', team: 'payments', expected: 0, actual: 2, expected_per_day: 0, actual_per_day: 0.33 },
      { senior: 'U0BOB', team: 'payments', expected: 0, actual: 1, expected_per_day: 0, actual_per_day: 0.17 },
      { senior: 'U0CAROL', team: 'platform', expected: 2, actual: 0, expected_per_day: 0.33, actual_per_day: 0 },
      { senior: 'U0DAVE', team: 'platform', expected: 1, actual: 0, expected_per_day: 0.17, actual_per_day: 0 },
      { senior: 'U0ERIN', team: 'search', expected: 0, actual: 0, expected_per_day: 0, actual_per_day: 0 },
    ]);
    expect(report.assignment).toBe('least_loaded');
  });

  it('when more than 100 changes differ and arrive newest first, then the oldest 100 are listed oldest first and all are counted', () => {
    const candidate = buildConfig({ policy: { rules: [], approvals: { low: 0, medium: 1, high: 1, critical: 2 } } });
    const rows = Array.from({ length: 150 }, (_, i) => row(150 - i)); // CHG-150 (the youngest) first
    const report = simulationReport({ rows, current: buildConfig(), candidate, from: at(-60), to: at(2000), actualFrom: 'assigned_to' });
    expect(report.changed_total).toBe(150);
    expect(report.changed.map((c) => c.key)).toEqual(Array.from({ length: 100 }, (_, i) => `CHG-${i + 1}`));
    expect(report.changed[0]).toEqual({ key: 'CHG-1', title: 'change 1', from: { level: 'high', approvals_required: 1 }, to: { level: 'low', approvals_required: 0 }, rules: [] });
  });

  it('when the candidate asks everyone, then each request is split equally among the eligible seniors', () => {
    const candidate = buildConfig({ review: { assignment: 'everyone' } });
    const report = simulationReport({ rows: [row(1), row(2), row(3)], current: buildConfig(), candidate, from: at(-60), to: at(60), actualFrom: 'sign_offs' });
    expect(report.assignment).toBe('none');
    expect(report.load.filter((l) => l.team === 'payments').map((l) => [l.senior, l.expected])).toEqual([['U0ALICE', 1.5], ['U0BOB', 1.5]]);
  });
});

describe('formatSimulation (the CLI table)', () => {
  it('when a changed title carries terminal escapes or newlines, then none of them reaches the output', async () => {
    const { formatSimulation } = await import('../../src/cli/policy.ts');
    const totals = { by_level: { low: 0, medium: 0, high: 1, critical: 0 }, needing_sign_off: 1, by_team: { payments: { needing_sign_off: 1 } } };
    const out = formatSimulation({
      window: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z', working_days: 5 },
      changes: 1,
      current: totals,
      candidate: totals,
      changed_total: 1,
      changed: [{ key: 'CHG-1', title: 'Fix\u001b[2J\u001b]8;;https://evil.example\u0007 login\nCHG-2  fake row', from: { level: 'low', approvals_required: 0 }, to: { level: 'high', approvals_required: 1 }, rules: ['r'] }],
      assignment: 'least_loaded',
      actual_from: 'assigned_to',
      load: [],
    });
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(out.split('\n').filter((l) => l.includes('CHG-2'))).toEqual([expect.stringContaining('CHG-1')]);
  });
});
