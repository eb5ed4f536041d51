import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { Database } from '../../src/db/client.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { simulationRunning } from '../../src/use-cases/simulate-policy.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { buildConfig, TEST_CONFIG_RAW } from '../factories/config.ts';
import { ADMIN_TOKEN, API_TOKEN, fakeClock, ONCALL_TOKEN, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';

const DEPLOY_TOKEN = 'deploy-only-token-123456';
let app: TestApp;
let db: Database;
const clock = fakeClock();
/** The simulation runs "now": Friday 6 Nov 2026, 18:00 UTC. */
const NOW = new Date('2026-11-06T18:00:00Z');
const keys: Record<string, string> = {};

/**
 * The candidate against the running test config (test/factories/config.ts, built-in rules: an
 * AI-assisted change by a junior, mid or unknown author is high/1; a production plan that destroys
 * something is critical/2; approvals low 0, medium 1, high 1, critical 2):
 * - its own rules: AI-assisted in production → medium; a junior or mid author → high; 1,000 lines
 *   or more → high; destroys infrastructure → critical; and high now needs 2 sign-offs;
 * - mia is promoted to senior;
 * - search-api moves from the search team to platform.
 */
const CANDIDATE = {
  ...structuredClone(TEST_CONFIG_RAW),
  services: TEST_CONFIG_RAW.services.map((s) => (s.name === 'search-api' ? { ...s, team: 'platform' } : s)),
  engineers: TEST_CONFIG_RAW.engineers.map((e) => (e.github === 'mia-k' ? { ...e, level: 'senior' } : e)),
  policy: {
    rules: [
      { name: 'ai-in-production', description: 'AI-assisted production change', when: { ai_assisted: true, environment: ['production'] }, level: 'medium' },
      { name: 'junior-or-mid-author', description: 'by a junior or mid-level engineer', when: { author_level: ['junior', 'mid'] }, level: 'high' },
      { name: 'large-change', description: '1,000 lines or more', when: { lines_changed_at_least: 1000 }, level: 'high' },
      { name: 'destroys-infrastructure', description: 'the plan destroys something', when: { infra_destroys_at_least: 1 }, level: 'critical' },
    ],
    approvals: { low: 0, medium: 1, high: 2, critical: 2 },
  },
};

/** Registers a change at `at` through the API and remembers its key under `name`. */
async function register(name: string, at: string, overrides: Record<string, unknown>) {
  clock.set(new Date(at));
  const res = await app.api('POST', '/api/changes', buildChangeInput({ title: `${name} change`, ...overrides }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  keys[name] = res.body.key;
  return res.body;
}

async function signOff(name: string, at: string, reviewer: string, decision: 'approved' | 'rejected' = 'approved') {
  clock.set(new Date(at));
  const r = await recordSignOff(app.deps, { key: keys[name], reviewer, decision, reason: decision === 'rejected' ? 'no tests' : null });
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

const simulate = (body: unknown, token = API_TOKEN) => app.api('POST', '/api/policy/simulate', body, { authorization: `Bearer ${token}` });

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({
    database: db,
    clock,
    env: { COUNTERSIGN_API_TOKENS: `ci:${API_TOKEN},oncall:${ONCALL_TOKEN}:breakglass+read,ops:${ADMIN_TOKEN}:admin,deployer:${DEPLOY_TOKEN}:deploy` },
  });
  // The history, in time order. "live" is what the running config decided and whom it assigned.
  // C1 Thu 29 Oct 12:00, before the window: jdoe (junior), AI, search-api → high/1, assigned erin.
  await register('C1', '2026-10-29T12:00:00Z', { service: 'search-api' });
  // C2 Mon 2 Nov 09:00: jdoe, AI, checkout → high/1, assigned alice (nobody has load); alice approves 09:30.
  expect((await register('C2', '2026-11-02T09:00:00Z', {})).assigned_to).toBe('U0ALICE');
  // C3 Mon 09:10: mia (mid), AI, checkout → high/1, assigned bob (alice has C2 open); bob approves 11:00.
  expect((await register('C3', '2026-11-02T09:10:00Z', { author: { github: 'mia-k' } })).assigned_to).toBe('U0BOB');
  await signOff('C2', '2026-11-02T09:30:00Z', 'U0ALICE');
  // C4 Mon 10:00: alice (senior), not AI, 1,500 lines → low/0, approved on arrival, nobody assigned.
  expect((await register('C4', '2026-11-02T10:00:00Z', { author: { github: 'alice' }, ai_assisted: false, diff: { files_changed: 12, additions: 1400, deletions: 100, paths: ['src/payments/ledger.ts'] } })).status).toBe('approved');
  await signOff('C3', '2026-11-02T11:00:00Z', 'U0BOB');
  // C5 Tue 3 Nov 14:00: dave (senior), not AI, infra, a plan that destroys → critical/2, assigned carol
  // (dave is the author); still pending.
  expect((await register('C5', '2026-11-03T14:00:00Z', { service: 'infra', author: { github: 'dave' }, ai_assisted: false, terraform_plan: loadPlan('plan-destructive') })).assigned_to).toBe('U0CAROL');
  // C6 Wed 4 Nov 09:00: jdoe, AI, search-api → high/1, assigned erin; erin rejects 09:20.
  expect((await register('C6', '2026-11-04T09:00:00Z', { service: 'search-api' })).assigned_to).toBe('U0ERIN');
  await signOff('C6', '2026-11-04T09:20:00Z', 'U0ERIN', 'rejected');
  // C7 Thu 5 Nov 16:00: erin (senior), AI, search-api, docs only → low/0, approved on arrival.
  expect((await register('C7', '2026-11-05T16:00:00Z', { service: 'search-api', author: { github: 'erin' }, diff: { files_changed: 1, additions: 5, deletions: 1, paths: ['docs/search.md'] } })).status).toBe('approved');
  clock.set(NOW);
});
afterAll(() => app?.stop());

/**
 * By hand, over [Fri 30 Oct 18:00, Fri 6 Nov 18:00] UTC (C1 is outside):
 *
 * current (running config on the stored facts): C2 high/1, C3 high/1, C4 low/0, C5 critical/2,
 *   C6 high/1, C7 low/0 → low 2, medium 0, high 3, critical 1; needing sign-off 4: payments 2 (C2, C3),
 *   platform 1 (C5), search 1 (C6).
 * candidate:
 *   C2 jdoe AI          → ai-in-production (medium) + junior-or-mid-author (high)  = high/2      (changed)
 *   C3 mia, now senior  → ai-in-production                                     = medium/1    (changed)
 *   C4 alice 1,500 lines → large-change                                        = high/2      (changed)
 *   C5 dave plan        → destroys-infrastructure                              = critical/2  (same)
 *   C6 jdoe AI          → high/2, team platform (search-api moved)                           (changed)
 *   C7 erin AI          → ai-in-production = medium/1, team platform                         (changed)
 *   → low 0, medium 2, high 3, critical 1; needing sign-off 6: payments 3 (C2–C4), platform 3 (C5–C7), search 0.
 */
const EXPECTED_TOTALS = {
  changes: 6,
  current: { by_level: { low: 2, medium: 0, high: 3, critical: 1 }, needing_sign_off: 4, by_team: { payments: { needing_sign_off: 2 }, platform: { needing_sign_off: 1 }, search: { needing_sign_off: 1 } } },
  candidate: { by_level: { low: 0, medium: 2, high: 3, critical: 1 }, needing_sign_off: 6, by_team: { payments: { needing_sign_off: 3 }, platform: { needing_sign_off: 3 }, search: { needing_sign_off: 0 } } },
};

/**
 * Working days: Fri 30 Oct 18:00–24:00 = 0.25, Mon–Thu = 4, Fri 6 Nov 00:00–18:00 = 0.75 → 5.
 *
 * Least-loaded under the candidate, reviews open from created_at to the real decided_at (else the end):
 *   C2 09:00–09:30 payments {alice, bob}     → alice (both idle, first by id)
 *   C3 09:10–11:00 payments {alice, bob}     → bob (alice has C2 open)
 *   C4 10:00–10:00 payments {bob} (alice wrote it; approved on arrival, so closed at once) → bob
 *   C5 Tue 14:00–end platform {carol} (dave wrote it) → carol
 *   C6 Wed 09:00–09:20 platform {carol, dave} → dave (carol has C5 open)
 *   C7 Thu 16:00–16:00 platform {carol, dave} → dave (carol still has C5 open, dave none)
 * expected: alice 1, bob 2, carol 1, dave 2, erin 0; actual (assigned_to in the window): alice 1 (C2),
 * bob 1 (C3), carol 1 (C5), dave 0, erin 1 (C6; C1 is outside the window). Per day: ÷ 5.
 */
const EXPECTED_LOAD = [
  { senior: 'U0ALICE', team: 'payments', expected: 1, actual: 1, expected_per_day: 0.2, actual_per_day: 0.2 },
  { senior: 'U0BOB', team: 'payments', expected: 2, actual: 1, expected_per_day: 0.4, actual_per_day: 0.2 },
  { senior: 'U0CAROL', team: 'platform', expected: 1, actual: 1, expected_per_day: 0.2, actual_per_day: 0.2 },
  { senior: 'U0DAVE', team: 'platform', expected: 2, actual: 0, expected_per_day: 0.4, actual_per_day: 0 },
  { senior: 'U0ERIN', team: 'search', expected: 0, actual: 1, expected_per_day: 0, actual_per_day: 0.2 },
];

describe('POST /api/policy/simulate', () => {
  it('when given a candidate as YAML text, then the whole answer matches the hand computation', async () => {
    const res = await simulate({ config: stringify(CANDIDATE), days: 7 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      window: { from: '2026-10-30T18:00:00.000Z', to: '2026-11-06T18:00:00.000Z', working_days: 5 },
      ...EXPECTED_TOTALS,
      changed_total: 5,
      changed: [
        { key: keys.C2, title: 'C2 change', from: { level: 'high', approvals_required: 1 }, to: { level: 'high', approvals_required: 2 }, rules: ['junior-or-mid-author', 'ai-in-production'] },
        { key: keys.C3, title: 'C3 change', from: { level: 'high', approvals_required: 1 }, to: { level: 'medium', approvals_required: 1 }, rules: ['ai-in-production'] },
        { key: keys.C4, title: 'C4 change', from: { level: 'low', approvals_required: 0 }, to: { level: 'high', approvals_required: 2 }, rules: ['large-change'] },
        { key: keys.C6, title: 'C6 change', from: { level: 'high', approvals_required: 1 }, to: { level: 'high', approvals_required: 2 }, rules: ['junior-or-mid-author', 'ai-in-production'] },
        { key: keys.C7, title: 'C7 change', from: { level: 'low', approvals_required: 0 }, to: { level: 'medium', approvals_required: 1 }, rules: ['ai-in-production'] },
      ],
      assignment: 'least_loaded',
      actual_from: 'assigned_to',
      load: EXPECTED_LOAD,
    });
  });

  it('when given the same candidate as an object, then the answer is the same', async () => {
    const text = await simulate({ config: stringify(CANDIDATE), days: 7 });
    const object = await simulate({ config: CANDIDATE, days: 7 });
    expect(object.status).toBe(200);
    expect(object.body).toEqual(text.body);
  });

  it('when days is left out, then the window is 30 days and takes in C1 too', async () => {
    // 30 days back is Wed 7 Oct 18:00: C1 (jdoe, AI, search-api: high/1 → high/2, platform) joins.
    const res = await simulate({ config: CANDIDATE });
    expect(res.status).toBe(200);
    expect(res.body.window.from).toBe('2026-10-07T18:00:00.000Z');
    expect(res.body.changes).toBe(7);
    expect(res.body.candidate.by_team.platform.needing_sign_off).toBe(4);
    expect(res.body.changed.map((c: { key: string }) => c.key)).toEqual([keys.C1, keys.C2, keys.C3, keys.C4, keys.C6, keys.C7]);
  });

  it('when the candidate is the running config, then nothing changed and both sides agree', async () => {
    const res = await simulate({ config: TEST_CONFIG_RAW, days: 7 });
    expect(res.status).toBe(200);
    expect(res.body.candidate).toEqual(res.body.current);
    expect(res.body.changed).toEqual([]);
    expect(res.body.current).toEqual(EXPECTED_TOTALS.current);
  });

  it('when the running config asks everyone (no assignments), then the actual load is who signed off', async () => {
    // A second server on the same database whose running config says review.assignment: everyone.
    const everyone = await startTestApp({ database: db, clock, keepDatabase: true, config: buildConfig({ review: { assignment: 'everyone' } }) });
    try {
      const res = await everyone.api('POST', '/api/policy/simulate', { config: CANDIDATE, days: 7 });
      expect(res.status).toBe(200);
      // Sign-offs on changes in the window: alice on C2, bob on C3, erin's rejection of C6.
      expect(res.body.actual_from).toBe('sign_offs');
      expect(res.body.load.map((l: { senior: string; actual: number }) => [l.senior, l.actual])).toEqual([['U0ALICE', 1], ['U0BOB', 1], ['U0CAROL', 0], ['U0DAVE', 0], ['U0ERIN', 1]]);
      expect(res.body.current).toEqual(EXPECTED_TOTALS.current);
    } finally {
      await everyone.stop();
    }
  });

  it('when the candidate asks everyone, then each request counts equally for its eligible seniors', async () => {
    // payments: C2 {alice, bob} ½ each, C3 {alice, bob} ½ each, C4 {bob} (alice wrote it) → alice 1, bob 2;
    // platform: C5 {carol}, C6 {carol, dave} ½ each, C7 {carol, dave} ½ each → carol 2, dave 1.
    const res = await simulate({ config: { ...CANDIDATE, review: { assignment: 'everyone' } }, days: 7 });
    expect(res.body.assignment).toBe('none');
    expect(res.body.load.map((l: { senior: string; expected: number; expected_per_day: number }) => [l.senior, l.expected, l.expected_per_day])).toEqual([['U0ALICE', 1, 0.2], ['U0BOB', 2, 0.4], ['U0CAROL', 2, 0.4], ['U0DAVE', 1, 0.2], ['U0ERIN', 0, 0]]);
  });

  it('when the candidate config is invalid, then 400 names every problem under config.', async () => {
    const bad = structuredClone(CANDIDATE) as any;
    bad.policy.rules[0].when.paths_match = ['+(a|b)'];
    bad.policy.rules[1].when.paths = ['src/**'];
    bad.review = { assignment: 'random' };
    const res = await simulate({ config: bad, days: 7 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['config.policy.rules[0].when.paths_match[0]', 'config.policy.rules[1].when.paths', 'config.review.assignment']);
    // Duplicate keys are refused, as the server refuses them in its own file.
    const yaml = await simulate({ config: `${stringify(CANDIDATE)}teams: []\n`, days: 7 });
    expect(yaml.status).toBe(400);
    expect(yaml.body.issues).toEqual([{ path: 'config', message: expect.stringMatching(/^not valid YAML: Map keys must be unique/) }]);
    const empty = await simulate({ config: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['config.slack', 'config.teams', 'config.services']));
    const missing = await simulate({ days: 7 });
    expect(missing.body.issues).toEqual([{ path: 'config', message: 'is required' }]);
    const wrongType = await simulate({ config: ['a'], days: 7, colour: 'red' });
    expect(wrongType.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['colour', 'config']);
  });

  it('when days is not a whole number from 1 to 365, then 400 names days (with any config problem at once)', async () => {
    for (const days of [0, 366, 1.5, '7', null]) {
      const res = await simulate({ config: CANDIDATE, days });
      expect(res.status, String(days)).toBe(400);
      expect(res.body.issues).toEqual([{ path: 'days', message: 'expected a whole number of days from 1 to 365' }]);
    }
    const both = await simulate({ config: { slack: {} }, days: 0 });
    expect(both.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['days', 'config.slack.approvals_channel']));
  });

  it('when the token is missing, then 401; when it lacks the read scope, then 403', async () => {
    const none = await fetch(`${app.url}/api/policy/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: CANDIDATE }) });
    expect(none.status).toBe(401);
    const deployOnly = await simulate({ config: CANDIDATE }, DEPLOY_TOKEN);
    expect(deployOnly.status).toBe(403);
    expect(deployOnly.body).toMatchObject({ error: 'insufficient_scope', required_scope: 'read' });
    // read is enough: the oncall token has breakglass+read.
    expect((await simulate({ config: CANDIDATE, days: 7 }, ONCALL_TOKEN)).status).toBe(200);
  });

  it('when it runs, then it writes nothing: changes, sign-offs, audit events and outbox rows stay as they were', async () => {
    const counts = async () => (await db.rows<Record<string, number>>(sql`select (select count(*) from changes)::int as changes, (select count(*) from sign_offs)::int as sign_offs, (select count(*) from audit_events)::int as audit, (select count(*) from outbox)::int as outbox, (select max(updated_at) from changes)::text as updated`))[0];
    const before = await counts();
    expect((await simulate({ config: stringify(CANDIDATE), days: 365 })).status).toBe(200);
    expect(await counts()).toEqual(before);
  });

  it('when another simulation is running, then 429 simulation_busy with Retry-After, and the first still answers', async () => {
    // Hold the changes table so the first simulation waits inside its query (PGlite: one transaction at a time).
    let release!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const lockTaken = new Promise<void>((r) => (locked = r));
    const holder = db.db.transaction(async (tx) => {
      await tx.execute(sql`lock table changes in access exclusive mode`);
      locked();
      await held;
    });
    await lockTaken;
    const first = simulate({ config: CANDIDATE, days: 7 });
    await vi.waitFor(() => expect(simulationRunning()).toBe(true));
    const second = await simulate({ config: CANDIDATE, days: 7 });
    expect(second.status).toBe(429);
    expect(second.body).toEqual({ error: 'simulation_busy', message: expect.stringContaining('another policy simulation is running') });
    expect(second.headers.get('retry-after')).toBe('5');
    release();
    await holder;
    const done = await first;
    expect(done.status).toBe(200);
    expect(done.body.load).toEqual(EXPECTED_LOAD);
    expect(simulationRunning()).toBe(false);
  });
});
