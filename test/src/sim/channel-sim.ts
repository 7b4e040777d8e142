/**
 * Deterministic simulation of one end-to-end channel direction (the first
 * piece of issue 18's simulation; the link cores are not unified yet): the
 * proto sender side (sealRecords, RetransmitTracker, bodies kept durably)
 * and receiver side (InboundChannel, its window and peer state persisted),
 * bmc-oem's QueueEngine between them (queue 1: Put with the producer's seq,
 * 0xC4 when full, Get with commit), acknowledgements back with a delay, and
 * two clocks with a seeded skew and drift. The receiver crashes and
 * restarts with exactly its durable state, and stays down for a while (the
 * queue fills with messages that wait). One seed gives one run, bit for bit:
 * the clocks, the IVs and every choice come from the seed.
 *
 * Invariants after every run: every message delivered exactly once, no
 * delivery of an id twice, no `held-back` (the only time verdict that
 * raises an alert) unless the schedule injected a held-back envelope, no
 * `ahead`/`clock` verdict while the skew is within tolerance, nothing
 * rejected.
 */
import { QueueEngine } from '@backchannel/bmc-oem';
import {
  type Ack,
  decodeGetRecordResponse,
  encodeOemRequest,
  OemCommand,
  QueueId,
  type Body,
  DEFAULT_TIME_TOLERANCE,
  Direction,
  EnvelopeKeys,
  InboundChannel,
  type PeerState,
  type ReplayWindowState,
  RetransmitTracker,
  sealRecords,
} from '@backchannel/proto';
import { seededRandom } from '../faults/seeded-random.js';

export interface SimOptions {
  messages: number;
  /** Largest initial clock skew of the receiver against the sender, either way (ms). */
  maxSkewMs: number;
  /** Largest drift, either way (parts per million). */
  maxDriftPpm: number;
  /** Chance per simulated second that the receiver crashes; it stays down up to `maxDownMs`. */
  crashPerSecond: number;
  maxDownMs: number;
  /** Inject one held-back envelope (an attacker keeps a sealed envelope and puts it later). */
  injectHeldBack: boolean;
}

export const DEFAULT_SIM: SimOptions = { messages: 200, maxSkewMs: 10 * 60_000, maxDriftPpm: 100, crashPerSecond: 0.02, maxDownMs: 12 * 60_000, injectHeldBack: false };

export interface SimReport {
  seed: number;
  messages: number;
  delivered: number;
  retransmissions: number;
  /** Puts answered 0xC4 (queue 1 full while the receiver was down). */
  fullPuts: number;
  crashes: number;
  verdicts: Record<string, number>;
  simulatedMs: number;
  skewMs: number;
  driftPpm: number;
  violations: string[];
}

const TICK_MS = 50;
const IANA = 32473;
const OPERATOR = 3;
const SEED_BYTES = new Uint8Array(32).fill(0x5a);

export function runChannelSim(seed: number, options: Partial<SimOptions> = {}): SimReport {
  const o = { ...DEFAULT_SIM, ...options };
  const rnd = seededRandom(seed);
  const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const skewMs = Math.round((rnd() * 2 - 1) * o.maxSkewMs);
  const driftPpm = (rnd() * 2 - 1) * o.maxDriftPpm;
  const t0 = Date.UTC(2026, 11, 3, 0, 0, 0) + Math.floor(rnd() * 86_400_000);
  const senderClock = (t: number) => t0 + t;
  const receiverClock = (t: number) => Math.floor(t0 + t + skewMs + (t * driftPpm) / 1e6);
  const keys = new EnvelopeKeys(SEED_BYTES, 'hv-sim');
  const out = { keys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: 200, randomBytes };

  // Sender: what it must send, kept durably (bodies), and the retransmission tracker.
  const outbox = new Map<number, Body>();
  const tracker = new RetransmitTracker({ initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 });
  const sendAt = Array.from({ length: o.messages }, () => Math.floor(rnd() * o.messages * 2_000)).sort((a, b) => a - b);
  let nextId = 1;
  let retransmissions = 0;
  // Queue 1 on the BMC (records wait on the sender's side while it answers 0xC4), and the acks on their way back.
  const engine = new QueueEngine({ iana: IANA, randomBytes });
  const wire: Uint8Array[] = [];
  let putSeq = 0;
  let fullPuts = 0;
  const queue = {
    push: (...records: Uint8Array[]) => wire.push(...records),
    /** Puts what waits, in order, until the queue is full. */
    flush: () => {
      while (wire.length > 0) {
        const r = engine.handle(OemCommand.PutRecord, 'lan', OPERATOR, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq: putSeq + 1, record: wire[0]! }));
        if (r.cc === 0xc4) return void fullPuts++;
        if (r.cc !== 0) throw new Error(`put cc 0x${r.cc.toString(16)}`);
        putSeq++;
        wire.shift();
      }
    },
    get: (commit: number) => decodeGetRecordResponse(engine.handle(OemCommand.GetRecord, 'system', 0, encodeOemRequest({ kind: 'get-record', iana: IANA, queue: QueueId.ToHost, commitSeq: commit })).data),
    get empty() {
      return wire.length === 0 && engine.depth(QueueId.ToHost) === 0;
    },
  };
  const acks: { at: number; ack: Ack }[] = [];
  // Receiver: durable state (window, peer, read cursor), and the process (undefined while down).
  let durable: { window?: ReplayWindowState; peer?: PeerState; commit: number } = { commit: 0 };
  const start = () => new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_HOST, ...(durable.window ? { window: durable.window } : {}), ...(durable.peer ? { peer: durable.peer } : {}) });
  let receiver: InboundChannel | undefined = start();
  let downUntil = 0;
  let crashes = 0;
  const deliveredCount = new Map<number, number>();
  const verdicts: Record<string, number> = {};
  const violations: string[] = [];
  let held: { records: Uint8Array[]; putAt: number } | undefined;
  const count = (k: string) => (verdicts[k] = (verdicts[k] ?? 0) + 1);

  let t = 0;
  const horizon = (sendAt.at(-1) ?? 0) + 60 * 60_000;
  for (; t <= horizon; t += TICK_MS) {
    // Sender: new messages, due retransmissions (re-sealed under the current step), incoming acks.
    while (sendAt.length > 0 && (sendAt[0] ?? 0) <= t) {
      sendAt.shift();
      const id = nextId++;
      const body: Body = { commandRequest: { requestId: `r-${id}`, principal: 'alice', action: 9, domain: 'web-1', hostId: 'hv-sim' } };
      outbox.set(id, body);
      const records = sealRecords(out, id, body, senderClock(t));
      if (o.injectHeldBack && id === 3) {
        // The attacker keeps this copy, drops every retransmission of it, and puts it 40 minutes later.
        held = { records, putAt: t + 40 * 60_000 };
      } else queue.push(...records);
      tracker.track(id, senderClock(t));
    }
    for (const id of tracker.due(senderClock(t))) {
      const body = outbox.get(id);
      if (!body) continue;
      const records = sealRecords(out, id, body, senderClock(t));
      if (!(held && id === 3)) queue.push(...records);
      tracker.track(id, senderClock(t));
      retransmissions++;
    }
    while (acks.length > 0 && (acks[0]?.at ?? 0) <= t) {
      for (const id of tracker.ack(acks.shift()!.ack)) outbox.delete(id);
    }
    if (held && t >= held.putAt && receiver) {
      queue.push(...held.records);
      held = undefined;
    }
    queue.flush();
    // Receiver: crash, restart, read what the queue holds.
    if (receiver && rnd() < o.crashPerSecond * (TICK_MS / 1000)) {
      receiver = undefined;
      crashes++;
      downUntil = t + Math.floor(rnd() * o.maxDownMs);
    }
    if (!receiver && t >= downUntil) receiver = start();
    if (!receiver) continue;
    const now = receiverClock(t);
    for (let n = 0; n < 8; n++) {
      const got = queue.get(durable.commit);
      if (got.seq === 0) {
        receiver.sawEmptyQueue(now);
        break;
      }
      const ev = receiver.pushRecord(got.record, now);
      // Effects, window and cursor are durable together (the agents' rule); the next Get commits it on the BMC.
      durable = { ...durable, window: receiver.windowState(), peer: receiver.peerState(), commit: got.seq };
      if (!ev) continue;
      if (ev.kind === 'late') count(`late_${ev.reason.replace('-', '_')}`);
      else count(ev.kind);
      if (ev.kind === 'delivered') {
        deliveredCount.set(ev.messageId, (deliveredCount.get(ev.messageId) ?? 0) + 1);
        if ((deliveredCount.get(ev.messageId) ?? 0) > 1) violations.push(`message ${ev.messageId} delivered twice`);
      }
      if (ev.kind === 'rejected') violations.push(`rejected ${ev.code}: ${ev.message}`);
      acks.push({ at: t + 100 + Math.floor(rnd() * 400), ack: receiver.ack() });
    }
    if (outbox.size === 0 && sendAt.length === 0 && !held && queue.empty) break;
  }

  for (let id = 1; id < nextId; id++) if ((deliveredCount.get(id) ?? 0) !== 1) violations.push(`message ${id} delivered ${deliveredCount.get(id) ?? 0} times`);
  if (!o.injectHeldBack && verdicts.late_held_back) violations.push(`${verdicts.late_held_back} held-back verdict(s) (a security alert) with no attack injected`);
  // Without crashes the receiver has seen the queue empty since the held copy was sealed: it must be called held-back.
  if (o.injectHeldBack && o.crashPerSecond === 0 && !verdicts.late_held_back) violations.push('the held-back envelope was not reported');
  if (Math.abs(skewMs) <= DEFAULT_TIME_TOLERANCE.maxSkewMs && (verdicts.ahead || verdicts.late_clock)) {
    violations.push(`clock beyond tolerance reported (ahead ${verdicts.ahead ?? 0}, late_clock ${verdicts.late_clock ?? 0}) with a skew of ${skewMs} ms`);
  }
  return { seed, messages: o.messages, delivered: deliveredCount.size, retransmissions, fullPuts, crashes, verdicts, simulatedMs: t, skewMs, driftPpm, violations };
}
