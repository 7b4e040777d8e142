/**
 * Issue 16 with pyghmi (Debian's python3-pyghmi, the IPMI library of
 * OpenStack Ironic and VirtualBMC):
 * - pyghmi against bmc-oem at suite 17 and suite 3 (pyghmi asks for 17
 *   first and falls back to 3 by itself), logged in with its defaults as an
 *   operator and as an administrator: power, SEL, inventory, sensors, users;
 * - vms-agent's RMCP+ client against pyghmi's own BMC (`fakebmc`), whose
 *   answers deviate from the spec (a 14-byte Get Device ID).
 */
import { AppCommand, ChassisCommand, DeviationCounter, decodeChassisStatus, decodeDeviceId, NetFn } from '@backchannel/proto';
import { openSession } from '@backchannel/vms-agent/rmcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../src/harness/managed-process.js';
import { freeUdpPort } from '../../src/harness/ports.js';
import { startBmcOem, type BmcOemInstance } from '../../src/interop/ipmitool-bmc-oem.js';
import { powerProgramArgs, writePowerProgram, type PowerProgram } from '../../src/interop/power-program.js';
import { pyghmiAvailable, pyghmiProbe, startFakeBmc } from '../../src/interop/pyghmi.js';

const hasPyghmi = pyghmiAvailable();
const USERS = [
  { name: 'admin', privilege: 'administrator' as const, password: 'admin-secret' },
  { name: 'oper', privilege: 'operator' as const, password: 'oper-secret' },
];

interface SelEvent {
  component?: string;
  oem_byte2?: number;
}

for (const suites of [[17, 3], [3]]) {
  describe.skipIf(!hasPyghmi)(`pyghmi against bmc-oem offering suite${suites.length > 1 ? 's 17 and 3' : ' 3 only'} [needs python3-pyghmi]`, () => {
    let bmc: BmcOemInstance;
    let power: PowerProgram | undefined;

    beforeAll(async () => {
      bmc = await startBmcOem(USERS, (dir) => {
        power = writePowerProgram(dir);
        return ['--state-dir', `${dir}/state`, '--cipher-suites', suites.join(','), '--metrics', '127.0.0.1:0', ...powerProgramArgs(power)];
      });
    });

    afterAll(async () => {
      expect(await bmc?.stop()).toBe(0);
    });

    it('an operator logs in with pyghmi\'s defaults (it asks for administrator, is refused with 0x0D and falls back): power, sensors, SEL, inventory; users are for administrators', () => {
      const r = pyghmiProbe(bmc.port, 'oper', 'oper-secret', ['power', 'power-on', 'power', 'sensors', 'sel', 'inventory', 'users']);
      expect(r.login_error).toBeUndefined();
      expect(r.privlevel).toBe(3);
      expect(r.actions.power?.ok).toMatchObject({ powerstate: 'on' });
      expect(power?.actions()).toEqual(['on -']);
      const sensors = r.actions.sensors?.ok as { name: string; states: string[] }[];
      expect(sensors.map((s) => s.name)).toEqual(['Host Power', 'Host Link', 'BMC Audit']);
      const events = r.actions.sel?.ok as SelEvent[];
      expect(events.length).toBeGreaterThanOrEqual(2); // started, then the power-on
      expect(events.every((e) => e.component === 'BMC Audit')).toBe(true);
      expect(events.at(-1)?.oem_byte2).toBe(1); // Chassis Control action 1: power on
      expect((r.actions.inventory?.ok as Record<string, Record<string, unknown>>).System).toMatchObject({ 'Board manufacturer': 'Backchannel', 'Manufacturer ID': 32473 });
      expect(r.actions.users?.error).toMatch(/Insufficient privilege/);
    });

    it('an administrator logs in with the defaults: users listed, power off reaches the program', () => {
      const r = pyghmiProbe(bmc.port, 'admin', 'admin-secret', ['users', 'power-off', 'power', 'bootdev-pxe', 'bootdev']);
      expect(r.login_error).toBeUndefined();
      expect(r.privlevel).toBe(4);
      const users = r.actions.users?.ok as Record<string, { name: string; access: { privilege_level: string } }>;
      expect(Object.values(users).map((u) => [u.name, u.access.privilege_level])).toEqual([
        ['admin', 'administrator'],
        ['oper', 'operator'],
      ]);
      expect(r.actions.power?.ok).toMatchObject({ powerstate: 'off' });
      expect(r.actions.bootdev?.ok).toMatchObject({ bootdev: 'network', persistent: false });
      expect(power?.actions().at(-1)).toBe('off -');
    });

    it('a wrong password and an unknown user fail to log in; no security event is raised', async () => {
      expect(pyghmiProbe(bmc.port, 'oper', 'wrong-password', ['power']).login_error).toMatch(/password/i);
      expect(pyghmiProbe(bmc.port, 'nobody', 'whatever', ['power']).login_error).toMatch(/[Uu]nauthorized name/);
      const metrics = await (await fetch(`http://127.0.0.1:${bmc.metricsPort}/metrics`)).text();
      expect(metrics).not.toMatch(/^bmc_oem_security_events_total\{/m);
    });
  });
}

describe.skipIf(!hasPyghmi)("vms-agent's RMCP+ client against pyghmi's own BMC (fakebmc) [needs python3-pyghmi]", () => {
  let fake: ManagedProcess;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPort();
    fake = await startFakeBmc(port);
  });

  afterAll(async () => {
    await fake?.stop(2000);
  });

  it('opens a session (suite 3), reads its 14-byte Get Device ID (a counted deviation) and its chassis status', async () => {
    // fakebmc binds its port as it starts: try until it answers (bounded).
    let session: Awaited<ReturnType<typeof openSession>> | undefined;
    for (let i = 0; i < 20 && session === undefined; i++) {
      try {
        session = await openSession({ host: '127.0.0.1', port, user: 'admin', password: 'password', privilege: 'administrator', cipherSuites: [3], timeoutMs: 300, retries: 1 });
      } catch (err) {
        if (i === 19) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    if (session === undefined) throw new Error('no session');
    try {
      expect(session.info.cipherSuite).toBe(3);
      const id = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0));
      expect(id.cc).toBe(0);
      expect(id.data.length).toBe(14);
      const deviations = new DeviationCounter();
      expect(decodeDeviceId(id.data, deviations.sink)).toMatchObject({ deviceId: 0, firmwareMajor: 1, ipmiVersion: 2 });
      expect(deviations.snapshot()).toEqual({ 'Get Device ID: aux-length': 1 });
      const chassis = await session.request(NetFn.CHASSIS, ChassisCommand.GET_CHASSIS_STATUS, new Uint8Array(0));
      expect(chassis.cc).toBe(0);
      expect(decodeChassisStatus(chassis.data).currentPowerState & 0x01).toBe(0); // fakebmc starts "off"
    } finally {
      await session.close();
    }
  });
});
