import { describe, expect, it } from 'vitest';
import { compareCase, formatIssue, formatResult, formatSummary, parseCaseFile, type Actual } from '../../src/cli/policy-cases.ts';

const RULES = ['ai-change-by-non-senior', 'destroys-infrastructure', 'ai-change-to-sensitive-paths'];

/** What the policy decided; override any field. */
const buildActual = (over: Partial<Actual> = {}): Actual => ({
  level: 'high',
  approvals_required: 1,
  rules: ['ai-change-by-non-senior'],
  ai_assisted: true,
  status: 'pending',
  reasons: ['ai-change-by-non-senior: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior'],
  ...over,
});

const buildCase = (over: Record<string, unknown> = {}) => ({ name: 'junior AI change is high', change: { title: 'x' }, expect: { level: 'high' }, ...over });

describe('compareCase', () => {
  it('when every expected field matches, then there is no difference', () => {
    expect(compareCase({ level: 'high', approvals_required: 1, rules: ['ai-change-by-non-senior'], ai_assisted: true, status: 'pending' }, buildActual())).toEqual([]);
  });

  it('when only some fields are expected, then only those are compared', () => {
    expect(compareCase({ ai_assisted: true }, buildActual({ level: 'critical', approvals_required: 2 }))).toEqual([]);
  });

  it('when fields differ, then each is reported with the expected and the actual value', () => {
    const diffs = compareCase({ level: 'critical', approvals_required: 2, ai_assisted: false, status: 'approved' }, buildActual());
    expect(diffs).toEqual([
      { field: 'level', expected: 'critical', actual: 'high' },
      { field: 'approvals_required', expected: '2', actual: '1' },
      { field: 'ai_assisted', expected: 'false', actual: 'true' },
      { field: 'status', expected: 'approved', actual: 'pending' },
    ]);
  });

  it('when the rules are the same in another order, then they match', () => {
    const actual = buildActual({ rules: ['destroys-infrastructure', 'ai-change-by-non-senior'] });
    expect(compareCase({ rules: ['ai-change-by-non-senior', 'destroys-infrastructure'] }, actual)).toEqual([]);
  });

  it('when rules are missing or unexpected, then the difference names both', () => {
    const [d] = compareCase({ rules: ['destroys-infrastructure'] }, buildActual());
    expect(d).toEqual({ field: 'rules', expected: '[destroys-infrastructure]', actual: '[ai-change-by-non-senior]', detail: 'missing destroys-infrastructure; unexpected ai-change-by-non-senior' });
  });

  it('when no rule is expected and one matches, then it is unexpected', () => {
    expect(compareCase({ rules: [] }, buildActual())[0].detail).toBe('unexpected ai-change-by-non-senior');
    expect(compareCase({ rules: [] }, buildActual({ rules: [], reasons: [] }))).toEqual([]);
  });
});

describe('parseCaseFile', () => {
  it('when the file is well formed, then every case is valid', () => {
    const { entries, fileIssues } = parseCaseFile({ cases: [buildCase(), buildCase({ name: 'other', expect: { rules: [] } })] }, RULES);
    expect(fileIssues).toEqual([]);
    expect(entries.map((e) => [e.label, e.valid?.name, e.issues])).toEqual([
      ['case "junior AI change is high"', 'junior AI change is high', []],
      ['case "other"', 'other', []],
    ]);
  });

  it('when the file has no cases list, then the file itself is the problem', () => {
    expect(parseCaseFile({ tests: [] }, RULES).fileIssues.map((i) => i.path)).toEqual(['cases', 'tests']);
    expect(parseCaseFile({ cases: [] }, RULES).fileIssues).toEqual([{ path: 'cases', message: 'expected at least one case' }]);
    expect(parseCaseFile(null, RULES).fileIssues).toHaveLength(1);
  });

  it('when a case has unknown keys, then each is named by its path', () => {
    const [e] = parseCaseFile({ cases: [buildCase({ owner: 'me', expect: { level: 'high', risk: 'high' } })] }, RULES).entries;
    expect(e.valid).toBeNull();
    expect(e.issues).toEqual([
      { path: 'owner', message: 'unknown key (check the spelling)' },
      { path: 'expect.risk', message: 'unknown key (check the spelling)' },
    ]);
  });

  it('when an expectation is malformed, empty or names an unknown rule, then it is refused', () => {
    const { entries } = parseCaseFile(
      {
        cases: [
          buildCase({ name: 'a', expect: { level: 'severe', status: 'rejected' } }),
          buildCase({ name: 'b', expect: {} }),
          buildCase({ name: 'c', expect: { rules: ['ai-change-by-non-senior', 'ai-change-by-junior'] } }),
          buildCase({ name: 'd', expect: undefined }),
        ],
      },
      RULES,
    );
    expect(entries[0].issues.map((i) => i.path)).toEqual(['expect.level', 'expect.status']);
    expect(entries[1].issues[0]).toMatchObject({ path: 'expect', message: expect.stringContaining('expects nothing') });
    expect(entries[2].issues).toEqual([{ path: 'expect.rules[1]', message: `unknown rule "ai-change-by-junior"; rules in the policy: ${RULES.join(', ')}` }]);
    expect(entries[3].issues).toEqual([{ path: 'expect', message: 'is required' }]);
    expect(entries.every((e) => e.valid === null)).toBe(true);
  });

  it('when a case has no name or no change, or repeats a name, then it is refused and labelled by its index or name', () => {
    const { entries } = parseCaseFile({ cases: [buildCase({ name: undefined }), buildCase({ change: undefined }), buildCase()] }, RULES);
    expect(entries[0].label).toBe('cases[0]');
    expect(entries[0].issues.map((i) => i.path)).toEqual(['name']);
    expect(entries[1].issues).toEqual([{ path: 'change', message: 'is required' }]);
    expect(entries[2].issues).toEqual([{ path: 'name', message: 'another case in this file has this name' }]);
  });

  it('when a case is invalid, then its change is still handed back to be checked', () => {
    const [e] = parseCaseFile({ cases: [buildCase({ expect: {} })] }, RULES).entries;
    expect(e.change).toEqual({ title: 'x' });
  });
});

describe('formatting', () => {
  it('when a case passes, then it is one ok line', () => {
    expect(formatResult('policy-tests.yml', 'x', [], buildActual())).toBe('ok   policy-tests.yml › x\n');
  });

  it('when a case fails, then every difference and every matching rule with its reasons follows', () => {
    const actual = buildActual();
    const text = formatResult('policy-tests.yml', 'x', compareCase({ level: 'critical', rules: [] }, actual), actual);
    expect(text.split('\n')).toEqual([
      'FAIL policy-tests.yml › x',
      '       level: expected critical, got high',
      '       rules: expected [], got [ai-change-by-non-senior] (unexpected ai-change-by-non-senior)',
      '       matching rules:',
      `         - ${actual.reasons[0]}`,
      '',
    ]);
    const none = buildActual({ level: 'low', rules: [], reasons: [] });
    expect(formatResult('f.yml', 'y', compareCase({ level: 'high' }, none), none)).toContain('matching rules: none');
  });

  it('when a problem is reported, then it names the file, the case and the field', () => {
    expect(formatIssue('policy-tests.yml', 'case "x"', { path: 'change.service', message: 'unknown service "nope"' })).toBe('policy-tests.yml: case "x": change.service: unknown service "nope"');
    expect(formatIssue('t.json', null, { path: 'cases', message: 'expected a list of cases' })).toBe('t.json: cases: expected a list of cases');
  });

  it('when summarising, then invalid cases and unusable files appear only when there are some', () => {
    expect(formatSummary({ passed: 3, failed: 0, invalid: 0, unusable: 0 })).toBe('3 cases: 3 passed, 0 failed\n');
    expect(formatSummary({ passed: 1, failed: 0, invalid: 0, unusable: 0 })).toBe('1 case: 1 passed, 0 failed\n');
    expect(formatSummary({ passed: 1, failed: 1, invalid: 2, unusable: 1 })).toBe('4 cases: 1 passed, 1 failed, 2 invalid; 1 file could not be used\n');
  });
});
