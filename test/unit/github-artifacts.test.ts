import { describe, expect, it } from 'vitest';
import { bodyMarkerIn, detectAiAssistance } from '../../src/domain/ai-detection.ts';
import { breakGlassReviewDue, escalationTimings } from '../../src/domain/escalation.ts';
import { evaluatePolicy } from '../../src/domain/policy.ts';
import { reviseRisk, sameCommit, statusForNewRound } from '../../src/domain/revision.ts';
import { gateFor, sameArtifact } from '../../src/domain/status.ts';
import { CHANGE_STATUSES } from '../../src/domain/types.ts';
import { buildChangeCard } from '../../src/slack/views/change-card.ts';
import { breakGlassAlert } from '../../src/slack/views/break-glass.ts';
import { buildConfig } from '../factories/config.ts';
import { buildChange, CREATED_AT, signOff } from '../factories/domain-change.ts';

const SHA = '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c';
const OTHER = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const config = buildConfig();

describe('gateFor with an artifact', () => {
  it('when approved for the asked SHA (any case, or a prefix of at least 7), then 200', () => {
    for (const requestedSha of [SHA, SHA.toUpperCase(), SHA.slice(0, 7), SHA.slice(0, 12)]) {
      expect(gateFor('approved', { approvedSha: SHA, requestedSha }), requestedSha).toEqual({ httpStatus: 200, allowed: true });
    }
    expect(gateFor('approved_breakglass', { approvedSha: SHA, requestedSha: SHA })).toEqual({ httpStatus: 200, allowed: true });
  });

  it('when approved for another SHA, a 6-character prefix, or no recorded SHA, then 409 with both', () => {
    expect(gateFor('approved', { approvedSha: SHA, requestedSha: OTHER })).toEqual({ httpStatus: 409, allowed: false, stale: { artifact: 'sha', approved: SHA, requested: OTHER } });
    expect(gateFor('approved', { approvedSha: SHA, requestedSha: SHA.slice(0, 6) }).httpStatus).toBe(409);
    expect(gateFor('approved_breakglass', { approvedSha: null, requestedSha: OTHER }).stale).toEqual({ artifact: 'sha', approved: null, requested: OTHER });
  });

  it('when not approved, then the status decides whatever artifact is asked (202 pending, 403 otherwise)', () => {
    for (const status of CHANGE_STATUSES.filter((s) => s !== 'approved' && s !== 'approved_breakglass')) {
      expect(gateFor(status, { approvedSha: SHA, requestedSha: OTHER, approvedPlan: 'a'.repeat(64), requestedPlan: 'b'.repeat(64) })).toEqual(gateFor(status));
    }
    expect(gateFor('pending', { requestedSha: OTHER }).httpStatus).toBe(202);
    expect(gateFor('rejected', { requestedSha: OTHER }).httpStatus).toBe(403);
  });

  it('when a plan digest is asked, then it must match the approved plan too', () => {
    const plan = 'c'.repeat(64);
    expect(gateFor('approved', { approvedPlan: plan, requestedPlan: plan }).httpStatus).toBe(200);
    expect(gateFor('approved', { approvedPlan: plan, requestedPlan: 'd'.repeat(64) }).stale).toMatchObject({ artifact: 'plan_sha256', approved: plan });
    expect(gateFor('approved', { approvedSha: SHA, requestedSha: SHA, approvedPlan: null, requestedPlan: plan }).httpStatus).toBe(409);
  });

  it('sameArtifact refuses non-hex input', () => {
    expect(sameArtifact(SHA, 'zzzzzzz')).toBe(false);
    expect(sameArtifact('', SHA)).toBe(false);
  });

  it('when the stored SHA is an abbreviation, then nothing matches it, not even the full SHA it abbreviates (prefixes match one way only)', () => {
    expect(sameArtifact(SHA.slice(0, 7), SHA)).toBe(false);
    expect(sameArtifact(SHA.slice(0, 12), SHA.slice(0, 12))).toBe(false);
    expect(sameArtifact(SHA, SHA.slice(0, 7))).toBe(true);
    expect(sameArtifact(SHA, SHA.slice(0, 6))).toBe(false);
    expect(gateFor('approved', { approvedSha: SHA.slice(0, 7), requestedSha: SHA }).httpStatus).toBe(409);
  });
});

describe('new review rounds', () => {
  it('when new commits land, then approved, rejected and break-glass go back to pending, expired and cancelled stay, and a no-sign-off change stays approved', () => {
    expect(statusForNewRound('approved', 1)).toBe('pending');
    expect(statusForNewRound('rejected', 1)).toBe('pending');
    expect(statusForNewRound('approved_breakglass', 2)).toBe('pending');
    expect(statusForNewRound('pending', 1)).toBe('pending');
    expect(statusForNewRound('expired', 1)).toBe('expired');
    expect(statusForNewRound('cancelled', 1)).toBe('cancelled');
    expect(statusForNewRound('approved', 0)).toBe('approved');
  });

  it('sameCommit compares full SHAs ignoring case; an abbreviation is another commit', () => {
    expect(sameCommit(SHA, SHA.toUpperCase())).toBe(true);
    expect(sameCommit(SHA, SHA.slice(0, 7))).toBe(false);
    expect(sameCommit(SHA, OTHER)).toBe(false);
    expect(sameCommit(null, SHA)).toBe(false);
  });
});

describe('reviseRisk (labels changed)', () => {
  const human = buildChange({ ai: { assisted: false, tool: null, share: null, reasons: [] }, risk: { level: 'low', reasons: [] }, approvals_required: 0, status: 'approved' });
  const facts = (ai: boolean) => ({
    services: human.services,
    environment: human.environment,
    author: human.author,
    ai: { assisted: ai, tool: null, share: null, reasons: ai ? ['labelled ai-assisted'] : [] },
    diff: human.diff,
    infra: null,
    labels: [],
  });

  it('when the label makes an approved-on-arrival change riskier, then it is pending with the new requirement', () => {
    const f = facts(true);
    const r = reviseRisk(human, evaluatePolicy(config.policy, f), f.ai);
    expect(r).toMatchObject({ raised: true, status: 'pending', approvals_required: 1, risk: { level: 'high' } });
    expect(r.reopened).toContain('risk rose from low to high');
  });

  it('when the re-evaluated risk is lower, then nothing is lowered', () => {
    const risky = buildChange({ status: 'approved', sign_offs: [signOff('U0ALICE')] });
    const f = facts(false);
    const r = reviseRisk(risky, evaluatePolicy(config.policy, f), f.ai);
    expect(r).toMatchObject({ raised: false, status: 'approved', approvals_required: 1, risk: risky.risk, ai: risky.ai });
  });

  it('when a pending or rejected change becomes riskier, then its status stays and the requirement rises', () => {
    const outcome = { risk: { level: 'critical' as const, reasons: [] }, approvals_required: 2 };
    expect(reviseRisk(buildChange(), outcome, buildChange().ai)).toMatchObject({ raised: true, status: 'pending', approvals_required: 2 });
    expect(reviseRisk(buildChange({ status: 'rejected' }), outcome, buildChange().ai)).toMatchObject({ status: 'rejected', approvals_required: 2 });
  });
});

describe('AI markers in a pull request body', () => {
  const markers = ['- [x] AI-assisted', 'AI-assisted: yes'];
  it('matches a whole line, case-insensitively, whitespace collapsed; not an unticked box, a comment, or a longer line', () => {
    expect(bodyMarkerIn('Intro\r\n  - [X]   ai-ASSISTED  \nmore', markers)).toBe('- [x] AI-assisted');
    expect(bodyMarkerIn('ai-assisted: YES', markers)).toBe('AI-assisted: yes');
    expect(bodyMarkerIn('- [ ] AI-assisted', markers)).toBeNull();
    expect(bodyMarkerIn('<!-- - [x] AI-assisted -->', markers)).toBeNull();
    expect(bodyMarkerIn('AI-assisted: yesterday', markers)).toBeNull();
    expect(bodyMarkerIn(null, markers)).toBeNull();
    expect(bodyMarkerIn('- [x] AI-assisted', [])).toBeNull();
  });

  it('feeds AI detection with its reason, and an explicit declaration still wins', () => {
    const author = { github: 'jdoe', level: 'junior' as const, bot: false };
    const cfg = { ...config.ai_detection, bodyMarkers: markers };
    expect(detectAiAssistance({ author, body: '- [x] AI-assisted' }, cfg)).toMatchObject({ assisted: true, reasons: ['the pull request body says "- [x] AI-assisted"'] });
    expect(detectAiAssistance({ author, body: '- [x] AI-assisted', ai_assisted: false }, cfg).assisted).toBe(false);
    expect(detectAiAssistance({ author, body: '- [x] AI-assisted' }, config.ai_detection).assisted).toBe(false);
  });
});

describe('break-glass review escalation is due', () => {
  const t = escalationTimings(buildConfig({ escalation: { business_hours: { days: 'mon-fri', from: '09:00', to: '18:00' } } }).escalation);
  const at = new Date('2026-11-02T10:00:00Z'); // a Monday
  const subject = { status: 'approved_breakglass' as const, risk_level: 'high' as const, breakglass_at: at, escalation_step: 0 as const };
  const day = 24 * 3_600_000;
  it('after review_within, once, in business hours unless critical', () => {
    expect(breakGlassReviewDue(subject, day, t, new Date(at.getTime() + day - 1))).toBe(false);
    expect(breakGlassReviewDue(subject, day, t, new Date(at.getTime() + day))).toBe(true);
    expect(breakGlassReviewDue({ ...subject, escalation_step: 2 }, day, t, new Date(at.getTime() + 2 * day))).toBe(false);
    expect(breakGlassReviewDue({ ...subject, status: 'approved' }, day, t, new Date(at.getTime() + 2 * day))).toBe(false);
    const saturday = new Date('2026-11-07T10:00:00Z');
    expect(breakGlassReviewDue({ ...subject, breakglass_at: new Date(saturday.getTime() - 2 * day) }, day, t, saturday)).toBe(false);
    expect(breakGlassReviewDue({ ...subject, risk_level: 'critical', breakglass_at: new Date(saturday.getTime() - 2 * day) }, day, t, saturday)).toBe(true);
  });
});

describe('cards for new rounds and break-glass', () => {
  const text = (c: ReturnType<typeof buildChangeCard>) => JSON.stringify(c.blocks);
  const buttons = (c: ReturnType<typeof buildChangeCard>) => c.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b as { elements: { text: { text: string } }[] }).elements.map((e) => e.text.text));

  it('when a new round follows a sign-off, then the card asks for re-approval with the new head and its buttons', () => {
    const c = buildChangeCard(buildChange({ round: 2, head_sha: OTHER, sign_offs: [signOff('U0ALICE')] }));
    expect(text(c)).toContain('New commits since sign-off: re-approval needed (now at `b2c3d4e`)');
    expect(text(c)).toContain('0 of 1 sign-off');
    expect(buttons(c)).toEqual(['Approve', 'Reject', 'Claim review']);
  });

  it('when deployed under break-glass, then the card says who and why (escaped), needs retroactive sign-off, and keeps Approve and Reject', () => {
    const bg = buildChange({ status: 'approved_breakglass', decided_at: CREATED_AT, breakglass: { by: 'U0CAROL', reason: 'outage <!here>', at: CREATED_AT } });
    const c = buildChangeCard(bg);
    expect(text(c)).toContain('Deployed under break-glass by <@U0CAROL>: outage &lt;!here&gt;; needs retroactive sign-off');
    expect(text(c)).not.toContain('<!here>');
    expect(buttons(c)).toEqual(['Approve', 'Reject']);
    expect(c.text).toBe('CHG-12 Retry payment capture on timeout was deployed under break-glass and needs retroactive sign-off');
  });

  it('the escalation-channel alert names the change, who and why, escaped', () => {
    const bg = buildChange({ status: 'approved_breakglass', breakglass: { by: 'U0CAROL', reason: 'a & <b>', at: CREATED_AT } });
    const alert = breakGlassAlert(bg, { text: '24h', ms: 24 * 3_600_000 }, { channel: 'C0PAYSEN', permalink: null });
    expect(alert.text).toBe('CHG-12 was deployed under break-glass by <@U0CAROL>: a &amp; &lt;b&gt;');
    expect(JSON.stringify(alert.blocks)).toContain('2026-03-03 09:00 UTC');
  });
});
