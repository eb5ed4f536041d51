import { describe, expect, it } from 'vitest';
import { pickAssignee, type ReviewerLoad } from '../../src/domain/assignment.ts';
import { evaluatePolicy } from '../../src/domain/policy.ts';
import { areaOf, buildReviewBrief, describeBlastRadius } from '../../src/domain/review-brief.ts';
import { analyzeTerraformPlan } from '../../src/domain/terraform.ts';
import type { ChangeFacts } from '../../src/domain/types.ts';
import { ServiceGraph } from '../../src/domain/service-graph.ts';
import { buildChangeCard } from '../../src/slack/views/change-card.ts';
import { loadPlan } from '../factories/change.ts';
import { buildChange } from '../factories/domain-change.ts';

const human = { assisted: false, tool: null, share: null, reasons: [] };
const ai = (share: number | null = null) => ({ assisted: true, tool: 'Copilot', share, reasons: ['declared'] });
const diff = (paths: string[]) => ({ files_changed: paths.length, additions: 10, deletions: 2, paths });

describe('review brief', () => {
  it('when paths span areas, then they are grouped with the riskiest area first', () => {
    const brief = buildReviewBrief({ diff: diff(['docs/a.md', 'src/app.ts', 'infra/main.tf', 'db/migrations/001.sql', 'src/auth/login.ts', '.github/workflows/ci.yml', 'test/app.test.ts']), ai: human, infra: null });
    expect(brief.areas.map((a) => a.name)).toEqual(['infrastructure', 'database migrations', 'auth & security', 'CI/CD pipelines', 'code', 'tests', 'docs']);
    expect(brief.flags).toEqual(['Touches auth', 'Pipeline change']);
  });

  it('when code changes without tests, then "No tests changed"; docs-only changes raise nothing', () => {
    expect(buildReviewBrief({ diff: diff(['src/app.ts']), ai: human, infra: null }).flags).toEqual(['No tests changed']);
    expect(buildReviewBrief({ diff: diff(['docs/a.md', 'README.md']), ai: human, infra: null }).flags).toEqual([]);
  });

  it('when the change is AI-assisted with a known share and a plan destroys resources, then both are flagged', () => {
    const plan = analyzeTerraformPlan(loadPlan('plan-destroy-all'));
    if (!plan.ok) throw new Error('fixture');
    const brief = buildReviewBrief({ diff: diff(['infra/main.tf', 'test/infra.test.ts']), ai: ai(0.8), infra: plan.summary });
    expect(brief.flags).toEqual(['80% AI-generated', 'Destroys 7 resources: terraform_data.orders_db, terraform_data.payments_api, module.network.terraform_data.route_table, +4 more']);
  });

  it('when a migration file is deleted, then "Deletes a migration"', () => {
    expect(buildReviewBrief({ diff: diff(['db/migrations/002.sql']), ai: human, infra: null, deletedPaths: ['db/migrations/001.sql'] }).flags).toContain('Deletes a migration');
  });

  it('when areas are configured, then they replace the defaults', () => {
    const areas = [{ name: 'payments core', paths: ['src/payments/**'], risk: 90 }];
    expect(areaOf('src/payments/capture.ts', areas)).toBe('payments core');
    expect(areaOf('src/other.ts', areas)).toBe('code');
  });

  it('when a card is built for a realistic change, then the brief sits in its own section and stays within limits', () => {
    const card = buildChangeCard(buildChange({ diff: diff(['src/auth/session.ts', 'src/auth/token.ts', 'k8s/deploy.yaml']), ai: ai(0.6), blast_radius: ['checkout-db', 'payments-api', 'checkout', 'a', 'b'] }));
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('*Review brief*');
    expect(text).toContain(':warning: No tests changed');
    expect(text).toContain(':warning: Touches auth');
    expect(text).toContain(':warning: 60% AI-generated');
    expect(text).toContain('*Files by area:* infrastructure 1 · auth &amp; security 2');
    expect(text).toContain('*Blast radius*\\n5 services: checkout-db → payments-api → checkout, +2 more');
    expect(card.blocks.length).toBeLessThanOrEqual(50);
  });
});

describe('blast radius', () => {
  const graph = new ServiceGraph([
    { name: 'checkout', depends_on: ['payments-api'] },
    { name: 'payments-api', depends_on: ['checkout-db'] },
    { name: 'checkout-db', depends_on: [] },
    { name: 'a', depends_on: ['b'] },
    { name: 'b', depends_on: ['a'] },
  ]);

  it('when a service is depended on transitively, then the radius walks depends_on in reverse; cycles terminate', () => {
    expect(graph.blastRadius(['checkout-db'])).toEqual(['checkout-db', 'payments-api', 'checkout']);
    expect(graph.blastRadius(['a']).sort()).toEqual(['a', 'b']);
    expect(describeBlastRadius(['x', 'y', 'z', 'w', 'v'])).toBe('x → y → z, +2 more');
  });

  it('when blast_radius_at_least is met, then the rule matches and names the radius', () => {
    const facts: ChangeFacts = { services: ['checkout-db'], environment: 'production', author: { level: 'senior', bot: false }, ai: ai(), diff: null, infra: null, labels: [], blast_radius: graph.blastRadius(['checkout-db']) };
    const policy = { rules: [{ name: 'wide', description: 'wide', when: { ai_assisted: true, blast_radius_at_least: 3 }, level: 'high' as const }], approvals: { low: 0, medium: 1, high: 1, critical: 2 } };
    expect(evaluatePolicy(policy, facts).risk.reasons[0].text).toBe('wide: blast radius 3 services (checkout-db → payments-api → checkout); AI-assisted (Copilot): declared');
    expect(evaluatePolicy(policy, { ...facts, blast_radius: ['checkout-db', 'payments-api'] }).risk.level).toBe('low');
  });
});

describe('pickAssignee', () => {
  const load = (user: string, open: number, today = 0, last: string | null = null): [string, ReviewerLoad] => [user, { user, open, today, lastAssignedAt: last ? new Date(last) : null }];

  it('when loads differ, then the least loaded is asked; ties go to whoever was assigned least recently', () => {
    const loads = new Map([load('U0A', 2), load('U0B', 1, 0, '2026-11-02T10:00:00Z'), load('U0C', 1, 0, '2026-11-02T09:00:00Z')]);
    expect(pickAssignee({ eligible: ['U0A', 'U0B', 'U0C'], author: null, away: new Set(), loads, maxPerDay: 10 })).toBe('U0C');
  });

  it('when the author, away people and capped people are eligible, then they are skipped unless everyone is capped', () => {
    const loads = new Map([load('U0A', 0, 5), load('U0B', 3, 1)]);
    expect(pickAssignee({ eligible: ['U0A', 'U0B', 'U0C'], author: 'U0C', away: new Set(), loads, maxPerDay: 5 })).toBe('U0B');
    expect(pickAssignee({ eligible: ['U0A', 'U0B'], author: null, away: new Set(['U0B']), loads, maxPerDay: 5 })).toBe('U0A');
    expect(pickAssignee({ eligible: ['U0A'], author: 'U0A', away: new Set(), loads, maxPerDay: 5 })).toBeNull();
  });
});
