import { describe, expect, it } from 'vitest';
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
