/**
 * Everything the agent sends the manager, in message-id order, durably.
 * Tracked bodies (results, challenges, alerts, Hello, Resync) are stored as Body
 * protobuf bytes in the outbox until the manager acknowledges them, and re-sealed
 * (fresh IV and time step, current piggybacked ack) each time they are written;
 * untracked ones (status reports, bare acks) are sent once from memory, since the
 * next one supersedes them. An untracked one that never reached the manager
 * leaves a hole its cumulative ack cannot pass; once the ack shows it, an empty
 * body goes out under that id (proto `unfillableHoles`).
 */
import {
  type Ack,
  type Body,
  decodeBody,
  Direction,
  encodeBody,
  type EnvelopeKeys,
  type RandomBytes,
  RetransmitTracker,
  type RetransmitPolicy,
  sealRecords,
  unfillableHoles,
} from '@backchannel/proto';
import type { AgentStore } from '../store/agent-store.js';

interface Pending {
  messageId: number;
  /** In memory for untracked bodies; tracked ones are read back from the outbox. */
  body?: Body;
}

const MAX_UNTRACKED_PENDING = 64;

export class OutboundQueue {
  readonly #store: AgentStore;
  readonly #keys: EnvelopeKeys;
  readonly #randomBytes: RandomBytes;
  readonly #tracker: RetransmitTracker;
  readonly #currentAck: () => Ack;
  readonly #pending: Pending[] = [];
  readonly #retransmit: RetransmitPolicy;
  /** When each untracked body (or hole filler) went out, until the manager acknowledges its id. */
  readonly #untrackedSentAt = new Map<number, number>();
  #onEnqueue: () => void = () => undefined;

  constructor(args: { store: AgentStore; keys: EnvelopeKeys; randomBytes: RandomBytes; retransmit: RetransmitPolicy; currentAck: () => Ack }) {
    this.#store = args.store;
    this.#keys = args.keys;
    this.#randomBytes = args.randomBytes;
    this.#tracker = new RetransmitTracker(args.retransmit);
    this.#retransmit = args.retransmit;
    this.#currentAck = args.currentAck;
    // After a restart every unacknowledged body goes out again.
    for (const id of this.#store.outboxIds()) this.#pending.push({ messageId: id });
  }

  set onEnqueue(listener: () => void) {
    this.#onEnqueue = listener;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  get unackedCount(): number {
    return this.#store.outboxIds().length;
  }

  /**
   * Durably enqueues `body` (call inside the caller's journal transaction). `first`: put it
   * out before what is already pending (the Hello: after a restore the manager must rewind its
   * window, docs/protocol.md "Incarnations", before it sees the older ids still pending).
   */
  sendTracked(body: Body, nowMs: number, options: { first?: boolean } = {}): number {
    const id = this.#store.nextMessageId();
    this.#store.addOutbox(id, encodeBody({ ...body, ack: undefined }), nowMs);
    if (options.first) this.#pending.unshift({ messageId: id });
    else this.#pending.push({ messageId: id });
    this.#onEnqueue();
    return id;
  }

  /** Sends once, not retransmitted (status reports, bare acks). */
  sendUntracked(body: Body): number {
    const id = this.#store.nextMessageId();
    const untracked = this.#pending.filter((p) => p.body);
    if (untracked.length >= MAX_UNTRACKED_PENDING) {
      const drop = untracked[0];
      this.#pending.splice(this.#pending.indexOf(drop as Pending), 1);
    }
    this.#pending.push({ messageId: id, body });
    this.#onEnqueue();
    return id;
  }

  /** Applies the manager's acknowledgement; returns the ids it released. */
  acknowledge(ack: Ack | null | undefined, nowMs: number = Date.now()): number[] {
    if (!ack) return [];
    const cumulative = ack.cumulativeId ?? 0;
    const selective = new Set(ack.selectiveIds ?? []);
    this.#tracker.ack(ack);
    const nextId = this.#store.peekNextMessageId();
    const outbox = this.#store.outboxIds();
    const done = outbox.filter((id) => id <= cumulative || selective.has(id));
    if (done.length > 0) this.#store.removeOutbox(done);
    for (const id of this.#untrackedSentAt.keys()) if (id <= cumulative || selective.has(id)) this.#untrackedSentAt.delete(id);
    this.#fillHoles(ack, nextId, new Set(outbox.filter((id) => !done.includes(id))), nowMs);
    return done;
  }

  /** Queues an empty body under each id the manager lacks and will never get otherwise. */
  #fillHoles(ack: Ack, nextId: number, unacked: ReadonlySet<number>, nowMs: number): void {
    const pending = new Set(this.#pending.map((p) => p.messageId));
    const holes = unfillableHoles({
      ack,
      nextId,
      willSend: (id) => unacked.has(id) || pending.has(id),
      sentAtMs: (id) => this.#untrackedSentAt.get(id),
      nowMs,
      graceMs: this.#retransmit.initialTimeoutMs,
    });
    if (holes.length === 0) return;
    for (const id of holes) this.#pending.push({ messageId: id, body: {} });
    this.#pending.sort((a, b) => a.messageId - b.messageId);
    this.#onEnqueue();
  }

  /** Queues overdue unacknowledged bodies again. */
  requeueDue(nowMs: number): number {
    let count = 0;
    for (const id of this.#tracker.due(nowMs)) {
      if (this.#pending.some((p) => p.messageId === id)) continue;
      if (!this.#store.outboxBody(id)) {
        this.#tracker.forget(id);
        continue;
      }
      this.#pending.push({ messageId: id });
      count += 1;
    }
    this.#pending.sort((a, b) => a.messageId - b.messageId);
    if (count > 0) this.#onEnqueue();
    return count;
  }

  /** The BMC lost its queues or the peer asked: everything unacknowledged is due now. */
  expireAll(nowMs: number): number {
    this.#tracker.expireAll();
    for (const id of this.#store.outboxIds()) if (this.#tracker.attempts(id) === 0) this.#tracker.track(id, Number.NEGATIVE_INFINITY);
    return this.requeueDue(nowMs);
  }

  /**
   * Seals the next pending message into queue records (or undefined when idle).
   * The message stays pending until `sent` confirms every record was put.
   */
  peek(nowMs: number, maxRecord: number): { messageId: number; records: Uint8Array[] } | undefined {
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as Pending;
      const stored = next.body ? undefined : this.#store.outboxBody(next.messageId);
      if (!next.body && !stored) {
        this.#pending.shift(); // acknowledged while waiting
        continue;
      }
      const body: Body = { ...(next.body ?? decodeBody(stored as Uint8Array)), ack: this.#currentAck() };
      const records = sealRecords({ keys: this.#keys, sendDirection: Direction.DIRECTION_TO_MANAGER, maxRecord, randomBytes: this.#randomBytes }, next.messageId, body, nowMs);
      return { messageId: next.messageId, records };
    }
    return undefined;
  }

  sent(messageId: number, nowMs: number): void {
    const index = this.#pending.findIndex((p) => p.messageId === messageId);
    if (index < 0) return;
    const [entry] = this.#pending.splice(index, 1);
    if (!entry?.body) this.#tracker.track(messageId, nowMs);
    else if (this.#untrackedSentAt.size < 4096) this.#untrackedSentAt.set(messageId, nowMs);
  }
}
