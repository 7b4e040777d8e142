/**
 * Issue 16 with stock FreeIPMI (LAN_2_0, cipher suites 17 and 3) against
 * the real bmc-oem daemon: bmc-info, ipmi-sel, ipmi-sensors, ipmi-fru,
 * ipmi-config --checkout and bmc-device --cold-reset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeipmi, freeipmiAvailable, type FreeIpmiTarget } from '../../src/interop/freeipmi.js';
import { startBmcOem, type BmcOemInstance } from '../../src/interop/ipmitool-bmc-oem.js';
import { powerProgramArgs, writePowerProgram } from '../../src/interop/power-program.js';

describe.skipIf(!freeipmiAvailable())('bmc-oem with stock FreeIPMI [needs freeipmi-tools]', () => {
  let bmc: BmcOemInstance;
  let cache: string;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'bmc-oem-freeipmi-'));
    bmc = await startBmcOem(
      [
        { name: 'admin', privilege: 'administrator', password: 'admin-secret' },
        { name: 'oper', privilege: 'operator', password: 'oper-secret' },
      ],
      (dir) => ['--state-dir', join(dir, 'state'), '--metrics', '127.0.0.1:0', ...powerProgramArgs(writePowerProgram(dir))],
    );
  });

  afterAll(async () => {
    try {
      expect(await bmc?.stop()).toBe(0);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  for (const suite of [17, 3]) {
    describe(`cipher suite ${suite}`, () => {
      const t = (user: 'admin' | 'oper', privilege: FreeIpmiTarget['privilege']): FreeIpmiTarget => ({
        port: bmc.port,
        user,
        password: `${user}-secret`,
        privilege,
        cipherSuite: suite,
        sdrCacheDir: join(cache, String(suite)),
      });

      it('bmc-info: device, GUIDs, channel with its active session', () => {
        const r = freeipmi('bmc-info', t('oper', 'OPERATOR'));
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/IPMI Version\s+: 2\.0/);
        expect(r.stdout).toMatch(/SEL Device\s+: supported/);
        expect(r.stdout).toMatch(/Manufacturer ID\s+: .*\(32473\)/);
        expect(r.stdout).toMatch(/Device GUID\s+: [0-9a-f-]{36}/);
        expect(r.stdout).toMatch(/Medium Type\s+: 802\.3 LAN[\s\S]*Active Session Count\s+: 1/);
      });

      it('ipmi-sel: the BMC audit records, named by the SDR', () => {
        const r = freeipmi('ipmi-sel', t('oper', 'OPERATOR'));
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/\| BMC Audit\s+\| OEM Reserved\s+\|/);
      });

      it('ipmi-sensors: host power and host link', () => {
        const r = freeipmi('ipmi-sensors', t('oper', 'OPERATOR'));
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/Host Power \| System ACPI Power State \| N\/A\s+\| N\/A\s+\| 'S4\/S5 soft-off'/);
        expect(r.stdout).toMatch(/Host Link\s+\| Cable\/Interconnect/);
      });

      it('ipmi-fru: the default FRU device', () => {
        const r = freeipmi('ipmi-fru', t('oper', 'OPERATOR'));
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/FRU Board Manufacturer: Backchannel/);
        expect(r.stdout).toMatch(/FRU Product Name: bmc-oem/);
      });

      it('ipmi-config --checkout: users, LAN channel and LAN configuration; nothing it could not read but optional keys', () => {
        const r = freeipmi('ipmi-config', t('admin', 'ADMIN'), ['--checkout']);
        expect(r.stderr).toBe('');
        const settings = r.stdout
          .split('\n')
          .filter((l) => !/^\s*#/.test(l))
          .join('\n');
        expect(settings).toMatch(/Section User2\n\s+Username\s+admin\n\s+Enable_User\s+Yes/);
        expect(settings).toMatch(/Section User3\n\s+Username\s+oper[\s\S]*?Lan_Privilege_Limit\s+Operator/);
        expect(settings).toMatch(/Section Lan_Channel\n\s+Volatile_Access_Mode\s+Always_Available/);
        expect(settings).toMatch(/IP_Address\s+127\.0\.0\.1/);
        expect(settings).toMatch(/Maximum_Privilege_Cipher_Suite_Id_3\s+Administrator/);
        // Exit status 1 means "some keys could not be checked out": here only optional ones
        // (IPv6, gratuitous ARP, SOL parameters, cipher suites not offered).
        expect([0, 1]).toContain(r.status);
      });
    });
  }

  it('bmc-device --cold-reset: the daemon restarts its service and answers again', async () => {
    const t: FreeIpmiTarget = { port: bmc.port, user: 'admin', password: 'admin-secret', privilege: 'ADMIN', cipherSuite: 17, sdrCacheDir: join(cache, 'reset') };
    const r = freeipmi('bmc-device', t, ['--cold-reset']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await bmc.proc.waitFor(/"msg":"cold reset done"/, 5000);
    expect(freeipmi('bmc-info', t).status).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${bmc.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^bmc_oem_resets_total\{kind="cold"\} 1$/m);
    expect(metrics).not.toMatch(/^bmc_oem_security_events_total\{/m);
  });
});
