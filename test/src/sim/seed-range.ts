/**
 * Runs the link simulation over consecutive seeds (the scale tests split the 100,000 commands
 * in npm test into files vitest can schedule apart) and collects what failed.
 */
import { runLinkSim } from './link-sim.js';

export function runSeedRange(from: number, to: number, commands: number): { final: number; failures: { seed: number; violations: string[] }[] } {
  const failures: { seed: number; violations: string[] }[] = [];
  let final = 0;
  for (let seed = from; seed <= to; seed++) {
    const r = runLinkSim(seed, { commands });
    final += r.final;
    if (r.violations.length > 0) failures.push({ seed, violations: r.violations.slice(0, 3) });
  }
  return { final, failures };
}
