/**
 * The OEM buffer-queue engine (PROTOCOL.md §2): Get Queue Info, Put Record
 * (idempotent by seq, 0x80 on a gap, 0xC4 when full), Get Record (read with
 * commit) and Reset Queue, with the side and privilege rules. Pure apart from
 * the optional store: time is not needed and randomness (the epoch) comes in
 * as a parameter. Every method returns {cc, data}; nothing throws out.
 */
import {
  decodeClaimGenerationRequest,
  decodeOemRequest,
  encodeGenerationResponse,
  DEFAULT_MAX_RECORD,
  DEFAULT_QUEUE_CAPACITY_BYTES,
  encodeGetRecordResponse,
  encodeIana,
  encodePutRecordResponse,
  encodeQueueInfoResponse,
  encodeResetQueueResponse,
  IANA_BYTES,
  isWireError,
  OemCommand,
  OemCompletion,
  type OemQueueRequest,
  QueueId,
  type RandomBytes,
  readIana,
  readU32LE,
} from '@backchannel/proto';
import { BufferQueue, type QueueSnapshot } from './buffer-queue.js';
import type { QueueStore } from './queue-store.js';
import { ProducerFence } from './producer-fence.js';

export type QueueSide = 'lan' | 'system';

/** IPMI privilege levels (wire values) the rules refer to. */
const OPERATOR = 3;
const ADMINISTRATOR = 4;
/** depth is a u16 on the wire. */
const MAX_DEPTH = 0xffff;

export interface QueueResult {
  cc: number;
  data: Uint8Array;
}

export interface QueueEngineLogger {
  error(obj: object, msg: string): void;
}

export interface QueueEngineOptions {
  iana: number;
  capacityBytes?: number;
  maxRecord?: number;
  randomBytes: RandomBytes;
  store?: QueueStore;
  logger?: QueueEngineLogger;
}

export interface QueueEngineStats {
  puts: number;
  duplicatePuts: number;
  gaps: number;
  full: number;
  gets: number;
  released: number;
  denied: number;
  malformed: number;
  resets: number;
  internalErrors: number;
  /** Claim Producer Generation accepted (a new or the current generation). */
  claims: number;
  /** Claims of a generation older than the current one (refused, 0x81). */
  staleClaims: number;
  /** Put Record refused (0x81) because the session is not bound to the current generation. */
  fencedPuts: number;
  /** Get Record refused (0x81) for the same reason. */
  fencedGets: number;
}

export type AppendListener = (queue: number, seq: number) => void;

class InvalidRequest extends Error {
  constructor(readonly cc: number) {
    super(`cc 0x${cc.toString(16)}`);
  }
}

export class QueueEngine {
  readonly iana: number;
  readonly capacityBytes: number;
  readonly maxRecord: number;
  readonly stats: QueueEngineStats = {
    puts: 0,
    duplicatePuts: 0,
    gaps: 0,
    full: 0,
    gets: 0,
    released: 0,
    denied: 0,
    malformed: 0,
    resets: 0,
    internalErrors: 0,
    claims: 0,
    staleClaims: 0,
    fencedPuts: 0,
    fencedGets: 0,
  };
  /** Producer generations (docs/bmc-queues.md "Producer generation"). */
  readonly #fence = new ProducerFence();
  readonly #random: RandomBytes;
  readonly #store: QueueStore | undefined;
  readonly #logger: QueueEngineLogger | undefined;
  readonly #queues = new Map<number, BufferQueue>();
  readonly #appendListeners = new Set<AppendListener>();
  readonly #ianaBytes: Uint8Array;

  constructor(options: QueueEngineOptions) {
    this.iana = options.iana;
    this.capacityBytes = options.capacityBytes ?? DEFAULT_QUEUE_CAPACITY_BYTES;
    this.maxRecord = options.maxRecord ?? DEFAULT_MAX_RECORD;
    if (!Number.isInteger(this.maxRecord) || this.maxRecord < 1 || this.maxRecord > 0xffff) throw new RangeError(`max_record ${this.maxRecord} must be 1..65535`);
    if (!Number.isInteger(this.capacityBytes) || this.capacityBytes < this.maxRecord || this.capacityBytes > 0xffffffff) {
      throw new RangeError(`capacity_bytes ${this.capacityBytes} must be at least max_record and fit a u32`);
    }
    this.#random = options.randomBytes;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#ianaBytes = new Uint8Array(IANA_BYTES);
    encodeIana(this.iana, this.#ianaBytes, 0);

    const persisted = this.#store?.load() ?? new Map<number, QueueSnapshot>();
    for (const queue of [QueueId.ToHost, QueueId.ToManager]) {
      const q = new BufferQueue(0);
      const saved = persisted.get(queue);
      if (saved !== undefined && saved.epoch !== 0) {
        q.restore(saved);
      } else {
        // No persisted state: the queue starts empty under a fresh epoch, which tells peers to resynchronise.
        const epoch = this.#drawEpoch();
        this.#store?.append({ kind: 'reset', queue, epoch });
        q.reset(epoch);
      }
      this.#queues.set(queue, q);
    }
  }

  /**
   * Called for each record a Put appends (not for an idempotent retransmission), just
   * before it is journaled: a listener must not read the queue, only signal that it grew.
   */
  onAppend(listener: AppendListener): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /** Depth of a queue, for Get Message Flags (OEM0 while queue 1 is non-empty) and metrics. */
  depth(queue: number): number {
    return this.#queues.get(queue)?.depth ?? 0;
  }

  /** Read-only view of a queue's state, for tests, metrics and persistence. */
  snapshot(queue: number): QueueSnapshot | undefined {
    return this.#queues.get(queue)?.snapshot();
  }

  /**
   * Handles a request whose data starts with the IANA (as it arrives on the
   * wire); the response data starts with the IANA too.
   */
  handle(cmd: number, side: QueueSide, privilege: number, data: Uint8Array): QueueResult {
    if (data.length < IANA_BYTES) return this.#fail(OemCompletion.RequestLengthInvalid, 'malformed');
    if (readIana(data, 0) !== this.iana) return this.#fail(OemCompletion.InvalidDataField, 'malformed');
    const r = this.execute(cmd, side, privilege, data.subarray(IANA_BYTES));
    const out = new Uint8Array(IANA_BYTES + r.data.length);
    out.set(this.#ianaBytes, 0);
    out.set(r.data, IANA_BYTES);
    return { cc: r.cc, data: out };
  }

  /**
   * Handles a request whose IANA was already checked and stripped (the
   * command registry does that for NetFn 0x2E); the response data is what
   * follows the IANA.
   */
  execute(cmd: number, side: QueueSide, privilege: number, body: Uint8Array, session?: string): QueueResult {
    try {
      if (cmd === OemCommand.ClaimProducerGeneration) return this.#claim(side, privilege, body, session);
      // The codec works on whole requests; put the (already checked) IANA back in front.
      const data = new Uint8Array(IANA_BYTES + body.length);
      data.set(this.#ianaBytes, 0);
      data.set(body, IANA_BYTES);
      const request = this.#decode(cmd, data);
      const queue = this.#queues.get(request.queue);
      if (queue === undefined) throw new InvalidRequest(OemCompletion.InvalidDataField);
      if (!allowed(request, side, privilege)) {
        this.stats.denied++;
        return { cc: OemCompletion.InsufficientPrivilege, data: new Uint8Array() };
      }
      // A manager replica whose generation was overtaken must not change either queue (Put on 1, commit on 2).
      if (side === 'lan' && (request.kind === 'put-record' || request.kind === 'get-record') && !this.#fence.admits(session)) {
        if (request.kind === 'put-record') this.stats.fencedPuts++;
        else this.stats.fencedGets++;
        return { cc: OemCompletion.Fenced, data: this.#generationBody() };
      }
      return strip(this.#run(request, queue));
    } catch (err) {
      if (err instanceof InvalidRequest) {
        this.stats.malformed++;
        return { cc: err.cc, data: new Uint8Array() };
      }
      this.stats.internalErrors++;
      this.#logger?.error({ err, cmd, side }, 'queue command failed');
      return { cc: OemCompletion.Unspecified, data: new Uint8Array() };
    }
  }

  /** The highest producer generation claimed so far (0: none). */
  get producerGeneration(): number {
    return this.#fence.current;
  }

  #claim(side: QueueSide, privilege: number, body: Uint8Array, session: string | undefined): QueueResult {
    let generation: number;
    try {
      const data = new Uint8Array(IANA_BYTES + body.length);
      data.set(this.#ianaBytes, 0);
      data.set(body, IANA_BYTES);
      generation = decodeClaimGenerationRequest(data).generation;
    } catch (err) {
      if (isWireError(err)) throw new InvalidRequest(OemCompletion.RequestLengthInvalid);
      throw err;
    }
    // Only a LAN session of an OPERATOR produces into queue 1; generation 0 means none.
    if (side !== 'lan' || privilege < OPERATOR || session === undefined) {
      this.stats.denied++;
      return { cc: OemCompletion.InsufficientPrivilege, data: new Uint8Array() };
    }
    if (generation === 0) throw new InvalidRequest(OemCompletion.InvalidDataField);
    if (!this.#fence.claim(session, generation)) {
      this.stats.staleClaims++;
      return { cc: OemCompletion.Fenced, data: this.#generationBody() };
    }
    this.stats.claims++;
    return ok(this.#generationBody());
  }

  #generationBody(): Uint8Array {
    return encodeGenerationResponse({ iana: this.iana, currentGeneration: this.#fence.current }).subarray(IANA_BYTES);
  }

  #decode(cmd: number, data: Uint8Array): OemQueueRequest {
    if (cmd > OemCommand.ResetQueue) throw new InvalidRequest(OemCompletion.InvalidCommand);
    try {
      return decodeOemRequest(cmd, data);
    } catch (err) {
      if (isWireError(err)) throw new InvalidRequest(OemCompletion.RequestLengthInvalid);
      throw err;
    }
  }

  #run(request: OemQueueRequest, q: BufferQueue): QueueResult {
    switch (request.kind) {
      case 'get-queue-info':
        return ok(
          encodeQueueInfoResponse({
            iana: this.iana,
            queue: request.queue,
            bmcEpoch: q.epoch,
            capacityBytes: this.capacityBytes,
            usedBytes: q.usedBytes,
            depth: q.depth,
            maxRecord: this.maxRecord,
            lastPutSeq: q.lastPutSeq,
            committedSeq: q.committedSeq,
          }),
        );
      case 'put-record':
        return this.#put(request.queue, q, request.seq, request.record);
      case 'get-record':
        return this.#get(request.queue, q, request.commitSeq);
      case 'reset-queue': {
        const epoch = this.#drawEpoch();
        this.#store?.append({ kind: 'reset', queue: request.queue, epoch });
        q.reset(epoch);
        this.stats.resets++;
        this.#store?.maybeCompact(() => this.#liveState());
        return ok(encodeResetQueueResponse({ iana: this.iana, bmcEpoch: epoch }));
      }
    }
  }

  #put(queue: number, q: BufferQueue, seq: number, record: Uint8Array): QueueResult {
    if (record.length > this.maxRecord) throw new InvalidRequest(OemCompletion.RequestLengthInvalid);
    if (seq === 0) throw new InvalidRequest(OemCompletion.InvalidDataField);
    const body = () => encodePutRecordResponse({ iana: this.iana, lastPutSeq: q.lastPutSeq });
    if (seq <= q.lastPutSeq) {
      // A retransmission of a record we already hold (or already delivered): acknowledge, append nothing.
      this.stats.duplicatePuts++;
      return ok(body());
    }
    if (seq > q.lastPutSeq + 1) {
      this.stats.gaps++;
      return { cc: OemCompletion.SequenceGap, data: body() };
    }
    if (q.usedBytes + record.length > this.capacityBytes || q.depth >= MAX_DEPTH) {
      this.stats.full++;
      return { cc: OemCompletion.QueueFull, data: body() };
    }
    const copy = record.slice();
    // Listeners (the host's ATN doorbell) hear of the record before the fsync, so the
    // host wakes while the disk works. Nothing can read the queue before this handler,
    // fsync included, has returned; if the append fails, the doorbell was only early.
    for (const listener of this.#appendListeners) listener(queue, seq);
    // Durable first (fsync inside append), then visible: a crash between the two loses nothing acknowledged.
    this.#store?.append({ kind: 'put', queue, seq, record: copy });
    q.append(seq, copy);
    this.stats.puts++;
    return ok(body());
  }

  #get(queue: number, q: BufferQueue, commitSeq: number): QueueResult {
    if (commitSeq > q.lastPutSeq) throw new InvalidRequest(OemCompletion.InvalidDataField);
    this.stats.gets++;
    if (commitSeq > q.committedSeq) {
      this.#store?.append({ kind: 'commit', queue, committedSeq: commitSeq });
      this.stats.released += q.releaseThrough(commitSeq);
      this.#store?.maybeCompact(() => this.#liveState());
    }
    const oldest = q.oldest();
    return ok(
      encodeGetRecordResponse({
        iana: this.iana,
        committedSeq: q.committedSeq,
        depth: q.depth,
        seq: oldest?.seq ?? 0,
        record: oldest?.bytes ?? new Uint8Array(),
      }),
    );
  }

  #liveState(): Map<number, QueueSnapshot> {
    const out = new Map<number, QueueSnapshot>();
    for (const [n, q] of this.#queues) out.set(n, q.snapshot());
    return out;
  }

  #drawEpoch(): number {
    // A random non-zero u32 (PROTOCOL.md §2); zero would read as "no epoch".
    for (let i = 0; i < 16; i++) {
      const epoch = readU32LE(this.#random(4), 0);
      if (epoch !== 0) return epoch;
    }
    throw new Error('random source returned zero sixteen times');
  }

  #fail(cc: number, stat: 'malformed'): QueueResult {
    this.stats[stat]++;
    return { cc, data: this.#ianaBytes.slice() };
  }
}

/** PROTOCOL.md §2 "Who may call what". The system interface is trusted like a local console; LAN needs a privilege. */
function allowed(request: OemQueueRequest, side: QueueSide, privilege: number): boolean {
  const lanOperator = side === 'lan' && privilege >= OPERATOR;
  switch (request.kind) {
    case 'get-queue-info':
      return side === 'system' || lanOperator;
    case 'put-record':
      return request.queue === QueueId.ToHost ? lanOperator : side === 'system';
    case 'get-record':
      return request.queue === QueueId.ToHost ? side === 'system' : lanOperator;
    case 'reset-queue':
      return side === 'lan' && privilege >= ADMINISTRATOR;
  }
}

function ok(data: Uint8Array): QueueResult {
  return { cc: OemCompletion.Ok, data };
}

/** Response codecs include the IANA; `execute` returns what follows it. */
function strip(r: QueueResult): QueueResult {
  return { cc: r.cc, data: r.data.subarray(IANA_BYTES) };
}
