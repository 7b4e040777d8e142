import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_STATES, canTransition, isFinal, isLocallyExpired, judgeApproval, planChallenge } from '../../src/commands/lifecycle.js';

describe('command lifecycle state machine', () => {
  it('allows the documented path and forward skips only', () => {
    expect(canTransition('queued', 'sent')).toBe(true);
    expect(canTransition('sent', 'challenged')).toBe(true);
    expect(canTransition('challenged', 'awaiting_approval')).toBe(true);
    expect(canTransition('awaiting_approval', 'applied')).toBe(true);
    expect(canTransition('sent', 'applied')).toBe(true); // read-only actions need no challenge
    expect(canTransition('queued', 'challenged')).toBe(true); // challenge before the Put Record returned
    expect(canTransition('sent', 'queued')).toBe(false);
    expect(canTransition('awaiting_approval', 'challenged')).toBe(false);
    expect(canTransition('applied', 'failed')).toBe(false);
  });

  it('never leaves a final state and never moves backwards (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMAND_STATES), fc.constantFrom(...COMMAND_STATES), (from, to) => {
        if (isFinal(from)) expect(canTransition(from, to)).toBe(false);
        if (canTransition(from, to)) expect(canTransition(to, from)).toBe(false);
        expect(canTransition(from, from)).toBe(false);
      }),
    );
  });

  it('plans a challenge: custodial single signature answers at once, operator-held waits', () => {
    const base = { approvalsRequired: 1, approvers: [], requester: 'alice', alreadySigned: [] };
    expect(planChallenge({ ...base, requesterHasCustodialKey: true })).toEqual({ state: 'challenged', signCustodially: true });
    expect(planChallenge({ ...base, requesterHasCustodialKey: false })).toEqual({ state: 'awaiting_approval', signCustodially: false });
  });

  it('plans a 2-of-3 challenge: the custodial requester signs and the command waits for one more', () => {
    const plan = planChallenge({
      approvalsRequired: 2,
      approvers: ['alice', 'bob', 'carol'],
      requester: 'alice',
      requesterHasCustodialKey: true,
      alreadySigned: [],
    });
    expect(plan).toEqual({ state: 'awaiting_approval', signCustodially: true });
    const outsider = planChallenge({ approvalsRequired: 1, approvers: ['bob'], requester: 'alice', requesterHasCustodialKey: true, alreadySigned: [] });
    expect(outsider).toEqual({ state: 'awaiting_approval', signCustodially: false });
  });

  it('judges approvals: wrong state, expiry, outsiders, repeats, completion', () => {
    const f = {
      state: 'awaiting_approval' as const,
      approvalsRequired: 2,
      approvers: ['alice', 'bob', 'carol'],
      requester: 'alice',
      alreadySigned: ['alice'],
      approver: 'bob',
      challengeExpiresAtMs: 10_000,
      nowMs: 5_000,
    };
    expect(judgeApproval(f)).toEqual({ ok: true, complete: true });
    expect(judgeApproval({ ...f, alreadySigned: [] })).toEqual({ ok: true, complete: false });
    expect(judgeApproval({ ...f, approver: 'mallory' })).toMatchObject({ ok: false, code: 'NOT_AN_APPROVER' });
    expect(judgeApproval({ ...f, approver: 'alice' })).toMatchObject({ ok: false, code: 'ALREADY_APPROVED' });
    expect(judgeApproval({ ...f, nowMs: 10_000 })).toMatchObject({ ok: false, code: 'CHALLENGE_EXPIRED' });
    expect(judgeApproval({ ...f, state: 'applied' })).toMatchObject({ ok: false, code: 'NOT_AWAITING_APPROVAL' });
    expect(judgeApproval({ ...f, approvers: [], approver: 'alice', alreadySigned: [], approvalsRequired: 1 })).toEqual({ ok: true, complete: true });
  });

  it('expires only unanswered challenges, by the injected clock', () => {
    expect(isLocallyExpired('awaiting_approval', 1000, false, 999)).toBe(false);
    expect(isLocallyExpired('awaiting_approval', 1000, false, 1000)).toBe(true);
    expect(isLocallyExpired('awaiting_approval', 1000, true, 5000)).toBe(false);
    expect(isLocallyExpired('sent', undefined, false, 1e12)).toBe(false);
    expect(isLocallyExpired('challenged', 1000, true, 5000)).toBe(false);
  });
});
