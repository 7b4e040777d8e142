/**
 * One host's link: an RMCP+ session to its BMC driving the link core (proto
 * `QueueHop`, role `manager`: Put Record on queue 1, Get Record on queue 2,
 * epochs, resync, back-off, polling), and the end-to-end channel on top
 * (seal, fragment, reassemble, open, acknowledge, retransmit from the store).
 *
 * Each link is its own async loop; all IO is awaited, so a slow or dead
 * BMC only delays its own loop. Effects of a delivered message are stored
 * in one transaction with the replay window before the core is told the
 * record is consumed (and commits it on the BMC with the next Get), so a
 * crash re-reads the record and drops it as a duplicate.
 */
import {
  ackIsForUs,
  type backchannel,
  decodeBody,
  Direction,
  encodeBody,
  EnvelopeKeys,
  InboundChannel,
  type HopEvent,
  type HopStep,
  type PeerState,
  QueueHop,
  ResyncReason,
  RetransmitTracker,
  Role,
  sealRecords,
} from '@backchannel/proto';
import type { LinkHealth } from '../api/views.js';
import { isRmcpAuthError } from '../rmcp/errors.js';
import type { HostRecord, Mutation, OutboxEntry } from '../store/store.js';
import type { BmcSession } from './bmc-session.js';
import { authHold, waitForOtherCredentials } from './auth-hold.js';
import { type Untimely, ClockSkewWatch } from './clock-skew-watch.js';
import { credentialsOf, ForeignProducerGuard, randomIncarnation } from './link-guards.js';
import { dispatchBody } from './inbound-dispatch.js';
import { DEFAULT_LINK_TUNING, type LinkDependencies, type LinkTuning } from './link-options.js';
import { ackedIds, HoleFiller } from './outbound-acks.js';
import { ReplyWaits } from './reply-waits.js';
import { withTimeout } from './timeout.js';
import { WakeableSleep } from './wakeable-sleep.js';

export { DEFAULT_LINK_TUNING, type LinkDependencies, type LinkTuning } from './link-options.js';

export interface HostLinkOptions extends LinkDependencies {
  hostId: string;
}

/** The message offered to the core, with what its put means for the store. */
interface PendingSend {
  messageId: number;
  records: Uint8Array[];
  entry?: OutboxEntry;
}

export class HostLink {
  readonly hostId: string;
  readonly #o: HostLinkOptions;
  readonly #t: LinkTuning;
  /** The link core; made at the first connect (it needs the host's IANA) and kept across reconnects. */
  #hop: QueueHop | undefined;
  #health: LinkHealth;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #sleeper = new WakeableSleep();
  readonly #replies = new ReplyWaits();
  #session: BmcSession | undefined;
  #host!: HostRecord;
  #keys: EnvelopeKeys | undefined;
  #inbound: InboundChannel | undefined;
  #tracker: RetransmitTracker;
  /** The IANA the core was made for (a host updated to another one gets a new core, with the same cursor). */
  #hopIana = 0;
  #pending: PendingSend | undefined;
  #ackDueAt: number | undefined;
  #ackWokenFor: number | undefined;
  #lastAckOnlyAt = 0;
  #helloQueued = false;
  /** This process's incarnation (its Hello's); acks naming another are about an earlier process's ids. */
  #incarnation: number | undefined;
  /** Both queues as the last Get Queue Info saw them, for operators (GET /v1/hosts, `vms-agent hosts status`). */
  #queueFigures: LinkHealth['queues'] = null;
  readonly #holes: HoleFiller;
  /** What the channel learned of the host (clock offset, incarnations), kept across reconnects and stored with the window. */
  #peer: PeerState | undefined;
  /** The credentials the last refused login used: a change in the store ends the wait at once. */
  #refusedCredentials: string | undefined;
  readonly #foreign: ForeignProducerGuard;
  /** The host's clock offset while beyond tolerance (shown in `clock_skew`). */
  readonly #skew: ClockSkewWatch;

  constructor(options: HostLinkOptions) {
    this.hostId = options.hostId;
    this.#o = options;
    this.#t = { ...DEFAULT_LINK_TUNING, ...options.tuning };
    this.#tracker = new RetransmitTracker(this.#t.retransmit);
    this.#holes = new HoleFiller({ store: options.store, hostId: options.hostId, graceMs: this.#t.retransmit.initialTimeoutMs });
    this.#health = { state: 'stopped', since: options.clock(), lastError: null, unacked: 0, lastReceiveAtMs: null };
    this.#foreign = new ForeignProducerGuard({ ...options, hostId: options.hostId });
    this.#skew = new ClockSkewWatch(this.#t.time.maxSkewMs);
  }

  health(): LinkHealth {
    const offset = this.#health.state === 'clock_skew' ? this.#skew.offsetMs : (this.#inbound?.clockOffsetMs ?? this.#peer?.offsetMs ?? null);
    return { ...this.#health, unacked: this.#tracker.size, queues: this.#queueFigures, clockOffsetMs: offset };
  }

  start(): void {
    if (this.#loop) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Something was queued for this host: stop sleeping. */
  wake(): void {
    this.#hop?.wake();
    this.#sleeper.wake();
  }

  /** Stops the loop; a connect or request still hanging on a dead BMC is abandoned after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    this.#stopped = true;
    this.#sleeper.interrupt();
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
        // The core's first steps sync both queues; the link is `up` once that answered.
        while (!this.#stopped) await this.#step(this.#hop!.next(this.#o.clock()));
      } catch (err) {
        const message = (err as Error).message;
        const backoffMs = this.#hop?.disconnected(this.#o.clock()) ?? this.#t.reconnect.initialMs;
        if (isRmcpAuthError(err)) {
          // Retrying a refused login is how a link locks its own user out: wait instead.
          const hold = authHold(err, this.#o.clock());
          this.#o.logger?.warn({ host: this.hostId, kind: err.kind, retryAfterMs: err.retryAfterMs, until: new Date(hold.untilMs).toISOString() }, 'BMC refused the link credentials; not retrying until they change or the hold ends');
          this.#o.metrics?.linkUp.set({ host: this.hostId }, 0);
          this.#setState('auth_failed', hold.message);
          await this.#closeSession();
          this.#refusedCredentials ??= await this.#credentials();
          const changed = await waitForOtherCredentials({ untilMs: hold.untilMs, refused: this.#refusedCredentials, current: () => this.#credentials(), clock: this.#o.clock, sleep: (ms) => this.#sleep(ms), stopped: () => this.#stopped });
          if (changed) this.#o.logger?.info({ host: this.hostId }, 'BMC credentials changed in the store; trying again');
          continue;
        }
        this.#o.logger?.warn({ host: this.hostId, err: message }, 'link to BMC failed; reconnecting after back-off');
        this.#o.metrics?.linkUp.set({ host: this.hostId }, 0);
        this.#setState('backoff', message);
        await this.#closeSession();
        if (this.#stopped) break;
        this.#o.metrics?.reconnects.inc({ host: this.hostId });
        await this.#sleep(backoffMs);
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
      this.#o.connector({ hostId: host.id, host: host.bmcAddress, port: host.bmcPort, user: host.bmcUser, password: secrets.bmcPassword, privilege: host.bmcPrivilege, cipherSuites: host.cipherSuites }),
      this.#t.connectTimeoutMs,
      `RMCP+ session to ${host.bmcAddress}:${host.bmcPort}`,
    );
    this.#session = {
      request: (netfn, cmd, data) => withTimeout(session.request(netfn, cmd, data), this.#t.requestTimeoutMs, `IPMI request 0x${netfn.toString(16)}/0x${cmd.toString(16)}`),
      close: () => session.close(),
    };
    this.#refusedCredentials = undefined; // accepted
    this.#hopFor(host).connected(this.#o.clock());
    await this.#loadState();
    // After a (re)start nothing says whether the last sends arrived: send the unacknowledged again now.
    if (!this.#helloQueued) this.#tracker.expireAll();
  }

  /** The core for this host's IANA, with the epochs the store remembers (once per process: the core keeps its cursor across reconnects). */
  #hopFor(host: HostRecord): QueueHop {
    if (this.#hop && this.#hopIana === host.iana) return this.#hop;
    const t = this.#t;
    const hop = new QueueHop({
      role: 'manager',
      iana: host.iana,
      random: this.#o.random,
      tuning: { pollMinMs: t.pollMinMs, pollMaxMs: t.pollMaxMs, replyPollMs: t.replyPollMs, queueInfoEveryMs: t.queueInfoEveryMs, queueFull: t.queueFull, reconnect: t.reconnect },
    });
    // The read cursor is not kept: Get Record with commit 0 returns what the BMC still holds uncommitted, and the replay window drops what was delivered.
    hop.restore(this.#hop?.cursor ?? { putEpoch: host.q1Epoch, getEpoch: host.q2Epoch, commitSeq: 0 });
    this.#hop = hop;
    this.#hopIana = host.iana;
    return hop;
  }

  /** Once per process, after the first sync: tell the hypervisor-agent we (re)started, what we have delivered, and ask for its unacknowledged messages. */
  async #queueHello(): Promise<void> {
    if (this.#helloQueued) return;
    this.#incarnation = randomIncarnation(this.#o.randomBytes);
    const host = (await this.#o.store.getHost(this.hostId))!;
    const nextId = host.nextMessageId + 1;
    const firstUnackedId = Math.min(nextId, ...(await this.#o.store.listOutbox(this.hostId)).map((e) => e.messageId));
    // A random incarnation: if this store was wiped or restored from an older copy, the host rewinds its window for us.
    await this.#enqueue({ hello: { role: Role.ROLE_MANAGER, hostId: this.hostId, agentVersion: this.#o.agentVersion ?? '', incarnation: this.#incarnation, lastDeliveredId: this.#inbound!.ack().cumulativeId ?? 0, nextMessageId: nextId, firstUnackedId, timeMs: this.#o.clock() } }, 'hello');
    this.#helloQueued = true;
  }

  /** One step of the core: a request to the BMC, the next message to put, or a wait. */
  async #step(step: HopStep): Promise<void> {
    const hop = this.#hop!;
    if (step.kind === 'need-message') {
      this.#pending = await this.#nextMessage(this.#o.clock());
      hop.offer(this.#pending, this.#o.clock());
      return;
    }
    if (step.kind === 'wait') {
      // An owed ack that no traffic carried wakes one turn to put it bare (once: if queue 1 is full it waits with the rest).
      const ackAt = this.#ackDueAt !== undefined && this.#ackDueAt !== this.#ackWokenFor ? this.#ackDueAt : undefined;
      await this.#sleep((ackAt === undefined ? step.untilMs : Math.min(step.untilMs, ackAt)) - this.#o.clock());
      if (ackAt !== undefined && this.#o.clock() >= ackAt) {
        this.#ackWokenFor = ackAt;
        hop.wake();
      }
      return;
    }
    const answer = await this.#session!.request(step.netfn, step.cmd, step.data);
    for (const event of hop.onResponse(answer, this.#o.clock())) await this.#on(event);
  }

  async #on(event: HopEvent): Promise<void> {
    const m = this.#o.metrics;
    switch (event.kind) {
      case 'queues': {
        const figures = (i: typeof event.put) => ({ depth: i.depth, usedBytes: i.usedBytes, capacityBytes: i.capacityBytes });
        this.#queueFigures = { atMs: this.#o.clock(), toHost: figures(event.put), toManager: figures(event.get) };
        if (this.#health.state !== 'up' && this.#health.state !== 'clock_skew') {
          this.#setState('up', null);
          m?.linkUp.set({ host: this.hostId }, 1);
          await this.#queueHello();
        }
        return;
      }
      case 'cursor':
        if (event.cursor.putEpoch !== this.#host.q1Epoch || event.cursor.getEpoch !== this.#host.q2Epoch) {
          await this.#o.store.apply([{ kind: 'host.epochs', hostId: this.hostId, q1Epoch: event.cursor.putEpoch, q2Epoch: event.cursor.getEpoch }]);
          this.#host = { ...this.#host, q1Epoch: event.cursor.putEpoch, q2Epoch: event.cursor.getEpoch };
        }
        return;
      case 'epoch-changed':
        this.#o.logger?.warn({ host: this.hostId, queue: event.queue === 'put' ? 1 : 2, oldEpoch: event.oldEpoch, newEpoch: event.newEpoch }, 'BMC queue was lost (epoch changed); resending and asking the host to resend');
        if (event.queue === 'put') {
          this.#tracker.expireAll();
        } else {
          this.#inbound?.resetReassembly();
          await this.#enqueue({ resync: { reason: ResyncReason.RESYNC_REASON_EPOCH_CHANGED, bmcEpoch: event.newEpoch, lastDeliveredId: this.#inbound!.ack().cumulativeId ?? 0 } }, 'resync');
        }
        return;
      case 'record-put':
        m?.recordsPut.inc({ host: this.hostId });
        return;
      case 'message-put':
        await this.#afterPut(event.messageId);
        return;
      case 'record':
        await this.#receive(event.seq, event.record);
        this.#hop!.consumed(event.seq);
        return;
      case 'empty':
        this.#inbound?.sawEmptyQueue(event.atMs);
        return;
      case 'queue-full':
        m?.queueFull.inc({ host: this.hostId });
        return;
      case 'resync':
        if (event.reason !== 'foreign-producer') this.#o.logger?.warn({ host: this.hostId, reason: event.reason }, 'BMC queues resynchronising');
        return;
      case 'foreign-producer':
        // Someone else put records on queue 1 (anyone with the BMC operator password can); the core continues after theirs.
        await this.#foreign.detected(event.expectedSeq, event.lastPutSeq);
        return;
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

  async #enqueue(body: backchannel.v1.IBody, kind: string): Promise<void> {
    await this.#o.store.apply([{ kind: 'outbox.enqueue', hostId: this.hostId, body: encodeBody(body), messageKind: kind, atMs: this.#o.clock() }]);
  }

  /** Every record of the offered message is on queue 1: the outbox bookkeeping, the command's `sent`, the reply window. */
  async #afterPut(messageId: number): Promise<void> {
    const p = this.#pending;
    if (!p || p.messageId !== messageId) return;
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
        this.#replies.expect(p.entry.commandId, sentAt + this.#t.replyWindowMs);
        this.#replyWindowChanged();
      }
    } else {
      this.#lastAckOnlyAt = sentAt;
      this.#holes.sentUntracked(p.messageId, sentAt);
    }
  }

  /** Queue 2 has no doorbell on the LAN side: while a challenge or result is due, the core polls fast. */
  #replyWindowChanged(): void {
    this.#hop?.setReplyWindow(this.#replies.windowEnd(this.#o.clock()));
  }

  async #nextMessage(now: number): Promise<PendingSend | undefined> {
    const outbox = await this.#o.store.listOutbox(this.hostId);
    const due = new Set(this.#tracker.due(now));
    const tracked = new Set(this.#tracker.unacked());
    // A Hello not yet sent goes first, whatever its id: after a restore the host must rewind its
    // window (docs/protocol.md "Incarnations") before it sees the older ids the outbox still holds.
    const entry = outbox.find((e) => e.kind === 'hello' && !tracked.has(e.messageId)) ?? outbox.find((e) => !tracked.has(e.messageId) || due.has(e.messageId));
    const ack = this.#inbound!.ack();
    const seal = (id: number, body: backchannel.v1.IBody) =>
      sealRecords({ keys: this.#keys!, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: this.#hop!.maxRecord, randomBytes: this.#o.randomBytes }, id, { ...body, ack }, now);
    const hole = this.#holes.nextHole();
    if (hole !== undefined) return { messageId: hole, records: seal(hole, {}) };
    if (entry) return { messageId: entry.messageId, records: seal(entry.messageId, decodeBody(entry.body)), entry };
    if (this.#ackDueAt !== undefined && now >= this.#ackDueAt) {
      // A bare ack gets an id but is never kept or retransmitted, and is never answered, so two sides cannot ping-pong.
      const { messageIds } = await this.#o.store.apply([{ kind: 'message.allocate', hostId: this.hostId }]);
      const id = messageIds[0]!;
      return { messageId: id, records: seal(id, {}) };
    }
    return undefined;
  }

  /** One record from queue 2, through the channel; what it delivers is stored before the core commits the record. */
  async #receive(seq: number, record: Uint8Array): Promise<void> {
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
      this.#o.logger?.warn({ host: this.hostId, code: ev.code, reason: ev.message, seq }, 'dropped a record or envelope from the host');
    }
  }

  async #deliver(body: backchannel.v1.Body, now: number): Promise<void> {
    const d = await dispatchBody(this.#host, body, { commands: this.#o.commands, ...(this.#o.metrics ? { metrics: this.#o.metrics } : {}), nowMs: now });
    const outboxIds = (await this.#o.store.listOutbox(this.hostId)).map((e) => e.messageId);
    // Only the body's own ack releases anything, and only one naming this process (docs/protocol.md "Incarnations").
    const ack = body.ack && ackIsForUs(body.ack, this.#incarnation) ? body.ack : undefined;
    const acked = ackedIds(ack ? [ack] : [], this.#tracker, outboxIds);
    const mutations: Mutation[] = [...d.mutations];
    if (acked.size > 0) mutations.push({ kind: 'outbox.ack', hostId: this.hostId, messageIds: [...acked] });
    mutations.push({ kind: 'inbound.window', hostId: this.hostId, window: { ...this.#inbound!.windowState(), peer: this.#inbound!.peerState() }, atMs: now });
    await this.#o.store.apply(mutations);
    this.#o.commands.notifyApplied(mutations);
    const replyTo = body.challenge?.requestId ?? body.commandResult?.requestId;
    if (replyTo && this.#replies.settle(replyTo)) this.#replyWindowChanged();
    // Something to send (a challenge response signed custodially): send it now, before reading on.
    if (mutations.some((m) => m.kind === 'outbox.enqueue')) this.#hop?.wake();
    for (const state of d.finals) this.#o.metrics?.commandsFinal.inc({ state });
    // An ack that shows the host lacks an id for good (a lost bare ack): an empty body goes out under it next.
    if (ack && (await this.#holes.update(ack, now, () => this.#pending?.messageId))) this.#hop?.wake();
    if (d.resendAll) this.#tracker.expireAll();
    if (d.needsAck) this.#ackDueAt ??= now + this.#t.ackDelayMs;
  }

  /** An authentic envelope outside the step window (ClockSkewWatch says what it means). */
  #untimely(ev: Untimely, now: number): void {
    const v = this.#skew.judge(ev, now, this.#health.state === 'clock_skew');
    this.#o.metrics?.inboundRejected.inc({ host: this.hostId, code: v.code });
    if (v.kind === 'held-back') this.#o.logger?.warn({ host: this.hostId, messageId: ev.messageId, ageMs: ev.kind === 'late' ? ev.ageMs : 0 }, 'an envelope sealed long before newer ones were delivered was put on queue 2 (held back and replayed): dropped');
    if (v.kind !== 'skew') return;
    this.#o.metrics?.clockOffset.set({ host: this.hostId }, v.offsetMs / 1000);
    if (this.#health.state !== 'clock_skew') this.#o.logger?.warn({ host: this.hostId, offsetMs: v.offsetMs }, v.text);
    this.#setState('clock_skew', v.text);
  }

  /** The host's BMC credentials as stored now (compared, never logged). */
  async #credentials(): Promise<string | undefined> {
    const host = await this.#o.store.getHost(this.hostId);
    const secrets = await this.#o.store.getHostSecrets(this.hostId);
    return host && secrets ? credentialsOf(host, secrets.bmcPassword) : undefined;
  }

  #sleep(ms: number): Promise<void> {
    return this.#sleeper.sleep(ms, this.#stopped);
  }

  #setState(state: LinkHealth['state'], lastError: string | null): void {
    if (this.#health.state !== state) this.#health = { ...this.#health, state, since: this.#o.clock() };
    this.#health.lastError = lastError;
  }

  async #closeSession(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (s) await s.close().catch(() => undefined);
  }
}
