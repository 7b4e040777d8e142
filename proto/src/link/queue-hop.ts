/**
 * The link core: one side's BMC queue hop (PROTOCOL.md §2), pure and
 * sans-IO, the same for vms-agent (role `manager`: puts on queue 1, reads
 * queue 2) and the hypervisor-agent (role `host`: puts on queue 2, reads
 * queue 1). It decides the next request to make and reads each answer; the
 * driver owns the transport, the store, the timers and the channel above.
 *
 * The driver's loop:
 *
 *   hop.restore(durable cursor); open the transport; hop.connected(now)
 *   loop: step = hop.next(now)
 *     request       → send { netfn, cmd, data }; events = hop.onResponse(answer, now); act on them
 *     need-message  → hop.offer(the next sealed message, or undefined, now)
 *     wait          → sleep until untilMs (or until hop.wake())
 *   transport failure → delay = hop.disconnected(now); sleep; reopen; hop.connected(now)
 *
 * What it does, each turn: writes first (up to `messagesPerTurn` messages,
 * each message's records under consecutive seqs), then reads (Get Record
 * with the commit cursor, up to `recordsPerTurn`), then waits on the poll
 * schedule. A record is committed on the BMC only after the driver says its
 * effects are durable (`consumed`), so a crash re-reads instead of losing.
 * Get Queue Info on both queues at connect and every `queueInfoEveryMs`:
 * it adopts the put queue's last_put_seq (records this side put before a
 * crash stay queued), notices a BMC that lost its queues (a new bmc_epoch)
 * and restarts the read cursor then. Put 0x80 (gap) and Get 0xCC (commit
 * beyond the queue) resynchronise the same way. Put 0xC4 (full) blocks
 * writes for a jittered back-off; nothing is dropped. A Put answered with a
 * last_put_seq that is not ours means another producer took our seq: the
 * message starts again after theirs, and the driver is told (an alert on
 * the manager side).
 */
import { OEM_NETFN, OemCompletion, QueueId, type QueueNumber } from '../oem/constants.js';
import { encodeOemRequest, type OemQueueRequest, oemRequestCommand } from '../oem/queue-requests.js';
import { decodeGetRecordResponse, decodePutRecordResponse, decodeQueueInfoResponse, type QueueInfoResponse } from '../oem/queue-responses.js';
import { Backoff, type BackoffPolicy } from './backoff.js';
import { decodeQueueAnswer, QueueHopError } from './queue-answer.js';
import { PollSchedule } from './poll-schedule.js';

export { QueueHopError, type QueueHopErrorCode } from './queue-answer.js';

export type HopRole = 'manager' | 'host';

export interface QueueHopTuning {
  /** Idle polling: the first wait after traffic, doubling to the ceiling. */
  pollMinMs: number;
  pollMaxMs: number;
  /** Polling while the driver expects a reply (`setReplyWindow`). */
  replyPollMs: number;
  /** Get Queue Info this often, to notice a BMC that lost its queues. */
  queueInfoEveryMs: number;
  queueFull: BackoffPolicy;
  reconnect: BackoffPolicy;
  messagesPerTurn: number;
  recordsPerTurn: number;
}

export const DEFAULT_QUEUE_HOP_TUNING: QueueHopTuning = {
  pollMinMs: 50,
  pollMaxMs: 1000,
  replyPollMs: 1,
  queueInfoEveryMs: 15_000,
  queueFull: { initialMs: 200, maxMs: 5_000 },
  reconnect: { initialMs: 500, maxMs: 30_000 },
  messagesPerTurn: 8,
  recordsPerTurn: 32,
};

export interface QueueHopOptions {
  role: HopRole;
  /** The OEM commands' IANA; every answer must carry it. */
  iana: number;
  /** [0, 1), for the back-off jitter. */
  random: () => number;
  tuning?: Partial<QueueHopTuning>;
}

/** What the driver keeps durably: the epochs it last saw and the read cursor. Zeros before first contact. */
export interface HopCursor {
  putEpoch: number;
  getEpoch: number;
  commitSeq: number;
}

/** One sealed message: its records go under consecutive seqs, all or (after a resync) again from the first. */
export interface OutboundMessage {
  messageId: number;
  records: readonly Uint8Array[];
}

export type HopStep =
  | { kind: 'request'; request: OemQueueRequest; netfn: number; cmd: number; data: Uint8Array }
  | { kind: 'need-message' }
  | { kind: 'wait'; untilMs: number };

export type HopEvent =
  /** Both queues as Get Queue Info saw them. */
  | { kind: 'queues'; put: QueueInfoResponse; get: QueueInfoResponse }
  /** The durable cursor changed (epochs, or the read cursor restarted): store it. */
  | { kind: 'cursor'; cursor: HopCursor }
  /** The BMC lost a queue this side had used: on `put`, retransmit what is unacknowledged; on `get`, drop half-read messages and ask the peer to resend. */
  | { kind: 'epoch-changed'; queue: 'put' | 'get'; oldEpoch: number; newEpoch: number }
  | { kind: 'record-put'; seq: number }
  | { kind: 'message-put'; messageId: number }
  /** Handle it, make its effects durable, then call `consumed(seq)`. */
  | { kind: 'record'; seq: number; record: Uint8Array }
  /** The read queue was empty: whatever is read after this was put after `atMs`. */
  | { kind: 'empty'; atMs: number }
  | { kind: 'queue-full'; retryAtMs: number }
  | { kind: 'resync'; reason: 'gap' | 'bad-commit' | 'foreign-producer' }
  /** Someone else put records on our queue: ours under `expectedSeq` was taken as a retransmission and not stored. */
  | { kind: 'foreign-producer'; expectedSeq: number; lastPutSeq: number };

type Outstanding =
  | { kind: 'info'; queue: QueueNumber }
  | { kind: 'put'; seq: number }
  | { kind: 'get'; commitSeq: number };

type Phase = 'disconnected' | 'sync' | 'write' | 'read' | 'wait';

export class QueueHop {
  readonly role: HopRole;
  readonly #iana: number;
  readonly #t: QueueHopTuning;
  readonly #putQueue: QueueNumber;
  readonly #getQueue: QueueNumber;
  readonly #poll: PollSchedule;
  readonly #reconnect: Backoff;
  readonly #full: Backoff;
  #cursor: HopCursor = { putEpoch: 0, getEpoch: 0, commitSeq: 0 };
  #phase: Phase = 'disconnected';
  #outstanding: Outstanding | undefined;
  #syncInfo: QueueInfoResponse | undefined;
  #lastSyncAtMs = 0;
  #lastPutSeq = 0;
  /**
   * The highest seq on the put queue this process accounts for under the current put epoch:
   * the last_put_seq of its first sync there, then every seq it sent a Put for (answered or
   * not). A sync that shows more was someone else's Put. Unknown before the first sync.
   */
  #accountedSeq: number | undefined;
  #maxRecord = 0;
  #message: { messageId: number; records: readonly Uint8Array[]; index: number } | undefined;
  #noMessage = false;
  #putBlockedUntilMs = 0;
  #messagesThisTurn = 0;
  #recordsThisTurn = 0;
  /** The read queue answered empty this turn. */
  #drained = false;
  #moved = false;
  #woken = false;
  #waitUntilMs = 0;

  constructor(options: QueueHopOptions) {
    this.role = options.role;
    this.#iana = options.iana;
    this.#t = { ...DEFAULT_QUEUE_HOP_TUNING, ...options.tuning };
    this.#putQueue = options.role === 'manager' ? QueueId.ToHost : QueueId.ToManager;
    this.#getQueue = options.role === 'manager' ? QueueId.ToManager : QueueId.ToHost;
    this.#poll = new PollSchedule({ minMs: this.#t.pollMinMs, maxMs: this.#t.pollMaxMs }, this.#t.replyPollMs);
    this.#reconnect = new Backoff(this.#t.reconnect, options.random);
    this.#full = new Backoff(this.#t.queueFull, options.random);
  }

  /** The durable cursor as it stands (store it with the effects of the records up to `commitSeq`). */
  get cursor(): HopCursor {
    return { ...this.#cursor };
  }

  /** Largest record both queues take (0 before the first sync). */
  get maxRecord(): number {
    return this.#maxRecord;
  }

  get isConnected(): boolean {
    return this.#phase !== 'disconnected';
  }

  /** The seq the last record on the put queue has, as far as this side knows. */
  get lastPutSeq(): number {
    return this.#lastPutSeq;
  }

  /** The idle poll interval the schedule is at (for metrics). */
  get pollIntervalMs(): number {
    return this.#poll.currentMs;
  }

  /** The durable cursor from the driver's store, before the first `connected`. */
  restore(cursor: HopCursor): void {
    this.#cursor = { ...cursor };
  }

  /** A transport is open: the next steps sync both queues. */
  connected(_nowMs: number): void {
    this.#phase = 'sync';
    this.#outstanding = undefined;
    this.#syncInfo = undefined;
    this.#message = undefined;
  }

  /** The transport failed (or an answer was impossible): the wait before reconnecting. */
  disconnected(_nowMs: number): number {
    this.#phase = 'disconnected';
    this.#outstanding = undefined;
    this.#message = undefined;
    return this.#reconnect.next();
  }

  /** Work was queued locally, or the BMC signalled attention: end the wait (or the reads) and start a turn. */
  wake(): void {
    this.#woken = true;
    this.#poll.traffic();
  }

  /** Poll at `replyPollMs` until `untilMs` (0: no reply expected). */
  setReplyWindow(untilMs: number): void {
    this.#poll.setReplyWindow(untilMs);
  }

  /** The record `seq` (and all before it) is handled durably: the next Get Record commits it. */
  consumed(seq: number): void {
    if (seq > this.#cursor.commitSeq) this.#cursor.commitSeq = seq;
  }

  next(nowMs: number): HopStep {
    if (this.#phase === 'disconnected') throw new QueueHopError('ERR_STATE', 'not connected');
    if (this.#outstanding) throw new QueueHopError('ERR_STATE', 'a request is still outstanding');
    if (this.#phase === 'wait') {
      if (!this.#woken && nowMs < this.#waitUntilMs) return { kind: 'wait', untilMs: this.#waitUntilMs };
      this.#startTurn(nowMs);
    }
    if (this.#phase === 'sync') return this.#request({ kind: 'info', queue: this.#syncInfo ? this.#putQueue : this.#getQueue });
    if (this.#phase === 'write') {
      const step = this.#writeStep(nowMs);
      if (step) return step;
      this.#phase = 'read';
    }
    if (this.#phase === 'read' && !this.#drained && this.#recordsThisTurn < this.#t.recordsPerTurn && !this.#woken) {
      return this.#request({ kind: 'get', commitSeq: this.#cursor.commitSeq });
    }
    return this.#endTurn(nowMs);
  }

  /** The answer to the message `need-message` asked for; `undefined`: nothing to send now. */
  offer(message: OutboundMessage | undefined, _nowMs: number): void {
    if (!message) {
      this.#noMessage = true;
      return;
    }
    if (message.records.length === 0) throw new RangeError(`message ${message.messageId} has no records`);
    for (const r of message.records) {
      if (r.length > this.#maxRecord) throw new RangeError(`message ${message.messageId}: a ${r.length}-byte record exceeds the queues' ${this.#maxRecord}`);
    }
    this.#message = { messageId: message.messageId, records: message.records, index: 0 };
  }

  /** The BMC's answer to the last request step. */
  onResponse(response: { cc: number; data: Uint8Array }, nowMs: number): HopEvent[] {
    const out = this.#outstanding;
    if (!out) throw new QueueHopError('ERR_STATE', 'an answer with no request outstanding');
    this.#outstanding = undefined;
    switch (out.kind) {
      case 'info':
        return this.#onQueueInfo(out.queue, response, nowMs);
      case 'put':
        return this.#onPut(out.seq, response, nowMs);
      case 'get':
        return this.#onGet(response, nowMs);
    }
  }

  #startTurn(nowMs: number): void {
    this.#woken = false;
    this.#messagesThisTurn = 0;
    this.#recordsThisTurn = 0;
    this.#drained = false;
    this.#moved = false;
    this.#noMessage = false;
    this.#phase = nowMs - this.#lastSyncAtMs >= this.#t.queueInfoEveryMs ? 'sync' : 'write';
  }

  #writeStep(nowMs: number): HopStep | undefined {
    if (nowMs < this.#putBlockedUntilMs) return undefined;
    if (!this.#message) {
      if (this.#noMessage || this.#messagesThisTurn >= this.#t.messagesPerTurn) return undefined;
      return { kind: 'need-message' };
    }
    const record = this.#message.records[this.#message.index]!;
    const seq = this.#lastPutSeq + 1;
    if (seq > (this.#accountedSeq ?? 0)) this.#accountedSeq = seq;
    return this.#request({ kind: 'put', seq }, record);
  }

  #endTurn(nowMs: number): HopStep {
    this.#phase = 'wait';
    const moreToRead = !this.#drained && this.#recordsThisTurn >= this.#t.recordsPerTurn;
    const moreToWrite = this.#messagesThisTurn >= this.#t.messagesPerTurn && this.#putBlockedUntilMs <= nowMs;
    if (this.#woken || moreToRead || moreToWrite) {
      // More to read, or to send: the next turn starts at once.
      this.#waitUntilMs = nowMs;
      return this.next(nowMs);
    }
    if (this.#moved) this.#poll.traffic();
    let until = nowMs + this.#poll.idle(nowMs);
    if (this.#message && this.#putBlockedUntilMs > nowMs) until = Math.min(until, this.#putBlockedUntilMs);
    until = Math.min(until, this.#lastSyncAtMs + this.#t.queueInfoEveryMs);
    this.#waitUntilMs = Math.max(nowMs, until);
    return { kind: 'wait', untilMs: this.#waitUntilMs };
  }

  #request(out: Outstanding, record?: Uint8Array): HopStep {
    const iana = this.#iana;
    const request: OemQueueRequest =
      out.kind === 'info'
        ? { kind: 'get-queue-info', iana, queue: out.queue }
        : out.kind === 'put'
          ? { kind: 'put-record', iana, queue: this.#putQueue, seq: out.seq, record: record! }
          : { kind: 'get-record', iana, queue: this.#getQueue, commitSeq: out.commitSeq };
    this.#outstanding = out;
    return { kind: 'request', request, netfn: OEM_NETFN, cmd: oemRequestCommand(request), data: encodeOemRequest(request) };
  }

  #resync(): void {
    this.#phase = 'sync';
    this.#syncInfo = undefined;
    this.#message = undefined;
  }

  #onQueueInfo(queue: QueueNumber, r: { cc: number; data: Uint8Array }, nowMs: number): HopEvent[] {
    const info = decodeQueueAnswer(this.#iana, `Get Queue Info (queue ${queue})`, r, decodeQueueInfoResponse);
    if (info.queue !== queue) throw new QueueHopError('ERR_QUEUE', `Get Queue Info (queue ${queue}) answered for queue ${info.queue}`);
    if (!this.#syncInfo) {
      this.#syncInfo = info;
      return [];
    }
    const get = this.#syncInfo;
    const put = info;
    this.#syncInfo = undefined;
    this.#lastSyncAtMs = nowMs;
    this.#maxRecord = Math.min(get.maxRecord, put.maxRecord);
    const events: HopEvent[] = [];
    const before = this.#cursor;
    // Records this process never sent are on our queue under the epoch it already knows: another
    // producer put them while we were idle or reconnecting. Without this check a sync (at every
    // connect and every queueInfoEveryMs) adopts their last_put_seq silently, and only a Put that
    // collides with them would tell.
    // (Ours that were sent but not stored stay accounted for: one still on its way may land later.)
    if (this.#accountedSeq !== undefined && before.putEpoch === put.bmcEpoch) {
      if (put.lastPutSeq > this.#accountedSeq) events.push({ kind: 'foreign-producer', expectedSeq: this.#accountedSeq + 1, lastPutSeq: put.lastPutSeq });
      this.#accountedSeq = Math.max(this.#accountedSeq, put.lastPutSeq);
    } else this.#accountedSeq = put.lastPutSeq;
    // What this side put before a crash is still queued: continue after it. A message cut short goes again from its first record.
    this.#lastPutSeq = put.lastPutSeq;
    this.#message = undefined;
    const cursor = { ...before };
    if (before.putEpoch !== put.bmcEpoch) {
      cursor.putEpoch = put.bmcEpoch;
      if (before.putEpoch !== 0) events.push({ kind: 'epoch-changed', queue: 'put', oldEpoch: before.putEpoch, newEpoch: put.bmcEpoch });
    }
    if (before.getEpoch !== get.bmcEpoch) {
      // Fresh queues: the read cursor starts again.
      cursor.getEpoch = get.bmcEpoch;
      cursor.commitSeq = 0;
      if (before.getEpoch !== 0) events.push({ kind: 'epoch-changed', queue: 'get', oldEpoch: before.getEpoch, newEpoch: get.bmcEpoch });
    } else if (cursor.commitSeq > get.lastPutSeq) {
      cursor.commitSeq = get.lastPutSeq;
    }
    this.#cursor = cursor;
    if (cursor.putEpoch !== before.putEpoch || cursor.getEpoch !== before.getEpoch || cursor.commitSeq !== before.commitSeq) events.push({ kind: 'cursor', cursor: { ...cursor } });
    events.push({ kind: 'queues', put, get });
    this.#reconnect.reset();
    // A sync ends a turn's sync phase: the writes of the same turn follow.
    this.#phase = 'write';
    return events;
  }

  #onPut(seq: number, r: { cc: number; data: Uint8Array }, nowMs: number): HopEvent[] {
    const what = `Put Record (queue ${this.#putQueue}, seq ${seq})`;
    if (r.cc === OemCompletion.SequenceGap) {
      this.#resync();
      return [{ kind: 'resync', reason: 'gap' }];
    }
    if (r.cc === OemCompletion.QueueFull) {
      // The same record goes again after the back-off; nothing is dropped.
      this.#putBlockedUntilMs = nowMs + this.#full.next();
      return [{ kind: 'queue-full', retryAtMs: this.#putBlockedUntilMs }];
    }
    const { lastPutSeq } = decodeQueueAnswer(this.#iana, what, r, decodePutRecordResponse);
    const message = this.#message!;
    if (lastPutSeq !== seq) {
      // Another producer put records under our seqs; the BMC took ours as a retransmission and
      // did not store it (or stored an earlier attempt whose answer was lost: we cannot tell).
      // Continue after theirs at once with the message sealed afresh: the driver offers it again
      // (the peer drops the torn start, and a copy of what it may already hold is a plain
      // duplicate, not the same bytes twice, which a receiver must take for a replay).
      this.#lastPutSeq = Math.max(lastPutSeq, this.#lastPutSeq);
      if (this.#lastPutSeq > (this.#accountedSeq ?? 0)) this.#accountedSeq = this.#lastPutSeq;
      this.#message = undefined;
      return [{ kind: 'foreign-producer', expectedSeq: seq, lastPutSeq }, { kind: 'resync', reason: 'foreign-producer' }];
    }
    this.#lastPutSeq = seq;
    this.#moved = true;
    message.index += 1;
    const events: HopEvent[] = [{ kind: 'record-put', seq }];
    if (message.index === message.records.length) {
      this.#message = undefined;
      this.#messagesThisTurn += 1;
      this.#full.reset();
      events.push({ kind: 'message-put', messageId: message.messageId });
    }
    return events;
  }

  #onGet(r: { cc: number; data: Uint8Array }, nowMs: number): HopEvent[] {
    if (r.cc === OemCompletion.InvalidDataField) {
      // Our commit is beyond the queue: the BMC's queues were reset under us.
      this.#resync();
      return [{ kind: 'resync', reason: 'bad-commit' }];
    }
    const got = decodeQueueAnswer(this.#iana, `Get Record (queue ${this.#getQueue})`, r, decodeGetRecordResponse);
    if (got.seq === 0 || got.seq <= this.#cursor.commitSeq) {
      this.#drained = true;
      return got.seq === 0 ? [{ kind: 'empty', atMs: nowMs }] : [];
    }
    this.#recordsThisTurn += 1;
    this.#moved = true;
    return [{ kind: 'record', seq: got.seq, record: got.record }];
  }
}
