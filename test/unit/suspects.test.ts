import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ServiceGraph } from '../../src/domain/service-graph.ts';
import {
  formatMinutes,
  inWindow,
  rankSuspects,
  type IncidentSubject,
  type SuspectDeployment,
  type SuspectWindow,
} from '../../src/domain/suspects.ts';
import { RISK_LEVELS } from '../../src/domain/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = new Date('2025-03-10T14:00:00Z');
const at = (minutesFromStart: number) => new Date(START.getTime() + minutesFromStart * MIN);

const graph = new ServiceGraph([
  { name: 'checkout', depends_on: ['payments-api', 'catalog-api'] },
  { name: 'payments-api', depends_on: ['checkout-db'] },
  { name: 'checkout-db', depends_on: ['storage'] },
  { name: 'storage', depends_on: [] },
  { name: 'catalog-api', depends_on: [] },
  { name: 'search-api', depends_on: ['catalog-api'] },
]);

const window: SuspectWindow = { lookbackMs: 24 * HOUR, graceMs: 15 * MIN };
const incident: IncidentSubject = { services: ['checkout'], started_at: START };

let nextId = 1;
function deploy(over: Partial<SuspectDeployment> & { change_key: string }): SuspectDeployment {
  return {
    deployment_id: nextId++,
    change_title: `Change ${over.change_key}`,
    service: 'checkout',
    environment: 'production',
    status: 'succeeded',
    ungated: false,
    deployed_at: at(-20),
    risk_level: 'low',
    ai_assisted: false,
    approvals_required: 1,
    approvals: 1,
    approvers: ['U0SENIOR1'],
    ...over,
  };
}

describe('inWindow', () => {
  const w: SuspectWindow = { lookbackMs: 2 * HOUR, graceMs: 15 * MIN };

  it('when the deploy is exactly lookback before the start, then it is in the window', () => {
    expect(inWindow(new Date(START.getTime() - 2 * HOUR), incident, w)).toBe(true);
  });

  it('when the deploy is one ms before the lookback edge, then it is outside', () => {
    expect(inWindow(new Date(START.getTime() - 2 * HOUR - 1), incident, w)).toBe(false);
  });

  it('when the deploy is exactly grace after the start, then it is in the window', () => {
    expect(inWindow(new Date(START.getTime() + 15 * MIN), incident, w)).toBe(true);
  });

  it('when the deploy is one ms after the grace edge, then it is outside', () => {
    expect(inWindow(new Date(START.getTime() + 15 * MIN + 1), incident, w)).toBe(false);
  });

  it('when the deploy is at the start itself, then it is in the window', () => {
    expect(inWindow(START, incident, w)).toBe(true);
  });

  it('when a window edge deploy is ranked, then it is a suspect, and one ms beyond it is not', () => {
    const edge = [
      deploy({ change_key: 'CS-EDGE-LOOK', deployed_at: new Date(START.getTime() - 2 * HOUR) }),
      deploy({ change_key: 'CS-PAST-LOOK', deployed_at: new Date(START.getTime() - 2 * HOUR - 1) }),
      deploy({ change_key: 'CS-EDGE-GRACE', deployed_at: new Date(START.getTime() + 15 * MIN) }),
      deploy({ change_key: 'CS-PAST-GRACE', deployed_at: new Date(START.getTime() + 15 * MIN + 1) }),
    ];
    expect(rankSuspects(incident, edge, graph, w).map((s) => s.change)).toEqual(['CS-EDGE-GRACE', 'CS-EDGE-LOOK']);
  });
});

describe('rankSuspects on an outage of checkout', () => {
  const deployments: SuspectDeployment[] = [
    deploy({ change_key: 'CS-101', service: 'checkout', deployed_at: at(-20) }),
    deploy({
      change_key: 'CS-102',
      service: 'payments-api',
      deployed_at: at(-10),
      ai_assisted: true,
      risk_level: 'high',
      approvals_required: 2,
      approvals: 2,
      approvers: ['U0SENIOR1', 'U0SENIOR2'],
    }),
    deploy({ change_key: 'CS-103', service: 'search-api', deployed_at: at(-5), risk_level: 'critical', ungated: true }),
    deploy({ change_key: 'CS-104', service: 'checkout', environment: 'staging', deployed_at: at(-2), ai_assisted: true }),
    deploy({ change_key: 'CS-105', service: 'checkout', deployed_at: at(-30 * 60), risk_level: 'critical' }),
    deploy({ change_key: 'CS-106', service: 'checkout', deployed_at: at(5) }),
    deploy({ change_key: 'CS-107', service: 'catalog-api', deployed_at: at(-45), status: 'failed', risk_level: 'medium' }),
    deploy({ change_key: 'CS-108', service: 'checkout-db', deployed_at: at(-180), ungated: true, risk_level: 'critical', approvals: 0, approvers: [] }),
  ];
  const suspects = rankSuspects(incident, deployments, graph, window);

  it('when ranked, then the order is by score: the AI-assisted high-risk dependency first, the ungated db last', () => {
    expect(suspects.map((s) => [s.change, s.score])).toEqual([
      ['CS-102', 72.8], // 40·e^(−10/120)=36.8 + 18 + 10 high + 8 AI
      ['CS-106', 70], // 40 (after start) + 30
      ['CS-101', 63.9], // 40·e^(−20/120)=33.9 + 30
      ['CS-107', 60.5], // 40·e^(−45/120)=27.5 + 18 + 5 medium + 10 failed
      ['CS-108', 48.9], // 40·e^(−180/120)=8.9 + 10 + 15 critical + 15 ungated
    ]);
  });

  it('when ranked, then unrelated services, staging deploys and deploys outside the window are absent', () => {
    const keys = suspects.map((s) => s.change);
    expect(keys).not.toContain('CS-103');
    expect(keys).not.toContain('CS-104');
    expect(keys).not.toContain('CS-105');
    // Even with room for more, they do not appear.
    expect(rankSuspects(incident, deployments, graph, window, 20).map((s) => s.change)).toHaveLength(5);
  });

  it('when ranked, then each suspect carries its deployment, title, service, time and approvers', () => {
    const top = suspects[0];
    expect(top).toEqual({
      change: 'CS-102',
      title: 'Change CS-102',
      score: 72.8,
      reasons: ['deployed to payments-api, which checkout depends on, 10 min before the incident', 'AI-assisted', 'high risk'],
      deployment_id: deployments[1].deployment_id,
      service: 'payments-api',
      deployed_at: at(-10),
      minutes_before: 10,
      approvers: ['U0SENIOR1', 'U0SENIOR2'],
    });
    expect(top.approvers).not.toBe(deployments[1].approvers);
  });

  it('when ranked, then the reasons read in words, in order', () => {
    expect(Object.fromEntries(suspects.map((s) => [s.change, s.reasons]))).toEqual({
      'CS-102': ['deployed to payments-api, which checkout depends on, 10 min before the incident', 'AI-assisted', 'high risk'],
      'CS-106': ['deployed to checkout 5 min after the incident started'],
      'CS-101': ['deployed to checkout 20 min before the incident'],
      'CS-107': ['deployed to catalog-api, which checkout depends on, 45 min before the incident', 'medium risk', 'deploy failed'],
      'CS-108': [
        'deployed to checkout-db, which checkout depends on, 3 h before the incident',
        'critical risk',
        'deployed without sign-off (ungated)',
      ],
    });
  });

  it('when a deploy came after the start, then minutes_before is negative', () => {
    expect(suspects.find((s) => s.change === 'CS-106')?.minutes_before).toBe(-5);
  });

  it('when max is given, then only the top suspects are returned', () => {
    expect(rankSuspects(incident, deployments, graph, window, 2).map((s) => s.change)).toEqual(['CS-102', 'CS-106']);
    expect(rankSuspects(incident, deployments, graph, window, 0)).toEqual([]);
  });

  it('when the incident names no services, then there are no suspects', () => {
    expect(rankSuspects({ services: [], started_at: START }, deployments, graph, window)).toEqual([]);
  });

  it('when the incident is on a dependency, then its dependents are not suspects', () => {
    const out = rankSuspects({ services: ['payments-api'], started_at: START }, deployments, graph, window);
    expect(out.map((s) => s.change)).toEqual(['CS-102', 'CS-108']);
    expect(out[1].reasons[0]).toBe('deployed to checkout-db, which payments-api depends on, 3 h before the incident');
  });
});

describe('reasons', () => {
  const only = (d: SuspectDeployment, inc: IncidentSubject = incident) => {
    const out = rankSuspects(inc, [d], graph, window);
    expect(out).toHaveLength(1);
    return out[0];
  };

  it('when approved with fewer sign-offs than required, then it says how many and adds 10', () => {
    const s = only(deploy({ change_key: 'CS-1', deployed_at: START, approvals_required: 2, approvals: 1 }));
    expect(s.reasons).toEqual(['deployed to checkout less than 1 min before the incident', 'approved with 1 of 2 sign-offs']);
    expect(s.score).toBe(80);
  });

  it('when ungated and also short of sign-offs, then only the ungated reason and points apply', () => {
    const s = only(deploy({ change_key: 'CS-1', deployed_at: START, ungated: true, approvals_required: 2, approvals: 0 }));
    expect(s.reasons).toEqual(['deployed to checkout less than 1 min before the incident', 'deployed without sign-off (ungated)']);
    expect(s.score).toBe(85);
  });

  it('when rolled back, then it says so and adds 12', () => {
    const s = only(deploy({ change_key: 'CS-1', deployed_at: START, status: 'rolled_back' }));
    expect(s.reasons).toEqual(['deployed to checkout less than 1 min before the incident', 'rolled back']);
    expect(s.score).toBe(82);
  });

  it('when every factor applies, then the reasons come in the order place/time, AI, risk, sign-off, status', () => {
    const s = only(
      deploy({ change_key: 'CS-1', service: 'storage', deployed_at: at(-125), ai_assisted: true, risk_level: 'critical', approvals_required: 3, approvals: 1, status: 'failed' }),
    );
    expect(s.reasons).toEqual([
      'deployed to storage, which checkout depends on, 2 h 5 min before the incident',
      'AI-assisted',
      'critical risk',
      'approved with 1 of 3 sign-offs',
      'deploy failed',
    ]);
    // 40·e^(−125/120)=14.11 + 5 (distance 3) + 15 + 8 + 10 + 10
    expect(s.score).toBe(62.1);
  });

  it('when two incident services depend on the deployed one, then the reason names the nearest', () => {
    const s = only(deploy({ change_key: 'CS-1', service: 'catalog-api', deployed_at: at(-20) }), {
      services: ['search-api', 'checkout'],
      started_at: START,
    });
    expect(s.reasons[0]).toBe('deployed to catalog-api, which checkout depends on, 20 min before the incident');
  });

  it('when the deploy is an incident service among several, then the reason says just the service', () => {
    const s = only(deploy({ change_key: 'CS-1', service: 'search-api', deployed_at: at(-61) }), {
      services: ['checkout', 'search-api'],
      started_at: START,
    });
    expect(s.reasons[0]).toBe('deployed to search-api 1 h 1 min before the incident');
  });

  it('when minutes are formatted, then under an hour is minutes and above is hours and minutes', () => {
    expect(formatMinutes(20 * MIN)).toBe('20 min');
    expect(formatMinutes(59 * MIN)).toBe('59 min');
    expect(formatMinutes(60 * MIN)).toBe('1 h');
    expect(formatMinutes(125 * MIN)).toBe('2 h 5 min');
    expect(formatMinutes(10_000)).toBe('less than 1 min');
  });
});

describe('one suspect per change', () => {
  it('when a change was deployed several times, then it appears once with its best-scoring deployment', () => {
    const first = deploy({ change_key: 'CS-1', deployed_at: at(-120) });
    const rollback = deploy({ change_key: 'CS-1', deployed_at: at(-90), status: 'rolled_back' });
    const staging = deploy({ change_key: 'CS-1', environment: 'staging', deployed_at: at(-1), ai_assisted: true });
    const other = deploy({ change_key: 'CS-2', deployed_at: at(-100) });
    const out = rankSuspects(incident, [first, rollback, staging, other], graph, window);
    expect(out.map((s) => [s.change, s.deployment_id])).toEqual([
      ['CS-1', rollback.deployment_id],
      ['CS-2', other.deployment_id],
    ]);
  });

  it('when two suspects score the same, then the more recent deploy comes first, then the change key', () => {
    const a = deploy({ change_key: 'CS-B', deployed_at: START });
    const b = deploy({ change_key: 'CS-A', deployed_at: at(3) });
    const c = deploy({ change_key: 'CS-C', deployed_at: at(3) });
    // All three score 70: after-start deploys count as 0 minutes before.
    const out = rankSuspects(incident, [a, c, b], graph, window);
    expect(out.map((s) => [s.change, s.score])).toEqual([
      ['CS-A', 70],
      ['CS-C', 70],
      ['CS-B', 70],
    ]);
  });
});

describe('score properties', () => {
  const deploymentArb = fc.record({
    service: fc.constantFrom('checkout', 'payments-api', 'checkout-db', 'storage', 'catalog-api'),
    status: fc.constantFrom('succeeded' as const, 'failed' as const, 'rolled_back' as const),
    ungated: fc.boolean(),
    risk_level: fc.constantFrom(...RISK_LEVELS),
    ai_assisted: fc.boolean(),
    approvals_required: fc.integer({ min: 0, max: 3 }),
    approvals: fc.integer({ min: 0, max: 3 }),
  });
  const scoreOf = (d: SuspectDeployment) => {
    const out = rankSuspects(incident, [d], graph, window);
    expect(out).toHaveLength(1);
    return out[0].score;
  };

  it('when a deploy moves closer to the incident start, then its score never drops', () => {
    fc.assert(
      fc.property(
        deploymentArb,
        fc.integer({ min: 0, max: window.lookbackMs }),
        fc.integer({ min: -window.graceMs, max: window.lookbackMs }),
        (over, farBefore, nearBefore) => {
          fc.pre(nearBefore <= farBefore);
          const far = deploy({ change_key: 'CS-P', ...over, deployed_at: new Date(START.getTime() - farBefore) });
          const near = { ...far, deployed_at: new Date(START.getTime() - nearBefore) };
          expect(scoreOf(near)).toBeGreaterThanOrEqual(scoreOf(far));
        },
      ),
    );
  });

  it('when a deploy becomes AI-assisted, then its score never drops', () => {
    fc.assert(
      fc.property(deploymentArb, fc.integer({ min: -window.graceMs, max: window.lookbackMs }), (over, before) => {
        const human = deploy({ change_key: 'CS-P', ...over, ai_assisted: false, deployed_at: new Date(START.getTime() - before) });
        const ai = { ...human, ai_assisted: true };
        expect(scoreOf(ai)).toBeGreaterThanOrEqual(scoreOf(human));
      }),
    );
  });

  it('when any related deploy in the window is scored, then the score lies between the floor and the maximum', () => {
    fc.assert(
      fc.property(deploymentArb, fc.integer({ min: -window.graceMs, max: window.lookbackMs }), (over, before) => {
        const s = scoreOf(deploy({ change_key: 'CS-P', ...over, deployed_at: new Date(START.getTime() - before) }));
        expect(s).toBeGreaterThanOrEqual(5);
        expect(s).toBeLessThanOrEqual(40 + 30 + 15 + 8 + 15 + 12);
        expect(Math.round(s * 10) / 10).toBe(s);
      }),
    );
  });
});
