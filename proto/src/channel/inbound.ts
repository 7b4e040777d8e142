/**
 * Receiving side of an end-to-end channel: records in, delivered bodies
 * out, exactly once. Reassembles fragments, opens envelopes, and drops
 * message ids already delivered (ReplayWindow, persisted by the caller via
 * `windowState()` and `peerState()`). Every failure comes back as an event
 * with a stable code rather than an exception, so the caller can count it
 * and raise the matching security alert without a try/catch around each
 * record.
 *
 * Time (docs/protocol.md "Time"): an envelope is authenticated under
 * whatever time step it names, and only then judged by its age, against the
 * peer's clock as learned from the envelopes delivered so far (ClockOffset).
 * Replays are stopped by message ids, not by time; the step window bounds
 * what a receiver that lost its window could be made to accept, so an
 * envelope outside it is not delivered, and is reported as:
 * - `late` `waited`: it may have sat in the BMC queue (sealed after this side
 *   last saw the queue empty, or no such observation): benign, the sender
 *   sends it again under a fresh step;
 * - `late` `clock`: sealed before the queue was last seen empty and newer
 *   than anything delivered: the peer's clock is behind beyond tolerance;
 * - `late` `held-back`: sealed before the queue was last seen empty, under an
 *   id below ones already delivered: someone held it back and put it now.
 *   This one cannot be benign (stale_time_step alert);
 * - `ahead`: sealed in the future beyond tolerance: the peer's clock is ahead.
 */
import { openEnvelope, type OpenedEnvelope } from '../envelope/envelope.js';
import type { EnvelopeKeys } from '../envelope/key-schedule.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow, type ReplayWindowState } from '../envelope/replay-window.js';
import { WireError, type WireErrorCode } from '../errors.js';
import { Reassembler } from '../fragments/fragment.js';
import type { Ack, backchannel, Direction } from '../messages/schema.js';
import { acceptedSteps, ClockOffset, type ClockOffsetState, DEFAULT_TIME_TOLERANCE, type TimeTolerance } from './clock-offset.js';

export interface InboundOptions {
  keys: EnvelopeKeys;
  /** Direction of what this side receives. */
  receiveDirection: Direction;
  /** Largest reassembled envelope accepted (default 1 MiB). */
  maxMessageBytes?: number;
  /** Persisted window from a previous run. */
  window?: ReplayWindowState;
  windowSize?: number;
  /** Persisted clock offset and peer incarnations from a previous run. */
  peer?: PeerState;
  time?: TimeTolerance;
}

/** What this side learned about its peer, to persist beside the window. */
export interface PeerState extends ClockOffsetState {
  /** Incarnations of the peer seen in its Hellos, newest last (at most 16). */
  incarnations: number[];
  /** Ids up to this were delivered before the peer's last rewind: delivered again, they are `redelivery` (0 or absent: none). */
  redeliverUpTo?: number;
}

/**
 * How far before the moment this side last saw the queue empty an envelope
 * must have been sealed to count as not having waited in it: margin for a
 * sender that seals and then waits for room in a full queue.
 */
export const HELD_BACK_GRACE_MS = 2 * 60_000;

/**
 * A record read within this long of the last empty Get Record waited at most
 * that long in the queue (more than the slowest idle poll, 1 s by default):
 * its clock sample may lower the estimate of the peer's clock (ClockOffset).
 */
export const FRESH_AFTER_EMPTY_MS = 5_000;

export type LateReason = 'waited' | 'clock' | 'held-back';

export type InboundEvent =
  /**
   * `rewound`: this Hello started the window again (docs/protocol.md "Incarnations").
   * `redelivery`: an id we had delivered before that rewind; the peer may be sending the same
   * message again (not an attack: only the peer can seal), so an effect it names was maybe
   * done already.
   */
  | { kind: 'delivered'; messageId: number; body: backchannel.v1.Body; sentAtMs: number; rewound?: boolean; redelivery?: boolean }
  | { kind: 'duplicate'; messageId: number }
  | { kind: 'late'; messageId: number; sentAtMs: number; ageMs: number; reason: LateReason }
  | { kind: 'ahead'; messageId: number; sentAtMs: number; offsetMs: number }
  | { kind: 'rejected'; code: WireErrorCode; message: string; messageId?: number };

export class InboundChannel {
  readonly #keys: EnvelopeKeys;
  readonly #direction: Direction;
  readonly #reassembler: Reassembler;
  readonly #window: ReplayWindow;
  readonly #clock: ClockOffset;
  readonly #time: TimeTolerance;
  readonly #incarnations: number[];
  #queueEmptyAtMs: number | undefined;
  /** Ids up to this were delivered before the peer's last rewind (kept in PeerState across restarts). */
  #redeliverUpTo: number;

  constructor(options: InboundOptions) {
    this.#keys = options.keys;
    this.#direction = options.receiveDirection;
    this.#reassembler = new Reassembler({ maxMessageBytes: options.maxMessageBytes ?? 1 << 20 });
    this.#window = new ReplayWindow(options.window?.size ?? options.windowSize ?? DEFAULT_REPLAY_WINDOW, options.window);
    this.#clock = new ClockOffset(options.peer);
    this.#time = options.time ?? DEFAULT_TIME_TOLERANCE;
    this.#incarnations = [...(options.peer?.incarnations ?? [])].slice(-16);
    this.#redeliverUpTo = options.peer?.redeliverUpTo ?? 0;
  }

  /** Feeds one queue record; returns an event when it completed (or broke) a message. */
  pushRecord(record: Uint8Array, nowMs: number): InboundEvent | undefined {
    let envelope: Uint8Array | undefined;
    try {
      envelope = this.#reassembler.push(record);
    } catch (err) {
      return rejected(err);
    }
    return envelope === undefined ? undefined : this.pushEnvelope(envelope, nowMs);
  }

  /** Opens one whole envelope (already reassembled). */
  pushEnvelope(envelope: Uint8Array, nowMs: number): InboundEvent {
    let opened: OpenedEnvelope;
    try {
      opened = openEnvelope(this.#keys, envelope, { direction: this.#direction, nowMs, anyStep: true });
    } catch (err) {
      return rejected(err);
    }
    const id = opened.header.messageId;
    const body = opened.body;
    const step = opened.header.timeStep;
    // Sealed by a peer that predates sent_at_ms: the middle of its step is as close as we get.
    const sentAtMs = Number(body.sentAtMs ?? 0) || (step + 0.5) * this.#keys.stepSeconds * 1000;
    const { lo, hi } = acceptedSteps(this.#keys, nowMs, this.#clock.offsetMs, this.#time);
    const inTime = step >= lo && step <= hi;
    let rewound = false;
    const hello = body.hello && inTime && this.#isNewIncarnation(body.hello) ? body.hello : undefined;
    const freshId = this.#window.check(id) === 'fresh';
    if (!freshId && !hello) return { kind: 'duplicate', messageId: id };
    if (hello) {
      // A new life of the peer (authenticated: only it can seal). It sends again everything from its
      // first unacknowledged id, and those ids may name other messages than the ones we delivered
      // under them (its store wiped or restored from an older copy), even when the Hello's own id is
      // fresh to us: start the window again just below that id. What follows up to what we had
      // delivered is marked `redelivery` (request ids keep effects from happening twice).
      const first = Number(hello.firstUnackedId ?? 0);
      const rewindTo = (first >= 1 && first <= id ? first : id) - 1;
      if (!freshId || rewindTo < this.#window.highest) {
        this.#redeliverUpTo = Math.max(this.#redeliverUpTo, this.#window.highest);
        this.#window.rewindTo(rewindTo);
        rewound = true;
      }
    }
    if (step > hi) return { kind: 'ahead', messageId: id, sentAtMs, offsetMs: sentAtMs - nowMs };
    if (step < lo) {
      const sealedLocalMs = sentAtMs - (this.#clock.offsetMs ?? 0);
      const beforeEmpty = this.#queueEmptyAtMs !== undefined && sealedLocalMs < this.#queueEmptyAtMs - HELD_BACK_GRACE_MS;
      const reason: LateReason = !beforeEmpty ? 'waited' : id < this.#window.highest ? 'held-back' : 'clock';
      return { kind: 'late', messageId: id, sentAtMs, ageMs: nowMs - sealedLocalMs, reason };
    }
    this.#window.accept(id);
    if (body.hello && this.#isNewIncarnation(body.hello)) {
      this.#clock.forgetSamples(); // a restarted peer: its clock may have been stepped meanwhile
      this.#noteIncarnation(body.hello);
    }
    // Read soon after the queue was seen empty: it waited little, so it may pull the clock estimate down.
    const fresh = this.#queueEmptyAtMs !== undefined && nowMs - this.#queueEmptyAtMs <= FRESH_AFTER_EMPTY_MS;
    this.#clock.sample(sentAtMs, nowMs, fresh);
    const event: InboundEvent & { kind: 'delivered' } = { kind: 'delivered', messageId: id, body, sentAtMs };
    if (rewound) event.rewound = true;
    if (id <= this.#redeliverUpTo) event.redelivery = true;
    return event;
  }

  /** A Get Record found the queue empty at `nowMs`: whatever is read later was put after this. */
  sawEmptyQueue(nowMs: number): void {
    this.#queueEmptyAtMs = nowMs;
  }

  /** Peer clock minus ours (ms) as learned from delivered envelopes; null before the first. */
  get clockOffsetMs(): number | null {
    return this.#clock.offsetMs;
  }

  /** The acknowledgement to piggyback on the next outbound message. */
  ack(selectiveLimit = 32): Ack {
    return { cumulativeId: this.#window.cumulative, selectiveIds: this.#window.selective(selectiveLimit), incarnation: this.#incarnations.at(-1) ?? 0 };
  }

  /** The peer said (Hello) it will never send ids at or below `id` again. */
  skipTo(id: number): void {
    this.#window.advanceTo(id);
  }

  windowState(): ReplayWindowState {
    return this.#window.snapshot();
  }

  peerState(): PeerState {
    const state: PeerState = { ...this.#clock.state(), incarnations: [...this.#incarnations] };
    if (this.#redeliverUpTo > 0) state.redeliverUpTo = this.#redeliverUpTo;
    return state;
  }

  /** Drops a half-reassembled message (the BMC's queues were reset). */
  resetReassembly(): void {
    this.#reassembler.reset();
  }

  #isNewIncarnation(hello: backchannel.v1.IHello): boolean {
    const inc = Number(hello.incarnation ?? 0);
    return inc !== 0 && !this.#incarnations.includes(inc);
  }

  #noteIncarnation(hello: backchannel.v1.IHello): void {
    const inc = Number(hello.incarnation ?? 0);
    if (inc === 0 || this.#incarnations.includes(inc)) return;
    this.#incarnations.push(inc);
    if (this.#incarnations.length > 16) this.#incarnations.shift();
  }
}

function rejected(err: unknown): InboundEvent {
  if (err instanceof WireError) return { kind: 'rejected', code: err.code, message: err.message };
  throw err;
}

/**
 * Whether an ack the peer sent is about this process's ids: it names our
 * incarnation, or none (the peer has seen no Hello of ours yet, or predates
 * the field). An ack naming another incarnation was about an earlier
 * process's ids (docs/protocol.md "Incarnations"): after a store restored
 * from an older copy the same ids name other messages, which it must not
 * release. `own`: the incarnation our Hello carried (undefined before one).
 */
export function ackIsForUs(ack: Ack, own: number | undefined): boolean {
  const named = Number(ack.incarnation ?? 0);
  return named === 0 || named === own;
}
