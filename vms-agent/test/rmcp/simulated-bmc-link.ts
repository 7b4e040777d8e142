/**
 * Test fixtures for the RMCP+ session driver under simulated time: a manual
 * clock, and a datagram transport to an in-process BMC answerer (the proto
 * codecs a BMC uses) across a seeded lossy network: loss, duplication,
 * reordering and delay, in both directions, like test/src/faults/udp-proxy.ts.
 */
import { decodeIpmiLanRequest, encodeIpmiLanResponse, openIpmi2Packet, PayloadType, sealIpmi2Packet, type SessionCrypto } from '@backchannel/proto';
import type { Clock } from '../../src/rmcp/clock.js';
import type { DatagramTransport } from '../../src/rmcp/udp-transport.js';

/** mulberry32, as test/src/faults/seeded-random.ts: one seed, one run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Timer {
  at: number;
  order: number;
  fn: () => void;
}

/** Time moves only when the test says; timers fire in time order, promise callbacks run between them. */
export class ManualClock implements Clock {
  #now = 0;
  #order = 0;
  readonly #timers = new Set<Timer>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn };
    this.#timers.add(t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as Timer);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Runs every timer due up to now + ms, letting promise callbacks settle after each. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await flush();
      let next: Timer | undefined;
      for (const t of this.#timers) if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.order < next.order))) next = t;
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = until;
    await flush();
  }

  /** Advances until `done` settles or `limitMs` pass; returns whether it settled. */
  async runUntil(done: Promise<unknown>, limitMs: number, stepMs = 1): Promise<boolean> {
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let spent = 0; spent < limitMs && !settled; spent += stepMs) await this.advance(stepMs);
    await flush();
    return settled;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export interface NetworkFaults {
  drop: number;
  duplicate: number;
  reorder: number;
  delay: number;
  delayMs: [number, number];
  /** One-way latency when not delayed. */
  latencyMs: [number, number];
}

export const CLEAN: NetworkFaults = { drop: 0, duplicate: 0, reorder: 0, delay: 0, delayMs: [0, 0], latencyMs: [0.2, 1] };
/** The lossy link: 20% loss, 5% duplication, 5% reordering, 5% delayed 5-80 ms, each way. */
export const LOSSY: NetworkFaults = { drop: 0.2, duplicate: 0.05, reorder: 0.05, delay: 0.05, delayMs: [5, 80], latencyMs: [0.2, 1] };

export interface SimulatedBmcStats {
  requests: number;
  answered: number;
  dropped: number;
}

/**
 * The console's transport to a simulated BMC that answers every sealed IPMI
 * request it can open (cc 0, data = the request's data), with its own
 * increasing session sequence numbers. `silent` makes it stop answering.
 */
export class SimulatedBmcLink implements DatagramTransport {
  readonly stats: SimulatedBmcStats = { requests: 0, answered: 0, dropped: 0 };
  silent = false;
  faults: NetworkFaults;
  #handler: (d: Uint8Array) => void = () => undefined;
  #bmcSeq = 0;
  #closed = false;
  readonly #held = new Map<string, () => void>();

  constructor(
    private readonly clock: ManualClock,
    private readonly crypto: SessionCrypto,
    private readonly ids: { bmc: number; console: number },
    private readonly random: () => number,
    faults: NetworkFaults,
    private readonly randomBytes: (n: number) => Uint8Array,
  ) {
    this.faults = faults;
  }

  send(datagram: Uint8Array): void {
    if (this.#closed) return;
    this.#network('to-bmc', datagram, (d) => this.#bmcReceives(d));
  }

  onDatagram(handler: (datagram: Uint8Array) => void): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #bmcReceives(datagram: Uint8Array): void {
    this.stats.requests++;
    if (this.silent) return;
    const m = openIpmi2Packet(this.crypto, datagram);
    if (m.sessionId !== this.ids.bmc) return;
    const q = decodeIpmiLanRequest(m.payload);
    const payload = encodeIpmiLanResponse({ rqAddr: q.rqAddr, netFn: q.netFn | 1, rqLun: q.rqLun, rsAddr: q.rsAddr, rqSeq: q.rqSeq, rsLun: q.rsLun, cmd: q.cmd, cc: 0, data: q.data });
    const answer = sealIpmi2Packet(this.crypto, { sessionId: this.ids.console, sessionSeq: ++this.#bmcSeq, payloadType: PayloadType.IPMI, payload }, this.randomBytes);
    this.stats.answered++;
    this.#network('to-console', answer, (d) => {
      if (!this.#closed) this.#handler(d);
    });
  }

  /** One hop, with the udp-proxy's decisions: drop, duplicate, hold back behind the next, delay. */
  #network(lane: string, datagram: Uint8Array, deliver: (d: Uint8Array) => void): void {
    const f = this.faults;
    const r = this.random;
    if (r() < f.drop) {
      this.stats.dropped++;
      return;
    }
    const copies = r() < f.duplicate ? 2 : 1;
    const latency = f.latencyMs[0] + r() * (f.latencyMs[1] - f.latencyMs[0]);
    const emit = () => {
      for (let i = 0; i < copies; i++) this.clock.setTimeout(() => deliver(datagram), latency);
    };
    const held = this.#held.get(lane);
    if (held) this.#held.delete(lane);
    if (!held && r() < f.reorder) {
      this.#held.set(lane, emit);
      this.clock.setTimeout(() => {
        if (this.#held.get(lane) === emit) {
          this.#held.delete(lane);
          emit();
        }
      }, Math.max(50, f.delayMs[1]));
      return;
    }
    const go = () => {
      emit();
      held?.();
    };
    if (r() < f.delay) this.clock.setTimeout(go, f.delayMs[0] + r() * (f.delayMs[1] - f.delayMs[0]));
    else go();
  }
}
