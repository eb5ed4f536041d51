import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { systemClock } from '../../src/domain/types.ts';
import { createLogger } from '../../src/logger.ts';
import { configReviewers, silentIncidentNotifier, silentNotifier, silentObserver, type Deps } from '../../src/use-cases/ports.ts';
import { recordSignOff } from '../../src/use-cases/record-sign-off.ts';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { API_TOKEN, startTestApp } from '../support/app.ts';
import { createTestDatabase, onRealPostgres } from '../support/db.ts';
import { runCli, spawnApp, writeConfigFile, type CliResult } from '../support/processes.ts';


/** The server under test: a separate process on real Postgres, the app in-process on PGlite. */
let server: { url: string; deps: Deps; stop(): Promise<void> };
let db: Database & { url?: string };

beforeAll(async () => {
  db = await createTestDatabase();
  if (onRealPostgres()) {
    const proc = await spawnApp({ DATABASE_URL: db.url!, COUNTERSIGN_CONFIG: writeConfigFile(), COUNTERSIGN_SANDBOX: 'off' });
    const config = buildConfig();
    // Sign-offs go through the use case on the same database the process serves.
    const deps: Deps = { database: db, config, clock: systemClock, reviewers: configReviewers(config), notifier: silentNotifier, incidents: silentIncidentNotifier, logger: createLogger('silent', { pretty: false }), observe: silentObserver };
    server = {
      url: proc.url,
      deps,
      async stop() {
        await proc.kill('SIGTERM');
        await db.close();
      },
    };
  } else {
    const app = await startTestApp({ database: db });
    server = { url: app.url, deps: app.deps, stop: () => app.stop() };
  }
});
afterAll(() => server?.stop());

/** The CLI as a child process, against the in-process server. */
function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string; onStderr?: (soFar: string) => void } = {}): Promise<CliResult> {
  return runCli(args, { ...opts, env: { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: API_TOKEN, ...opts.env } });
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A high-risk change (AI-assisted, junior author): pending, one sign-off needed. */
async function pendingChange(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.key;
}

const signOff = (key: string, decision: 'approved' | 'rejected', reason?: string) => recordSignOff(server.deps, { key, reviewer: 'U0ALICE', decision, reason });

/** A git repository with a main branch and a feature branch whose commit carries an Assisted-by trailer. */
function gitRepo(): { dir: string; head: string } {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Mia K', '-c', 'user.email=mia@example.com', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  writeFileSync(join(dir, 'README.md'), '# shop\n');
  git('add', '.');
  git('commit', '-q', '-m', 'Initial commit');
  git('checkout', '-q', '-b', 'feature/retry');
  writeFileSync(join(dir, 'capture.ts'), 'export const retries = 3;\nexport const backoff = 200;\n');
  writeFileSync(join(dir, 'README.md'), '# shop\n\nRetries payment capture.\n');
  git('add', '.');
  git('commit', '-q', '-m', 'Retry payment capture on timeout\n\nAssisted-by: Claude <noreply@anthropic.com>');
  return { dir, head: git('rev-parse', 'HEAD') };
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('countersign submit', () => {
  it('when a destructive terraform plan is submitted, then it prints the key, the pending status, the critical risk and every reason', async () => {
    const r = await cli([
      'submit',
      '--title', 'Replace the VPC',
      '--service', 'infra',
      '--environment', 'production',
      '--author-github', 'carol',
      '--plan', 'test/fixtures/plan-destructive.json',
      '--external-id', 'cli-plan-1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CHG-\d+ registered: pending$/m);
    expect(r.stdout).toContain('risk: critical, needs 2 senior sign-offs');
    expect(r.stdout).toContain('  - destroys-infrastructure: destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc); environment production');

    // Submitting again is idempotent: the same change comes back, still exit 0.
    const again = await cli(['submit', '--title', 'Replace the VPC', '--service', 'infra', '--environment', 'production', '--author-github', 'carol', '--plan', 'test/fixtures/plan-destructive.json', '--external-id', 'cli-plan-1', '--json']);
    expect(again.code).toBe(0);
    const body = JSON.parse(again.stdout);
    expect(body.key).toBe(/^(CHG-\d+)/m.exec(r.stdout)![1]);
    expect(body.risk.level).toBe('critical');
  });

  it('when --from-git runs in a checkout whose commit has an Assisted-by trailer, then the change is AI-assisted with the head SHA, diff stats and paths', async () => {
    const repo = gitRepo();
    const outputs = join(mkdtempSync(join(tmpdir(), 'countersign-gh-')), 'output');
    writeFileSync(outputs, '');
    const r = await cli(['submit', '--from-git', '--base', 'main', '--title', 'Retry payment capture', '--service', 'checkout', '--environment', 'production', '--author-github', 'mia-k'], {
      cwd: repo.dir,
      env: { GITHUB_OUTPUT: outputs },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CHG-\d+ registered: pending$/m);
    expect(r.stdout).toContain('risk: high, needs 1 senior sign-off');
    expect(r.stdout).toMatch(/- ai-change-by-non-senior: .*mid/);
    expect(r.stdout).toContain('AI-assisted: yes (Claude)');
    expect(r.stdout).toContain(`commit ${repo.head.slice(0, 7)} has an Assisted-by: Claude trailer`);
    const key = /^(CHG-\d+)/m.exec(r.stdout)![1];
    expect(r.stdout).toContain(`wait: countersign wait ${key} --sha ${repo.head}`);
    expect(readFileSync(outputs, 'utf8')).toBe(`key=${key}\nstatus=pending\nrisk=high\n`);

    const stored = (await api('GET', `/api/changes/${key}`)).body;
    expect(stored).toMatchObject({
      head_sha: repo.head,
      external_id: `${basename(repo.dir)}@${repo.head}`,
      source: 'ci',
      ai_assisted: true,
      diff: { files_changed: 2, additions: 4, deletions: 0 },
    });
    expect(stored.diff.paths.sort()).toEqual(['README.md', 'capture.ts']);
  });

  it('when the --base ref is missing, then it warns and reads the last commits instead', async () => {
    const repo = gitRepo();
    const r = await cli(['submit', '--from-git', '--title', 'Retry payment capture', '--service', 'checkout', '--environment', 'production', '--author-github', 'mia-k'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: base ref origin/main was not found');
    expect(r.stdout).toContain('AI-assisted: yes (Claude)');
    const key = /^(CHG-\d+)/m.exec(r.stdout)![1];
    // Both commits (from the empty tree): three additions in capture.ts... and README.md from scratch.
    expect((await api('GET', `/api/changes/${key}`)).body.diff).toMatchObject({ files_changed: 2, additions: 5 });
  });

  it('when the server refuses the change, then each field problem is printed and it exits 4', async () => {
    const r = await cli(['submit', '--title', 'No service', '--environment', 'production', '--author-github', 'jdoe']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('the server refused the change (400)');
    expect(r.stderr).toContain('  service: is required');
    const usage = await cli(['submit', '--titel', 'typo']);
    expect(usage.code).toBe(4);
    expect(usage.stderr).toMatch(/Unknown option '--titel'/);
    const missing = await cli(['submit', '--title', 'x', '--service', 'checkout', '--environment', 'production', '--author-github', 'jdoe', '--plan', 'nope.json']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('--plan');
  });
});

describe('countersign wait', () => {
  it('when a senior approves while it waits, then it exits 0, with the status on stderr', async () => {
    const key = await pendingChange();
    let soFar = '';
    const waiting = cli(['wait', key, '--interval', '200ms', '--timeout', '30s'], { onStderr: (s) => (soFar = s) });
    // Approve only once the CLI has seen the change pending (its start-up time varies with load).
    const deadline = Date.now() + 20_000;
    while (!soFar.includes('is pending') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await signOff(key, 'approved')).toMatchObject({ ok: true, decided: true });
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${key} is pending: waiting for sign-off`);
    expect(r.stdout).toBe(`${key} is approved: the gate is open\n`);
  });

  it('when a senior rejects, then it exits 1 and says who and why', async () => {
    const key = await pendingChange();
    const waiting = cli(['wait', key, '--interval', '200ms', '--timeout', '30s']);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await signOff(key, 'rejected', 'no tests for the retry')).toMatchObject({ ok: true });
    const r = await waiting;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${key} is rejected: the gate is closed (rejected by Alice: "no tests for the retry")\n`);
  });

  it('when nobody decides before --timeout, then it exits 2', async () => {
    const key = await pendingChange();
    const started = Date.now();
    const r = await cli(['wait', key, '--timeout', '2s', '--interval', '200ms']);
    expect(r.code).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(r.stdout).toContain(`${key}: timed out after 2s; still pending`);
  });

  it('when the approval covers a different commit than --sha, then it exits 3 (stale approval)', async () => {
    const approvedSha = 'a'.repeat(40);
    const key = await pendingChange({ head_sha: approvedSha });
    await signOff(key, 'approved');
    const r = await cli(['wait', key, '--sha', 'b'.repeat(40), '--interval', '200ms', '--timeout', '10s']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`stale approval: ${key} is approved for commit ${approvedSha}, not ${'b'.repeat(40)}`);
    const ok = await cli(['wait', key, '--sha', approvedSha, '--interval', '200ms', '--timeout', '10s']);
    expect(ok.code).toBe(0);
  });

  it('when --plan names the plan that was approved, then it exits 0; another plan digest exits 3', async () => {
    const key = await pendingChange({ terraform_plan: loadPlan('plan-destructive') });
    await signOff(key, 'approved');
    expect(await recordSignOff(server.deps, { key, reviewer: 'U0BOB', decision: 'approved' })).toMatchObject({ ok: true, decided: true });
    const ok = await cli(['wait', key, '--plan', 'test/fixtures/plan-destructive.json', '--timeout', '10s']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^${key} is approved: the gate is open for plan [0-9a-f]{64}$`, 'm'));
    const stale = await cli(['wait', key, '--plan-sha256', 'c'.repeat(64), '--timeout', '10s']);
    expect(stale.code).toBe(3);
  });

  it('when the key is unknown, then it exits 4 naming the key', async () => {
    const r = await cli(['wait', 'CHG-987654', '--timeout', '5s', '--interval', '200ms']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('there is no change CHG-987654');
  });

  it('when the server cannot be reached or the URL is malformed, then it exits 4 with a clear message', async () => {
    const port = await closedPort();
    const r = await cli(['wait', 'CHG-1', '--timeout', '5s'], { env: { COUNTERSIGN_URL: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`cannot reach Countersign at http://127.0.0.1:${port}: ECONNREFUSED`);
    const bad = await cli(['wait', 'CHG-1'], { env: { COUNTERSIGN_URL: 'countersign.example' } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('COUNTERSIGN_URL "countersign.example" is not a URL');
    const noToken = await cli(['wait', 'CHG-1'], { env: { COUNTERSIGN_TOKEN: '' } });
    expect(noToken.code).toBe(4);
    expect(noToken.stderr).toContain('COUNTERSIGN_TOKEN is not set');
    const badToken = await cli(['wait', 'CHG-1'], { env: { COUNTERSIGN_TOKEN: 'wrong-token' } });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain('refused the token (401)');
  });
});

describe('countersign help', () => {
  it('when asked for help, then usage comes back with exit 0; an unknown command exits 4 with usage', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('countersign wait KEY');
    const waitHelp = await cli(['help', 'wait']);
    expect(waitHelp.code).toBe(0);
    expect(waitHelp.stdout).toContain('3  approved, but for a different commit or plan');
    const unknown = await cli(['deploy']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('unknown command "deploy"');
    expect(unknown.stderr).toContain('Usage:');
  });
});

// Last: it breaks the chain for everything after it.
describe('countersign audit verify', () => {
  it('when the chain is intact, then it exits 0; after one row is edited behind the trigger, it exits 1 naming that row', async () => {
    await pendingChange();
    // Rows are sealed once they are a second old; verify seals what is due before checking.
    let body: { ok: boolean; unsealed: number } = { ok: false, unsealed: 1 };
    for (let i = 0; i < 50 && body.unsealed > 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      body = (await api('GET', '/api/audit/verify')).body;
    }
    expect(body).toMatchObject({ ok: true, unsealed: 0 });
    const ok = await cli(['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit chain intact: \d+ rows checked, head \d+ [0-9a-f]{64}/);

    const [victim] = await db.rows<{ id: number }>(sql`select id::int as id from audit_events where action = 'change_registered' and hash is not null order by id limit 1 offset 1`);
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_events set actor = 'mallory' where id = ${victim.id}`);
    });
    const broken = await cli(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`audit chain BROKEN at row ${victim.id}: hash does not match the row`);
  });
});
