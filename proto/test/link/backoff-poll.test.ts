import { describe, expect, it } from 'vitest';
import { Backoff, PollSchedule } from '../../src/index.js';

describe('Backoff (full jitter, injected random)', () => {
  it('doubles the ceiling up to the maximum and resets', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 4_000 }, () => 0.999999);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([499, 999, 1999, 3999, 3999]);
    b.reset();
    expect(b.next()).toBe(499);
  });

  it('never waits less than half the initial delay, and refuses impossible bounds', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 0);
    expect([b.next(), b.next()]).toEqual([250, 250]);
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 }, () => 0)).toThrow(RangeError);
  });
});

describe('PollSchedule (adaptive polling)', () => {
  it('starts at the floor after traffic, doubles while idle up to the ceiling', () => {
    const p = new PollSchedule({ minMs: 50, maxMs: 1000 });
    expect([p.idle(0), p.idle(0), p.idle(0), p.idle(0), p.idle(0), p.idle(0), p.idle(0)]).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    p.traffic();
    expect(p.idle(0)).toBe(50);
    expect(() => new PollSchedule({ minMs: 0, maxMs: 10 })).toThrow(RangeError);
  });

  it('polls at the reply interval inside the reply window, and resumes its schedule after it', () => {
    const p = new PollSchedule({ minMs: 50, maxMs: 1000 }, 1);
    p.idle(0);
    p.setReplyWindow(500);
    expect([p.idle(10), p.idle(20), p.idle(499)]).toEqual([1, 1, 1]);
    expect(p.idle(500)).toBe(100);
    p.setReplyWindow(0);
    expect(p.idle(501)).toBe(200);
  });
});
