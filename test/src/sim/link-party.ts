/**
 * One party of the link simulation (manager or host) as a process: a thin
 * driver around the link core, implementing the channel the way the agents
 * do. It seals with EnvelopeKeys/sealRecords, tracks unacknowledged messages
 * (RetransmitTracker, bodies kept in the durable outbox), opens with
 * InboundChannel (acks ride on every body; a bare ack when one is owed and
 * nothing else goes out; empty bodies fill ids the peer lacks for good),
 * retransmits on timeout and after an epoch change or the peer's Hello or
 * Resync, and says Hello at every start. Requests travel over the simulated
 * network with a timeout and repeat like RMCP+ does; after `retries`
 * failures the transport counts as failed and the core backs off.
 *
 * The durable store (`PartyStore`) is the only thing a crash keeps: it is
 * written only in `commit`, with copies, and read back at start.
 */
import { createHash } from 'node:crypto';
import {
  type Ack,
  ackIsForUs,
  type Body,
  decodeBody,
  Direction,
  encodeBody,
  EnvelopeKeys,
  InboundChannel,
  type InboundEvent,
  Reassembler,
  ResyncReason,
  RetransmitTracker,
  Role,
  sealRecords,
  unfillableHoles,
  WireError,
} from '@backchannel/proto';
import { CoreDriver } from './core-driver.js';
import type { HopEvent, LinkCore, OutboundMessage } from './link-core.js';
import { type AppHandler, copyPeer, copyWindow, DECRYPTION_CODES, incarnation, isAcked, MALFORMED_CODES, type Observer, type PartyStore, type PartyTuning, type Transport } from './party-store.js';
import type { EventLoop, PartyClock } from './sim-world.js';

export { emptyStore, type AppHandler, type Observer, type OutboxEntry, type PartyStore, type PartyTuning, type Transport } from './party-store.js';

export interface PartyOptions<A> {
  role: 'manager' | 'host';
  loop: EventLoop;
  clock: PartyClock;
  keys: EnvelopeKeys;
  store: PartyStore<A>;
  core: LinkCore;
  transport: Transport;
  app: AppHandler<A>;
  observer: Observer;
  tuning: PartyTuning;
  randomBytes: (n: number) => Uint8Array;
  /** Called with each HopStep the driver turns into a request (for traces). */
  trace?: (line: string) => void;
}

export class Party<A> {
  alive = true;
  /** This process has seen Get Queue Info of both queues at least once. */
  synced = false;
  readonly #o: PartyOptions<A>;
  readonly #send: Direction;
  readonly #inbound: InboundChannel;
  /** The host reassembles itself (and keeps the held records); the manager lets InboundChannel do it. */
  readonly #reassembler: Reassembler | undefined;
  readonly #tracker: RetransmitTracker;
  readonly #driver: CoreDriver;
  /** This start's incarnation (its Hello's). */
  #incarnation: number | undefined;
  #ackOwedAt: number | undefined;
  #lastBareAckAt = Number.NEGATIVE_INFINITY;
  #holes: number[] = [];
  readonly #untrackedSentAt = new Map<number, number>();
  #lastHoleCheck = Number.NEGATIVE_INFINITY;
  /** The message handed to the core and not yet put (it may be dropped by a resync). */
  #offered: number | undefined;
  /** Outbox ids this process has not put yet, ascending. */
  #fresh: number[] = [];
  #due: number[] = [];
  #dueAt: number | undefined;
  /** This process's Hello, until it is first handed to the core. */
  #hello: number | undefined;

  constructor(o: PartyOptions<A>) {
    this.#o = o;
    this.#send = o.role === 'manager' ? Direction.DIRECTION_TO_HOST : Direction.DIRECTION_TO_MANAGER;
    const s = o.store;
    this.#inbound = new InboundChannel({
      keys: o.keys,
      receiveDirection: o.role === 'manager' ? Direction.DIRECTION_TO_MANAGER : Direction.DIRECTION_TO_HOST,
      ...(s.window ? { window: copyWindow(s.window) } : {}),
      ...(s.peer ? { peer: copyPeer(s.peer) } : {}),
    });
    if (o.role === 'host') {
      this.#reassembler = new Reassembler({ maxMessageBytes: 1 << 20 });
      for (const r of s.held) this.#reassembler.push(r);
    }
    this.#tracker = new RetransmitTracker(o.tuning.retransmit);
    this.#driver = new CoreDriver(o, { alive: () => this.alive, now: () => this.now(), nextMessage: (now) => this.#nextMessage(now), onEvent: (ev) => this.#onEvent(ev) });
    const now = this.now();
    // After a start nothing says whether the last sends arrived: everything unacknowledged goes again.
    for (const id of s.outbox.keys()) this.#tracker.track(id, now);
    this.#tracker.expireAll();
    o.core.restore({ ...s.cursor });
    const nextId = s.nextId;
    const firstUnacked = Math.min(nextId, ...s.outbox.keys());
    this.#hello = this.#enqueue({
      hello: {
        role: o.role === 'manager' ? Role.ROLE_MANAGER : Role.ROLE_HYPERVISOR,
        hostId: o.keys.hostId,
        incarnation: (this.#incarnation = incarnation(o.randomBytes)),
        lastDeliveredId: this.#inbound.ack().cumulativeId ?? 0,
        nextMessageId: nextId,
        firstUnackedId: firstUnacked,
        timeMs: now,
      },
    });
    this.#driver.connect();
    this.#tick();
  }

  now(): number {
    return this.#o.clock.local(this.#o.loop.now);
  }

  get store(): PartyStore<A> {
    return this.#o.store;
  }

  get connected(): boolean {
    return this.#driver.connected;
  }

  crash(): void {
    this.alive = false;
  }

  /** Durable change: `fn` writes copies into the store. */
  commit(fn: (s: PartyStore<A>) => void): void {
    fn(this.#o.store);
  }

  /** Queues a tracked message (in the outbox, resent until acknowledged). */
  enqueue(body: Body): void {
    this.#enqueue(body);
    this.#o.core.wake();
    this.#driver.pump();
  }

  #enqueue(body: Body): number {
    let id = 0;
    this.commit((s) => {
      id = s.nextId++;
      s.outbox.set(id, { body: encodeBody(body), hello: body.hello !== undefined && body.hello !== null });
    });
    this.#fresh.push(id);
    return id;
  }

  expectReply(ms: number): void {
    this.#o.core.setReplyWindow(this.now() + ms);
  }

  // --- channel ---------------------------------------------------------------

  /** Everything unacknowledged is due now (an epoch change, the peer's Hello or Resync). */
  #expireAll(): void {
    this.#tracker.expireAll();
    this.#dueAt = undefined;
  }

  #tick(): void {
    if (!this.alive) return;
    const now = this.now();
    if (this.#driver.connected && (this.#holes.length > 0 || this.#dueList(now).length > 0 || (this.#ackOwedAt !== undefined && now >= this.#ackOwedAt))) {
      this.#o.core.wake();
      this.#driver.pump();
    }
    this.#o.loop.after(this.#o.tuning.tickMs, () => this.#tick());
  }

  #seal(id: number, body: Body, now: number): OutboundMessage {
    const t = this.#o.tuning;
    const records = sealRecords({ keys: this.#o.keys, sendDirection: this.#send, maxRecord: t.maxRecord, randomBytes: this.#o.randomBytes }, id, { ...body, ack: this.#inbound.ack() }, now);
    this.#offered = id;
    return { messageId: id, records };
  }

  #dueList(now: number): number[] {
    if (this.#dueAt === undefined || now - this.#dueAt >= 100 || now < this.#dueAt) {
      this.#due = this.#tracker.due(now);
      this.#dueAt = now;
    }
    return this.#due;
  }

  #nextMessage(now: number): OutboundMessage | undefined {
    const s = this.#o.store;
    // Asked again while a message was handed over and never put: the core dropped it (a resync); it goes again.
    const dropped = this.#offered;
    this.#offered = undefined;
    if (dropped !== undefined && s.outbox.has(dropped) && this.#tracker.attempts(dropped) === 0 && !this.#fresh.includes(dropped)) {
      this.#fresh.push(dropped);
      if (s.outbox.get(dropped)?.hello) this.#hello = dropped;
      this.#fresh.sort((a, b) => a - b);
    }
    const hole = this.#holes.shift();
    if (hole !== undefined) {
      this.#o.observer.count(`${this.#o.role}.hole_fillers`);
      this.#o.trace?.(`${this.#o.loop.now} ${this.#o.role} fills hole ${hole} with an empty body`);
      return this.#seal(hole, {}, now);
    }
    // A Hello not yet sent goes first (the peer must learn of the restart before older ids), then
    // the lowest id never sent or due again. The due list is recomputed at most every 100 ms (a
    // retransmission waits that much longer at most), which keeps a large outbox cheap to scan.
    this.#dueList(now);
    while (this.#fresh.length > 0 && !s.outbox.has(this.#fresh[0]!)) this.#fresh.shift();
    while (this.#due.length > 0 && !s.outbox.has(this.#due[0]!)) this.#due.shift();
    let pick: number | undefined;
    const hello = this.#hello !== undefined && s.outbox.has(this.#hello) ? this.#fresh.indexOf(this.#hello) : -1;
    this.#hello = undefined;
    if (hello >= 0) pick = this.#fresh.splice(hello, 1)[0];
    else if (this.#fresh.length > 0 && (this.#due.length === 0 || this.#fresh[0]! < this.#due[0]!)) pick = this.#fresh.shift();
    else if (this.#due.length > 0) {
      pick = this.#due.shift();
      this.#o.observer.count(`${this.#o.role}.retransmissions`);
      this.#o.trace?.(`${this.#o.loop.now} ${this.#o.role} retransmits message ${pick} (attempt ${this.#tracker.attempts(pick!) + 1})`);
    }
    if (pick !== undefined) return this.#seal(pick, decodeBody(s.outbox.get(pick)!.body) as Body, now);
    if (this.#ackOwedAt !== undefined && now >= this.#ackOwedAt) {
      // A bare ack gets an id but is never kept or retransmitted, and never answered.
      let id = 0;
      this.commit((st) => void (id = st.nextId++));
      this.#o.observer.count(`${this.#o.role}.bare_acks`);
      return this.#seal(id, {}, now);
    }
    return undefined;
  }

  #onEvent(ev: HopEvent): void {
    const o = this.#o;
    const now = this.now();
    switch (ev.kind) {
      case 'cursor':
        this.commit((s) => void (s.cursor = { ...ev.cursor }));
        return;
      case 'epoch-changed':
        o.observer.count(`${o.role}.epoch_changes`);
        if (ev.queue === 'put') this.#expireAll();
        else {
          this.#inbound.resetReassembly();
          this.#reassembler?.reset();
          this.commit((s) => void (s.held = []));
          this.#enqueue({ resync: { reason: ResyncReason.RESYNC_REASON_EPOCH_CHANGED, bmcEpoch: ev.newEpoch, lastDeliveredId: this.#inbound.ack().cumulativeId ?? 0 } });
        }
        return;
      case 'message-put': {
        if (this.#offered === ev.messageId) this.#offered = undefined;
        this.#ackOwedAt = undefined;
        if (o.store.outbox.has(ev.messageId)) this.#tracker.track(ev.messageId, now);
        else {
          this.#lastBareAckAt = now;
          if (this.#untrackedSentAt.size < 4096) this.#untrackedSentAt.set(ev.messageId, now);
        }
        return;
      }
      case 'record':
        return this.#onRecord(ev.seq, ev.record, now);
      case 'empty':
        this.#inbound.sawEmptyQueue(ev.atMs);
        return;
      case 'queue-full':
        o.observer.count(`${o.role}.queue_full`);
        return;
      case 'resync':
        o.observer.count(`${o.role}.resync_${ev.reason}`);
        return;
      case 'foreign-producer':
        o.observer.alert('foreign_producer', `${o.role}: expected seq ${ev.expectedSeq}, last_put_seq ${ev.lastPutSeq}`);
        return;
      case 'queues':
        this.synced = true;
        return;
      case 'record-put':
        return;
    }
  }

  #onRecord(seq: number, record: Uint8Array, now: number): void {
    const o = this.#o;
    let ev: InboundEvent | undefined;
    let digest: string | undefined;
    if (this.#reassembler) {
      let envelope: Uint8Array | undefined;
      try {
        envelope = this.#reassembler.push(record);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        ev = { kind: 'rejected', code: err.code, message: err.message };
      }
      if (envelope) {
        ev = this.#inbound.pushEnvelope(envelope, now);
        digest = createHash('sha256').update(envelope).digest('hex');
        // The hypervisor-agent's replay alert: a duplicate id whose bytes it has seen before was put again by someone.
        if (ev.kind === 'duplicate' && o.store.seen.has(digest)) o.observer.alert('replay', `message ${ev.messageId} put again byte for byte`);
      }
    } else ev = this.#inbound.pushRecord(record, now);
    let enqueued = false;
    if (ev?.kind === 'delivered') {
      const body = ev.body;
      // As the agents do: only the body's own ack releases, and only one naming this start; a Hello or
      // Resync makes us resend (its last_delivered_id, taken when it was queued, releases nothing).
      const ack = body.ack && ackIsForUs(body.ack, this.#incarnation) ? body.ack : undefined;
      const resendAll = Boolean(body.hello || body.resync);
      const outgoing: Body[] = [];
      this.commit((s) => {
        if (ack) {
          this.#tracker.ack(ack);
          const released = [...s.outbox.keys()].filter((id) => isAcked(ack, id));
          for (const id of released) s.outbox.delete(id);
          if (released.length > 0) o.trace?.(`${o.loop.now} ${o.role} ack (cumulative ${ack.cumulativeId}, incarnation ${ack.incarnation ?? 0} vs ours ${this.#incarnation}) in message ${ev.messageId} releases ${released.join(',')}`);
        }
        o.app.deliver(body, s.app, (b) => outgoing.push(b), now);
        s.window = copyWindow(this.#inbound.windowState());
        s.peer = copyPeer(this.#inbound.peerState());
        s.held = [];
        s.cursor = { ...s.cursor, commitSeq: seq };
        if (digest !== undefined) {
          s.seen.set(digest, now);
          // Oldest first (insertion order): drop what is over 10 minutes old.
          for (const [d, at] of s.seen) {
            if (now - at <= 10 * 60_000) break;
            s.seen.delete(d);
          }
        }
      });
      for (const b of outgoing) this.#enqueue(b);
      enqueued = outgoing.length > 0;
      if (resendAll) this.#expireAll();
      if (body.payload) this.#ackOwedAt ??= now + o.tuning.ackDelayMs;
      if (ack) this.#updateHoles(ack, now);
      o.observer.count(`${o.role}.delivered`);
      o.trace?.(`${o.loop.now} ${o.role} delivered message ${ev.messageId} sealed ${ev.sentAtMs - now} ms off our clock; learned offset ${this.#inbound.clockOffsetMs} ms`);
    } else {
      this.#verdict(ev, now);
      const held = this.#reassembler ? [...this.#reassembler.heldRecords] : [];
      this.commit((s) => {
        s.held = held;
        s.cursor = { ...s.cursor, commitSeq: seq };
      });
    }
    o.core.consumed(seq);
    if (enqueued) o.core.wake();
  }

  #verdict(ev: InboundEvent | undefined, now: number): void {
    const o = this.#o;
    if (!ev) return;
    switch (ev.kind) {
      case 'duplicate':
        o.observer.count(`${o.role}.duplicates`);
        // The peer resent something we have: our ack did not reach it.
        if (now - this.#lastBareAckAt > o.tuning.retransmit.initialTimeoutMs / 2) this.#ackOwedAt ??= now;
        return;
      case 'late':
        o.observer.count(`${o.role}.late_${ev.reason.replace('-', '_')}`);
        if (ev.reason === 'held-back') o.observer.alert('stale_time_step', `${o.role}: message ${ev.messageId} held back (age ${ev.ageMs} ms)`);
        if (ev.reason === 'clock') o.observer.alert('clock', `${o.role}: message ${ev.messageId} late by the clock (age ${ev.ageMs} ms, learned offset ${this.#inbound.clockOffsetMs} ms)`);
        return;
      case 'ahead':
        o.observer.alert('clock', `${o.role}: message ${ev.messageId} ahead: sealed ${ev.offsetMs} ms off our clock, learned offset ${this.#inbound.clockOffsetMs} ms`);
        return;
      case 'rejected':
        o.observer.count(`${o.role}.rejected_${ev.code}`);
        if (o.role === 'host' && DECRYPTION_CODES.has(ev.code)) o.observer.alert('decryption_failed', `${ev.code}: ${ev.message}`);
        if (o.role === 'host' && MALFORMED_CODES.has(ev.code)) o.observer.alert('malformed_record', `${ev.code}: ${ev.message}`);
        return;
      case 'delivered':
        return;
    }
  }

  /** Ids the peer's ack shows missing that nothing will send again (a lost bare ack): empty bodies go out under them. */
  #updateHoles(ack: Ack, now: number): void {
    const cumulative = Number(ack.cumulativeId ?? 0);
    for (const id of this.#untrackedSentAt.keys()) if (id <= cumulative) this.#untrackedSentAt.delete(id);
    if (now - this.#lastHoleCheck < 1_000) return;
    this.#lastHoleCheck = now;
    const s = this.#o.store;
    const queued = new Set([...this.#holes, ...(this.#offered !== undefined ? [this.#offered] : [])]);
    const found = unfillableHoles({
      ack,
      nextId: s.nextId,
      willSend: (id) => s.outbox.has(id) || queued.has(id),
      sentAtMs: (id) => this.#untrackedSentAt.get(id),
      nowMs: now,
      graceMs: this.#o.tuning.retransmit.initialTimeoutMs,
    });
    if (found.length > 0) this.#holes = [...this.#holes, ...found].sort((a, b) => a - b);
  }
}

export { EnvelopeKeys };
