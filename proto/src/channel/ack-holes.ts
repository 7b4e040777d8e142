/**
 * Ids the peer is missing that this side will never send again, so that an
 * empty body can be sent under each to fill the hole.
 *
 * Untracked messages (status reports, bare acks) take a message id but are
 * sent once: when one is lost (a record torn by a cut link, a stale time
 * step, a crash before it went out) the peer's cumulative ack stops below
 * it for good, and only the first 32 ids above it ride along as selective
 * acks. Every later tracked message would then stay unacknowledged and be
 * retransmitted until 1,024 more ids slid the window past the hole: the
 * retransmissions crowd the queue and the channel collapses.
 *
 * A hole is an id the ack shows missing (the first one above the cumulative
 * point, or any below the highest selective id) that was allocated, that
 * this side does not still hold to (re)send, and whose untracked message,
 * if this process sent it, went out at least `graceMs` ago (it may still be
 * queued unread; a filler arriving after it is dropped as a duplicate).
 */
import type { Ack } from '../messages/schema.js';

export interface HoleQuery {
  /** The peer's latest acknowledgement of this side's messages. */
  ack: Ack;
  /** This side's next message id: every id below it was allocated. */
  nextId: number;
  /** Ids this side still sends or resends (unacknowledged tracked bodies, queued or in flight). */
  willSend: (id: number) => boolean;
  /** When this process last put an untracked message (or a filler) under `id`. */
  sentAtMs: (id: number) => number | undefined;
  nowMs: number;
  graceMs: number;
  /** At most this many ids per call. */
  limit?: number;
}

export function unfillableHoles(q: HoleQuery): number[] {
  const cumulative = Number(q.ack.cumulativeId ?? 0);
  const selective = new Set((q.ack.selectiveIds ?? []).map(Number));
  let top = cumulative + 1;
  for (const id of selective) if (id > top) top = id;
  const limit = q.limit ?? 32;
  const out: number[] = [];
  for (let id = cumulative + 1; id <= top && id < q.nextId && out.length < limit; id++) {
    if (selective.has(id) || q.willSend(id)) continue;
    const sent = q.sentAtMs(id);
    if (sent !== undefined && q.nowMs - sent < q.graceMs) continue;
    out.push(id);
  }
  return out;
}
