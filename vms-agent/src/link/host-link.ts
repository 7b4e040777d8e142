/**
 * One host's link: an RMCP+ session to its BMC, Put Record on queue 1 and
 * Get Record on queue 2, and the end-to-end channel on top (seal, fragment,
 * reassemble, open, acknowledge, retransmit from the store).
 *
 * Each link is its own async loop; all IO is awaited, so a slow or dead
 * BMC only delays its own loop. Effects of a delivered message are stored
 * in one transaction with the replay window before the record is committed
 * on the BMC, so a crash re-reads the record and drops it as a duplicate.
 */
import {
  type backchannel,
  decodeBody,
  Direction,
  encodeBody,
  EnvelopeKeys,
  InboundChannel,
  type InboundEvent,
  type PeerState,
  QueueId,
  ResyncReason,
  RetransmitTracker,
  Role,
  sealRecords,
} from '@backchannel/proto';
import type { LinkHealth } from '../api/views.js';
import { isRmcpAuthError } from '../rmcp/errors.js';
import type { HostRecord, Mutation, OutboxEntry } from '../store/store.js';
import { Backoff, PollSchedule } from './backoff.js';
import type { BmcSession } from './bmc-session.js';
import { authHold } from './auth-hold.js';
import { clockSkewText, credentialsOf, ForeignProducerGuard, randomIncarnation } from './link-guards.js';
import { dispatchBody } from './inbound-dispatch.js';
import { DEFAULT_LINK_TUNING, type LinkDependencies, type LinkTuning } from './link-options.js';
import { OemQueueClient } from './oem-queue-client.js';
import { ackedIds, HoleFiller } from './outbound-acks.js';
import { withTimeout } from './timeout.js';

export { DEFAULT_LINK_TUNING, type LinkDependencies, type LinkTuning } from './link-options.js';

export interface HostLinkOptions extends LinkDependencies {
  hostId: string;
}

interface PendingSend {
  messageId: number;
  records: Uint8Array[];
  index: number;
  entry?: OutboxEntry;
}

export class HostLink {
  readonly hostId: string;
  readonly #o: HostLinkOptions;
  readonly #t: LinkTuning;
  readonly #reconnect: Backoff;
  readonly #fullBackoff: Backoff;
  readonly #poll: PollSchedule;
  #health: LinkHealth;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  /** A wake() that came while the loop was busy: the next sleep returns at once. */
  #wakePending = false;
  /** Commands whose challenge or result we expect soon, with the time we stop polling fast for them. */
  readonly #awaitingReply = new Map<string, number>();
  #session: BmcSession | undefined;
  #queues: OemQueueClient | undefined;
  #host!: HostRecord;
  #keys: EnvelopeKeys | undefined;
  #inbound: InboundChannel | undefined;
  #tracker: RetransmitTracker;
  #epochs = { q1: 0, q2: 0 };
  #nextSeq = 1;
  #commitSeq = 0;
  #maxRecord = 200;
  #pending: PendingSend | undefined;
  #putBlockedUntil = 0;
  #ackDueAt: number | undefined;
  #lastAckOnlyAt = 0;
  #lastQueueInfoAt = 0;
  #helloQueued = false;
  /** Both queues as the last Get Queue Info saw them, for operators (GET /v1/hosts, `vms-agent hosts status`). */
  #queueFigures: LinkHealth['queues'] = null;
  readonly #holes: HoleFiller;
  /** What the channel learned of the host (clock offset, incarnations), kept across reconnects and stored with the window. */
  #peer: PeerState | undefined;
  /** The host's clock offset as last measured while beyond tolerance (shown in `clock_skew`). */
  #skewOffsetMs: number | null = null;
  /** The credentials the last refused login used: a change in the store ends the wait at once. */
  #refusedCredentials: string | undefined;
  readonly #foreign: ForeignProducerGuard;

  constructor(options: HostLinkOptions) {
    this.hostId = options.hostId;
    this.#o = options;
    this.#t = { ...DEFAULT_LINK_TUNING, ...options.tuning };
    this.#reconnect = new Backoff(this.#t.reconnect, options.random);
    this.#fullBackoff = new Backoff(this.#t.queueFull, options.random);
    this.#poll = new PollSchedule(this.#t.pollMinMs, this.#t.pollMaxMs);
    this.#tracker = new RetransmitTracker(this.#t.retransmit);
    this.#holes = new HoleFiller({ store: options.store, hostId: options.hostId, graceMs: this.#t.retransmit.initialTimeoutMs });
    this.#health = { state: 'stopped', since: options.clock(), lastError: null, unacked: 0, lastReceiveAtMs: null };
    this.#foreign = new ForeignProducerGuard({ ...options, hostId: options.hostId });
  }

  health(): LinkHealth {
    const offset = this.#health.state === 'clock_skew' ? this.#skewOffsetMs : (this.#inbound?.clockOffsetMs ?? this.#peer?.offsetMs ?? null);
    return { ...this.#health, unacked: this.#tracker.size, queues: this.#queueFigures, clockOffsetMs: offset };
  }

  start(): void {
    if (this.#loop) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Something was queued for this host: stop sleeping. */
  wake(): void {
    this.#poll.reset();
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  /** Stops the loop; a connect or request still hanging on a dead BMC is abandoned after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    this.#stopped = true;
    this.#wakeUp?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.#setState('connecting', null);
        await this.#connect();
        this.#setState('up', null);
        this.#reconnect.reset();
        this.#o.metrics?.linkUp.set({ host: this.hostId }, 1);
        while (!this.#stopped) {
          const busy = await this.#cycle();
          await this.#sleep(this.#nextDelay(busy));
        }
      } catch (err) {
        const message = (err as Error).message;
        if (isRmcpAuthError(err)) {
          // Retrying a refused login is how a link locks its own user out: wait instead.
          const hold = authHold(err, this.#o.clock());
          this.#o.logger?.warn({ host: this.hostId, kind: err.kind, retryAfterMs: err.retryAfterMs, until: new Date(hold.untilMs).toISOString() }, 'BMC refused the link credentials; not retrying until they change or the hold ends');
          this.#o.metrics?.linkUp.set({ host: this.hostId }, 0);
          this.#setState('auth_failed', hold.message);
          await this.#closeSession();
          this.#refusedCredentials ??= await this.#credentials();
          await this.#holdForCredentials(hold.untilMs);
          continue;
        }
        this.#o.logger?.warn({ host: this.hostId, err: message }, 'link to BMC failed; reconnecting after back-off');
        this.#o.metrics?.linkUp.set({ host: this.hostId }, 0);
        this.#setState('backoff', message);
        await this.#closeSession();
        if (this.#stopped) break;
        this.#o.metrics?.reconnects.inc({ host: this.hostId });
        await this.#sleep(this.#reconnect.next());
      }
    }
    await this.#closeSession();
    this.#o.metrics?.linkUp.set({ host: this.hostId }, 0);
    this.#setState('stopped', this.#health.lastError);
  }

  async #connect(): Promise<void> {
    const { store } = this.#o;
    const host = await store.getHost(this.hostId);
    const secrets = await store.getHostSecrets(this.hostId);
    if (!host || !secrets) throw new Error(`host ${this.hostId} is no longer in the store`);
    this.#host = host;
    this.#refusedCredentials = credentialsOf(host, secrets.bmcPassword);
    this.#keys ??= new EnvelopeKeys(secrets.seed, host.id, this.#t.keys);
    const session = await withTimeout(
      this.#o.connector({ host: host.bmcAddress, port: host.bmcPort, user: host.bmcUser, password: secrets.bmcPassword, privilege: host.bmcPrivilege, cipherSuites: host.cipherSuites }),
      this.#t.connectTimeoutMs,
      `RMCP+ session to ${host.bmcAddress}:${host.bmcPort}`,
    );
    this.#session = {
      request: (netfn, cmd, data) => withTimeout(session.request(netfn, cmd, data), this.#t.requestTimeoutMs, `IPMI request 0x${netfn.toString(16)}/0x${cmd.toString(16)}`),
      close: () => session.close(),
    };
    this.#refusedCredentials = undefined; // accepted
    this.#queues = new OemQueueClient(this.#session, host.iana);
    await this.#loadState();
    // After a (re)start nothing says whether the last sends arrived: send the unacknowledged again now.
    if (!this.#helloQueued) this.#tracker.expireAll();
    await this.#syncQueues();
    if (!this.#helloQueued) {
      // Once per process: tell the hypervisor-agent we (re)started, what we have delivered, and ask for its unacknowledged messages.
      // A random incarnation: if this store was wiped or restored from an older copy, the host rewinds its window for us.
      const nextId = (await store.getHost(host.id))!.nextMessageId + 1;
      const firstUnackedId = Math.min(nextId, ...(await store.listOutbox(host.id)).map((e) => e.messageId));
      await this.#enqueue({ hello: { role: Role.ROLE_MANAGER, hostId: host.id, agentVersion: this.#o.agentVersion ?? '', incarnation: randomIncarnation(this.#o.randomBytes), lastDeliveredId: this.#inbound!.ack().cumulativeId ?? 0, nextMessageId: nextId, firstUnackedId, timeMs: this.#o.clock() } }, 'hello');
      this.#helloQueued = true;
    }
  }

  /** Channel state from the store: replay window, and what was sent but not acknowledged. */
  async #loadState(): Promise<void> {
    const stored = await this.#o.store.getInboundWindow(this.hostId);
    this.#peer = this.#inbound?.peerState() ?? this.#peer ?? stored?.peer;
    const window = stored ? { highest: stored.highest, cumulative: stored.cumulative, bitmap: stored.bitmap, size: stored.size } : undefined;
    this.#inbound = new InboundChannel({ keys: this.#keys!, receiveDirection: Direction.DIRECTION_TO_MANAGER, time: this.#t.time, ...(window ? { window } : {}), ...(this.#peer ? { peer: this.#peer } : {}) });
    this.#tracker = new RetransmitTracker(this.#t.retransmit);
    for (const e of await this.#o.store.listOutbox(this.hostId)) if (e.sendCount > 0) this.#tracker.track(e.messageId, e.lastSentAtMs);
    this.#pending = undefined;
  }

  /** Get Queue Info on both queues; notices a BMC that lost its queues (new epoch) and resynchronises. */
  async #syncQueues(): Promise<void> {
    const q = this.#queues!;
    const [q1, q2] = [await q.queueInfo(QueueId.ToHost), await q.queueInfo(QueueId.ToManager)];
    this.#lastQueueInfoAt = this.#o.clock();
    const figures = (i: typeof q1) => ({ depth: i.depth, usedBytes: i.usedBytes, capacityBytes: i.capacityBytes });
    this.#queueFigures = { atMs: this.#lastQueueInfoAt, toHost: figures(q1), toManager: figures(q2) };
    this.#maxRecord = q1.maxRecord;
    const known = { q1: this.#epochs.q1 || this.#host.q1Epoch, q2: this.#epochs.q2 || this.#host.q2Epoch };
    const q1Lost = known.q1 !== 0 && known.q1 !== q1.bmcEpoch;
    const q2Lost = known.q2 !== 0 && known.q2 !== q2.bmcEpoch;
    // Puts continue after what the BMC holds; a message cut short is sent again from its first record.
    this.#nextSeq = q1.lastPutSeq + 1;
    this.#pending = undefined;
    if (q2Lost || this.#epochs.q2 !== q2.bmcEpoch) {
      this.#commitSeq = 0;
      this.#inbound?.resetReassembly();
    }
    if (q1Lost) this.#tracker.expireAll();
    if (q1.bmcEpoch !== known.q1 || q2.bmcEpoch !== known.q2) {
      await this.#o.store.apply([{ kind: 'host.epochs', hostId: this.hostId, q1Epoch: q1.bmcEpoch, q2Epoch: q2.bmcEpoch }]);
    }
    this.#epochs = { q1: q1.bmcEpoch, q2: q2.bmcEpoch };
    if (q1Lost || q2Lost) {
      this.#o.logger?.warn({ host: this.hostId, q1Lost, q2Lost }, 'BMC queues were lost (epoch changed); resending and asking the host to resend');
      if (q2Lost) {
        await this.#enqueue({ resync: { reason: ResyncReason.RESYNC_REASON_EPOCH_CHANGED, bmcEpoch: q2.bmcEpoch, lastDeliveredId: this.#inbound!.ack().cumulativeId ?? 0 } }, 'resync');
      }
    }
  }

  async #enqueue(body: backchannel.v1.IBody, kind: string): Promise<void> {
    await this.#o.store.apply([{ kind: 'outbox.enqueue', hostId: this.hostId, body: encodeBody(body), messageKind: kind, atMs: this.#o.clock() }]);
  }

  async #cycle(): Promise<boolean> {
    if (this.#o.clock() - this.#lastQueueInfoAt >= this.#t.queueInfoEveryMs) await this.#syncQueues();
    let busy = false;
    for (let i = 0; i < 8 && !this.#stopped; i++) {
      if (!(await this.#sendOne())) break;
      busy = true;
    }
    for (let i = 0; i < 32 && !this.#stopped; i++) {
      if (!(await this.#receiveOne())) break;
      busy = true;
      // A delivery queued an answer (a custodially signed challenge response): send it
      // before reading on; the next Get Record still carries the commit.
      if (this.#wakePending) break;
    }
    return busy;
  }

  /** Puts the next due message (new, retransmission, or a bare ack). False when there was nothing to put. */
  async #sendOne(): Promise<boolean> {
    const now = this.#o.clock();
    if (now < this.#putBlockedUntil) return false;
    if (!this.#pending) {
      this.#pending = await this.#nextMessage(now);
      if (!this.#pending) return false;
    }
    const p = this.#pending;
    while (p.index < p.records.length) {
      const r = await this.#queues!.put(QueueId.ToHost, this.#nextSeq, p.records[p.index]!);
      if (r.kind === 'full') {
        this.#o.metrics?.queueFull.inc({ host: this.hostId });
        this.#putBlockedUntil = this.#o.clock() + this.#fullBackoff.next();
        return false;
      }
      if (r.kind === 'gap') {
        this.#o.logger?.warn({ host: this.hostId, seq: this.#nextSeq }, 'Put Record sequence gap (0x80); resynchronising');
        await this.#syncQueues();
        return true;
      }
      if (r.lastPutSeq !== this.#nextSeq) {
        // Someone else put records on queue 1 (anyone with the BMC operator password can): the BMC
        // took ours as a retransmission and did not store it. Continue after theirs at once, from
        // the message's first record (the host drops the torn start), and raise an alert.
        await this.#foreign.detected(this.#nextSeq, r.lastPutSeq);
        this.#nextSeq = r.lastPutSeq + 1;
        p.index = 0;
        continue;
      }
      this.#nextSeq += 1;
      p.index += 1;
      this.#o.metrics?.recordsPut.inc({ host: this.hostId });
    }
    this.#fullBackoff.reset();
    this.#pending = undefined;
    this.#ackDueAt = undefined;
    const sentAt = this.#o.clock();
    if (p.entry) {
      if (this.#tracker.attempts(p.messageId) > 0 || p.entry.sendCount > 0) this.#o.metrics?.retransmissions.inc({ host: this.hostId });
      this.#tracker.track(p.messageId, sentAt);
      // The outbox bookkeeping and the command's `sent`, in one transaction that does not wait for
      // the disk: nothing depends on them (after a power cut the message is only sent again, and a
      // command may skip from `queued` to `challenged`), and the next durable commit syncs them.
      const sent: Mutation[] = [{ kind: 'outbox.sent', hostId: this.hostId, messageId: p.messageId, atMs: sentAt }];
      if (p.entry.kind === 'command_request' && p.entry.commandId) sent.push(...(await this.#o.commands.sentMutations(p.entry.commandId, p.messageId)));
      await this.#o.store.apply(sent, { durable: false });
      this.#o.commands.notifyApplied(sent);
      if ((p.entry.kind === 'command_request' || p.entry.kind === 'challenge_response') && p.entry.commandId) {
        this.#awaitingReply.set(p.entry.commandId, sentAt + this.#t.replyWindowMs);
      }
    } else {
      this.#lastAckOnlyAt = sentAt;
      this.#holes.sentUntracked(p.messageId, sentAt);
    }
    return true;
  }

  async #nextMessage(now: number): Promise<PendingSend | undefined> {
    const outbox = await this.#o.store.listOutbox(this.hostId);
    const due = new Set(this.#tracker.due(now));
    const tracked = new Set(this.#tracker.unacked());
    const entry = outbox.find((e) => !tracked.has(e.messageId) || due.has(e.messageId));
    const ack = this.#inbound!.ack();
    const seal = (id: number, body: backchannel.v1.IBody) =>
      sealRecords({ keys: this.#keys!, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: this.#maxRecord, randomBytes: this.#o.randomBytes }, id, { ...body, ack }, now);
    const hole = this.#holes.nextHole();
    if (hole !== undefined) return { messageId: hole, records: seal(hole, {}), index: 0 };
    if (entry) return { messageId: entry.messageId, records: seal(entry.messageId, decodeBody(entry.body)), index: 0, entry };
    if (this.#ackDueAt !== undefined && now >= this.#ackDueAt) {
      // A bare ack gets an id but is never kept or retransmitted, and is never answered, so two sides cannot ping-pong.
      const { messageIds } = await this.#o.store.apply([{ kind: 'message.allocate', hostId: this.hostId }]);
      const id = messageIds[0]!;
      return { messageId: id, records: seal(id, {}), index: 0 };
    }
    return undefined;
  }

  /** Reads one record from queue 2 (committing the previous one). False when the queue was empty. */
  async #receiveOne(): Promise<boolean> {
    const r = await this.#queues!.get(QueueId.ToManager, this.#commitSeq);
    if (r.kind === 'bad-commit') {
      await this.#syncQueues();
      return true;
    }
    const { seq, record } = r.response;
    if (seq === 0) this.#inbound!.sawEmptyQueue(this.#o.clock());
    if (seq === 0 || seq <= this.#commitSeq) return false;
    this.#o.metrics?.recordsGot.inc({ host: this.hostId });
    const now = this.#o.clock();
    const ev = this.#inbound!.pushRecord(record, now);
    if (ev?.kind === 'delivered') {
      try {
        await this.#deliver(ev.body, now);
      } catch (err) {
        // Nothing of this message was stored: forget what memory says and read the record again.
        await this.#loadState();
        throw err;
      }
      this.#health.lastReceiveAtMs = now;
      if (this.#health.state === 'clock_skew') this.#setState('up', null);
      const offset = this.#inbound!.clockOffsetMs;
      if (offset !== null) this.#o.metrics?.clockOffset.set({ host: this.hostId }, offset / 1000);
      if (ev.rewound) this.#o.logger?.warn({ host: this.hostId, messageId: ev.messageId }, "the host's store went back (a new incarnation with ids already delivered): window rewound to its first unacknowledged id");
    } else if (ev?.kind === 'late' || ev?.kind === 'ahead') {
      this.#untimely(ev, now);
    } else if (ev?.kind === 'duplicate') {
      // The host resent something we have: our ack did not reach it.
      if (now - this.#lastAckOnlyAt > this.#t.retransmit.initialTimeoutMs / 2) this.#ackDueAt ??= now;
    } else if (ev?.kind === 'rejected') {
      this.#o.metrics?.inboundRejected.inc({ host: this.hostId, code: ev.code });
      this.#o.logger?.warn({ host: this.hostId, code: ev.code, reason: ev.message }, 'dropped a record or envelope from the host');
    }
    this.#commitSeq = seq;
    return true;
  }

  async #deliver(body: backchannel.v1.Body, now: number): Promise<void> {
    const d = await dispatchBody(this.#host, body, { commands: this.#o.commands, ...(this.#o.metrics ? { metrics: this.#o.metrics } : {}), nowMs: now });
    const outboxIds = (await this.#o.store.listOutbox(this.hostId)).map((e) => e.messageId);
    const acked = ackedIds(d.acks, this.#tracker, outboxIds);
    const mutations: Mutation[] = [...d.mutations];
    if (acked.size > 0) mutations.push({ kind: 'outbox.ack', hostId: this.hostId, messageIds: [...acked] });
    mutations.push({ kind: 'inbound.window', hostId: this.hostId, window: { ...this.#inbound!.windowState(), peer: this.#inbound!.peerState() }, atMs: now });
    await this.#o.store.apply(mutations);
    this.#o.commands.notifyApplied(mutations);
    const replyTo = body.challenge?.requestId ?? body.commandResult?.requestId;
    if (replyTo) this.#awaitingReply.delete(replyTo);
    // Something to send (a challenge response signed custodially): send it now, not after a poll interval.
    if (mutations.some((m) => m.kind === 'outbox.enqueue')) this.#wakePending = true;
    for (const state of d.finals) this.#o.metrics?.commandsFinal.inc({ state });
    // An ack that shows the host lacks an id for good (a lost bare ack): an empty body goes out under it next.
    if (body.ack && (await this.#holes.update(body.ack, now, () => this.#pending?.messageId))) this.#wakePending = true;
    if (d.resendAll) this.#tracker.expireAll();
    if (d.needsAck) this.#ackDueAt ??= now + this.#t.ackDelayMs;
  }

  /**
   * An authentic envelope outside the step window. One that may have waited in the queue is only
   * counted (the host sends it again); a clock beyond tolerance is a link state with the offset,
   * never a silent stall; one held back and replayed is logged as such.
   */
  #untimely(ev: Extract<InboundEvent, { kind: 'late' | 'ahead' }>, now: number): void {
    const code = ev.kind === 'ahead' ? 'clock_ahead' : `late_${ev.reason.replace('-', '_')}`;
    this.#o.metrics?.inboundRejected.inc({ host: this.hostId, code });
    if (ev.kind === 'late' && ev.reason === 'waited') return;
    if (ev.kind === 'late' && ev.reason === 'held-back') {
      this.#o.logger?.warn({ host: this.hostId, messageId: ev.messageId, ageMs: ev.ageMs }, 'an envelope sealed long before newer ones were delivered was put on queue 2 (held back and replayed): dropped');
      return;
    }
    const offsetMs = ev.kind === 'ahead' ? ev.offsetMs : ev.sentAtMs - now;
    // Each sample is the offset less its message's transit time: keep the one with the least delay.
    this.#skewOffsetMs = this.#health.state === 'clock_skew' && this.#skewOffsetMs !== null ? Math.max(this.#skewOffsetMs, offsetMs) : offsetMs;
    this.#o.metrics?.clockOffset.set({ host: this.hostId }, this.#skewOffsetMs / 1000);
    const text = clockSkewText(this.#skewOffsetMs, this.#t.time.maxSkewMs);
    if (this.#health.state !== 'clock_skew') this.#o.logger?.warn({ host: this.hostId, offsetMs }, text);
    this.#setState('clock_skew', text);
  }

  /** The host's BMC credentials as stored now (compared, never logged). */
  async #credentials(): Promise<string | undefined> {
    const host = await this.#o.store.getHost(this.hostId);
    const secrets = await this.#o.store.getHostSecrets(this.hostId);
    return host && secrets ? credentialsOf(host, secrets.bmcPassword) : undefined;
  }

  /** Waits until `untilMs`, or until the stored credentials differ from the refused ones. */
  async #holdForCredentials(untilMs: number): Promise<void> {
    while (!this.#stopped && this.#o.clock() < untilMs) {
      await this.#sleep(Math.min(2_000, untilMs - this.#o.clock()));
      const now = await this.#credentials().catch(() => this.#refusedCredentials);
      if (now !== this.#refusedCredentials) {
        this.#o.logger?.info({ host: this.hostId }, 'BMC credentials changed in the store; trying again');
        return;
      }
    }
  }

  #nextDelay(busy: boolean): number {
    let delay = this.#poll.next(busy);
    if (this.#ackDueAt !== undefined) delay = Math.min(delay, Math.max(0, this.#ackDueAt - this.#o.clock()));
    if (this.#putBlockedUntil > this.#o.clock()) delay = Math.min(delay, this.#putBlockedUntil - this.#o.clock());
    if (this.#awaitingReply.size > 0) {
      const now = this.#o.clock();
      for (const [id, until] of this.#awaitingReply) if (until <= now) this.#awaitingReply.delete(id);
      if (this.#awaitingReply.size > 0) delay = Math.min(delay, this.#t.replyPollMs);
    }
    return delay;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Whichever ends the sleep (the timer or a wake) clears the callback, so a
      // wake() during the next busy stretch sets #wakePending instead of being lost.
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  #setState(state: LinkHealth['state'], lastError: string | null): void {
    if (this.#health.state !== state) this.#health = { ...this.#health, state, since: this.#o.clock() };
    this.#health.lastError = lastError;
  }

  async #closeSession(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    this.#queues = undefined;
    if (s) await s.close().catch(() => undefined);
  }
}
