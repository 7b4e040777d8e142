import { decodeGetRecordResponse, decodePutRecordResponse, decodeQueueInfoResponse, decodeResetQueueResponse, toHex } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { FileQueueStore } from '../../src/queues/file-queue-store.js';
import { QueueEngine } from '../../src/queues/queue-engine.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ADMIN, bytes, countingRandom, getRec, IANA, info, lan, put, reset, sys, USER } from './helpers.js';

function engine(opts: { capacityBytes?: number; maxRecord?: number } = {}) {
  return new QueueEngine({ iana: IANA, randomBytes: countingRandom(100), ...opts });
}

describe('QueueEngine: Put Record', () => {
  it('appends seq 1 and 2, ignores a retransmitted seq 2, answers a gap with 0x80', () => {
    const e = engine();
    expect(lan(e, put(1, 1, bytes(0xde, 0xad)))).toMatchObject({ cc: 0 });
    const r2 = lan(e, put(1, 2, bytes(0xbe, 0xef)));
    expect(r2.cc).toBe(0);
    expect(decodePutRecordResponse(r2.data).lastPutSeq).toBe(2);
    const again = lan(e, put(1, 2, bytes(0xbe, 0xef)));
    expect(again.cc).toBe(0);
    expect(decodePutRecordResponse(again.data).lastPutSeq).toBe(2);
    const gap = lan(e, put(1, 5, bytes(1)));
    expect(gap.cc).toBe(0x80);
    expect(decodePutRecordResponse(gap.data)).toEqual({ iana: IANA, lastPutSeq: 2 });
    const q = decodeQueueInfoResponse(lan(e, info(1)).data);
    expect(q).toMatchObject({ queue: 1, depth: 2, usedBytes: 4, lastPutSeq: 2, committedSeq: 0, capacityBytes: 65536, maxRecord: 200 });
    expect(e.stats).toMatchObject({ puts: 2, duplicatePuts: 1, gaps: 1 });
  });

  it('answers 0xC4 once capacity_bytes would be exceeded, and accepts again after a commit', () => {
    const e = engine({ capacityBytes: 10, maxRecord: 4 });
    for (let seq = 1; seq <= 2; seq++) expect(sys(e, put(2, seq, bytes(1, 2, 3, 4))).cc).toBe(0);
    const full = sys(e, put(2, 3, bytes(1, 2, 3)));
    expect(full.cc).toBe(0xc4);
    expect(decodePutRecordResponse(full.data).lastPutSeq).toBe(2);
    expect(sys(e, put(2, 3, bytes(1, 2))).cc).toBe(0); // exactly fills 10 bytes
    expect(lan(e, getRec(2, 1)).cc).toBe(0);
    expect(sys(e, put(2, 4, bytes(1, 2, 3, 4))).cc).toBe(0);
    expect(e.stats.full).toBe(1);
  });

  it('rejects an empty or oversized record with 0xC7 and seq 0 with 0xCC', () => {
    const e = engine({ maxRecord: 4 });
    expect(lan(e, put(1, 1, bytes(1, 2, 3, 4, 5))).cc).toBe(0xc7);
    expect(e.handle(0x01, 'lan', 3, Uint8Array.of(0xd9, 0x7e, 0x00, 1, 1, 0, 0, 0)).cc).toBe(0xc7);
    expect(lan(e, put(1, 0, bytes(1))).cc).toBe(0xcc);
    expect(e.depth(1)).toBe(0);
  });

  it('fires append listeners for new records only', () => {
    const e = engine();
    const seen: string[] = [];
    e.onAppend((q, seq) => seen.push(`${q}:${seq}`));
    lan(e, put(1, 1, bytes(1)));
    lan(e, put(1, 1, bytes(1)));
    sys(e, put(2, 1, bytes(2)));
    expect(seen).toEqual(['1:1', '2:1']);
  });
});

describe('QueueEngine: Get Record (read with commit)', () => {
  it('returns the oldest record without removing it until it is committed', () => {
    const e = engine();
    for (let seq = 1; seq <= 3; seq++) lan(e, put(1, seq, bytes(seq, seq)));
    const first = decodeGetRecordResponse(sys(e, getRec(1, 0)).data);
    expect(first).toMatchObject({ committedSeq: 0, depth: 3, seq: 1 });
    expect(toHex(first.record)).toBe('0101');
    // A lost response: the reader repeats with the same commit_seq and gets the same record.
    expect(decodeGetRecordResponse(sys(e, getRec(1, 0)).data)).toEqual(first);
    const second = decodeGetRecordResponse(sys(e, getRec(1, 1)).data);
    expect(second).toMatchObject({ committedSeq: 1, depth: 2, seq: 2 });
    // Repeating an older commit changes nothing.
    expect(decodeGetRecordResponse(sys(e, getRec(1, 1)).data)).toEqual(second);
    expect(decodeGetRecordResponse(sys(e, getRec(1, 0)).data)).toMatchObject({ committedSeq: 1, seq: 2 });
    const empty = decodeGetRecordResponse(sys(e, getRec(1, 3)).data);
    expect(empty).toEqual({ iana: IANA, committedSeq: 3, depth: 0, seq: 0, record: new Uint8Array() });
    expect(decodeQueueInfoResponse(lan(e, info(1)).data)).toMatchObject({ usedBytes: 0, depth: 0, lastPutSeq: 3, committedSeq: 3 });
  });

  it('answers 0xCC for commit_seq beyond last_put_seq', () => {
    const e = engine();
    lan(e, put(1, 1, bytes(1)));
    expect(sys(e, getRec(1, 2)).cc).toBe(0xcc);
    expect(e.depth(1)).toBe(1);
  });

  it('an empty queue returns seq 0, depth 0 and no record', () => {
    const e = engine();
    const r = sys(e, getRec(1, 0));
    expect(r.cc).toBe(0);
    expect(toHex(r.data)).toBe('d97e00' + '00000000' + '0000' + '00000000');
  });
});

describe('QueueEngine: Reset Queue and epochs', () => {
  it('gives each queue a non-zero epoch and a new one on reset by an administrator', () => {
    const e = engine();
    const before = decodeQueueInfoResponse(lan(e, info(1)).data).bmcEpoch;
    expect(before).not.toBe(0);
    lan(e, put(1, 1, bytes(1)));
    const r = lan(e, reset(1), ADMIN);
    expect(r.cc).toBe(0);
    const after = decodeResetQueueResponse(r.data).bmcEpoch;
    expect(after).not.toBe(before);
    expect(decodeQueueInfoResponse(lan(e, info(1)).data)).toMatchObject({ bmcEpoch: after, depth: 0, lastPutSeq: 0, committedSeq: 0 });
    expect(lan(e, put(1, 1, bytes(9))).cc).toBe(0);
  });

  it('never uses zero as an epoch even when the random source yields zero first', () => {
    const zeros = [0, 0, 7];
    const e = new QueueEngine({
      iana: IANA,
      randomBytes: (n) => {
        const out = new Uint8Array(n);
        out[0] = zeros.shift() ?? 9;
        return out;
      },
    });
    expect(e.snapshot(1)?.epoch).toBe(7);
  });
});

describe('QueueEngine: sides and privileges (PROTOCOL.md §2)', () => {
  const table: Array<[string, (e: QueueEngine) => { cc: number }, number]> = [
    ['Put q1 from LAN operator', (e) => lan(e, put(1, 1, bytes(1))), 0],
    ['Put q1 from LAN user', (e) => lan(e, put(1, 1, bytes(1)), USER), 0xd4],
    ['Put q1 from system', (e) => sys(e, put(1, 1, bytes(1))), 0xd4],
    ['Put q2 from system', (e) => sys(e, put(2, 1, bytes(1))), 0],
    ['Put q2 from LAN admin', (e) => lan(e, put(2, 1, bytes(1)), ADMIN), 0xd4],
    ['Get q1 from system', (e) => sys(e, getRec(1, 0)), 0],
    ['Get q1 from LAN admin', (e) => lan(e, getRec(1, 0), ADMIN), 0xd4],
    ['Get q2 from LAN operator', (e) => lan(e, getRec(2, 0)), 0],
    ['Get q2 from LAN user', (e) => lan(e, getRec(2, 0), USER), 0xd4],
    ['Get q2 from system', (e) => sys(e, getRec(2, 0)), 0xd4],
    ['Info q1 from system', (e) => sys(e, info(1)), 0],
    ['Info q2 from LAN operator', (e) => lan(e, info(2)), 0],
    ['Info q2 from LAN user', (e) => lan(e, info(2), USER), 0xd4],
    ['Reset q1 from LAN operator', (e) => lan(e, reset(1)), 0xd4],
    ['Reset q2 from LAN admin', (e) => lan(e, reset(2), ADMIN), 0],
    ['Reset q1 from system', (e) => sys(e, reset(1)), 0xd4],
    ['Info on queue 3', (e) => lan(e, info(3)), 0xcc],
    ['Put on queue 0', (e) => lan(e, put(0, 1, bytes(1))), 0xcc],
  ];
  for (const [name, run, cc] of table) {
    it(`${name} → 0x${cc.toString(16).padStart(2, '0')}`, () => {
      expect(run(engine()).cc).toBe(cc);
    });
  }

  it('bad IANA → 0xCC, short data → 0xC7, unknown command → 0xC1; errors carry the IANA', () => {
    const e = engine();
    expect(e.handle(0x00, 'lan', 3, Uint8Array.of(0x01, 0x02, 0x03, 0x01))).toEqual({ cc: 0xcc, data: Uint8Array.of(0xd9, 0x7e, 0x00) });
    expect(e.handle(0x00, 'lan', 3, Uint8Array.of(0xd9, 0x7e))).toMatchObject({ cc: 0xc7 });
    expect(e.handle(0x00, 'lan', 3, Uint8Array.of(0xd9, 0x7e, 0x00, 0x01, 0x00))).toMatchObject({ cc: 0xc7 });
    expect(e.handle(0x05, 'lan', 3, Uint8Array.of(0xd9, 0x7e, 0x00, 0x01))).toEqual({ cc: 0xc1, data: Uint8Array.of(0xd9, 0x7e, 0x00) });
  });

  it('a store failure answers 0xFF, is logged, and leaves the queue unchanged', () => {
    const errors: string[] = [];
    const store = new FileQueueStore({ stateDir: tempDir('bmc-q-') });
    const e = new QueueEngine({ iana: IANA, randomBytes: countingRandom(), store, logger: { error: (_o, msg) => errors.push(msg) } });
    expect(lan(e, put(1, 1, bytes(1))).cc).toBe(0);
    // Closing the journal under the engine makes the next fsync'd append fail for real (EBADF).
    store.close();
    expect(lan(e, put(1, 2, bytes(2))).cc).toBe(0xff);
    expect(sys(e, getRec(1, 1)).cc).toBe(0xff);
    expect(e.snapshot(1)).toMatchObject({ lastPutSeq: 1, committedSeq: 0 });
    expect(e.depth(1)).toBe(1);
    expect(errors).toEqual(['queue command failed', 'queue command failed']);
    expect(e.stats.internalErrors).toBe(2);
  });
});
