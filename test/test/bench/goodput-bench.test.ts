// Smoke test of the goodput benchmark (npm run bench -- goodput): a short run checks that sealed
// messages cross one bmc-oem both ways, are opened at the far end, and cost the number of
// records the fragment format says; the figures themselves are in docs/benchmarks.md.
import { describe, expect, it } from 'vitest';
import { runGoodput } from '../../src/bench/goodput-bench.js';

describe('goodput benchmark (smoke)', () => {
  it('moves sealed messages both ways through bmc-oem, one record per 193 envelope bytes', async () => {
    const r = await runGoodput({ rounds: 2, sliceMs: 150, requestBytes: 2048, reportDomains: 24 });
    expect(r.maxRecord).toBe(200);
    expect(r.directions).toHaveLength(2);
    for (const d of r.directions) {
      expect(d.messages).toBeGreaterThan(0);
      expect(d.sealedRate).toBeGreaterThan(0);
      expect(d.rawRate).toBeGreaterThan(0);
      // Every message of one direction has the same size: a whole number of records each,
      // ⌈(body + envelope overhead) / (max_record − 7)⌉ with a 50–70 byte envelope.
      const perMessage = d.records / d.messages;
      expect(Number.isInteger(perMessage)).toBe(true);
      expect(perMessage).toBeGreaterThanOrEqual(Math.ceil((d.bodyBytes + 50) / 193));
      expect(perMessage).toBeLessThanOrEqual(Math.ceil((d.bodyBytes + 70) / 193));
    }
  }, 30_000);
});
