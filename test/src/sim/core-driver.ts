/**
 * How a simulated party reaches its BMC: it drives the link core's steps over
 * the simulated transport. A request repeats on timeout like RMCP+ does; after
 * `retries` failures the transport counts as failed and the core backs off
 * before the next connect. An answer to an earlier request matches nothing and
 * is dropped. The party supplies the messages to put and takes the events.
 */
import type { HopEvent, HopStep, LinkCore, OutboundMessage } from './link-core.js';
import type { Observer, PartyTuning, Transport } from './party-store.js';
import type { EventLoop, PartyClock } from './sim-world.js';

export interface DriverOptions {
  role: 'manager' | 'host';
  loop: EventLoop;
  clock: PartyClock;
  core: LinkCore;
  transport: Transport;
  observer: Observer;
  tuning: PartyTuning;
  trace?: (line: string) => void;
}

/** What the party does for the driver. */
export interface DriverHooks {
  alive(): boolean;
  /** The party's local clock. */
  now(): number;
  nextMessage(now: number): OutboundMessage | undefined;
  onEvent(ev: HopEvent): void;
}

interface InFlight {
  rid: number;
  step: Extract<HopStep, { kind: 'request' }>;
  attempts: number;
}

export class CoreDriver {
  readonly #o: DriverOptions;
  readonly #h: DriverHooks;
  #session: { id: string; boot: number } | undefined;
  #inflight: InFlight | undefined;
  #rid = 0;
  #packetSeq = 0;
  #timerToken = 0;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: DriverOptions, hooks: DriverHooks) {
    this.#o = options;
    this.#h = hooks;
  }

  get connected(): boolean {
    return this.#session !== undefined;
  }

  connect(): void {
    if (!this.#h.alive()) return;
    this.#o.transport.connect((session) => {
      if (!this.#h.alive()) return;
      if (!session) return void this.#backoff();
      this.#session = session;
      this.#o.observer.count(`${this.#o.role}.connects`);
      this.#o.core.connected(this.#h.now());
      this.pump();
    });
  }

  #backoff(): void {
    this.#session = undefined;
    this.#inflight = undefined;
    const delay = this.#o.core.disconnected(this.#h.now());
    this.#o.loop.after(Math.max(1, delay), () => this.connect());
  }

  pump(): void {
    if (!this.#h.alive() || !this.#session || this.#inflight) return;
    for (let i = 0; i < 256; i++) {
      const now = this.#h.now();
      const step = this.#o.core.next(now);
      if (step.kind === 'request') return void this.#request(step);
      if (step.kind === 'need-message') {
        this.#o.core.offer(this.#h.nextMessage(now), now);
        continue;
      }
      if (Number.isFinite(step.untilMs)) this.#timer(this.#o.clock.simAt(step.untilMs));
      return;
    }
    throw new Error(`${this.#o.role}: the core returned 256 steps without a request or a wait`);
  }

  #timer(at: number): void {
    if (at >= this.#timerAt && this.#timerAt > this.#o.loop.now) return;
    const token = ++this.#timerToken;
    this.#timerAt = at;
    this.#o.loop.at(at, () => {
      if (token !== this.#timerToken) return;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    });
  }

  #request(step: Extract<HopStep, { kind: 'request' }>): void {
    const f: InFlight = { rid: ++this.#rid, step, attempts: 0 };
    if (this.#o.trace) {
      const r = step.request;
      this.#o.trace(`${this.#o.loop.now} ${this.#o.role} → ${r.kind}${r.kind === 'put-record' ? ` seq ${r.seq}` : r.kind === 'get-record' ? ` commit ${r.commitSeq}` : ` queue ${r.queue}`}`);
    }
    this.#inflight = f;
    this.#transmit(f);
  }

  #transmit(f: InFlight): void {
    const session = this.#session!;
    f.attempts++;
    const attempt = f.attempts;
    this.#o.transport.request(session, ++this.#packetSeq, f.step.cmd, f.step.data, (r) => this.#answer(f, r));
    this.#o.loop.after(this.#o.tuning.requestTimeoutMs, () => {
      if (!this.#h.alive() || this.#inflight !== f || f.attempts !== attempt) return;
      this.#o.observer.count(`${this.#o.role}.timeouts`);
      if (f.attempts <= this.#o.tuning.retries) return void this.#transmit(f);
      this.#o.observer.count(`${this.#o.role}.reconnects`);
      this.#o.trace?.(`${this.#o.loop.now} ${this.#o.role} transport failed after ${f.attempts} attempts: reconnecting`);
      this.#backoff();
    });
  }

  #answer(f: InFlight, r: { cc: number; data: Uint8Array }): void {
    // An answer to an earlier request (a duplicate or a late one) matches no request: dropped, as RMCP+ does by rq_seq.
    if (!this.#h.alive() || this.#inflight !== f) return;
    this.#inflight = undefined;
    let events: HopEvent[];
    try {
      events = this.#o.core.onResponse(r, this.#h.now());
    } catch (err) {
      this.#o.observer.count(`${this.#o.role}.impossible_responses`);
      this.#o.trace?.(`${this.#o.role} onResponse threw: ${(err as Error).message}`);
      return void this.#backoff();
    }
    if (this.#o.trace) this.#o.trace(`${this.#o.loop.now} ${this.#o.role} ← cc ${r.cc}: ${events.map((e) => (e.kind === 'record' ? `record ${e.seq}` : e.kind === 'queues' ? `queues put ${e.put.lastPutSeq}@${e.put.bmcEpoch} get ${e.get.lastPutSeq}@${e.get.bmcEpoch}` : JSON.stringify(e))).join(', ')}`);
    for (const ev of events) this.#h.onEvent(ev);
    this.pump();
  }
}
