/**
 * Regression (found by the fault-injection run): vms-agent's RMCP+ client
 * used to send each handshake message once and, when an answer was lost,
 * start a whole new handshake. The half-open session it left behind after
 * RAKP 2 counts at bmc-oem as a failed login (an ipmitool with a wrong
 * password stops there), so at 20% datagram loss the operator user was
 * locked out within seconds, and every command waited out the 5-minute
 * lockout. Now a lost RAKP 2 or RAKP 4 makes the client send the same RAKP 1
 * or RAKP 3 again, which bmc-oem answers with the same reply. (bmc-oem no
 * longer locks names; a failing source is throttled, and with no failures at
 * all there is nothing to throttle.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCommand, NetFn } from '@backchannel/proto';
import { openSession } from '@backchannel/vms-agent/rmcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpFaultProxy } from '../../src/faults/udp-proxy.js';
import { type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

// RMCP+ session header: auth type 0x06 at byte 4, payload type (low 6 bits) at byte 5.
const payloadType = (d: Buffer): number => (d[4] === 0x06 ? (d[5] ?? 0) & 0x3f : -1);
const RAKP2 = 0x13;
const RAKP3 = 0x14;

let bmc: BmcOemInstance;
let proxy: UdpFaultProxy;
let configDir: string | undefined;

beforeAll(async () => {
  // A short setup timeout so abandoned handshakes are swept (and counted) within the test;
  // no free failures, so a single one would throttle the client.
  configDir = mkdtempSync(join(tmpdir(), 'bmc-oem-handshake-loss-'));
  const config = join(configDir, 'bmc.json');
  writeFileSync(config, JSON.stringify({ sessions: { setupTimeoutMs: 300 }, loginThrottle: { freeFailures: 0, baseDelayMs: 60_000, maxDelayMs: 60_000 } }));
  bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'oper-secret' }], ['--config', config]);
  proxy = await UdpFaultProxy.start({ targetPort: bmc.port });
});

afterAll(async () => {
  try {
    await proxy?.close();
    await bmc?.stop();
  } finally {
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  }
});

describe('RMCP+ handshake under datagram loss (vms-agent client ↔ bmc-oem)', () => {
  it('a lost RAKP 2 or RAKP 3 is retransmitted within the handshake: no failed login, no throttling', async () => {
    for (const lost of [RAKP2, RAKP3, RAKP2, RAKP3]) {
      let dropped = 0;
      // Drop the first RAKP 2 answer (to the client) or the first RAKP 3 (to the BMC) of this handshake.
      proxy.filter = (direction, d) => {
        const wanted = lost === RAKP2 ? direction === 'to-client' : direction === 'to-target';
        if (dropped === 0 && wanted && payloadType(d) === lost) {
          dropped++;
          return 'drop';
        }
        return 'pass';
      };
      const session = await openSession({ host: '127.0.0.1', port: proxy.port, user: 'oper', password: 'oper-secret', privilege: 'operator', cipherSuites: [17], timeoutMs: 100, retries: 3 });
      try {
        expect(dropped).toBe(1);
        expect((await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID)).cc).toBe(0);
      } finally {
        await session.close();
      }
      // Past the setup timeout, so a half-open session would be swept and counted.
      await new Promise((r) => setTimeout(r, 400));
    }
    proxy.filter = null;
    await new Promise((r) => setTimeout(r, 1200));
    const last = await openSession({ host: '127.0.0.1', port: proxy.port, user: 'oper', password: 'oper-secret', privilege: 'operator', cipherSuites: [17], timeoutMs: 100, retries: 3 });
    await last.close();
    expect(bmc.proc.output).not.toMatch(/authentication failed|must wait|must now wait/);
    expect(bmc.proc.output.match(/"msg":"session opened"/g)?.length).toBe(5);
  });
});
