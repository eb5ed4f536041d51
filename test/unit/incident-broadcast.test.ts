import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceGraph } from '../../src/domain/service-graph.ts';
import { rankSuspects, type SuspectDeployment } from '../../src/domain/suspects.ts';
import { RISK_LEVELS } from '../../src/domain/types.ts';
import type { Incident, IncidentCause, IncidentSuspect, IncidentView } from '../../src/domain/incident.ts';
import { mostSevere, parseIncidentKey, severityFromLabel } from '../../src/domain/incident.ts';
import { buildIncidentBroadcast } from '../../src/slack/views/incident-broadcast.ts';

const START = new Date('2026-11-02T10:00:00Z');

function incident(over: Partial<Incident> = {}): Incident {
  return { id: 3, key: 'INC-3', title: 'Checkout returns 500s', severity: 'sev2', services: ['checkout'], status: 'open', source: 'slack', external_id: null, started_at: START, resolved_at: null, declared_by: 'U0MIA', created_at: START, updated_at: START, ...over };
}

function suspect(n: number, over: Partial<IncidentSuspect> = {}): IncidentSuspect {
  return {
    change: `CHG-${n}`, title: `Change ${n}`, score: 80 - n, reasons: ['deployed to checkout 20 min before the incident'], deployment_id: n, service: 'checkout',
    deployed_at: new Date(START.getTime() - 20 * 60_000), minutes_before: 20, approvers: ['U0ALICE'], change_id: n, team: 'payments',
    author: { slack_id: 'U0JUNIOR', level: 'junior', bot: false }, ai: { assisted: true, tool: 'Copilot', share: null, reasons: [] }, risk_level: 'high', url: null,
    deploy_status: 'succeeded', ungated: false, approvals_required: 1, ...over,
  };
}

const view = (over: Partial<IncidentView> = {}): IncidentView => ({ incident: incident(), suspects: [suspect(1)], causes: [], ...over });
const mrkdwn = (m: { text: string; blocks: unknown[] }) => {
  const out: string[] = [m.text];
  JSON.stringify(m.blocks, (_k, v) => (v && v.type === 'mrkdwn' && out.push(v.text), v));
  return out;
};

describe('buildIncidentBroadcast', () => {
  it('when there are 20 suspects with huge hostile titles and many causes, then it stays within Block Kit limits and escapes everything', async () => {
    const hostile = `<!channel> <https://evil|x> ${'y'.repeat(5000)}`;
    const causes: IncidentCause[] = Array.from({ length: 40 }, (_, i) => ({ change_id: 100 + i, change: `CHG-${100 + i}`, title: hostile, confirmed_by: 'U0BOB', at: START, approvers: ['U0ALICE'] }));
    const msg = buildIncidentBroadcast(view({ incident: incident({ title: hostile, services: Array.from({ length: 50 }, (_, i) => `svc-${i}`) }), suspects: Array.from({ length: 20 }, (_, i) => suspect(i + 1, { title: hostile, reasons: [hostile] })), causes }));
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    for (const t of mrkdwn(msg)) {
      expect(t.length).toBeLessThanOrEqual(3000);
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<https://evil');
    }
    const header = msg.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    for (const b of msg.blocks as { type: string; elements?: { value?: string; text?: { text: string } }[] }[]) {
      if (b.type === 'actions') for (const e of b.elements!) expect(e.value!.length).toBeLessThanOrEqual(2000);
      if (b.type === 'context') expect(b.elements!.length).toBeLessThanOrEqual(10);
    }
  });

  it('when a suspect was deployed ungated, then it says so instead of naming approvers', () => {
    const text = JSON.stringify(buildIncidentBroadcast(view({ suspects: [suspect(1, { approvers: [], ungated: true })] })).blocks);
    expect(text).toContain('Deployed without sign-off');
  });

  it('when resolved, then the status shows the duration', () => {
    const msg = buildIncidentBroadcast(view({ incident: incident({ status: 'resolved', resolved_at: new Date(START.getTime() + 125 * 60_000) }) }));
    expect(JSON.stringify(msg.blocks)).toContain('Resolved after 2 h 5 min');
    expect(msg.text).toContain('(resolved after 2 h 5 min)');
  });
});

describe('a suspect\'s "Why:" line', () => {
  const graph = new ServiceGraph([
    { name: 'checkout', depends_on: ['payments-api'] },
    { name: 'payments-api', depends_on: ['checkout-db'] },
    { name: 'checkout-db', depends_on: [] },
  ]);
  const window = { lookbackMs: 24 * 3_600_000, graceMs: 15 * 60_000 };
  const plain = (t: string) => t.replace(/[*_]/g, '').toLowerCase();

  /** The suspect as ranked from `d` (real reasons), rendered; its section's lines above "Why:", and the Why items. */
  function render(d: SuspectDeployment): { above: string[]; why: string[] } {
    const [ranked] = rankSuspects({ services: ['checkout'], started_at: START }, [d], graph, window);
    const s = suspect(1, { ...ranked, risk_level: d.risk_level, ai: { assisted: d.ai_assisted, tool: null, share: null, reasons: [] }, deploy_status: d.status, ungated: d.ungated, approvals_required: d.approvals_required });
    const section = mrkdwn(buildIncidentBroadcast(view({ suspects: [s] }))).find((t) => t.startsWith(':mag: *Suspect*'))!;
    const lines = section.split('\n');
    const whyLine = lines.find((l) => l.startsWith('_Why: '));
    return { above: lines.filter((l) => l !== whyLine), why: whyLine ? whyLine.slice('_Why: '.length, -1).split('; ') : [] };
  }

  const deployment = (over: Partial<SuspectDeployment> = {}): SuspectDeployment => ({
    deployment_id: 1, change_key: 'CHG-1', change_title: 'Change 1', service: 'checkout', environment: 'production', status: 'succeeded', ungated: false,
    deployed_at: new Date(START.getTime() - 20 * 60_000), risk_level: 'high', ai_assisted: true, approvals_required: 1, approvals: 1, approvers: ['U0ALICE'], ...over,
  });

  it('when every reason is already shown above (service, time, AI, risk, ungated, failed deploy), then there is no "Why:" line', () => {
    const { above, why } = render(deployment({ ungated: true, approvals: 0, approvers: [], status: 'failed', risk_level: 'critical' }));
    expect(above.join('\n')).toMatch(/Deployed to checkout 20 min before the incident \(failed\)/);
    expect(why).toEqual([]);
  });

  it('when a reason is not shown above (a dependency, missing sign-offs), then "Why:" gives only that', () => {
    expect(render(deployment({ service: 'payments-api', approvals_required: 2 })).why).toEqual(['checkout depends on payments-api', 'approved with 1 of 2 sign-offs']);
    expect(render(deployment({ status: 'rolled_back', risk_level: 'low', ai_assisted: false })).why).toEqual([]);
  });

  it('when any deployment is a suspect, then no reason in "Why:" is already in the lines above it', () => {
    const arb = fc.record({
      service: fc.constantFrom('checkout', 'payments-api', 'checkout-db'),
      status: fc.constantFrom('succeeded', 'failed', 'rolled_back') as fc.Arbitrary<SuspectDeployment['status']>,
      ungated: fc.boolean(),
      minutes: fc.integer({ min: -15, max: 24 * 60 }),
      risk_level: fc.constantFrom(...RISK_LEVELS),
      ai_assisted: fc.boolean(),
      approvals_required: fc.integer({ min: 0, max: 3 }),
      approvals: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ minutes, ...over }) => {
        const { above, why } = render(deployment({ ...over, deployed_at: new Date(START.getTime() - minutes * 60_000) }));
        const shown = plain(above.join('\n'));
        for (const reason of why) expect(shown).not.toContain(plain(reason));
        expect(new Set(why).size).toBe(why.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('incident helpers', () => {
  it('when keys and severity labels vary, then they parse as documented', () => {
    expect(parseIncidentKey('inc-3')).toBe(3);
    expect(parseIncidentKey('INC-0')).toBeNull();
    expect(parseIncidentKey('CHG-3')).toBeNull();
    const map = { critical: 'sev1', error: 'sev2', warning: 'sev3' } as const;
    expect([severityFromLabel('critical', map), severityFromLabel('CRITICAL', map), severityFromLabel('page', map), severityFromLabel(undefined, map)]).toEqual(['sev1', 'sev1', 'sev3', 'sev3']);
    expect(mostSevere(['sev3', 'sev1', 'sev2'])).toBe('sev1');
    expect(mostSevere([])).toBe('sev3');
  });
});
