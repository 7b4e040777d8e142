import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGetRecordResponse, decodeQueueInfoResponse, toHex } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { FileQueueStore, JOURNAL_FILE } from '../../src/queues/file-queue-store.js';
import { QueueEngine } from '../../src/queues/queue-engine.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bytes, countingRandom, getRec, IANA, info, lan, put, reset, sys, ADMIN } from './helpers.js';

function open(dir: string, opts: { minCompactBytes?: number } = {}) {
  const store = new FileQueueStore({ stateDir: dir, ...opts });
  return { store, engine: new QueueEngine({ iana: IANA, randomBytes: countingRandom(500), store }) };
}
const fresh = () => tempDir('bmc-journal-');

describe('FileQueueStore', () => {
  it('keeps records, seqs, commits and epochs across a reopen', () => {
    const dir = fresh();
    const a = open(dir);
    const epoch1 = a.engine.snapshot(1)?.epoch;
    for (let seq = 1; seq <= 3; seq++) lan(a.engine, put(1, seq, bytes(seq)));
    sys(a.engine, getRec(1, 1));
    sys(a.engine, put(2, 1, bytes(0x22)));
    lan(a.engine, reset(2), ADMIN);
    const epoch2 = a.engine.snapshot(2)?.epoch;
    a.store.close();

    const b = open(dir);
    expect(b.store.loadReport).toMatchObject({ tail: 'clean', droppedTailBytes: 0 });
    expect(b.engine.snapshot(1)).toMatchObject({ epoch: epoch1, lastPutSeq: 3, committedSeq: 1 });
    expect(b.engine.snapshot(2)).toMatchObject({ epoch: epoch2, lastPutSeq: 0, committedSeq: 0, records: [] });
    const rec = decodeGetRecordResponse(sys(b.engine, getRec(1, 1)).data);
    expect(rec).toMatchObject({ seq: 2, depth: 2 });
    // Idempotency survives too: seq 3 again is a duplicate, seq 4 is next.
    expect(lan(b.engine, put(1, 3, bytes(3))).cc).toBe(0);
    expect(b.engine.depth(1)).toBe(2);
    expect(lan(b.engine, put(1, 5, bytes(5))).cc).toBe(0x80);
    b.store.close();
  });

  it('drops a torn last write (file cut mid-entry) and keeps everything before it', () => {
    const dir = fresh();
    const a = open(dir);
    lan(a.engine, put(1, 1, bytes(1, 1, 1)));
    lan(a.engine, put(1, 2, bytes(2, 2, 2, 2, 2, 2)));
    a.store.close();
    const path = join(dir, JOURNAL_FILE);
    const size = statSync(path).size;
    truncateSync(path, size - 3);

    const b = open(dir);
    expect(b.store.loadReport.tail).toBe('torn');
    expect(b.store.loadReport.droppedTailBytes).toBe(8 + 6 + 6 - 3);
    expect(b.engine.snapshot(1)).toMatchObject({ lastPutSeq: 1 });
    expect(statSync(path).size).toBe(size - (8 + 6 + 6));
    // The producer's retransmission of seq 2 now appends it again: nothing lost.
    expect(lan(b.engine, put(1, 2, bytes(2, 2, 2, 2, 2, 2))).cc).toBe(0);
    b.store.close();
    expect(open(dir).engine.snapshot(1)?.lastPutSeq).toBe(2);
  });

  it('drops a tail whose CRC does not match, and a lone torn header', () => {
    const dir = fresh();
    const a = open(dir);
    lan(a.engine, put(1, 1, bytes(1)));
    a.store.close();
    const path = join(dir, JOURNAL_FILE);
    const good = readFileSync(path);
    const bad = new Uint8Array(good);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff; // flip the record byte: CRC fails
    writeFileSync(path, bad);
    const b = open(dir);
    expect(b.store.loadReport.tail).toBe('corrupt');
    expect(b.engine.snapshot(1)?.lastPutSeq).toBe(0);
    b.store.close();

    writeFileSync(path, good);
    appendFileSync(path, Uint8Array.of(0x10, 0x00, 0x00)); // 3 bytes of a next header
    const c = open(dir);
    expect(c.store.loadReport).toMatchObject({ tail: 'torn', droppedTailBytes: 3 });
    expect(c.engine.snapshot(1)?.lastPutSeq).toBe(1);
    c.store.close();
  });

  it('refuses a file that is not a queue journal', () => {
    const dir = fresh();
    writeFileSync(join(dir, JOURNAL_FILE), 'hello, this is not a journal');
    expect(() => new FileQueueStore({ stateDir: dir })).toThrow(/bad magic/);
  });

  it('compacts a long journal to the live state without changing it', () => {
    const dir = fresh();
    const a = open(dir, { minCompactBytes: 4096 });
    const record = new Uint8Array(100).fill(7);
    let seq = 0;
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 5; i++) lan(a.engine, put(1, ++seq, record));
      sys(a.engine, getRec(1, seq - 2)); // leave two live records each round
    }
    const before = a.engine.snapshot(1);
    expect(a.store.size).toBeLessThan(4096 * 2);
    expect(before).toMatchObject({ lastPutSeq: 300, committedSeq: 298 });
    a.store.close();
    const b = open(dir);
    const after = b.engine.snapshot(1);
    expect(after?.epoch).toBe(before?.epoch);
    expect(after?.records.map((r) => r.seq)).toEqual([299, 300]);
    expect(toHex(after?.records[0]?.bytes ?? new Uint8Array())).toBe(toHex(record));
    expect(decodeQueueInfoResponse(lan(b.engine, info(1)).data)).toMatchObject({ depth: 2, usedBytes: 200, lastPutSeq: 300, committedSeq: 298 });
    b.store.close();
  });
});
