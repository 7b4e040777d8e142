/**
 * The pure state of one established RMCP+ session, as the console sees it:
 * outbound session sequence numbers, IPMI rqSeq allocation, the table of
 * requests in flight with their retransmission deadlines, inbound
 * verification, and whether the BMC is still there. No sockets and no
 * timers: the driver (session.ts) passes the time in and sends what this
 * returns.
 *
 * Retransmission (IPMI v2.0 §6.12.13 / §13.8): a retried request is the
 * same IPMI message (same rqSeq, so the BMC can recognise it) sealed again
 * under the next session sequence number (a BMC drops repeated session
 * sequence numbers as replays). When to retry is the RttEstimator's RTO
 * (RFC 6298, rtt-estimator.ts).
 *
 * Giving up is judged by time, not by a count of lost datagrams: a request
 * fails when it has gone `giveUpMs` without an answer, and the session is
 * dead when the BMC has said nothing at all for that long. Under 20% loss a
 * request needs a few sends now and then; it never needs `giveUpMs`.
 */
import {
  decodeIpmiLanResponse,
  encodeIpmiLanRequest,
  IpmbAddress,
  isWireError,
  PayloadType,
  pooledRandomBytes,
  type RandomBytes,
  responseNetFn,
  SessionCipher,
  type SessionCrypto,
} from '@backchannel/proto';
import { InboundWindow } from './inbound-window.js';
import type { RttEstimator} from './rtt-estimator.js';
import { type RttSnapshot } from './rtt-estimator.js';

/** rqSeq is 6 bits (§13.8); one value stays unused so a late answer to a reused number is less likely. */
export const MAX_IN_FLIGHT = 63;

export interface SessionStateOptions {
  crypto: SessionCrypto;
  /** The BMC's session id: every packet we send carries it. */
  bmcSessionId: number;
  /** Our session id: every packet the BMC sends carries it. */
  consoleSessionId: number;
  randomBytes: RandomBytes;
  /** The session's round-trip estimate, carried over from the handshake (which measured the first round trips). */
  rtt: RttEstimator;
  /** A request unanswered this long fails; a BMC silent this long is dead. */
  giveUpMs: number;
  /** When the BMC was last heard (the handshake's last answer). */
  now: number;
  maxInFlight?: number;
}

interface Pending {
  rqSeq: number;
  netFn: number;
  cmd: number;
  message: Uint8Array;
  /** Transmissions so far. */
  sends: number;
  firstSentAt: number;
  /** The back-off level of the last transmission (RttEstimator.timedOut). */
  backoffLevel: number;
  deadline: number;
}

export type Received =
  | { kind: 'response'; rqSeq: number; cc: number; data: Uint8Array }
  /** A SOL payload (type 0x01) from the BMC, authentic and in the window (sol-console.ts). */
  | { kind: 'payload'; payloadType: number; payload: Uint8Array }
  | { kind: 'drop'; reason: string };

export interface DueWork {
  retransmit: Uint8Array[];
  /** Requests that went `giveUpMs` without an answer. */
  expired: number[];
  /** Nothing at all came from the BMC for `giveUpMs` while requests waited: the session is dead. */
  dead: boolean;
}

export interface SessionCounters {
  sent: number;
  retransmitted: number;
  received: number;
  /** Requests given up after `giveUpMs` without an answer. */
  expired: number;
  dropped: Record<string, number>;
}

export class SessionState {
  readonly maxInFlight: number;
  readonly counters: SessionCounters = { sent: 0, retransmitted: 0, received: 0, expired: 0, dropped: {} };
  private nextSessionSeq = 1;
  private nextRqSeq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly inbound = new InboundWindow();
  /** The session's keys, prepared once (AES key schedule, HMAC key). */
  private readonly cipher: SessionCipher;
  /** IVs drawn from `randomBytes` in blocks rather than 16 bytes per packet. */
  private readonly ivRandom: RandomBytes;
  private readonly rtt: RttEstimator;
  private lastHeardAt: number;

  constructor(private readonly o: SessionStateOptions) {
    this.maxInFlight = Math.min(Math.max(1, o.maxInFlight ?? MAX_IN_FLIGHT), MAX_IN_FLIGHT);
    this.cipher = new SessionCipher(o.crypto);
    this.ivRandom = pooledRandomBytes(o.randomBytes);
    this.rtt = o.rtt;
    this.lastHeardAt = o.now;
  }

  /** SRTT, RTTVAR and the current RTO (for metrics and logs). */
  get roundTrip(): RttSnapshot {
    return this.rtt.snapshot();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  canSubmit(): boolean {
    return this.pending.size < this.maxInFlight;
  }

  /** Allocates an rqSeq and returns the datagram to send. Call only when canSubmit(). */
  submit(netFn: number, cmd: number, data: Uint8Array, lun: number, now: number): { rqSeq: number; datagram: Uint8Array } {
    if (!this.canSubmit()) throw new RangeError('no free rqSeq: too many requests in flight');
    const rqSeq = this.allocateRqSeq();
    const message = encodeIpmiLanRequest({ rsAddr: IpmbAddress.BMC, netFn, rsLun: lun, rqAddr: IpmbAddress.REMOTE_CONSOLE, rqSeq, rqLun: 0, cmd, data });
    const p: Pending = { rqSeq, netFn, cmd, message, sends: 1, firstSentAt: now, backoffLevel: this.rtt.backoffLevel, deadline: this.deadlineFor(now, now) };
    this.pending.set(rqSeq, p);
    this.counters.sent++;
    return { rqSeq, datagram: this.seal(message) };
  }

  /** Verifies, decrypts and matches a datagram from the BMC (arrived at `now`). Never throws for bad input. */
  receive(datagram: Uint8Array, now: number): Received {
    let payload: Uint8Array;
    let sessionSeq: number;
    let payloadType: number;
    try {
      const m = this.cipher.open(datagram);
      if (m.sessionId !== this.o.consoleSessionId) return this.drop('wrong-session-id');
      if (m.payloadType !== PayloadType.IPMI && m.payloadType !== PayloadType.SOL) return this.drop('not-ipmi-payload');
      payloadType = m.payloadType;
      payload = m.payload;
      sessionSeq = m.sessionSeq;
    } catch (err) {
      if (isWireError(err)) return this.drop(err.code);
      throw err;
    }
    const verdict = this.inbound.accept(sessionSeq);
    if (verdict !== 'ok') return this.drop(`seq-${verdict}`);
    // Authentic and new: the BMC is alive, whatever the answer turns out to be.
    this.lastHeardAt = Math.max(this.lastHeardAt, now);
    if (payloadType === PayloadType.SOL) return { kind: 'payload', payloadType, payload };
    let res;
    try {
      res = decodeIpmiLanResponse(payload);
    } catch (err) {
      if (isWireError(err)) return this.drop(err.code);
      throw err;
    }
    const p = this.pending.get(res.rqSeq);
    // rqSeq, netFn and command must all match: a late answer to an expired request whose rqSeq was reused is not taken for the new one.
    if (!p || res.rqAddr !== IpmbAddress.REMOTE_CONSOLE || res.netFn !== responseNetFn(p.netFn) || res.cmd !== p.cmd) return this.drop('unmatched-response');
    this.pending.delete(res.rqSeq);
    this.counters.received++;
    // Karn's rule: only a request sent once tells how long a round trip takes.
    if (p.sends === 1) this.rtt.sample(now - p.firstSentAt);
    return { kind: 'response', rqSeq: res.rqSeq, cc: res.cc, data: res.data };
  }

  /** Retransmissions and expiries due at `now`. */
  due(now: number): DueWork {
    const work: DueWork = { retransmit: [], expired: [], dead: false };
    for (const p of this.pending.values()) {
      if (p.deadline > now) continue;
      if (now - p.firstSentAt >= this.o.giveUpMs) {
        this.pending.delete(p.rqSeq);
        this.counters.expired++;
        work.expired.push(p.rqSeq);
        continue;
      }
      p.backoffLevel = this.rtt.timedOut(p.sends, p.backoffLevel);
      p.sends++;
      p.deadline = this.deadlineFor(now, p.firstSentAt);
      this.counters.retransmitted++;
      work.retransmit.push(this.seal(p.message));
    }
    work.dead = work.expired.length > 0 && now - this.lastHeardAt >= this.o.giveUpMs;
    return work;
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending.values()) if (next === undefined || p.deadline < next) next = p.deadline;
    return next;
  }

  /** Forgets every request in flight; returns their rqSeqs. */
  cancelAll(): number[] {
    const all = [...this.pending.keys()];
    this.pending.clear();
    return all;
  }

  /** The next retransmission, or the give-up time if that comes first. */
  private deadlineFor(now: number, firstSentAt: number): number {
    return Math.min(now + this.rtt.rtoMs, firstSentAt + this.o.giveUpMs);
  }

  /** Seals an IPMI message under the next session sequence number (§6.12.13: 1, 2, ... skipping 0). */
  private seal(message: Uint8Array, payloadType: number = PayloadType.IPMI): Uint8Array {
    const sessionSeq = this.nextSessionSeq;
    this.nextSessionSeq = sessionSeq === 0xffffffff ? 1 : sessionSeq + 1;
    return this.cipher.seal({ sessionId: this.o.bmcSessionId, sessionSeq, payloadType, payload: message }, this.ivRandom);
  }

  /** Seals a SOL payload (sol-console.ts); its acknowledgement and retransmission are the SOL layer's. */
  sealPayload(payloadType: number, payload: Uint8Array): Uint8Array {
    return this.seal(payload, payloadType);
  }

  /** Round robin over 1..63, skipping numbers in flight, so a number is reused as late as possible. */
  private allocateRqSeq(): number {
    for (let i = 0; i < 64; i++) {
      const candidate = this.nextRqSeq;
      this.nextRqSeq = candidate >= 63 ? 1 : candidate + 1;
      if (!this.pending.has(candidate)) return candidate;
    }
    throw new RangeError('no free rqSeq');
  }

  private drop(reason: string): Received {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    return { kind: 'drop', reason };
  }
}
