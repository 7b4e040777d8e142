// The channel simulation (src/sim/channel-sim.ts) over many seeds: skew up to 10 min, 100 ppm
// drift, receiver crashes and long downtime. Every message once, and no security verdict
// unless the schedule injected an attack.
import { describe, expect, it } from 'vitest';
import { runChannelSim } from '../../src/sim/channel-sim.js';

describe('channel simulation', () => {
  it('120 seeds: every message delivered exactly once, no alert-raising verdict without an attack', () => {
    const failures = [];
    for (let seed = 1; seed <= 120; seed++) {
      const r = runChannelSim(seed, { messages: 60 });
      if (r.violations.length > 0) failures.push({ seed, skewMs: r.skewMs, violations: r.violations.slice(0, 3) });
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('one seed replays bit for bit', () => {
    expect(runChannelSim(42, { messages: 100 })).toEqual(runChannelSim(42, { messages: 100 }));
  });

  it('an envelope held back for 40 minutes while newer ones are delivered is reported held-back (the stale_time_step alert)', () => {
    for (const seed of [1, 2, 3]) {
      const r = runChannelSim(seed, { messages: 50, injectHeldBack: true, crashPerSecond: 0 });
      expect(r.violations).toEqual([]);
      expect(r.verdicts.late_held_back).toBe(1);
    }
  });

  it('a skew beyond tolerance is reported as the clock, never as an attack', () => {
    const r = runChannelSim(7, { messages: 20, maxSkewMs: 2 * 3_600_000, crashPerSecond: 0 });
    if (Math.abs(r.skewMs) > 15 * 60_000) {
      expect((r.verdicts.ahead ?? 0) + (r.verdicts.late_clock ?? 0) + (r.verdicts.late_waited ?? 0)).toBeGreaterThan(0);
      expect(r.verdicts.late_held_back).toBeUndefined();
    }
  });
});
