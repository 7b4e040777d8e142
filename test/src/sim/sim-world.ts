/**
 * The world of the link simulation (link-sim.ts): one event loop in
 * simulated time, clocks per party with skew and drift, a lossy network
 * between a party and the BMC, and the BMC itself (bmc-oem's real
 * QueueEngine, with or without a durable journal). Nothing here reads the
 * real clock or sets a real timer: one seed gives one run, bit for bit.
 */
import { QueueEngine } from '@backchannel/bmc-oem';

/** A min-heap of events by (time, order of scheduling): ties run in the order they were scheduled. */
export class EventLoop {
  now = 0;
  #order = 0;
  #heap: { at: number; order: number; fn: () => void }[] = [];
  events = 0;

  at(at: number, fn: () => void): void {
    const e = { at: Math.max(at, this.now), order: this.#order++, fn };
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  /** Runs events until none is left, `until` is passed, or `stop()` says so (checked between events). */
  run(until: number, stop: () => boolean): void {
    const h = this.#heap;
    while (h.length > 0) {
      const top = h[0]!;
      if (top.at > until) return;
      const last = h.pop()!;
      if (h.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= h.length) break;
          const r = l + 1;
          const c = r < h.length && less(h[r]!, h[l]!) ? r : l;
          if (less(last, h[c]!)) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      this.now = top.at;
      this.events++;
      top.fn();
      if (stop()) return;
    }
  }
}

function less(a: { at: number; order: number }, b: { at: number; order: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/** A party's wall clock: `t0 + skew + t·(1 + drift)`, in whole ms, for simulated time t. */
export class PartyClock {
  constructor(
    readonly t0: number,
    readonly skewMs: number,
    readonly driftPpm: number,
  ) {}

  local(t: number): number {
    return Math.floor(this.t0 + this.skewMs + t * (1 + this.driftPpm / 1e6));
  }

  /** The first simulated time at which this clock reads at least `localMs`. */
  simAt(localMs: number): number {
    let t = Math.ceil((localMs - this.t0 - this.skewMs) / (1 + this.driftPpm / 1e6));
    while (this.local(t) < localMs) t++;
    while (t > 0 && this.local(t - 1) >= localMs) t--;
    return t;
  }
}

export interface NetProfile {
  /** Chance a datagram is lost. */
  loss: number;
  /** Chance a datagram arrives twice. */
  dup: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Chance a datagram is held back by up to `reorderMs` more (so later ones overtake it). */
  reorder: number;
  reorderMs: number;
}

export const RELIABLE: NetProfile = { loss: 0, dup: 0, minDelayMs: 1, maxDelayMs: 3, reorder: 0, reorderMs: 0 };

/** One direction of a datagram path; `down(t)` says when the path is cut (a partition). */
export class Wire {
  delivered = 0;
  lost = 0;
  duplicated = 0;

  constructor(
    readonly loop: EventLoop,
    readonly rnd: () => number,
    readonly profile: NetProfile,
    readonly down: (t: number) => boolean = () => false,
  ) {}

  send(deliver: () => void): void {
    const p = this.profile;
    if (this.down(this.loop.now) || this.rnd() < p.loss) {
      this.lost++;
      return;
    }
    const copies = this.rnd() < p.dup ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = p.minDelayMs + Math.floor(this.rnd() * (p.maxDelayMs - p.minDelayMs + 1));
      if (this.rnd() < p.reorder) delay += Math.floor(this.rnd() * p.reorderMs);
      this.loop.after(delay, () => {
        if (this.down(this.loop.now)) return void this.lost++;
        this.delivered++;
        deliver();
      });
    }
  }
}

/** `count` partition intervals [start, end) in simulated ms, starting within [0, horizonMs), each 1 s to 1 s + maxMs long. */
export function partitionSchedule(rnd: () => number, horizonMs: number, count: number, maxMs: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor(rnd() * horizonMs);
    out.push([start, start + 1_000 + Math.floor(rnd() * maxMs)]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

export function inIntervals(intervals: readonly [number, number][], t: number): boolean {
  for (const [s, e] of intervals) {
    if (t < s) return false;
    if (t < e) return true;
  }
  return false;
}

// --- The BMC -----------------------------------------------------------------

interface QueueState {
  epoch: number;
  lastPutSeq: number;
  committedSeq: number;
  records: { seq: number; bytes: Uint8Array }[];
}

type JournalEntry = { kind: 'reset'; queue: number; epoch: number } | { kind: 'put'; queue: number; seq: number; record: Uint8Array } | { kind: 'commit'; queue: number; committedSeq: number };

/**
 * The BMC's durable queue journal, kept compacted in memory (what FileQueueStore
 * replays from disk): every entry is durable the moment `append` returns, as the
 * engine requires; it survives the engine, which is all a restart keeps.
 */
export class MemoryQueueJournal {
  readonly #queues = new Map<number, QueueState>();

  load(): Map<number, { epoch: number; lastPutSeq: number; committedSeq: number; records: readonly { seq: number; bytes: Uint8Array }[] }> {
    const out = new Map<number, QueueState>();
    for (const [n, q] of this.#queues) out.set(n, { ...q, records: q.records.slice() });
    return out;
  }

  append(e: JournalEntry): void {
    if (e.kind === 'reset') return void this.#queues.set(e.queue, { epoch: e.epoch, lastPutSeq: 0, committedSeq: 0, records: [] });
    const q = this.#queues.get(e.queue);
    if (!q) throw new Error(`journal: queue ${e.queue} has no reset entry`);
    if (e.kind === 'put') {
      q.records.push({ seq: e.seq, bytes: e.record });
      q.lastPutSeq = e.seq;
    } else {
      let n = 0;
      while (n < q.records.length && q.records[n]!.seq <= e.committedSeq) n++;
      if (n > 0) q.records.splice(0, n);
      q.committedSeq = Math.max(q.committedSeq, e.committedSeq);
    }
  }

  maybeCompact(): void {}
  close(): void {}
}

export interface BmcOptions {
  iana: number;
  capacityBytes: number;
  /** Keep the queues across a restart (bmc-oem with a state directory) or start empty under new epochs. */
  durable: boolean;
  randomBytes: (n: number) => Uint8Array;
}

/**
 * bmc-oem: the real QueueEngine, up or down. A restart recreates the engine from
 * the journal (durable) or empty under fresh epochs, and ends every session:
 * requests of an older session (a datagram still on its way) are dropped, as an
 * RMCP+ BMC drops packets for a session id it no longer has.
 */
export class SimBmc {
  engine: QueueEngine | undefined;
  /** Bumped at each restart: sessions opened before are gone. */
  boot = 0;
  restarts = 0;
  readonly #journal: MemoryQueueJournal | undefined;
  readonly #o: BmcOptions;
  /** RMCP+ inbound session sequence numbers seen, per session: a duplicated datagram is dropped. */
  readonly #seen = new Map<string, Set<number>>();

  constructor(o: BmcOptions) {
    this.#o = o;
    this.#journal = o.durable ? new MemoryQueueJournal() : undefined;
    this.start();
  }

  start(): void {
    this.boot++;
    this.#seen.clear();
    this.engine = new QueueEngine({ iana: this.#o.iana, capacityBytes: this.#o.capacityBytes, randomBytes: this.#o.randomBytes, ...(this.#journal ? { store: this.#journal } : {}) });
  }

  crash(): void {
    this.engine = undefined;
    this.restarts++;
  }

  /**
   * One request datagram. `session` names the sender's session (its boot must be the BMC's
   * current one), `packetSeq` its session sequence number (a duplicate is dropped, as RMCP+'s
   * inbound window does; a retransmission by the client has a new one and is executed again).
   */
  request(session: { id: string; boot: number }, packetSeq: number, cmd: number, side: 'lan' | 'system', privilege: number, data: Uint8Array): { cc: number; data: Uint8Array } | undefined {
    if (!this.engine || session.boot !== this.boot) return undefined;
    let seen = this.#seen.get(session.id);
    if (!seen) this.#seen.set(session.id, (seen = new Set()));
    if (seen.has(packetSeq)) return undefined;
    seen.add(packetSeq);
    return this.engine.handle(cmd, side, privilege, data);
  }
}
