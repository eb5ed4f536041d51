import { compileGlobs } from './glob.ts';
import { authorLabel } from './authors.ts';
import { describeBlastRadius } from './review-brief.ts';
import { describeDestruction } from './terraform.ts';
import { RISK_LEVELS, type ChangeFacts, type Risk, type RiskLevel, type RiskReason } from './types.ts';

export interface RuleConditions {
  ai_assisted?: boolean;
  author_level?: readonly string[];
  environment?: readonly string[];
  services?: readonly string[];
  paths_match?: readonly string[];
  infra_destroys_at_least?: number;
  lines_changed_at_least?: number;
  ai_share_at_least?: number;
  blast_radius_at_least?: number;
}

export interface Rule {
  name: string;
  description: string;
  when: RuleConditions;
  level: RiskLevel;
}

export interface Policy {
  rules: readonly Rule[];
  approvals: Record<RiskLevel, number>;
}

export interface PolicyOutcome {
  risk: Risk;
  approvals_required: number;
}

const listOf = (items: readonly string[], shown = 3) =>
  items.slice(0, shown).join(', ') + (items.length > shown ? `, +${items.length - shown} more` : '');

/** Checks one condition; returns the fact behind a match in words, or null when it does not hold. */
function check(key: keyof RuleConditions, c: RuleConditions, f: ChangeFacts): string | null {
  switch (key) {
    case 'ai_assisted':
      if (f.ai.assisted !== c.ai_assisted) return null;
      return f.ai.assisted
        ? `AI-assisted${f.ai.tool ? ` (${f.ai.tool})` : ''}${f.ai.reasons.length ? `: ${f.ai.reasons[0]}` : ''}`
        : 'not AI-assisted';
    case 'author_level':
      return c.author_level!.includes(f.author.level) ? `author ${authorLabel(f.author)} is ${f.author.level === 'unknown' ? 'not a known engineer (level unknown)' : f.author.level}` : null;
    case 'environment':
      // Intake stores environments lowercase and the config is lowercased; compare lowercase anyway.
      return c.environment!.some((e) => e.toLowerCase() === f.environment.toLowerCase()) ? `environment ${f.environment}` : null;
    case 'services': {
      const hit = f.services.filter((s) => c.services!.includes(s));
      return hit.length ? `touches service ${listOf(hit)}` : null;
    }
    case 'paths_match': {
      const paths = f.diff?.paths ?? [];
      if (paths.length === 0) return null;
      const isMatch = matcherFor(c.paths_match!);
      const hit = paths.filter((p) => isMatch(p));
      return hit.length ? `touches ${listOf(hit)}` : null;
    }
    case 'infra_destroys_at_least':
      return f.infra && f.infra.destroys >= c.infra_destroys_at_least! ? describeDestruction(f.infra) : null;
    case 'lines_changed_at_least': {
      const lines = f.diff ? f.diff.additions + f.diff.deletions : 0;
      return f.diff && lines >= c.lines_changed_at_least! ? `${lines} lines changed (+${f.diff.additions} −${f.diff.deletions})` : null;
    }
    case 'blast_radius_at_least': {
      const radius = f.blast_radius ?? f.services;
      return radius.length >= c.blast_radius_at_least! ? `blast radius ${radius.length} services (${describeBlastRadius(radius)})` : null;
    }
    case 'ai_share_at_least':
      return f.ai.share !== null && f.ai.share >= c.ai_share_at_least! ? `${Math.round(f.ai.share * 100)}% AI-generated` : null;
  }
}

// Compiled glob matchers, per list of globs (config objects live for the whole process). Case-insensitive:
// `src/Auth/x.ts` is as sensitive as `src/auth/x.ts` (see glob.ts for why not picomatch).
const matchers = new WeakMap<readonly string[], (path: string) => boolean>();
function matcherFor(globs: readonly string[]): (path: string) => boolean {
  let m = matchers.get(globs);
  if (!m) matchers.set(globs, (m = compileGlobs(globs)));
  return m;
}

/** Facts are listed most telling first, whatever order the config wrote the conditions in. */
const FACT_ORDER: (keyof RuleConditions)[] = ['infra_destroys_at_least', 'blast_radius_at_least', 'paths_match', 'ai_assisted', 'ai_share_at_least', 'author_level', 'lines_changed_at_least', 'services', 'environment'];

/** The facts behind a rule when all its conditions hold, or null when it does not match. */
export function matchRule(rule: Rule, facts: ChangeFacts): string[] | null {
  const found: string[] = [];
  for (const key of FACT_ORDER) {
    if (rule.when[key] === undefined) continue;
    const fact = check(key, rule.when, facts);
    if (fact === null) return null;
    found.push(fact);
  }
  return found;
}

/** Higher of two risk levels. */
export function maxLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return RISK_LEVELS.indexOf(a) >= RISK_LEVELS.indexOf(b) ? a : b;
}

/**
 * Applies the policy: the level is the highest among matching rules (or `low`), the reasons list
 * every matching rule with its facts, and `approvals[level]` distinct sign-offs are required.
 */
export function evaluatePolicy(policy: Policy, facts: ChangeFacts): PolicyOutcome {
  let level: RiskLevel = 'low';
  const reasons: RiskReason[] = [];
  for (const rule of policy.rules) {
    const found = matchRule(rule, facts);
    if (!found) continue;
    level = maxLevel(level, rule.level);
    reasons.push({ rule: rule.name, description: rule.description, facts: found, text: `${rule.name}: ${found.join('; ')}` });
  }
  // Most severe first, so the card and the API lead with what matters.
  reasons.sort((a, b) => RISK_LEVELS.indexOf(ruleLevel(policy, b.rule)) - RISK_LEVELS.indexOf(ruleLevel(policy, a.rule)));
  return { risk: { level, reasons }, approvals_required: policy.approvals[level] };
}

function ruleLevel(policy: Policy, name: string): RiskLevel {
  return policy.rules.find((r) => r.name === name)?.level ?? 'low';
}
