import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { startTestApp, fakeClock, type TestApp } from '../support/app.ts';
import { createTestDatabase, truncateAll } from '../support/db.ts';
import type { Database } from '../../src/db/client.ts';

let app: TestApp;
let db: Database;
const clock = fakeClock();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db, clock });
});
afterAll(() => app?.stop());
beforeEach(() => truncateAll(db));

const count = async (table: string) => (await db.rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0].n;

describe('POST /api/changes', () => {
  it('when an AI-assisted junior registers a production change, then it is high risk, pending, and needs one sign-off', async () => {
    const res = await app.api('POST', '/api/changes', buildChangeInput({ external_id: 'pr-1' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      key: 'CHG-1',
      status: 'pending',
      risk: { level: 'high' },
      approvals_required: 1,
      approvals: [],
      service: 'checkout',
      services: ['checkout'],
      team: 'payments',
      environment: 'production',
      author: { github: 'jdoe', slack_id: 'U0JUNIOR', level: 'junior' },
      ai_assisted: true,
      ai_tool: 'Copilot',
    });
    expect(res.body.risk.reasons.map((r: { rule: string }) => r.rule)).toEqual(['ai-change-by-non-senior']);
    expect(res.body.risk.reasons[0].text).toContain('author Jordan Doe is junior');
    expect(res.body.created_at).toBe(clock.now().toISOString());
  });

  it('when the destructive real terraform plan arrives for production, then it is critical and needs 2 approvals', async () => {
    const res = await app.api('POST', '/api/changes', buildChangeInput({ service: 'infra', ai_assisted: false, author: { github: 'carol' }, terraform_plan: loadPlan('plan-destructive') }));
    expect(res.status).toBe(201);
    expect(res.body.risk.level).toBe('critical');
    expect(res.body.approvals_required).toBe(2);
    expect(res.body.infrastructure).toMatchObject({ creates: 1, updates: 1, deletes: 1, replaces: 1, destroys: 2 });
    expect(res.body.risk.reasons[0].text).toBe(
      'destroys-infrastructure: destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc); environment production',
    );
  });

  it('when a plan only creates resources, then nothing counts as destruction and a senior change needs no sign-off', async () => {
    const res = await app.api('POST', '/api/changes', buildChangeInput({ service: 'infra', ai_assisted: false, author: { slack_id: 'U0CAROL' }, terraform_plan: loadPlan('plan-initial-create') }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'approved', approvals_required: 0, risk: { level: 'low', reasons: [] } });
    expect(res.body.infrastructure.destroys).toBe(0);
    const gate = await app.api('GET', `/api/changes/${res.body.key}/gate`);
    expect(gate).toMatchObject({ status: 200, body: { key: res.body.key, status: 'approved', allowed: true } });
  });

  it('when a plan has only no-op resource changes, then it is not destruction', async () => {
    const plan = loadPlan('plan-destroy-all') as { resource_changes: { change: { actions: string[] } }[] };
    for (const rc of plan.resource_changes) rc.change.actions = ['no-op'];
    const res = await app.api('POST', '/api/changes', buildChangeInput({ service: 'infra', ai_assisted: false, author: { github: 'dave' }, terraform_plan: plan }));
    expect(res.status).toBe(201);
    expect(res.body.infrastructure.destroys).toBe(0);
    expect(res.body.risk.level).toBe('low');
  });

  it('when the same source and external_id arrive again with the same body, then the stored change comes back with 200; another body is 409', async () => {
    const body = buildChangeInput({ external_id: 'same-1' });
    const first = await app.api('POST', '/api/changes', body);
    const again = await app.api('POST', '/api/changes', JSON.stringify(Object.fromEntries(Object.entries(body).reverse())));
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.key).toBe(first.body.key);
    const other = await app.api('POST', '/api/changes', { ...body, title: 'A different title this time' });
    expect(other).toMatchObject({ status: 409, body: { error: 'idempotency_conflict', key: first.body.key } });
    expect(await count('changes')).toBe(1);
  });

  it('when the same change is registered concurrently, then exactly one is stored', async () => {
    const body = buildChangeInput({ external_id: 'race-1' });
    const results = await Promise.all(Array.from({ length: 6 }, () => app.api('POST', '/api/changes', body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.key)).size).toBe(1);
    expect(await count('changes')).toBe(1);
  });

  it('when an unknown author submits an AI-assisted change, then the level is unknown and never senior', async () => {
    const res = await app.api('POST', '/api/changes', buildChangeInput({ author: { email: 'stranger@example.com' } }));
    expect(res.body.author.level).toBe('unknown');
    expect(res.body.risk.level).toBe('high');
  });

  it('when AI assistance is not declared but a commit has a Co-authored-by Claude trailer, then it counts as AI-assisted with the reason', async () => {
    const res = await app.api('POST', '/api/changes', buildChangeInput({
      ai_assisted: undefined,
      ai_tool: undefined,
      commits: [{ sha: 'abcdef1234567', message: 'Fix retry\n\nCo-Authored-By: Claude <noreply@anthropic.com>' }],
    }));
    expect(res.body.ai_assisted).toBe(true);
    expect(res.body.ai_reasons).toEqual(['commit abcdef1 is co-authored by Claude']);
    expect(res.body.ai_tool).toBe('Claude');
  });

  describe('bad input', () => {
    const cases: [string, unknown, string][] = [
      ['a missing title', buildChangeInput({ title: undefined }), 'title'],
      ['an empty title', buildChangeInput({ title: '   ' }), 'title'],
      ['a title over 300 characters', buildChangeInput({ title: 'x'.repeat(301) }), 'title'],
      ['an unknown service', buildChangeInput({ service: 'nope' }), 'service'],
      ['an unknown service in services[]', buildChangeInput({ service: undefined, services: ['checkout', 'nope'] }), 'services[1]'],
      ['an author with no identity', buildChangeInput({ author: { name: 'X' } }), 'author'],
      ['an ai_share above 1', buildChangeInput({ ai_share: 1.5 }), 'ai_share'],
      ['a string ai_assisted', buildChangeInput({ ai_assisted: 'false' }), 'ai_assisted'],
      ['an unknown field', buildChangeInput({ ai_assited: true }), 'ai_assited'],
      ['a javascript: url', buildChangeInput({ url: 'javascript:alert(1)' }), 'url'],
      ['negative additions', buildChangeInput({ diff: { files_changed: 1, additions: -1, deletions: 0, paths: [] } }), 'diff.additions'],
      ['a plan of format 2.0', buildChangeInput({ terraform_plan: { format_version: '2.0', resource_changes: [] } }), 'terraform_plan.format_version'],
      ['a plan that is an array', buildChangeInput({ terraform_plan: [] }), 'terraform_plan'],
      ['a body that is an array', [], '(root)'],
      ['a body that is null', null, '(root)'],
    ];
    for (const [what, body, path] of cases) {
      it(`when the body has ${what}, then 400 names ${path} and nothing is stored`, async () => {
        const res = await app.api('POST', '/api/changes', JSON.stringify(body));
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('validation_failed');
        expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(path);
        expect(await count('changes')).toBe(0);
        expect(await count('audit_events')).toBe(0);
      });
    }

    it('when a body has an unknown key, an unknown service, a conflicting author and missing fields, then one 400 lists all of them', async () => {
      const body = buildChangeInput({ ai_assited: true, service: 'nope', title: undefined, external_id: undefined, author: { github: 'alice', slack_id: 'U0NOBODY' } });
      const res = await app.api('POST', '/api/changes', body);
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['ai_assited', 'author', 'external_id', 'service', 'title']);
      expect(res.body.message).toContain('service: unknown service "nope"');
    });

    it('when the JSON is malformed, then 400 invalid_json', async () => {
      const res = await app.api('POST', '/api/changes', '{"title": ');
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    });

    it('when the content type is not JSON, then 415', async () => {
      const res = await app.api('POST', '/api/changes', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    });

    it('when the body is over the limit, then 413', async () => {
      const res = await app.api('POST', '/api/changes', JSON.stringify(buildChangeInput({ description: 'x'.repeat(6 * 1024 * 1024) })));
      expect(res).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
      expect(await count('changes')).toBe(0);
    });

    it('when the token is missing or wrong, then 401 and nothing is stored', async () => {
      const none = await app.api('POST', '/api/changes', buildChangeInput(), { authorization: '' });
      const wrong = await app.api('POST', '/api/changes', buildChangeInput(), { authorization: 'Bearer nope-nope-nope' });
      expect(none.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(await count('changes')).toBe(0);
    });
  });
});

describe('GET /api/changes and /api/changes/:key', () => {
  it('when listing, then changes come newest first and filter by status', async () => {
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      await app.api('POST', '/api/changes', buildChangeInput({ external_id: `l-${i}`, ai_assisted: i !== 2 }));
    }
    const all = await app.api('GET', '/api/changes');
    expect(all.body.changes.map((c: { key: string }) => c.key)).toEqual(['CHG-3', 'CHG-2', 'CHG-1']);
    const pending = await app.api('GET', '/api/changes?status=pending&limit=1');
    expect(pending.body.changes.map((c: { key: string }) => c.key)).toEqual(['CHG-3']);
    const bad = await app.api('GET', '/api/changes?status=nope&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['limit', 'status']);
  });

  it('when a change is fetched, then it has its status history; an unknown key is 404', async () => {
    const created = await app.api('POST', '/api/changes', buildChangeInput());
    const res = await app.api('GET', `/api/changes/${created.body.key}`);
    expect(res.status).toBe(200);
    expect(res.body.status_history).toEqual([{ from: null, to: 'pending', by: 'policy', by_name: null, at: clock.now().toISOString(), reason: 'needs 1 sign-off(s)' }]);
    expect((await app.api('GET', '/api/changes/CHG-999')).status).toBe(404);
    expect((await app.api('GET', '/api/changes/not-a-key')).status).toBe(404);
    expect((await app.api('GET', '/api/changes/CHG-999/gate')).status).toBe(404);
  });
});

describe('gate and cancel', () => {
  it('when a pending change is cancelled, then the gate answers 403 and a second cancel is 409', async () => {
    const created = await app.api('POST', '/api/changes', buildChangeInput());
    expect((await app.api('GET', `/api/changes/${created.body.key}/gate`)).status).toBe(202);
    const cancel = await app.api('POST', `/api/changes/${created.body.key}/cancel`, { reason: 'superseded by CHG-9' });
    expect(cancel).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const gate = await app.api('GET', `/api/changes/${created.body.key}/gate`);
    expect(gate).toMatchObject({ status: 403, body: { status: 'cancelled', allowed: false } });
    const again = await app.api('POST', `/api/changes/${created.body.key}/cancel`);
    expect(again).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    const detail = await app.api('GET', `/api/changes/${created.body.key}`);
    expect(detail.body.status_history.at(-1)).toMatchObject({ from: 'pending', to: 'cancelled', by: 'ci', reason: 'superseded by CHG-9' });
  });

  it('when the gate is asked without a token, then 401', async () => {
    const res = await app.api('GET', '/api/changes/CHG-1/gate', undefined, { authorization: '' });
    expect(res.status).toBe(401);
  });
});

describe('health', () => {
  it('when the database is migrated, then /healthz and /readyz answer 200 without a token', async () => {
    const h = await fetch(`${app.url}/healthz`);
    const r = await fetch(`${app.url}/readyz`);
    expect(h.status).toBe(200);
    expect(r.status).toBe(200);
  });

  it('when a route does not exist, then 404 JSON; a wrong method is 405', async () => {
    expect((await app.api('GET', '/api/nope')).status).toBe(404);
    expect((await app.api('DELETE', '/api/changes')).status).toBe(405);
  });
});
