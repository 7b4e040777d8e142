import { describe, expect, it } from 'vitest';
import { RakpLockout } from '../../src/rmcp/rakp-lockout.js';

function setup() {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const lockout = new RakpLockout({ maxFailures: 3, windowMs: 10_000, lockoutMs: 60_000 }, clock.now, new Set(['oper', 'admin']));
  return { clock, lockout };
}

describe('RakpLockout', () => {
  it('locks a user after maxFailures within the window, for lockoutMs', () => {
    const { clock, lockout } = setup();
    expect(lockout.recordFailure('oper')).toBe(false);
    clock.advance(1000);
    expect(lockout.recordFailure('oper')).toBe(false);
    expect(lockout.isLocked('oper')).toBe(false);
    expect(lockout.recordFailure('oper')).toBe(true);
    expect(lockout.isLocked('oper')).toBe(true);
    expect(lockout.isLocked('admin')).toBe(false);
    expect(lockout.lockedFor('oper')).toBe(60_000);
    clock.advance(59_999);
    expect(lockout.isLocked('oper')).toBe(true);
    clock.advance(1);
    expect(lockout.isLocked('oper')).toBe(false);
    expect(lockout.lockedUsers()).toEqual([]);
  });

  it('forgets failures older than the window', () => {
    const { clock, lockout } = setup();
    lockout.recordFailure('oper');
    lockout.recordFailure('oper');
    clock.advance(10_000);
    expect(lockout.recordFailure('oper')).toBe(false);
    expect(lockout.isLocked('oper')).toBe(false);
  });

  it('a success clears the count; failures during a lockout do not extend it', () => {
    const { clock, lockout } = setup();
    lockout.recordFailure('oper');
    lockout.recordFailure('oper');
    lockout.recordSuccess('oper');
    expect(lockout.recordFailure('oper')).toBe(false);
    lockout.recordFailure('oper');
    expect(lockout.recordFailure('oper')).toBe(true);
    clock.advance(30_000);
    expect(lockout.recordFailure('oper')).toBe(false);
    lockout.recordSuccess('oper'); // ignored while locked
    expect(lockout.lockedFor('oper')).toBe(30_000);
  });

  it('does not track names that are not configured', () => {
    const { lockout } = setup();
    for (let i = 0; i < 10; i++) expect(lockout.recordFailure(`ghost${i}`)).toBe(false);
    expect(lockout.isLocked('ghost0')).toBe(false);
  });
});
