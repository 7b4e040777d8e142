// The console's handshake builders reproduce, byte for byte, what stock
// ipmitool sent in a captured exchange, and accept what ipmi_sim answered.
// Source: ipmitool 1.8.19 -I lanplus -C 3 -U admin -P secret -L ADMINISTRATOR
// raw 0x06 0x01 against OpenIPMI ipmi_sim on 127.0.0.1, captured with a
// node:dgram relay on 2026-11-21 (the same capture as
// proto/test/ipmi/captured-exchanges.ts).
import { fromHex, passwordKey, toHex, utf8 } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { buildOpenSessionRequest, buildRakp1, buildRakp3, type HandshakeInput, parseOpenSessionResponse, parseRakp2, parseRakp4 } from '../../src/rmcp/handshake.js';

const OPEN_REQ = '0600ff0706100000000000000000200000000000a4a3a2a0000000080100000001000008010000000200000801000000';
const OPEN_RES = '0600ff0706110000000000000000240000000000a4a3a2a082010000000000080100000001000008010000000200000801000000';
const RAKP1 = '0600ff070612000000000000000021000000000082010000d6e5018f050b2520af0bc12ae063581c1400000561646d696e';
const RAKP2 = '0600ff07061300000000000000003c0000000000a4a3a2a05fd0760be8109adab67ddcb02469b7b3a123456789abcdefa123456789abcdef6c1a4104d20f32f730b1f7fbd88438d7bff7b2ca';
const RAKP3 = '0600ff07061400000000000000001c00000000008201000060b9033331bb4dfdb303163c1ca1dc82fad85e41';
const RAKP4 = '0600ff0706150000000000000000140000000000a4a3a2a00cf13605b729b3dfca7e4401';

const input = (password: string): HandshakeInput => ({
  userName: utf8('admin'),
  kuid: passwordKey(utf8(password)),
  privilege: 4,
  suite: 3,
  consoleSessionId: 0xa0a2a3a4,
  remoteConsoleRandom: fromHex('d6e5018f050b2520af0bc12ae063581c'),
  messageTag: 0,
});

describe('RMCP+ console handshake against a captured ipmitool ↔ ipmi_sim exchange', () => {
  it('builds the Open Session Request and RAKP1 ipmitool sent', () => {
    const h = input('secret');
    expect(toHex(buildOpenSessionRequest(h))).toBe(OPEN_REQ);
    expect(toHex(buildRakp1(h, 0x182))).toBe(RAKP1);
  });

  it('accepts the answers, verifies the BMC proofs, and builds the same RAKP3', () => {
    const h = input('secret');
    expect(parseOpenSessionResponse(h, fromHex(OPEN_RES))).toEqual({ kind: 'ok', bmcSessionId: 0x182 });
    const r2 = parseRakp2(h, 0x182, fromHex(RAKP2));
    if (r2?.kind !== 'ok') throw new Error(`RAKP2 not accepted: ${r2?.kind}`);
    expect(toHex(buildRakp3(h, r2.ctx))).toBe(RAKP3);
    const r4 = parseRakp4(h, r2.ctx, fromHex(RAKP4));
    expect(r4?.kind).toBe('ok');
  });

  it('reports a wrong password as a bad RAKP2 proof', () => {
    const h = input('not-the-password');
    expect(parseRakp2(h, 0x182, fromHex(RAKP2))?.kind).toBe('bad-proof');
  });

  it('ignores answers that belong to another attempt (other tag or session id)', () => {
    expect(parseOpenSessionResponse({ ...input('secret'), messageTag: 1 }, fromHex(OPEN_RES))).toBeUndefined();
    expect(parseOpenSessionResponse({ ...input('secret'), consoleSessionId: 5 }, fromHex(OPEN_RES))).toBeUndefined();
    expect(parseRakp2(input('secret'), 0x182, fromHex(RAKP4))).toBeUndefined();
    expect(parseRakp4(input('secret'), { authAlgorithm: 1, remoteConsoleSessionId: 1, managedSystemSessionId: 1, remoteConsoleRandom: new Uint8Array(16), managedSystemRandom: new Uint8Array(16), managedSystemGuid: new Uint8Array(16), role: 0x14, userName: utf8('admin') }, fromHex('00'))).toBeUndefined();
  });
});
