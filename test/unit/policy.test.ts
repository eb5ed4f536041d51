import { describe, it, expect } from 'vitest';
import { evaluatePolicy, matchRule, maxLevel, type Policy, type Rule } from '../../src/domain/policy.ts';
import { analyzeTerraformPlan } from '../../src/domain/terraform.ts';
import { resolveAuthor } from '../../src/domain/authors.ts';
import type { AiAssessment, ChangeFacts, DiffStats, InfraSummary, ResolvedAuthor } from '../../src/domain/types.ts';
import { buildConfig } from '../factories/config.ts';
import { loadPlan } from '../factories/change.ts';

const config = buildConfig();
const defaultPolicy: Policy = config.policy;

const author = (github: string): ResolvedAuthor => {
  const r = resolveAuthor({ github }, config.engineers);
  if (!r.ok) throw new Error(r.message);
  return r.author;
};
const junior = author('jdoe');
const mid = author('mia-k');
const senior = author('alice');
const principal = author('carol');
const stranger = author('someone-new');

const aiAssisted = (over: Partial<AiAssessment> = {}): AiAssessment => ({
  assisted: true,
  tool: 'Copilot',
  share: null,
  reasons: ['declared AI-assisted by the submitter'],
  ...over,
});
const notAssisted: AiAssessment = { assisted: false, tool: null, share: null, reasons: [] };

const diff = (paths: string[], additions = 10, deletions = 2): DiffStats => ({ files_changed: paths.length, additions, deletions, paths });

function infraOf(name: Parameters<typeof loadPlan>[0] | Record<string, unknown>): InfraSummary {
  const result = analyzeTerraformPlan(typeof name === 'string' ? loadPlan(name) : name);
  if (!result.ok) throw new Error(result.message);
  return result.summary;
}

/** A harmless change: a senior, not AI-assisted, staging, one ordinary file. */
function facts(over: Partial<ChangeFacts> = {}): ChangeFacts {
  return {
    services: ['checkout'],
    environment: 'staging',
    author: senior,
    ai: notAssisted,
    diff: diff(['src/payments/capture.ts']),
    infra: null,
    labels: [],
    ...over,
  };
}

const rule = (when: Rule['when'], level: Rule['level'] = 'medium', name = 'r'): Rule => ({ name, description: `rule ${name}`, when, level });
const policyOf = (...rules: Rule[]): Policy => ({ rules, approvals: { low: 0, medium: 1, high: 2, critical: 3 } });
const matches = (when: Rule['when'], f: ChangeFacts) => matchRule(rule(when), f) !== null;

describe('the default policy (from the built-in defaults)', () => {
  it('when the config leaves policy out, then the default policy has the four built-in rules', () => {
    expect(defaultPolicy.rules.map((r) => r.name)).toEqual(['ai-change-by-non-senior', 'destroys-infrastructure', 'ai-change-with-wide-blast-radius', 'ai-change-to-sensitive-paths']);
  });

  it('when a senior makes an ordinary change without AI, then the risk is low with no reasons and no approvals needed', () => {
    const out = evaluatePolicy(defaultPolicy, facts());
    expect(out).toEqual({ risk: { level: 'low', reasons: [] }, approvals_required: 0 });
  });

  it('when an AI-assisted junior ships the real destructive plan to production, then the risk is critical and needs 2 approvals', () => {
    const out = evaluatePolicy(
      defaultPolicy,
      facts({ environment: 'production', author: junior, ai: aiAssisted(), infra: infraOf('plan-destructive'), diff: diff(['infra/network.tf']) }),
    );
    expect(out.risk.level).toBe('critical');
    expect(out.approvals_required).toBe(2);
    expect(out.risk.reasons.map((r) => r.rule)).toEqual(['destroys-infrastructure', 'ai-change-by-non-senior', 'ai-change-to-sensitive-paths']);
  });

  it('when the destructive plan goes to production, then the destruction reason names the counts, the addresses and the environment', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ environment: 'production', author: junior, ai: aiAssisted(), infra: infraOf('plan-destructive') }));
    const destroys = out.risk.reasons.find((r) => r.rule === 'destroys-infrastructure')!;
    expect(destroys).toEqual({
      rule: 'destroys-infrastructure',
      description: 'The plan deletes or replaces infrastructure in production',
      facts: ['destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc)', 'environment production'],
      text: 'destroys-infrastructure: destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc); environment production',
    });
  });

  it('when an AI-assisted junior makes a change, then the reason says AI-assisted with the tool and first reason, and names the junior', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ author: junior, ai: aiAssisted() }));
    expect(out.risk.level).toBe('high');
    expect(out.approvals_required).toBe(1);
    expect(out.risk.reasons).toEqual([
      {
        rule: 'ai-change-by-non-senior',
        description: 'AI-assisted change by a junior or mid-level engineer',
        facts: ['AI-assisted (Copilot): declared AI-assisted by the submitter', 'author Jordan Doe is junior'],
        text: 'ai-change-by-non-senior: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior',
      },
    ]);
  });

  it('when the destructive plan goes to staging, then destruction is not a reason because the rule is production-only', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ environment: 'staging', infra: infraOf('plan-destructive') }));
    expect(out.risk.level).toBe('low');
    expect(out.risk.reasons).toEqual([]);
  });

  it('when a senior without AI ships a plan that destroys everything to production, then it is still critical with 2 approvals', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ environment: 'production', infra: infraOf('plan-destroy-all') }));
    expect(out.risk.level).toBe('critical');
    expect(out.approvals_required).toBe(2);
    expect(out.risk.reasons.map((r) => r.rule)).toEqual(['destroys-infrastructure']);
    expect(out.risk.reasons[0].facts[0]).toBe(
      'deletes 7 resources (terraform_data.orders_db, terraform_data.payments_api, module.network.terraform_data.route_table, …)',
    );
  });

  it('when a plan only creates resources in production, then it is not destruction', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ environment: 'production', infra: infraOf('plan-initial-create') }));
    expect(out.risk.level).toBe('low');
    expect(out.approvals_required).toBe(0);
  });

  it('when every change of the plan is a no-op, then production is not destruction', () => {
    const plan = structuredClone(loadPlan('plan-destroy-all'));
    for (const rc of plan.resource_changes as { change: { actions: string[] } }[]) rc.change.actions = ['no-op'];
    const out = evaluatePolicy(defaultPolicy, facts({ environment: 'production', infra: infraOf(plan) }));
    expect(out.risk.level).toBe('low');
    expect(out.risk.reasons).toEqual([]);
  });

  it('when an AI-assisted senior touches an auth path, then only the sensitive-paths rule matches and the path is named', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ ai: aiAssisted(), diff: diff(['src/auth/login.ts', 'README.md']) }));
    expect(out.risk.level).toBe('high');
    expect(out.risk.reasons).toHaveLength(1);
    expect(out.risk.reasons[0].rule).toBe('ai-change-to-sensitive-paths');
    expect(out.risk.reasons[0].facts).toEqual(['touches src/auth/login.ts', 'AI-assisted (Copilot): declared AI-assisted by the submitter']);
  });

  it('when an AI-assisted principal changes ordinary paths, then the risk is low', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ author: principal, ai: aiAssisted(), diff: diff(['src/payments/capture.ts']) }));
    expect(out.risk.level).toBe('low');
  });

  it('when an unknown author makes an AI-assisted change, then they are never treated as senior', () => {
    const out = evaluatePolicy(defaultPolicy, facts({ author: stranger, ai: aiAssisted() }));
    expect(out.risk.level).toBe('high');
    expect(out.risk.reasons[0].facts).toContain('author @someone-new is not a known engineer (level unknown)');
  });

  it('when the config sets different approvals, then approvals_required follows config.approvals for the level', () => {
    const policy: Policy = { ...defaultPolicy, approvals: { low: 0, medium: 1, high: 3, critical: 4 } };
    expect(evaluatePolicy(policy, facts({ author: mid, ai: aiAssisted() })).approvals_required).toBe(3);
  });
});

describe('rule conditions, one at a time', () => {
  it('when ai_assisted is true, then it matches assisted changes only, and ai_assisted false matches the others', () => {
    expect(matches({ ai_assisted: true }, facts({ ai: aiAssisted() }))).toBe(true);
    expect(matches({ ai_assisted: true }, facts({ ai: notAssisted }))).toBe(false);
    expect(matches({ ai_assisted: false }, facts({ ai: notAssisted }))).toBe(true);
    expect(matches({ ai_assisted: false }, facts({ ai: aiAssisted() }))).toBe(false);
    expect(matchRule(rule({ ai_assisted: false }), facts())).toEqual(['not AI-assisted']);
  });

  it('when an assisted change has no tool and no reasons, then the fact is simply "AI-assisted"', () => {
    expect(matchRule(rule({ ai_assisted: true }), facts({ ai: aiAssisted({ tool: null, reasons: [] }) }))).toEqual(['AI-assisted']);
  });

  it("when author_level lists levels, then it matches exactly the author's level", () => {
    expect(matches({ author_level: ['junior'] }, facts({ author: junior }))).toBe(true);
    expect(matches({ author_level: ['junior'] }, facts({ author: mid }))).toBe(false);
    expect(matches({ author_level: ['mid', 'senior'] }, facts({ author: senior }))).toBe(true);
    expect(matches({ author_level: ['senior'] }, facts({ author: principal }))).toBe(false);
    expect(matchRule(rule({ author_level: ['mid'] }), facts({ author: mid }))).toEqual(['author @mia-k is mid']);
  });

  it("when author_level includes 'unknown', then it matches an author nobody knows, and otherwise does not", () => {
    expect(stranger.level).toBe('unknown');
    expect(matches({ author_level: ['unknown'] }, facts({ author: stranger }))).toBe(true);
    expect(matches({ author_level: ['junior', 'mid'] }, facts({ author: stranger }))).toBe(false);
  });

  it('when environment lists environments, then it matches only those (exactly)', () => {
    expect(matchRule(rule({ environment: ['production', 'prod'] }), facts({ environment: 'prod' }))).toEqual(['environment prod']);
    expect(matches({ environment: ['production'] }, facts({ environment: 'staging' }))).toBe(false);
  });

  it('when services lists services, then it matches if the change touches any of them and names only those touched', () => {
    const f = facts({ services: ['checkout', 'search-api', 'infra'] });
    expect(matchRule(rule({ services: ['infra', 'checkout-db'] }), f)).toEqual(['touches service infra']);
    expect(matches({ services: ['checkout-db'] }, f)).toBe(false);
    expect(matches({ services: ['checkout'] }, facts({ services: [] }))).toBe(false);
  });

  it('when many services are touched, then the fact names three and counts the rest', () => {
    const all = ['a', 'b', 'c', 'd', 'e'];
    expect(matchRule(rule({ services: all }), facts({ services: all }))).toEqual(['touches service a, b, c, +2 more']);
  });

  describe('paths_match globs (the default sensitive paths)', () => {
    const sensitive = defaultPolicy.rules.find((r) => r.name === 'ai-change-to-sensitive-paths')!.when.paths_match!;
    const hits = (path: string) => matches({ paths_match: sensitive }, facts({ diff: diff([path]) }));

    for (const path of [
      'src/auth/login.ts',
      'auth/session.go',
      'lib/security/policy.rb',
      'pkg/crypto/aes.go',
      'config/secrets/prod.yaml',
      'db/migrations/0001_init.sql',
      'main.tf',
      'infra/modules/network/main.tf',
      '.github/workflows/deploy.yml',
      'k8s/deployment.yaml',
      'helm/charts/values.yaml',
    ]) {
      it(`when the diff touches ${path}, then a sensitive glob matches`, () => {
        expect(hits(path)).toBe(true);
      });
    }

    for (const path of ['src/payments/capture.ts', 'docs/authoring.md', 'src/authentication.ts', 'main.tfvars', 'deploy/k8s/x.yaml', '.github/CODEOWNERS']) {
      it(`when the diff touches only ${path}, then no sensitive glob matches`, () => {
        expect(hits(path)).toBe(false);
      });
    }

    it('when there is no diff or the diff has no paths, then paths_match does not hold', () => {
      expect(matches({ paths_match: ['**'] }, facts({ diff: null }))).toBe(false);
      expect(matches({ paths_match: ['**'] }, facts({ diff: diff([]) }))).toBe(false);
    });

    it('when several paths match, then the fact names only the matching paths', () => {
      const f = facts({ diff: diff(['README.md', 'src/auth/a.ts', 'infra/x.tf']) });
      expect(matchRule(rule({ paths_match: sensitive }), f)).toEqual(['touches src/auth/a.ts, infra/x.tf']);
    });
  });

  it('when infra_destroys_at_least is n, then it matches plans destroying at least n resources only', () => {
    expect(matches({ infra_destroys_at_least: 2 }, facts({ infra: infraOf('plan-destructive') }))).toBe(true);
    expect(matches({ infra_destroys_at_least: 3 }, facts({ infra: infraOf('plan-destructive') }))).toBe(false);
    expect(matches({ infra_destroys_at_least: 7 }, facts({ infra: infraOf('plan-destroy-all') }))).toBe(true);
    expect(matches({ infra_destroys_at_least: 1 }, facts({ infra: infraOf('plan-initial-create') }))).toBe(false);
    expect(matches({ infra_destroys_at_least: 1 }, facts({ infra: null }))).toBe(false);
  });

  it('when lines_changed_at_least is n, then additions plus deletions must reach n, and the fact shows both', () => {
    expect(matchRule(rule({ lines_changed_at_least: 1000 }), facts({ diff: diff(['a.ts'], 900, 100) }))).toEqual(['1000 lines changed (+900 −100)']);
    expect(matches({ lines_changed_at_least: 1000 }, facts({ diff: diff(['a.ts'], 900, 99) }))).toBe(false);
    expect(matches({ lines_changed_at_least: 1 }, facts({ diff: null }))).toBe(false);
  });

  it('when ai_share_at_least is x, then the declared share must reach x, and an unknown share never matches', () => {
    expect(matchRule(rule({ ai_share_at_least: 0.5 }), facts({ ai: aiAssisted({ share: 0.5 }) }))).toEqual(['50% AI-generated']);
    expect(matches({ ai_share_at_least: 0.5 }, facts({ ai: aiAssisted({ share: 0.49 }) }))).toBe(false);
    expect(matches({ ai_share_at_least: 0 }, facts({ ai: aiAssisted({ share: null }) }))).toBe(false);
    expect(matchRule(rule({ ai_share_at_least: 0.8 }), facts({ ai: aiAssisted({ share: 0.834 }) }))).toEqual(['83% AI-generated']);
  });
});

describe('rules with several conditions', () => {
  const when: Rule['when'] = { ai_assisted: true, environment: ['production'], services: ['checkout'], lines_changed_at_least: 100 };
  const all = facts({ ai: aiAssisted(), environment: 'production', services: ['checkout'], diff: diff(['src/a.ts'], 90, 10) });

  it('when every condition holds, then the rule matches and lists one fact per condition, most telling first', () => {
    expect(matchRule(rule(when), all)).toEqual([
      'AI-assisted (Copilot): declared AI-assisted by the submitter',
      '100 lines changed (+90 −10)',
      'touches service checkout',
      'environment production',
    ]);
  });

  for (const [broken, f] of [
    ['ai_assisted', { ...all, ai: notAssisted }],
    ['environment', { ...all, environment: 'staging' }],
    ['services', { ...all, services: ['search-api'] }],
    ['lines_changed_at_least', { ...all, diff: diff(['src/a.ts'], 50, 10) }],
  ] as [string, ChangeFacts][]) {
    it(`when all conditions but ${broken} hold, then the rule does not match`, () => {
      expect(matchRule(rule(when), f)).toBeNull();
      expect(evaluatePolicy(policyOf(rule(when, 'high')), f)).toEqual({ risk: { level: 'low', reasons: [] }, approvals_required: 0 });
    });
  }
});

describe('evaluatePolicy with custom rules', () => {
  const prod = rule({ environment: ['production'] }, 'medium', 'prod');
  const ai = rule({ ai_assisted: true }, 'high', 'ai');
  const huge = rule({ lines_changed_at_least: 500 }, 'critical', 'huge');
  const policy = policyOf(prod, ai, huge);

  it('when no rule matches, then the level is low and approvals are approvals.low', () => {
    expect(evaluatePolicy(policy, facts())).toEqual({ risk: { level: 'low', reasons: [] }, approvals_required: 0 });
  });

  it('when rules of several levels match, then the level is the highest and approvals follow it', () => {
    const out = evaluatePolicy(policy, facts({ environment: 'production', ai: aiAssisted() }));
    expect(out.risk.level).toBe('high');
    expect(out.approvals_required).toBe(2);
  });

  it('when every rule matches, then every rule is a reason, most severe first, each with name, description, facts and text', () => {
    const out = evaluatePolicy(policy, facts({ environment: 'production', ai: aiAssisted(), diff: diff(['a.ts'], 400, 100) }));
    expect(out.risk.level).toBe('critical');
    expect(out.approvals_required).toBe(3);
    expect(out.risk.reasons).toEqual([
      { rule: 'huge', description: 'rule huge', facts: ['500 lines changed (+400 −100)'], text: 'huge: 500 lines changed (+400 −100)' },
      {
        rule: 'ai',
        description: 'rule ai',
        facts: ['AI-assisted (Copilot): declared AI-assisted by the submitter'],
        text: 'ai: AI-assisted (Copilot): declared AI-assisted by the submitter',
      },
      { rule: 'prod', description: 'rule prod', facts: ['environment production'], text: 'prod: environment production' },
    ]);
  });

  it('when two matching rules share a level, then both are reasons in config order', () => {
    const a = rule({ environment: ['production'] }, 'high', 'first');
    const b = rule({ services: ['checkout'] }, 'high', 'second');
    const out = evaluatePolicy(policyOf(a, b), facts({ environment: 'production' }));
    expect(out.risk.reasons.map((r) => r.rule)).toEqual(['first', 'second']);
  });

  it("when a low-level rule matches, then it is listed as a reason but the level stays low", () => {
    const out = evaluatePolicy(policyOf(rule({ services: ['checkout'] }, 'low', 'note')), facts());
    expect(out.risk.level).toBe('low');
    expect(out.risk.reasons.map((r) => r.text)).toEqual(['note: touches service checkout']);
    expect(out.approvals_required).toBe(0);
  });
});

describe('maxLevel', () => {
  it('when comparing two levels, then the more severe wins regardless of order', () => {
    expect(maxLevel('low', 'critical')).toBe('critical');
    expect(maxLevel('critical', 'low')).toBe('critical');
    expect(maxLevel('medium', 'high')).toBe('high');
    expect(maxLevel('medium', 'medium')).toBe('medium');
  });
});
