import { join } from 'node:path';
import { encodeVmRequestFrame, fromHex } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { useVmSession } from './helpers/vm-session.js';
import { VmTestClient } from './vm-test-client.js';

const { start, client, track } = useVmSession();

describe('VM protocol: what a Linux KCS driver sends to bring up /dev/ipmi0 (KVM-NOTES.md)', () => {
  it('answers the 29-request bring-up sequence and the ipmitool PICMG/VITA probes', async () => {
    const h = await start();
    const c = await client(h.port);
    c.sendControl({ kind: 'version', version: 1 });
    c.sendControl({ kind: 'capabilities', capabilities: 0x3f });
    const app = (cmd: number, data = new Uint8Array()) => c.request(0x06, cmd, data);

    const id = await app(0x01);
    expect(id.cc).toBe(0);
    expect(id.netfn).toBe(0x07);
    expect(id.data.length).toBe(11);
    expect((await app(0x2f)).data).toEqual(Uint8Array.of(0));
    expect((await app(0x2f)).cc).toBe(0);
    expect((await app(0x2e, Uint8Array.of(0x09))).cc).toBe(0);
    expect((await app(0x2f)).data).toEqual(Uint8Array.of(0x09));
    expect((await app(0x2e, Uint8Array.of(0x0d))).cc).toBe(0);
    expect((await app(0x30, Uint8Array.of(0x08))).cc).toBe(0);
    const guid = await app(0x08);
    expect(guid.cc).toBe(0);
    expect(guid.data.length).toBe(16);
    expect((await app(0x2f)).data).toEqual(Uint8Array.of(0x0d));
    expect((await app(0x2e, Uint8Array.of(0x0f))).cc).toBe(0);
    expect((await app(0x35)).cc).toBe(0x80); // Read Event Message Buffer: empty
    expect((await app(0x01)).cc).toBe(0);
    const present: number[] = [];
    for (let ch = 0; ch < 16; ch++) {
      const r = await app(0x42, Uint8Array.of(ch));
      if (r.cc === 0) present.push(ch);
      else expect(r.cc).toBe(0xcc);
    }
    expect(present).toEqual([1, 14, 15]); // 14 (0x0E) means "this channel": the system interface
    const sys = await app(0x42, Uint8Array.of(0x0f));
    expect(sys.data).toEqual(fromHex('0f' + '0c' + '05' + '00' + 'f21b00' + '0000')); // system interface, KCS, session-less
    expect((await app(0x42, Uint8Array.of(0x0e))).data[0]).toBe(0x0f); // "this channel"
    expect((await app(0x42, Uint8Array.of(0x00))).cc).toBe(0xcc);
    // ipmitool -I open: PICMG and VITA probes expect "invalid command".
    expect((await c.request(0x2c, 0x00, Uint8Array.of(0x00))).cc).toBe(0xc1);
    expect((await c.request(0x2c, 0x00, Uint8Array.of(0x03))).cc).toBe(0xc1);
    expect((await app(0x33)).cc).toBe(0x80); // Get Message: nothing queued
    expect((await app(0x31)).data).toEqual(Uint8Array.of(0));
  });

  it('counts and drops garbage, bad checksums, truncated and overlong frames, and keeps answering', async () => {
    const h = await start();
    const c = await client(h.port);
    const good = encodeVmRequestFrame({ seq: 9, netfn: 0x06, lun: 0, cmd: 0x01, data: new Uint8Array() });
    const badSum = good.slice();
    badSum[badSum.length - 2] = (badSum[badSum.length - 2] ?? 0) ^ 1;
    c.writeRaw(badSum);
    c.writeRaw(fromHex('0118a0')); // three bytes: too short
    c.writeRaw(fromHex('01aaa0')); // ends inside an escape
    c.writeRaw(new Uint8Array(2000).fill(0x42));
    c.writeRaw(fromHex('a0'));
    c.writeRaw(fromHex('00' + '1c' + '01' + '00' + 'e3' + 'a0')); // a response (odd netfn) sent to the BMC
    const r = await c.request(0x06, 0x01);
    expect(r.cc).toBe(0);
    expect(h.si.stats()).toMatchObject({ badChecksum: 1, malformedFrames: 1, discardedFrames: 2, unexpectedResponses: 1, requests: 1 });
  });

  it('serves one host connection at a time: a newcomer waits for the old one to close, and is refused (takeover) while it lives', async () => {
    const takeovers: string[] = [];
    const h = await start({ takeoverGraceMs: 200, onTakeover: (e) => takeovers.push(e.remote ?? 'unix') });
    const first = await client(h.port);
    expect((await first.request(0x06, 0x01)).cc).toBe(0);
    // A second connection while the first is live: refused after the grace time, the first keeps working.
    const intruder = track(await VmTestClient.connect(h.port));
    await intruder.closed;
    expect(intruder.controls).toEqual([]);
    expect(takeovers).toEqual(['127.0.0.1']);
    expect((await first.request(0x06, 0x01)).cc).toBe(0);
    expect(h.si.stats()).toMatchObject({ connections: 1, takeoversRefused: 1, replacedConnections: 0 });
    // A host that reconnects closes its old connection first: the newcomer is served.
    first.destroy();
    const second = await client(h.port);
    expect((await second.request(0x06, 0x01)).cc).toBe(0);
    expect(h.si.stats()).toMatchObject({ connections: 2, disconnects: 1, takeoversRefused: 1 });
    expect(takeovers).toHaveLength(1);
  });

  it('a newcomer that arrives while the old connection is still closing waits for it and is served', async () => {
    const takeovers: string[] = [];
    const h = await start({ takeoverGraceMs: 2000, onTakeover: (e) => takeovers.push(e.remote ?? 'unix') });
    const first = await client(h.port);
    const second = track(await VmTestClient.connect(h.port));
    first.destroy();
    await second.until(() => second.controls.length > 0);
    expect((await second.request(0x06, 0x01)).cc).toBe(0);
    expect(takeovers).toEqual([]);
  });

  it('listens on a unix socket too', async () => {
    const path = join(tempDir('bmc-vm-'), 'vm.sock');
    const h = await start({ specs: [{ kind: 'unix', path, text: `unix:${path}` }] });
    const c = track(await VmTestClient.connectUnix(path));
    await c.until(() => c.controls.length > 0);
    expect((await c.request(0x06, 0x01)).cc).toBe(0);
    expect(h.si.listeners[0]?.address).toBe(`unix:${path}`);
  });
});
