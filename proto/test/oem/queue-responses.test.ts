import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  decodeResetQueueResponse,
  encodeGetRecordResponse,
  encodeOemErrorBody,
  encodePutRecordResponse,
  encodeQueueInfoResponse,
  encodeResetQueueResponse,
  fromHex,
  type GetRecordResponse,
  type PutRecordResponse,
  type QueueInfoResponse,
  type ResetQueueResponse,
  toHex,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

codecFixtureTests<QueueInfoResponse>(
  'OEM 0x00 Get Queue Info response',
  { encode: encodeQueueInfoResponse, decode: decodeQueueInfoResponse },
  [
    {
      name: 'queue 1 holding two records',
      bytes: fromHex(
        'd97e00' + //   IANA 32473
          '01' + //     queue 1
          '78563412' + // bmc_epoch 0x12345678
          '00000100' + // capacity_bytes 65536
          '04000000' + // used_bytes 4
          '0200' + //   depth 2
          'c800' + //   max_record 200
          '02000000' + // last_put_seq 2
          '00000000', // committed_seq 0
      ),
      value: {
        iana: 32473,
        queue: 1,
        bmcEpoch: 0x12345678,
        capacityBytes: 65536,
        usedBytes: 4,
        depth: 2,
        maxRecord: 200,
        lastPutSeq: 2,
        committedSeq: 0,
      },
    },
  ],
  [
    { name: 'one byte short', bytes: new Uint8Array(27), code: 'ERR_TRUNCATED' },
    { name: 'one byte long', bytes: new Uint8Array(29), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests<PutRecordResponse>(
  'OEM 0x01 Put Record response',
  { encode: encodePutRecordResponse, decode: decodePutRecordResponse },
  [{ name: 'last_put_seq 2', bytes: fromHex('d97e00' + '02000000'), value: { iana: 32473, lastPutSeq: 2 } }],
  [
    { name: 'IANA only', bytes: fromHex('d97e00'), code: 'ERR_TRUNCATED' },
    { name: 'extra byte', bytes: fromHex('d97e00' + '0200000000'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests<GetRecordResponse>(
  'OEM 0x02 Get Record response',
  { encode: encodeGetRecordResponse, decode: decodeGetRecordResponse },
  [
    {
      name: 'oldest record 3 of 2 remaining',
      bytes: fromHex('d97e00' + '02000000' /* committed_seq 2 */ + '0200' /* depth 2 */ + '03000000' /* seq 3 */ + 'beef'),
      value: { iana: 32473, committedSeq: 2, depth: 2, seq: 3, record: fromHex('beef') },
    },
    {
      name: 'empty queue',
      bytes: fromHex('d97e00' + '05000000' + '0000' + '00000000'),
      value: { iana: 32473, committedSeq: 5, depth: 0, seq: 0, record: new Uint8Array() },
    },
  ],
  [
    { name: 'header cut short', bytes: fromHex('d97e00' + '05000000' + '0000' + '000000'), code: 'ERR_TRUNCATED' },
    { name: 'record bytes with seq 0', bytes: fromHex('d97e00' + '05000000' + '0000' + '00000000' + 'aa'), code: 'ERR_TRAILING_BYTES' },
    { name: 'seq without record bytes', bytes: fromHex('d97e00' + '05000000' + '0100' + '06000000'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests<ResetQueueResponse>(
  'OEM 0x03 Reset Queue response',
  { encode: encodeResetQueueResponse, decode: decodeResetQueueResponse },
  [{ name: 'new epoch', bytes: fromHex('d97e00' + 'efbeadde'), value: { iana: 32473, bmcEpoch: 0xdeadbeef } }],
  [{ name: 'epoch cut short', bytes: fromHex('d97e00' + 'efbead'), code: 'ERR_TRUNCATED' }],
);

describe('OEM response codec', () => {
  it('an error body is the IANA alone', () => {
    expect(toHex(encodeOemErrorBody(32473))).toBe('d97e00');
  });

  it('refuses to encode values that do not fit their fields', () => {
    const info: QueueInfoResponse = { iana: 1, queue: 1, bmcEpoch: 1, capacityBytes: 1, usedBytes: 0, depth: 0x10000, maxRecord: 1, lastPutSeq: 0, committedSeq: 0 };
    expect(() => encodeQueueInfoResponse(info)).toThrow();
    expect(() => encodeGetRecordResponse({ iana: 1, committedSeq: 0, depth: 0, seq: 0, record: fromHex('00') })).toThrow();
  });

  it('Get Record round-trips any record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.uint8Array({ minLength: 1, maxLength: 255 }),
        (committedSeq, depth, seq, record) => {
          const value = { iana: 32473, committedSeq, depth, seq, record };
          expect(decodeGetRecordResponse(encodeGetRecordResponse(value))).toEqual(value);
        },
      ),
    );
  });

  it('random bytes never throw anything but WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
        onlyWireErrors(() => decodeQueueInfoResponse(data));
        onlyWireErrors(() => decodePutRecordResponse(data));
        onlyWireErrors(() => decodeGetRecordResponse(data));
        onlyWireErrors(() => decodeResetQueueResponse(data));
      }),
    );
  });
});
