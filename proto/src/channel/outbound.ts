/**
 * Sending side of an end-to-end channel (ARCHITECTURE.md "Reliability",
 * item 2): seal a Body under the next message id and cut it into BMC queue
 * records; remember what the peer has not acknowledged, and say when to send
 * it again.
 *
 * The tracker holds ids only. Callers keep the Body bytes durably (SQLite)
 * and re-seal on retransmission: a sealed envelope goes stale once its time
 * step leaves the receiver's skew, so the stored form is the plaintext body,
 * sealed again under the same message id with a fresh IV and step.
 */
import type { RandomBytes } from '../bytes.js';
import { sealEnvelope } from '../envelope/envelope.js';
import type { EnvelopeKeys } from '../envelope/key-schedule.js';
import { fragmentMessage } from '../fragments/fragment.js';
import type { Ack, Body, Direction } from '../messages/schema.js';

export interface OutboundOptions {
  keys: EnvelopeKeys;
  /** Direction of what this side sends. */
  sendDirection: Direction;
  /** The BMC's max_record (Get Queue Info). */
  maxRecord: number;
  randomBytes: RandomBytes;
}

/** Seals `body` as message `messageId` and splits it into queue records. */
export function sealRecords(options: OutboundOptions, messageId: number, body: Body, nowMs: number): Uint8Array[] {
  const envelope = sealEnvelope(options.keys, {
    direction: options.sendDirection,
    messageId,
    body,
    nowMs,
    randomBytes: options.randomBytes,
  });
  return fragmentMessage(envelope, messageId, options.maxRecord);
}

interface InFlight {
  firstSentAtMs: number;
  lastSentAtMs: number;
  attempts: number;
}

export interface RetransmitPolicy {
  /** Resend after this long without an acknowledgement (first attempt). */
  initialTimeoutMs: number;
  /** Each further attempt waits twice as long, up to this. */
  maxTimeoutMs: number;
}

export const DEFAULT_RETRANSMIT_POLICY: RetransmitPolicy = { initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 };

/**
 * Which sent message ids await acknowledgement, and which are due again.
 * Pure: the caller passes the time in.
 */
export class RetransmitTracker {
  readonly #inFlight = new Map<number, InFlight>();
  readonly #policy: RetransmitPolicy;

  constructor(policy: RetransmitPolicy = DEFAULT_RETRANSMIT_POLICY) {
    this.#policy = policy;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  /** Records a (re)transmission of `id` at `nowMs`. */
  track(id: number, nowMs: number): void {
    const entry = this.#inFlight.get(id);
    if (entry) {
      entry.lastSentAtMs = nowMs;
      entry.attempts += 1;
    } else {
      this.#inFlight.set(id, { firstSentAtMs: nowMs, lastSentAtMs: nowMs, attempts: 1 });
    }
  }

  /** Applies a cumulative (+ selective) ack; returns the ids it acknowledged, ascending. */
  ack(ack: Ack | null | undefined): number[] {
    if (!ack) return [];
    const done: number[] = [];
    const cumulative = ack.cumulativeId ?? 0;
    const selective = new Set(ack.selectiveIds ?? []);
    for (const id of this.#inFlight.keys()) {
      if (id <= cumulative || selective.has(id)) done.push(id);
    }
    for (const id of done) this.#inFlight.delete(id);
    return done.sort((a, b) => a - b);
  }

  /** Ids whose acknowledgement is overdue at `nowMs`, oldest first. */
  due(nowMs: number): number[] {
    const out: number[] = [];
    for (const [id, entry] of this.#inFlight) {
      const timeout = Math.min(this.#policy.maxTimeoutMs, this.#policy.initialTimeoutMs * 2 ** (entry.attempts - 1));
      if (nowMs - entry.lastSentAtMs >= timeout) out.push(id);
    }
    return out.sort((a, b) => a - b);
  }

  /** Marks every in-flight id due now (the BMC lost its queues, or the peer restarted). */
  expireAll(): void {
    for (const entry of this.#inFlight.values()) entry.lastSentAtMs = Number.NEGATIVE_INFINITY;
  }

  unacked(): number[] {
    return [...this.#inFlight.keys()].sort((a, b) => a - b);
  }

  attempts(id: number): number {
    return this.#inFlight.get(id)?.attempts ?? 0;
  }

  forget(id: number): void {
    this.#inFlight.delete(id);
  }
}
