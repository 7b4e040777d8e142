import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFragment,
  encodeFragment,
  type Fragment,
  FRAGMENT_HEADER_BYTES,
  fragmentCount,
  fragmentMessage,
  fromHex,
  Reassembler,
  toHex,
  WireError,
} from '../src/index.js';
import { codecFixtureTests, onlyWireErrors } from './helpers/codec-fixture.js';

codecFixtureTests<Fragment>(
  'fragment record codec',
  { encode: encodeFragment, decode: decodeFragment },
  [
    {
      name: 'first, not last',
      bytes: fromHex(
        '10' + //        version 1, flags 0
          '2a000000' + // message id 42
          '0000' + //     index 0
          'deadbeef', //  payload
      ),
      value: { messageId: 42, index: 0, last: false, payload: fromHex('deadbeef') },
    },
    {
      name: 'last of several, large id',
      bytes: fromHex(
        '11' + //        version 1, LAST
          'feffffff' + // message id 0xfffffffe
          '0201' + //     index 258
          '00', //        payload
      ),
      value: { messageId: 0xfffffffe, index: 258, last: true, payload: fromHex('00') },
    },
  ],
  [
    { name: 'too short (header only)', bytes: fromHex('10' + '01000000' + '0000'), code: 'ERR_FRAGMENT_MALFORMED' },
    { name: 'empty', bytes: new Uint8Array(), code: 'ERR_FRAGMENT_MALFORMED' },
    { name: 'version 2', bytes: fromHex('20' + '01000000' + '0000' + 'aa'), code: 'ERR_FRAGMENT_BAD_VERSION' },
    { name: 'reserved flag bit', bytes: fromHex('12' + '01000000' + '0000' + 'aa'), code: 'ERR_FRAGMENT_MALFORMED' },
  ],
);

describe('fragmentMessage + Reassembler', () => {
  it('splits at max_record and puts it back', () => {
    const message = new Uint8Array(1000).map((_, i) => i & 0xff);
    const records = fragmentMessage(message, 7, 200);
    expect(records.length).toBe(fragmentCount(1000, 200));
    expect(records.length).toBe(Math.ceil(1000 / 193));
    for (const r of records) expect(r.length).toBeLessThanOrEqual(200);
    const r = new Reassembler({ maxMessageBytes: 4096 });
    const outs = records.map((rec) => r.push(rec));
    expect(outs.slice(0, -1).every((o) => o === undefined)).toBe(true);
    expect(toHex(outs.at(-1) as Uint8Array)).toBe(toHex(message));
    expect(r.inProgress).toBe(false);
  });

  it('ignores a repeated record and restarts on a retransmitted message', () => {
    const records = fragmentMessage(new Uint8Array(500).fill(3), 1, 100);
    const r = new Reassembler({ maxMessageBytes: 4096 });
    r.push(records[0] as Uint8Array);
    r.push(records[1] as Uint8Array);
    expect(r.push(records[1] as Uint8Array)).toBeUndefined();
    // The sender starts the whole message over.
    for (const rec of records.slice(0, -1)) expect(r.push(rec)).toBeUndefined();
    expect(r.push(records.at(-1) as Uint8Array)?.length).toBe(500);
  });

  it('holds the records of the message in progress (without repeats), and a fresh reassembler fed them carries on', () => {
    const records = fragmentMessage(new Uint8Array(500).map((_, i) => i & 0xff), 9, 100);
    const r = new Reassembler({ maxMessageBytes: 4096 });
    expect(r.heldRecords).toEqual([]);
    r.push(records[0] as Uint8Array);
    r.push(records[1] as Uint8Array);
    r.push(records[1] as Uint8Array);
    expect(r.heldRecords.map(toHex)).toEqual(records.slice(0, 2).map(toHex));
    const restarted = new Reassembler({ maxMessageBytes: 4096 });
    for (const held of r.heldRecords) restarted.push(held);
    for (const rec of records.slice(2, -1)) restarted.push(rec);
    expect(restarted.push(records.at(-1) as Uint8Array)?.length).toBe(500);
    expect(restarted.heldRecords).toEqual([]);
  });

  it('reports a gap, an interleaved message and a missing start', () => {
    const a = fragmentMessage(new Uint8Array(300).fill(1), 1, 100);
    const b = fragmentMessage(new Uint8Array(300).fill(2), 2, 100);
    const r = new Reassembler({ maxMessageBytes: 4096 });
    r.push(a[0] as Uint8Array);
    expect(() => r.push(a[2] as Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_GAP' }));
    r.push(a[0] as Uint8Array);
    expect(() => r.push(b[1] as Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_INTERLEAVED' }));
    expect(() => r.push(a[1] as Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_GAP' }));
    // After the errors it still takes a whole message.
    let out: Uint8Array | undefined;
    for (const rec of b) out = r.push(rec);
    expect(out?.every((x) => x === 2)).toBe(true);
  });

  it('refuses oversized messages and bad parameters', () => {
    const r = new Reassembler({ maxMessageBytes: 250 });
    const records = fragmentMessage(new Uint8Array(400), 1, 100);
    expect(() => records.forEach((rec) => r.push(rec))).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_TOO_LARGE' }));
    expect(() => fragmentMessage(new Uint8Array(10), 1, 15)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_BAD_PARAMS' }));
    expect(() => fragmentMessage(new Uint8Array(0), 1, 100)).toThrow(WireError);
    expect(() => fragmentMessage(new Uint8Array(0x10001 * 9), 1, 16)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_TOO_LARGE' }));
  });

  it('property: any message at any max_record >= 16 reassembles to itself', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 16, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (message, maxRecord, messageId) => {
          const records = fragmentMessage(message, messageId, maxRecord);
          expect(records.every((rec) => rec.length <= maxRecord)).toBe(true);
          const total = records.reduce((n, rec) => n + rec.length, 0);
          expect(total).toBe(message.length + FRAGMENT_HEADER_BYTES * records.length);
          const r = new Reassembler({ maxMessageBytes: 1 << 20 });
          let out: Uint8Array | undefined;
          for (const rec of records) out = r.push(rec);
          expect(out).toEqual(message);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: random record bytes never throw anything but WireError', () => {
    const r = new Reassembler({ maxMessageBytes: 2048 });
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (recs) => {
        for (const rec of recs) onlyWireErrors(() => r.push(rec));
      }),
      { numRuns: 2000 },
    );
  });
});
