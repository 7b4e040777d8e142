// Scale half 2 of 2 (issue 18: at least 100,000 simulated commands in npm test): 500 seeds of 100
// commands each, every seed with its own LAN loss (0–20%), duplication, reordering, up to one
// partition, and up to one crash of each of the manager, the host and the BMC.
import { expect, it } from 'vitest';
import { runLinkSim } from '../../src/sim/link-sim.js';

it('500 seeds × 100 commands: every command final, applied once, matching, no alert', () => {
  const failures = [];
  let final = 0;
  for (let seed = 501; seed <= 1000; seed++) {
    const r = runLinkSim(seed, { commands: 100 });
    final += r.final;
    if (r.violations.length > 0) failures.push({ seed, violations: r.violations.slice(0, 3) });
  }
  expect(failures).toEqual([]);
  expect(final).toBe(50_000);
}, 120_000);
