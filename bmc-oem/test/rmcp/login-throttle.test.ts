import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/rmcp/login-throttle.js';
import { sourceAddress } from '../../src/rmcp/peer-address.js';

function setup(maxEntries?: number) {
  let t = 0;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const throttle = new LoginThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 1000, forgetAfterMs: 10_000 }, clock.now, maxEntries);
  return { clock, throttle };
}

describe('LoginThrottle', () => {
  it('counts per (source, user): free failures, then a doubling delay capped at the maximum', () => {
    const { clock, throttle } = setup();
    expect(throttle.recordFailure('a', 'oper')).toEqual({ failures: 1, delayMs: 0, startedThrottling: false });
    expect(throttle.recordFailure('a', 'oper').delayMs).toBe(0);
    expect(throttle.recordFailure('a', 'oper')).toEqual({ failures: 3, delayMs: 100, startedThrottling: true });
    expect(throttle.check('a', 'oper')).toEqual({ allowed: false, retryAfterMs: 100, failures: 3 });
    expect(throttle.check('b', 'oper')).toEqual({ allowed: true });
    expect(throttle.check('a', 'admin')).toEqual({ allowed: true });
    clock.advance(100);
    expect(throttle.check('a', 'oper').allowed).toBe(true);
    expect([4, 5, 6, 7, 8].map((n) => throttle.delayAfter(n))).toEqual([200, 400, 800, 1000, 1000]);
  });

  it('a success clears the count; quiet time forgets it; the table stays bounded', () => {
    const { clock, throttle } = setup(3);
    for (let i = 0; i < 3; i++) throttle.recordFailure('a', 'oper');
    throttle.recordSuccess('a', 'oper');
    expect(throttle.check('a', 'oper').allowed).toBe(true);
    expect(throttle.recordFailure('a', 'oper').failures).toBe(1);
    clock.advance(10_000);
    expect(throttle.recordFailure('a', 'oper').failures).toBe(1);
    for (const s of ['b', 'c', 'd', 'e']) throttle.recordFailure(s, 'oper');
    expect(throttle.size).toBe(3);
  });
});

describe('sourceAddress', () => {
  it('drops the port, unwraps IPv4-mapped addresses and counts IPv6 by /64', () => {
    expect(sourceAddress('192.0.2.1:623')).toBe('192.0.2.1');
    expect(sourceAddress('::ffff:192.0.2.1:623')).toBe('192.0.2.1');
    expect(sourceAddress('2001:db8:1:2:a:b:c:d:40000')).toBe('2001:db8:1:2::/64');
    expect(sourceAddress('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(sourceAddress('[2001:db8::1]:623')).toBe('2001:db8:0:0::/64');
    expect(sourceAddress('::1:623')).toBe('0:0:0:0::/64');
  });
});
