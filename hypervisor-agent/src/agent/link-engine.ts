/**
 * The hypervisor-agent's driver of the link core (proto `QueueHop`, role
 * `host`): it opens whichever BmcTransport the link URI names, hands the
 * core's requests to it and the answers back, and does what the core's
 * events ask — the core decides everything about the queue hop (PROTOCOL.md
 * §2): seqs, the commit cursor, epochs and resync, 0xC4 back-off, polling.
 *
 * What stays here, because it is IO or the agent's:
 * - Reads commit only what `onRecord` finished with (the handler persists the
 *   cursor with its own effects), so a crash re-reads instead of losing.
 * - `flush` makes the handlers' writes durable; it runs right before each Put
 *   and each Get Record (whose commit cursor releases records on the BMC), so
 *   the BMC and the manager never see an effect the agent could still lose.
 * - ATN and new outbound work wake the core at once; `onTick` (retransmit
 *   timers, status reports, challenge sweeps) runs at the end of every turn.
 * - A transport failure (or an answer the core cannot go on from) closes the
 *   transport and reopens it after the core's back-off.
 */
import { type HopEvent, type HopStep, QueueHop } from '@backchannel/proto';
import type { Logger } from 'pino';
import type { BmcTransport } from '../transport/bmc-transport.js';
import type { OutboundQueue } from './outbound-queue.js';
import { Wakeup } from './wakeup.js';

export interface PollBounds {
  minMs: number;
  maxMs: number;
}

export interface LinkEngineDeps {
  openTransport: () => Promise<BmcTransport>;
  iana: number;
  poll: PollBounds;
  outbound: OutboundQueue;
  /** Persisted read cursor and epoch. */
  cursor: { readCommit(): number; epoch(): number; saveEpoch(epoch: number, readCommit: number): void };
  onRecord: (record: Uint8Array, seq: number) => Promise<void>;
  /** Get Record found queue 1 empty: whatever is read after this was put after it (the channel's age judgement). */
  onEmpty?: (nowMs: number) => void;
  /** Makes everything the handlers wrote durable (the store's group commit). */
  flush: () => void;
  /** The BMC lost its queues (epoch changed): reset reassembly, retransmit, tell the manager. */
  onEpochChange: (oldEpoch: number, newEpoch: number) => void;
  /** Called at the end of every turn (retransmit timers, status polling, challenge sweeps). */
  onTick: (nowMs: number) => Promise<void> | void;
  log: Logger;
  now?: () => number;
  /** [0, 1) for the back-off jitter (default Math.random). */
  random?: () => number;
  epochCheckMs?: number;
  metrics?: {
    recordsIn(): void;
    recordsOut(): void;
    queueFull(): void;
    resync(reason: string): void;
    transportError(): void;
  };
}

export class LinkEngine {
  readonly #d: LinkEngineDeps;
  readonly #wakeup = new Wakeup();
  readonly #hop: QueueHop;
  readonly #now: () => number;
  #transport: BmcTransport | undefined;
  #detachAttention: (() => void) | undefined;
  #running = false;
  #stopped: Promise<void> | undefined;
  #connected = false;

  constructor(deps: LinkEngineDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#hop = new QueueHop({
      role: 'host',
      iana: deps.iana,
      random: deps.random ?? Math.random,
      tuning: {
        pollMinMs: deps.poll.minMs,
        pollMaxMs: deps.poll.maxMs,
        replyPollMs: deps.poll.minMs,
        queueInfoEveryMs: deps.epochCheckMs ?? 5000,
        queueFull: { initialMs: Math.max(deps.poll.minMs, 20), maxMs: Math.max(deps.poll.maxMs, 20) },
        reconnect: { initialMs: deps.poll.minMs, maxMs: deps.poll.maxMs * 4 },
      },
    });
    deps.outbound.onEnqueue = () => this.wake();
  }

  get connected(): boolean {
    return this.#connected;
  }

  get pollIntervalMs(): number {
    return this.#hop.pollIntervalMs;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = this.#loop();
  }

  wake(): void {
    this.#hop.wake();
    this.#wakeup.wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wakeup.wake();
    await this.#stopped;
    await this.#closeTransport();
  }

  async #loop(): Promise<void> {
    const { cursor } = this.#d;
    this.#hop.restore({ putEpoch: cursor.epoch(), getEpoch: cursor.epoch(), commitSeq: cursor.readCommit() });
    while (this.#running) {
      try {
        if (!this.#transport) await this.#connect();
        await this.#step(this.#hop.next(this.#now()));
      } catch (err) {
        if (!this.#running) break;
        this.#d.metrics?.transportError();
        this.#d.log.warn({ err: (err as Error).message, link: this.#transport?.description }, 'BMC link error; reconnecting');
        await this.#closeTransport();
        await this.#wakeup.wait(this.#hop.disconnected(this.#now()));
      }
    }
  }

  async #step(step: HopStep): Promise<void> {
    if (step.kind === 'need-message') {
      this.#hop.offer(this.#d.outbound.peek(this.#now(), this.#hop.maxRecord), this.#now());
      return;
    }
    if (step.kind === 'wait') {
      await this.#d.onTick(this.#now());
      // The tick may have queued something (a status report, a bare ack), which wakes the core.
      const after = this.#hop.next(this.#now());
      if (after.kind !== 'wait') return this.#step(after);
      await this.#wakeup.wait(after.untilMs - this.#now());
      return;
    }
    // What a message says (an ack, a challenge, a result) is on disk before the BMC has it, and the
    // effects of the records up to the commit are on disk before the BMC releases them.
    if (step.request.kind === 'put-record' || step.request.kind === 'get-record') this.#d.flush();
    const answer = await (this.#transport as BmcTransport).request(step.netfn, step.cmd, step.data);
    for (const event of this.#hop.onResponse(answer, this.#now())) await this.#on(event);
  }

  async #on(event: HopEvent): Promise<void> {
    const m = this.#d.metrics;
    switch (event.kind) {
      case 'cursor':
        this.#d.cursor.saveEpoch(event.cursor.getEpoch, event.cursor.commitSeq);
        return;
      case 'epoch-changed':
        // Both queues carry the BMC's one epoch: act once, on the queue this side reads.
        if (event.queue !== 'get') return;
        m?.resync('epoch');
        this.#d.log.warn({ oldEpoch: event.oldEpoch, newEpoch: event.newEpoch }, 'BMC epoch changed: queues were lost; resynchronising');
        this.#d.onEpochChange(event.oldEpoch, event.newEpoch);
        return;
      case 'queues':
        if (!this.#connected) {
          this.#connected = true;
          this.#d.log.info({ link: this.#transport?.description, maxRecord: this.#hop.maxRecord, putSeq: this.#hop.lastPutSeq, readCommit: this.#hop.cursor.commitSeq }, 'BMC link up');
        }
        return;
      case 'record-put':
        m?.recordsOut();
        return;
      case 'message-put':
        this.#d.outbound.sent(event.messageId, this.#now());
        return;
      case 'record':
        m?.recordsIn();
        try {
          await this.#d.onRecord(event.record, event.seq);
        } catch (err) {
          // A record the handler cannot cope with must not wedge the queue.
          this.#d.log.error({ err, seq: event.seq }, 'record handler failed; record skipped');
          this.#d.cursor.saveEpoch(this.#hop.cursor.getEpoch, event.seq);
        }
        this.#hop.consumed(event.seq);
        return;
      case 'empty':
        this.#d.onEmpty?.(event.atMs);
        return;
      case 'queue-full':
        m?.queueFull();
        this.#d.log.debug({ retryAtMs: event.retryAtMs }, 'queue 2 full (0xC4): backing off');
        return;
      case 'resync':
        m?.resync(event.reason);
        if (event.reason !== 'foreign-producer') this.#d.log.warn({ reason: event.reason, putSeq: this.#hop.lastPutSeq }, 'BMC queue resynchronising');
        return;
      case 'foreign-producer':
        this.#d.log.warn({ expectedSeq: event.expectedSeq, lastPutSeq: event.lastPutSeq }, 'another producer put records on queue 2: continuing after them');
        return;
    }
  }

  async #connect(): Promise<void> {
    const transport = await this.#d.openTransport();
    this.#transport = transport;
    this.#detachAttention = transport.onAttention(() => this.wake());
    this.#hop.connected(this.#now());
  }

  async #closeTransport(): Promise<void> {
    this.#connected = false;
    this.#detachAttention?.();
    this.#detachAttention = undefined;
    const transport = this.#transport;
    this.#transport = undefined;
    if (transport) await transport.close().catch(() => undefined);
  }
}

