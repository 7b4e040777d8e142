import { fromHex, isWireError, toHex } from '@backchannel/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfo,
  DEFAULT_IANA,
  encodeGetQueueInfo,
  encodeGetRecord,
  encodePutRecord,
} from '../src/queue/oem-queue-codec.js';
import { PollSchedule } from '../src/queue/poll-schedule.js';

describe('OEM queue codec (PROTOCOL.md §2)', () => {
  it('encodes the requests byte for byte', () => {
    expect(toHex(encodeGetQueueInfo(DEFAULT_IANA, 1))).toBe('d97e0001');
    expect(toHex(encodePutRecord(DEFAULT_IANA, 2, 1, fromHex('dead')))).toBe('d97e000201000000dead');
    expect(toHex(encodeGetRecord(DEFAULT_IANA, 1, 0x01020304))).toBe('d97e000104030201');
  });

  it('decodes Get Queue Info', () => {
    const data = fromHex(
      'd97e00' + // IANA
        '01' + // queue
        '78563412' + // bmc_epoch
        '00000100' + // capacity 65536
        '10000000' + // used 16
        '0200' + // depth 2
        'c800' + // max_record 200
        '05000000' + // last_put_seq 5
        '03000000', // committed_seq 3
    );
    expect(decodeQueueInfo(data, DEFAULT_IANA)).toEqual({
      queue: 1, bmcEpoch: 0x12345678, capacityBytes: 65536, usedBytes: 16, depth: 2, maxRecord: 200, lastPutSeq: 5, committedSeq: 3,
    });
    expect(() => decodeQueueInfo(data.subarray(0, 27), DEFAULT_IANA)).toThrow(/need 25/);
    expect(() => decodeQueueInfo(fromHex(toHex(data) + '00'), DEFAULT_IANA)).toThrow(/extra byte/);
    expect(() => decodeQueueInfo(fromHex('aabbcc' + toHex(data).slice(6)), DEFAULT_IANA)).toThrow(/IANA/);
  });

  it('decodes Get Record with and without a record', () => {
    expect(decodeGetRecordResponse(fromHex('d97e00' + '02000000' + '0100' + '03000000' + 'beef'), DEFAULT_IANA)).toEqual({
      committedSeq: 2, depth: 1, seq: 3, record: fromHex('beef'),
    });
    expect(decodeGetRecordResponse(fromHex('d97e00' + '02000000' + '0000' + '00000000'), DEFAULT_IANA).seq).toBe(0);
    expect(() => decodeGetRecordResponse(fromHex('d97e00' + '02000000' + '0000' + '00000000ff'), DEFAULT_IANA)).toThrow(/empty-queue/);
    expect(() => decodeGetRecordResponse(fromHex('d97e00' + '02000000' + '0100' + '03000000'), DEFAULT_IANA)).toThrow(/no bytes/);
    expect(decodePutRecordResponse(fromHex('d97e00' + '07000000'), DEFAULT_IANA)).toEqual({ lastPutSeq: 7 });
  });

  it('never throws anything but WireError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of [decodeQueueInfo, decodeGetRecordResponse, decodePutRecordResponse]) {
          try {
            decode(bytes, DEFAULT_IANA);
          } catch (err) {
            if (!isWireError(err)) throw err;
          }
        }
      }),
    );
  });
});

describe('PollSchedule', () => {
  it('backs off to the ceiling when idle and snaps back on traffic', () => {
    const s = new PollSchedule({ minMs: 10, maxMs: 75 });
    expect([s.idle(), s.idle(), s.idle(), s.idle(), s.idle()]).toEqual([10, 20, 40, 75, 75]);
    s.traffic();
    expect(s.idle()).toBe(10);
  });
});
