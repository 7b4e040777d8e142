// The server's synchronous path: an in-session request whose handler
// answers at once is answered within the call (so the UDP edge sends in
// the same turn); an asynchronous handler gives a promise, and a session
// closed while it ran gets no answer.
import { decodeIpmiLanResponse, openIpmi2Packet } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { Privilege } from '../../src/commands/privilege.js';
import { openConsoleSession, PEER, type ConsoleSession } from './helpers/in-process-console.js';
import { serverFixture } from './helpers/server-fixture.js';

const APP = 0x06;

async function login(server: ReturnType<typeof serverFixture>['server']): Promise<ConsoleSession> {
  const r = await openConsoleSession(server, { suite: 17, user: 'admin', password: 'admin-pw', role: 4 | 0x10 });
  if (!r.ok) throw new Error(`login failed at ${r.stage}`);
  return r.session;
}

function decodeReply(s: ConsoleSession, reply: Uint8Array | undefined) {
  if (reply === undefined) throw new Error('no reply');
  const m = openIpmi2Packet(s.crypto, reply);
  return { seq: m.sessionSeq, rsp: decodeIpmiLanResponse(m.payload) };
}

describe('RmcpServer.handleDatagramNow', () => {
  it('answers an in-session Get Device ID synchronously, sequence numbers advancing', async () => {
    const { server } = serverFixture();
    const s = await login(server);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = server.handleDatagramNow(s.seal(APP, 0x01), PEER);
      expect(reply).toBeInstanceOf(Uint8Array);
      const { seq, rsp } = decodeReply(s, reply as Uint8Array);
      expect(rsp.cc).toBe(0);
      expect(rsp.data.length).toBe(11);
      seqs.push(seq);
    }
    expect(seqs[1]).toBe((seqs[0] ?? 0) + 1);
    expect(seqs[2]).toBe((seqs[0] ?? 0) + 2);
    // A replayed datagram is still dropped on the synchronous path.
    const d = s.seal(APP, 0x01);
    expect(server.handleDatagramNow(d, PEER)).toBeInstanceOf(Uint8Array);
    expect(server.handleDatagramNow(d, PEER)).toBeUndefined();
  });

  it('gives a promise for an asynchronous handler, and no answer when the session closed meanwhile', async () => {
    const { server, registry, dropped } = serverFixture();
    let release: (() => void) | undefined;
    registry.register({
      name: 'slow',
      netfn: 0x30,
      cmd: 0x10,
      privilege: Privilege.User,
      channel: 'lan',
      handler: () => new Promise((resolve) => (release = () => resolve({ cc: 0, data: Uint8Array.of(0x42) }))),
    });
    const s = await login(server);
    const pending = server.handleDatagramNow(s.seal(0x30, 0x10), PEER);
    expect(pending).toBeInstanceOf(Promise);
    release?.();
    expect([...decodeReply(s, await pending).rsp.data]).toEqual([0x42]);

    const second = server.handleDatagramNow(s.seal(0x30, 0x10), PEER);
    const close = server.handleDatagramNow(s.seal(APP, 0x3c, Uint8Array.of(...u32(s.bmcId))), PEER);
    expect(decodeReply(s, close as Uint8Array).rsp.cc).toBe(0);
    release?.();
    expect(await second).toBeUndefined();
    expect(server.handleDatagramNow(s.seal(APP, 0x01), PEER)).toBeUndefined();
    expect(dropped.map((d) => d.reason)).toEqual(['unknown-session']);
  });

  it('drops a datagram that throws inside without throwing itself', () => {
    const { server, dropped } = serverFixture();
    expect(server.handleDatagramNow(new Uint8Array([0x06, 0x00, 0xff, 0x07, 0x06, 0xc0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]), PEER)).toBeUndefined();
    expect(dropped.map((d) => d.reason)).toEqual(['unknown-session']);
  });
});

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
