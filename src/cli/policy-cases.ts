import { z } from 'zod';
import { fieldIssues } from '../config/issues.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { RISK_LEVELS, type RiskLevel } from '../domain/types.ts';

/** What a case may expect; every key is optional, at least one is given. */
export const expectSchema = z
  .strictObject({
    level: z.enum(RISK_LEVELS, { error: `expected one of ${RISK_LEVELS.join(', ')}` }).optional(),
    approvals_required: z.number({ error: 'expected a whole number' }).int('expected a whole number').min(0).optional(),
    rules: z.array(z.string({ error: 'expected a rule name' }), { error: 'expected a list of rule names' }).optional(),
    ai_assisted: z.boolean({ error: 'expected true or false' }).optional(),
    status: z.enum(['pending', 'approved'], { error: 'expected pending or approved' }).optional(),
  }, { error: (iss) => (iss.input === undefined ? 'is required' : 'expected a mapping of level, approvals_required, rules, ai_assisted, status') })
  // An empty expectation would pass whatever the policy says.
  .refine((e) => Object.keys(e).length > 0, 'expects nothing: give at least one of level, approvals_required, rules, ai_assisted, status');

export type Expectation = z.infer<typeof expectSchema>;

const caseSchema = z.strictObject(
  {
    name: z.string({ error: 'expected the name of the case' }).trim().min(1, 'must not be empty'),
    // Checked on their own below (expect) and against the intake schema and the config (change, see policy.ts).
    change: z.unknown(),
    expect: z.unknown(),
  },
  { error: 'expected a case: { name, change, expect }' },
);

const fileSchema = z.strictObject(
  { cases: z.array(z.unknown(), { error: 'expected a list of cases' }).min(1, 'expected at least one case') },
  { error: 'expected a mapping with a `cases` list' },
);

/** One well-formed case; `change` is still the raw body. */
export interface PolicyCase {
  name: string;
  change: unknown;
  expect: Expectation;
}

/** One entry of `cases`: `label` is `case "name"` or `cases[2]`; `change` is its raw body, when it has one. */
export interface CaseEntry {
  label: string;
  change: unknown;
  /** The case, when its own fields have no problem (its change is still to be checked). */
  valid: PolicyCase | null;
  issues: FieldIssue[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const prefixed = (prefix: string, issues: FieldIssue[]): FieldIssue[] => issues.map((i) => ({ ...i, path: i.path === '(root)' ? prefix : `${prefix}.${i.path}` }));

/**
 * Checks the shape of a parsed case file: a `cases` list of `{ name, change, expect }` with unique
 * names, known `expect` keys and rule names the policy has. Every problem of every case is listed;
 * a problem with the file itself (no `cases` list) comes back as `fileIssues`.
 */
export function parseCaseFile(raw: unknown, ruleNames: readonly string[]): { entries: CaseEntry[]; fileIssues: FieldIssue[] } {
  const file = fileSchema.safeParse(raw);
  if (!file.success) return { entries: [], fileIssues: fieldIssues(file.error) };
  const seen = new Set<string>();
  const known = new Set(ruleNames);
  const entries = file.data.cases.map((item, i): CaseEntry => {
    const rawName = isRecord(item) ? item.name : undefined;
    const label = typeof rawName === 'string' && rawName.trim() ? `case ${JSON.stringify(rawName.trim())}` : `cases[${i}]`;
    const parsed = caseSchema.safeParse(item);
    const issues = parsed.success ? [] : fieldIssues(parsed.error);
    if (!isRecord(item)) return { label, change: undefined, valid: null, issues };
    if (item.change === undefined) issues.push({ path: 'change', message: 'is required' });
    const expected = expectSchema.safeParse(item.expect);
    if (!expected.success) issues.push(...prefixed('expect', fieldIssues(expected.error)));
    const rules = isRecord(item.expect) && Array.isArray(item.expect.rules) ? item.expect.rules : [];
    rules.forEach((r, j) => {
      if (typeof r === 'string' && !known.has(r)) issues.push({ path: `expect.rules[${j}]`, message: `unknown rule "${r}"; rules in the policy: ${ruleNames.join(', ') || 'none'}` });
    });
    if (typeof rawName === 'string' && rawName.trim()) {
      if (seen.has(rawName.trim())) issues.push({ path: 'name', message: 'another case in this file has this name' });
      seen.add(rawName.trim());
    }
    const valid = parsed.success && expected.success && issues.length === 0 ? { name: parsed.data.name, change: item.change, expect: expected.data } : null;
    return { label, change: item.change, valid, issues };
  });
  return { entries, fileIssues: [] };
}

/** What the server would decide for a case's change. */
export interface Actual {
  level: RiskLevel;
  approvals_required: number;
  /** The matching rules, most severe first. */
  rules: string[];
  ai_assisted: boolean;
  status: 'pending' | 'approved';
  /** `risk.reasons[].text` of every matching rule. */
  reasons: string[];
}

/** One expectation that does not hold, in words. */
export interface Difference {
  field: keyof Expectation;
  expected: string;
  actual: string;
  /** For rules: which are missing and which are unexpected. */
  detail?: string;
}

const list = (names: readonly string[]) => `[${names.join(', ')}]`;

/** Compares what a case expects with what was decided; `rules` compare as sets. Empty when the case passes. */
export function compareCase(expected: Expectation, actual: Actual): Difference[] {
  const out: Difference[] = [];
  for (const field of ['level', 'approvals_required', 'ai_assisted', 'status'] as const) {
    const want = expected[field];
    if (want !== undefined && want !== actual[field]) out.push({ field, expected: String(want), actual: String(actual[field]) });
  }
  if (expected.rules) {
    const want = new Set(expected.rules);
    const got = new Set(actual.rules);
    const missing = [...want].filter((r) => !got.has(r));
    const unexpected = [...got].filter((r) => !want.has(r));
    if (missing.length || unexpected.length) {
      const detail = [missing.length ? `missing ${missing.join(', ')}` : '', unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''].filter(Boolean).join('; ');
      out.push({ field: 'rules', expected: list([...want]), actual: list(actual.rules), detail });
    }
  }
  return out;
}

/** `ok   file › name`, or `FAIL file › name` with every difference and the matching rules with their reasons. */
export function formatResult(file: string, name: string, differences: readonly Difference[], actual: Actual): string {
  if (differences.length === 0) return `ok   ${file} › ${name}\n`;
  const lines = [`FAIL ${file} › ${name}`];
  for (const d of differences) lines.push(`       ${d.field}: expected ${d.expected}, got ${d.actual}${d.detail ? ` (${d.detail})` : ''}`);
  if (actual.reasons.length === 0) lines.push('       matching rules: none');
  else lines.push('       matching rules:', ...actual.reasons.map((r) => `         - ${r}`));
  return `${lines.join('\n')}\n`;
}

/** `file: case "name": change.service: unknown service …`, the way a broken case is reported (`label` null: the file itself). */
export function formatIssue(file: string, label: string | null, issue: FieldIssue): string {
  return `${file}: ${label ? `${label}: ` : ''}${issue.path}: ${issue.message}`;
}

/** The closing line: how many cases passed, failed and could not run, and how many files were unusable. */
export function formatSummary(counts: { passed: number; failed: number; invalid: number; unusable: number }): string {
  const total = counts.passed + counts.failed + counts.invalid;
  const parts = [`${counts.passed} passed`, `${counts.failed} failed`];
  if (counts.invalid) parts.push(`${counts.invalid} invalid`);
  const files = counts.unusable ? `; ${counts.unusable} file${counts.unusable === 1 ? '' : 's'} could not be used` : '';
  return `${total} case${total === 1 ? '' : 's'}: ${parts.join(', ')}${files}\n`;
}
