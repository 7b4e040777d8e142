// A short run of the RMCP+ client benchmark: both sides measured, figures sane.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRmcpClientBench } from '../../src/bench/rmcp-client-bench.js';
import { ipmiSimAvailable, type IpmiSim, startIpmiSim } from '../../src/interop/rmcp-client-ipmi-sim.js';

describe.skipIf(!ipmiSimAvailable())('rmcp-client bench against ipmi_sim [needs ipmi_sim and ipmitool]', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('measures the client (1 and 8 in flight) and ipmitool exec in the same run', async () => {
    const r = await runRmcpClientBench({ host: sim.host, port: sim.port, user: sim.user, passwordFile: sim.passwordFile, cipher: 3, durationMs: 300 });
    expect(r.clientRate).toBeGreaterThan(0);
    expect(r.clientRateParallel).toBeGreaterThan(0);
    expect(r.ipmitoolRate).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.clientRate / r.ipmitoolRate, 6);
    console.log(`rmcp-client vs ipmi_sim: ${r.clientRate.toFixed(0)}/s (1 in flight), ${r.clientRateParallel.toFixed(0)}/s (8), ipmitool ${r.ipmitoolRate.toFixed(0)}/s, ratio ${r.ratio.toFixed(2)}`);
  }, 120_000);
});
