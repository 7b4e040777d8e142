// vms-agent's RMCP+ client against the project's own bmc-oem daemon, suites 17 and 3.
import { AppCommand, ChassisCommand, decodeChassisStatus, decodeDeviceId, NetFn } from '@backchannel/proto';
import { openSession } from '@backchannel/vms-agent/rmcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

describe('RMCP+ client ↔ bmc-oem', () => {
  let bmc: BmcOemInstance;
  beforeAll(async () => {
    bmc = await startBmcOem([
      { name: 'oper', privilege: 'operator', password: 'oper-secret' },
      { name: 'admin', privilege: 'administrator', password: 'admin-secret' },
    ]);
  });
  afterAll(async () => {
    await bmc?.stop();
  });

  for (const suite of [17, 3]) {
    it(`suite ${suite}: Get Device ID and Get Chassis Status`, async () => {
      const session = await openSession({ host: '127.0.0.1', port: bmc.port, user: 'oper', password: 'oper-secret', privilege: 'operator', cipherSuites: [suite], timeoutMs: 500, retries: 2 });
      try {
        expect(session.info.cipherSuite).toBe(suite);
        const id = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID);
        expect(id.cc).toBe(0);
        expect(decodeDeviceId(id.data).ipmiVersion).toBe(0x02);
        const chassis = await session.request(NetFn.CHASSIS, ChassisCommand.GET_CHASSIS_STATUS);
        expect(chassis.cc).toBe(0);
        expect(() => decodeChassisStatus(chassis.data)).not.toThrow();
      } finally {
        await session.close();
      }
    });
  }

  it('prefers suite 17 when both are acceptable, and runs 8 requests in flight', async () => {
    const session = await openSession({ host: '127.0.0.1', port: bmc.port, user: 'admin', password: 'admin-secret', privilege: 'administrator', timeoutMs: 500, retries: 2, maxInFlight: 8 });
    try {
      expect(session.info.cipherSuite).toBe(17);
      const answers = await Promise.all(Array.from({ length: 32 }, () => session.request(NetFn.APP, AppCommand.GET_DEVICE_ID)));
      expect(answers.every((a) => a.cc === 0)).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('a wrong password is ERR_RMCP_AUTH_FAILED and a too-high privilege ERR_RMCP_PRIVILEGE_DENIED', async () => {
    await expect(openSession({ host: '127.0.0.1', port: bmc.port, user: 'oper', password: 'wrong', privilege: 'operator', timeoutMs: 500, retries: 1 })).rejects.toMatchObject({ code: 'ERR_RMCP_AUTH_FAILED' });
    await expect(openSession({ host: '127.0.0.1', port: bmc.port, user: 'oper', password: 'oper-secret', privilege: 'administrator', timeoutMs: 500, retries: 1 })).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_RMCP_PRIVILEGE_DENIED|ERR_RMCP_AUTH_FAILED/),
    });
  });
});
