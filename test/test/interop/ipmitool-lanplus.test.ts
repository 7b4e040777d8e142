/**
 * Acceptance (issue 3, Server): stock `ipmitool -I lanplus` against the
 * real bmc-oem daemon on 127.0.0.1, with cipher suites 17 and 3.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable, parseRawOutput, type IpmitoolTarget } from '../../src/harness/ipmitool.js';
import { startBmcOem, writePasswordFile, type BmcOemInstance } from '../../src/interop/ipmitool-bmc-oem.js';

const hasIpmitool = ipmitoolAvailable();

describe.skipIf(!hasIpmitool)('ipmitool -I lanplus against bmc-oem (skipped only if the ipmitool binary is absent)', () => {
  let bmc: BmcOemInstance;

  beforeAll(async () => {
    bmc = await startBmcOem([
      { name: 'oper', privilege: 'operator', password: 'oper-secret' },
      { name: 'admin', privilege: 'administrator', password: 'admin-secret' },
      { name: 'viewer', privilege: 'user', password: 'viewer-secret' },
    ], ['--metrics', '127.0.0.1:0']);
  });

  afterAll(async () => {
    const code = await bmc?.stop();
    // A clean SIGTERM shutdown exits 0.
    expect(code).toBe(0);
  });

  const target = (cipherSuite: number, user = 'oper', privilege: IpmitoolTarget['privilege'] = 'OPERATOR'): IpmitoolTarget => ({
    port: bmc.port,
    user,
    passwordFile: bmc.passwordFile(user),
    cipherSuite,
    privilege,
  });

  for (const suite of [17, 3]) {
    describe(`cipher suite ${suite}`, () => {
      it('mc info', () => {
        const r = ipmitool(target(suite), ['mc', 'info']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/Device ID\s+: 32/);
        expect(r.stdout).toMatch(/IPMI Version\s+: 2\.0/);
        expect(r.stdout).toMatch(/Manufacturer ID\s+: 32473/);
      });

      it('chassis status', () => {
        const r = ipmitool(target(suite), ['chassis', 'status']);
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/System Power\s+: off/);
        expect(r.stdout).toMatch(/Power Restore Policy\s+: always-off/);
      });

      it('channel getciphers ipmi lists exactly suites 17 and 3', () => {
        const r = ipmitool(target(suite), ['channel', 'getciphers', 'ipmi']);
        expect(r.status).toBe(0);
        const rows = r.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
        expect(rows.map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
          ['17', 'N/A', 'hmac_sha256', 'sha256_128', 'aes_cbc_128'],
          ['3', 'N/A', 'hmac_sha1', 'hmac_sha1_96', 'aes_cbc_128'],
        ]);
      });

      it('raw 0x06 0x01 (Get Device ID)', () => {
        const r = ipmitool(target(suite), ['raw', '0x06', '0x01']);
        expect(r.status).toBe(0);
        // device id 0x20, rev 1, fw 0.01, IPMI 2.0, chassis + FRU + SEL + SDR repository + sensor device, IANA 32473 (D9 7E 00), product 1
        expect(parseRawOutput(r.stdout)).toEqual([0x20, 0x01, 0x00, 0x01, 0x02, 0x8f, 0xd9, 0x7e, 0x00, 0x01, 0x00]);
      });

      it('a wrong password fails', () => {
        const t = { ...target(suite), passwordFile: writePasswordFile(bmc.dir, `wrong-${suite}.pw`, 'not-the-password') };
        const r = ipmitool(t, ['mc', 'info']);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/Unable to establish IPMI v2 \/ RMCP\+ session/);
        expect(r.stdout).not.toMatch(/Device ID/);
      });

      it('a user not in the config fails', () => {
        const r = ipmitool(target(suite, 'mallory'), ['mc', 'info']);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/Unable to establish IPMI v2 \/ RMCP\+ session/);
      });
    });
  }

  it('-C 0 (no authentication) is refused at Open Session', () => {
    const r = ipmitool(target(0), ['mc', 'info']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/invalid authentication algorithm/);
  });

  it('a privilege above the user\'s is refused; the user\'s own level works', () => {
    expect(ipmitool(target(17, 'oper', 'ADMINISTRATOR'), ['mc', 'info']).status).not.toBe(0);
    expect(ipmitool(target(17, 'viewer', 'USER'), ['mc', 'info']).status).toBe(0);
    expect(ipmitool(target(17, 'admin', 'ADMINISTRATOR'), ['mc', 'info']).status).toBe(0);
  });

  it('Chassis Control needs OPERATOR: USER gets 0xD4, OPERATOR reaches the (none) backend', () => {
    const user = ipmitool(target(17, 'viewer', 'USER'), ['raw', '0x00', '0x02', '0x01']);
    expect(user.status).not.toBe(0);
    expect(user.stderr).toMatch(/rsp=0xd4/);
    const oper = ipmitool(target(17), ['raw', '0x00', '0x02', '0x01']);
    expect(oper.status).not.toBe(0);
    expect(oper.stderr).toMatch(/rsp=0xd5/);
  });

  it('IPMI v1.5 sessions (ipmitool -I lan) are refused', () => {
    const r = spawnSync('ipmitool', ['-I', 'lan', '-H', '127.0.0.1', '-p', String(bmc.port), '-U', 'oper', '-f', bmc.passwordFile('oper'), '-L', 'OPERATOR', '-N', '1', '-R', '1', 'mc', 'info'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Unable to establish IPMI v1\.5/);
  });

  it('answers an ASF presence ping, drops and counts malformed datagrams, and stays up', async () => {
    const socket = createSocket('udp4');
    try {
      const pong = new Promise<Buffer>((resolve) => socket.once('message', (m) => resolve(m)));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      for (const garbage of [Buffer.from('hello'), Buffer.alloc(2000, 0x06), Buffer.from('0600ff07067f', 'hex')]) socket.send(garbage, bmc.port, '127.0.0.1');
      socket.send(Buffer.from('0600ff06000011be80070000', 'hex'), bmc.port, '127.0.0.1');
      const reply = await pong;
      expect(reply.toString('hex')).toBe('0600ff06000011be40070010000011be000000008100000000000000');
    } finally {
      socket.close();
    }
    expect(bmc.proc.exited).toBe(false);
    expect(ipmitool(target(3), ['raw', '0x06', '0x01']).status).toBe(0);
  });

  it('exposes Prometheus metrics: drops by reason, auth failures, requests by command', async () => {
    const text = await (await fetch(`http://127.0.0.1:${bmc.metricsPort}/metrics`)).text();
    const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 'NaN');
    expect(value(/^bmc_oem_datagrams_dropped_total\{reason="malformed"\} (\d+)/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^bmc_oem_auth_failures_total (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(value(/^bmc_oem_requests_total\{command="get-device-id",cc="0x00"\} (\d+)/m)).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^bmc_oem_sessions\{state="active"\} \d+/m);
    expect(text).not.toMatch(/secret/);
  });
});
