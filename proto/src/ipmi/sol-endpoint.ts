/**
 * One end of a SOL payload stream (IPMI v2.0 §15.9-15.11), the same for the
 * BMC and the console: characters written are sent in numbered packets, one
 * outstanding at a time; a packet not acknowledged within the retry interval
 * is sent again, up to the retry count, then reported lost. Received data is
 * acknowledged with the number of characters taken; a packet seen twice (our
 * ack was lost) is acknowledged again and not delivered twice. Pure: the
 * caller passes the time and sends what `poll` and `receive` return.
 */
import { nextSolSeq, SolOperation, type SolPacket } from './sol-payload.js';

export interface SolEndpointOptions {
  /** Largest character data per packet (the peer's inbound payload size minus the 4-byte header). */
  maxData: number;
  /** How long to wait for an acknowledgement before resending (SOL parameter 4, 10 ms units there). */
  retryIntervalMs: number;
  /** Resends of one packet before giving up on it (SOL parameter 4, 0..7). */
  retryCount: number;
  /** Bound on characters waiting to be sent; write() refuses beyond it. */
  maxQueued?: number;
}

export interface SolReceiveResult {
  /** New characters from the peer (undefined when none, or a duplicate). */
  data?: Uint8Array;
  /** The peer's operation/status bits as sent in this packet. */
  flags: number;
  /** Packets to send now (acknowledgements, or the next data packet). */
  send: SolPacket[];
}

interface InFlight {
  seq: number;
  data: Uint8Array;
  flags: number;
  sentAt: number;
  resends: number;
}

export class SolEndpoint {
  readonly #o: Required<SolEndpointOptions>;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #inFlight: InFlight | undefined;
  #seq = 0;
  #lastReceivedSeq = 0;
  #lastAccepted = 0;
  /** Operation/status bits to send once with the next packet (break, flushes), beside the steady ones. */
  #pulseFlags = 0;
  /** Steady operation/status bits carried by every packet (CTS/DCD deasserted, SOL deactivating). */
  flags = 0;
  /** Packets given up on after retryCount resends. */
  lost = 0;
  /** Data packets resent. */
  resent = 0;

  constructor(options: SolEndpointOptions) {
    if (options.maxData < 1) throw new RangeError('maxData must be at least 1');
    this.#o = { maxQueued: 64 * 1024, ...options };
  }

  /** Queues characters to send; returns how many were taken (fewer when the queue is full). */
  write(bytes: Uint8Array): number {
    const room = Math.max(0, this.#o.maxQueued - this.#queued);
    const take = Math.min(room, bytes.length);
    if (take > 0) {
      this.#queue.push(bytes.slice(0, take));
      this.#queued += take;
    }
    return take;
  }

  /** Sends `flags` once with the next packet (e.g. SolOperation.GENERATE_BREAK), as a packet of its own if no data waits. */
  pulse(flags: number): void {
    this.#pulseFlags |= flags;
  }

  get queued(): number {
    return this.#queued;
  }

  get idle(): boolean {
    return this.#inFlight === undefined && this.#queued === 0 && this.#pulseFlags === 0;
  }

  /** When poll() next has something to do; undefined when nothing waits. */
  nextDeadline(): number | undefined {
    if (this.#inFlight) return this.#inFlight.sentAt + this.#o.retryIntervalMs;
    return this.#queued > 0 || this.#pulseFlags !== 0 ? 0 : undefined;
  }

  /** Packets due at `now`: a resend, or the next data packet when none is outstanding. */
  poll(now: number): SolPacket[] {
    const f = this.#inFlight;
    if (f) {
      if (now < f.sentAt + this.#o.retryIntervalMs) return [];
      if (f.resends >= this.#o.retryCount) {
        // Given up: the characters are dropped (a console shows a gap), the stream goes on.
        this.lost++;
        this.#inFlight = undefined;
      } else {
        f.resends++;
        f.sentAt = now;
        this.resent++;
        return [{ seq: f.seq, ackSeq: 0, acceptedCount: 0, flags: this.flags | f.flags, data: f.data }];
      }
    }
    const next = this.#startNext(now, 0, 0);
    return next ? [next] : [];
  }

  /** Handles a packet from the peer. */
  receive(p: SolPacket, now: number): SolReceiveResult {
    const f = this.#inFlight;
    if (f && p.ackSeq === f.seq) {
      const nack = (p.flags & SolOperation.NACK) !== 0;
      const taken = Math.min(p.acceptedCount, f.data.length);
      if (taken < f.data.length) {
        // Part (or none) taken: the rest goes first again, after a pause if the peer said NACK (it is full).
        const rest = f.data.subarray(taken);
        this.#queue.unshift(rest.slice());
        this.#queued += rest.length;
      }
      this.#inFlight = undefined;
      if (nack && taken < f.data.length) {
        this.#inFlight = undefined;
        return { flags: p.flags, ...this.#deliver(p, now, true) };
      }
    }
    return { flags: p.flags, ...this.#deliver(p, now, false) };
  }

  #deliver(p: SolPacket, now: number, holdData: boolean): { data?: Uint8Array; send: SolPacket[] } {
    let data: Uint8Array | undefined;
    let ackSeq = 0;
    let accepted = 0;
    if (p.seq !== 0) {
      ackSeq = p.seq;
      if (p.seq === this.#lastReceivedSeq) {
        accepted = this.#lastAccepted;
      } else {
        this.#lastReceivedSeq = p.seq;
        this.#lastAccepted = accepted = p.data.length;
        if (p.data.length > 0) data = p.data;
      }
    }
    const send: SolPacket[] = [];
    const next = holdData ? undefined : this.#startNext(now, ackSeq, accepted);
    if (next) send.push(next);
    else if (ackSeq !== 0) send.push({ seq: 0, ackSeq, acceptedCount: accepted, flags: this.flags, data: new Uint8Array(0) });
    return data ? { data, send } : { send };
  }

  #startNext(now: number, ackSeq: number, accepted: number): SolPacket | undefined {
    if (this.#inFlight || (this.#queued === 0 && this.#pulseFlags === 0)) return undefined;
    const data = this.#take(this.#o.maxData);
    this.#seq = nextSolSeq(this.#seq);
    const pulse = this.#pulseFlags;
    this.#pulseFlags = 0;
    this.#inFlight = { seq: this.#seq, data, flags: pulse, sentAt: now, resends: 0 };
    return { seq: this.#seq, ackSeq, acceptedCount: accepted, flags: this.flags | pulse, data };
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.#queued));
    let o = 0;
    while (o < out.length) {
      const head = this.#queue[0]!;
      const k = Math.min(head.length, out.length - o);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(k);
    }
    this.#queued -= out.length;
    return out;
  }
}
