// The captured ipmitool ↔ ipmi_sim exchanges (captured-exchanges.ts) replayed
// through the codecs and the session crypto. Every HMAC is also recomputed
// here independently with node:crypto over bytes sliced straight out of the
// captured datagrams, so a shared mistake in an input builder cannot hide.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AppCommand,
  decodeChannelAuthCapabilities,
  decodeCipherSuiteRecords,
  decodeIpmiLanRequest,
  decodeIpmiLanResponse,
  decodeOpenSessionRequest,
  decodeOpenSessionResponse,
  decodeRakp1,
  decodeRakp2,
  decodeRakp3,
  decodeRakp4,
  decodeRmcpDatagram,
  deriveSessionKeys,
  encodeRmcpDatagram,
  fromHex,
  offeredStandardSuites,
  IntegrityAlgorithm,
  ConfidentialityAlgorithm,
  openIpmi2Packet,
  passwordKey,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  sealIpmi2Packet,
  type RakpContext,
  type SessionCrypto,
  toHex,
  utf8,
  WireError,
} from '../../src/index.js';
import { type CapturedDatagram, CAPTURE_GUID_HEX, CAPTURE_PASSWORD, CAPTURE_USER, GETCIPHERS_EXCHANGE, RAW_GET_DEVICE_ID_EXCHANGE } from './captured-exchanges.js';

const PAYLOAD_AT = 16; // RMCP header 4 + IPMI 2.0 session header 12

function raw(d: CapturedDatagram): Uint8Array {
  return fromHex(d.hex);
}

function payloadOf(d: CapturedDatagram): Uint8Array {
  const decoded = decodeRmcpDatagram(raw(d));
  if (decoded.kind !== 'ipmi20') throw new Error('not an IPMI 2.0 datagram');
  return decoded.session.payload;
}

function sha1(key: Uint8Array | string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Rebuilds the handshake state of a captured exchange (datagrams 2..7 are Open Session .. RAKP4). */
function handshake(exchange: readonly CapturedDatagram[]) {
  const at = (i: number): CapturedDatagram => {
    const d = exchange[i];
    if (!d) throw new Error(`no datagram ${i}`);
    return d;
  };
  const openReq = decodeOpenSessionRequest(payloadOf(at(2)));
  const openRes = decodeOpenSessionResponse(payloadOf(at(3)));
  const rakp1 = decodeRakp1(payloadOf(at(4)));
  const rakp2 = decodeRakp2(payloadOf(at(5)));
  const rakp3 = decodeRakp3(payloadOf(at(6)));
  const rakp4 = decodeRakp4(payloadOf(at(7)));
  if (!('managedSystemSessionId' in openRes) || !('managedSystemRandom' in rakp2)) throw new Error('captured handshake failed');
  const ctx: RakpContext = {
    authAlgorithm: openRes.authAlgorithm,
    remoteConsoleSessionId: openReq.remoteConsoleSessionId,
    managedSystemSessionId: openRes.managedSystemSessionId,
    remoteConsoleRandom: rakp1.remoteConsoleRandom,
    managedSystemRandom: rakp2.managedSystemRandom,
    managedSystemGuid: rakp2.managedSystemGuid,
    role: rakp1.role,
    userName: rakp1.userName,
  };
  const keys = deriveSessionKeys(ctx, passwordKey(utf8(CAPTURE_PASSWORD)));
  const crypto: SessionCrypto = { integrityAlgorithm: openRes.integrityAlgorithm, confidentialityAlgorithm: openRes.confidentialityAlgorithm, k1: keys.k1, k2: keys.k2 };
  return { openReq, openRes, rakp1, rakp2, rakp3, rakp4, ctx, keys, crypto, raw: (i: number) => raw(at(i)) };
}

describe('captured ipmitool -C 3 ↔ ipmi_sim exchange', () => {
  it('decodes and re-encodes every captured datagram byte-for-byte', () => {
    for (const d of [...RAW_GET_DEVICE_ID_EXCHANGE, ...GETCIPHERS_EXCHANGE]) {
      expect(toHex(encodeRmcpDatagram(decodeRmcpDatagram(raw(d))))).toBe(d.hex);
    }
  });

  it('reads the pre-session Get Channel Authentication Capabilities (IPMI 1.5 framing)', () => {
    const req = decodeRmcpDatagram(raw(RAW_GET_DEVICE_ID_EXCHANGE[0]!));
    const res = decodeRmcpDatagram(raw(RAW_GET_DEVICE_ID_EXCHANGE[1]!));
    if (req.kind !== 'ipmi15' || res.kind !== 'ipmi15') throw new Error('expected IPMI 1.5 framing');
    const lanReq = decodeIpmiLanRequest(req.session.message);
    expect(lanReq).toMatchObject({ rsAddr: 0x20, netFn: 0x06, rqAddr: 0x81, cmd: AppCommand.GET_CHANNEL_AUTH_CAPABILITIES });
    expect(toHex(lanReq.data)).toBe('8e04'); // v2.0 extended data, channel 0x0E; privilege administrator
    const lanRes = decodeIpmiLanResponse(res.session.message);
    expect(lanRes.cc).toBe(0);
    expect(decodeChannelAuthCapabilities(lanRes.data)).toMatchObject({ channel: 1, extendedCapabilities: true, supportsIpmi20: true, supportsIpmi15: true });
  });

  it('negotiated cipher suite 3 algorithms in Open Session', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    expect(h.openReq).toMatchObject({ authAlgorithm: 1, integrityAlgorithm: IntegrityAlgorithm.HMAC_SHA1_96, confidentialityAlgorithm: ConfidentialityAlgorithm.AES_CBC_128 });
    // ipmi_sim echoes the requested maximum privilege (0 = "highest allowed") rather than naming it.
    expect(h.openRes).toMatchObject({ status: 0, maximumPrivilege: 0, remoteConsoleSessionId: h.openReq.remoteConsoleSessionId });
    expect(toHex(h.ctx.managedSystemGuid)).toBe(CAPTURE_GUID_HEX);
    expect(new TextDecoder().decode(h.rakp1.userName)).toBe(CAPTURE_USER);
  });

  it('RAKP2 key exchange auth code matches the captured one, computed two ways', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    if (!('keyExchangeAuthCode' in h.rakp2)) throw new Error('no auth code');
    // Independent: SIDm | SIDc | Rm | Rc | GUIDc | ROLEm | ULENm | UNAMEm sliced from the raw datagrams.
    const open = h.raw(2).subarray(PAYLOAD_AT);
    const openRes = h.raw(3).subarray(PAYLOAD_AT);
    const r1 = h.raw(4).subarray(PAYLOAD_AT);
    const r2 = h.raw(5).subarray(PAYLOAD_AT);
    const independent = sha1(CAPTURE_PASSWORD, open.subarray(4, 8), openRes.subarray(8, 12), r1.subarray(8, 24), r2.subarray(8, 24), r2.subarray(24, 40), r1.subarray(24, 25), r1.subarray(27));
    expect(toHex(independent)).toBe(toHex(h.rakp2.keyExchangeAuthCode));
    expect(toHex(rakp2AuthCode(h.ctx, passwordKey(utf8(CAPTURE_PASSWORD))))).toBe(toHex(h.rakp2.keyExchangeAuthCode));
  });

  it('RAKP3 auth code and RAKP4 integrity check value match the captured ones', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    const open = h.raw(2).subarray(PAYLOAD_AT);
    const openRes = h.raw(3).subarray(PAYLOAD_AT);
    const r1 = h.raw(4).subarray(PAYLOAD_AT);
    const r2 = h.raw(5).subarray(PAYLOAD_AT);
    // RAKP3 = HMAC_Kuid(Rc | SIDm | ROLEm | ULENm | UNAMEm)
    const r3 = sha1(CAPTURE_PASSWORD, r2.subarray(8, 24), open.subarray(4, 8), r1.subarray(24, 25), r1.subarray(27));
    expect(toHex(r3)).toBe(toHex(h.rakp3.keyExchangeAuthCode));
    expect(toHex(rakp3AuthCode(h.ctx, passwordKey(utf8(CAPTURE_PASSWORD))))).toBe(toHex(r3));
    // SIK = HMAC_Kuid(Rm | Rc | ROLEm | ULENm | UNAMEm); RAKP4 = HMAC_SIK(Rm | SIDc | GUIDc)[0..12)
    const sik = sha1(CAPTURE_PASSWORD, r1.subarray(8, 24), r2.subarray(8, 24), r1.subarray(24, 25), r1.subarray(27));
    expect(toHex(h.keys.sik)).toBe(toHex(sik));
    const icv = sha1(sik, r1.subarray(8, 24), openRes.subarray(8, 12), r2.subarray(24, 40)).subarray(0, 12);
    expect(toHex(icv)).toBe(toHex(h.rakp4.integrityCheckValue));
    expect(toHex(rakp4Icv(h.ctx, h.keys.sik))).toBe(toHex(icv));
    // K1, K2 = HMAC_SIK(const × 20)
    expect(toHex(h.keys.k1)).toBe(toHex(sha1(sik, new Uint8Array(20).fill(1))));
    expect(toHex(h.keys.k2)).toBe(toHex(sha1(sik, new Uint8Array(20).fill(2))));
  });

  it('verifies and decrypts every in-session datagram; the Get Device ID answer is what ipmitool printed', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    const answers: string[] = [];
    for (const d of RAW_GET_DEVICE_ID_EXCHANGE.slice(8)) {
      const m = openIpmi2Packet(h.crypto, raw(d));
      if (d.dir === 'c2s') {
        expect(m.sessionId).toBe(h.ctx.managedSystemSessionId);
        decodeIpmiLanRequest(m.payload);
      } else {
        expect(m.sessionId).toBe(h.ctx.remoteConsoleSessionId);
        const res = decodeIpmiLanResponse(m.payload);
        if (res.netFn === 0x07 && res.cmd === AppCommand.GET_DEVICE_ID) answers.push(toHex(res.data));
      }
    }
    expect(answers).toContain('00030908029f911200020f00000000');
  });

  it('sealIpmi2Packet with the captured IV reproduces every in-session datagram byte-for-byte', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    for (const d of RAW_GET_DEVICE_ID_EXCHANGE.slice(8)) {
      const original = raw(d);
      const m = openIpmi2Packet(h.crypto, original);
      const iv = original.slice(PAYLOAD_AT, PAYLOAD_AT + 16);
      expect(toHex(sealIpmi2Packet(h.crypto, m, () => iv))).toBe(d.hex);
    }
  });

  it('rejects a captured datagram with one flipped ciphertext bit', () => {
    const h = handshake(RAW_GET_DEVICE_ID_EXCHANGE);
    const tampered = h.raw(9);
    tampered[PAYLOAD_AT + 20] = (tampered[PAYLOAD_AT + 20] ?? 0) ^ 0x01;
    let thrown: unknown;
    try {
      openIpmi2Packet(h.crypto, tampered);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WireError);
    expect((thrown as WireError).code).toBe('ERR_IPMI_INTEGRITY');
  });

  it('reassembles the cipher suite records of `channel getciphers ipmi`', () => {
    const h = handshake(GETCIPHERS_EXCHANGE);
    const slices: Uint8Array[] = [];
    for (const d of GETCIPHERS_EXCHANGE.slice(8)) {
      if (d.dir !== 's2c') continue;
      const res = decodeIpmiLanResponse(openIpmi2Packet(h.crypto, raw(d)).payload);
      if (res.cmd === AppCommand.GET_CHANNEL_CIPHER_SUITES && res.cc === 0) slices.push(res.data.subarray(1));
    }
    const all = new Uint8Array(slices.reduce((n, s) => n + s.length, 0));
    let at = 0;
    for (const s of slices) {
      all.set(s, at);
      at += s.length;
    }
    const records = decodeCipherSuiteRecords(all);
    // ipmi_sim publishes suites 0..14; ipmitool 1.8.19 only printed the first 12 of them.
    const ids = Array.from({ length: 15 }, (_, i) => i);
    expect(records.map((r) => r.id)).toEqual(ids);
    // Every record carries exactly the algorithms of the standard suite with its id (Table 22-20).
    expect(offeredStandardSuites(records)).toEqual(ids);
    expect(records[3]).toEqual({ id: 3, authAlgorithms: [1], integrityAlgorithms: [1], confidentialityAlgorithms: [1] });
  });
});
