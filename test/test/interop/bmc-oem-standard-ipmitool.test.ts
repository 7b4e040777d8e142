/**
 * Issue 16 with stock ipmitool (-I lanplus, suites 17 and 3): the standard
 * commands a BMC's users expect, answered by the real bmc-oem daemon with a
 * state directory and a host-power program: SEL, SDR and sensors, FRU, LAN
 * configuration, user management, boot options reaching the power program,
 * identify, restart cause, power restore policy, `chassis power diag`,
 * session and channel information, cold and warm reset, and everything
 * still there after a restart of the daemon.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable, type IpmitoolTarget } from '../../src/harness/ipmitool.js';
import { startBmcOem, type BmcOemInstance } from '../../src/interop/ipmitool-bmc-oem.js';
import { powerProgramArgs, writePowerProgram, type PowerProgram } from '../../src/interop/power-program.js';

const USERS = [
  { name: 'admin', privilege: 'administrator' as const, password: 'admin-secret' },
  { name: 'oper', privilege: 'operator' as const, password: 'oper-secret' },
];

describe.skipIf(!ipmitoolAvailable())('bmc-oem standard commands with stock ipmitool [needs ipmitool]', () => {
  let bmc: BmcOemInstance;
  let work: string;
  let power: PowerProgram;
  const start = async (): Promise<void> => {
    bmc = await startBmcOem(USERS, ['--state-dir', join(work, 'state'), '--config', join(work, 'bmc.json'), '--metrics', '127.0.0.1:0', ...powerProgramArgs(power)]);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'bmc-oem-std-'));
    power = writePowerProgram(work);
    writeFileSync(join(work, 'bmc.json'), JSON.stringify({ fru: { board: { manufacturer: 'Example Boards', productName: 'OOB-1', serialNumber: 'SN-0042' }, product: { manufacturer: 'Backchannel', name: 'bmc-oem', version: '0.1' } } }));
    await start();
  });

  afterAll(async () => {
    try {
      expect(await bmc?.stop()).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  const as = (user: string, suite: number, privilege: IpmitoolTarget['privilege']): IpmitoolTarget => ({ port: bmc.port, user, passwordFile: bmc.passwordFile(user), cipherSuite: suite, privilege });

  for (const suite of [17, 3]) {
    describe(`cipher suite ${suite}`, () => {
      const admin = (): IpmitoolTarget => as('admin', suite, 'ADMINISTRATOR');
      const oper = (): IpmitoolTarget => as('oper', suite, 'OPERATOR');

      it('SEL: info, list, time; the BMC\'s own records are there', () => {
        const info = ipmitool(oper(), ['sel', 'info']);
        expect(info.status).toBe(0);
        expect(info.stdout).toMatch(/Version\s+: 1\.5/);
        expect(info.stdout).toMatch(/Supported Cmds\s+: 'Delete' 'Reserve' 'Get Alloc Info'/);
        const list = ipmitool(oper(), ['sel', 'elist']);
        expect(list.status).toBe(0);
        expect(list.stdout).toMatch(/BMC Audit/);
        expect(ipmitool(oper(), ['sel', 'time', 'get']).stdout).toMatch(/^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d/);
      });

      it('SDR and sensors: the host power, the host link and the audit sensor', () => {
        const sdr = ipmitool(oper(), ['sdr', 'elist']);
        expect(sdr.status).toBe(0);
        expect(sdr.stdout).toMatch(/Host Power\s+\| 01h \| ok/);
        expect(sdr.stdout).toMatch(/Host Link\s+\| 02h \| ok/);
        expect(ipmitool(oper(), ['sensor', 'list']).stdout).toMatch(/Host Power\s+\| 0x/);
      });

      it('FRU: the configured board and product areas', () => {
        const fru = ipmitool(oper(), ['fru', 'print', '0']);
        expect(fru.status).toBe(0);
        expect(fru.stdout).toMatch(/Board Mfg\s+: Example Boards/);
        expect(fru.stdout).toMatch(/Board Serial\s+: SN-0042/);
        expect(fru.stdout).toMatch(/Product Version\s+: 0\.1/);
      });

      it('LAN configuration: lan print 1 works and a read-only address cannot be written', () => {
        const lan = ipmitool(oper(), ['lan', 'print', '1']);
        expect(lan.status).toBe(0);
        expect(lan.stdout).toMatch(/IP Address\s+: 127\.0\.0\.1/);
        expect(lan.stdout).toMatch(/RMCP\+ Cipher Suites\s+: 17,3/);
        expect(lan.stdout).toMatch(/Cipher Suite Priv Max\s+: XXXaXXXXXXXXXXX/);
        // The listen address is the daemon's config: the write is refused (0x82) and ipmitool fails.
        expect(ipmitool(admin(), ['lan', 'set', '1', 'ipaddr', '10.0.0.9']).status).not.toBe(0);
        expect(ipmitool(oper(), ['lan', 'print', '1']).stdout).toMatch(/IP Address\s+: 127\.0\.0\.1/);
      });

      it('session and channel information count the active sessions', () => {
        const s = ipmitool(oper(), ['session', 'info', 'active']);
        expect(s.status).toBe(0);
        expect(s.stdout).toMatch(/session type\s+: IPMIv2\/RMCP\+/);
        expect(s.stdout).toMatch(/console ip\s+: 127\.0\.0\.1/);
        const c = ipmitool(oper(), ['channel', 'info', '1']);
        expect(c.stdout).toMatch(/Active Session Count\s+: 1/);
        expect(c.stdout).toMatch(/Access Mode\s+: always available/);
      });
    });
  }

  it('user management: an administrator creates a user who then logs in; operators may not list users', () => {
    const admin = as('admin', 17, 'ADMINISTRATOR');
    expect(ipmitool(as('oper', 17, 'OPERATOR'), ['user', 'list', '1']).status).not.toBe(0);
    expect(ipmitool(admin, ['user', 'set', 'name', '5', 'carol']).status).toBe(0);
    expect(ipmitool(admin, ['user', 'set', 'password', '5', 'carol-secret-20', '20']).status).toBe(0);
    expect(ipmitool(admin, ['user', 'priv', '5', '2', '1']).status).toBe(0);
    expect(ipmitool(admin, ['user', 'enable', '5']).status).toBe(0);
    expect(ipmitool(admin, ['user', 'test', '5', '20', 'carol-secret-20']).stdout).toMatch(/Success/);
    const list = ipmitool(admin, ['user', 'list', '1']);
    expect(list.stdout).toMatch(/^5\s+carol\s+true\s+\w+\s+true\s+USER/m);
    const carol: IpmitoolTarget = { ...as('carol', 3, 'USER'), passwordFile: join(work, 'carol.pw') };
    writeFileSync(carol.passwordFile, 'carol-secret-20\n', { mode: 0o600 });
    expect(ipmitool(carol, ['mc', 'info']).status).toBe(0);
    expect(ipmitool(admin, ['user', 'disable', '5']).status).toBe(0);
    expect(ipmitool(carol, ['mc', 'info']).status).not.toBe(0);
    expect(ipmitool(admin, ['user', 'enable', '5']).status).toBe(0);
  });

  it('chassis: boot device to the power program, restart cause, identify, restore policy, power diag', () => {
    const oper = as('oper', 17, 'OPERATOR');
    expect(ipmitool(oper, ['chassis', 'bootdev', 'pxe']).status).toBe(0);
    expect(ipmitool(oper, ['chassis', 'bootparam', 'get', '5']).stdout).toMatch(/Boot Device Selector : Force PXE/);
    expect(ipmitool(oper, ['chassis', 'power', 'on']).status).toBe(0);
    expect(ipmitool(oper, ['chassis', 'power', 'diag']).status).toBe(0);
    expect(power.actions()).toEqual(['on pxe', 'diag -']);
    // A one-time boot device is used once.
    expect(ipmitool(oper, ['chassis', 'bootparam', 'get', '5']).stdout).not.toMatch(/Boot Flag Valid/);
    expect(ipmitool(oper, ['chassis', 'restart_cause']).stdout).toMatch(/chassis power control command/);
    expect(ipmitool(oper, ['chassis', 'identify', '30']).stdout).toMatch(/Chassis identify interval: 30 seconds/);
    expect(ipmitool(oper, ['chassis', 'policy', 'always-on']).status).toBe(0);
    const status = ipmitool(oper, ['chassis', 'status']);
    expect(status.stdout).toMatch(/System Power\s+: on/);
    expect(status.stdout).toMatch(/Power Restore Policy\s+: always-on/);
    expect(status.stdout).toMatch(/Last Power Event\s+: command/);
  });

  it('mc reset warm and cold: answered, and the BMC answers again; the SEL records them', async () => {
    const admin = as('admin', 17, 'ADMINISTRATOR');
    // Administrators only (ipmitool prints "Sent" whatever the answer: the daemon's count says it did not happen).
    ipmitool(as('oper', 17, 'OPERATOR'), ['mc', 'reset', 'cold']);
    expect(bmc.proc.output).not.toMatch(/cold reset/);
    expect(ipmitool(admin, ['mc', 'reset', 'warm']).stdout).toMatch(/Sent warm reset command to MC/);
    expect(ipmitool(admin, ['mc', 'reset', 'cold']).stdout).toMatch(/Sent cold reset command to MC/);
    await bmc.proc.waitFor(/"msg":"cold reset done"/, 5000);
    expect(ipmitool(admin, ['mc', 'info']).status).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${bmc.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^bmc_oem_resets_total\{kind="cold"\} 1$/m);
    expect(metrics).toMatch(/^bmc_oem_resets_total\{kind="warm"\} 1$/m);
  });

  it('after a restart of the daemon: users, boot options, policy, FRU and SEL are still there; no security event was raised', async () => {
    const before = ipmitool(as('admin', 17, 'ADMINISTRATOR'), ['sel', 'list']).stdout.trim().split('\n').length;
    const metrics = await (await fetch(`http://127.0.0.1:${bmc.metricsPort}/metrics`)).text();
    expect(metrics).not.toMatch(/^bmc_oem_security_events_total\{/m);
    expect(await bmc.stop()).toBe(0);
    await start();
    const admin = as('admin', 3, 'ADMINISTRATOR');
    expect(ipmitool(admin, ['user', 'list', '1']).stdout).toMatch(/^5\s+carol/m);
    expect(ipmitool(admin, ['chassis', 'status']).stdout).toMatch(/Power Restore Policy\s+: always-on/);
    expect(ipmitool(admin, ['fru', 'print', '0']).stdout).toMatch(/Board Serial\s+: SN-0042/);
    // The SEL kept its records and gained the "started" one.
    expect(ipmitool(admin, ['sel', 'list']).stdout.trim().split('\n').length).toBe(before + 1);
  });
});
