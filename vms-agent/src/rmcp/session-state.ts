/**
 * The pure state of one established RMCP+ session, as the console sees it:
 * outbound session sequence numbers, IPMI rqSeq allocation, the table of
 * requests in flight with their retransmission deadlines, and inbound
 * verification. No sockets and no timers: the driver (session.ts) passes
 * the time in and sends what this returns.
 *
 * Retransmission (IPMI v2.0 §6.12.13 / §13.8): a retried request is the
 * same IPMI message (same rqSeq, so the BMC can recognise it) sealed again
 * under the next session sequence number (a BMC drops repeated session
 * sequence numbers as replays).
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

/** rqSeq is 6 bits (§13.8); one value stays unused so a late answer to a reused number is less likely. */
export const MAX_IN_FLIGHT = 63;

export interface SessionStateOptions {
  crypto: SessionCrypto;
  /** The BMC's session id: every packet we send carries it. */
  bmcSessionId: number;
  /** Our session id: every packet the BMC sends carries it. */
  consoleSessionId: number;
  randomBytes: RandomBytes;
  timeoutMs: number;
  /** Retransmissions after the first transmission. */
  retries: number;
  maxInFlight?: number;
}

interface Pending {
  rqSeq: number;
  netFn: number;
  cmd: number;
  message: Uint8Array;
  /** Transmissions so far. */
  sends: number;
  deadline: number;
}

export type Received =
  | { kind: 'response'; rqSeq: number; cc: number; data: Uint8Array }
  | { kind: 'drop'; reason: string };

export interface DueWork {
  retransmit: Uint8Array[];
  expired: number[];
}

export interface SessionCounters {
  sent: number;
  retransmitted: number;
  received: number;
  dropped: Record<string, number>;
}

export class SessionState {
  readonly maxInFlight: number;
  readonly counters: SessionCounters = { sent: 0, retransmitted: 0, received: 0, dropped: {} };
  private nextSessionSeq = 1;
  private nextRqSeq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly inbound = new InboundWindow();
  /** The session's keys, prepared once (AES key schedule, HMAC key). */
  private readonly cipher: SessionCipher;
  /** IVs drawn from `randomBytes` in blocks rather than 16 bytes per packet. */
  private readonly ivRandom: RandomBytes;

  constructor(private readonly o: SessionStateOptions) {
    this.maxInFlight = Math.min(Math.max(1, o.maxInFlight ?? MAX_IN_FLIGHT), MAX_IN_FLIGHT);
    this.cipher = new SessionCipher(o.crypto);
    this.ivRandom = pooledRandomBytes(o.randomBytes);
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
    const p: Pending = { rqSeq, netFn, cmd, message, sends: 1, deadline: now + this.o.timeoutMs };
    this.pending.set(rqSeq, p);
    this.counters.sent++;
    return { rqSeq, datagram: this.seal(message) };
  }

  /** Verifies, decrypts and matches a datagram from the BMC. Never throws for bad input. */
  receive(datagram: Uint8Array): Received {
    let payload: Uint8Array;
    let sessionSeq: number;
    try {
      const m = this.cipher.open(datagram);
      if (m.sessionId !== this.o.consoleSessionId) return this.drop('wrong-session-id');
      if (m.payloadType !== PayloadType.IPMI) return this.drop('not-ipmi-payload');
      payload = m.payload;
      sessionSeq = m.sessionSeq;
    } catch (err) {
      if (isWireError(err)) return this.drop(err.code);
      throw err;
    }
    const verdict = this.inbound.accept(sessionSeq);
    if (verdict !== 'ok') return this.drop(`seq-${verdict}`);
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
    return { kind: 'response', rqSeq: res.rqSeq, cc: res.cc, data: res.data };
  }

  /** Retransmissions and expiries due at `now`. */
  due(now: number): DueWork {
    const work: DueWork = { retransmit: [], expired: [] };
    for (const p of this.pending.values()) {
      if (p.deadline > now) continue;
      if (p.sends > this.o.retries) {
        this.pending.delete(p.rqSeq);
        work.expired.push(p.rqSeq);
        continue;
      }
      p.sends++;
      p.deadline = now + this.o.timeoutMs;
      this.counters.retransmitted++;
      work.retransmit.push(this.seal(p.message));
    }
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

  /** Seals an IPMI message under the next session sequence number (§6.12.13: 1, 2, ... skipping 0). */
  private seal(message: Uint8Array): Uint8Array {
    const sessionSeq = this.nextSessionSeq;
    this.nextSessionSeq = sessionSeq === 0xffffffff ? 1 : sessionSeq + 1;
    return this.cipher.seal({ sessionId: this.o.bmcSessionId, sessionSeq, payloadType: PayloadType.IPMI, payload: message }, this.ivRandom);
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
