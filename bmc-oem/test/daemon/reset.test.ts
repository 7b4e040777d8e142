/**
 * Cold and warm reset of the whole daemon in process (startDaemon, real
 * sockets on 127.0.0.1 and a unix socket): what each keeps and what it drops.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOemRequest, decodeQueueInfoResponse, QueueId } from '@backchannel/proto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { tempDir } from '../helpers/temp-dir.js';
import { openConsoleSession, type ConsoleSession } from '../rmcp/helpers/in-process-console.js';
import { VmTestClient } from '../system-interface/vm-test-client.js';

const IANA = 32473;
const OEM = 0x2e;

async function daemon(dir: string, withState: boolean): Promise<RunningDaemon> {
  writeFileSync(join(dir, 'admin.pw'), 'admin-secret\n', { mode: 0o600 });
  const argv = ['--listen', '127.0.0.1:0', '--user', `admin:administrator:${join(dir, 'admin.pw')}`, '--log-level', 'silent'];
  argv.push(...(withState ? ['--state-dir', join(dir, 'state')] : ['--vm-listen', `unix:${join(dir, 'host.sock')}`]));
  const loaded = loadConfig(argv);
  if (loaded.kind !== 'run') throw new Error('no config');
  return startDaemon({ config: loaded.config, logger: pino({ level: 'silent' }), bootId: 'test-boot' });
}

async function admin(d: RunningDaemon): Promise<ConsoleSession> {
  const r = await openConsoleSession(d.server, { suite: 17, user: 'admin', password: 'admin-secret', role: 0x14 });
  if (!r.ok) throw new Error(`login failed at ${r.stage}`);
  expect((await r.session.request(0x06, 0x3b, Uint8Array.of(4)))?.cc).toBe(0);
  return r.session;
}

async function put(s: ConsoleSession, seq: number): Promise<number | undefined> {
  return (await s.request(OEM, 0x01, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq, record: Uint8Array.of(seq) }).subarray(0)))?.cc;
}

async function queueInfo(s: ConsoleSession) {
  const r = await s.request(OEM, 0x00, encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: QueueId.ToHost }));
  return decodeQueueInfoResponse(r?.data ?? new Uint8Array());
}

async function host(path: string): Promise<VmTestClient> {
  const c = await VmTestClient.connectUnix(path);
  await c.until(() => c.controls.length > 0);
  return c;
}

for (const withState of [false, true]) {
  describe(`BMC reset ${withState ? 'with' : 'without'} a state directory`, () => {
    it(`cold: sessions and the host connection are dropped; queues ${withState ? 'keep their records and epoch' : 'start empty under a new epoch'}`, async () => {
      const dir = tempDir('bmc-reset-');
      const d = await daemon(dir, withState);
      const hostSocket = withState ? join(dir, 'state', 'host.sock') : join(dir, 'host.sock');
      try {
        const s = await admin(d);
        expect(await put(s, 1)).toBe(0);
        expect(await put(s, 2)).toBe(0);
        const before = await queueInfo(s);
        const h = await host(hostSocket);
        // Cold Reset: answered first, then the service restarts.
        expect((await s.request(0x06, 0x02))?.cc).toBe(0);
        await h.closed;
        await new Promise((r) => setImmediate(r));
        expect(await s.request(0x06, 0x01)).toBeUndefined(); // the old session is gone
        const s2 = await admin(d);
        const after = await queueInfo(s2);
        if (withState) {
          expect(after.bmcEpoch).toBe(before.bmcEpoch);
          expect([after.lastPutSeq, after.depth]).toEqual([2, 2]);
        } else {
          expect(after.bmcEpoch).not.toBe(before.bmcEpoch);
          expect([after.lastPutSeq, after.depth]).toEqual([0, 0]);
        }
        // The host reconnects to the same socket and is served by the new service.
        const h2 = await host(hostSocket);
        expect((await h2.request(0x06, 0x01)).cc).toBe(0);
        h2.destroy();
        // The SEL says what happened: started, then cold reset (BMC Audit code 1, data 2 = 1).
        const sel = d.service.sel.entries.map((e) => [e.bytes[13], e.bytes[14]]);
        expect(sel.slice(-1)).toEqual([[0xa1, 1]]);
        expect(sel.length).toBe(withState ? 2 : 1);
      } finally {
        await d.stop();
      }
    });
  });
}

describe('BMC warm reset', () => {
  it('drops the host connection only: the LAN session and the queues stay', async () => {
    const dir = tempDir('bmc-warm-');
    const d = await daemon(dir, false);
    try {
      const s = await admin(d);
      expect(await put(s, 1)).toBe(0);
      const epoch = (await queueInfo(s)).bmcEpoch;
      const h = await host(join(dir, 'host.sock'));
      expect((await s.request(0x06, 0x03))?.cc).toBe(0);
      await h.closed;
      expect((await s.request(0x06, 0x01))?.cc).toBe(0);
      const info = await queueInfo(s);
      expect([info.bmcEpoch, info.depth]).toEqual([epoch, 1]);
    } finally {
      await d.stop();
    }
  });

  it('Cold Reset needs an administrator', async () => {
    const dir = tempDir('bmc-warm-');
    const d = await daemon(dir, false);
    try {
      const s = await admin(d);
      expect((await s.request(0x06, 0x3b, Uint8Array.of(2)))?.cc).toBe(0); // down to USER
      expect((await s.request(0x06, 0x02))?.cc).toBe(0xd4);
    } finally {
      await d.stop();
    }
  });
});
