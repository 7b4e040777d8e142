/**
 * One BMC buffer queue in memory: records with their producer seq, the two
 * sequence counters and the epoch (PROTOCOL.md §2). No rules here beyond
 * bookkeeping; the engine decides what is allowed.
 */

export interface QueuedRecord {
  seq: number;
  bytes: Uint8Array;
}

export interface QueueSnapshot {
  epoch: number;
  lastPutSeq: number;
  committedSeq: number;
  records: readonly QueuedRecord[];
}

export class BufferQueue {
  epoch: number;
  lastPutSeq = 0;
  committedSeq = 0;
  usedBytes = 0;
  // A ring would do too; an array with a head index keeps release O(1) amortised.
  #records: QueuedRecord[] = [];
  #head = 0;

  constructor(epoch: number) {
    this.epoch = epoch;
  }

  get depth(): number {
    return this.#records.length - this.#head;
  }

  oldest(): QueuedRecord | undefined {
    return this.#records[this.#head];
  }

  records(): QueuedRecord[] {
    return this.#records.slice(this.#head);
  }

  append(seq: number, bytes: Uint8Array): void {
    this.#records.push({ seq, bytes });
    this.usedBytes += bytes.length;
    this.lastPutSeq = seq;
  }

  /** Releases every record with seq <= upTo; returns how many went. */
  releaseThrough(upTo: number): number {
    let released = 0;
    for (let r = this.#records[this.#head]; r !== undefined && r.seq <= upTo; r = this.#records[this.#head]) {
      this.usedBytes -= r.bytes.length;
      this.#head++;
      released++;
    }
    if (upTo > this.committedSeq) this.committedSeq = upTo;
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
    return released;
  }

  /** Empties the queue and starts over under a new epoch. */
  reset(epoch: number): void {
    this.epoch = epoch;
    this.lastPutSeq = 0;
    this.committedSeq = 0;
    this.usedBytes = 0;
    this.#records = [];
    this.#head = 0;
  }

  /** Replaces the whole state (used when loading persisted queues). */
  restore(s: QueueSnapshot): void {
    this.reset(s.epoch);
    this.lastPutSeq = s.lastPutSeq;
    this.committedSeq = s.committedSeq;
    for (const r of s.records) {
      this.#records.push(r);
      this.usedBytes += r.bytes.length;
    }
  }

  snapshot(): QueueSnapshot {
    return { epoch: this.epoch, lastPutSeq: this.lastPutSeq, committedSeq: this.committedSeq, records: this.records() };
  }
}
