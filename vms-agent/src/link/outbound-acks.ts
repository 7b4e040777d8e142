/**
 * Our side of the host's acknowledgements: which of the messages we sent it
 * has acknowledged, and which ids it lacks for good and must get an empty
 * body under (holes).
 *
 * A bare ack takes an id but is sent once; when one never reached the host (a link
 * failure mid-put, a restart before it went out) the host's cumulative ack stops below
 * it for good and only 32 selective ids ride above, so every later message would stay
 * unacknowledged and be retransmitted. An empty body under the missing id fills it.
 */
import { type Ack, type RetransmitTracker, unfillableHoles } from '@backchannel/proto';
import type { Store } from '../store/store.js';

export interface HoleFillerOptions {
  store: Store;
  hostId: string;
  /** How long a bare ack may take to be acknowledged before its id counts as lost. */
  graceMs: number;
}

/**
 * How often at most an ack is searched for holes. A hole only counts once its bare ack
 * has gone unacknowledged for `graceMs` (seconds), and it stays in every later ack until
 * filled, so looking at one ack a second finds it as surely as looking at each, without
 * two store reads on every delivery.
 */
const CHECK_EVERY_MS = 1_000;

export class HoleFiller {
  readonly #o: HoleFillerOptions;
  #lastCheckMs = Number.NEGATIVE_INFINITY;
  /** When each bare ack (or hole filler) went out, until the host acknowledges its id. */
  readonly #untrackedSentAt = new Map<number, number>();
  /** Ids the host lacks and will never get otherwise (a lost bare ack): empty bodies go out under them. */
  #holes: number[] = [];

  constructor(options: HoleFillerOptions) {
    this.#o = options;
  }

  /** A bare ack or hole filler went out under `id` at `atMs`; bounded so a silent host cannot grow it. */
  sentUntracked(id: number, atMs: number): void {
    if (this.#untrackedSentAt.size < 4096) this.#untrackedSentAt.set(id, atMs);
  }

  /** The lowest id still to be filled, taken off the list. */
  nextHole(): number | undefined {
    return this.#holes.shift();
  }

  /**
   * Looks for new holes below the host's ack; true when some were found (they go out next).
   * `pendingId` gives the message being put right now, if any: it is on its way, not a hole.
   */
  async update(ack: Ack, nowMs: number, pendingId: () => number | undefined): Promise<boolean> {
    const cumulative = ack.cumulativeId ?? 0;
    for (const id of this.#untrackedSentAt.keys()) if (id <= cumulative) this.#untrackedSentAt.delete(id);
    if (nowMs - this.#lastCheckMs < CHECK_EVERY_MS) return false;
    this.#lastCheckMs = nowMs;
    // The next id first, then the outbox: an id allocated in between (a command queued by
    // the API, a challenge response just stored) is at or above `nextId` and never taken
    // for a hole; one allocated before is in the outbox unless it was acknowledged.
    const host = await this.#o.store.getHost(this.#o.hostId);
    if (!host) return false;
    const unacked = new Set((await this.#o.store.listOutbox(this.#o.hostId)).map((e) => e.messageId));
    const pending = pendingId();
    const queued = new Set([...this.#holes, ...(pending !== undefined ? [pending] : [])]);
    const holes = unfillableHoles({
      ack,
      nextId: host.nextMessageId,
      willSend: (id) => unacked.has(id) || queued.has(id),
      sentAtMs: (id) => this.#untrackedSentAt.get(id),
      nowMs,
      graceMs: this.#o.graceMs,
    });
    if (holes.length === 0) return false;
    this.#holes = [...this.#holes, ...holes].sort((a, b) => a - b);
    return true;
  }
}

/** The ids of ours that `acks` acknowledge: those the tracker releases and any in `outboxIds` they cover. */
export function ackedIds(acks: readonly Ack[], tracker: RetransmitTracker, outboxIds: readonly number[]): Set<number> {
  const acked = new Set<number>();
  for (const ack of acks) {
    for (const id of tracker.ack(ack)) acked.add(id);
    for (const id of outboxIds) if (isAcked(ack, id)) acked.add(id);
  }
  return acked;
}

function isAcked(ack: Ack, id: number): boolean {
  return id <= (ack.cumulativeId ?? 0) || (ack.selectiveIds ?? []).includes(id);
}
