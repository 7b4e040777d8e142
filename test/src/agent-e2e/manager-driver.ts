/**
 * A small stand-in for vms-agent in the hypervisor-agent end-to-end test: it
 * seals envelopes with proto (DIRECTION_TO_HOST), puts their records on BMC
 * queue 1 and reads queue 2 with commit, over RMCP+ with the stock ipmitool
 * (lanplus, cipher suite 17), and opens what the agent sent (proto
 * InboundChannel). Helpers craft the bad traffic the alert tests need.
 */
import {
  type backchannel,
  type Body,
  Direction,
  EnvelopeKeys,
  fragmentMessage,
  InboundChannel,
  type RandomBytes,
  sealEnvelope,
  sealRecords,
} from '@backchannel/proto';
import { ipmitool, type IpmitoolTarget, parseRawOutput } from '../harness/ipmitool.js';

export type Received = backchannel.v1.Body & { messageId: number };

const hex = (bytes: Iterable<number>): string[] => [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const IANA = [0xd9, 0x7e, 0x00];

export class ManagerDriver {
  readonly keys: EnvelopeKeys;
  readonly inbound: InboundChannel;
  readonly received: Received[] = [];
  #nextMessageId = 1;
  #putSeq = 0;
  #commit = 0;
  #target: IpmitoolTarget;
  readonly #randomBytes: RandomBytes;
  readonly #maxRecord: number;

  constructor(args: { target: IpmitoolTarget; seed: Uint8Array; hostId: string; randomBytes: RandomBytes; maxRecord?: number }) {
    this.#target = args.target;
    this.#randomBytes = args.randomBytes;
    this.#maxRecord = args.maxRecord ?? 200;
    this.keys = new EnvelopeKeys(args.seed, args.hostId);
    this.inbound = new InboundChannel({ keys: this.keys, receiveDirection: Direction.DIRECTION_TO_MANAGER });
  }

  /**
   * A new BMC (its queues started empty): restart both queue cursors but keep
   * the message-id counter and the replay window, as a real manager does.
   */
  switchBmc(target: IpmitoolTarget): void {
    this.#target = target;
    this.#putSeq = 0;
    this.#commit = 0;
  }

  #raw(bytes: number[]): { cc: number; data: number[] } {
    const r = ipmitool(this.#target, ['raw', ...hex(bytes)]);
    const m = /rsp=0x([0-9a-f]{2})/i.exec(r.stderr);
    if (m) return { cc: Number.parseInt(m[1] as string, 16), data: [] };
    if (r.status !== 0) throw new Error(`ipmitool failed (${r.status}): ${r.stderr}`);
    return { cc: 0, data: parseRawOutput(r.stdout) };
  }

  queueInfo(queue: number): { epoch: number; lastPutSeq: number; depth: number } {
    const { cc, data } = this.#raw([0x2e, 0x00, ...IANA, queue]);
    if (cc !== 0) throw new Error(`Get Queue Info cc 0x${cc.toString(16)}`);
    const b = Buffer.from(data);
    return { epoch: b.readUInt32LE(4), depth: b.readUInt16LE(16), lastPutSeq: b.readUInt32LE(20) };
  }

  /** Puts raw records on queue 1 (retrying on 0xC4); resynchronises on 0x80. */
  putRecords(records: Uint8Array[]): void {
    if (this.#putSeq === 0) this.#putSeq = this.queueInfo(1).lastPutSeq;
    for (const record of records) {
      for (let attempt = 0; ; attempt++) {
        const { cc } = this.#raw([0x2e, 0x01, ...IANA, 0x01, ...u32(this.#putSeq + 1), ...record]);
        if (cc === 0) break;
        if (cc === 0x80) this.#putSeq = this.queueInfo(1).lastPutSeq;
        else if (cc !== 0xc4 || attempt > 50) throw new Error(`Put Record cc 0x${cc.toString(16)}`);
      }
      this.#putSeq += 1;
    }
  }

  /** Seals `body` (with our current ack) as the next message and puts it; returns its records. */
  send(body: Body, options: { nowMs?: number; keys?: EnvelopeKeys } = {}): Uint8Array[] {
    const id = this.#nextMessageId++;
    const records = sealRecords(
      { keys: options.keys ?? this.keys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: this.#maxRecord, randomBytes: this.#randomBytes },
      id,
      { ...body, ack: this.inbound.ack() },
      options.nowMs ?? Date.now(),
    );
    this.putRecords(records);
    return records;
  }

  /** A sealed envelope for message `id` without sending it (replay and tamper tests). */
  seal(body: Body, id: number, nowMs = Date.now()): Uint8Array[] {
    const envelope = sealEnvelope(this.keys, { direction: Direction.DIRECTION_TO_HOST, messageId: id, body, nowMs, randomBytes: this.#randomBytes });
    return fragmentMessage(envelope, id, this.#maxRecord);
  }

  allocateId(): number {
    return this.#nextMessageId++;
  }

  /** Reads queue 2 until it is empty; returns what was delivered. */
  pump(): Received[] {
    const out: Received[] = [];
    for (let i = 0; i < 500; i++) {
      const { cc, data } = this.#raw([0x2e, 0x02, ...IANA, 0x02, ...u32(this.#commit)]);
      if (cc !== 0) throw new Error(`Get Record cc 0x${cc.toString(16)}`);
      const b = Buffer.from(data);
      const seq = b.readUInt32LE(9);
      if (seq === 0) break;
      this.#commit = seq;
      const event = this.inbound.pushRecord(new Uint8Array(b.subarray(13)), Date.now());
      if (event?.kind === 'delivered') out.push(Object.assign(event.body, { messageId: event.messageId }));
    }
    this.received.push(...out);
    return out;
  }

  /**
   * Acknowledges everything delivered so far with a bare ack (an empty body carries our
   * current ack) and waits until the agent has read and committed it (queue 1 empty). A real
   * manager acks as it goes; this driver only piggybacks acks on what it sends, so without
   * this an agent restarted now would first put again every body it sent since our last send.
   */
  async acknowledgeAll(timeoutMs = 15_000): Promise<void> {
    this.pump();
    this.send({});
    const deadline = Date.now() + timeoutMs;
    while (this.queueInfo(1).depth > 0) {
      if (Date.now() >= deadline) throw new Error(`the agent did not read our ack within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Pumps until a delivered body satisfies `match` (searching everything received so far). */
  async waitFor<T>(match: (b: Received) => T | undefined, timeoutMs = 15_000, what = 'a matching message'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline) {
      this.pump();
      for (; seen < this.received.length; seen++) {
        const hit = match(this.received[seen] as Received);
        if (hit !== undefined) return hit;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${what} within ${timeoutMs} ms; received: ${JSON.stringify(this.received.map((b) => Object.keys(b).filter((k) => k !== 'messageId' && (b as unknown as Record<string, unknown>)[k] != null)))}`);
  }
}
