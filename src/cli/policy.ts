import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { Config } from '../config/schema.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { decideIntake, validateIntake } from '../use-cases/decide-intake.ts';
import { EXIT, parseCommandArgs, UsageError, type Io } from './args.ts';
import { configPath, loadConfigOrReport } from './config.ts';
import { POLICY_HELP } from './help.ts';
import { compareCase, formatIssue, formatResult, formatSummary, parseCaseFile, type Actual } from './policy-cases.ts';

/**
 * `countersign policy test FILE...`: decides every case's change offline, with the server's own
 * schema, config checks and policy, and compares the decision with what the case expects.
 * 0 when every case passes, 1 when one fails, 4 when a file, a case or the config is unusable.
 */
export async function policy(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(POLICY_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'test') throw new UsageError(`unknown policy command ${JSON.stringify(sub)} (expected: policy test)`, true);
  const { values, positionals: files } = parseCommandArgs(rest, { config: { type: 'string' } }, true);
  if (values.help) {
    io.out(POLICY_HELP);
    return EXIT.ok;
  }
  if (files.length === 0) throw new UsageError('name at least one file of test cases, e.g. policy-tests.yml', true);
  const config = loadConfigOrReport(io, configPath(io, values.config), 'policy test');
  if (!config) return EXIT.usage;

  const counts = { passed: 0, failed: 0, invalid: 0, unusable: 0 };
  const ruleNames = config.policy.rules.map((r) => r.name);
  for (const file of files) {
    const raw = readCaseFile(resolve(io.cwd, file));
    if (!raw.ok) {
      io.err(`${file}: ${raw.message}\n`);
      counts.unusable++;
      continue;
    }
    const { entries, fileIssues } = parseCaseFile(raw.value, ruleNames);
    for (const issue of fileIssues) io.err(`${formatIssue(file, null, issue)}\n`);
    if (fileIssues.length) counts.unusable++;
    for (const entry of entries) {
      // A case's change is checked even when the case has other problems: one run lists them all.
      const run = entry.change === undefined ? null : decideChange(config, entry.change);
      const issues = [...entry.issues, ...(run && !run.ok ? run.issues : [])];
      if (!entry.valid || !run?.ok || issues.length) {
        for (const issue of issues) io.err(`${formatIssue(file, entry.label, issue)}\n`);
        counts.invalid++;
        continue;
      }
      const differences = compareCase(entry.valid.expect, run.actual);
      io.out(formatResult(file, entry.valid.name, differences, run.actual));
      if (differences.length) counts.failed++;
      else counts.passed++;
    }
  }
  io.out(formatSummary(counts));
  if (counts.invalid || counts.unusable) return EXIT.usage;
  return counts.failed ? EXIT.failed : EXIT.ok;
}

/** A YAML or JSON file as data (JSON is YAML); `<<` merge keys let cases share a base change. */
function readCaseFile(path: string): { ok: true; value: unknown } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) return { ok: false, message: `not valid YAML or JSON:\n${doc.errors.map((e) => `  ${e.message}`).join('\n')}` };
  return { ok: true, value: doc.toJS() };
}

/** Validates a change as `POST /api/changes` does, then decides it as `registerChange` does. */
function decideChange(config: Config, change: unknown): { ok: true; actual: Actual } | { ok: false; issues: FieldIssue[] } {
  const checked = validateIntake(config, change);
  if (!checked.ok) return { ok: false, issues: checked.issues.map(inChange) };
  const decision = decideIntake(config, checked.input);
  if (!decision.ok) return { ok: false, issues: (decision.issues ?? [{ path: '(root)', message: decision.message }]).map(inChange) };
  const { outcome } = decision;
  return {
    ok: true,
    actual: {
      level: outcome.risk.level,
      approvals_required: outcome.approvals_required,
      rules: outcome.risk.reasons.map((r) => r.rule),
      ai_assisted: decision.ai.assisted,
      status: decision.status,
      reasons: outcome.risk.reasons.map((r) => r.text),
    },
  };
}

const inChange = (i: FieldIssue): FieldIssue => ({ ...i, path: i.path === '(root)' ? 'change' : `change.${i.path}` });
