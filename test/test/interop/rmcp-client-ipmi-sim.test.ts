// vms-agent's RMCP+ client against OpenIPMI's ipmi_sim (suite 3), with the
// simulator's config generated here and the process started and stopped by PID.
import { AppCommand, ChassisCommand, decodeChassisStatus, decodeDeviceId, NetFn } from '@backchannel/proto';
import { isRmcpError, openSession, type RmcpSession } from '@backchannel/vms-agent/rmcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmiSimAvailable, type IpmiSim, startIpmiSim } from '../../src/interop/rmcp-client-ipmi-sim.js';
import { startUdpRelay } from '../../src/interop/rmcp-client-udp-relay.js';

describe.skipIf(!ipmiSimAvailable())('RMCP+ client ↔ ipmi_sim (suite 3) [needs the ipmi_sim binary]', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const open = (extra: Partial<Parameters<typeof openSession>[0]> = {}): Promise<RmcpSession> =>
    openSession({ host: sim.host, port: sim.port, user: sim.user, password: sim.password, privilege: 'administrator', cipherSuites: [17, 3], timeoutMs: 500, retries: 2, ...extra });

  it('negotiates suite 3 (ipmi_sim has no SHA-256) and runs Get Device ID and Get Chassis Status', async () => {
    const session = await open();
    try {
      expect(session.info.cipherSuite).toBe(3);
      const id = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0));
      expect(id.cc).toBe(0);
      expect(decodeDeviceId(id.data)).toMatchObject({ deviceId: 0, deviceRevision: 3, firmwareMajor: 9, firmwareMinor: 0x08, ipmiVersion: 0x02, manufacturerId: 0x1291, productId: 0x0f02 });
      const chassis = await session.request(NetFn.CHASSIS, ChassisCommand.GET_CHASSIS_STATUS, new Uint8Array(0));
      expect(chassis.cc).toBe(0);
      expect(decodeChassisStatus(chassis.data).currentPowerState & 0x01).toBe(0); // the emulated host is off
    } finally {
      await session.close();
    }
    expect(session.state).toBe('closed');
  });

  it('runs 40 requests with 8 in flight, each answered once with distinct rqSeq', async () => {
    const session = await open({ maxInFlight: 8 });
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, () => session.request(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0))));
      expect(answers.every((a) => a.cc === 0 && a.data.length === 15)).toBe(true);
      expect(session.counters.received).toBe(41); // + Set Session Privilege Level
      expect(session.counters.retransmitted).toBe(0);
    } finally {
      await session.close();
    }
  });

  it('returns non-zero completion codes as data, not errors', async () => {
    const session = await open();
    try {
      const r = await session.request(NetFn.APP, 0x7f, new Uint8Array(0)); // no such App command
      expect(r.cc).toBe(0xc1);
    } finally {
      await session.close();
    }
  });

  it('works at operator privilege with the operator account', async () => {
    const session = await open({ user: sim.operator, privilege: 'operator' });
    try {
      expect((await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID)).cc).toBe(0);
    } finally {
      await session.close();
    }
  });

  it('fails with ERR_RMCP_AUTH_FAILED on a wrong password and on an unknown user', async () => {
    for (const bad of [{ password: 'wrong-password' }, { user: 'nobody' }]) {
      let err: unknown;
      try {
        await open(bad);
      } catch (e) {
        err = e;
      }
      expect(isRmcpError(err, 'ERR_RMCP_AUTH_FAILED')).toBe(true);
    }
  });

  it('fails with ERR_RMCP_NO_COMMON_SUITE when only suite 17 is acceptable', async () => {
    await expect(open({ cipherSuites: [17] })).rejects.toMatchObject({ code: 'ERR_RMCP_NO_COMMON_SUITE' });
  });

  it('fails with ERR_RMCP_TIMEOUT when nothing answers', async () => {
    const relay = await startUdpRelay(sim.host, sim.port);
    relay.dropToClient = () => true;
    try {
      await expect(open({ port: relay.port, timeoutMs: 100, retries: 1 })).rejects.toMatchObject({ code: 'ERR_RMCP_TIMEOUT' });
    } finally {
      await relay.close();
    }
  });

  it('retransmits when the first response of a request is lost, and the caller gets exactly one answer', async () => {
    const relay = await startUdpRelay(sim.host, sim.port);
    try {
      const session = await open({ port: relay.port, timeoutMs: 300, retries: 3 });
      try {
        const before = relay.seen.toClient;
        let dropNext = true;
        relay.dropToClient = () => {
          const drop = dropNext;
          dropNext = false;
          return drop;
        };
        const answers: number[] = [];
        const r = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0));
        answers.push(r.cc);
        // Give a stray duplicate answer time to arrive: it must not produce anything.
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(answers).toEqual([0]);
        expect(decodeDeviceId(r.data).manufacturerId).toBe(0x1291);
        expect(relay.dropped.toClient).toBe(1);
        expect(relay.seen.toClient - before).toBe(2); // the dropped answer and the answer to the retransmission
        expect(session.counters.retransmitted).toBe(1);
      } finally {
        await session.close();
      }
    } finally {
      await relay.close();
    }
  });

  it('sends a RAKP message again when its answer is lost', async () => {
    const relay = await startUdpRelay(sim.host, sim.port);
    try {
      // Drop the first RAKP2 (payload type 0x13 at byte 5) the BMC sends.
      let dropped = false;
      relay.dropToClient = (d) => {
        if (!dropped && d[4] === 0x06 && ((d[5] ?? 0) & 0x3f) === 0x13) {
          dropped = true;
          return true;
        }
        return false;
      };
      const session = await open({ port: relay.port, timeoutMs: 300, retries: 2 });
      try {
        expect(dropped).toBe(true);
        expect((await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID)).cc).toBe(0);
      } finally {
        await session.close();
      }
    } finally {
      await relay.close();
    }
  });

  it('restarts the whole handshake when a RAKP step goes unanswered for the whole give-up time', async () => {
    const relay = await startUdpRelay(sim.host, sim.port);
    try {
      // Drop every RAKP2 of the first handshake: RAKP1 is resent on the RTO for giveUpMs (300 ms × 3), all unanswered.
      let dropped = 0;
      const consoleIds = new Set<string>();
      let first: string | undefined;
      relay.dropToClient = (d) => {
        if (d[4] === 0x06 && ((d[5] ?? 0) & 0x3f) === 0x13) {
          const id = Buffer.from(d.subarray(20, 24)).toString('hex'); // RAKP2: remote console session id
          consoleIds.add(id);
          first ??= id;
          if (id === first) {
            dropped++;
            return true;
          }
        }
        return false;
      };
      const session = await open({ port: relay.port, timeoutMs: 300, retries: 2 });
      try {
        // More sends than the old fixed schedule's 3: the RTO follows the measured round trips.
        expect(dropped).toBeGreaterThan(3);
        expect(consoleIds.size).toBe(2); // the second handshake used a fresh console session id
        expect((await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID)).cc).toBe(0);
      } finally {
        await session.close();
      }
    } finally {
      await relay.close();
    }
  });
});
