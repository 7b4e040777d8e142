/**
 * A minimal queue-hop core written against the LinkCore contract, used by the
 * simulation only where the shared core (proto's QueueHop) is not available.
 * Queue-info sync of both queues on connect, Put with seq (idempotent; 0x80
 * and a changed epoch resynchronise; 0xC4 backs off; last_put_seq not ours is
 * a foreign producer), Get with commit of what the driver said is consumed,
 * polling that speeds up while busy or expecting a reply.
 */
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  encodeOemRequest,
  OEM_NETFN,
  OemCommand,
  QueueId,
} from '@backchannel/proto';
import type { HopCursor, HopEvent, HopMessage, HopStep, LinkCore, LinkCoreOptions } from './link-core.js';

type Pending = { kind: 'info'; queue: 'put' | 'get' } | { kind: 'put'; seq: number } | { kind: 'get'; commit: number };

export class MiniHop implements LinkCore {
  readonly #o: LinkCoreOptions;
  readonly #putQ: number;
  readonly #getQ: number;
  #cursor: HopCursor = { putEpoch: 0, getEpoch: 0, commitSeq: 0 };
  #consumed = 0;
  #connected = false;
  #sync: ('put' | 'get')[] = [];
  #pending: Pending | undefined;
  #message: (HopMessage & { index: number }) | undefined;
  #askedAt: number | undefined;
  #nextSeq = 1;
  #blockedUntil = 0;
  #fullAttempt = 0;
  #pollAt = 0;
  #pollMs = 50;
  #replyUntil = 0;
  #reconnectAttempt = 0;
  #putsSinceGet = 0;
  /** The highest seq this process has put or seen in Get Queue Info under the current put epoch (unknown before the first sync). */
  #highestSent: number | undefined;

  constructor(o: LinkCoreOptions) {
    this.#o = o;
    this.#putQ = o.role === 'manager' ? QueueId.ToHost : QueueId.ToManager;
    this.#getQ = o.role === 'manager' ? QueueId.ToManager : QueueId.ToHost;
  }

  restore(c: HopCursor): void {
    this.#cursor = { ...c };
    this.#consumed = c.commitSeq;
  }

  connected(): void {
    this.#connected = true;
    this.#sync = ['put', 'get'];
    this.#pending = undefined;
  }

  disconnected(): number {
    this.#connected = false;
    this.#pending = undefined;
    const ceiling = Math.min(30_000, 500 * 2 ** this.#reconnectAttempt);
    this.#reconnectAttempt = Math.min(this.#reconnectAttempt + 1, 20);
    return Math.max(250, Math.floor(ceiling * this.#o.random()));
  }

  wake(): void {
    this.#askedAt = undefined;
    this.#pollAt = 0;
    this.#pollMs = 50;
  }

  expectReply(untilMs: number): void {
    this.#replyUntil = Math.max(this.#replyUntil, untilMs);
    this.#pollAt = 0;
  }

  consumed(seq: number): void {
    if (seq > this.#consumed) this.#consumed = seq;
  }

  offer(m: HopMessage | undefined, now: number): void {
    if (m) this.#message = { ...m, index: 0 };
    else this.#askedAt = now;
  }

  next(now: number): HopStep {
    if (!this.#connected) return { kind: 'wait', untilMs: Number.POSITIVE_INFINITY };
    const iana = this.#o.iana;
    const q = this.#sync[0];
    if (q) {
      this.#pending = { kind: 'info', queue: q };
      return this.#req(OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana, queue: q === 'put' ? this.#putQ : this.#getQ }));
    }
    // Reading is not starved by sending: after 8 puts, one Get (the peer's acks and answers wait there).
    if (this.#message && now >= this.#blockedUntil && this.#putsSinceGet < 8) {
      this.#putsSinceGet++;
      const seq = this.#nextSeq;
      this.#pending = { kind: 'put', seq };
      if (seq > (this.#highestSent ?? 0)) this.#highestSent = seq;
      return this.#req(OemCommand.PutRecord, encodeOemRequest({ kind: 'put-record', iana, queue: this.#putQ, seq, record: this.#message.records[this.#message.index]! }));
    }
    if (!this.#message && this.#askedAt === undefined) return { kind: 'need-message' };
    if (now >= this.#pollAt || this.#consumed > this.#cursor.commitSeq || this.#putsSinceGet >= 8) {
      this.#putsSinceGet = 0;
      this.#pending = { kind: 'get', commit: this.#consumed };
      return this.#req(OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana, queue: this.#getQ, commitSeq: this.#consumed }));
    }
    const until = Math.min(this.#pollAt, this.#message ? this.#blockedUntil : Number.POSITIVE_INFINITY, this.#askedAt !== undefined ? this.#askedAt + 1_000 : Number.POSITIVE_INFINITY);
    if (this.#askedAt !== undefined && now >= this.#askedAt + 1_000) {
      this.#askedAt = undefined;
      return { kind: 'need-message' };
    }
    return { kind: 'wait', untilMs: until };
  }

  onResponse(r: { cc: number; data: Uint8Array }, now: number): HopEvent[] {
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) throw new Error('response without a request');
    this.#reconnectAttempt = 0;
    const out: HopEvent[] = [];
    if (p.kind === 'info') {
      if (r.cc !== 0) throw new Error(`queue info cc 0x${r.cc.toString(16)}`);
      const info = decodeQueueInfoResponse(r.data);
      this.#sync.shift();
      const key = p.queue === 'put' ? 'putEpoch' : 'getEpoch';
      const old = this.#cursor[key];
      if (old !== info.bmcEpoch) {
        if (old !== 0) out.push({ kind: 'epoch-changed', queue: p.queue, oldEpoch: old, newEpoch: info.bmcEpoch });
        this.#cursor = { ...this.#cursor, [key]: info.bmcEpoch };
        if (p.queue === 'get') this.#cursor.commitSeq = this.#consumed = 0;
        out.push({ kind: 'cursor', cursor: { ...this.#cursor } });
      }
      if (p.queue === 'put') {
        // More records than this process ever put (same epoch): someone else produces on our queue.
        if (old === info.bmcEpoch && this.#highestSent !== undefined && info.lastPutSeq > this.#highestSent) out.push({ kind: 'foreign-producer', expectedSeq: this.#highestSent + 1, lastPutSeq: info.lastPutSeq });
        this.#highestSent = info.lastPutSeq;
        this.#nextSeq = info.lastPutSeq + 1;
        if (this.#message) this.#message.index = 0;
      } else if (this.#consumed > info.lastPutSeq) {
        this.#cursor.commitSeq = this.#consumed = info.committedSeq;
        out.push({ kind: 'cursor', cursor: { ...this.#cursor } });
      }
      return out;
    }
    if (p.kind === 'put') {
      if (r.cc === 0xc4) {
        this.#blockedUntil = now + Math.min(5_000, 200 * 2 ** this.#fullAttempt++);
        return [{ kind: 'queue-full' }];
      }
      if (r.cc === 0x80) {
        this.#sync = ['put', 'get'];
        return [{ kind: 'resync', reason: 'sequence-gap' }];
      }
      if (r.cc !== 0) throw new Error(`put cc 0x${r.cc.toString(16)}`);
      const last = decodePutRecordResponse(r.data).lastPutSeq;
      const m = this.#message!;
      this.#fullAttempt = 0;
      if (last !== p.seq) {
        out.push({ kind: 'foreign-producer', expectedSeq: p.seq, lastPutSeq: last });
        this.#nextSeq = last + 1;
        this.#highestSent = last;
        m.index = 0;
        return out;
      }
      this.#nextSeq++;
      m.index++;
      if (m.index >= m.records.length) {
        this.#message = undefined;
        out.push({ kind: 'message-put', messageId: m.messageId });
      }
      return out;
    }
    if (r.cc === 0xcc) {
      this.#sync = ['put', 'get'];
      return [{ kind: 'resync', reason: 'bad-commit' }];
    }
    if (r.cc !== 0) throw new Error(`get cc 0x${r.cc.toString(16)}`);
    const g = decodeGetRecordResponse(r.data);
    if (p.commit > this.#cursor.commitSeq) this.#cursor.commitSeq = p.commit;
    if (g.seq === 0) {
      this.#pollMs = now < this.#replyUntil ? 5 : Math.min(1_000, this.#pollMs * 2);
      this.#pollAt = now + this.#pollMs;
      return [{ kind: 'empty', atMs: now }];
    }
    this.#pollMs = 50;
    this.#pollAt = now;
    if (g.seq <= this.#consumed) return [];
    return [{ kind: 'record', seq: g.seq, record: g.record }];
  }

  #req(cmd: number, data: Uint8Array): HopStep {
    return { kind: 'request', netfn: OEM_NETFN, cmd, data };
  }
}
