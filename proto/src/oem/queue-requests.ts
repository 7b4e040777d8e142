/**
 * Request data of the four queue commands (PROTOCOL.md §2), i.e. the bytes
 * after NetFn/cmd. All integers little-endian; IANA first, LSB first.
 *
 *   0x00 Get Queue Info  IANA[3] queue[1]
 *   0x01 Put Record      IANA[3] queue[1] seq[4] record[1..max_record]
 *   0x02 Get Record      IANA[3] queue[1] commit_seq[4]
 *   0x03 Reset Queue     IANA[3] queue[1]
 *
 * The codec checks lengths only; which IANA, which queues and how large a
 * record may be are the BMC's configuration, checked by the queue engine.
 */
import { readU32LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { IANA_BYTES, OemCommand, type OemCommandCode } from './constants.js';
import { encodeIana, readIana } from './iana.js';

export interface GetQueueInfoRequest {
  kind: 'get-queue-info';
  iana: number;
  queue: number;
}
export interface PutRecordRequest {
  kind: 'put-record';
  iana: number;
  queue: number;
  seq: number;
  record: Uint8Array;
}
export interface GetRecordRequest {
  kind: 'get-record';
  iana: number;
  queue: number;
  commitSeq: number;
}
export interface ResetQueueRequest {
  kind: 'reset-queue';
  iana: number;
  queue: number;
}
export type OemQueueRequest = GetQueueInfoRequest | PutRecordRequest | GetRecordRequest | ResetQueueRequest;

const COMMAND_OF: Record<OemQueueRequest['kind'], OemCommandCode> = {
  'get-queue-info': OemCommand.GetQueueInfo,
  'put-record': OemCommand.PutRecord,
  'get-record': OemCommand.GetRecord,
  'reset-queue': OemCommand.ResetQueue,
};

/** The command byte a request travels under. */
export function oemRequestCommand(request: OemQueueRequest): OemCommandCode {
  return COMMAND_OF[request.kind];
}

function checkU8(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u8`);
}
function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u32`);
}

export function encodeOemRequest(request: OemQueueRequest): Uint8Array {
  checkU8(request.queue, 'queue');
  let out: Uint8Array;
  switch (request.kind) {
    case 'get-queue-info':
    case 'reset-queue':
      out = new Uint8Array(IANA_BYTES + 1);
      break;
    case 'put-record':
      checkU32(request.seq, 'seq');
      if (request.record.length === 0) throw new WireError('ERR_BAD_FIELD', 'a record has at least one byte');
      out = new Uint8Array(IANA_BYTES + 5 + request.record.length);
      writeU32LE(out, IANA_BYTES + 1, request.seq);
      out.set(request.record, IANA_BYTES + 5);
      break;
    case 'get-record':
      checkU32(request.commitSeq, 'commit_seq');
      out = new Uint8Array(IANA_BYTES + 5);
      writeU32LE(out, IANA_BYTES + 1, request.commitSeq);
      break;
  }
  encodeIana(request.iana, out, 0);
  out[IANA_BYTES] = request.queue;
  return out;
}

function exactLength(data: Uint8Array, length: number, what: string): void {
  if (data.length < length) throw new WireError('ERR_TRUNCATED', `${what}: need ${length} bytes, have ${data.length}`, data.length);
  if (data.length > length) throw new WireError('ERR_TRAILING_BYTES', `${what}: ${data.length - length} byte(s) after the request`, length);
}

/**
 * Decodes the request data of queue command `cmd`. Throws WireError:
 * ERR_TRUNCATED / ERR_TRAILING_BYTES for a wrong length (the BMC answers
 * 0xC7) and ERR_BAD_FIELD for a command outside 0x00–0x03 (0xC1).
 */
export function decodeOemRequest(cmd: number, data: Uint8Array): OemQueueRequest {
  const head = IANA_BYTES + 1;
  switch (cmd) {
    case OemCommand.GetQueueInfo:
      exactLength(data, head, 'Get Queue Info');
      return { kind: 'get-queue-info', iana: readIana(data, 0), queue: data[IANA_BYTES] ?? 0 };
    case OemCommand.ResetQueue:
      exactLength(data, head, 'Reset Queue');
      return { kind: 'reset-queue', iana: readIana(data, 0), queue: data[IANA_BYTES] ?? 0 };
    case OemCommand.GetRecord:
      exactLength(data, head + 4, 'Get Record');
      return { kind: 'get-record', iana: readIana(data, 0), queue: data[IANA_BYTES] ?? 0, commitSeq: readU32LE(data, head) };
    case OemCommand.PutRecord:
      if (data.length < head + 5) throw new WireError('ERR_TRUNCATED', `Put Record: need at least ${head + 5} bytes, have ${data.length}`, data.length);
      return {
        kind: 'put-record',
        iana: readIana(data, 0),
        queue: data[IANA_BYTES] ?? 0,
        seq: readU32LE(data, head),
        record: data.slice(head + 4),
      };
    default:
      throw new WireError('ERR_BAD_FIELD', `queue command 0x${cmd.toString(16)} is not defined`);
  }
}
