import { describe, it, expect } from 'vitest';
import { countApprovals, decideSignOff, MAX_REASON_LENGTH, type Eligibility, type SignOffSubject } from '../../src/domain/sign-off.ts';
import { FINAL_STATUSES, gateFor, isFinal } from '../../src/domain/status.ts';
import { CHANGE_STATUSES, type ChangeStatus, type Decision, type SignOff } from '../../src/domain/types.ts';
import { buildConfig } from '../factories/config.ts';

const config = buildConfig();
const payments = config.teams.find((t) => t.name === 'payments')!;
const payingSeniors: Eligibility = { eligible: new Set(payments.seniors), reviewerTeams: [] };

function change(over: Partial<SignOffSubject> = {}): SignOffSubject {
  return { key: 'CS-42', status: 'pending', team: 'payments', author_slack_id: 'U0JUNIOR', approvals_required: 1, round: 1, ...over };
}

const signOff = (reviewer: string, decision: Decision = 'approved', round = 1): SignOff => ({ reviewer, decision, reason: null, at: new Date('2025-01-01T00:00:00Z'), round });

describe('decideSignOff refusals', () => {
  // approved_breakglass is final for the gate but still takes its retroactive sign-offs (below).
  for (const status of FINAL_STATUSES.filter((s) => s !== 'approved_breakglass')) {
    it(`when the change is already ${status}, then any sign-off is refused as already_decided`, () => {
      const out = decideSignOff(change({ status }), [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
      expect(out.ok).toBe(false);
      if (out.ok) return;
      expect(out.code).toBe('already_decided');
      expect(out.message).toContain('CS-42');
      expect(out.message).toContain(status.replace('_', ' '));
    });
  }

  it('when the change was deployed under break-glass, then sign-offs are still taken: enough approvals approve it, a rejection rejects it', () => {
    const bg = change({ status: 'approved_breakglass', approvals_required: 2 });
    expect(decideSignOff(bg, [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors)).toMatchObject({ ok: true, decides: null, approvals: 1 });
    expect(decideSignOff(bg, [signOff('U0ALICE')], { reviewer: 'U0BOB', decision: 'approved' }, payingSeniors)).toMatchObject({ ok: true, decides: 'approved', approvals: 2 });
    expect(decideSignOff(bg, [], { reviewer: 'U0BOB', decision: 'rejected', reason: 'revert it' }, payingSeniors)).toMatchObject({ ok: true, decides: 'rejected' });
    expect(decideSignOff(bg, [], { reviewer: 'U0JUNIOR', decision: 'approved' }, payingSeniors)).toMatchObject({ ok: false, code: 'self_approval' });
  });

  it('when the change is already decided, then a rejection is refused as already_decided too', () => {
    const out = decideSignOff(change({ status: 'rejected' }), [], { reviewer: 'U0ALICE', decision: 'rejected', reason: 'no' }, payingSeniors);
    expect(out).toMatchObject({ ok: false, code: 'already_decided' });
  });

  it('when the author tries to sign off their own change, then it is refused as self_approval even if they are an eligible senior', () => {
    const out = decideSignOff(change({ author_slack_id: 'U0ALICE' }), [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(out).toMatchObject({ ok: false, code: 'self_approval' });
    expect(!out.ok && out.message).toContain('you are the author');
  });

  it('when the change has no known author Slack id, then an eligible senior can sign off', () => {
    const out = decideSignOff(change({ author_slack_id: null }), [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(out).toMatchObject({ ok: true, decides: 'approved' });
  });

  it('when the reviewer is not eligible for the team, then it is refused as not_eligible naming the team', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0MIA', decision: 'approved' }, payingSeniors);
    expect(out).toMatchObject({ ok: false, code: 'not_eligible' });
    expect(!out.ok && out.message).toBe('Only payments seniors can sign off CS-42; you are not a payments senior.');
  });

  it('when the reviewer is a senior of another team, then the not_eligible message names that other team', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0ERIN', decision: 'approved' }, { eligible: new Set(payments.seniors), reviewerTeams: ['search'] });
    expect(out).toMatchObject({ ok: false, code: 'not_eligible' });
    expect(!out.ok && out.message).toContain('you are a senior of search, not payments');
  });

  it('when reviewerTeams is not given, then the not_eligible message falls back to "not a <team> senior"', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0ERIN', decision: 'approved' }, { eligible: new Set(['U0ALICE']) });
    expect(!out.ok && out.message).toContain('you are not a payments senior');
  });

  it('when the reviewer already signed off in this round, then a second sign-off is refused as already_signed', () => {
    const existing = [signOff('U0ALICE', 'approved', 1)];
    const out = decideSignOff(change({ approvals_required: 2 }), existing, { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(out).toMatchObject({ ok: false, code: 'already_signed' });
    const reject = decideSignOff(change({ approvals_required: 2 }), existing, { reviewer: 'U0ALICE', decision: 'rejected', reason: 'changed my mind' }, payingSeniors);
    expect(reject).toMatchObject({ ok: false, code: 'already_signed' });
  });

  it('when the reviewer signed off in an earlier round, then they may sign off again in the new round', () => {
    const existing = [signOff('U0ALICE', 'approved', 1)];
    const out = decideSignOff(change({ round: 2 }), existing, { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(out).toEqual({ ok: true, signOff: { reviewer: 'U0ALICE', decision: 'approved', reason: null, round: 2 }, decides: 'approved', approvals: 1 });
  });

  for (const reason of [undefined, null, '', '   \n ']) {
    it(`when a rejection has reason ${JSON.stringify(reason)}, then it is refused as reason_required`, () => {
      const out = decideSignOff(change(), [], { reviewer: 'U0ALICE', decision: 'rejected', reason }, payingSeniors);
      expect(out).toMatchObject({ ok: false, code: 'reason_required' });
      expect(!out.ok && out.message).toContain('CS-42');
    });
  }
});

describe('decideSignOff acceptance', () => {
  it('when one approval is required and an eligible senior approves, then the change is approved', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0BOB', decision: 'approved' }, payingSeniors);
    expect(out).toEqual({ ok: true, signOff: { reviewer: 'U0BOB', decision: 'approved', reason: null, round: 1 }, decides: 'approved', approvals: 1 });
  });

  it('when two approvals are required, then the first approval decides nothing and the second, by another senior, approves', () => {
    const c = change({ approvals_required: 2 });
    const first = decideSignOff(c, [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(first).toMatchObject({ ok: true, decides: null, approvals: 1 });

    const second = decideSignOff(c, [signOff('U0ALICE')], { reviewer: 'U0BOB', decision: 'approved' }, payingSeniors);
    expect(second).toMatchObject({ ok: true, decides: 'approved', approvals: 2 });
  });

  it('when two approvals are required and the same senior tries twice, then the change is never approved by one person', () => {
    const c = change({ approvals_required: 2 });
    const again = decideSignOff(c, [signOff('U0ALICE')], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(again).toMatchObject({ ok: false, code: 'already_signed' });
  });

  it('when two approvals are required and the only other approval is from an earlier round, then one new approval is not enough', () => {
    const c = change({ approvals_required: 2, round: 2 });
    const out = decideSignOff(c, [signOff('U0BOB', 'approved', 1)], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors);
    expect(out).toMatchObject({ ok: true, decides: null, approvals: 1 });
  });

  it('when a user-group member is eligible, then they count as a distinct approver', () => {
    const who: Eligibility = { eligible: new Set([...payments.seniors, 'U0GROUPMEMBER']) };
    const out = decideSignOff(change({ approvals_required: 2 }), [signOff('U0ALICE')], { reviewer: 'U0GROUPMEMBER', decision: 'approved' }, who);
    expect(out).toMatchObject({ ok: true, decides: 'approved', approvals: 2 });
  });

  it('when an eligible senior rejects with a reason, then the change is rejected and the trimmed reason is kept', () => {
    const out = decideSignOff(change({ approvals_required: 2 }), [signOff('U0BOB')], { reviewer: 'U0ALICE', decision: 'rejected', reason: '  drops the index  ' }, payingSeniors);
    expect(out).toEqual({ ok: true, signOff: { reviewer: 'U0ALICE', decision: 'rejected', reason: 'drops the index', round: 1 }, decides: 'rejected', approvals: 1 });
  });

  it('when a reason is longer than the maximum, then it is cut to the maximum length', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0ALICE', decision: 'rejected', reason: 'x'.repeat(MAX_REASON_LENGTH + 100) }, payingSeniors);
    expect(out.ok && out.signOff.reason).toHaveLength(MAX_REASON_LENGTH);
  });

  it('when an approval has a blank reason, then the reason is recorded as null', () => {
    const out = decideSignOff(change(), [], { reviewer: 'U0ALICE', decision: 'approved', reason: '   ' }, payingSeniors);
    expect(out.ok && out.signOff.reason).toBeNull();
  });

  it('when no approvals are required, then the first approval approves', () => {
    expect(decideSignOff(change({ approvals_required: 0 }), [], { reviewer: 'U0ALICE', decision: 'approved' }, payingSeniors)).toMatchObject({
      ok: true,
      decides: 'approved',
    });
  });
});

describe('countApprovals', () => {
  it('when the same reviewer approved twice in a round, then they count once', () => {
    expect(countApprovals([signOff('U0ALICE'), signOff('U0ALICE'), signOff('U0BOB')], 1)).toBe(2);
  });

  it('when sign-offs come from other rounds, then only the current round counts', () => {
    const all = [signOff('U0ALICE', 'approved', 1), signOff('U0BOB', 'approved', 1), signOff('U0ALICE', 'approved', 2)];
    expect(countApprovals(all, 1)).toBe(2);
    expect(countApprovals(all, 2)).toBe(1);
    expect(countApprovals(all, 3)).toBe(0);
  });

  it('when some sign-offs are rejections, then they are not approvals', () => {
    expect(countApprovals([signOff('U0ALICE', 'rejected'), signOff('U0BOB', 'approved')], 1)).toBe(1);
  });

  it('when there are no sign-offs, then the count is 0', () => {
    expect(countApprovals([], 1)).toBe(0);
  });
});

describe('status: gateFor, isFinal', () => {
  const expected: Record<ChangeStatus, { httpStatus: number; allowed: boolean }> = {
    pending: { httpStatus: 202, allowed: false },
    approved: { httpStatus: 200, allowed: true },
    approved_breakglass: { httpStatus: 200, allowed: true },
    rejected: { httpStatus: 403, allowed: false },
    expired: { httpStatus: 403, allowed: false },
    cancelled: { httpStatus: 403, allowed: false },
  };

  for (const status of CHANGE_STATUSES) {
    it(`when the change is ${status}, then the gate answers ${expected[status].httpStatus} and allowed=${expected[status].allowed}`, () => {
      expect(gateFor(status)).toEqual(expected[status]);
    });
  }

  it('when a status is pending, then it is not final; every other status is final', () => {
    expect(isFinal('pending')).toBe(false);
    for (const s of CHANGE_STATUSES.filter((s) => s !== 'pending')) expect(isFinal(s), s).toBe(true);
  });
});
