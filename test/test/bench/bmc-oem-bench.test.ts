// Smoke test of the bmc-oem benchmarks (npm run bench -- bmc-oem): small runs that check they
// measure what they claim, in a few seconds; the figures themselves are in docs/benchmarks.md.
import { describe, expect, it } from 'vitest';
import { runQueueBench } from '../../src/bench/bmc-oem-queue-bench.js';
import { runSessionsBench } from '../../src/bench/bmc-oem-sessions-bench.js';
import { ipmitoolAvailable } from '../../src/harness/ipmitool.js';

describe('bmc-oem benchmarks (smoke)', () => {
  it('sessions: every session opened is held and answers; RSS is read before and after', async () => {
    const r = await runSessionsBench(40);
    expect(r.opened).toBe(40);
    expect(r.held).toBe(40);
    expect(r.activeGauge).toBe(40);
    expect(r.idleRssKb).toBeGreaterThan(10_000);
    expect(r.loadedRssKb).toBeGreaterThan(10_000);
  });

  it.skipIf(!ipmitoolAvailable())('queue: records go from the RMCP+ producer to the VM consumer in order; ipmitool puts are drained too (skipped only without ipmitool)', async () => {
    const r = await runQueueBench(60);
    expect(r.records).toBe(60);
    expect(r.pairsPerSecond).toBeGreaterThan(0);
    expect(r.pairsPerSecondPipelined).toBeGreaterThan(0);
    expect(r.ipmitoolPutsPerSecond).toBeGreaterThan(0);
  });
});
