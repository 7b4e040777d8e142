import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeVmRequestPayload,
  decodeVmResponsePayload,
  encodeVmRequestFrame,
  encodeVmRequestPayload,
  encodeVmResponseFrame,
  encodeVmResponsePayload,
  fromHex,
  toHex,
  vmChecksum,
  type VmRequest,
  type VmResponse,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

codecFixtureTests<VmRequest>(
  'VM request payload',
  { encode: encodeVmRequestPayload, decode: decodeVmRequestPayload },
  [
    {
      // What QEMU's KCS forwards for the kernel's first Get Device ID (KVM-NOTES.md).
      name: 'Get Device ID, seq 0',
      bytes: fromHex('00' + /* seq */ '18' + /* netfn 0x06 << 2 | lun 0 */ '01' + /* cmd */ 'e7' /* checksum */),
      value: { seq: 0, netfn: 0x06, lun: 0, cmd: 0x01, data: new Uint8Array() },
    },
    {
      name: 'Put Record on queue 2, seq 0x42, lun 2',
      bytes: fromHex('42' + 'ba' /* 0x2e << 2 | 2 */ + '01' + 'd97e00' + '02' + '01000000' + 'a0' + '09' /* checksum */),
      value: { seq: 0x42, netfn: 0x2e, lun: 2, cmd: 0x01, data: fromHex('d97e0002' + '01000000' + 'a0') },
    },
  ],
  [
    { name: 'three bytes', bytes: fromHex('001801'), code: 'ERR_TRUNCATED' },
    { name: 'bad checksum', bytes: fromHex('001801e8'), code: 'ERR_BAD_FIELD' },
  ],
);

codecFixtureTests<VmResponse>(
  'VM response payload',
  { encode: encodeVmResponsePayload, decode: decodeVmResponsePayload },
  [
    {
      name: 'Read Event Message Buffer, empty (cc 0x80)',
      bytes: fromHex('07' + '1c' /* netfn 0x07 << 2 */ + '35' + '80' + '28' /* checksum */),
      value: { seq: 7, netfn: 0x07, lun: 0, cmd: 0x35, cc: 0x80, data: new Uint8Array() },
    },
    {
      name: 'Get Message Flags, OEM0 set',
      bytes: fromHex('09' + '1c' + '31' + '00' + '20' + '8a'),
      value: { seq: 9, netfn: 0x07, lun: 0, cmd: 0x31, cc: 0, data: fromHex('20') },
    },
  ],
  [
    { name: 'no cc', bytes: fromHex('091c31aa'), code: 'ERR_TRUNCATED' },
    { name: 'bad checksum', bytes: fromHex('091c3100208b'), code: 'ERR_BAD_FIELD' },
  ],
);

describe('VM message frames', () => {
  it('escapes A0, A1 and AA inside a frame and ends with A0', () => {
    const frame = encodeVmRequestFrame({ seq: 0xa0, netfn: 0x2e, lun: 0, cmd: 0x01, data: fromHex('a1aa00') });
    // seq A0 -> AA B0; data A1 -> AA B1, AA -> AA BA; checksum computed before escaping.
    const sum = vmChecksum(fromHex('a0' + 'b8' + '01' + 'a1aa00'));
    expect(toHex(frame)).toBe('aab0' + 'b8' + '01' + 'aab1' + 'aaba' + '00' + sum.toString(16).padStart(2, '0') + 'a0');
  });

  it('response frames carry the cc after cmd', () => {
    const frame = encodeVmResponseFrame({ seq: 1, netfn: 0x2f, lun: 0, cmd: 0, cc: 0xc1, data: new Uint8Array() });
    expect(toHex(frame)).toBe('01' + 'bc' + '00' + 'c1' + vmChecksum(fromHex('01bc00c1')).toString(16).padStart(2, '0') + 'a0');
  });

  it('refuses out-of-range header fields', () => {
    expect(() => encodeVmRequestPayload({ seq: 256, netfn: 6, lun: 0, cmd: 1, data: new Uint8Array() })).toThrow();
    expect(() => encodeVmRequestPayload({ seq: 0, netfn: 64, lun: 0, cmd: 1, data: new Uint8Array() })).toThrow();
    expect(() => encodeVmResponsePayload({ seq: 0, netfn: 7, lun: 4, cmd: 1, cc: 0, data: new Uint8Array() })).toThrow();
  });

  const request = fc.record({
    seq: fc.integer({ min: 0, max: 255 }),
    netfn: fc.integer({ min: 0, max: 63 }),
    lun: fc.integer({ min: 0, max: 3 }),
    cmd: fc.integer({ min: 0, max: 255 }),
    data: fc.uint8Array({ maxLength: 64 }),
  });

  it('decode(encode(x)) == x for requests and responses', () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 0, max: 255 }), (r, cc) => {
        expect(decodeVmRequestPayload(encodeVmRequestPayload(r))).toEqual(r);
        const rsp = { ...r, cc };
        expect(decodeVmResponsePayload(encodeVmResponsePayload(rsp))).toEqual(rsp);
      }),
    );
  });

  it('random bytes never throw anything but WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        onlyWireErrors(() => decodeVmRequestPayload(bytes));
        onlyWireErrors(() => decodeVmResponsePayload(bytes));
      }),
    );
  });
});
