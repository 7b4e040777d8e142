/**
 * What the queue engine needs from durable storage. A Put or reset must be
 * durable (written and fsynced) when `append` returns, because the engine
 * sends its response right after and the producer then counts on it. A
 * commit must be written (it survives the process) but need not be synced:
 * the reader holds its cursor durably and repeats it in every Get Record, so
 * one lost with the power is applied again by the next Get. A store that
 * throws leaves the engine's memory untouched (the engine appends first, then
 * mutates).
 */
import type { QueueSnapshot } from './buffer-queue.js';

export type QueueJournalEntry =
  /** The queue starts empty under `epoch` (first start or Reset Queue). */
  | { kind: 'reset'; queue: number; epoch: number }
  | { kind: 'put'; queue: number; seq: number; record: Uint8Array }
  | { kind: 'commit'; queue: number; committedSeq: number };

export interface QueueStore {
  /** The persisted state per queue number, or an empty map on first start. */
  load(): Map<number, QueueSnapshot>;
  /** Appends one entry: puts and resets durably (fsynced), commits written. */
  append(entry: QueueJournalEntry): void;
  /** Called after commits and resets with a way to read the live state, so the store may compact. */
  maybeCompact(liveState: () => ReadonlyMap<number, QueueSnapshot>): void;
  close(): void;
}
