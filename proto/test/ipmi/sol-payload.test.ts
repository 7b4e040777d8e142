import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeActivatePayloadRequest,
  decodeActivatePayloadResponse,
  decodePayloadActivationStatus,
  decodeSolPacket,
  encodeActivatePayloadRequest,
  encodeActivatePayloadResponse,
  encodePayloadActivationStatus,
  encodeSolPacket,
  fromHex,
  nextSolSeq,
  solBaudCode,
  type SolPacket,
  SolStatus,
  toHex,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

codecFixtureTests<SolPacket>(
  'SOL payload',
  { encode: encodeSolPacket, decode: decodeSolPacket },
  [
    // seq 1, no ack, count 0, no operation, "ls\r"
    { name: 'data packet', bytes: fromHex('010000006c730d'), value: { seq: 1, ackSeq: 0, acceptedCount: 0, flags: 0, data: fromHex('6c730d') } },
    // seq 0 (ack only), acks 3, accepted 5
    { name: 'ack-only packet', bytes: fromHex('00030500'), value: { seq: 0, ackSeq: 3, acceptedCount: 5, flags: 0, data: new Uint8Array() } },
    // seq 2, acks 1 with 2 accepted and NACK (0x40) + SOL deactivating (0x10)
    { name: 'NACK with status', bytes: fromHex('02010250'), value: { seq: 2, ackSeq: 1, acceptedCount: 2, flags: 0x50, data: new Uint8Array() } },
    // console generate break (0x10), seq 15
    { name: 'break, seq 15', bytes: fromHex('0f000010'), value: { seq: 15, ackSeq: 0, acceptedCount: 0, flags: 0x10, data: new Uint8Array() } },
  ],
  [
    { name: 'three bytes', bytes: fromHex('010000'), code: 'ERR_TRUNCATED' },
    { name: 'data with seq 0', bytes: fromHex('0000000041'), code: 'ERR_BAD_FIELD' },
  ],
);

describe('SOL payload', () => {
  it('ignores the reserved high nibbles', () => {
    expect(decodeSolPacket(fromHex('f1e20300'))).toMatchObject({ seq: 1, ackSeq: 2, acceptedCount: 3 });
  });
  it('round-trips any valid packet, and random bytes throw only WireError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0x7f }), fc.uint8Array({ maxLength: 250 }), (seq, ackSeq, acceptedCount, flags, data) => {
        const p = { seq, ackSeq, acceptedCount, flags, data };
        expect(decodeSolPacket(encodeSolPacket(p))).toEqual(p);
      }),
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => onlyWireErrors(() => decodeSolPacket(b))));
  });
  it('sequence numbers wrap 15 → 1, never 0', () => {
    expect(nextSolSeq(0)).toBe(1);
    expect(nextSolSeq(14)).toBe(15);
    expect(nextSolSeq(15)).toBe(1);
  });
  it('status bits are the §15.9 ones', () => {
    expect(SolStatus.SOL_DEACTIVATING).toBe(0x10);
    expect(SolStatus.NACK).toBe(0x40);
  });
});

describe('payload activation codecs', () => {
  it('Activate Payload request: SOL instance 1 encrypted and authenticated (ipmitool sends 01 01 c0 00 00 00)', () => {
    const r = decodeActivatePayloadRequest(fromHex('0101c0000000'));
    expect(r).toEqual({ payloadType: 1, instance: 1, encrypt: true, authenticate: true, holdHandshake: false });
    expect(toHex(encodeActivatePayloadRequest(r))).toBe('0101c0000000');
    expect(() => decodeActivatePayloadRequest(fromHex('0101'))).toThrow(/6/);
  });
  it('Activate Payload response: sizes and port LS first', () => {
    const bytes = encodeActivatePayloadResponse({ inboundPayloadSize: 0x00ff, outboundPayloadSize: 0x00ff, port: 623, vlan: 0xffff });
    expect(toHex(bytes)).toBe('00000000' + 'ff00' + 'ff00' + '6f02' + 'ffff');
    expect(decodeActivatePayloadResponse(bytes)).toEqual({ inboundPayloadSize: 255, outboundPayloadSize: 255, port: 623, vlan: 0xffff });
    expect(decodeActivatePayloadResponse(bytes.subarray(0, 10)).vlan).toBe(0xffff);
  });
  it('activation status bitmap', () => {
    expect(toHex(encodePayloadActivationStatus({ capacity: 1, active: [1] }))).toBe('010100');
    expect(decodePayloadActivationStatus(fromHex('020200'))).toEqual({ capacity: 2, active: [2] });
  });
  it('baud codes', () => {
    expect(solBaudCode(115200)).toBe(10);
    expect(solBaudCode(9600)).toBe(6);
    expect(() => solBaudCode(12345)).toThrow(/bit rate/);
  });
});
