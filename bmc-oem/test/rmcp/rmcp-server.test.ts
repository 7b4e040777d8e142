import fc from 'fast-check';
import {
  AuthType,
  decodeChannelAuthCapabilities,
  decodeIpmiLanResponse,
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRmcpDatagram,
  encodeIpmiLanRequest,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRmcpDatagram,
  fromHex,
  PayloadType,
  RmcpStatus,
} from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { exchange, openConsoleSession, PEER, type ConsoleSession } from './helpers/in-process-console.js';
import { GUID, serverFixture } from './helpers/server-fixture.js';

const APP = 0x06;
const CHASSIS = 0x00;
const NAME_ONLY = 0x10;

async function login(server: ReturnType<typeof serverFixture>['server'], suite = 17, user = 'oper', password = 'oper-pw', privilege = 3): Promise<ConsoleSession> {
  const r = await openConsoleSession(server, { suite, user, password, role: privilege | NAME_ONLY });
  if (!r.ok) throw new Error(`login failed at ${r.stage}: 0x${r.status.toString(16)}`);
  return r.session;
}

function presessionRequest(cmd: number, data: Uint8Array, v15: boolean): Uint8Array {
  const message = encodeIpmiLanRequest({ rsAddr: 0x20, netFn: APP, rsLun: 0, rqAddr: 0x81, rqSeq: 1, rqLun: 0, cmd, data });
  return v15
    ? encodeRmcpDatagram({ kind: 'ipmi15', session: { sessionSeq: 0, sessionId: 0, message } })
    : encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.IPMI, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: message, trailer: new Uint8Array(0) } });
}

describe('RmcpServer handshake', () => {
  for (const suite of [17, 3]) {
    it(`suite ${suite}: RAKP verifies on both sides and Get Device ID answers inside the session`, async () => {
      const { server } = serverFixture();
      const s = await login(server, suite);
      const rsp = await s.request(APP, 0x01);
      expect(rsp?.cc).toBe(0);
      expect(rsp?.netFn).toBe(APP + 1);
      expect([...(rsp?.data ?? [])]).toEqual([0x20, 0x01, 0x01, 0x02, 0x02, 0x80, 0xd9, 0x7e, 0x00, 0x07, 0x00]);
      expect(server.sessions.activeCount).toBe(1);
    });
  }

  it('refuses suite 0 and suites that are not enabled at Open Session', async () => {
    const { server } = serverFixture({ suites: [17] });
    for (const [algs, status] of [
      [{ authAlgorithm: 0, integrityAlgorithm: 0, confidentialityAlgorithm: 0 }, RmcpStatus.INVALID_AUTH_ALGORITHM],
      [{ authAlgorithm: 1, integrityAlgorithm: 1, confidentialityAlgorithm: 1 }, RmcpStatus.INVALID_AUTH_ALGORITHM],
      [{ authAlgorithm: 3, integrityAlgorithm: 0, confidentialityAlgorithm: 0 }, RmcpStatus.INVALID_INTEGRITY_ALGORITHM],
      [{ authAlgorithm: 3, integrityAlgorithm: 4, confidentialityAlgorithm: 0 }, RmcpStatus.INVALID_CONFIDENTIALITY_ALGORITHM],
    ] as const) {
      const req = encodeOpenSessionRequest({ messageTag: 9, requestedPrivilege: 0, remoteConsoleSessionId: 77, ...algs });
      const r = await exchange(server, encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.OPEN_SESSION_REQUEST, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: req, trailer: new Uint8Array(0) } }));
      expect(decodeOpenSessionResponse(r.payload).status).toBe(status);
    }
    expect(server.sessions.size).toBe(0);
  });

  it('refuses null and unknown user names and a role above the user\'s privilege with one code (0x0D)', async () => {
    const { server } = serverFixture();
    expect(await openConsoleSession(server, { suite: 17, user: '', password: 'x', role: 2 | NAME_ONLY })).toEqual({ ok: false, stage: 'rakp2', status: RmcpStatus.UNAUTHORIZED_NAME });
    expect(await openConsoleSession(server, { suite: 17, user: 'mallory', password: 'x', role: 2 | NAME_ONLY })).toEqual({ ok: false, stage: 'rakp2', status: RmcpStatus.UNAUTHORIZED_NAME });
    expect(await openConsoleSession(server, { suite: 17, user: 'oper', password: 'oper-pw', role: 4 | NAME_ONLY })).toEqual({ ok: false, stage: 'rakp2', status: RmcpStatus.UNAUTHORIZED_NAME });
    expect(server.sessions.size).toBe(0);
  });

  it('a wrong password gets RAKP 4 "invalid integrity check value"', async () => {
    const { server, authFailures } = serverFixture();
    expect(await openConsoleSession(server, { suite: 3, user: 'oper', password: 'guess', role: 3 | NAME_ONLY })).toEqual({ ok: false, stage: 'rakp2-hmac', status: RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE });
    expect(authFailures).toEqual(['oper: RAKP 3 auth code mismatch']);
    await login(server, 3, 'oper', 'oper-pw', 3);
  });

  it('a handshake abandoned after RAKP 2 (ipmitool with a wrong password) counts as a failure at the setup timeout', async () => {
    const { server, clock, authFailures, ended } = serverFixture();
    const open = await exchange(server, encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.OPEN_SESSION_REQUEST, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: encodeOpenSessionRequest({ messageTag: 0, requestedPrivilege: 0, remoteConsoleSessionId: 5, authAlgorithm: 3, integrityAlgorithm: 4, confidentialityAlgorithm: 1 }), trailer: new Uint8Array(0) } }));
    const os = decodeOpenSessionResponse(open.payload);
    if (!('managedSystemSessionId' in os)) throw new Error('open failed');
    const r2 = await exchange(server, encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.RAKP1, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: encodeRakp1({ messageTag: 0, managedSystemSessionId: os.managedSystemSessionId, remoteConsoleRandom: new Uint8Array(16), role: 0x13, userName: Buffer.from('oper') }), trailer: new Uint8Array(0) } }));
    const rakp2 = decodeRakp2(r2.payload);
    expect(rakp2.status).toBe(0);
    expect('managedSystemGuid' in rakp2 && [...rakp2.managedSystemGuid]).toEqual([...GUID]);
    clock.advance(4999);
    server.sweep();
    expect(server.sessions.pendingCount).toBe(1);
    clock.advance(1);
    server.sweep();
    expect(server.sessions.size).toBe(0);
    expect(ended).toEqual(['setup-timeout']);
    expect(authFailures).toEqual(['oper: handshake abandoned after RAKP 2 (setup-timeout)']);
  });

  it('a flood of unfinished handshakes cannot lock consoles out: the oldest pending one is evicted', async () => {
    const { server, ended } = serverFixture({ sessions: { max: 8, maxPending: 2 } });
    const open = (consoleId: number) =>
      exchange(server, encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.OPEN_SESSION_REQUEST, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: encodeOpenSessionRequest({ messageTag: 0, requestedPrivilege: 0, remoteConsoleSessionId: consoleId, authAlgorithm: 3, integrityAlgorithm: 4, confidentialityAlgorithm: 1 }), trailer: new Uint8Array(0) } }));
    for (let i = 1; i <= 5; i++) expect(decodeOpenSessionResponse((await open(i)).payload).status).toBe(0);
    expect(server.sessions.pendingCount).toBe(2);
    expect(ended).toEqual(['evicted', 'evicted', 'evicted']);
    await login(server);
    expect(server.sessions.activeCount).toBe(1);
  });

  it('bounds sessions: Open Session answers "insufficient resources" when the table is full', async () => {
    const { server } = serverFixture({ sessions: { max: 2, maxPending: 2 } });
    await login(server);
    await login(server);
    expect(await openConsoleSession(server, { suite: 17, user: 'oper', password: 'oper-pw', role: 0x13 })).toEqual({ ok: false, stage: 'open', status: RmcpStatus.INSUFFICIENT_RESOURCES });
  });
});

describe('RmcpServer session packets', () => {
  it('drops a replayed packet and a packet far outside the window, and keeps serving', async () => {
    const { server, dropped } = serverFixture();
    const s = await login(server);
    const packet = s.seal(APP, 0x01);
    expect((await s.send(packet))?.cc).toBe(0);
    expect(await s.send(packet)).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('replay');
    expect(await s.send(s.seal(APP, 0x01, new Uint8Array(0), s.seq + 100))).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('sequence-window');
    // Late but inside the window and never seen: accepted once.
    s.seq = 10;
    expect((await s.request(APP, 0x01))?.cc).toBe(0);
    expect((await s.send(s.seal(APP, 0x01, new Uint8Array(0), 5)))?.cc).toBe(0);
    expect(await s.send(s.seal(APP, 0x01, new Uint8Array(0), 5))).toBeUndefined();
  });

  it('drops a packet with a flipped bit (AuthCode) without moving the window', async () => {
    const { server, dropped } = serverFixture();
    const s = await login(server, 3);
    const good = s.seal(APP, 0x01);
    for (const at of [20, good.length - 1]) {
      const bad = Uint8Array.from(good);
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      expect(await s.send(bad)).toBeUndefined();
      expect(dropped.at(-1)?.reason).toBe('integrity');
    }
    // The forged copies did not consume the sequence number.
    expect((await s.send(good))?.cc).toBe(0);
  });

  it('drops unauthenticated or unencrypted packets in a session (no downgrade)', async () => {
    const { server, dropped } = serverFixture();
    const s = await login(server);
    const message = encodeIpmiLanRequest({ rsAddr: 0x20, netFn: APP, rsLun: 0, rqAddr: 0x81, rqSeq: 1, rqLun: 0, cmd: 1, data: new Uint8Array(0) });
    const plain = encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.IPMI, encrypted: false, authenticated: false, sessionId: s.bmcId, sessionSeq: 1, payload: message, trailer: new Uint8Array(0) } });
    expect(await server.handleDatagram(plain, PEER)).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('integrity');
  });

  it('session privilege: starts at USER, Set Session Privilege Level raises it up to the negotiated maximum', async () => {
    const { server } = serverFixture();
    const s = await login(server);
    expect((await s.request(CHASSIS, 0x02, Uint8Array.of(1)))?.cc).toBe(0xd4);
    expect([...((await s.request(APP, 0x3b, Uint8Array.of(0)))?.data ?? [])]).toEqual([2]);
    expect((await s.request(APP, 0x3b, Uint8Array.of(4)))?.cc).toBe(0x81);
    const set = await s.request(APP, 0x3b, Uint8Array.of(3));
    expect(set?.cc).toBe(0);
    expect([...(set?.data ?? [])]).toEqual([3]);
    // Operator now reaches the host-power backend, which is `none` here.
    expect((await s.request(CHASSIS, 0x02, Uint8Array.of(1)))?.cc).toBe(0xd5);
    const status = await s.request(CHASSIS, 0x01);
    expect(status?.cc).toBe(0);
    expect([...(status?.data ?? [])]).toEqual([0x70, 0, 0]);
  });

  it('Close Session ends the session after answering; an operator cannot close another session, an admin can', async () => {
    const { server, dropped } = serverFixture();
    const a = await login(server);
    const b = await login(server);
    const admin = await login(server, 17, 'admin', 'admin-pw', 4);
    const id = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
    expect((await a.request(APP, 0x3c, id(b.bmcId)))?.cc).toBe(0xd4);
    expect((await admin.request(APP, 0x3b, Uint8Array.of(4)))?.cc).toBe(0);
    expect((await admin.request(APP, 0x3c, id(b.bmcId)))?.cc).toBe(0);
    expect((await admin.request(APP, 0x3c, id(0x12345)))?.cc).toBe(0x87);
    expect(await b.request(APP, 0x01)).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('unknown-session');
    expect((await a.request(APP, 0x3c, id(a.bmcId)))?.cc).toBe(0);
    expect(await a.request(APP, 0x01)).toBeUndefined();
    expect(server.sessions.size).toBe(1);
  });

  it('closes an idle session after the idle timeout', async () => {
    const { server, clock, ended } = serverFixture();
    const s = await login(server);
    clock.advance(59_999);
    expect((await s.request(APP, 0x01))?.cc).toBe(0);
    clock.advance(60_000);
    server.sweep();
    expect(ended).toEqual(['idle-timeout']);
    expect(await s.request(APP, 0x01)).toBeUndefined();
  });
});

describe('RmcpServer outside sessions', () => {
  it('answers Get Channel Authentication Capabilities in v1.5 and v2.0 format: RMCP+ only, no v1.5 auth types', async () => {
    const { server } = serverFixture();
    for (const v15 of [true, false]) {
      const reply = await server.handleDatagram(presessionRequest(0x38, Uint8Array.of(0x8e, 0x04), v15), PEER);
      const d = decodeRmcpDatagram(reply!);
      const message = d.kind === 'ipmi15' ? d.session.message : d.kind === 'ipmi20' ? d.session.payload : new Uint8Array(0);
      expect(d.kind).toBe(v15 ? 'ipmi15' : 'ipmi20');
      const rsp = decodeIpmiLanResponse(message);
      expect(rsp.cc).toBe(0);
      const caps = decodeChannelAuthCapabilities(rsp.data);
      expect(caps.channel).toBe(1);
      expect([...rsp.data]).toEqual([0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
    }
  });

  it('answers Get Channel Cipher Suites before a session, and refuses session commands and Get Session Challenge', async () => {
    const { server } = serverFixture();
    const ask = async (cmd: number, data: Uint8Array) => decodeIpmiLanResponse((await exchange(server, presessionRequest(cmd, data, false))).payload);
    const suites = await ask(0x54, Uint8Array.of(0x0e, 0x00, 0x80));
    expect(suites.cc).toBe(0);
    expect([...suites.data]).toEqual([0x01, 0xc0, 17, 0x03, 0x44, 0x81, 0xc0, 3, 0x01, 0x41, 0x81]);
    expect((await ask(0x01, new Uint8Array(0))).cc).toBe(0xd4);
    expect((await ask(0x39, fromHex('02 6f706572000000000000000000000000'))).cc).toBe(0xcc);
  });

  it('answers an ASF presence ping with a pong that announces IPMI', async () => {
    const { server } = serverFixture();
    const reply = await server.handleDatagram(fromHex('06 00 ff 06 000011be 80 2a 00 00'), PEER);
    expect(Buffer.from(reply!).toString('hex')).toBe('0600ff06000011be402a0010000011be000000008100000000000000');
  });

  it('drops IPMI v1.5 session packets and unknown session ids', async () => {
    const { server, dropped } = serverFixture();
    // auth type MD5: an IPMI v1.5 session.
    expect(await server.handleDatagram(fromHex(`0600ff07 0${AuthType.MD5} 01000000 01000000 ${'00'.repeat(16)} 07 20 18 c8 81 04 01 63`), PEER)).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('unsupported');
    const unknown = encodeRmcpDatagram({ kind: 'ipmi20', session: { payloadType: PayloadType.IPMI, encrypted: true, authenticated: true, sessionId: 0x1234, sessionSeq: 1, payload: new Uint8Array(32), trailer: new Uint8Array(16) } });
    expect(await server.handleDatagram(unknown, PEER)).toBeUndefined();
    expect(dropped.at(-1)?.reason).toBe('unknown-session');
  });

  it('random and mutated datagrams never throw, never count as internal errors, and the server keeps working', async () => {
    const { server, dropped } = serverFixture();
    const s = await login(server);
    const seeds = [s.seal(APP, 0x01), presessionRequest(0x38, Uint8Array.of(0x8e, 4), true), fromHex('06 00 ff 06 000011be 80 2a 00 00')];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([seed, at, x]) => {
            const m = Uint8Array.from(seed);
            m[at % m.length] = (m[at % m.length] ?? 0) ^ x;
            return m;
          }),
        ),
        async (bytes) => {
          await server.handleDatagram(bytes, PEER);
        },
      ),
      { numRuns: 3000 },
    );
    expect(dropped.filter((d) => d.reason === 'internal')).toEqual([]);
    expect((await s.request(APP, 0x01))?.cc).toBe(0);
  });
});
