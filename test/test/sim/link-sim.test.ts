import { describe, expect, it } from 'vitest';
import { runLinkSim } from '../../src/sim/link-sim.js';

describe('link simulation (scratch)', () => {
  it('one seed', () => {
    const t = Date.now();
    const r = runLinkSim(1, { commands: 200 });
    console.log(JSON.stringify(r, null, 1), Date.now() - t, 'ms');
    expect(r.violations).toEqual([]);
  }, 120_000);
});
