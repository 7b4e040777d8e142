// Scale half 1 of 2 (issue 18: at least 100,000 simulated commands in npm test): 500 seeds of 100
// commands each, every seed with its own LAN loss (0–20%), duplication, reordering, up to one
// partition, and up to one crash of each of the manager, the host and the BMC.
import { expect, it } from 'vitest';
import { runSeedRange } from '../../src/sim/seed-range.js';

it('500 seeds × 100 commands: every command final, applied once, matching, no alert', () => {
  const { final, failures } = runSeedRange(1, 500, 100);
  expect(failures).toEqual([]);
  expect(final).toBe(50_000);
}, 120_000);
