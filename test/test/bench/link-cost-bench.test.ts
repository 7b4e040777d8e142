// Smoke test of the link-cost benchmark (npm run bench -- link-cost): a short run on the whole
// stack checks that it reads the CPU of the three daemons and reports per-process figures that
// add up; never their size (the figures are in docs/benchmarks.md).
import { describe, expect, it } from 'vitest';
import { PROCESSES, runLinkCost } from '../../src/bench/link-cost-bench.js';

describe('link-cost benchmark (smoke)', () => {
  it('measures idle ms/s and ms per command for bmc-oem, hypervisor-agent and vms-agent', async () => {
    const r = await runLinkCost({ idleMs: 1_000, commands: 4, settleMs: 300 });
    expect(r.idle.wallMs).toBeGreaterThanOrEqual(1_000);
    expect(r.commands.count).toBe(4);
    expect(r.commands.latencyP50Ms).toBeGreaterThan(0);
    for (const name of PROCESSES) {
      // CPU read from /proc/PID/stat: whole clock ticks, never negative over a window.
      expect(r.idle.cpuMs[name]).toBeGreaterThanOrEqual(0);
      expect(r.commands.cpuMs[name]).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(r.commands.msPerCommand[name])).toBe(true);
    }
    // The three processes did the commands' work between them.
    expect(PROCESSES.reduce((a, n) => a + r.commands.cpuMs[n], 0)).toBeGreaterThan(0);
    const sum = PROCESSES.reduce((a, n) => a + r.idle.msPerS[n], 0);
    expect(r.idle.totalMsPerS).toBeCloseTo(sum, 6);
    expect(r.commands.totalMsPerCommand).toBeCloseTo(PROCESSES.reduce((a, n) => a + r.commands.msPerCommand[n], 0), 6);
  }, 120_000);
});
