/**
 * The BMC queue hop (PROTOCOL.md §2, ARCHITECTURE.md "Reliability" item 1):
 * one loop that writes pending records to queue 2 with its own seq and reads
 * queue 1 with a commit cursor, over whichever BmcTransport the link URI names.
 *
 * - Reads commit only what `onRecord` finished with (the handler persists the
 *   cursor with its own effects), so a crash re-reads instead of losing.
 * - `flush` makes the handlers' writes durable; it runs right before each Put
 *   and each Get Record (whose commit cursor releases records on the BMC), so
 *   the BMC and the manager never see an effect the agent could still lose.
 * - Put 0x80 (gap) or a changed bmc_epoch: resynchronise from Get Queue Info.
 * - Put 0xC4 (queue 2 full): wait and put the same record again; nothing dropped.
 * - Idle reads back off from poll.minMs to poll.maxMs; ATN or new outbound work
 *   wakes the loop at once. A failed transport is reopened with back-off.
 */
import { OemCompletion, QueueId } from '@backchannel/proto';
import type { Logger } from 'pino';
import { PollSchedule, type PollBounds } from '../queue/poll-schedule.js';
import { QueueCcError, QueueClient } from '../queue/queue-client.js';
import type { BmcTransport } from '../transport/bmc-transport.js';
import type { OutboundQueue } from './outbound-queue.js';
import { Wakeup } from './wakeup.js';

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
  /** Called on every loop turn (retransmit timers, status polling, challenge sweeps). */
  onTick: (nowMs: number) => Promise<void> | void;
  log: Logger;
  now?: () => number;
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
  readonly #schedule: PollSchedule;
  readonly #now: () => number;
  #client: QueueClient | undefined;
  #transport: BmcTransport | undefined;
  #detachAttention: (() => void) | undefined;
  #running = false;
  #stopped: Promise<void> | undefined;
  #maxRecord = 200;
  #putSeq = 0;
  #lastEpochCheck = 0;
  #fullUntil = 0;
  #connected = false;

  constructor(deps: LinkEngineDeps) {
    this.#d = deps;
    this.#schedule = new PollSchedule(deps.poll);
    this.#now = deps.now ?? Date.now;
    deps.outbound.onEnqueue = () => this.#wakeup.wake();
  }

  get connected(): boolean {
    return this.#connected;
  }

  get pollIntervalMs(): number {
    return this.#schedule.currentMs;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = this.#loop();
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wakeup.wake();
    await this.#stopped;
    await this.#closeTransport();
  }

  async #loop(): Promise<void> {
    let reconnectDelay = this.#d.poll.minMs;
    while (this.#running) {
      try {
        if (!this.#client) {
          await this.#connect();
          reconnectDelay = this.#d.poll.minMs;
        }
        // What is already queued (a challenge, a result) goes out before the tick's
        // housekeeping, which may ask libvirt for a status report first.
        await this.#writePending();
        const gotRecord = await this.#readOne();
        await this.#d.onTick(this.#now());
        if (this.#now() - this.#lastEpochCheck >= (this.#d.epochCheckMs ?? 5000)) await this.#checkEpoch();
        if (gotRecord) {
          this.#schedule.traffic();
          continue;
        }
        if (this.#d.outbound.pendingCount > 0 && this.#now() >= this.#fullUntil) continue;
        await this.#wakeup.wait(this.#schedule.idle());
      } catch (err) {
        if (!this.#running) break;
        this.#d.metrics?.transportError();
        this.#d.log.warn({ err: (err as Error).message, link: this.#transport?.description }, 'BMC link error; reconnecting');
        await this.#closeTransport();
        await this.#wakeup.wait(reconnectDelay);
        reconnectDelay = Math.min(this.#d.poll.maxMs * 4, reconnectDelay * 2);
      }
    }
  }

  async #connect(): Promise<void> {
    const transport = await this.#d.openTransport();
    this.#transport = transport;
    this.#detachAttention = transport.onAttention(() => {
      this.#schedule.traffic();
      this.#wakeup.wake();
    });
    this.#client = new QueueClient(transport, this.#d.iana);
    await this.#checkEpoch();
    this.#connected = true;
    this.#d.log.info({ link: transport.description, maxRecord: this.#maxRecord, putSeq: this.#putSeq, readCommit: this.#d.cursor.readCommit() }, 'BMC link up');
  }

  async #closeTransport(): Promise<void> {
    this.#connected = false;
    this.#detachAttention?.();
    this.#detachAttention = undefined;
    const transport = this.#transport;
    this.#transport = undefined;
    this.#client = undefined;
    if (transport) await transport.close().catch(() => undefined);
  }

  /** Reads both queues' info; adopts queue 2's seq; handles a changed epoch. */
  async #checkEpoch(): Promise<void> {
    const client = this.#client as QueueClient;
    const toHost = await client.getQueueInfo(QueueId.ToHost);
    const toManager = await client.getQueueInfo(QueueId.ToManager);
    this.#lastEpochCheck = this.#now();
    this.#maxRecord = Math.min(toHost.maxRecord, toManager.maxRecord);
    // Records this agent put before a crash are still queued: continue after them
    // (a half-written message is sent again from its first fragment).
    this.#putSeq = toManager.lastPutSeq;
    const known = this.#d.cursor.epoch();
    if (known !== toHost.bmcEpoch) {
      // Fresh queues: the read cursor restarts, and (unless this is our first
      // contact) whatever was in flight may be gone.
      this.#d.cursor.saveEpoch(toHost.bmcEpoch, 0);
      if (known !== 0) {
        this.#d.metrics?.resync('epoch');
        this.#d.log.warn({ oldEpoch: known, newEpoch: toHost.bmcEpoch }, 'BMC epoch changed: queues were lost; resynchronising');
        this.#d.onEpochChange(known, toHost.bmcEpoch);
      }
    } else if (this.#d.cursor.readCommit() > toHost.lastPutSeq) {
      this.#d.cursor.saveEpoch(known, toHost.lastPutSeq);
    }
  }

  async #writePending(): Promise<void> {
    if (this.#now() < this.#fullUntil) return;
    for (let messages = 0; messages < 8; messages++) {
      const next = this.#d.outbound.peek(this.#now(), this.#maxRecord);
      if (!next) return;
      this.#d.flush(); // what this message says (an ack, a challenge, a result) is on disk before the BMC has it
      for (const record of next.records) {
        try {
          const { lastPutSeq } = await (this.#client as QueueClient).putRecord(QueueId.ToManager, this.#putSeq + 1, record);
          this.#putSeq = Math.max(this.#putSeq + 1, lastPutSeq);
          this.#d.metrics?.recordsOut();
        } catch (err) {
          if (err instanceof QueueCcError && err.cc === OemCompletion.QueueFull) {
            this.#d.metrics?.queueFull();
            this.#fullUntil = this.#now() + this.#d.poll.maxMs;
            this.#d.log.debug('queue 2 full (0xC4): backing off');
            return; // the whole message is put again later, from its first record
          }
          if (err instanceof QueueCcError && err.cc === OemCompletion.SequenceGap) {
            this.#d.metrics?.resync('gap');
            this.#d.log.warn({ putSeq: this.#putSeq }, 'Put Record sequence gap (0x80): resynchronising');
            await this.#checkEpoch();
            return;
          }
          throw err;
        }
      }
      this.#d.outbound.sent(next.messageId, this.#now());
      this.#schedule.traffic();
    }
  }

  async #readOne(): Promise<boolean> {
    const client = this.#client as QueueClient;
    const commit = this.#d.cursor.readCommit();
    this.#d.flush(); // the effects of the records up to `commit` are on disk before the BMC releases them
    let response;
    try {
      response = await client.getRecord(QueueId.ToHost, commit);
    } catch (err) {
      if (err instanceof QueueCcError && err.cc === OemCompletion.InvalidDataField) {
        // Our cursor is ahead of the BMC: its queues were reset under us.
        await this.#checkEpoch();
        return false;
      }
      throw err;
    }
    if (response.seq === 0) {
      this.#d.onEmpty?.(this.#now());
      return false;
    }
    this.#d.metrics?.recordsIn();
    try {
      await this.#d.onRecord(response.record, response.seq);
    } catch (err) {
      // A record the handler cannot cope with must not wedge the queue.
      this.#d.log.error({ err, seq: response.seq }, 'record handler failed; record skipped');
      this.#d.cursor.saveEpoch(this.#d.cursor.epoch(), response.seq);
    }
    return true;
  }
}
