import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildAlertmanagerPayload, buildDeploymentInput, buildIncidentInput } from '../factories/incident.ts';
import { fakeClock, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, onRealPostgres, truncateAll } from '../support/db.ts';

let app: TestApp;
let db: Database;
const T0 = new Date('2026-11-02T10:00:00Z');
const clock = fakeClock(T0);
const MIN = 60_000;
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const iso = (minutes: number) => at(minutes).toISOString();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db, clock });
});
afterAll(() => app?.stop());
beforeEach(async () => {
  await truncateAll(db);
  clock.set(T0);
});

const count = async (q: string) => (await db.rows<{ n: number }>(sql.raw(q)))[0].n;

/** Registers a change (by default an AI-assisted junior's, high risk, pending) and returns its key. */
async function change(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  return res.body.key;
}

/** A low-risk change approved on arrival (a senior's, not AI-assisted). */
const approvedChange = (overrides: Record<string, unknown> = {}) => change({ ai_assisted: false, author: { github: 'alice' }, ...overrides });

async function approve(key: string, reviewer: string) {
  const r = await recordSignOff(app.deps, { key, reviewer, decision: 'approved' });
  expect(r.ok).toBe(true);
}

async function deploy(key: string, body: Record<string, unknown> = {}) {
  const res = await app.api('POST', `/api/changes/${key}/deployments`, buildDeploymentInput(body));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('POST /api/changes/:key/deployments', () => {
  it('when only the environment is given, then the service is the change\'s first, deployed_at is now and the status succeeded', async () => {
    const key = await approvedChange({ services: ['payments-api', 'checkout'], service: undefined });
    clock.advance(5 * MIN);
    const res = await app.api('POST', `/api/changes/${key}/deployments`, { environment: 'production' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 1, change: key, service: 'payments-api', environment: 'production', status: 'succeeded', ungated: false, deployed_at: iso(5), created_at: iso(5) });
    const history = (await app.api('GET', `/api/changes/${key}`)).body.history;
    expect(history.at(-1)).toMatchObject({ action: 'deployment_recorded', actor: 'ci', deployment_id: 1, ungated: false, service: 'payments-api' });
  });

  it('when every field is given, then they are stored as given', async () => {
    const key = await approvedChange();
    const body = await deploy(key, { environment: 'staging', service: 'checkout-db', deployed_at: '2026-11-02T08:30:00+01:00', status: 'rolled_back' });
    expect(body).toMatchObject({ service: 'checkout-db', environment: 'staging', status: 'rolled_back', deployed_at: '2026-11-02T07:30:00.000Z' });
  });

  it('when the input is bad, then 400 names each field', async () => {
    const key = await approvedChange();
    const bad = await app.api('POST', `/api/changes/${key}/deployments`, { environment: '', service: 'nope', deployed_at: 'yesterday', status: 'exploded', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['colour', 'deployed_at', 'environment', 'status']);
    const unknownService = await app.api('POST', `/api/changes/${key}/deployments`, { environment: 'production', service: 'nope' });
    expect(unknownService.status).toBe(400);
    expect(unknownService.body.issues).toEqual([{ path: 'service', message: expect.stringContaining('unknown service "nope"') }]);
    const empty = await app.api('POST', `/api/changes/${key}/deployments`);
    expect(empty.status).toBe(400);
    const notJson = await app.api('POST', `/api/changes/${key}/deployments`, '{"environment":', {});
    expect(notJson.status).toBe(400);
    expect(await count('select count(*)::int as n from deployments')).toBe(0);
  });

  it('when the change is unknown, then 404', async () => {
    expect((await app.api('POST', '/api/changes/CHG-404/deployments', { environment: 'production' })).status).toBe(404);
    expect((await app.api('POST', '/api/changes/bogus/deployments', { environment: 'production' })).status).toBe(404);
  });

  it('when the gate is not open, then the deployment is recorded as ungated and an alert is enqueued in the same transaction', async () => {
    const pending = await change();
    const res = await app.api('POST', `/api/changes/${pending}/deployments`, { environment: 'production' });
    expect(res.status).toBe(201);
    expect(res.body.ungated).toBe(true);
    const approved = await approvedChange();
    expect((await deploy(approved)).ungated).toBe(false);
    // Slack is off in this app (silent notifier): nothing is enqueued; the Slack test checks the alert itself.
    expect(await count(`select count(*)::int as n from audit_events where action = 'deployment_recorded' and (data->>'ungated')::boolean`)).toBe(1);
  });
});

describe('declaring incidents', () => {
  it('when declared through the API, then 201 with the key, status open and no suspects yet', async () => {
    const res = await app.api('POST', '/api/incidents', buildIncidentInput({ services: ['checkout', 'payments-api'] }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ key: 'INC-1', status: 'open', title: 'Checkout returns 500s', severity: 'sev2', services: ['checkout', 'payments-api'], started_at: T0.toISOString(), resolved_at: null, suspects: [], causes: [], declared_by: 'ci', source: 'api' });
    expect((await app.api('GET', '/api/incidents/inc-1')).body.key).toBe('INC-1');
  });

  it('when the same source and external_id arrive again, then 200 with the stored incident and never a second one (even resolved)', async () => {
    const body = buildIncidentInput({ source: 'pagerduty', external_id: 'P123' });
    const first = await app.api('POST', '/api/incidents', body);
    const again = await app.api('POST', '/api/incidents', { ...body, title: 'Another title' });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.key).toBe(first.body.key);
    expect(again.body.title).toBe('Checkout returns 500s');
    await app.api('POST', `/api/incidents/${first.body.key}/resolve`);
    const afterResolve = await app.api('POST', '/api/incidents', body);
    expect(afterResolve).toMatchObject({ status: 200, body: { key: first.body.key, status: 'resolved' } });
    const parallel = await Promise.all([1, 2, 3].map(() => app.api('POST', '/api/incidents', buildIncidentInput({ source: 'pagerduty', external_id: 'P999' }))));
    expect(parallel.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(parallel.map((r) => r.body.key)).size).toBe(1);
    expect(await count('select count(*)::int as n from incidents')).toBe(2);
  });

  it('when the input is bad, then 400 names the field, services[i] included', async () => {
    const res = await app.api('POST', '/api/incidents', buildIncidentInput({ services: ['checkout', 'nope'], severity: 'sev9' }));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['severity']);
    const svc = await app.api('POST', '/api/incidents', buildIncidentInput({ services: ['checkout', 'nope'] }));
    expect(svc.status).toBe(400);
    expect(svc.body.issues).toEqual([{ path: 'services[1]', message: expect.stringContaining('unknown service "nope"') }]);
    const missing = await app.api('POST', '/api/incidents', { severity: 'sev1' });
    expect(missing.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['services', 'title']);
    expect(await count('select count(*)::int as n from incidents')).toBe(0);
  });

  it('when services is empty, then the incident is declared with no suspects', async () => {
    const key = await approvedChange();
    await deploy(key, { deployed_at: iso(-5) });
    const res = await app.api('POST', '/api/incidents', buildIncidentInput({ services: [] }));
    expect(res.status).toBe(201);
    expect(res.body.suspects).toEqual([]);
  });

  it('when listed, resolved and linked, then each answers as documented', async () => {
    const a = (await app.api('POST', '/api/incidents', buildIncidentInput())).body.key;
    const b = (await app.api('POST', '/api/incidents', buildIncidentInput({ title: 'Search is slow', services: ['search-api'] }))).body.key;
    clock.advance(65 * MIN);
    const resolved = await app.api('POST', `/api/incidents/${a}/resolve`);
    expect(resolved).toMatchObject({ status: 200, body: { key: a, status: 'resolved', resolved_at: iso(65), duration_minutes: 65 } });
    clock.advance(10 * MIN);
    const again = await app.api('POST', `/api/incidents/${a}/resolve`);
    expect(again).toMatchObject({ status: 200, body: { resolved_at: iso(65) } });
    expect((await app.api('GET', '/api/incidents?status=open')).body.incidents.map((i: { key: string }) => i.key)).toEqual([b]);
    expect((await app.api('GET', '/api/incidents')).body.incidents).toHaveLength(2);
    expect((await app.api('GET', '/api/incidents?status=closed')).status).toBe(400);
    expect((await app.api('GET', '/api/incidents/INC-99')).status).toBe(404);
    expect((await app.api('POST', '/api/incidents/INC-99/resolve')).status).toBe(404);

    const chg = await approvedChange();
    const link = await app.api('POST', `/api/incidents/${b}/links`, { change: chg.toLowerCase() });
    expect(link.status).toBe(201);
    expect(link.body.causes).toEqual([{ change: chg, title: 'Retry payment capture on timeout', confirmed_by: 'ci', at: iso(75), approvers: [] }]);
    expect((await app.api('POST', `/api/incidents/${b}/links`, { change: chg })).status).toBe(200);
    const unknown = await app.api('POST', `/api/incidents/${b}/links`, { change: 'CHG-999' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0].path).toBe('change');
    expect((await app.api('POST', '/api/incidents/INC-99/links', { change: chg })).status).toBe(404);
    const audit = await db.rows<{ action: string }>(sql`select action from audit_events where action like 'incident%' or action = 'cause_confirmed' order by id`);
    expect(audit.map((r) => r.action)).toEqual(['incident_declared', 'incident_declared', 'incident_resolved', 'cause_confirmed']);
  });
});

describe('POST /webhooks/alertmanager', () => {
  const hook = (body: unknown, headers?: Record<string, string>) => app.api('POST', '/webhooks/alertmanager', body, headers);

  it('when a group fires twice and then resolves, then exactly one incident is opened, updated and resolved', async () => {
    const first = await hook(buildAlertmanagerPayload());
    expect(first).toMatchObject({ status: 200, body: { incident: 'INC-1', action: 'opened' } });
    const second = await hook(buildAlertmanagerPayload({ commonLabels: { alertname: 'CheckoutErrors', severity: 'critical' }, alerts: [{ labels: { service: 'checkout' } }, { labels: { service: 'payments-api' } }] }));
    expect(second.body).toEqual({ incident: 'INC-1', action: 'updated' });
    const inc = (await app.api('GET', '/api/incidents/INC-1')).body;
    expect(inc).toMatchObject({ title: 'Checkout returns 500s', severity: 'sev1', services: ['checkout', 'payments-api'], source: 'alertmanager', external_id: '{}:{alertname="CheckoutErrors"}', started_at: '2026-11-02T09:55:00.000Z' });
    const resolved = await hook(buildAlertmanagerPayload({ status: 'resolved' }));
    expect(resolved.body).toEqual({ incident: 'INC-1', action: 'resolved' });
    expect((await app.api('GET', '/api/incidents/INC-1')).body.status).toBe('resolved');
    expect(await count('select count(*)::int as n from incidents')).toBe(1);
    expect((await hook(buildAlertmanagerPayload({ status: 'resolved' }))).body).toEqual({ incident: null, action: 'ignored' });
  });

  it('when the same group fires again after its incident was resolved, then a new incident opens', async () => {
    await hook(buildAlertmanagerPayload());
    await hook(buildAlertmanagerPayload({ status: 'resolved' }));
    const again = await hook(buildAlertmanagerPayload());
    expect(again.body).toEqual({ incident: 'INC-2', action: 'opened' });
    const parallel = await Promise.all([1, 2, 3].map(() => hook(buildAlertmanagerPayload({ groupKey: 'g-parallel' }))));
    expect(parallel.map((r) => r.body.action).sort()).toEqual(['opened', 'updated', 'updated']);
    expect(await count(`select count(*)::int as n from incidents where external_id = 'g-parallel'`)).toBe(1);
  });

  it('when the severity label is unknown or missing, then sev3; mapped labels follow the config', async () => {
    const unknown = await hook(buildAlertmanagerPayload({ groupKey: 'a', commonLabels: { alertname: 'X', service: 'checkout', severity: 'page-everyone' } }));
    const missing = await hook(buildAlertmanagerPayload({ groupKey: 'b', commonLabels: { alertname: 'Y', service: 'checkout' } }));
    const error = await hook(buildAlertmanagerPayload({ groupKey: 'c', commonLabels: { alertname: 'Z', service: 'checkout', severity: 'error' } }));
    const severities = await Promise.all([unknown, missing, error].map(async (r) => (await app.api('GET', `/api/incidents/${r.body.incident}`)).body.severity));
    expect(severities).toEqual(['sev3', 'sev3', 'sev2']);
  });

  it('when no alert carries the service label, then the incident has no services and no suspects; unknown services are ignored', async () => {
    const key = await approvedChange();
    await deploy(key, { deployed_at: iso(-10) });
    const res = await hook(buildAlertmanagerPayload({ commonLabels: { alertname: 'DiskFull', severity: 'warning' }, commonAnnotations: {} }));
    expect(res.body.action).toBe('opened');
    const inc = (await app.api('GET', `/api/incidents/${res.body.incident}`)).body;
    expect(inc).toMatchObject({ services: [], suspects: [], title: 'DiskFull', severity: 'sev3' });
    const other = await hook(buildAlertmanagerPayload({ groupKey: 'other', commonLabels: { alertname: 'Mystery', service: 'not-a-service' } }));
    expect((await app.api('GET', `/api/incidents/${other.body.incident}`)).body.services).toEqual([]);
  });

  it('when the token is missing or wrong, then 401 and nothing is opened', async () => {
    const none = await fetch(`${app.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(buildAlertmanagerPayload()) });
    const wrong = await hook(buildAlertmanagerPayload(), { authorization: 'Bearer not-a-token' });
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(await count('select count(*)::int as n from incidents')).toBe(0);
  });

  it('when the body is garbage, then 4xx with a reason and never a 5xx', async () => {
    const bodies: unknown[] = [
      '', 'null', '[]', '42', '"firing"', '{', '{"status":"firing"}', { groupKey: 'g', status: 'burning' }, { groupKey: '', status: 'firing' },
      { groupKey: 'g', status: 'firing', alerts: 'many' }, { groupKey: 'g', status: 'firing', alerts: [null] }, { groupKey: 'g', status: 'firing', commonLabels: [] },
      { groupKey: 123, status: 'firing' }, { groupKey: 'g', status: 'firing', alerts: [{ labels: { service: 5 }, startsAt: 'not a date' }] },
      '\u0000\u0001', '{"groupKey":"g","status":"firing","alerts":[{"startsAt":"0001-01-01T00:00:00Z"}]}',
      { groupKey: 'nul\u0000key', status: 'firing' }, { groupKey: 'g2', status: 'firing', commonAnnotations: { summary: 'a\u0000b' } }, { groupKey: 'g3', status: 'firing', alerts: [{ startsAt: '9999999-01-01T00:00:00Z' }] },
    ];
    for (let i = 0; i < 200; i++) bodies.push(randomJson(i));
    for (const body of bodies) {
      const res = await hook(typeof body === 'string' ? body : body, { 'content-type': 'application/json' });
      expect(res.status, `body ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBeLessThan(500);
      if (res.status !== 200) expect(res.status).toBe(400);
    }
    // The tolerant ones (unknown service type ignored, odd start) opened at most one incident for group "g".
    expect(await count(`select count(*)::int as n from incidents where status = 'open' and external_id = 'g'`)).toBeLessThanOrEqual(1);
  });
});

describe('suspects', () => {
  it('when a checkout incident starts, then its deploys and its dependencies\' rank first and unrelated, staging and out-of-window deploys are not suspects', async () => {
    const own = await change({ title: 'Checkout retry' });
    await approve(own, 'U0ALICE');
    const dep = await change({ title: 'Payments API pool size', service: 'payments-api' });
    await approve(dep, 'U0BOB');
    const deep = await approvedChange({ title: 'DB index', service: 'checkout-db' });
    const unrelated = await approvedChange({ title: 'Search ranking', service: 'search-api' });
    const staging = await approvedChange({ title: 'Staging only' });
    const old = await approvedChange({ title: 'Old deploy' });
    const late = await approvedChange({ title: 'Deployed during the incident' });
    const after = await approvedChange({ title: 'Deployed long after' });

    await deploy(own, { deployed_at: iso(-20) });
    await deploy(dep, { deployed_at: iso(-60) });
    await deploy(deep, { deployed_at: iso(-120) });
    await deploy(unrelated, { deployed_at: iso(-10) });
    await deploy(staging, { environment: 'staging', deployed_at: iso(-5) });
    await deploy(old, { deployed_at: iso(-25 * 60) });
    await deploy(late, { deployed_at: iso(10) });
    await deploy(after, { deployed_at: iso(30) });

    const res = await app.api('POST', '/api/incidents', buildIncidentInput({ started_at: T0.toISOString() }));
    expect(res.status).toBe(201);
    const suspects = res.body.suspects as { change: string; score: number; reasons: string[]; approvers: string[]; minutes_before: number; service: string; title: string; deployed_at: string }[];
    expect(suspects.map((s) => s.change)).toEqual([own, late, dep, deep]);
    expect(suspects[0]).toMatchObject({ title: 'Checkout retry', service: 'checkout', approvers: ['U0ALICE'], minutes_before: 20, deployed_at: iso(-20) });
    expect(suspects[0].score).toBe(81.9);
    expect(suspects[0].reasons).toEqual(['deployed to checkout 20 min before the incident', 'AI-assisted', 'high risk']);
    expect(suspects[1]).toMatchObject({ minutes_before: -10, approvers: [] });
    expect(suspects[2]).toMatchObject({ service: 'payments-api', approvers: ['U0BOB'], minutes_before: 60 });
    expect(suspects[2].reasons[0]).toBe('deployed to payments-api, which checkout depends on, 1 h before the incident');
    for (const k of [unrelated, staging, old, after]) expect(suspects.map((s) => s.change)).not.toContain(k);

    // Computed on read: a deploy recorded later shows up.
    const newcomer = await approvedChange({ title: 'Hotfix attempt', service: 'payments-api' });
    await deploy(newcomer, { deployed_at: iso(5) });
    const again = (await app.api('GET', `/api/incidents/${res.body.key}`)).body;
    expect(again.suspects.map((s: { change: string }) => s.change)).toContain(newcomer);
  });

  it('when a change is deployed without sign-off or fails, then it scores higher', async () => {
    const pending = await change({ title: 'Not signed' });
    const failed = await change({ title: 'Failed deploy' });
    await approve(failed, 'U0ALICE');
    await deploy(pending, { deployed_at: iso(-30) });
    await deploy(failed, { deployed_at: iso(-30), status: 'failed' });
    const inc = (await app.api('POST', '/api/incidents', buildIncidentInput())).body;
    expect(inc.suspects.map((s: { change: string }) => s.change)).toEqual([pending, failed]);
    expect(inc.suspects[0].reasons).toContain('deployed without sign-off (ungated)');
    expect(inc.suspects[1].reasons).toContain('deploy failed');
  });

  it('when there are many deployments (100,000 on Postgres), then suspects still come from one fast indexed query', async () => {
    const n = onRealPostgres() ? 100_000 : 20_000;
    const key = await approvedChange();
    await db.rows(sql`insert into deployments (change_id, service, environment, status, ungated, deployed_at, created_at)
      select ${Number(key.slice(4))}, (array['search-api','infra','checkout'])[1 + i % 3], case when i % 5 = 0 then 'staging' else 'production' end, 'succeeded', false,
             ${T0.toISOString()}::timestamptz - make_interval(mins => i), now()
      from generate_series(1, ${n}) as i`);
    await db.rows(sql`analyze deployments`);
    const started = Date.now();
    const res = await app.api('POST', '/api/incidents', buildIncidentInput({ services: ['checkout'] }));
    expect(res.status).toBe(201);
    expect(res.body.suspects).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('GET /api/stats', () => {
  it('when a history is seeded, then every figure is exact', async () => {
    // C1: AI-assisted junior, checkout (high); approved by Alice after 30 min.
    const c1 = await change({ title: 'C1' });
    clock.set(at(10));
    // C2: AI-assisted junior, search-api (high); approved by Erin after 80 min.
    const c2 = await change({ title: 'C2', service: 'search-api' });
    // C3: a senior's, not AI-assisted (low): approved on arrival, no time to sign-off.
    const c3 = await approvedChange({ title: 'C3' });
    // C4: AI-assisted junior (high); rejected by Bob after 20 min (created at +10).
    const c4 = await change({ title: 'C4' });
    clock.set(at(30));
    await recordSignOff(app.deps, { key: c4, reviewer: 'U0BOB', decision: 'rejected', reason: 'no' });
    await approve(c1, 'U0ALICE');
    clock.set(at(90));
    await approve(c2, 'U0ERIN');

    clock.set(at(120));
    for (const k of [c1, c2, c3, c4]) await deploy(k);
    await deploy(c1, { environment: 'staging' });

    clock.set(at(180));
    const i1 = (await app.api('POST', '/api/incidents', buildIncidentInput())).body.key;
    await app.api('POST', `/api/incidents/${i1}/links`, { change: c1 });
    clock.set(at(225));
    await app.api('POST', `/api/incidents/${i1}/resolve`);
    clock.set(at(240));
    const i2 = (await app.api('POST', '/api/incidents', buildIncidentInput({ services: ['search-api'] }))).body.key;
    await app.api('POST', `/api/incidents/${i2}/links`, { change: c2 });
    clock.set(at(300));

    const res = await app.api('GET', '/api/stats?days=30');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      days: 30,
      from: new Date(at(300).getTime() - 30 * 86_400_000).toISOString(),
      to: iso(300),
      changes: { total: 4, by_risk: { low: 1, medium: 0, high: 3, critical: 0 }, ai_assisted: 3, ai_assisted_share: 0.75 },
      time_to_sign_off: { approved_changes: 2, median_minutes: 55, p90_minutes: 80 },
      deployments: { total: 5, production: 4, ungated: 1 },
      shadow: { changes: 0, would_have_waited: 0, would_have_blocked_deploys: 0 },
      change_failure_rate: {
        overall: { deployed_changes: 4, failed_changes: 2, rate: 0.5 },
        ai_assisted: { deployed_changes: 3, failed_changes: 2, rate: 0.667 },
        not_ai_assisted: { deployed_changes: 1, failed_changes: 0, rate: 0 },
      },
      incidents: { total: 2, resolved: 1, mttr_minutes: 45 },
      approvers: [
        { approver: 'U0ALICE', sign_offs: 1, approvals: 1, rejections: 0, median_minutes_to_sign_off: 30, confirmed_causes: 1, open_assigned_reviews: 0 },
        { approver: 'U0BOB', sign_offs: 1, approvals: 0, rejections: 1, median_minutes_to_sign_off: 20, confirmed_causes: 0, open_assigned_reviews: 0 },
        { approver: 'U0ERIN', sign_offs: 1, approvals: 1, rejections: 0, median_minutes_to_sign_off: 80, confirmed_causes: 1, open_assigned_reviews: 0 },
      ],
      break_glass: { total: 0, unreviewed: 0, overdue: 0, uses: [] },
    });

    // A one-day window still holds the whole history; two days later it holds nothing.
    expect((await app.api('GET', '/api/stats?days=1')).body.changes.total).toBe(4);
    clock.set(at(300 + 2 * 24 * 60));
    const later = (await app.api('GET', '/api/stats?days=1')).body;
    expect(later).toMatchObject({ changes: { total: 0, ai_assisted_share: null }, time_to_sign_off: { median_minutes: null }, incidents: { total: 0, mttr_minutes: null }, approvers: [] });
    expect(later.change_failure_rate.overall.rate).toBeNull();
    expect((await app.api('GET', '/api/stats')).body.days).toBe(30);
    for (const bad of ['0', '366', 'abc', '1.5', '-3']) {
      const r = await app.api('GET', `/api/stats?days=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.issues[0].path).toBe('days');
    }
  });
});

/** Deterministic junk JSON of many shapes (a tiny fuzzer without dependencies). */
function randomJson(seed: number): unknown {
  let s = seed * 9301 + 49297;
  const rnd = () => ((s = (s * 9301 + 49297) % 233280) / 233280);
  const atom = (): unknown => [null, true, 0, -1, 1e308, '', 'firing', 'resolved', 'x'.repeat(50), [], {}][Math.floor(rnd() * 11)];
  const value = (depth: number): unknown => {
    if (depth > 2 || rnd() < 0.4) return atom();
    if (rnd() < 0.5) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
    const keys = ['groupKey', 'status', 'alerts', 'labels', 'commonLabels', 'groupLabels', 'commonAnnotations', 'startsAt', 'version', 'service', 'severity'];
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [keys[Math.floor(rnd() * keys.length)], value(depth + 1)]));
  };
  const v = value(0);
  if (v && typeof v === 'object' && !Array.isArray(v) && rnd() < 0.5) Object.assign(v, { groupKey: `fuzz-${seed % 7}`, status: rnd() < 0.5 ? 'firing' : 'resolved' });
  return v;
}
