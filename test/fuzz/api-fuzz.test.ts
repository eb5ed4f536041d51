/**
 * Property-based fuzzing of the HTTP API through real HTTP, against the whole app in-process
 * (Slack on, talking to the fake Slack, so the outbox is really written), on a database of its own.
 *
 * Invariants, for every generated request:
 * - the status is never ≥ 500, and every request is answered (no hang);
 * - a 400 is `{ error: 'validation_failed', issues: [{ path, message }] }` with non-empty string paths,
 *   or `invalid_json`; a 413 is `payload_too_large`; a 415 `unsupported_media_type`; a 401 `unauthorized`;
 * - a 4xx writes nothing: the counts of changes, audit_events, outbox, incidents, deployments (and the
 *   other tables a route could touch) are unchanged;
 * - a 201 writes exactly one row of what it creates (and it can be read back), a 200 writes none.
 *
 * Tables are never truncated between runs: each run compares counts before and after.
 * Bugs found are pinned by the failing tests under "known bugs found by fuzzing"; the broad properties skip those
 * inputs (`knownBug`) so that they keep finding new ones (FUZZ_KNOWN_BUGS=1 lets them through).
 * `FUZZ_RUNS` and `FUZZ_SEED` override the budget and the seed (to replay a reported failure).
 * The body limit is lowered to 256 KB (COUNTERSIGN_MAX_BODY_BYTES) so that 413 is reachable cheaply.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildAlertmanagerPayload } from '../factories/incident.ts';
import { API_TOKEN } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { startSlackHarness, type SlackHarness } from '../support/slack.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns = RUNS) => ({ numRuns, ...(SEED !== undefined && { seed: SEED }) });
const TIMEOUT = 120_000;
/** A small body limit, so that 413 is reachable by generated bodies without sending megabytes. */
const MAX_BODY = 256 * 1024;

let h: SlackHarness;
let db: Database;
let approvedKey: string;
let pendingKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  h = await startSlackHarness({ database: db, env: { COUNTERSIGN_MAX_BODY_BYTES: String(MAX_BODY) } });
  // Two changes to deploy: one approved on arrival (a senior's), one pending (deploying it is ungated → an outbox alert).
  const approved = await h.app.api('POST', '/api/changes', buildChangeInput({ ai_assisted: false, author: { github: 'alice' }, external_id: 'fuzz-approved' }));
  const pending = await h.app.api('POST', '/api/changes', buildChangeInput({ external_id: 'fuzz-pending' }));
  expect([approved.status, pending.status]).toEqual([201, 201]);
  approvedKey = approved.body.key;
  pendingKey = pending.body.key;
});
afterAll(() => h?.stop());

// ——— counting rows ———

const TABLES = ['changes', 'audit_events', 'outbox', 'incidents', 'deployments', 'incident_causes', 'sign_offs', 'slack_inbox'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

async function counts(): Promise<Counts> {
  const [row] = await db.rows<Counts>(
    sql`select (select count(*)::int from changes) as changes, (select count(*)::int from audit_events) as audit_events,
               (select count(*)::int from outbox) as outbox, (select count(*)::int from incidents) as incidents,
               (select count(*)::int from deployments) as deployments, (select count(*)::int from incident_causes) as incident_causes,
               (select count(*)::int from sign_offs) as sign_offs, (select count(*)::int from slack_inbox) as slack_inbox`,
  );
  return row;
}

const delta = (before: Counts, after: Counts) => Object.fromEntries(TABLES.map((t) => [t, after[t] - before[t]])) as Counts;
const NOTHING = Object.fromEntries(TABLES.map((t) => [t, 0])) as Counts;

// ——— real HTTP ———

interface Answer {
  status: number;
  text: string;
  json: any;
}

/** POSTs a raw body (string or bytes) with the test token; a request not answered within 15 s is a hang. */
async function post(path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(h.app.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new Error(`POST ${path} was not answered: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

const get = async (path: string) => {
  const res = await fetch(h.app.url + path, { headers: { authorization: `Bearer ${API_TOKEN}` }, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return res.status;
};

/**
 * Sends one request and checks what every answer must satisfy: answered, never 5xx, well-formed errors, and a
 * 4xx (or 5xx) writes nothing. The message names the rows written, so a 5xx also tells whether it left a partial write.
 */
async function exchange(label: string, path: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const before = await counts();
  const res = await post(path, body, headers);
  const after = await counts();
  const d = delta(before, after);
  const written = Object.fromEntries(Object.entries(d).filter(([, n]) => n !== 0));
  const what = `${label} → ${res.status} ${res.text.slice(0, 400)} (rows written: ${JSON.stringify(written)})`;
  if (res.status >= 400) expect(d, `${what}: a ${res.status} must write nothing`).toEqual(NOTHING);
  expect(res.status, what).toBeLessThan(500);
  if (res.status === 400) {
    expect(res.json, what).toBeTypeOf('object');
    expect(['validation_failed', 'invalid_json'], what).toContain(res.json?.error);
    if (res.json.error === 'validation_failed') {
      expect(Array.isArray(res.json.issues) && res.json.issues.length > 0, `${what}: issues must be a non-empty list`).toBe(true);
      for (const issue of res.json.issues) {
        expect(typeof issue.path === 'string' && issue.path.length > 0, `${what}: every issue path must be a non-empty string, got ${JSON.stringify(issue.path)}`).toBe(true);
        expect(typeof issue.message === 'string' && issue.message.length > 0, `${what}: every issue has a message`).toBe(true);
      }
    }
  }
  if (res.status === 401) expect(res.json?.error, what).toBe('unauthorized');
  if (res.status === 413) expect(res.json?.error, what).toBe('payload_too_large');
  if (res.status === 415) expect(res.json?.error, what).toBe('unsupported_media_type');
  if (res.status === 404) expect(res.json?.error, what).toBe('not_found');
  return { res, before, after, d, what };
}

// ——— generators ———

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
/** Odd strings: NUL, lone surrogates, BOM, bidi, control characters, injections, numbers as text. */
const oddString = fc.constantFrom(
  '', ' ', '\t\n', '\u0000', 'a\u0000b', ...LONE, 'x\ud83d', '\ude00y', '\ufeff', '\u202eevil', '💥🚀', 'e\u0301', '\u0085\u2028\u2029', '\u007f\u0001',
  'NaN', 'Infinity', '-0', '1e309', '0x10', 'null', 'true', '<script>alert(1)</script>', "'; drop table changes; --", '../../etc/passwd', '%00', '\\u0000', '{{7*7}}', '${7*7}',
  'CHG-1', 'production', 'checkout', 'https://example.com/a b',
);
/** Long strings up to ~12k characters; cutting the repetition may leave half a surrogate pair. */
const hugeString = fc
  .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 12_000 }))
  .map(([seed, n]) => seed.repeat(Math.ceil(n / seed.length)).slice(0, n));
/** Long strings that do not compress (pseudo-random from a seed, so a failure shrinks to the shortest length). */
const noiseString = fc.tuple(fc.integer(), fc.integer({ min: 100, max: 12_000 }), fc.constantFrom('ascii', 'latin', 'cjk')).map(([seed, n, alphabet]) => noise(seed, n, alphabet));
function noise(seed: number, n: number, alphabet: string): string {
  let x = seed >>> 0 || 1;
  const [base, span] = alphabet === 'ascii' ? [0x21, 94] : alphabet === 'latin' ? [0xa1, 0x17f - 0xa1] : [0x4e00, 0x5000];
  let out = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += String.fromCharCode(base + ((x >>> 0) % span));
  }
  return out;
}
const weirdString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: oddString },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), oddString, fc.string({ maxLength: 10 })).map(([a, b, c]) => a + b + c) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: noiseString },
);
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) },
  { weight: 2, arbitrary: weirdString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, [], {}, [null], { '': '' }) },
);
/** Raw JSON text for a value: numbers JSON cannot spell, and tokens that are not JSON at all. */
const rawToken = fc.constantFrom(
  'NaN', '-NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e-400', '-0', '0.0', '9007199254740993', '123456789012345678901234567890', '1E2', '0x10', '010', '1.', '.5', '+1', '1_000',
  '"NaN"', '"Infinity"', '"-0"', '"1e3"', '""', 'undefined', "'x'", '"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"', '"a\\u0000b"', '"\\uDFFF"', '[1,]', '{"a":1,}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}',
);
/** Deeply nested raw JSON (objects, arrays, or both), up to depths no stack survives if walked recursively. */
const deepShape = fc.record({
  depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 5_000 }), fc.integer({ min: 5_000, max: 60_000 })),
  shape: fc.constantFrom('object', 'array', 'mixed'),
});
function deepText({ depth, shape }: { depth: number; shape: string }): string {
  if (shape === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  if (shape === 'array') return '['.repeat(depth) + '1' + ']'.repeat(depth);
  const half = Math.ceil(depth / 2);
  return '{"a":['.repeat(half) + '1' + ']}'.repeat(half);
}

/** Authorization headers that must not authenticate (null: no header at all). */
const badAuthorization: fc.Arbitrary<string | null> = fc.oneof(
  fc.constant(null),
  fc.constantFrom('Bearer', 'Bearer ', `Basic ${Buffer.from(`ci:${API_TOKEN}`).toString('base64')}`, `Token ${API_TOKEN}`, `Bearer ${API_TOKEN}x`, `Bearer ${API_TOKEN.slice(0, -1)}`, `Bearer ${API_TOKEN} extra`, `Bearer ${API_TOKEN.toUpperCase()}`, `Bearer  ${API_TOKEN},${API_TOKEN}`, `${API_TOKEN}`, 'Bearer other-token-12'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => `Bearer ${s}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
).filter((s) => s === null || !/^\s*bearer\s+(test-token-123456|other-token-123)\s*$/i.test(s));

// ——— paths into a body ———

type Path = (string | number)[];
const parsePath = (p: string): Path => p.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** A copy of `body` with `value` at `path` (intermediate objects and arrays created as needed). */
function setAt(body: unknown, path: string, value: unknown): unknown {
  const parts = parsePath(path);
  const root = structuredClone(body) as any;
  if (parts.length === 0) return value;
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur[parts[i]] === null || typeof cur[parts[i]] !== 'object') cur[parts[i]] = typeof parts[i + 1] === 'number' ? [] : {};
    cur = cur[parts[i]];
  }
  cur[parts.at(-1)!] = value;
  return root;
}

function deleteAt(body: unknown, path: string): unknown {
  const parts = parsePath(path);
  const root = structuredClone(body) as any;
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = cur?.[parts[i]];
    if (cur === null || typeof cur !== 'object') return root;
  }
  if (Array.isArray(cur)) cur.splice(parts.at(-1) as number, 1);
  else delete cur[parts.at(-1)!];
  return root;
}

const MARK = '@@fuzz-raw@@';
/** JSON text of `body` with the raw `token` in place of the value at `path`. */
function withRaw(body: unknown, path: string, token: string): string {
  return JSON.stringify(setAt(body, path, MARK)).replace(JSON.stringify(MARK), () => token);
}

/** One mutation of a valid body, as a description (for the counterexample) and the JSON text to send. */
type Mutation = { kind: string; path?: string; value?: unknown; extra?: Record<string, unknown>; token?: string; nest?: { depth: number; shape: string } };

function mutationArb(paths: readonly string[], objectPaths: readonly string[]): fc.Arbitrary<Mutation> {
  const path = fc.constantFrom(...paths);
  return fc.oneof(
    fc.record({ kind: fc.constant('drop'), path }),
    fc.record({ kind: fc.constant('replace'), path, value: anyJson }),
    fc.record({ kind: fc.constant('string'), path, value: weirdString }),
    fc.record({ kind: fc.constant('raw'), path, token: rawToken }),
    fc.record({ kind: fc.constant('deep'), path: fc.constantFrom(...paths, ...objectPaths.map((p) => (p ? `${p}.deep` : 'deep'))), nest: deepShape }),
    fc.record({ kind: fc.constant('array-for-object'), path: fc.constantFrom(...objectPaths), value: fc.array(anyJson, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('add-keys'), path: fc.constantFrom(...objectPaths), extra: fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), oddString), anyJson, { minKeys: 1, maxKeys: 4 }) }),
  );
}

/** Applies mutations to a valid body; returns the text to send. */
function applyMutations(valid: unknown, mutations: Mutation[]): string {
  let body = valid;
  const raws: [string, string][] = [];
  for (const m of mutations) {
    if (m.kind === 'drop') body = deleteAt(body, m.path!);
    else if (m.kind === 'replace' || m.kind === 'string' || m.kind === 'array-for-object') body = setAt(body, m.path!, m.value);
    else if (m.kind === 'add-keys') {
      const target = m.path ? parsePath(m.path).reduce((o: any, k) => o?.[k], body) : body;
      const merged = target && typeof target === 'object' && !Array.isArray(target) ? { ...target, ...m.extra } : m.extra;
      body = m.path ? setAt(body, m.path, merged) : merged;
    } else {
      const mark = `${MARK}${raws.length}`;
      body = setAt(body, m.path!, mark);
      raws.push([mark, m.nest ? deepText(m.nest) : m.token!]);
    }
  }
  let text = JSON.stringify(body) ?? 'null';
  for (const [mark, token] of raws) text = text.replace(JSON.stringify(mark), () => token);
  return text;
}

// ——— bugs already found ———

/**
 * What a body contains that is known to break a route (each is pinned by a failing test in "known bugs" below).
 * The broad properties skip such inputs, so that they keep looking for *other* bugs instead of re-finding these;
 * set FUZZ_KNOWN_BUGS=1 to let them through. Remove an entry once its bug is fixed.
 */
// Every bug fuzzing found is fixed, so the broad properties include those inputs again (FUZZ_KNOWN_BUGS=0 skips them).
const INCLUDE_KNOWN = process.env.FUZZ_KNOWN_BUGS !== '0';
type Route = 'changes' | 'incidents' | 'deployments' | 'alertmanager';

function features(text: string | Uint8Array): { nul: boolean; lone: boolean; rootEmptyKey: boolean; planDepth: number; groupKeyBytes: number } {
  const out = { nul: false, lone: false, rootEmptyKey: false, planDepth: 0, groupKeyBytes: 0 };
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch {
    return out;
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  const checkString = (s: string) => {
    if (s.includes('\u0000')) out.nul = true;
    if (!s.isWellFormed()) out.lone = true;
  };
  if (isRecord(value) && !Array.isArray(value) && Object.hasOwn(value, '')) out.rootEmptyKey = true;
  if (isRecord(value) && typeof value.groupKey === 'string') out.groupKeyBytes = Buffer.byteLength(value.groupKey);
  const stack: [unknown, number, boolean][] = [[value, 0, false]];
  while (stack.length) {
    const [v, depth, inPlan] = stack.pop()!;
    if (inPlan) out.planDepth = Math.max(out.planDepth, depth);
    if (typeof v === 'string') checkString(v);
    else if (isRecord(v)) {
      for (const [k, x] of Object.entries(v)) {
        checkString(k);
        stack.push([x, inPlan ? depth + 1 : 0, inPlan || (depth === 0 && v === value && k === 'terraform_plan')]);
      }
    }
  }
  return out;
}

/** The name of the known bug `text` would hit on `route`, or null. */
function knownBug(route: Route, text: string | Uint8Array): string | null {
  if (INCLUDE_KNOWN) return null;
  const f = features(text);
  if (f.rootEmptyKey) return 'empty-key-issue-path';
  if (route === 'changes' && f.nul) return 'nul-in-change';
  if (route === 'changes' && f.lone) return 'lone-surrogate-in-change';
  if (route === 'changes' && f.planDepth > 1_000) return 'deep-terraform-plan';
  if (route === 'alertmanager' && f.groupKeyBytes > 2_000) return 'long-group-key';
  return null;
}

// ——— valid bodies ———

let serial = 0;
const fresh = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

const PLAN = {
  format_version: '1.2',
  terraform_version: '1.11.0',
  resource_changes: [
    { address: 'aws_s3_bucket.logs', change: { actions: ['delete', 'create'] }, action_reason: 'replace_because_cannot_update' },
    { address: 'aws_iam_role.ci', change: { actions: ['update'] } },
  ],
};

/** A valid change with every optional field, so that every field can be mutated. */
const validChange = () =>
  buildChangeInput({
    external_id: fresh('fuzz'),
    author: { github: 'jdoe', name: 'Jordan Doe', email: 'jdoe@example.com', slack_id: 'U0JUNIOR' },
    ai_share: 0.5,
    labels: ['ai-assisted', 'payments'],
    commits: [{ sha: 'abcdef1234567', message: 'Retry capture\n\nAssisted-by: Copilot' }],
    head_sha: 'abcdef1234567890',
    terraform_plan: PLAN,
  });

const CHANGE_PATHS = [
  'source', 'external_id', 'title', 'description', 'url', 'service', 'services', 'services[0]', 'environment',
  'author', 'author.github', 'author.name', 'author.email', 'author.slack_id', 'ai_assisted', 'ai_tool', 'ai_share',
  'labels', 'labels[0]', 'labels[5]', 'commits', 'commits[0]', 'commits[0].sha', 'commits[0].message', 'head_sha',
  'diff', 'diff.files_changed', 'diff.additions', 'diff.deletions', 'diff.paths', 'diff.paths[0]',
  'terraform_plan', 'terraform_plan.format_version', 'terraform_plan.resource_changes', 'terraform_plan.resource_changes[0]',
  'terraform_plan.resource_changes[0].address', 'terraform_plan.resource_changes[0].change', 'terraform_plan.resource_changes[0].change.actions',
  'terraform_plan.resource_changes[0].change.actions[0]', 'terraform_plan.resource_changes[0].action_reason', 'terraform_plan.variables',
] as const;
const CHANGE_OBJECTS = ['', 'author', 'diff', 'commits[0]', 'terraform_plan', 'terraform_plan.resource_changes[0]', 'terraform_plan.resource_changes[0].change'] as const;

/** Sends a change and checks every invariant of POST /api/changes. */
async function checkChange(text: string | Uint8Array, headers: Record<string, string> = {}, hunting = false) {
  if (!hunting) fc.pre(knownBug('changes', text) === null);
  const { res, before, after, what } = await exchange('POST /api/changes', '/api/changes', text, headers);
  expect([200, 201, 400, 413, 415], what).toContain(res.status);
  if (res.status === 201) {
    expect(res.json.key, what).toMatch(/^CHG-\d+$/);
    expect(after.changes - before.changes, `${what}: a 201 stores exactly one change`).toBe(1);
    expect(after.audit_events - before.audit_events, `${what}: a 201 is audited`).toBeGreaterThanOrEqual(2);
    // What was stored can be read back, gated and listed.
    expect(await get(`/api/changes/${res.json.key}`), `${what}: GET the stored change`).toBe(200);
    expect(await get(`/api/changes/${res.json.key}/gate`), `${what}: its gate`).toBeLessThan(500);
  }
  if (res.status === 200) expect(after.changes - before.changes, `${what}: a 200 stores nothing new`).toBe(0);
  return res;
}

describe('POST /api/changes under fuzzing', () => {
  it('when the body is arbitrary JSON, then the answer is never 5xx, a 400 names non-empty paths, and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (value) => {
        const res = await checkChange(JSON.stringify(value) ?? 'null');
        expect(res.status).toBe(400);
      }),
      params(),
    );
  });

  it('when a valid body has fields dropped, replaced by random JSON or odd strings, then it is stored once (201) or refused with field issues and nothing written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb(CHANGE_PATHS, CHANGE_OBJECTS).filter((m) => m.kind === 'drop' || m.kind === 'replace' || m.kind === 'string'), { minLength: 1, maxLength: 3 }), async (mutations) => {
        await checkChange(applyMutations(validChange(), mutations));
      }),
      params(),
    );
  });

  it('when odd unicode (BOM, bidi, controls, emoji; NUL and lone surrogates are pinned under known bugs) or strings up to 12k characters go into every string field of a valid body, then never 5xx and no partial write', { timeout: TIMEOUT }, async () => {
    const stringPaths = ['external_id', 'title', 'description', 'ai_tool', 'author.name', 'labels[0]', 'labels[2]', 'commits[0].message', 'diff.paths[0]', 'diff.paths[3]',
      'terraform_plan.resource_changes[0].address', 'terraform_plan.resource_changes[0].action_reason', 'terraform_plan.resource_changes[1].change.actions[1]', 'terraform_plan.note', 'terraform_plan.variables.region.value'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...stringPaths), weirdString, async (path, value) => {
        await checkChange(applyMutations(validChange(), [{ kind: 'string', path, value }]));
      }),
      params(),
    );
  });

  it('when numeric fields hold NaN-ish tokens, huge or non-JSON numbers, then the answer is 400 (invalid_json or field issues) or a clean 201, never 5xx', { timeout: TIMEOUT }, async () => {
    const numberPaths = ['ai_share', 'diff.files_changed', 'diff.additions', 'diff.deletions', 'ai_assisted', 'terraform_plan.format_version', 'title', 'author'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...numberPaths), rawToken, async (path, token) => {
        await checkChange(applyMutations(validChange(), [{ kind: 'raw', path, token }]));
      }),
      params(),
    );
  });

  it('when deeply nested objects or arrays are put into a valid body (the terraform plan included), then never 5xx and no partial write', { timeout: TIMEOUT }, async () => {
    const deepPaths = ['deep', 'description', 'author', 'diff', 'diff.paths', 'labels', 'commits', 'terraform_plan', 'terraform_plan.deep', 'terraform_plan.resource_changes', 'terraform_plan.resource_changes[0].change.after'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...deepPaths), deepShape, async (path, nest) => {
        await checkChange(applyMutations(validChange(), [{ kind: 'deep', path, nest }]));
      }),
      params(),
    );
  });

  it('when arrays stand in for objects or random keys are added at any level, then 400 names the offending fields and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb(CHANGE_PATHS, CHANGE_OBJECTS).filter((m) => m.kind === 'array-for-object' || m.kind === 'add-keys'), { minLength: 1, maxLength: 2 }), async (mutations) => {
        await checkChange(applyMutations(validChange(), mutations));
      }),
      params(),
    );
  });

  it('when any mix of mutations hits a valid body, then every invariant holds', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb(CHANGE_PATHS, CHANGE_OBJECTS), { minLength: 1, maxLength: 4 }), async (mutations) => {
        await checkChange(applyMutations(validChange(), mutations));
      }),
      params(),
    );
  });

  it('when random bytes arrive as JSON (or under other content types), then 400 invalid_json, 415 or 413, never 5xx, nothing written', { timeout: TIMEOUT }, async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => new Uint8Array([...Buffer.from('{"title":"'), ...b, ...Buffer.from('"}')])),
      fc.uint8Array({ maxLength: 200 }).map((b) => new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(JSON.stringify(validChange())), ...b])),
      fc.integer({ min: MAX_BODY - 10, max: MAX_BODY * 2 }).map((n) => new Uint8Array(n).fill(0x20)),
    );
    const contentType = fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/json') },
      { weight: 4, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', '', 'application/merge-patch+json') },
    );
    await fc.assert(
      fc.asyncProperty(bytes, contentType, async (body, type) => {
        await checkChange(body, { 'content-type': type });
      }),
      params(),
    );
  });
});

// ——— incidents ———

const validIncident = () => ({ title: 'Checkout returns 500s', severity: 'sev2', services: ['checkout', 'payments-api'], started_at: '2026-11-02T09:30:00Z', source: 'pagerduty', external_id: fresh('P') });
const INCIDENT_PATHS = ['title', 'severity', 'services', 'services[0]', 'services[3]', 'started_at', 'source', 'external_id'] as const;

async function checkIncident(text: string | Uint8Array, headers: Record<string, string> = {}, hunting = false) {
  if (!hunting) fc.pre(knownBug('incidents', text) === null);
  const { res, before, after, what } = await exchange('POST /api/incidents', '/api/incidents', text, headers);
  expect([200, 201, 400, 401, 413, 415], what).toContain(res.status);
  if (res.status === 201) {
    expect(res.json.key, what).toMatch(/^INC-\d+$/);
    expect(after.incidents - before.incidents, `${what}: a 201 stores exactly one incident`).toBe(1);
    expect(await get(`/api/incidents/${res.json.key}`), `${what}: GET the stored incident`).toBe(200);
  }
  if (res.status === 200) expect(after.incidents - before.incidents, `${what}: a 200 stores nothing new`).toBe(0);
  return res;
}

describe('POST /api/incidents under fuzzing', () => {
  it('when the body is arbitrary JSON or random bytes, then never 5xx and nothing is written', { timeout: TIMEOUT }, async () => {
    const body = fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? 'null'), fc.uint8Array({ maxLength: 500 }));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await checkIncident(b);
        expect(res.status).toBe(400);
      }),
      params(),
    );
  });

  it('when a valid declaration is mutated (dropped, replaced, odd unicode, huge, raw tokens, deep, extra keys), then 201/200 with one incident at most, or a clean 4xx with nothing written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb(INCIDENT_PATHS, ['']), { minLength: 1, maxLength: 3 }), async (mutations) => {
        await checkIncident(applyMutations(validIncident(), mutations));
      }),
      params(),
    );
  });

  it('when the token is missing or wrong, then 401 and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(badAuthorization, async (auth) => {
        const res = await checkIncident(JSON.stringify(validIncident()), { authorization: auth ?? '' });
        expect(res.status).toBe(401);
      }),
      params(30),
    );
  });
});

// ——— deployments ———

const validDeployment = () => ({ environment: 'production', service: 'checkout', deployed_at: '2026-11-02T09:00:00Z', status: 'failed' });
const DEPLOYMENT_PATHS = ['environment', 'service', 'deployed_at', 'status'] as const;

/** A path segment for a change key: random text percent-encoded, or raw segments that do not decode. */
const randomKey = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => ({ key: s, segment: safeEncode(s) })),
  fc.constantFrom('CHG-0', 'CHG-999999999', 'CHG-9999999999', 'CHG-99999999999999999999', 'CHG--1', 'CHG-1.5', 'CHG-1e3', 'CHG- 1', 'chg-', 'INC-1', ' ', '\u0000', 'CHG-1\u0000', '💥').map((s) => ({ key: s, segment: safeEncode(s) })),
  fc.constantFrom('%ED%A0%80', '%FF', '%', '%zz', '%00', '.', '..', '%2e%2e', 'CHG-1%2F..', '%2F').map((s) => ({ key: s, segment: s })),
);
function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return Buffer.from(s).toString('hex');
  }
}

async function checkDeployment(segment: string, text: string, expectKnown: boolean, headers: Record<string, string> = {}, hunting = false) {
  if (!hunting) fc.pre(knownBug('deployments', text) === null);
  const path = `/api/changes/${segment}/deployments`;
  const { res, before, after, what } = await exchange(`POST ${path} ${text.slice(0, 300)}`, path, text, headers);
  expect([201, 400, 401, 404, 405, 413, 415], what).toContain(res.status);
  if (expectKnown) expect(res.status, what).not.toBe(404);
  if (res.status === 201) {
    expect(after.deployments - before.deployments, `${what}: a 201 records exactly one deployment`).toBe(1);
    expect(after.audit_events - before.audit_events, `${what}: a 201 is audited`).toBeGreaterThanOrEqual(1);
  }
  return res;
}

describe('POST /api/changes/:key/deployments under fuzzing', () => {
  it('when a known change gets arbitrary JSON or a mutated deployment, then 201 records exactly one, or a clean 400 writes nothing', { timeout: TIMEOUT }, async () => {
    const body = fc.oneof(
      { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? 'null') },
      { weight: 3, arbitrary: fc.array(mutationArb(DEPLOYMENT_PATHS, ['']), { minLength: 1, maxLength: 3 }).map((m) => applyMutations(validDeployment(), m)) },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('approved', 'pending'), body, async (which, text) => {
        await checkDeployment(which === 'approved' ? approvedKey : pendingKey, text, true);
      }),
      params(),
    );
  });

  it('when the change key is random, then 404 (or a field 400), never 5xx, nothing written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(randomKey, async ({ segment }) => {
        const res = await checkDeployment(segment, JSON.stringify(validDeployment()), false);
        expect([201, 404, 405], `random key ${segment} → ${res.status}`).toContain(res.status);
      }),
      params(),
    );
  });

  it('when the token is missing or wrong, then 401 and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(badAuthorization, async (auth) => {
        const res = await checkDeployment(pendingKey, JSON.stringify(validDeployment()), true, { authorization: auth ?? '' });
        expect(res.status).toBe(401);
      }),
      params(30),
    );
  });
});

// ——— Alertmanager ———

/** Mutations of a valid v4 notification, firing or resolved, for a small set of group keys (so updates and resolutions happen). */
const ALERT_PATHS = [
  'status', 'groupKey', 'version', 'receiver', 'truncatedAlerts', 'externalURL', 'groupLabels', 'groupLabels.alertname', 'groupLabels.service',
  'commonLabels', 'commonLabels.service', 'commonLabels.severity', 'commonLabels.alertname', 'commonAnnotations', 'commonAnnotations.summary',
  'alerts', 'alerts[0]', 'alerts[0].status', 'alerts[0].labels', 'alerts[0].labels.service', 'alerts[0].labels.severity', 'alerts[0].annotations',
  'alerts[0].startsAt', 'alerts[0].endsAt', 'alerts[0].fingerprint', 'alerts[1]', 'alerts[1].labels.service', 'alerts[1].startsAt',
] as const;
const ALERT_OBJECTS = ['', 'groupLabels', 'commonLabels', 'commonAnnotations', 'alerts[0]', 'alerts[0].labels', 'alerts[0].annotations'] as const;

const validAlert = fc.record({
  status: fc.constantFrom('firing', 'resolved') as fc.Arbitrary<'firing' | 'resolved'>,
  groupKey: fc.constantFrom('{}:{alertname="CheckoutErrors"}', '{}:{alertname="SearchDown"}', '{}/{team="x"}:{alertname="Fuzz"}'),
  service: fc.constantFrom('checkout', 'search-api', 'infra', 'unknown-svc'),
  severity: fc.constantFrom('critical', 'error', 'warning', 'info', 'page'),
}).map(({ status, groupKey, service, severity }) => buildAlertmanagerPayload({ status, groupKey, commonLabels: { alertname: 'CheckoutErrors', service, severity }, alerts: [{}, { labels: { service: 'payments-api', severity: 'warning' } }] }));

async function checkAlertmanager(text: string | Uint8Array, headers: Record<string, string> = {}, hunting = false) {
  if (!hunting) fc.pre(knownBug('alertmanager', text) === null);
  const { res, before, after, what } = await exchange('POST /webhooks/alertmanager', '/webhooks/alertmanager', text, headers);
  expect([200, 400, 401, 413, 415], what).toContain(res.status);
  if (res.status === 200) {
    expect(['opened', 'updated', 'resolved', 'ignored'], what).toContain(res.json?.action);
    const opened = res.json.action === 'opened' ? 1 : 0;
    expect(after.incidents - before.incidents, `${what}: ${res.json.action} opens ${opened} incident(s)`).toBe(opened);
    if (res.json.action === 'ignored') expect(delta(before, after), `${what}: ignored writes nothing`).toEqual(NOTHING);
    if (res.json.incident) expect(await get(`/api/incidents/${res.json.incident}`), `${what}: GET ${res.json.incident}`).toBe(200);
  }
  return res;
}

describe('POST /webhooks/alertmanager under fuzzing', () => {
  it('when the body is arbitrary JSON or random bytes, then 400 (or a 200 outcome for what happens to be readable), never 5xx, nothing written on 4xx', { timeout: TIMEOUT }, async () => {
    const body = fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? 'null'), fc.uint8Array({ maxLength: 500 }), fc.record({ groupKey: weirdString, status: fc.constantFrom('firing', 'resolved') }).map((v) => JSON.stringify(v)));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        await checkAlertmanager(b);
      }),
      params(),
    );
  });

  it('when a valid v4 notification (firing or resolved) is mutated, then a 200 outcome consistent with the rows, or a clean 400, never 5xx', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(validAlert, fc.array(mutationArb(ALERT_PATHS, ALERT_OBJECTS), { minLength: 1, maxLength: 3 }), async (payload, mutations) => {
        await checkAlertmanager(applyMutations(payload, mutations));
      }),
      params(),
    );
  });

  it('when odd unicode or huge strings go into the labels, annotations and group key of a valid notification, then never 5xx and no partial write', { timeout: TIMEOUT }, async () => {
    const stringPaths = ['groupKey', 'commonLabels.service', 'commonLabels.severity', 'commonLabels.alertname', 'commonAnnotations.summary', 'groupLabels.alertname', 'alerts[0].labels.service', 'alerts[0].labels.severity', 'alerts[0].startsAt', 'alerts[1].annotations.summary', 'commonLabels.fuzz'] as const;
    await fc.assert(
      fc.asyncProperty(validAlert, fc.constantFrom(...stringPaths), weirdString, async (payload, path, value) => {
        // Only the summary is the title when present: drop it sometimes so alertname reaches the title.
        const base = path === 'commonLabels.alertname' ? deleteAt(payload, 'commonAnnotations.summary') : payload;
        await checkAlertmanager(applyMutations(base, [{ kind: 'string', path, value }]));
      }),
      params(),
    );
  });

  it('when the token is missing or wrong, then 401 and nothing is written', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(badAuthorization, validAlert, async (auth, payload) => {
        const res = await checkAlertmanager(JSON.stringify(payload), { authorization: auth ?? '' });
        expect(res.status).toBe(401);
      }),
      params(30),
    );
  });
});

/**
 * Bugs the fuzzing found, each pinned by its own test (they fail until src is fixed). The broad properties above
 * skip these inputs (see `knownBug`) so that they keep finding other problems; FUZZ_KNOWN_BUGS=1 lets them through.
 */
describe('regressions found by fuzzing (fixed)', () => {
  const STRING_FIELDS = [
    'source', 'external_id', 'title', 'description', 'url', 'environment', 'author.github', 'author.email', 'author.name', 'author.slack_id',
    'ai_tool', 'labels[0]', 'commits[0].sha', 'commits[0].message', 'head_sha', 'diff.paths[0]', 'terraform_plan.format_version',
    'terraform_plan.resource_changes[0].address', 'terraform_plan.resource_changes[0].action_reason', 'terraform_plan.resource_changes[0].change.actions[0]', 'terraform_plan.note',
  ] as const;

  for (const [what, value] of [['a NUL character', 'a\u0000b'], ['a lone high surrogate', 'a\ud800b'], ['a lone low surrogate', 'a\udc00b']] as const) {
    it(`when ${what} is in any string field of a valid change, then 201 or 400, never 500 (every failing field is listed)`, { timeout: TIMEOUT }, async () => {
      const failures: string[] = [];
      for (const field of STRING_FIELDS) {
        const before = await counts();
        const res = await post('/api/changes', applyMutations(validChange(), [{ kind: 'string', path: field, value }]));
        const d = delta(before, await counts());
        const written = Object.fromEntries(Object.entries(d).filter(([, n]) => n !== 0));
        if (res.status >= 500) failures.push(`${field}=${JSON.stringify(value)} → ${res.status} (rows written: ${JSON.stringify(written)})`);
        else if (res.status >= 400 && Object.keys(written).length) failures.push(`${field} → ${res.status} but wrote ${JSON.stringify(written)}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it('when a valid change carries a deeply nested terraform plan, then 201 or 400, never 500', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40_000 }), fc.constantFrom('object', 'array', 'mixed'), async (depth, shape) => {
        await checkChange(applyMutations(validChange(), [{ kind: 'deep', path: 'terraform_plan.deep', nest: { depth, shape } }]), {}, true);
      }),
      params(30),
    );
  });

  it('when an Alertmanager groupKey is long and does not compress (within the 10,000 characters the schema allows), then 200 or 400, never 500', { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.integer({ min: 100, max: 10_000 }), fc.constantFrom('ascii', 'latin', 'cjk'), fc.constantFrom('firing', 'resolved'), async (seed, n, alphabet, status) => {
        await checkAlertmanager(JSON.stringify({ groupKey: noise(seed, n, alphabet), status }), {}, true);
      }),
      params(30),
    );
  });

  it('when a body has an unknown key that is the empty string, then the 400 names it with a non-empty issue path', { timeout: TIMEOUT }, async () => {
    const route = fc.constantFrom('changes', 'incidents', 'deployments');
    await fc.assert(
      fc.asyncProperty(route, anyJson, async (which, value) => {
        if (which === 'changes') await checkChange(JSON.stringify({ ...validChange(), '': value }), {}, true);
        else if (which === 'incidents') await checkIncident(JSON.stringify({ ...validIncident(), '': value }), {}, true);
        else await checkDeployment(approvedKey, JSON.stringify({ ...validDeployment(), '': value }), true, {}, true);
      }),
      params(20),
    );
  });
});

describe('after the fuzzing', () => {
  it('when every property has run, then the app is still healthy and ready', async () => {
    expect(await get('/healthz')).toBe(200);
    expect(await get('/readyz')).toBe(200);
  });
});
