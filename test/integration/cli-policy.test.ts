import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildChangeInput, loadPlan } from '../factories/change.ts';
import { runCli, type CliResult } from '../support/processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHIPPED_CONFIG = join(ROOT, 'countersign.yml');

/** The CLI as a child process, in the test folder; no server, no token. */
function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return runCli(args, { cwd: opts.cwd ?? dir, env: opts.env });
}

/** A temporary folder for case files and configs; the CLI runs in it so file names print as typed. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-policy-test-'));
});

function write(name: string, content: unknown): string {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
  return name;
}

const juniorAi = { name: 'junior AI change is high', change: buildChangeInput(), expect: { level: 'high', approvals_required: 1, rules: ['ai-change-by-non-senior'], ai_assisted: true, status: 'pending' } };
const seniorPlain = {
  name: 'plain change by a senior is low',
  change: buildChangeInput({ author: { github: 'alice' }, ai_assisted: false }),
  expect: { level: 'low', approvals_required: 0, rules: [], status: 'approved' },
};

describe('countersign policy test', () => {
  it('when every case passes, then it exits 0 with one ok line per case and a summary', async () => {
    const file = write('passing.yml', { cases: [juniorAi, seniorPlain] });
    const r = await cli(['policy', 'test', file, '--config', SHIPPED_CONFIG]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['ok   passing.yml › junior AI change is high', 'ok   passing.yml › plain change by a senior is low', '2 cases: 2 passed, 0 failed']);
  });

  it('when a JSON file uses the real destructive plan, then it is decided critical with 2 sign-offs', async () => {
    const change = buildChangeInput({ service: 'infra', author: { github: 'dave' }, ai_assisted: false, terraform_plan: loadPlan('plan-destructive') });
    const file = write('plan.json', JSON.stringify({ cases: [{ name: 'destroys production', change, expect: { level: 'critical', approvals_required: 2, rules: ['destroys-infrastructure'] } }] }));
    const r = await cli(['policy', 'test', file], { env: { COUNTERSIGN_CONFIG: SHIPPED_CONFIG } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok   plan.json › destroys production');
  });

  it('when a case fails, then it exits 1 showing each expected value against the actual one and the matching rules with their reasons', async () => {
    const wrong = { name: 'junior AI change to auth is critical', change: buildChangeInput({ diff: { files_changed: 1, additions: 5, deletions: 1, paths: ['src/auth/session.ts'] } }), expect: { level: 'critical', approvals_required: 2, rules: ['ai-change-by-non-senior'], status: 'pending' } };
    const file = write('failing.yml', { cases: [juniorAi, wrong] });
    const r = await cli(['policy', 'test', file, '--config', SHIPPED_CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ok   failing.yml › junior AI change is high');
    expect(r.stdout).toContain('FAIL failing.yml › junior AI change to auth is critical');
    expect(r.stdout).toContain('level: expected critical, got high');
    expect(r.stdout).toContain('approvals_required: expected 2, got 1');
    expect(r.stdout).toContain('rules: expected [ai-change-by-non-senior], got [ai-change-by-non-senior, ai-change-to-sensitive-paths] (unexpected ai-change-to-sensitive-paths)');
    expect(r.stdout).not.toContain('status: expected');
    expect(r.stdout).toContain('- ai-change-by-non-senior: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior');
    expect(r.stdout).toContain('- ai-change-to-sensitive-paths: touches src/auth/session.ts');
    expect(r.stdout).toContain('2 cases: 1 passed, 1 failed');
  });

  it('when a change names an unknown service, then it exits 4 naming the file, the case and the field', async () => {
    const file = write('unknown-service.yml', { cases: [{ ...juniorAi, name: 'x', change: buildChangeInput({ service: 'nope' }) }, seniorPlain] });
    const r = await cli(['policy', 'test', file, '--config', SHIPPED_CONFIG]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('unknown-service.yml: case "x": change.service: unknown service "nope"; known services: checkout,');
    expect(r.stdout).toContain('ok   unknown-service.yml › plain change by a senior is low');
    expect(r.stdout).toContain('2 cases: 1 passed, 0 failed, 1 invalid');
  });

  it('when a case has an unknown key, a misspelt expectation or an unknown rule, then it exits 4 naming each', async () => {
    const file = write('typos.yml', {
      cases: [
        { ...juniorAi, name: 'a', owner: 'me' },
        { ...juniorAi, name: 'b', expect: { levle: 'high', rules: ['ai-change-by-junior'] } },
        { ...juniorAi, name: 'c', change: buildChangeInput({ environment: '' }) },
      ],
    });
    const r = await cli(['policy', 'test', file, '--config', SHIPPED_CONFIG]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('typos.yml: case "a": owner: unknown key (check the spelling)');
    expect(r.stderr).toContain('typos.yml: case "b": expect.levle: unknown key (check the spelling)');
    expect(r.stderr).toContain('typos.yml: case "b": expect.rules[0]: unknown rule "ai-change-by-junior"');
    expect(r.stderr).toMatch(/typos\.yml: case "c": change\.environment: /);
    expect(r.stdout).toContain('3 cases: 0 passed, 0 failed, 3 invalid');
  });

  it('when a file is not valid YAML or does not exist, then it exits 4 naming the file', async () => {
    const bad = write('bad.yml', 'cases: [\n  - name: x\n    change: {\n');
    const r = await cli(['policy', 'test', bad, 'missing.yml', '--config', SHIPPED_CONFIG]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('bad.yml: not valid YAML or JSON');
    expect(r.stderr).toContain('missing.yml: cannot read: ENOENT');
    expect(r.stdout).toContain('2 files could not be used');
  });

  it('when the config is invalid or missing, then it exits 4 with the config problem', async () => {
    const file = write('ok.yml', { cases: [seniorPlain] });
    const broken = write('broken-config.yml', readFileSync(SHIPPED_CONFIG, 'utf8').replace('level: critical', 'level: catastrophic'));
    const r = await cli(['policy', 'test', file, '--config', broken]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('broken-config.yml is invalid:');
    expect(r.stderr).toContain('policy.rules[1].level');
    const missing = await cli(['policy', 'test', file]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('cannot read config file countersign.yml: ENOENT');
  });

  it('when no file is named, then it is a usage error', async () => {
    const r = await cli(['policy', 'test', '--config', SHIPPED_CONFIG]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('name at least one file of test cases');
    expect(r.stderr).toContain('countersign policy test FILE...');
  });

  it('when the shipped policy-tests.yml runs against the shipped countersign.yml, then every case passes', async () => {
    const r = await cli(['policy', 'test', 'policy-tests.yml'], { cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).toMatch(/^\d+ cases: \d+ passed, 0 failed$/m);
  });
});

describe('countersign config check', () => {
  it('when the shipped config is checked, then it exits 0 saying it is valid', async () => {
    const r = await cli(['config', 'check'], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^countersign\.yml is valid: 3 teams, 5 services/);
    const byEnv = await cli(['config', 'check'], { env: { COUNTERSIGN_CONFIG: SHIPPED_CONFIG } });
    expect(byEnv.code).toBe(0);
  });

  it('when a config is broken, then it exits 4 naming every bad key by its path', async () => {
    const broken = write('broken.yml', readFileSync(SHIPPED_CONFIG, 'utf8').replace('seniors: [U0ERIN]', 'seniors: U0ERIN').replace('incidents:\n', 'incidnets:\n'));
    const r = await cli(['config', 'check', broken]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('broken.yml is invalid:');
    expect(r.stderr).toContain('teams[2].seniors:');
    expect(r.stderr).toContain('incidnets: unknown key (check the spelling)');
  });

  it('when asked for help, then both offline commands are listed', async () => {
    const r = await cli(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('countersign policy test FILE... [--config PATH]');
    expect(r.stdout).toContain('countersign config check [PATH]');
    const policyHelp = await cli(['help', 'policy']);
    expect(policyHelp.stdout).toContain('approvals_required, rules');
  });
});
