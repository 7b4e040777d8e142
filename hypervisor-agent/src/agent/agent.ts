/**
 * The hypervisor-agent assembled: BMC link ↔ end-to-end channel ↔ request-
 * challenge-verify ↔ libvirt, with durable state in SQLite. `main` builds the
 * dependencies from the config; tests build them directly.
 *
 * Per inbound record: reassemble → open (proto InboundChannel) → dispatch →
 * persist replay window and read cursor. A byte-identical copy of an envelope
 * already delivered is a replay (alert); a re-sealed copy is the manager's
 * retransmission (re-ack, no alert); a delivered envelope whose digest is
 * already on file is our own re-read after a crash (handled silently).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  type Ack,
  ackIsForUs,
  AlertKind,
  alertKindName,
  actionName,
  type Body,
  Direction,
  DomainState,
  type EnvelopeKeys,
  InboundChannel,
  type InboundEvent,
  outcomeName,
  type RandomBytes,
  Reassembler,
  ResyncReason,
  Role,
  type SigningKeyPair,
  WireError,
  type WireErrorCode,
} from '@backchannel/proto';
import type { Logger } from 'pino';
import { type AlertFacts, buildAlert } from '../alerts/alert-factory.js';
import { AlertJournal } from '../alerts/alert-journal.js';
import type { LibvirtAdapter } from '../libvirt/libvirt-adapter.js';
import type { AgentMetrics } from '../observability/metrics.js';
import type { Policy } from '../policy/policy.js';
import type { BmcTransport } from '../transport/bmc-transport.js';
import { AgentStore } from '../store/agent-store.js';
import { CommandProcessor } from './command-processor.js';
import { LinkEngine } from './link-engine.js';
import { OutboundQueue } from './outbound-queue.js';
import { StatusReporter } from './status-reporter.js';
import { PACKAGE_VERSION } from '../version.js';

/** From package.json (src/version.ts), so a release cannot report a stale version. */
export const AGENT_VERSION = PACKAGE_VERSION;

/**
 * How long after an applied action the agent looks at its domains for a status
 * report: long enough for the manager to read the action's result first (which
 * carries the new state), short next to the state poll.
 */
const REPORT_AFTER_ACTION_MS = 50;

/** How long `stop()` lets running libvirt actions finish (main.ts force-exits after 10 s). */
const STOP_GRACE_MS = 3000;

/** At most one malformed_record alert per this long; the ones in between are counted into the next. */
const MALFORMED_ALERT_EVERY_MS = 60_000;

/**
 * Record errors that only a producer other than vms-agent can cause: not a fragment at all, or
 * fragments that make no envelope. A gap or interleaving can follow a torn put or a lost queue
 * and is only counted (the manager sends the whole envelope again).
 */
const MALFORMED_CODES = new Set<WireErrorCode>(['ERR_FRAGMENT_MALFORMED', 'ERR_FRAGMENT_BAD_VERSION', 'ERR_FRAGMENT_TOO_LARGE', 'ERR_ENVELOPE_MALFORMED', 'ERR_ENVELOPE_BAD_VERSION']);

export interface AgentOptions {
  hostId: string;
  keys: EnvelopeKeys;
  hostKey: SigningKeyPair;
  policy: () => Policy;
  libvirt: LibvirtAdapter;
  libvirtVersion: string;
  openTransport: () => Promise<BmcTransport>;
  iana: number;
  stateDir: string;
  poll: { minMs: number; maxMs: number };
  reportIntervalMs: number;
  statePollMs: number;
  retransmit: { initialTimeoutMs: number; maxTimeoutMs: number };
  ackDelayMs: number;
  log: Logger;
  metrics: AgentMetrics;
  randomBytes: RandomBytes;
  now?: () => number;
  /** Fault injection (crash tests): pause after a record's effects are journaled, before its commit. */
  delayBeforeCommitMs?: number;
}

const DECRYPTION_CODES = new Set<WireErrorCode>(['ERR_ENVELOPE_TAMPERED', 'ERR_ENVELOPE_WRONG_HOST', 'ERR_ENVELOPE_WRONG_DIRECTION']);

export class Agent {
  readonly store: AgentStore;
  readonly #o: AgentOptions;
  readonly #now: () => number;
  readonly #journal: AlertJournal;
  readonly #inbound: InboundChannel;
  readonly #reassembler = new Reassembler({ maxMessageBytes: 1 << 20 });
  readonly #outbound: OutboundQueue;
  readonly #processor: CommandProcessor;
  readonly #reporter: StatusReporter;
  /** This process's incarnation (its Hello's); acks naming another are about an earlier process's ids. */
  #incarnation: number | undefined;
  readonly #link: LinkEngine;
  #ackOwedSince: number | undefined;
  #lastSweep = 0;
  #lookTimer: NodeJS.Timeout | undefined;
  #redelivery = false;
  /** Malformed records since the last malformed_record alert, and when that alert went out. */
  #malformed = { count: 0, since: 0, lastAlertMs: Number.NEGATIVE_INFINITY };
  /** Last time a clock warning was logged (they would otherwise repeat with every retransmission). */
  #lastClockWarnMs = Number.NEGATIVE_INFINITY;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.store = new AgentStore(join(options.stateDir, 'agent.db'));
    this.#journal = new AlertJournal(join(options.stateDir, 'alerts.jsonl'));
    const peer = this.store.getPeer();
    this.#inbound = new InboundChannel({ keys: options.keys, receiveDirection: Direction.DIRECTION_TO_HOST, window: this.store.getWindow(), ...(peer ? { peer } : {}) });
    // A message half read before a restart: its first records are already released on the BMC.
    try {
      for (const record of this.store.getPartialRecords()) this.#reassembler.push(record);
    } catch {
      this.#reassembler.reset(); // not a message's start any more: the manager will send it again
    }
    this.#outbound = new OutboundQueue({
      store: this.store,
      keys: options.keys,
      randomBytes: options.randomBytes,
      retransmit: options.retransmit,
      currentAck: () => this.#ackSent(),
    });
    // Actions run beside the link (team brief, "the agent seam"): the processor journals and hands over,
    // the runner applies, and a finished action's result is put out at once.
    this.#processor = new CommandProcessor({
      hostId: options.hostId,
      store: this.store,
      policy: options.policy,
      executor: options.libvirt,
      now: this.#now,
      randomBytes: options.randomBytes,
      send: (body) => this.#sendTracked(body),
      alert: (facts) => this.#alert(facts),
      wake: () => this.#link.wake(),
      onJobError: (err) => options.log.error({ err: (err as Error).message }, 'action job failed'),
      onApply: (r) => options.log.info({ requestId: r.requestId, action: actionName(r.action ?? 0), domain: r.domain, principal: r.principal }, 'applying action'),
      onApplied: (_request, result) => {
        // The result tells the manager the domain's new state: not reported again (status-reporter.ts).
        if (result.domainAfterSet && result.domainName) this.#reporter.noteKnown(result.domainName, result.newState ?? 0);
        // Not at once: the result carries the new state, and a report put on the BMC in the
        // same moment only delays the manager's read of that result.
        this.#lookSoon();
      },
    });
    this.#reporter = new StatusReporter({
      hostId: options.hostId,
      agentVersion: AGENT_VERSION,
      libvirtVersion: options.libvirtVersion,
      hypervisor: options.libvirt.driver,
      intervalMs: options.reportIntervalMs,
      pollMs: options.statePollMs,
      listDomains: () => options.libvirt.listDomains(),
      send: (statusReport) => this.#outbound.sendUntracked({ statusReport }),
      nextSeq: () => {
        const seq = this.store.getNumber('report_seq') + 1;
        this.store.setNumber('report_seq', seq);
        return seq;
      },
    });
    // libvirt lifecycle events (a guest stopped, started, paused behind the agent's back): a
    // status report on the link's next turn, not at the next state poll. After the same short
    // delay as after an action: when the change is the agent's own, its result goes out first.
    options.libvirt.onDomainEvent(() => this.#lookSoon());
    const m = options.metrics;
    this.#link = new LinkEngine({
      openTransport: options.openTransport,
      iana: options.iana,
      poll: options.poll,
      outbound: this.#outbound,
      cursor: {
        readCommit: () => this.store.getNumber('read_commit'),
        epoch: () => this.store.getNumber('bmc_epoch'),
        saveEpoch: (epoch, readCommit) =>
          this.store.transaction(() => {
            this.store.setNumber('bmc_epoch', epoch);
            this.store.setNumber('read_commit', readCommit);
            this.store.setPartialRecords([]);
          }),
      },
      onRecord: (record, seq) => this.#handleRecord(record, seq),
      onEmpty: (now) => this.#inbound.sawEmptyQueue(now),
      flush: () => this.store.flush(),
      onEpochChange: (_old, epoch) => this.#onEpochChange(epoch),
      onTick: (now) => this.#tick(now),
      log: options.log,
      now: this.#now,
      metrics: {
        recordsIn: () => m.recordsIn.inc(),
        recordsOut: () => m.recordsOut.inc(),
        queueFull: () => m.queueFull.inc(),
        resync: (reason) => m.resyncs.inc({ reason }),
        transportError: () => m.transportErrors.inc(),
      },
    });
  }

  get linkUp(): boolean {
    return this.#link.connected;
  }

  /** The manager's clock minus ours (ms), as learned through the channel; null before the first message. */
  get clockOffsetMs(): number | null {
    return this.#inbound.clockOffsetMs;
  }

  async start(): Promise<void> {
    await this.#o.libvirt.connect().catch((err: Error) => this.#o.log.warn({ err: err.message }, 'libvirt not reachable yet; will retry'));
    const recovered = await this.#processor.recoverInterrupted(async (domain) => {
      try {
        return (await this.#o.libvirt.domainInfo(domain)).state ?? DomainState.DOMAIN_STATE_NOSTATE;
      } catch {
        return DomainState.DOMAIN_STATE_NOSTATE;
      }
    });
    if (recovered > 0) this.#o.log.warn({ recovered }, 'requests interrupted mid-apply reported as failed (not retried)');
    // Tell the manager where we stand, so it retransmits what we have not delivered. A random
    // incarnation: if this store was wiped or restored, the manager rewinds its window for us.
    const nextId = this.store.peekNextMessageId();
    this.#sendTracked({
      hello: {
        role: Role.ROLE_HYPERVISOR,
        hostId: this.#o.hostId,
        agentVersion: AGENT_VERSION,
        incarnation: (this.#incarnation = randomIncarnation(this.#o.randomBytes)),
        lastDeliveredId: this.#inbound.ack().cumulativeId ?? 0,
        nextMessageId: nextId,
        firstUnackedId: Math.min(nextId, ...this.store.outboxIds()),
        timeMs: this.#now(),
      },
    });
    this.#link.start();
    this.#o.log.info({ hostId: this.#o.hostId, libvirt: this.#o.libvirt.uri }, 'hypervisor-agent started');
  }

  async stop(): Promise<void> {
    await this.#link.stop();
    // Running actions get a moment to finish and journal; what is still running then stays
    // `applying` on disk and is reported ERR_INTERRUPTED at the next start.
    const abandoned = await this.#processor.stop(STOP_GRACE_MS);
    if (abandoned > 0) this.#o.log.warn({ abandoned }, 'actions still running at stop were abandoned (reported as interrupted at the next start)');
    await this.#o.libvirt.close();
    this.#journal.close();
    this.store.close();
  }

  #ackSent(): Ack {
    this.#ackOwedSince = undefined;
    return this.#inbound.ack();
  }

  #sendTracked(body: Body): void {
    this.#outbound.sendTracked(body, this.#now(), { first: body.hello !== undefined });
    if (body.commandResult) {
      this.#o.metrics.commands.inc({ outcome: outcomeName(body.commandResult.outcome ?? 0) });
    }
  }

  #alert(facts: AlertFacts): void {
    const alert = buildAlert(facts, { hostId: this.#o.hostId, hostKey: this.#o.hostKey, nowMs: this.#now(), randomBytes: this.#o.randomBytes });
    this.#journal.append(alert);
    this.#o.metrics.alerts.inc({ kind: alertKindName(facts.kind) });
    this.#o.log.warn({ alert: alertKindName(facts.kind), reason: facts.reason, principal: facts.principal, requestId: facts.requestId }, 'security alert');
    this.#sendTracked({ alert });
  }

  async #handleRecord(record: Uint8Array, seq: number): Promise<void> {
    const now = this.#now();
    let envelope: Uint8Array | undefined;
    try {
      envelope = this.#reassembler.push(record);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.#o.metrics.messagesIn.inc({ verdict: err.code });
      this.#o.log.debug({ code: err.code, seq }, 'record dropped');
      if (MALFORMED_CODES.has(err.code)) this.#malformedRecord(`${err.code} at queue 1 seq ${seq}: ${err.message}`, now);
    }
    if (envelope) await this.#handleEnvelope(envelope, now);
    if (this.#o.delayBeforeCommitMs) {
      this.store.flush(); // the crash tests kill the agent here: effects on disk, cursor not yet moved
      await new Promise((resolve) => setTimeout(resolve, this.#o.delayBeforeCommitMs));
    }
    // Joins the unit of work with the record's effects; the link flushes it before the next Get Record commits `seq` on the BMC.
    this.store.transaction(() => {
      this.store.setWindow(this.#inbound.windowState());
      this.store.setPeer(this.#inbound.peerState());
      // What the reassembler holds: once this record is committed, the ones before it are gone from the BMC.
      this.store.setPartialRecords(this.#reassembler.heldRecords);
      this.store.setNumber('read_commit', seq);
    });
  }

  async #handleEnvelope(envelope: Uint8Array, now: number): Promise<void> {
    const digest = createHash('sha256').update(envelope).digest('hex');
    const event = this.#inbound.pushEnvelope(envelope, now);
    this.#o.metrics.messagesIn.inc({ verdict: event.kind === 'rejected' ? event.code : event.kind });
    if (event.kind === 'rejected') {
      if (DECRYPTION_CODES.has(event.code)) this.#alert({ kind: AlertKind.ALERT_KIND_DECRYPTION_FAILED, reason: `${event.code}: ${event.message}` });
      else if (MALFORMED_CODES.has(event.code)) this.#malformedRecord(`${event.code}: ${event.message}`, now);
      else this.#o.log.debug({ code: event.code }, 'envelope dropped');
      return;
    }
    if (event.kind === 'late' || event.kind === 'ahead') {
      this.#onUntimely(event, now);
      return;
    }
    if (event.kind === 'duplicate') {
      if (this.store.hasEnvelope(digest)) {
        this.#alert({ kind: AlertKind.ALERT_KIND_REPLAY, reason: `envelope with message id ${event.messageId} was replayed byte for byte` });
      } else {
        this.#ackOwedSince ??= now; // the manager did not see our ack yet
      }
      return;
    }
    if (event.rewound) {
      this.#o.log.warn({ messageId: event.messageId }, "the manager's store went back (new incarnation with ids we had delivered): replay window rewound to its first unacknowledged id");
      this.#o.metrics.resyncs.inc({ reason: 'peer_incarnation' });
    }
    this.#redelivery = !this.store.rememberEnvelope(digest, event.messageId, now) || event.redelivery === true;
    const body = event.body;
    // An ack naming another incarnation of ours acknowledged an earlier process's ids (docs/protocol.md "Incarnations").
    const released = body.ack && ackIsForUs(body.ack, this.#incarnation) ? this.#outbound.acknowledge(body.ack, now) : [];
    if (released.length > 0) this.#o.metrics.unacked.set(this.#outbound.unackedCount);
    if (body.commandRequest) await this.#processor.handleRequest(body.commandRequest);
    else if (body.challengeResponse) await this.#processor.handleChallengeResponse(body.challengeResponse, { redelivery: this.#redelivery });
    else if (body.resync) this.#outbound.expireAll(now);
    else if (body.hello) {
      this.#o.log.info({ incarnation: body.hello.incarnation, lastDeliveredId: body.hello.lastDeliveredId }, 'manager said hello');
      this.#outbound.expireAll(now);
    }
    if (body.payload) this.#ackOwedSince ??= now;
  }

  /**
   * An authentic envelope outside the step window. Only one held back (sealed before we saw the
   * queue empty, under an id below ones since delivered) cannot be benign: stale_time_step. The
   * rest waited in the queue or come from a clock beyond tolerance: dropped, and the manager
   * sends them again under a fresh step (its link shows the skew).
   */
  #onUntimely(event: Extract<InboundEvent, { kind: 'late' | 'ahead' }>, now: number): void {
    if (event.kind === 'late' && event.reason === 'held-back') {
      this.#alert({ kind: AlertKind.ALERT_KIND_STALE_TIME_STEP, reason: `message ${event.messageId} was sealed ${Math.round(event.ageMs / 1000)} s ago and put on queue 1 after newer ones were delivered: held back and replayed` });
      return;
    }
    if (event.kind === 'late' && event.reason === 'waited') {
      this.#o.log.debug({ messageId: event.messageId, ageMs: event.ageMs }, 'message older than the step window (it waited in the queue): dropped, the manager resends it');
      return;
    }
    if (now - this.#lastClockWarnMs < 60_000) return;
    this.#lastClockWarnMs = now;
    const offsetMs = event.kind === 'ahead' ? event.offsetMs : event.sentAtMs - now;
    this.#o.log.warn(
      { messageId: event.messageId, offsetMs },
      `the manager's clock is ${Math.round(offsetMs / 1000)} s off ours, beyond the channel's tolerance: its messages are dropped until a clock is corrected`,
    );
  }

  /** A record on queue 1 that vms-agent cannot have put: alert at once, then at most once a minute with the count. */
  #malformedRecord(detail: string, now: number): void {
    if (this.#malformed.count === 0) this.#malformed.since = now;
    this.#malformed.count += 1;
    if (now - this.#malformed.lastAlertMs < MALFORMED_ALERT_EVERY_MS) return;
    this.#flushMalformed(detail, now);
  }

  #flushMalformed(detail: string, now: number): void {
    const { count, since } = this.#malformed;
    this.#malformed = { count: 0, since: 0, lastAlertMs: now };
    const what = count === 1 ? 'a malformed record' : `${count} malformed records since ${new Date(since).toISOString()}`;
    this.#alert({ kind: AlertKind.ALERT_KIND_MALFORMED_RECORD, reason: `${what} on queue 1 (not put by vms-agent): ${detail}` });
  }

  #onEpochChange(epoch: number): void {
    this.#reassembler.reset();
    this.#outbound.expireAll(this.#now());
    this.#sendTracked({ resync: { reason: ResyncReason.RESYNC_REASON_EPOCH_CHANGED, bmcEpoch: epoch, lastDeliveredId: this.#inbound.ack().cumulativeId ?? 0 } });
  }

  /**
   * A look at the domains REPORT_AFTER_ACTION_MS from now, unless one is already due: an
   * action and the lifecycle event it causes come together, and one listing sees both.
   * A poke after the timer fired sets a new one, so nothing that happens later is missed.
   */
  #lookSoon(): void {
    if (this.#lookTimer) return;
    this.#lookTimer = setTimeout(() => {
      this.#lookTimer = undefined;
      this.#reporter.poke();
      this.#link.wake(); // it may be sleeping its idle interval
    }, REPORT_AFTER_ACTION_MS);
    this.#lookTimer.unref();
  }

  async #tick(now: number): Promise<void> {
    this.#outbound.requeueDue(now);
    if (now - this.#lastSweep >= 1000) {
      this.#lastSweep = now;
      this.#processor.sweepExpired();
      this.store.pruneEnvelopes(now - 10 * 60_000);
      this.#o.metrics.unacked.set(this.#outbound.unackedCount);
      this.#o.metrics.linkUp.set(this.#link.connected ? 1 : 0);
    }
    if (this.#malformed.count > 0 && now - this.#malformed.lastAlertMs >= MALFORMED_ALERT_EVERY_MS) this.#flushMalformed('(counted while alerts were rate limited)', now);
    await this.#reporter.tick(now);
    if (this.#ackOwedSince !== undefined && now - this.#ackOwedSince >= this.#o.ackDelayMs && this.#outbound.pendingCount === 0) {
      this.#outbound.sendUntracked({}); // a bare ack
    }
  }

}

/** A random 48-bit incarnation (exact in a double, never 0). */
function randomIncarnation(randomBytes: RandomBytes): number {
  const b = randomBytes(6);
  return (((b[0] ?? 0) * 2 ** 40 + (b[1] ?? 0) * 2 ** 32 + (b[2] ?? 0) * 2 ** 24 + (b[3] ?? 0) * 2 ** 16 + (b[4] ?? 0) * 2 ** 8 + (b[5] ?? 0)) || 1);
}
