/**
 * The two buffer queues of PROTOCOL.md §2, held by the hypervisor-agent
 * itself when the BMC is stock and the manager reaches the host over SOL:
 * the manager's OEM queue commands arrive through the serial tunnel
 * (proto/src/serial-framing) and are answered here with the same bytes and
 * completion codes bmc-oem gives, so both ends' queue clients run
 * unchanged. In memory: a restart draws a new epoch, which both ends
 * already treat as "records may be lost, resend".
 */
import {
  decodeOemRequest,
  encodeGetRecordResponse,
  encodeOemErrorBody,
  encodePutRecordResponse,
  encodeQueueInfoResponse,
  isWireError,
  OEM_NETFN,
  OemCompletion,
  QueueId,
  type RandomBytes,
} from '@backchannel/proto';

/** Which end asks: the manager through the tunnel, or this agent's own link. */
export type QueueSide = 'manager' | 'host';

export interface SerialQueuesOptions {
  randomBytes: RandomBytes;
  maxRecord?: number;
  capacityBytes?: number;
  /** Called when a record is appended to queue 1 (to host): the agent's doorbell. */
  onToHost?: () => void;
}

interface Queue {
  epoch: number;
  records: { seq: number; bytes: Uint8Array }[];
  used: number;
  lastPutSeq: number;
  committedSeq: number;
}

export class SerialQueues {
  readonly maxRecord: number;
  readonly capacityBytes: number;
  readonly #q: Record<1 | 2, Queue>;

  constructor(private readonly o: SerialQueuesOptions) {
    this.maxRecord = o.maxRecord ?? 200;
    this.capacityBytes = o.capacityBytes ?? 65536;
    this.#q = { 1: this.#fresh(), 2: this.#fresh() };
  }

  #fresh(): Queue {
    let epoch = 0;
    while (epoch === 0) {
      const b = this.o.randomBytes(4);
      epoch = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    }
    return { epoch, records: [], used: 0, lastPutSeq: 0, committedSeq: 0 };
  }

  epoch(queue: 1 | 2): number {
    return this.#q[queue].epoch;
  }

  /** One OEM queue request; never throws. */
  handle(side: QueueSide, netfn: number, cmd: number, data: Uint8Array): { cc: number; data: Uint8Array } {
    if (netfn !== OEM_NETFN) return { cc: OemCompletion.InvalidCommand, data: new Uint8Array(0) };
    let req;
    try {
      req = decodeOemRequest(cmd, data);
    } catch (err) {
      if (isWireError(err, 'ERR_BAD_FIELD')) return { cc: OemCompletion.InvalidCommand, data: new Uint8Array(0) };
      return { cc: OemCompletion.RequestLengthInvalid, data: new Uint8Array(0) };
    }
    const fail = (cc: number) => ({ cc, data: encodeOemErrorBody(req.iana) });
    if (req.queue !== QueueId.ToHost && req.queue !== QueueId.ToManager) return fail(OemCompletion.InvalidDataField);
    const q = this.#q[req.queue as 1 | 2];
    // PROTOCOL.md §2 "Who may call what": the manager puts on 1 and gets from 2, the host the other way round.
    const putQueue = side === 'manager' ? QueueId.ToHost : QueueId.ToManager;
    switch (req.kind) {
      case 'get-queue-info':
        return {
          cc: 0,
          data: encodeQueueInfoResponse({
            iana: req.iana,
            queue: req.queue,
            bmcEpoch: q.epoch,
            capacityBytes: this.capacityBytes,
            usedBytes: q.used,
            depth: q.records.length,
            maxRecord: this.maxRecord,
            lastPutSeq: q.lastPutSeq,
            committedSeq: q.committedSeq,
          }),
        };
      case 'put-record': {
        if (req.queue !== putQueue) return fail(OemCompletion.InsufficientPrivilege);
        if (req.seq === 0) return fail(OemCompletion.InvalidDataField);
        if (req.record.length > this.maxRecord) return fail(OemCompletion.RequestLengthInvalid);
        if (req.seq <= q.lastPutSeq) return { cc: 0, data: encodePutRecordResponse({ iana: req.iana, lastPutSeq: q.lastPutSeq }) };
        if (req.seq > q.lastPutSeq + 1) return fail(OemCompletion.SequenceGap);
        if (q.used + req.record.length > this.capacityBytes) return fail(OemCompletion.QueueFull);
        q.records.push({ seq: req.seq, bytes: req.record });
        q.used += req.record.length;
        q.lastPutSeq = req.seq;
        if (req.queue === QueueId.ToHost) this.o.onToHost?.();
        return { cc: 0, data: encodePutRecordResponse({ iana: req.iana, lastPutSeq: q.lastPutSeq }) };
      }
      case 'get-record': {
        if (req.queue === putQueue) return fail(OemCompletion.InsufficientPrivilege);
        if (req.commitSeq > q.lastPutSeq) return fail(OemCompletion.InvalidDataField);
        while (q.records.length > 0 && q.records[0]!.seq <= req.commitSeq) q.used -= q.records.shift()!.bytes.length;
        q.committedSeq = Math.max(q.committedSeq, req.commitSeq);
        const head = q.records[0];
        return {
          cc: 0,
          data: encodeGetRecordResponse({ iana: req.iana, committedSeq: q.committedSeq, depth: q.records.length, seq: head?.seq ?? 0, record: head?.bytes ?? new Uint8Array(0) }),
        };
      }
      case 'reset-queue':
        // PROTOCOL.md: LAN administrators only; neither end of the tunnel is one.
        return fail(OemCompletion.InsufficientPrivilege);
    }
  }
}
