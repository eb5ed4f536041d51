import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.ts';
import { activeFreeze, freezePeriods, freezesAround, type Freeze } from '../../src/domain/freezes.ts';
import { protectionAnswer } from '../../src/domain/protection-rule.ts';
import { enforcedGate } from '../../src/domain/status.ts';
import { checkRunFor, SHADOW_TITLE } from '../../src/github/check-run.ts';
import { buildConfig } from '../factories/config.ts';
import { buildChange } from '../factories/domain-change.ts';

const at = (iso: string) => new Date(iso);
const window = (from: string, to: string, o: Partial<Freeze> = {}): Freeze => ({ name: 'black-friday', reason: 'peak traffic', environments: ['production'], services: null, when: { kind: 'window', from: at(from), to: at(to) }, ...o });
const weekly = (cron: string, hours: number, timezone: string, o: Partial<Freeze> = {}): Freeze => ({
  name: 'weekend',
  reason: 'nobody on call',
  environments: ['production'],
  services: null,
  when: { kind: 'recurring', cron, durationMs: hours * 3600_000, timezone },
  ...o,
});
const target = { environment: 'production', services: ['checkout'] };

describe('freeze periods', () => {
  it('when a window freeze is asked about at its edges, then it holds from `from` (inclusive) to `to` (exclusive), to the second', () => {
    const f = [window('2026-11-27T00:00:00Z', '2026-11-30T08:00:00Z')];
    expect(activeFreeze(f, target, at('2026-11-26T23:59:59Z'))).toBeNull();
    expect(activeFreeze(f, target, at('2026-11-27T00:00:00Z'))?.name).toBe('black-friday');
    expect(activeFreeze(f, target, at('2026-11-30T07:59:59Z'))?.until.toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(activeFreeze(f, target, at('2026-11-30T08:00:00Z'))).toBeNull();
  });

  it('when a weekly freeze starts Fridays 18:00 Europe/Berlin, then it starts at 17:00 UTC in winter and 16:00 UTC after the DST change', () => {
    const f = weekly('0 18 * * 5', 62, 'Europe/Berlin');
    const periods = freezePeriods(f, at('2026-03-20T00:00:00Z'), at('2026-04-05T00:00:00Z'));
    expect(periods.map((p) => p.from.toISOString())).toEqual(['2026-03-20T17:00:00.000Z', '2026-03-27T17:00:00.000Z', '2026-04-03T16:00:00.000Z']);
    // The duration is elapsed time: 62 h after the start.
    expect(periods[1].until.toISOString()).toBe('2026-03-30T07:00:00.000Z');
    expect(activeFreeze([f], target, at('2026-04-03T15:59:59Z'))).toBeNull();
    expect(activeFreeze([f], target, at('2026-04-03T16:00:00Z'))?.from.toISOString()).toBe('2026-04-03T16:00:00.000Z');
    // A period that started before the asked window and still holds is found.
    expect(activeFreeze([f], target, at('2026-03-29T12:00:00Z'))?.from.toISOString()).toBe('2026-03-27T17:00:00.000Z');
  });

  it('when a freeze starts every second, then the one holding now is the one that ends last, and the newest starts are found without walking the week before', () => {
    const f = weekly('* * * * * *', 1 / 6, 'UTC');
    expect(activeFreeze([f], target, at('2026-11-02T10:00:00Z'))?.until.toISOString()).toBe('2026-11-02T10:10:00.000Z');
    const newest = freezePeriods(f, at('2026-10-26T10:00:00Z'), at('2026-11-02T10:00:00Z'), { limit: 3, newest: true });
    expect(newest.map((p) => p.from.toISOString())).toEqual(['2026-11-02T09:59:57.000Z', '2026-11-02T09:59:58.000Z', '2026-11-02T09:59:59.000Z']);
  });

  it('when a freeze names environments and services, then it covers a change only in one of those environments touching one of those services', () => {
    const f = [window('2026-11-27T00:00:00Z', '2026-11-30T00:00:00Z', { services: ['checkout', 'payments-api'] })];
    const now = at('2026-11-28T00:00:00Z');
    expect(activeFreeze(f, { environment: 'PRODUCTION', services: ['search-api', 'payments-api'] }, now)).not.toBeNull();
    expect(activeFreeze(f, { environment: 'staging', services: ['checkout'] }, now)).toBeNull();
    expect(activeFreeze(f, { environment: 'production', services: ['search-api'] }, now)).toBeNull();
  });

  it('when two freezes hold at once, then the one that ends last is the one shown (a deploy waits for both)', () => {
    const f = [window('2026-11-27T00:00:00Z', '2026-11-29T00:00:00Z', { name: 'short' }), window('2026-11-28T00:00:00Z', '2026-12-01T00:00:00Z', { name: 'long' })];
    expect(activeFreeze(f, target, at('2026-11-28T12:00:00Z'))?.name).toBe('long');
  });

  it('when freezes are listed, then active ones and those starting within the horizon come soonest first, flagged active', () => {
    const f = [window('2026-11-27T00:00:00Z', '2026-11-30T00:00:00Z'), window('2026-12-24T00:00:00Z', '2026-12-27T00:00:00Z', { name: 'holidays' }), window('2027-02-01T00:00:00Z', '2027-02-02T00:00:00Z', { name: 'far' })];
    const listed = freezesAround(f, at('2026-11-28T00:00:00Z'), 30 * 86_400_000);
    expect(listed.map((p) => [p.name, p.active])).toEqual([
      ['black-friday', true],
      ['holidays', false],
    ]);
  });
});

describe('the gate with shadow mode and freezes', () => {
  const freeze = freezePeriods(window('2026-11-27T00:00:00Z', '2026-11-30T00:00:00Z'), at('2026-11-28T00:00:00Z'), at('2026-11-28T00:00:01Z'))[0];

  it('when a freeze holds, then every status answers 403 with the freeze, except approved_breakglass', () => {
    for (const status of ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const) {
      const g = enforcedGate(buildChange({ status }), {}, { shadow: false, freeze });
      expect(g).toMatchObject({ httpStatus: 403, allowed: false, enforced: true, would_allow: false, freeze: { name: 'black-friday' } });
    }
    expect(enforcedGate(buildChange({ status: 'approved_breakglass' }), {}, { shadow: false, freeze })).toMatchObject({ httpStatus: 200, allowed: true, enforced: true, would_allow: true });
  });

  it('when the team is in shadow mode, then the gate answers 200 allowed and says what enforce mode would', () => {
    expect(enforcedGate(buildChange({ status: 'pending' }), {}, { shadow: true, freeze: null })).toMatchObject({ httpStatus: 200, allowed: true, enforced: false, would_allow: false });
    expect(enforcedGate(buildChange({ status: 'approved' }), {}, { shadow: true, freeze: null })).toMatchObject({ httpStatus: 200, allowed: true, enforced: false, would_allow: true });
    expect(enforcedGate(buildChange({ status: 'approved' }), {}, { shadow: true, freeze })).toMatchObject({ httpStatus: 200, allowed: true, enforced: false, would_allow: false, freeze: { name: 'black-friday' } });
  });

  it('when a deployment is asked about during a freeze, then an approved change waits, a rejected one is rejected at once, break-glass goes', () => {
    const sha = buildChange().head_sha!;
    const opts = { unknownDeployments: 'reject' as const };
    expect(protectionAnswer(buildChange({ status: 'approved' }), sha, opts, { shadow: false, freeze })).toEqual({ state: 'wait' });
    expect(protectionAnswer(buildChange({ status: 'rejected' }), sha, opts, { shadow: false, freeze })).toMatchObject({ state: 'rejected' });
    expect(protectionAnswer(buildChange({ status: 'approved_breakglass', breakglass: { by: 'U0ALICE', reason: 'outage', at: at('2026-11-28T00:00:00Z') } }), sha, opts, { shadow: false, freeze })).toMatchObject({ state: 'approved' });
  });

  it('when a deployment is asked about in shadow mode, then it is approved with a comment saying what enforce mode would have done', () => {
    const sha = buildChange().head_sha!;
    const opts = { unknownDeployments: 'reject' as const };
    const pending = protectionAnswer(buildChange({ status: 'pending' }), sha, opts, { shadow: true, freeze: null });
    expect(pending).toEqual({ state: 'approved', comment: 'Shadow mode: CHG-12 would have waited for sign-off; Countersign is not blocking deploys yet' });
    const frozen = protectionAnswer(buildChange({ status: 'approved' }), sha, opts, { shadow: true, freeze });
    expect(frozen).toMatchObject({ state: 'approved', comment: expect.stringContaining('would have waited for freeze black-friday to end') });
    const rejected = protectionAnswer(buildChange({ status: 'rejected' }), sha, opts, { shadow: true, freeze: null });
    expect(rejected).toMatchObject({ state: 'approved', comment: expect.stringContaining('would have been rejected') });
  });

  it('when the check run would block in shadow mode, then it completes neutral with the shadow title; an approved one stays success', () => {
    const pending = checkRunFor(buildChange({ status: 'pending' }), { waitingOn: [], shadow: true });
    expect(pending).toMatchObject({ status: 'completed', conclusion: 'neutral', output: { title: SHADOW_TITLE } });
    expect(pending.output.summary).toContain('Waiting for senior sign-off');
    expect(checkRunFor(buildChange({ status: 'rejected' }), { waitingOn: [], shadow: true })).toMatchObject({ conclusion: 'neutral', output: { title: 'Shadow mode: would wait for sign-off' } });
    expect(checkRunFor(buildChange({ status: 'approved' }), { waitingOn: [], shadow: true })).toMatchObject({ conclusion: 'success' });
    expect(checkRunFor(buildChange({ status: 'pending' }), { waitingOn: [] })).toMatchObject({ status: 'in_progress' });
  });
});

describe('freeze and enforcement config', () => {
  const issuesOf = (overrides: Record<string, unknown>): string => {
    try {
      buildConfig(overrides);
      return '';
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  };

  it('when enforcement is left out, then it is enforce; a team may override it', () => {
    const cfg = buildConfig({ enforcement: 'shadow', teams: [{ name: 'payments', channel: 'C0PAYSEN', seniors: ['U0ALICE', 'U0BOB'], enforcement: 'enforce' }, { name: 'platform', seniors: ['U0CAROL'] }, { name: 'search', seniors: ['U0ERIN'] }] });
    expect(cfg.resolved.enforcementOf('payments')).toBe('enforce');
    expect(cfg.resolved.enforcementOf('platform')).toBe('shadow');
    expect(buildConfig().resolved.enforcementOf('payments')).toBe('enforce');
    expect(issuesOf({ enforcement: 'dry-run' })).toContain('enforcement: expected enforce or shadow');
  });

  it('when a freeze is malformed, then each problem names its key path', () => {
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'] }] })).toContain('freezes[0]: give either from and to, or cron and duration');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], from: '2026-11-27T00:00:00Z' }] })).toContain('freezes[0].to: is required with from');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], from: '2026-11-28T00:00:00Z', to: '2026-11-27T00:00:00Z' }] })).toContain('freezes[0].to: must be after from');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], cron: 'every friday', duration: '2d' }] })).toContain('freezes[0].cron: expected a cron expression');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], cron: '0 18 * * 5' }] })).toContain('freezes[0].duration: is required with cron');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], services: ['nope'], cron: '0 18 * * 5', duration: '62h' }] })).toContain('freezes[0].services[0]: unknown service "nope"');
    expect(issuesOf({ freezes: [{ name: 'x', reason: 'r', environments: ['production'], from: '2026-11-27T00:00:00Z', to: '2026-11-28T00:00:00Z', timezone: 'UTC' }] })).toContain('freezes[0].timezone: only applies to cron freezes');
  });

  it('when a cron freeze has no timezone, then it uses escalation.timezone', () => {
    const cfg = buildConfig({ escalation: { ...buildConfig().escalation, timezone: 'Europe/Berlin' }, freezes: [{ name: 'weekend', reason: 'r', environments: ['Production'], cron: '0 18 * * 5', duration: '62h' }] });
    expect(cfg.resolved.freezes[0]).toMatchObject({ environments: ['production'], when: { kind: 'recurring', timezone: 'Europe/Berlin', durationMs: 62 * 3600_000 } });
  });
});
