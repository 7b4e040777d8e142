/**
 * Durable queue state in `<stateDir>/queues.journal`: an append-only file of
 * CRC-checked entries (journal-format.ts).
 *
 * fsync point: `append` writes the entry and, for a Put or a reset, calls
 * fdatasync before it returns; the engine calls it before it changes memory
 * and before the response leaves, so every acknowledged Put and reset is on
 * disk. A commit is written but not synced: the reader keeps its own cursor
 * durably and repeats it in every Get Record, so a commit lost with the
 * machine's power is re-applied by the reader's next Get, and nothing can be
 * read twice or lost. (The next Put's fdatasync carries it to disk anyway.)
 *
 * On open, a torn or corrupt tail is dropped: the file is truncated to the
 * last intact entry (and the loss is logged). When the file has grown to
 * several times the live data, it is compacted: the live state is written to
 * a temporary file, fsynced, renamed over the journal and the directory
 * fsynced, so a crash at any point leaves either the old or the new file.
 */
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { QueueSnapshot, QueuedRecord } from './buffer-queue.js';
import { encodeEntry, JOURNAL_MAGIC, type JournalRecord, parseJournal } from './journal-format.js';
import type { QueueJournalEntry, QueueStore } from './queue-store.js';

export const JOURNAL_FILE = 'queues.journal';

export interface FileQueueStoreLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FileQueueStoreOptions {
  stateDir: string;
  logger?: FileQueueStoreLogger;
  /** Compact when the file exceeds max(minCompactBytes, compactRatio × live bytes). */
  minCompactBytes?: number;
  compactRatio?: number;
}

export interface LoadReport {
  entries: number;
  droppedTailBytes: number;
  tail: 'clean' | 'torn' | 'corrupt';
}

interface MutableQueue {
  epoch: number;
  lastPutSeq: number;
  committedSeq: number;
  records: QueuedRecord[];
}

/** Replays journal records into per-queue state. */
export function replayJournal(records: readonly JournalRecord[]): Map<number, QueueSnapshot> {
  const queues = new Map<number, MutableQueue>();
  const get = (queue: number): MutableQueue => {
    let q = queues.get(queue);
    if (q === undefined) {
      q = { epoch: 0, lastPutSeq: 0, committedSeq: 0, records: [] };
      queues.set(queue, q);
    }
    return q;
  };
  for (const r of records) {
    const q = get(r.queue);
    switch (r.kind) {
      case 'reset':
        Object.assign(q, { epoch: r.epoch, lastPutSeq: 0, committedSeq: 0, records: [] });
        break;
      case 'state':
        Object.assign(q, { epoch: r.epoch, lastPutSeq: r.lastPutSeq, committedSeq: r.committedSeq, records: [] });
        break;
      case 'put':
        q.records.push({ seq: r.seq, bytes: r.record });
        if (r.seq > q.lastPutSeq) q.lastPutSeq = r.seq;
        break;
      case 'commit':
        if (r.committedSeq > q.committedSeq) q.committedSeq = r.committedSeq;
        while (q.records.length > 0 && (q.records[0]?.seq ?? 0) <= q.committedSeq) q.records.shift();
        break;
    }
  }
  return new Map([...queues].map(([n, q]) => [n, { ...q }]));
}

export class FileQueueStore implements QueueStore {
  readonly path: string;
  readonly #dir: string;
  readonly #logger: FileQueueStoreLogger | undefined;
  readonly #minCompact: number;
  readonly #ratio: number;
  #fd: number;
  #size: number;
  #loaded: Map<number, QueueSnapshot>;
  #broken = false;
  readonly loadReport: LoadReport;

  constructor(options: FileQueueStoreOptions) {
    this.#dir = options.stateDir;
    this.#logger = options.logger;
    this.#minCompact = options.minCompactBytes ?? 1 << 20;
    this.#ratio = options.compactRatio ?? 4;
    this.path = join(this.#dir, JOURNAL_FILE);
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });

    let existing: Uint8Array | undefined;
    try {
      existing = new Uint8Array(readFileSync(this.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (existing === undefined || existing.length < JOURNAL_MAGIC.length) {
      // First start (or a crash while the empty file was being created): begin a fresh journal atomically.
      this.#writeFileAtomically([]);
      existing = JOURNAL_MAGIC.slice();
    } else if (!JOURNAL_MAGIC.every((b, i) => existing?.[i] === b)) {
      throw new Error(`${this.path} is not a bmc-oem queue journal (bad magic); refusing to overwrite it`);
    }
    const parsed = parseJournal(existing);
    this.#fd = openSync(this.path, 'r+', 0o600);
    this.#size = parsed.goodLength;
    const dropped = existing.length - parsed.goodLength;
    if (dropped > 0) {
      // A torn last write (crash mid-append) or a corrupt tail: drop it so new entries follow intact ones.
      ftruncateSync(this.#fd, parsed.goodLength);
      fsyncSync(this.#fd);
      this.#logger?.warn({ path: this.path, droppedBytes: dropped, tail: parsed.tail }, 'queue journal: dropped an incomplete last entry');
    }
    this.loadReport = { entries: parsed.records.length, droppedTailBytes: dropped, tail: parsed.tail };
    this.#loaded = replayJournal(parsed.records);
  }

  load(): Map<number, QueueSnapshot> {
    return this.#loaded;
  }

  /** Current journal size in bytes. */
  get size(): number {
    return this.#size;
  }

  append(entry: QueueJournalEntry): void {
    if (this.#broken) throw new Error('queue journal is unusable after an earlier write failure');
    const bytes = encodeEntry(entry);
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.#fd, bytes, written, bytes.length - written, this.#size + written);
      if (entry.kind !== 'commit') fdatasyncSync(this.#fd);
    } catch (err) {
      // Cut off whatever part was written so later entries do not follow garbage; if even that fails, stop accepting writes.
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        this.#broken = true;
      }
      throw err;
    }
    this.#size += bytes.length;
  }

  maybeCompact(liveState: () => ReadonlyMap<number, QueueSnapshot>): void {
    if (this.#broken || this.#size < this.#minCompact) return;
    const state = liveState();
    let live = JOURNAL_MAGIC.length;
    for (const q of state.values()) for (const r of q.records) live += r.bytes.length + 14;
    if (this.#size < this.#ratio * live) return;
    const before = this.#size;
    const entries: JournalRecord[] = [];
    for (const [queue, q] of state) {
      entries.push({ kind: 'state', queue, epoch: q.epoch, lastPutSeq: q.lastPutSeq, committedSeq: q.committedSeq });
      for (const r of q.records) entries.push({ kind: 'put', queue, seq: r.seq, record: r.bytes });
    }
    closeSync(this.#fd);
    this.#size = this.#writeFileAtomically(entries);
    this.#fd = openSync(this.path, 'r+', 0o600);
    this.#logger?.info({ path: this.path, before, after: this.#size }, 'queue journal compacted');
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Writes magic + entries to a temp file, fsyncs it, renames it over the journal and fsyncs the directory. */
  #writeFileAtomically(entries: readonly JournalRecord[]): number {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    let size = 0;
    try {
      for (const chunk of [JOURNAL_MAGIC, ...entries.map(encodeEntry)]) {
        let written = 0;
        while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, size + written);
        size += chunk.length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return size;
  }
}
