// Smoke run of the SOL benchmark (test/src/bench/sol-bench.ts): both paths move
// sealed messages that the receiver opens, and the SOL path is really held to
// the paced line (it cannot beat 11,520 B/s) — a check of what the benchmark
// measures, not a timing goal.
import { describe, expect, it } from 'vitest';
import { LINE_RATE, runSolGoodput } from '../../src/bench/sol-bench.js';

describe('sol benchmark smoke run', () => {
  it('delivers sealed messages over the OEM queues and over SOL; SOL stays within the line rate', { timeout: 120_000 }, async () => {
    const r = await runSolGoodput({ rounds: 1, oemSliceMs: 300, solSliceMs: 1500 });
    expect(r.map((d) => d.name)).toEqual(['manager → hypervisor (CommandRequest)', 'hypervisor → manager (StatusReport)']);
    for (const d of r) {
      expect(d.oem).toBeGreaterThan(0);
      expect(d.sol).toBeGreaterThan(0);
      expect(d.sol).toBeLessThanOrEqual(LINE_RATE * 1.1);
    }
  });
});
