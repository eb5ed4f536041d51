import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { Config } from '../config/schema.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { decideIntake, validateIntake } from '../use-cases/decide-intake.ts';
import type { SimulationReport } from '../domain/simulation.ts';
import { EXIT, parseCommandArgs, UsageError, type Io } from './args.ts';
import { call, explain, serverFromEnv } from './client.ts';
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
  if (sub === 'simulate') return simulate(rest, io);
  if (sub !== 'test') throw new UsageError(`unknown policy command ${JSON.stringify(sub)} (expected: policy test or policy simulate)`, true);
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

/**
 * `countersign policy simulate --config FILE [--days N]`: sends the candidate config's text to
 * `POST /api/policy/simulate` and prints the tables. 0 simulated, 4 for anything else.
 */
async function simulate(args: string[], io: Io): Promise<number> {
  const { values: v } = parseCommandArgs(args, { config: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' } }, false);
  if (v.help) {
    io.out(POLICY_HELP);
    return EXIT.ok;
  }
  if (!v.config) throw new UsageError('policy simulate needs the candidate config: --config FILE', true);
  const days = v.days === undefined ? undefined : Number(v.days);
  if (days !== undefined && !(/^\d{1,3}$/.test(v.days!.trim()) && days >= 1 && days <= 365)) throw new UsageError(`--days ${JSON.stringify(v.days)}: expected a whole number of days from 1 to 365`, true);
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, v.config), 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${v.config}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const server = serverFromEnv(io.env);
  const res = await call(server, 'POST', '/api/policy/simulate', { config: text, ...(days !== undefined && { days }) }, 10 * 60_000);
  if (res.status === 200 && res.body) {
    io.out(v.json ? `${JSON.stringify(res.body, null, 2)}\n` : formatSimulation(res.body as SimulationReport));
    return EXIT.ok;
  }
  const issues = (res.body as { issues?: FieldIssue[] } | null)?.issues;
  if (res.status === 400 && issues?.length) io.err(`countersign policy simulate: the server refused the request (400):\n${issues.map((i) => `  ${i.path}: ${i.message}\n`).join('')}`);
  else if (res.status === 401) io.err('countersign policy simulate: the server refused the token (401): check COUNTERSIGN_TOKEN\n');
  else if (res.status === 429) io.err(`countersign policy simulate: ${explain(res)} (429)\n`);
  else io.err(`countersign policy simulate: the server answered ${res.status}: ${explain(res)}\n`);
  return EXIT.usage;
}

/** The report as plain-text tables: totals, per team, the changed decisions, the review load. */
export function formatSimulation(r: SimulationReport): string {
  const stamp = (iso: string) => iso.replace(/:\d{2}\.\d{3}Z$/, ' UTC').replace('T', ' ');
  const days = Math.round((Date.parse(r.window.to) - Date.parse(r.window.from)) / 86_400_000);
  const out = [`Policy simulation: ${r.changes} change${r.changes === 1 ? '' : 's'} registered ${stamp(r.window.from)} → ${stamp(r.window.to)} (${days} day${days === 1 ? '' : 's'}, ${r.window.working_days} working days)`, ''];
  const levels = ['low', 'medium', 'high', 'critical'] as const;
  out.push(...table([['', 'current', 'candidate'], ...levels.map((l) => [l, String(r.current.by_level[l]), String(r.candidate.by_level[l])]), ['needing sign-off', String(r.current.needing_sign_off), String(r.candidate.needing_sign_off)]]), '');
  const teams = [...new Set([...Object.keys(r.current.by_team), ...Object.keys(r.candidate.by_team)])];
  const perTeam = (t: string, side: SimulationReport['current']) => String(side.by_team[t]?.needing_sign_off ?? 0);
  out.push('Needing sign-off by team', ...table([['team', 'current', 'candidate'], ...teams.map((t) => [t, perTeam(t, r.current), perTeam(t, r.candidate)])]), '');
  if (r.changed_total === 0) out.push('Changed: none (every level and number of sign-offs stays the same)', '');
  else {
    out.push(`Changed: ${r.changed_total} change${r.changed_total === 1 ? '' : 's'}${r.changed_total > r.changed.length ? ` (the first ${r.changed.length}, oldest first)` : ''} (level/sign-offs)`);
    // Titles come from outside: control characters (terminal escapes, newlines) never reach the terminal.
    const title = (raw: string) => {
      const t = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
      return t.length > 50 ? `${t.slice(0, 49)}…` : t;
    };
    out.push(...table([['key', 'title', 'current', 'candidate', 'rules'], ...r.changed.map((c) => [c.key, title(c.title), `${c.from.level}/${c.from.approvals_required}`, `→ ${c.to.level}/${c.to.approvals_required}`, c.rules.join(', ') || '(none)'])], [false, false, false, false, false]), '');
  }
  const how = r.assignment === 'least_loaded' ? 'expected: least-loaded assignment under the candidate' : 'expected: each request split equally among the eligible seniors';
  out.push(`Sign-off requests per working day (${how}; actual: ${r.actual_from === 'assigned_to' ? 'assigned' : 'signed off'})`);
  const fixed = (n: number | null) => (n === null ? '-' : n.toFixed(2));
  out.push(...table([['senior', 'team', 'actual/day', 'expected/day', 'actual', 'expected'], ...r.load.map((l) => [l.senior, l.team, fixed(l.actual_per_day), fixed(l.expected_per_day), String(l.actual), String(l.expected)])]));
  return `${out.join('\n')}\n`;
}

/** Columns padded to their widest cell; the first (and any marked false) left-aligned, numbers right-aligned. */
function table(rows: string[][], right?: boolean[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const alignRight = right ?? rows[0].map((_, i) => i > 0 && rows.slice(1).every((r) => /^[-\d.]+$/.test(r[i])));
  return rows.map((r) => r.map((cell, i) => (alignRight[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
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
