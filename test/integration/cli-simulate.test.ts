import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildChangeInput } from '../factories/change.ts';
import { TEST_CONFIG_RAW } from '../factories/config.ts';
import { API_TOKEN, fakeClock, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { runCli, type CliResult } from '../support/processes.ts';


let app: TestApp;
let dir: string;
const clock = fakeClock();

/** The CLI as a child process, in the test folder, against the in-process app. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { COUNTERSIGN_URL: app.url, COUNTERSIGN_TOKEN: API_TOKEN, ...env } });
}

const write = (name: string, content: string) => (writeFileSync(join(dir, name), content), name);

/** The built-in rules plus "any production change is medium", and high now needs two sign-offs. */
const CANDIDATE = {
  ...structuredClone(TEST_CONFIG_RAW),
  policy: {
    rules: [
      { name: 'ai-change-by-non-senior', description: 'AI-assisted change by a junior or mid-level engineer', when: { ai_assisted: true, author_level: ['junior', 'mid', 'unknown'] }, level: 'high' },
      { name: 'any-production-change', description: 'anything going to production', when: { environment: ['production'] }, level: 'medium' },
    ],
    approvals: { low: 0, medium: 1, high: 2, critical: 2 },
  },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-simulate-'));
  app = await startTestApp({ database: await createTestDatabase(), clock });
  // A: Mon 2 Nov 09:00, jdoe (junior), AI → high/1, assigned alice, still pending.
  clock.set(new Date('2026-11-02T09:00:00Z'));
  expect((await app.api('POST', '/api/changes', buildChangeInput({ title: 'A change' }))).body.assigned_to).toBe('U0ALICE');
  // B: Mon 09:05, alice (senior), not AI → low/0, approved on arrival.
  clock.set(new Date('2026-11-02T09:05:00Z'));
  expect((await app.api('POST', '/api/changes', buildChangeInput({ title: 'B change', author: { github: 'alice' }, ai_assisted: false }))).body.status).toBe('approved');
  clock.set(new Date('2026-11-06T18:00:00Z'));
  write('candidate.yml', stringify(CANDIDATE));
});
afterAll(() => app?.stop());

describe('countersign policy simulate', () => {
  it('when the server simulates, then it prints the tables and exits 0', async () => {
    const r = await cli(['policy', 'simulate', '--config', 'candidate.yml', '--days', '7']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // By hand: A high/1 → high/2 (both rules match), B low/0 → medium/1 (production).
    // Window Fri 30 Oct 18:00 → Fri 6 Nov 18:00: 0.25 + 4 + 0.75 = 5 working days.
    // Candidate assignment: A 09:00–end {alice, bob} → alice; B 09:05 {bob} (alice wrote it) → bob.
    // Actual: alice was assigned A; B needed nobody. Per day ÷ 5.
    expect(r.stdout).toBe(
      [
        'Policy simulation: 2 changes registered 2026-10-30 18:00 UTC → 2026-11-06 18:00 UTC (7 days, 5 working days)',
        '',
        '                  current  candidate',
        'low                     1          0',
        'medium                  0          1',
        'high                    1          1',
        'critical                0          0',
        'needing sign-off        1          2',
        '',
        'Needing sign-off by team',
        'team      current  candidate',
        'payments        1          2',
        'platform        0          0',
        'search          0          0',
        '',
        'Changed: 2 changes (level/sign-offs)',
        'key    title     current  candidate   rules',
        'CHG-1  A change  high/1   → high/2    ai-change-by-non-senior, any-production-change',
        'CHG-2  B change  low/0    → medium/1  any-production-change',
        '',
        'Sign-off requests per working day (expected: least-loaded assignment under the candidate; actual: assigned)',
        'senior   team      actual/day  expected/day  actual  expected',
        'U0ALICE  payments        0.20          0.20       1         1',
        'U0BOB    payments        0.00          0.20       0         1',
        'U0CAROL  platform        0.00          0.00       0         0',
        'U0DAVE   platform        0.00          0.00       0         0',
        'U0ERIN   search          0.00          0.00       0         0',
        '',
      ].join('\n'),
    );
  });

  it('when --json is given, then it prints the server\'s answer', async () => {
    const r = await cli(['policy', 'simulate', '--config', 'candidate.yml', '--days', '7', '--json']);
    expect(r.code).toBe(0);
    const api = await app.api('POST', '/api/policy/simulate', { config: CANDIDATE, days: 7 });
    expect(JSON.parse(r.stdout)).toEqual(api.body);
  });

  it('when the candidate config is invalid, then it exits 4 naming every problem by its key path', async () => {
    const bad = structuredClone(CANDIDATE) as any;
    bad.policy.rules[1].when.paths_match = ['!(x)'];
    bad.review = { assignment: 'sometimes' };
    const r = await cli(['policy', 'simulate', '--config', write('bad.yml', stringify(bad))]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the server refused the request (400)');
    expect(r.stderr).toContain('  config.policy.rules[1].when.paths_match[0]: ');
    expect(r.stderr).toContain('  config.review.assignment: expected least_loaded or everyone');
  });

  it('when the arguments are wrong, then it exits 4 with the usage', async () => {
    const noConfig = await cli(['policy', 'simulate']);
    expect(noConfig.code).toBe(4);
    expect(noConfig.stderr).toContain('needs the candidate config: --config FILE');
    expect(noConfig.stderr).toContain('countersign policy simulate --config FILE');
    const days = await cli(['policy', 'simulate', '--config', 'candidate.yml', '--days', '400']);
    expect(days.code).toBe(4);
    expect(days.stderr).toContain('--days "400": expected a whole number of days from 1 to 365');
    const missing = await cli(['policy', 'simulate', '--config', 'nope.yml']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('--config nope.yml: cannot read: ENOENT');
  });

  it('when the token is refused or the server cannot be reached, then it exits 4 saying so', async () => {
    const token = await cli(['policy', 'simulate', '--config', 'candidate.yml'], { COUNTERSIGN_TOKEN: 'not-a-token-000' });
    expect(token.code).toBe(4);
    expect(token.stderr).toContain('the server refused the token (401)');
    // A port nobody listens on.
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const down = await cli(['policy', 'simulate', '--config', 'candidate.yml'], { COUNTERSIGN_URL: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('cannot reach Countersign');
  });

  it('when asked for help, then it shows both policy commands', async () => {
    const r = await cli(['help', 'policy']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('countersign policy simulate --config FILE [--days 30] [--json]');
  });
});
