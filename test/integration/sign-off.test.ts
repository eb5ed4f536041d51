import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { claimReview } from '../../src/use-cases/claim-review.ts';
import { escalateStaleRequests } from '../../src/use-cases/escalate-stale-requests.ts';
import { applyTransition } from '../../src/use-cases/locked-change.ts';
import { lapsedClaims } from '../../src/db/repositories/changes.ts';
import type { Database } from '../../src/db/client.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, onRealPostgres, truncateAll } from '../support/db.ts';

let app: TestApp;
let db: Database;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db });
});
afterAll(() => app?.stop());
beforeEach(() => truncateAll(db));

async function newChange(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  return res.body.key;
}
/** A critical change (destructive plan in production) owned by payments: needs 2 sign-offs. */
const criticalChange = () => newChange({ terraform_plan: loadPlan('plan-destructive') });

const signOff = (key: string, reviewer: string, decision: 'approved' | 'rejected' = 'approved', reason?: string) =>
  recordSignOff(app.deps, { key, reviewer, decision, reason });
const gate = async (key: string) => (await app.api('GET', `/api/changes/${key}/gate`)).status;
const auditActions = async (key: string) =>
  (await app.api('GET', `/api/changes/${key}`)).body.history.map((h: { action: string }) => h.action);

describe('sign-off rules', () => {
  it('when an eligible senior approves a 1-approval change, then it is approved and the gate opens', async () => {
    const key = await newChange();
    expect(await gate(key)).toBe(202);
    const r = await signOff(key, 'U0ALICE');
    expect(r).toMatchObject({ ok: true, decided: true, change: { status: 'approved' } });
    expect(await gate(key)).toBe(200);
    const detail = (await app.api('GET', `/api/changes/${key}`)).body;
    expect(detail.approvals).toEqual([expect.objectContaining({ reviewer: 'U0ALICE', decision: 'approved' })]);
    expect(detail.status_history.map((s: { to: string }) => s.to)).toEqual(['pending', 'approved']);
  });

  it('when the author tries to approve, then self_approval is refused, audited, and nothing is recorded', async () => {
    // An AI-assisted change by a senior needs no sign-off at all: nothing to refuse.
    const key = await newChange({ author: { slack_id: 'U0ALICE' }, ai_assisted: true });
    expect((await app.api('GET', `/api/changes/${key}`)).body.status).toBe('approved');
    // alice is senior; make it need sign-off through a destructive plan.
    const k2 = await newChange({ author: { slack_id: 'U0ALICE' }, terraform_plan: loadPlan('plan-destroy-all') });
    const r = await signOff(k2, 'U0ALICE');
    expect(r).toMatchObject({ ok: false, code: 'self_approval' });
    expect(await gate(k2)).toBe(202);
    expect(await auditActions(k2)).toContain('sign_off_refused');
    expect((await app.api('GET', `/api/changes/${k2}`)).body.approvals).toEqual([]);
  });

  it('when the author is known only by GitHub login, then their Slack id still counts as the author', async () => {
    const key = await newChange({ author: { github: 'alice' }, terraform_plan: loadPlan('plan-destroy-all') });
    expect(await signOff(key, 'U0ALICE')).toMatchObject({ ok: false, code: 'self_approval' });
  });

  it('when a non-senior or a senior of another team approves, then not_eligible explains why', async () => {
    const key = await newChange();
    const junior = await signOff(key, 'U0MIA');
    const other = await signOff(key, 'U0CAROL');
    expect(junior).toMatchObject({ ok: false, code: 'not_eligible' });
    expect(other).toMatchObject({ ok: false, code: 'not_eligible' });
    if (!other.ok) expect(other.message).toBe(`Only payments seniors can sign off ${key}; you are a senior of platform, not payments.`);
    expect(await gate(key)).toBe(202);
  });

  it('when the same senior approves twice, then the second is already_signed and counts once', async () => {
    const key = await criticalChange();
    expect(await signOff(key, 'U0ALICE')).toMatchObject({ ok: true, decided: false });
    expect(await signOff(key, 'U0ALICE')).toMatchObject({ ok: false, code: 'already_signed' });
    expect(await gate(key)).toBe(202);
  });

  it('when two distinct seniors approve a 2-approval change, then it is approved (N of M)', async () => {
    const key = await criticalChange();
    expect(await signOff(key, 'U0ALICE')).toMatchObject({ ok: true, decided: false });
    expect(await gate(key)).toBe(202);
    expect(await signOff(key, 'U0BOB')).toMatchObject({ ok: true, decided: true, change: { status: 'approved' } });
    expect(await gate(key)).toBe(200);
  });

  it('when a senior rejects without a reason, then reason_required; with a reason it is rejected and a late approve is already_decided', async () => {
    const key = await criticalChange();
    expect(await signOff(key, 'U0ALICE', 'rejected', '  ')).toMatchObject({ ok: false, code: 'reason_required' });
    expect(await signOff(key, 'U0ALICE', 'rejected', 'Deletes the prod cache')).toMatchObject({ ok: true, decided: true, change: { status: 'rejected' } });
    expect(await gate(key)).toBe(403);
    expect(await signOff(key, 'U0BOB')).toMatchObject({ ok: false, code: 'already_decided' });
    const detail = (await app.api('GET', `/api/changes/${key}`)).body;
    expect(detail.approvals).toEqual([expect.objectContaining({ reviewer: 'U0ALICE', decision: 'rejected', reason: 'Deletes the prod cache' })]);
  });

  it('when a cancelled change gets a click, then already_decided', async () => {
    const key = await newChange();
    await app.api('POST', `/api/changes/${key}/cancel`);
    expect(await signOff(key, 'U0ALICE')).toMatchObject({ ok: false, code: 'already_decided' });
  });

  it('when the key is unknown, then not_found', async () => {
    expect(await signOff('CHG-404', 'U0ALICE')).toMatchObject({ ok: false, code: 'not_found' });
  });
});

// PGlite runs one transaction at a time, so races are only meaningful on real Postgres.
describe.runIf(onRealPostgres())('sign-off races on real Postgres', () => {
  it('when two seniors approve a 2-approval change at the same instant, then it ends approved exactly once', async () => {
    for (let round = 0; round < 10; round++) {
      const key = await criticalChange();
      const results = await Promise.all([signOff(key, 'U0ALICE'), signOff(key, 'U0BOB')]);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(results.filter((r) => r.ok && r.decided)).toHaveLength(1);
      const id = Number(key.slice(4));
      const [{ n }] = await db.rows<{ n: number }>(sql`select count(*)::int as n from audit_events where change_id = ${id} and action = 'status_changed' and data->>'to' = 'approved'`);
      expect(n).toBe(1);
      expect(await gate(key)).toBe(200);
    }
  });

  it('when two sweeps let the same lapsed claim go at once, then one claim_lapsed is recorded; a claim made after the read survives', async () => {
    for (let round = 0; round < 5; round++) {
      await truncateAll(db);
      const key = await newChange();
      const id = Number(key.slice(4));
      expect((await claimReview(app.deps, key, 'U0ALICE', 'claim')).ok).toBe(true);
      // The claim is older than claim_timeout (1h): both sweeps see it lapsed.
      await db.rows(sql`update changes set claimed_at = now() - interval '2 hours' where id = ${id}`);
      const results = await Promise.all([escalateStaleRequests(app.deps), escalateStaleRequests(app.deps)]);
      expect(results.map((r) => r.claimsLapsed).sort()).toEqual([0, 1]);
      const [{ n }] = await db.rows<{ n: number }>(sql`select count(*)::int as n from audit_events where change_id = ${id} and action = 'claim_lapsed'`);
      expect(n).toBe(1);
    }
    // A claim renewed between a sweep's read and its write is not wiped: the guard names the claim it read.
    const key = await newChange();
    const id = Number(key.slice(4));
    await claimReview(app.deps, key, 'U0ALICE', 'claim');
    await db.rows(sql`update changes set claimed_at = now() - interval '2 hours' where id = ${id}`);
    const stale = (await lapsedClaims(db.db, new Date(), 10))[0];
    await db.rows(sql`update changes set claimed_by = 'U0BOB', claimed_at = now() where id = ${id}`);
    await db.db.transaction((tx) => applyTransition(tx, stale, new Date(), { set: { claimedBy: null, claimedAt: null }, guard: { status: 'pending', claimedBy: stale.claimed_by, claimedAt: stale.claimed_at }, events: [] }));
    expect((await app.api('GET', `/api/changes/${key}`)).body.escalation.claimed_by).toBe('U0BOB');
  });

  it('when the same senior clicks twice at once, then it counts once', async () => {
    for (let round = 0; round < 10; round++) {
      const key = await criticalChange();
      const results = await Promise.all([signOff(key, 'U0ALICE'), signOff(key, 'U0ALICE'), signOff(key, 'U0ALICE')]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(['already_signed', 'already_signed']);
      const id = Number(key.slice(4));
      const [{ n }] = await db.rows<{ n: number }>(sql`select count(*)::int as n from sign_offs where change_id = ${id}`);
      expect(n).toBe(1);
      expect(await gate(key)).toBe(202);
    }
  });
});

describe('audit table', () => {
  it('when anyone tries to edit or delete an audit row, then the database refuses', async () => {
    await newChange();
    const causeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error & { cause?: Error }) => (e.cause ?? e).message);
    expect(await causeOf(db.rows(sql`update audit_events set actor = 'mallory'`))).toMatch(/append-only/);
    expect(await causeOf(db.rows(sql`delete from audit_events`))).toMatch(/append-only/);
  });
});
