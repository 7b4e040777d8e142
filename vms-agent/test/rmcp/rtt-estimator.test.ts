// RFC 6298's retransmission timer with this project's bounds, step by step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTO_BOUNDS, RttEstimator } from '../../src/rmcp/rtt-estimator.js';

describe('RttEstimator (RFC 6298)', () => {
  it('starts at the initial RTO and follows SRTT + 4 RTTVAR from the first measurement', () => {
    const e = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 1, maxRtoMs: 5000 });
    expect(e.rtoMs).toBe(1000);
    e.sample(100); // §2.2: SRTT = 100, RTTVAR = 50, RTO = 100 + 200
    expect(e.snapshot()).toMatchObject({ srttMs: 100, rttvarMs: 50, rtoMs: 300, samples: 1 });
    e.sample(200); // §2.3: RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5, SRTT = 7/8·100 + 1/8·200 = 112.5
    expect(e.snapshot()).toMatchObject({ srttMs: 112.5, rttvarMs: 62.5, rtoMs: 112.5 + 250 });
  });

  it('keeps the RTO within [minRtoMs, maxRtoMs], with at least the 1 ms clock granularity over SRTT', () => {
    const e = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 400 });
    for (let i = 0; i < 50; i++) e.sample(1);
    expect(e.rtoMs).toBe(20);
    const f = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 1, maxRtoMs: 400 });
    for (let i = 0; i < 200; i++) f.sample(3);
    // RTTVAR decays towards 0; G = 1 ms keeps RTO above SRTT.
    expect(f.rtoMs).toBeCloseTo(4, 5);
    f.sample(10_000);
    expect(f.rtoMs).toBe(400);
  });

  it('doubles on each timeout up to maxRtoMs and returns to the estimate at the next measurement', () => {
    const e = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 300 });
    e.sample(10); // RTO = 10 + 20 = 30
    expect(e.rtoMs).toBe(30);
    let level = e.backOff(0);
    expect([level, e.rtoMs]).toEqual([1, 60]);
    level = e.backOff(level);
    level = e.backOff(level);
    expect(e.rtoMs).toBe(240);
    level = e.backOff(level);
    expect(e.rtoMs).toBe(300);
    for (let i = 0; i < 20; i++) level = e.backOff(level);
    expect(e.rtoMs).toBe(300);
    e.sample(10);
    expect(e.backoffLevel).toBe(0);
    expect(e.rtoMs).toBeLessThan(60);
  });

  it('times out linearly three times per message, then doubles', () => {
    const e = new RttEstimator({ initialRtoMs: 100, minRtoMs: 100, maxRtoMs: 10_000 });
    let level = 0;
    const waits: number[] = [];
    for (let sends = 1; sends <= 6; sends++) {
      level = e.timedOut(sends, level);
      waits.push(e.rtoMs);
    }
    expect(waits).toEqual([100, 100, 100, 200, 400, 800]);
  });

  it('backs off once per round, however many requests of that round time out', () => {
    const e = new RttEstimator({ initialRtoMs: 100, minRtoMs: 100, maxRtoMs: 10_000 });
    const levelAtSend = e.backoffLevel;
    for (let i = 0; i < 10; i++) e.backOff(levelAtSend);
    expect(e.rtoMs).toBe(200);
  });

  it('an initial RTO above maxRtoMs is not shortened by backing off', () => {
    const e = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 500 });
    e.backOff(0);
    expect(e.rtoMs).toBe(1000);
  });

  it('refuses inconsistent bounds', () => {
    expect(() => new RttEstimator({ minRtoMs: 0 })).toThrow(RangeError);
    expect(() => new RttEstimator({ minRtoMs: 100, maxRtoMs: 50 })).toThrow(RangeError);
    expect(DEFAULT_RTO_BOUNDS).toEqual({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 500 });
  });

  it('never leaves its bounds, whatever the samples and timeouts', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(-1)), { maxLength: 100 }), (events) => {
        const e = new RttEstimator({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 1000 });
        for (const ev of events) {
          if (ev < 0) e.backOff(e.backoffLevel);
          else e.sample(ev);
          expect(e.rtoMs).toBeGreaterThanOrEqual(20);
          expect(e.rtoMs).toBeLessThanOrEqual(1000);
        }
      }),
    );
  });
});
