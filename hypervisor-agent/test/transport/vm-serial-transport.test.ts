import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  decodeVmControlPayload,
  decodeVmRequestPayload,
  encodeVmControlFrame,
  encodeVmResponseFrame,
  type VmControl,
  VmFrameDecoder,
  type VmRequest,
} from '@backchannel/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { openVmSerialTransport, VmSerialTransport } from '../../src/transport/vm-serial-transport.js';
import { tempDir } from '../helpers/temp-dir.js';

const hasIpmiSim = spawnSync('sh', ['-c', 'command -v ipmi_sim'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!hasIpmiSim)('VmSerialTransport against OpenIPMI ipmi_sim (codec VM) (skipped: ipmi_sim not installed)', () => {
  async function startSim(): Promise<number> {
    // Removed after the afterEach above has killed ipmi_sim, which writes its state here.
    const dir = tempDir('sim-vm-');
    const port = await freePort();
    writeFileSync(join(dir, 'lan.conf'), `name "vmtest"\nset_working_mc 0x20\n  serial kcs 127.0.0.1 ${port} codec VM\n`);
    writeFileSync(join(dir, 'sim.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n');
    const sim: ChildProcess = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'sim.emu'), '-n', '-s', join(dir, 'state')], { stdio: 'ignore' });
    cleanups.push(async () => {
      if (sim.exitCode === null && sim.pid !== undefined) {
        const gone = new Promise((r) => sim.once('exit', r));
        process.kill(sim.pid, 'SIGKILL');
        await gone;
      }
    });
    return port;
  }

  it('exchanges versions and matches concurrent requests to their responses by seq', async () => {
    const port = await startSim();
    let t: VmSerialTransport | undefined;
    for (let i = 0; i < 50 && t === undefined; i++) {
      t = await VmSerialTransport.open({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 2000 }).catch(() => undefined);
      if (t === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (t === undefined) throw new Error('ipmi_sim did not start listening');
    const transport = t;
    cleanups.push(() => transport.close());
    expect(transport.description).toBe(`vm+tcp://127.0.0.1:${port}`);
    const id = await transport.request(0x06, 0x01, new Uint8Array());
    expect(id.cc).toBe(0);
    expect(id.data[0]).toBe(0x00); // device id 0 from sim.emu
    expect((id.data[6] ?? 0) | ((id.data[7] ?? 0) << 8)).toBe(0x1291); // manufacturer
    expect(transport.peerVersion).toBe(1);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => transport.request(0x06, i % 2 === 0 ? 0x01 : 0x2f, new Uint8Array())));
    expect(many.every((r) => r.cc === 0)).toBe(true);
    expect(many.filter((r) => r.data.length === 1)).toHaveLength(10); // Get BMC Global Enables answers carry one byte
    expect((await transport.request(0x06, 0xfe, new Uint8Array())).cc).toBe(0xc1);
  });
});

/** A thin VM-protocol peer that can ring ATN, stall or drop the connection, to drive the failure paths. */
class FaultPeer {
  readonly requests: VmRequest[] = [];
  readonly controls: VmControl[] = [];
  sockets: Socket[] = [];
  mode: 'answer' | 'silent' | 'drop' = 'answer';
  private constructor(readonly server: Server, readonly port: number) {}
  static async start(): Promise<FaultPeer> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const peer = new FaultPeer(server, (server.address() as AddressInfo).port);
    server.on('connection', (s) => peer.accept(s));
    return peer;
  }
  accept(s: Socket): void {
    this.sockets.push(s);
    const d = new VmFrameDecoder();
    s.write(encodeVmControlFrame({ kind: 'version', version: 1 }));
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      for (const e of d.push(new Uint8Array(chunk))) {
        if (e.kind === 'control') this.controls.push(decodeVmControlPayload(e.payload));
        if (e.kind !== 'message') continue;
        const r = decodeVmRequestPayload(e.payload);
        this.requests.push(r);
        if (this.mode === 'drop') s.destroy();
        else if (this.mode === 'answer') s.write(encodeVmResponseFrame({ seq: r.seq, netfn: r.netfn | 1, lun: r.lun, cmd: r.cmd, cc: 0, data: Uint8Array.of(r.seq) }));
      }
    });
  }
  ring(kind: 'attn' | 'attn-irq' | 'no-attn'): void {
    for (const s of this.sockets) if (!s.destroyed) s.write(encodeVmControlFrame({ kind }));
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

describe('VmSerialTransport failure paths', () => {
  async function setup(opts = {}) {
    const peer = await FaultPeer.start();
    cleanups.push(() => peer.close());
    const t = await openVmSerialTransport({ kind: 'tcp', host: '127.0.0.1', port: peer.port }, { timeoutMs: 1000, ...opts });
    cleanups.push(() => t.close());
    return { peer, t: t as VmSerialTransport };
  }

  it('announces version and ATTN capability, and fires onAttention on set ATN (with or without IRQ) only', async () => {
    const { peer, t } = await setup();
    let rings = 0;
    const off = t.onAttention(() => rings++);
    await t.request(0x06, 0x01, new Uint8Array());
    expect(peer.controls).toEqual([{ kind: 'version', version: 1 }, { kind: 'capabilities', capabilities: 0x10 }]);
    peer.ring('attn');
    peer.ring('no-attn');
    peer.ring('attn-irq');
    await t.request(0x06, 0x01, new Uint8Array()); // flushes what came before it
    expect(rings).toBe(2);
    off();
    peer.ring('attn');
    await t.request(0x06, 0x01, new Uint8Array());
    expect(rings).toBe(2);
  });

  it('times out a request the BMC never answers, and ignores the seq afterwards', async () => {
    const { peer, t } = await setup({ timeoutMs: 200 });
    peer.mode = 'silent';
    await expect(t.request(0x06, 0x01, new Uint8Array())).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    peer.mode = 'answer';
    const r = await t.request(0x06, 0x01, new Uint8Array());
    expect(r.data[0]).not.toBe(peer.requests[0]?.seq); // a fresh seq, not the timed-out one
    expect(t.stats.timeouts).toBe(1);
  });

  it('rejects what was in flight when the link drops, reconnects, and sends what waited', async () => {
    const { peer, t } = await setup({ reconnectMinMs: 50 });
    peer.mode = 'drop';
    await expect(t.request(0x2e, 0x02, Uint8Array.of(0xd9, 0x7e, 0, 1, 0, 0, 0, 0))).rejects.toMatchObject({ code: 'ERR_LINK_DOWN' });
    peer.mode = 'answer';
    // Made while the link is down: it waits for the reconnection instead of failing.
    const r = await t.request(0x06, 0x01, new Uint8Array());
    expect(r.cc).toBe(0);
    expect(t.stats).toMatchObject({ connects: 2, disconnects: 1 });
    expect(peer.sockets).toHaveLength(2);
  });

  it('rejects with ERR_CONNECT when nothing listens, and with ERR_CLOSED after close', async () => {
    const port = await freePort();
    await expect(VmSerialTransport.open({ kind: 'tcp', host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    const { t } = await setup();
    await t.close();
    await expect(t.request(0x06, 0x01, new Uint8Array())).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await t.close();
  });
});
