import { describe, expect, it } from 'vitest';
import { Backoff, PollSchedule } from '../../src/link/backoff.js';
import { TimeoutError, withTimeout } from '../../src/link/timeout.js';

describe('Backoff (full jitter, injected random)', () => {
  it('doubles the ceiling up to the maximum and resets', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 4_000 }, () => 0.999999);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([499, 999, 1999, 3999, 3999]);
    b.reset();
    expect(b.next()).toBe(499);
  });

  it('never waits less than half the initial delay', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 0);
    expect(b.next()).toBe(250);
    expect(b.next()).toBe(250);
  });
});

describe('PollSchedule (adaptive polling)', () => {
  it('stays fast while busy, doubles while idle up to the ceiling, and wakes back to fast', () => {
    const p = new PollSchedule(50, 1000);
    expect(p.next(true)).toBe(50);
    expect([p.next(false), p.next(false), p.next(false), p.next(false), p.next(false), p.next(false)]).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(p.next(true)).toBe(50);
    p.next(false);
    p.reset();
    expect(p.next(false)).toBe(100);
    expect(() => new PollSchedule(0, 10)).toThrow(RangeError);
  });
});

describe('withTimeout', () => {
  it('passes results and errors through, and times out', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
    await expect(withTimeout(new Promise(() => undefined), 20, 'Get Record')).rejects.toBeInstanceOf(TimeoutError);
  });
});
