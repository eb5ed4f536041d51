import type { ChainedEvent } from '../../src/domain/audit-chain.ts';
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/client.ts';
import { appendAudit } from '../../src/db/repositories/audit.ts';
import { canonicalJson } from '../../src/domain/canonical.ts';
import type { Deps } from '../../src/use-cases/ports.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { sealAuditChain, type SealOptions, type SealResult } from '../../src/use-cases/seal-audit-chain.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { fakeClock, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, onRealPostgres, truncateAll } from '../support/db.ts';

let app: TestApp;
let db: Database & { url?: string };
const clock = fakeClock();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ database: db, clock });
});
afterAll(() => app?.stop());
beforeEach(() => truncateAll(db));

interface Row extends ChainedEvent {
  prev_hash: string | null;
  hash: string | null;
}

const rows = async (): Promise<Row[]> =>
  (await db.rows<Row>(sql`select id::int as id, at, actor, action, change_id, data, prev_hash, hash from audit_events order by id`)).map((r) => ({
    ...r,
    at: new Date(r.at),
    data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
  }));

/** Seals like the app does, retrying while the app's own sealer holds the lock. */
async function seal(opts: SealOptions = {}, deps: Deps = app.deps): Promise<SealResult> {
  for (;;) {
    const r = await sealAuditChain(deps, opts);
    if (!r.busy) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}

const verify = () => app.api('GET', '/api/audit/verify');

/** Rewrites a row as a database owner could, bypassing the append-only trigger. */
async function tamper(id: number, set: string): Promise<void> {
  await db.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql.raw(`update audit_events set ${set} where id = ${Number(id)}`));
  });
}

/** Inserts audit rows with explicit ids (a transaction that took its id early and commits late). */
async function insertRow(id: number, at: Date, action = 'test_event'): Promise<void> {
  await db.rows(sql`insert into audit_events (id, at, actor, action, data) values (${id}, ${at.toISOString()}::timestamptz, 'test', ${action}, '{}'::jsonb)`);
}

/** Register, approve, reject, refuse and cancel: audit rows from several flows. */
async function someFlows(): Promise<void> {
  const reg = async (o: Record<string, unknown> = {}) => {
    const r = await app.api('POST', '/api/changes', buildChangeInput(o));
    expect(r.status).toBe(201);
    return r.body.key as string;
  };
  const a = await reg();
  const b = await reg({ terraform_plan: loadPlan('plan-destructive') });
  const c = await reg();
  const d = await reg({ title: 'Rename "capture", retry\nand log' });
  expect(await recordSignOff(app.deps, { key: a, reviewer: 'U0ALICE', decision: 'approved' })).toMatchObject({ ok: true });
  expect(await recordSignOff(app.deps, { key: b, reviewer: 'U0BOB', decision: 'approved' })).toMatchObject({ ok: true });
  expect(await recordSignOff(app.deps, { key: b, reviewer: 'U0JUNIOR', decision: 'approved' })).toMatchObject({ ok: false });
  expect(await recordSignOff(app.deps, { key: c, reviewer: 'U0ALICE', decision: 'rejected', reason: 'no tests, "really", none' })).toMatchObject({ ok: true });
  expect((await app.api('POST', `/api/changes/${d}/cancel`, { reason: 'superseded' })).status).toBe(200);
}

describe('sealing', () => {
  it('when events from several flows are sealed, then every row carries sha256(prev_hash || canonical_json(event)) in id order and verify is ok', async () => {
    await someFlows();
    const before = await rows();
    expect(before.length).toBeGreaterThanOrEqual(10);
    expect(before.every((r) => r.hash === null)).toBe(true);

    // Written just now: younger than the sealing delay, nothing is sealed yet.
    expect((await seal()).sealed).toBe(0);
    const pending = await verify();
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ ok: true, checked: 0, unsealed: before.length, head: null });

    clock.advance(1_500);
    await seal();
    const sealed = await rows();
    let prev = '0'.repeat(64);
    for (const r of sealed) {
      const event = { id: r.id, at: r.at.toISOString(), actor: r.actor, action: r.action, change_id: r.change_id, data: r.data };
      expect(r.prev_hash).toBe(prev);
      expect(r.hash).toBe(createHash('sha256').update(prev + canonicalJson(event)).digest('hex'));
      prev = r.hash!;
    }
    const ok = await verify();
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      ok: true,
      checked: sealed.length,
      unsealed: 0,
      oldest_unsealed_at: null,
      head: { id: sealed.at(-1)!.id, hash: prev },
      sealing_delay_ms: 1000,
    });

    // The trigger still refuses the application any other update, sealed or not.
    await expect(db.rows(sql`update audit_events set hash = null where id = 1`)).rejects.toThrow();
    await expect(db.rows(sql`update audit_events set actor = 'mallory' where id = 1`)).rejects.toThrow();
  });

  it('when new rows arrive after a seal, then the chain continues from the head', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const first = await rows();
    await someFlows();
    clock.advance(1_500);
    await seal();
    const all = await rows();
    expect(all.length).toBeGreaterThan(first.length);
    expect(all[first.length].prev_hash).toBe(first.at(-1)!.hash);
    expect((await verify()).body).toMatchObject({ ok: true, checked: all.length, unsealed: 0 });
  });

  it('when more rows wait than one batch holds, then they are sealed in several transactions into one chain', async () => {
    await appendAudit(db.db, new Date(clock.now().getTime() - 5_000), Array.from({ length: 2_500 }, (_, i) => ({ actor: 'bulk', action: 'bulk_event', data: { i } })));
    await seal({ batchSize: 1_000 });
    expect((await verify()).body).toMatchObject({ ok: true, checked: 2_500, unsealed: 0 });
  });
});

describe('tampering', () => {
  it('when one row is edited in SQL behind the trigger, then verify answers 409 naming that row', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const all = await rows();
    const victim = all.find((r) => r.action === 'sign_off_recorded' && r.data.decision === 'rejected')!;
    await tamper(victim.id, `data = jsonb_set(data, '{reason}', '"looks fine"')`);
    const res = await verify();
    expect(res.status).toBe(409);
    expect(res.body.ok).toBe(false);
    expect(res.body.first_broken).toEqual({ id: victim.id, reason: expect.stringMatching(/contents were changed/) });
    expect(res.body.checked).toBe(all.findIndex((r) => r.id === victim.id) + 1);
  });

  it('when a row is rewritten with a recomputed hash, then the next row is named; when a row is deleted, its successor is named', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const all = await rows();
    // Forge row 3 completely (new actor, matching hash): row 4's prev_hash no longer links.
    const r3 = all[2];
    const forged = { id: r3.id, at: r3.at.toISOString(), actor: 'mallory', action: r3.action, change_id: r3.change_id, data: r3.data };
    const forgedHash = createHash('sha256').update(r3.prev_hash! + canonicalJson(forged)).digest('hex');
    await tamper(r3.id, `actor = 'mallory', hash = '${forgedHash}'`);
    let res = await verify();
    expect(res.body.first_broken).toEqual({ id: all[3].id, reason: expect.stringMatching(new RegExp(`row ${r3.id} was rewritten`)) });

    await truncateAll(db);
    await someFlows();
    clock.advance(1_500);
    await seal();
    const again = await rows();
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_events where id = ${again[5].id}`);
    });
    res = await verify();
    expect(res.status).toBe(409);
    expect(res.body.first_broken.id).toBe(again[6].id);
  });
});

describe('erasing the log', () => {
  it('when someone runs TRUNCATE on the audit log (or on its genesis record), then Postgres refuses it', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const before = (await rows()).length;
    const refusal = (q: ReturnType<typeof sql>) => db.rows(q).then(() => 'accepted', (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(await refusal(sql`truncate audit_events`)).toMatch(/audit_events is append-only \(TRUNCATE refused\)/);
    expect(await refusal(sql`truncate audit_genesis`)).toMatch(/audit_genesis is append-only \(TRUNCATE refused\)/);
    expect(await refusal(sql`delete from audit_genesis`)).toMatch(/audit_genesis is append-only \(DELETE refused\)/);
    expect(await refusal(sql`update audit_genesis set first_id = 99`)).toMatch(/audit_genesis is append-only \(UPDATE refused\)/);
    expect((await rows()).length).toBe(before);
    expect((await verify()).body.ok).toBe(true);
  });

  it('when the first sealed row is the genesis, then the genesis record names it; the log emptied behind the triggers does not verify', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const first = (await rows())[0];
    const [genesis] = await db.rows<{ first_id: number; first_hash: string }>(sql`select first_id::int as first_id, first_hash from audit_genesis`);
    expect(genesis).toEqual({ first_id: first.id, first_hash: first.hash });
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_events`);
    });
    const res = await verify();
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ ok: false, first_broken: { id: first.id, reason: expect.stringMatching(/emptied/) } });
  });

  it('when the log is truncated behind the triggers and started afresh, then verify fails: the chain does not start at the first row ever written', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`truncate audit_events restart identity`);
    });
    await someFlows();
    clock.advance(1_500);
    await seal();
    const res = await verify();
    expect(res.status).toBe(409);
    expect(res.body.first_broken).toEqual({ id: 1, reason: expect.stringMatching(/not the row the log began with/) });
  });

  it('when the first rows are deleted behind the triggers, then verify names the row the chain now starts at', async () => {
    await someFlows();
    clock.advance(1_500);
    await seal();
    const all = await rows();
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_events where id <= ${all[1].id}`);
    });
    const res = await verify();
    expect(res.body.first_broken).toEqual({ id: all[2].id, reason: expect.stringMatching(new RegExp(`log began at row ${all[0].id}`)) });
  });
});

describe('the contiguous-prefix rule', () => {
  it('when a row with a smaller id commits late, then the sealer waits for it instead of sealing past it', async () => {
    const old = new Date(clock.now().getTime() - 2_000); // older than the delay (1 s), younger than the gap grace (5 s)
    for (const id of [1, 2, 3, 5]) await insertRow(id, old);
    let r = await seal();
    expect(r.stoppedAt).toEqual({ id: 5, reason: 'gap' });
    expect((await rows()).map((x) => [x.id, x.hash !== null])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [5, false],
    ]);
    expect((await verify()).body).toMatchObject({ ok: true, checked: 3, unsealed: 1, head: { id: 3 } });

    // Row 4 (its transaction took the id first) commits now: the chain takes it in id order.
    await insertRow(4, old);
    r = await seal();
    expect(r.stoppedAt).toBeNull();
    expect((await verify()).body).toMatchObject({ ok: true, checked: 5, unsealed: 0 });
  });

  it('when a row is younger than the sealing delay, then nothing after it is sealed either', async () => {
    const now = clock.now().getTime();
    await insertRow(1, new Date(now - 3_000));
    await insertRow(2, new Date(now - 200));
    await insertRow(3, new Date(now - 3_000));
    const r = await seal();
    expect(r.stoppedAt).toEqual({ id: 2, reason: 'recent' });
    expect((await rows()).map((x) => x.hash !== null)).toEqual([true, false, false]);
    clock.advance(1_000);
    await seal();
    expect((await verify()).body).toMatchObject({ ok: true, checked: 3, unsealed: 0 });
  });

  it('when a row is stamped in the future (a replica with a fast clock), then it does not hold the chain up', async () => {
    const now = clock.now().getTime();
    await insertRow(1, new Date(now - 3_000));
    await insertRow(2, new Date(now + 3_600_000));
    await insertRow(3, new Date(now - 3_000));
    await insertRow(5, new Date(now + 3_600_000)); // after a rolled-back id 4
    expect((await seal()).stoppedAt).toBeNull();
    expect((await verify()).body).toMatchObject({ ok: true, checked: 4, unsealed: 0 });
  });

  it('when a gap outlives the grace and nobody holds the id (a rollback), then it is skipped; a row slipped in there later is reported', async () => {
    const old = new Date(clock.now().getTime() - 2_000);
    for (const id of [1, 2, 4]) await insertRow(id, old);
    expect((await seal()).stoppedAt).toEqual({ id: 4, reason: 'gap' });
    clock.advance(5_000);
    expect((await seal()).stoppedAt).toBeNull();
    expect((await verify()).body).toMatchObject({ ok: true, checked: 3, unsealed: 0, head: { id: 4 } });

    // Someone inserts a row into the past (or a transaction held id 3 for far too long).
    await insertRow(3, old, 'backdated');
    const res = await verify();
    expect(res.status).toBe(409);
    expect(res.body.first_broken).toEqual({ id: 3, reason: expect.stringMatching(/not sealed but a later row \(4\) is/) });
  });
});

// PGlite runs one transaction at a time: an open transaction holding an id, and sealers racing, need real Postgres.
describe.runIf(onRealPostgres())('on real Postgres', () => {
  it('when a transaction holding a smaller id is still open, then the sealer stops before it, and seals it once it commits', async () => {
    const old = new Date(clock.now().getTime() - 10_000); // past the gap grace too
    for (let i = 0; i < 3; i++) await appendAudit(db.db, old, [{ actor: 'test', action: 'before' }]);
    const writer = postgres(db.url!, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let heldId = 0;
      const inserted = new Promise<void>((resolveInserted, rejectInserted) => {
        writer
          .begin(async (t) => {
            const [row] = await t`insert into audit_events (at, actor, action) values (${old}, 'test', 'slow_transaction') returning id`;
            heldId = Number(row.id);
            resolveInserted();
            await released;
          })
          .catch(rejectInserted);
      });
      await inserted;
      await appendAudit(db.db, old, [{ actor: 'test', action: 'after' }]);
      const r = await seal();
      expect(r.stoppedAt).toMatchObject({ id: heldId + 1, reason: 'in_flight' });
      expect((await verify()).body).toMatchObject({ ok: true, checked: 3, unsealed: 1 });

      release();
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 50 && (await verify()).body.unsealed > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await verify()).body).toMatchObject({ ok: true, checked: 5, unsealed: 0 });
    } finally {
      await writer.end();
    }
  });

  it('when several sealers (replicas) run at once while rows keep arriving, then the chain never forks', async () => {
    const replica = openPostgres(db.url!, { max: 5 });
    const replicaDeps: Deps = { ...app.deps, database: replica };
    try {
      let writing = true;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let n = 0; n < 150; n++) {
          // Backdated rows, so the sealers race on fresh rows instead of waiting out the delay.
          await db.db
            .transaction(async (tx) => {
              await appendAudit(tx, new Date(clock.now().getTime() - 10_000), [
                { actor: `writer-${w}`, action: 'concurrent', data: { n } },
                { actor: `writer-${w}`, action: 'concurrent', data: { n, second: true } },
              ]);
              if (n % 7 === 3) tx.rollback(); // gaps, as rolled-back transactions leave them
            })
            .catch(() => {});
        }
      });
      let passes = 0;
      const sealers = Array.from({ length: 6 }, async (_, i) => {
        const deps = i % 2 ? replicaDeps : app.deps;
        while (writing) {
          await sealAuditChain(deps, { batchSize: 50 });
          passes++;
        }
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all(sealers);
      expect(passes).toBeGreaterThan(6);
      clock.advance(10_000);
      await seal();
      const all = await rows();
      expect(all.length).toBeGreaterThan(100);
      expect(all.filter((r) => r.hash === null)).toEqual([]);
      const [{ forks }] = await db.rows<{ forks: number }>(sql`select count(*)::int as forks from (select prev_hash from audit_events group by prev_hash having count(*) > 1) f`);
      expect(forks).toBe(0);
      expect((await verify()).body).toMatchObject({ ok: true, checked: all.length, unsealed: 0 });
    } finally {
      await replica.close();
    }
  });
});

describe('GET /api/audit', () => {
  const base = new Date('2026-11-02T10:00:00Z').getTime();

  /** Three rows an hour apart (ids 1–3), the last with text that needs CSV escaping. */
  async function threeRows(): Promise<void> {
    await appendAudit(db.db, new Date(base - 2 * 3_600_000), [{ actor: 'U0ALICE', action: 'first', data: { n: 1 } }]);
    await appendAudit(db.db, new Date(base - 3_600_000), [{ actor: 'U0BOB', action: 'second', changeId: 7, data: { n: 2 } }]);
    await appendAudit(db.db, new Date(base - 60_000), [{ actor: 'ci, "nightly"', action: 'third', data: { reason: 'commas, "quotes"\nand a newline\r\nend' } }]);
  }

  it('when exported as JSON, then every event comes with its chain fields, oldest first', async () => {
    clock.set(new Date(base));
    await threeRows();
    await seal();
    const res = await app.api('GET', '/api/audit');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-countersign-truncated')).toBe('false');
    expect(res.body.truncated).toBe(false);
    expect(res.body.events).toHaveLength(3);
    const all = await rows();
    expect(res.body.events[1]).toEqual({ id: 2, at: new Date(base - 3_600_000).toISOString(), actor: 'U0BOB', action: 'second', change_id: 7, data: { n: 2 }, prev_hash: all[1].prev_hash, hash: all[1].hash });
    expect(res.body.events[1].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('when exported as CSV, then there is a header row and commas, quotes and newlines survive', async () => {
    clock.set(new Date(base));
    await threeRows();
    await seal();
    const res = await fetch(`${app.url}/api/audit?format=csv`, { headers: { authorization: 'Bearer test-token-123456' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const table = parseCsv(await res.text());
    expect(table[0]).toEqual(['id', 'at', 'actor', 'action', 'change_id', 'data', 'prev_hash', 'hash']);
    expect(table).toHaveLength(4);
    const third = table[3];
    expect(third[2]).toBe('ci, "nightly"');
    expect(JSON.parse(third[5])).toEqual({ reason: 'commas, "quotes"\nand a newline\r\nend' });
    expect(third[4]).toBe('');
    // The CSV carries what the hash covers: a reader can recompute the chain from it.
    const event = { id: Number(third[0]), at: third[1], actor: third[2], action: third[3], change_id: null, data: JSON.parse(third[5]) };
    expect(createHash('sha256').update(third[6] + canonicalJson(event)).digest('hex')).toBe(third[7]);
  });

  it('when from and to are given as times or ids, then only that range comes back; by default the last 24 hours', async () => {
    clock.set(new Date(base));
    await threeRows();
    await appendAudit(db.db, new Date(base - 25 * 3_600_000), [{ actor: 'old', action: 'too_old' }]);
    const ids = async (q: string) => ((await app.api('GET', `/api/audit${q}`)).body.events as { id: number }[]).map((e) => e.id);
    expect(await ids('')).toEqual([1, 2, 3]);
    expect(await ids(`?from=${new Date(base - 90 * 60_000).toISOString()}`)).toEqual([2, 3]);
    expect(await ids(`?from=${new Date(base - 3 * 3_600_000).toISOString()}&to=${new Date(base - 3_600_000).toISOString()}`)).toEqual([1]);
    expect(await ids('?from=2026-11-02T08:30:00%2B00:00')).toEqual([2, 3]);
    expect(await ids('?from=2026-11-02T09:30:00+01:00')).toEqual([2, 3]); // an unencoded + arrives as a space
    expect(await ids('?from=2&to=4')).toEqual([2, 3]);
    expect(await ids('?from=1')).toEqual([1, 2, 3, 4]);
    expect(await ids('?from=2026-10-01')).toEqual([1, 2, 3, 4]);

    const bad = await app.api('GET', '/api/audit?from=yesterday&format=xml');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'format' })]));
    const badFrom = await app.api('GET', '/api/audit?from=yesterday');
    expect(badFrom.status).toBe(400);
    expect(badFrom.body.issues).toEqual([{ path: 'from', message: expect.stringMatching(/audit id .* ISO 8601/) }]);
    expect((await app.api('GET', '/api/audit', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await app.api('GET', '/api/audit/verify', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('when more than 50,000 rows match, then 50,000 come back, flagged truncated, with where to continue', async () => {
    clock.set(new Date(base));
    await db.rows(sql`insert into audit_events (at, actor, action) select ${new Date(base - 60_000).toISOString()}::timestamptz, 'bulk', 'bulk_event' from generate_series(1, 50002)`);
    // The bulk insert can block this process (PGlite) past the keep-alive timeout: let idle sockets close first.
    await new Promise((r) => setTimeout(r, 100));
    const res = await app.api('GET', '/api/audit');
    expect(res.body.events).toHaveLength(50_000);
    expect(res.body).toMatchObject({ truncated: true, next_from: 50_001 });
    expect(res.headers.get('x-countersign-next-from')).toBe('50001');
    const rest = await app.api('GET', `/api/audit?from=${res.body.next_from}&format=csv`);
    expect(rest.headers.get('x-countersign-truncated')).toBe('false');
    expect(parseCsv(rest.body)).toHaveLength(3);
  });
});

/** A small RFC 4180 reader for the test. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field || row.length) out.push([...row, field]);
  return out;
}
