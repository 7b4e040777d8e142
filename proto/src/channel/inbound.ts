/**
 * Receiving side of an end-to-end channel: records in, delivered bodies
 * out, exactly once. Reassembles fragments, opens envelopes, and drops
 * message ids already delivered (ReplayWindow, persisted by the caller via
 * `windowState()`). Every failure comes back as a `rejected` event with a
 * stable code rather than an exception, so the caller can count it and
 * raise the matching security alert (decryption failure, stale time step,
 * replay) without a try/catch around each record.
 */
import { openEnvelope } from '../envelope/envelope.js';
import type { EnvelopeKeys } from '../envelope/key-schedule.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow, type ReplayWindowState } from '../envelope/replay-window.js';
import { WireError, type WireErrorCode } from '../errors.js';
import { Reassembler } from '../fragments/fragment.js';
import type { Ack, backchannel, Direction } from '../messages/schema.js';

export interface InboundOptions {
  keys: EnvelopeKeys;
  /** Direction of what this side receives. */
  receiveDirection: Direction;
  /** Largest reassembled envelope accepted (default 1 MiB). */
  maxMessageBytes?: number;
  /** Persisted window from a previous run. */
  window?: ReplayWindowState;
  windowSize?: number;
}

export type InboundEvent =
  | { kind: 'delivered'; messageId: number; body: backchannel.v1.Body }
  | { kind: 'duplicate'; messageId: number }
  | { kind: 'rejected'; code: WireErrorCode; message: string; messageId?: number };

export class InboundChannel {
  readonly #keys: EnvelopeKeys;
  readonly #direction: Direction;
  readonly #reassembler: Reassembler;
  readonly #window: ReplayWindow;

  constructor(options: InboundOptions) {
    this.#keys = options.keys;
    this.#direction = options.receiveDirection;
    this.#reassembler = new Reassembler({ maxMessageBytes: options.maxMessageBytes ?? 1 << 20 });
    this.#window = new ReplayWindow(options.window?.size ?? options.windowSize ?? DEFAULT_REPLAY_WINDOW, options.window);
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
    let opened;
    try {
      opened = openEnvelope(this.#keys, envelope, { direction: this.#direction, nowMs });
    } catch (err) {
      return rejected(err);
    }
    const id = opened.header.messageId;
    const verdict = this.#window.check(id);
    if (verdict !== 'fresh') return { kind: 'duplicate', messageId: id };
    this.#window.accept(id);
    return { kind: 'delivered', messageId: id, body: opened.body };
  }

  /** The acknowledgement to piggyback on the next outbound message. */
  ack(selectiveLimit = 32): Ack {
    return { cumulativeId: this.#window.cumulative, selectiveIds: this.#window.selective(selectiveLimit) };
  }

  /** The peer said (Hello) it will never send ids at or below `id` again. */
  skipTo(id: number): void {
    this.#window.advanceTo(id);
  }

  windowState(): ReplayWindowState {
    return this.#window.snapshot();
  }

  /** Drops a half-reassembled message (the BMC's queues were reset). */
  resetReassembly(): void {
    this.#reassembler.reset();
  }
}

function rejected(err: unknown): InboundEvent {
  if (err instanceof WireError) return { kind: 'rejected', code: err.code, message: err.message };
  throw err;
}
