/**
 * Byte layout of the queue journal (docs/bmc-queues.md "Durable state").
 *
 *   file    = magic "BCQJ" version[1]=1 reserved[3]=0, then entries
 *   entry   = length[4] crc32[4] payload[length]      (LE; crc32 of payload)
 *   payload = type[1] queue[1] fields...
 *     0x01 reset   epoch[4]
 *     0x02 put     seq[4] record[..]
 *     0x03 commit  committed_seq[4]
 *     0x04 state   epoch[4] last_put_seq[4] committed_seq[4]   (compaction)
 *
 * A crash can leave the last entry half-written; its length or CRC then
 * fails and the loader stops there and truncates (a torn write is dropped).
 */
import { crc32 } from 'node:zlib';
import { readU32LE, writeU32LE } from '@backchannel/proto';
import type { QueueJournalEntry } from './queue-store.js';

export const JOURNAL_MAGIC = Uint8Array.of(0x42, 0x43, 0x51, 0x4a, 0x01, 0x00, 0x00, 0x00); // "BCQJ" v1
export const ENTRY_HEADER_BYTES = 8;
/** Bound on one payload: far above any record, so a corrupt length cannot make us allocate gigabytes. */
export const MAX_ENTRY_PAYLOAD = 1 << 20;

export const EntryType = { Reset: 0x01, Put: 0x02, Commit: 0x03, State: 0x04 } as const;

export type JournalRecord =
  | QueueJournalEntry
  /** Written by compaction: the counters of a queue whose live records follow as puts. */
  | { kind: 'state'; queue: number; epoch: number; lastPutSeq: number; committedSeq: number };

export function encodeEntry(entry: JournalRecord): Uint8Array {
  let payload: Uint8Array;
  switch (entry.kind) {
    case 'reset':
      payload = new Uint8Array(6);
      payload[0] = EntryType.Reset;
      writeU32LE(payload, 2, entry.epoch);
      break;
    case 'put':
      payload = new Uint8Array(6 + entry.record.length);
      payload[0] = EntryType.Put;
      writeU32LE(payload, 2, entry.seq);
      payload.set(entry.record, 6);
      break;
    case 'commit':
      payload = new Uint8Array(6);
      payload[0] = EntryType.Commit;
      writeU32LE(payload, 2, entry.committedSeq);
      break;
    case 'state':
      payload = new Uint8Array(14);
      payload[0] = EntryType.State;
      writeU32LE(payload, 2, entry.epoch);
      writeU32LE(payload, 6, entry.lastPutSeq);
      writeU32LE(payload, 10, entry.committedSeq);
      break;
  }
  payload[1] = entry.queue;
  const out = new Uint8Array(ENTRY_HEADER_BYTES + payload.length);
  writeU32LE(out, 0, payload.length);
  writeU32LE(out, 4, crc32(payload) >>> 0);
  out.set(payload, ENTRY_HEADER_BYTES);
  return out;
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Offset just past the last intact entry; anything after it is a torn or corrupt tail. */
  goodLength: number;
  /** Why parsing stopped before the end of the file, if it did. */
  tail: 'clean' | 'torn' | 'corrupt';
}

function decodePayload(p: Uint8Array): JournalRecord | undefined {
  const type = p[0];
  const queue = p[1] ?? 0;
  switch (type) {
    case EntryType.Reset:
      return p.length === 6 ? { kind: 'reset', queue, epoch: readU32LE(p, 2) } : undefined;
    case EntryType.Put:
      return p.length > 6 ? { kind: 'put', queue, seq: readU32LE(p, 2), record: p.slice(6) } : undefined;
    case EntryType.Commit:
      return p.length === 6 ? { kind: 'commit', queue, committedSeq: readU32LE(p, 2) } : undefined;
    case EntryType.State:
      return p.length === 14 ? { kind: 'state', queue, epoch: readU32LE(p, 2), lastPutSeq: readU32LE(p, 6), committedSeq: readU32LE(p, 10) } : undefined;
    default:
      return undefined;
  }
}

/** Parses a whole journal file (magic included). Never throws on content. */
export function parseJournal(file: Uint8Array): ParsedJournal {
  const records: JournalRecord[] = [];
  let at = JOURNAL_MAGIC.length;
  while (at < file.length) {
    if (at + ENTRY_HEADER_BYTES > file.length) return { records, goodLength: at, tail: 'torn' };
    const length = readU32LE(file, at);
    if (length < 2 || length > MAX_ENTRY_PAYLOAD) return { records, goodLength: at, tail: 'corrupt' };
    if (at + ENTRY_HEADER_BYTES + length > file.length) return { records, goodLength: at, tail: 'torn' };
    const payload = file.subarray(at + ENTRY_HEADER_BYTES, at + ENTRY_HEADER_BYTES + length);
    if (crc32(payload) >>> 0 !== readU32LE(file, at + 4)) return { records, goodLength: at, tail: 'corrupt' };
    const record = decodePayload(payload);
    if (record === undefined) return { records, goodLength: at, tail: 'corrupt' };
    records.push(record);
    at += ENTRY_HEADER_BYTES + length;
  }
  return { records, goodLength: at, tail: 'clean' };
}
