import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeOemRequest,
  encodeOemRequest,
  fromHex,
  OemCommand,
  oemRequestCommand,
  type OemQueueRequest,
  toHex,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

function codecFor(cmd: number) {
  return { encode: encodeOemRequest, decode: (bytes: Uint8Array) => decodeOemRequest(cmd, bytes) };
}

codecFixtureTests<OemQueueRequest>(
  'OEM 0x00 Get Queue Info request',
  codecFor(OemCommand.GetQueueInfo),
  [
    {
      // PROTOCOL.md §2 example: ipmitool raw 0x2e 0x00 0xd9 0x7e 0x00 0x01
      name: 'queue 1, default PEN 32473',
      bytes: fromHex('d97e00' + /* IANA 32473 LSB first */ '01' /* queue 1 */),
      value: { kind: 'get-queue-info', iana: 32473, queue: 1 },
    },
  ],
  [
    { name: 'IANA only', bytes: fromHex('d97e00'), code: 'ERR_TRUNCATED' },
    { name: 'empty', bytes: new Uint8Array(), code: 'ERR_TRUNCATED' },
    { name: 'extra byte', bytes: fromHex('d97e000100'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests<OemQueueRequest>(
  'OEM 0x01 Put Record request',
  codecFor(OemCommand.PutRecord),
  [
    {
      // PROTOCOL.md §2 example: ipmitool raw 0x2e 0x01 0xd9 0x7e 0x00 0x01 0x01 0x00 0x00 0x00 0xde 0xad
      name: 'seq 1 on queue 1, record dead',
      bytes: fromHex('d97e00' + '01' + /* queue */ '01000000' + /* seq 1 */ 'dead' /* record */),
      value: { kind: 'put-record', iana: 32473, queue: 1, seq: 1, record: fromHex('dead') },
    },
    {
      name: 'seq 0xfffffffe on queue 2, other PEN',
      bytes: fromHex('563412' + '02' + 'feffffff' + '00'),
      value: { kind: 'put-record', iana: 0x123456, queue: 2, seq: 0xfffffffe, record: fromHex('00') },
    },
  ],
  [
    { name: 'no record byte', bytes: fromHex('d97e00' + '01' + '01000000'), code: 'ERR_TRUNCATED' },
    { name: 'seq cut short', bytes: fromHex('d97e00' + '01' + '0100'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests<OemQueueRequest>(
  'OEM 0x02 Get Record request',
  codecFor(OemCommand.GetRecord),
  [
    {
      name: 'commit 7 on queue 2',
      bytes: fromHex('d97e00' + '02' + '07000000' /* commit_seq */),
      value: { kind: 'get-record', iana: 32473, queue: 2, commitSeq: 7 },
    },
  ],
  [
    { name: 'commit_seq cut short', bytes: fromHex('d97e00' + '02' + '070000'), code: 'ERR_TRUNCATED' },
    { name: 'extra byte', bytes: fromHex('d97e00' + '02' + '07000000' + '00'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests<OemQueueRequest>(
  'OEM 0x03 Reset Queue request',
  codecFor(OemCommand.ResetQueue),
  [{ name: 'queue 2', bytes: fromHex('d97e00' + '02'), value: { kind: 'reset-queue', iana: 32473, queue: 2 } }],
  [{ name: 'extra byte', bytes: fromHex('d97e000200'), code: 'ERR_TRAILING_BYTES' }],
);

describe('OEM request codec', () => {
  it('rejects a command outside 0x00–0x03', () => {
    expect(() => decodeOemRequest(0x04, fromHex('d97e0001'))).toThrow(expect.objectContaining({ code: 'ERR_BAD_FIELD' }));
  });

  it('names the command a request travels under', () => {
    expect(oemRequestCommand({ kind: 'get-record', iana: 1, queue: 1, commitSeq: 0 })).toBe(0x02);
    expect(oemRequestCommand({ kind: 'reset-queue', iana: 1, queue: 1 })).toBe(0x03);
  });

  it('refuses to encode an empty record or an out-of-range seq', () => {
    expect(() => encodeOemRequest({ kind: 'put-record', iana: 1, queue: 1, seq: 1, record: new Uint8Array() })).toThrow();
    expect(() => encodeOemRequest({ kind: 'put-record', iana: 1, queue: 1, seq: 2 ** 32, record: fromHex('00') })).toThrow();
    expect(() => encodeOemRequest({ kind: 'get-queue-info', iana: 2 ** 24, queue: 1 })).toThrow();
  });

  const request = fc.oneof(
    fc.record({ kind: fc.constant('get-queue-info' as const), iana: fc.integer({ min: 0, max: 0xffffff }), queue: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('reset-queue' as const), iana: fc.integer({ min: 0, max: 0xffffff }), queue: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('get-record' as const),
      iana: fc.integer({ min: 0, max: 0xffffff }),
      queue: fc.integer({ min: 0, max: 255 }),
      commitSeq: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    fc.record({
      kind: fc.constant('put-record' as const),
      iana: fc.integer({ min: 0, max: 0xffffff }),
      queue: fc.integer({ min: 0, max: 255 }),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      record: fc.uint8Array({ minLength: 1, maxLength: 300 }),
    }),
  );

  it('decode(encode(x)) == x', () => {
    fc.assert(
      fc.property(request, (req) => {
        const bytes = encodeOemRequest(req);
        expect(decodeOemRequest(oemRequestCommand(req), bytes)).toEqual(req);
        expect(toHex(encodeOemRequest(decodeOemRequest(oemRequestCommand(req), bytes)))).toBe(toHex(bytes));
      }),
    );
  });

  it('random bytes never throw anything but WireError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (cmd, data) => {
        onlyWireErrors(() => decodeOemRequest(cmd, data));
      }),
    );
  });
});
