/**
 * What the queue engine needs from durable storage. Every append must be
 * durable (written and fsynced) when it returns, because the engine sends its
 * response right after: a Put acknowledged to the producer or a commit
 * acknowledged to the reader must survive a crash. A store that throws leaves
 * the engine's memory untouched (the engine appends first, then mutates).
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
  /** Appends one entry durably. */
  append(entry: QueueJournalEntry): void;
  /** Called after commits and resets with a way to read the live state, so the store may compact. */
  maybeCompact(liveState: () => ReadonlyMap<number, QueueSnapshot>): void;
  close(): void;
}
