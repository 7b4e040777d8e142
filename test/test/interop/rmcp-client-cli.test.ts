// `vms-agent bmc info|raw` against ipmi_sim, compared with stock ipmitool's output.
import { spawnSync } from 'node:child_process';
import { runBmcCommand } from '@backchannel/vms-agent/bmc-command';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmiSimAvailable, type IpmiSim, startIpmiSim } from '../../src/interop/rmcp-client-ipmi-sim.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runBmcCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe.skipIf(!ipmiSimAvailable())('vms-agent bmc info|raw against ipmi_sim [needs ipmi_sim and ipmitool]', () => {
  let sim: IpmiSim;
  let common: string[];
  beforeAll(async () => {
    sim = await startIpmiSim();
    common = ['--bmc', `${sim.host}:${sim.port}`, '--user', sim.user, '--password-file', sim.passwordFile, '--cipher', '3', '--privilege', 'administrator', '--timeout', '500'];
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const ipmitool = (args: string[]) =>
    spawnSync('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', sim.host, '-p', String(sim.port), '-U', sim.user, '-f', sim.passwordFile, '-L', 'ADMINISTRATOR', ...args], { encoding: 'utf8', timeout: 20_000 });

  it('raw 0x06 0x01 prints exactly what ipmitool raw prints', async () => {
    const ours = await run(['raw', '0x06', '0x01', ...common]);
    expect(ours.code).toBe(0);
    const theirs = ipmitool(['raw', '0x06', '0x01']);
    expect(theirs.status).toBe(0);
    expect(ours.out).toBe(theirs.stdout);
  });

  it('info prints the Get Device ID fields like ipmitool mc info', async () => {
    const ours = await run(['info', ...common]);
    expect(ours.code).toBe(0);
    const theirs = ipmitool(['mc', 'info']).stdout;
    for (const field of ['Device ID', 'Device Revision', 'Firmware Revision', 'IPMI Version', 'Manufacturer ID', 'Product ID', 'Device Available', 'Provides Device SDRs']) {
      const line = (text: string) => text.split('\n').find((l) => l.startsWith(field.padEnd(26)))?.trimEnd();
      expect(line(ours.out), field).toBe(line(theirs));
    }
    expect(ours.out).toContain('    Chassis Device\n');
  });

  it('a non-zero completion code gives a clear message and exit code 1', async () => {
    const r = await run(['raw', '0x06', '0x7f', ...common]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/rsp=0xc1\): Invalid command/);
  });

  it('usage errors exit 2 and a wrong password exits 4', async () => {
    expect((await run(['raw', '0x06', ...common])).code).toBe(2);
    expect((await run(['info'])).code).toBe(2);
    expect((await run(['frobnicate', ...common])).code).toBe(2);
    const badFile = `${sim.dir}/wrong.pw`;
    spawnSync('sh', ['-c', `printf 'nope\\n' > '${badFile}'`]);
    const r = await run(['info', ...common.map((a) => (a === sim.passwordFile ? badFile : a))]);
    expect(r.code).toBe(4);
    expect(r.err).toContain('ERR_RMCP_AUTH_FAILED');
  });

  it('--help describes the command', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('vms-agent bmc raw NETFN CMD');
  });
});
